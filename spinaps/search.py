"""The architecture search (``spinaps search``, :func:`spinaps.api.search`; docs/search.md).

Optuna's NSGA-II samples the training tier (spinaps.search_space) with ask/tell in this
process; each trial is one Dask task (spinaps.search_eval.evaluate_trial: train, then every
value-tier and schedule-tier point). Objectives of a trial, over its points that fit the
first target: highest golden accuracy, fewest us per inference (estimated cycles / the target's
Fmax), lowest EDP (cost model); the constraint is that at least one of its points fits (Yosys,
design with its board link). Trials are asked and told in batches of ``batch`` in trial order,
so the same seed gives the same study on any number of workers, local or remote.

After the trials, the top Pareto points of each target are confirmed in RTL simulation
(bit-exact check, measured cycles) and by place-and-route (nextpnr Fmax), which calibrate the
others' cycles (spinaps.search_report); a design found not to fit leaves the Pareto set, so the
points it dominated become candidates. Every evaluation goes through the content-hashed cache
``<out>/cache``; the study lives in ``<out>/study.db`` (sqlite), so an interrupted search run
again with the same options resumes: finished trials are kept, unfinished ones are asked again
and their evaluations come from the cache when they had finished.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from spinaps.search_cache import ResultCache, cache_key
from spinaps.search_report import (TARGET_BOARD, _point_id, bitstream_command, calibration, confirmable, design_key,
                                   design_of, pareto_mask, pareto_plot, target_points)
from spinaps.search_space import SearchSpace, hw_grid, preset, schedule_variants, suggest, train_options

__all__ = ["search", "SearchResult", "TARGETS", "FIT_MODES", "measure_design"]

#: Targets a search may fit (the issue's three, each with its board link where one exists).
TARGETS = tuple(TARGET_BOARD)
#: ``yosys``: synthesize each trial's candidate points (the constraint steers NSGA-II);
#: ``final``: only the Pareto points considered for confirmation, after the trials (a Yosys run
#: takes minutes on a busy machine); ``none``: never (fits unknown, every point allowed).
FIT_MODES = ("yosys", "final", "none")
STUDY = "spinaps-search"


@dataclass
class SearchResult:
    """``points``: every evaluated point per target (search.json's ``points``); ``chosen``: per
    target the chosen point with its artifact path and bitstream command; ``json``: the file."""

    points: list
    chosen: dict
    json: Path
    plots: list
    trials: int


def _check(space, out, targets, trials, batch, workers, confirm, rtl_samples, fit, scheduler, simulator, pnr):
    from spinaps import preflight as pre
    from spinaps.data import as_dataset
    from spinaps.search_dask import check_scheduler

    if not targets:
        raise pre.OptionError("--target: give at least one of " + ", ".join(TARGETS))
    for t in targets:
        if t not in TARGETS:
            raise pre.OptionError(f"--target {t}: not one of {', '.join(TARGETS)}")
    pre.at_least("--trials", trials, 1, "training-tier points")
    pre.at_least("--batch", batch, 1, "trials asked at once")
    pre.at_least("--workers", workers, 1, "local worker processes")
    pre.at_least("--confirm", confirm, 0, "Pareto points per target confirmed in RTL and place-and-route")
    pre.at_least("--rtl-samples", rtl_samples, 1, "test samples per RTL confirmation")
    if fit not in FIT_MODES:
        raise pre.OptionError(f"--fit {fit}: not one of {', '.join(FIT_MODES)}")
    pre.out_dir("--out", out)
    as_dataset(space.dataset)               # an unknown data set fails before any cluster starts
    if confirm:
        from spinaps.toolchain import simulator as find_simulator
        find_simulator(simulator)           # installed, before hours of search
        if pnr and any(t != "xc7a35t" for t in targets):
            import amaranth_boards  # noqa: F401 - the boards extra, for place-and-route
    if scheduler:
        check_scheduler(scheduler)


def _settings(space, targets, seed, fit):
    return {"space": space.as_dict(), "targets": list(targets), "seed": seed, "fit": fit}


def _open_study(out, settings, seed, batch):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Constraints go through Trial.set_constraint (Optuna 5; constraints_func is deprecated).
    sampler = optuna.samplers.NSGAIISampler(population_size=max(2, batch), seed=seed)
    study = optuna.create_study(study_name=STUDY, storage=f"sqlite:///{Path(out).resolve() / 'study.db'}",
                                directions=["maximize", "minimize", "minimize"], sampler=sampler, load_if_exists=True)
    stored = study.user_attrs.get("settings")
    if stored is None:
        study.set_user_attr("settings", settings)
    elif stored != json.loads(json.dumps(settings)):
        raise ValueError(f"--out {out}: holds a study made with other settings (space, targets, seed or fit); "
                         "run with the same options to resume it, or choose another --out")
    # Trials an interrupted run left running are failed and asked again with the same parameters.
    for t in study.get_trials(deepcopy=False, states=[optuna.trial.TrialState.RUNNING]):
        study.tell(t.number, state=optuna.trial.TrialState.FAIL)
        study.enqueue_trial(t.params)     # (skip_if_exists would match the failed trial itself)
    return study


class _Runner:
    """Submits evaluations to Dask unless the cache holds them; gathers them in order."""

    def __init__(self, client, cache, retries):
        self.client, self.cache, self.retries = client, cache, retries

    def map(self, function, calls):
        from spinaps import search_eval

        keys = [cache_key(function, *args) for args in calls]
        futures = {}
        for key, args in zip(keys, calls):
            if key not in futures and self.cache.get(key) is None:
                futures[key] = self.client.submit(getattr(search_eval, function), *args, key=f"{function}-{key}",
                                                  retries=self.retries, pure=False)
        # Stored as each finishes, so one failed evaluation loses none of the others.
        from distributed import as_completed

        by_future = {fut: key for key, fut in futures.items()}
        failed = None
        for fut in as_completed(list(by_future)):
            try:
                self.cache.put(by_future[fut], fut.result())
            except Exception as e:  # noqa: BLE001 - re-raised once the others are stored
                failed = failed or e
        if failed is not None:
            raise failed
        return keys, [self.cache.get(k) for k in keys]


def _trial_points(number, params, key, value):
    return [{"trial": number, "params": params, "artifact": f"{key}/{row['hw_key']}", **row} for row in value["rows"]]


def _fit_candidates(points):
    """Designs (:func:`design_key`: artifact and window schedule) worth synthesizing: the
    trial's non-dominated FPGA points (SRAM) on (accuracy, estimated cycles, cost-model area):
    the smallest design is always among them."""
    points = [p for p in points if p["memory"] == "sram" and confirmable(p)]
    mask = pareto_mask([[-p["accuracy_golden"], p["cycles_estimate"], p["area_mm2"]] for p in points])
    return sorted({design_key(p) for p, m in zip(points, mask) if m})


def t_name(params):
    """``glm w4 K2 tau8 T16`` for the progress bar."""
    short = {"weight_bits": "w", "weight_bits_out": "wo", "n_basis": "K", "tau": "tau", "t_max": "T", "hidden": "h"}
    return " ".join([params.get("network", "glm")] + [f"{short[k]}{v}" for k, v in params.items() if k in short])


def _artifact_bytes(cache, artifact):
    key, name = artifact.split("/")
    return cache.artifact_path(key, name).read_bytes()


def _design_call(cache, design, *args):
    """The arguments of ``fit_design`` / ``confirm_design`` for ``design`` (the schedule last,
    only when it has a window, so time-sequential designs keep their cache keys)."""
    artifact, schedule = design_of(design)
    return (_artifact_bytes(cache, artifact), *args) + (() if schedule is None else (schedule,))


def _over_storage(points, target):
    """Designs whose synapse memory alone holds more bits than ``target``'s block RAM: they
    cannot fit (the rest would become logic cells), so no Yosys run is spent on them (an
    mnist5k hybrid's takes about ten minutes on the UP5K). ``{design: fit}``, ``fits_by``
    ``"storage"``."""
    from spinaps.toolchain import TARGETS

    bram_bits = TARGETS[target].capacity["bram36"] * 36 * 1024
    return {design_key(p): {"fits": False, "fits_by": "storage",
                            "utilization": {"bram36": p["synapse_bits"] / bram_bits}}
            for p in points if confirmable(p) and p.get("synapse_bits", 0) > bram_bits}


def _rule_out_over_storage(fits, points, target):
    """Record in ``fits`` (one target's) the designs of ``points`` that :func:`_over_storage`
    rules out, unless a synthesis already measured them."""
    fits.update({d: v for d, v in _over_storage(points, target).items() if d not in fits})


def _fits(runner, cache, designs, target, fit):
    if fit != "yosys" or not designs:
        return {}
    _, values = runner.map("fit_design", [_design_call(cache, d, target) for d in designs])
    return dict(zip(designs, values))


def _trial_values(points, target, fits):
    from spinaps.search_report import FMAX_PRIOR_MHZ

    ok = [p for p in points if fits.get(design_key(p), {}).get("fits", True)]
    if not ok:
        over = min(max(fits[design_key(p)]["utilization"].values()) for p in points if design_key(p) in fits) - 1.0
        best = max(points, key=lambda p: p["accuracy_golden"])
        return [best["accuracy_golden"], best["cycles_estimate"] / FMAX_PRIOR_MHZ[target], best["edp"]], [max(over, 1e-6)]
    return [max(p["accuracy_golden"] for p in ok), min(p["cycles_estimate"] for p in ok) / FMAX_PRIOR_MHZ[target],
            min(p["edp"] for p in ok)], [0.0]


def search(space="digits", *, out="build/search", targets=("ice40up5k",), trials=8, seed=0, batch=4,
           scheduler=None, workers=2, fit="yosys", confirm=2, rtl_samples=40, simulator="verilator", pnr=True,
           retries=2, enqueue=(), progress=True):
    """Run (or resume) an architecture search; returns a :class:`SearchResult`.

    ``space``: a preset name (``digits``, ``mnist5k``, ``tiny``) or a :class:`SearchSpace`.
    ``targets``: FPGAs the designs must fit with their board link (the first one drives the
    optimization). ``scheduler``: ``tcp://HOST:PORT`` of a running Dask scheduler (default: a
    local cluster of ``workers`` processes). ``confirm``: Pareto points per target confirmed in
    RTL (``simulator``, ``rtl_samples`` test samples) and, with ``pnr``, place-and-route.
    ``enqueue``: training-tier parameter dicts evaluated first (e.g. the hand-sized default).
    """
    from tqdm import tqdm

    import optuna

    space = preset(space) if isinstance(space, str) else space
    if not isinstance(space, SearchSpace):
        raise TypeError("space must be a preset name or a spinaps.search_space.SearchSpace")
    targets = tuple(targets)
    _check(space, out, targets, trials, batch, workers, confirm, rtl_samples, fit, scheduler, simulator, pnr)
    from spinaps.data import as_dataset
    from spinaps.search_dask import dask_client
    from spinaps.sim.devices import load_devices

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cache = ResultCache(out / "cache")
    study = _open_study(out, _settings(space, targets, seed, fit), seed, batch)
    for params in enqueue:
        study.enqueue_trial(dict(params), skip_if_exists=True)
    ds = as_dataset(space.dataset)
    n_inputs = ds.x_test.shape[1]
    devices = load_devices()
    primary = targets[0]
    done = lambda: [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]  # noqa: E731
    points, fits = [], {t: {} for t in targets}

    with dask_client(scheduler, workers) as client:
        runner = _Runner(client, cache, retries)
        best = (-1.0, 0.0, "")
        bar = tqdm(total=trials, initial=min(trials, len(done())), desc="search", unit="trial", disable=not progress)
        while len(done()) < trials:
            asked = [study.ask() for _ in range(min(batch, trials - len(done())))]
            params = [suggest(t, space) for t in asked]
            calls = []
            for p in params:
                network, config = train_options(p, space.fixed, seed)
                hidden = [config["hidden"][0]] if network == "hybrid" else []
                grid = hw_grid(space, hidden + [len(set(ds.y_train.tolist()))], n_inputs)
                calls.append((space.dataset, network, config, grid, schedule_variants(space, len(hidden) + 1), devices))
            keys, values = runner.map("evaluate_trial", calls)
            for trial, p, key, value in zip(asked, params, keys, values):
                pts = _trial_points(trial.number, p, key, value)
                for t in targets:
                    if fit == "yosys":
                        _rule_out_over_storage(fits[t], pts, t)
                    todo = [d for d in _fit_candidates(pts) if d not in fits[t]]
                    fits[t].update(_fits(runner, cache, todo, t, fit))
                vals, constraint = _trial_values(pts, primary, fits[primary])
                trial.set_constraint("fits", constraint[0])
                trial.set_user_attr("cache_key", key)
                trial.set_user_attr("params", p)
                study.tell(trial, vals)
                bar.update(1)
                if vals[0] > best[0] and constraint == [0.0]:
                    best = (vals[0], vals[1], t_name(p))
                if best[2]:
                    bar.set_postfix_str(f"best {best[0]:.3f} acc, {best[1]:.1f} us est. ({best[2]})")
        bar.close()
        # Every finished trial (resumed ones too) from the cache.
        seen = set()
        for t in sorted(done(), key=lambda t: t.number):
            key = t.user_attrs["cache_key"]
            if key not in seen:     # NSGA-II may ask the same point twice: it is one design, listed once
                seen.add(key)
                points += _trial_points(t.number, t.user_attrs["params"], key, cache.get(key))
        confirms = _confirm(runner, cache, points, targets, fits, fit, confirm, rtl_samples, simulator, pnr)

    return _write(out, space, targets, points, fits, confirms, seed, trials)


#: Designs a confirmation may newly synthesize per confirmed point asked (``--confirm``) and
#: target: the most accurate Pareto designs are often too large, and each Yosys run takes
#: minutes. Designs an earlier run measured (the cache) do not count; past the budget only they
#: remain candidates.
FIT_BUDGET = 6


def _ranked(points, target, fits, skip):
    """Designs of ``target``'s Pareto points, most accurate first, without those known not to
    fit (they leave the Pareto set, so the points they dominated enter it) and ``skip``."""
    ranked = []
    rows = target_points(points, target, fits, {}, None)
    for r in sorted((r for r in rows if r["pareto"] and confirmable(r)), key=lambda r: -r["accuracy_golden"]):
        a = design_key(r)
        if a not in ranked and a not in skip and fits.get(a, {}).get("fits", True):
            ranked.append(a)
    return ranked


def _confirm(runner, cache, points, targets, fits, fit, confirm, n, simulator, pnr):
    """Per target, the designs of the ``confirm`` most accurate Pareto points (estimates) that
    fit: each design's FPGA build (SRAM synapses, its window schedule) in RTL and
    place-and-route. Designs whose synapse memory exceeds the target's block RAM are out
    first (:func:`_over_storage`); the Pareto set is recomputed after each round without the
    designs found not to fit (at most ``FIT_BUDGET * confirm`` designs newly synthesized per
    target; then only designs an earlier run measured). Returns
    ``{target: {point id: confirmation}}``."""
    out = {t: {} for t in targets}
    if not confirm:
        return out
    for t in targets:
        if fit != "none":   # too big for the block RAM: out before any synthesis or budget
            _rule_out_over_storage(fits[t], points, t)

        def measured(a):    # measured by an earlier run: its fit (its confirmation without fits)
            function, args = ("fit_design", (t,)) if fit != "none" else ("confirm_design", (t, n, simulator, pnr))
            return cache.get(cache_key(function, *_design_call(cache, a, *args))) is not None

        done, seen, tried = 0, set(), 0     # seen: designs confirmed or found not to fit
        while done < confirm:
            ranked = _ranked(points, t, fits[t], seen)
            if tried >= FIT_BUDGET * confirm:
                ranked = [a for a in ranked if measured(a)]
            if not ranked:
                break
            # The next few candidates at once (in parallel on the workers): Yosys first, then the
            # RTL and the board build of those that fit; one nextpnr cannot place does not fit.
            head = ranked[:confirm - done + 1]
            tried += sum(not measured(a) for a in head)
            for a in head:     # nextpnr's word from an earlier run (the cache) overrides Yosys's
                known = cache.get(cache_key("confirm_design", *_design_call(cache, a, t, n, simulator, pnr)))
                if known and known.get("pnr_fits") is False:
                    if fit != "none" and a not in fits[t]:
                        fits[t].update(_fits(runner, cache, [a], t, "yosys"))
                    fits[t][a] = {**fits[t].get(a, {}), "fits": False, "fits_by": "nextpnr"}
            if fit != "none":
                fits[t].update(_fits(runner, cache, [a for a in head if a not in fits[t]], t, "yosys"))
            fitting = [a for a in head if fits[t].get(a, {}).get("fits", True)]
            arts = fitting[:confirm - done]
            seen.update([a for a in head if a not in fitting] + arts)
            _, values = runner.map("confirm_design", [_design_call(cache, a, t, n, simulator, pnr) for a in arts])
            for a, conf in zip(arts, values):
                if conf.get("pnr_fits") is False:
                    fits[t][a] = {**fits[t].get(a, {}), "fits": False, "fits_by": "nextpnr"}
                    continue
                fpga = next(p for p in points if design_key(p) == a and p["memory"] == "sram" and confirmable(p))
                out[t][_point_id(fpga)] = conf
                done += 1
    return out


def _write(out, space, targets, points, fits, confirms, seed, trials):
    from spinaps.flow import write_json

    rows, chosen, plots = [], {}, []
    for t in targets:
        ratio, n_cal = calibration([{**p, "confirm": confirms[t].get(_point_id(p))} for p in points])
        trows = target_points(points, t, fits[t], confirms[t], ratio)
        for r in trows:
            r["dataset"] = space.dataset
            r["calibration"] = {"cycles_ratio": ratio, "points": n_cal}
        rows += trows
        plots.append(pareto_plot(trows, t, out / f"pareto_{t}.png"))
        ok = [r for r in trows if r["confirmed"] and r["rtl_mismatches"] == 0 and r["fits"] is not False]
        if ok:
            best = max(ok, key=lambda r: (r["accuracy_golden"], -r["us_per_inference"]))
            model = out / f"chosen_{t}.npz"
            key, name = best["artifact"].split("/")
            from spinaps.toolchain import atomic_write_bytes
            atomic_write_bytes(model, ResultCache(out / "cache").artifact_path(key, name).read_bytes())
            chosen[t] = {"point": best, "artifact": str(model), "command": bitstream_command(t, model, best["schedule"])}
    doc = {"dataset": space.dataset, "space": space.as_dict(), "targets": list(targets), "seed": seed, "trials": trials,
           "points": rows, "pareto": [r for r in rows if r["pareto"]],
           "chosen": {t: {"artifact": c["artifact"], "command": c["command"], "trial": c["point"]["trial"],
                          "artifact_id": c["point"]["artifact"], "memory": c["point"]["memory"],
                          "schedule": c["point"]["schedule"]}
                      for t, c in chosen.items()}}
    path = write_json(out / "search.json", doc)
    return SearchResult(points=rows, chosen=chosen, json=path, plots=plots, trials=trials)


def measure_design(out, point, target, *, rtl_samples=40, simulator="verilator", pnr=True):
    """Fit and confirmation of one point of a finished search in ``out`` on ``target``, by the
    same evaluations (:func:`~spinaps.search_eval.fit_design`, :func:`~spinaps.search_eval.confirm_design`)
    and arguments as the search's own confirmations, from its cache (computed here and cached
    when absent): e.g. a reference design the search did not confirm. Returns
    ``{"fit": ..., "confirm": ...}``."""
    from spinaps import search_eval

    cache = ResultCache(Path(out) / "cache")
    design = design_key(point)
    result = {}
    for name, args in (("fit", _design_call(cache, design, target)),
                       ("confirm", _design_call(cache, design, target, rtl_samples, simulator, pnr))):
        function = f"{name}_design"
        key = cache_key(function, *args)
        result[name] = cache.get(key) or cache.put(key, getattr(search_eval, function)(*args))
    return result
