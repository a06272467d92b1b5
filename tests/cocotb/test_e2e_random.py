"""cocotb on Icarus: the generated Verilog against the golden model (random models)."""

import numpy as np
import pytest

from spinaps.sim.compare import compare_with_golden
from spinaps.sim.models import random_glm_model, random_network
from spinaps.sim.runner import run_rtl

pytestmark = pytest.mark.cocotb


@pytest.mark.parametrize("cfg,memory,opts", [
    (dict(n_out=7, lanes=3, k=2, tau=3), "sram", {}),
    (dict(n_in=9, n_out=4, lanes=4, k=3, tau=2, encoder_lanes=9), "sttram", dict(read_latency=3)),
])
def test_rtl_equals_golden_with_stalls(tmp_path, cfg, memory, opts):
    model = random_glm_model(seed=11, **cfg)
    rng = np.random.default_rng(2)
    n = 30
    xs = rng.integers(0, 256, (n, model.n_in)) * (rng.random((n, model.n_in)) < 0.6)
    seeds = rng.integers(0, 65536, n)
    run = run_rtl(model, xs, seeds, build_dir=tmp_path, memory=memory, memory_options=opts,
                  valid_prob=0.6, ready_prob=0.5)
    assert not run.probe_overflow
    report = compare_with_golden(model, xs, seeds, run.results, run.probes)
    assert report.mismatches == [], report.describe()


@pytest.mark.parametrize("kw,memory,opts", [
    # The hybrid of the issue: 64 -> 32 LIF -> 10 GLM first-to-spike, basis traces on the output.
    (dict(sizes=(64, 32, 10), lanes=[8, 5], glm_options=dict(k=2, tau=3)), "sram", {}),
    (dict(sizes=(64, 32, 10), lanes=[16, 10]), "sttram", dict(read_latency=3)),
    # All-LIF networks, one per decision rule.
    (dict(sizes=(64, 32, 10), output="lif", decision="first_to_spike", lanes=[8, 10]), "sram", {}),
    (dict(sizes=(64, 24, 16, 10), output="lif", decision="spike_count", lanes=[6, 16, 5],
          lif_options=dict(reset="zero", refractory=2)), "sttram", dict(read_latency=2)),
    (dict(sizes=(64, 32, 10), output="lif", decision="max_potential", lanes=[32, 4],
          lif_options=dict(leak_shift=0, refractory=0)), "sram", {}),
])
def test_multi_layer_rtl_equals_golden_with_stalls(tmp_path, kw, memory, opts):
    model = random_network(seed=17, t_max=8, encoder_lanes=16, **kw)
    rng = np.random.default_rng(4)
    n = 20
    xs = rng.integers(0, 256, (n, model.sample_size)) * (rng.random((n, model.sample_size)) < 0.5)
    seeds = rng.integers(0, 65536, n)
    run = run_rtl(model, xs, seeds, build_dir=tmp_path, memory=memory, memory_options=opts,
                  valid_prob=0.7, ready_prob=0.6)
    assert not run.probe_overflow
    report = compare_with_golden(model, xs, seeds, run.results, run.probes)
    assert report.mismatches == [], report.describe()
    gold = model.run(xs, seeds)
    assert all(spikes.any() for spikes in gold.layer_spikes), "every layer should fire in this case"
