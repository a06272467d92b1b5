"""Energy / latency / area model of the accelerator (SpinAPS-style hardware emulation).

Inputs: the accelerator's configuration (:class:`Config`: from an artifact manifest, with the
storage every Amaranth component reports for itself), the activity of one inference as the
RTL's result counters report it (:class:`~spinaps.sim.activity.Activity`), and a
device table (:mod:`spinaps.sim.devices`). Outputs per memory kind:
energy per inference (J) by component, latency at the table's clock, area (mm2), GSOPS,
GSOPS/W, GSOPS/W/mm2 and the energy-delay product; :func:`compare` gives the STT-RAM / SRAM
ratio of GSOPS/W/mm2 and its sensitivity to every device parameter. Every formula is written
out in docs/cost_model.md. The integer rules (words per row, groups, accumulator widths) come
from :mod:`spinaps.contract`. What bounds the activity (lane utilization) is
:mod:`spinaps.sim.activity`'s.

The RTL runs that measure the activity are the flow's (``spinaps cost``,
``spinaps.flow.cost_measure``): this module only models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from spinaps import contract
from spinaps.sim.activity import Activity, CounterMismatch, activity_from_rtl
from spinaps.sim.devices import MEMORIES, parameter_paths, read_latency_cycles, scaled, value as _v

__all__ = ["STORAGE_KINDS", "LayerConfig", "Config", "window_events_storage", "Activity", "CounterMismatch", "activity_from_rtl",
           "Estimate", "estimate", "weight_load_energy_j", "compare", "sensitivity", "hunsberger_eliasmith"]

#: Storage kinds the Amaranth components report (``storage``: name -> (kind, bits)).
STORAGE_KINDS = ("ff", "lutram", "bram")


# ----------------------------------------------------------------------------- configuration

def _by_kind(storage, where):
    """``{kind: bits}`` of a component's ``storage`` dict, every kind present (0 when absent)."""
    out = dict.fromkeys(STORAGE_KINDS, 0)
    for name, (kind, bits) in storage.items():
        if kind not in STORAGE_KINDS:
            raise ValueError(f"{where}: storage {name!r} has kind {kind!r}, not one of {', '.join(STORAGE_KINDS)}")
        out[kind] += int(bits)
    return out


def _built_for_storage_only(component):
    """Mark ``component`` and the parts it holds as not meant to be elaborated: Amaranth warns
    about a component created but never used, and this one is built only to read its storage
    (Amaranth's own ``MustUse`` flag, as hdl/synapse_memory.py sets it)."""
    from amaranth.hdl import Elaboratable

    stack, seen = [component], set()
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, Elaboratable):
            obj._MustUse__silence = True
            stack.extend(vars(obj).values())
        elif isinstance(obj, (list, tuple)):
            stack.extend(obj)


