"""End-to-end harness with a run-time weight load: the weights stream driven through the top.

:class:`LoadingAccelerator` wraps an :class:`~spinaps.hdl.accelerator.Accelerator`: a ROM
holds a write sequence (layer, address, word beats), a xorshift generator stalls its
``valid``, and the ``sample`` stream is held off until every beat is accepted and every
synapse memory is idle again (writes happen between inferences only). It then snapshots each
layer's write counters. It offers the accelerator's interface (``sample``, ``result``,
probes, ``layers``, ``t_max``, ``encoder``), so :class:`~spinaps.sim.harness.EndToEndHarness`
drives it unchanged; :class:`FaultsHarness` is that harness plus the counters as top ports.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from spinaps.hdl.layouts import pack
from spinaps.hdl.synapse_memory import COUNTER_WIDTH
from spinaps.hdl.xorshift import xorshift32_next

from spinaps.sw.write_faults import WRITE_COUNTERS

from .harness import EndToEndHarness

__all__ = ["LoadingAccelerator", "FaultsHarness"]


class LoadingAccelerator(wiring.Component):
    """``accelerator`` preceded by a hardware-driven load of ``writes``.

    Parameters
    ----------
    accelerator : Accelerator
    writes : list of (layer, addr, word)
        The beats of the ``weights`` stream, in order.
    valid_prob : float
        Probability per cycle that the loader offers a beat (1.0: never stalls).
    stall_seed : int
        Seed of the loader's stall generator.
    """

    def __init__(self, accelerator, writes, *, valid_prob=1.0, stall_seed=0x3C6EF372):
        if not 0.0 < valid_prob <= 1.0:
            raise ValueError("valid_prob must be in (0, 1]")
        if not writes:
            raise ValueError("writes is empty: give at least one (layer, addr, word) beat")
        self.acc = accelerator
        self.layers, self.t_max, self.encoder = accelerator.layers, accelerator.t_max, accelerator.encoder
        layout = accelerator.weights.payload.shape()
        self.beats = [pack(layout, dict(layer=l, addr=a, data=w)) for l, a, w in writes]
        self.width = layout.size
        self.valid_thr = round(valid_prob * 256)
        self.stall_seed = stall_seed | 1
        sig = accelerator.signature.members
        ports = {"sample": sig["sample"], "result": sig["result"], "loaded": Out(1)}
        for index in range(len(self.layers)):
            ports[f"probe{index}"] = sig[f"probe{index}"]
            ports[f"probe{index}_valid"] = sig[f"probe{index}_valid"]
            for name in WRITE_COUNTERS:
                ports[f"{name}{index}"] = Out(COUNTER_WIDTH)
        super().__init__(ports)

    def probe(self, index):
        return getattr(self, f"probe{index}"), getattr(self, f"probe{index}_valid")

    def elaborate(self, platform):
        m = Module()
        m.submodules.acc = acc = self.acc
        m.submodules.rom = rom = memory.Memory(shape=self.width, depth=len(self.beats), init=self.beats)
        rnd = Signal(32, init=self.stall_seed)
        m.d.sync += rnd.eq(xorshift32_next(m, rnd, "load_rnd"))

        # Weights stream with valid stalls (valid, once high, stays until taken).
        ptr = Signal(range(len(self.beats) + 1))
        rd = rom.read_port(domain="comb")
        offer = rnd[0:8] < self.valid_thr
        valid = Signal()
        m.d.comb += [rd.addr.eq(ptr), acc.weights.valid.eq(valid), acc.weights.payload.eq(rd.data)]
        with m.If(valid & acc.weights.ready):
            m.d.sync += [ptr.eq(ptr + 1), valid.eq((ptr + 1 < len(self.beats)) & offer)]
        with m.Elif(~valid):
            m.d.sync += valid.eq((ptr < len(self.beats)) & offer)

        # Loaded: every beat taken and every memory idle; then the counters are final.
        done = Signal()
        idle = [layer.memory.wr_ready for layer in self.layers]
        m.d.comb += done.eq((ptr == len(self.beats)) & ~valid)
        for flag in idle:
            done = done & flag
        with m.If(done & ~self.loaded):
            m.d.sync += self.loaded.eq(1)
            for index, layer in enumerate(self.layers):
                for name in WRITE_COUNTERS:
                    m.d.sync += getattr(self, f"{name}{index}").eq(getattr(layer.memory, name, 0))

        m.d.comb += [
            acc.sample.valid.eq(self.sample.valid & self.loaded),
            acc.sample.payload.eq(self.sample.payload),
            self.sample.ready.eq(acc.sample.ready & self.loaded),
        ]
        wiring.connect(m, acc.result, wiring.flipped(self.result))
        for index in range(len(self.layers)):
            probe, valid_ = acc.probe(index)
            mine, mine_valid = self.probe(index)
            m.d.comb += [mine.eq(probe), mine_valid.eq(valid_)]
        return m


class FaultsHarness(wiring.Component):
    """:class:`EndToEndHarness` around a :class:`LoadingAccelerator`, with the same ports
    (so the end-to-end cocotb test reads it unchanged) plus ``loaded`` and, per layer, the
    write counters ``writes{l}``, ``write_errors{l}``, ``retries{l}``, ``write_cycles{l}``."""

    def __init__(self, loading, beats, n_samples, **harness_options):
        self.loading = loading
        self.inner = EndToEndHarness(loading, beats, n_samples, **harness_options)
        ports = dict(self.inner.signature.members)
        ports["loaded"] = Out(1)
        for index in range(len(loading.layers)):
            for name in WRITE_COUNTERS:
                ports[f"{name}{index}"] = Out(COUNTER_WIDTH)
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        m.submodules.harness = inner = self.inner
        for name, member in inner.signature.members.items():
            if member.flow == In:
                m.d.comb += getattr(inner, name).eq(getattr(self, name))
            else:
                m.d.comb += getattr(self, name).eq(getattr(inner, name))
        m.d.comb += self.loaded.eq(self.loading.loaded)
        for index in range(len(self.loading.layers)):
            for name in WRITE_COUNTERS:
                port = f"{name}{index}"
                m.d.comb += getattr(self, port).eq(getattr(self.loading, port))
        return m
