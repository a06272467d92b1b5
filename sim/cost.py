"""Energy / latency / area model of the accelerator (SpinAPS-style hardware emulation).

Inputs: the accelerator's configuration from an artifact manifest (layers, sizes, lanes, weight
bits, basis, encoder lanes, ``t_max``), the activity of one inference as the RTL's result
counters report it (per layer events and synaptic operations, the decision step, cycles),
and a device table (``devices.json`` next to this file; ``load_devices(override)`` merges a
user file over it by key). Outputs per memory kind: energy per inference (J) by component,
latency at the table's clock, area (mm2), GSOPS, GSOPS/W, GSOPS/W/mm2 and the energy-delay
product; ``compare`` gives the STT-RAM / SRAM ratio of GSOPS/W/mm2 and its sensitivity to every
device parameter. Every formula is written out in docs/cost_model.md.

Run ``python -m spinaps.sim.cost MODEL.npz [--devices FILE] [--samples N]`` for one artifact.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["DEVICES_FILE", "MEMORIES", "DeviceTableError", "load_devices", "validate_devices",
           "LayerConfig", "Config", "Activity", "activity_from_rtl", "read_latency_cycles",
           "estimate", "compare", "sensitivity", "hunsberger_eliasmith", "lane_utilization_bound"]

DEVICES_FILE = Path(__file__).with_name("devices.json")
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
}


class DeviceTableError(ValueError):
    """A device table that cannot be used; the message names the file and the field."""


# ----------------------------------------------------------------------------- device table

def _merge(base, over, source):
    """Merge ``over`` into ``base`` by key; a changed value without its own source gets one."""
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            if "value" in value and "source" not in value and "value" in base[key]:
                value = {**value, "source": f"override: {source}"}
            _merge(base[key], value, source)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _check_entry(entry, where, unit, positive, source):
    def fail(what):
        raise DeviceTableError(f"{source}: {where} {what}; see docs/cost_model.md for the table's fields")

    if not isinstance(entry, dict):
        fail("must be an object with value, unit and source")
    for key in ("value", "unit", "source"):
        if key not in entry:
            fail(f"is missing '{key}'")
    value = entry["value"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        fail(f"value must be a finite number, not {value!r}")
    if entry["unit"] != unit:
        fail(f"unit must be {unit!r}, not {entry['unit']!r}")
    if not isinstance(entry["source"], str) or not entry["source"].strip():
        fail("source must be a non-empty string (a publication, or 'assumption: <why>')")
    if value < 0 or (positive and value == 0):
        fail(f"value must be {'> 0' if positive else '>= 0'}, not {value!r}")
    if where.endswith("array_efficiency") and value > 1:
        fail(f"value must be at most 1, not {value!r}")


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


def _v(table, *path):
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


def _scaled(table, path, factor):
    out = copy.deepcopy(table)
    node = out
    for part in path:
        node = node[part]
    node["value"] = node["value"] * factor
    return out


# ----------------------------------------------------------------------------- configuration

@dataclass(frozen=True)
class LayerConfig:
    kind: str            # "lif" or "glm"
    n_in: int
    n_out: int
    lanes: int
    weight_bits: int
    basis: int = 1       # K (LIF: 1)
    tau: int = 1
    basis_bits: int = 1
    v_bits: int = 0      # LIF potential width

    @property
    def words(self):
        """Synapse-memory words per row (docs/semantics.md section 9)."""
        return -(-self.n_out // self.lanes)

    @property
    def memory_bits(self):
        """Binary cells of the layer's synapse memory: depth ``n_in K Qn`` x width ``P b``."""
        return self.n_in * self.basis * self.words * self.lanes * self.weight_bits

    @property
    def acc_bits(self):
        """Accumulator width; the bound hdl/synapse_layer.py sizes its accumulators from."""
        trace_max = self.tau * ((1 << self.basis_bits) - 1)
        return (self.n_in * self.basis * ((1 << self.weight_bits) - 1) * trace_max).bit_length() + 1

    @property
    def update_bits(self):
        """Width of the neuron-update datapath: LIF potential, GLM accumulator."""
        return self.v_bits if self.kind == "lif" else self.acc_bits


