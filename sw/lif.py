"""Direct training of LIF networks through time with surrogate gradients.

The float LIF layer here runs exactly the integer rules of docs/semantics.md section 5b in
its forward pass: odd-level weights in code units (straight-through estimator, as the GLM
layer), an integer bias, the floor leak ``v >> leak_shift``, saturation to ``v_bits``, a
fixed integer threshold and reset by subtraction or to zero. Given the same input spikes,
its potentials and spikes are the golden model's, so the export is a copy of integers.
Gradients pass the threshold through a fast-sigmoid surrogate.

Networks: LIF hidden layers (deterministic spikes) feeding either the SpinAPS GLM
first-to-spike output layer (a *hybrid*, trained end to end with the first-to-spike loss)
or a LIF output layer read out by spike count, first spike or max potential.

:class:`TorchLifLayer` is the trainable torch model of a LIF layer; the Amaranth component
that runs it is :class:`spinaps.hdl.lif_layer.LifLayer`, its integer form
:class:`spinaps.sw.golden.LifLayerParams`.

:func:`fine_tune` is the hardware-aware stage (docs/training.md; the loop is
:mod:`spinaps.sw.hwaware`'s, the estimate :mod:`spinaps.sw.energy`'s). The module is longer than
most (about 520 lines): the network, its trainer and that stage share the training inputs,
the spike sampling and the config, and splitting them would spread one trainer over files.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from spinaps import contract
from spinaps.contract import LAYER_TYPES, MAX_LAYERS, RANGES, RESETS, WEIGHT_BITS

from .ann import AnnConfig, train_mlp
from .basis import quantize_basis, raised_cosine_basis
from .checks import at_least, prefixed, real
from .datasets import STATIC_T_MAX, Dataset, check_inputs, shape_errors
from .energy import LayerGeometry, check_energy_fields, device_coefficients, estimate_energy, penalty_value, survival
from .export import encoder_fields, glm_layer_params, split_seeds
from .glm import TorchGlmLayer, bernoulli_spikes, ste_nearest_odd_level
from .golden import GoldenModel, LifLayerParams
from .hwaware import fine_tune_loop
from .lanes import DEFAULT_ENCODER_LANES, default_lanes
from .loss import decision_loss, expected_error, first_to_spike_loss
from .train import _lr_factor

__all__ = ["LifNetConfig", "TorchLifLayer", "SpikingNet", "TrainedNet", "train_network", "fine_tune", "to_golden",
           "training_record"]

#: Training losses of a hybrid network (LifNetConfig.loss).
LOSSES = ("alone", "decision")
#: The fields of the hardware-aware fine-tuning stage (:func:`fine_tune`).
_ENERGY_FIELDS = ("energy_beta", "energy_window", "energy_epochs", "energy_lr", "energy_penalty")


class _Spike(torch.autograd.Function):
    """Heaviside forward; fast-sigmoid derivative ``1 / (1 + k|x|)^2`` backward."""

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1.0 + ctx.slope * x.abs()) ** 2, None


def _ste_floor(x):
    return x + (torch.floor(x) - x).detach()


def _ste_round(x):
    return x + (torch.round(x) - x).detach()


class TorchLifLayer(nn.Module):
    """Integer-exact float LIF layer (docs/semantics.md 5b), trainable by surrogate gradients.

    Parameters
    ----------
    n_in, n_out : int
        Inputs and neurons.
    weight_bits : int
        Cells per weight (odd levels ``-(2^b-1) .. 2^b-1``).
    threshold : int
        Threshold in potential units, the same for every neuron.
    v_bits, leak_shift, reset : int, int, str
        As in the artifact.
    slope : float
        Surrogate sharpness, per threshold unit.
    """

    def __init__(self, n_in, n_out, *, weight_bits=4, threshold=60, v_bits=12, leak_shift=3,
                 reset="subtract", slope=4.0):
        super().__init__()
        contract.check_choice("weight_bits", weight_bits, WEIGHT_BITS)
        contract.check_int("threshold", threshold, 1, contract.potential_bounds(v_bits)[1],
                           f"v_bits = {v_bits}")
        self.n_in, self.n_out, self.weight_bits = n_in, n_out, weight_bits
        self.threshold, self.v_bits, self.leak_shift, self.reset, self.slope = threshold, v_bits, leak_shift, reset, slope
        self.weight = nn.Parameter(torch.zeros(n_out, n_in))     # latent, [-1, 1] of the code range
        self.bias = nn.Parameter(torch.zeros(n_out))             # potential units

    def weight_levels(self):
        return ste_nearest_odd_level(self.weight * 2.0**self.weight_bits, self.weight_bits)

    def bias_levels(self):
        return _ste_round(self.bias)

    def forward(self, s):
        """Potentials ``u`` (saturated, before reset) and spikes ``y``, both ``(B, T, n_out)``."""
        b, t_max, _ = s.shape
        acc = (s.reshape(b * t_max, -1) @ self.weight_levels().T).reshape(b, t_max, -1)
        bias = self.bias_levels()
        lo, hi = contract.potential_bounds(self.v_bits)
        v = torch.zeros(b, self.n_out, dtype=s.dtype)
        us, ys = [], []
        for t in range(t_max):
            # contract.lif_integrate in floats: the floor leak has a straight-through gradient.
            leak = _ste_floor(v / 2**self.leak_shift) if self.leak_shift else 0.0
            u = torch.clamp(v - leak + acc[:, t] + bias, lo, hi)
            y = _Spike.apply((u - self.threshold) / self.threshold, self.slope)
            reset = y.detach()
            v = u - self.threshold * reset if self.reset == "subtract" else u * (1.0 - reset)
            us.append(u)
            ys.append(y)
        return torch.stack(us, dim=1), torch.stack(ys, dim=1)

    @torch.no_grad()
    def init_parameters(self, s_sample, generator, drive_std=1.0):
        """Random latent weights scaled so the step drive's spread is ``drive_std`` thresholds."""
        self.weight.uniform_(-1.0, 1.0, generator=generator)
        for _ in range(3):      # the odd-level rounding makes the scale non-linear: iterate
            acc = s_sample.reshape(-1, self.n_in) @ self.weight_levels().T
            ratio = drive_std * self.threshold / acc.std().clamp_min(1e-6)
            self.weight.mul_(ratio).clamp_(-1.0, 1.0)

    @torch.no_grad()
    def project_(self):
        top = min(contract.potential_bounds(self.v_bits)[1], 4 * self.threshold)
        self.weight.clamp_(-1.0, 1.0)
        self.bias.clamp_(-top, top)

    def to_params(self, lanes):
        """The integer layer (:class:`~spinaps.sw.golden.LifLayerParams`)."""
        with torch.no_grad():
            w = self.weight_levels().round().to(torch.int64).numpy()
            bias = self.bias_levels().round().to(torch.int64).numpy()
        return LifLayerParams(weights=w.astype(np.int16), weight_bits=self.weight_bits,
                              threshold=np.full(self.n_out, self.threshold, dtype=np.int32),
                              bias=bias.astype(np.int32), v_bits=self.v_bits, leak_shift=self.leak_shift,
                              reset=self.reset, refractory=0, lanes=lanes)


