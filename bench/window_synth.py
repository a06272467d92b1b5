"""Resources and ECP5 Fmax of window schedules (bench/window.py's synthesis columns, issue 15).

:func:`add_synthesis` builds each network's time-sequential, best single-W and best per-layer
schedules (plus ``--synth-also`` ones): Yosys on the accelerator alone (xc7a35t) and the ULX3S
board top (accelerator + UART link) through Yosys + nextpnr-ecp5, the same flow as
bench/synth.py, for the Fmax against the issue's target (within 15 % of W = 1);
:func:`resources_markdown` renders them for window.md. ``python bench/window.py --synth-only``
recomputes only these columns of an existing window.json.
"""

from pathlib import Path

SYNTH_TARGET = "xc7a35t"
#: The board whose top (accelerator + UART link, PLL at its default core clock) gives the ECP5
#: Fmax of a schedule: the same full open flow as bench/synth.py's (boards/build.py).
ECP5_BOARD = "ulx3s"
#: Rows synthesized per network (plus the single-W rows ``--synth-also`` names).
SYNTH_KINDS = ("time-sequential", "best single W", "best per-layer W")
#: Every column add_synthesis fills (cleared before a ``--synth-only`` recomputation).
SYNTH_COLUMNS = ("lut", "ff", "bram36", "synth_target", "fmax_mhz", "ecp5_fits", "ecp5_error", "ecp5_lut", "ecp5_ff",
                 "ecp5_bram36", "ecp5_dsp",
                 "ecp5_board", "ecp5_clock_mhz", "ecp5_timing_met", "ecp5_critical_path", "ecp5_build_seconds",
                 "fmax_ratio_vs_sequential", "design_hash")
#: The issue's target: a window configuration's ECP5 Fmax within 15 % of the time-sequential one's.
FMAX_TARGET_RATIO = 0.85


def _synth_artifact(row, build):
    """The row's artifact: its recorded path, else the same stem under build/bench*/ (find_or_train)."""
    from window import find_or_train

    from spinaps.sw import artifact as art

    path = Path(row["artifact"])
    return art.load(path) if path.exists() else find_or_train(path.stem, build)


