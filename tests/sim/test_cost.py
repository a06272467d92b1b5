"""Cost model (spinaps.sim.cost): hand-computed energies and areas from a configuration and its
storage, the storage read from the Amaranth components, RTL counters equal to the golden
model's as the cost inputs, and the ``spinaps cost`` command."""

import json
import math
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from spinaps import cli
from spinaps.sim import cost
from spinaps.sim.activity import lane_utilization_bound, update_tail
from spinaps.sim.cost import (Activity, Config, CounterMismatch, LayerConfig, activity_from_rtl, compare,
                              estimate, hunsberger_eliasmith)
from spinaps.sim.devices import load_devices, validate_devices


def _entry(value, unit):
    return {"value": value, "unit": unit, "source": "test: round number"}


def _hand_table():
    """Round numbers so every energy below can be checked on paper."""
    mem = {"read_energy_pj_per_bit": _entry(1.0, "pJ/bit"), "write_energy_pj_per_bit": _entry(2.0, "pJ/bit"),
           "read_latency_ns": _entry(5.0, "ns"), "cell_area_f2": _entry(100, "F^2"),
           "array_efficiency": _entry(0.5, "1"), "leakage_nw_per_bit": _entry(1.0, "nW/bit")}
    return validate_devices({
        "technology_node_nm": _entry(100, "nm"), "clock_mhz": _entry(100, "MHz"),
        "memories": {"sram": dict(mem), "sttram": {**mem, "cell_area_f2": _entry(25, "F^2")}},
        "logic": {"adder_energy_pj_per_bit": _entry(0.1, "pJ/bit"),
                  "ff_clock_energy_pj_per_bit": _entry(0.01, "pJ/bit/cycle"),
                  "ff_write_energy_pj_per_bit": _entry(0.0, "pJ/bit"), "ff_area_um2": _entry(1.0, "um^2"),
                  "lutram_read_energy_pj_per_bit": _entry(0.05, "pJ/bit"),
                  "lutram_write_energy_pj_per_bit": _entry(0.1, "pJ/bit"),
                  "lutram_area_um2_per_bit": _entry(2.0, "um^2/bit"),
                  "adder_area_um2_per_bit": _entry(0.5, "um^2/bit"), "leakage_nw_per_um2": _entry(0.0, "nW/um^2"),
                  "lif_update_adds": _entry(4, "adds"), "glm_update_adds": _entry(12, "adds"),
                  "draw_adds": _entry(3, "adds")},
    })


# A stand-in for what the Amaranth components report (``storage``: name -> (kind, bits)); the
# model reads kinds and sizes, and finds the synapse memory by its name.
TINY_LAYER_STORAGE = {"synapse_memory": ("bram", 4), "step_sums": ("lutram", 12), "state": ("lutram", 14),
                      "fresh": ("ff", 2)}
TINY_ENCODER_STORAGE = {"generators": ("ff", 64), "samples": ("bram", 16)}


def _tiny(layer_storage=TINY_LAYER_STORAGE):
    # 2 inputs (2 encoder lanes, 1 group) -> 2 LIF neurons on 2 lanes, 1-bit weights, 6-bit potentials.
    layer = LayerConfig(kind="lif", n_in=2, n_out=2, lanes=2, weight_bits=1, v_bits=6, storage=layer_storage)
    config = Config(n_inputs=2, encoder_lanes=2, t_max=4, layers=(layer,), encoder_storage=TINY_ENCODER_STORAGE)
    # 3 input events over 2 steps -> 3 x 2 = 6 synaptic operations; 10 cycles.
    return config, Activity(events=(3,), sops=(6,), steps=2, cycles=10)


