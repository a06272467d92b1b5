"""cocotb on Icarus: the generated Verilog against the golden model (random models)."""

import numpy as np
import pytest

from spinaps.sim.compare import compare_with_golden
from spinaps.sim.models import random_glm_model
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
