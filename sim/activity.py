"""The cost model's input from the RTL: the mean activity of one inference (per layer events and
synaptic operations, decision step, cycles), taken from the accelerator's result counters and
checked, sample by sample, against the golden model's."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Activity", "CounterMismatch", "activity_from_rtl"]


@dataclass(frozen=True)
class Activity:
    """Mean activity of one inference: per-layer events and synaptic operations, decision step, cycles."""

    events: tuple
    sops: tuple
    steps: float
    cycles: float
    samples: int = 1

    @property
    def total_sops(self):
        return float(sum(self.sops))


class CounterMismatch(RuntimeError):
    """The RTL's counters differ from the golden model's: the cost inputs cannot be trusted."""


def activity_from_rtl(results, golden=None):
    """Mean activity over RTL results (dicts with step, cycles, events[L], sops[L]).

    With ``golden`` (a ``GoldenResult`` of the same samples, in order), every sample's events
    and synaptic operations must equal the golden model's, else :class:`CounterMismatch`.
    """
    if not results:
        raise ValueError("no RTL results: run at least one sample")
    events = np.array([list(r["events"]) for r in results], dtype=float)
    sops = np.array([list(r["sops"]) for r in results], dtype=float)
    steps = np.array([r["step"] for r in results], dtype=float)
    cycles = np.array([r["cycles"] for r in results], dtype=float)
    if golden is not None:
        n = len(results)
        for what, rtl, gold in (("events", events, golden.events[:n]), ("sops", sops, golden.sops[:n]),
                                ("decision step", steps, golden.step[:n])):
            gold = np.asarray(gold, dtype=float)
            if rtl.shape != gold.shape or not np.array_equal(rtl, gold):
                bad = int(np.flatnonzero((rtl != gold).reshape(n, -1).any(axis=1))[0]) if rtl.shape == gold.shape else -1
                raise CounterMismatch(f"RTL {what} differ from the golden model's (first at sample {bad})")
    return Activity(events=tuple(events.mean(axis=0)), sops=tuple(sops.mean(axis=0)), steps=float(steps.mean()),
                    cycles=float(cycles.mean()), samples=len(results))
