"""cocotb: weights loaded at run time through the accelerator's ``weights`` stream into
STT-RAM with write errors (docs/semantics.md 9.1), then inferences; the RTL must equal the
golden model run on the faulted weights that spinaps.sw.write_faults predicts from
(p, fault seed, write sequence) alone: every spike, class, step, event and sop counter, and
every layer's write counters. Stalls on every stream, the load included."""

import numpy as np
import pytest

from spinaps.sim.compare import compare_with_golden
from spinaps.sim.faults_runner import check_loaded
from spinaps.sim.models import random_network
from spinaps.sw import write_faults

pytestmark = pytest.mark.cocotb


def _samples(model, n, seed):
    rng = np.random.default_rng(seed)
    xs = rng.integers(0, 256, (n, model.sample_size)) * (rng.random((n, model.sample_size)) < 0.6)
    return xs, rng.integers(0, 65536, n)


def _check(tmp_path, model, n, *, p, retries, fault_seed, write_latency=3, stall=0.3):
    xs, seeds = _samples(model, n, fault_seed & 0xFFFF)
    loaded, faulted = check_loaded(model, xs, seeds, p=p, fault_seed=fault_seed, retries=retries,
                                   write_latency=write_latency, build_dir=tmp_path, load_valid_prob=1 - stall,
                                   valid_prob=1 - stall, ready_prob=1 - stall)
    assert loaded.comparison.mismatches == [], loaded.comparison.describe()
    return loaded, faulted, xs, seeds


def test_load_with_write_errors_then_infer(tmp_path):
    """Two layers (LIF hidden, GLM output), p = 0.1: the faults change the network's spikes,
    and the RTL follows the faulted golden model, not the intended one."""
    model = random_network(2, sizes=(12, 8, 5), output="glm", lanes=[4, 5])
    loaded, faulted, xs, seeds = _check(tmp_path, model, 8, p=0.1, retries=0, fault_seed=77)
    assert sum(s.write_errors for s in loaded.expected) > 5
    assert sum(c["writes"] for c in loaded.counters) == sum(len(w) for w in write_faults.network_words(model))
    intended = compare_with_golden(model, xs, seeds, loaded.run.results, loaded.run.probes)
    assert intended.mismatches, "the write errors should change some spike (else this test proves little)"


@pytest.mark.slow
@pytest.mark.parametrize("kw, p, retries, latency", [
    (dict(sizes=(12, 8, 5), output="glm", lanes=[4, 5]), 0.2, 2, 2),
    (dict(sizes=(16, 10, 6, 4), output="lif", decision="spike_count", lanes=[5, 3, 4]), 0.05, 0, 4),
    (dict(sizes=(16, 10, 4), output="lif", decision="max_potential", lanes=[10, 2],
          lif_options=dict(leak_shift=0, refractory=0)), 0.3, 3, 3),
    (dict(sizes=(10, 6), output="glm", glm_options=dict(k=2, tau=3, weight_bits=4)), 0.1, 1, 2),
])
def test_load_with_faults_and_write_verify(tmp_path, kw, p, retries, latency):
    model = random_network(5, t_max=8, **kw)
    loaded, _, _, _ = _check(tmp_path, model, 16, p=p, retries=retries, fault_seed=1234 + retries,
                             write_latency=latency)
    if retries:
        assert sum(s.retries for s in loaded.expected) > 0
