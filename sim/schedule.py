"""Window schedules from the golden model's activity (SpikeX, docs/semantics.md 8.1): what a
per-layer ``(W, A)`` schedule costs, computed without running the RTL.

A schedule changes no value, so one golden run of a model on samples (:func:`trace_of`, the
rows ``c_ik(t) != 0`` of every layer in every step of the whole run) is enough to re-cost any
schedule (:func:`schedule_cost`):

* ``reads`` per layer, exactly as docs/semantics.md section 7 defines them
  (:func:`spinaps.contract.window_reads` over the windows up to the decision step's);
* active ``(input, window)`` pairs, reads per synaptic operation;
* the discarded work: the rest of the decision step's window (every layer runs whole
  windows) and the later windows a layer had already started when the decision came
  (from the cycle model's timeline);
* a cycle estimate (:func:`timeline`), modelled on the engine's structure (hdl/synapse_layer.py):
  one row word issued per cycle, held one cycle per group of ``A`` consecutive steps of its
  window that holds a non-zero trace; one cycle per end-of-window marker; the encoder's ``Q`` groups per step; the neuron
  update ``Qn`` words per step after the update latency; ``2W`` banks, so a window's sums
  wait for the update of the window two before; layers pipelined by window (a consumer's
  window starts once its producer has updated every step of it);
* with a cost configuration and device table: energy, latency, area and EDP
  (:func:`spinaps.sim.cost.estimate`).

The search (issue 16) re-costs schedule-only parameters with :func:`schedule_cost`; the
window benchmark (bench/window.py) calibrates the cycles against the RTL.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spinaps import contract
from spinaps.sim.activity import SEQUENCER_STAGES, UPDATE_LATENCY, Activity

__all__ = ["LayerTrace", "ScheduleTrace", "trace_of", "schedule_of", "timeline", "schedule_cost",
           "DECISION_LATENCY"]

#: Cycles from the output layer's last word of the decision step to the decision register
#: (decision unit stages); a constant, calibrated away by the RTL's W = 1 cycles.
DECISION_LATENCY = 2


@dataclass(frozen=True)
class LayerTrace:
    """One layer's activity over the whole run (not cut at the decision)."""

    kind: str
    n_in: int
    n_out: int
    lanes: int
    basis: int
    nonzero: np.ndarray      # bool [B, T, n_in * K]: row i*K + k non-zero (c_ik(t) != 0) in step t

    @property
    def words(self):
        """``Qn``: words per synapse row."""
        return contract.words(self.n_out, self.lanes)


@dataclass(frozen=True)
class ScheduleTrace:
    """The golden activity of one model on samples: what any schedule is costed from."""

    t_max: int
    decision: str
    groups: int              # Q: encoder groups per step
    step: np.ndarray         # int [B]: 1-based decision step
    layers: tuple            # LayerTrace per layer, input side first
    encoder_type: str = contract.ENCODER_TYPES[0]
    encoder_lanes: int = 1
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def samples(self):
        return len(self.step)

    def first(self, n):
        """The trace of the first ``n`` samples (e.g. those the RTL ran)."""
        return ScheduleTrace(t_max=self.t_max, decision=self.decision, groups=self.groups, step=self.step[:n],
                             encoder_type=self.encoder_type, encoder_lanes=self.encoder_lanes,
                             layers=tuple(LayerTrace(kind=lt.kind, n_in=lt.n_in, n_out=lt.n_out, lanes=lt.lanes,
                                                     basis=lt.basis, nonzero=lt.nonzero[:n])
                                          for lt in self.layers))

    def window_counts(self, layer, window, adders=1):
        """``uint8 [B, n_windows, rows]``: per window and row, the groups of ``adders``
        consecutive steps of the window (``ceil(W / A)`` of them) holding a non-zero trace; with
        ``adders = 1`` the steps of the window in which the row is non-zero."""
        key = (layer, window, adders)
        if key not in self._cache:
            nz = self.layers[layer].nonzero
            b, t, r = nz.shape
            n, chunks = contract.ceil_div(t, window), contract.ceil_div(window, adders)
            pad = np.zeros((b, n * chunks * adders - t, r), dtype=bool)
            grouped = np.concatenate([nz, pad], axis=1).reshape(b, n, chunks, adders, r).any(axis=3)
            self._cache[key] = grouped.sum(axis=2, dtype=np.uint8)
        return self._cache[key]

    def active_inputs(self, layer, window):
        """``int [B, n_windows]``: inputs with any non-zero row in the window (active
        ``(input, window)`` pairs; for a LIF layer the rows are the inputs)."""
        lt = self.layers[layer]
        k = self.window_counts(layer, window)
        return (k.reshape(k.shape[0], k.shape[1], lt.n_in, lt.basis) > 0).any(axis=3).sum(axis=2)


