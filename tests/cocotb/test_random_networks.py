"""Property: on random valid networks nobody chose, the RTL equals the golden model.

hypothesis draws a :class:`spinaps.sim.random_networks.RandomNetwork` (layers, sizes, weight
widths, K, tau, lanes, encoder type and lanes, decision rule, LIF leak/reset/refractory,
thresholds and biases near saturation, SRAM or STT-RAM with its latencies, valid/ready stall
pattern, samples), builds it through the artifact builders, simulates it (one compile and a
few samples per example) and compares every spike of every layer, the class, the decision
step and the counters (:func:`spinaps.sim.compare.compare_with_golden`).

``make test`` runs a small derandomized budget (the same examples on every run);
``make test-full`` runs ``SLOW_EXAMPLES`` random ones. A failure shrinks toward a small
network, and the test prints its reproducer (the spec's repr: every parameter and the seed)
and hypothesis's ``@reproduce_failure`` blob. The example database lives under
``build/hypothesis`` (ignored by git, removed by ``make clean``).
"""

import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, note, settings  # noqa: E402
from hypothesis.database import DirectoryBasedExampleDatabase  # noqa: E402

from spinaps.sim.random_networks import network_strategy, rtl_comparison  # noqa: E402

pytestmark = pytest.mark.cocotb

FAST_EXAMPLES = 4
SLOW_EXAMPLES = 60
ROOT = Path(__file__).resolve().parents[2]

COMMON = dict(deadline=None, print_blob=True, report_multiple_bugs=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FAST = settings(max_examples=FAST_EXAMPLES, derandomize=True, database=None, **COMMON)
SLOW = settings(max_examples=SLOW_EXAMPLES, database=DirectoryBasedExampleDatabase(ROOT / "build" / "hypothesis"),
                **COMMON)


def check_network(net):
    """Simulate ``net`` and assert RTL == golden on every spike, class, step and counter."""
    note(f"reproducer:\n{net.reproducer()}")
    with tempfile.TemporaryDirectory(prefix="spinaps_randnet_") as build:
        report, run = rtl_comparison(net, Path(build))
    assert not run.probe_overflow, net.reproducer()
    assert report.mismatches == [], f"{report.describe()}\n{net.reproducer()}"
    # What the examples exercised (pytest --hypothesis-show-statistics).
    model = net.model()
    gold = model.run(*net.stimulus())
    event(f"{len(model.layers)} layer(s), {model.layers[-1].kind} output, {model.decision}, {net.memory}")
    event("every layer fired" if all(s.any() for s in gold.layer_spikes) else "some layer silent")


@FAST
@given(net=network_strategy())
def test_random_networks_rtl_equals_golden(net):
    check_network(net)


@pytest.mark.slow
@SLOW
@given(net=network_strategy())
def test_many_random_networks_rtl_equals_golden(net):
    check_network(net)
