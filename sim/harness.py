"""End-to-end harness: the accelerator with its stimulus and capture in hardware.

The whole test runs inside the simulator at full speed, with no Python work per cycle:
a ROM holds every sample's bytes, xorshift generators decide per cycle whether the
``sample`` stream offers data (valid stalls) and whether ``result`` is taken (ready
stalls), and capture memories record every result and every output-layer probe beat.
After ``done``, the testbench reads the captures through ``rd_addr``.

Long runs (a whole test split, the soak) give a capacity instead of the bytes: the stimulus
ROM is then a small Verilog module that loads ``BEATS_FILE`` (hex, one byte a line, in the
simulation's folder) with ``$readmemh`` at time zero, and the number of samples and bytes and
the stall thresholds are input ports the testbench drives. The compiled model then depends
on the network and the capacity only: one Verilator build serves every batch of a split,
any stall probability and any data (a ROM of every byte in the Verilog would also make a
split of 7.8 million bytes uncompilable).
"""

from amaranth.hdl import Cat, Instance, Module, Signal
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from spinaps.hdl.layouts import bits_for
from spinaps.hdl.xorshift import xorshift32_next

__all__ = ["EndToEndHarness", "BEATS_FILE", "STALL_THRESHOLD_ONE", "stall_threshold"]

#: The stimulus file a file-fed harness reads (relative to the simulation's folder).
BEATS_FILE = "spinaps_beats.hex"
#: A stall generator compares 8 random bits with its threshold: 256 never stalls.
STALL_THRESHOLD_ONE = 256


def stall_threshold(prob):
    """The 0..256 threshold of an offer/take probability in (0, 1]."""
    if not 0.0 < prob <= 1.0:
        raise ValueError("valid_prob and ready_prob must be in (0, 1]")
    return round(prob * STALL_THRESHOLD_ONE)


# $readmemh of the file named above; combinational read like the ROM it replaces.
_BEAT_ROM = f"""
module spinaps_beat_rom #(parameter DEPTH = 1, parameter AW = 1) (input [AW-1:0] addr, output [7:0] data);
  reg [7:0] mem [0:DEPTH-1];
  initial $readmemh("{BEATS_FILE}", mem);
  assign data = mem[addr];
endmodule
"""


class EndToEndHarness(wiring.Component):
    """Drive ``accelerator`` with ``beats`` and capture what comes back.

    Parameters
    ----------
    accelerator : spinaps.hdl.accelerator.Accelerator
    beats : list of int, or int
        The ``sample`` stream bytes of all samples (``spinaps.sim.compare.sample_beats``); or
        the capacity in bytes of a file-fed harness (bytes from ``BEATS_FILE``, see above).
    n_samples : int
        The samples run; for a file-fed harness the capacity in samples (ports ``run_samples``
        and ``run_beats`` say how many the run has).
    valid_prob, ready_prob : float
        Probability per cycle that the harness offers a beat / takes a result (1.0: never
        stall); a file-fed harness takes them at run time (ports ``valid_thr``/``ready_thr``,
        :func:`stall_threshold`).
    probe_depth : int
        Probe beats each layer's capture memory holds (``n_samples * t_max * words`` always
        fits: a layer updates at most ``t_max`` steps per sample, speculative ones included).
    stall_seed : int
        Seed of the stall generators.
    """

    def __init__(self, accelerator, beats, n_samples, *, valid_prob=1.0, ready_prob=1.0,
                 probe_depth=None, stall_seed=0x2545F491):
        self.from_file = isinstance(beats, int)
        self.acc, self.n_samples = accelerator, n_samples
        self.beats = None if self.from_file else list(beats)
        self.n_beats = beats if self.from_file else len(self.beats)
        if self.n_beats < 1 or n_samples < 1:
            raise ValueError(f"a harness needs at least one sample and one byte ({n_samples}, {self.n_beats})")
        valid_thr, ready_thr = stall_threshold(valid_prob), stall_threshold(ready_prob)
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
        if self.from_file:
            ports.update(run_samples=In(32), run_beats=In(32), valid_thr=In(9), ready_thr=In(9))
        super().__init__(ports)
        if not self.from_file:      # constants; ports of the same name on a file-fed harness
            self.valid_thr, self.ready_thr = valid_thr, ready_thr

    @property
    def verilog_library(self):
        """Verilog modules the harness instantiates (appended to its generated Verilog)."""
        return _BEAT_ROM if self.from_file else ""

    def _stimulus_rom(self, m, ptr):
        """The byte at ``ptr``: a memory initialised with the bytes, or the file-fed ROM."""
        if not self.from_file:
            m.submodules.stim = stim = memory.Memory(shape=8, depth=self.n_beats, init=self.beats)
            rd = stim.read_port(domain="comb")
            m.d.comb += rd.addr.eq(ptr)
            return rd.data
        data = Signal(8)
        m.submodules.stim = Instance("spinaps_beat_rom", p_DEPTH=self.n_beats, p_AW=len(ptr),
                                     i_addr=ptr, o_data=data)
        return data

    def elaborate(self, platform):
        m = Module()
        m.submodules.acc = acc = self.acc
        m.submodules.res_mem = res_mem = memory.Memory(shape=self.result_width, depth=self.n_samples, init=[])

        rnd = Signal(32, init=self.stall_seed)
        m.d.sync += rnd.eq(xorshift32_next(m, rnd, "stall_rnd"))

        # --- sample stream with valid stalls (valid, once high, stays until taken) -----------
        ptr = Signal(range(self.n_beats + 1))
        n_beats = self.n_beats if not self.from_file else self.run_beats
        offer = rnd[0:8] < self.valid_thr
        valid = Signal()
        m.d.comb += [acc.sample.valid.eq(valid), acc.sample.payload.eq(self._stimulus_rom(m, ptr))]
        with m.If(valid & acc.sample.ready):
            m.d.sync += [ptr.eq(ptr + 1), valid.eq((ptr + 1 < n_beats) & offer)]
        with m.Elif(~valid):
            m.d.sync += valid.eq((ptr < n_beats) & offer)

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

        n_samples = self.n_samples if not self.from_file else self.run_samples
        m.d.comb += self.done.eq(self.results == n_samples)
        with m.If(~self.done):
            m.d.sync += self.cycles.eq(self.cycles + 1)

        rr = res_mem.read_port(domain="comb")
        m.d.comb += [rr.addr.eq(self.rd_addr), self.rd_result.eq(rr.data)]
        return m
