"""Soft-LIF rate training, run as an integer LIF spiking network (Hunsberger & Eliasmith).

Hunsberger and Eliasmith (arXiv 1611.05141) train an ordinary network whose hidden units are
*soft-LIF* rate neurons, with noise on the rates, then run the same weights in spiking LIF
neurons. Here:

* :func:`softlif_rate` is their smoothed LIF rate curve,
  ``r(j) = 1 / (tau_ref + tau_rc * log(1 + 1 / rho(j - 1)))`` with
  ``rho(x) = gamma * log(1 + exp(x / gamma))``; :func:`lif_rate` the hard curve it smooths.
* :func:`train_softlif` trains ``n_in -> hidden... -> n_classes`` with soft-LIF hidden units
  (input current ``j = gain * (W a + b)``, output ``amplitude * r``, Gaussian noise of
  ``noise_hz`` on the rates where ``j > 1``) and a linear output layer, on input rates
  ``x / 255`` (the Bernoulli encoder's firing probability per step), next to a ReLU network
  of the same shape.
* :func:`convert` maps the trained network onto the hardware's integer LIF (docs/semantics.md
  5b). The continuous LIF ``tau_rc dv/dt = j - v`` (threshold 1, reset to 0, refractory
  ``tau_ref``) stepped with ``dt = tau_rc * 2**-leak_shift`` is ``v <- v - v * 2**-s + j *
  2**-s``: the shift leak of the hardware. In integer units where the threshold is ``theta``,
  a layer fed by spikes (one spike per step is ``amplitude`` / ``dt`` in the rate units of the
  next layer) adds ``theta * 2**-s * gain * (W * amplitude / dt)`` per input spike and
  ``theta * 2**-s * gain * b`` per step. ``theta`` is chosen per layer from activation
  statistics: the weights fill the ``weight_bits`` odd levels, and the ``percentile`` of the
  per-step drive over training samples must stay well inside ``v_bits``. The refractory
  period is ``round(tau_ref / dt)`` steps; reset by subtraction (a parameter; the continuous
  model resets to zero). The linear output layer becomes a non-leaking read-out whose
  potential after ``t_max`` steps is proportional to the logits (``max_potential``).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .ann import AnnConfig, train_mlp
from .datasets import Dataset
from .glm import WEIGHT_BITS
from .golden import GoldenModel, LifLayerParams

__all__ = ["SoftLifConfig", "TrainedSoftLif", "convert", "lif_rate", "softlif_rate", "train_softlif"]


@dataclass(frozen=True)
class SoftLifConfig:
    """Soft-LIF network, training and conversion settings (published MNIST values by default).

    Attributes
    ----------
    tau_rc, tau_ref : float
        Membrane and refractory time constants in seconds (0.022, 0.002).
    gamma : float
        Smoothing of the soft-LIF curve (0.02).
    gain, amplitude : float
        Input-current gain and output scale of the rates (1.0, 0.063).
    noise_hz : float
        Standard deviation of the training noise on the rates, in Hz (10).
    hidden : tuple of int
        Hidden layer sizes.
    epochs, lr, batch_size, seed : training settings.
    weight_bits : int
        Cells per converted weight (1, 2, 4, 8).
    t_max : int
        Steps the converted network runs.
    leak_shift : int
        ``dt = tau_rc * 2**-leak_shift`` (4: dt = 1.375 ms).
    reset : str
        ``"subtract"`` or ``"zero"`` after a spike.
    v_bits, readout_v_bits : int
        Potential widths of hidden and read-out layers.
    percentile : float
        Activation statistic that sizes the integer range (per-step drive).
    weight_percentile : float
        Weights above this percentile of ``|w|`` saturate at the largest level, so the odd
        levels (which have no zero) resolve the bulk of the weights.
    """

    tau_rc: float = 0.022
    tau_ref: float = 0.002
    gamma: float = 0.02
    gain: float = 1.0
    amplitude: float = 0.063
    noise_hz: float = 10.0
    hidden: tuple = (128,)
    epochs: int = 30
    lr: float = 2e-3
    batch_size: int = 64
    seed: int = 0
    weight_bits: int = 4
    t_max: int = 128
    leak_shift: int = 4
    reset: str = "subtract"
    v_bits: int = 16
    readout_v_bits: int = 20
    percentile: float = 99.9
    weight_percentile: float = 95.0

    def __post_init__(self):
        def need(ok, name, rule):
            if not ok:
                raise ValueError(f"SoftLifConfig.{name} must be {rule} (got {getattr(self, name)!r})")

        for name in ("tau_rc", "gamma", "gain", "amplitude", "lr"):
            value = getattr(self, name)
            need(isinstance(value, (int, float)) and math.isfinite(value) and value > 0, name, "a finite number > 0")
        need(isinstance(self.tau_ref, (int, float)) and 0 <= self.tau_ref < 1, "tau_ref", "in [0, 1) seconds")
        need(self.noise_hz >= 0, "noise_hz", ">= 0")
        need(len(self.hidden) >= 1 and all(isinstance(h, int) and h >= 1 for h in self.hidden), "hidden",
             "one or more positive layer sizes")
        need(self.weight_bits in WEIGHT_BITS, "weight_bits", "one of 1, 2, 4, 8")
        need(isinstance(self.t_max, int) and 1 <= self.t_max <= 255, "t_max", "an integer in 1..255")
        need(isinstance(self.leak_shift, int) and 1 <= self.leak_shift <= 15, "leak_shift", "an integer in 1..15")
        need(self.reset in ("subtract", "zero"), "reset", '"subtract" or "zero"')
        need(isinstance(self.v_bits, int) and 6 <= self.v_bits <= 24, "v_bits", "an integer in 6..24")
        need(isinstance(self.readout_v_bits, int) and 6 <= self.readout_v_bits <= 24, "readout_v_bits",
             "an integer in 6..24")
        need(0 < self.percentile <= 100, "percentile", "in (0, 100]")
        need(0 < self.weight_percentile <= 100, "weight_percentile", "in (0, 100]")
        need(isinstance(self.epochs, int) and self.epochs >= 1, "epochs", "an integer >= 1")

    @property
    def dt(self):
        """Seconds per step of the converted network."""
        return self.tau_rc * 2.0**-self.leak_shift

    @property
    def refractory(self):
        return min(15, round(self.tau_ref / self.dt))


def lif_rate(j, tau_rc=0.022, tau_ref=0.002):
    """The LIF firing rate (Hz) for input current ``j`` (threshold 1): 0 for ``j <= 1``."""
    j = torch.as_tensor(j, dtype=torch.float64)
    out = torch.zeros_like(j)
    above = j > 1
    out[above] = 1.0 / (tau_ref + tau_rc * torch.log1p(1.0 / (j[above] - 1.0)))
    return out


def softlif_rate(j, tau_rc=0.022, tau_ref=0.002, gamma=0.02):
    """The soft-LIF rate: :func:`lif_rate` with ``j - 1`` replaced by ``gamma * log(1 + exp((j-1)/gamma))``,
    so the derivative stays bounded at the threshold."""
    rho = gamma * F.softplus((j - 1.0) / gamma)
    return 1.0 / (tau_ref + tau_rc * torch.log1p(1.0 / rho.clamp_min(1e-12)))


class SoftLifNet(nn.Module):
    """``n_in -> hidden (soft-LIF) ... -> n_classes (linear)``, or the same with ReLU."""

    def __init__(self, n_in, n_classes, config: SoftLifConfig, relu=False):
        super().__init__()
        sizes = [n_in, *config.hidden, n_classes]
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])
        self.config, self.relu = config, relu

    def hidden_currents(self, x, noise=None):
        """The input current ``j`` of every hidden layer and the network's logits."""
        c, currents, a = self.config, [], x
        for layer in self.layers[:-1]:
            j = c.gain * layer(a)
            currents.append(j)
            if self.relu:
                a = torch.relu(j)
                continue
            r = softlif_rate(j, c.tau_rc, c.tau_ref, c.gamma)
            if noise is not None and c.noise_hz > 0:
                r = r + (j > 1).to(r.dtype) * c.noise_hz * torch.randn(r.shape, generator=noise)
            a = c.amplitude * r
        return currents, self.layers[-1](a)

    def forward(self, x, noise=None):
        return self.hidden_currents(x, noise)[1]


