"""Amaranth simulator: the whole accelerator against the golden model, with stalls."""

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from spinaps.hdl.accelerator import Accelerator
from spinaps.hdl.layouts import unpack
from spinaps.sim.amaranth_streams import stream_collect, stream_send
from spinaps.sim.compare import compare_with_golden, sample_beats
from spinaps.sim.models import random_glm_model


def run_accelerator(model, xs, seeds, *, memory="sram", stall=0.0, **mem_opts):
    """Run samples through the RTL in the Amaranth simulator; results and probe spikes."""
    dut = Accelerator(model, memory=memory, memory_options=mem_opts)
    layout = dut.result.payload.shape()
    results, probes = [], []

    async def feeder(ctx):
        await stream_send(ctx, dut.sample, sample_beats(xs, seeds), stall=stall, rng=random.Random(5))

    async def collector(ctx):
        got = await stream_collect(ctx, dut.result, count=len(xs), stall=stall, rng=random.Random(6))
        results.extend(unpack(layout, g.as_value().value) for g in got)

    async def prober(ctx):
        done = 0
        async for _, _, valid, step, word, spikes, rv, rr in ctx.tick().sample(
                dut.probe_valid, dut.probe.step, dut.probe.word, dut.probe.spikes,
                dut.result.valid, dut.result.ready):
            if valid:
                probes.append(dict(sample=done, step=step, word=word, spikes=spikes))
            done += rv & rr

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(feeder)
    sim.add_testbench(collector)
    sim.add_process(prober)
    sim.run()
    return results, probes


@pytest.mark.parametrize("cfg,memory,stall", [
    (dict(), "sram", 0.0),
    (dict(n_out=7, lanes=3, k=2, tau=3), "sram", 0.3),
    (dict(n_in=9, n_out=4, lanes=4, k=3, tau=2, encoder_lanes=9), "sttram", 0.2),
    (dict(n_in=20, n_out=3, lanes=1, weight_bits=1, t_max=4), "sttram", 0.0),
])
def test_accelerator_matches_golden(cfg, memory, stall):
    model = random_glm_model(seed=len(cfg), **cfg)
    rng = np.random.default_rng(1)
    n = 12
    xs = rng.integers(0, 256, (n, model.n_in)) * (rng.random((n, model.n_in)) < 0.5)
    seeds = rng.integers(0, 65536, n)
    results, probes = run_accelerator(model, xs, seeds, memory=memory, stall=stall)
    report = compare_with_golden(model, xs, seeds, results, probes)
    assert report.mismatches == [], report.describe()
    assert len(set(r["step"] for r in results)) > 1 or model.t_max == 1
