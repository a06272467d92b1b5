"""First-to-spike decision unit with early exit (docs/semantics.md section 6)."""

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .layouts import bits_for, neuron_word_layout
from .params import check_range

__all__ = ["FirstToSpike"]


class FirstToSpike(wiring.Component):
    """Watches the output layer's neuron words and decides the class.

    Within a step it keeps the spiking neuron with the highest potential and the neuron
    with the highest potential overall (ties to the lowest index: words and lanes arrive in
    ascending index and only a strictly higher potential replaces the best). After the last
    word of a step: if a neuron spiked, ``decided`` rises with that class; else, at
    ``t_max``, it rises with the overall argmax and ``spiked`` low.

    Latency: ``decided`` is registered, high from the cycle after the step's last word
    until ``clear``. Backpressure: none, it takes every word (``neurons`` is always ready).

    Parameters
    ----------
    n_out, lanes, u_bits, t_max : int
        Output layer size, its lanes and potential width; time steps per inference.
    """

    def __init__(self, *, n_out, lanes, u_bits, t_max):
        check_range("n_out", n_out, 2, 65536)
        check_range("lanes", lanes, 1, n_out)
        check_range("t_max", t_max, 1, 255)
        self.n_out, self.lanes, self.u_bits, self.t_max = n_out, lanes, u_bits, t_max
        self.words = -(-n_out // lanes)
        super().__init__({
            "neurons": In(stream.Signature(neuron_word_layout(lanes, u_bits, self.words, t_max),
                                           always_ready=True)),
            "clear": In(1),
            "decided": Out(1),
            "spiked": Out(1),
            "cls": Out(bits_for(n_out)),
            "step": Out(bits_for(t_max + 1)),
        })

    def elaborate(self, platform):
        m = Module()
        P = self.lanes
        w = self.neurons.payload
        lowest_u = -(1 << (self.u_bits - 1))

        # Running bests of the current step; a word with word == 0 starts a new step.
        spk_any, spk_u, spk_j = Signal(), Signal(signed(self.u_bits)), Signal(bits_for(self.n_out))
        all_u, all_j = Signal(signed(self.u_bits)), Signal(bits_for(self.n_out))
        first = w.word == 0
        # Each lane's running best is a named Signal: chaining bare Mux expressions would
        # reuse every previous lane's expression twice and grow the netlist as 2**lanes.
        jbits = bits_for(self.n_out)
        c_any, c_spk_u, c_spk_j = Mux(first, 0, spk_any), Mux(first, lowest_u, spk_u), Mux(first, 0, spk_j)
        c_all_u, c_all_j = Mux(first, lowest_u, all_u), Mux(first, 0, all_j)
        c_all_seen = ~first  # on the first word, lane 0 always becomes the overall best
        for lane in range(P):
            j = Signal(jbits + 1, name=f"j{lane}")
            m.d.comb += j.eq(w.word * P + lane)
            real = j < self.n_out
            u = w.u[lane]
            take_all = real & (~c_all_seen | (u > c_all_u))
            take_spk = real & w.spikes[lane] & (~c_any | (u > c_spk_u))
            n_all_u, n_spk_u = Signal(signed(self.u_bits), name=f"all_u{lane}"), Signal(signed(self.u_bits), name=f"spk_u{lane}")
            n_all_j, n_spk_j = Signal(jbits, name=f"all_j{lane}"), Signal(jbits, name=f"spk_j{lane}")
            n_any, n_seen = Signal(name=f"any{lane}"), Signal(name=f"seen{lane}")
            m.d.comb += [
                n_all_u.eq(Mux(take_all, u, c_all_u)), n_all_j.eq(Mux(take_all, j, c_all_j)),
                n_spk_u.eq(Mux(take_spk, u, c_spk_u)), n_spk_j.eq(Mux(take_spk, j, c_spk_j)),
                n_any.eq(c_any | (real & w.spikes[lane])), n_seen.eq(c_all_seen | real),
            ]
            c_all_u, c_all_j, c_spk_u, c_spk_j, c_any, c_all_seen = n_all_u, n_all_j, n_spk_u, n_spk_j, n_any, n_seen

        with m.If(self.neurons.valid & ~self.decided):
            m.d.sync += [spk_any.eq(c_any), spk_u.eq(c_spk_u), spk_j.eq(c_spk_j),
                         all_u.eq(c_all_u), all_j.eq(c_all_j)]
            with m.If(w.last & (c_any | (w.step == self.t_max))):
                m.d.sync += [self.decided.eq(1), self.spiked.eq(c_any), self.step.eq(w.step),
                             self.cls.eq(Mux(c_any, c_spk_j, c_all_j))]
        with m.If(self.clear):
            m.d.sync += self.decided.eq(0)
        return m
