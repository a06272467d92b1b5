"""The cost model's input from the RTL: the mean activity of one inference (per layer events and
synaptic operations, decision step, cycles), taken from the accelerator's result counters and
checked, sample by sample, against the golden model's; and what bounds it: the lane
utilization a layer can reach with that activity (docs/architecture.md, "Cycles and lane
utilization")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Activity", "CounterMismatch", "activity_from_rtl", "UPDATE_LATENCY", "SEQUENCER_STAGES", "update_tail",
           "lane_utilization_bound"]

#: Cycles from a layer's update start (the end-of-step marker leaving the read pipeline) to
#: its first neuron word: the update pipelines of hdl/glm_layer.py (5 register stages, then
#: the draw compare) and hdl/lif_layer.py (3 register stages), measured in the Amaranth
#: simulator.
UPDATE_LATENCY = {"glm": 6, "lif": 4}
#: Pipeline registers of a layer's sequencer besides the memory's read latency and one product
#: stage: the read address and the product's second stage (hdl/synapse_layer.py).
SEQUENCER_STAGES = 2


@dataclass(frozen=True)
class Activity:
    """Mean activity of one inference: per-layer events and synaptic operations, decision step, cycles."""

    events: tuple
    sops: tuple
    steps: float
    cycles: float
    samples: int = 1
    # Window schedules (docs/semantics.md 8.1, spinaps.sim.schedule); None = the time-sequential
    # engine's values, derived from the above, so a W = 1 cost is unchanged by these fields.
    reads: tuple = None            # per layer: synapse word reads (section 7); None: sops / n_out x Qn
    discarded_reads: tuple = None  # per layer: speculative reads after the decision; None: 0
    discarded_sops: tuple = None   # per layer: speculative synaptic operations; None: 0
    update_steps: tuple = None     # per layer: steps the neuron update ran (whole windows); None: steps

    @property
    def total_sops(self):
        return float(sum(self.sops))

    def layer_reads(self, layers):
        """Word reads per layer: :attr:`reads`, or ``sops / n_out x Qn`` (one row of ``Qn`` words
        per event and non-zero trace, the time-sequential engine's count)."""
        if self.reads is not None:
            return [float(r) for r in self.reads]
        return [s / layer.n_out * layer.words for s, layer in zip(self.sops, layers)]

    def layer_update_steps(self, n_layers):
        """Steps each layer's neuron update ran: :attr:`update_steps`, or :attr:`steps`."""
        return [float(s) for s in self.update_steps] if self.update_steps is not None else [self.steps] * n_layers

    def discarded(self, n_layers):
        """``(reads, sops)`` per layer done for steps after the decision (zeros when not given)."""
        zero = [0.0] * n_layers
        return ([float(r) for r in self.discarded_reads] if self.discarded_reads is not None else zero,
                [float(s) for s in self.discarded_sops] if self.discarded_sops is not None else zero)


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
    # The window engine's reads counter (section 7), when the RTL reports it; its discarded_*
    # counters depend on timing and are reported, not costed here.
    reads = (tuple(np.array([list(r["reads"]) for r in results], dtype=float).mean(axis=0))
             if all("reads" in r for r in results) else None)
    return Activity(events=tuple(events.mean(axis=0)), sops=tuple(sops.mean(axis=0)), steps=float(steps.mean()),
                    cycles=float(cycles.mean()), samples=len(results), reads=reads)


def update_tail(layer, read_latency=1):
    """Cycles from a layer's end-of-step marker (in its sequencer) to the step's last neuron
    word: ``SEQUENCER_STAGES + read_latency + 2`` until the marker leaves the address, read,
    product (two) and accumulate stages and the update starts, then :data:`UPDATE_LATENCY` to the
    first word and one cycle per further word:
    ``SEQUENCER_STAGES + read_latency + 1 + UPDATE_LATENCY + Qn``."""
    return SEQUENCER_STAGES + read_latency + 1 + UPDATE_LATENCY[layer.kind] + layer.words


def lane_utilization_bound(config, activity, read_latency=1):
    """Measured-activity bound on lane utilization (docs/architecture.md), per layer and network.

    Layer ``l`` needs at least ``need_l = R_l + steps (1 + idle_l) + update_tail_l`` cycles:
    one per word read (``R_l = sops_l / n_out_l x Qn_l``), one per step for its end-of-step
    marker, for the first layer ``idle = max(0, Q - E)`` cycles per step in which the encoder
    has no event (``Q`` groups, ``E`` events per step), and once, at the decision step, the
    update tail :func:`update_tail` ``= read_latency + 1 + U + Qn`` (``U`` = 6 GLM, 4 LIF).
    A layer's bound is ``sops_l / (P_l need_l)``; the network's is
    ``sum sops / (sum P x max_l need_l)``. ``config`` is a :class:`spinaps.sim.cost.Config`
    (its ``groups`` and its layers' ``kind``, ``n_out``, ``lanes`` and ``words``).
    """
    per_layer, cycles_needed = [], []
    for index, (layer, sops, events) in enumerate(zip(config.layers, activity.sops, activity.events)):
        reads = sops / layer.n_out * layer.words
        idle = max(0.0, config.groups - events / activity.steps) if index == 0 else 0.0
        need = reads + activity.steps * (1 + idle) + update_tail(layer, read_latency)
        cycles_needed.append(need)
        per_layer.append(sops / (layer.lanes * need) if need else 0.0)
    lanes = sum(layer.lanes for layer in config.layers)
    network = activity.total_sops / (lanes * max(cycles_needed))
    measured = activity.total_sops / (lanes * activity.cycles)
    return {"bound_per_layer": per_layer, "bound": network, "measured": measured}
