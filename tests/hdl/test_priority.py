"""Amaranth simulator: the emitters' selection and count trees (hdl/priority.py) against Python."""

import random

import pytest
from amaranth.hdl import Module, Signal
from amaranth.sim import Simulator

from spinaps.hdl.priority import count_is, lowest_select


def _values(n, rng):
    """Every vector of ``n`` bits, or 2000 random ones."""
    return range(2**n) if n <= 8 else [rng.randrange(2**n) for _ in range(2000)]


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13])
def test_lowest_select_is_the_lowest_set_bit(n):
    m = Module()
    bits = [Signal(name=f"b{i}") for i in range(n)]
    payloads = [Signal(3, name=f"p{i}") for i in range(n)]
    index, payload, rest = lowest_select(m, bits, payloads, name="sel")
    got = [Signal(8, name="index"), Signal(3, name="payload"), Signal(n, name="rest")]
    m.d.comb += [got[0].eq(index), got[1].eq(payload), got[2].eq(rest)]
    rng = random.Random(n)

    async def bench(ctx):
        for v in _values(n, rng):
            data = [rng.randrange(8) for _ in range(n)]
            for i in range(n):
                ctx.set(bits[i], (v >> i) & 1)
                ctx.set(payloads[i], data[i])
            low = (v & -v).bit_length() - 1
            want = (low, data[low], v & (v - 1)) if v else (0, 0, 0)
            assert tuple(ctx.get(s) for s in got) == want, v

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()


@pytest.mark.parametrize("n,leaf", [(1, 4), (4, 4), (5, 2), (8, 4), (8, 2), (11, 4)])
def test_count_is_counts(n, leaf):
    m = Module()
    bits = [Signal(name=f"b{i}") for i in range(n)]
    got = [Signal(name=f"is{k}") for k in range(3)]
    m.d.comb += [g.eq(count_is(m, bits, k, leaf=leaf, name=f"c{k}")) for k, g in enumerate(got)]
    rng = random.Random(n * leaf)

    async def bench(ctx):
        for v in _values(n, rng):
            for i in range(n):
                ctx.set(bits[i], (v >> i) & 1)
            assert [ctx.get(g) for g in got] == [int(bin(v).count("1") == k) for k in range(3)], v

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()


def test_count_is_rejects_a_count_it_does_not_build():
    with pytest.raises(ValueError, match="count"):
        count_is(Module(), [Signal()], 3, name="c")
