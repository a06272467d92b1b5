"""Bitstreams through the open flow (Yosys + nextpnr via YoWASP), Vivado plans, programming.

``build`` elaborates a :class:`~spinaps.boards.top.BoardTop` for the board's Amaranth
platform, runs Yosys, nextpnr (fixed ``--seed``, ``--report``, ``--timing-allow-fail``) and
the packer (one script, through :func:`spinaps.toolchain.run_logged` with
:func:`spinaps.toolchain.tool_env`), and returns what nextpnr measured: Fmax per clock,
utilization per cell type, the critical paths and the bitstream path; the same dictionary goes
to ``<out>/report.json``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from spinaps.toolchain import TARGETS, ToolError, atomic_write_text, run_logged, tool_env

from .top import BoardTop, board

__all__ = ["build", "build_seeds", "vivado_plan", "program", "BuildError", "PlacementError",
           "summarize_nextpnr_report", "ignored_constraints", "yosys_cells"]

NEXTPNR_REPORT = "nextpnr_report.json"


class BuildError(ToolError):
    """A board build or programming failed; the message says why and what to do."""


class PlacementError(BuildError):
    """nextpnr found no legal placement with this seed (a nearly full device: the legaliser
    ran out of rip-ups, which happened to the digits export at 93 % of the UP5K's logic
    cells); another seed, or a smaller export, may place."""


def _say(text, progress):
    if progress:
        print(f"== {text}", flush=True)


def _load_model(artifact_path):
    from spinaps.sw import artifact as art
    from spinaps.sw.golden import GoldenModel
    return GoldenModel.from_artifact(art.load(artifact_path))


def summarize_nextpnr_report(report):
    """Fmax per clock, utilization per cell type and critical paths of a nextpnr ``--report``."""
    fmax = {clk: {"achieved_mhz": round(v["achieved"], 2), "constraint_mhz": round(v["constraint"], 2)}
            for clk, v in report.get("fmax", {}).items()}
    util = {cell: {"used": v["used"], "available": v["available"]} for cell, v in report.get("utilization", {}).items()}
    paths = []
    for cp in report.get("critical_paths", []):
        segs = cp.get("path", [])
        logic = sum(s.get("delay", 0.0) for s in segs if s.get("type") == "logic")
        routing = sum(s.get("delay", 0.0) for s in segs if s.get("type") == "routing")
        paths.append({"from": cp.get("from"), "to": cp.get("to"), "delay_ns": round(logic + routing, 3),
                      "logic_ns": round(logic, 3), "routing_ns": round(routing, 3), "segments": len(segs),
                      "start": segs[0]["from"]["cell"] if segs else None,
                      "end": segs[-1]["to"]["cell"] if segs else None})
    return fmax, util, paths


def ignored_constraints(log):
    """The clock constraints nextpnr ignored (its warning names the net it did not find): a
    constraint on a net Yosys renamed or dropped is silently not applied otherwise."""
    return re.findall(r"net '([^']+)' does not exist in design, ignoring clock constraint", log)


def _does_not_fit(board_name, rpt, log):
    """One message for a design larger than the device: what ran out and what to do."""
    kind = re.search(r"to implement cell type '(\w+)'", log) or re.search(r"Failed to expand region .* of \d+ (\w+)", log)
    target = next(t for t in TARGETS.values() if t.family == board(board_name).family)
    cap = target.capacity
    counts = ""
    if rpt.exists():
        cells = dict((name, int(n)) for n, name in re.findall(r"^\s+(\d+)\s+(SB_LUT4|SB_MAC16|SB_RAM40_4K|LUT4|"
                                                              r"TRELLIS_FF|DP16KD|MULT18X18D)\s*$",
                                                              rpt.read_text(), re.M))
        counts = " (Yosys: " + ", ".join(f"{n} {c}" for c, n in cells.items()) + ")"
    return (f"the model does not fit the {board_name} FPGA: no room left for "
            f"{kind.group(1) if kind else 'a cell'}{counts}. Re-export it with fewer lanes, e.g. "
            "`spinaps export --lanes 2 --encoder-lanes 4 --out build/model/small.npz` "
            f"(the {target.name} has {cap['lut']} LUTs and {cap['dsp']} DSPs), then build with "
            "MODEL=build/model/small.npz; a window schedule with fewer temporal adders (--adders) needs fewer "
            "multipliers")


def yosys_cells(rpt_text):
    """Cell counts of the whole design (``{type: n}``) from the statistics of a Yosys ``.rpt``
    (the last "Count including submodules" block): what :func:`spinaps.toolchain.resources`
    reads."""
    tail = rpt_text.rsplit("=== design hierarchy ===", 1)[-1]
    block = tail.rsplit("Count including submodules.", 1)[-1]
    return {name: int(n) for n, name in re.findall(r"^\s+(\d+)\s+([A-Z][A-Z0-9_]*)\s*$", block, re.M)}


def build(board_name, artifact_path, out_dir, *, baud=115200, seed=1, core_mhz="default", progress=True,
          window=1, adders=1):
    """Bitstream of the digits (or any) artifact's accelerator + link for ``board_name``;
    ``window`` / ``adders``: the accelerator's window schedule (one number or one per layer).

    Returns (and writes to ``<out_dir>/report.json``) ``board``, ``model``, ``schedule``,
    ``clock_mhz``, ``fmax`` (MHz per clock), ``fmax_mhz`` (the core clock's), ``timing_met``,
    ``utilization`` (per cell type, nextpnr), ``yosys_cells`` (Yosys's cell counts of the
    whole top), ``critical_paths``, ``bitstream``, ``seed``, ``seconds``, and
    ``ignored_constraints`` (nets of clock constraints nextpnr did not find: empty when all applied).
    """
    b = board(board_name)
    if not b.open_flow:
        raise ValueError(f"board {board_name!r} has no open place-and-route here; use vivado_plan "
                         "(make vivado-plan BOARD=arty)")
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    model = _load_model(artifact_path)
    top = BoardTop(board_name, model, baud=baud, core_mhz=core_mhz, window=window, adders=adders)
    platform = b.platform_class()()
    name = f"spinaps_{board_name}"
    t0 = time.perf_counter()
    _say(f"{board_name}: elaborating the accelerator and its UART link", progress)
    # The target's synthesis options (spinaps.toolchain.TARGETS), e.g. the UP5K's -dsp and -device u.
    extra = {"synth_opts": TARGETS[b.target].script.partition(" ")[2]}
    plan = platform.build(top, name=name, build_dir=str(out_dir), do_build=False,
                          nextpnr_opts=f"--seed {int(seed)} --report {NEXTPNR_REPORT} --timing-allow-fail",
                          **extra)
    script = f"build_{name}.sh"
    if script not in plan.files:
        raise BuildError(f"the {board_name} platform wrote no build script {script}")
    _say(f"{board_name}: Yosys, nextpnr (seed {seed}) and the packer through YoWASP (tens of seconds)",
         progress)
    plan.extract(str(out_dir))
    log = out_dir / "build.log"
    t_pnr = time.perf_counter()
    try:
        run_logged(["sh", script], cwd=out_dir, log=log, env=tool_env(),
                   desc=f"{board_name} bitstream (Yosys, nextpnr, packer)", progress=progress)
    except ToolError as e:
        text = log.read_text(errors="replace") if log.exists() else ""
        # Out of cells of a type ("no BELs remaining"), or more logic cells than the device has
        # (the placer cannot spread them: "Failed to expand region").
        if "no BELs remaining" in text or "Failed to expand region" in text:
            raise BuildError(_does_not_fit(board_name, out_dir / f"{name}.rpt", text)) from None
        if "Unable to find legal placement" in text:
            raise PlacementError(
                f"{board_name}: nextpnr found no legal placement with seed {seed} (the device is nearly "
                f"full; log {log}): try other seeds (--seed 1-4) or a smaller export (--lanes)") from None
        raise BuildError(str(e)) from None
    pnr_seconds = time.perf_counter() - t_pnr
    ignored = ignored_constraints(log.read_text(errors="replace"))
    if ignored:
        _say(f"{board_name}: nextpnr ignored the clock constraint on {', '.join(ignored)} (net not found)", progress)
    report = json.loads((out_dir / NEXTPNR_REPORT).read_text())
    fmax, util, paths = summarize_nextpnr_report(report)
    bitstream = out_dir / (f"{name}.bin" if b.family == "ice40" else f"{name}.bit")
    if not bitstream.exists():
        raise BuildError(f"the flow ran but wrote no bitstream {bitstream}")
    core_clock = min(fmax.values(), key=lambda v: v["achieved_mhz"]) if fmax else None
    rpt = out_dir / f"{name}.rpt"
    result = {
        "board": board_name, "family": b.family, "device": platform.device, "model": str(artifact_path),
        "schedule": [list(s) for s in top.core.accelerator.schedule],
        "baud": baud, "seed": int(seed), "clock_mhz": top.clock_mhz,
        "fmax": fmax, "fmax_mhz": core_clock["achieved_mhz"] if core_clock else None,
        "timing_met": all(v["achieved_mhz"] >= v["constraint_mhz"] for v in fmax.values()),
        "ignored_constraints": ignored, "utilization": util,
        "yosys_cells": yosys_cells(rpt.read_text(errors="replace")) if rpt.exists() else None,
        "critical_paths": paths, "bitstream": str(bitstream),
        "seconds": round(time.perf_counter() - t0, 1), "pnr_seconds": round(pnr_seconds, 1),
    }
    atomic_write_text(out_dir / "report.json", json.dumps(result, indent=2) + "\n")
    return result


def build_seeds(board_name, artifact_path, out_dir, seeds, **options):
    """:func:`build` with each nextpnr placement seed of ``seeds`` in turn until one meets
    timing (placement noise moves Fmax by several MHz: 47.4 to 49.1 MHz over seeds 1-3 for
    the 2-lane digits design on the UP5K at 48 MHz, bench/results/boards.md).

    Each seed builds in ``<out_dir>/seed<N>``; the chosen one (the first that meets timing,
    else the fastest) has its bitstream and ``report.json`` copied into ``out_dir``, so
    ``spinaps prog`` finds them where a single build puts them. Returns the chosen build's
    report with ``seeds``: ``[{seed, fmax_mhz, timing_met}]`` of every build run."""
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds is empty: give at least one nextpnr seed")
    out_dir = Path(out_dir).resolve()
    tried, best = [], None
    failed = None
    for seed in seeds:
        try:
            rep = build(board_name, artifact_path, out_dir / f"seed{seed}", seed=seed, **options)
        except PlacementError as e:
            # Seed-dependent: the next seed may place it.
            failed = e
            tried.append({"seed": seed, "fmax_mhz": None, "timing_met": False, "placed": False})
            _say(f"{board_name}: seed {seed}: no legal placement", options.get("progress", True))
            continue
        tried.append({"seed": seed, "fmax_mhz": rep["fmax_mhz"], "timing_met": rep["timing_met"]})
        if best is None or (rep["fmax_mhz"] or 0) > (best["fmax_mhz"] or 0):
            best = rep
        _say(f"{board_name}: seed {seed}: Fmax {rep['fmax_mhz']} MHz"
             f"{', timing met' if rep['timing_met'] else ''}", options.get("progress", True))
        if rep["timing_met"]:
            best = rep
            break
    if best is None:
        raise failed
    chosen = Path(best["bitstream"])
    bitstream = out_dir / chosen.name
    shutil.copyfile(chosen, bitstream)
    result = dict(best, bitstream=str(bitstream), build_dir=str(chosen.parent), seeds=tried)
    atomic_write_text(out_dir / "report.json", json.dumps(result, indent=2) + "\n")
    return result


def vivado_plan(board_name, artifact_path, out_zip, *, baud=115200, progress=True, window=1, adders=1):
    """The Vivado build archive (``platform.build(do_build=False)`` + ``plan.archive``);
    ``window`` / ``adders`` as :func:`build`."""
    b = board(board_name)
    model = _load_model(artifact_path)
    top = BoardTop(board_name, model, baud=baud, window=window, adders=adders)
    _say(f"{board_name}: Vivado build plan", progress)
    plan = b.platform_class()().build(top, name=f"spinaps_{board_name}", do_build=False)
    out_zip = Path(out_zip)
    out_zip.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_zip.with_name(f".{out_zip.name}.tmp{os.getpid()}")
    plan.archive(str(tmp))
    os.replace(tmp, out_zip)
    return out_zip


def program(board_name, bitstream):
    """Program ``bitstream`` (SRAM, volatile) through openFPGALoader; clear errors otherwise."""
    b = board(board_name)
    bitstream = Path(bitstream)
    if not bitstream.exists():
        raise FileNotFoundError(f"bitstream {bitstream} not found; run `make bitstream BOARD={board_name}` first")
    loader = shutil.which("openFPGALoader")
    if loader is None:
        raise BuildError("openFPGALoader is not installed: run `make setup` (Debian package openfpgaloader)")
    r = subprocess.run([loader, "-b", b.loader_board, str(bitstream)], capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip()
    if r.returncode != 0:
        low = out.lower()
        if any(s in low for s in ("unable to open ftdi", "no device", "not found", "cable", "usb", "jtag init")):
            raise BuildError(f"no {board_name} board found by openFPGALoader (is it plugged in, and does this "
                             f"user have USB access?):\n{out}")
        raise BuildError(f"openFPGALoader failed (exit {r.returncode}):\n{out}")
    return out
