"""Stream drivers for Amaranth-simulator testbenches (async ``add_testbench`` style).

The cocotb tier has its own drivers in ``spinaps.sim.cocotb_streams``; both take payloads
as dicts and go through ``spinaps.hdl.layouts.pack`` / ``unpack`` so neither re-derives a
bit layout.
"""

import random

import numpy as np

__all__ = ["stream_send", "stream_collect", "encoder_runs", "encoder_word_runs"]


async def stream_send(ctx, stream, payloads, *, stall=0.0, rng=None):
    """Send every payload (ints or values Amaranth accepts) on ``stream``, honouring ready.

    ``stall`` is the probability of holding valid low for a cycle between beats.
    """
    rng = rng or random.Random(0)
    for p in payloads:
        while rng.random() < stall:
            ctx.set(stream.valid, 0)
            await ctx.tick()
        ctx.set(stream.valid, 1)
        ctx.set(stream.payload, p)
        await ctx.tick().until(stream.ready)
    ctx.set(stream.valid, 0)


async def stream_collect(ctx, stream, count=None, *, until=None, stall=0.0, rng=None, timeout=100_000):
    """Collect payloads from ``stream`` (as returned by ``ctx.get``) with random ready stalls.

    Stops after ``count`` beats, or after the beat for which ``until(payload)`` is true.
    """
    rng = rng or random.Random(1)
    out = []
    for _ in range(timeout):
        ready = rng.random() >= stall
        ctx.set(stream.ready, ready)
        _, _, valid, payload = await ctx.tick().sample(stream.valid, stream.payload)
        if ready and valid:
            out.append(payload)
            if (count is not None and len(out) == count) or (until is not None and until(payload)):
                ctx.set(stream.ready, 0)
                return out
    raise TimeoutError(f"stream_collect: got {len(out)} beats before the timeout")


def encoder_runs(dut, samples, seeds, t_max, *, stall=0.0):
    """Run an encoder (``sample``, ``seed``, ``start``, ``events``; either encoder type) on
    each sample with its seed, with random stalls on both streams, in the Amaranth simulator.

    Returns per run the events as ``(index, hist)`` tuples and ``"eos"`` markers, the form of
    :func:`spinaps.sim.expect.expected_encoder_events`; checks that nothing comes after the
    ``t_max``-th end of step.
    """
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

    _simulate(dut, bench)
    return got


def encoder_word_runs(dut, samples, seeds, t_max, *, stall=0.0):
    """Run an encoder built with ``words_out`` (window mode) on each sample with its seed,
    with random stalls on both streams, in the Amaranth simulator.

    Returns per run the input spikes ``[t_max, n_inputs]`` read from the ``words`` beats
    (lane ``l`` of word ``q`` is input ``q * dut.word_lanes + l``); checks that every step is
    ``dut.words_per_step`` words in order with ``last`` on the last, and nothing comes after
    the ``t_max``-th step.
    """
    got = []
    n, lanes, per_step = dut.n_inputs, dut.word_lanes, dut.words_per_step

    async def bench(ctx):
        for x, seed in zip(samples, seeds):
            await stream_send(ctx, dut.sample, [int(v) for v in x], stall=stall, rng=random.Random(1))
            ctx.set(dut.seed, seed)
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            spikes = np.zeros((t_max, n), dtype=np.int64)
            for t in range(t_max):
                beats = await stream_collect(ctx, dut.words, until=lambda p: p.last, stall=stall,
                                             rng=random.Random(seed + t))
                assert [int(b.word) for b in beats] == list(range(per_step)), f"step {t + 1}: words out of order"
                for b in beats:
                    for lane in range(lanes):
                        j = int(b.word) * lanes + lane
                        if j < n:
                            spikes[t, j] = (int(b.spikes) >> lane) & 1
            got.append(spikes)
            await ctx.tick().repeat(3)
            assert not ctx.get(dut.words.valid), "encoder gave words past t_max"

    _simulate(dut, bench)
    return got


def _simulate(dut, bench):
    """Run the async testbench ``bench`` on ``dut`` in the Amaranth simulator (100 MHz clock)."""
    from amaranth.sim import Simulator

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
