"""Bernoulli rate encoder that emits the addresses of active inputs (docs/semantics.md 3-4)."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from spinaps import contract

from .layouts import event_layout
from .priority import any_of, lowest_one, one_of
from .xorshift import XorshiftBank

__all__ = ["BernoulliEncoder"]


class BernoulliEncoder(wiring.Component):
    """Sample buffer, ``lanes`` parallel Bernoulli comparators and a priority emitter.

    Load: ``sample`` accepts the ``frames * n_inputs`` 8-bit intensities of one sample,
    frame after frame, each in index order (``loaded`` rises after the last one; it only
    accepts while not running). Step ``t`` compares against frame ``min(t, frames) - 1``. Run: a
    ``start`` pulse (with ``seed``) loads the generators and runs ``t_max`` time steps. Each
    step scans the inputs ``lanes`` at a time: one draw per generator per group, spike if
    ``draw >> 24 < intensity``, history ``h = (h << 1 | x) & (2**tau - 1)``, and emits one
    ``events`` beat per input whose history is non-zero (ascending index, with ``hist``),
    then one beat with ``eos`` set.

    Work follows spikes: a group costs ``max(1, active inputs in it)`` cycles, so a step
    costs about ``max(events, groups) + 1`` cycles at full throughput.

    Latency: the first event of a run leaves 3 cycles after ``start`` (group fetch, spike
    compare, then the emitter).
    Backpressure: ``events`` is a valid/ready stream; a stall holds the emitter, the
    fetch pipeline and the generators, nothing is lost or drawn twice.

    After elaboration, ``internals`` names the generators' ``draw`` values and their
    ``advance`` (a cycle that consumes one draw per lane) for the formal proof
    (tests/formal); nothing is added to the design.

    Parameters
    ----------
    n_inputs : int
        Inputs per sample (``contract.RANGES["n_inputs"]``).
    lanes : int
        Comparators and generators working in parallel (:func:`contract.check_encoder_lanes`).
    tau : int
        History window in steps (``contract.RANGES["tau"]``).
    t_max : int
        Time steps per inference (``contract.RANGES["t_max"]``).
    frames : int
        Frames of ``n_inputs`` intensities per sample (``contract.RANGES["frames"]``; time
        series: one per step).
    base_seeds : list of int
        One 32-bit generator seed per lane (docs/semantics.md section 2).
    """

    def __init__(self, *, n_inputs, lanes, tau, t_max, base_seeds, frames=1):
        contract.check("n_inputs", n_inputs)
        contract.check_encoder_lanes(n_inputs, lanes, field="lanes")
        contract.check("tau", tau)
        contract.check("t_max", t_max)
        contract.check("frames", frames)
        if len(base_seeds) != lanes:
            raise ValueError(f"base_seeds has {len(base_seeds)} entries; need one per lane ({lanes})")
        self.n_inputs, self.lanes, self.tau, self.t_max, self.frames = n_inputs, lanes, tau, t_max, frames
        self.groups = contract.groups(n_inputs, lanes)
        self._bank = XorshiftBank(base_seeds)
        super().__init__({
            "sample": In(stream.Signature(8)),
            "loaded": Out(1),
            "seed": In(contract.SEED_BITS),
            "start": In(1),
            "events": Out(stream.Signature(event_layout(n_inputs, tau))),
            "running": Out(1),
        })

    @property
    def storage(self):
        """Storage of the encoder, ``{name: (kind, bits)}`` as the layers' ``storage``:

        * ``samples``: the sample buffer, ``groups * frames`` words of ``8 * lanes`` bits
          (one byte lane per input, padding included), synchronous read (``"bram"``);
        * ``history``: ``tau - 1`` past spikes per input slot, ``groups`` words of
          ``lanes * (tau - 1)`` bits, synchronous read (``"bram"``); absent when ``tau = 1``;
        * ``generators``: the lanes' xorshift32 states, 32 flip-flops per lane.

        The fetch pipeline and the emitter (one group in flight) are not counted.
        """
        out = {"samples": ("bram", 8 * self.lanes * self.groups * self.frames)}
        if self.tau > 1:
            out["history"] = ("bram", self.lanes * (self.tau - 1) * self.groups)
        out.update(self._bank.storage)
        return out

    def elaborate(self, platform):
        m = Module()
        G, Q, tau = self.lanes, self.groups, self.tau
        m.submodules.bank = bank = self._bank

        # --- sample buffer: one word per group and frame, one byte lane per input ----------
        F = self.frames
        m.submodules.samples = samples = memory.Memory(shape=8 * G, depth=Q * F, init=[])
        wr = samples.write_port(granularity=8)
        rd = samples.read_port()
        load_word = Signal(range(Q * F))
        load_lane = Signal(range(G))
        load_frame = Signal(range(F))
        frame_base = Signal(range(Q * F))         # first word of the current step's frame
        running = Signal()
        m.d.comb += [
            self.sample.ready.eq(~running & ~self.loaded),
            wr.addr.eq(load_word),
            wr.data.eq(self.sample.payload.replicate(G)),
            self.running.eq(running),
        ]
        with m.If(self.sample.valid & self.sample.ready):
            m.d.comb += wr.en.eq(Const(1, G) << load_lane)
            with m.If((load_word == load_frame * Q + Q - 1) & (load_lane == (self.n_inputs - 1) % G)):
                with m.If(load_frame == F - 1):
                    m.d.sync += [self.loaded.eq(1), load_word.eq(0), load_lane.eq(0), load_frame.eq(0)]
                with m.Else():
                    m.d.sync += [load_word.eq(load_word + 1), load_lane.eq(0), load_frame.eq(load_frame + 1)]
            with m.Elif(load_lane == G - 1):
                m.d.sync += [load_word.eq(load_word + 1), load_lane.eq(0)]
            with m.Else():
                m.d.sync += load_lane.eq(load_lane + 1)

        # --- history: tau-1 past bits per input (none when tau = 1) ----------------------
        old_hist = [Const(0, max(tau - 1, 1)) for _ in range(G)]
        if tau > 1:
            m.submodules.history = history = memory.Memory(shape=G * (tau - 1), depth=Q, init=[])
            hwr = history.write_port()
            # Transparent: with a single group the next read is the word written this cycle.
            hrd = history.read_port(transparent_for=(hwr,))

        # --- fetch pipeline: s1, the read port holds group `s1_group`'s word and the draws
        # are compared; s2, the group's spikes and past history bits, registered ------------
        step = Signal(range(self.t_max + 2), init=1)
        s1_valid = Signal()
        s1_group = Signal(range(Q))
        s1_base = Signal(range(Q * G))
        s2_valid = Signal()
        s2_base = Signal(range(Q * G))
        s2_last = Signal()                        # the last group of a step

        # --- emitter: active lanes of the last loaded group --------------------------------
        mask = Signal(G)
        hist = Signal(G * tau)
        base = Signal(range(Q * G))
        eos_pending = Signal()

        # The lowest active lane in logarithmic depth (an if-chain would be G muxes deep).
        first, lowest, hist_lowest = lowest_one(m, [mask[g] for g in range(G)],
                                                [hist[g * tau:(g + 1) * tau] for g in range(G)], name="active")
        # `m_empty` (mask == 0) and `m_single` (one bit set) are kept in registers next to
        # `mask`: whether the emitter is free decides `take`, which enables the generators
        # and the whole fetch stage, so it must not wait for the lowest-one carry chain.
        m_empty = Signal(init=1)
        m_single = Signal()
        ev = self.events
        m.d.comb += [
            ev.valid.eq(~m_empty | eos_pending),
            ev.payload.eos.eq(m_empty),
            ev.payload.index.eq(base + lowest),
            ev.payload.hist.eq(hist_lowest),
        ]
        fire = Signal()
        m.d.comb += fire.eq(ev.valid & ev.ready)
        # Free when the mask is empty after this cycle and no end-of-step beat is left.
        emitter_free = Signal()
        m.d.comb += emitter_free.eq(m_empty & (~eos_pending | fire) | m_single & fire & ~eos_pending)
        with m.If(fire & ~m_empty):
            mask_after = mask & ~first
            m.d.sync += [mask.eq(mask_after), m_empty.eq(m_single),
                         m_single.eq(one_of([mask_after[g] for g in range(G)]))]
        with m.If(fire & m_empty):
            m.d.sync += eos_pending.eq(0)

        # --- load a group into the emitter ---------------------------------------------------
        # Per-lane signals rather than slices of one vector, for simulation speed: a
        # simulator re-evaluates every reader of a vector whenever any slice changes.
        # s1 ends at the spike compares (draw, sample byte) and s2 starts from registers, so
        # the compares and the emitter's load (active lanes, their count) never share a clock
        # period (together they were the longest path on the iCE40, nextpnr).
        new_hist = []
        active = []
        s2_load = []                              # (s2 register, its s1 value)
        hist_write = []                           # the tau-1 newest bits, back to the history
        first_step = step == 1
        for g in range(G):
            byte = rd.data[8 * g:8 * (g + 1)]
            spike = Signal(name=f"spike{g}")
            m.d.comb += spike.eq((bank.draw[g][contract.DRAW_SHIFT["encoder"]:] < byte) &
                                 ((s1_base + g) < self.n_inputs))
            s2_spike = Signal(name=f"s2_spike{g}")
            s2_load.append((s2_spike, spike))
            h = Signal(tau, name=f"new_hist{g}")
            if tau > 1:
                past = Signal(tau - 1, name=f"past{g}")
                m.d.comb += past.eq(Mux(first_step, 0, hrd.data[g * (tau - 1):(g + 1) * (tau - 1)]))
                s2_past = Signal(tau - 1, name=f"s2_past{g}")
                s2_load.append((s2_past, past))
                hist_write.append(Cat(spike, past)[:tau - 1])
                m.d.comb += h.eq(Cat(s2_spike, s2_past))
            else:
                m.d.comb += h.eq(s2_spike)
            a = Signal(name=f"active{g}")
            m.d.comb += a.eq(h != 0)
            new_hist.append(h)
            active.append(a)

        take2 = Signal()                          # s2 -> emitter
        m.d.comb += take2.eq(s2_valid & emitter_free)
        take = Signal()                           # s1 -> s2: draw, fetch the next group
        m.d.comb += take.eq(s1_valid & (~s2_valid | emitter_free))
        last_group = s1_group == Q - 1
        more = ~(last_group & (step == self.t_max))
        next_group = Mux(last_group, 0, s1_group + 1)
        # The next step moves to the next frame until the last one, which then holds.
        next_base = Mux(last_group & (step < F), frame_base + Q, frame_base) if F > 1 else 0
        m.d.comb += [rd.addr.eq(next_base + next_group), rd.en.eq(take)]
        if tau > 1:
            m.d.comb += [
                hrd.addr.eq(next_group), hrd.en.eq(take),
                hwr.addr.eq(s1_group), hwr.en.eq(take),
                hwr.data.eq(Cat(*hist_write)),
            ]
        with m.If(take2):
            m.d.sync += [
                mask.eq(Cat(*active)), m_empty.eq(~any_of(active)), m_single.eq(one_of(active)),
                hist.eq(Cat(*new_hist)), base.eq(s2_base), s2_valid.eq(0),
            ]
            with m.If(s2_last):
                m.d.sync += eos_pending.eq(1)
        with m.If(take):
            m.d.comb += bank.advance.eq(1)
            m.d.sync += [
                s2_valid.eq(1), s2_base.eq(s1_base), s2_last.eq(last_group),
                s1_group.eq(next_group), s1_base.eq(Mux(last_group, 0, s1_base + G)),
                s1_valid.eq(more),
            ]
            m.d.sync += [reg.eq(value) for reg, value in s2_load]
            with m.If(last_group):
                m.d.sync += step.eq(step + 1)
                if F > 1:
                    m.d.sync += frame_base.eq(next_base)
                with m.If(~more):
                    m.d.sync += running.eq(0)

        # --- start: load the generators, fetch group 0 of step 1 -----------------------------
        m.d.comb += [bank.seed.eq(self.seed), bank.load.eq(self.start)]
        with m.If(self.start):
            m.d.comb += [rd.addr.eq(0), rd.en.eq(1)]
            if tau > 1:
                m.d.comb += [hrd.addr.eq(0), hrd.en.eq(1)]
            m.d.sync += [
                running.eq(1), s1_valid.eq(1), s1_group.eq(0), s1_base.eq(0), step.eq(1), frame_base.eq(0),
                s2_valid.eq(0),
                mask.eq(0), m_empty.eq(1), m_single.eq(0), eos_pending.eq(0), self.loaded.eq(0),
            ]
        self.internals = {"draw": bank.draw, "advance": bank.advance}
        return m