@dataclass(frozen=True)
class LifNetConfig:
    """A LIF or hybrid network and its training.

    ``output = "glm"`` is the hybrid (LIF hidden layers, GLM first-to-spike output layer);
    ``output = "lif"`` an all-LIF network decoded by ``decision``. ``threshold`` ``None``
    means ``4 * (2**weight_bits - 1)`` of each layer. ``weight_bits`` is one width for every
    layer or a tuple with one per layer (hidden layers first, then the output layer), e.g.
    ``(4, 2)``. ``loss`` (hybrid only): ``"alone"`` maximises the
    probability that the true class spikes first alone (SpinAPS), ``"decision"`` that the
    decision rule picks it (:func:`~spinaps.sw.loss.decision_loss`). ``expected_from``
    (hybrid only): from this fraction of the epochs on, the loss is the expected error
    ``1 - P`` of that probability instead of ``-log P`` (:func:`~spinaps.sw.loss.expected_error`);
    ``None`` keeps ``-log P`` throughout.

    Hardware-aware fine-tuning (docs/training.md): after the ``epochs`` of task training,
    ``energy_epochs`` more epochs minimise ``L_task + energy_beta * E_hat / E_hat_0``, with
    ``E_hat`` the differentiable energy estimate of :mod:`spinaps.sw.energy` for window length
    ``energy_window`` and ``E_hat_0`` its value after the first stage (``energy_penalty =
    "l1"``: the hidden and output spike count instead, the ablation). The learning rate starts
    at ``energy_lr * lr`` and decays to ``lr_final * lr``. ``energy_beta = 0`` with
    ``energy_epochs > 0`` is plain fine-tuning (the baseline of the same length).
    """

    hidden: tuple = (64,)
    output: str = "glm"
    decision: str = "first_to_spike"
    weight_bits: int | tuple = 4
    threshold: int | None = None
    v_bits: int = 12
    leak_shift: int = 2
    reset: str = "subtract"
    t_max: int = STATIC_T_MAX["lif"]
    epochs: int = 60
    lr: float = 2e-2
    lr_final: float = 0.05
    batch_size: int = 64
    seed: int = 0
    n_basis: int = 2
    tau: int = 8
    basis_bits: int = 2
    u_range: float = 8.0
    readout_v_bits: int = 16
    max_train: int | None = None
    ann_baseline: bool = True
    loss: str = "alone"
    expected_from: float | None = None
    energy_beta: float = 0.0
    energy_window: int = 1
    energy_epochs: int = 0
    energy_lr: float = 0.25
    energy_penalty: str = "energy"

    def __post_init__(self):
        with prefixed("LifNetConfig."):
            check_energy_fields(self)
            if not isinstance(self.hidden, (tuple, list)) or not 1 <= len(self.hidden) < MAX_LAYERS:
                raise ValueError(f"hidden = {self.hidden!r} must list 1..{MAX_LAYERS - 1} hidden "
                                 f"layer sizes (a network has at most {MAX_LAYERS} layers)")
            for i, h in enumerate(self.hidden):
                contract.check("n_out", h, field=f"hidden[{i}]")
            contract.check_choice("output", self.output, LAYER_TYPES)
            # The structural rules (a GLM output decides first-to-spike), with placeholder
            # input and class counts: the data set sets them.
            sizes = list(zip((1, *self.hidden), (*self.hidden, RANGES["n_classes"].lo)))
            contract.check_network(["lif"] * len(self.hidden) + [self.output], sizes, self.decision)
            if isinstance(self.weight_bits, (tuple, list)):
                if len(self.weight_bits) != len(self.hidden) + 1:
                    raise ValueError(f"weight_bits = {tuple(self.weight_bits)!r} must give one width per "
                                     f"layer ({len(self.hidden) + 1}: the hidden layers, then the output) "
                                     f"or one for all")
                object.__setattr__(self, "weight_bits", tuple(self.weight_bits))
            for i in range(len(self.hidden) + 1):
                contract.check_choice(f"weight_bits of layer {i}", self.bits(i), WEIGHT_BITS)
            contract.check("v_bits", self.v_bits)
            contract.check("v_bits", self.readout_v_bits, field="readout_v_bits")
            contract.check("leak_shift", self.leak_shift)
            contract.check_choice("reset", self.reset, RESETS)
            contract.check_choice("loss", self.loss, LOSSES)
            if self.expected_from is not None:
                real("expected_from", self.expected_from, lo=0, hi=1)
                if self.output != "glm":
                    raise ValueError(f"expected_from = {self.expected_from!r} must be None for an "
                                     f"all-LIF network (it applies to the first-to-spike "
                                     f"probability of a GLM output)")
            contract.check("t_max", self.t_max)
            at_least("epochs", self.epochs, 1)
            real("lr", self.lr, lo=0, lo_open=True)
            if self.max_train is not None:
                at_least("max_train", self.max_train, 1)
            contract.check("tau", self.tau)
            basis = RANGES["basis"]
            contract.check_int("n_basis", self.n_basis, basis.lo, min(basis.hi, self.tau),
                               f"{basis.meaning}, at most tau = {self.tau}")
            contract.check("basis_bits", self.basis_bits)
            for i in range(len(self.hidden) + 1):
                contract.check_int("threshold", self.theta_of(i), 1, contract.potential_bounds(self.v_bits)[1],
                                   f"v_bits = {self.v_bits}")

    def bits(self, layer: int) -> int:
        """Weight width of layer ``layer`` (0 = the first hidden layer; the last is the output)."""
        return self.weight_bits[layer] if isinstance(self.weight_bits, tuple) else self.weight_bits

    def theta_of(self, layer: int) -> int:
        """LIF threshold of layer ``layer``: ``threshold``, or 4 of that layer's largest weights."""
        return self.threshold if self.threshold is not None else 4 * contract.weight_max(self.bits(layer))

    @property
    def name(self):
        out = "GLM first-to-spike" if self.output == "glm" else f"LIF {self.decision.replace('_', '-')}"
        return f"{' -> '.join(str(h) + ' LIF' for h in self.hidden)} -> {out}"


