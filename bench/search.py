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
against the hand-sized default measured by bench/synth.py (bench/results/synth.json).
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
EXTRA = ("trial", "params", "layers", "weight_bits", "lanes", "encoder_lanes", "memory", "energy_j", "cycles_source",
         "fmax_source", "cycles_estimate", "utilization", "schedule", "fits_by", "fits_at_w1", "calibration")


def hand_default(dataset, target):
    """The hand-sized default of bench/synth.py on ``target`` (golden accuracy, us), or None."""
    path = RESULTS / "synth.json"
    if not path.exists():
        return None
    for e in json.loads(path.read_text()):
        if e["model"] == f"{dataset}_glm_default" and e["target"] == target and e.get("us_per_inference"):
            return {"accuracy_golden": e["accuracy_golden"], "us_per_inference": e["us_per_inference"],
                    "fmax_mhz": e["fmax_mhz"], "cycles_mean": e["cycles_per_inference_mean"], "lut": e["lut"],
                    "source": "bench/results/synth.json (digits_glm_default, 60 epochs)"}
    return None


def targets_check(dataset, rows, chosen):
    """The issue's targets for ``dataset`` from the confirmed points (RTL cycles, nextpnr Fmax)."""
    confirmed = [r for r in rows if r["rtl_mismatches"] == 0 and r["fits"] and r["cycles_source"] == "rtl"]
    out = {}
    if dataset == "digits":
        ref = hand_default("digits", "ice40up5k")
        mine = [r for r in confirmed if r["target"] == "ice40up5k"]
        better = [r for r in mine if ref and ((r["accuracy_golden"] >= ref["accuracy_golden"]
                                               and r["us_per_inference"] < ref["us_per_inference"])
                                              or (r["accuracy_golden"] > ref["accuracy_golden"]
                                                  and r["us_per_inference"] <= ref["us_per_inference"]))]
        out["digits_beats_hand_default_on_up5k"] = {
            "hand_default": ref, "met": bool(better),
            "confirmed_points": [{k: r[k] for k in ("accuracy_golden", "us_per_inference", "fmax_mhz", "cycles_mean",
                                                    "lut", "lanes", "encoder_lanes", "params")} for r in mine]}
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
    res = search(space, out=Path("build/bench_search") / ("tiny" if args.quick else args.space), targets=args.target,
                 trials=args.trials, batch=args.batch, workers=args.workers, scheduler=args.scheduler,
                 fit="none" if args.quick else args.fit, confirm=0 if args.quick else args.confirm,
                 rtl_samples=args.rtl_samples, enqueue=[] if args.quick else [BASELINE])
    rows = [{**{k: r.get(k) for k in FIELDS}, **{k: r.get(k) for k in EXTRA}} for r in res.points]
    doc = {"command": "python bench/search.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "space": space.as_dict(), "trials": res.trials, "seconds": time.perf_counter() - t0,
           "points": rows, "chosen": {t: {"command": c["command"], **{k: c["point"].get(k) for k in FIELDS + EXTRA}}
                                      for t, c in res.chosen.items()},
           "targets": targets_check(space.dataset, rows, res.chosen)}
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
