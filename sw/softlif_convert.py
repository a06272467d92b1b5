"""Conversion of a trained soft-LIF MLP (:mod:`spinaps.sw.softlif`) into the integer LIF
network of the hardware (docs/semantics.md, section 5b), its golden-model evaluation and its
artifact.

Conversion
    Every hidden soft-LIF layer ``l`` becomes an integer LIF layer whose time step ``dt_l``
    is fixed by its leak shift ``s_l``: the exact exponential decay over one step,
    ``exp(-dt/tau_rc)``, is ``1 - 2^-s``, so ``dt_l = -tau_rc * ln(1 - 2^-s_l)``. The
    refractory period is ``round(tau_ref / dt_l)`` steps. With input per step
    ``2^-s * j * theta`` the potential relaxes to ``j * theta``, so the neuron fires exactly
    when ``j >= 1`` and its period is ``tau_rc/dt * ln(1 + 1/(j-1))`` steps plus the
    refractory steps: the LIF rate curve in spikes per step, ``r(j) * dt``.

    A spike of layer ``l`` stands for the activation ``amplitude / dt_l`` of the ANN (an
    input spike for the activation 1), which gives the per-spike weights. Weights are
    quantized to the odd levels ``w = 2c - (2^b - 1)`` with one scale per neuron (a hidden
    neuron's weights, bias and threshold scale together, which leaves its spikes unchanged);
    the scale minimises the quantization error of the row. The threshold follows from the
    scale; the bias from the threshold.

    The time step itself comes from activation statistics, as in data-based normalization
    (Diehl et al. 2015, Rueckauer et al. 2017): the ``rate_percentile``-th percentile of the
    layer's rates on training data is mapped to at most ``max_rate`` spikes per step, which
    picks the smallest leak shift (the largest ``dt``, the most spikes in ``T_max`` steps)
    that satisfies it.

    The output layer is an integrate-and-fire read-out (no leak): ``max_potential`` (its
    threshold is never reached, the potential integrates ``W a + b`` scaled by one
    per-layer factor) or ``spike_count`` (subtractive reset, one threshold for the layer at
    the ``rate_percentile``-th percentile of the winning neuron's input per step).

    A time series keeps its frames: the converted network's encoder reads frame
    ``min(t, F) - 1`` at step ``t`` (docs/semantics.md section 1).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from spinaps import contract
from spinaps.contract import DECISIONS, RANGES, RESETS, WEIGHT_BITS, sample_seeds, splitmix32_seeds

from .checks import at_least, per_layer, prefixed, real
from .datasets import STATIC_T_MAX, Dataset
from .export import dataset_record, encoder_fields, golden_to_artifact
from .golden import GoldenModel, LifLayerParams
from .softlif import TrainedSoftLif, best_scale, odd_level_codes

__all__ = ["ConversionInfo", "convert", "evaluate_golden", "softlif_artifact", "READOUTS"]

#: Read-outs of the output layer: the decisions of an integrate-and-fire read-out (a
#: first-to-spike read-out would need the rate code to spike early, which it does not).
READOUTS = tuple(d for d in DECISIONS if d != "first_to_spike")
# Encoder generators of a conversion when the caller does not choose.
_ENCODER_LANES = 16


def _step_seconds(tau_rc, shift):
    """Time step whose exact decay ``exp(-dt/tau_rc)`` equals the integer leak ``1 - 2^-shift``."""
    return -tau_rc * math.log1p(-(2.0 ** -shift))


def _v_bits(bound):
    """Potential width that holds ``+-bound``, within the contract's ``v_bits`` range."""
    r = RANGES["v_bits"]
    return int(min(r.hi, max(r.lo, math.ceil(math.log2(max(bound, 1) + 1)) + 1)))


@dataclass(frozen=True)
class ConversionInfo:
    """How a network was converted (recorded in the artifact's ``training`` block)."""

    weight_bits: int
    t_max: int
    readout: str
    reset: str
    rate_percentile: float
    max_rate: float
    leak_shifts: tuple
    refractory: tuple
    dt_seconds: tuple
    percentile_rates_hz: tuple


