"""Amaranth simulator: the encoder's events equal the golden model's spikes and histories."""

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from spinaps.hdl.encoder import BernoulliEncoder
from spinaps.sim.amaranth_streams import stream_collect, stream_send
from spinaps.sim.expect import expected_encoder_events as expected_events


@pytest.mark.parametrize("n_inputs,lanes,tau,stall", [
    (13, 4, 1, 0.0), (13, 5, 3, 0.3), (8, 8, 2, 0.5), (5, 1, 1, 0.2), (20, 16, 8, 0.0),
])
def test_encoder_matches_golden(n_inputs, lanes, tau, stall):
    rng = np.random.default_rng(n_inputs * 100 + lanes)
    t_max = 6
    base_seeds = [int(s) | 1 for s in rng.integers(1, 2**32, lanes)]
    dut = BernoulliEncoder(n_inputs=n_inputs, lanes=lanes, tau=tau, t_max=t_max, base_seeds=base_seeds)
    samples = [rng.integers(0, 256, n_inputs, dtype=np.int64) for _ in range(2)]
    seeds = [3, 65535]
    got = []

    async def bench(ctx):
        for x, seed in zip(samples, seeds):
            await stream_send(ctx, dut.sample, [int(v) for v in x], stall=stall, rng=random.Random(1))
            assert ctx.get(dut.loaded)
            ctx.set(dut.seed, seed)
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            beats = []
            for _ in range(t_max):
                beats += await stream_collect(ctx, dut.events, until=lambda p: p.eos, stall=stall,
                                              rng=random.Random(seed))
            got.append(["eos" if b.eos else (int(b.index), int(b.hist)) for b in beats])
            await ctx.tick().repeat(3)
            assert not ctx.get(dut.events.valid), "encoder emitted past t_max"

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    for x, seed, g in zip(samples, seeds, got):
        assert g == expected_events(x, seed, base_seeds, tau, t_max)


@pytest.mark.parametrize("kw,field", [
    (dict(n_inputs=0), "n_inputs"), (dict(lanes=0), "lanes"), (dict(lanes=9), "lanes"),
    (dict(tau=9), "tau"), (dict(t_max=0), "t_max"),
])
def test_encoder_rejects_bad_parameters(kw, field):
    args = dict(n_inputs=8, lanes=4, tau=1, t_max=4, base_seeds=[1, 2, 3, 4])
    args.update(kw)
    if "lanes" in kw and kw["lanes"] > 0:
        args["base_seeds"] = [1] * kw["lanes"]
    with pytest.raises(ValueError, match=field):
        BernoulliEncoder(**args)
