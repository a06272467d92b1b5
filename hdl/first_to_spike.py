"""First-to-spike decision unit with early exit (docs/semantics.md section 6.1)."""

from amaranth.hdl import Module, Mux, Signal, signed

from .argmax import lane_argmax
from .decision import DecisionUnit
from .layouts import bits_for

__all__ = ["FirstToSpike"]


class FirstToSpike(DecisionUnit):
    """Watches the output layer's neuron words and decides the class.

    Within a step it keeps the spiking neuron with the highest potential and the neuron
    with the highest potential overall (ties to the lowest index: words and lanes arrive in
    ascending index and only a strictly higher potential replaces the best). After the last
    word of a step: if a neuron spiked, ``decided`` rises with that class; else, at
    ``t_max``, it rises with the overall argmax and ``spiked`` low.

    Latency: ``decided`` is registered, high from the cycle after the step's last word
    until ``clear``. Backpressure: none, it takes every word (``neurons`` is always ready).

    Parameters: see :class:`~spinaps.hdl.decision.DecisionUnit`.
    """

    def elaborate(self, platform):
        m = Module()
        P = self.lanes
        w = self.neurons.payload
        lowest_u = -(1 << (self.u_bits - 1))
        jbits = bits_for(self.n_out)

        # Running bests of the current step; a word with word == 0 starts a new step.
        spk_any, spk_u, spk_j = Signal(), Signal(signed(self.u_bits)), Signal(jbits)
        all_u, all_j = Signal(signed(self.u_bits)), Signal(jbits)
        first = w.word == 0
        spikes, everyone = [], []
        for lane in range(P):
            j = Signal(jbits + 1, name=f"j{lane}")
            m.d.comb += j.eq(w.word * P + lane)
            real = j < self.n_out
            spikes.append((real & w.spikes[lane], w.u[lane], j))
            everyone.append((real, w.u[lane], j))
        c_any, c_spk_u, c_spk_j = lane_argmax(m, "spk", spikes, Mux(first, 0, spk_any),
                                              Mux(first, lowest_u, spk_u), Mux(first, 0, spk_j))
        _, c_all_u, c_all_j = lane_argmax(m, "all", everyone, ~first, Mux(first, lowest_u, all_u),
                                          Mux(first, 0, all_j))

        with m.If(self.neurons.valid & ~self.decided):
            m.d.sync += [spk_any.eq(c_any), spk_u.eq(c_spk_u), spk_j.eq(c_spk_j),
                         all_u.eq(c_all_u), all_j.eq(c_all_j)]
            with m.If(w.last & (c_any | (w.step == self.t_max))):
                m.d.sync += [self.decided.eq(1), self.spiked.eq(c_any), self.step.eq(w.step),
                             self.cls.eq(Mux(c_any, c_spk_j, c_all_j))]
        with m.If(self.clear):
            m.d.sync += self.decided.eq(0)
        return m
