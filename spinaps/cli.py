"""``spinaps``: train, export, generate Verilog, verify against the golden model, report.

Every subcommand fails with one message and a non-zero exit code on bad input (missing or
invalid artifact, unknown dataset, out-of-range parameter, missing simulator).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from spinaps.boards.catalog import BOARDS
from spinaps.contract import DECISIONS
from spinaps.hdl.synapse_memory import MEMORY_KINDS
from spinaps.sw.lanes import DEFAULT_ENCODER_LANES

#: Boards with a bitstream through the open flow here, and the one with a Vivado plan.
OPEN_BOARDS = [name for name, b in BOARDS.items() if b.open_flow]
VIVADO_BOARDS = [name for name, b in BOARDS.items() if not b.open_flow]

DEFAULT_MODEL = "build/model/digits.npz"


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
    return LifNetConfig(**kw)


def _softlif_config(args):
    from spinaps.sw.softlif import SoftLifConfig
    kw = {k: getattr(args, k) for k in ("epochs", "seed") if getattr(args, k, None) is not None}
    if args.hidden is not None:
        kw["hidden"] = _hidden(args)
    return SoftLifConfig(**kw)


def cmd_train(args):
    from spinaps.flow import train_and_export, train_network_and_export, train_softlif_and_export
    from spinaps.sw.datasets import default_t_max

    if args.t_max is None:
        # A time series gets at least its frame count in steps (sw.datasets.default_t_max).
        args.t_max = default_t_max(args.dataset, args.network)
    t0 = time.perf_counter()
    if args.network == "softlif":
        artifact, trained, gold = train_softlif_and_export(
            args.dataset, args.out, config=_softlif_config(args), weight_bits=args.weight_bits,
            t_max=args.t_max, encoder_lanes=args.encoder_lanes, lanes=args.lanes)
    elif args.network == "glm":
        if args.hidden is not None or args.decision not in (None, "first_to_spike") or args.expected_from is not None:
            raise ValueError("--network glm is the single GLM first-to-spike layer: --hidden, --decision and "
                             "--expected-from need --network hybrid or lif")
        artifact, trained, gold = train_and_export(args.dataset, args.out, config=_config(args),
                                                   encoder_lanes=args.encoder_lanes, lanes=args.lanes)
    else:
        artifact, trained, gold = train_network_and_export(args.dataset, args.out, config=_network_config(args),
                                                           encoder_lanes=args.encoder_lanes, lanes=args.lanes)
    acc = artifact.manifest["accuracy"]
    scores = ", ".join(f"{name} {acc[name]:.4f}" for name in ("float", "golden", "ann", "softlif_ann")
                       if acc.get(name) is not None)
    print(f"trained {args.dataset} ({args.network}) in {time.perf_counter() - t0:.1f} s: {scores}")
    ckpt = Path(args.out).with_suffix(".pt")
    print(f"wrote {artifact.path}" + (f" (checkpoint {ckpt})" if args.network != "softlif" else ""))


def cmd_export(args):
    import torch

    from spinaps.sw.datasets import load_dataset
    from spinaps.flow import export_and_save

    ckpt = Path(args.checkpoint)
    if not ckpt.exists():
        raise FileNotFoundError(f"checkpoint {ckpt} not found; run `spinaps train` first")
    trained = torch.load(ckpt, weights_only=False)
    artifact, gold = export_and_save(trained, load_dataset(trained.dataset_name), args.out,
                                     encoder_lanes=args.encoder_lanes, lanes=args.lanes)
    print(f"wrote {artifact.path} (golden accuracy {artifact.manifest['accuracy']['golden']:.4f})")


def cmd_verilog(args):
    from spinaps.sw import artifact as art
    from spinaps.flow import write_accelerator_verilog
    v, j = write_accelerator_verilog(art.load(args.model), args.out, memory=args.memory)
    print(f"wrote {v} and {j}")


def cmd_synth(args):
    from spinaps.sw import artifact as art
    from spinaps.flow import synth_report
    targets = [t.strip() for t in args.target.split(",") if t.strip()]
    entries = synth_report(art.load(args.model), args.out, targets=targets, memory=args.memory)
    for e in entries:
        print(f"{e['target']:>10}: {e['lut']:,} LUT ({e['lutram']:,} as RAM), {e['ff']:,} FF, "
              f"{e['bram36']:g} BRAM36, {e['dsp']} DSP, ~{e['logic_cells']:,} logic cells: "
              f"{'fits' if e['fits'] else 'does NOT fit'}")
    print(f"wrote {Path(args.out) / 'synth.json'} and synth.md")


def cmd_pnr(args):
    from spinaps.sw import artifact as art
    from spinaps.flow import pnr_report
    boards = [b.strip() for b in args.board.split(",") if b.strip()]
    for e in pnr_report(art.load(args.model), boards, args.out, n=args.n):
        print(f"{e['board']:>10} ({e['device']}): Fmax {e['fmax_mhz']:.1f} MHz (clock {e['clock_mhz']} MHz, timing "
              f"{'met' if e['timing_met'] else 'NOT met'}), {e['cycles_per_inference_mean']:,.0f} cycles per inference "
              f"= {e['us_per_inference']:,.1f} us at Fmax; bitstream {e['bitstream']}")
    print(f"wrote {Path(args.out) / 'pnr.json'}")


def cmd_verify(args):
    from spinaps.sw import artifact as art
    from spinaps.flow import rtl_check
    artifact = art.load(args.model)
    run, cmp, labels = rtl_check(artifact, args.n, build_dir=args.build_dir, memory=args.memory,
                                 stall=args.stall)
    print(cmp.describe())
    print(f"{len(run.results)} samples on Icarus ({args.memory}), {run.sim_cycles} cycles simulated at "
          f"{run.cycles_per_second:,.0f} cycles/s")
    if cmp.mismatches:
        raise SystemExit(1)


def cmd_report(args):
    from spinaps.sw import artifact as art
    from spinaps.flow import golden_eval, golden_throughput, summarize, write_json
    artifact = art.load(args.model)
    ds, gold, _ = golden_eval(artifact)
    rep = summarize(artifact, gold, ds.y_test)
    rep["golden_inferences_per_second"] = golden_throughput(artifact, ds)
    _print_report(rep)
    if args.json:
        write_json(args.json, rep)


def cmd_demo(args):
    from spinaps.flow import (golden_eval, golden_throughput, rtl_check, summarize, train_and_export,
                       write_accelerator_verilog, write_json)

    out = Path(args.out)
    model_path = out / "digits.npz"
    print("== 1/5 training a SpinAPS GLM first-to-spike network on digits (binary cells, "
          f"{args.weight_bits}-bit weights)")
    t0 = time.perf_counter()
    artifact, _, gold = train_and_export("digits", model_path, config=_config(args))
    train_s = time.perf_counter() - t0
    print("== 2/5 golden integer model: throughput on the test split (accuracy came with the export)")
    ds, _, _ = golden_eval(artifact)
    golden_ips = golden_throughput(artifact, ds)
    print(f"== 3/5 Verilog -> {out / 'verilog'}")
    write_accelerator_verilog(artifact, out / "verilog")
    print(f"== 4/5 cocotb on Icarus: {args.n} test samples, every spike compared with the golden model")
    run, cmp, labels = rtl_check(artifact, args.n, build_dir=out / "rtl", dataset=ds, stall=0.2)
    print("   " + cmp.describe().replace("\n", "\n   "))
    rep = summarize(artifact, gold, ds.y_test, run, cmp, labels)
    rep.update(train_seconds=train_s, golden_inferences_per_second=golden_ips)
    print("== 5/5 report")
    _print_report(rep)
    write_json(out / "report.json", rep)
    print(f"wrote {out / 'report.json'}")
    if cmp.mismatches:
        raise SystemExit("RTL and golden model differ: see above")


def cmd_run(args):
    from spinaps.boards.client import run_on_port
    from spinaps.boards.top import board

    from spinaps.sw import artifact as art
    from spinaps.sw.datasets import load_dataset
    from spinaps.flow import sample_seeds
    from spinaps.sw.golden import GoldenModel

    board(args.board)                       # an unknown board fails before the port is opened
    if args.n < 1:
        raise ValueError(f"-n {args.n}: give at least one sample")
    artifact = art.load(args.model)
    ds = load_dataset(args.dataset)
    if ds.sha256 != artifact.manifest["dataset"].get("sha256", ds.sha256):
        raise ValueError(f"--dataset {args.dataset} is not the data set {args.model} was trained on "
                         f"({artifact.manifest['dataset']['name']})")
    n = min(args.n, len(ds.y_test))
    rep = run_on_port(GoldenModel.from_artifact(artifact), args.port, args.baud, ds.x_test[:n], sample_seeds(n),
                      ds.y_test[:n], timeout=args.timeout)
    print("\n".join(rep.lines()))
    if rep.mismatches:
        raise SystemExit(1)


def cmd_bitstream(args):
    from spinaps.boards.build import build
    core_mhz = "default" if args.core_mhz is None else (None if args.core_mhz <= 0 else args.core_mhz)
    rep = build(args.board, args.model, args.out or f"build/{args.board}", baud=args.baud, seed=args.seed,
                core_mhz=core_mhz)
    fmax = ", ".join(f"{k} {v['achieved_mhz']:.1f} MHz (wanted {v['constraint_mhz']:.1f})" for k, v in rep["fmax"].items())
    print(f"bitstream {rep['bitstream']} in {rep['seconds']:.0f} s; Fmax {fmax}")
    for cell, u in rep["utilization"].items():
        if u["used"]:
            print(f"  {cell:<16} {u['used']:>6} / {u['available']}")
    print(f"report {Path(rep['bitstream']).parent / 'report.json'}")
    # The PLL default suits the digits model; another model may close timing faster or slower.
    if rep["fmax_mhz"] and not rep["timing_met"]:
        print(f"warning: timing not met at {rep['clock_mhz']:.2f} MHz (Fmax {rep['fmax_mhz']:.2f} MHz): rebuild "
              f"with --core-mhz {int(rep['fmax_mhz'] * 0.9)}", file=sys.stderr)
    elif rep["fmax_mhz"] and rep["fmax_mhz"] > 1.3 * rep["clock_mhz"]:
        print(f"note: Fmax {rep['fmax_mhz']:.2f} MHz leaves speed unused at {rep['clock_mhz']:.2f} MHz; "
              f"--core-mhz {int(rep['fmax_mhz'] * 0.9)} runs faster")


def cmd_vivado_plan(args):
    from spinaps.boards.build import vivado_plan
    print(f"wrote {vivado_plan(args.board, args.model, args.out or f'build/{args.board}/spinaps_{args.board}_vivado.zip', baud=args.baud)}")


def cmd_prog(args):
    from spinaps.boards.build import program
    from spinaps.boards.top import board
    family = board(args.board).family
    bit = args.bitstream or f"build/{args.board}/spinaps_{args.board}.{'bin' if family == 'ice40' else 'bit'}"
    print(program(args.board, bit))


def cmd_cost(args):
    """The cost model's comparison of both synapse memories, as JSON on stdout."""
    import json

    from spinaps.sw import artifact as art
    from spinaps.flow import cost_report
    from spinaps.sim.devices import load_devices
    devices = load_devices(args.devices)         # a bad table fails before any simulation
    out = cost_report(art.load(args.model), args.samples, build_dir=args.build, devices=devices)
    print(json.dumps(out, indent=2))


