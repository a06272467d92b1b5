"""Synthesis tier: Yosys resource counts of fixed small accelerators against stored baselines.

A change that moves LUTs or flip-flops by more than the tolerance, or changes the BRAM or DSP
count, fails here (hls4ml-style baselines). After an intended change, re-run with
``SPINAPS_UPDATE_BASELINES=1`` and commit tests/synth/baselines.json with the change.
"""

import json
import os
from pathlib import Path

import pytest

from spinaps.hdl.accelerator import Accelerator
from spinaps.hdl.synthesis import TARGETS, resources, synthesize
from spinaps.hdl.verilog import write_verilog
from spinaps.sim.models import random_glm_model, random_network

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


@pytest.mark.synth
@pytest.mark.parametrize("name, target", [
    pytest.param(n, t, marks=[pytest.mark.slow] if slow else []) for n, t, slow in CASES])
def test_resources_match_baseline(tmp_path, name, target):
    got = _measure(tmp_path, name, target)
    key = f"{name}/{target}"
    if os.environ.get("SPINAPS_UPDATE_BASELINES"):
        data = json.loads(BASELINES.read_text()) if BASELINES.exists() else {}
        data[key] = {k: got[k] for k in ("lut", "ff", "bram36", "dsp")}
        BASELINES.write_text(json.dumps(dict(sorted(data.items())), indent=2) + "\n")
    base = json.loads(BASELINES.read_text()).get(key)
    assert base is not None, f"no baseline for {key}: run with SPINAPS_UPDATE_BASELINES=1"
    for field in ("lut", "ff"):
        assert abs(got[field] - base[field]) <= TOLERANCE * base[field] + 10, \
            f"{key}: {field} = {got[field]}, baseline {base[field]} (tolerance {TOLERANCE:.0%})"
    for field in ("bram36", "dsp"):
        assert got[field] == base[field], f"{key}: {field} = {got[field]}, baseline {base[field]}"
    assert got["fits"]


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
    ecp = resources({"LUT4": 100, "CCU2C": 10, "TRELLIS_FF": 50, "DP16KD": 3, "MULT18X18D": 2}, "ecp5-85f")
    assert (ecp["lut"], ecp["ff"], ecp["bram36"], ecp["dsp"]) == (120, 50, 1.5, 2)


def test_cli_unknown_target_writes_nothing(tmp_path, tiny_glm_artifact, capsys):
    from spinaps.sw import artifact as art
    from spinaps.cli import main

    path = art.save(tmp_path / "tiny.npz", *tiny_glm_artifact)
    out = tmp_path / "synth"
    assert main(["synth", "--model", str(path), "--target", "xc7a35t,xc7z020", "--out", str(out)]) == 2
    assert "xc7z020 is not one of" in capsys.readouterr().err
    assert not out.exists()
