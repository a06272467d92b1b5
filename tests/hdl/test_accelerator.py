"""Amaranth simulator: the whole accelerator against the golden model, with stalls."""

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from spinaps.hdl.accelerator import Accelerator
from spinaps.hdl.layouts import unpack
from spinaps.sim.amaranth_streams import stream_collect, stream_send
from spinaps.sim.compare import compare_with_golden, sample_beats
from spinaps.sim.models import random_glm_model, random_network


def run_accelerator(model, xs, seeds, *, memory="sram", stall=0.0, window=1, adders=1, **mem_opts):
    """Run samples through the RTL in the Amaranth simulator; results and every layer's probes."""
    dut = Accelerator(model, memory=memory, memory_options=mem_opts, window=window, adders=adders)
    layout = dut.result.payload.shape()
    results, probes = [], [[] for _ in dut.layers]

    async def feeder(ctx):
        await stream_send(ctx, dut.sample, sample_beats(xs, seeds), stall=stall, rng=random.Random(5))

    async def collector(ctx):
        got = await stream_collect(ctx, dut.result, count=len(xs), stall=stall, rng=random.Random(6))
        results.extend(unpack(layout, g.as_value().value) for g in got)

    def prober(index):
        probe, probe_valid = dut.probe(index)

        async def process(ctx):
            done = 0
            async for _, _, valid, step, word, spikes, rv, rr in ctx.tick().sample(
                    probe_valid, probe.step, probe.word, probe.spikes, dut.result.valid, dut.result.ready):
                if valid:
                    probes[index].append(dict(sample=done, step=step, word=word, spikes=spikes))
                done += rv & rr
        return process

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(feeder)
    sim.add_testbench(collector)
    for index in range(len(dut.layers)):
        sim.add_process(prober(index))
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


@pytest.mark.parametrize("kw,memory,stall", [
    (dict(sizes=(12, 8, 5), lanes=[3, 5], glm_options=dict(k=2, tau=3)), "sram", 0.3),
    (dict(sizes=(10, 9, 6, 4), output="lif", decision="spike_count", lanes=[4, 6, 2]), "sttram", 0.2),
    (dict(sizes=(12, 7, 3), output="lif", decision="max_potential", frames=3,
          lif_options=dict(reset="zero", refractory=0, leak_shift=0)), "sram", 0.0),
    (dict(sizes=(12, 8, 4), output="lif", decision="first_to_spike", lanes=[8, 3],
          lif_options=dict(refractory=2, leak_shift=1)), "sram", 0.3),
])
def test_multi_layer_accelerator_matches_golden(kw, memory, stall):
    model = random_network(seed=len(kw) + len(kw["sizes"]), t_max=6, **kw)
    rng = np.random.default_rng(3)
    n = 10
    xs = rng.integers(0, 256, (n, model.sample_size)) * (rng.random((n, model.sample_size)) < 0.6)
    seeds = rng.integers(0, 65536, n)
    results, probes = run_accelerator(model, xs, seeds, memory=memory, stall=stall)
    report = compare_with_golden(model, xs, seeds, results, probes)
    assert report.mismatches == [], report.describe()
    gold = model.run(xs, seeds)
    assert all(spikes.any() for spikes in gold.layer_spikes), "every layer should fire in this case"


@pytest.mark.parametrize("kw,encoder_lanes,stall", [
    (dict(sizes=(12, 8, 5), lanes=[3, 5], glm_options=dict(k=2, tau=3)), 5, 0.3),
    (dict(sizes=(10, 6, 4), output="lif", decision="spike_count", lanes=[4, 2], frames=2), 10, 0.2),
])
def test_deterministic_encoder_accelerator_matches_golden(kw, encoder_lanes, stall):
    """The accelerator with ``encoder_type = "deterministic"`` (docs/semantics.md 3.2)."""
    from dataclasses import replace

    model = replace(random_network(seed=9, t_max=7, **kw), encoder_type="deterministic",
                    encoder_base_seeds=None, encoder_lanes=encoder_lanes)
    rng = np.random.default_rng(5)
    n = 6
    xs = rng.integers(0, 256, (n, model.sample_size)) * (rng.random((n, model.sample_size)) < 0.6)
    seeds = rng.integers(0, 65536, n)
    results, probes = run_accelerator(model, xs, seeds, stall=stall)
    report = compare_with_golden(model, xs, seeds, results, probes)
    assert report.mismatches == [], report.describe()
    assert all(spikes.any() for spikes in model.run(xs, seeds).layer_spikes)


WINDOW_CASES = [
    # (network, window, adders, memory, stall)
    (dict(sizes=(12, 8, 4), output="lif", decision="first_to_spike", lanes=[8, 3],
          lif_options=dict(refractory=2, leak_shift=1)), 4, 1, "sram", 0.3),
    (dict(sizes=(12, 8, 5), lanes=[3, 5], glm_options=dict(k=2, tau=3)), [2, 8], [1, 8], "sttram", 0.2),
    (dict(sizes=(10, 9, 6, 4), output="lif", decision="spike_count", lanes=[4, 6, 2]), [1, 4, 2], [1, 3, 2],
     "sram", 0.2),
]


@pytest.mark.parametrize("kw,window,adders,memory,stall", WINDOW_CASES)
def test_window_accelerator_matches_golden(kw, window, adders, memory, stall):
    """Window schedules (docs/semantics.md 8.1): every spike, class, step and counter, and the
    reads equal the golden prediction for the schedule."""
    model = random_network(seed=len(kw) + len(kw["sizes"]), t_max=7, **kw)
    rng = np.random.default_rng(3)
    n = 6
    xs = rng.integers(0, 256, (n, model.sample_size)) * (rng.random((n, model.sample_size)) < 0.6)
    seeds = rng.integers(0, 65536, n)
    results, probes = run_accelerator(model, xs, seeds, memory=memory, stall=stall, window=window, adders=adders)
    report = compare_with_golden(model, xs, seeds, results, probes, window)
    assert report.mismatches == [], report.describe()
    # The check is not vacuous: the time-sequential prediction of reads differs.
    wrong = compare_with_golden(model, xs, seeds, results, probes, 1)
    assert any(what == "reads per layer" for _, what, _, _ in wrong.mismatches)


def test_window_storage_counts_banks():
    model = random_network(seed=2, t_max=6, sizes=(12, 8, 5), lanes=[4, 5], glm_options=dict(k=2, tau=3))
    seq, win = Accelerator(model).storage, Accelerator(model, window=4, adders=2).storage
    assert win["layer0.step_sums"][1] == 2 * 2 * 2 * 4 * seq["layer0.step_sums"][1] // (2 * 4)
    assert win["layer1.step_sums_fresh"] == ("ff", 2 * 2 * 1)
    assert "window_traces" in {name.split(".", 1)[1] for name in win} and "encoder.window_tags" in win
    assert "layer1.events_window_mask" in win and "encoder.history" not in win and not any("window" in name for name in seq)


@pytest.mark.parametrize("window,adders,field", [
    (3, 1, "window"), (4, 5, "adders"), (2, 0, "adders"), ([2, 4, 1], 1, "window"),
])
def test_accelerator_rejects_bad_schedules(window, adders, field):
    model = random_network(seed=1, t_max=4)
    with pytest.raises(ValueError, match=field):
        Accelerator(model, window=window, adders=adders)