@dataclass
class TrainedSoftLif:
    """The trained soft-LIF network with its ReLU twin and accuracies."""

    model: SoftLifNet
    config: SoftLifConfig
    dataset_name: str
    dataset_sha256: str
    accuracy_softlif: float
    accuracy_relu: float
    train_seconds: float


def _rates(x):
    return torch.tensor(np.asarray(x), dtype=torch.float32) / 255.0


def train_softlif(ds: Dataset, config: SoftLifConfig = SoftLifConfig(), *, progress=True) -> TrainedSoftLif:
    """Train the soft-LIF network (noise on the rates) and the same-shape ReLU network."""
    if getattr(ds, "frames", 1) != 1:
        raise ValueError(f"soft-LIF conversion takes static inputs; data set {ds.name!r} has frames")
    g = torch.Generator().manual_seed(config.seed)
    model = SoftLifNet(ds.n_in, ds.n_classes, config)
    with torch.no_grad():
        for layer in model.layers:
            layer.weight.normal_(0.0, (1.0 / layer.in_features) ** 0.5 * 4, generator=g)
            layer.bias.fill_(0.0)
    x, y = _rates(ds.x_train), torch.tensor(ds.y_train)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    t0 = time.perf_counter()
    for _ in tqdm(range(config.epochs), desc=f"soft-LIF {ds.name}", unit="epoch", disable=not progress):
        for idx in torch.randperm(len(x), generator=g).split(config.batch_size):
            optimizer.zero_grad()
            F.cross_entropy(model(x[idx], noise=g), y[idx]).backward()
            optimizer.step()
    seconds = time.perf_counter() - t0
    with torch.no_grad():
        acc = float((model(_rates(ds.x_test)).argmax(1).numpy() == ds.y_test).mean())
    relu = train_mlp(ds, list(config.hidden), AnnConfig(seed=config.seed, epochs=config.epochs))
    return TrainedSoftLif(model=model, config=config, dataset_name=ds.name, dataset_sha256=ds.sha256,
                          accuracy_softlif=acc, accuracy_relu=relu, train_seconds=seconds)