def test_hand_computed_tiny_lif_network():
    devices = _hand_table()
    config, act = _tiny()
    layer = config.layers[0]
    assert (layer.words, layer.memory_bits, layer.acc_bits) == (1, 4, 3)   # acc: 2*1*1 = 2 -> 2 bits + sign
    # The synapse memory (4 bits) is costed as cells, not as storage; state = LUT RAM besides the sums.
    assert config.stored_bits() == {"ff": 66, "lutram": 26, "bram": 16, "state": 14}
    e = estimate(config, act, devices, "sram")
    pj = {k: v * 1e12 for k, v in e.energy_j.items()}
    # 3 row reads x 1 word x 2 lanes x 1 bit = 6 bits at 1 pJ.
    assert pj["synapse_read"] == pytest.approx(6.0)
    # 3 words x 2 lanes x 3-bit sums: add (0.1) + LUT-RAM read (0.05) and write (0.1) per bit.
    assert pj["accumulate"] == pytest.approx(18 * 0.25)
    # 2 steps x (2 neurons x 4 adds x 6 bits x 0.1 + 6 sum bits read x 0.05 + 14 state bits x 0.15).
    assert pj["neuron_update"] == pytest.approx(2 * (4.8 + 0.3 + 2.1))
    # 2 steps x (1 group x 2 generators x 3 x 32 bits + 2 inputs x 8 bits) x 0.1 pJ.
    assert pj["encoder"] == pytest.approx(41.6)
    # 66 flip-flops x 10 cycles x 0.01 pJ.
    assert pj["clock"] == pytest.approx(6.6)
    # (4 synapse cells + 16 other block-RAM bits) x 1 nW for 10 cycles at 100 MHz (100 ns).
    assert e.energy_j["leakage"] == pytest.approx(20e-9 * 100e-9)
    total = 6.0 + 4.5 + 14.4 + 41.6 + 6.6 + 2e-3
    assert e.energy_per_inference_j == pytest.approx(total * 1e-12)
    assert e.latency_s == pytest.approx(100e-9)
    # Area: 4 cells x 100 F^2 x (0.1 um)^2 / 0.5 = 8 um^2, the other block RAM 32 um^2; logic
    # 66 FF x 1 + 26 LUT-RAM bits x 2 + (2 x 104 + 2 x (3 + 24)) adder bits x 0.5 = 249 um^2.
    assert e.area_mm2 == pytest.approx({"synapse_memory": 8e-6, "other_memory": 32e-6, "logic": 249e-6})
    assert e.gsops == pytest.approx(6 / 100e-9 / 1e9)
    assert e.gsops_per_w == pytest.approx(6 / (total * 1e-12) / 1e9)
    assert e.gsops_per_w_mm2 == pytest.approx(6 / (total * 1e-12) / 1e9 / 289e-6)
    assert e.edp == pytest.approx(total * 1e-12 * 100e-9)
    assert cost.weight_load_energy_j(config, devices, "sram") == pytest.approx(8e-12)


def test_synapse_memory_is_left_out_of_the_storage_whether_listed_or_not():
    listed, _ = _tiny()
    unlisted, _ = _tiny({k: v for k, v in TINY_LAYER_STORAGE.items() if k != "synapse_memory"})
    assert listed.stored_bits() == unlisted.stored_bits()


def test_storage_is_required_and_checked():
    config, act = _tiny()
    bare = Config.from_manifest({"t_max": 4, "encoder": {"n_inputs": 2, "lanes": 2}, "layers": [
        {"type": "lif", "n_in": 2, "n_out": 2, "lanes": 2, "weight_bits": 1, "v_bits": 6}]})
    assert bare.memory_bits == config.memory_bits and bare.encoder_storage is None
    with pytest.raises(ValueError, match="no storage"):
        estimate(bare, act, _hand_table(), "sram")
    short, _ = _tiny({"step_sums": ("lutram", 6)})
    with pytest.raises(ValueError, match="LUT RAM, fewer than its 2 banks of step sums"):
        short.stored_bits()
    odd, _ = _tiny({"sums": ("latch", 12)})
    with pytest.raises(ValueError, match="'latch'"):
        odd.stored_bits()


def test_with_storage_reads_the_accelerator():
    """``Config.with_storage`` takes ``layer_storage`` / ``encoder_storage`` / ``decision_storage``
    (a stand-in here) and checks that the accelerator's synapse memories have the configuration's size."""
    config, _ = _tiny()
    bare = Config(n_inputs=2, encoder_lanes=2, t_max=4,
                  layers=tuple(LayerConfig(**{**l.__dict__, "storage": None}) for l in config.layers))
    fake = SimpleNamespace(layer_storage=[TINY_LAYER_STORAGE], encoder_storage=TINY_ENCODER_STORAGE,
                           decision_storage={}, layers=[SimpleNamespace(memory=SimpleNamespace(depth=2, data_width=2))])
    assert bare.with_storage(fake) == replace(config, decision_storage={})
    counters = bare.with_storage(SimpleNamespace(**{**vars(fake), "decision_storage": {"counts": ("ff", 8)}}))
    assert counters.stored_bits()["ff"] == config.stored_bits()["ff"] + 8
    fake.layers[0].memory.depth = 3
    with pytest.raises(ValueError, match="synapse memory has 6 bits, the configuration 4"):
        bare.with_storage(fake)


