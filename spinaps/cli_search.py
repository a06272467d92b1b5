"""``spinaps search``: the architecture search (spinaps.search, docs/search.md) from the
command line. Its options are checked before any cluster starts or any network trains."""

from __future__ import annotations

__all__ = ["add_parser", "cmd_search"]

#: The hand-sized default of sw/lanes.py and GlmTrainConfig, as a training-tier point
#: (``--baseline`` evaluates it first; its lanes are in the presets' value tier).
BASELINE = {"network": "glm", "weight_bits": 4, "n_basis": 2, "tau": 8, "t_max": 16}


def add_parser(command):
    """Add ``search`` through the CLI's ``command(name, func, help)`` helper."""
    from spinaps.search import FIT_MODES, TARGETS
    from spinaps.search_space import PRESETS
    from spinaps.toolchain import SIMULATORS

    sp = command("search", cmd_search, "architecture search: Optuna NSGA-II over training, exhaustive lanes and "
                                       "schedules, on a Dask cluster (docs/search.md)")
    sp.add_argument("--space", default="digits", choices=list(PRESETS), help="search space preset (and data set)")
    sp.add_argument("--target", nargs="+", default=["ice40up5k"], choices=list(TARGETS),
                    help="FPGAs the design must fit with its board link; the first drives the optimization")
    sp.add_argument("--trials", type=int, default=8, help="training-tier points (Optuna trials) in total")
    sp.add_argument("--batch", type=int, default=4, help="trials asked at once (NSGA-II population)")
    sp.add_argument("--seed", type=int, default=0, help="sampler and training seed")
    sp.add_argument("--epochs", type=int, default=None, help="training epochs per trial (default: the preset's)")
    sp.add_argument("--out", default="build/search", help="output folder (study.db, cache, search.json, plots)")
    sp.add_argument("--scheduler", default=None,
                    help="tcp://HOST:PORT of a running Dask scheduler (default: a local cluster)")
    sp.add_argument("--workers", type=int, default=2, help="local cluster worker processes")
    sp.add_argument("--fit", default="yosys", choices=list(FIT_MODES), help="when 'fits the target' is checked by Yosys: every trial's candidates, "
                                                                   "only the final Pareto candidates, or never")
    sp.add_argument("--confirm", type=int, default=2, help="Pareto points per target confirmed in RTL and nextpnr")
    sp.add_argument("--rtl-samples", type=int, default=40, help="test samples per RTL confirmation")
    sp.add_argument("--simulator", default="verilator", choices=list(SIMULATORS), help="RTL simulator of the confirmations")
    sp.add_argument("--no-pnr", action="store_true", help="confirm in RTL only (no place-and-route, Fmax estimated)")
    sp.add_argument("--retries", type=int, default=2, help="retries of an evaluation whose worker died")
    sp.add_argument("--baseline", action="store_true", help="evaluate the hand-sized default network first")
    return sp


def cmd_search(args):
    from dataclasses import replace

    from spinaps import preflight as pre
    from spinaps.search import search
    from spinaps.search_space import preset

    space = preset(args.space)
    if args.epochs is not None:
        pre.at_least("--epochs", args.epochs, 1, "training epochs per trial")
        space = replace(space, fixed={**space.fixed, "epochs": args.epochs})
    pre.at_least("--retries", args.retries, 0)
    if not 0 <= args.seed <= 2**31 - 1:
        raise pre.OptionError(f"--seed {args.seed}: give a whole number 0..{2**31 - 1}")
    res = search(space, out=args.out, targets=args.target, trials=args.trials, seed=args.seed, batch=args.batch,
                 scheduler=args.scheduler, workers=args.workers, fit=args.fit, confirm=args.confirm,
                 rtl_samples=args.rtl_samples, simulator=args.simulator, pnr=not args.no_pnr, retries=args.retries,
                 enqueue=[BASELINE] if args.baseline else ())
    print(f"{len(res.points)} points ({res.trials} trials) in {res.json}; Pareto plots: "
          + ", ".join(str(p) for p in res.plots))
    for target, c in res.chosen.items():
        p = c["point"]
        print(f"{target}: chosen {' -> '.join(p['layers'])}, lanes {p['lanes']}, encoder lanes {p['encoder_lanes']}, "
              f"{p['memory']}: accuracy {p['accuracy_golden']:.3f}, {p['us_per_inference']:.2f} us "
              f"({p['cycles_mean']:.0f} cycles at {p['fmax_mhz']:.1f} MHz, {p['fmax_source']}), "
              f"LUT {p['lut']}; artifact {c['artifact']}\n  build it: {c['command']}")
    for target in [t for t in args.target if t not in res.chosen]:
        print(f"{target}: no point confirmed (give --confirm N >= 1), so no artifact chosen")