def convert(trained: TrainedSoftLif, ds: Dataset, *, weight_bits: int = 8,
            t_max: int = STATIC_T_MAX["softlif"],
            readout: str = "max_potential", reset: str = "subtract", rate_percentile: float = 99.0,
            max_rate: float = 0.5, leak_shift=None, refractory=None, encoder_lanes: int | None = None,
            lanes=None, seed: int = 0x50F7, return_info: bool = False, encoder: str = "bernoulli"):
    """Convert a trained soft-LIF MLP into the hardware's integer LIF network.

    Parameters
    ----------
    trained : TrainedSoftLif
        Output of :func:`spinaps.sw.softlif.train_softlif`.
    ds : Dataset
        The training data set (checked by hash); its training split gives the activation
        statistics.
    weight_bits : int
        ``b`` in {1, 2, 4, 8}: odd-level weights ``-(2^b-1) .. 2^b-1``.
    t_max : int
        Time steps per inference, 1..255.
    readout : str
        ``"max_potential"`` or ``"spike_count"`` decoding of the output layer.
    reset : str
        ``"subtract"`` or ``"zero"`` for the hidden LIF layers (and a spike-count read-out).
    rate_percentile : float
        Percentile (in (0, 100]) of each hidden layer's rates on training data that must fire
        at most ``max_rate`` spikes per step; picks the leak shift (time step). For a
        spike-count read-out also the percentile of the winner's input per step that sets its
        threshold.
    max_rate : float
        Spikes per step allowed at that percentile, in (0, 1].
    leak_shift, refractory : int, sequence of int or None
        Override the leak shift (1..15) and refractory steps (0..15) of the hidden layers
        (one value for all, or one per hidden layer). ``refractory=None``: ``round(tau_ref/dt)``.
    encoder_lanes : int or None
        Encoder lanes (Bernoulli: generators), 1..64 and ``<= n_in``; ``None``: 16, or
        ``n_in`` when the data set has fewer inputs per frame.
    lanes : int, sequence of int or None
        Accumulator lanes of every layer (capped at its ``n_out``), or one value per layer
        (hidden layers first, then the output layer); ``None``: ``n_out``.
    seed : int
        Derives the encoder's generator base seeds.
    return_info : bool
        Also return the :class:`ConversionInfo`.
    encoder : str
        One of :data:`spinaps.contract.ENCODER_TYPES` (docs/semantics.md 3): ``"bernoulli"``
        (the default) or ``"deterministic"`` (no draws: the same spikes for every seed).

    Returns
    -------
    GoldenModel (and ConversionInfo with ``return_info``); a time series keeps its frames.

    Raises
    ------
    ValueError
        Naming the parameter that is out of range, or a data set that is not the training one.
    """
    if not isinstance(trained, TrainedSoftLif):
        raise ValueError(f"convert: trained must be a TrainedSoftLif (got {type(trained).__name__})")
    if ds.sha256 != trained.dataset_sha256:
        raise ValueError(f"convert: data set {ds.name!r} is not the one the network was trained on "
                         f"({trained.dataset_name!r})")
    n_hidden = len(trained.weights) - 1
    leak = RANGES["leak_shift"]
    if encoder_lanes is None:
        encoder_lanes = min(_ENCODER_LANES, ds.n_in)
    with prefixed("convert: "):
        contract.check_choice("weight_bits", weight_bits, WEIGHT_BITS)
        contract.check("t_max", t_max)
        contract.check_choice("readout", readout, READOUTS)
        contract.check_choice("reset", reset, RESETS)
        real("rate_percentile", rate_percentile, lo=0, hi=100, lo_open=True)
        real("max_rate", max_rate, lo=0, hi=1, lo_open=True)
        contract.check_encoder_lanes(ds.n_in, encoder_lanes, field="encoder_lanes")
        contract.check_choice("encoder", encoder, contract.ENCODER_TYPES)
        lanes = per_layer("lanes", lanes, n_hidden + 1, lambda name, v: at_least(name, v, 1))
        # A converted layer needs a leak: its time step is -tau_rc * ln(1 - 2^-s).
        shifts = per_layer("leak_shift", leak_shift, n_hidden, lambda name, v: contract.check_int(
            name, v, 1, leak.hi, "a soft-LIF layer needs a leak"))
        refrac = per_layer("refractory", refractory, n_hidden,
                            lambda name, v: contract.check("refractory", v, field=name))

    c = trained.config
    acts, rates = trained.activations(ds.x_train)
    layers, info_shift, info_ref, info_dt, info_rate = [], [], [], [], []
    spike_value = 1.0            # ANN activation one spike of the previous layer stands for
    for l in range(n_hidden):
        w, b = trained.weights[l], trained.biases[l]
        r_p = float(np.percentile(rates[l], rate_percentile))
        s = shifts[l]
        if s is None:
            # Smallest shift (largest step, most spikes per inference) keeping the
            # percentile rate at or below max_rate spikes per step.
            s = next((k for k in range(1, leak.hi + 1) if r_p * _step_seconds(c.tau_rc, k) <= max_rate),
                     leak.hi)
        dt = _step_seconds(c.tau_rc, s)
        ref = refrac[l] if refrac[l] is not None else int(min(RANGES["refractory"].hi,
                                                              round(c.tau_ref / dt)))
        alpha = 2.0 ** -s
        # Per spike: alpha * gain * W * spike_value * theta; per step: alpha * gain * b * theta.
        k = _scale(trained, l, w, weight_bits, axis=1)             # [n_out, 1]
        w_int = odd_level_codes(w * k, weight_bits)
        theta_f = k[:, 0] / (alpha * c.gain * spike_value)
        bias_f = alpha * c.gain * b * theta_f
        theta = np.maximum(1, np.rint(theta_f)).astype(np.int64)
        bias = np.rint(bias_f).astype(np.int64)
        # Potentials stay within the threshold above and the leak's fixed point of the
        # largest inhibition below (the clamp of section 5b handles anything beyond).
        drive = np.abs(w_int).sum(axis=1) + np.abs(bias)
        v_bits = _v_bits(max(int(theta.max()), int(drive.max()) << s))
        lo, hi = contract.potential_bounds(v_bits)
        bias = np.clip(bias, lo, hi)
        # A neuron whose threshold is above anything it can reach (even with every excitatory
        # input spiking at every step) never fires; the artifact refuses such a threshold, so
        # it is lowered to that extreme, which real inputs do not produce either.
        reach = contract.largest_potential(w_int, bias, v_bits, s, t_max)
        theta = np.where(reach > 0, np.minimum(theta, np.maximum(reach, 1)), theta)
        layers.append(LifLayerParams(
            weights=w_int, weight_bits=weight_bits, threshold=np.minimum(theta, hi),
            bias=bias, v_bits=v_bits, leak_shift=s, reset=reset,
            refractory=ref, lanes=min(lanes[l] or w.shape[0], w.shape[0])))
        info_shift.append(s), info_ref.append(ref), info_dt.append(dt), info_rate.append(r_p)
        spike_value = c.amplitude / dt

    # Output layer: integrate-and-fire read-out of z = W a + b, one scale for the layer.
    w, b = trained.weights[-1], trained.biases[-1]
    k = float(_scale(trained, -1, w, weight_bits, axis=None))
    w_int = odd_level_codes(w * k, weight_bits)
    # Per step the potential gains sum(w_int * spikes) ~ k * spike_value^-1 * (W a), so the
    # bias per step is k * b / spike_value.
    bias_f = k * b / spike_value
    drive = np.abs(w_int).sum(axis=1) + np.abs(bias_f)
    if readout == "max_potential":
        v_bits = _v_bits(int(drive.max() * t_max))
        lo, hi = contract.potential_bounds(v_bits)
        theta = np.full(w.shape[0], hi, dtype=np.int64)              # never reached
    else:
        inputs = (acts[-2] @ w.T) * k / spike_value + bias_f          # per-step input, float
        winner = np.percentile(inputs.max(axis=1), rate_percentile) / max_rate
        v_bits = _v_bits(int(max(winner, drive.max()) * 2))
        lo, hi = contract.potential_bounds(v_bits)
        theta = np.full(w.shape[0], int(np.clip(round(winner), 1, hi)), dtype=np.int64)
    layers.append(LifLayerParams(
        weights=w_int, weight_bits=weight_bits, threshold=theta,
        bias=np.clip(np.rint(bias_f), lo, hi).astype(np.int64), v_bits=v_bits, leak_shift=0,
        reset="subtract" if readout == "max_potential" else reset, refractory=0,
        lanes=min(lanes[-1] or w.shape[0], w.shape[0])))

    golden = GoldenModel(t_max=t_max, layers=tuple(layers), decision=readout, frames=trained.frames,
                         **encoder_fields(encoder, splitmix32_seeds(seed, encoder_lanes)))
    if not return_info:
        return golden
    info = ConversionInfo(weight_bits=weight_bits, t_max=t_max, readout=readout, reset=reset,
                          rate_percentile=float(rate_percentile), max_rate=float(max_rate),
                          leak_shifts=tuple(info_shift), refractory=tuple(info_ref),
                          dt_seconds=tuple(info_dt), percentile_rates_hz=tuple(info_rate))
    return golden, info