@dataclass(frozen=True)
class Config:
    n_inputs: int
    encoder_lanes: int
    t_max: int
    layers: tuple

    @classmethod
    def from_manifest(cls, manifest):
        """The accelerator configuration of an artifact manifest (``spinaps.sw.artifact.load(...).manifest``)."""
        layers = []
        for record in manifest["layers"]:
            glm = record["type"] == "glm"
            layers.append(LayerConfig(
                kind=record["type"], n_in=int(record["n_in"]), n_out=int(record["n_out"]),
                lanes=int(record["lanes"]), weight_bits=int(record["weight_bits"]),
                basis=int(record["basis"]) if glm else 1, tau=int(record["tau"]) if glm else 1,
                basis_bits=int(record["basis_bits"]) if glm else 1,
                v_bits=0 if glm else int(record["v_bits"])))
        enc = manifest["encoder"]
        return cls(n_inputs=int(enc["n_inputs"]), encoder_lanes=int(enc["lanes"]), t_max=int(manifest["t_max"]),
                   layers=tuple(layers))

    @property
    def groups(self):
        return -(-self.n_inputs // self.encoder_lanes)

    @property
    def memory_bits(self):
        return sum(layer.memory_bits for layer in self.layers)

    @property
    def ff_bits(self):
        """Flip-flops of the datapath that the model counts (docs/cost_model.md): per layer the
        accumulators and their snapshot, LIF potentials, input histories; the encoder's generators."""
        bits = self.encoder_lanes * 32 + self.n_inputs * self.layers[0].tau
        for layer in self.layers:
            bits += (layer.n_out + layer.words * layer.lanes) * layer.acc_bits
            bits += layer.n_out * layer.v_bits
            bits += layer.n_in * layer.tau if layer is not self.layers[0] else 0
        return bits

    def adder_bits(self, devices):
        """Adder bits of the datapath: accumulate lanes, neuron-update lanes, encoder generators."""
        lg = devices["logic"]
        bits = self.encoder_lanes * (_v(lg, "draw_adds") * 32 + 8)
        for layer in self.layers:
            ops = _v(lg, "lif_update_adds") if layer.kind == "lif" else _v(lg, "glm_update_adds")
            bits += layer.lanes * (layer.acc_bits + ops * layer.update_bits)
        return bits


# ----------------------------------------------------------------------------- activity

@dataclass(frozen=True)
class Activity:
    """Mean activity of one inference: per-layer events and synaptic operations, decision step, cycles."""

    events: tuple
    sops: tuple
    steps: float
    cycles: float
    samples: int = 1

    @property
    def total_sops(self):
        return float(sum(self.sops))


class CounterMismatch(RuntimeError):
    """The RTL's counters differ from the golden model's: the cost inputs cannot be trusted."""


def activity_from_rtl(results, golden=None):
    """Mean activity over RTL results (dicts with step, cycles, events[L], sops[L]).

    With ``golden`` (a ``GoldenResult`` of the same samples, in order), every sample's events
    and synaptic operations must equal the golden model's, else :class:`CounterMismatch`.
    """
    if not results:
        raise ValueError("no RTL results: run at least one sample")
    events = np.array([list(r["events"]) for r in results], dtype=float)
    sops = np.array([list(r["sops"]) for r in results], dtype=float)
    steps = np.array([r["step"] for r in results], dtype=float)
    cycles = np.array([r["cycles"] for r in results], dtype=float)
    if golden is not None:
        n = len(results)
        for what, rtl, gold in (("events", events, golden.events[:n]), ("sops", sops, golden.sops[:n]),
                                ("decision step", steps, golden.step[:n])):
            gold = np.asarray(gold, dtype=float)
            if rtl.shape != gold.shape or not np.array_equal(rtl, gold):
                bad = int(np.flatnonzero((rtl != gold).reshape(n, -1).any(axis=1))[0]) if rtl.shape == gold.shape else -1
                raise CounterMismatch(f"RTL {what} differ from the golden model's (first at sample {bad})")
    return Activity(events=tuple(events.mean(axis=0)), sops=tuple(sops.mean(axis=0)), steps=float(steps.mean()),
                    cycles=float(cycles.mean()), samples=len(results))


def read_latency_cycles(devices, memory):
    """Read latency in clock cycles at the table's clock (what the RTL's memory is built with)."""
    ns = _v(devices["memories"][memory], "read_latency_ns")
    return max(1, math.ceil(ns * _v(devices, "clock_mhz") / 1000.0 - 1e-9))


# ----------------------------------------------------------------------------- the model

@dataclass
class Estimate:
    memory: str
    energy_j: dict = field(default_factory=dict)     # component -> J per inference
    area_mm2: dict = field(default_factory=dict)     # component -> mm2
    latency_s: float = 0.0
    cycles: float = 0.0
    sops: float = 0.0

    @property
    def energy_per_inference_j(self):
        return sum(self.energy_j.values())

    @property
    def total_area_mm2(self):
        return sum(self.area_mm2.values())

    @property
    def power_w(self):
        return self.energy_per_inference_j / self.latency_s

    @property
    def gsops(self):
        return self.sops / self.latency_s / 1e9

    @property
    def gsops_per_w(self):
        return self.gsops / self.power_w

    @property
    def gsops_per_w_mm2(self):
        return self.gsops_per_w / self.total_area_mm2

    @property
    def edp(self):
        return self.energy_per_inference_j * self.latency_s

    def row(self):
        return {"memory": self.memory, "energy_per_inference_j": self.energy_per_inference_j,
                "latency_s": self.latency_s, "cycles": self.cycles, "area_mm2": self.total_area_mm2,
                "sops_per_inference": self.sops, "power_w": self.power_w, "gsops": self.gsops,
                "gsops_per_w": self.gsops_per_w, "gsops_per_w_mm2": self.gsops_per_w_mm2, "edp": self.edp,
                "energy_breakdown_j": dict(self.energy_j), "area_breakdown_mm2": dict(self.area_mm2)}


PJ, NW, UM2_TO_MM2 = 1e-12, 1e-9, 1e-6


def estimate(config, activity, devices, memory, *, cycles=None):
    """Energy, latency and area of one inference of ``config`` with ``memory`` synapses.

    ``cycles`` (default ``activity.cycles``) is the measured cycle count with this memory.
    """
    if memory not in MEMORIES:
        raise ValueError(f"memory = {memory!r} is not one of {', '.join(MEMORIES)}")
    mem, lg = devices["memories"][memory], devices["logic"]
    cycles = activity.cycles if cycles is None else cycles
    latency = cycles / (_v(devices, "clock_mhz") * 1e6)
    e_add = _v(lg, "adder_energy_pj_per_bit") * PJ
    est = Estimate(memory=memory, latency_s=latency, cycles=cycles, sops=activity.total_sops)

    # A row read fetches Qn words of P lanes x b cells; padding lanes are read and added too.
    word_reads = [s / layer.n_out * layer.words for s, layer in zip(activity.sops, config.layers)]
    bits_read = sum(w * layer.lanes * layer.weight_bits for w, layer in zip(word_reads, config.layers))
    lane_adds = sum(w * layer.lanes * layer.acc_bits for w, layer in zip(word_reads, config.layers))
    est.energy_j["synapse_read"] = bits_read * _v(mem, "read_energy_pj_per_bit") * PJ
    est.energy_j["accumulate"] = lane_adds * (e_add + _v(lg, "ff_write_energy_pj_per_bit") * PJ)
    neuron = 0.0
    for layer in config.layers:
        ops = _v(lg, "lif_update_adds") if layer.kind == "lif" else _v(lg, "glm_update_adds")
        draws = 0 if layer.kind == "lif" else _v(lg, "draw_adds") * 32
        neuron += activity.steps * layer.n_out * (ops * layer.update_bits + draws) * e_add
    est.energy_j["neuron_update"] = neuron
    # Encoder: every generator draws once per group and step; every input is compared (8 bits).
    est.energy_j["encoder"] = activity.steps * (config.groups * config.encoder_lanes * _v(lg, "draw_adds") * 32
                                                + config.n_inputs * 8) * e_add
    est.energy_j["clock"] = config.ff_bits * cycles * _v(lg, "ff_clock_energy_pj_per_bit") * PJ

    f2_um2 = (_v(devices, "technology_node_nm") * 1e-3) ** 2
    est.area_mm2["synapse_memory"] = (config.memory_bits * _v(mem, "cell_area_f2") * f2_um2
                                      / _v(mem, "array_efficiency") * UM2_TO_MM2)
    logic_um2 = config.ff_bits * _v(lg, "ff_area_um2") + config.adder_bits(devices) * _v(lg, "adder_area_um2_per_bit")
    est.area_mm2["logic"] = logic_um2 * UM2_TO_MM2
    est.energy_j["leakage"] = (config.memory_bits * _v(mem, "leakage_nw_per_bit")
                               + logic_um2 * _v(lg, "leakage_nw_per_um2")) * NW * latency
    return est


def weight_load_energy_j(config, devices, memory):
    """One-time energy to write every synapse cell (not part of an inference)."""
    return config.memory_bits * _v(devices["memories"][memory], "write_energy_pj_per_bit") * PJ


def _ratio(config, activity, devices, cycles):
    stt = estimate(config, activity, devices, "sttram", cycles=cycles["sttram"])
    sram = estimate(config, activity, devices, "sram", cycles=cycles["sram"])
    return stt.gsops_per_w_mm2 / sram.gsops_per_w_mm2


def _cycles_for(devices, measured, measured_latency, n_layers):
    """Cycles per memory under ``devices``: the measured count, moved by the change of read
    latency. Reads are fully pipelined; a deeper read pipeline is paid once per layer in the
    decision step's update tail (docs/architecture.md), so each extra cycle of latency adds
    ``n_layers`` cycles. Used by the sensitivity analysis only; headline figures use measured cycles."""
    out = {}
    for memory in MEMORIES:
        delta = read_latency_cycles(devices, memory) - measured_latency[memory]
        out[memory] = measured[memory] + delta * n_layers
    return out


def sensitivity(config, activity, devices, cycles, measured_latency, factors=(0.5, 2.0)):
    """The STT-RAM / SRAM ratio with each device parameter scaled by each factor.

    Returns ``(base_ratio, rows)``; a row: parameter, ratio at each factor, and ``swing`` =
    the largest ``|log2(ratio / base)|``. Rows are sorted by swing, largest first.
    """
    base = _ratio(config, activity, devices, _cycles_for(devices, cycles, measured_latency, len(config.layers)))
    rows = []
    for path in parameter_paths(devices):
        ratios = {}
        for f in factors:
            scaled = _scaled(devices, path, f)
            ratios[str(f)] = _ratio(config, activity, scaled,
                                    _cycles_for(scaled, cycles, measured_latency, len(config.layers)))
        swing = max(abs(math.log2(r / base)) for r in ratios.values())
        rows.append({"parameter": ".".join(path), "ratio": ratios, "swing_log2": swing})
    rows.sort(key=lambda r: -r["swing_log2"])
    return base, rows


def compare(config, activity_by_memory, devices, measured_latency=None):
    """Both memories for one network: rows per memory, the ratio and its sensitivity.

    ``activity_by_memory`` maps memory -> :class:`Activity` (same samples; only cycles may
    differ); ``measured_latency`` maps memory -> the read latency in cycles the RTL ran with
    (default: :func:`read_latency_cycles` of ``devices``).
    """
    measured_latency = measured_latency or {m: read_latency_cycles(devices, m) for m in MEMORIES}
    act = activity_by_memory["sram"]
    cycles = {m: activity_by_memory[m].cycles for m in MEMORIES}
    rows = [estimate(config, act, devices, m, cycles=cycles[m]) for m in MEMORIES]
    base, sens = sensitivity(config, act, devices, cycles, measured_latency)
    ratio = rows[1].gsops_per_w_mm2 / rows[0].gsops_per_w_mm2
    assert math.isclose(ratio, base, rel_tol=1e-12), "sensitivity base must equal the headline ratio"
    return {"rows": [r.row() for r in rows], "ratio_gsops_per_w_mm2": ratio,
            "ratio_energy": rows[1].energy_per_inference_j / rows[0].energy_per_inference_j,
            "ratio_area": rows[1].total_area_mm2 / rows[0].total_area_mm2,
            "sensitivity": sens, "most_sensitive_parameter": sens[0]["parameter"],
            "weight_load_energy_j": {m: weight_load_energy_j(config, devices, m) for m in MEMORIES}}


# ----------------------------------------------------------------------------- other estimates

def hunsberger_eliasmith(config, activity):
    """Hunsberger & Eliasmith's estimate (arXiv 1611.05141): E = 0.08 x synaptic events +
    0.25 x neuron updates, in FLOP equivalents, against the same-shape ANN's FLOPs.

    Synaptic events are our synaptic operations (a spike reaching one synapse); neuron
    updates are neurons x steps run. The ANN does one multiply-accumulate per synapse
    (2 FLOPs) and one activation per neuron: our reading of their comparison.
    """
    neurons = sum(layer.n_out for layer in config.layers)
    updates = neurons * activity.steps
    snn = 0.08 * activity.total_sops + 0.25 * updates
    ann = sum(2 * layer.n_in * layer.basis * layer.n_out + layer.n_out for layer in config.layers)
    return {"synaptic_events": activity.total_sops, "neuron_updates": updates, "snn_flop_equivalents": snn,
            "ann_flops": float(ann), "ann_over_snn": ann / snn if snn else float("inf")}


def lane_utilization_bound(config, activity, read_latency=1):
    """Measured-activity bound on lane utilization (docs/architecture.md), per layer and network.

    A layer needs one cycle per word read (``sops / n_out * Qn``), one cycle per step for the
    end-of-step marker, for the first layer ``max(0, Q - E)`` idle encoder cycles per step
    (``Q`` groups, ``E`` events per step), and once the update tail ``read_latency + 1 + 2 Qn + 1``.
    """
    per_layer, cycles_needed = [], []
    for index, (layer, sops, events) in enumerate(zip(config.layers, activity.sops, activity.events)):
        reads = sops / layer.n_out * layer.words
        idle = max(0.0, config.groups - events / activity.steps) if index == 0 else 0.0
        need = reads + activity.steps * (1 + idle) + read_latency + 2 + 2 * layer.words
        cycles_needed.append(need)
        per_layer.append(sops / (layer.lanes * need) if need else 0.0)
    lanes = sum(layer.lanes for layer in config.layers)
    network = activity.total_sops / (lanes * max(cycles_needed))
    measured = activity.total_sops / (lanes * activity.cycles)
    return {"bound_per_layer": per_layer, "bound": network, "measured": measured}


# ----------------------------------------------------------------------------- command line

def measure(artifact, n, *, build_dir, devices, stall=0.0, dataset=None):
    """RTL runs (SRAM and STT-RAM at the table's read latency) of the first ``n`` test samples,
    counters checked against the golden model; returns ``(config, {memory: Activity}, latency)``."""
    from spinaps.sw.datasets import load_dataset
    from spinaps.flow import rtl_check, sample_seeds
    from spinaps.sw.golden import GoldenModel

    ds = dataset or load_dataset(artifact.manifest["dataset"]["name"])
    config = Config.from_manifest(artifact.manifest)
    acts, lat = {}, {}
    for memory in MEMORIES:
        lat[memory] = read_latency_cycles(devices, memory)
        if memory == "sram" and lat[memory] != 1:
            raise DeviceTableError("memories.sram.read_latency_ns must fit in one clock cycle at clock_mhz: "
                                   "the RTL's SRAM has read latency 1")
        options = {"read_latency": lat[memory]} if memory == "sttram" else None
        run, cmp, _ = rtl_check(artifact, n, build_dir=Path(build_dir) / memory, memory=memory,
                                memory_options=options, stall=stall, dataset=ds)
        if cmp.mismatches:
            raise CounterMismatch(cmp.describe())
        m = len(run.results)
        gold = GoldenModel.from_artifact(artifact).run(ds.x_test[:m], sample_seeds(m))
        acts[memory] = activity_from_rtl(run.results, gold)
    return config, acts, lat


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m spinaps.sim.cost", description=__doc__.splitlines()[0])
    ap.add_argument("model", help="artifact (.npz)")
    ap.add_argument("--devices", help="JSON device table merged over the shipped one by key")
    ap.add_argument("--samples", type=int, default=20, help="test samples run on the RTL (default 20)")
    ap.add_argument("--build", default="build/cost", help="simulation build folder")
    args = ap.parse_args(argv)
    from spinaps.sw import artifact as art
    try:
        devices = load_devices(args.devices)
        artifact = art.load(args.model)
    except (DeviceTableError, art.ArtifactError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    config, acts, lat = measure(artifact, args.samples, build_dir=args.build, devices=devices)
    out = compare(config, acts, devices, lat)
    out["hunsberger_eliasmith"] = hunsberger_eliasmith(config, acts["sram"])
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
