"""Window-mode events (docs/semantics.md 8.1): one event per input active in a window of W
steps, with its activity tags and the history bits before the window, then an end-of-window
marker, made from the words of spikes a producer gives step after step (the encoder's
groups, or a layer's neuron words).
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from spinaps import contract

from .layouts import bits_for, event_layout, spike_word_layout
from .priority import lowest_one

__all__ = ["WindowEvents", "window_storage"]


def window_storage(n, lanes, window, tau):
    """Storage of :class:`WindowEvents` (``{name: (kind, bits)}``, as the layers' ``storage``),
    a function of its parameters so the cost model (sim/cost.py) asks the same rule:

    * ``window_tags``: the activity tags, two banks of ``W`` LUT memories (one per step
      of the window) of ``ceil(n / lanes)`` words of ``lanes`` bits, asynchronous read;
    * ``window_active`` (the inputs active so far in the window being collected) and
      ``window_mask`` (those still to emit), one flip-flop per input each;
    * with ``tau > 1``: ``window_history``, the ``tau - 1`` spikes before the window, one LUT
      memory of the same words of ``lanes * (tau - 1)`` bits, and ``window_history_nz``
      (that history is non-zero), one flip-flop per input.
    """
    words = contract.words(n, lanes)
    out = {"window_tags": ("lutram", 2 * window * words * lanes), "window_active": ("ff", n),
           "window_mask": ("ff", n)}
    if tau > 1:
        out["window_history"] = ("lutram", words * lanes * (tau - 1))
        out["window_history_nz"] = ("ff", n)
    return out


class WindowEvents(wiring.Component):
    """Collects a window's spikes word by word and emits the window's events.

    Input: ``words``, every word of every step in order (``word`` 0 .. ``ceil(n/lanes) - 1``,
    ``last`` on a step's last word; lane ``g`` of word ``q`` is input ``q * lanes + g``, lanes
    past ``n`` are ignored). The steps are counted here, from 1 after reset. Output: after
    the last word of a window's last step (step ``t`` with ``t % W == 0`` or ``t = t_max``),
    one ``events`` beat per input whose ``hist`` is non-zero, ascending index, then one beat
    with ``eos`` set. An event's ``hist`` has ``W + tau - 1`` bits: bit ``l`` is the input's
    spike ``l`` steps before the window's last step (the W activity tags: step ``p`` of the
    window, counting from 0, is bit ``W - 1 - p``; a short last window has zeros for its
    missing steps), then the ``tau - 1`` spikes before the window (a GLM consumer's history,
    section 4).

    The tags are written into one LUT memory per step of the window (a word per write, no
    read-modify-write); a flip-flop per input keeps whether it was active, which is all the
    emitter's priority selection needs; the emitter reads the selected input's tags from the
    memories. The history before the window is kept per input in a LUT memory, rewritten as
    each input is emitted (an input that is not emitted has no spike in the window and none
    before it, so its next history is zero, which a flag per input records).

    Latency: the first event leaves the cycle after the window's last word is taken.
    Backpressure: ``events`` is valid/ready. Two banks of tag memories let the producer make
    the next window while a window is emitted: ``words`` takes every word except a window's
    last one while the previous window is being emitted. A producer that cannot stall within
    a step (a layer) watches ``busy`` instead: high in the cycle a window's last word arrives
    and, while a window is being emitted, when the step to come is the last of its window;
    connect it to the producing layer's ``hold`` and ``pause``, which keep it from ending or
    starting the update of a step then.

    Parameters
    ----------
    n, lanes : int
        Inputs, and inputs per word (the encoder's lanes, or the producing layer's).
    tau : int
        History window of the consuming layer (1 for a LIF consumer).
    window : int
        The consuming layer's window (``contract.WINDOWS``).
    t_max : int
        Time steps per inference (the last window ends at ``t_max``).
    """

    def __init__(self, *, n, lanes, tau, window, t_max):
        contract.check("n_inputs", n, field="n")
        if lanes < 1:
            raise ValueError(f"lanes = {lanes}: a word holds at least one input (lanes past n are ignored)")
        contract.check("tau", tau)
        contract.check("t_max", t_max)
        contract.check_choice("window", window, contract.WINDOWS)
        self.n, self.lanes, self.tau, self.window, self.t_max = n, lanes, tau, window, t_max
        self.words_per_step = contract.words(n, lanes)
        self.hist_bits = window + tau - 1
        super().__init__({
            "words": In(stream.Signature(spike_word_layout(lanes, self.words_per_step))),
            "events": Out(stream.Signature(event_layout(n, self.hist_bits))),
            "busy": Out(1),
        })

    @property
    def storage(self):
        """Storage, ``{name: (kind, bits)}``: :func:`window_storage`."""
        return window_storage(self.n, self.lanes, self.window, self.tau)

    def elaborate(self, platform):
        m = Module()
        n, P, W, tau, Q = self.n, self.lanes, self.window, self.tau, self.words_per_step
        i = self.words

        # --- collection: step and slot counters, tags into the memories, the active flags ---
        slot = Signal(range(max(2, W)))           # step of the window being collected
        steps = Signal(range(self.t_max + 1))     # steps completed
        bank = Signal()                           # bank being collected
        last_step = Signal()
        m.d.comb += last_step.eq((slot == W - 1) | (steps == self.t_max - 1))
        take = Signal()
        window_end = Signal()
        emitting = Signal()
        closing = i.payload.last & last_step
        m.d.comb += [
            i.ready.eq(~(closing & emitting)),
            take.eq(i.valid & i.ready),
            window_end.eq(take & closing),
        ]
        with m.If(take & i.payload.last):
            m.d.sync += [steps.eq(steps + 1), slot.eq(slot + 1)]
        with m.If(window_end):
            m.d.sync += [slot.eq(0), bank.eq(~bank)]

        tag_reads = []                            # [bank][slot] asynchronous read ports
        for b in range(2):
            reads = []
            for p in range(W):
                mem = memory.Memory(shape=P, depth=Q, init=[])
                m.submodules[f"tags_b{b}_s{p}"] = mem
                wr = mem.write_port()
                m.d.comb += [wr.addr.eq(i.payload.word), wr.data.eq(i.payload.spikes),
                             wr.en.eq(take & (slot == p) & (bank == b))]
                reads.append(mem.read_port(domain="comb"))
            tag_reads.append(reads)

        active = [Signal(name=f"active{j}") for j in range(n)]
        active_now = []                           # with this cycle's word
        for j in range(n):
            q, lane = divmod(j, P)
            a = Signal(name=f"active_now{j}")
            m.d.comb += a.eq(active[j] | (take & (i.payload.word == q) & i.payload.spikes[lane]))
            active_now.append(a)
            m.d.sync += active[j].eq(Mux(window_end, 0, a))

        # --- emitter: the lowest input still to emit, its tags read by word and lane --------
        mask = [Signal(name=f"emit_mask{j}") for j in range(n)]
        hist_nz = [Signal(name=f"hist_nz{j}") for j in range(n)] if tau > 1 else [Const(0, 1)] * n
        eos_pending = Signal()
        emit_bank = Signal()
        slots = Signal(range(W + 1))              # steps of the window being emitted
        qbits, lbits = bits_for(Q), bits_for(P)
        # Each input's word and lane ride along as constants in the selection's OR tree (no
        # divider after the priority chain when the lanes are not a power of two).
        where = [Cat(Const(j // P, qbits), Const(j % P, lbits), hist_nz[j]) for j in range(n)]
        first, lowest, sel = lowest_one(m, mask, where, name="window")
        sel_word, sel_lane, sel_nz = sel[:qbits], sel[qbits:qbits + lbits], sel[qbits + lbits]
        any_left = Signal()
        m.d.comb += [any_left.eq(Cat(*mask) != 0), emitting.eq(any_left | eos_pending)]

        tags = []
        for p in range(W):
            for reads in tag_reads:
                m.d.comb += reads[p].addr.eq(sel_word)
            word = Mux(emit_bank, tag_reads[1][p].data, tag_reads[0][p].data)
            t = Signal(name=f"emit_tag{p}")
            # A short last window's missing steps hold an earlier window's tags: masked.
            m.d.comb += t.eq(word.bit_select(sel_lane, 1) & (p < slots))
            tags.append(t)
        full = Signal(self.hist_bits)
        fire = Signal()
        ev = self.events
        m.d.comb += fire.eq(ev.valid & ev.ready)
        if tau > 1:
            m.submodules.history = hmem = memory.Memory(shape=P * (tau - 1), depth=Q, init=[])
            hrd = hmem.read_port(domain="comb")
            hwr = hmem.write_port(granularity=tau - 1)
            pre = Signal(tau - 1)
            # The memory is not reset between inferences: an input whose flag is low has none.
            m.d.comb += [hrd.addr.eq(sel_word),
                         pre.eq(hrd.data.word_select(sel_lane, tau - 1) & sel_nz.replicate(tau - 1)),
                         full.eq(Cat(*[tags[W - 1 - l] for l in range(W)], pre))]
            nxt = full[:tau - 1]                  # the history before the next window
            m.d.comb += [hwr.addr.eq(sel_word), hwr.data.eq(nxt.replicate(P)),
                         hwr.en.eq(Mux(fire & any_left, Const(1, P) << sel_lane, 0))]
        else:
            m.d.comb += full.eq(Cat(*[tags[W - 1 - l] for l in range(W)]))
        m.d.comb += [ev.valid.eq(emitting), ev.payload.eos.eq(~any_left),
                     ev.payload.index.eq(lowest), ev.payload.hist.eq(full)]
        with m.If(fire & any_left):
            for j in range(n):
                with m.If(first[j]):
                    m.d.sync += mask[j].eq(0)
                    if tau > 1:
                        m.d.sync += hist_nz[j].eq(full[:tau - 1] != 0)
        with m.If(fire & ~any_left):
            m.d.sync += eos_pending.eq(0)
        with m.If(window_end):
            m.d.sync += [eos_pending.eq(1), emit_bank.eq(bank), slots.eq(slot + 1)]
            m.d.sync += [mask[j].eq(active_now[j] | hist_nz[j]) for j in range(n)]
        m.d.comb += self.busy.eq(emitting & last_step | window_end)
        self.internals = {"mask": mask, "eos_pending": eos_pending}
        return m
