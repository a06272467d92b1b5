"""Spike-count decision unit (docs/semantics.md section 6.2)."""

from amaranth.hdl import Cat, Module, Mux, Signal

from .argmax import lane_argmax
from .decision import DecisionUnit
from .layouts import bits_for

__all__ = ["SpikeCount"]


class SpikeCount(DecisionUnit):
    """Counts every output neuron's spikes over all ``t_max`` steps; the class is the argmax.

    Each word adds its spikes to the neurons' counters; during the words of step ``t_max``
    it keeps the running argmax of the updated counts (ties to the lowest index). After the
    last word of step ``t_max``, ``decided`` rises; ``spiked`` is high when any neuron fired.
    No early exit.

    Latency: ``decided`` is registered, high from the cycle after the last word of step
    ``t_max`` until ``clear``. Backpressure: none, it takes every word.

    Parameters: see :class:`~spinaps.hdl.decision.DecisionUnit`.
    """

    @property
    def count_bits(self):
        """Bits of a spike counter: it counts up to ``t_max`` spikes."""
        return bits_for(self.t_max + 1)

    @property
    def storage(self):
        """``{"spike_counts": ("ff", n_out * count_bits)}``: one counter per output neuron."""
        return {"spike_counts": ("ff", self.n_out * self.count_bits)}

    def elaborate(self, platform):
        m = Module()
        P, Qn = self.lanes, self.words
        w = self.neurons.payload
        cbits = self.count_bits
        jbits = bits_for(self.n_out)
        count = [Signal(cbits, name=f"count{j}") for j in range(Qn * P)]

        best_n, best_j = Signal(cbits), Signal(jbits)
        first = w.word == 0
        candidates = []
        for lane in range(P):
            js = [q * P + lane for q in range(Qn)]
            old = Cat(*[count[j] for j in js]).word_select(w.word, cbits)
            new = Signal(cbits, name=f"new_count{lane}")
            m.d.comb += new.eq(old + w.spikes[lane])
            for q, j in enumerate(js):
                if j < self.n_out:
                    with m.If(self.neurons.valid & (w.word == q)):
                        m.d.sync += count[j].eq(new)
            j = Signal(jbits + 1, name=f"j{lane}")
            m.d.comb += j.eq(w.word * P + lane)
            candidates.append((j < self.n_out, new, j))
        _, c_n, c_j = lane_argmax(m, "count", candidates, ~first, Mux(first, 0, best_n), Mux(first, 0, best_j))

        with m.If(self.neurons.valid & ~self.decided):
            m.d.sync += [best_n.eq(c_n), best_j.eq(c_j)]
            with m.If(w.last & (w.step == self.t_max)):
                m.d.sync += [self.decided.eq(1), self.spiked.eq(c_n != 0), self.step.eq(w.step),
                             self.cls.eq(c_j)]
        with m.If(self.clear):
            m.d.sync += self.decided.eq(0)
        return m
