"""The user's flow, one function per step: train, export, golden model, Verilog, RTL check.

The CLI (``spinaps ...``), ``make demo`` and ``bench/`` call these, so every figure they
print comes from the same code.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from spinaps.contract import sample_seeds
from spinaps.data import as_dataset, data_for
from spinaps.sw import artifact as art
from spinaps.sw.golden import GoldenModel
from spinaps.sw.lanes import DEFAULT_ENCODER_LANES, default_lanes

__all__ = ["train_and_export", "train_network_and_export", "train_softlif_and_export", "export_and_save",
           "save_checkpoint", "data_for", "golden_eval", "golden_throughput", "write_accelerator_verilog",
           "rtl_check", "rtl_check_all", "sample_seeds", "summarize", "synth_report", "SYNTH_TARGETS", "board_for_target", "pnr_report"]


def save_checkpoint(trained, path):
    """``torch.save`` the trained float network atomically (a temporary file, then a rename);
    returns the path."""
    import os

    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        torch.save(trained, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _saved_then_exported(trained, ds, out, *, encoder_lanes, lanes, checkpoint, on_checkpoint, encoder):
    # The checkpoint goes to disk before the export, so a failed export loses no training.
    if checkpoint:
        ckpt = save_checkpoint(trained, Path(out).with_suffix(".pt"))
        if on_checkpoint:
            on_checkpoint(ckpt)
    return export_and_save(trained, ds, out, encoder_lanes=encoder_lanes, lanes=lanes, encoder=encoder)


def train_and_export(data, out, *, config=None, encoder_lanes=DEFAULT_ENCODER_LANES, lanes=None,
                     progress=True, checkpoint=True, on_checkpoint=None, encoder="bernoulli"):
    """Train a GLM first-to-spike network and :func:`export_and_save` it.

    ``data``: a Dataset, a built-in name or a data file. With ``checkpoint``, the float model
    is first saved next to ``out`` (``.pt``; ``on_checkpoint(path)`` is called then) so that a
    failed export loses nothing and ``spinaps export`` can re-export it with other hardware
    options. Returns ``(artifact, trained, golden_result)``.
    """
    ds = as_dataset(data)     # first: an unknown name fails before any import or work
    from spinaps.sw.train import GlmTrainConfig, train_glm

    trained = train_glm(ds, config or GlmTrainConfig(), progress=progress)
    artifact, gold = _saved_then_exported(trained, ds, out, encoder_lanes=encoder_lanes, lanes=lanes,
                                          checkpoint=checkpoint, on_checkpoint=on_checkpoint, encoder=encoder)
    return artifact, trained, gold


def train_network_and_export(data, out, *, config=None, encoder_lanes=DEFAULT_ENCODER_LANES, lanes=None,
                             progress=True, checkpoint=True, on_checkpoint=None, encoder="bernoulli"):
    """Train a LIF or hybrid network (:mod:`spinaps.sw.lif`) and :func:`export_and_save` it.

    Returns ``(artifact, trained, golden_result)``; the float checkpoint goes next to ``out``
    before the export (as in :func:`train_and_export`).
    """
    ds = as_dataset(data)
    from spinaps.sw.lif import LifNetConfig, train_network

    trained = train_network(ds, config or LifNetConfig(), progress=progress)
    artifact, gold = _saved_then_exported(trained, ds, out, encoder_lanes=encoder_lanes, lanes=lanes,
                                          checkpoint=checkpoint, on_checkpoint=on_checkpoint, encoder=encoder)
    return artifact, trained, gold


def train_softlif_and_export(data, out, *, config=None, weight_bits=4, t_max=64, encoder_lanes=DEFAULT_ENCODER_LANES,
                             lanes=None, progress=True, checkpoint=True, on_checkpoint=None, encoder="bernoulli"):
    """Train a soft-LIF network (:mod:`spinaps.sw.softlif`), convert it to the integer LIF
    network and save its artifact. The float network is saved first (``.pt`` next to ``out``).
    Returns ``(artifact, trained, golden_result)``."""
    ds = as_dataset(data)
    from spinaps.sw.softlif import SoftLifConfig, train_softlif
    from spinaps.sw.softlif_convert import convert, softlif_artifact

    trained = train_softlif(ds, config or SoftLifConfig(), progress=progress)
    if checkpoint:
        ckpt = save_checkpoint(trained, Path(out).with_suffix(".pt"))
        if on_checkpoint:
            on_checkpoint(ckpt)
    if lanes is not None and not isinstance(lanes, (list, tuple)):
        lanes = [default_lanes(n) for n in trained.sizes[1:-1]] + [lanes]
    model = convert(trained, ds, weight_bits=weight_bits, t_max=t_max, encoder_lanes=encoder_lanes, lanes=lanes,
                    encoder=encoder)
    gold = model.run(ds.x_test, sample_seeds(len(ds.y_test)), labels=ds.y_test)
    manifest, arrays = softlif_artifact(model, trained, ds, golden_accuracy=gold.accuracy(ds.y_test))
    return art.load(art.save(out, manifest, arrays)), trained, gold


def _export_network(trained, ds, *, encoder_lanes, lanes, encoder):
    from spinaps.sw.export import dataset_record, golden_to_artifact
    from spinaps.sw.lif import to_golden, training_record

    if ds.sha256 != trained.dataset_sha256:
        raise ValueError(f"data set {ds.name!r} is not the one the network was trained on "
                         f"({trained.dataset_name!r})")
    if lanes is not None and not isinstance(lanes, (list, tuple)):
        # One number: the output layer's lanes; hidden layers keep their default.
        n_hidden = len(trained.model.hidden)
        lanes = [default_lanes(layer.n_out) for layer in trained.model.hidden] + [lanes] if n_hidden else [lanes]
    golden = to_golden(trained, encoder_lanes=encoder_lanes, lanes=lanes, encoder=encoder)
    accuracy = {"ann": trained.ann_accuracy} if trained.ann_accuracy is not None else {}
    return golden_to_artifact(golden, dataset=dataset_record(ds), accuracy=accuracy,
                              training=training_record(trained))


def export_and_save(trained, ds, out, *, encoder_lanes=DEFAULT_ENCODER_LANES, lanes=None, encoder="bernoulli"):
    """Export a trained model, add its golden-model test accuracy, save the artifact atomically.

    ``encoder``: the hardware's input encoder, one of ``contract.ENCODER_TYPES``
    (docs/semantics.md section 3; the trainers train on Bernoulli spikes either way).

    ``trained`` is a GLM layer (:func:`spinaps.sw.train.train_glm`) or a LIF / hybrid network
    (:func:`spinaps.sw.lif.train_network`). Returns ``(artifact, golden_result)``; the golden
    run covers the whole test split.
    """
    from spinaps.sw.export import export_glm
    from spinaps.sw.lif import TrainedNet

    if isinstance(trained, TrainedNet):
        manifest, arrays = _export_network(trained, ds, encoder_lanes=encoder_lanes, lanes=lanes, encoder=encoder)
    else:
        manifest, arrays = export_glm(trained, ds, encoder_lanes=encoder_lanes, lanes=lanes, encoder=encoder)
    # Validated before anything runs on it: a broken export fails here, not after a golden
    # run over the whole test split.
    golden = GoldenModel.from_artifact(art.from_memory(manifest, arrays))
    gold = golden.run(ds.x_test, sample_seeds(len(ds.y_test)), labels=ds.y_test)
    manifest["accuracy"]["golden"] = gold.accuracy(ds.y_test)
    return art.load(art.save(out, manifest, arrays)), gold


def golden_eval(artifact, dataset=None):
    """Golden-model run over the test split of ``dataset`` (a Dataset, name or file; default
    the artifact's own data set, see :func:`data_for`); returns (dataset, result, seconds)."""
    ds = data_for(artifact, dataset)
    model = GoldenModel.from_artifact(artifact)
    t0 = time.perf_counter()
    res = model.run(ds.x_test, sample_seeds(len(ds.y_test)), labels=ds.y_test)
    return ds, res, time.perf_counter() - t0


def golden_throughput(artifact, ds, repeat=10):
    """Golden-model inferences per second at steady state: the test split tiled ``repeat`` times."""
    model = GoldenModel.from_artifact(artifact)
    tiled = np.tile(ds.x_test, (repeat, 1))
    t0 = time.perf_counter()
    model.run(tiled, sample_seeds(len(tiled)))
    return len(tiled) / (time.perf_counter() - t0)


def write_accelerator_verilog(artifact, out_dir, *, memory="sram", name="spinaps_accelerator", window=1, adders=1):
    """``<out_dir>/<name>.v`` and ``.json`` (ports plus the model's shape) for an artifact;
    ``window`` / ``adders``: the window schedule (an int, or one per layer; hardware only)."""
    from spinaps.hdl.accelerator import Accelerator
    from spinaps.toolchain import write_verilog

    model = GoldenModel.from_artifact(artifact)
    acc = Accelerator(model, memory=memory, window=window, adders=adders)
    m = artifact.manifest
    extra = {
        "model": str(artifact.path), "memory": memory, "t_max": m["t_max"],
        "schedule": [{"window": w, "adders": a} for w, a in acc.schedule],
        "encoder": m["encoder"], "layers": m["layers"],
        "streams": {
            "sample": "bytes: seed[7:0], seed[15:8], then frames x n_inputs 8-bit intensities (frame after frame)",
            "result": {name: {"offset": f.offset, "width": f.width}
                       for name, f in acc.result.payload.shape()},
        },
    }
    return write_verilog(acc, out_dir, name, extra=extra)


#: The Artix-7 parts of `make synth` (place-and-route for iCE40 / ECP5 is boards/build.py's).
SYNTH_TARGETS = ("xc7a35t", "xc7a100t")


def board_for_target(target):
    """The open board whose FPGA is ``target``'s family (``ice40up5k`` -> icebreaker), or None."""
    from spinaps.boards.catalog import BOARDS
    from spinaps.toolchain import TARGETS

    family = TARGETS[target].family
    return next((b for b in BOARDS.values() if b.family == family and b.open_flow), None)


def _board_core_verilog(artifact, board, out_dir, *, memory, baud, window=1, adders=1):
    """Verilog of the board core (accelerator + UART link, with the window schedule) at
    ``board``'s default core clock."""
    from spinaps.boards.board_core import BoardCore
    from spinaps.toolchain import write_verilog

    core = BoardCore(GoldenModel.from_artifact(artifact), clocks_per_bit=round(board.core_mhz * 1e6 / baud),
                     memory=memory, window=window, adders=adders)
    return write_verilog(core, out_dir, "spinaps_board_core")[0]


def synth_report(artifact, out_dir, *, targets=SYNTH_TARGETS, memory="sram", progress=True, baud=115200,
                 window=1, adders=1):
    """Yosys resource counts of an artifact's accelerator for each target.

    A board target (``ice40up5k``, ``ecp5-85f``: an open board has that FPGA) synthesizes the
    board core, the accelerator with its UART link (:class:`~spinaps.boards.board_core.BoardCore`
    at the board's core clock and ``baud``), so that "fits" means the board build fits; an
    Artix-7 target the accelerator alone. Each entry says which (``includes_link``).
    Writes ``<out_dir>/<model>.v``, ``synth.json`` (one entry per target: lut, ff, bram36,
    dsp, lutram, logic_cells, utilization, fits, Yosys seconds) and ``synth.md``; returns the
    entries. On the iCE40 the netlist also goes through nextpnr's packer (``--pack-only``,
    ``pack_seconds``): ``logic_cells`` are its ICESTORM_LC and decide ``fits``. ``window`` /
    ``adders``: the window schedule (an int, or one per layer), for every target (the board
    core builds it too).
    """
    from spinaps.toolchain import TARGETS, pack, resources, synthesize
    from spinaps.toolchain import atomic_write_text

    unknown = [t for t in targets if t not in TARGETS]
    if unknown or not targets:      # before anything is written
        raise ValueError(f"target = {', '.join(unknown) or '(none)'} is not one of {', '.join(TARGETS)}")
    out_dir = Path(out_dir)
    name = "spinaps_accelerator"
    t0 = time.perf_counter()
    verilog, _ = write_accelerator_verilog(artifact, out_dir, memory=memory, name=name, window=window, adders=adders)
    verilog_s = time.perf_counter() - t0
    model = Path(str(artifact.path)).stem
    entries = []
    for target in targets:
        board = board_for_target(target)
        if board is not None:
            top, source = "spinaps_board_core", _board_core_verilog(artifact, board, out_dir, memory=memory, baud=baud,
                                                                    window=window, adders=adders)
        else:
            top, source = name, verilog
        packer = TARGETS[target].packer is not None
        syn = synthesize(source, top, target, work_dir=out_dir, progress=progress, netlist=packer)
        # iCE40: the logic cells nextpnr's packer makes of the netlist decide the fit (LUTs and
        # flip-flops that cannot share a cell take one each: more cells than LUTs).
        packed = pack(syn["netlist"], target, progress=progress) if packer else None
        entries.append({"model": model, "network": summarize_network(artifact), "memory": memory,
                        "window": window, "adders": adders,
                        "target": target, "includes_link": board is not None,
                        "top": f"{board.name} board core (accelerator + UART link, {baud} baud)" if board else
                               "accelerator only (no UART link)",
                        **resources(syn["cells"], target, packed=packed and packed["utilization"]),
                        "yosys_seconds": syn["seconds"], "verilog_seconds": verilog_s,
                        **({"pack_seconds": packed["seconds"]} if packed else {})})
    write_json(out_dir / "synth.json", entries)
    rows = ["| model | target | design | LUT (logic + RAM) | FF | BRAM36 | DSP | logic cells | fits |",
            "|---|---|---|---|---|---|---|---|---|"]
    rows += [f"| {e['model']} | {e['target']} | {e['top']} | {e['lut']:,} ({e.get('lut_logic', e['lut']):,} + "
             f"{e.get('lutram', 0):,}) | {e['ff']:,} | {e['bram36']:g} | {e['dsp']} | {e['logic_cells']:,} | "
             f"{'yes' if e['fits'] else 'NO'} |" for e in entries]
    atomic_write_text(out_dir / "synth.md", f"# Yosys resources: {summarize_network(artifact)} ({memory})\n\n" + "\n".join(rows) + "\n")
    return entries


def pnr_report(artifact, boards, out_dir, *, n=20, progress=True, dataset=None, window=1, adders=1):
    """Place and route the board tops of ``boards`` (``icebreaker``, ``ulx3s``) with the
    artifact's accelerator (boards/build.py: Yosys, nextpnr with a fixed seed, packer) and give
    the time of one inference at each Fmax from the cycles the RTL takes on the first ``n`` test
    samples (checked against the golden model). ``window`` / ``adders``: the window schedule of
    the simulated and the built accelerator. Writes ``<out_dir>/pnr.json``; returns the entries.
    """
    from spinaps.boards.build import build
    from spinaps.boards.catalog import BOARDS

    for b in boards:            # before the simulation
        if b not in BOARDS or not BOARDS[b].open_flow:
            raise ValueError(f"board {b!r} is not one of {', '.join(n for n, x in BOARDS.items() if x.open_flow)} "
                             "(the boards with open place-and-route here)")
    out_dir = Path(out_dir)
    run, comparison, _ = rtl_check(artifact, n, build_dir=out_dir / "rtl", dataset=dataset, window=window,
                                   adders=adders)
    if comparison.mismatches:
        raise RuntimeError(f"the RTL differs from the golden model on {len(comparison.mismatched_samples)} samples")
    cycles = float(np.mean([r["cycles"] for r in run.results]))
    entries = []
    for board in boards:
        rep = build(board, artifact.path, out_dir / board, progress=progress, window=window, adders=adders)
        fmax = rep["fmax_mhz"]
        entries.append({"model": Path(str(artifact.path)).stem, "network": summarize_network(artifact), "board": board,
                        "window": window, "adders": adders,
                        "device": rep["device"], "fmax_mhz": fmax, "clock_mhz": rep["clock_mhz"],
                        "timing_met": rep["timing_met"], "utilization": rep["utilization"],
                        "critical_path": (rep["critical_paths"] or [None])[0], "bitstream": rep["bitstream"],
                        "cycles_per_inference_mean": cycles, "rtl_samples": len(run.results),
                        "us_per_inference": cycles / fmax if fmax else None, "build_seconds": rep["seconds"]})
    write_json(out_dir / "pnr.json", entries)
    return entries


def summarize_network(artifact):
    """``64 -> 64 lif -> 10 glm`` from an artifact's manifest."""
    m = artifact.manifest
    return " -> ".join([str(m["encoder"]["n_inputs"])] + [f"{l['n_out']} {l['type']}" for l in m["layers"]])


def rtl_check(artifact, n, *, build_dir, memory="sram", memory_options=None, stall=0.0,
              dataset=None, first=0, waves=None, simulator=None, window=1, adders=1):
    """Run ``n`` test samples from index ``first`` in RTL and compare every spike with the
    golden model (each sample with its own seed, :func:`sample_seeds`). ``simulator``:
    ``"icarus"`` or ``"verilator"`` (None: ``$SPINAPS_SIMULATOR``, else Icarus). ``waves``: a
    .vcd or .fst file for the simulation's waves. ``window`` / ``adders``: the window schedule
    (:class:`~spinaps.hdl.accelerator.Accelerator`); the reads counter is compared for it.

    Returns ``(run, comparison, labels)``.
    """
    from spinaps.hdl.accelerator import schedule_of
    from spinaps.sim.compare import compare_with_golden
    from spinaps.sim.runner import run_rtl

    ds = data_for(artifact, dataset)
    if not 0 <= first < len(ds.y_test):
        raise ValueError(f"sample {first} is not a test sample: give 0..{len(ds.y_test) - 1}")
    n = min(n, len(ds.y_test) - first)
    xs, seeds = ds.x_test[first:first + n], sample_seeds(n, offset=first)
    model = GoldenModel.from_artifact(artifact)
    run = run_rtl(model, xs, seeds, build_dir=build_dir, memory=memory, memory_options=memory_options,
                  valid_prob=1.0 - stall, ready_prob=1.0 - stall, waves=waves, simulator=simulator,
                  window=window, adders=adders)
    windows = [w for w, _ in schedule_of(window, adders, len(model.layers))]
    return run, compare_with_golden(model, xs, seeds, run.results, run.probes, windows), ds.y_test[first:first + n]


def summarize(artifact, gold, labels, run=None, comparison=None, rtl_labels=None):
    """The report dictionary of ``make demo`` / ``spinaps report``."""
    m = artifact.manifest
    layers = m["layers"]
    out = {
        "model": str(artifact.path),
        "dataset": m["dataset"]["name"],
        "network": summarize_network(artifact),
        "decision": m["decision"],
        "weight_bits": max(layer["weight_bits"] for layer in layers),
        "t_max": m["t_max"],
        "accuracy_float": m["accuracy"].get("float"),
        "accuracy_golden": gold.accuracy(labels),
        "accuracy_ann": m["accuracy"].get("ann"),
        "accuracy_by_step": gold.accuracy_by_step,
        "mean_decision_step": float(np.mean(gold.step)),
        "decided_fraction": float(np.mean(gold.decided)),
        "golden_events_per_inference": float(np.mean(gold.events.sum(axis=1))),
        "golden_sops_per_inference": float(np.mean(gold.sops.sum(axis=1))),
        "golden_events_per_layer": gold.events.mean(axis=0).tolist(),
        "golden_sops_per_layer": gold.sops.mean(axis=0).tolist(),
    }
    if run is not None:
        cls = np.array([r["cls"] for r in run.results])
        cycles = np.array([r["cycles"] for r in run.results], dtype=float)
        sops = np.array([r["sops"] for r in run.results], dtype=float)             # [N, L]
        lanes = np.array([layer["lanes"] for layer in layers], dtype=float)
        out.update({
            "accuracy_rtl": float(np.mean(cls == np.asarray(rtl_labels))),
            "rtl_samples": len(run.results),
            "rtl_mismatches": len(comparison.mismatched_samples),
            "cycles_per_inference_mean": float(cycles.mean()),
            "cycles_per_inference_p99": float(np.percentile(cycles, 99)),
            # Synaptic operations per lane-cycle: 1.0 means every lane of every layer added a
            # weight in every cycle of the inference (docs/architecture.md).
            "lane_utilization": float(sops.sum() / (lanes.sum() * cycles.sum())),
            "lane_utilization_per_layer": (sops.sum(axis=0) / (lanes * cycles.sum())).tolist(),
            "busy_cycles_per_layer": np.array([r["busy"] for r in run.results], dtype=float).mean(axis=0).tolist(),
            "sim_cycles_per_second": run.cycles_per_second,
        })
    return out


def write_json(path, obj):
    from spinaps.toolchain import atomic_write_text
    return atomic_write_text(path, json.dumps(obj, indent=2) + "\n")


# --- cost model: RTL activity of both synapse memories, then the model (spinaps.sim.cost)

def cost_measure(artifact, n, *, build_dir, devices, stall=0.0, dataset=None):
    """RTL runs (SRAM and STT-RAM at the device table's read latency) of the first ``n`` test
    samples, counters checked against the golden model.

    Returns ``(config, {memory: Activity}, {memory: read latency in cycles})``; ``config`` is
    :meth:`spinaps.sim.cost.Config.from_artifact` (with the components' storage).
    Raises :class:`~spinaps.sim.devices.DeviceTableError` when the table's SRAM does not read in
    one cycle, :class:`~spinaps.sim.cost.CounterMismatch` when the RTL differs from the golden model.
    """
    from spinaps.contract import sample_seeds as seeds_of
    from spinaps.sim.cost import Config, CounterMismatch, activity_from_rtl
    from spinaps.sim.devices import MEMORIES, DeviceTableError, read_latency_cycles

    ds = data_for(artifact, dataset)
    config = Config.from_artifact(artifact)
    acts, lat = {}, {}
    for memory in MEMORIES:
        lat[memory] = read_latency_cycles(devices, memory)
        if memory == "sram" and lat[memory] != 1:
            raise DeviceTableError("memories.sram.read_latency_ns must fit in one clock cycle at clock_mhz: "
                                   "the RTL's SRAM has read latency 1")
        options = {"read_latency": lat[memory]} if memory == "sttram" else None
        run, cmp, _ = rtl_check(artifact, n, build_dir=Path(build_dir) / memory, memory=memory,
                                memory_options=options, stall=stall, dataset=ds)
        if cmp.mismatches:
            raise CounterMismatch(cmp.describe())
        m = len(run.results)
        gold = GoldenModel.from_artifact(artifact).run(ds.x_test[:m], seeds_of(m))
        acts[memory] = activity_from_rtl(run.results, gold)
    return config, acts, lat


def cost_report(artifact, n=20, *, build_dir="build/cost", devices=None, stall=0.0, dataset=None):
    """What ``spinaps cost`` prints: :func:`spinaps.sim.cost.compare` of both memories on the
    RTL activity of the first ``n`` test samples (:func:`cost_measure`), plus Hunsberger &
    Eliasmith's estimate. ``devices``: a table from :func:`spinaps.sim.devices.load_devices`
    (default: the shipped one)."""
    from spinaps.sim.cost import compare, hunsberger_eliasmith
    from spinaps.sim.devices import load_devices

    devices = load_devices() if devices is None else devices
    config, acts, lat = cost_measure(artifact, n, build_dir=build_dir, devices=devices, stall=stall, dataset=dataset)
    out = compare(config, acts, devices, lat)
    out["hunsberger_eliasmith"] = hunsberger_eliasmith(config, acts["sram"])
    return out


def rtl_check_all(artifact, *, build_dir, memory="sram", stall=0.2, dataset=None, simulator="verilator",
                  progress=None, limit=None, batch=None):
    """Every test sample (``limit``: the first ``limit``) in RTL through one compiled model,
    in batches, each compared with the golden model spike for spike (each sample with its own
    seed, :func:`sample_seeds`). ``progress(done, total, run)`` after each batch; ``batch``:
    samples per simulation (None: :func:`spinaps.sim.split_runner.batch_size`).
    Returns ``(split run, labels)`` (:class:`spinaps.sim.split_runner.SplitRun`)."""
    from spinaps.sim.split_runner import run_split

    ds = data_for(artifact, dataset)
    n = len(ds.y_test) if limit is None else min(limit, len(ds.y_test))
    run = run_split(GoldenModel.from_artifact(artifact), ds.x_test[:n], sample_seeds(n), build_dir=build_dir,
                    simulator=simulator, stall=stall, memory=memory, progress=progress, batch=batch)
    return run, ds.y_test[:n]