def test_model_storage_equals_the_components_storage():
    """The storage the model costs is what the Amaranth components report (hdl ``storage``)."""
    from spinaps.sim.models import random_network

    model = random_network(5, sizes=(12, 8, 5), lanes=[3, 2], t_max=6, encoder_lanes=4)
    counting = random_network(6, sizes=(12, 8, 5), lanes=[3, 2], t_max=6, output="lif", decision="spike_count")
    _check_storage(model)
    _check_storage(counting)


def _check_storage(model):
    from spinaps.hdl.accelerator import Accelerator

    acc = Accelerator(model)
    layers = []
    for lp in model.layers:
        glm = lp.kind == "glm"
        layers.append(LayerConfig(kind=lp.kind, n_in=lp.n_in, n_out=lp.n_out, lanes=lp.lanes,
                                  weight_bits=lp.weight_bits, basis=lp.weights.shape[2] if glm else 1,
                                  tau=lp.basis.shape[1] if glm else 1, basis_bits=lp.basis_bits if glm else 1,
                                  v_bits=0 if glm else lp.v_bits))
    config = Config(n_inputs=model.n_in, encoder_lanes=len(model.encoder_base_seeds), t_max=model.t_max,
                    layers=tuple(layers)).with_storage(acc)
    assert [layer.storage for layer in config.layers] == list(acc.layer_storage)
    assert config.encoder_storage == acc.encoder_storage and config.decision_storage == acc.decision_storage
    for layer, component in zip(config.layers, acc.layers):     # plus, from layer 1 on, the link's
        assert component.storage.items() <= layer.storage.items()
    totals = dict.fromkeys(cost.STORAGE_KINDS, 0)
    for storage in [acc.encoder_storage, *acc.layer_storage, acc.decision_storage]:
        for kind, bits in storage.values():
            totals[kind] += bits
    stored = config.stored_bits()
    synapses = sum(c.memory.depth * c.memory.data_width for c in acc.layers)
    assert stored["ff"] + stored["lutram"] + stored["bram"] == sum(totals.values()) - synapses
    assert stored["ff"] == totals["ff"] and stored["lutram"] == totals["lutram"]
    # The step sums are LUT RAM: two banks of Qn words of P sums.
    assert totals["lutram"] >= sum(2 * l.words * l.lanes * l.acc_bits for l in config.layers)


def test_ratio_follows_the_only_difference_between_memories():
    devices = _hand_table()      # memories differ only in cell area (100 vs 25 F^2)
    config, act = _tiny()
    out = compare(config, {"sram": act, "sttram": act}, devices)
    sram, stt = out["rows"]
    assert sram["energy_per_inference_j"] == stt["energy_per_inference_j"]
    # 8 + 32 + 249 um^2 against 2 + 32 + 249 (the other block RAM is SRAM either way).
    assert out["ratio_gsops_per_w_mm2"] == pytest.approx(289 / 283)
    by_name = {r["parameter"]: r for r in out["sensitivity"]}
    assert out["most_sensitive_parameter"] == out["sensitivity"][0]["parameter"]
    # Energies scale both memories alike: no effect on the ratio.
    assert by_name["logic.adder_energy_pj_per_bit"]["swing_log2"] == pytest.approx(0, abs=1e-12)
    assert by_name["logic.lutram_read_energy_pj_per_bit"]["swing_log2"] == pytest.approx(0, abs=1e-12)
    # Halving the SRAM cell makes SRAM denser: the ratio falls.
    assert by_name["memories.sram.cell_area_f2"]["ratio"]["0.5"] < out["ratio_gsops_per_w_mm2"]


