"""Compare what the RTL returned with the golden model: every spike, class, step, counter.

Shared by the Amaranth-simulator tests, the cocotb end-to-end test and ``spinaps verify``.
"""

from dataclasses import dataclass, field

import numpy as np

__all__ = ["sample_beats", "spike_rasters", "compare_with_golden", "Comparison"]


def sample_beats(xs, seeds):
    """Bytes of the accelerator's ``sample`` stream: seed low, seed high, intensities."""
    beats = []
    for x, s in zip(xs, seeds):
        s = int(s)
        beats += [s & 0xFF, s >> 8] + [int(v) for v in x]
    return beats


def spike_rasters(probes, n_samples, t_max, n_out, lanes):
    """Probe beats (dicts: sample, step, word, spikes) to bool rasters ``[B, T, N_out]``."""
    out = np.zeros((n_samples, t_max, n_out), dtype=bool)
    seen = np.zeros((n_samples, t_max, -(-n_out // lanes)), dtype=int)
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


def compare_with_golden(model, xs, seeds, results, probes):
    """Check results (dicts from ``unpack(result_layout)``) and probe beats sample by sample."""
    gold = model.run(np.asarray(xs), np.asarray(seeds))
    n = len(seeds)
    cmp = Comparison(n)
    if len(results) != n:
        cmp.mismatches.append((-1, "number of results", len(results), n))
        return cmp
    lp = model.layer
    raster, seen = spike_rasters(probes, n, model.t_max, lp.n_out, lp.lanes)
    for i, r in enumerate(results):
        step = int(gold.step[i])
        for what, rv, gv in [("class", r["cls"], int(gold.cls[i])), ("step", r["step"], step),
                             ("decided", r["decided"], int(gold.decided[i])),
                             ("events", r["events"], int(gold.events[i, -1])), ("sops", r["sops"], int(gold.sops[i, -1]))]:
            if rv != gv:
                cmp.mismatches.append((i, what, rv, gv))
        expect_seen = np.zeros_like(seen[i])
        expect_seen[:step] = 1
        if not np.array_equal(seen[i], expect_seen):
            cmp.mismatches.append((i, "neuron words observed per step", seen[i].tolist(), expect_seen.tolist()))
        for t in range(step):
            if not np.array_equal(raster[i, t], gold.spikes[i, t]):
                cmp.mismatches.append((i, f"output spikes at step {t + 1}",
                                       np.flatnonzero(raster[i, t]).tolist(), np.flatnonzero(gold.spikes[i, t]).tolist()))
    return cmp
