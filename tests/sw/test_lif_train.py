"""The LIF / hybrid training side: the float LIF forward is the integer model (tier 2, exact),
training improves on chance, the export round-trips, bad configurations are refused."""

import numpy as np
import pytest
import torch

from spinaps.sim.models import random_lif_layer
from spinaps.contract import sample_seeds
from spinaps.sw import golden
from spinaps.sw.datasets import load_dataset
from spinaps.sw.lif import LifNetConfig, TorchLifLayer, to_golden, train_network


@pytest.mark.parametrize("leak_shift, reset", [(0, "subtract"), (2, "subtract"), (3, "zero")])
def test_float_lif_forward_is_the_integer_model(leak_shift, reset):
    layer = TorchLifLayer(20, 9, weight_bits=4, threshold=25, v_bits=8, leak_shift=leak_shift, reset=reset)
    with torch.no_grad():
        layer.weight.uniform_(-1, 1, generator=torch.Generator().manual_seed(leak_shift))
        layer.bias.copy_(torch.linspace(-3.4, 3.4, 9))
    s = torch.rand(6, 30, 20, generator=torch.Generator().manual_seed(1)) < 0.5
    with torch.no_grad():
        u, y = layer(s.float())
    u_int, y_int = golden.lif_layer(s, layer.to_params(lanes=3))
    assert torch.equal(u.to(torch.int64), u_int) and torch.equal(y.bool(), y_int)
    assert y_int.any() and not y_int.all()


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.mark.parametrize("kw", [dict(), dict(expected_from=0.5), dict(output="lif", decision="spike_count"),
                                dict(output="lif", decision="max_potential"),
                                dict(output="lif", decision="first_to_spike")])
def test_training_learns_and_exports(digits, kw):
    cfg = LifNetConfig(hidden=(24,), epochs=6, ann_baseline=False, **kw)
    trained = train_network(digits, cfg, progress=False)
    model = to_golden(trained, lanes=[8, 10])
    res = model.run(digits.x_test, sample_seeds(len(digits.y_test)), labels=digits.y_test)
    assert res.accuracy(digits.y_test) > 0.3                     # chance is 0.1
    assert model.decision == cfg.decision and model.layers[0].lanes == 8
    # The hidden layer of the exported model is the float layer, spike for spike.
    x = golden.encode_bernoulli(digits.x_test[:20], sample_seeds(20), model.encoder_base_seeds, model.t_max)
    with torch.no_grad():
        _, y_float = trained.model.hidden[0](x.float())
    assert torch.equal(y_float.bool(), golden.lif_layer(x, model.layers[0])[1])
    # The same network with the deterministic encoder: same layers, no encoder seeds.
    det = to_golden(trained, lanes=[8, 10], encoder="deterministic")
    assert det.encoder_type == "deterministic" and det.encoder_base_seeds.size == 0
    assert all(a is b or np.array_equal(a.weights, b.weights) for a, b in zip(det.layers, model.layers))
    if kw.get("output", "glm") == "glm":
        np.testing.assert_array_equal(det.output_layer.base_seeds, model.output_layer.base_seeds)


@pytest.mark.parametrize("kw, words", [
    (dict(hidden=()), "hidden"), (dict(output="glm", decision="spike_count"), "decision"),
    (dict(weight_bits=3), "weight_bits"), (dict(v_bits=5), "v_bits"), (dict(threshold=5000), "threshold"),
    (dict(leak_shift=16), "leak_shift"), (dict(reset="half"), "reset"), (dict(max_train=0), "max_train"),
    (dict(expected_from=1.5), "expected_from"), (dict(output="lif", decision="spike_count", expected_from=0.3), "expected_from"),
])
def test_bad_configurations(kw, words):
    with pytest.raises(ValueError, match=f"LifNetConfig.{words}"):
        LifNetConfig(**kw)


def test_cli_network_options(tmp_path, capsys):
    from spinaps.cli import main
    assert main(["train", "--network", "hybrid", "--hidden", "6x", "--out", str(tmp_path / "m.npz")]) == 2
    assert "--hidden" in capsys.readouterr().err
    assert main(["train", "--network", "glm", "--hidden", "8", "--out", str(tmp_path / "m.npz")]) == 2
    assert "--network hybrid or lif" in capsys.readouterr().err
    assert main(["train", "--network", "lif", "--expected-from", "0.5", "--out", str(tmp_path / "m.npz")]) == 2
    assert "expected_from" in capsys.readouterr().err
    assert not (tmp_path / "m.npz").exists()