def _odd(w, bits):
    top = 2**bits - 1
    return np.clip(2 * np.floor(w / 2) + 1, -top, top).astype(np.int64)


def convert(trained: TrainedSoftLif, ds: Dataset, *, encoder_lanes=16, lanes=None, seed=0x50F7) -> GoldenModel:
    """The integer LIF network (max-potential read-out) of a trained soft-LIF network."""
    from .export import splitmix32_seeds

    c, net = trained.config, trained.model
    top = 2**c.weight_bits - 1
    step = 2.0**-c.leak_shift                       # dt / tau_rc
    x = _rates(ds.x_train[: min(2000, len(ds.x_train))])
    with torch.no_grad():
        currents, _ = net.hidden_currents(x)
    layers, sizes = [], [layer.out_features for layer in net.layers]
    lanes = lanes or [min(n, 16) for n in sizes[:-1]] + [sizes[-1]]
    spike_unit = 1.0                                # input spikes carry rate x (per step) in ANN units
    for index, layer in enumerate(net.layers[:-1]):
        w = layer.weight.detach().double().numpy() * spike_unit
        b = layer.bias.detach().double().numpy()
        per_unit = step * c.gain                    # threshold units per unit of W a + b, per step
        # theta: the weights fill the odd levels; the percentile of the per-step drive
        # (in threshold units: gain * j * dt / tau_rc) keeps v far from saturation.
        theta_w = top / (np.percentile(np.abs(w), c.weight_percentile) * per_unit)
        drive = np.percentile(np.abs(currents[index].numpy()) * step, c.percentile)
        theta_v = (2 ** (c.v_bits - 1) - 1) / (4.0 * max(drive, 1.0))
        theta = int(max(1, min(theta_w, theta_v, 2 ** (c.v_bits - 1) - 1)))
        w_int = _odd(theta * per_unit * w, c.weight_bits)
        half = 2 ** (c.v_bits - 1)
        bias = np.clip(np.rint(theta * per_unit * b), -half, half - 1).astype(np.int64)
        layers.append(LifLayerParams(weights=w_int.astype(np.int16), weight_bits=c.weight_bits,
                                     threshold=np.full(len(b), theta, np.int32), bias=bias.astype(np.int32),
                                     v_bits=c.v_bits, leak_shift=c.leak_shift, reset=c.reset,
                                     refractory=c.refractory, lanes=lanes[index]))
        spike_unit = c.amplitude / c.dt             # one spike per step = amplitude / dt in rate units
    out = net.layers[-1]
    w = out.weight.detach().double().numpy() * spike_unit
    b = out.bias.detach().double().numpy()
    scale = top / np.percentile(np.abs(w), c.weight_percentile)
    half = 2 ** (c.readout_v_bits - 1)
    layers.append(LifLayerParams(
        weights=_odd(scale * w, c.weight_bits).astype(np.int16), weight_bits=c.weight_bits,
        threshold=np.full(len(b), half - 1, np.int32),
        bias=np.clip(np.rint(scale * b), -half, half - 1).astype(np.int32), v_bits=c.readout_v_bits,
        leak_shift=0, reset="subtract", refractory=0, lanes=lanes[-1]))
    encoder_lanes = min(encoder_lanes, ds.n_in)
    return GoldenModel(t_max=c.t_max, encoder_base_seeds=splitmix32_seeds(seed, encoder_lanes),
                       layers=tuple(layers), decision="max_potential")


def training_record(trained: TrainedSoftLif):
    return {"config": asdict(trained.config), "train_seconds": round(trained.train_seconds, 3),
            "accuracy_softlif_ann": trained.accuracy_softlif, "accuracy_relu_ann": trained.accuracy_relu}
