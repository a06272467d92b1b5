"""Amaranth simulator: the window-mode events (docs/semantics.md 8.1) are exactly the window
events of the spikes, with stalls on every stream, from the encoder's groups and from a
layer's neuron words (the producer held by ``busy``), and
again after a reset (the tag and history memories are not cleared)."""

import random

import numpy as np
import pytest
from amaranth.hdl import ResetInserter, Signal
from amaranth.sim import Simulator

from spinaps.hdl.window_events import WindowEvents, window_storage
from spinaps.sim.amaranth_streams import stream_collect
from spinaps.sim.expect import expected_window_events


def _spikes(seed, t_max, n, p=0.3):
    return np.random.default_rng(seed).random((t_max, n)) < p


def _words(x, lanes):
    """``(word, last, spikes)`` per word of every step, as a producer sends them."""
    t_max, n = x.shape
    q_max = -(-n // lanes)
    return [[(q, q == q_max - 1, sum(int(x[t, j]) << (j - q * lanes) for j in range(q * lanes, min(n, (q + 1) * lanes))))
             for q in range(q_max)] for t in range(t_max)]


@pytest.mark.parametrize("n,lanes,tau,window,t_max,stall,producer", [
    (9, 4, 1, 4, 8, 0.3, "stream"), (7, 3, 3, 2, 7, 0.2, "stream"), (12, 5, 2, 8, 11, 0.0, "stream"),
    (5, 1, 6, 2, 9, 0.5, "stream"), (10, 4, 1, 4, 9, 0.3, "layer"), (6, 6, 3, 2, 7, 0.0, "layer"),
    (11, 3, 5, 2, 12, 0.4, "layer"), (8, 8, 2, 8, 20, 0.2, "layer"), (9, 2, 1, 4, 9, 0.0, "layer"),
    (7, 3, 4, 16, 37, 0.3, "layer"),
])
def test_window_events(n, lanes, tau, window, t_max, stall, producer):
    """Two runs of different spikes with a reset between them: each gives its window events.
    ``tau - 1 > window`` cases carry the history across several windows. A ``stream``
    producer honours ``ready`` beat by beat (the encoder); a ``layer`` waits for ``busy`` to
    fall before a step and then sends its words without a pause (a layer's update cannot
    stall), and ``ready`` must be high for each of them."""
    runs = [_spikes(n * 10 + tau + k, t_max, n) for k in range(2)]
    dut = WindowEvents(n=n, lanes=lanes, tau=tau, window=window, t_max=t_max)
    rst = Signal()
    top = ResetInserter(rst)(dut)
    n_windows = -(-t_max // window)
    got = [[] for _ in runs]
    phase = {"run": 0}

    async def driver(ctx):
        rng = random.Random(7)
        for k, x in enumerate(runs):
            for step in _words(x, lanes):
                if producer == "layer":
                    # A layer starts a step's update only while the link is not busy (pause).
                    while ctx.get(dut.busy) or rng.random() < stall:
                        ctx.set(dut.words.valid, 0)
                        await ctx.tick()
                for q, last, spikes in step:
                    while producer == "stream" and rng.random() < stall:
                        ctx.set(dut.words.valid, 0)
                        await ctx.tick()
                    ctx.set(dut.words.valid, 1)
                    ctx.set(dut.words.payload, {"word": q, "last": last, "spikes": spikes})
                    if producer == "layer":
                        assert ctx.get(dut.words.ready), "a layer's word arrived while the link could not take it"
                        await ctx.tick()
                    else:
                        await ctx.tick().until(dut.words.ready)
                ctx.set(dut.words.valid, 0)
            while phase["run"] == k:
                await ctx.tick()
            ctx.set(rst, 1)
            await ctx.tick()
            ctx.set(rst, 0)

    async def collector(ctx):
        for k in range(len(runs)):
            for _ in range(n_windows):
                beats = await stream_collect(ctx, dut.events, until=lambda b: b.eos, stall=stall,
                                             rng=random.Random(3))
                got[k].extend("eos" if b.eos else (int(b.index), int(b.hist)) for b in beats)
            phase["run"] = k + 1

    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(driver)
    sim.add_testbench(collector)
    sim.run()
    for x, events in zip(runs, got):
        assert events == expected_window_events(x, window, tau)


def test_overlap_collects_while_emitting():
    """With two banks the producer's words of the next window are taken while a window is
    being emitted (only a window's last word waits): the encoder keeps working."""
    dut = WindowEvents(n=4, lanes=4, tau=1, window=2, t_max=4)
    seen = {}

    async def bench(ctx):
        ctx.set(dut.events.ready, 0)                   # the consumer is slow: nothing leaves
        for t in range(4):
            ctx.set(dut.words.valid, 1)
            ctx.set(dut.words.payload, {"word": 0, "last": 1, "spikes": 0b1011})
            ready = ctx.get(dut.words.ready)
            seen[t] = ready
            if not ready:
                break
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert seen == {0: 1, 1: 1, 2: 1, 3: 0}


def test_window_events_storage():
    dut = WindowEvents(n=10, lanes=4, tau=3, window=4, t_max=8)
    assert dut.storage == window_storage(10, 4, 4, 3) == {
        "window_tags": ("lutram", 2 * 4 * 3 * 4), "window_active": ("ff", 10), "window_mask": ("ff", 10),
        "window_history": ("lutram", 3 * 4 * 2), "window_history_nz": ("ff", 10)}
    assert "window_history" not in WindowEvents(n=10, lanes=5, tau=1, window=2, t_max=8).storage


@pytest.mark.parametrize("window", [0, 3, 12, 32])
def test_window_events_reject_bad_windows(window):
    with pytest.raises(ValueError, match="window"):
        WindowEvents(n=4, lanes=2, tau=1, window=window, t_max=8)
