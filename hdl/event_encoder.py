"""The encoders' shared datapath: sample buffer, input histories, group fetch and the priority
emitter of active inputs (docs/semantics.md 3, 4 and 8). What makes an input spike is the
subclass's: random draws (:class:`~spinaps.hdl.encoder.BernoulliEncoder`) or accumulators
(:class:`~spinaps.hdl.deterministic_encoder.DeterministicEncoder`)."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from spinaps import contract

from .layouts import event_layout, spike_word_layout
from .priority import count_is, lowest_select
from .synth_hints import KEEP, NO_RW_CHECK, registered_read, write_back_memory

__all__ = ["EventEncoder"]


class EventEncoder(wiring.Component):
    """Sample buffer, ``lanes`` spike decisions per cycle and a priority emitter.

    Load: ``sample`` accepts the ``frames * n_inputs`` 8-bit intensities of one sample,
    frame after frame, each in index order (``loaded`` rises after the last one; it only
    accepts while not running). Step ``t`` uses frame ``min(t, frames) - 1``. Run: a
    ``start`` pulse (with ``seed``) runs ``t_max`` time steps. Each step scans the inputs
    ``lanes`` at a time (a group); the subclass decides each lane's spike
    (:meth:`_lane_spike`); history ``h = (h << 1 | x) & (2**tau - 1)``; one ``events`` beat
    per input whose history is non-zero (ascending index, with ``hist``), then one beat
    with ``eos`` set.

    Work follows spikes: a group costs ``max(1, active inputs in it)`` cycles, so a step
    costs about ``max(events, groups) + 1`` cycles at full throughput.

    Latency: the first event of a run leaves 4 cycles after ``start`` (group fetch, spike
    decision, the emitter's selection, then its output register), and every beat one cycle
    after the emitter selects it: ``events`` comes straight from flip-flops.
    Backpressure: ``events`` is a valid/ready stream; the output register takes the next beat
    while it is empty or being taken, so a stall holds the output register, the emitter,
    the fetch pipeline and the subclass's state (:meth:`_on_take` runs once per group taken):
    nothing is lost, duplicated, reordered or computed twice, one beat per cycle while ready.

    With ``words_out`` (window mode, docs/semantics.md 8.1) there is no emitter: ``words``
    gives each group's spikes as one word per cycle (``word`` = group, ``last`` on a step's
    last group) to a :class:`~spinaps.hdl.window_events.WindowEvents`, so a step costs
    ``groups`` cycles whatever its spikes; the input history is the window events' (``tau``
    must be 1). With ``groups_per_word = 2`` a word holds two consecutive groups (``2 * lanes``
    spikes; the sample buffer has a second read port, each lane's spike source decides two
    inputs per cycle: :meth:`_lane_spike` with ``sub`` 1), ``ceil(groups / 2)`` cycles per step.

    Subclasses provide :meth:`_elaborate_lanes`, :meth:`_lane_spike`, :meth:`_fetch`,
    :meth:`_on_take`, :meth:`_start` and add their state to :attr:`storage`.

    Parameters
    ----------
    n_inputs : int
        Inputs per frame (``contract.RANGES["n_inputs"]``).
    lanes : int
        Inputs decided per cycle (:func:`contract.check_encoder_lanes`).
    tau : int
        History window in steps (``contract.RANGES["tau"]``).
    t_max : int
        Time steps per inference (``contract.RANGES["t_max"]``).
    frames : int
        Frames of ``n_inputs`` intensities per sample (``contract.RANGES["frames"]``; time
        series: one per step).
    words_out : bool
        Give the groups' spikes as words (``words``) instead of events (``events``).
    groups_per_word : int
        With ``words_out``: groups per word and cycle, 1 or 2 (:attr:`word_lanes` spikes per
        word, :attr:`words_per_step` words per step).
    """

    def __init__(self, *, n_inputs, lanes, tau, t_max, frames=1, words_out=False, groups_per_word=1):
        contract.check("n_inputs", n_inputs)
        contract.check_encoder_lanes(n_inputs, lanes, field="lanes")
        contract.check("tau", tau)
        contract.check("t_max", t_max)
        contract.check("frames", frames)
        self.n_inputs, self.lanes, self.tau, self.t_max, self.frames = n_inputs, lanes, tau, t_max, frames
        self.groups = contract.groups(n_inputs, lanes)
        if words_out and tau != 1:
            raise ValueError(f"tau = {tau}: an encoder that gives words keeps no history (tau must be 1)")
        self.words_out = words_out
        if groups_per_word not in (1, 2) or (groups_per_word == 2 and not words_out):
            raise ValueError(f"groups_per_word = {groups_per_word}: 1, or 2 with words_out (window mode)")
        self.groups_per_word = groups_per_word
        #: Spikes per ``words`` beat and beats per step.
        self.word_lanes = lanes * groups_per_word
        self.words_per_step = contract.ceil_div(self.groups, groups_per_word)
        out = (("words", Out(stream.Signature(spike_word_layout(self.word_lanes, self.words_per_step))))
               if words_out else
               ("events", Out(stream.Signature(event_layout(n_inputs, tau)))))
        super().__init__({
            "sample": In(stream.Signature(8)),
            "loaded": Out(1),
            "seed": In(contract.SEED_BITS),
            "start": In(1),
            out[0]: out[1],
            "running": Out(1),
        })

    @property
    def storage(self):
        """Storage of the shared datapath, ``{name: (kind, bits)}`` as the layers' ``storage``
        (subclasses add their own state):

        * ``samples``: the sample buffer, ``groups * frames`` words of ``8 * lanes`` bits
          (one byte lane per input, padding included), synchronous read (``"bram"``);
        * ``history``: ``tau - 1`` past spikes per input slot, ``groups`` words of
          ``lanes * (tau - 1)`` bits, synchronous read (``"bram"``); absent when ``tau = 1``.

        The fetch pipeline and the emitter (one group in flight) are not counted.
        """
        out = {"samples": ("bram", 8 * self.lanes * self.groups * self.frames)}
        if self.tau > 1:
            out["history"] = ("bram", self.lanes * (self.tau - 1) * self.groups)
        return out

    # --- what a subclass provides -------------------------------------------------------------

    def _elaborate_lanes(self, m):
        """Add the spike source's submodules and memories (first thing in elaborate)."""
        raise NotImplementedError

    def _lane_spike(self, m, g, byte, first_step, sub=0):
        """The spike of lane ``g`` of the group at the fetch stage (before the padding mask):
        a 1-bit expression of the lane's intensity ``byte`` (the sample buffer's read data)
        and ``first_step`` (the group belongs to step 1); ``sub`` 1: the word's second group
        (``groups_per_word = 2``), decided after the first."""
        raise NotImplementedError

    def _fetch(self, m, take, s1_group, next_group):
        """Comb: the fetch stage takes group ``s1_group`` when ``take``; the next one fetched is
        ``next_group`` (state read one cycle ahead, like the sample buffer)."""

    def _on_take(self, m, second):
        """Statements inside ``If(take)``: a word's decisions are consumed (``second``: a
        1-bit expression, the word holds a second group)."""

    def _start(self, m):
        """The ``start`` pulse (group 0 of step 1 is fetched in that cycle)."""

    # --- the shared datapath ----------------------------------------------------------------

    def elaborate(self, platform):
        m = Module()
        G, Q, tau = self.lanes, self.groups, self.tau
        self._elaborate_lanes(m)

        # --- sample buffer: one word per group and frame, one byte lane per input ----------
        F = self.frames
        D = self.groups_per_word
        # (one word more for an odd group count with two groups per word: the second read of
        # the last frame's last word stays in range; its bytes are masked by index)
        # Written only while not running, read only while running (or at `start`): no
        # read-during-write (NO_RW_CHECK).
        m.submodules.samples = samples = memory.Memory(shape=8 * G, depth=Q * F + (Q % D), init=[],
                                                       attrs=NO_RW_CHECK)
        wr = samples.write_port(granularity=8)
        rd = registered_read(m, samples, "samples_rd")
        # Two groups per word: the second group's bytes through a second read port.
        rd2 = registered_read(m, samples, "samples_rd2") if D == 2 else None
        QW = self.words_per_step
        load_word = Signal(range(Q * F))
        load_lane = Signal(G, init=1)             # one-hot: the write enables straight from it
        load_frame = Signal(range(F))
        frame_base = Signal(range(Q * F), reset_less=True)    # first word of the current step's frame
        running = Signal()
        m.d.comb += [
            self.sample.ready.eq(~running & ~self.loaded),
            wr.addr.eq(load_word),
            wr.data.eq(self.sample.payload.replicate(G)),
            self.running.eq(running),
        ]
        # Every load register takes a new value from registers alone on each beat: the beat's
        # handshake (through the accelerator's state) is then only their enable.
        frame_end = (load_word == load_frame * Q + Q - 1) & load_lane[(self.n_inputs - 1) % G]
        word_end = frame_end | load_lane[G - 1]
        beat = Signal(attrs=KEEP)                 # a sample byte is taken (one LUT before the writes)
        m.d.comb += beat.eq(self.sample.valid & self.sample.ready)
        last_beat = frame_end & (load_frame == F - 1)
        # (every cycle, not under `If`s: a function of the beat, without an enable)
        m.d.sync += self.loaded.eq(Mux(beat, last_beat, self.loaded))
        with m.If(beat):
            m.d.comb += wr.en.eq(load_lane)
            m.d.sync += [
                load_word.eq(Mux(last_beat, 0, load_word + word_end)),
                load_lane.eq(Mux(word_end, 1, load_lane.rotate_left(1))),
            ]
            if F > 1:
                m.d.sync += load_frame.eq(Mux(frame_end, Mux(load_frame == F - 1, 0, load_frame + 1), load_frame))

        # --- history: tau-1 past bits per input (none when tau = 1) ----------------------
        if tau > 1:
            _, hwr, hrd = write_back_memory(m, "history", G * (tau - 1), Q)

        # --- fetch pipeline: s1, the read port holds group `s1_group`'s word and the lanes'
        # spikes are decided; s2, the group's spikes and past history bits, registered ------
        # Data registers are reset_less: `start` sets them, or a valid flag guards them, and a
        # reset (the accelerator's core reset) would only add a term to their enables.
        step = Signal(range(self.t_max + 2), init=1, reset_less=True)
        s1_valid = Signal()
        s1_group = Signal(range(QW), reset_less=True)       # the group (word: with D = 2, groups 2w, 2w + 1)
        s1_base = Signal(range(QW * D * G), reset_less=True)
        s2_valid = Signal()
        s2_base = Signal(range(QW * D * G), reset_less=True)
        s2_last = Signal(reset_less=True)                   # the last group of a step
        s2_group = Signal(range(QW), reset_less=True)       # (words_out) the group in s2
        if self.words_out:
            # Window mode: the group's spikes leave as one word; s2 is free when it is taken.
            emitter_free = Signal()
            m.d.comb += emitter_free.eq(self.words.ready)
        else:
            # --- emitter: active lanes of the last loaded group --------------------------------
            mask = Signal(G)
            hist = Signal(G * tau, reset_less=True)
            base = Signal(range(Q * G), reset_less=True)
            eos_pending = Signal()

            # The lowest active lane in logarithmic depth (an if-chain would be G muxes deep):
            # its bit to clear (a carry chain) and, for the output register, its index and
            # history (select trees: no carry chain before them).
            mask_bits = [mask[g] for g in range(G)]
            lowest, hist_lowest, mask_rest = lowest_select(m, mask_bits, [hist[g * tau:(g + 1) * tau] for g in range(G)],
                                                           name="lowest")
            # `m_empty` (mask == 0) and `m_single` (one bit set) are kept in registers next to
            # `mask`: whether the emitter is free decides `take`, which enables the spike source
            # and the whole fetch stage, so it must not wait for the lowest-one carry chain.
            m_empty = Signal(init=1)
            m_single = Signal()
            # The selected beat goes to an output register: `events` comes straight from
            # flip-flops, so the consumer's logic (layer 0's event register) never adds up with
            # the lowest-one selection in one clock period (iCE40 at 48 MHz).
            ev = self.events
            out_free = Signal(attrs=KEEP)         # the output register takes a beat this cycle
            m.d.comb += out_free.eq(~ev.valid | ev.ready)
            fire = Signal()                       # the selected beat moves to the output register
            m.d.comb += fire.eq((~m_empty | eos_pending) & out_free)
            with m.If(out_free):
                m.d.sync += ev.valid.eq(~m_empty | eos_pending)
            with m.If(fire):
                m.d.sync += [ev.payload.eos.eq(m_empty), ev.payload.index.eq(self._group_index(base, lowest)),
                             ev.payload.hist.eq(hist_lowest)]
            # Free when the mask is empty after this cycle and no end-of-step beat is left.
            # (written as registers' terms and the output register's handshake: `take`, which
            # enables the fetch stage, is three LUTs from flip-flops: out_free, emitter_free,
            # take, each kept as a LUT output (KEEP), or ABC9 chains them deeper)
            emitter_free = Signal(attrs=KEEP)
            m.d.comb += emitter_free.eq(m_empty & ~eos_pending |
                                        out_free & (m_empty & eos_pending | m_single & ~eos_pending))
            # (outside the `If`: count_is adds comb signals, which an `If` would gate)
            two_left = count_is(m, mask_bits, 2, name="two_left")
            with m.If(fire & ~m_empty):
                # One bit left after this one iff two are set now: counted from the register,
                # not from the mask after the carry chain.
                m.d.sync += [mask.eq(mask_rest), m_empty.eq(m_single),
                             m_single.eq(two_left)]
            with m.If(fire & m_empty):
                m.d.sync += eos_pending.eq(0)

        # --- load a group into the emitter ---------------------------------------------------
        # Per-lane signals rather than slices of one vector, for simulation speed: a
        # simulator re-evaluates every reader of a vector whenever any slice changes.
        # s1 ends at the spike decisions (draw or accumulator, sample byte) and s2 starts from
        # registers, so the decisions and the emitter's load (active lanes, their count) never
        # share a clock period (together they were the longest path on the iCE40, nextpnr).
        new_hist = []
        active = []
        s2_load = []                              # (s2 register, its s1 value)
        s2_spikes = []
        hist_write = []                           # the tau-1 newest bits, back to the history
        first_step = Signal(init=1, reset_less=True)        # step == 1, as a register
        for g in range(G * D):
            sub, lane = divmod(g, G)
            byte = (rd2 if sub else rd).data[8 * lane:8 * (lane + 1)]
            spike = Signal(name=f"spike{g}")
            m.d.comb += spike.eq(self._lane_spike(m, lane, byte, first_step, sub) & self._is_input(s1_group, g))
            s2_spike = Signal(name=f"s2_spike{g}", reset_less=True)
            s2_load.append((s2_spike, spike))
            s2_spikes.append(s2_spike)
            h = Signal(tau, name=f"new_hist{g}")
            if tau > 1:
                past = Signal(tau - 1, name=f"past{g}")
                m.d.comb += past.eq(Mux(first_step, 0, hrd.data[g * (tau - 1):(g + 1) * (tau - 1)]))
                s2_past = Signal(tau - 1, name=f"s2_past{g}", reset_less=True)
                s2_load.append((s2_past, past))
                hist_write.append(Cat(spike, past)[:tau - 1])
                m.d.comb += h.eq(Cat(s2_spike, s2_past))
            else:
                m.d.comb += h.eq(s2_spike)
            if tau > 1 and not self.words_out:
                # Whether the past bits are non-zero, registered: a lane's activity is then an
                # OR of two flip-flops, so two lanes fit one LUT of the emitter's load count.
                s2_past_any = Signal(name=f"s2_past_any{g}", reset_less=True)
                s2_load.append((s2_past_any, past != 0))
                a = s2_spike | s2_past_any
            else:
                a = h
            new_hist.append(h)
            active.append(a)

        if self.words_out:
            wo = self.words
            m.d.comb += [wo.valid.eq(s2_valid), wo.payload.word.eq(s2_group), wo.payload.last.eq(s2_last),
                         wo.payload.spikes.eq(Cat(*s2_spikes))]
        take2 = Signal(attrs=KEEP)                # s2 -> emitter
        m.d.comb += take2.eq(s2_valid & emitter_free)
        take = Signal(attrs=KEEP)                 # s1 -> s2: decide, fetch the next group
        m.d.comb += take.eq(s1_valid & (~s2_valid | emitter_free))
        last_group = s1_group == QW - 1
        more = ~(last_group & (step == self.t_max))
        next_group = Mux(last_group, 0, s1_group + 1)
        # The next step moves to the next frame until the last one, which then holds.
        next_base = Mux(last_group & (step < F), frame_base + Q, frame_base) if F > 1 else 0
        m.d.comb += [rd.addr.eq(next_base + next_group * D), rd.en.eq(take)]
        if D == 2:
            # (past the last group: another frame's bytes or none, masked by index above)
            m.d.comb += [rd2.addr.eq(next_base + next_group * D + 1), rd2.en.eq(take)]
        if tau > 1:
            m.d.comb += [
                hrd.addr.eq(next_group), hrd.en.eq(take),
                hwr.addr.eq(s1_group), hwr.en.eq(take),
                hwr.data.eq(Cat(*hist_write)),
            ]
        self._fetch(m, take, s1_group, next_group)
        if not self.words_out:
            per_leaf = 2 if tau > 1 else 4                    # lanes per LUT4 (active: 2 or 1 bits)
            load_empty = count_is(m, active, 0, leaf=per_leaf, name="load_empty")
            load_single = count_is(m, active, 1, leaf=per_leaf, name="load_single")
        # (every cycle, not under `If`s: a function of take and take2, without an enable)
        m.d.sync += s2_valid.eq(take | (s2_valid & ~take2))
        with m.If(take2):
            if not self.words_out:
                m.d.sync += [mask.eq(Cat(*active)), m_empty.eq(load_empty), m_single.eq(load_single),
                             hist.eq(Cat(*new_hist)), base.eq(s2_base)]
                with m.If(s2_last):
                    m.d.sync += eos_pending.eq(1)
        m.d.sync += s1_valid.eq(Mux(take, more, s1_valid))  # (without an enable, as s2_valid)
        with m.If(take):
            # An odd group count leaves the last word of a step one group.
            self._on_take(m, Const(1, 1) if Q % D == 0 else ~last_group)
            m.d.sync += [
                s2_base.eq(s1_base), s2_last.eq(last_group), s2_group.eq(s1_group),
                s1_group.eq(next_group), s1_base.eq(Mux(last_group, 0, s1_base + G * D)),
            ]
            m.d.sync += [reg.eq(value) for reg, value in s2_load]
            # (each register updated on every `take`, with a value from registers: its enable
            # is then `take` itself, not `take` and the group's position)
            m.d.sync += [step.eq(step + last_group), first_step.eq(first_step & ~last_group), running.eq(more)]
            if F > 1:
                m.d.sync += frame_base.eq(next_base)

        # --- start: fetch group 0 of step 1 --------------------------------------------------
        self._start(m)
        with m.If(self.start):
            m.d.comb += [rd.addr.eq(0), rd.en.eq(1)]
            if D == 2:
                m.d.comb += [rd2.addr.eq(1), rd2.en.eq(1)]
            if tau > 1:
                m.d.comb += [hrd.addr.eq(0), hrd.en.eq(1)]
            m.d.sync += [
                running.eq(1), s1_valid.eq(1), s1_group.eq(0), s1_base.eq(0), step.eq(1), first_step.eq(1),
                frame_base.eq(0),
                s2_valid.eq(0), self.loaded.eq(0),
            ]
            if not self.words_out:
                m.d.sync += [mask.eq(0), m_empty.eq(1), m_single.eq(0), eos_pending.eq(0), self.events.valid.eq(0)]
        return m

    def _is_input(self, word, g):
        """1 when lane ``g`` of group word ``word`` holds an input (``word * G * D + g <
        n_inputs``, the fetch stage's ``s1_base + g``): a constant bit per word, not a
        comparator (on the iCE40 a compare is a carry chain, one logic cell per bit)."""
        QW, span = self.words_per_step, self.word_lanes
        mask = sum(1 << w for w in range(QW) if w * span + g < self.n_inputs)
        if mask == (1 << QW) - 1:
            return Const(1, 1)
        return Const(mask, QW).bit_select(word, 1) if mask else Const(0, 1)

    def _group_index(self, base, lane):
        """Input index of ``lane`` in the group starting at ``base`` (a multiple of the lanes).
        With a power-of-two lane count the sum is a concatenation: no adder after the emitter's
        lowest-one carry chain, on the path into layer 0's event register (iCE40, nextpnr)."""
        G = self.lanes
        if G & (G - 1):
            return base + lane
        lg = (G - 1).bit_length()
        return Cat(lane[:lg], base[lg:]) if lg else base
