"""Soft-LIF rate networks (Hunsberger & Eliasmith, arXiv 1611.05141): the neuron model and
the training. The conversion to the integer LIF network of the hardware is
:mod:`spinaps.sw.softlif_convert`.

Training
    An MLP whose hidden units are **soft-LIF** rate neurons::

        rho(x) = gamma * log(1 + exp(x / gamma))            (smoothed max(x, 0))
        r(j)   = 1 / (tau_ref + tau_rc * log(1 + 1 / rho(j - 1)))     [Hz]
        a      = amplitude * (r(j) + eta),  eta ~ N(0, sigma^2) where j > 1 (training only)

    with input current ``j = gain * (W a_prev + b)``. The input activation is the Bernoulli
    encoder's firing probability ``intensity / 255``, so the converted network sees the same
    data. The output layer is linear (softmax cross-entropy). A ReLU ANN of the same shape is
    trained with the same settings for comparison.

    A time series (``Dataset.frames > 1``) is read as its mean rate over the frames
    (:func:`spinaps.sw.ann.input_rates`), what the converted network integrates over a run of
    at least as many steps.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from spinaps import contract
from spinaps.contract import WEIGHT_BITS

from .ann import input_rates
from .checks import at_least, prefixed, real
from .datasets import Dataset, check_inputs, shape_errors
from .energy import check_energy_fields

__all__ = ["SoftLifConfig", "SoftLif", "QuantLinear", "TrainedSoftLif", "softlif_rate", "lif_rate",
           "train_softlif", "default_hidden", "best_scale"]


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
    energy_beta, energy_window, energy_epochs, energy_lr, energy_penalty :
        Hardware-aware fine-tuning after the training (as in
        :class:`~spinaps.sw.lif.LifNetConfig`; the estimate is :mod:`spinaps.sw.softlif_energy`'s).
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
    energy_beta: float = 0.0
    energy_window: int = 1
    energy_epochs: int = 0
    energy_lr: float = 0.25
    energy_penalty: str = "energy"

    def __post_init__(self):
        with prefixed("SoftLifConfig."):
            check_energy_fields(self)
            for name in ("tau_rc", "gamma", "gain", "amplitude", "lr"):
                real(name, getattr(self, name), lo=0, lo_open=True)
            for name in ("tau_ref", "noise_sigma", "weight_decay"):
                real(name, getattr(self, name), lo=0)
            for name in ("epochs", "batch_size"):
                at_least(name, getattr(self, name), 1)
            if self.weight_bits is not None:
                contract.check_choice("weight_bits", self.weight_bits, WEIGHT_BITS)
            if self.hidden is not None:
                hidden = tuple(self.hidden)
                if not hidden:
                    raise ValueError("hidden = () must list at least one hidden layer size")
                for i, h in enumerate(hidden):
                    contract.check("n_out", h, field=f"hidden[{i}]")
                object.__setattr__(self, "hidden", hidden)


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
    """Linear layer whose forward pass uses odd-level weights ``nearest_odd_level(w k) / k``
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
            k = best_scale(w, self.bits, axis=1 if self.per_row else None)
            self.scale.copy_(torch.as_tensor(np.broadcast_to(k, (w.shape[0], 1)).copy(), dtype=torch.float32))

    def quantized_weight(self):
        if self.bits is None:
            return self.weight
        q = contract.nearest_odd_level(self.weight * self.scale, self.bits) / self.scale
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


def _rates_in(x, frames: int) -> torch.Tensor:
    return input_rates(np.asarray(x), frames)


def _fit(model, ds, config, desc, progress, generator):
    x, y = _rates_in(ds.x_train, ds.frames), torch.tensor(ds.y_train)
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
        predicted = model(_rates_in(ds.x_test, ds.frames)).argmax(1).numpy()
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
    frames: int = 1                      # frames per sample of the data set (a time series: > 1)
    energy_reference: float | None = None    # penalty_0 of the hardware-aware stage
    energy_history: list = field(default_factory=list)

    def effective_weights(self, layer):
        """Weights the ANN computes with: the odd-level grid of training when it was
        quantization-aware, else the float weights."""
        w = self.weights[layer]
        if self.quant_scales is None:
            return w
        k = self.quant_scales[layer]
        return odd_level_codes(w * k, self.config.weight_bits) / k

    def activations(self, x_uint8):
        """ANN activations of every layer for ``x`` (uint8 intensities): list of numpy arrays,
        entry 0 the input rates, hidden entries ``amplitude * r`` and the last the logits;
        also the hidden rates in Hz."""
        c = self.config
        a = _rates_in(x_uint8, self.frames).double()
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
        Inputs are read as firing probabilities ``x / 255`` (averaged over the frames of a
        time series).
    config : SoftLifConfig
        Neuron and training settings.
    progress : bool
        tqdm bar over epochs.
    compare_relu : bool
        Also train the ReLU twin (same sizes, optimizer, epochs and seed).

    Returns
    -------
    TrainedSoftLif

    Raises
    ------
    DatasetError
        If the data set's samples do not fit the network (naming their shape).
    """
    if not isinstance(config, SoftLifConfig):
        raise ValueError(f"config must be a SoftLifConfig (got {type(config).__name__})")
    check_inputs(ds, "train_softlif")
    with shape_errors(ds, "train_softlif"):
        return _train_softlif(ds, config, progress, compare_relu)


def _train_softlif(ds, config, progress, compare_relu):
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
    energy = (None, [])
    if config.energy_epochs:
        from .softlif_energy import fine_tune_softlif

        reference, spent, more = fine_tune_softlif(net, _rates_in(ds.x_train, ds.frames), torch.tensor(ds.y_train),
                                                   config, generator, progress=progress)
        energy, losses = (reference, spent), losses + more
        with torch.no_grad():
            acc_softlif = float((net(_rates_in(ds.x_test, ds.frames)).argmax(1).numpy() == ds.y_test).mean())
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
        train_seconds=time.perf_counter() - t0, frames=ds.frames,
        energy_reference=energy[0], energy_history=energy[1],
    )


def odd_level_codes(v, bits):
    """:func:`spinaps.contract.nearest_odd_level` of ``v`` as ``int64`` weight codes (numpy)."""
    return contract.nearest_odd_level(np.asarray(v, dtype=np.float64), bits).astype(np.int64)


def best_scale(w, bits, axis):
    """Per-row (``axis=1``) or per-matrix (``axis=None``) scale ``K`` minimising
    ``|w - nearest_odd_level(w K) / K|^2`` over clipping fractions of the largest magnitude."""
    top = contract.weight_max(bits)
    mag = np.abs(w).max(axis=axis, keepdims=axis is not None)
    mag = np.where(mag > 0, mag, 1.0)
    best_k, best_err = None, None
    for frac in np.linspace(0.05, 1.0, 39):
        k = top / (mag * frac)
        err = ((w - odd_level_codes(w * k, bits) / k) ** 2).sum(axis=axis, keepdims=axis is not None)
        if best_err is None:
            best_k, best_err = k, err
        else:
            better = err < best_err
            best_k, best_err = np.where(better, k, best_k), np.where(better, err, best_err)
    return best_k