class SpikingNet(nn.Module):
    """LIF hidden layers, then a GLM (hybrid) or LIF output layer."""

    def __init__(self, n_in, n_classes, config: LifNetConfig):
        super().__init__()
        self.config = config
        sizes = [n_in, *config.hidden]
        self.hidden = nn.ModuleList([
            TorchLifLayer(a, b, weight_bits=config.bits(i), threshold=config.theta_of(i), v_bits=config.v_bits,
                          leak_shift=config.leak_shift, reset=config.reset)
            for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))])
        last = len(config.hidden)
        if config.output == "glm":
            basis_float = raised_cosine_basis(config.n_basis, config.tau)
            self.basis_int, self.basis_scale = quantize_basis(basis_float, config.basis_bits)
            self.out = TorchGlmLayer(sizes[-1], n_classes, self.basis_int, weight_bits=config.bits(last),
                                u_range=config.u_range)
        elif config.decision == "max_potential":
            # A read-out that integrates without leak and never reaches its threshold.
            top = contract.potential_bounds(config.readout_v_bits)[1]
            self.out = TorchLifLayer(sizes[-1], n_classes, weight_bits=config.bits(last), threshold=top,
                                v_bits=config.readout_v_bits, leak_shift=0, reset="subtract")
        else:
            self.out = TorchLifLayer(sizes[-1], n_classes, weight_bits=config.bits(last),
                                     threshold=config.theta_of(last),
                                v_bits=config.v_bits, leak_shift=config.leak_shift, reset=config.reset)

    def forward(self, x):
        """Output potentials and spikes (``None`` for a GLM output), and the hidden spikes."""
        s, hidden = x, []
        for layer in self.hidden:
            _, s = layer(s)
            hidden.append(s)
        if self.config.output == "glm":
            return self.out(s), None, hidden
        u, y = self.out(s)
        return u, y, hidden

    def loss(self, x, labels, expected=False):
        """Training loss of a batch; ``expected`` (GLM output) asks for ``1 - P`` instead of ``-log P``."""
        u, y, _ = self(x)
        return self.task_loss(u, y, labels, expected)

    def geometry(self, lanes=None):
        """:class:`~spinaps.sw.energy.LayerGeometry` of every layer (``lanes`` default: ``default_lanes``)."""
        layers = [*self.hidden, self.out]
        lanes = [default_lanes(layer.n_out) for layer in layers] if lanes is None else list(lanes)
        geo = [LayerGeometry.lif(h.n_in, h.n_out, p, h.weight_bits, h.v_bits) for h, p in zip(self.hidden, lanes)]
        if self.config.output == "glm":
            geo.append(LayerGeometry.glm(self.out.n_in, self.out.n_out, lanes[-1], self.out.weight_bits,
                                         self.basis_int, self.config.basis_bits))
        else:
            geo.append(LayerGeometry.lif(self.out.n_in, self.out.n_out, lanes[-1], self.out.weight_bits,
                                         self.out.v_bits))
        return geo

    def energy(self, x, u, y, hidden, coefficients, window=1, lanes=None):
        """:func:`~spinaps.sw.energy.estimate_energy` of a forward pass ``(u, y, hidden) = self(x)``."""
        glm = self.config.output == "glm"
        alive = survival(self.config.decision, u=u if glm else None, y=None if glm else y,
                         kind="glm" if glm else "lif")
        return estimate_energy([x, *hidden], self.geometry(lanes), coefficients, window=window, steps_alive=alive)

    def task_loss(self, u, y, labels, expected=False):
        """The task loss of a forward pass ``(u, y, _) = self(x)``."""
        c = self.config
        if c.output == "glm":
            nll = (decision_loss if c.loss == "decision" else first_to_spike_loss)(u, labels, reduction="none")
            return (expected_error(nll) if expected else nll).mean()
        t_max = u.shape[1]
        if c.decision == "max_potential":
            logits = u[:, -1] / (4 * c.theta_of(0))
        elif c.decision == "spike_count":
            logits = y.sum(dim=1) * (8.0 / t_max)
        else:   # first spike: earlier spikes weigh more, so the right neuron learns to fire first
            weight = torch.linspace(1.0, 1.0 / t_max, t_max)
            logits = (y * weight[None, :, None]).sum(dim=1) * 4.0
        return F.cross_entropy(logits, labels)

    def project_(self):
        for layer in self.hidden:
            layer.project_()
        self.out.project_()


