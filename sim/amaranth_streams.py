"""Stream drivers for Amaranth-simulator testbenches (async ``add_testbench`` style).

The cocotb tier has its own drivers in ``spinaps.sim.cocotb_streams``; both take payloads
as dicts and go through ``spinaps.hdl.layouts.pack`` / ``unpack`` so neither re-derives a
bit layout.
"""

import random

__all__ = ["stream_send", "stream_collect"]


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
