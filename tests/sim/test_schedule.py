"""Window schedules from the golden activity (spinaps.sim.schedule): reads exactly as
docs/semantics.md section 7 counts them (against contract.window_reads and a hand count), the
discarded work of the decision window, the cycle model's structure, and the window engine's
terms in the cost model (W = 1 unchanged)."""

from dataclasses import replace

import numpy as np
import pytest

from spinaps import contract
from spinaps.sim import schedule as sch
from spinaps.sim.cost import Activity, Config, LayerConfig, estimate
from spinaps.sim.devices import load_devices
from spinaps.sim.models import random_network

N = 24


def _trace(decision="first_to_spike", output="glm", t_max=12, seed=3):
    model = random_network(seed, sizes=(12, 8, 5), output=output, decision=decision, t_max=t_max,
                           glm_options=dict(k=2, tau=3))
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(N, model.n_in), dtype=np.uint8)
    return model, x, sch.trace_of(model, x, contract.sample_seeds(N))


@pytest.fixture(scope="module")
def hybrid():
    return _trace()


def test_w1_reads_are_the_time_sequential_count(hybrid):
    model, x, trace = hybrid
    res = model.run(x, contract.sample_seeds(N))
    out = sch.schedule_cost(trace, sch.schedule_of(2, 1, 1))
    words = [lt.words for lt in trace.layers]
    for layer, lt in enumerate(trace.layers):
        assert out["sops_per_layer"][layer] == pytest.approx(res.sops[:, layer].mean())
        assert out["reads_per_layer"][layer] == pytest.approx(res.sops[:, layer].mean() / lt.n_out * words[layer])
    assert out["discarded_sops_per_layer"][0] >= 0 and out["update_steps_per_layer"] == [pytest.approx(res.step.mean())] * 2
    head = sch.schedule_cost(trace.first(5), sch.schedule_of(2, 1, 1))
    assert head["samples"] == 5 and head["sops_per_layer"][0] == pytest.approx(res.sops[:5, 0].mean())


@pytest.mark.parametrize("window", [2, 4, 8])
def test_reads_equal_contract_window_reads_up_to_the_decision_window(hybrid, window):
    _, _, trace = hybrid
    out = sch.schedule_cost(trace, sch.schedule_of(2, window, 1))
    for layer, lt in enumerate(trace.layers):
        want = []
        for b in range(trace.samples):
            per = contract.window_reads(lt.nonzero[b].reshape(trace.t_max, lt.n_in, lt.basis), lt.words, window)
            want.append(per[:int(contract.window_of_step(trace.step[b], window)) + 1].sum())
        assert out["reads_per_layer"][layer] == pytest.approx(np.mean(want))
    # A read serves every active step of its window: never more reads than at W = 1.
    w1 = sch.schedule_cost(trace, sch.schedule_of(2, 1, 1))
    assert out["reads"] <= w1["reads"] + sum(lt.words * lt.n_in * lt.basis for lt in trace.layers)


def _hand_trace(step):
    """One LIF layer of 2 inputs -> 2 neurons on 1 lane (Qn = 2), 8 steps; input 0 spikes in
    steps 1, 2, 3, 6, input 1 in step 4 only."""
    nz = np.zeros((1, 8, 2), dtype=bool)
    nz[0, [0, 1, 2, 5], 0] = True
    nz[0, 3, 1] = True
    layer = sch.LayerTrace(kind="lif", n_in=2, n_out=2, lanes=1, basis=1, nonzero=nz)
    return sch.ScheduleTrace(t_max=8, decision="first_to_spike", groups=1, step=np.array([step]), layers=(layer,))


def test_hand_counted_reads_pairs_and_discarded_work():
    # W = 4, decision at step 2: window 0 (steps 1-4) holds it; both inputs active in it.
    out = sch.schedule_cost(_hand_trace(2), [(4, 4)])
    assert out["reads_per_layer"] == [2 * 2]                       # 2 rows x Qn = 2
    assert out["active_pairs_per_layer"] == [2]
    assert out["sops_per_layer"] == [2 * 2]                        # steps 1, 2: one event each, 2 neurons
    # The rest of window 0 (steps 3, 4: one event each) is discarded work, and the update ran 4 steps.
    assert out["discarded_sops_per_layer"][0] >= 4
    assert out["update_steps_per_layer"] == [4]
    # W = 2, decision at step 6: windows 0..2 (steps 1-6); input 0 in windows 0, 1, 2; input 1 in window 1.
    out = sch.schedule_cost(_hand_trace(6), [(2, 1)])
    assert out["reads_per_layer"] == [4 * 2]
    assert out["active_pairs_per_layer"] == [4]
    assert out["discarded_sops_per_layer"] == [0]                  # step 6 ends its window, nothing later
    # W = 1: reads = one per event and word, as the time-sequential engine.
    assert sch.schedule_cost(_hand_trace(6), [(1, 1)])["reads_per_layer"] == [5 * 2]


def test_cycle_model_structure():
    trace = _hand_trace(8)
    seq = sch.timeline(trace, [(1, 1)])[0][0]
    # W = 1, Q = 1: every step max(work, Q) + 1 (marker); 5 events x 2 words, 3 silent steps.
    assert seq >= 5 * 2 + 3 + 8
    full = sch.timeline(trace, [(4, 4)])[0][0]
    one = sch.timeline(trace, [(4, 1)])[0][0]
    # A = W issues each word once per window; A = 1 once per active step of it (more cycles).
    assert full < one
    # A deeper read pipeline costs cycles.
    assert sch.timeline(trace, [(1, 1)], read_latency=3)[0][0] > seq