def window_events_storage(n, lanes, window, tau):
    """Storage of the window events feeding a layer of ``n`` inputs from words of ``lanes``
    (hdl/window_events.py, whose rule this is): tags in two banks of ``W`` LUT memories, two
    flags per input, and ``tau - 1`` history bits per input when ``tau > 1``."""
    from spinaps.hdl.window_events import window_storage

    return window_storage(n, lanes, window, tau)


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
    storage: dict = None  # the layer component's ``storage`` (name -> (kind, bits)); None: unknown
    window: int = 1      # W: steps per window (docs/semantics.md 8.1); 1 = the time-sequential engine
    adders: int = 1      # A: temporal adders per lane (1..W)

    @property
    def words(self):
        """Synapse-memory words per row (docs/semantics.md section 9)."""
        return contract.words(self.n_out, self.lanes)

    @property
    def memory_bits(self):
        """Binary cells of the layer's synapse memory: depth ``n_in K Qn`` x width ``P b``."""
        return self.n_in * self.basis * self.words * self.lanes * self.weight_bits

    @property
    def acc_bits(self):
        """Width of a step sum (:func:`spinaps.contract.accumulator_bits`)."""
        return contract.accumulator_bits(self.n_in, self.weight_bits, basis=self.basis, tau=self.tau,
                                         basis_bits=self.basis_bits)

    @property
    def update_bits(self):
        """Width of the neuron-update datapath: LIF potential, GLM accumulator."""
        return self.v_bits if self.kind == "lif" else self.acc_bits

    @property
    def sum_word_bits(self):
        """Bits of one word of step sums: ``P`` sums of ``acc_bits`` (read and written per word read)."""
        return self.lanes * self.acc_bits

    @property
    def sum_bank_bits(self):
        """Bits of the step-sum banks (hdl/synapse_layer.py): two banks (the window accumulating,
        the window being updated) of ``ceil(W/A)`` words of ``A`` sub-banks, one step each, per
        neuron word: ``2 ceil(W/A) A Qn x P acc_bits``; two banks of ``Qn`` words at ``W = 1``."""
        return 2 * contract.ceil_div(self.window, self.adders) * self.adders * self.words * self.sum_word_bits

    def stored_bits(self):
        """``{kind: bits}`` of the layer's storage, its synapse memory left out (the model costs
        that as SRAM or STT-RAM cells, :attr:`memory_bits`); ``"state"`` is the LUT RAM besides
        the banks of step sums (LIF potentials and refractory counters). The banks are the
        storage entry ``step_sums`` (LUT RAM or flip-flops, as the component reports them)."""
        if self.storage is None:
            raise ValueError("this configuration has no storage: build it with Config.from_artifact "
                             "(or Config.with_storage) before estimating")
        bits = _by_kind(self.storage, f"layer {self.kind} {self.n_in} -> {self.n_out}")
        # The synapse memory, by the name every layer component reports it under.
        if "synapse_memory" in self.storage:
            kind, b = self.storage["synapse_memory"]
            if int(b) != self.memory_bits:
                raise ValueError(f"layer {self.kind} {self.n_in} -> {self.n_out}: the synapse memory has "
                                 f"{int(b)} bits, the configuration {self.memory_bits}")
            bits[kind] -= int(b)
        sums = self.sum_bank_bits                         # 2W banks, one word per neuron word
        bank_kind = self.storage.get("step_sums", ("lutram", sums))[0]
        if bits[bank_kind] < sums:
            what = {"lutram": "LUT RAM", "ff": "flip-flops", "bram": "block RAM"}[bank_kind]
            raise ValueError(f"layer {self.kind} {self.n_in} -> {self.n_out} reports {bits[bank_kind]} bits of "
                             f"{what}, fewer than its {2 * self.window} banks of step sums ({sums} bits)")
        bits["state"] = bits["lutram"] - (sums if bank_kind == "lutram" else 0)
        return bits

    def with_window(self, window, adders, *, producer_lanes=None):
        """This layer built with window ``W`` and ``A`` adders per lane, its storage modelled
        on what the window engine's components report (hdl/synapse_layer.py,
        hdl/window_events.py) from the time-sequential build's: the banks of step sums
        (:attr:`sum_bank_bits`, same kind) and their fresh flags ``2 ceil(W/A) Qn``; the
        event's traces ``K ceil(W/A) A x bits(trace_max)`` and chunk flags ``K ceil(W/A)``;
        for a layer fed by another (``producer_lanes``: that layer's lanes), the window link in
        place of the step link (:func:`window_events_storage`, names prefixed ``events_``; the
        first layer's is the encoder's, :meth:`Config.with_schedule`). tests/sim/test_schedule.py
        checks it against the accelerator's own report (:meth:`Config.from_artifact` with a
        schedule)."""
        window, adders = contract.check_schedule(window, adders)
        storage = self.storage
        if storage is not None and self.window == 1 and window > 1:
            built = replace(self, window=window, adders=adders)
            chunks = contract.ceil_div(window, adders)
            trace_bits = max(1, contract.trace_max(self.tau, self.basis_bits).bit_length())
            storage = dict(storage)
            storage["step_sums"] = (storage.get("step_sums", ("lutram", 0))[0], built.sum_bank_bits)
            storage["step_sums_fresh"] = ("ff", 2 * chunks * self.words)
            storage["window_traces"] = ("ff", self.basis * chunks * adders * trace_bits)
            storage["window_row_chunks"] = ("ff", self.basis * chunks)
            if producer_lanes is not None:
                storage = {k: v for k, v in storage.items() if not k.startswith("events_")}
                storage.update({f"events_{k}": v for k, v in
                                window_events_storage(self.n_in, producer_lanes, window, self.tau).items()})
        return replace(self, window=window, adders=adders, storage=storage)


