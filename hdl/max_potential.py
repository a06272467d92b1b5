"""Max-potential decision unit (docs/semantics.md section 6.3)."""

from amaranth.hdl import Module, Mux, Signal, signed

from .argmax import lane_argmax
from .decision import DecisionUnit
from .layouts import bits_for

__all__ = ["MaxPotential"]


class MaxPotential(DecisionUnit):
    """The class is the output neuron with the highest potential at step ``t_max``.

    During the words of step ``t_max`` it keeps the running argmax of the potentials
    (ties to the lowest index); after the last one ``decided`` rises (``spiked`` is always
    high: this rule always decides). No early exit.

    Latency: ``decided`` is registered, high from the cycle after the last word of step
    ``t_max`` until ``clear``. Backpressure: none, it takes every word.

    Parameters: see :class:`~spinaps.hdl.decision.DecisionUnit`.
    """

    def elaborate(self, platform):
        m = Module()
        P = self.lanes
        w = self.neurons.payload
        jbits = bits_for(self.n_out)
        lowest_u = -(1 << (self.u_bits - 1))
        best_u, best_j = Signal(signed(self.u_bits)), Signal(jbits)
        first = w.word == 0
        candidates = []
        for lane in range(P):
            j = Signal(jbits + 1, name=f"j{lane}")
            m.d.comb += j.eq(w.word * P + lane)
            candidates.append((j < self.n_out, w.u[lane], j))
        _, c_u, c_j = lane_argmax(m, "pot", candidates, ~first, Mux(first, lowest_u, best_u), Mux(first, 0, best_j))
        with m.If(self.neurons.valid & ~self.decided & (w.step == self.t_max)):
            m.d.sync += [best_u.eq(c_u), best_j.eq(c_j)]
            with m.If(w.last):
                m.d.sync += [self.decided.eq(1), self.spiked.eq(1), self.step.eq(w.step), self.cls.eq(c_j)]
        with m.If(self.clear):
            m.d.sync += self.decided.eq(0)
        return m
