"""The event-driven synapse engine shared by the GLM and LIF layers (docs/semantics.md 4, 7-9),
in the time-sequential and the window schedule (8.1).

Over 400 lines: the sequencer, the tag pipeline, the sum banks and the window's step-by-step
update share their signals cycle by cycle; split, they would only pass them back and forth.
The counters are in :mod:`spinaps.hdl.layer_counters`."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from spinaps import contract

from .layouts import bits_for, event_layout, neuron_word_layout
from .layer_counters import COUNTER_BITS, LayerCounters
from .stream_register import StreamRegister

__all__ = ["SynapseLayer", "saturate", "saturating_add", "synapse_words"]


def synapse_words(weights, weight_bits, lanes):
    """Synapse memory contents for integer weights ``[N_out, N_in, K]`` (semantics section 9)."""
    n_out, n_in, k = len(weights), len(weights[0]), len(weights[0][0])
    qn = contract.words(n_out, lanes)
    bias = contract.weight_max(weight_bits)
    words = []
    for i in range(n_in):
        for kk in range(k):
            for q in range(qn):
                word = 0
                for p in range(lanes):
                    j = q * lanes + p
                    if j < n_out:
                        code = (int(weights[j][i][kk]) + bias) // 2
                        word |= code << (p * weight_bits)
                words.append(word)
    return words


def _fits(v, bits):
    """``v`` (signed) is in the signed ``bits``-bit range: its bits from ``bits - 1`` up are
    all equal (a LUT tree, no carry chain)."""
    top = v[bits - 1:]
    return (top == 0) | (top == (1 << len(top)) - 1)


def _bound(sign, bits):
    """The ``bits``-bit bound on the side of ``sign``: ``-2^(bits-1)`` or ``2^(bits-1) - 1``."""
    return Cat((~sign).replicate(bits - 1), sign)


def saturate(v, bits):
    """``v`` (signed) clamped to the signed ``bits``-bit range of
    :func:`spinaps.contract.potential_bounds`, as a ``bits``-bit value: ``v`` when it fits,
    otherwise the bound its sign picks. Logic without a carry chain: for a ``v`` a few bits
    wider than ``bits``, smaller and faster than two compares against the bounds."""
    if len(v) <= bits:
        return v.as_signed()
    return Mux(_fits(v, bits), v[:bits], _bound(v[-1], bits)).as_signed()


def saturating_add(small, wide, bits):
    """``saturate(small + wide, bits)`` for a ``small`` in the signed ``bits``-bit range and
    any signed ``wide``, with a short carry chain: a ``wide`` outside the ``bits + 1``-bit
    range saturates the sum by its sign whatever ``small`` is, so only its low ``bits + 1``
    bits are added, while its range is decided beside the adder (a full-width add followed
    by the range test was a 23.7 ns path of the UP5K default export)."""
    if len(wide) <= bits + 1:
        return saturate(small + wide, bits)
    fits = saturate(small + wide[:bits + 1].as_signed(), bits)
    return Mux(_fits(wide, bits + 1), fits, _bound(wide[-1], bits)).as_signed()


class SynapseLayer(wiring.Component):
    """Event sequencer, synapse-memory reads and ``lanes`` accumulator lanes of one layer.

    For every ``events`` beat (an active input ``i`` with its history) the layer computes
    the ``K`` traces from its basis, and for each non-zero trace reads synapse row
    ``i*K + k`` (``ceil(n_out/lanes)`` words, one per cycle) and adds ``w * trace`` into the
    lanes (step sums in a two-bank LUT memory: P adders, no per-neuron registers). An
    end-of-step beat swaps the banks and starts the neuron update of the subclass
    (:meth:`elaborate_neurons`), which runs while the next step's events accumulate. Subclasses: ``GlmLayer`` and ``LifLayer``.

    **Window mode** (``window`` W > 1, docs/semantics.md 8.1): an event is an input active in
    at least one step of a window of W steps, its ``hist`` holding ``W + tau - 1`` bits (bit
    ``l`` = the input's spike ``l`` steps before the window's last step: the window's W
    activity tags, then the ``tau - 1`` bits before the window). Each row word non-zero in
    some step of the window is read once and added into the sums of every step of the
    window, ``adders`` (A) steps per cycle (a row word takes one cycle per group of A
    consecutive steps holding a non-zero trace). The sums live in ``2 * ceil(W/A)`` banks of
    A sub-banks (one per step of the window, for the window accumulating and the window
    being updated). The end-of-window beat swaps them and the neuron update runs the
    window's steps in order, each entering the update pipeline right behind the one before
    (a step every ``Qn`` cycles; LIF: every ``max(2, Qn)``, the state forwarded), except a
    step that closes a window of the consumer's window link (``consumer_window``; every step
    into a per-step link): it waits until the step before has left the pipeline and for
    ``pause`` low (the link is still emitting the window before). ``W = 1`` is the
    time-sequential engine above.

    Latency: an event beat is registered on entry (:class:`StreamRegister`, so the
    producer's logic and the sequencer's never share a clock period); a row word is
    accumulated ``memory.read_latency + 5`` cycles after it is issued (the read address, the
    memory's output and the two stages of the product ``w * trace`` are registered before the
    read-add-write of the step sums);
    the step's sums are readable the cycle after the end-of-step beat leaves that pipeline.
    Backpressure: ``events`` is a valid/ready stream; the layer takes one memory word per
    cycle. It holds an end-of-step beat while the previous step's update is still running or
    while ``hold`` is high (the consumer of ``neurons`` is not ready for a new step, or the
    layer is a step ahead of the decision unit), so at most one step is in the update stage
    and no word is ever dropped.
    ``neurons`` has no ready.

    Counters (:class:`~spinaps.hdl.layer_counters.LayerCounters`): ``steps`` counts the
    end-of-step (end-of-window) beats taken; ``count_events``, ``count_sops`` and
    ``count_reads`` are the counts through step ``decision_step`` (reads: through the end of
    its window), ``discarded_sops`` / ``discarded_reads`` the work taken beyond it. They
    are exact as long as the layer has not taken steps more than ``count_depth`` past
    ``decision_step``'s ring block (the top's ``hold`` sees to it).
    """

    def __init__(self, *, n_in, n_out, lanes, weight_bits, basis, basis_bits, t_max, memory, u_bits,
                 window=1, adders=1, count_depth=None, consumer_window=None):
        contract.check("n_in", n_in)
        contract.check("n_out", n_out)
        contract.check_lanes(n_out, lanes)
        contract.check("t_max", t_max)
        contract.check_choice("weight_bits", weight_bits, contract.WEIGHT_BITS)
        self.window, self.adders = contract.check_schedule(window, adders)
        self.chunks = contract.ceil_div(self.window, self.adders)
        if consumer_window is not None:
            contract.check_choice("consumer_window", consumer_window, contract.WINDOWS)
        self.consumer_window = consumer_window
        self.count_depth = count_depth or max(2, self.window)
        self.n_in, self.n_out, self.lanes, self.t_max = n_in, n_out, lanes, t_max
        self.basis = [[int(a) for a in row] for row in basis]
        self.k, self.tau = len(self.basis), len(self.basis[0])
        self.hist_bits = self.window + self.tau - 1
        self.weight_bits, self.memory = weight_bits, memory
        self.words = contract.words(n_out, lanes)
        depth = n_in * self.k * self.words
        if memory.depth != depth or memory.data_width != lanes * weight_bits:
            raise ValueError(
                f"synapse memory is {memory.depth} x {memory.data_width} bits; this layer needs "
                f"{depth} x {lanes * weight_bits}")
        self.trace_max = contract.trace_max(self.tau, basis_bits)
        self.acc_bits = contract.accumulator_bits(n_in, weight_bits, basis=self.k, tau=self.tau,
                                                  basis_bits=basis_bits)
        B = COUNTER_BITS
        super().__init__({
            "events": In(stream.Signature(event_layout(n_in, self.hist_bits))),
            "neurons": Out(stream.Signature(
                neuron_word_layout(lanes, u_bits, self.words, t_max), always_ready=True)),
            "seed": In(contract.SEED_BITS),
            "start": In(1),
            "hold": In(1),            # do not take an end-of-step (consumer busy, or too far ahead)
            "pause": In(1),           # window mode: do not start the update of the window's next step
            "busy": Out(1),           # an end-of-step is in flight or its update is running
            "active": Out(1),         # any work in this cycle (for the busy-cycle counter)
            "steps": Out(bits_for(t_max + 2)),
            "decision_step": In(bits_for(t_max + 1)),
            "count_events": Out(B), "count_sops": Out(B), "count_reads": Out(B),
            "discarded_sops": Out(B), "discarded_reads": Out(B),
        })

    @property
    def storage(self):
        """Storage of the synapse engine: ``{name: (kind, bits)}``, kind ``"ff"``,
        ``"lutram"`` or ``"bram"`` (what the RTL describes: registers, a memory with an
        asynchronous read, a memory with a synchronous read; a synthesis tool may still map a
        small memory otherwise).

        * ``synapse_memory``: the synapse array, ``n_in * K * words`` words of
          ``lanes * weight_bits`` cells (``"bram"``, SRAM and STT-RAM alike; the memory's other
          storage, e.g. the STT-RAM write-error generators, follows as
          ``synapse_memory_<name>``);
        * ``step_sums``: the LUT memory of step sums, ``2 * ceil(W/A) * words`` words of
          ``A * lanes * acc_bits`` bits (``"lutram"``; two banks of one word per neuron word
          when ``W = 1``);
        * ``step_sums_fresh``: one flag per word of it, ``2 * ceil(W/A) * words`` flip-flops;
        * window mode only, ``window_traces``: the event's traces for the W steps of the
          window, ``K * ceil(W/A) * A`` traces of ``bits(trace_max)`` bits (``"ff"``), and
          ``window_row_chunks``: per basis, which groups of A steps hold a non-zero trace,
          ``K * ceil(W/A)`` flip-flops (the activity tags, decoded).

        Pipeline registers, the event register, counters and control are not counted.
        Subclasses add their neuron state.
        """
        held = self.memory.storage
        out = {"synapse_memory": held["array"]}
        out.update({f"synapse_memory_{name}": entry for name, entry in held.items() if name != "array"})
        C, A = self.chunks, self.adders
        out["step_sums"] = ("lutram", 2 * C * self.words * A * self.lanes * self.acc_bits)
        out["step_sums_fresh"] = ("ff", 2 * C * self.words)
        if self.window > 1:
            out["window_traces"] = ("ff", self.k * C * A * max(1, self.trace_max.bit_length()))
            out["window_row_chunks"] = ("ff", self.k * C)
        return out

    def elaborate_neurons(self, m, step_sums, start, done, issued):
        """Build the neuron update. ``start`` is high for one cycle at the end of a step;
        ``step_sums(addr)`` (call it once) gives the P sums of neuron word ``addr`` of that
        step (``step_sums(addr, masked=False)``: the raw words and their mask), combinationally,
        from the next cycle until the next ``start``. Drive
        ``self.neurons`` word by word and ``done`` high in the cycle the step's last word
        leaves. Window mode: one ``start`` per step of the window, in order; drive ``issued``
        high in the cycle in which the next step may start (its first word entering the next
        cycle) while this one is still in the pipeline, and carry each word's step number
        along with it."""
        raise NotImplementedError("SynapseLayer is a base class: use GlmLayer or LifLayer")

    def word_counter(self, m, start):
        """The neuron update's word counter: ``(active, word, step)``. ``start`` sets
        ``active``, ``word`` = 0 and advances ``step`` (1 in the first step); ``word`` counts
        0 .. words - 1 while ``active``, which drops after the last word."""
        Qn = self.words
        active = Signal(name="upd_active")
        word = Signal(range(max(2, Qn)), name="upd_word")
        step = Signal(range(self.t_max + 2), name="upd_step")
        with m.If(active):
            m.d.sync += word.eq(word + 1)
            with m.If(word == Qn - 1):
                m.d.sync += active.eq(0)
        with m.If(start):               # after the above: a step may start as the last one ends
            m.d.sync += [active.eq(1), word.eq(0), step.eq(step + 1)]
        return active, word, step

    def is_neuron(self, word, lane):
        """1 when lane ``lane`` of neuron word ``word`` holds a neuron (``word * lanes + lane <
        n_out``; the last word's spare lanes are 0): a constant bit per word, not a comparator
        (on the iCE40 a compare is a carry chain, one logic cell per bit)."""
        mask = sum(1 << q for q in range(self.words) if q * self.lanes + lane < self.n_out)
        if mask == (1 << self.words) - 1:
            return Const(1, 1)
        return Const(mask, self.words).bit_select(word, 1) if mask else Const(0, 1)

    def _slot_bits(self, hist, slot, lag):
        """The history bit of step ``slot`` of the window at ``lag`` (section 4)."""
        return hist[self.window - 1 - slot + lag]

    def elaborate(self, platform):
        m = Module()
        mem = self.memory
        P, Qn, K, tau = self.lanes, self.words, self.k, self.tau
        Wn, A, C = self.window, self.adders, self.chunks
        b = self.weight_bits
        m.submodules.memory = mem

        # --- event sequencer: one synapse word (and group of A steps) per cycle --------------
        cbits = max(1, self.trace_max.bit_length())
        cur_valid, cur_eos = Signal(), Signal()
        cur_row = Signal(range(max(2, self.n_in * K * Qn)))
        # The traces of the K bases for each of the window's steps, grouped by A (padding 0).
        cur_traces = Signal(cbits * K * C * A)
        cur_pending = Signal(K)
        cur_word = Signal(range(max(2, Qn)))
        # The neuron update is busy from the cycle after an end-of-step is accepted until its
        # last word (``busy_q``, set when the beat is taken), so that the acceptance waits on a
        # flip-flop (an OR of flags here was a 48 MHz critical path of the UP5K, nextpnr).
        busy_q = Signal()

        def lowest_of(vec, n, name):
            low = Signal(range(max(2, n)), name=name)
            for kk in reversed(range(n)):
                with m.If(vec[kk]):
                    m.d.comb += low.eq(kk)
            return low

        lowest = lowest_of(cur_pending, K, "lowest")
        pending_after = cur_pending & (cur_pending - 1)
        last_word = cur_word == Qn - 1
        if C > 1:
            # Per basis, the groups of A steps with a non-zero trace; the groups still to do
            # for the current row word; whether the word's read is still to be issued.
            cur_chunk_masks = Signal(K * C)
            cur_chunks = Signal(C)
            cur_first = Signal()
            chunk = lowest_of(cur_chunks, C, "chunk")
            chunks_after = cur_chunks & (cur_chunks - 1)
            last_chunk = chunks_after == 0
            lowest_next = lowest_of(pending_after, K, "lowest_next")
            issue_read = cur_first
        else:
            chunk, last_chunk, issue_read = Const(0, 1), Const(1, 1), Const(1, 1)
        # ``cur_last``: this cycle issues the current event's last word, a register kept with
        # ``cur_left`` (the event's issue cycles after this one), so that ``finishing`` and the
        # acceptance of the next beat (whose enable reaches every register of the sequencer)
        # are a few gates from flip-flops, not a decode of the word, basis and group counters
        # (the UP5K's longest paths at 48 MHz, nextpnr).
        cur_left = Signal(range(max(2, K * C * Qn)))
        cur_last = Signal()
        finishing = Signal()
        m.d.comb += finishing.eq(cur_valid & (cur_eos | cur_last))
        with m.If(cur_valid & ~cur_eos):
            m.d.sync += [cur_left.eq(cur_left - 1), cur_last.eq(cur_left == 1)]

        # Tag pipeline in step with the memory's read latency; eos travels in order behind
        # the last read of the step, so the step is complete when it comes out.
        L = mem.read_latency + 1          # + the read address register (below): the read data
        E = L + 1                         # the product's second stage (below)
        wbits = max(2, C * Qn)
        tag_read = [Signal(name=f"tag{s}_read") for s in range(E + 3)]
        tag_new = [Signal(name=f"tag{s}_new") for s in range(E + 3)]
        tag_eos = [Signal(name=f"tag{s}_eos") for s in range(E + 3)]
        tag_word = [Signal(range(wbits), name=f"tag{s}_word") for s in range(E + 3)]
        tag_trace = [Signal(cbits * A, name=f"tag{s}_trace") for s in range(E + 3)]
        for s in range(E + 2):
            m.d.sync += [tag_read[s + 1].eq(tag_read[s]), tag_eos[s + 1].eq(tag_eos[s]),
                         tag_word[s + 1].eq(tag_word[s]), tag_trace[s + 1].eq(tag_trace[s])]
            if C > 1:
                m.d.sync += tag_new[s + 1].eq(tag_new[s])

        # Table lookups use word_select (a continuous assign in Verilog): an Array of
        # constants becomes an `always @*` that Icarus does not evaluate at time zero.
        obits = max(1, (K * Qn).bit_length())
        k_offset = Cat(*[Const(kk * Qn, obits) for kk in range(K)]).word_select(lowest, obits)
        trace_now = cur_traces.word_select(lowest * C + chunk if C > 1 else lowest, cbits * A)
        # The tags are continuous assignments, not under the If below: Icarus leaves a
        # combinational block X until one of its inputs changes, and an X read tag would reach
        # the registered old sums through the forwarding multiplexer.
        m.d.comb += [tag_read[0].eq(cur_valid & ~cur_eos), tag_eos[0].eq(cur_valid & cur_eos),
                     tag_word[0].eq(chunk * Qn + cur_word if C > 1 else cur_word), tag_trace[0].eq(trace_now),
                     tag_new[0].eq(issue_read)]
        # The read address (and enable) is registered: the row + basis + word add, and on the
        # iCE40 the block RAM's collision logic behind its address, no longer share a clock
        # period (the UP5K's longest path of small layers at 48 MHz, nextpnr). The tags count
        # this cycle as one more cycle of read latency (``L`` above).
        rd_en, rd_addr = Signal(), Signal.like(mem.rd_addr)
        m.d.sync += rd_en.eq(cur_valid & ~cur_eos & issue_read)
        m.d.comb += [mem.rd_en.eq(rd_en), mem.rd_addr.eq(rd_addr)]
        with m.If(cur_valid & ~cur_eos):
            m.d.sync += rd_addr.eq(cur_row + k_offset + cur_word)
            if C > 1:
                with m.If(last_chunk):
                    m.d.sync += cur_first.eq(1)
                    with m.If(last_word):
                        m.d.sync += cur_chunks.eq(cur_chunk_masks.word_select(lowest_next, C))
                    with m.Else():
                        m.d.sync += cur_chunks.eq(cur_chunk_masks.word_select(lowest, C))
                with m.Else():
                    m.d.sync += [cur_first.eq(0), cur_chunks.eq(chunks_after)]
            with m.If(last_chunk):
                with m.If(last_word):
                    m.d.sync += [cur_word.eq(0), cur_pending.eq(pending_after)]
                with m.Else():
                    m.d.sync += cur_word.eq(cur_word + 1)
        # ``~cur_valid | cur_eos`` as a register of its own, kept with them (for ``free`` below).
        idle_q = Signal(init=1)
        with m.If(finishing):
            m.d.sync += [cur_valid.eq(0), idle_q.eq(1)]

        # Accept the next event when the current one finishes this cycle.
        m.submodules.event_register = ereg = StreamRegister(self.events.payload.shape())
        m.d.comb += [ereg.i.valid.eq(self.events.valid), ereg.i.payload.eq(self.events.payload),
                     self.events.ready.eq(ereg.i.ready)]
        events = ereg.o
        ev = events.payload
        hist_bits = [ev.hist[i] for i in range(self.hist_bits)]
        # Steps of the window being accumulated that exist (the last window may be shorter).
        last_window, tail = divmod(self.t_max - 1, Wn)
        if tail == Wn - 1:
            real = [Const(1, 1)] * Wn
        else:
            is_last = Signal()
            m.d.comb += is_last.eq(self.steps == last_window)
            real = [Const(1, 1) if p <= tail else ~is_last for p in range(Wn)]
        traces, nonzero, active = [], [], []      # [k][slot] traces / non-zero flags, [slot] events
        for kk in range(K):
            row_t, row_nz = [], []
            for p in range(Wn):
                t = Signal(cbits, name=f"trace{kk}" if Wn == 1 else f"trace{kk}_{p}")
                lags = [lag for lag in range(tau) if self.basis[kk][lag]]
                terms = [Mux(self._slot_bits(hist_bits, p, lag), self.basis[kk][lag], 0) for lag in lags]
                m.d.comb += t.eq(sum(terms) if terms else 0)
                row_t.append(t)
                # A trace is non-zero iff a history bit under a non-zero basis entry is set (the
                # basis is unsigned): an OR of a few bits instead of a compare after the trace's
                # adder tree, which keeps the synaptic-op counter off that tree.
                row_nz.append(Cat(*[self._slot_bits(hist_bits, p, lag) for lag in lags]).any() & real[p]
                              if lags else Const(0, 1))
            traces.append(row_t)
            nonzero.append(row_nz)
        for p in range(Wn):
            a = Signal(name=f"active{p}")
            m.d.comb += a.eq(Cat(*[self._slot_bits(hist_bits, p, lag) for lag in range(tau)]).any() & real[p])
            active.append(a)
        row_nonzero = Cat(*[Cat(*nonzero[kk]).any() for kk in range(K)])
        padded = [[traces[kk][p] if p < Wn else Const(0, cbits) for p in range(C * A)] for kk in range(K)]
        chunk_masks = Cat(*[Cat(*[Cat(*nonzero[kk][c * A:(c + 1) * A]).any() for c in range(C)]) for kk in range(K)])

        # Synaptic operations per step of the window, n_out per non-zero trace, and the reads
        # of the event, words per non-zero row: tables over the K non-zero bits (a multiplier
        # here was mapped to a DSP and led the ECP5's longest path).
        # (word_select, a continuous assign: a Switch is an `always @*` that Icarus leaves X
        # until one of its inputs changes, and a step slot's flags may never change.)
        def per_row_count(bits_k, factor, name):
            width = bits_for(K * factor + 1)
            out = Signal(width, name=name)
            table = Cat(*[Const(bin(v).count("1") * factor, width) for v in range(1 << K)])
            m.d.comb += out.eq(table.word_select(Cat(*bits_k), width))
            return out

        sops_inc = [per_row_count([nonzero[kk][p] for kk in range(K)], self.n_out,
                                  "sops_inc" if Wn == 1 else f"sops_inc{p}") for p in range(Wn)]
        reads_inc = per_row_count([row_nonzero[kk] for kk in range(K)], Qn, "reads_inc")
        # The event's issue cycles: one per row word and group of A steps (the reads, when C = 1).
        if C > 1:
            groups = sum(Mux(row_nonzero[kk], sum(chunk_masks[kk * C + c] for c in range(C)), 0) for kk in range(K))
            issue_cycles = Signal(range(K * C * Qn + 1))
            m.d.comb += issue_cycles.eq(groups * Qn)
        else:
            issue_cycles = reads_inc
        # The acceptance is one LUT of four flip-flops (UP5K, 48 MHz: its enables reach every
        # register of the sequencer). ``blocked``: an end of step must wait, ``busy_q | hold`` a
        # cycle late, and set at once when an end of step is taken. Late is safe: ``hold``
        # rises only while the update is busy (a layer gets ahead of the decision unit by
        # taking an end of step; its link is busy while the update emits), and a late fall
        # only delays the next end of step by a cycle.
        blocked = Signal(init=1)
        m.d.sync += blocked.eq(busy_q | self.hold)
        m.d.comb += events.ready.eq((idle_q | cur_last) & ~(ev.eos & blocked))
        # ``keep``: a net of its own, two LUT levels from flip-flops, that every register of the
        # sequencer uses (abc9 otherwise folded it into each register's logic, as deep as five
        # LUTs on the UP5K).
        take = Signal(attrs={"keep": 1})
        m.d.comb += take.eq(events.valid & events.ready)
        # Every beat taken loads the event's registers, an end-of-step beat too (they are not
        # read while ``cur_eos``): only ``cur_valid``, ``cur_eos`` and ``steps`` look at ``eos``,
        # which keeps it out of the other registers' enables (UP5K, 48 MHz).
        with m.If(take):
            m.d.sync += [
                cur_valid.eq(ev.eos | (row_nonzero != 0)), cur_eos.eq(ev.eos), idle_q.eq(ev.eos | (row_nonzero == 0)),
                cur_word.eq(0),
                cur_row.eq(ev.index * (K * Qn)), cur_traces.eq(Cat(*[Cat(*row) for row in padded])),
                cur_pending.eq(row_nonzero), cur_left.eq(issue_cycles - 1), cur_last.eq(issue_cycles == 1),
            ]
            if C > 1:
                first_k = lowest_of(row_nonzero, K, "first_row")
                m.d.sync += [cur_chunk_masks.eq(chunk_masks), cur_first.eq(1),
                             cur_chunks.eq(chunk_masks.word_select(first_k, C))]
            with m.If(ev.eos):
                # (the update's clear, below, comes E + 2 cycles later at the earliest)
                m.d.sync += [self.steps.eq(self.steps + 1), busy_q.eq(1), blocked.eq(1)]

        # The counters count a beat the cycle after it is taken, from registers loaded in every
        # cycle (only the two flags depend on the acceptance): their 32-bit registers stay off
        # the acceptance's enable net (UP5K, 48 MHz). ``counted`` is ``steps`` a cycle late, so
        # the report never mixes a step's counts with the next one's; the top reads them many
        # cycles after the decision step's end was taken.
        add_q, commit_q = Signal(), Signal()
        active_q = Signal(Wn)
        sops_q = [Signal.like(v, name=f"{v.name}_q") for v in sops_inc]
        reads_q = Signal.like(reads_inc, name="reads_inc_q")
        counted = Signal.like(self.steps)
        m.d.sync += [add_q.eq(take & ~ev.eos), commit_q.eq(take & ev.eos), active_q.eq(Cat(*active)),
                     reads_q.eq(reads_inc)] + [q.eq(v) for q, v in zip(sops_q, sops_inc)]
        counters = LayerCounters(m, window=Wn, depth=self.count_depth)
        with m.If(commit_q):
            m.d.sync += counted.eq(counted + 1)
            counters.commit(counted)
        with m.If(add_q):
            counters.add([active_q[p] for p in range(Wn)], sops_q, reads_q)
        report = counters.report(self.decision_step, counted)
        m.d.comb += [self.count_events.eq(report["events"]), self.count_sops.eq(report["sops"]),
                     self.count_reads.eq(report["reads"]), self.discarded_sops.eq(report["discarded_sops"]),
                     self.discarded_reads.eq(report["discarded_reads"])]

        # --- lanes: accumulate w * trace ----------------------------------------------------------
        # The step sums live in a two-bank LUT memory (one word of P sums per neuron word), not in
        # registers: a bank accumulates while the other is read by the neuron update, and the
        # banks swap at the end of a step. A word's content counts only once it was written in
        # the current step (``fresh``), so neither a swap nor a new inference has to clear it,
        # and only P adders exist whatever the layer size. Reads are asynchronous (LUT RAM on
        # Xilinx, flip-flops and a word multiplexer on the iCE40). In window mode a bank holds
        # ceil(W/A) words per neuron word (one per group of A steps), each of A sub-words.
        # The old sums are read one stage ahead of the write (with the product) and registered,
        # so the read multiplexer, the adder and the write-back never share a clock period
        # (on the iCE40 they did: the longest path of small layers, nextpnr). A word written in
        # the write stage while the read stage reads it is forwarded from the adder.
        W = self.acc_bits
        N = C * Qn                       # words per bank
        m.submodules.sums = sums = memory.Memory(shape=A * P * W, depth=2 * N, init=[])
        acc_rd, upd_rd, acc_wr = sums.read_port(domain="comb"), sums.read_port(domain="comb"), sums.write_port()
        bank = Signal()                  # the bank that accumulates; the other one is updated
        fresh = [Signal(N, name=f"fresh{i}") for i in range(2)]
        out_read, out_eos, out_word = tag_read[E + 2], tag_eos[E + 2], tag_word[E + 2]
        # Block RAM outputs are slow (5.8 ns clock-to-out on the ECP5, nextpnr): register them.
        # In window mode a word is read once and held while its groups of steps are added.
        rd_q = Signal(P * b)
        if C > 1:
            with m.If(tag_new[L]):
                m.d.sync += rd_q.eq(mem.rd_data)
        else:
            m.d.sync += rd_q.eq(mem.rd_data)
        # Word w of bank b is at 2w + b: the addresses need no adder (the update's read address
        # and the LUT-RAM read behind it were a 48 MHz critical path of the UP5K).
        acc_addr = Cat(bank, out_word)
        # The read stage's word is written one cycle later, after a bank swap if an end-of-step
        # beat is in the write stage now; that swap also empties the bank (nothing fresh).
        # Both flags are registers, made a cycle ahead from the words, the bank and the fresh
        # bits as they will be (the write stage's word marked, an end of step's swap and
        # clear), so that the multiplexer in front of ``old`` decides from flip-flops (the
        # decode of the fresh bits there was a 48 MHz critical path of the UP5K, nextpnr).
        in_fresh, forward = Signal(), Signal()
        nxt_word, nxt_eos = tag_word[E], tag_eos[E + 1]
        nxt_fresh = [(fresh[i].bit_select(nxt_word, 1) | (out_read & (bank == i) & (out_word == nxt_word)))
                     & ~(out_eos & (bank != i)) for i in range(2)]
        m.d.sync += [in_fresh.eq(~nxt_eos & Mux(bank ^ out_eos ^ nxt_eos, nxt_fresh[1], nxt_fresh[0])),
                     forward.eq(tag_read[E + 1] & (tag_word[E + 1] == nxt_word))]
        new_sums = []
        for a in range(A):
            for lane in range(P):
                sfx = f"{lane}" if A == 1 else f"{a}_{lane}"
                code = rd_q[lane * b:(lane + 1) * b]
                w = Signal(signed(b + 1), name=f"w{sfx}")
                # 2*code - (2^b - 1): the code's top bit inverted, read as signed (no subtractor)
                m.d.comb += w.eq(Cat(Const(1, 1), code[:b - 1], ~code[b - 1]).as_signed())
                prod = Signal(signed(b + 2 + cbits), name=f"prod{sfx}")
                # registered, in two stages: the multiply stays out of the read-add-write, and a
                # wide trace is multiplied in halves, added the next cycle (abc9 made a 5 x 5
                # product six LUTs deep: UP5K, 48 MHz). A 1-bit trace (LIF inputs) selects
                # instead (Yosys maps even a 1-bit product to a DSP block) and is only delayed.
                tr = tag_trace[L + 1][a * cbits:(a + 1) * cbits]
                if cbits >= 3:
                    h = cbits // 2
                    p_lo = Signal(signed(b + 2 + h), name=f"prod_lo{sfx}")
                    p_hi = Signal(signed(b + 2 + cbits - h), name=f"prod_hi{sfx}")
                    m.d.sync += [p_lo.eq(w * tr[:h]), p_hi.eq(w * tr[h:]), prod.eq(p_lo + (p_hi << h))]
                else:
                    p_1 = Signal.like(prod, name=f"prod_1{sfx}")
                    m.d.sync += [p_1.eq(Mux(tr, w, 0) if cbits == 1 else w * tr), prod.eq(p_1)]
                old = Signal(signed(W), name=f"old{sfx}")
                new_sum = Signal(signed(W), name=f"sum{sfx}")
                m.d.comb += new_sum.eq(old + prod)
                lo = (a * P + lane) * W
                m.d.sync += old.eq(Mux(forward, new_sum, Mux(in_fresh, acc_rd.data[lo:lo + W].as_signed(), 0)))
                new_sums.append(new_sum)
        # The read address too is made a cycle ahead (a register: the LUT-RAM's read multiplexer
        # starts from flip-flops), from the same next-cycle bank and word as the flags above.
        acc_rd_addr = Signal.like(acc_rd.addr)
        m.d.sync += acc_rd_addr.eq(Cat(bank ^ out_eos ^ nxt_eos, nxt_word))
        m.d.comb += [acc_rd.addr.eq(acc_rd_addr),
                     acc_wr.addr.eq(acc_addr), acc_wr.data.eq(Cat(*new_sums)), acc_wr.en.eq(out_read)]
        with m.If(out_read):
            with m.If(bank):
                m.d.sync += fresh[1].bit_select(out_word, 1).eq(1)
            with m.Else():
                m.d.sync += fresh[0].bit_select(out_word, 1).eq(1)
        with m.If(out_eos):
            m.d.sync += bank.eq(~bank)
            with m.If(bank):
                m.d.sync += fresh[0].eq(0)
            with m.Else():
                m.d.sync += fresh[1].eq(0)

        # --- the window's steps, in order, overlapping in the update pipeline --------------------
        # A window's next step starts as soon as the neuron update can take it (``issued``: its
        # pipeline keeps the steps of a word far enough apart, forwarding the state where it
        # must), so the steps of a window overlap in the update pipeline; except a step that
        # closes a window of the consumer's window link (or any step into a per-step link):
        # the link must see its step before whole, so that step waits until the one before has
        # left the pipeline and for ``pause`` (the link is not emitting the window before).
        start, done, issued = Signal(), Signal(), Signal()
        if Wn > 1:
            slot = Signal(range(Wn))              # the step of the window being issued
            started = Signal(range(self.t_max + 1))   # steps whose update started (inference)
            inflight = Signal(range(Wn + 1))      # steps started and not yet done
            next_pending = Signal()               # the next step's update waits for ``pause``
            wait_done = Signal()                  # ... once the step before is done
            last_slot = (slot == Wn - 1) | (started == self.t_max)
            nxt = started + 1                     # the next step's number (from 1)
            cw = self.consumer_window
            if cw is None:                        # the decision unit: never waits
                fast_ok = Const(1, 1)
            elif cw == 1:                         # a per-step link: every step waits
                fast_ok = Const(0, 1)
            else:                                 # a window link: its windows' last steps wait
                fast_ok = (nxt[:bits_for(cw)] != 0) & (nxt != self.t_max)
            go_fast = issued & ~last_slot & ~wait_done & ~next_pending & fast_ok
            go = next_pending & ~self.pause
            m.d.comb += start.eq(out_eos | go | go_fast)
            with m.If(issued & ~last_slot & ~fast_ok):
                m.d.sync += wait_done.eq(1)
            with m.If(wait_done & done & (inflight == 1)):
                m.d.sync += [wait_done.eq(0), next_pending.eq(1)]
            with m.If(go):
                m.d.sync += next_pending.eq(0)
            with m.If(start):
                m.d.sync += started.eq(started + 1)
                with m.If(out_eos):
                    m.d.sync += slot.eq(0)
                with m.Else():
                    m.d.sync += slot.eq(slot + 1)
            m.d.sync += inflight.eq(inflight + start - done)
            with m.If(done & last_slot & (inflight == 1) & ~start):
                m.d.sync += busy_q.eq(0)
            sub_bits = bits_for(A)
            chunk_of = Cat(*[Const(p // A, bits_for(C)) for p in range(Wn)]).word_select(slot, bits_for(C))
            sub_of = Cat(*[Const(p % A, sub_bits) for p in range(Wn)]).word_select(slot, sub_bits)
        else:
            m.d.comb += start.eq(out_eos)
            with m.If(done):
                m.d.sync += busy_q.eq(0)
            chunk_of, sub_of = 0, 0

        def step_sums(addr, masked=True):
            """The P sums of neuron word ``addr`` of the step being updated (combinational).
            ``masked=False``: ``(sums, fresh)``, the memory's words as they are and whether
            they count (a word not written in the step is 0), for a caller that applies the
            mask a stage later (the mask straight into the stage-1 registers became a long
            routed reset net on the UP5K, a 48 MHz critical path)."""
            word = addr + chunk_of * Qn if C > 1 else addr
            m.d.comb += upd_rd.addr.eq(Cat(~bank, word))
            ok = Mux(bank, fresh[0].bit_select(word, 1), fresh[1].bit_select(word, 1))
            data = upd_rd.data.word_select(sub_of, P * W) if A > 1 else upd_rd.data
            raw = [data[lane * W:(lane + 1) * W].as_signed() for lane in range(P)]
            if not masked:
                return raw, ok
            return [Mux(ok, v, 0) for v in raw]

        # --- neuron update (subclass) ---------------------------------------------------------
        self.elaborate_neurons(m, step_sums, start, done, issued)
        m.d.comb += [self.busy.eq(busy_q), self.active.eq(cur_valid | busy_q | self.events.valid | events.valid)]
        return m
