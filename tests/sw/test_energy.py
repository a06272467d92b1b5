"""Hardware-aware training: the differentiable energy estimate E_hat (sw/energy.py) and the
fine-tuning stage of the LIF / hybrid trainer.

E_hat's counts are the golden model's counters when spikes are binary (the relaxations are
exact at 0/1), its read and accumulate energies are the cost model's at W = 1, gradients reach
every trainable layer, beta = 0 is plain training, and bad configurations are refused."""

import numpy as np
import pytest
import torch

from spinaps import contract
from spinaps.contract import sample_seeds
from spinaps.sw import golden
from spinaps.sw.datasets import load_dataset
from spinaps.sw.energy import (EnergyCoefficients, LayerGeometry, device_coefficients, estimate_energy,
                               row_activity, survival)
from spinaps.sw.lif import LifNetConfig, to_golden, train_network

N = 24          # test samples


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def nets(digits):
    """Small trained networks (a few seconds each), one per output kind."""
    out = {}
    for name, kw in {"lif_first": dict(output="lif", decision="first_to_spike"),
                     "lif_count": dict(output="lif", decision="spike_count"),
                     "hybrid": dict(output="glm")}.items():
        cfg = LifNetConfig(hidden=(16,), epochs=1, max_train=200, ann_baseline=False, t_max=12, **kw)
        out[name] = train_network(digits, cfg, progress=False)
    return out


def _golden_and_float(trained, digits, lanes):
    model = to_golden(trained, lanes=lanes)
    x_in = digits.x_test[:N]
    res = model.run(x_in, sample_seeds(N))
    x = golden.encode_bernoulli(x_in, sample_seeds(N), model.encoder_base_seeds, model.t_max).float()
    with torch.no_grad():
        u, y, hidden = trained.model(x)
    return model, res, x, u, y, hidden


@pytest.mark.parametrize("name", ["lif_first", "lif_count"])
@pytest.mark.parametrize("window", contract.WINDOWS)
def test_binary_spikes_give_the_golden_counters(nets, digits, name, window):
    trained = nets[name]
    lanes = [4, 5]
    model, res, x, u, y, hidden = _golden_and_float(trained, digits, lanes)
    est = trained.model.energy(x, u, y, hidden, device_coefficients(), window=window, lanes=lanes)
    np.testing.assert_allclose(float(est.steps), res.step.mean(), rtol=1e-6)
    if name == "lif_first":
        assert 1 < res.step.mean() < model.t_max                    # the survival weights matter
    for layer in range(2):
        np.testing.assert_allclose(float(est.events[layer]), res.events[:, layer].mean(), rtol=1e-6)
        np.testing.assert_allclose(float(est.sops[layer]), res.sops[:, layer].mean(), rtol=1e-6)
        spikes_in = res.input_spikes if layer == 0 else res.layer_spikes[layer - 1]   # masked after decision
        words = contract.words(model.layers[layer].n_out, lanes[layer])
        reads = np.mean([contract.window_reads(s[..., None], words, window).sum() for s in spikes_in])
        np.testing.assert_allclose(float(est.reads[layer]), reads, rtol=1e-6)


def test_glm_rows_are_the_nonzero_traces():
    basis = np.array([[2, 1, 0, 0], [0, 1, 3, 1]])
    layer = LayerGeometry.glm(7, 5, 3, 4, basis, 2)
    s = (torch.rand(3, 10, 7, generator=torch.Generator().manual_seed(2)) < 0.3).float()
    c, active = golden.traces(s.bool(), basis)
    np.testing.assert_array_equal(row_activity(s, layer).numpy(), (c != 0).reshape(3, 10, -1).float().numpy())
    est = estimate_energy([s], [layer], device_coefficients())
    assert float(est.events[0]) == pytest.approx(active.sum().item() / 3)
    assert float(est.reads[0]) == pytest.approx((c != 0).sum().item() / 3 * layer.words)