def test_window_pays_on_dense_activity_and_counts_whole_windows_on_early_exit():
    _, _, dense = _trace(decision="spike_count", output="lif", t_max=16)
    seq, best = (sch.schedule_cost(dense, sch.schedule_of(2, w, "full")) for w in (1, 8))
    assert best["reads"] < seq["reads"]
    assert best["cycles_model"] < seq["cycles_model"]
    _, _, early = _trace(t_max=16)
    w8 = sch.schedule_cost(early, sch.schedule_of(2, 8, "full"))
    assert w8["discarded_sop_fraction"] > 0


def test_bad_schedules_are_refused(hybrid):
    _, _, trace = hybrid
    with pytest.raises(contract.ContractError, match="layer 1 window"):
        sch.schedule_of(2, [1, 3])
    with pytest.raises(contract.ContractError, match="layer 0 adders"):
        sch.schedule_of(2, 2, 4)
    with pytest.raises(ValueError, match="2 values for 3 layers"):
        sch.schedule_of(3, [1, 2])
    assert sch.schedule_of(2, [2, 8], "full") == ((2, 2), (8, 8))
    assert sch.schedule_of(2, 4, [1, "full"]) == ((4, 1), (4, 4))
    with pytest.raises(ValueError, match="1 layers, the network 2"):
        sch.schedule_cost(trace, [(1, 1)])


def test_cost_model_w1_unchanged_and_window_terms():
    devices = load_devices()
    layer = LayerConfig(kind="lif", n_in=4, n_out=4, lanes=2, weight_bits=2, v_bits=6)
    bank = layer.words * layer.sum_word_bits                      # one bank: Qn words of P sums
    layer = replace(layer, storage={"synapse_memory": ("bram", 32), "step_sums": ("lutram", 2 * bank),
                                    "potentials": ("lutram", 24), "step_sums_fresh": ("ff", 4)})
    config = Config(n_inputs=4, encoder_lanes=2, t_max=8, layers=(layer,), encoder_storage={"g": ("ff", 64)})
    act = Activity(events=(6,), sops=(24,), steps=4, cycles=40)
    base = estimate(config, act, devices, "sram")
    explicit = estimate(config, replace(act, reads=(12.0,), discarded_reads=(0,), discarded_sops=(0,),
                                        update_steps=(4,)), devices, "sram")
    assert explicit.energy_j == pytest.approx(base.energy_j)
    assert explicit.area_mm2 == pytest.approx(base.area_mm2)
    # W = 4, A = 4: 8 banks of step sums, 4 adders per lane, activity tags; fewer reads cost less.
    w4 = config.with_schedule([(4, 4)])
    assert w4.layers[0].stored_bits()["lutram"] == 8 * bank + 24
    assert w4.layers[0].stored_bits()["state"] == 24
    assert w4.stored_bits()["ff"] > config.stored_bits()["ff"]
    assert w4.adder_bits(devices) - config.adder_bits(devices) == 2 * 3 * layer.acc_bits
    cheap = estimate(w4, replace(act, reads=(4.0,)), devices, "sram")
    assert cheap.energy_j["synapse_read"] == pytest.approx(base.energy_j["synapse_read"] / 3)
    assert cheap.area_mm2["logic"] > base.area_mm2["logic"]
    # Discarded work and whole-window updates are paid for.
    more = estimate(config, replace(act, discarded_sops=(8,), update_steps=(8,)), devices, "sram")
    assert more.energy_j["accumulate"] > base.energy_j["accumulate"]
    assert more.energy_j["neuron_update"] == pytest.approx(2 * base.energy_j["neuron_update"])


def test_schedule_cost_with_a_configuration(digits_hybrid_artifact):
    from spinaps.sw.golden import GoldenModel

    model = GoldenModel.from_artifact(digits_hybrid_artifact)
    config = Config.from_artifact(digits_hybrid_artifact)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(8, model.n_in), dtype=np.uint8)
    trace = sch.trace_of(model, x, contract.sample_seeds(8))
    seq = sch.schedule_cost(trace, sch.schedule_of(2), config=config)
    win = sch.schedule_cost(trace, sch.schedule_of(2, 4, "full"), config=config)
    for out in (seq, win):
        assert out["edp"] == pytest.approx(out["energy_per_inference_j"] * out["latency_s"])
    assert win["area_mm2"] > seq["area_mm2"]
    assert win["energy_breakdown_j"]["synapse_read"] < seq["energy_breakdown_j"]["synapse_read"]
    # The modelled window storage is what the window engine's components report.
    for schedule in (((8, 8), (8, 8)), ((4, 1), (2, 2)), ((1, 1), (8, 1)), ((2, 1), (1, 1))):
        real, modelled = Config.from_artifact(digits_hybrid_artifact, schedule), config.with_schedule(schedule)
        assert modelled.encoder_storage == real.encoder_storage, schedule
        for built, model_layer in zip(real.layers, modelled.layers):
            assert model_layer.storage == built.storage, schedule
            assert model_layer.stored_bits() == built.stored_bits()
