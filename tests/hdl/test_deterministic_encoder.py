"""Amaranth simulator: the deterministic encoder's events equal the golden model's spikes
and histories (docs/semantics.md 3.2, 4), with random stalls on both streams."""

import random

import numpy as np
import pytest
import torch
from amaranth.sim import Simulator

from spinaps import contract
from spinaps.hdl.deterministic_encoder import DeterministicEncoder
from spinaps.sim.amaranth_streams import stream_collect, stream_send
from spinaps.sw import golden


def expected_events(x, tau, t_max, frames):
    """Per step the ``(index, hist)`` of every input with a non-zero history, then "eos"."""
    h = golden.histories(golden.encode_deterministic(np.asarray(x)[None], t_max, frames), tau)[0]
    out = []
    for t in range(t_max):
        out += [(i, int(h[t, i])) for i in torch.nonzero(h[t]).flatten().tolist()]
        out.append("eos")
    return out


@pytest.mark.parametrize("n_inputs,lanes,tau,frames,stall", [
    (13, 4, 1, 1, 0.0), (13, 5, 3, 1, 0.3), (8, 8, 2, 3, 0.5), (5, 1, 1, 2, 0.2), (20, 16, 8, 1, 0.0),
    (6, 6, 2, 1, 0.4),                                  # one group: transparent accumulator read
])
def test_deterministic_encoder_matches_golden(n_inputs, lanes, tau, frames, stall):
    rng = np.random.default_rng(n_inputs * 100 + lanes)
    t_max = 9
    dut = DeterministicEncoder(n_inputs=n_inputs, lanes=lanes, tau=tau, t_max=t_max, frames=frames)
    samples = [rng.integers(0, 256, frames * n_inputs, dtype=np.int64) for _ in range(2)]
    samples[1][:3] = [255, 0, 128]
    got = []

    async def bench(ctx):
        for x, seed in zip(samples, [3, 65535]):
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
    for x, g in zip(samples, got):
        want = expected_events(x, tau, t_max, frames)
        assert g == want
    assert any(e != "eos" for e in got[0])


def test_storage_reports_the_accumulators():
    dut = DeterministicEncoder(n_inputs=13, lanes=5, tau=3, t_max=4, frames=2)
    assert dut.storage == {"samples": ("bram", 8 * 5 * 3 * 2), "history": ("bram", 5 * 2 * 3),
                           "accumulators": ("bram", contract.INTENSITY_BITS * 5 * 3)}


@pytest.mark.parametrize("kw,field", [
    (dict(n_inputs=0), "n_inputs"), (dict(lanes=0), "lanes"), (dict(lanes=9), "lanes"),
    (dict(tau=9), "tau"), (dict(t_max=0), "t_max"), (dict(frames=0), "frames"),
])
def test_deterministic_encoder_rejects_bad_parameters(kw, field):
    args = dict(n_inputs=8, lanes=4, tau=1, t_max=4)
    args.update(kw)
    with pytest.raises(ValueError, match=field):
        DeterministicEncoder(**args)
