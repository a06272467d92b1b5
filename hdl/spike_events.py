"""A layer's output spikes as the next layer's event stream (docs/semantics.md 0, 4, 8)."""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from spinaps import contract

from .layouts import event_layout, neuron_word_layout
from .priority import lowest_one

__all__ = ["SpikeEvents"]


class SpikeEvents(wiring.Component):
    """Collects one step of a layer's neuron words and emits the next layer's events.

    Each neuron ``j`` keeps a spike history of ``tau`` bits (``h = (h << 1 | y) & (2**tau - 1)``,
    section 4; ``tau = 1`` for a LIF consumer: the current spike only). After the last word
    of a step the component emits one ``events`` beat per neuron whose history is non-zero
    (ascending index, with ``hist``), then an end-of-step beat: exactly what the encoder
    gives the first layer.

    Latency: the first event leaves the cycle after the step's last word.
    Backpressure: ``events`` is valid/ready; ``busy`` is high from the first word of a step
    until its end-of-step beat is taken, and the producing layer must not start another
    step's update meanwhile (connect ``busy`` to its ``hold``). ``neurons`` is always ready.

    After elaboration, ``internals`` names the per-neuron state (``pending``, ``history``,
    ``mask``) and ``eos_pending`` for the formal proof (tests/formal); nothing is added.

    Parameters
    ----------
    n : int
        Neurons of the producing layer (inputs of the next one).
    lanes : int
        Neurons per word of the producing layer.
    u_bits : int
        Potential width in the producing layer's neuron words.
    tau : int
        History window of the consuming layer (``contract.RANGES["tau"]``).
    t_max : int
        Time steps per inference.
    """

    def __init__(self, *, n, lanes, u_bits, tau, t_max):
        contract.check("n_out", n, field="n")
        contract.check_lanes(n, lanes)
        contract.check("tau", tau)
        contract.check("t_max", t_max)
        self.n, self.lanes, self.tau, self.t_max = n, lanes, tau, t_max
        self.words = contract.words(n, lanes)
        super().__init__({
            "neurons": In(stream.Signature(neuron_word_layout(lanes, u_bits, self.words, t_max),
                                           always_ready=True)),
            "events": Out(stream.Signature(event_layout(n, tau))),
            "busy": Out(1),
        })

    @property
    def storage(self):
        """Storage of the link, ``{name: (kind, bits)}`` as the layers' ``storage``; all
        flip-flops, per neuron ``j`` of the producing layer:

        * ``history``: the ``tau`` newest spikes, ``n * tau`` bits;
        * ``pending``: still to be emitted in this step, ``n`` bits;
        * ``step_spikes``: the spikes of the step's words so far, ``n`` bits; only with more
          than one word per step (a one-word step is used as it arrives).
        """
        out = {"history": ("ff", self.n * self.tau), "pending": ("ff", self.n)}
        if self.words > 1:
            out["step_spikes"] = ("ff", self.n)
        return out

    def elaborate(self, platform):
        m = Module()
        n, P, tau = self.n, self.lanes, self.tau
        w = self.neurons.payload
        arriving = self.neurons.valid

        # Per-neuron signals, not slices of one vector: a simulator re-evaluates every reader
        # of a vector whenever any slice of it changes.
        pend = [Signal(name=f"pend{j}") for j in range(n)]      # spikes of the step so far
        hist = [Signal(tau, name=f"hist{j}") for j in range(n)]
        mask = [Signal(name=f"mask{j}") for j in range(n)]      # still to be emitted
        eos_pending = Signal()

        last = arriving & w.last
        for j in range(n):
            q, lane = divmod(j, P)
            here = Signal(name=f"here{j}")
            m.d.comb += here.eq(arriving & (w.word == q))
            spike = Signal(name=f"spike{j}")
            m.d.comb += spike.eq(w.spikes[lane] if self.words == 1 else
                                 ((w.spikes[lane] & here) | (pend[j] & ~here)))
            with m.If(here):
                m.d.sync += pend[j].eq(w.spikes[lane])
            new_hist = Signal(tau, name=f"new_hist{j}")
            m.d.comb += new_hist.eq(Cat(spike, hist[j][:tau - 1]) if tau > 1 else spike)
            with m.If(last):
                m.d.sync += [hist[j].eq(new_hist), mask[j].eq(new_hist != 0)]

        with m.If(arriving):
            m.d.sync += self.busy.eq(1)
        with m.If(last):
            m.d.sync += eos_pending.eq(1)

        # The lowest pending neuron in logarithmic depth (an if-chain would be n muxes deep).
        first, lowest, hist_lowest = lowest_one(m, mask, hist, name="pending")
        any_left = Signal()
        m.d.comb += any_left.eq(Cat(*mask) != 0)
        ev = self.events
        m.d.comb += [
            ev.valid.eq(any_left | eos_pending),
            ev.payload.eos.eq(~any_left),
            ev.payload.index.eq(lowest),
            ev.payload.hist.eq(hist_lowest),
        ]
        fire = ev.valid & ev.ready
        with m.If(fire & any_left):
            for j in range(n):
                with m.If(first[j]):
                    m.d.sync += mask[j].eq(0)
        with m.If(fire & ~any_left):
            m.d.sync += [eos_pending.eq(0), self.busy.eq(0)]
        self.internals = {"pending": pend, "history": hist, "mask": mask, "eos_pending": eos_pending}
        return m
