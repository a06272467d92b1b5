"""The architecture search against the issue's targets (long: `make bench-search`).

    python bench/search.py                          # digits on the iCE40 UP5K
    python bench/search.py --space mnist5k --target ecp5-85f ice40up5k --trials 12
    python bench/search.py --scheduler tcp://HOST:8786   # the same on a Dask cluster

Runs :func:`spinaps.search.search` (docs/search.md: Optuna NSGA-II over training, every
lanes / memory point inside each trial, Yosys fits, the top Pareto points confirmed on
Verilator and by nextpnr) in build/bench_search/<space> (its study and cache: a re-run resumes
and repeats nothing) with the hand-sized default (GlmTrainConfig's defaults, sw/lanes.py's
lanes) evaluated first, and writes bench/results/search.json: per point ``dataset``,
``target``, ``accuracy_golden``, ``us_per_inference``, ``fmax_mhz``, ``cycles_mean``, ``lut``,
``bram36``, ``fits``, ``edp``, ``pareto``, ``rtl_mismatches`` (confirmed points) and where the
cycles and the Fmax came from; per run the chosen point and the issue's targets checked
against the hand-sized default measured by the same flow (:func:`hand_default`).
"""

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
FIELDS = ("dataset", "target", "accuracy_golden", "us_per_inference", "fmax_mhz", "cycles_mean", "lut", "bram36",
          "fits", "edp", "pareto", "rtl_mismatches")
EXTRA = ("trial", "params", "layers", "weight_bits", "lanes", "encoder_lanes", "memory", "energy_j", "logic_cells",
         "cycles_source",
         "fmax_source", "cycles_estimate", "utilization", "schedule", "fits_by", "fits_at_w1", "calibration")


def hand_default(res, out, target, rtl_samples):
    """The hand-sized default measured by the search's own flow: the trial of the search's
    BASELINE (GlmTrainConfig's defaults, as `spinaps train` trains them: 60 epochs, seed 0),
    exported with sw/lanes.py's default lanes, its time-sequential SRAM design fitted and
    confirmed by the same evaluations as the search's confirmed points (Verilator RTL on the
    same test samples, the iCEBreaker build with the same nextpnr seed); None when the search
    has no such point."""
    from spinaps.cli_search import BASELINE
    from spinaps.search import measure_design
    from spinaps.sw.lanes import DEFAULT_ENCODER_LANES, default_lanes

    n_out = 10      # digits' classes: the GLM's one layer
    point = next((p for p in res.points if p["target"] == target and p["params"] == BASELINE
                  and p["lanes"] == [default_lanes(n_out)] and p["encoder_lanes"] == DEFAULT_ENCODER_LANES
                  and p["memory"] == "sram" and all(w == 1 for w, _ in p["schedule"])), None)
    if point is None:
        return None
    m = measure_design(out, point, target, rtl_samples=rtl_samples)
    fit, conf = m["fit"], m["confirm"]
    fmax = conf.get("fmax_mhz")
    return {"accuracy_golden": point["accuracy_golden"], "cycles_mean": conf["cycles_mean"], "fmax_mhz": fmax,
            "us_per_inference": conf["cycles_mean"] / fmax if fmax else None, "lut": fit["lut"], "ff": fit["ff"],
            "logic_cells": fit["logic_cells"], "fits": fit["fits"] and conf.get("pnr_fits", True),
            "rtl_mismatches": conf["rtl_mismatches"], "rtl_samples": conf["rtl_samples"], "trial": point["trial"],
            "artifact": point["artifact"], "lanes": point["lanes"], "encoder_lanes": point["encoder_lanes"],
            "source": f"this search's trial {point['trial']} (GlmTrainConfig defaults as `spinaps train`: glm w4 K2 "
                      "tau8 T16, 60 epochs, seed 0, one torch thread), exported with sw/lanes.py's defaults "
                      f"(lanes {point['lanes']}, encoder lanes {point['encoder_lanes']}), SRAM, W = 1; "
                      "search_eval.fit_design (Yosys + nextpnr pack) and confirm_design (Verilator RTL on the "
                      f"first {conf['rtl_samples']} test samples, iCEBreaker build nextpnr seed 1), as the "
                      "search's confirmed points"}


