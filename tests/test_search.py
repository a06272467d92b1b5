"""The search's parts that need no cluster: the space, the cache, the Pareto set, the cycle
estimate, and the checks that refuse bad options before anything starts."""

import json
import socket
import subprocess
import sys

import numpy as np
import pytest

from spinaps.search_cache import ResultCache, cache_key
from spinaps.search_report import bitstream_command, pareto_mask, target_points
from spinaps.search_space import PRESETS, SearchSpace, hw_grid, preset, train_options

SPINAPS = [sys.executable, "-m", "spinaps.cli"]


def test_pareto_mask_keeps_exactly_the_non_dominated_rows():
    obj = [[0, 5], [1, 1], [2, 0], [2, 2], [0, 5]]       # row 3 is dominated by row 1; 0 and 4 tie
    assert pareto_mask(obj).tolist() == [True, True, True, False, True]


def test_hw_grid_clips_lanes_to_each_layer_and_drops_duplicates():
    space = SearchSpace("digits", train={}, lanes_hidden=(4, 64), lanes_out=(5, 10, 16), encoder_lanes=(8, 128))
    grid = hw_grid(space, [16, 10], 64)
    assert {g["encoder_lanes"] for g in grid} == {8, 64}          # 128 > n_inputs: clipped
    assert sorted({tuple(g["lanes"]) for g in grid}) == [(4, 5), (4, 10), (16, 5), (16, 10)]
    assert len(grid) == 8


def test_train_options_map_a_hybrid_point_onto_its_config():
    net, cfg = train_options({"network": "hybrid", "hidden": 32, "weight_bits": 4, "weight_bits_out": 2},
                             {"epochs": 3}, seed=7)
    assert net == "hybrid" and cfg == {"epochs": 3, "hidden": (32,), "weight_bits": (4, 2), "seed": 7}
    from spinaps.sw.lif import LifNetConfig
    LifNetConfig(**cfg)             # a valid config


def test_energy_options_reach_hybrid_trials_only():
    """The mnist5k space's hardware-aware fine-tuning: its fixed options go to a hybrid (a
    valid LifNetConfig) and are dropped for a GLM network (GlmTrainConfig has no such stage)."""
    from spinaps.sw.lif import LifNetConfig
    from spinaps.sw.train import GlmTrainConfig

    fixed = PRESETS["mnist5k"].fixed
    net, cfg = train_options({"network": "hybrid", "hidden": 128, "energy_beta": 0.3}, fixed, seed=1)
    assert cfg["energy_beta"] == 0.3 and cfg["energy_window"] == 4
    LifNetConfig(**cfg)
    net, cfg = train_options({"network": "glm", "n_basis": 2}, fixed, seed=1)
    assert not any(k.startswith("energy") for k in cfg)
    GlmTrainConfig(**cfg)


def test_space_refuses_unknown_parameters_and_memories():
    with pytest.raises(ValueError, match="train.width"):
        SearchSpace("digits", train={"width": (1,)})
    with pytest.raises(ValueError, match="memories"):
        SearchSpace("digits", train={}, memories=("dram",))
    with pytest.raises(ValueError, match="windows = 3"):
        SearchSpace("digits", train={}, windows=(1, 3))
    with pytest.raises(ValueError, match="include 'sram' and windows 1"):
        SearchSpace("digits", train={}, windows=(2,))
    with pytest.raises(ValueError, match="not one of digits"):
        preset("cifar")
    assert set(PRESETS) >= {"digits", "mnist5k", "tiny"}


def test_cache_key_hashes_bytes_by_content_and_round_trips(tmp_path):
    a, b = b"artifact one", b"artifact two"
    assert cache_key("fit_design", a, "ice40up5k") == cache_key("fit_design", bytes(a), "ice40up5k")
    assert cache_key("fit_design", a, "ice40up5k") != cache_key("fit_design", b, "ice40up5k")
    assert cache_key("fit_design", a, "ice40up5k") != cache_key("fit_design", a, "ecp5-85f")
    cache = ResultCache(tmp_path)
    key = cache_key("evaluate_trial", "digits", {"epochs": 1})
    assert cache.get(key) is None
    cache.put(key, {"rows": [{"x": 1.5}], "artifacts": {"e8-l5": a}})
    assert ResultCache(tmp_path).get(key) == {"rows": [{"x": 1.5}], "artifacts": {"e8-l5": a}}
    assert not list(tmp_path.rglob(".*tmp*"))       # nothing half-written left behind