@dataclass
class TrainedNet:
    """A trained network with what the exporter and the reports need."""

    model: SpikingNet
    config: LifNetConfig
    dataset_name: str
    dataset_sha256: str
    frames: int
    ann_accuracy: float | None
    train_seconds: float
    loss_history: list = field(default_factory=list)
    energy_reference: float | None = None    # E_hat_0 (pJ, or spikes for "l1") of the fine-tuning stage
    energy_history: list = field(default_factory=list)   # mean penalty per fine-tuning epoch


def train_network(dataset: Dataset, config: LifNetConfig = LifNetConfig(), *, progress=True) -> TrainedNet:
    """Train a LIF or hybrid network on fresh Bernoulli input spikes every batch (frame by
    frame for a time series).

    Deterministic for a given ``config.seed`` (and thread count). Raises
    :class:`~spinaps.sw.datasets.DatasetError` naming the data set's shape if its samples do
    not fit the network.
    """
    check_inputs(dataset, "train_network")
    with shape_errors(dataset, "train_network"):
        return _train_network(dataset, config, progress)


def _train_network(dataset: Dataset, config: LifNetConfig, progress: bool) -> TrainedNet:
    generator = torch.Generator().manual_seed(config.seed)
    frames = dataset.frames
    model = SpikingNet(dataset.n_in, dataset.n_classes, config)
    x_train, y_train = _training_inputs(dataset, config)

    def spikes(idx):
        return bernoulli_spikes(x_train[idx], config.t_max, generator, frames)

    # Data-dependent initial scales, layer by layer.
    sample = spikes(torch.randperm(len(x_train), generator=generator)[:256])
    with torch.no_grad():
        s = sample
        for layer in model.hidden:
            layer.init_parameters(s, generator)
            layer.bias.fill_(0.0)
            _, s = layer(s)
        if config.output == "glm":
            model.out.init_parameters(s, generator)
        else:
            model.out.init_parameters(s, generator, drive_std=1.0 if config.decision != "max_potential" else 0.05)

    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    history = []
    start = time.perf_counter()
    bar = tqdm(range(config.epochs), desc=f"{'hybrid' if config.output == 'glm' else 'lif'} {dataset.name}", unit="epoch", disable=not progress)
    for epoch in bar:
        for group in optimizer.param_groups:
            group["lr"] = config.lr * _lr_factor(epoch, config.epochs, config.lr_final)
        total, count = 0.0, 0
        expected = config.expected_from is not None and epoch >= config.expected_from * config.epochs
        for idx in torch.randperm(len(x_train), generator=generator).split(config.batch_size):
            loss = model.loss(spikes(idx), y_train[idx], expected=expected)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            model.project_()
            total += loss.item() * len(idx)
            count += len(idx)
        history.append(total / count)
        bar.set_postfix(loss=f"{history[-1]:.3f}")
    seconds = time.perf_counter() - start
    ann = train_mlp(dataset, list(config.hidden), AnnConfig(seed=config.seed)) if config.ann_baseline else None
    trained = TrainedNet(model=model, config=config, dataset_name=dataset.name, dataset_sha256=dataset.sha256,
                         frames=frames, ann_accuracy=ann, train_seconds=seconds, loss_history=history)
    return fine_tune(trained, dataset, progress=progress) if config.energy_epochs else trained


