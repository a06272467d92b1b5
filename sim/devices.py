"""The cost model's device table: ``devices.json`` next to this file, user overrides merged
over it by key, validation naming the file and the field, and the helpers the model and its
sensitivity analysis read the table with.

Every entry is ``{"value": number, "unit": str, "source": str}``; the fields, their units and
which must be strictly positive are listed below (docs/cost_model.md explains each number).
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

__all__ = ["DEVICES_FILE", "MEMORIES", "DeviceTableError", "load_devices", "validate_devices",
           "value", "parameter_paths", "scaled", "read_latency_cycles"]

DEVICES_FILE = Path(__file__).with_name("devices.json")
#: Synapse-memory kinds the table describes (``memories.<kind>``), SRAM first.
MEMORIES = ("sram", "sttram")

# Every field of the table, its unit, and whether it must be strictly positive.
_TOP = {"technology_node_nm": ("nm", True), "clock_mhz": ("MHz", True)}
_MEMORY = {
    "read_energy_pj_per_bit": ("pJ/bit", False),
    "write_energy_pj_per_bit": ("pJ/bit", False),
    "read_latency_ns": ("ns", True),
    "cell_area_f2": ("F^2", True),
    "array_efficiency": ("1", True),
    "leakage_nw_per_bit": ("nW/bit", False),
}
_LOGIC = {
    "adder_energy_pj_per_bit": ("pJ/bit", False),
    "ff_clock_energy_pj_per_bit": ("pJ/bit/cycle", False),
    "ff_write_energy_pj_per_bit": ("pJ/bit", False),
    "ff_area_um2": ("um^2", True),
    "adder_area_um2_per_bit": ("um^2/bit", False),
    "leakage_nw_per_um2": ("nW/um^2", False),
    "lif_update_adds": ("adds", False),
    "glm_update_adds": ("adds", False),
    "draw_adds": ("adds", False),
    # LUT RAM (step sums, LIF state): added last so the older fields keep their order.
    "lutram_read_energy_pj_per_bit": ("pJ/bit", False),
    "lutram_write_energy_pj_per_bit": ("pJ/bit", False),
    "lutram_area_um2_per_bit": ("um^2/bit", True),
}


class DeviceTableError(ValueError):
    """A device table that cannot be used; the message names the file and the field."""


def _merge(base, over, source):
    """Merge ``over`` into ``base`` by key; a changed value without its own source gets one."""
    for key, val in over.items():
        if isinstance(val, dict) and isinstance(base.get(key), dict):
            if "value" in val and "source" not in val and "value" in base[key]:
                val = {**val, "source": f"override: {source}"}
            _merge(base[key], val, source)
        else:
            base[key] = copy.deepcopy(val)
    return base


def _check_entry(entry, where, unit, positive, source):
    def fail(what):
        raise DeviceTableError(f"{source}: {where} {what}; see docs/cost_model.md for the table's fields")

    if not isinstance(entry, dict):
        fail("must be an object with value, unit and source")
    for key in ("value", "unit", "source"):
        if key not in entry:
            fail(f"is missing '{key}'")
    val = entry["value"]
    if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
        fail(f"value must be a finite number, not {val!r}")
    if entry["unit"] != unit:
        fail(f"unit must be {unit!r}, not {entry['unit']!r}")
    if not isinstance(entry["source"], str) or not entry["source"].strip():
        fail("source must be a non-empty string (a publication, or 'assumption: <why>')")
    if val < 0 or (positive and val == 0):
        fail(f"value must be {'> 0' if positive else '>= 0'}, not {val!r}")
    if where.endswith("array_efficiency") and val > 1:
        fail(f"value must be at most 1, not {val!r}")


def validate_devices(table, source="<memory>"):
    """Check every field of a device table; raise :class:`DeviceTableError` naming the first bad one."""
    if not isinstance(table, dict):
        raise DeviceTableError(f"{source}: a device table must be a JSON object")
    for key, (unit, positive) in _TOP.items():
        if key not in table:
            raise DeviceTableError(f"{source}: field '{key}' is missing")
        _check_entry(table[key], key, unit, positive, source)
    memories = table.get("memories")
    if not isinstance(memories, dict):
        raise DeviceTableError(f"{source}: field 'memories' is missing or not an object")
    for kind in memories:
        if kind not in MEMORIES:
            raise DeviceTableError(f"{source}: memories.{kind} is an unknown memory kind; "
                                   f"known kinds: {', '.join(MEMORIES)}")
    for kind in MEMORIES:
        if not isinstance(memories.get(kind), dict):
            raise DeviceTableError(f"{source}: field 'memories.{kind}' is missing")
        for key, (unit, positive) in _MEMORY.items():
            if key not in memories[kind]:
                raise DeviceTableError(f"{source}: field 'memories.{kind}.{key}' is missing")
            _check_entry(memories[kind][key], f"memories.{kind}.{key}", unit, positive, source)
    logic = table.get("logic")
    if not isinstance(logic, dict):
        raise DeviceTableError(f"{source}: field 'logic' is missing or not an object")
    for key, (unit, positive) in _LOGIC.items():
        if key not in logic:
            raise DeviceTableError(f"{source}: field 'logic.{key}' is missing")
        _check_entry(logic[key], f"logic.{key}", unit, positive, source)
    for section, known in (("memories.sram", _MEMORY), ("memories.sttram", _MEMORY), ("logic", _LOGIC)):
        node = table
        for part in section.split("."):
            node = node[part]
        for key in node:
            if key not in known:
                raise DeviceTableError(f"{source}: field '{section}.{key}' is unknown; "
                                       f"known fields: {', '.join(known)}")
    return table


def _read_json(path):
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DeviceTableError(f"{path}: device table not found") from None
    except json.JSONDecodeError as exc:
        raise DeviceTableError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None


def load_devices(override=None):
    """The shipped device table, with ``override`` (a path or a dict) merged over it by key.

    The result is validated; a bad override is reported with its own name.
    """
    table = _read_json(DEVICES_FILE)
    source = str(DEVICES_FILE)
    if override is not None:
        if isinstance(override, dict):
            over, source = override, "<override>"
        else:
            over, source = _read_json(override), str(override)
        if not isinstance(over, dict):
            raise DeviceTableError(f"{source}: a device table must be a JSON object")
        table = _merge(table, over, source)
    return validate_devices(table, source)


def value(table, *path):
    """The number at ``path`` of a (validated) table, e.g. ``value(t, "logic", "ff_area_um2")``."""
    node = table
    for part in path:
        node = node[part]
    return float(node["value"])


def parameter_paths(table):
    """Every numeric parameter of a table as a tuple path, e.g. ``("memories", "sram", "cell_area_f2")``."""
    paths = [(key,) for key in _TOP]
    paths += [("memories", kind, key) for kind in MEMORIES for key in _MEMORY]
    paths += [("logic", key) for key in _LOGIC]
    return paths


def scaled(table, path, factor):
    """A copy of ``table`` with the parameter at ``path`` multiplied by ``factor`` (sensitivity)."""
    out = copy.deepcopy(table)
    node = out
    for part in path:
        node = node[part]
    node["value"] = node["value"] * factor
    return out


def read_latency_cycles(devices, memory):
    """Read latency in clock cycles at the table's clock (what the RTL's memory is built with)."""
    ns = value(devices["memories"][memory], "read_latency_ns")
    return max(1, math.ceil(ns * value(devices, "clock_mhz") / 1000.0 - 1e-9))