def trace_of(model, intensity, seeds):
    """The :class:`ScheduleTrace` of a :class:`~spinaps.sw.golden.GoldenModel` on samples.

    The decision steps are the golden model's own (``model.run``); the rows' activity over
    the whole run (every layer runs whole windows, so the steps after the decision inside its
    window count) is :func:`spinaps.sim.expect.layer_nonzero`, checked here to give the golden
    model's synaptic operations up to the decision.
    """
    from spinaps.sim.expect import layer_nonzero

    intensity = np.asarray(intensity).reshape(len(seeds), -1)
    result = model.run(intensity, seeds)
    live = np.arange(1, model.t_max + 1)[None, :] <= result.step[:, None]
    layers = []
    for index, (lp, nonzero) in enumerate(zip(model.layers, layer_nonzero(model, intensity, seeds), strict=True)):
        sops = nonzero.sum(axis=(2, 3)) * lp.n_out
        if not np.array_equal((sops * live).sum(axis=1), result.sops[:, index]):
            raise RuntimeError(f"layer {index}: the replayed synaptic operations differ from the golden model's")
        b, t, n_in, basis = nonzero.shape
        layers.append(LayerTrace(kind=lp.kind, n_in=n_in, n_out=lp.n_out, lanes=lp.lanes, basis=basis,
                                 nonzero=nonzero.reshape(b, t, -1)))
    return ScheduleTrace(t_max=model.t_max, decision=model.decision,
                         groups=contract.groups(model.n_in, model.encoder_lanes),
                         encoder_type=model.encoder_type, encoder_lanes=int(model.encoder_lanes),
                         step=np.asarray(result.step, dtype=np.int64), layers=tuple(layers))


def schedule_of(n_layers, window=1, adders=1):
    """``((W, A), ...)`` per layer from an int (every layer) or a per-layer sequence each, as
    the accelerator takes them (:func:`spinaps.hdl.accelerator.schedule_of`, which checks
    them); ``adders="full"`` (or a per-layer ``"full"``) means ``A = W``."""
    from spinaps.hdl.accelerator import schedule_of as checked

    windows = window if isinstance(window, (list, tuple)) else [window] * n_layers
    if adders == "full":
        adders = list(windows)
    elif isinstance(adders, (list, tuple)) and len(adders) == len(windows):
        adders = [w if a == "full" else a for w, a in zip(windows, adders)]
    return tuple(tuple(s) for s in checked(window, adders, n_layers))


