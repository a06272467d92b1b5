"""cocotb on Icarus, end to end with the deterministic encoder (docs/semantics.md 3.2): every
spike of every layer at every step, the class, the decision step and the counters equal the
golden model's, with random valid/ready stalls, for a GLM and a LIF network."""

import dataclasses

import numpy as np
import pytest

from spinaps.hdl.accelerator import Accelerator
from spinaps.hdl.deterministic_encoder import DeterministicEncoder
from spinaps.sim.compare import compare_with_golden
from spinaps.sim.models import random_network
from spinaps.sim.runner import run_rtl

pytestmark = pytest.mark.cocotb


def deterministic(model, lanes):
    """``model`` with the deterministic encoder of ``lanes`` lanes instead of its Bernoulli one."""
    return dataclasses.replace(model, encoder_type="deterministic", encoder_base_seeds=None, encoder_lanes=lanes)


@pytest.mark.parametrize("kw,encoder_lanes,memory,opts", [
    # A hybrid with a GLM first-to-spike output (basis traces over 3 steps: the encoder's
    # history path), one padded encoder group.
    (dict(sizes=(30, 16, 6), lanes=[4, 3], glm_options=dict(k=2, tau=3)), 7, "sram", {}),
    # All-LIF, spike count, a 3-frame time series: the accumulators carry across frames.
    (dict(sizes=(24, 12, 5), output="lif", decision="spike_count", lanes=[5, 2], frames=3,
          lif_options=dict(reset="zero", refractory=1)), 24, "sttram", dict(read_latency=2)),
])
def test_deterministic_rtl_equals_golden(tmp_path, kw, encoder_lanes, memory, opts):
    model = deterministic(random_network(seed=23, t_max=10, **kw), encoder_lanes)
    assert isinstance(Accelerator(model).encoder, DeterministicEncoder)
    rng = np.random.default_rng(8)
    n = 6
    xs = rng.integers(0, 256, (n, model.sample_size)) * (rng.random((n, model.sample_size)) < 0.6)
    seeds = rng.integers(0, 65536, n)
    run = run_rtl(model, xs, seeds, build_dir=tmp_path, memory=memory, memory_options=opts,
                  valid_prob=0.7, ready_prob=0.6)
    assert len(run.results) == n and not run.probe_overflow
    report = compare_with_golden(model, xs, seeds, run.results, run.probes)
    assert report.mismatches == [], report.describe()
    gold = model.run(xs, seeds)
    assert all(spikes.any() for spikes in gold.layer_spikes), "every layer should fire in this case"


def test_trained_digits_lif_network_with_the_deterministic_encoder(tmp_path, digits_lif_artifact):
    """A trained digits 64 -> 32 LIF -> 10 LIF spike-count network on real test samples."""
    from spinaps.contract import sample_seeds
    from spinaps.sw.datasets import load_dataset
    from spinaps.sw.golden import GoldenModel

    model = deterministic(GoldenModel.from_artifact(digits_lif_artifact), 16)
    ds = load_dataset("digits")
    n = 8
    xs, seeds = ds.x_test[:n], sample_seeds(n)
    run = run_rtl(model, xs, seeds, build_dir=tmp_path, valid_prob=0.8, ready_prob=0.7)
    assert len(run.results) == n and not run.probe_overflow
    report = compare_with_golden(model, xs, seeds, run.results, run.probes)
    assert report.mismatches == [], report.describe()