def test_counter_mismatch_is_refused():
    from spinaps.sim.models import random_network
    model = random_network(3, sizes=(12, 8, 5), t_max=6)
    xs = np.random.default_rng(0).integers(0, 256, (4, 12))
    gold = model.run(xs, np.arange(4))
    results = [{"step": int(gold.step[i]), "cycles": 100 + i, "events": gold.events[i].tolist(),
                "sops": gold.sops[i].tolist()} for i in range(4)]
    act = activity_from_rtl(results, gold)
    assert act.sops == tuple(gold.sops.mean(axis=0)) and act.cycles == 101.5
    results[2]["sops"] = [s + 1 for s in results[2]["sops"]]
    with pytest.raises(CounterMismatch, match="sops differ .* sample 2"):
        activity_from_rtl(results, gold)


def test_hunsberger_eliasmith_estimate():
    config, act = _tiny()
    he = hunsberger_eliasmith(config, act)
    # 0.08 x 6 synaptic events + 0.25 x (2 neurons x 2 steps); ANN: 2 x 2 x 2 MAC FLOPs + 2 activations.
    assert he["snn_flop_equivalents"] == pytest.approx(0.48 + 1.0)
    assert he["ann_flops"] == 10
    assert he["ann_over_snn"] == pytest.approx(10 / 1.48)


def test_lane_utilization_bound():
    config, act = _tiny()
    # 3 word reads + 2 steps x (1 marker + max(0, 1 group - 1.5 events) idle) + the update tail
    # 2 sequencer stages + read latency 1 + 1 + 4 (LIF update) + 1 word = 9: 14 cycles for 6 SOPs
    # on 2 lanes.
    assert update_tail(config.layers[0], 1) == 9
    util = lane_utilization_bound(config, act, read_latency=1)
    assert util["bound_per_layer"] == [pytest.approx(6 / (2 * 14))]
    assert util["bound"] == pytest.approx(6 / (2 * 14))
    assert util["measured"] == pytest.approx(6 / (2 * 10))


def test_cost_command_help_and_bad_table(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["cost", "--help"])
    assert info.value.code == 0
    assert "--devices" in capsys.readouterr().out
    f = tmp_path / "bad.json"
    f.write_text(json.dumps({"logic": {"draw_adds": {"value": -3}}}))
    assert cli.main(["cost", "--model", str(tmp_path / "model.npz"), "--devices", str(f)]) == 2
    assert "logic.draw_adds" in capsys.readouterr().err


@pytest.mark.cocotb
def test_rtl_counters_equal_golden_as_cost_inputs(tmp_path, digits_hybrid_artifact):
    """End to end on a trained hybrid: both memories' RTL counters equal the golden model's
    (``cost_measure`` refuses otherwise); the STT-RAM run takes longer by its deeper read pipeline."""
    from spinaps.flow import cost_measure

    devices = load_devices()
    config, acts, lat = cost_measure(digits_hybrid_artifact, 8, build_dir=tmp_path, devices=devices)
    assert lat == {"sram": 1, "sttram": 2}
    assert acts["sram"].sops == acts["sttram"].sops and acts["sram"].total_sops > 0
    assert acts["sttram"].cycles > acts["sram"].cycles
    out = compare(config, acts, devices, lat)
    assert all(math.isfinite(r["gsops_per_w_mm2"]) and r["gsops_per_w_mm2"] > 0 for r in out["rows"])
    # The measured cycles respect the utilization bound.
    for memory in ("sram", "sttram"):
        util = lane_utilization_bound(config, acts[memory], read_latency=lat[memory])
        assert util["measured"] <= util["bound"]


def test_the_deterministic_encoder_costs_no_draws():
    """Bernoulli: one xorshift32 step per generator, group and step plus an 8-bit compare per
    input; deterministic: the 8-bit accumulate per input only (contract.encoder_draws)."""
    from dataclasses import replace
    devices = _hand_table()
    config, act = _tiny()
    det = replace(config, encoder_type="deterministic")
    e_add = devices["logic"]["adder_energy_pj_per_bit"]["value"] * 1e-12
    bern = estimate(config, act, devices, "sram").energy_j["encoder"]
    plain = estimate(det, act, devices, "sram").energy_j["encoder"]
    assert plain == pytest.approx(act.steps * config.n_inputs * 8 * e_add)
    assert bern - plain == pytest.approx(act.steps * config.groups * config.encoder_lanes * 3 * 32 * e_add)
