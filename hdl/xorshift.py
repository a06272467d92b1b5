"""Bank of xorshift32 pseudo-random generators, one per lane (docs/semantics.md section 2)."""

from amaranth.hdl import Elaboratable, Module, Signal, Const
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["xorshift32_next", "XorshiftBank"]


def xorshift32_next(m, state, name):
    """A comb Signal holding one xorshift32 step (13, 17, 5) of the 32-bit ``state``.

    The intermediate values are named Signals: a bare expression would repeat each one in
    the netlist, and named lanes keep simulators fast. Python reference:
    ``spinaps.sw.golden.xorshift32``.
    """
    a, b, draw = (Signal(32, name=f"{name}_{part}") for part in ("a", "b", "draw"))
    m.d.comb += [a.eq(state ^ (state << 13)), b.eq(a ^ (a >> 17)), draw.eq(b ^ (b << 5))]
    return draw


class XorshiftBank(wiring.Component):
    """``lanes`` xorshift32 generators that draw together.

    ``draw[g]`` is the value generator ``g`` returns on its next draw (combinational from
    the state); a cycle with ``advance`` consumes it. A cycle with ``load`` sets every state
    to ``base_seeds[g] ^ (seed << 16)`` (load wins over advance).

    Latency: 0 (draws are combinational from registers). No backpressure.

    Parameters
    ----------
    base_seeds : list of int
        32-bit constants, low 16 bits not all zero, one per lane.

    Raises
    ------
    ValueError
        Empty list, a seed out of 32-bit range or with a zero low half.
    """

    def __init__(self, base_seeds):
        base_seeds = [int(s) for s in base_seeds]
        if not base_seeds:
            raise ValueError("XorshiftBank needs at least one base seed (one per lane)")
        for g, s in enumerate(base_seeds):
            if not 0 <= s <= 0xFFFFFFFF:
                raise ValueError(f"base_seeds[{g}] = {s:#x} is not a 32-bit unsigned value")
            if s & 0xFFFF == 0:
                raise ValueError(f"base_seeds[{g}] = {s:#010x} has a zero low half; the state could become 0")
        self.base_seeds = base_seeds
        super().__init__({
            "seed": In(16),
            "load": In(1),
            "advance": In(1),
            # One port per lane (not one wide vector): a simulator then re-evaluates only
            # the readers of the lane that changed.
            "draw": Out(32).array(len(base_seeds)),
        })

    def elaborate(self, platform):
        m = Module()
        for g, base in enumerate(self.base_seeds):
            state = Signal(32, init=base, name=f"state{g}")
            m.d.comb += self.draw[g].eq(xorshift32_next(m, state, f"xorshift{g}"))
            with m.If(self.load):
                m.d.sync += state.eq(Const(base, 32) ^ (self.seed << 16))
            with m.Elif(self.advance):
                m.d.sync += state.eq(self.draw[g])
        return m
