"""Compare what the RTL returned with the golden model: every spike, class, step, counter.

Shared by the Amaranth-simulator tests, the cocotb end-to-end test and ``spinaps verify``.
"""

from dataclasses import dataclass, field

import numpy as np

from spinaps.contract import window_of_step, words

__all__ = ["sample_beats", "spike_rasters", "compare_with_golden", "Comparison"]


def sample_beats(xs, seeds):
    """Bytes of the accelerator's ``sample`` stream: seed low, seed high, then the
    intensities frame after frame (a sample may be ``[frames * n_in]`` or ``[frames, n_in]``)."""
    beats = []
    for x, s in zip(xs, seeds):
        s = int(s)
        beats += [s & 0xFF, s >> 8] + [int(v) for v in np.asarray(x).ravel()]
    return beats


def spike_rasters(probes, n_samples, t_max, n_out, lanes):
    """Probe beats (dicts: sample, step, word, spikes) to bool rasters ``[B, T, N_out]``."""
    out = np.zeros((n_samples, t_max, n_out), dtype=bool)
    seen = np.zeros((n_samples, t_max, words(n_out, lanes)), dtype=int)
    for p in probes:
        s, t, q = p["sample"], p["step"] - 1, p["word"]
        seen[s, t, q] += 1
        for lane in range(lanes):
            j = q * lanes + lane
            if j < n_out and (p["spikes"] >> lane) & 1:
                out[s, t, j] = True
    return out, seen


@dataclass
class Comparison:
    n_samples: int
    mismatches: list = field(default_factory=list)   # (sample, what, rtl, golden)

    @property
    def mismatched_samples(self):
        return sorted({m[0] for m in self.mismatches})

    def describe(self, limit=10):
        lines = [f"{len(self.mismatched_samples)} of {self.n_samples} samples differ from the golden model"]
        lines += [f"  sample {s}: {what}: rtl={r} golden={g}" for s, what, r, g in self.mismatches[:limit]]
        return "\n".join(lines)


def compare_with_golden(model, xs, seeds, results, probes, windows=1):
    """Check results (dicts from ``unpack(result_layout)``) and every layer's probe beats.

    ``probes`` holds one list of beats per layer. Every spike of every layer at every step up
    to the decision step must equal the golden model's, and each of those steps must have
    been updated exactly once per neuron word. Steps after the decision step are where the
    output layer must be silent (early exit) past the end of the decision step's window (the
    output layer's ``windows`` entry; 1: past the step); within it, each may have been updated
    at most once. A hidden layer may already have computed later steps (speculative work,
    discarded and not counted), so its beats there are ignored. The ``reads`` counters must
    equal :func:`~spinaps.sim.expect.expected_reads` for ``windows`` (an int, or one per layer).
    """
    from spinaps.sim.expect import expected_reads

    gold = model.run(np.asarray(xs), np.asarray(seeds))
    n = len(seeds)
    cmp = Comparison(n)
    if len(results) != n:
        cmp.mismatches.append((-1, "number of results", len(results), n))
        return cmp
    n_layers = len(model.layers)
    if len(probes) != n_layers:
        cmp.mismatches.append((-1, "probe streams (layers)", len(probes), n_layers))
        return cmp
    reads = expected_reads(model, xs, seeds, windows, steps=gold.step)
    out_window = windows[-1] if isinstance(windows, (list, tuple)) else windows
    rasters = [spike_rasters(probes[index], n, model.t_max, lp.n_out, lp.lanes)
               for index, lp in enumerate(model.layers)]
    for i, r in enumerate(results):
        step = int(gold.step[i])
        checks = [("class", r["cls"], int(gold.cls[i])), ("step", r["step"], step),
                  ("decided", r["decided"], int(gold.decided[i])),
                  ("events per layer", list(r["events"]), gold.events[i].tolist()),
                  ("sops per layer", list(r["sops"]), gold.sops[i].tolist()),
                  ("reads per layer", list(r["reads"]), reads[i].tolist())]
        for what, rv, gv in checks:
            if rv != gv:
                cmp.mismatches.append((i, what, rv, gv))
        for index, (raster, seen) in enumerate(rasters):
            last = index == n_layers - 1
            observed = seen[i] if last else seen[i, :step]
            expect_seen = np.zeros_like(observed)
            expect_seen[:step] = 1
            if last:
                # The rest of the decision step's window may have been updated (speculative).
                end = min(model.t_max, (int(window_of_step(step, out_window)) + 1) * out_window)
                observed = observed.copy()
                observed[step:end] = np.where(observed[step:end] <= 1, 0, observed[step:end])
            if not np.array_equal(observed, expect_seen):
                cmp.mismatches.append((i, f"layer {index} neuron words observed per step", observed.tolist(),
                                       expect_seen.tolist()))
            golden_spikes = gold.layer_spikes[index]
            for t in range(step):
                if not np.array_equal(raster[i, t], golden_spikes[i, t]):
                    cmp.mismatches.append((i, f"layer {index} spikes at step {t + 1}",
                                           np.flatnonzero(raster[i, t]).tolist(),
                                           np.flatnonzero(golden_spikes[i, t]).tolist()))
    return cmp
