"""Cost model (spinaps.sim.cost): hand-computed energies, device-table overrides and refusals,
and RTL counters equal to the golden model's as the cost inputs."""

import json
import math

import numpy as np
import pytest

from spinaps.sim import cost
from spinaps.sim.cost import (Activity, Config, CounterMismatch, DeviceTableError, LayerConfig,
                              activity_from_rtl, compare, estimate, hunsberger_eliasmith, load_devices)


def _entry(value, unit):
    return {"value": value, "unit": unit, "source": "test: round number"}


def _hand_table():
    """Round numbers so every energy below can be checked on paper."""
    mem = {"read_energy_pj_per_bit": _entry(1.0, "pJ/bit"), "write_energy_pj_per_bit": _entry(2.0, "pJ/bit"),
           "read_latency_ns": _entry(5.0, "ns"), "cell_area_f2": _entry(100, "F^2"),
           "array_efficiency": _entry(0.5, "1"), "leakage_nw_per_bit": _entry(1.0, "nW/bit")}
    return {
        "technology_node_nm": _entry(100, "nm"), "clock_mhz": _entry(100, "MHz"),
        "memories": {"sram": dict(mem), "sttram": {**mem, "cell_area_f2": _entry(25, "F^2")}},
        "logic": {"adder_energy_pj_per_bit": _entry(0.1, "pJ/bit"),
                  "ff_clock_energy_pj_per_bit": _entry(0.01, "pJ/bit/cycle"),
                  "ff_write_energy_pj_per_bit": _entry(0.0, "pJ/bit"), "ff_area_um2": _entry(1.0, "um^2"),
                  "adder_area_um2_per_bit": _entry(0.5, "um^2/bit"), "leakage_nw_per_um2": _entry(0.0, "nW/um^2"),
                  "lif_update_adds": _entry(4, "adds"), "glm_update_adds": _entry(12, "adds"),
                  "draw_adds": _entry(3, "adds")},
    }


def _tiny():
    # 2 inputs (2 encoder lanes, 1 group) -> 2 LIF neurons on 2 lanes, 1-bit weights, 6-bit potentials.
    config = Config(n_inputs=2, encoder_lanes=2, t_max=4,
                    layers=(LayerConfig(kind="lif", n_in=2, n_out=2, lanes=2, weight_bits=1, v_bits=6),))
    # 3 input events over 2 steps -> 3 x 2 = 6 synaptic operations; 10 cycles.
    return config, Activity(events=(3,), sops=(6,), steps=2, cycles=10)


def test_hand_computed_tiny_lif_network():
    devices = cost.validate_devices(_hand_table())
    config, act = _tiny()
    layer = config.layers[0]
    assert (layer.words, layer.memory_bits, layer.acc_bits) == (1, 4, 3)   # acc: 2*1*1 = 2 -> 2 bits + sign
    assert config.ff_bits == 2 * 32 + 2 + (2 + 2) * 3 + 2 * 6 == 90
    e = estimate(config, act, devices, "sram")
    pj = {k: v * 1e12 for k, v in e.energy_j.items()}
    # 3 row reads x 1 word x 2 lanes x 1 bit = 6 bits at 1 pJ.
    assert pj["synapse_read"] == pytest.approx(6.0)
    # 3 words x 2 lanes x 3-bit accumulators at 0.1 pJ/bit.
    assert pj["accumulate"] == pytest.approx(1.8)
    # 2 steps x 2 neurons x 4 adds x 6 bits x 0.1 pJ.
    assert pj["neuron_update"] == pytest.approx(9.6)
    # 2 steps x (1 group x 2 generators x 3 x 32 bits + 2 inputs x 8 bits) x 0.1 pJ.
    assert pj["encoder"] == pytest.approx(41.6)
    # 90 flip-flops x 10 cycles x 0.01 pJ.
    assert pj["clock"] == pytest.approx(9.0)
    # 4 cells x 1 nW for 10 cycles at 100 MHz (100 ns) = 4e-16 J.
    assert e.energy_j["leakage"] == pytest.approx(4e-16)
    total = 6.0 + 1.8 + 9.6 + 41.6 + 9.0 + 4e-4
    assert e.energy_per_inference_j == pytest.approx(total * 1e-12)
    assert e.latency_s == pytest.approx(100e-9)
    # Area: 4 cells x 100 F^2 x (0.1 um)^2 / 0.5 = 8 um^2; logic 90 x 1 + (2 x 104 + 2 x (3 + 24)) x 0.5 = 221 um^2.
    assert e.area_mm2["synapse_memory"] == pytest.approx(8e-6)
    assert e.area_mm2["logic"] == pytest.approx(221e-6)
    assert e.gsops == pytest.approx(6 / 100e-9 / 1e9)
    assert e.gsops_per_w == pytest.approx(6 / (total * 1e-12) / 1e9)
    assert e.gsops_per_w_mm2 == pytest.approx(6 / (total * 1e-12) / 1e9 / 229e-6)
    assert e.edp == pytest.approx(total * 1e-12 * 100e-9)
    assert cost.weight_load_energy_j(config, devices, "sram") == pytest.approx(8e-12)


