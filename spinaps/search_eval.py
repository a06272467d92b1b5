"""The evaluations of ``spinaps search``: pure functions that run on Dask workers.

Each is a function of its arguments only (training config or artifact bytes, hardware
config, seed): it works in a private temporary folder, uses one torch thread (the same
numbers on any worker) and returns plain data (JSON-able dicts; artifacts as bytes), so the
client can cache it under the hash of its arguments (spinaps.search_cache) and a worker
needs no shared file system.

* :func:`evaluate_trial`: train one training-tier point, then enumerate the value tier
  (lanes, encoder lanes: export + golden model on the test split) and the schedule tier
  (memory kind, window and adders per layer: re-costed from the same golden activity,
  :func:`schedule_costs`) -> one row per hardware point;
* :func:`fit_design`: Yosys resources of the design with its board link on a target (on the
  iCE40 with the logic cells of nextpnr's packer);
* :func:`confirm_design`: RTL simulation (bit-exact check, measured cycles) and, for a target
  with an open board, place-and-route (nextpnr Fmax).

Both build any window schedule (``schedule=[[W, A], ...]``; the default None is the
time-sequential engine, with the same cache keys as before the argument existed).

Cycles of unconfirmed points come from the window engine's cycle model (sim/schedule.py's
``timeline``); the search calibrates it against the RTL-confirmed points (spinaps.search).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["evaluate_trial", "fit_design", "confirm_design", "schedule_costs", "EVAL_VERSION", "EVAL_VERSIONS"]

#: Bumped when an evaluation's results change for the same arguments (part of every cache key).
EVAL_VERSION = 2
#: Per evaluation, when one changed alone (the others keep their cache entries): ``fit_design``
#: 3: the iCE40 fit counts nextpnr's packed logic cells (it counted LUTs).
EVAL_VERSIONS = {"evaluate_trial": EVAL_VERSION, "confirm_design": EVAL_VERSION, "fit_design": 3}


def _one_thread():
    # Same thread count on every worker: the same floating-point sums, so the same trained
    # network whichever worker (or the local cluster) ran the trial.
    import torch
    torch.set_num_threads(1)


def schedule_costs(model, x, seeds, config, schedules, devices):
    """Cycles (uncalibrated), energy, EDP and area of every schedule-tier variant, re-costed
    from one golden activity trace (sim/schedule.py: ``trace_of`` once, ``schedule_cost`` per
    variant: memory kind, window and adders per layer). The cycle model is the window
    engine's structure (docs/architecture.md); the search scales it by the ratio its
    RTL-confirmed points measure."""
    from spinaps.sim.schedule import schedule_cost, trace_of

    trace = trace_of(model, x, seeds)
    rows = []
    for variant in schedules:
        c = schedule_cost(trace, [tuple(s) for s in variant["schedule"]], variant["memory"], devices=devices,
                          config=config)
        rows.append({**variant, "cycles_estimate": float(c["cycles"]), "energy_j": float(c["energy_per_inference_j"]),
                     "edp": float(c["edp"]), "area_mm2": float(c["area_mm2"]), "reads": float(c["reads"]),
                     "discarded_sop_fraction": float(c["discarded_sop_fraction"])})
    return rows


def _train(dataset, network, config, progress=False):
    from spinaps.data import as_dataset

    ds = as_dataset(dataset)
    if network == "glm":
        from spinaps.sw.train import GlmTrainConfig, train_glm
        return ds, train_glm(ds, GlmTrainConfig(**config), progress=progress)
    from spinaps.sw.lif import LifNetConfig, train_network
    return ds, train_network(ds, LifNetConfig(**{**config, "output": "glm"}), progress=progress)


def evaluate_trial(dataset, network, config, grid, schedules, devices=None):
    """Train ``network`` on ``dataset`` with ``config`` (its ``seed`` included), then every
    hardware point of ``grid`` (value tier) x ``schedules`` (schedule tier).

    Returns ``{"rows": [...], "artifacts": {hw_key: npz bytes}, "train_seconds": s}``; a row has
    the hardware point, golden accuracy, mean decision step, events and synaptic operations,
    the uncalibrated cycle estimate, energy / EDP / area from the cost model, and ``hw_key``.
    """
    _one_thread()
    from spinaps.contract import sample_seeds
    from spinaps.flow import export_and_save
    from spinaps.sim.cost import Config
    from spinaps.sw.golden import GoldenModel
    from spinaps.sim.devices import load_devices

    devices = devices or load_devices()
    t0 = time.perf_counter()
    ds, trained = _train(dataset, network, config)
    train_s = time.perf_counter() - t0
    rows, artifacts = [], {}
    with tempfile.TemporaryDirectory(prefix="spinaps_search_") as tmp:
        for i, hw in enumerate(grid):
            lanes = hw["lanes"][0] if network == "glm" else list(hw["lanes"])
            path = Path(tmp) / f"point{i}.npz"
            artifact, gold = export_and_save(trained, ds, path, encoder_lanes=hw["encoder_lanes"], lanes=lanes)
            cfg = Config.from_artifact(artifact)
            key = hw_key(hw)
            artifacts[key] = path.read_bytes()
            base = {"hw_key": key, "encoder_lanes": hw["encoder_lanes"], "lanes": list(hw["lanes"]),
                    "accuracy_golden": gold.accuracy(ds.y_test), "mean_step": float(np.mean(gold.step)),
                    "events": float(gold.events.sum(axis=1).mean()), "sops": float(gold.sops.sum(axis=1).mean()),
                    "synapse_bits": cfg.memory_bits,
                    "layers": [f"{l.n_out} {l.kind}" for l in cfg.layers],
                    "weight_bits": [l.weight_bits for l in cfg.layers], "t_max": cfg.t_max}
            model = GoldenModel.from_artifact(artifact)
            for sched in schedule_costs(model, ds.x_test, sample_seeds(len(ds.y_test)), cfg, schedules, devices):
                rows.append({**base, **sched})
    return {"rows": rows, "artifacts": artifacts, "train_seconds": train_s}


def hw_key(hw):
    """A short stable name of a value-tier point: ``e8-l16.5``."""
    return f"e{hw['encoder_lanes']}-l" + ".".join(str(x) for x in hw["lanes"])


def _artifact(data, folder):
    from spinaps.sw import artifact as art
    path = Path(folder) / "model.npz"
    path.write_bytes(data)
    return art.load(path)


def _schedule_options(schedule):
    """``window`` / ``adders`` per layer for the Accelerator from a point's ``[[W, A], ...]``
    (``None``: the time-sequential engine)."""
    if schedule is None:
        return {}
    return {"window": [int(w) for w, _ in schedule], "adders": [int(a) for _, a in schedule]}


#: What YoWASP's Yosys says when a design is too deep for its WebAssembly call stack.
STACK_EXHAUSTED = "call stack exhausted"
#: The utilization recorded for such a design (far beyond any device: it does not fit).
UNBUILDABLE = 100.0


def fit_design(artifact_bytes, target, schedule=None):
    """Yosys resources of the artifact's design on ``target`` (with its board link when an open
    board has that FPGA, as spinaps.flow.synth_report builds it) with the window ``schedule``
    (``[[W, A], ...]`` per layer; None: W = 1): lut, ff, bram36, dsp, logic_cells, utilization,
    fits. On the iCE40 ``logic_cells`` are nextpnr's packed cells (``--pack-only``) and decide
    ``fits`` (``lut`` stays Yosys's SB_LUT4 count)."""
    from spinaps.flow import synth_report
    from spinaps.toolchain import ToolError

    with tempfile.TemporaryDirectory(prefix="spinaps_fit_") as tmp:
        try:
            entry = synth_report(_artifact(artifact_bytes, tmp), Path(tmp) / "synth", targets=[target],
                                 progress=False, **_schedule_options(schedule))[0]
        except ToolError as e:
            if STACK_EXHAUSTED not in str(e):
                raise
            # YoWASP's Yosys (WebAssembly) runs out of call stack on some very large designs
            # (seen on a mnist5k hybrid's iCE40 build): a design this toolchain cannot build
            # does not fit, a result like any other, and the search goes on.
            return {"fits": False, "utilization": {"yosys": UNBUILDABLE},
                    "error": f"Yosys (YoWASP) failed on this design: {STACK_EXHAUSTED}"}
    keep = ("lut", "ff", "bram36", "dsp", "logic_cells", "logic_cells_source", "packed", "utilization", "fits",
            "includes_link", "yosys_seconds", "pack_seconds")
    return {k: entry[k] for k in keep if k in entry}


def confirm_design(artifact_bytes, target, n, simulator="verilator", pnr=True, schedule=None):
    """RTL simulation of the first ``n`` test samples (every spike, class and counter compared
    with the golden model, reads with its prediction; measured cycles) and, when ``pnr`` and an
    open board has ``target``'s FPGA, that board's build (nextpnr Fmax, fixed seed), both with
    the window ``schedule`` (``[[W, A], ...]`` per layer; None: W = 1)."""
    _one_thread()
    from spinaps.flow import board_for_target, rtl_check

    options = _schedule_options(schedule)
    with tempfile.TemporaryDirectory(prefix="spinaps_confirm_") as tmp:
        artifact = _artifact(artifact_bytes, tmp)
        run, cmp, labels = rtl_check(artifact, n, build_dir=Path(tmp) / "rtl", simulator=simulator, **options)
        cycles = np.array([r["cycles"] for r in run.results], dtype=float)
        cls = np.array([r["cls"] for r in run.results])
        out = {"rtl_samples": len(run.results), "rtl_mismatches": len(cmp.mismatched_samples),
               "cycles_mean": float(cycles.mean()), "accuracy_rtl": float(np.mean(cls == np.asarray(labels))),
               "simulator": simulator, "fmax_mhz": None, "timing_met": None}
        board = board_for_target(target)
        if pnr and board is not None:
            from spinaps.boards.build import BuildError, build
            try:
                rep = build(board.name, artifact.path, Path(tmp) / board.name, progress=False, **options)
            except BuildError as e:
                # Yosys counted it within the device, nextpnr could not place it: a result
                # (the design does not fit), not a failure to retry.
                if "does not fit" not in str(e):
                    raise
                out.update({"board": board.name, "pnr_fits": False, "pnr_error": str(e)})
                return out
            out.update({"pnr_fits": True, "board": board.name, "fmax_mhz": rep["fmax_mhz"], "timing_met": rep["timing_met"],
                        "pnr_seconds": rep["pnr_seconds"],
                        # The placed design's cells (the iCE40's ICESTORM_LC: what fit_design's packer counts).
                        "pnr_utilization": {k: v["used"] for k, v in rep["utilization"].items() if v["used"]},
                        "critical_path": (rep["critical_paths"] or [None])[0]})
    return out