def _point(acc, cycles, edp, art, memory="sram", schedule=((1, 1),)):
    return {"artifact": art, "memory": memory, "schedule": [list(s) for s in schedule], "accuracy_golden": acc,
            "cycles_estimate": cycles, "edp": edp}


def test_target_points_use_rtl_cycles_and_nextpnr_fmax_where_confirmed():
    points = [_point(0.9, 400.0, 1.0, "k/a"), _point(0.8, 1000.0, 2.0, "k/b"), _point(0.95, 300.0, 0.5, "k/c"),
              _point(0.9, 200.0, 1.5, "k/a", schedule=((2, 1),))]     # faster, costlier
    fits = {"k/a": {"lut": 3000, "bram36": 1, "utilization": {"lut": 0.6}, "fits": True},
            "k/c": {"lut": 9000, "bram36": 1, "utilization": {"lut": 1.7}, "fits": False}}
    confirms = {("k/a", "sram", "[[1, 1]]"): {"cycles_mean": 360.0, "fmax_mhz": 40.0, "rtl_mismatches": 0}}
    rows = target_points(points, "ice40up5k", fits, confirms, ratio=0.9)
    a, b, c, windowed = rows
    assert (a["cycles_source"], a["fmax_source"], a["us_per_inference"]) == ("rtl", "nextpnr", 9.0)
    assert b["cycles_source"] == "estimate x calibration" and b["cycles_mean"] == pytest.approx(900.0)
    assert b["fmax_mhz"] == 40.0 and b["fits"] is None          # median of the measured Fmax
    assert c["fits"] is False and not c["pareto"]               # does not fit: never Pareto
    assert a["pareto"] and not b["pareto"]                      # b is slower, less accurate, costlier
    # W = 2: no fit nor confirmation given for its design here: estimate, fits unknown.
    assert windowed["cycles_source"] == "estimate x calibration" and windowed["cycles_mean"] == pytest.approx(180.0)
    assert windowed["fits"] is None and windowed["fits_at_w1"] is True and windowed["pareto"]


def test_bitstream_command_names_the_board_of_the_target():
    assert bitstream_command("ice40up5k", "m.npz").startswith("spinaps bitstream --board icebreaker --model m.npz")
    assert bitstream_command("ecp5-85f", "m.npz").startswith("spinaps bitstream --board ulx3s")
    assert bitstream_command("xc7a35t", "m.npz").startswith("spinaps vivado-plan --board arty")


def test_schedule_variants_cross_memories_with_per_layer_windows_and_adders():
    from spinaps.search_space import schedule_variants

    space = SearchSpace("digits", train={}, memories=("sram", "sttram"), windows=(1, 2), adders=(1, 2))
    v = schedule_variants(space, 2)
    per_layer = [[1, 1], [2, 1], [2, 2]]                        # A <= W
    assert len(v) == 2 * len(per_layer) ** 2
    assert v[0] == {"memory": "sram", "schedule": [[1, 1], [1, 1]]}
    assert {json.dumps(x["schedule"]) for x in v} == {json.dumps([a, b]) for a in per_layer for b in per_layer}


@pytest.mark.cocotb
def test_w1_cycle_model_is_within_a_quarter_of_the_rtl_count(digits_artifact, tmp_path):
    """The search's uncalibrated cycles (sim/schedule.py's model at W = 1) against the cycles
    the RTL measures on the same samples; the search then scales estimates by the ratio of its
    RTL-confirmed points."""
    from spinaps.contract import sample_seeds
    from spinaps.data import as_dataset
    from spinaps.flow import rtl_check
    from spinaps.search_eval import schedule_costs
    from spinaps.sim.cost import Config
    from spinaps.sim.devices import load_devices
    from spinaps.sw.golden import GoldenModel

    n = 12
    run, cmp, _ = rtl_check(digits_artifact, n, build_dir=tmp_path / "rtl", simulator="icarus")
    assert not cmp.mismatches
    measured = np.mean([r["cycles"] for r in run.results])
    rows = schedule_costs(GoldenModel.from_artifact(digits_artifact), as_dataset("digits").x_test[:n], sample_seeds(n),
                          Config.from_artifact(digits_artifact), [{"memory": "sram", "schedule": [[1, 1]]}],
                          load_devices())
    assert rows[0]["cycles_estimate"] == pytest.approx(measured, rel=0.25)