def test_ratio_follows_the_only_difference_between_memories():
    devices = cost.validate_devices(_hand_table())      # memories differ only in cell area (100 vs 25 F^2)
    config, act = _tiny()
    out = compare(config, {"sram": act, "sttram": act}, devices)
    sram, stt = out["rows"]
    assert sram["energy_per_inference_j"] == stt["energy_per_inference_j"]
    assert out["ratio_gsops_per_w_mm2"] == pytest.approx(229 / (2 + 221))
    assert out["most_sensitive_parameter"] in ("logic.ff_area_um2", "logic.adder_area_um2_per_bit",
                                               "technology_node_nm", "memories.sram.cell_area_f2")
    by_name = {r["parameter"]: r for r in out["sensitivity"]}
    # Energies scale both memories alike: no effect on the ratio.
    assert by_name["logic.adder_energy_pj_per_bit"]["swing_log2"] == pytest.approx(0, abs=1e-12)
    # Halving the SRAM cell makes SRAM denser: the ratio falls.
    assert by_name["memories.sram.cell_area_f2"]["ratio"]["0.5"] < out["ratio_gsops_per_w_mm2"]


def test_shipped_table_is_valid_and_every_number_has_a_source():
    devices = load_devices()
    for path in cost.parameter_paths(devices):
        node = devices
        for part in path:
            node = node[part]
        assert node["source"].strip(), path


def test_override_merges_by_key(tmp_path):
    base = load_devices()
    f = tmp_path / "mine.json"
    f.write_text(json.dumps({"memories": {"sttram": {"cell_area_f2": {"value": 10}}},
                             "clock_mhz": {"value": 100, "source": "my board"}}))
    merged = load_devices(f)
    assert merged["memories"]["sttram"]["cell_area_f2"]["value"] == 10
    assert merged["memories"]["sttram"]["cell_area_f2"]["unit"] == "F^2"
    assert merged["memories"]["sttram"]["cell_area_f2"]["source"] == f"override: {f}"
    assert merged["clock_mhz"]["source"] == "my board"
    # Everything not named stays as shipped.
    assert merged["memories"]["sram"] == base["memories"]["sram"]
    assert merged["logic"] == base["logic"]


@pytest.mark.parametrize("override,field", [
    ({"memories": {"sram": {"read_energy_pj_per_bit": {"value": -0.1}}}}, "memories.sram.read_energy_pj_per_bit"),
    ({"logic": {"ff_area_um2": {"value": "4.5"}}}, "logic.ff_area_um2"),
    ({"clock_mhz": {"unit": "GHz"}}, "clock_mhz"),
    ({"memories": {"mram2": {}}}, "memories.mram2"),
    ({"memories": {"sttram": {"array_efficiency": {"value": 1.5}}}}, "memories.sttram.array_efficiency"),
])
def test_bad_override_is_refused_naming_field_and_file(tmp_path, override, field):
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(override))
    with pytest.raises(DeviceTableError) as info:
        load_devices(f)
    assert field in str(info.value) and str(f) in str(info.value)


def test_missing_field_is_refused(tmp_path):
    table = json.loads(cost.DEVICES_FILE.read_text())
    del table["memories"]["sttram"]["leakage_nw_per_bit"]
    f = tmp_path / "partial.json"
    f.write_text(json.dumps(table))
    with pytest.raises(DeviceTableError, match=r"partial\.json: field 'memories\.sttram\.leakage_nw_per_bit' is missing"):
        cost.validate_devices(json.loads(f.read_text()), str(f))
    del table["logic"]["ff_area_um2"]["source"]
    with pytest.raises(DeviceTableError, match="logic.ff_area_um2 is missing 'source'"):
        cost.validate_devices({**table, "memories": json.loads(cost.DEVICES_FILE.read_text())["memories"]}, "t")


def test_unreadable_table_is_refused(tmp_path):
    f = tmp_path / "broken.json"
    f.write_text("{not json")
    with pytest.raises(DeviceTableError, match="broken.json: not valid JSON"):
        load_devices(f)
    with pytest.raises(DeviceTableError, match="nowhere.json: device table not found"):
        load_devices(tmp_path / "nowhere.json")


def test_cli_exits_non_zero_on_a_bad_table(tmp_path, capsys):
    f = tmp_path / "bad.json"
    f.write_text(json.dumps({"logic": {"draw_adds": {"value": -3}}}))
    assert cost.main([str(tmp_path / "model.npz"), "--devices", str(f)]) == 2
    assert "logic.draw_adds" in capsys.readouterr().err


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


@pytest.mark.cocotb
def test_rtl_counters_equal_golden_as_cost_inputs(tmp_path, digits_hybrid_artifact):
    """End to end on a trained hybrid: both memories' RTL counters equal the golden model's
    (``measure`` refuses otherwise); the STT-RAM run takes longer by its deeper read pipeline."""
    devices = load_devices()
    config, acts, lat = cost.measure(digits_hybrid_artifact, 8, build_dir=tmp_path, devices=devices)
    assert lat == {"sram": 1, "sttram": 2}
    assert acts["sram"].sops == acts["sttram"].sops and acts["sram"].total_sops > 0
    assert acts["sttram"].cycles > acts["sram"].cycles
    out = compare(config, acts, devices, lat)
    assert all(math.isfinite(r["gsops_per_w_mm2"]) and r["gsops_per_w_mm2"] > 0 for r in out["rows"])
