"""What a search reports: per-target points (us per inference, fits, Pareto flag), the cycle
calibration, ``search.json``, the Pareto plots and the chosen point's artifact and command.

Cycles of a point are the RTL's (``cycles_source = "rtl"``) when it was confirmed, else the
activity estimate of spinaps.search_eval scaled by the mean measured / estimated ratio of the
confirmed points (``"estimate x calibration"``; uncalibrated ``"estimate"`` when no point was
confirmed). Fmax is nextpnr's for a confirmed point on a target with an open board, else the
median Fmax nextpnr measured on that target in this search, else :data:`FMAX_PRIOR_MHZ`
(``fmax_source`` says which).

Every window schedule can be synthesized, simulated and placed (:data:`CONFIRMABLE_WINDOWS`:
the board tops build ``Accelerator(window=, adders=)``). A point's FPGA design is its artifact
and its schedule (:func:`design_key`: the artifact alone for ``W = 1``, so resources and
confirmations of the time-sequential engine keep their keys); :func:`schedule_arg` is the
``schedule`` argument of spinaps.search_eval's ``fit_design`` / ``confirm_design`` for it. A
point whose design was not synthesized has ``fits`` None and ``fits_at_w1``: whether its
``W = 1`` design fits, a lower bound since windows add ``2W`` banks of step sums.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from spinaps.contract import WINDOWS

__all__ = ["FMAX_PRIOR_MHZ", "CONFIRMABLE_WINDOWS", "confirmable", "schedule_arg", "design_key", "TARGET_BOARD", "pareto_mask", "target_points", "calibration", "pareto_plot",
           "bitstream_command"]

#: Fmax assumed before nextpnr measured one on the target (MHz): iCE40 UP5K and ECP5-85F the
#: digits default with its link, seed 1 (bench/results/synth.json: 33.9 and 111.9 MHz; the
#: ECP5 number lowered to the larger mnist5k designs' 71-79 MHz). The xc7a35t has no open
#: place-and-route here: 100 MHz, a nominal clock, never a measurement.
FMAX_PRIOR_MHZ = {"ice40up5k": 34.0, "ecp5-85f": 75.0, "xc7a35t": 100.0}
#: Window lengths the RTL, the Yosys fit and the board build here can build (see above).
CONFIRMABLE_WINDOWS = WINDOWS


def confirmable(point):
    """Whether ``point``'s schedule can be synthesized, simulated and placed here."""
    return all(w in CONFIRMABLE_WINDOWS for w, _ in point.get("schedule", [[1, 1]]))


def schedule_arg(point):
    """``point``'s schedule as ``fit_design`` / ``confirm_design`` take it: ``[[W, A], ...]``
    per layer, or None for the time-sequential engine (``W = 1`` in every layer)."""
    schedule = [[int(w), int(a)] for w, a in point.get("schedule", [[1, 1]])]
    return None if all(w == 1 for w, _ in schedule) else schedule


def design_key(point):
    """The FPGA design of ``point``: its artifact id, plus ``@`` and the schedule
    (``w2a1.w1a1``, input side first) when a layer has a window."""
    schedule = schedule_arg(point)
    return point["artifact"] if schedule is None else \
        point["artifact"] + "@" + ".".join(f"w{w}a{a}" for w, a in schedule)


def design_of(key):
    """The inverse of :func:`design_key`: ``(artifact id, schedule or None)``."""
    artifact, _, tail = key.partition("@")
    if not tail:
        return artifact, None
    return artifact, [[int(w), int(a)] for w, a in (part[1:].split("a") for part in tail.split("."))]


#: The board whose build gives a target's bitstream (spinaps bitstream / vivado-plan).
TARGET_BOARD = {"ice40up5k": "icebreaker", "ecp5-85f": "ulx3s", "xc7a35t": "arty"}


def pareto_mask(objectives):
    """Non-dominated rows of ``objectives`` ``[N, M]``, every column minimized."""
    obj = np.asarray(objectives, dtype=float)
    keep = np.ones(len(obj), dtype=bool)
    for i in range(len(obj)):
        dominated = np.all(obj <= obj[i], axis=1) & np.any(obj < obj[i], axis=1)
        keep[i] = not dominated.any()
    return keep


def calibration(points):
    """Mean RTL cycles / estimated cycles over the confirmed points (None when there are none)."""
    ratios = [p["confirm"]["cycles_mean"] / p["cycles_estimate"] for p in points
              if p.get("confirm") and p["cycles_estimate"] > 0]
    return (float(np.mean(ratios)), len(ratios)) if ratios else (None, 0)


def _fits_by(res):
    """What decided a design's ``fits``: nextpnr's placement (a confirmation that could not
    place it), its packer (iCE40 logic cells) or Yosys's cell counts."""
    if not res:
        return None
    return res.get("fits_by") or ("nextpnr pack" if res.get("packed") else "yosys")