@dataclass(frozen=True)
class Config:
    n_inputs: int
    encoder_lanes: int
    t_max: int
    layers: tuple
    encoder_storage: dict = None     # the encoder component's ``storage``; None: unknown
    encoder_type: str = contract.ENCODER_TYPES[0]
    decision_storage: dict = None    # the decision unit's (spike counters); None: none

    @classmethod
    def from_manifest(cls, manifest):
        """The accelerator configuration of an artifact manifest (``spinaps.sw.artifact.load(...).manifest``),
        without storage (enough for :attr:`memory_bits` and the activity-only estimates)."""
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
                   layers=tuple(layers), encoder_type=enc.get("type", contract.ENCODER_TYPES[0]))

    @classmethod
    def from_artifact(cls, artifact, schedule=None):
        """:meth:`from_manifest` with the storage of the artifact's accelerator (built as
        ``spinaps verilog`` builds it, SRAM synapses, not elaborated); with ``schedule``
        (``((W, A), ...)`` per layer) the accelerator is built with that window schedule and
        its own storage report is used."""
        from spinaps.hdl.accelerator import Accelerator
        from spinaps.sw.golden import GoldenModel

        options = {}
        if schedule is not None and any(tuple(s) != (1, 1) for s in schedule):
            options = {"window": [w for w, _ in schedule], "adders": [a for _, a in schedule]}
        accelerator = Accelerator(GoldenModel.from_artifact(artifact), **options)
        _built_for_storage_only(accelerator)
        config = cls.from_manifest(artifact.manifest).with_storage(accelerator)
        if options:
            config = replace(config, layers=tuple(replace(layer, window=int(w), adders=int(a))
                                                  for layer, (w, a) in zip(config.layers, schedule)))
        return config

    def with_storage(self, accelerator):
        """This configuration with the storage an :class:`~spinaps.hdl.accelerator.Accelerator`
        reports: ``layer_storage`` (each layer with the link that feeds it, input side first),
        ``encoder_storage`` and ``decision_storage``."""
        layer_storage = list(accelerator.layer_storage)
        if len(layer_storage) != len(self.layers):
            raise ValueError(f"the accelerator reports storage for {len(layer_storage)} layers, the "
                             f"configuration has {len(self.layers)}")
        for index, (layer, component) in enumerate(zip(self.layers, accelerator.layers)):
            built = component.memory.depth * component.memory.data_width
            if built != layer.memory_bits:
                raise ValueError(f"layer {index}: the accelerator's synapse memory has {built} bits, "
                                 f"the configuration {layer.memory_bits}")
        layers = tuple(replace(layer, storage=dict(s)) for layer, s in zip(self.layers, layer_storage))
        return replace(self, layers=layers, encoder_storage=dict(accelerator.encoder_storage),
                       decision_storage=dict(accelerator.decision_storage))

    @property
    def groups(self):
        return contract.groups(self.n_inputs, self.encoder_lanes)

    @property
    def schedule(self):
        """``((W, A), ...)`` per layer."""
        return tuple((layer.window, layer.adders) for layer in self.layers)

    def with_schedule(self, schedule):
        """This configuration with a per-layer ``((W, A), ...)`` schedule
        (:func:`spinaps.sim.schedule.schedule_of`), storage modelled by
        :meth:`LayerConfig.with_window`."""
        schedule = tuple(schedule)
        if len(schedule) != len(self.layers):
            raise ValueError(f"the schedule has {len(schedule)} layers, the configuration {len(self.layers)}")
        encoder = self.encoder_storage
        first = self.layers[0]
        if encoder is not None and first.window == 1 and schedule[0][0] > 1:
            # The encoder gives its groups to window events (hdl/window_events.py, two banks),
            # which keep the input history in its place.
            encoder = {k: v for k, v in encoder.items() if k != "history"}
            per_word = contract.encoder_groups_per_word(self.encoder_type, first.n_in, self.encoder_lanes,
                                                        schedule[0][0])
            encoder.update(window_events_storage(first.n_in, self.encoder_lanes * per_word, schedule[0][0], first.tau))
        return replace(self, encoder_storage=encoder,
                       layers=tuple(layer.with_window(w, a, producer_lanes=self.layers[index - 1].lanes if index else None)
                                    for index, (layer, (w, a)) in enumerate(zip(self.layers, schedule))))

    @property
    def memory_bits(self):
        return sum(layer.memory_bits for layer in self.layers)

    def stored_bits(self):
        """``{kind: bits}`` over the encoder and every layer, synapse memories left out."""
        if self.encoder_storage is None:
            raise ValueError("this configuration has no storage: build it with Config.from_artifact "
                             "(or Config.with_storage) before estimating")
        total = {**_by_kind(self.encoder_storage, "encoder"), "state": 0}
        for kind, bits in _by_kind(self.decision_storage or {}, "decision unit").items():
            total[kind] += bits
        for layer in self.layers:
            for kind, bits in layer.stored_bits().items():
                total[kind] += bits
        return total

    @property
    def ff_bits(self):
        """Flip-flops the components report (clocked every cycle)."""
        return self.stored_bits()["ff"]

    @property
    def lutram_bits(self):
        """LUT-RAM bits the components report: step sums and LIF state (potentials, refractory counters)."""
        return self.stored_bits()["lutram"]

    @property
    def other_memory_bits(self):
        """Block RAM besides the synapse memories (sigmoid tables, the encoder's sample buffer and spike history)."""
        return self.stored_bits()["bram"]

    def adder_bits(self, devices):
        """Adder bits of the datapath: accumulate lanes, neuron-update lanes, encoder lanes (a
        generator and an 8-bit compare each, or one 8-bit accumulate-and-fire adder)."""
        lg = devices["logic"]
        bits = self.encoder_lanes * (self._draw_bits(devices) + 8)
        for layer in self.layers:
            ops = _v(lg, "lif_update_adds") if layer.kind == "lif" else _v(lg, "glm_update_adds")
            bits += layer.lanes * (layer.adders * layer.acc_bits + ops * layer.update_bits)
        return bits

    def _draw_bits(self, devices):
        """Adder bits of one encoder draw: a xorshift32 step, or nothing when the encoder
        draws no random numbers (contract.encoder_draws)."""
        return _v(devices["logic"], "draw_adds") * 32 if contract.encoder_draws(self.encoder_type) else 0


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

    ``config`` must carry the components' storage (:meth:`Config.from_artifact`); ``cycles``
    (default ``activity.cycles``) is the measured cycle count with this memory.
    """
    if memory not in MEMORIES:
        raise ValueError(f"memory = {memory!r} is not one of {', '.join(MEMORIES)}")
    mem, sram, lg = devices["memories"][memory], devices["memories"]["sram"], devices["logic"]
    stored = config.stored_bits()
    cycles = activity.cycles if cycles is None else cycles
    latency = cycles / (_v(devices, "clock_mhz") * 1e6)
    e_add = _v(lg, "adder_energy_pj_per_bit") * PJ
    e_lut = (_v(lg, "lutram_read_energy_pj_per_bit") * PJ, _v(lg, "lutram_write_energy_pj_per_bit") * PJ)
    est = Estimate(memory=memory, latency_s=latency, cycles=cycles, sops=activity.total_sops)

    # A row read fetches Qn words of P lanes x b cells; padding lanes are read and added too.
    # Each word added into one step's sums is a read-add-write of one word of step sums (LUT
    # RAM): once per read in the time-sequential engine, once per non-zero step of the row in
    # the window engine (a read then feeds several steps). Speculative work after the decision
    # (window engine: the rest of the decision window and any later window started) counts too.
    layers = config.layers
    drop_reads, drop_sops = activity.discarded(len(layers))
    word_reads = [r + d for r, d in zip(activity.layer_reads(layers), drop_reads)]
    word_adds = [(s + d) / layer.n_out * layer.words for s, d, layer in zip(activity.sops, drop_sops, layers)]
    bits_read = sum(w * layer.lanes * layer.weight_bits for w, layer in zip(word_reads, layers))
    lane_adds = sum(w * layer.sum_word_bits for w, layer in zip(word_adds, layers))
    est.energy_j["synapse_read"] = bits_read * _v(mem, "read_energy_pj_per_bit") * PJ
    est.energy_j["accumulate"] = lane_adds * (e_add + e_lut[0] + e_lut[1])
    # Every step, the update reads each word of step sums once, and reads and writes back each
    # word of the neuron state (LIF potentials and refractory counters). The window engine
    # updates whole windows: up to the end of the decision step's window.
    neuron = 0.0
    update_steps = activity.layer_update_steps(len(layers))
    for layer, steps in zip(layers, update_steps):
        ops = _v(lg, "lif_update_adds") if layer.kind == "lif" else _v(lg, "glm_update_adds")
        draws = 0 if layer.kind == "lif" else _v(lg, "draw_adds") * 32
        lut = layer.words * layer.sum_word_bits * e_lut[0] + layer.stored_bits()["state"] * (e_lut[0] + e_lut[1])
        neuron += steps * (layer.n_out * (ops * layer.update_bits + draws) * e_add + lut)
    est.energy_j["neuron_update"] = neuron
    # Encoder: every generator draws once per group and step (none for the deterministic
    # encoder); every input is compared or accumulated (8 bits); whole windows of layer 0.
    est.energy_j["encoder"] = update_steps[0] * (config.groups * config.encoder_lanes * config._draw_bits(devices)
                                                + config.n_inputs * 8) * e_add
    est.energy_j["clock"] = stored["ff"] * cycles * _v(lg, "ff_clock_energy_pj_per_bit") * PJ

    f2_um2 = (_v(devices, "technology_node_nm") * 1e-3) ** 2

    def cells_mm2(bits, table):
        return bits * _v(table, "cell_area_f2") * f2_um2 / _v(table, "array_efficiency") * UM2_TO_MM2

    est.area_mm2["synapse_memory"] = cells_mm2(config.memory_bits, mem)
    # Other block RAM (sigmoid tables, sample buffer) is SRAM whichever the synapses are.
    est.area_mm2["other_memory"] = cells_mm2(stored["bram"], sram)
    logic_um2 = (stored["ff"] * _v(lg, "ff_area_um2") + stored["lutram"] * _v(lg, "lutram_area_um2_per_bit")
                 + config.adder_bits(devices) * _v(lg, "adder_area_um2_per_bit"))
    est.area_mm2["logic"] = logic_um2 * UM2_TO_MM2
    est.energy_j["leakage"] = (config.memory_bits * _v(mem, "leakage_nw_per_bit")
                               + stored["bram"] * _v(sram, "leakage_nw_per_bit")
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
            table = scaled(devices, path, f)
            ratios[str(f)] = _ratio(config, activity, table,
                                    _cycles_for(table, cycles, measured_latency, len(config.layers)))
        swing = max(abs(math.log2(r / base)) for r in ratios.values())
        rows.append({"parameter": ".".join(path), "ratio": ratios, "swing_log2": swing})
    rows.sort(key=lambda r: -r["swing_log2"])
    return base, rows


def compare(config, activity_by_memory, devices, measured_latency=None):
    """Both memories for one network: rows per memory, the ratio and its sensitivity.

    ``activity_by_memory`` maps memory -> :class:`Activity` (same samples; only cycles may
    differ); ``measured_latency`` maps memory -> the read latency in cycles the RTL ran with
    (default: :func:`~spinaps.sim.devices.read_latency_cycles` of ``devices``).
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