def _print_report(rep):
    width = max(len(k) for k in rep)
    for k, v in rep.items():
        if isinstance(v, list):
            v = "[" + ", ".join(f"{x:.3f}" for x in v) + "]"
        elif isinstance(v, float):
            v = f"{v:.4f}" if abs(v) < 1000 else f"{v:,.0f}"
        print(f"  {k:<{width}}  {v}")


def build_parser():
    p = argparse.ArgumentParser(prog="spinaps", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    def training_options(sp, epochs=None):
        sp.add_argument("--weight-bits", type=int, default=4, help="cells per weight: 1, 2, 4 or 8")
        sp.add_argument("--t-max", type=int, default=None,
                        help="time steps per inference (default: 16, soft-LIF 64; a time series at "
                             "least its frame count)")
        sp.add_argument("--epochs", type=int, default=epochs)
        sp.add_argument("--basis", type=int, default=None, help="K raised-cosine basis functions")
        sp.add_argument("--tau", type=int, default=None, help="history window in steps")
        sp.add_argument("--seed", type=int, default=None)

    def hardware_options(sp):
        sp.add_argument("--encoder-lanes", type=int, default=DEFAULT_ENCODER_LANES, help="inputs compared per cycle")
        sp.add_argument("--lanes", type=int, default=None,
                        help="accumulator lanes of the output layer (default: half its neurons, at most 16)")

    sp = sub.add_parser("train", help="train, export and save an artifact")
    sp.add_argument("--dataset", default="digits", help="digits, mnist5k, fashion or motions")
    sp.add_argument("--network", choices=["glm", "hybrid", "lif", "softlif"], default="glm",
                    help="glm: one GLM first-to-spike layer (SpinAPS); hybrid: LIF hidden layers -> GLM "
                         "first-to-spike; lif: all-LIF with --decision; softlif: soft-LIF ANN converted "
                         "to LIF (Hunsberger & Eliasmith), max-potential read-out")
    sp.add_argument("--hidden", default=None, help="hidden LIF layer sizes, e.g. 64 or 64,32 (hybrid, lif)")
    sp.add_argument("--decision", choices=DECISIONS, default=None,
                    help="read-out of an all-LIF network (default first_to_spike)")
    sp.add_argument("--expected-from", type=float, default=None,
                    help="hybrid: from this fraction of the epochs on, train on the readout's expected error "
                         "1 - P instead of -log P (fashion: 0.5)")
    sp.add_argument("--out", default=DEFAULT_MODEL)
    training_options(sp)
    hardware_options(sp)
    sp.set_defaults(func=cmd_train)

    sp = sub.add_parser("export", help="re-export a trained checkpoint with other hardware options")
    sp.add_argument("--checkpoint", default=str(Path(DEFAULT_MODEL).with_suffix(".pt")))
    sp.add_argument("--out", default=DEFAULT_MODEL)
    hardware_options(sp)
    sp.set_defaults(func=cmd_export)

    sp = sub.add_parser("verilog", help="write the accelerator's Verilog and port metadata")
    sp.add_argument("--model", default=DEFAULT_MODEL)
    sp.add_argument("--out", default="build/verilog")
    sp.add_argument("--memory", choices=list(MEMORY_KINDS), default="sram")
    sp.set_defaults(func=cmd_verilog)

    sp = sub.add_parser("synth", help="Yosys resource estimates (LUT, FF, BRAM, DSP) for Artix-7")
    sp.add_argument("--model", default=DEFAULT_MODEL)
    sp.add_argument("--out", default="build/synth")
    sp.add_argument("--target", default="xc7a35t,xc7a100t",
                    help="comma-separated: xc7a35t, xc7a100t, ice40up5k, ecp5-85f")
    sp.add_argument("--memory", choices=list(MEMORY_KINDS), default="sram")
    sp.set_defaults(func=cmd_synth)

    sp = sub.add_parser("pnr", help="nextpnr for the iCE40 UP5K / ECP5-85F board tops: Fmax, utilization, us per inference")
    sp.add_argument("--model", default=DEFAULT_MODEL)
    sp.add_argument("--out", default="build/pnr")
    sp.add_argument("--board", default=",".join(OPEN_BOARDS), help=f"comma-separated: {', '.join(OPEN_BOARDS)}")
    sp.add_argument("-n", type=int, default=20, help="test samples run on Icarus for the cycles per inference")
    sp.set_defaults(func=cmd_pnr)

    sp = sub.add_parser("verify", help="run test samples on Icarus and compare with the golden model")
    sp.add_argument("--model", default=DEFAULT_MODEL)
    sp.add_argument("-n", type=int, default=200)
    sp.add_argument("--memory", choices=list(MEMORY_KINDS), default="sram")
    sp.add_argument("--stall", type=float, default=0.2, help="probability of a valid/ready stall per cycle")
    sp.add_argument("--build-dir", default="build/verify")
    sp.set_defaults(func=cmd_verify)

    sp = sub.add_parser("report", help="golden-model accuracy, decision steps and counters")
    sp.add_argument("--model", default=DEFAULT_MODEL)
    sp.add_argument("--json", default=None)
    sp.set_defaults(func=cmd_report)

    sp = sub.add_parser("run", help="classify test samples on a board over its UART and compare with golden")
    sp.add_argument("--board", required=True, choices=list(BOARDS))
    sp.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB1")
    sp.add_argument("--dataset", default="digits")
    sp.add_argument("--model", default=DEFAULT_MODEL, help="the artifact the bitstream was built from")
    sp.add_argument("-n", type=int, default=100)
    sp.add_argument("--baud", type=int, default=115200)
    sp.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for an answer")
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("bitstream", help="bitstream for an open board (Yosys + nextpnr through YoWASP)")
    sp.add_argument("--board", required=True, choices=OPEN_BOARDS)
    sp.add_argument("--model", default=DEFAULT_MODEL)
    sp.add_argument("--out", default=None, help="build directory (default build/BOARD)")
    sp.add_argument("--baud", type=int, default=115200)
    sp.add_argument("--seed", type=int, default=1, help="nextpnr placement seed")
    sp.add_argument("--core-mhz", type=float, default=None,
                    help="core clock through the PLL (default: the board's setting; 0: the oscillator)")
    sp.set_defaults(func=cmd_bitstream)

    sp = sub.add_parser("vivado-plan", help="Vivado build archive for the Arty A7-35 (no open 7-series flow)")
    sp.add_argument("--board", default=VIVADO_BOARDS[0], choices=VIVADO_BOARDS)
    sp.add_argument("--model", default=DEFAULT_MODEL)
    sp.add_argument("--out", default=None)
    sp.add_argument("--baud", type=int, default=115200)
    sp.set_defaults(func=cmd_vivado_plan)

    sp = sub.add_parser("prog", help="program a board through openFPGALoader")
    sp.add_argument("--board", required=True, choices=list(BOARDS))
    sp.add_argument("--bitstream", default=None)
    sp.set_defaults(func=cmd_prog)

    sp = sub.add_parser("demo", help="the whole flow on digits (what `make demo` runs)")
    sp.add_argument("--out", default="build/demo")
    sp.add_argument("-n", type=int, default=200)
    training_options(sp)
    sp.set_defaults(func=cmd_demo)

    sp = sub.add_parser("cost", help="energy, latency and area per inference, STT-RAM vs SRAM synapses "
                                     "(cost model on RTL activity; docs/cost_model.md)")
    sp.add_argument("--model", default=DEFAULT_MODEL, help="artifact (.npz)")
    sp.add_argument("--devices", help="JSON device table merged over the shipped one by key")
    sp.add_argument("--samples", type=int, default=20, help="test samples run on the RTL (default 20)")
    sp.add_argument("--build", default="build/cost", help="simulation build folder")
    sp.set_defaults(func=cmd_cost)
    return p


# Import name of a package from an optional extra (pyproject.toml) -> the extra.
_EXTRAS = {"amaranth_boards": "boards", "serial": "boards", "matplotlib": "plots"}


def main(argv=None):
    args = build_parser().parse_args(argv)
    from spinaps.sw.artifact import ArtifactError
    from spinaps.sw.datasets import DatasetError
    from spinaps.boards.client import BoardError
    from spinaps.boards.protocol import ProtocolError
    try:
        args.func(args)
    except ModuleNotFoundError as e:
        extra = _EXTRAS.get((e.name or "").split(".")[0])
        if extra is None:
            raise
        print(f"spinaps {args.command}: error: this command needs the Python package {e.name!r}, "
              f"from the optional extra {extra!r}: pip install 'spinaps[{extra}]' (or `make setup` "
              f"in a clone)", file=sys.stderr)
        return 2
    except (ArtifactError, DatasetError, ValueError, FileNotFoundError, BoardError, ProtocolError) as e:
        print(f"spinaps {args.command}: error: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:  # missing simulator, failed simulation
        print(f"spinaps {args.command}: error: {e}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
