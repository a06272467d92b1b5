"""Amaranth simulator: the generator bank draws what the golden model draws."""

import pytest
from amaranth.sim import Simulator

from spinaps.hdl.xorshift import XorshiftBank
from spinaps.sw import golden


def test_bank_matches_golden_draw_table():
    base = [0x9E3779B9, 0x00000001, 0xFFFF1234]
    dut = XorshiftBank(base)
    expect = golden.draw_table(base, [0xBEEF], 20)[0]

    got = []

    async def bench2(ctx):
        ctx.set(dut.seed, 0xBEEF)
        ctx.set(dut.load, 1)
        await ctx.tick()
        ctx.set(dut.load, 0)
        for n in range(30):
            advance = n % 3 != 2
            ctx.set(dut.advance, advance)
            if advance:
                got.append([ctx.get(dut.draw[g]) for g in range(3)])
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench2)
    sim.run()
    assert got == expect.tolist()


@pytest.mark.parametrize("seeds,match", [([], "at least one"), ([0x10000], "low 16 bits"), ([2**32], "32-bit")])
def test_bank_rejects_bad_seeds(seeds, match):
    with pytest.raises(ValueError, match=match):
        XorshiftBank(seeds)