def _design(artifact, schedule, work):
    """The accelerator's Verilog for ``schedule`` and a hash of the design a build sees: that
    Verilog plus the board link's sources (so a change to either rebuilds, nothing else does)."""
    import hashlib

    import spinaps.boards
    from spinaps.flow import write_accelerator_verilog

    verilog, _ = write_accelerator_verilog(artifact, work, name="spinaps_accelerator",
                                           window=[w for w, _ in schedule], adders=[a for _, a in schedule])
    digest = hashlib.sha256(verilog.read_bytes())
    for source in sorted(Path(spinaps.boards.__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return verilog, digest.hexdigest()[:16]


def _ecp5(artifact, schedule, out_dir, core_mhz="default"):
    """The ULX3S board top with ``schedule`` through Yosys + nextpnr-ecp5 (fixed seed): Fmax and
    the Yosys resources of the whole top (accelerator + link). ``core_mhz``: the PLL clock,
    which is also nextpnr's timing target (default: the board's)."""
    from spinaps.boards.build import BuildError, build
    from spinaps.toolchain import resources

    try:
        rep = build(ECP5_BOARD, artifact.path, out_dir, progress=False, core_mhz=core_mhz,
                    window=[w for w, _ in schedule], adders=[a for _, a in schedule])
    except BuildError as e:
        if "does not fit" not in str(e):
            raise
        return ecp5_no_fit(out_dir, e)
    res = resources(rep["yosys_cells"] or {}, "ecp5-85f")
    path = (rep["critical_paths"] or [None])[0]
    return {"fmax_mhz": rep["fmax_mhz"], "ecp5_fits": True, "ecp5_lut": res["lut"], "ecp5_ff": res["ff"], "ecp5_bram36": res["bram36"],
            "ecp5_dsp": res["dsp"], "ecp5_board": ECP5_BOARD, "ecp5_clock_mhz": rep["clock_mhz"],
            "ecp5_timing_met": rep["timing_met"], "ecp5_build_seconds": rep["seconds"],
            "ecp5_critical_path": {k: path[k] for k in ("start", "end", "delay_ns", "logic_ns", "routing_ns")}
            if path else None}


def ecp5_no_fit(out_dir, error):
    """The result of an ECP5 build nextpnr could not place: no Fmax, the Yosys resources of the
    top from its report, and what ran out (``ecp5_error``)."""
    from spinaps.boards.build import yosys_cells
    from spinaps.toolchain import resources

    rpt = Path(out_dir) / f"spinaps_{ECP5_BOARD}.rpt"
    res = resources(yosys_cells(rpt.read_text(errors="replace")) if rpt.exists() else {}, "ecp5-85f")
    return {"fmax_mhz": None, "ecp5_fits": False, "ecp5_error": str(error).split(". Re-export")[0],
            "ecp5_lut": res["lut"], "ecp5_ff": res["ff"], "ecp5_bram36": res["bram36"], "ecp5_dsp": res["dsp"],
            "ecp5_board": ECP5_BOARD, "ecp5_clock_mhz": None, "ecp5_timing_met": None, "ecp5_build_seconds": None,
            "ecp5_critical_path": None}


def synth_schedules(rows, also=()):
    """Per network, the schedules add_synthesis builds: those of the :data:`SYNTH_KINDS` rows
    and the single-W rows whose every layer is one of ``also`` (``(W, A)`` pairs)."""
    out = {}
    for r in rows:
        s = tuple(tuple(x) for x in r["schedule"])
        if r["schedule_kind"] in SYNTH_KINDS or (r["schedule_kind"] == "single W" and s[0] in also):
            out.setdefault(r["network"], {}).setdefault(s, r)
    return out


def add_synthesis(rows, build, written=None, *, also=(), pnr=True, force=False, networks=None, ecp5_mhz=None,
                  cached_only=False):
    """Resources and Fmax of each network's time-sequential, best single-W and best per-layer
    rows (and the single-W rows of ``also``): Yosys on the accelerator alone (Artix-7,
    ``lut``, ``ff``, ``bram36``, ``synth_target``) and, with ``pnr``, the ECP5-85F board top
    (ULX3S: accelerator + UART link) through Yosys + nextpnr-ecp5 (``fmax_mhz``, ``ecp5_lut``,
    ``ecp5_ff``, ``ecp5_bram36``, ...), and ``fmax_ratio_vs_sequential`` = Fmax / the
    network's W = 1 Fmax. ``networks``: artifact stems to do (None: every network); ``force``:
    clear their synthesis columns first (``--synth-only``). ``ecp5_mhz``: the ECP5 core clock
    and timing target (None: the board's default, as bench/synth.py builds it).
    Results are cached by design hash (the schedule's Verilog + the link's sources) in
    ``<build>/window_synth/cache.json``, so a re-run repeats only the designs that changed;
    ``cached_only``: fill in only designs built before, build nothing (their rows stay empty)."""
    from synth import Cache

    from spinaps.toolchain import resources, synthesize

    def wanted(r):
        return networks is None or Path(r["artifact"]).stem in networks

    if force:
        for r in filter(wanted, rows):
            r.update({k: None for k in SYNTH_COLUMNS})
    root = Path(build) / "window_synth"
    cache = Cache(root / "cache.json")
    for network, todo in synth_schedules(list(filter(wanted, rows)), also).items():
        artifact = _synth_artifact(next(iter(todo.values())), build)
        for s in todo:
            tag = "_".join(f"w{w}a{a}" for w, a in s)
            work = root / Path(artifact.path).stem / tag
            verilog, key = _design(artifact, s, work)
            at = f"@{ecp5_mhz:g}" if ecp5_mhz else ""
            if cached_only and not all(k in cache.data for k in [f"{key}:{SYNTH_TARGET}"]
                                       + ([f"{key}:{ECP5_BOARD}{at}"] if pnr else [])):
                print(f"synth {network} {tag}: not built before, left out (--synth-cached)", flush=True)
                continue
            xc7 = cache.get(f"{key}:{SYNTH_TARGET}", lambda: synthesize(verilog, "spinaps_accelerator", SYNTH_TARGET,
                                                                         work_dir=work, progress=False))
            res = resources(xc7["cells"], SYNTH_TARGET)
            got = {"lut": res["lut"], "ff": res["ff"], "bram36": res["bram36"], "synth_target": SYNTH_TARGET,
                   "design_hash": key}
            if pnr:
                got.update(cache.get(f"{key}:{ECP5_BOARD}{at}",
                                     lambda: _ecp5(artifact, s, work / f"{ECP5_BOARD}{at}", ecp5_mhz or "default")))
                got.setdefault("ecp5_fits", got["fmax_mhz"] is not None)     # results cached before the key
            for r in rows:
                if r["network"] == network and tuple(tuple(x) for x in r["schedule"]) == s:
                    r.update(got)
            print(f"synth {network} {tag}: {got['lut']} LUT, {got['ff']} FF, {got['bram36']} BRAM36 ({SYNTH_TARGET})"
                  + (f"; ECP5 {got['ecp5_lut']} LUT, {got['ecp5_ff']} FF, {got['ecp5_dsp']} DSP, Fmax {got['fmax_mhz']} "
                     f"MHz{'' if got.get('ecp5_fits', True) else ' (' + got['ecp5_error'] + ')'}" if pnr else ""), flush=True)
            _fmax_ratios(rows)
            if written is not None:          # each result as it comes: a build takes minutes here
                written(rows)


def _fmax_ratios(rows):
    """``fmax_ratio_vs_sequential`` of every row with an Fmax whose network's W = 1 has one."""
    base = {r["network"]: r.get("fmax_mhz") for r in rows if r["schedule_kind"] == "time-sequential"}
    for r in rows:
        b = base.get(r["network"])
        r["fmax_ratio_vs_sequential"] = r["fmax_mhz"] / b if r.get("fmax_mhz") and b else None


def resources_markdown(rows):
    """The resources and ECP5 Fmax of the synthesized rows, and the 15 % Fmax target per network."""
    synth, seen = [], set()
    for r in rows:
        key = (r["network"], str(r["schedule"]))
        if r.get("lut") is not None and key not in seen:
            seen.add(key)
            synth.append(r)
    if not synth:
        return []

    def num(v, fmt):
        return "-" if v is None else format(v, fmt)

    clocks = ", ".join(f"{c:g}" for c in sorted({r["ecp5_clock_mhz"] for r in synth if r.get("ecp5_clock_mhz")}))
    lines = ["", f"## Resources and Fmax (Yosys {synth[0]['synth_target']}: the accelerator alone; ECP5-85F: the "
                 f"{ECP5_BOARD.upper()} board top, accelerator + UART link, Yosys + nextpnr-ecp5 seed 1)", "",
             "Fmax is nextpnr's for the core clock of the board top (the same flow as bench/synth.py; the PLL "
             f"clock, {clocks or '-'} MHz, is nextpnr's timing target); Fmax ratio = the row's Fmax / the network's "
             "W = 1 Fmax. Target (issue 15): a window configuration's Fmax within 15 % of the time-sequential "
             f"engine's (ratio >= {FMAX_TARGET_RATIO}).", "",
             "| network | schedule | (W, A) per layer | xc7 LUT | xc7 FF | xc7 BRAM36 | ECP5 LUT | ECP5 FF | ECP5 BRAM36 | "
             "ECP5 DSP | Fmax MHz | Fmax ratio | critical path (ECP5) |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in synth:
        path = r.get("ecp5_critical_path")
        cp = (f"{path['start']} -> {path['end']} ({path['delay_ns']:.1f} ns)".replace("core.accelerator.", "")
              if path else r.get("ecp5_error") or "-")
        ratio = r.get("fmax_ratio_vs_sequential")
        lines.append(f"| {r['network']} | {r['schedule_kind']} | {' '.join(f'({w},{a})' for w, a in r['schedule'])} | "
                     f"{r['lut']:,} | {r['ff']:,} | {r['bram36']:g} | {num(r.get('ecp5_lut'), ',')} | "
                     f"{num(r.get('ecp5_ff'), ',')} | {num(r.get('ecp5_bram36'), 'g')} | {num(r.get('ecp5_dsp'), 'd')} | "
                     f"{'does not fit' if r.get('ecp5_fits') is False else num(r.get('fmax_mhz'), '.1f')} | "
                     f"{num(ratio, '.3f')} | {cp} |")
    verdicts = []
    for name in dict.fromkeys(r["network"] for r in synth):
        windows = [r for r in synth if r["network"] == name and r.get("fmax_ratio_vs_sequential") is not None
                   and any(w > 1 for w, _ in r["schedule"])]
        if windows:
            worst = min(windows, key=lambda r: r["fmax_ratio_vs_sequential"])
            ok = all(r["fmax_ratio_vs_sequential"] >= FMAX_TARGET_RATIO for r in windows)
            verdicts.append(f"{name.split(' (')[0]}: worst window ratio {worst['fmax_ratio_vs_sequential']:.3f} "
                            f"({' '.join(f'({w},{a})' for w, a in worst['schedule'])}), target "
                            f"{'met' if ok else 'NOT met'}")
    unplaced = [f"{r['network'].split(' (')[0]} {' '.join(f'({w},{a})' for w, a in r['schedule'])}" for r in synth
                if r.get("ecp5_fits") is False]
    if verdicts:
        lines += ["", "Fmax target per network: " + "; ".join(verdicts) + "."]
    if unplaced:
        lines += ["", "Not placed on the ECP5-85F (nextpnr ran out of a resource; no Fmax): " + ", ".join(unplaced) + "."]
    return lines
