"""Amaranth simulator: the stream register passes every beat in order, at full rate."""

import random

import pytest
from amaranth.sim import Simulator

from spinaps.hdl.stream_register import StreamRegister
from spinaps.sim.amaranth_streams import stream_collect, stream_send


@pytest.mark.parametrize("in_stall,out_stall", [(0.0, 0.0), (0.3, 0.0), (0.0, 0.5), (0.4, 0.4)])
def test_stream_register_keeps_every_beat_in_order(in_stall, out_stall):
    dut = StreamRegister(12)
    sent = [random.Random(7).randrange(4096) for _ in range(300)]
    sent = [(i * 37 + v) % 4096 for i, v in enumerate(sent)]
    got = []

    async def producer(ctx):
        await stream_send(ctx, dut.i, sent, stall=in_stall, rng=random.Random(2))

    async def consumer(ctx):
        beats = await stream_collect(ctx, dut.o, len(sent), stall=out_stall, rng=random.Random(3))
        got.extend(int(b) for b in beats)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(producer)
    sim.add_testbench(consumer)
    sim.run()
    assert got == sent


def test_stream_register_runs_at_one_beat_per_cycle():
    dut = StreamRegister(8)
    n = 64
    done_at = []

    async def bench(ctx):
        ctx.set(dut.o.ready, 1)
        ctx.set(dut.i.valid, 1)
        taken, seen, cycle = 0, [], 0
        while len(seen) < n:
            ctx.set(dut.i.payload, taken % 256)
            _, _, i_ready, o_valid, o_payload = await ctx.tick().sample(dut.i.ready, dut.o.valid, dut.o.payload)
            cycle += 1
            if o_valid:
                seen.append(int(o_payload))
            if i_ready:
                taken += 1
        done_at.append(cycle)
        assert seen == list(range(n))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert done_at[0] == n + 1      # one cycle of latency, no bubbles
