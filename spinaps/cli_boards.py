"""The board commands of ``spinaps``: ``run``, ``bitstream``, ``vivado-plan``, ``prog``.

Like every command (spinaps.cli), each checks its options, the board and the baud rate
against the board's core clock before it elaborates, builds or opens a port.
"""

from __future__ import annotations

import sys
from pathlib import Path

from spinaps import preflight as pre
from spinaps.boards.catalog import BOARDS

__all__ = ["cmd_run", "cmd_bitstream", "cmd_vivado_plan", "cmd_prog", "board_baud", "parse_seeds"]


def cmd_run(args):
    from spinaps.cli import _data_for, _model, _threads
    from spinaps.boards.client import run_on_port
    from spinaps.flow import sample_seeds
    from spinaps.sw.golden import GoldenModel

    pre.at_least("-n", args.n, 1, "test samples to send")
    pre.baud("--baud", args.baud, None, 1, 1 << 30)
    if not args.timeout > 0:
        raise pre.OptionError(f"--timeout {args.timeout}: give a positive number of seconds")
    artifact = _model(args)
    ds = _data_for(artifact, args)
    n = min(args.n, len(ds.y_test))
    _threads(args)
    rep = run_on_port(GoldenModel.from_artifact(artifact), args.port, args.baud, ds.x_test[:n], sample_seeds(n),
                      ds.y_test[:n], timeout=args.timeout)
    print("\n".join(rep.lines()))
    if rep.mismatches:
        raise SystemExit(1)


def board_baud(b, baud, core_mhz):
    """Check ``baud`` against board ``b``'s core clock (``core_mhz`` None: its oscillator)."""
    from spinaps.boards.uart_rx import MAX_CLOCKS_PER_BIT, MIN_CLOCKS_PER_BIT
    mhz = core_mhz if core_mhz else b.platform_class()().default_clk_frequency / 1e6
    return pre.baud("--baud", baud, mhz, MIN_CLOCKS_PER_BIT, MAX_CLOCKS_PER_BIT)


def cmd_bitstream(args):
    from spinaps.cli import _model, _schedule
    from spinaps.boards.build import build, build_seeds
    b = BOARDS[pre.open_board("--board", args.board, BOARDS)]
    if args.core_mhz is not None and args.core_mhz < 0:
        raise pre.OptionError(f"--core-mhz {args.core_mhz}: give a clock in MHz, or 0 for the oscillator")
    core_mhz = "default" if args.core_mhz is None else (None if args.core_mhz == 0 else args.core_mhz)
    seeds = parse_seeds(args.seed)
    board_baud(b, args.baud, b.core_mhz if core_mhz == "default" else core_mhz)
    out = pre.out_dir("--out", args.out or f"build/{args.board}")
    schedule = _schedule(args, _model(args))    # a bad artifact or schedule fails before elaboration
    if len(seeds) == 1:
        rep = build(args.board, args.model, out, baud=args.baud, seed=seeds[0], core_mhz=core_mhz, **schedule)
    else:
        rep = build_seeds(args.board, args.model, out, seeds, baud=args.baud, core_mhz=core_mhz, **schedule)
        print("seeds: " + ", ".join(f"{t['seed']} " + (f"{t['fmax_mhz']:.1f} MHz" if t["fmax_mhz"] else "not placed")
                                    for t in rep["seeds"])
              + f"; kept seed {rep['seed']}")
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


def parse_seeds(text):
    """``--seed``: one nextpnr seed, a list (``1,2,3``) or a range (``1-4``), positive."""
    seeds = []
    for part in str(text).split(","):
        lo, _, hi = part.strip().partition("-")
        try:
            first, last = int(lo), int(hi or lo)
        except ValueError:
            raise pre.OptionError(f"--seed {text}: give a seed (1), a list (1,2,3) or a range (1-4)") from None
        if first < 1 or last < first or last - first >= 64:
            raise pre.OptionError(f"--seed {text}: seeds are 1 or more, a range low-high of at most 64")
        seeds.extend(range(first, last + 1))
    return list(dict.fromkeys(seeds))


def cmd_vivado_plan(args):
    from spinaps.cli import _model, _schedule
    from spinaps.boards.build import vivado_plan
    board_baud(BOARDS[args.board], args.baud, BOARDS[args.board].core_mhz)
    out = pre.out_file("--out", args.out or f"build/{args.board}/spinaps_{args.board}_vivado.zip")
    schedule = _schedule(args, _model(args))
    print(f"wrote {vivado_plan(args.board, args.model, out, baud=args.baud, **schedule)}")


def cmd_prog(args):
    from spinaps.boards.build import program
    b = BOARDS[args.board]
    if b.open_flow:
        how = f"build it with `spinaps bitstream --board {b.name}` (make bitstream BOARD={b.name})"
        bit = args.bitstream or f"build/{b.name}/spinaps_{b.name}.{'bin' if b.family == 'ice40' else 'bit'}"
    else:
        how = (f"the {b.name} has no open bitstream flow here: write its Vivado archive with `spinaps vivado-plan "
               f"--board {b.name}`, build it with Vivado, then give the .bit with --bitstream")
        if args.bitstream is None:
            raise pre.OptionError(f"--bitstream: needed for --board {b.name}; {how}")
        bit = args.bitstream
    pre.in_file("--bitstream", bit, how)
    print(program(args.board, bit))