def targets_check(dataset, rows, ref):
    """The issue's targets for ``dataset`` from the confirmed points (RTL cycles, nextpnr Fmax);
    ``ref``: the hand-sized default on the UP5K (:func:`hand_default`)."""
    confirmed = [r for r in rows if r["rtl_mismatches"] == 0 and r["fits"] and r["cycles_source"] == "rtl"]
    out = {}
    if dataset == "digits":
        mine = [r for r in confirmed if r["target"] == "ice40up5k"]
        better = [r for r in mine if ref and ref["us_per_inference"] and ((r["accuracy_golden"] >= ref["accuracy_golden"]
                                               and r["us_per_inference"] < ref["us_per_inference"])
                                              or (r["accuracy_golden"] > ref["accuracy_golden"]
                                                  and r["us_per_inference"] <= ref["us_per_inference"]))]
        out["digits_beats_hand_default_on_up5k"] = {
            "hand_default": ref, "met": bool(better),
            "confirmed_points": [{k: r[k] for k in ("accuracy_golden", "us_per_inference", "fmax_mhz", "cycles_mean",
                                                    "lut", "logic_cells", "lanes", "encoder_lanes", "params", "schedule")}
                                 for r in mine]}
    if dataset == "mnist5k":
        ecp5 = [r for r in confirmed if r["target"] == "ecp5-85f"]
        fast = [r for r in ecp5 if r["accuracy_golden"] >= 0.90 and r["us_per_inference"] <= 5.0]
        keep = ("accuracy_golden", "us_per_inference", "lut", "lanes", "encoder_lanes", "params")
        pick = lambda r: r and {k: r[k] for k in keep}  # noqa: E731
        out["mnist5k_ecp5_0.90_at_5us"] = {"met": bool(fast), "fastest_at_0.90": pick(min(
            (r for r in ecp5 if r["accuracy_golden"] >= 0.90), key=lambda r: r["us_per_inference"], default=None)),
            "most_accurate": pick(max(ecp5, key=lambda r: r["accuracy_golden"], default=None))}
        up5k = [r for r in confirmed if r["target"] == "ice40up5k"]
        out["mnist5k_most_accurate_on_up5k"] = pick(max(up5k, key=lambda r: r["accuracy_golden"], default=None))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--space", default="digits", help="search space preset (spinaps.search_space.PRESETS)")
    ap.add_argument("--target", nargs="+", default=["ice40up5k"], help="targets, the first drives the search")
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=None, help="training epochs per trial (default: the preset's)")
    ap.add_argument("--confirm", type=int, default=2)
    ap.add_argument("--rtl-samples", type=int, default=40)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scheduler", default=None)
    ap.add_argument("--fit", default="final", help="yosys (every trial), final (the confirmation candidates) or none")
    ap.add_argument("--quick", action="store_true", help="the tiny space, no synthesis (a smoke run, not results)")
    args = ap.parse_args(argv)
    from dataclasses import replace

    from spinaps.cli_search import BASELINE
    from spinaps.flow import write_json
    from spinaps.search import search
    from spinaps.search_space import preset

    space = preset("tiny" if args.quick else args.space)
    if args.epochs:
        space = replace(space, fixed={**space.fixed, "epochs": args.epochs})
    t0 = time.perf_counter()
    out = Path("build/bench_search") / ("tiny" if args.quick else args.space)
    res = search(space, out=out, targets=args.target,
                 trials=args.trials, batch=args.batch, workers=args.workers, scheduler=args.scheduler,
                 fit="none" if args.quick else args.fit, confirm=0 if args.quick else args.confirm,
                 rtl_samples=args.rtl_samples, enqueue=[] if args.quick else [BASELINE])
    rows = [{**{k: r.get(k) for k in FIELDS}, **{k: r.get(k) for k in EXTRA}} for r in res.points]
    ref = hand_default(res, out, "ice40up5k", args.rtl_samples) \
        if space.dataset == "digits" and not args.quick and "ice40up5k" in args.target else None
    doc = {"command": "python bench/search.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "space": space.as_dict(), "trials": res.trials, "seconds": time.perf_counter() - t0,
           "points": rows, "chosen": {t: {"command": c["command"], **{k: c["point"].get(k) for k in FIELDS + EXTRA}}
                                      for t, c in res.chosen.items()},
           "targets": targets_check(space.dataset, rows, ref)}
    name = "search.json" if space.dataset == "digits" and not args.quick else f"search_{space.dataset}.json"
    if args.quick:
        name = "search_quick.json"
    write_json(RESULTS / name, doc)
    import shutil
    for p in res.plots:
        if not args.quick:
            shutil.copy(p, RESULTS / f"search_{space.dataset}_{Path(p).name}")
    print(json.dumps(doc["targets"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
