"""The cost model's device table (spinaps.sim.devices): the shipped table, overrides merged by
key, refusals naming the field and the file, and the helpers the model reads it with."""

import json

import pytest

from spinaps.sim import devices
from spinaps.sim.devices import DeviceTableError, load_devices


def test_shipped_table_is_valid_and_every_number_has_a_source():
    table = load_devices()
    for path in devices.parameter_paths(table):
        node = table
        for part in path:
            node = node[part]
        assert node["source"].strip(), path


def test_lutram_entries_come_from_the_flip_flop_figures():
    """The LUT-RAM bit is taken as one flip-flop: its area is the DFF's, a write is a clock
    cycle plus a change of state."""
    t = load_devices()
    lg = lambda key: devices.value(t, "logic", key)   # noqa: E731
    assert lg("lutram_area_um2_per_bit") == lg("ff_area_um2")
    assert lg("lutram_write_energy_pj_per_bit") == pytest.approx(lg("ff_clock_energy_pj_per_bit")
                                                                 + lg("ff_write_energy_pj_per_bit"))
    assert 0 < lg("lutram_read_energy_pj_per_bit") < devices.value(t, "memories", "sram", "read_energy_pj_per_bit")


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
    ({"logic": {"lutram_area_um2_per_bit": {"value": 0}}}, "logic.lutram_area_um2_per_bit"),
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
    table = json.loads(devices.DEVICES_FILE.read_text())
    del table["memories"]["sttram"]["leakage_nw_per_bit"]
    f = tmp_path / "partial.json"
    f.write_text(json.dumps(table))
    with pytest.raises(DeviceTableError, match=r"partial\.json: field 'memories\.sttram\.leakage_nw_per_bit' is missing"):
        devices.validate_devices(json.loads(f.read_text()), str(f))
    del table["logic"]["ff_area_um2"]["source"]
    with pytest.raises(DeviceTableError, match="logic.ff_area_um2 is missing 'source'"):
        devices.validate_devices({**table, "memories": json.loads(devices.DEVICES_FILE.read_text())["memories"]}, "t")


def test_unreadable_table_is_refused(tmp_path):
    f = tmp_path / "broken.json"
    f.write_text("{not json")
    with pytest.raises(DeviceTableError, match="broken.json: not valid JSON"):
        load_devices(f)
    with pytest.raises(DeviceTableError, match="nowhere.json: device table not found"):
        load_devices(tmp_path / "nowhere.json")


def test_scaled_copies_and_read_latency():
    table = load_devices()
    path = ("memories", "sttram", "read_latency_ns")
    slow = devices.scaled(table, path, 2.0)
    assert devices.value(slow, *path) == 2 * devices.value(table, *path)
    assert devices.value(table, *path) == 10.0                 # the original is untouched
    # 10 ns at 200 MHz = 2 cycles; 20 ns = 4; SRAM's 1 ns fits in one.
    assert [devices.read_latency_cycles(t, "sttram") for t in (table, slow)] == [2, 4]
    assert devices.read_latency_cycles(table, "sram") == 1
