"""The evaluations of ``spinaps search``: pure functions that run on Dask workers.

Each is a function of its arguments only (training config or artifact bytes, hardware
config, seed): it works in a private temporary folder, uses one torch thread (the same
numbers on any worker) and returns plain data (JSON-able dicts; artifacts as bytes), so the
client can cache it under the hash of its arguments (spinaps.search_cache) and a worker
needs no shared file system.

* :func:`evaluate_trial`: train one training-tier point, then enumerate the value tier
  (lanes, encoder lanes: export + golden model on the test split) and the schedule tier
  (memory kind: re-costed from the same golden activity) -> one row per hardware point;
* :func:`fit_design`: Yosys resources of the design with its board link on a target;
* :func:`confirm_design`: RTL simulation (bit-exact check, measured cycles) and, for a target
  with an open board, place-and-route (nextpnr Fmax).

Cycles of unconfirmed points come from :func:`estimate_cycles`, the activity bound of
docs/architecture.md ("Cycles and lane utilization") per sample; the search calibrates it
against the RTL-confirmed points (spinaps.search).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["evaluate_trial", "fit_design", "confirm_design", "estimate_cycles", "EVAL_VERSION"]

#: Bumped when an evaluation's results change for the same arguments (part of every cache key).
EVAL_VERSION = 1


def _one_thread():
    # Same thread count on every worker: the same floating-point sums, so the same trained
    # network whichever worker (or the local cluster) ran the trial.
    import torch
    torch.set_num_threads(1)


def estimate_cycles(config, gold, read_latency=1):
    """Mean cycles per inference from a golden run, before calibration.

    Per sample and layer ``l`` (docs/architecture.md): one cycle per word read
    (``sops_l / n_out_l x Qn_l``), one per step for the end-of-step marker, for layer 0 the
    encoder's idle group slots (``max(0, Q - events per step)`` per step), and the update tail
    (:func:`spinaps.sim.activity.update_tail`); the layers run concurrently, so a sample takes
    the slowest layer's count. Within about 20 % of the RTL's cycles on digits (it counts
    reads the RTL overlaps); the search scales it by the ratio measured on RTL-confirmed points.
    """
    from spinaps.sim.activity import update_tail

    steps = np.asarray(gold.step, dtype=float)
    need = []
    for index, layer in enumerate(config.layers):
        sops = np.asarray(gold.sops[:, index], dtype=float)
        reads = sops / layer.n_out * layer.words
        idle = np.maximum(0.0, config.groups - np.asarray(gold.events[:, index], dtype=float) / steps) if index == 0 else 0.0
        need.append(reads + steps * (1 + idle) + update_tail(layer, read_latency))
    return float(np.max(np.stack(need), axis=0).mean())


def schedule_costs(config, gold, schedules, devices, cycles_sram):
    """Energy, EDP and cycles of each schedule-tier variant, re-costed from one golden run.

    WINDOW TIER: a variant with ``window`` / ``adders`` per layer would get its cycles and
    reads from sim/schedule.py's ``schedule_cost(...)`` here (not merged yet: see
    spinaps.search_space.schedule_variants).
    """
    from spinaps.sim.cost import Activity, estimate
    from spinaps.sim.devices import read_latency_cycles

    rows = []
    for variant in schedules:
        memory = variant["memory"]
        # A deeper read pipeline is paid once per layer at the decision step (sim.cost._cycles_for).
        cycles = cycles_sram + (read_latency_cycles(devices, memory) - 1) * len(config.layers)
        activity = Activity(events=tuple(gold.events.mean(axis=0)), sops=tuple(gold.sops.mean(axis=0)),
                            steps=float(np.mean(gold.step)), cycles=cycles, samples=len(gold.step))
        est = estimate(config, activity, devices, memory, cycles=cycles)
        rows.append({**variant, "cycles_estimate": float(cycles), "energy_j": float(est.energy_per_inference_j),
                     "edp": float(est.edp), "area_mm2": float(est.total_area_mm2)})
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
    from spinaps.flow import export_and_save
    from spinaps.sim.cost import Config
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
            cycles = estimate_cycles(cfg, gold)
            key = hw_key(hw)
            artifacts[key] = path.read_bytes()
            base = {"hw_key": key, "encoder_lanes": hw["encoder_lanes"], "lanes": list(hw["lanes"]),
                    "accuracy_golden": gold.accuracy(ds.y_test), "mean_step": float(np.mean(gold.step)),
                    "events": float(gold.events.sum(axis=1).mean()), "sops": float(gold.sops.sum(axis=1).mean()),
                    "synapse_bits": cfg.memory_bits,
                    "layers": [f"{l.n_out} {l.kind}" for l in cfg.layers],
                    "weight_bits": [l.weight_bits for l in cfg.layers], "t_max": cfg.t_max}
            for sched in schedule_costs(cfg, gold, schedules, devices, cycles):
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


def fit_design(artifact_bytes, target):
    """Yosys resources of the artifact's design on ``target`` (with its board link when an open
    board has that FPGA, as spinaps.flow.synth_report builds it): lut, ff, bram36, dsp,
    utilization, fits."""
    from spinaps.flow import synth_report

    with tempfile.TemporaryDirectory(prefix="spinaps_fit_") as tmp:
        entry = synth_report(_artifact(artifact_bytes, tmp), Path(tmp) / "synth", targets=[target], progress=False)[0]
    keep = ("lut", "ff", "bram36", "dsp", "logic_cells", "utilization", "fits", "includes_link", "yosys_seconds")
    return {k: entry[k] for k in keep if k in entry}


def confirm_design(artifact_bytes, target, n, simulator="verilator", pnr=True):
    """RTL simulation of the first ``n`` test samples (every spike, class and counter compared
    with the golden model; measured cycles) and, when ``pnr`` and an open board has
    ``target``'s FPGA, that board's build (nextpnr Fmax, fixed seed)."""
    _one_thread()
    from spinaps.flow import board_for_target, rtl_check

    with tempfile.TemporaryDirectory(prefix="spinaps_confirm_") as tmp:
        artifact = _artifact(artifact_bytes, tmp)
        run, cmp, labels = rtl_check(artifact, n, build_dir=Path(tmp) / "rtl", simulator=simulator)
        cycles = np.array([r["cycles"] for r in run.results], dtype=float)
        cls = np.array([r["cls"] for r in run.results])
        out = {"rtl_samples": len(run.results), "rtl_mismatches": len(cmp.mismatched_samples),
               "cycles_mean": float(cycles.mean()), "accuracy_rtl": float(np.mean(cls == np.asarray(labels))),
               "simulator": simulator, "fmax_mhz": None, "timing_met": None}
        board = board_for_target(target)
        if pnr and board is not None:
            from spinaps.boards.build import build
            rep = build(board.name, artifact.path, Path(tmp) / board.name, progress=False)
            out.update({"board": board.name, "fmax_mhz": rep["fmax_mhz"], "timing_met": rep["timing_met"],
                        "pnr_seconds": rep["pnr_seconds"],
                        "critical_path": (rep["critical_paths"] or [None])[0]})
    return out

