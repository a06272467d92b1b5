"""Bank of xorshift32 pseudo-random generators, one per lane (docs/semantics.md section 2)."""

from amaranth.hdl import Module, Signal, Const
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from spinaps.contract import MASK32, SEED_BITS, XORSHIFT_SHIFTS, check_base_seeds

__all__ = ["STATE_BITS", "xorshift32_next", "XorshiftBank"]

#: Bits of a generator's state.
STATE_BITS = MASK32.bit_length()


def xorshift32_next(m, state, name):
    """A comb Signal holding one xorshift32 step (shifts 13, 17, 5) of the 32-bit ``state``.

    The intermediate values are named Signals: a bare expression would repeat each one in
    the netlist, and named lanes keep simulators fast. Python reference:
    :func:`spinaps.contract.xorshift32`.
    """
    left1, right, left2 = XORSHIFT_SHIFTS
    a, b, draw = (Signal(STATE_BITS, name=f"{name}_{part}") for part in ("a", "b", "draw"))
    m.d.comb += [a.eq(state ^ (state << left1)), b.eq(a ^ (a >> right)), draw.eq(b ^ (b << left2))]
    return draw


class XorshiftBank(wiring.Component):
    """``lanes`` xorshift32 generators that draw together.

    ``draw[g]`` is the value generator ``g`` returns on its next draw (combinational from
    the state); a cycle with ``advance`` consumes it. A cycle with ``load`` sets every state
    to ``base_seeds[g] ^ (seed << 16)`` (:func:`spinaps.contract.initial_state`; load wins
    over advance).

    With ``draws = 2`` each generator also gives ``draw2[g]``, the draw after ``draw[g]``
    (two steps chained), and a cycle with ``advance`` and ``advance2`` consumes both: the
    same sequence, two draws per cycle.

    Latency: 0 (draws are combinational from registers). No backpressure.

    Parameters
    ----------
    base_seeds : list of int
        32-bit constants, low 16 bits not all zero, one per lane.
    draws : int
        Draws per generator per cycle, 1 or 2.
    reset_less : bool
        States not reset by the domain's reset (for a user that loads them before every
        use, like the encoder at ``start``: the reset would only add a term to their
        enables).

    Raises
    ------
    ValueError
        Empty list, a seed out of 32-bit range or with a zero low half
        (:func:`spinaps.contract.check_base_seeds`).
    """

    def __init__(self, base_seeds, draws=1, reset_less=False):
        base_seeds = [int(s) for s in base_seeds]
        if not base_seeds:
            raise ValueError("XorshiftBank needs at least one base seed (one per lane)")
        check_base_seeds(base_seeds)
        if draws not in (1, 2):
            raise ValueError(f"draws = {draws}: a generator gives 1 or 2 draws per cycle")
        self.base_seeds, self.draws, self.reset_less = base_seeds, draws, reset_less
        ports = {
            "seed": In(SEED_BITS),
            "load": In(1),
            "advance": In(1),
            # One port per lane (not one wide vector): a simulator then re-evaluates only
            # the readers of the lane that changed.
            "draw": Out(STATE_BITS).array(len(base_seeds)),
        }
        if draws == 2:
            ports.update({"advance2": In(1), "draw2": Out(STATE_BITS).array(len(base_seeds))})
        super().__init__(ports)

    @property
    def storage(self):
        """``{"generators": ("ff", 32 * lanes)}``: the generators' states (flip-flops)."""
        return {"generators": ("ff", STATE_BITS * len(self.base_seeds))}

    def elaborate(self, platform):
        m = Module()
        for g, base in enumerate(self.base_seeds):
            state = Signal(STATE_BITS, init=base, name=f"state{g}", reset_less=self.reset_less)
            m.d.comb += self.draw[g].eq(xorshift32_next(m, state, f"xorshift{g}"))
            if self.draws == 2:
                m.d.comb += self.draw2[g].eq(xorshift32_next(m, self.draw[g], f"xorshift{g}_2"))
            with m.If(self.load):
                m.d.sync += state.eq(Const(base, STATE_BITS) ^ (self.seed << SEED_BITS))
            with m.Elif(self.advance):
                m.d.sync += state.eq(self.draw[g])
                if self.draws == 2:
                    with m.If(self.advance2):
                        m.d.sync += state.eq(self.draw2[g])
        return m