def test_read_and_accumulate_energy_are_the_cost_models(nets, digits):
    from dataclasses import replace

    from spinaps.sim.activity import Activity
    from spinaps.sim.cost import Config, estimate
    from spinaps.sim.devices import load_devices

    trained = nets["lif_count"]
    lanes = [4, 5]
    model, res, x, u, y, hidden = _golden_and_float(trained, digits, lanes)
    manifest = {"t_max": model.t_max, "encoder": {"n_inputs": model.n_in, "lanes": model.encoder_lanes},
                "layers": [{"type": "lif", "n_in": lp.n_in, "n_out": lp.n_out, "lanes": lp.lanes,
                            "weight_bits": lp.weight_bits, "v_bits": lp.v_bits} for lp in model.layers]}
    config = Config.from_manifest(manifest)
    # The two terms compared need no storage but the step sums the model checks for.
    config = replace(config, encoder_storage={}, decision_storage={}, layers=tuple(
        replace(lc, storage={"sums": ("lutram", 2 * lc.words * lc.sum_word_bits)}) for lc in config.layers))
    activity = Activity(events=tuple(res.events.mean(0)), sops=tuple(res.sops.mean(0)),
                        steps=float(res.step.mean()), cycles=1000.0)
    table = load_devices()
    for memory in ("sram", "sttram"):
        est = trained.model.energy(x, u, y, hidden, EnergyCoefficients.from_table(table, memory), lanes=lanes)
        cost = estimate(config, activity, table, memory)
        for term in ("synapse_read", "accumulate"):
            assert float(est.breakdown_pj[term]) * 1e-12 == pytest.approx(cost.energy_j[term], rel=1e-5)


def test_or_relaxation_and_its_gradient():
    layer = LayerGeometry.lif(3, 4, 2, 4, 12)
    p = torch.tensor([[[0.5, 0.0, 1.0], [0.5, 0.0, 0.0]]], requires_grad=True)      # [1, T=2, 3]
    est = estimate_energy([p], [layer], device_coefficients(), window=2)
    # One window: input 0 is active with 1 - 0.5 * 0.5, input 2 surely, input 1 never.
    assert est.reads[0].detach().item() == pytest.approx((0.75 + 1.0) * layer.words)
    est.energy_pj.backward()
    assert p.grad[0, 0, 0] > 0 and p.grad[0, 0, 1] > 0


def test_survival_is_the_decision_step_distribution():
    y = torch.tensor([[[0., 0.], [0., 1.], [1., 1.]], [[0., 0.], [0., 0.], [0., 0.]]])
    assert survival("first_to_spike", y=y).tolist() == [[1, 1, 0], [1, 1, 1]]
    assert survival("spike_count", y=y).tolist() == [[1, 1, 1], [1, 1, 1]]
    u = torch.zeros(1, 3, 2)                   # each output spikes with 1/2: a step goes on with 1/4
    assert survival("first_to_spike", u=u, kind="glm")[0].tolist() == pytest.approx([1, 0.25, 0.0625])


@pytest.mark.parametrize("name", ["lif_first", "lif_count", "hybrid"])
def test_gradient_reaches_every_layer(nets, digits, name):
    trained = nets[name]
    net = trained.model
    x = golden.encode_bernoulli(digits.x_test[:8], sample_seeds(8), np.arange(1, 9, dtype=np.uint32),
                                trained.config.t_max).float()
    net.zero_grad()
    u, y, hidden = net(x)
    net.energy(x, u, y, hidden, device_coefficients(), window=4).energy_pj.backward()
    assert net.hidden[0].weight.grad.abs().sum() > 0
    if name != "lif_count":      # spike count: the output's spikes do not change the cost
        assert net.out.weight.grad.abs().sum() > 0


def test_beta_zero_is_plain_training(digits):
    base = dict(hidden=(8,), epochs=1, max_train=200, ann_baseline=False, output="lif",
                decision="spike_count", t_max=8)
    plain = train_network(digits, LifNetConfig(**base), progress=False)
    zero = train_network(digits, LifNetConfig(**base, energy_beta=0.0, energy_window=4), progress=False)
    for a, b in zip(plain.model.parameters(), zero.model.parameters()):
        assert torch.equal(a, b)
    assert plain.loss_history == zero.loss_history and zero.energy_reference is None


def test_train_network_is_training_then_fine_tune(digits):
    from spinaps.sw.lif import fine_tune

    base = dict(hidden=(8,), epochs=1, max_train=150, ann_baseline=False, t_max=6)
    energy = dict(energy_beta=1.0, energy_epochs=1, energy_window=2)
    whole = train_network(digits, LifNetConfig(**base, **energy), progress=False)
    stage1 = train_network(digits, LifNetConfig(**base), progress=False)
    tuned = fine_tune(stage1, digits, LifNetConfig(**base, **energy), progress=False)
    for a, b in zip(whole.model.parameters(), tuned.model.parameters()):
        assert torch.equal(a, b)
    assert whole.energy_history == tuned.energy_history
    with pytest.raises(ValueError, match="only in its energy_"):
        fine_tune(stage1, digits, LifNetConfig(**dict(base, t_max=8), **energy))


