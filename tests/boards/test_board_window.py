"""The board tops with a window schedule (docs/semantics.md 8.1): the schedule reaches the
accelerator, the link (frames, info answer) is the one of the time-sequential engine, and on
Icarus the board core at W = 2, A = 2 answers every sample over the UART model with the golden
model's class, step and counters."""

import numpy as np
import pytest

from spinaps.boards import protocol as p
from spinaps.boards.board_runner import simulate_board
from spinaps.boards.build import yosys_cells
from spinaps.boards.top import BoardTop
from spinaps.sim.models import random_network

# A hybrid first-to-spike network whose samples decide at steps 1-4: a W = 2 window then
# discards the work of a step after an odd decision step.
NETWORK = dict(seed=5, t_max=7, encoder_lanes=8, sizes=(24, 12, 6), lanes=[4, 3], glm_options=dict(k=2, tau=3))


def _samples(model, n, seed=4):
    rng = np.random.default_rng(seed)
    xs = rng.integers(0, 256, (n, model.sample_size)) * (rng.random((n, model.sample_size)) < 0.5)
    return xs, rng.integers(0, 65536, n)


def test_board_top_builds_the_schedule_behind_the_same_link():
    model = random_network(**NETWORK)
    seq = BoardTop("icebreaker", model).elaborate(None)
    win = BoardTop("ulx3s", model, window=[2, 4], adders=[2, 1]).elaborate(None)
    assert seq.accelerator.schedule == [(1, 1), (1, 1)]
    assert win.accelerator.schedule == [(2, 2), (4, 1)]
    # Hardware parameters only: the host sees the same model, frames and result layout.
    assert win.info == seq.info
    assert win.accelerator.sample_bytes == seq.accelerator.sample_bytes
    assert win.responder.result_len == seq.responder.result_len == p.result_bytes(2)
    assert win.accelerator.result.payload.shape() == seq.accelerator.result.payload.shape()


@pytest.mark.parametrize("window,adders,match", [(3, 1, "window"), (2, 4, "adders"), ([2, 2, 2], 1, "3 values")])
def test_board_top_refuses_a_bad_schedule_before_elaboration(window, adders, match):
    with pytest.raises(ValueError, match=match):
        BoardTop("ulx3s", random_network(**NETWORK), window=window, adders=adders)


def test_yosys_cells_reads_the_whole_design_count():
    rpt = """
=== top ===
        +----------Local Count, excluding submodules.
       38 cells
        3   DP16KD
     1678   LUT4
=== design hierarchy ===
        +----------Count including submodules.
       38 top
        +----------Count including submodules.
     3072 wires
       38 cells
       24   $scopeinfo
        3   DP16KD
        5   MULT18X18D
     3812 submodules
      284   CCU2C
     1678   LUT4
     1653   TRELLIS_FF

2.52. Executing CHECK pass (checking for obvious problems).
"""
    assert yosys_cells(rpt) == {"DP16KD": 3, "MULT18X18D": 5, "CCU2C": 284, "LUT4": 1678, "TRELLIS_FF": 1653}


@pytest.mark.cocotb
def test_board_window_classifies_like_golden(tmp_path):
    model = random_network(**NETWORK)
    xs, seeds = _samples(model, 8)
    gold = model.run(xs, seeds)
    assert len(set(gold.step.tolist())) >= 3 and any(s % 2 for s in gold.step)   # decisions inside windows
    core = BoardTop("icebreaker", model, window=2, adders=2).elaborate(None)
    out, _ = simulate_board(core, "classify", {"samples": [[int(s), x.tolist()] for s, x in zip(seeds, xs)]},
                            build_dir=tmp_path)
    assert p.Info(**out["info"]) == core.info and out["framing_errors"] == 0
    assert len(out["answers"]) == len(seeds)
    for i, answer in enumerate(out["answers"]):
        want = {"cls": int(gold.cls[i]), "step": int(gold.step[i]), "decided": int(gold.decided[i]),
                "events": gold.events[i].tolist(), "sops": gold.sops[i].tolist()}
        assert {k: answer[k] for k in want} == want, f"sample {i}"
        assert answer["cycles"] > 0 and all(b > 0 for b in answer["busy"])


