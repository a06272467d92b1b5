"""The search's iCE40 fit check: logic cells from nextpnr's packer, not the LUT count.

An iCE40 logic cell holds one LUT4 and one flip-flop; a flip-flop with no LUT of its own takes a
cell anyway. A shift register has flip-flops and no LUTs at all, so Yosys's SB_LUT4 count (the
old fit check) is 0 however long it is, while the packer needs one cell per stage: past the
UP5K's 5,280 cells it cannot fit, which only the packed count says.
"""

import hashlib
import json

import pytest

from spinaps.search_cache import cache_key
from spinaps.toolchain import TARGETS, pack, resources, synthesize

UP5K_CELLS = 5280


def _shift_register(tmp_path, stages):
    v = tmp_path / "shift.v"
    # One always block per stage (one concatenation of thousands of bits exhausts Yosys's stack).
    v.write_text(f"module shift(input clk, input d, output q);\n  reg [{stages - 1}:0] r;\n"
                 "  always @(posedge clk) r[0] <= d;\n  genvar i;\n"
                 f"  generate for (i = 1; i < {stages}; i = i + 1) begin : s\n"
                 "    always @(posedge clk) r[i] <= r[i - 1];\n  end endgenerate\n"
                 f"  assign q = r[{stages - 1}];\nendmodule\n")
    syn = synthesize(v, "shift", "ice40up5k", work_dir=tmp_path, progress=False, netlist=True)
    return syn, pack(syn["netlist"], "ice40up5k", progress=False)


def test_packed_cells_decide_the_ice40_fit(tmp_path):
    stages = UP5K_CELLS + 200
    syn, packed = _shift_register(tmp_path, stages)
    assert packed["utilization"]["ICESTORM_LC"]["available"] == UP5K_CELLS
    lut_only = resources(syn["cells"], "ice40up5k")
    assert lut_only["lut"] == 0 and lut_only["ff"] == stages
    res = resources(syn["cells"], "ice40up5k", packed=packed["utilization"])
    assert res["lut"] == 0                              # still Yosys's SB_LUT4 count
    assert res["logic_cells"] >= stages > res["lut"]    # one cell per flip-flop
    assert res["logic_cells_source"].startswith("ICESTORM_LC")
    assert res["utilization"]["logic_cells"] == res["logic_cells"] / UP5K_CELLS > 1
    assert not res["fits"]


def test_packed_design_that_fits(tmp_path):
    syn, packed = _shift_register(tmp_path, 64)
    res = resources(syn["cells"], "ice40up5k", packed=packed["utilization"])
    assert 64 <= res["logic_cells"] <= 66 and res["fits"]


def test_only_the_ice40_has_a_packer(tmp_path):
    assert [name for name, t in TARGETS.items() if t.packer] == ["ice40up5k"]
    with pytest.raises(ValueError, match="no packer"):
        pack(tmp_path / "x.json", "ecp5-85f")


def _old_key(function, *args):
    text = json.dumps([function, 2, list(args)], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def test_fit_entries_of_the_lut_count_are_not_reused():
    """fit_design's cache key changed with the packed count; the other evaluations keep theirs."""
    assert cache_key("fit_design", "ice40up5k") != _old_key("fit_design", "ice40up5k")
    assert cache_key("evaluate_trial", "digits", "glm") == _old_key("evaluate_trial", "digits", "glm")
    assert cache_key("confirm_design", "ice40up5k", 40) == _old_key("confirm_design", "ice40up5k", 40)


@pytest.mark.slow
def test_fit_design_of_an_artifact_counts_packed_cells(tiny_glm_artifact, tmp_path):
    """fit_design on a real accelerator with its board link: the packer's cells, at least its LUTs."""
    from spinaps.search_eval import fit_design
    from spinaps.sw import artifact as art

    path = art.save(tmp_path / "tiny.npz", *tiny_glm_artifact)
    fit = fit_design(path.read_bytes(), "ice40up5k")
    assert fit["includes_link"] and fit["logic_cells_source"].startswith("ICESTORM_LC")
    assert fit["logic_cells"] >= fit["lut"] > 0 and fit["fits"]
    assert fit["pack_seconds"] < 60


def _point(name, accuracy, cycles, edp):
    return {"artifact": f"k/{name}", "memory": "sram", "schedule": [[1, 1]], "accuracy_golden": accuracy,
            "cycles_estimate": cycles, "edp": edp}


def test_a_design_that_does_not_fit_leaves_the_pareto_set():
    """The confirmation candidates: once the most accurate design is found too large, the design
    it dominated becomes a candidate (it was never tried before: `--confirm 2` confirmed one)."""
    from spinaps.search import _ranked

    points = [_point("big", 0.95, 100, 1.0), _point("mid", 0.93, 110, 1.1), _point("fast", 0.90, 50, 0.5)]
    assert _ranked(points, "ice40up5k", {}, set()) == ["k/big", "k/fast"]
    assert _ranked(points, "ice40up5k", {"k/big": {"fits": False}}, set()) == ["k/mid", "k/fast"]
    assert _ranked(points, "ice40up5k", {"k/big": {"fits": False}}, {"k/mid"}) == ["k/fast"]


@pytest.mark.slow
def test_a_search_confirms_a_design_fitted_by_packed_cells(tmp_path):
    """The whole confirmation path on the tiny space: Yosys + the packer for the candidates, RTL
    (no place-and-route) for the one confirmed, whose row carries the packed cells."""
    from spinaps.search import search

    res = search("tiny", out=tmp_path, targets=["ice40up5k"], trials=2, batch=2, fit="final", confirm=1,
                 rtl_samples=3, simulator="icarus", pnr=False, seed=5, progress=False, workers=1)
    confirmed = [p for p in res.points if p["confirmed"]]
    assert len(confirmed) == 1 and confirmed[0]["rtl_mismatches"] == 0
    (p,) = confirmed
    assert p["fits"] and p["fits_by"] == "nextpnr pack" and p["logic_cells"] >= p["lut"] > 0
    assert res.chosen["ice40up5k"]["point"]["artifact"] == p["artifact"]


def test_a_design_yosys_cannot_build_does_not_fit_and_other_tool_errors_propagate(tiny_glm_artifact, monkeypatch,
                                                                                   tmp_path):
    """YoWASP's Yosys ran out of WebAssembly call stack on a mnist5k hybrid's iCE40 build ("wasm
    trap: call stack exhausted"): fit_design records that design as not fitting so the search
    goes on; any other tool failure is still an error."""
    import spinaps.flow
    from spinaps.search_eval import STACK_EXHAUSTED, fit_design
    from spinaps.sw import artifact as art
    from spinaps.toolchain import ToolError

    data = art.save(tmp_path / "tiny.npz", *tiny_glm_artifact).read_bytes()

    def crash(message):
        def synth_report(*args, **kwargs):
            raise ToolError(f"Yosys synth_ice40 spinaps_board_core for ice40up5k failed (exit 1): {message}")
        return synth_report

    monkeypatch.setattr(spinaps.flow, "synth_report", crash(f"Caused by: wasm trap: {STACK_EXHAUSTED}"))
    entry = fit_design(data, "ice40up5k")
    assert entry["fits"] is False and STACK_EXHAUSTED in entry["error"] and max(entry["utilization"].values()) > 1
    monkeypatch.setattr(spinaps.flow, "synth_report", crash("ERROR: syntax error"))
    with pytest.raises(ToolError, match="syntax error"):
        fit_design(data, "ice40up5k")
