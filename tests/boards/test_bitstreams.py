"""The open flow (Yosys + nextpnr + packer through YoWASP) to real bitstreams.

`make test` runs one iCE40 build of a tiny model (the smoke test); `make test-full` builds the
digits model for both boards. Resources and Fmax are measured by bench/boards.py, not
asserted here."""

import json

import pytest

from spinaps.boards.build import build, build_seeds
from spinaps.sw import artifact as art

pytestmark = pytest.mark.synth


def _check(rep, out):
    assert (out / "report.json").exists() and json.loads((out / "report.json").read_text()) == rep
    bit = out / rep["bitstream"].split("/")[-1]
    assert bit.exists() and bit.stat().st_size > 10_000
    assert rep["fmax"] and all(v["achieved_mhz"] > 0 for v in rep["fmax"].values())
    assert rep["critical_paths"] and rep["utilization"]
    # The core clock's constraint reached nextpnr (an unnamed PLL output was ignored once).
    assert any(abs(v["constraint_mhz"] - rep["clock_mhz"]) < 0.05 for v in rep["fmax"].values()), rep["fmax"]
    # ... by its name (nextpnr also derives a PLL's clock from the oscillator's, which hides a
    # constraint on a net that synthesis renamed).
    assert rep["ignored_constraints"] == [], rep["ignored_constraints"]


def test_icebreaker_bitstream_of_a_tiny_model(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    path = art.save(tmp_path / "tiny.npz", manifest, arrays)
    out = tmp_path / "icebreaker"
    rep = build("icebreaker", path, out, progress=False)
    _check(rep, out)
    assert rep["utilization"]["ICESTORM_LC"]["used"] > 100       # the accelerator and its link are there
    assert rep["utilization"]["ICESTORM_RAM"]["used"] >= 1


def test_seed_sweep_keeps_the_fastest_when_none_meets_timing(tmp_path, tiny_glm_artifact):
    # 150 MHz is beyond any placement of the iCE40: both seeds are built, the faster one kept.
    path = art.save(tmp_path / "tiny.npz", *tiny_glm_artifact)
    out = tmp_path / "icebreaker"
    rep = build_seeds("icebreaker", path, out, [1, 2], core_mhz=150, progress=False)
    assert [t["seed"] for t in rep["seeds"]] == [1, 2] and not any(t["timing_met"] for t in rep["seeds"])
    assert rep["fmax_mhz"] == max(t["fmax_mhz"] for t in rep["seeds"])
    assert rep["seed"] == max(rep["seeds"], key=lambda t: t["fmax_mhz"])["seed"]
    assert json.loads((out / "report.json").read_text()) == rep
    assert (out / "spinaps_icebreaker.bin").read_bytes() == (out / f"seed{rep['seed']}" / "spinaps_icebreaker.bin").read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("board", ["icebreaker", "ulx3s"])
def test_digits_bitstreams(tmp_path, digits_small_artifact, board):
    out = tmp_path / board
    rep = build(board, digits_small_artifact, out, progress=False)
    _check(rep, out)