def _training_inputs(dataset, config):
    """Training images and labels as tensors (the fixed ``max_train`` subset when set)."""
    x_train, y_train = torch.tensor(dataset.x_train), torch.tensor(dataset.y_train)
    if config.max_train is not None and config.max_train < len(x_train):
        # A fixed subset (large data sets on a small machine); the ANN baseline sees all of it.
        keep = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(config.seed))[:config.max_train]
        x_train, y_train = x_train[keep], y_train[keep]
    return x_train, y_train


def fine_tune(trained: TrainedNet, dataset: Dataset, config: LifNetConfig | None = None, *, progress=True) -> TrainedNet:
    """The hardware-aware stage on a copy of ``trained``: ``config.energy_epochs`` epochs of
    ``L_task + energy_beta * penalty / penalty_0`` (LifNetConfig's docstring; ``config``
    default: the network's own). :func:`train_network` calls it after the task training, so a
    bench can train once and fine-tune with several ``energy_beta`` to the same result.
    Returns a new :class:`TrainedNet` with ``energy_reference`` (``penalty_0``) and
    ``energy_history`` (the mean penalty of each epoch; ``None`` entries when beta is 0).
    """
    config = trained.config if config is None else config
    if dataclasses.replace(config, **{f: getattr(trained.config, f) for f in _ENERGY_FIELDS}) != trained.config:
        raise ValueError("fine_tune: config may differ from the trained network's only in its energy_* fields")
    check_inputs(dataset, "fine_tune")
    model = copy.deepcopy(trained.model)
    model.config = config
    generator = torch.Generator().manual_seed(config.seed + 1)
    x_train, y_train = _training_inputs(dataset, config)

    def spikes(idx):
        return bernoulli_spikes(x_train[idx], config.t_max, generator, dataset.frames)

    coefficients = device_coefficients() if config.energy_penalty == "energy" else None

    def penalty(x, u, y, hidden):
        est = model.energy(x, u, y, hidden, coefficients, config.energy_window) if coefficients else None
        return penalty_value(config.energy_penalty, est, hidden + ([y] if y is not None else []))

    def batch_terms(idx, with_penalty):
        x = spikes(idx)
        u, y, hidden = model(x)
        task = model.task_loss(u, y, y_train[idx], expected=config.expected_from is not None)
        return task, penalty(x, u, y, hidden) if with_penalty else None

    start = time.perf_counter()
    with shape_errors(dataset, "fine_tune"):
        with torch.no_grad():       # penalty_0: the first stage's network on a fixed sample
            x0 = spikes(torch.randperm(len(x_train), generator=generator)[:256])
            reference = float(penalty(x0, *model(x0)))
        history, energy_history = fine_tune_loop(model, config, len(x_train), generator, batch_terms, reference,
                                                 desc=f"{dataset.name} energy", progress=progress,
                                                 lr_final=config.lr_final)
    history = list(trained.loss_history) + history
    return dataclasses.replace(trained, model=model, config=config, loss_history=history,
                               train_seconds=trained.train_seconds + time.perf_counter() - start,
                               energy_reference=reference, energy_history=energy_history)


