"""First-to-spike decision unit with early exit (docs/semantics.md section 6.1)."""

from amaranth.hdl import Const, Module, Mux, Signal, signed

from .argmax import pipelined_lane_argmax, replaces
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

    Latency: ``decided`` is registered, high from ``latency`` cycles after the step's last
    word until ``clear``: the lanes of a word are reduced by a balanced tree with a register
    after every level (``latency - 1`` stages), then merged with the running bests of the
    step; ``latency`` is 2 for up to 2 lanes, 1 + ceil(log2(lanes)) beyond. Backpressure: none, it takes
    every word (``neurons`` is always ready).

    Parameters: see :class:`~spinaps.hdl.decision.DecisionUnit`.
    """

    @property
    def latency(self):
        """Cycles from a step's last word to ``decided`` (see Latency above)."""
        levels = (self.lanes - 1).bit_length()
        return max(levels, 1) + 1

    def elaborate(self, platform):
        m = Module()
        P = self.lanes
        w = self.neurons.payload
        jbits = bits_for(self.n_out)
        ushape = signed(self.u_bits)

        # Stage 1: the best spiking lane and the best lane of this word alone.
        spikes, everyone = [], []
        tail = self.n_out - (self.words - 1) * P      # real lanes in the last word
        for lane in range(P):
            j = Signal(jbits + 1, name=f"j{lane}")
            m.d.comb += j.eq(w.word * P + lane)
            real = Const(1, 1) if lane < tail else (w.word != self.words - 1)
            spikes.append((real & w.spikes[lane], w.u[lane], j))
            everyone.append((real, w.u[lane], j))
        (w_any, w_spk_u, w_spk_j), stages = pipelined_lane_argmax(m, "spk", spikes, ushape, jbits, levels_per_stage=1)
        (w_all_ok, w_all_u, w_all_j), _ = pipelined_lane_argmax(m, "all", everyone, ushape, jbits, levels_per_stage=1)
        assert stages + 1 == self.latency
        # The word's step, position and validity travel beside the tree's registers.
        meta = [(Signal(), Signal(), Signal(), Signal.like(w.step)) for _ in range(stages)]
        prev = (self.neurons.valid, w.word == 0, w.last, w.step)
        for valid, first, last, step in meta:
            m.d.sync += [valid.eq(prev[0] & ~self.clear), first.eq(prev[1]), last.eq(prev[2]), step.eq(prev[3])]
            prev = (valid, first, last, step)
        s1 = dict(valid=prev[0], first=prev[1], last=prev[2], step=prev[3], any=w_any, spk_u=w_spk_u,
                  spk_j=w_spk_j, all_ok=w_all_ok, all_u=w_all_u, all_j=w_all_j)

        # Stage 2: merge with the running bests of the step; a word with word == 0 starts a new
        # step. The compare is between the stage-1 registers and the running bests, and its
        # result enables the running bests' registers, loaded with the word's best as it is
        # (UP5K timing: no multiplexer before or after the compare). The running spiking best
        # is only read while ``spk_any`` is high, and the overall best always holds word 0's
        # best after a step's first word (lane 0 of word 0 is real), so the values a new step
        # would have cleared are never read.
        spk_any = Signal()
        # Values only, loaded before they are read in every inference: reset-less (see argmax).
        spk_u, spk_j = Signal(ushape, reset_less=True), Signal(jbits, reset_less=True)
        all_u, all_j = Signal(ushape, reset_less=True), Signal(jbits, reset_less=True)
        first = s1["first"]
        spk_take = replaces(m, "spk_run", (s1["any"], s1["spk_u"]), first, spk_any, spk_u)
        all_take = replaces(m, "all_run", (s1["all_ok"], s1["all_u"]), first, None, all_u)
        c_any = Signal()
        m.d.comb += c_any.eq(s1["any"] | (spk_any & ~first))

        with m.If(s1["valid"] & ~self.decided):
            m.d.sync += spk_any.eq(c_any)
            with m.If(spk_take):
                m.d.sync += [spk_u.eq(s1["spk_u"]), spk_j.eq(s1["spk_j"])]
            with m.If(all_take):
                m.d.sync += [all_u.eq(s1["all_u"]), all_j.eq(s1["all_j"])]
            with m.If(s1["last"] & (c_any | (s1["step"] == self.t_max))):
                m.d.sync += [self.decided.eq(1), self.spiked.eq(c_any), self.step.eq(s1["step"])]
        # The running bests freeze once decided, so the class can be chosen from them after
        # the register rather than before it (one multiplexer less on the merge path).
        m.d.comb += self.cls.eq(Mux(self.spiked, spk_j, all_j))
        with m.If(self.clear):
            m.d.sync += self.decided.eq(0)
        return m