def timeline(trace, schedule, read_latency=1):
    """The cycle model of a schedule, per sample: ``(cycles [B], starts)``, ``starts[l]`` the
    cycle each window of layer ``l`` starts its sums ``[B, n_windows]``.

    Layer ``l``'s window ``w`` (steps ``t0+1 .. t1``) takes ``work = Qn sum_rows g`` cycles of
    word issue (``g``: the row's groups of ``A`` consecutive steps holding a non-zero trace)
    plus one end-of-window marker. It starts when the layer finished the window before, when
    a bank is free (the update of window ``w - 2`` is done) and, for a later layer, when the
    producer has updated step ``t1`` (spike events are emitted after a step's last word); for
    layer 0 the encoder makes ``Q`` groups per step (at ``W = 1`` the events stream while the
    groups are made: ``max(work, Q)``; with ``W > 1`` the encoder gives the window events a
    group per cycle, ``Q`` cycles per step, and the tags need the whole window first, the
    encoder working one window ahead). The marker is taken only when the link to the next
    layer has handed on the window before (its events taken by the consumer) and, for a
    decision rule that may stop early (``contract.EARLY_EXIT_DECISIONS``), when the
    accelerator's flow control allows it (hdl/accelerator.py): the decision unit has received
    step ``w`` (time-sequential engine: no layer ends step ``s + 2`` before the decision unit
    has step ``s``), or, with windows, every step before the block of ``max W`` (from the
    layer to the output) that holds the window's first step. The update starts
    ``SEQUENCER_STAGES + read_latency + 1 + U`` cycles after the marker (after the window before is updated) and
    gives one word per cycle, ``Qn`` per step in order, a window's next step right behind the
    one before (a step every ``Qn`` cycles, LIF ``max(2, Qn)``: its state is forwarded),
    except a step that closes a window of the link to the next layer (every step into a step
    link, a ``W = 1`` consumer): it starts once the one before has left the update pipeline
    (``U`` cycles after its last word) and the link has handed on the window before; the
    marker of a window whose first step closes one waits for the same.
    The decision is ``DECISION_LATENCY`` cycles after the output layer's last word of
    the decision step.
    """
    b, t_max = trace.samples, trace.t_max
    n_layers = len(trace.layers)
    windows = [w for w, _ in schedule]
    sequential = all(w == 1 for w in windows)
    early_exit = trace.decision in contract.EARLY_EXIT_DECISIONS
    block = [max(windows[l:]) for l in range(n_layers)]
    work = [lt.words * trace.window_counts(l, w, a).sum(axis=2, dtype=np.int64)
            for l, (lt, (w, a)) in enumerate(zip(trace.layers, schedule))]
    n_win = [x.shape[1] for x in work]
    done = [np.zeros((b, t_max), dtype=np.int64) for _ in range(n_layers)]
    starts = [np.zeros((b, n), dtype=np.int64) for n in n_win]
    acc_ends = [np.zeros((b, n), dtype=np.int64) for n in n_win]
    upd_ends = [np.zeros((b, n), dtype=np.int64) for n in n_win]
    enc_end = np.zeros(b, dtype=np.int64)
    # With a window on layer 0 the encoder gives the window events a word per cycle (one or
    # two groups, contract.encoder_groups_per_word): ceil(Q / that) cycles per step, whatever
    # its spikes.
    per_word = contract.encoder_groups_per_word(trace.encoder_type, trace.layers[0].n_in, trace.encoder_lanes,
                                                windows[0])
    enc_steps = np.full((b, t_max), contract.ceil_div(trace.groups, per_word), dtype=np.int64)
    zero = np.zeros(b, dtype=np.int64)
    nxt = [0] * n_layers

    def steps_done(l):
        return min(nxt[l] * windows[l], t_max)

    progress = True
    while progress:
        progress = False
        for l, lt in enumerate(trace.layers):
            v, w = nxt[l], windows[l]
            if v >= n_win[l]:
                continue
            t0, t1 = v * w, min((v + 1) * w, t_max)
            if l and steps_done(l - 1) < t1:
                continue
            need = v if sequential else (t0 // block[l]) * block[l]      # steps the decision unit must have
            if not early_exit:
                need = 0
            if need and steps_done(n_layers - 1) < need:
                continue
            gate = done[-1][:, need - 1] + 1 + DECISION_LATENCY if need else zero
            link = zero
            if l < n_layers - 1 and t0:
                wc = windows[l + 1]
                c = (t0 - 1) // wc
                if (c + 1) * wc <= t0:                                   # the consumer's window before
                    if nxt[l + 1] <= c:
                        continue
                    link = acc_ends[l + 1][:, c]
            start = np.maximum(acc_ends[l][:, v - 1] if v else zero, upd_ends[l][:, v - 2] if v >= 2 else zero)
            if l == 0 and w == 1:
                end = start + np.maximum(work[l][:, v], trace.groups)
            elif l == 0:
                enc_end = np.maximum(enc_end, starts[l][:, v - 1] if v else zero) + enc_steps[:, t0:t1].sum(axis=1)
                end = np.maximum(start, enc_end) + work[l][:, v]
            else:
                start = np.maximum(start, done[l - 1][:, t1 - 1] + 1)
                end = start + work[l][:, v]
            # A step that closes a window of the link to the next layer (every step of a step
            # link) waits for the window before to be handed on: its marker when it is the
            # window's first step (hdl/window_events.py's busy on the layer's hold).
            wc = windows[l + 1] if l < n_layers - 1 else None

            def closing(s):
                return wc is not None and (wc == 1 or s % wc == 0 or s == t_max)

            end = np.maximum(np.maximum(end, gate), link if closing(t0 + 1) else zero) + 1
            starts[l][:, v], acc_ends[l][:, v] = start, end
            u = UPDATE_LATENCY[lt.kind]
            first = np.maximum(end + SEQUENCER_STAGES + read_latency + 1 + u, upd_ends[l][:, v - 1] if v else zero)
            # A window's next step starts once this one's last word has left the update
            # pipeline (hdl/synapse_layer.py): a step every Qn + U cycles; into a window link
            # the last step of the window starts once the window before is handed on; into a
            # step link (a W = 1 consumer) a step starts once the consumer took the step before.
            f = first
            # A window's next step enters the update right behind the one before (a step
            # every Qn cycles; LIF max(2, Qn)), except a step closing a window of the link:
            # it waits until the one before has left the pipeline and the link has handed on
            # the window before (when the consumer took its marker; for a consumer window
            # not modelled yet, from this layer's times: its last word, then one event per
            # cycle of the consumer's work, then the marker).
            spacing = max(2, lt.words) if lt.kind == "lif" else lt.words
            for j in range(t1 - t0):
                s = t0 + j + 1
                if j and closing(s):
                    f = done[l][:, t0 + j - 1] + 1 + u
                    c = (s - 1) // wc - 1                                  # the window before
                    if c >= 0:
                        if c < nxt[l + 1]:
                            handed = acc_ends[l + 1][:, c]
                        else:
                            handed = done[l][:, min((c + 1) * wc, t_max) - 1] + 2 + work[l + 1][:, c] + 1
                        f = np.maximum(f, handed + u)
                elif j:
                    f = f + spacing
                done[l][:, t0 + j] = f + lt.words - 1
            upd_ends[l][:, v] = done[l][:, t1 - 1] + 1
            nxt[l] += 1
            progress = True
    if any(nxt[l] < n_win[l] for l in range(n_layers)):
        raise RuntimeError(f"cycle model stuck at windows {nxt} of {n_win}")
    cycles = done[-1][np.arange(b), trace.step - 1] + DECISION_LATENCY
    return cycles, starts


def schedule_cost(trace, schedule, memory="sram", *, devices=None, config=None, cycles_scale=1.0):
    """What ``schedule`` (``((W, A), ...)`` per layer, :func:`schedule_of`) costs on ``trace``.

    Returns a dict of means per inference: ``reads`` and ``sops`` per layer and in total,
    ``reads_per_sop``, ``active_pairs`` (per layer), ``discarded_reads`` / ``discarded_sops``
    (per layer) and ``discarded_sop_fraction``, ``update_steps`` (per layer), ``cycles_model``
    (the :func:`timeline`) and ``cycles`` (times ``cycles_scale``, a calibration against the
    RTL), ``lane_utilization`` (SOPs / (sum of ``P x A`` adders x cycles); the time-sequential
    engine's lane utilization at ``A = 1``); with ``config`` (a :class:`spinaps.sim.cost.Config` with
    storage) also ``energy_per_inference_j``, ``latency_s``, ``area_mm2``, ``edp`` and their
    breakdowns for synapse memory ``memory`` (device table ``devices``, default the shipped one).
    """
    from spinaps.sim.devices import load_devices, read_latency_cycles

    schedule = tuple(tuple(x) for x in schedule)
    if len(schedule) != len(trace.layers):
        raise ValueError(f"the schedule has {len(schedule)} layers, the network {len(trace.layers)}")
    schedule = tuple(contract.check_schedule(w, a, field=f"layer {i}") for i, (w, a) in enumerate(schedule))
    devices = load_devices() if devices is None else devices
    cycles_model, starts = timeline(trace, schedule, read_latency_cycles(devices, memory))
    decided_at = cycles_model - DECISION_LATENCY
    step = trace.step
    out = {"schedule": [list(s) for s in schedule], "memory": memory, "samples": trace.samples,
           "decision_step_mean": float(step.mean())}
    per = {key: [] for key in ("reads", "sops", "active_pairs", "discarded_reads", "discarded_sops", "update_steps")}
    for index, (lt, (window, _)) in enumerate(zip(trace.layers, schedule)):
        k = trace.window_counts(index, window)
        reads_w = (k > 0).sum(axis=2) * lt.words                               # [B, n_windows]
        last = contract.window_of_step(step, window)                           # decision window
        w_index = np.arange(reads_w.shape[1])[None, :]
        upto = w_index <= last[:, None]
        steps_nz = lt.nonzero.sum(axis=2)                                      # [B, T]
        t_index = np.arange(1, trace.t_max + 1)[None, :]
        window_end = np.minimum((last + 1) * window, trace.t_max)
        # Later windows this layer had started before the decision: speculative, discarded.
        spec = (w_index > last[:, None]) & (starts[index] < decided_at[:, None])
        spec_steps = np.repeat(spec, window, axis=1)[:, :trace.t_max]
        per["reads"].append(float((reads_w * upto).sum(axis=1).mean()))
        per["sops"].append(float((steps_nz * (t_index <= step[:, None])).sum(axis=1).mean() * lt.n_out))
        per["active_pairs"].append(float((trace.active_inputs(index, window) * upto).sum(axis=1).mean()))
        per["discarded_reads"].append(float((reads_w * spec).sum(axis=1).mean()))
        rest = (t_index > step[:, None]) & (t_index <= window_end[:, None])
        per["discarded_sops"].append(float((steps_nz * (rest | spec_steps)).sum(axis=1).mean() * lt.n_out))
        per["update_steps"].append(float(window_end.mean()))
    out.update({f"{key}_per_layer": value for key, value in per.items()})
    sops, reads = sum(per["sops"]), sum(per["reads"])
    # Utilization of the adders of the PE array: P lanes x A temporal adders per layer.
    lanes = sum(lt.lanes * adders for lt, (_, adders) in zip(trace.layers, schedule))
    cycles = float(cycles_model.mean()) * cycles_scale
    out.update({"sops": sops, "reads": reads, "reads_per_sop": reads / sops if sops else 0.0,
                "discarded_sops": sum(per["discarded_sops"]), "discarded_reads": sum(per["discarded_reads"]),
                "discarded_sop_fraction": sum(per["discarded_sops"]) / (sops + sum(per["discarded_sops"]))
                if sops else 0.0,
                "cycles_model": float(cycles_model.mean()), "cycles": cycles,
                "lane_utilization": sops / (lanes * cycles) if cycles else 0.0})
    if config is not None:
        from spinaps.sim.cost import estimate

        events = [float((lt.nonzero.reshape(trace.samples, trace.t_max, lt.n_in, lt.basis).any(axis=3).sum(axis=2)
                         * (np.arange(1, trace.t_max + 1)[None, :] <= step[:, None])).sum(axis=1).mean())
                  for lt in trace.layers]
        act = Activity(events=tuple(events), sops=tuple(per["sops"]), steps=float(step.mean()), cycles=cycles,
                       samples=trace.samples, reads=tuple(per["reads"]),
                       discarded_reads=tuple(per["discarded_reads"]), discarded_sops=tuple(per["discarded_sops"]),
                       update_steps=tuple(per["update_steps"]))
        est = estimate(config.with_schedule(schedule) if config.schedule != schedule else config, act, devices, memory)
        out.update({"energy_per_inference_j": est.energy_per_inference_j, "latency_s": est.latency_s,
                    "area_mm2": est.total_area_mm2, "edp": est.edp, "energy_breakdown_j": dict(est.energy_j),
                    "area_breakdown_mm2": dict(est.area_mm2)})
    return out
