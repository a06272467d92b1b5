"""cocotb on Icarus, end to end on trained digits networks with hidden LIF layers: every spike of
every layer, the class, the decision step and the per-layer counters equal the golden model's,
with random valid/ready stalls (semantics sections 0, 5b, 6, 7)."""

import pytest

from spinaps.flow import rtl_check

pytestmark = pytest.mark.cocotb


@pytest.mark.parametrize("memory,options", [("sram", None), ("sttram", {"read_latency": 3, "write_latency": 5})])
def test_digits_hybrid_rtl_equals_golden(tmp_path, digits_hybrid_artifact, memory, options):
    run, cmp, labels = rtl_check(digits_hybrid_artifact, 100, build_dir=tmp_path, memory=memory,
                                 memory_options=options, stall=0.3)
    assert len(run.results) == 100 and not run.probe_overflow
    assert cmp.mismatches == [], cmp.describe()
    assert len({r["step"] for r in run.results}) >= 2        # decisions at several steps


def test_digits_all_lif_rtl_equals_golden(tmp_path, digits_lif_artifact):
    run, cmp, labels = rtl_check(digits_lif_artifact, 60, build_dir=tmp_path, stall=0.3)
    assert len(run.results) == 60 and not run.probe_overflow
    assert cmp.mismatches == [], cmp.describe()


@pytest.mark.slow
def test_mnist5k_hybrid_rtl_equals_golden(tmp_path_factory, tmp_path):
    """784 -> 128 LIF -> 10 GLM on mnist5k (make test-full)."""
    from spinaps.sw import artifact as art
    from spinaps.flow import train_network_and_export
    from spinaps.sw.lif import LifNetConfig

    path = tmp_path_factory.mktemp("mnist") / "mnist5k_hybrid.npz"
    train_network_and_export("mnist5k", path, config=LifNetConfig(hidden=(128,), epochs=3, ann_baseline=False),
                             progress=False, checkpoint=False)
    run, cmp, _ = rtl_check(art.load(path), 30, build_dir=tmp_path, stall=0.2)
    assert cmp.mismatches == [], cmp.describe()