def to_golden(trained: TrainedNet, *, encoder_lanes=None, lanes=None, u_bits=8, scale_bits=8, seed=0x5A1A,
              encoder="bernoulli"):
    """The integer network (:class:`~spinaps.sw.golden.GoldenModel`) of a trained one.

    ``lanes`` lists the accumulator lanes per layer (default:
    :func:`~spinaps.sw.lanes.default_lanes` of each); ``encoder_lanes`` ``None`` means
    :data:`~spinaps.sw.lanes.DEFAULT_ENCODER_LANES`. ``encoder`` is one of
    :data:`spinaps.contract.ENCODER_TYPES` (docs/semantics.md 3): ``"bernoulli"`` (the
    default) or ``"deterministic"``; an output GLM layer's seeds are the same with both.
    """
    net, c = trained.model, trained.config
    n_layers = len(net.hidden) + 1
    sizes = [layer.n_out for layer in net.hidden] + [net.out.n_out]
    lanes = list(lanes) if lanes is not None else [default_lanes(n) for n in sizes]
    encoder_lanes = DEFAULT_ENCODER_LANES if encoder_lanes is None else encoder_lanes
    if len(lanes) != n_layers:
        raise ValueError(f"lanes has {len(lanes)} entries; the network has {n_layers} layers")
    n_in = net.hidden[0].n_in
    encoder_lanes = min(encoder_lanes, n_in)
    encoder_seeds, neuron_seeds = split_seeds(seed, encoder_lanes, lanes[-1])
    layers = [layer.to_params(p) for layer, p in zip(net.hidden, lanes)]
    if c.output == "glm":
        layers.append(glm_layer_params(net.out, net.basis_int, c.basis_bits, lanes=lanes[-1], u_bits=u_bits,
                                       scale_bits=scale_bits, base_seeds=neuron_seeds))
    else:
        layers.append(net.out.to_params(lanes[-1]))
    return GoldenModel(t_max=c.t_max, layers=tuple(layers), decision=c.decision, frames=trained.frames,
                       **encoder_fields(encoder, encoder_seeds))


def training_record(trained: TrainedNet):
    """The artifact's free-form ``training`` record."""
    return {"config": asdict(trained.config), "train_seconds": round(trained.train_seconds, 3),
            "final_loss": trained.loss_history[-1] if trained.loss_history else None}
