"""cocotb on Icarus, end to end on a trained digits model: every output spike of every step,
the class, the decision step and the counters equal the golden model's, on 200 test samples
with random valid/ready stalls, for both synapse-memory implementations."""

import pytest

from spinaps.flow import rtl_check

pytestmark = pytest.mark.cocotb


@pytest.mark.parametrize("memory,options", [("sram", None), ("sttram", {"read_latency": 3, "write_latency": 5})])
def test_digits_rtl_equals_golden(tmp_path, digits_artifact, memory, options):
    run, cmp, labels = rtl_check(digits_artifact, 200, build_dir=tmp_path, memory=memory,
                                 memory_options=options, stall=0.3)
    assert len(run.results) == 200 and not run.probe_overflow
    assert cmp.mismatches == [], cmp.describe()
    # The run exercised the interesting paths: decisions at several steps.
    assert len({r["step"] for r in run.results}) >= 2