def _scale(trained, layer, w, bits, axis):
    """The scale training used (quantization-aware, same bits), else the best post-training one."""
    if trained.quant_scales is not None and trained.config.weight_bits == bits:
        return trained.quant_scales[layer]
    return best_scale(w, bits, axis)


# --- evaluation and export ----------------------------------------------------------------------

def evaluate_golden(golden: GoldenModel, ds: Dataset) -> dict:
    """Run the converted network as a spiking network on the test split (golden model).

    Seeds are the samples' indices (:func:`spinaps.contract.sample_seeds`, as for every other
    model). Returns accuracy, accuracy by step, the fraction decided and the mean events /
    synaptic operations per inference (sum over layers, and per layer).
    """
    res = golden.run(ds.x_test, sample_seeds(len(ds.y_test)), labels=ds.y_test)
    return {
        "accuracy": res.accuracy(ds.y_test),
        "accuracy_by_step": [round(a, 5) for a in res.accuracy_by_step],
        "decided": float(np.mean(res.decided)),
        "events_per_inference_mean": float(res.events.sum(axis=1).mean()),
        "sops_per_inference_mean": float(res.sops.sum(axis=1).mean()),
        "events_per_layer_mean": res.events.mean(axis=0).tolist(),
        "sops_per_layer_mean": res.sops.mean(axis=0).tolist(),
    }


def softlif_artifact(golden: GoldenModel, trained: TrainedSoftLif, ds: Dataset, *,
                     golden_accuracy: float | None = None, info: ConversionInfo | None = None):
    """Manifest and arrays of a converted network (:func:`spinaps.sw.export.golden_to_artifact`);
    save with :func:`spinaps.sw.artifact.save`."""
    accuracy = {"float": trained.accuracy_softlif, "ann": trained.accuracy_relu}
    if golden_accuracy is not None:
        accuracy["golden"] = golden_accuracy
    training = {"method": "soft-LIF conversion (Hunsberger & Eliasmith 2016)",
                "config": dataclasses.asdict(trained.config), "sizes": list(trained.sizes),
                "train_seconds": round(trained.train_seconds, 3)}
    if info is not None:
        training["conversion"] = dataclasses.asdict(info)
    return golden_to_artifact(golden, dataset=dataset_record(ds), accuracy=accuracy,
                              training=training)