def test_penalty_lowers_the_estimate(digits):
    base = dict(hidden=(16,), epochs=2, max_train=400, ann_baseline=False, output="lif",
                decision="spike_count", t_max=8, energy_epochs=2, lr=1e-2)
    plain = train_network(digits, LifNetConfig(**base), progress=False)
    hw = train_network(digits, LifNetConfig(**base, energy_beta=2.0), progress=False)
    assert hw.energy_reference > 0 and len(hw.energy_history) == 2
    x = golden.encode_bernoulli(digits.x_test[:64], sample_seeds(64), np.arange(1, 9, dtype=np.uint32), 8).float()
    with torch.no_grad():
        e = [t.model.energy(x, *t.model(x), device_coefficients()).energy_pj for t in (plain, hw)]
    assert e[1] < e[0]
    l1 = train_network(digits, LifNetConfig(**base, energy_beta=2.0, energy_penalty="l1"), progress=False)
    assert l1.energy_reference > 0


@pytest.mark.parametrize("kw, words", [
    (dict(energy_beta=-1.0, energy_epochs=1), "energy_beta"),
    (dict(energy_beta=float("nan"), energy_epochs=1), "energy_beta"),
    (dict(energy_beta=0.5), "energy_epochs >= 1"),
    (dict(energy_window=3), "energy_window"),
    (dict(energy_epochs=-1), "energy_epochs"),
    (dict(energy_lr=0.0), "energy_lr"),
    (dict(energy_penalty="l2"), "energy_penalty"),
])
def test_bad_energy_fields_are_refused(kw, words):
    with pytest.raises(ValueError, match="LifNetConfig") as err:
        LifNetConfig(**kw)
    assert words in str(err.value)


def test_coefficients_name_the_missing_field():
    with pytest.raises(ValueError, match=r"memories.sram.read_energy_pj_per_bit"):
        EnergyCoefficients.from_table({"memories": {"sram": {}}, "logic": {}}, "sram")
    c = device_coefficients("sttram")
    assert c.memory == "sttram" and c.read_pj_per_bit > 0


@pytest.mark.parametrize("argv, words", [
    (["--network", "glm", "--energy-beta", "1"], "--energy-beta"),
    (["--network", "glm", "--energy-window", "2"], "--energy-window"),
    (["--network", "softlif", "--energy-beta", "0.5", "--energy-epochs", "0"], "energy_epochs >= 1"),
    (["--network", "lif", "--energy-window", "3"], "energy_window"),
    (["--network", "hybrid", "--energy-beta", "-0.5"], "energy_beta"),
    (["--network", "lif", "--energy-epochs", "-1"], "energy_epochs"),
])
def test_cli_refuses_bad_energy_options(tmp_path, capsys, argv, words):
    from spinaps.cli import main

    assert main(["train", *argv, "--out", str(tmp_path / "m.npz")]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.slow
def test_cli_trains_with_the_penalty(tmp_path, capsys):
    from spinaps.cli import main
    from spinaps.sw import artifact as art

    out = tmp_path / "m.npz"
    assert main(["train", "--network", "lif", "--decision", "spike_count", "--hidden", "8", "--epochs", "1",
                 "--t-max", "6", "--energy-beta", "1", "--energy-epochs", "1", "--energy-window", "2",
                 "--out", str(out)]) == 0
    config = art.load(out).manifest["training"]["config"]
    assert (config["energy_beta"], config["energy_epochs"], config["energy_window"]) == (1.0, 1, 2)


def test_softlif_penalty_lowers_the_hidden_rates(digits):
    from spinaps.sw.softlif import SoftLifConfig, train_softlif

    base = dict(hidden=(16,), epochs=2, energy_epochs=2)
    runs = {beta: train_softlif(digits, SoftLifConfig(**base, energy_beta=beta), progress=False, compare_relu=False)
            for beta in (0.0, 3.0)}
    assert runs[3.0].energy_reference > 0 and runs[0.0].energy_history == [None, None]
    rates = {beta: np.mean(t.activations(digits.x_test[:200])[1][0]) for beta, t in runs.items()}
    assert rates[3.0] < rates[0.0]
    assert runs[3.0].accuracy_softlif > 0.2                   # chance is 0.1
    with pytest.raises(ValueError, match="SoftLifConfig.energy_window"):
        SoftLifConfig(energy_window=5)


def test_api_train_takes_the_energy_fields(tmp_path):
    import torch

    import spinaps

    before = torch.get_num_threads()
    hw = spinaps.train("digits", "lif", out=tmp_path / "m.npz", progress=False, hidden=(8,), epochs=1, t_max=6,
                       max_train=100, ann_baseline=False, decision="spike_count", energy_beta=0.5, energy_epochs=1,
                       threads=1)
    assert torch.get_num_threads() == before           # the training's thread count is not left behind
    config = hw.artifact.manifest["training"]["config"]
    assert (config["energy_beta"], config["energy_epochs"]) == (0.5, 1)