def _cli(*args, cwd):
    return subprocess.run(SPINAPS + ["search", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]           # closed again when the socket is: nothing listens there


@pytest.mark.parametrize("args, names", [
    (["--scheduler", "127.0.0.1:8786"], "--scheduler '127.0.0.1:8786': give the Dask scheduler's address as tcp://"),
    (["--scheduler", f"tcp://127.0.0.1:{_closed_port()}"], "no Dask scheduler answers there"),
    (["--trials", "0"], "--trials 0: give a whole number >= 1"),
    (["--confirm", "-1"], "--confirm -1"),
])
def test_bad_options_are_one_line_errors_before_any_work(tmp_path, args, names):
    out = tmp_path / "out"
    r = _cli("--space", "tiny", "--out", str(out), *args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert names in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()                 # nothing written, no cluster started


def test_a_study_made_with_other_settings_is_refused(tmp_path):
    from spinaps.search import _open_study

    _open_study(tmp_path, {"seed": 0}, 0, 4)
    with pytest.raises(ValueError, match="other settings"):
        _open_study(tmp_path, {"seed": 1}, 1, 4)
    np.testing.assert_equal(sorted(p.name for p in tmp_path.iterdir()), ["study.db"])


def test_an_interrupted_trial_is_asked_again_with_its_parameters(tmp_path):
    """A trial left running (the search was stopped mid-evaluation) is failed on reopening and
    its parameters enqueued, so the resumed search evaluates the same point (from the cache if
    it had finished)."""
    import optuna
    from spinaps.search import _open_study
    from spinaps.search_space import suggest

    study = _open_study(tmp_path, {"seed": 0}, 0, 2)
    params = suggest(study.ask(), preset("tiny"))        # asked, never told: the run was interrupted
    study = _open_study(tmp_path, {"seed": 0}, 0, 2)
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.WAITING]
    assert suggest(study.ask(), preset("tiny")) == params


@pytest.mark.slow
def test_a_search_run_again_resumes_and_repeats_nothing(tmp_path):
    """Two trials, then the same search extended to three: the first two come from the study
    and the cache (no entry rewritten), one more trial is evaluated."""
    import optuna
    from spinaps.search import STUDY, search

    opts = dict(out=tmp_path, batch=2, fit="none", confirm=0, seed=5, progress=False, workers=1)
    first = search("tiny", trials=2, **opts)
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").glob("*.json")}
    again = search("tiny", trials=3, **opts)
    assert all(p.stat().st_mtime_ns == m for p, m in stamps.items())
    study = optuna.load_study(study_name=STUDY, storage=f"sqlite:///{tmp_path / 'study.db'}")
    assert sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials) == 3
    keys = lambda r: {(p["artifact"], p["memory"], str(p["schedule"])) for p in r.points}  # noqa: E731
    assert keys(first) <= keys(again)       # (the third trial may repeat a design: listed once)


def test_design_key_names_the_schedule_and_comes_back():
    from spinaps.search_report import design_key, design_of

    w1 = {"artifact": "k/a.npz", "schedule": [[1, 1], [1, 1]]}
    win = {"artifact": "k/a.npz", "schedule": [[4, 2], [1, 1]]}
    assert design_key(w1) == "k/a.npz" and design_of("k/a.npz") == ("k/a.npz", None)
    assert design_key(win) == "k/a.npz@w4a2.w1a1"
    assert design_of(design_key(win)) == ("k/a.npz", [[4, 2], [1, 1]])


def test_designs_whose_synapses_exceed_the_block_ram_are_out_before_synthesis():
    from spinaps.search import _over_storage

    # The UP5K's 30 block RAMs hold 122,880 bits: an mnist5k 784 -> 64 hybrid at 4 bits does
    # not (203,264), its GLM 784 -> 10 does (31,360); the ECP5-85F holds both.
    big = {"artifact": "k/hybrid.npz", "schedule": [[1, 1], [1, 1]], "synapse_bits": 203264}
    small = {"artifact": "k/glm.npz", "schedule": [[1, 1]], "synapse_bits": 31360}
    out = _over_storage([big, small], "ice40up5k")
    assert list(out) == ["k/hybrid.npz"]
    assert out["k/hybrid.npz"]["fits"] is False and out["k/hybrid.npz"]["fits_by"] == "storage"
    assert out["k/hybrid.npz"]["utilization"]["bram36"] == pytest.approx(203264 / 122880)
    assert _over_storage([big, small], "ecp5-85f") == {}
