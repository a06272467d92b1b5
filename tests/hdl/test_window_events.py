"""Amaranth simulator: the window-mode event paths (docs/semantics.md 8.1) give exactly the
window events of the spikes, with stalls on every stream."""

import random

import numpy as np
import pytest
import torch
from amaranth.sim import Simulator

from spinaps.hdl.window_events import WindowCollector, WindowEvents
from spinaps.sim.amaranth_streams import stream_collect, stream_send
from spinaps.sim.expect import expected_window_events
from spinaps.sw import golden


def _spikes(seed, t_max, n, p=0.3):
    return np.random.default_rng(seed).random((t_max, n)) < p


def _run(dut, driver, n_windows, stall):
    got = []

    async def collector(ctx):
        for _ in range(n_windows):
            beats = await stream_collect(ctx, dut.events, until=lambda b: b.eos, stall=stall, rng=random.Random(3))
            got.extend("eos" if b.eos else (int(b.index), int(b.hist)) for b in beats)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(driver)
    sim.add_testbench(collector)
    sim.run()
    return got


@pytest.mark.parametrize("n,tau,window,t_max,stall", [
    (9, 1, 4, 8, 0.3), (7, 3, 2, 7, 0.2), (12, 2, 8, 11, 0.0), (5, 4, 2, 5, 0.5),
])
def test_collector_makes_window_events(n, tau, window, t_max, stall):
    """Per-step events (the encoder's, with tau history bits) become window events."""
    x = _spikes(n * 10 + tau, t_max, n)
    h = golden.histories(torch.as_tensor(x)[None], tau)[0].numpy()
    beats = []
    layout = WindowCollector(n=n, tau=tau, window=window, t_max=t_max).steps_in.payload.shape()
    for t in range(t_max):
        beats += [layout.const({"index": i, "hist": int(h[t, i])}) for i in np.flatnonzero(h[t])]
        beats.append(layout.const({"eos": 1}))
    dut = WindowCollector(n=n, tau=tau, window=window, t_max=t_max)

    async def driver(ctx):
        await stream_send(ctx, dut.steps_in, beats, stall=stall, rng=random.Random(2))

    got = _run(dut, driver, -(-t_max // window), stall)
    assert got == expected_window_events(x, window, tau)


@pytest.mark.parametrize("n,lanes,tau,window,t_max,stall", [
    (10, 4, 1, 4, 9, 0.3), (6, 6, 3, 2, 7, 0.0), (11, 3, 2, 8, 12, 0.4),
])
def test_window_events_from_neuron_words(n, lanes, tau, window, t_max, stall):
    """A layer's neuron words over a window become the next layer's window events; a window's
    last word is held while the previous window is still being emitted (``busy``)."""
    x = _spikes(n + lanes, t_max, n, p=0.25)
    dut = WindowEvents(n=n, lanes=lanes, u_bits=6, tau=tau, window=window, t_max=t_max)
    layout = dut.neurons.payload.shape()
    words = -(-n // lanes)

    async def driver(ctx):
        rng = random.Random(7)
        for t in range(1, t_max + 1):
            for q in range(words):
                last = q == words - 1
                while (last and (t % window == 0 or t == t_max) and ctx.get(dut.busy)) or rng.random() < stall:
                    await ctx.tick()
                spikes = sum(int(x[t - 1, j]) << (j - q * lanes) for j in range(q * lanes, min(n, (q + 1) * lanes)))
                ctx.set(dut.neurons.payload, layout.const({"step": t, "word": q, "last": last, "spikes": spikes}))
                ctx.set(dut.neurons.valid, 1)
                await ctx.tick()
                ctx.set(dut.neurons.valid, 0)

    got = _run(dut, driver, -(-t_max // window), stall)
    assert got == expected_window_events(x, window, tau)


def test_window_events_storage():
    dut = WindowEvents(n=10, lanes=4, u_bits=6, tau=3, window=4, t_max=8)
    assert dut.storage == {"window_tags": ("ff", 40), "window_pending": ("ff", 10), "window_emit": ("ff", 60),
                           "window_history": ("ff", 20)}
    assert "window_history" not in WindowCollector(n=10, tau=1, window=2, t_max=8).storage


@pytest.mark.parametrize("window", [0, 3, 16])
def test_window_paths_reject_bad_windows(window):
    with pytest.raises(ValueError, match="window"):
        WindowCollector(n=4, tau=1, window=window, t_max=8)