def test_bitstream_refuses_a_bad_window_before_elaboration(tmp_path, tiny_glm_artifact, capsys):
    from spinaps.cli import main
    from spinaps.sw import artifact as art

    path = art.save(tmp_path / "tiny.npz", *tiny_glm_artifact)
    out = tmp_path / "ulx3s"
    assert main(["bitstream", "--board", "ulx3s", "--model", str(path), "--window", "3", "--out", str(out)]) == 2
    _, err = capsys.readouterr()
    assert "Traceback" not in err and err.count("error:") == 1 and "--window 3" in err, err
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.synth
@pytest.mark.slow
def test_ulx3s_bitstream_of_a_tiny_model_with_a_window(tmp_path, tiny_glm_artifact):
    from spinaps.boards.build import build
    from spinaps.sw import artifact as art
    from spinaps.toolchain import resources

    path = art.save(tmp_path / "tiny.npz", *tiny_glm_artifact)
    rep = build("ulx3s", path, tmp_path / "ulx3s", progress=False, window=2, adders=2)
    assert rep["schedule"] == [[2, 2]]
    assert rep["fmax_mhz"] > 0 and (tmp_path / "ulx3s" / "spinaps_ulx3s.bit").stat().st_size > 10_000
    assert resources(rep["yosys_cells"], "ecp5-85f")["lut"] > 100


def test_search_builds_a_windowed_point_as_its_own_design():
    from spinaps.search_report import bitstream_command, confirmable, design_key, schedule_arg

    seq = {"artifact": "k/a", "schedule": [[1, 1], [1, 1]]}
    win = {"artifact": "k/a", "schedule": [[4, 4], [1, 1]]}
    assert confirmable(seq) and confirmable(win)
    assert (schedule_arg(seq), design_key(seq)) == (None, "k/a")          # W = 1 keeps its keys
    assert (schedule_arg(win), design_key(win)) == ([[4, 4], [1, 1]], "k/a@w4a4.w1a1")
    assert bitstream_command("ecp5-85f", "m.npz", win["schedule"]).endswith("--window 4,1 --adders 4,1")
    assert "--window" not in bitstream_command("ecp5-85f", "m.npz", seq["schedule"])


@pytest.mark.synth
@pytest.mark.slow
def test_search_fits_the_windowed_design_with_its_board_link(tmp_path, tiny_glm_artifact):
    from spinaps.search_eval import fit_design
    from spinaps.sw import artifact as art

    data = art.save(tmp_path / "tiny.npz", *tiny_glm_artifact).read_bytes()
    seq, win = fit_design(data, "ecp5-85f"), fit_design(data, "ecp5-85f", [[4, 4]])
    assert seq["includes_link"] and win["includes_link"] and seq["fits"] and win["fits"]
    assert win["ff"] > seq["ff"]         # the window's tags and step sums are there


def test_an_unplaced_ecp5_build_names_the_ecp5_and_the_adders(tmp_path):
    from spinaps.boards.build import _does_not_fit

    message = _does_not_fit("ulx3s", tmp_path / "none.rpt", "ERROR: ... to implement cell type 'MULT18X18D' ...")
    assert "ulx3s" in message and "MULT18X18D" in message and "ecp5-85f has 83640 LUTs and 156 DSPs" in message
    assert "--adders" in message


def test_an_overfull_device_is_a_clear_does_not_fit(tmp_path):
    """nextpnr's placer on more logic cells than the device has (iCE40: "Failed to expand
    region") is the same clear "does not fit" as a cell type that ran out."""
    from spinaps.boards.build import _does_not_fit

    log = "ERROR: Failed to expand region (0, 0) |_> (25, 31) of 5529 ICESTORM_LCs\n0 warnings, 1 error"
    message = _does_not_fit("icebreaker", tmp_path / "none.rpt", log)
    assert "does not fit the icebreaker FPGA" in message and "ICESTORM_LCs" in message
