"""Many samples in RTL through one compiled model: a whole test split, or the soak.

``spinaps verify --all``, ``bench/verification.py`` and the soak test use it. The harness is
file-fed (:class:`spinaps.sim.harness.EndToEndHarness` with a capacity): it is written and
compiled once, then each batch of samples is one simulation that loads its bytes from a file,
runs every inference back to back with random valid/ready stalls on the sample and result
streams, and is compared with the golden model spike for spike before the next batch starts
(so a progress bar moves and memory stays bounded). ``batch=None`` with ``one_run=True`` puts
every sample in one simulation: the soak (nothing lost, duplicated or different over
thousands of inferences through one accelerator that is never reset).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spinaps.hdl.accelerator import Accelerator
from spinaps.sim.compare import Comparison, compare_with_golden, sample_beats
from spinaps.sim.harness import BEATS_FILE, EndToEndHarness, stall_threshold
from spinaps.sim.runner import build_model, decode_run, e2e_env, run_model
from spinaps.toolchain import atomic_write_text

__all__ = ["SplitRun", "run_split", "run_soak", "batch_size", "PROBE_BUDGET"]

#: Probe capture entries per layer a batch may need at most (bounds a run's memory and its
#: read-out time; the read-out walks the captures one address at a time).
PROBE_BUDGET = 1 << 20
#: A split is cut into about this many batches, so that a progress bar moves...
BATCHES = 10
#: ... of at least this many samples: each simulation costs seconds to start and read out.
MIN_BATCH = 250


@dataclass
class SplitRun:
    """What a split run found; the fields of bench/results/verification.json."""
    samples: int
    simulator: str
    stall: float
    comparison: Comparison
    classes: list = field(default_factory=list)     # the RTL's class per sample, in order
    cycles: list = field(default_factory=list)      # the RTL's cycles per inference, in order
    cycles_simulated: int = 0
    sim_wall_s: float = 0.0      # the simulator running (no compile, no read-out, no comparison)
    compile_s: float = 0.0       # Verilog generation + compile (0-ish with a cached model)
    cached: bool = False
    wall_s: float = 0.0          # everything, compile included
    batches: int = 0

    @property
    def mismatches(self):
        return len(self.comparison.mismatched_samples)

    @property
    def cycles_per_second(self):
        return self.cycles_simulated / self.sim_wall_s if self.sim_wall_s > 0 else float("nan")


def batch_size(model, n, *, one_run=False):
    """Samples per simulation: all of them for ``one_run``, else ``n / BATCHES`` (rounded up)
    but at least :data:`MIN_BATCH`, and no more than :data:`PROBE_BUDGET` allows."""
    if one_run:
        return n
    per_sample = model.t_max * max(-(-lp.n_out // lp.lanes) for lp in model.layers)
    cap = max(1, PROBE_BUDGET // per_sample)
    return max(1, min(n, cap, max(MIN_BATCH, -(-n // BATCHES))))


def _hex(beats):
    return "\n".join(f"{b:02x}" for b in beats) + "\n"


def run_split(model, xs, seeds, *, build_dir, simulator="verilator", stall=0.2, memory="sram",
              memory_options=None, batch=None, one_run=False, progress=None, stall_seed=0x2545F491):
    """Run every sample ``xs[i]`` with seed ``seeds[i]`` on the RTL of golden model ``model``
    and compare each with the golden model; returns a :class:`SplitRun`.

    ``stall``: probability per cycle of a valid stall on ``sample`` and of a ready stall on
    ``result`` (0: none). ``batch``: samples per simulation (None: :func:`batch_size`);
    ``one_run``: all samples in one simulation. ``progress(done, total, run)``: called after
    each batch with the samples done so far and the partial :class:`SplitRun`.
    """
    t_start = time.perf_counter()
    xs, seeds = np.asarray(xs), np.asarray(seeds)
    n = len(seeds)
    if n < 1 or len(xs) != n:
        raise ValueError(f"run_split needs as many samples as seeds, at least one ({len(xs)}, {n})")
    if not 0.0 <= stall < 1.0:
        raise ValueError(f"stall = {stall}: give a probability in 0 <= p < 1")
    batch = batch or batch_size(model, n, one_run=one_run)
    per_sample = len(sample_beats(xs[:1], seeds[:1]))
    acc = Accelerator(model, memory=memory, memory_options=memory_options)
    harness = EndToEndHarness(acc, batch * per_sample, batch, stall_seed=stall_seed)
    build_dir = Path(build_dir).resolve()
    compiled = build_model(harness, "e2e_split", build_dir=build_dir, sim=simulator)
    prob = 1.0 - stall
    out = SplitRun(samples=0, simulator=compiled.runner.name, stall=stall, comparison=Comparison(0),
                   compile_s=compiled.build_s, cached=compiled.cached)
    for start in range(0, n, batch):
        stop = min(n, start + batch)
        bx, bs = xs[start:stop], seeds[start:stop]
        beats = sample_beats(bx, bs)
        atomic_write_text(build_dir / BEATS_FILE, _hex(beats))
        drive = {"run_samples": stop - start, "run_beats": len(beats),
                 "valid_thr": stall_threshold(prob), "ready_thr": stall_threshold(prob)}
        raw = run_model(compiled, test_module="spinaps.sim.cocotb_e2e", out_file=build_dir / "e2e_out.json",
                        env=e2e_env(acc, model, len(beats), stop - start, prob, prob, drive))
        run = decode_run(acc, raw, compiled.build_s, compiled.runner.name, compiled.cached)
        if run.probe_overflow:
            raise RuntimeError(f"the probe capture overflowed in samples {start}..{stop - 1}: a harness defect")
        cmp = compare_with_golden(model, bx, bs, run.results, run.probes)
        out.comparison.mismatches += [(s + start if s >= 0 else s, what, r, g) for s, what, r, g in cmp.mismatches]
        out.samples = stop
        out.comparison.n_samples = stop
        out.classes += [r["cls"] for r in run.results]
        out.cycles += [r["cycles"] for r in run.results]
        out.cycles_simulated += run.sim_cycles
        out.sim_wall_s += run.sim_wall_s
        out.batches += 1
        out.wall_s = time.perf_counter() - t_start
        if progress:
            progress(stop, n, out)
    return out


def run_soak(model, x_test, n, *, build_dir, simulator="verilator", stall=0.2, memory="sram", progress=None):
    """The soak: ``n`` inferences back to back through one simulated accelerator (one
    simulation, never reset), test samples taken in turn (``x_test[i % len(x_test)]``) with
    seed ``i`` (:func:`spinaps.contract.sample_seeds`), so no two inferences are the same.
    Every result is compared, in order, with the golden model: a lost, duplicated or
    different result is a mismatch. Returns the :class:`SplitRun`."""
    from spinaps.contract import sample_seeds

    x_test = np.asarray(x_test)
    xs = x_test[np.arange(n) % len(x_test)]
    return run_split(model, xs, sample_seeds(n), build_dir=build_dir, simulator=simulator, stall=stall,
                     memory=memory, one_run=True, progress=progress)
