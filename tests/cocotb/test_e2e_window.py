"""cocotb on Icarus: the window engine (docs/semantics.md 8.1) against the golden model.

Every spike of every layer, class, decision step and counter (reads included: the RTL's
count must equal the golden prediction for the schedule) with random valid/ready stalls.
A compact subset runs in ``make test``; the grid of windows {1, 2, 4, 8, 16} x adders {1, W} over
every decision rule, GLM, hybrid and all-LIF networks, SRAM and STT-RAM, random and trained
models is ``slow``.
"""

import numpy as np
import pytest

from spinaps.contract import WINDOWS
from spinaps.flow import rtl_check
from spinaps.sim.compare import compare_with_golden
from spinaps.sim.models import random_glm_model, random_network
from spinaps.sim.runner import run_rtl

pytestmark = pytest.mark.cocotb

NETWORKS = {
    "hybrid_glm_fts": dict(sizes=(24, 12, 6), lanes=[4, 3], glm_options=dict(k=2, tau=3)),
    "lif_fts": dict(sizes=(24, 12, 6), output="lif", decision="first_to_spike", lanes=[6, 6],
                    lif_options=dict(refractory=2, leak_shift=1)),
    "lif_spike_count": dict(sizes=(24, 10, 8, 4), output="lif", decision="spike_count", lanes=[5, 8, 2],
                            lif_options=dict(reset="zero", refractory=1)),
    "lif_max_potential": dict(sizes=(24, 12, 5), output="lif", decision="max_potential", lanes=[12, 5],
                              lif_options=dict(leak_shift=0, refractory=0)),
}
MEMORIES = {"sram": {}, "sttram": dict(read_latency=3)}


def _check(tmp_path, model, window, adders, memory, n, seed=4):
    rng = np.random.default_rng(seed)
    xs = rng.integers(0, 256, (n, model.sample_size)) * (rng.random((n, model.sample_size)) < 0.5)
    seeds = rng.integers(0, 65536, n)
    run = run_rtl(model, xs, seeds, build_dir=tmp_path, memory=memory, memory_options=MEMORIES[memory],
                  valid_prob=0.7, ready_prob=0.6, window=window, adders=adders)
    assert not run.probe_overflow
    report = compare_with_golden(model, xs, seeds, run.results, run.probes, window)
    assert report.mismatches == [], report.describe()
    return run


@pytest.mark.parametrize("network,window,adders,memory", [
    ("lif_fts", 4, 1, "sram"),
    ("hybrid_glm_fts", [2, 4], [2, 4], "sttram"),
])
def test_window_rtl_equals_golden(tmp_path, network, window, adders, memory):
    model = random_network(seed=17, t_max=7, encoder_lanes=8, **NETWORKS[network])
    _check(tmp_path, model, window, adders, memory, n=8)


@pytest.mark.parametrize("network,window,adders,memory", [
    ("lif_spike_count", 16, 16, "sram"),
    pytest.param("hybrid_glm_fts", [16, 8], [16, 1], "sttram", marks=pytest.mark.slow),
])
def test_window_16_over_several_windows(tmp_path, network, window, adders, memory):
    # The grid's runs (11 steps) are one short 16-step window: here two whole ones and a short one.
    model = random_network(seed=23, t_max=37, encoder_lanes=8, **NETWORKS[network])
    _check(tmp_path, model, window, adders, memory, n=6)


GRID = [(net, w, a, mem) for i, net in enumerate(NETWORKS) for j, w in enumerate(WINDOWS)
        for a in sorted({1, w}) for mem in [list(MEMORIES)[(i + j) % 2]]]


@pytest.mark.slow
@pytest.mark.parametrize("network,window,adders,memory", GRID)
def test_window_grid_rtl_equals_golden(tmp_path, network, window, adders, memory):
    model = random_network(seed=23, t_max=11, encoder_lanes=8, **NETWORKS[network])
    _check(tmp_path, model, window, adders, memory, n=16)


@pytest.mark.slow
@pytest.mark.parametrize("window,adders", [(w, a) for w in WINDOWS for a in sorted({1, w})])
def test_window_glm_only_rtl_equals_golden(tmp_path, window, adders):
    model = random_glm_model(seed=11, n_out=7, lanes=3, k=2, tau=3, t_max=9)
    _check(tmp_path, model, window, adders, "sttram" if window % 4 else "sram", n=16)


@pytest.mark.slow
@pytest.mark.parametrize("window,adders", [(4, 2), ([8, 2, 1], [1, 2, 1])])
def test_window_deterministic_time_series_rtl_equals_golden(tmp_path, window, adders):
    """The deterministic encoder on a time series (frames) behind the window collector."""
    from dataclasses import replace

    model = replace(random_network(seed=9, t_max=10, frames=3, **NETWORKS["lif_spike_count"]),
                    encoder_type="deterministic", encoder_base_seeds=None, encoder_lanes=6)
    _check(tmp_path, model, window, adders, "sram", n=12)


@pytest.mark.slow
@pytest.mark.parametrize("fixture,window,adders", [
    ("digits_hybrid_artifact", 4, 1), ("digits_hybrid_artifact", 2, 2),
    ("digits_lif_artifact", 8, 8), ("digits_lif_artifact", [4, 1], [4, 1]),
])
def test_window_trained_rtl_equals_golden(request, tmp_path, fixture, window, adders):
    artifact = request.getfixturevalue(fixture)
    run, cmp, _ = rtl_check(artifact, 40, build_dir=tmp_path, stall=0.3, window=window, adders=adders)
    assert len(run.results) == 40 and not run.probe_overflow
    assert cmp.mismatches == [], cmp.describe()
