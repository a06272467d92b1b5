"""Window-mode event streams (docs/semantics.md 8.1): one event per input active in a window
of W steps, with its activity tags and the history bits before the window, then an
end-of-window marker.

:class:`WindowCollector` makes them from a per-step event stream (the encoder's), and
:class:`WindowEvents` from a layer's neuron words (the link between two layers). Both keep
the window's tags in one set of registers while the previous window's events are emitted
from another, so the producer keeps working during the emission.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from spinaps import contract

from .layouts import bits_for, event_layout, neuron_word_layout
from .priority import lowest_one

__all__ = ["WindowCollector", "WindowEvents"]


class _WindowEmitter(wiring.Component):
    """What both share: the parameters, the storage and the emitter of a window's events.

    An event's ``hist`` has ``window + tau - 1`` bits: bit ``l`` is the input's spike ``l``
    steps before the window's last step (the W activity tags: step ``p`` of the window,
    counting from 0, is bit ``W - 1 - p``), then the ``tau - 1`` spikes before the window (a
    GLM consumer's history, section 4). The window of a short last window (``t_max`` not a
    multiple of W) has zeros for its missing steps.
    """

    def __init__(self, *, n, tau, window, t_max, ports):
        contract.check("tau", tau)
        contract.check("t_max", t_max)
        contract.check_choice("window", window, contract.WINDOWS)
        self.n, self.tau, self.window, self.t_max = n, tau, window, t_max
        self.hist_bits = window + tau - 1
        ports = dict(ports)
        ports["events"] = Out(stream.Signature(event_layout(n, self.hist_bits)))
        ports["busy"] = Out(1)
        super().__init__(ports)

    @property
    def storage(self):
        """Storage, ``{name: (kind, bits)}`` as the layers' ``storage``; all flip-flops, per
        input: ``window_tags`` (W bits, the window being collected), ``window_history``
        (``tau - 1`` bits before it; absent when ``tau = 1``), ``window_pending`` (1 bit) and
        ``window_emit`` (``W + tau - 1`` bits: the window being emitted)."""
        out = {"window_tags": ("ff", self.n * self.window), "window_pending": ("ff", self.n),
               "window_emit": ("ff", self.n * self.hist_bits)}
        if self.tau > 1:
            out["window_history"] = ("ff", self.n * (self.tau - 1))
        return out

    def _emitter(self, m, window_end, full):
        """Emit the events of ``full`` (per input, the window's ``hist``) latched when
        ``window_end`` is high; ``busy`` is high from then until the end-of-window beat is
        taken. Returns the comb ``emitting`` flag (events or the marker still to go)."""
        n = self.n
        mask = [Signal(name=f"emit_mask{j}") for j in range(n)]
        hist = [Signal(self.hist_bits, name=f"emit_hist{j}") for j in range(n)]
        eos_pending = Signal()
        first, lowest, hist_lowest = lowest_one(m, mask, hist, name="window")
        any_left = Signal()
        m.d.comb += any_left.eq(Cat(*mask) != 0)
        ev = self.events
        m.d.comb += [ev.valid.eq(any_left | eos_pending), ev.payload.eos.eq(~any_left),
                     ev.payload.index.eq(lowest), ev.payload.hist.eq(hist_lowest)]
        fire = ev.valid & ev.ready
        with m.If(fire & any_left):
            for j in range(n):
                with m.If(first[j]):
                    m.d.sync += mask[j].eq(0)
        with m.If(fire & ~any_left):
            m.d.sync += eos_pending.eq(0)
        with m.If(window_end):
            m.d.sync += eos_pending.eq(1)
            for j in range(n):
                m.d.sync += [hist[j].eq(full[j]), mask[j].eq(full[j] != 0)]
        emitting = Signal()
        m.d.comb += emitting.eq(any_left | eos_pending)
        self.internals = {"mask": mask, "hist": hist, "eos_pending": eos_pending}
        return emitting

    def _full(self, tags, pre):
        """The window's ``hist`` from the tags (bit ``p`` = step ``p``) and the bits before."""
        W = self.window
        return Cat(*[tags[W - 1 - l] for l in range(W)], pre) if self.tau > 1 else \
            Cat(*[tags[W - 1 - l] for l in range(W)])


class WindowCollector(_WindowEmitter):
    """Turns a per-step event stream (``(index, hist)`` beats with ``tau`` history bits,
    then an end-of-step marker, as the encoders emit it) into window events.

    Latency: a window's first event leaves the cycle after its last step's end-of-step beat
    is taken. Backpressure: valid/ready on both streams; ``steps_in`` takes every beat except
    a window's last end-of-step while the previous window is still being emitted.

    Parameters
    ----------
    n : int
        Inputs (the producer's ``n_inputs``).
    tau : int
        History bits of the incoming events (the consumer's history window).
    window : int
        Steps per window (``contract.WINDOWS``).
    t_max : int
        Time steps per inference (the last window ends at ``t_max``).
    """

    def __init__(self, *, n, tau, window, t_max):
        contract.check("n_inputs", n, field="n")
        super().__init__(n=n, tau=tau, window=window, t_max=t_max,
                         ports={"steps_in": In(stream.Signature(event_layout(n, tau)))})

    def elaborate(self, platform):
        m = Module()
        n, W, tau = self.n, self.window, self.tau
        tags = [Signal(W, name=f"tags{j}") for j in range(n)]
        pre = [Signal(max(1, tau - 1), name=f"pre{j}") for j in range(n)]
        slot = Signal(range(max(2, W)))
        steps = Signal(range(self.t_max + 1))
        i = self.steps_in
        window_end = Signal()
        m.d.comb += window_end.eq(i.valid & i.ready & i.payload.eos & ((slot == W - 1) | (steps == self.t_max - 1)))
        emitting = self._emitter(m, window_end, [self._full(tags[j], pre[j][:tau - 1]) for j in range(n)])
        m.d.comb += [i.ready.eq(~(i.payload.eos & ((slot == W - 1) | (steps == self.t_max - 1)) & emitting)),
                     self.busy.eq(emitting)]
        with m.If(i.valid & i.ready & ~i.payload.eos):
            for j in range(n):
                with m.If(i.payload.index == j):
                    m.d.sync += tags[j].bit_select(slot, 1).eq(i.payload.hist[0])
                    if tau > 1:
                        with m.If(slot == 0):
                            m.d.sync += pre[j].eq(i.payload.hist[1:])
        with m.If(i.valid & i.ready & i.payload.eos):
            m.d.sync += [steps.eq(steps + 1), slot.eq(slot + 1)]
        with m.If(window_end):
            m.d.sync += [slot.eq(0)] + [t.eq(0) for t in tags] + [p.eq(0) for p in pre]
        return m


class WindowEvents(_WindowEmitter):
    """Collects a layer's neuron words over a window and emits the next layer's window events.

    Each neuron keeps its spikes of the window (one tag bit per step, from the words'
    ``step``) and, for a GLM consumer, the ``tau - 1`` spikes before the window. After the
    last word of the window's last step the window's events go out, ascending index, then
    an end-of-window beat.

    Latency: the first event leaves the cycle after the window's last word.
    Backpressure: ``events`` is valid/ready; ``neurons`` is always ready. ``busy`` is high
    while a window is being emitted, and in the cycle a window's last word arrives: the
    producing layer must then neither take a new end-of-step nor start another step's
    update (connect it to ``hold`` and ``pause``), so a window never ends while the previous
    one is still being emitted.

    Parameters
    ----------
    n, lanes, u_bits : int
        Neurons of the producing layer, neurons per word, potential width in the words.
    tau : int
        History window of the consuming layer.
    window : int
        The consuming layer's window (``contract.WINDOWS``).
    t_max : int
        Time steps per inference.
    """

    def __init__(self, *, n, lanes, u_bits, tau, window, t_max):
        contract.check("n_out", n, field="n")
        contract.check_lanes(n, lanes)
        self.lanes, self.words = lanes, contract.words(n, lanes)
        super().__init__(n=n, tau=tau, window=window, t_max=t_max, ports={
            "neurons": In(stream.Signature(neuron_word_layout(lanes, u_bits, self.words, t_max), always_ready=True))})

    def elaborate(self, platform):
        m = Module()
        n, P, W, tau = self.n, self.lanes, self.window, self.tau
        w = self.neurons.payload
        arriving = self.neurons.valid
        slot = (w.step - 1)[:bits_for(W)] if W > 1 else 0
        window_end = Signal()
        m.d.comb += window_end.eq(arriving & w.last & ((slot == W - 1) | (w.step == self.t_max)))
        tags = [Signal(W, name=f"tags{j}") for j in range(n)]
        pre = [Signal(max(1, tau - 1), name=f"pre{j}") for j in range(n)]
        full = []
        for j in range(n):
            q, lane = divmod(j, P)
            here = arriving & (w.word == q)
            # The tags with this word's spike: a continuous assign (an If here would be an
            # `always @*` that Icarus leaves X until a word arrives, and X would be registered).
            now = Signal(W, name=f"tags_now{j}")
            put = Signal(W, name=f"tags_put{j}")
            m.d.comb += [put.eq(Const(1, W) << slot),
                         now.eq(Mux(here, (tags[j] & ~put) | Mux(w.spikes[lane], put, 0), tags[j]))]
            m.d.sync += tags[j].eq(now)
            f = Signal(self.hist_bits, name=f"window_hist{j}")
            m.d.comb += f.eq(self._full(now, pre[j][:tau - 1]))
            full.append(f)
            with m.If(window_end):
                m.d.sync += tags[j].eq(0)
                if tau > 1:
                    m.d.sync += pre[j].eq(f[:tau - 1])
        emitting = self._emitter(m, window_end, full)
        m.d.comb += self.busy.eq(emitting | window_end)
        return m