def target_points(points, target, fits, confirms, ratio):
    """One row per point for ``target``: the issue's fields (``dataset``, ``target``,
    ``accuracy_golden``, ``us_per_inference``, ``fmax_mhz``, ``cycles_mean``, ``lut``,
    ``bram36``, ``fits``, ``edp``, ``pareto``, ``rtl_mismatches``) and where each number came
    from. ``fits``: design (:func:`design_key`) -> Yosys resources on ``target``; ``confirms``:
    point id (artifact, memory, schedule) -> confirmation of that point on ``target``."""
    measured = [c["fmax_mhz"] for c in confirms.values() if c.get("fmax_mhz")]
    fmax_default = float(np.median(measured)) if measured else FMAX_PRIOR_MHZ[target]
    fmax_source_default = f"median nextpnr Fmax of {len(measured)} confirmed points" if measured else "prior"
    rows = []
    for p in points:
        res = fits.get(design_key(p)) if confirmable(p) else None
        conf = confirms.get(_point_id(p))
        row = {k: v for k, v in p.items() if k != "confirm"}
        if conf:
            cycles, csrc = conf["cycles_mean"], "rtl"
        elif ratio:
            cycles, csrc = p["cycles_estimate"] * ratio, "estimate x calibration"
        else:
            cycles, csrc = p["cycles_estimate"], "estimate"
        if conf and conf.get("fmax_mhz"):
            fmax, fsrc = conf["fmax_mhz"], "nextpnr"
        else:
            fmax, fsrc = fmax_default, fmax_source_default
        row.update({"target": target, "cycles_mean": cycles, "cycles_source": csrc, "fmax_mhz": fmax,
                    "fmax_source": fsrc, "us_per_inference": cycles / fmax,
                    "lut": res.get("lut") if res else None, "bram36": res.get("bram36") if res else None,
                    "logic_cells": res.get("logic_cells") if res else None,
                    "utilization": res.get("utilization") if res else None, "fits_by": _fits_by(res),
                    "fits": res["fits"] if res else None,
                    "fits_at_w1": (fits.get(p["artifact"]) or {}).get("fits"),
                    "rtl_mismatches": conf["rtl_mismatches"] if conf else None,
                    "confirmed": conf or None})
        rows.append(row)
    ok = [i for i, r in enumerate(rows) if r["fits"] is not False]
    mask = pareto_mask([[-rows[i]["accuracy_golden"], rows[i]["us_per_inference"], rows[i]["edp"]] for i in ok]) \
        if ok else []
    for r in rows:
        r["pareto"] = False
    for i, m in zip(ok, mask):
        rows[i]["pareto"] = bool(m)
    return rows


def _point_id(p):
    """A point within a search: its artifact, memory kind and schedule."""
    return (p["artifact"], p["memory"], json.dumps(p.get("schedule", [[1, 1]])))


def pareto_plot(rows, target, path):
    """Accuracy against us per inference for ``target``, LUTs as colour (grey: not synthesized),
    the Pareto set circled, points that do not fit crossed."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spinaps.toolchain import atomic_write_bytes
    import io

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    known = [r for r in rows if r["lut"] is not None and r["fits"] is not False]
    unknown = [r for r in rows if r["lut"] is None]
    bad = [r for r in rows if r["fits"] is False]
    if unknown:
        ax.scatter([r["us_per_inference"] for r in unknown], [r["accuracy_golden"] for r in unknown], c="0.75", s=14,
                   label="not synthesized")
    if known:
        sc = ax.scatter([r["us_per_inference"] for r in known], [r["accuracy_golden"] for r in known],
                        c=[r["lut"] for r in known], cmap="viridis", s=22, label="fits")
        fig.colorbar(sc, ax=ax, label="LUTs (with the board link)")
    if bad:
        ax.scatter([r["us_per_inference"] for r in bad], [r["accuracy_golden"] for r in bad], marker="x", c="tab:red",
                   s=22, label="does not fit")
    par = sorted((r for r in rows if r["pareto"]), key=lambda r: r["us_per_inference"])
    ax.scatter([r["us_per_inference"] for r in par], [r["accuracy_golden"] for r in par], facecolors="none",
               edgecolors="k", s=70, label="Pareto set")
    ax.set_xscale("log")
    ax.set_xlabel(f"us per inference at the {target} Fmax")
    ax.set_ylabel("golden accuracy (test split)")
    ax.set_title(f"spinaps search: {target}")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return atomic_write_bytes(Path(path), buf.getvalue())


def bitstream_command(target, model_path, schedule=None):
    """The command that builds the bitstream (or the Vivado plan) of ``model_path`` for
    ``target``, with the window ``schedule`` (``[[W, A], ...]`` per layer) when one is given."""
    board = TARGET_BOARD[target]
    windows = ""
    if schedule is not None and any(w != 1 for w, _ in schedule):
        windows = (f" --window {','.join(str(w) for w, _ in schedule)}"
                   f" --adders {','.join(str(a) for _, a in schedule)}")
    if target == "xc7a35t":
        return f"spinaps vivado-plan --board {board} --model {model_path} --out build/{board}/vivado_plan.zip{windows}"
    return f"spinaps bitstream --board {board} --model {model_path} --out build/{board}{windows}"
