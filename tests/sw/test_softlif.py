"""Soft-LIF path: neuron curve, training, conversion to the integer LIF network, export."""

import math

import numpy as np
import pytest
import torch

from spinaps.contract import nearest_odd_level
from spinaps.sw import artifact as art
from spinaps.sw.datasets import load_dataset
from spinaps.sw.golden import GoldenModel
from spinaps.sw.softlif import SoftLifConfig, lif_rate, odd_level_codes, softlif_rate, train_softlif
from spinaps.sw.softlif_convert import convert, evaluate_golden, softlif_artifact


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def trained(digits):
    torch.set_num_threads(1)
    return train_softlif(digits, SoftLifConfig(epochs=15), progress=False)


def test_softlif_matches_lif_away_from_threshold():
    j = np.array([0.0, 0.5, 0.9, 1.2, 1.5, 2.0, 5.0, 20.0, 1000.0])
    soft = softlif_rate(torch.tensor(j, dtype=torch.float64)).numpy()
    hard = lif_rate(j)
    far = np.abs(j - 1.0) >= 0.2
    # gamma = 0.02: at |j - 1| >= 0.2 the smoothing changes j - 1 by < gamma * e^-10.
    np.testing.assert_allclose(soft[far & (j > 1)], hard[far & (j > 1)], rtol=1e-6)
    # Below threshold the soft-LIF keeps a small rate that decays like
    # gamma / (tau_rc * (1 - j)) (log(1 + 1/rho) >= (1 - j)/gamma there); the hard LIF is 0.
    below = far & (j < 1)
    assert np.all(hard[below] == 0)
    assert np.all(soft[below] <= 0.02 / (0.022 * (1.0 - j[below])))
    # Published saturation: 1 / tau_ref.
    assert 490.0 < soft[-1] < 500.0


def test_softlif_gradient_finite_at_and_below_threshold():
    j = torch.tensor([-50.0, -5.0, 0.0, 0.99, 1.0, 1.01, 3.0], dtype=torch.float32, requires_grad=True)
    r = softlif_rate(j)
    r.sum().backward()
    assert torch.isfinite(r).all() and torch.isfinite(j.grad).all()
    assert j.grad[4] > 0                       # j = 1: smooth, positive slope
    assert torch.all(j.grad >= 0)


def test_odd_level_codes():
    np.testing.assert_array_equal(odd_level_codes(np.array([-9.0, -0.2, 0.0, 0.4, 1.9, 2.1, 9.0]), 2),
                                  [-3, -1, 1, 1, 1, 3, 3])
    assert set(np.unique(odd_level_codes(np.linspace(-3, 3, 101), 1))) == {-1, 1}
    # The contract's rounding, in torch too (the training layers use it).
    v = torch.linspace(-9, 9, 73)
    assert nearest_odd_level(v, 2).tolist() == odd_level_codes(v.numpy(), 2).tolist()


def test_converted_digits_network_close_to_its_ann(trained, digits):
    assert trained.accuracy_softlif >= 0.9 and trained.accuracy_relu >= 0.9
    model, info = convert(trained, digits, weight_bits=4, t_max=64, return_info=True)
    assert [lp.kind for lp in model.layers] == ["lif", "lif"]
    hidden = model.layers[0]
    assert hidden.leak_shift == info.leak_shifts[0] >= 1
    assert hidden.refractory == round(0.002 / info.dt_seconds[0])
    assert set(np.unique(np.abs(hidden.weights) % 2)) == {1} and np.abs(hidden.weights).max() <= 15
    ev = evaluate_golden(model, digits)
    # 360 test samples: a 3-point tolerance is ~3 binomial standard deviations at 0.95.
    assert ev["accuracy"] >= trained.accuracy_softlif - 0.03
    assert len(ev["accuracy_by_step"]) == 64 and ev["sops_per_inference_mean"] > 0


def test_spike_count_readout_and_zero_reset(trained, digits):
    model = convert(trained, digits, weight_bits=8, t_max=64, readout="spike_count", reset="zero")
    assert model.decision == "spike_count" and model.layers[0].reset == "zero"
    ev = evaluate_golden(model, digits)
    assert ev["accuracy"] >= trained.accuracy_softlif - 0.06


def test_quantization_aware_training_reuses_its_grid(digits):
    torch.set_num_threads(1)
    trained = train_softlif(digits, SoftLifConfig(epochs=10, weight_bits=2), progress=False,
                            compare_relu=False)
    assert trained.accuracy_relu is None and len(trained.quant_scales) == 2
    model = convert(trained, digits, weight_bits=2, t_max=64)
    # The integer weights are exactly the grid the ANN was evaluated with.
    k = trained.quant_scales[0]
    np.testing.assert_array_equal(model.layers[0].weights, odd_level_codes(trained.weights[0] * k, 2))
    ev = evaluate_golden(model, digits)
    assert trained.accuracy_softlif >= 0.85
    assert ev["accuracy"] >= trained.accuracy_softlif - 0.04


