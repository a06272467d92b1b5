"""End-to-end harness: the accelerator with its stimulus and capture in hardware.

The whole test runs inside the simulator at full speed, with no Python work per cycle:
a ROM holds every sample's bytes, xorshift generators decide per cycle whether the
``sample`` stream offers data (valid stalls) and whether ``result`` is taken (ready
stalls), and capture memories record every result and every output-layer probe beat.
After ``done``, the testbench reads the captures through ``rd_addr``.
"""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from spinaps.hdl.layouts import bits_for
from spinaps.hdl.xorshift import xorshift32_next

__all__ = ["EndToEndHarness"]


class EndToEndHarness(wiring.Component):
    """Drive ``accelerator`` with ``beats`` and capture what comes back.

    Parameters
    ----------
    accelerator : spinaps.hdl.accelerator.Accelerator
    beats : list of int
        The ``sample`` stream bytes of all samples (``spinaps.sim.compare.sample_beats``).
    n_samples : int
    valid_prob, ready_prob : float
        Probability per cycle that the harness offers a beat / takes a result (1.0: never stall).
    probe_depth : int
        Probe beats each layer's capture memory holds (``n_samples * t_max * words`` always
        fits: a layer updates at most ``t_max`` steps per sample, speculative ones included).
    stall_seed : int
        Seed of the stall generators.
    """

    def __init__(self, accelerator, beats, n_samples, *, valid_prob=1.0, ready_prob=1.0,
                 probe_depth=None, stall_seed=0x2545F491):
        self.acc, self.beats, self.n_samples = accelerator, list(beats), n_samples
        if not 0.0 < valid_prob <= 1.0 or not 0.0 < ready_prob <= 1.0:
            raise ValueError("valid_prob and ready_prob must be in (0, 1]")
        self.valid_thr = round(valid_prob * 256)
        self.ready_thr = round(ready_prob * 256)
        self.stall_seed = stall_seed | 1
        self.n_layers = len(accelerator.layers)
        self.probe_depths = [probe_depth or n_samples * accelerator.t_max * layer.words
                             for layer in accelerator.layers]
        self.result_width = accelerator.result.payload.shape().size
        self.probe_widths = [bits_for(n_samples) + accelerator.probe(index)[0].shape().size
                             for index in range(self.n_layers)]
        depth = max(n_samples, *self.probe_depths)
        ports = {
            "done": Out(1),
            "cycles": Out(32),
            "results": Out(32),
            "probe_overflow": Out(1),
            "rd_addr": In(bits_for(depth)),
            "rd_result": Out(self.result_width),
        }
        for index, width in enumerate(self.probe_widths):
            ports[f"probes{index}"] = Out(32)
            ports[f"rd_probe{index}"] = Out(width)
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        m.submodules.acc = acc = self.acc
        m.submodules.stim = stim = memory.Memory(shape=8, depth=len(self.beats), init=self.beats)
        m.submodules.res_mem = res_mem = memory.Memory(shape=self.result_width, depth=self.n_samples, init=[])

        rnd = Signal(32, init=self.stall_seed)
        m.d.sync += rnd.eq(xorshift32_next(m, rnd, "stall_rnd"))

        # --- sample stream with valid stalls (valid, once high, stays until taken) -----------
        ptr = Signal(range(len(self.beats) + 1))
        rd = stim.read_port(domain="comb")
        offer = rnd[0:8] < self.valid_thr
        valid = Signal()
        m.d.comb += [rd.addr.eq(ptr), acc.sample.valid.eq(valid), acc.sample.payload.eq(rd.data)]
        with m.If(valid & acc.sample.ready):
            m.d.sync += [ptr.eq(ptr + 1), valid.eq((ptr + 1 < len(self.beats)) & offer)]
        with m.Elif(~valid):
            m.d.sync += valid.eq((ptr < len(self.beats)) & offer)

        # --- results with ready stalls -----------------------------------------------------
        wr_res = res_mem.write_port()
        m.d.comb += [
            acc.result.ready.eq(rnd[8:16] < self.ready_thr),
            wr_res.addr.eq(self.results), wr_res.data.eq(acc.result.payload),
            wr_res.en.eq(acc.result.valid & acc.result.ready),
        ]
        with m.If(acc.result.valid & acc.result.ready):
            m.d.sync += self.results.eq(self.results + 1)

        # --- probe capture per layer, tagged with the sample index (= results taken so far) --
        overflow = []
        for index in range(self.n_layers):
            probe, valid = acc.probe(index)
            count = getattr(self, f"probes{index}")
            depth = self.probe_depths[index]
            mem = memory.Memory(shape=self.probe_widths[index], depth=depth, init=[])
            m.submodules[f"probe_mem{index}"] = mem
            wr_probe = mem.write_port()
            full = count == depth
            m.d.comb += [wr_probe.addr.eq(count), wr_probe.data.eq(Cat(probe.as_value(), self.results)),
                         wr_probe.en.eq(valid & ~full)]
            with m.If(valid):
                with m.If(full):
                    m.d.sync += self.probe_overflow.eq(1)
                with m.Else():
                    m.d.sync += count.eq(count + 1)
            rp = mem.read_port(domain="comb")
            m.d.comb += [rp.addr.eq(self.rd_addr), getattr(self, f"rd_probe{index}").eq(rp.data)]

        m.d.comb += self.done.eq(self.results == self.n_samples)
        with m.If(~self.done):
            m.d.sync += self.cycles.eq(self.cycles + 1)

        rr = res_mem.read_port(domain="comb")
        m.d.comb += [rr.addr.eq(self.rd_addr), self.rd_result.eq(rr.data)]
        return m
