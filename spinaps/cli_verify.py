"""``spinaps verify --all``: the whole test split in RTL against the golden model.

Every option, the model, the data and the simulator are checked before the (long) run
starts. One compiled model runs the split in batches with random valid/ready stalls; a
progress bar follows the batches; the summary gives samples, mismatches (the first one in
detail), cycles simulated, cycles/s, compile and wall seconds. Exit 1 on any mismatch.
"""

from __future__ import annotations

import sys

from spinaps import preflight as pre

__all__ = ["cmd_verify_all", "summary_lines"]

#: The simulator of a long run unless --simulator names another (docs/verification.md).
ALL_SIMULATOR = "verilator"


def cmd_verify_all(args):
    from tqdm import tqdm

    from spinaps.cli import _data_for, _model, _threads
    from spinaps.flow import rtl_check_all
    from spinaps.toolchain import SIMULATORS, simulator

    for option, value in (("-n", args.n), ("--sample", args.sample), ("--waves", args.waves)):
        if value is not None:
            raise pre.OptionError(f"{option} {value}: --all runs the whole test split; drop {option} (or drop --all "
                                  f"to run -n samples from --sample)")
    if not 0.0 <= args.stall < 1.0:
        raise pre.OptionError(f"--stall {args.stall}: give a probability in 0 <= p < 1 (0: no stalls)")
    pre.out_dir("--build-dir", args.build_dir)
    sim = args.simulator or ALL_SIMULATOR
    simulator(sim)                   # installed before the model is even loaded
    artifact = _model(args)
    ds = _data_for(artifact, args)
    _threads(args)
    title = SIMULATORS[sim]["title"]
    print(f"{ds.n_test} test samples of {ds.name} on {title} ({args.memory}), stall probability {args.stall:g}; "
          f"compiling the model first (once per design: build/sim_cache)")
    bar = tqdm(total=ds.n_test, desc="verify --all", unit="sample", file=sys.stderr, dynamic_ncols=True)

    def progress(done, total, run):
        bar.update(done - bar.n)
        bar.set_postfix_str(f"{run.mismatches} mismatched, {run.cycles_per_second:,.0f} cycles/s")

    try:
        run, labels = rtl_check_all(artifact, build_dir=args.build_dir, memory=args.memory, stall=args.stall,
                                    dataset=ds, simulator=sim, progress=progress)
    finally:
        bar.close()
    print("\n".join(summary_lines(run, labels)))
    if run.mismatches:
        raise SystemExit(1)


def summary_lines(run, labels):
    """The summary of a :class:`spinaps.sim.split_runner.SplitRun` (``labels``: the true classes)."""
    import numpy as np

    from spinaps.toolchain import SIMULATORS

    cls = np.asarray(run.classes)
    compiled = "model reused from the cache" if run.cached else "compiled"
    lines = [f"samples: {run.samples} (the whole test split) on {SIMULATORS[run.simulator]['title']}, "
             f"stall {run.stall:g}, {run.batches} batches",
             f"mismatches: {run.mismatches} samples differ from the golden model"]
    if run.comparison.mismatches:
        s, what, r, g = run.comparison.mismatches[0]
        lines.append(f"  first: sample {s}: {what}: rtl={r} golden={g}")
    lines += [f"RTL accuracy: {np.mean(cls == np.asarray(labels)[:len(cls)]):.4f}; "
              f"{np.mean(run.cycles):,.0f} cycles per inference on average (max {max(run.cycles):,})",
              f"cycles simulated: {run.cycles_simulated:,} at {run.cycles_per_second:,.0f} cycles/s",
              f"compile: {run.compile_s:.1f} s ({compiled}); wall: {run.wall_s:.1f} s"]
    return lines