def test_artifact_round_trip(trained, digits, tmp_path):
    model, info = convert(trained, digits, weight_bits=2, t_max=32, return_info=True)
    ev = evaluate_golden(model, digits)
    manifest, arrays = softlif_artifact(model, trained, digits, golden_accuracy=ev["accuracy"], info=info)
    loaded = art.load(art.save(tmp_path / "softlif.npz", manifest, arrays))
    again = GoldenModel.from_artifact(loaded)
    assert again.decision == "max_potential" and len(again.layers) == 2
    a = model.run(digits.x_test[:50], np.arange(50))
    b = again.run(digits.x_test[:50], np.arange(50))
    np.testing.assert_array_equal(a.cls, b.cls)
    np.testing.assert_array_equal(a.layer_spikes[0], b.layer_spikes[0])
    assert GoldenModel.from_artifact(art.from_memory(manifest, arrays)).t_max == 32


@pytest.mark.parametrize("field, value", [
    ("tau_rc", -0.02), ("tau_ref", -0.001), ("gamma", 0.0), ("gain", -1.0), ("amplitude", 0.0),
    ("noise_sigma", -1.0), ("epochs", 0), ("weight_bits", 3), ("hidden", (32, 0)), ("lr", math.nan),
])
def test_bad_config(field, value):
    with pytest.raises(ValueError, match=field):
        SoftLifConfig(**{field: value})


@pytest.mark.parametrize("kwargs, field", [
    ({"weight_bits": 3}, "weight_bits"), ({"t_max": 0}, "t_max"), ({"t_max": 256}, "t_max"),
    ({"readout": "first_to_spike"}, "readout"), ({"reset": "hold"}, "reset"),
    ({"rate_percentile": 0}, "rate_percentile"), ({"max_rate": 1.5}, "max_rate"),
    ({"leak_shift": 16}, "leak_shift"), ({"refractory": -1}, "refractory"),
    ({"encoder_lanes": 65}, "encoder_lanes"),
])
def test_bad_conversion_parameters(trained, digits, kwargs, field):
    with pytest.raises(ValueError, match=field):
        convert(trained, digits, **kwargs)


def test_lanes_per_layer(trained, digits):
    """One lane count for every layer, or one per layer (what `spinaps train --lanes` passes)."""
    assert [lp.lanes for lp in convert(trained, digits, t_max=8, lanes=4).layers] == [4, 4]
    assert [lp.lanes for lp in convert(trained, digits, t_max=8, lanes=[16, 5]).layers] == [16, 5]
    with pytest.raises(ValueError, match=r"convert: lanes needs one value per layer \(2\), got 3"):
        convert(trained, digits, t_max=8, lanes=[1, 2, 3])


def test_conversion_refuses_other_dataset(trained, digits):
    import dataclasses
    other = dataclasses.replace(digits, sha256="0" * 64)
    with pytest.raises(ValueError, match="trained on"):
        convert(trained, other)


def test_neuron_that_can_never_fire_still_exports(trained, digits, tmp_path):
    import copy
    dead = copy.deepcopy(trained)
    # Tiny positive weights, zero bias: j <= 64 * 0.001 < 1, below the LIF threshold for any input.
    dead.weights[0][0, :] = 0.001
    dead.biases[0][0] = 0.0
    model = convert(dead, digits, weight_bits=4, t_max=32)
    manifest, arrays = softlif_artifact(model, dead, digits)
    art.load(art.save(tmp_path / "dead.npz", manifest, arrays))
    assert not model.run(digits.x_test[:20], np.arange(20)).layer_spikes[0][:, :, 0].any()


@pytest.mark.slow
def test_converted_digits_network_bit_exact_in_rtl(trained, digits, tmp_path):
    """The converted network runs on the accelerator RTL (Icarus, valid/ready stalls) with
    every spike of every layer equal to the golden model's."""
    from spinaps.flow import rtl_check

    model, info = convert(trained, digits, weight_bits=4, t_max=32, return_info=True)
    manifest, arrays = softlif_artifact(model, trained, digits, info=info)
    artifact = art.load(art.save(tmp_path / "softlif.npz", manifest, arrays))
    _, comparison, _ = rtl_check(artifact, 4, build_dir=tmp_path / "rtl", stall=0.2, dataset=digits)
    assert comparison.n_samples == 4 and comparison.mismatches == []


def test_convert_with_the_deterministic_encoder(trained, digits):
    from spinaps.sw.export import golden_to_artifact

    bern = convert(trained, digits, weight_bits=4, t_max=32)
    model = convert(trained, digits, weight_bits=4, t_max=32, encoder="deterministic")
    assert (model.encoder_type, model.encoder_lanes, model.encoder_base_seeds.size) == ("deterministic", 16, 0)
    assert all(np.array_equal(a.weights, b.weights) for a, b in zip(model.layers, bern.layers))
    manifest, arrays = golden_to_artifact(model, dataset={"name": "digits", "sha256": digits.sha256,
                                                           "n_train": digits.n_train, "n_test": digits.n_test})
    assert art.from_memory(manifest, arrays).encoder_type == "deterministic"
    res = model.run(digits.x_test, np.zeros(len(digits.y_test), dtype=np.int64), labels=digits.y_test)
    assert res.accuracy(digits.y_test) > 0.5
    with pytest.raises(ValueError, match="convert: encoder"):
        convert(trained, digits, encoder="poisson")
