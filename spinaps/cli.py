"""``spinaps``: train, export, generate Verilog, verify against the golden model, report.

Every command checks all its options, its output paths (spinaps.preflight) and its board or
target before training, simulation or synthesis starts, and fails with one message naming the
option or file and what to do, and a non-zero exit code: no traceback, also for permission
errors (exit 2) and Ctrl-C (exit 130). The board commands are in spinaps.cli_boards.
Longer than 400 lines: one function per command plus the parser, which reads best together.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from spinaps.boards.catalog import BOARDS
from spinaps.contract import DECISIONS, ENCODER_TYPES, WINDOWS, encoder_draws
from spinaps.hdl.synapse_memory import MEMORY_KINDS
from spinaps import preflight as pre
from spinaps.cli_boards import board_baud, cmd_bitstream, cmd_prog, cmd_run, cmd_vivado_plan
from spinaps.cli_verify import cmd_verify_all
from spinaps.sw.lanes import DEFAULT_ENCODER_LANES
from spinaps.threads import ENV as THREADS_ENV
from spinaps.toolchain import SIMULATOR_ENV, SIMULATORS, simulator

#: Boards with a bitstream through the open flow here, and the one with a Vivado plan.
OPEN_BOARDS = [name for name, b in BOARDS.items() if b.open_flow]
VIVADO_BOARDS = [name for name, b in BOARDS.items() if not b.open_flow]

DEFAULT_MODEL = "build/model/digits.npz"
#: The Yosys target of `spinaps demo` (synth_xilinx on the digits model: tens of seconds).
DEMO_TARGET = "xc7a35t"


def _config(args):
    from spinaps.sw.train import GlmTrainConfig
    kw = {k: getattr(args, k) for k in ("weight_bits", "t_max", "epochs", "seed", "tau") if getattr(args, k, None) is not None}
    if getattr(args, "basis", None) is not None:
        kw["n_basis"] = args.basis
    return GlmTrainConfig(**kw)


def _hidden(args):
    try:
        return tuple(int(h) for h in args.hidden.split(","))
    except ValueError:
        raise ValueError(f"--hidden {args.hidden!r}: give layer sizes separated by commas, e.g. 64 or 64,32")


def _network_config(args):
    from spinaps.sw.lif import LifNetConfig
    kw = {k: getattr(args, k) for k in ("weight_bits", "t_max", "epochs", "seed", "tau", "decision")
          if getattr(args, k, None) is not None}
    if getattr(args, "basis", None) is not None:
        kw["n_basis"] = args.basis
    if args.hidden is not None:
        kw["hidden"] = _hidden(args)
    if getattr(args, "expected_from", None) is not None:
        kw["expected_from"] = args.expected_from
    kw["output"] = "glm" if args.network == "hybrid" else "lif"
    return LifNetConfig(**kw, **_energy_fields(args))


def _softlif_config(args):
    from spinaps.sw.softlif import SoftLifConfig
    kw = {k: getattr(args, k) for k in ("epochs", "seed") if getattr(args, k, None) is not None}
    if args.hidden is not None:
        kw["hidden"] = _hidden(args)
    return SoftLifConfig(**kw, **_energy_fields(args))


def _threads(args, file=None):
    """Set torch's threads for this command (spinaps.threads) and say which (on ``file``,
    default stdout)."""
    from spinaps.threads import use_threads
    print(use_threads(getattr(args, "threads", None)), file=file or sys.stdout)


def _model(args):
    from spinaps.sw import artifact as art
    return art.load(pre.in_file("--model", args.model, "train one with `spinaps train` or give --model"))


def _load_data(spec):
    from spinaps.data import load_data
    return load_data(spec)


def cmd_train(args):
    from spinaps.contract import check, check_choice, check_encoder_lanes, check_lanes, WEIGHT_BITS
    from spinaps.flow import train_and_export, train_network_and_export, train_softlif_and_export
    from spinaps.sw.datasets import default_t_max

    # Everything is checked before training starts: options, the output paths, the data.
    out = pre.out_file("--out", args.out)
    pre.out_file("--out", out.with_suffix(".pt"))
    if args.epochs is not None:
        pre.at_least("--epochs", args.epochs, 1)
    args.weight_bits = pre.per_layer("--weight-bits", args.weight_bits)
    args.lanes = pre.per_layer("--lanes", args.lanes)
    if isinstance(args.weight_bits, tuple) and args.network not in ("hybrid", "lif"):
        raise pre.OptionError(f"--weight-bits {','.join(map(str, args.weight_bits))}: one width per layer needs "
                              f"--network hybrid or lif (--network {args.network} takes one width)")
    for bits in args.weight_bits if isinstance(args.weight_bits, tuple) else (args.weight_bits,):
        check_choice("--weight-bits", bits, WEIGHT_BITS)
    if args.network == "glm" and (args.hidden is not None or args.decision not in (None, "first_to_spike")
                                  or args.expected_from is not None):
        raise ValueError("--network glm is the single GLM first-to-spike layer: --hidden, --decision and "
                         "--expected-from need --network hybrid or lif")
    _check_energy_options(args)
    config = {"glm": _config, "softlif": _softlif_config}.get(args.network, _network_config)
    ds = _load_data(args.data)
    if args.t_max is None:
        # A time series gets at least its frame count in steps (sw.datasets.default_t_max).
        args.t_max = default_t_max(ds, args.network)
    check("t_max", args.t_max, field="--t-max")
    check_encoder_lanes(ds.n_in, args.encoder_lanes, field="--encoder-lanes")
    cfg = config(args)                       # the configs validate their fields here
    if isinstance(args.lanes, tuple):
        sizes = [*getattr(cfg, "hidden", ()), ds.n_classes] if args.network != "glm" else [ds.n_classes]
        if len(args.lanes) != len(sizes):
            raise pre.OptionError(f"--lanes {','.join(map(str, args.lanes))}: give one number (the output layer) or "
                                  f"one per layer ({len(sizes)}: neurons {', '.join(map(str, sizes))})")
        for i, (lanes, n) in enumerate(zip(args.lanes, sizes)):
            check_lanes(n, lanes, field=f"--lanes of layer {i} ({n} neurons)")
        args.lanes = list(args.lanes)
    elif args.lanes is not None:
        check_lanes(ds.n_classes, args.lanes, field=f"--lanes (the output layer has {ds.n_classes} neurons, "
                                                     f"one per class of {ds.name})")
    _threads(args)

    def saved(path):
        print(f"saved the trained network to {path} (re-export it with `spinaps export --checkpoint {path}`)")

    t0 = time.perf_counter()
    kw = dict(config=cfg, encoder_lanes=args.encoder_lanes, lanes=args.lanes, on_checkpoint=saved,
              encoder=args.encoder)
    if args.network == "softlif":
        artifact, trained, gold = train_softlif_and_export(ds, out, weight_bits=args.weight_bits, t_max=args.t_max,
                                                           **kw)
    elif args.network == "glm":
        artifact, trained, gold = train_and_export(ds, out, **kw)
    else:
        artifact, trained, gold = train_network_and_export(ds, out, **kw)
    acc = artifact.manifest["accuracy"]
    scores = ", ".join(f"{name} {acc[name]:.4f}" for name in ("float", "golden", "ann", "softlif_ann")
                       if acc.get(name) is not None)
    print(f"trained {ds.name} ({args.network}) in {time.perf_counter() - t0:.1f} s: {scores}")
    print(f"wrote {artifact.path}")


def _lanes_of(manifest):
    return [layer["lanes"] for layer in manifest["layers"]], manifest["encoder"]["lanes"]


def cmd_export(args):
    import torch

    from spinaps.contract import check_encoder_lanes
    from spinaps.flow import export_and_save
    from spinaps.sw import artifact as art
    from spinaps.sw.lanes import default_lanes

    ckpt = pre.in_file("--checkpoint", args.checkpoint, "run `spinaps train` first (it saves one next to its --out)")
    out = pre.out_file("--out", args.out, force=args.force)
    args.lanes = pre.per_layer("--lanes", args.lanes)
    for lanes in args.lanes if isinstance(args.lanes, tuple) else (() if args.lanes is None else (args.lanes,)):
        pre.at_least("--lanes", lanes, 1)
    if isinstance(args.lanes, tuple):
        args.lanes = list(args.lanes)
    pre.at_least("--encoder-lanes", args.encoder_lanes, 1)
    try:
        trained = torch.load(ckpt, weights_only=False)
    except (AttributeError, ModuleNotFoundError, EOFError, RuntimeError) as e:
        raise ValueError(f"--checkpoint {ckpt}: cannot be read by this spinaps ({type(e).__name__}: {e}); "
                         "it was written by another version or is damaged: train again with `spinaps train`") from None
    if not hasattr(trained, "dataset_sha256") or type(trained).__name__ == "TrainedSoftLif":
        raise ValueError(f"--checkpoint {ckpt}: not a GLM, hybrid or LIF checkpoint of `spinaps train` "
                         "(a soft-LIF network is converted by `spinaps train --network softlif`)")
    ds = _load_data(args.data if args.data is not None else trained.dataset_name)
    check_encoder_lanes(ds.n_in, args.encoder_lanes, field="--encoder-lanes")
    # The previous export of this network: the file being replaced, else the one beside the checkpoint.
    previous = next((p for p in (out, ckpt.with_suffix(".npz")) if p.is_file()), None)
    try:
        before = art.load(previous) if previous else None
    except art.ArtifactError:
        before = None
    _threads(args)
    artifact, gold = export_and_save(trained, ds, out, encoder_lanes=args.encoder_lanes, lanes=args.lanes,
                                     encoder=args.encoder)
    m = artifact.manifest
    new_acc = m["accuracy"]["golden"]
    print(f"wrote {artifact.path} (golden accuracy {new_acc:.4f})")
    lanes, enc = _lanes_of(m)
    if before is not None:
        old_lanes, old_enc = _lanes_of(before.manifest)
        what, old_acc = f"the previous export {previous}", before.manifest["accuracy"].get("golden")
    else:
        old_lanes = [default_lanes(layer["n_out"]) for layer in m["layers"]]
        old_enc = min(DEFAULT_ENCODER_LANES, m["encoder"]["n_inputs"])
        what, old_acc = "the defaults", None
    # Lanes pick the generators of a drawing encoder and of GLM layers; otherwise they change no value.
    draws = encoder_draws(m["encoder"]["type"]) or any(layer["type"] == "glm" for layer in m["layers"])
    if draws and (lanes, enc) != (old_lanes, old_enc):
        acc = f"golden accuracy {old_acc:.4f} -> {new_acc:.4f}" if old_acc is not None else \
              f"golden accuracy now {new_acc:.4f}"
        print(f"warning: lanes {old_lanes} -> {lanes}, encoder lanes {old_enc} -> {enc} (against {what}): the lanes "
              f"decide which random generator draws for which neuron and input, so they change the random streams "
              f"and the accuracy: {acc}", file=sys.stderr)


def cmd_verilog(args):
    from spinaps.flow import write_accelerator_verilog
    pre.out_dir("--out", args.out)
    artifact = _model(args)
    v, j = write_accelerator_verilog(artifact, args.out, memory=args.memory, **_schedule(args, artifact))
    print(f"wrote {v} and {j}")


def cmd_synth(args):
    from spinaps.flow import board_for_target, synth_report
    from spinaps.toolchain import TARGETS
    targets = [t.strip() for t in args.target.split(",") if t.strip()]
    unknown = [t for t in targets if t not in TARGETS]
    if unknown or not targets:
        raise pre.OptionError(f"--target {args.target!r}: {', '.join(unknown) or '(none)'} is not one of "
                              f"{', '.join(TARGETS)} (give one or more, separated by commas)")
    pre.baud("--baud", args.baud, None, 1, 1 << 30)
    for t in targets:
        b = board_for_target(t)
        if b is not None:
            board_baud(b, args.baud, b.core_mhz)
    pre.out_dir("--out", args.out)
    artifact = _model(args)
    schedule = _schedule(args, artifact)
    entries = synth_report(artifact, args.out, targets=targets, memory=args.memory, baud=args.baud, **schedule)
    for e in entries:
        print(f"{e['target']:>10}: {e['lut']:,} LUT ({e['lutram']:,} as RAM), {e['ff']:,} FF, "
              f"{e['bram36']:g} BRAM36, {e['dsp']} DSP, ~{e['logic_cells']:,} logic cells: "
              f"{'fits' if e['fits'] else 'does NOT fit'}; {e['top']}")
    print(f"wrote {Path(args.out) / 'synth.json'} and synth.md")


def cmd_pnr(args):
    from spinaps.flow import pnr_report
    boards = [pre.open_board("--board", b.strip(), BOARDS) for b in args.board.split(",") if b.strip()]
    if not boards:
        raise pre.OptionError(f"--board: give one or more of {', '.join(OPEN_BOARDS)}")
    pre.at_least("-n", args.n, 1, "test samples run on Icarus for the cycles per inference")
    pre.out_dir("--out", args.out)
    artifact = _model(args)
    schedule = _schedule(args, artifact)
    ds = _data_for(artifact, args)
    _threads(args)
    for e in pnr_report(artifact, boards, args.out, n=args.n, dataset=ds, **schedule):
        print(f"{e['board']:>10} ({e['device']}): Fmax {e['fmax_mhz']:.1f} MHz (clock {e['clock_mhz']} MHz, timing "
              f"{'met' if e['timing_met'] else 'NOT met'}), {e['cycles_per_inference_mean']:,.0f} cycles per inference "
              f"= {e['us_per_inference']:,.1f} us at Fmax; bitstream {e['bitstream']}")
    print(f"wrote {Path(args.out) / 'pnr.json'}")


def _data_for(artifact, args):
    """The data ``--data`` names (default: the model's own), checked to be what the model was trained on."""
    from spinaps.data import data_for
    from spinaps.sw.datasets import DatasetError
    spec = getattr(args, "data", None)
    try:
        return data_for(artifact, spec)
    except DatasetError as e:
        if spec is None or str(e).startswith("--data"):
            raise
        raise DatasetError(f"--data {spec}: {e}") from None


def cmd_verify(args):
    import numpy as np

    from spinaps.flow import rtl_check
    if args.all:
        return cmd_verify_all(args)
    n = 200 if args.n is None else args.n
    first = 0 if args.sample is None else args.sample
    pre.at_least("-n", n, 1, "test samples to simulate")
    pre.at_least("--sample", first, 0)
    if not 0.0 <= args.stall < 1.0:
        raise pre.OptionError(f"--stall {args.stall}: give a probability in 0 <= p < 1")
    if args.waves is not None:
        if Path(args.waves).suffix.lower() not in (".vcd", ".fst"):
            raise pre.OptionError(f"--waves {args.waves}: name the file .vcd or .fst (the format follows the name)")
        pre.out_file("--waves", args.waves)
    pre.out_dir("--build-dir", args.build_dir)
    simulator(args.simulator)        # installed (and $SPINAPS_SIMULATOR valid) before any work
    artifact = _model(args)
    schedule = _schedule(args, artifact)
    ds = _data_for(artifact, args)
    if first >= ds.n_test:
        raise pre.OptionError(f"--sample {first}: the test split has samples 0..{ds.n_test - 1}")
    _threads(args)
    # With --waves only the chosen sample runs: its waves, not hundreds of samples' worth.
    n = 1 if args.waves else n
    run, cmp, labels = rtl_check(artifact, n, build_dir=args.build_dir, memory=args.memory, stall=args.stall,
                                 dataset=ds, first=first, waves=args.waves, simulator=args.simulator, **schedule)
    print(cmp.describe())
    cls = np.array([r["cls"] for r in run.results])
    cycles = np.array([r["cycles"] for r in run.results], dtype=float)
    print(f"RTL accuracy {np.mean(cls == labels):.4f} on {len(cls)} test samples ({first}..{first + len(cls) - 1}); "
          f"{cycles.mean():,.0f} cycles per inference on average (max {cycles.max():,.0f})")
    compiled = "model reused from the cache" if run.build_cached else f"built in {run.build_s:.1f} s"
    print(f"{len(run.results)} samples on {SIMULATORS[run.simulator]['title']} ({args.memory}; {compiled}), "
          f"{run.sim_cycles} cycles simulated at {run.cycles_per_second:,.0f} cycles/s")
    if args.waves:
        print(f"wrote {args.waves} (test sample {first})")
    if cmp.mismatches:
        raise SystemExit(1)


def cmd_report(args):
    from spinaps.flow import golden_eval, golden_throughput, summarize, write_json
    if args.json:
        pre.out_file("--json", args.json)
    if args.plot:
        pre.out_dir("--plot", args.plot)
        import matplotlib  # noqa: F401  (the plots extra: missing -> one message before any work)
    pre.at_least("--sample", args.sample, 0)
    artifact = _model(args)
    ds = _data_for(artifact, args)
    if args.sample >= ds.n_test:
        raise pre.OptionError(f"--sample {args.sample}: the test split has samples 0..{ds.n_test - 1}")
    _threads(args)
    ds, gold, _ = golden_eval(artifact, ds)
    rep = summarize(artifact, gold, ds.y_test)
    rep["golden_inferences_per_second"] = golden_throughput(artifact, ds)
    _print_report(rep)
    if args.json:
        write_json(args.json, rep)
    if args.plot:
        from spinaps.plots import accuracy_plot, raster_plot
        acc = accuracy_plot(artifact, gold, Path(args.plot) / "accuracy_by_step.png")
        raster = Path(args.plot) / f"raster_sample{args.sample}.png"
        info = raster_plot(artifact, ds, raster, sample=args.sample)
        print(f"wrote {acc} and {raster} (test sample {args.sample}, label {info['label']}, class {info['class']})")


def cmd_demo(args):
    from spinaps.flow import (golden_eval, golden_throughput, rtl_check, summarize, synth_report,
                              train_and_export, write_accelerator_verilog, write_json)

    out = pre.out_dir("--out", args.out)
    pre.at_least("-n", args.n, 1)
    args.weight_bits = pre.per_layer("--weight-bits", args.weight_bits)
    if isinstance(args.weight_bits, tuple):
        raise pre.OptionError("--weight-bits: the demo's GLM network takes one width (1, 2, 4 or 8)")
    cfg = _config(args)
    model_path = out / "digits.npz"
    _threads(args)
    print("== 1/6 training a SpinAPS GLM first-to-spike network on digits (binary cells, "
          f"{args.weight_bits}-bit weights)")
    t0 = time.perf_counter()
    artifact, _, gold = train_and_export("digits", model_path, config=cfg)
    train_s = time.perf_counter() - t0
    print("== 2/6 golden integer model: throughput on the test split (accuracy came with the export)")
    ds, _, _ = golden_eval(artifact)
    golden_ips = golden_throughput(artifact, ds)
    print(f"== 3/6 Verilog -> {out / 'verilog'}")
    write_accelerator_verilog(artifact, out / "verilog")
    print(f"== 4/6 cocotb on Icarus: {args.n} test samples, every spike compared with the golden model")
    run, cmp, labels = rtl_check(artifact, args.n, build_dir=out / "rtl", dataset=ds, stall=0.2)
    print("   " + cmp.describe().replace("\n", "\n   "))
    print(f"== 5/6 Yosys synthesis for {DEMO_TARGET} -> {out / 'synth'}")
    t0 = time.perf_counter()
    (syn,) = synth_report(artifact, out / "synth", targets=[DEMO_TARGET])
    synth_s = time.perf_counter() - t0
    rep = summarize(artifact, gold, ds.y_test, run, cmp, labels)
    rep.update(train_seconds=train_s, golden_inferences_per_second=golden_ips, synth_target=DEMO_TARGET,
               synth_lut=syn["lut"], synth_ff=syn["ff"], synth_bram36=syn["bram36"], synth_dsp=syn["dsp"],
               synth_fits=syn["fits"], synth_seconds=synth_s)
    print("== 6/6 report")
    _print_report(rep)
    write_json(out / "report.json", rep)
    print(f"wrote {out / 'report.json'}")
    if cmp.mismatches:
        raise SystemExit("RTL and golden model differ: see above")


def cmd_cost(args):
    """The cost model's comparison of both synapse memories, as JSON on stdout."""
    import json

    from spinaps.flow import cost_report
    from spinaps.sim.devices import load_devices
    pre.at_least("--samples", args.samples, 1, "test samples run on the RTL")
    if args.devices is not None:
        pre.in_file("--devices", args.devices)
    pre.out_dir("--build", args.build)
    devices = load_devices(args.devices)         # a bad table fails before any simulation
    artifact = _model(args)
    ds = _data_for(artifact, args)
    _threads(args, file=sys.stderr)             # stdout is the JSON
    out = cost_report(artifact, args.samples, build_dir=args.build, devices=devices, dataset=ds)
    print(json.dumps(out, indent=2))


def _print_report(rep):
    width = max(len(k) for k in rep)
    for k, v in rep.items():
        if isinstance(v, list):
            v = "[" + ", ".join(f"{x:.3f}" for x in v) + "]"
        elif isinstance(v, float):
            v = f"{v:.4f}" if abs(v) < 1000 else f"{v:,.0f}"
        print(f"  {k:<{width}}  {v}")


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's defaults in the help, except where the default is None (the help says then)."""

    def _get_help_string(self, action):
        if action.default is None or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def build_parser():
    p = argparse.ArgumentParser(prog="spinaps", description=__doc__.splitlines()[0], formatter_class=_Formatter)
    sub = p.add_subparsers(dest="command", required=True)

    def command(name, func, help, **kw):
        sp = sub.add_parser(name, help=help, description=help, formatter_class=_Formatter, **kw)
        sp.set_defaults(func=func)
        return sp

    def training_options(sp):
        sp.add_argument("--weight-bits", default=4,
                        help="cells per weight: 1, 2, 4 or 8; hybrid and lif networks take one per layer, e.g. 4,2")
        sp.add_argument("--t-max", type=int, default=None,
                        help="time steps per inference (default: 16, soft-LIF 64; a time series at "
                             "least its frame count)")
        sp.add_argument("--epochs", type=int, default=None, help="training epochs (default: the network's own)")
        sp.add_argument("--basis", type=int, default=None,
                        help="K raised-cosine basis functions of a GLM layer (default: the trainer's)")
        sp.add_argument("--tau", type=int, default=None, help="GLM history window in steps (default: the trainer's)")
        sp.add_argument("--seed", type=int, default=None, help="training seed (default: the trainer's fixed seed)")

    def hardware_options(sp):
        sp.add_argument("--encoder-lanes", type=int, default=DEFAULT_ENCODER_LANES,
                        help="encoder generators: inputs compared per cycle (they decide the input spikes' "
                             "random streams)")
        sp.add_argument("--lanes", default=None,
                        help="accumulator lanes: one number for the output layer, or one per layer (e.g. 8,5), "
                             "each 1..its neurons (default: half its neurons, at most 16)")
        sp.add_argument("--encoder", choices=ENCODER_TYPES, default=ENCODER_TYPES[0],
                        help="input encoder of the hardware: bernoulli (random rate code) or deterministic "
                             "(accumulate-and-fire, no randomness; docs/semantics.md section 3)")

    def data_option(sp, default_help="default: the data set the model was trained on"):
        sp.add_argument("--data", default=None, metavar="NAME|FILE",
                        help=f"built-in data set (digits, mnist5k, fashion, motions) or a data file (.npz, .csv) "
                             f"({default_help})")

    def threads_option(sp):
        sp.add_argument("--threads", type=int, default=None,
                        help=f"torch threads (default: ${THREADS_ENV}, else 1 on a busy machine, else up to 4)")

    sp = command("train", cmd_train, "train a network on a data set, save its checkpoint (.pt), export its artifact")
    sp.add_argument("--data", "--dataset", dest="data", default="digits", metavar="NAME|FILE",
                    help="built-in data set (digits, mnist5k, fashion, motions) or a data file (.npz, .csv)")
    sp.add_argument("--network", choices=["glm", "hybrid", "lif", "softlif"], default="glm",
                    help="glm: one GLM first-to-spike layer (SpinAPS); hybrid: LIF hidden layers -> GLM "
                         "first-to-spike; lif: all-LIF with --decision; softlif: soft-LIF ANN converted "
                         "to LIF (Hunsberger & Eliasmith), max-potential read-out")
    sp.add_argument("--hidden", default=None,
                    help="hidden LIF layer sizes, e.g. 64 or 64,32 (hybrid, lif, softlif; default: the network's)")
    sp.add_argument("--decision", choices=DECISIONS, default=None,
                    help="read-out of an all-LIF network (default: first_to_spike)")
    sp.add_argument("--expected-from", type=float, default=None,
                    help="hybrid: from this fraction of the epochs on, train on the readout's expected error "
                         "1 - P instead of -log P (fashion: 0.5; default: never)")
    sp.add_argument("--out", default=DEFAULT_MODEL, help="artifact to write; the checkpoint goes beside it (.pt)")
    training_options(sp)
    add_energy_options(sp)
    hardware_options(sp)
    threads_option(sp)

    sp = command("export", cmd_export, "re-export a trained checkpoint with other hardware options")
    sp.add_argument("--checkpoint", default=str(Path(DEFAULT_MODEL).with_suffix(".pt")),
                    help="checkpoint that `spinaps train` saved")
    sp.add_argument("--out", default=DEFAULT_MODEL, help="artifact to write")
    sp.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    data_option(sp, "default: the checkpoint's built-in data set")
    hardware_options(sp)
    threads_option(sp)

    sp = command("verilog", cmd_verilog, "write the accelerator's Verilog and port metadata")
    sp.add_argument("--model", default=DEFAULT_MODEL, help="artifact (.npz)")
    sp.add_argument("--out", default="build/verilog", help="output folder")
    sp.add_argument("--memory", choices=list(MEMORY_KINDS), default="sram", help="synapse memory")
    window_options(sp)
    sp = command("synth", cmd_synth, "Yosys resource estimates (LUT, FF, BRAM, DSP); a board target (ice40up5k, "
                                     "ecp5-85f) includes the board's UART link")
    sp.add_argument("--model", default=DEFAULT_MODEL, help="artifact (.npz)")
    sp.add_argument("--out", default="build/synth", help="output folder")
    sp.add_argument("--target", default="xc7a35t,xc7a100t",
                    help="comma-separated: xc7a35t, xc7a100t (accelerator only), ice40up5k, ecp5-85f (accelerator "
                         "+ UART link at the board's core clock)")
    sp.add_argument("--memory", choices=list(MEMORY_KINDS), default="sram", help="synapse memory")
    sp.add_argument("--baud", type=int, default=115200, help="UART line rate of a board target's link")
    window_options(sp)

    sp = command("pnr", cmd_pnr, "nextpnr for the iCE40 UP5K / ECP5-85F board tops: Fmax, utilization, "
                                 "us per inference")
    sp.add_argument("--model", default=DEFAULT_MODEL, help="artifact (.npz)")
    sp.add_argument("--out", default="build/pnr", help="output folder")
    sp.add_argument("--board", default=",".join(OPEN_BOARDS), help=f"comma-separated: {', '.join(OPEN_BOARDS)}")
    sp.add_argument("-n", type=int, default=20, help="test samples run on Icarus for the cycles per inference")
    window_options(sp)
    data_option(sp)
    threads_option(sp)

    sp = command("verify", cmd_verify, "run test samples in RTL (Icarus or Verilator) and compare with the golden "
                                       "model; prints RTL accuracy and cycles")
    sp.add_argument("--model", default=DEFAULT_MODEL, help="artifact (.npz)")
    sp.add_argument("-n", type=int, default=None, help="test samples to simulate (default 200)")
    sp.add_argument("--sample", type=int, default=None, help="first test sample, default 0 (with --waves: the one "
                                                             "sample)")
    sp.add_argument("--all", action="store_true",
                    help="the whole test split, in batches through one compiled model (default simulator: "
                         "verilator), with a progress bar and a summary; exit 1 on any mismatch")
    sp.add_argument("--waves", default=None, metavar="FILE.vcd|FILE.fst",
                    help="simulate only test sample --sample and write its waves (format by suffix)")
    sp.add_argument("--memory", choices=list(MEMORY_KINDS), default="sram", help="synapse memory")
    sp.add_argument("--stall", type=float, default=0.2, help="probability of a valid/ready stall per cycle")
    window_options(sp)
    sp.add_argument("--build-dir", default="build/verify", help="simulation build folder")
    sp.add_argument("--simulator", choices=list(SIMULATORS), default=None,
                    help=f"HDL simulator (default: ${SIMULATOR_ENV}, else icarus; with --all: verilator); verilator compiles for "
                         f"20-45 s (once per design: build/sim_cache) and then runs 30-60x faster")
    data_option(sp)
    threads_option(sp)

    sp = command("report", cmd_report, "golden-model accuracy, decision steps and counters; --plot draws them")
    sp.add_argument("--model", default=DEFAULT_MODEL, help="artifact (.npz)")
    sp.add_argument("--json", default=None, help="also write the report to this JSON file (default: none)")
    sp.add_argument("--plot", default=None, metavar="DIR",
                    help="write accuracy_by_step.png and raster_sampleK.png here (needs the plots extra; "
                         "default: no pictures)")
    sp.add_argument("--sample", type=int, default=0, help="test sample of the spike raster")
    data_option(sp)
    threads_option(sp)

    sp = command("run", cmd_run, "classify test samples on a board over its UART and compare with golden")
    sp.add_argument("--board", required=True, choices=list(BOARDS), help="the board on --port")
    sp.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB1")
    sp.add_argument("--data", "--dataset", dest="data", default=None, metavar="NAME|FILE",
                    help="built-in data set or data file (default: the data set the model was trained on)")
    sp.add_argument("--model", default=DEFAULT_MODEL, help="the artifact the bitstream was built from")
    sp.add_argument("-n", type=int, default=100, help="test samples to send")
    sp.add_argument("--baud", type=int, default=115200, help="UART line rate the bitstream was built for")
    sp.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for an answer")
    threads_option(sp)

    sp = command("bitstream", cmd_bitstream, "bitstream for an open board (Yosys + nextpnr through YoWASP)")
    sp.add_argument("--board", required=True, help=f"one of {', '.join(OPEN_BOARDS)} (arty: `spinaps vivado-plan`)")
    sp.add_argument("--model", default=DEFAULT_MODEL, help="artifact (.npz)")
    sp.add_argument("--out", default=None, help="build folder (default: build/BOARD)")
    sp.add_argument("--baud", type=int, default=115200, help="UART line rate")
    sp.add_argument("--seed", default="1",
                    help="nextpnr placement seed; a list (1,2,3) or range (1-4) tries each in turn until "
                         "timing is met and keeps that build (else the fastest)")
    sp.add_argument("--core-mhz", type=float, default=None,
                    help="core clock through the PLL (default: the board's setting; 0: the oscillator)")
    window_options(sp)

    sp = command("vivado-plan", cmd_vivado_plan, "Vivado build archive for the Arty A7-35 (no open 7-series flow)")
    sp.add_argument("--board", default=VIVADO_BOARDS[0], choices=VIVADO_BOARDS, help="board")
    sp.add_argument("--model", default=DEFAULT_MODEL, help="artifact (.npz)")
    sp.add_argument("--out", default=None, help="archive (default: build/BOARD/spinaps_BOARD_vivado.zip)")
    sp.add_argument("--baud", type=int, default=115200, help="UART line rate")
    window_options(sp)

    sp = command("prog", cmd_prog, "program a board through openFPGALoader")
    sp.add_argument("--board", required=True, choices=list(BOARDS), help="board")
    sp.add_argument("--bitstream", default=None,
                    help="bitstream file (default: build/BOARD/spinaps_BOARD.bin|.bit of `spinaps bitstream`)")

    sp = command("demo", cmd_demo, f"the flow on digits: train, golden model, Verilog, cocotb check, Yosys for "
                                   f"{DEMO_TARGET}, report (what `make demo` runs)")
    sp.add_argument("--out", default="build/demo", help="output folder")
    sp.add_argument("-n", type=int, default=200, help="test samples simulated on Icarus")
    training_options(sp)
    threads_option(sp)

    sp = command("cost", cmd_cost, "energy, latency and area per inference, STT-RAM vs SRAM synapses "
                                   "(cost model on RTL activity; docs/cost_model.md)")
    sp.add_argument("--model", default=DEFAULT_MODEL, help="artifact (.npz)")
    sp.add_argument("--devices", help="JSON device table merged over the shipped one by key (default: the shipped one)")
    sp.add_argument("--samples", type=int, default=20, help="test samples run on the RTL")
    sp.add_argument("--build", default="build/cost", help="simulation build folder")
    data_option(sp)
    threads_option(sp)

    from spinaps.cli_nir import add_parsers as nir_parsers
    nir_parsers(command, data_option, threads_option, DEFAULT_MODEL)
    from spinaps.cli_search import add_parser as search_parser
    search_parser(command)
    return p


# Import name of a package from an optional extra (pyproject.toml) -> the extra.
_EXTRAS = {"amaranth_boards": "boards", "serial": "boards", "matplotlib": "plots", "nir": "nir", "h5py": "nir",
           "optuna": "search", "dask": "search", "distributed": "search"}


def _fail(args, message, code):
    print(f"spinaps {args.command}: error: {message}", file=sys.stderr)
    return code


def _sticky_interrupt(signum, frame):
    """Ctrl-C that no library can lose: raise KeyboardInterrupt and, should something catch it
    and go on (C code that clears a pending error: a Ctrl-C early in a training once let it run
    to the end), raise it again every half second until :func:`main` takes it."""
    import _thread
    import threading

    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.daemon = True
    _REPEATS.append(timer)
    timer.start()
    raise KeyboardInterrupt


_REPEATS = []        # the pending repeats of a Ctrl-C (cancelled once main has taken it)


def _cancel_repeats():
    while _REPEATS:
        _REPEATS.pop().cancel()


def main(argv=None):
    args = build_parser().parse_args(argv)
    import signal
    import threading

    on_main = threading.current_thread() is threading.main_thread()   # signal handlers live there only
    previous = signal.signal(signal.SIGINT, _sticky_interrupt) if on_main else None
    try:
        return _run(args)
    finally:
        _cancel_repeats()
        if on_main:
            signal.signal(signal.SIGINT, previous)


def _run(args):
    """``args.func(args)`` with every expected failure as one line and an exit code."""
    from spinaps.boards.client import BoardError
    from spinaps.boards.protocol import ProtocolError
    from spinaps.sw.artifact import ArtifactError
    from spinaps.sw.datasets import DatasetError
    try:
        args.func(args)
    except KeyboardInterrupt:
        _cancel_repeats()
        # Every file is written whole or not at all (atomic writes), so stopping leaves none half-written.
        print(f"spinaps {args.command}: interrupted", file=sys.stderr)
        return 130
    except ModuleNotFoundError as e:
        extra = _EXTRAS.get((e.name or "").split(".")[0])
        if extra is None:
            raise
        return _fail(args, f"this command needs the Python package {e.name!r}, from the optional extra {extra!r}: "
                           f"pip install 'spinaps[{extra}]' (or `make setup` in a clone)", 2)
    except ImportError as e:     # an optional package's own check (e.g. require_nir) names its extra
        return _fail(args, e, 2)
    except (ArtifactError, DatasetError, ValueError, FileNotFoundError, BoardError, ProtocolError) as e:
        return _fail(args, e, 2)
    except OSError as e:         # permissions, a full disk, a file where a folder should be
        where = f"{e.filename}: " if e.filename else ""
        return _fail(args, f"{where}{e.strerror or e}: check that the path exists and that this user may write "
                           "there, or choose another output path", 2)
    except RuntimeError as e:  # missing simulator, failed simulation
        return _fail(args, e, 3)
    return 0


# --- window schedules (docs/semantics.md 8.1): options of verilog, verify, synth, pnr, bitstream --

def window_options(sp):
    """``--window`` / ``--adders``: hardware parameters, one number or one per layer."""
    sp.add_argument("--window", default="1",
                    help=f"steps per window of the window engine ({', '.join(map(str, WINDOWS))}; 1 = "
                         "time-sequential): one number for every layer, or one per layer (e.g. 4,1); changes "
                         "cycles and reads, never a spike")
    sp.add_argument("--adders", default="1",
                    help="temporal adders per lane, 1..window (one number, or one per layer): 1 keeps the cycle "
                         "count, the window length adds a row word into every step of the window in one cycle")


def _schedule(args, artifact):
    """``dict(window=..., adders=...)`` for the Accelerator, checked against the artifact's layers."""
    from spinaps.hdl.accelerator import schedule_of
    window, adders = pre.per_layer("--window", args.window), pre.per_layer("--adders", args.adders)
    try:
        schedule_of(window, adders, len(artifact.manifest["layers"]))
    except ValueError as e:
        raise pre.OptionError(f"--window {args.window} --adders {args.adders}: {e}") from None
    return dict(window=list(window) if isinstance(window, tuple) else window,
                adders=list(adders) if isinstance(adders, tuple) else adders)

# --- hardware-aware training options (`spinaps train --energy-*`, docs/training.md) -----------

ENERGY_OPTIONS = ("energy_beta", "energy_window", "energy_epochs", "energy_penalty")


def add_energy_options(sp):
    """The fine-tuning stage of hardware-aware training (LifNetConfig's energy_* fields)."""
    sp.add_argument("--energy-beta", type=float, default=None,
                    help="hybrid, lif, softlif: weight of the energy penalty L_task + beta * E_hat / E_hat_0 in a "
                         "fine-tuning stage after the training (default: 0, none; try 0.1-3)")
    sp.add_argument("--energy-window", type=int, default=None,
                    help=f"window length W of the engine the energy estimate targets "
                         f"({', '.join(map(str, WINDOWS))}; default 1)")
    sp.add_argument("--energy-epochs", type=int, default=None,
                    help="epochs of the fine-tuning stage (default: 20 when --energy-beta is given)")
    sp.add_argument("--energy-penalty", choices=["energy", "l1"], default=None,
                    help="energy: the estimate of the cost model's energy; l1: plain L1 on spike counts")


def _energy_fields(args):
    kw = {k: getattr(args, k) for k in ENERGY_OPTIONS if getattr(args, k, None) is not None}
    if "energy_beta" in kw and "energy_epochs" not in kw:
        kw["energy_epochs"] = 20
    return kw


def _check_energy_options(args):
    given = [k for k in ENERGY_OPTIONS if getattr(args, k, None) is not None]
    if given and args.network == "glm":
        names = ", ".join("--" + k.replace("_", "-") for k in given)
        raise pre.OptionError(f"{names}: hardware-aware training needs --network hybrid, lif or softlif "
                              f"(--network glm has no fine-tuning stage)")


if __name__ == "__main__":
    sys.exit(main())

