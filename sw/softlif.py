"""Soft-LIF rate networks (Hunsberger & Eliasmith, arXiv 1611.05141) and their conversion to
the integer LIF network of the hardware (docs/semantics.md, section 5b).

Training
    An MLP whose hidden units are **soft-LIF** rate neurons::

        rho(x) = gamma * log(1 + exp(x / gamma))            (smoothed max(x, 0))
        r(j)   = 1 / (tau_ref + tau_rc * log(1 + 1 / rho(j - 1)))     [Hz]
        a      = amplitude * (r(j) + eta),  eta ~ N(0, sigma^2) where j > 1 (training only)

    with input current ``j = gain * (W a_prev + b)``. The input activation is the Bernoulli
    encoder's firing probability ``intensity / 255``, so the converted network sees the same
    data. The output layer is linear (softmax cross-entropy). A ReLU ANN of the same shape is
    trained with the same settings for comparison.

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
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .artifact import largest_potential
from .datasets import Dataset
from .golden import GoldenModel, LifLayerParams

__all__ = [
    "SoftLifConfig", "SoftLif", "TrainedSoftLif", "ConversionInfo", "softlif_rate", "lif_rate",
    "train_softlif", "convert", "evaluate_golden", "softlif_artifact", "default_hidden",
]

WEIGHT_BITS = (1, 2, 4, 8)
READOUTS = ("max_potential", "spike_count")
RESETS = ("subtract", "zero")


# --- neuron -------------------------------------------------------------------------------------

def _log_softplus(y):
    """``log(log(1 + exp(y)))`` without underflow: ``~ y`` for very negative ``y``."""
    safe = torch.clamp(y, min=-20.0)
    return torch.where(y < -20.0, y, torch.log(F.softplus(safe)))


def softlif_rate(j, tau_rc=0.022, tau_ref=0.002, gamma=0.02):
    """Soft-LIF firing rate in Hz of input current ``j`` (tensor), finite gradient everywhere.

    ``log(1 + 1/rho)`` is evaluated as ``log1p(1/rho)`` for ``rho > 1`` and as
    ``log1p(rho) - log(rho)`` (with ``log(rho)`` through a stable log-softplus) below, so
    neither branch overflows far below threshold (``rho`` underflows there).
    """
    y = (j - 1.0) / gamma
    rho = gamma * F.softplus(y)
    log_rho = math.log(gamma) + _log_softplus(y)
    big = torch.clamp(rho, min=1.0)
    small = torch.clamp(rho, max=1.0)
    small_log_rho = torch.where(rho > 1.0, torch.zeros_like(log_rho), log_rho)
    period = torch.where(rho > 1.0, torch.log1p(1.0 / big), torch.log1p(small) - small_log_rho)
    return 1.0 / (tau_ref + tau_rc * period)


def lif_rate(j, tau_rc=0.022, tau_ref=0.002):
    """Hard LIF rate in Hz (numpy): ``1 / (tau_ref + tau_rc log(1 + 1/(j-1)))`` for j > 1, else 0."""
    j = np.asarray(j, dtype=np.float64)
    out = np.zeros_like(j)
    above = j > 1
    out[above] = 1.0 / (tau_ref + tau_rc * np.log1p(1.0 / (j[above] - 1.0)))
    return out


# --- configuration ------------------------------------------------------------------------------

def default_hidden(n_in: int) -> tuple:
    """Hidden layer sizes used when none are given: 128 for MNIST-size inputs, 32 for digits."""
    return (128,) if n_in > 256 else (32,)


@dataclass(frozen=True)
class SoftLifConfig:
    """Soft-LIF network and training settings (published MNIST values as defaults).

    Attributes
    ----------
    hidden : tuple of int or None
        Hidden layer sizes; ``None``: :func:`default_hidden` of the data set's inputs.
    tau_rc, tau_ref : float
        Membrane and refractory time constants in seconds (0.022, 0.002).
    gamma : float
        Smoothing of the soft-LIF (0.02); > 0.
    gain : float
        Multiplies the input current (1.0).
    amplitude : float
        Multiplies the rate to give the activation passed on (0.063).
    noise_sigma : float
        Standard deviation in Hz of the Gaussian noise added to the rates where ``j > 1``
        during training (10); 0 disables it.
    weight_bits : int or None
        ``None``: float weights (post-training quantization at conversion). 1, 2, 4 or 8:
        quantization-aware training with straight-through odd-level weights of that width
        (per-neuron scales for hidden layers, one scale for the output layer, refreshed at
        every epoch); :func:`convert` with the same ``weight_bits`` then reuses those scales.
    epochs, lr, batch_size, weight_decay, seed : training settings (Adam).
    """

    hidden: tuple | None = None
    tau_rc: float = 0.022
    tau_ref: float = 0.002
    gamma: float = 0.02
    gain: float = 1.0
    amplitude: float = 0.063
    noise_sigma: float = 10.0
    weight_bits: int | None = None
    epochs: int = 40
    lr: float = 1e-3
    batch_size: int = 64
    weight_decay: float = 0.0
    seed: int = 0

    def __post_init__(self):
        for name in ("tau_rc", "gamma", "gain", "amplitude", "lr"):
            value = getattr(self, name)
            if not _is_real(value) or not value > 0:
                raise ValueError(f"SoftLifConfig.{name} must be a positive number (got {value!r})")
        for name in ("tau_ref", "noise_sigma", "weight_decay"):
            value = getattr(self, name)
            if not _is_real(value) or value < 0:
                raise ValueError(f"SoftLifConfig.{name} must be a number >= 0 (got {value!r})")
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"SoftLifConfig.{name} must be an integer >= 1 (got {value!r})")
        if self.weight_bits is not None and (not _is_int(self.weight_bits)
                                             or self.weight_bits not in WEIGHT_BITS):
            raise ValueError(f"SoftLifConfig.weight_bits must be None or one of "
                             f"{', '.join(map(str, WEIGHT_BITS))} (got {self.weight_bits!r})")
        if self.hidden is not None:
            hidden = tuple(self.hidden)
            if not hidden or not all(_is_int(h) and h >= 1 for h in hidden):
                raise ValueError(f"SoftLifConfig.hidden must be a non-empty list of layer sizes >= 1 "
                                 f"(got {self.hidden!r})")
            object.__setattr__(self, "hidden", hidden)


def _is_real(v):
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


# --- networks -----------------------------------------------------------------------------------

class SoftLif(nn.Module):
    """Soft-LIF rate neurons with gain and amplitude; noise on the rates in training mode."""

    def __init__(self, config: SoftLifConfig):
        super().__init__()
        self.config = config
        self.generator = None

    def rates(self, x):
        """Rates in Hz of pre-activations ``x`` (no noise)."""
        c = self.config
        return softlif_rate(c.gain * x, c.tau_rc, c.tau_ref, c.gamma)

    def forward(self, x):
        c = self.config
        r = self.rates(x)
        if self.training and c.noise_sigma > 0:
            noise = torch.randn(r.shape, generator=self.generator) * c.noise_sigma
            r = r + noise * (c.gain * x > 1.0)
        return c.amplitude * r


class QuantLinear(nn.Linear):
    """Linear layer whose forward pass uses odd-level weights ``odd_levels(w k) / k``
    (straight-through gradient to the float weights ``w``); ``bits = None`` is a plain layer.

    ``scale`` (``k``) is per row (``per_row``) or one for the matrix; :meth:`refresh_scale`
    recomputes it from the current weights (done once per epoch: the search is too slow for
    every step).
    """

    def __init__(self, n_in, n_out, bits=None, per_row=True):
        super().__init__(n_in, n_out)
        self.bits, self.per_row = bits, per_row
        self.register_buffer("scale", torch.ones(n_out, 1))

    def refresh_scale(self):
        if self.bits is not None:
            w = self.weight.detach().double().numpy()
            k = _best_scale(w, self.bits, axis=1 if self.per_row else None)
            self.scale.copy_(torch.as_tensor(np.broadcast_to(k, (w.shape[0], 1)).copy(), dtype=torch.float32))

    def quantized_weight(self):
        if self.bits is None:
            return self.weight
        top = 2.0**self.bits - 1
        v = self.weight * self.scale
        q = torch.clamp(2.0 * torch.floor(v / 2.0) + 1.0, -top, top) / self.scale
        return self.weight + (q - self.weight).detach()

    def forward(self, x):
        return F.linear(x, self.quantized_weight(), self.bias)


def _mlp(sizes, activation, generator, bits=None):
    layers = []
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = QuantLinear(n_in, n_out, bits, per_row=index < len(sizes) - 2)
        with torch.no_grad():
            linear.weight.normal_(0.0, 1.0 / math.sqrt(n_in), generator=generator)
            linear.bias.zero_()
        layers.append(linear)
        if index < len(sizes) - 2:
            layers.append(activation)
    return nn.Sequential(*layers)


def _rates_in(x) -> torch.Tensor:
    return torch.tensor(np.asarray(x), dtype=torch.float32) / 255.0


def _fit(model, ds, config, desc, progress, generator):
    x, y = _rates_in(ds.x_train), torch.tensor(ds.y_train)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    losses = []
    quantized = [m for m in model if isinstance(m, QuantLinear) and m.bits is not None]
    for _ in tqdm(range(config.epochs), desc=desc, unit="epoch", disable=not progress):
        for m in quantized:
            m.refresh_scale()
        model.train()
        total = 0.0
        for idx in torch.randperm(len(x), generator=generator).split(config.batch_size):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        losses.append(total / len(x))
    model.eval()
    with torch.no_grad():
        predicted = model(_rates_in(ds.x_test)).argmax(1).numpy()
    return float((predicted == ds.y_test).mean()), losses


@dataclass
class TrainedSoftLif:
    """A trained soft-LIF MLP (float weights) and its ReLU twin's accuracy.

    ``weights[l]`` is ``[n_out, n_in]`` and ``biases[l]`` ``[n_out]`` (float64) of layer ``l``;
    every layer but the last has soft-LIF units, the last is linear.
    """

    config: SoftLifConfig
    sizes: tuple
    weights: list
    biases: list
    accuracy_softlif: float
    accuracy_relu: float | None
    dataset_name: str
    dataset_sha256: str
    loss_history: list = field(default_factory=list)
    train_seconds: float = 0.0
    quant_scales: list | None = None     # per layer [n_out, 1] (hidden) / scalar (output), QAT only

    def effective_weights(self, layer):
        """Weights the ANN computes with: the odd-level grid of training when it was
        quantization-aware, else the float weights."""
        w = self.weights[layer]
        if self.quant_scales is None:
            return w
        k = self.quant_scales[layer]
        return odd_levels(w * k, self.config.weight_bits) / k

    def activations(self, x_uint8):
        """ANN activations of every layer for ``x`` (uint8 intensities): list of numpy arrays,
        entry 0 the input rates, hidden entries ``amplitude * r`` and the last the logits;
        also the hidden rates in Hz."""
        c = self.config
        a = _rates_in(x_uint8).double()
        acts, rates = [a.numpy()], []
        for l, b in enumerate(self.biases):
            w = self.effective_weights(l)
            z = a @ torch.as_tensor(w).T + torch.as_tensor(b)
            if l < len(self.weights) - 1:
                r = softlif_rate(c.gain * z, c.tau_rc, c.tau_ref, c.gamma)
                rates.append(r.numpy())
                a = c.amplitude * r
            else:
                a = z
            acts.append(a.numpy())
        return acts, rates


def train_softlif(ds: Dataset, config: SoftLifConfig = SoftLifConfig(), progress=True,
                  compare_relu=True) -> TrainedSoftLif:
    """Train the soft-LIF MLP (and, with ``compare_relu``, a ReLU ANN of the same shape).

    Parameters
    ----------
    ds : Dataset
        Inputs are read as firing probabilities ``x / 255``.
    config : SoftLifConfig
        Neuron and training settings.
    progress : bool
        tqdm bar over epochs.
    compare_relu : bool
        Also train the ReLU twin (same sizes, optimizer, epochs and seed).

    Returns
    -------
    TrainedSoftLif
    """
    if not isinstance(config, SoftLifConfig):
        raise ValueError(f"config must be a SoftLifConfig (got {type(config).__name__})")
    hidden = config.hidden if config.hidden is not None else default_hidden(ds.n_in)
    sizes = (ds.n_in, *hidden, ds.n_classes)
    t0 = time.perf_counter()
    generator = torch.Generator().manual_seed(config.seed)
    neuron = SoftLif(config)
    neuron.generator = generator
    net = _mlp(sizes, neuron, generator, config.weight_bits)
    with torch.no_grad():
        # Start hidden neurons just above threshold (j = 1): below it the soft-LIF is nearly
        # flat and a neuron that starts there rarely learns.
        for m in list(net)[:-1]:
            if isinstance(m, nn.Linear):
                m.bias.fill_(1.0 / config.gain)
    acc_softlif, losses = _fit(net, ds, config, f"soft-LIF {ds.name}", progress, generator)
    acc_relu = None
    if compare_relu:
        generator_relu = torch.Generator().manual_seed(config.seed)
        relu = _mlp(sizes, nn.ReLU(), generator_relu)
        acc_relu, _ = _fit(relu, ds, config, f"ReLU {ds.name}", progress, generator_relu)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    scales = None
    if config.weight_bits is not None:
        scales = [m.scale.detach().double().numpy().copy() if m.per_row else float(m.scale[0, 0])
                  for m in linears]
    return TrainedSoftLif(
        quant_scales=scales,
        config=config, sizes=sizes,
        weights=[m.weight.detach().double().numpy().copy() for m in linears],
        biases=[m.bias.detach().double().numpy().copy() for m in linears],
        accuracy_softlif=acc_softlif, accuracy_relu=acc_relu,
        dataset_name=ds.name, dataset_sha256=ds.sha256, loss_history=losses,
        train_seconds=time.perf_counter() - t0,
    )


# --- conversion ---------------------------------------------------------------------------------

def odd_levels(v, bits):
    """Nearest odd integer to ``v`` in ``[-(2^b - 1), 2^b - 1]`` (the weight code of section 5.1)."""
    top = 2**bits - 1
    return np.clip(2.0 * np.floor(np.asarray(v) / 2.0) + 1.0, -top, top).astype(np.int64)


def _best_scale(w, bits, axis):
    """Per-row (``axis=1``) or per-matrix (``axis=None``) scale ``K`` minimising
    ``|w - odd_levels(w K) / K|^2`` over clipping fractions of the largest magnitude."""
    top = 2**bits - 1
    mag = np.abs(w).max(axis=axis, keepdims=axis is not None)
    mag = np.where(mag > 0, mag, 1.0)
    best_k, best_err = None, None
    for frac in np.linspace(0.05, 1.0, 39):
        k = top / (mag * frac)
        err = ((w - odd_levels(w * k, bits) / k) ** 2).sum(axis=axis, keepdims=axis is not None)
        if best_err is None:
            best_k, best_err = k, err
        else:
            better = err < best_err
            best_k, best_err = np.where(better, k, best_k), np.where(better, err, best_err)
    return best_k


def _step_seconds(tau_rc, shift):
    """Time step whose exact decay ``exp(-dt/tau_rc)`` equals the integer leak ``1 - 2^-shift``."""
    return -tau_rc * math.log1p(-(2.0 ** -shift))


def _v_bits(bound):
    return int(min(24, max(6, math.ceil(math.log2(max(bound, 1) + 1)) + 1)))


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


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"convert: {name} = {value!r} is not one of {', '.join(map(repr, choices))}")


def _check_int(name, value, lo, hi):
    if not _is_int(value) or not lo <= value <= hi:
        raise ValueError(f"convert: {name} must be an integer in {lo}..{hi} (got {value!r})")


def convert(trained: TrainedSoftLif, ds: Dataset, *, weight_bits: int = 8, t_max: int = 64,
            readout: str = "max_potential", reset: str = "subtract", rate_percentile: float = 99.0,
            max_rate: float = 0.5, leak_shift=None, refractory=None, encoder_lanes: int = 16,
            lanes=None, seed: int = 0x50F7, return_info: bool = False):
    """Convert a trained soft-LIF MLP into the hardware's integer LIF network.

    Parameters
    ----------
    trained : TrainedSoftLif
        Output of :func:`train_softlif`.
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
    encoder_lanes : int
        Generators of the Bernoulli encoder, 1..64 and ``<= n_in``.
    lanes : int or None
        Accumulator lanes of every layer (capped at its ``n_out``); ``None``: ``n_out``.
    seed : int
        Derives the encoder's generator base seeds.
    return_info : bool
        Also return the :class:`ConversionInfo`.

    Returns
    -------
    GoldenModel (and ConversionInfo with ``return_info``)

    Raises
    ------
    ValueError
        Naming the parameter that is out of range, or a data set that is not the training one.
    """
    from .export import splitmix32_seeds

    if not isinstance(trained, TrainedSoftLif):
        raise ValueError(f"convert: trained must be a TrainedSoftLif (got {type(trained).__name__})")
    if ds.sha256 != trained.dataset_sha256:
        raise ValueError(f"convert: data set {ds.name!r} is not the one the network was trained on "
                         f"({trained.dataset_name!r})")
    if weight_bits not in WEIGHT_BITS or isinstance(weight_bits, bool):
        raise ValueError(f"convert: weight_bits = {weight_bits!r} is not one of {', '.join(map(str, WEIGHT_BITS))}")
    _check_int("t_max", t_max, 1, 255)
    _check_choice("readout", readout, READOUTS)
    _check_choice("reset", reset, RESETS)
    if not _is_real(rate_percentile) or not 0 < rate_percentile <= 100:
        raise ValueError(f"convert: rate_percentile must be in (0, 100] (got {rate_percentile!r})")
    if not _is_real(max_rate) or not 0 < max_rate <= 1:
        raise ValueError(f"convert: max_rate must be in (0, 1] spikes per step (got {max_rate!r})")
    _check_int("encoder_lanes", encoder_lanes, 1, min(64, ds.n_in))
    if lanes is not None:
        _check_int("lanes", lanes, 1, 4096)
    n_hidden = len(trained.weights) - 1
    shifts = _per_layer("leak_shift", leak_shift, n_hidden, 1, 15)
    refrac = _per_layer("refractory", refractory, n_hidden, 0, 15)

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
            s = next((k for k in range(1, 16) if r_p * _step_seconds(c.tau_rc, k) <= max_rate), 15)
        dt = _step_seconds(c.tau_rc, s)
        ref = refrac[l] if refrac[l] is not None else int(min(15, round(c.tau_ref / dt)))
        alpha = 2.0 ** -s
        # Per spike: alpha * gain * W * spike_value * theta; per step: alpha * gain * b * theta.
        k = _scale(trained, l, w, weight_bits, axis=1)             # [n_out, 1]
        w_int = odd_levels(w * k, weight_bits)
        theta_f = k[:, 0] / (alpha * c.gain * spike_value)
        bias_f = alpha * c.gain * b * theta_f
        theta = np.maximum(1, np.rint(theta_f)).astype(np.int64)
        bias = np.rint(bias_f).astype(np.int64)
        # Potentials stay within the threshold above and the leak's fixed point of the
        # largest inhibition below (the clamp of section 5b handles anything beyond).
        drive = np.abs(w_int).sum(axis=1) + np.abs(bias)
        v_bits = _v_bits(max(int(theta.max()), int(drive.max()) << s))
        half = 1 << (v_bits - 1)
        bias = np.clip(bias, -half, half - 1)
        # A neuron whose threshold is above anything it can reach (even with every excitatory
        # input spiking at every step) never fires; the artifact refuses such a threshold, so
        # it is lowered to that extreme, which real inputs do not produce either.
        reach = largest_potential(w_int, bias, v_bits, s, t_max)
        theta = np.where(reach > 0, np.minimum(theta, np.maximum(reach, 1)), theta)
        layers.append(LifLayerParams(
            weights=w_int, weight_bits=weight_bits, threshold=np.minimum(theta, half - 1),
            bias=bias, v_bits=v_bits, leak_shift=s, reset=reset,
            refractory=ref, lanes=min(lanes or w.shape[0], w.shape[0])))
        info_shift.append(s), info_ref.append(ref), info_dt.append(dt), info_rate.append(r_p)
        spike_value = c.amplitude / dt

    # Output layer: integrate-and-fire read-out of z = W a + b, one scale for the layer.
    w, b = trained.weights[-1], trained.biases[-1]
    k = float(_scale(trained, -1, w, weight_bits, axis=None))
    w_int = odd_levels(w * k, weight_bits)
    # Per step the potential gains sum(w_int * spikes) ~ k * spike_value^-1 * (W a), so the
    # bias per step is k * b / spike_value.
    bias_f = k * b / spike_value
    drive = np.abs(w_int).sum(axis=1) + np.abs(bias_f)
    if readout == "max_potential":
        v_bits = _v_bits(int(drive.max() * t_max))
        half = 1 << (v_bits - 1)
        theta = np.full(w.shape[0], half - 1, dtype=np.int64)        # never reached
    else:
        inputs = (acts[-2] @ w.T) * k / spike_value + bias_f          # per-step input, float
        winner = np.percentile(inputs.max(axis=1), rate_percentile) / max_rate
        v_bits = _v_bits(int(max(winner, drive.max()) * 2))
        half = 1 << (v_bits - 1)
        theta = np.full(w.shape[0], int(np.clip(round(winner), 1, half - 1)), dtype=np.int64)
    layers.append(LifLayerParams(
        weights=w_int, weight_bits=weight_bits, threshold=theta,
        bias=np.clip(np.rint(bias_f), -half, half - 1).astype(np.int64), v_bits=v_bits, leak_shift=0,
        reset="subtract" if readout == "max_potential" else reset, refractory=0,
        lanes=min(lanes or w.shape[0], w.shape[0])))

    model = GoldenModel(t_max=t_max, encoder_base_seeds=splitmix32_seeds(seed, encoder_lanes),
                        layers=tuple(layers), decision=readout)
    if not return_info:
        return model
    info = ConversionInfo(weight_bits=weight_bits, t_max=t_max, readout=readout, reset=reset,
                          rate_percentile=float(rate_percentile), max_rate=float(max_rate),
                          leak_shifts=tuple(info_shift), refractory=tuple(info_ref),
                          dt_seconds=tuple(info_dt), percentile_rates_hz=tuple(info_rate))
    return model, info


def _scale(trained, layer, w, bits, axis):
    """The scale training used (quantization-aware, same bits), else the best post-training one."""
    if trained.quant_scales is not None and trained.config.weight_bits == bits:
        return trained.quant_scales[layer]
    return _best_scale(w, bits, axis)


def _per_layer(name, value, n, lo, hi):
    if value is None:
        return [None] * n
    values = list(value) if isinstance(value, (list, tuple)) else [value] * n
    if len(values) != n:
        raise ValueError(f"convert: {name} needs one value per hidden layer ({n}), got {len(values)}")
    for v in values:
        _check_int(name, v, lo, hi)
    return values


# --- evaluation and export ----------------------------------------------------------------------

def evaluate_golden(model: GoldenModel, ds: Dataset) -> dict:
    """Run the converted network as a spiking network on the test split (golden model).

    Seeds are the samples' indices (as for every other model). Returns accuracy, accuracy by
    step, the fraction decided and the mean events / synaptic operations per inference (sum
    over layers, and per layer).
    """
    from .flow import sample_seeds

    res = model.run(ds.x_test, sample_seeds(len(ds.y_test)), labels=ds.y_test)
    return {
        "accuracy": res.accuracy(ds.y_test),
        "accuracy_by_step": [round(a, 5) for a in res.accuracy_by_step],
        "decided": float(np.mean(res.decided)),
        "events_per_inference_mean": float(res.events.sum(axis=1).mean()),
        "sops_per_inference_mean": float(res.sops.sum(axis=1).mean()),
        "events_per_layer_mean": res.events.mean(axis=0).tolist(),
        "sops_per_layer_mean": res.sops.mean(axis=0).tolist(),
    }


def softlif_artifact(model: GoldenModel, trained: TrainedSoftLif, ds: Dataset, *,
                     golden_accuracy: float | None = None, info: ConversionInfo | None = None):
    """Manifest and arrays of a converted network (:func:`spinaps.sw.export.model_to_artifact`);
    save with :func:`spinaps.sw.artifact.save`."""
    from .export import model_to_artifact

    accuracy = {"float": trained.accuracy_softlif, "ann": trained.accuracy_relu}
    if golden_accuracy is not None:
        accuracy["golden"] = golden_accuracy
    training = {"method": "soft-LIF conversion (Hunsberger & Eliasmith 2016)",
                "config": dataclasses.asdict(trained.config), "sizes": list(trained.sizes),
                "train_seconds": round(trained.train_seconds, 3)}
    if info is not None:
        training["conversion"] = dataclasses.asdict(info)
    return model_to_artifact(
        model, dataset={"name": ds.name, "sha256": ds.sha256, "n_train": ds.n_train, "n_test": ds.n_test},
        accuracy=accuracy, training=training)
