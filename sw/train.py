"""Training and float evaluation of the GLM first-to-spike network (SpinAPS).

:func:`train_glm` fits a :class:`~spinaps.sw.glm.TorchGlmLayer` to a data set by maximising the
first-to-spike log-likelihood (:mod:`spinaps.sw.loss`) on freshly sampled Bernoulli input
spikes, with quantized weights (straight-through estimator) or full precision.
:func:`evaluate_float` runs the trained float model as the stochastic spiking network the
hardware implements (Bernoulli inputs, Bernoulli outputs, first spike decides). Time series
(``Dataset.frames > 1``) are encoded frame by frame, as the hardware's encoder does.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from spinaps import contract
from spinaps.contract import RANGES, WEIGHT_BITS

from .ann import AnnConfig, train_ann
from .basis import quantize_basis, raised_cosine_basis
from .checks import at_least, flag, prefixed, real
from .datasets import STATIC_T_MAX, Dataset, check_inputs, shape_errors
from .glm import TorchGlmLayer, bernoulli_spikes
from .golden import argmax_lowest, classes_by_step, first_to_spike
from .loss import first_to_spike_decision_probs, first_to_spike_loss

__all__ = ["FloatEval", "GlmTrainConfig", "TrainedGlm", "evaluate_float", "train_glm"]


@dataclass(frozen=True)
class GlmTrainConfig:
    """Model and training settings of a GLM first-to-spike layer.

    Attributes
    ----------
    weight_bits : int
        Binary cells per weight, one of 1, 2, 4, 8.
    n_basis : int
        ``K``, number of basis functions (manifest key ``basis``), 1..4, ``<= tau``.
    tau : int
        Spike-history window in steps, 1..8.
    basis_bits : int
        Bits per entry of the integer basis table, 1..8.
    t_max : int
        Decision deadline ``T_max`` of the exported model, 1..255.
    t_train : int or None
        Steps simulated per training sample; ``None`` means ``t_max``.
    epochs : int
        Passes over the training set.
    lr : float
        Adam learning rate.
    lr_final : float
        Learning rate of the last epoch, as a fraction of ``lr`` (cosine decay);
        1 keeps it constant.
    batch_size : int
        Samples per step.
    seed : int
        Seeds initialisation, shuffling and spike sampling (and the evaluation).
    full_precision : bool
        Train unrounded weights (comparison mode); the export still rounds them to
        ``weight_bits``.
    u_range : float
        Potentials saturate at ``+-u_range`` (mapped to the ``u_bits`` register on export).
    gamma_init : float
        Initial bias (negative: neurons start quiet).
    drive_std : float
        Initial standard deviation of the synaptic part of the potential.
    eval_repeats : int
        Passes over the test set averaged by the final float evaluation.
    ann_baseline : bool
        Also train the equivalent ANN and record its accuracy.
    """

    # Defaults: the digits demo. Two broad raised cosines over an 8-step history give the
    # memoryless GLM (n_basis=1, tau=1: about 0.87 on digits) the evidence of several
    # steps (about 0.93 at 4 bits) while most inferences still end by step 4-5.
    weight_bits: int = 4
    n_basis: int = 2
    tau: int = 8
    basis_bits: int = 2
    t_max: int = STATIC_T_MAX["glm"]
    t_train: int | None = None
    epochs: int = 60
    lr: float = 2e-2
    lr_final: float = 0.05
    batch_size: int = 64
    seed: int = 0
    full_precision: bool = False
    u_range: float = 8.0
    gamma_init: float = -4.0
    drive_std: float = 2.0
    eval_repeats: int = 4
    ann_baseline: bool = True

    def __post_init__(self) -> None:
        with prefixed("GlmTrainConfig."):
            contract.check_choice("weight_bits", self.weight_bits, WEIGHT_BITS)
            contract.check("tau", self.tau)
            basis = RANGES["basis"]
            contract.check_int("n_basis", self.n_basis, basis.lo, min(basis.hi, self.tau),
                               f"{basis.meaning}, at most tau = {self.tau}")
            contract.check("basis_bits", self.basis_bits)
            contract.check("t_max", self.t_max)
            if self.t_train is not None:
                at_least("t_train", self.t_train, 1)
            at_least("epochs", self.epochs, 1)
            real("lr", self.lr, lo=0, lo_open=True)
            real("lr_final", self.lr_final, lo=0, hi=1, lo_open=True)
            at_least("batch_size", self.batch_size, 1)
            at_least("seed", self.seed, 0)
            flag("full_precision", self.full_precision)
            real("u_range", self.u_range, lo=0, lo_open=True)
            real("gamma_init", self.gamma_init, lo=-self.u_range, hi=self.u_range)
            real("drive_std", self.drive_std, lo=0, lo_open=True)
            at_least("eval_repeats", self.eval_repeats, 1)
            flag("ann_baseline", self.ann_baseline)

    @property
    def steps(self) -> int:
        """Steps simulated per training sample."""
        return self.t_max if self.t_train is None else self.t_train


@dataclass(frozen=True)
class FloatEval:
    """The float model run as a stochastic first-to-spike SNN.

    Attributes
    ----------
    accuracy : float
        Accuracy with the full deadline ``t_max``.
    accuracy_by_step : list of float
        ``accuracy_by_step[t - 1]``: accuracy when the deadline is cut to ``t``
        (docs/semantics.md, section 6).
    mean_step : float
        Mean decision step.
    decided : float
        Fraction of inferences decided by an output spike (not by ``argmax u(T_max)``).
    expected_accuracy : float
        Accuracy averaged exactly over the output spikes (for the sampled input spikes,
        :func:`~spinaps.sw.loss.first_to_spike_decision_probs`): the same expectation as
        ``accuracy`` with much less sampling noise, the better number to compare models.
    """

    accuracy: float
    accuracy_by_step: list[float]
    mean_step: float
    decided: float
    expected_accuracy: float


@dataclass
class TrainedGlm:
    """A trained GLM layer with everything the exporter and the reports need.

    Attributes
    ----------
    model : TorchGlmLayer
        The float model (parameters on CPU).
    config : GlmTrainConfig
        The settings it was trained with.
    dataset_name, dataset_sha256 : str
        The training data set (the exporter checks it is given the same one).
    basis_float : numpy.ndarray
        Raised-cosine basis ``(K, tau)`` before quantization.
    basis_int : numpy.ndarray
        Integer basis table ``A`` used by the model and the hardware.
    basis_scale : float
        ``basis_float`` is approximately ``basis_int * basis_scale``.
    test_eval : FloatEval
        Float first-to-spike evaluation on the test set.
    ann_accuracy : float or None
        Test accuracy of the equivalent ANN (``None`` if not trained).
    train_seconds : float
        Wall-clock time of the GLM training loop (without evaluation and ANN).
    loss_history : list of float
        Mean training loss per epoch.
    """

    model: TorchGlmLayer
    config: GlmTrainConfig
    dataset_name: str
    dataset_sha256: str
    basis_float: np.ndarray
    basis_int: np.ndarray
    basis_scale: float
    test_eval: FloatEval
    ann_accuracy: float | None
    train_seconds: float
    loss_history: list[float] = field(default_factory=list)


def _lr_factor(epoch: int, epochs: int, final: float) -> float:
    """Cosine decay from 1 at the first epoch to ``final`` at the last."""
    if epochs == 1:
        return 1.0
    return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * epoch / (epochs - 1)))


def train_glm(dataset: Dataset, config: GlmTrainConfig = GlmTrainConfig(), *, progress: bool = True) -> TrainedGlm:
    """Train a GLM first-to-spike layer ``n_in -> n_classes`` on a data set.

    Deterministic for a given ``config.seed`` (and thread count): all randomness comes
    from a private ``torch.Generator``.

    Parameters
    ----------
    dataset : Dataset
        Training and test data.
    config : GlmTrainConfig
        Model and training settings.
    progress : bool
        Show a tqdm progress bar over epochs.

    Returns
    -------
    TrainedGlm
        The model, its float test evaluation, the ANN baseline and timings.

    Raises
    ------
    DatasetError
        If the data set's samples do not fit the layer (naming their shape).
    """
    check_inputs(dataset, "train_glm")
    with shape_errors(dataset, "train_glm"):
        return _train_glm(dataset, config, progress)


def _train_glm(dataset: Dataset, config: GlmTrainConfig, progress: bool) -> TrainedGlm:
    generator = torch.Generator().manual_seed(config.seed)
    frames = dataset.frames
    basis_float = raised_cosine_basis(config.n_basis, config.tau)
    basis_int, basis_scale = quantize_basis(basis_float, config.basis_bits)
    model = TorchGlmLayer(
        dataset.n_in,
        dataset.n_classes,
        basis_int,
        weight_bits=config.weight_bits,
        full_precision=config.full_precision,
        u_range=config.u_range,
    )
    # Copies: the data set's arrays are read-only, torch tensors must not alias them.
    x_train = torch.tensor(dataset.x_train)
    y_train = torch.tensor(dataset.y_train)
    init_idx = torch.randperm(len(x_train), generator=generator)[:512]
    model.init_parameters(
        bernoulli_spikes(x_train[init_idx], config.steps, generator, frames),
        generator,
        gamma=config.gamma_init,
        drive_std=config.drive_std,
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)

    loss_history: list[float] = []
    start = time.perf_counter()
    bar = tqdm(range(config.epochs), desc=f"glm {dataset.name}", unit="epoch", disable=not progress)
    for epoch in bar:
        for group in optimizer.param_groups:
            group["lr"] = config.lr * _lr_factor(epoch, config.epochs, config.lr_final)
        total, count = 0.0, 0
        for idx in torch.randperm(len(x_train), generator=generator).split(config.batch_size):
            spikes = bernoulli_spikes(x_train[idx], config.steps, generator, frames)
            loss = first_to_spike_loss(model(spikes), y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            model.project_()
            total += loss.item() * len(idx)
            count += len(idx)
        loss_history.append(total / count)
        bar.set_postfix(loss=f"{loss_history[-1]:.3f}")
    train_seconds = time.perf_counter() - start

    test_eval = evaluate_float(
        model, dataset.x_test, dataset.y_test, config.t_max, seed=config.seed, repeats=config.eval_repeats,
        frames=frames,
    )
    ann_accuracy = train_ann(dataset, AnnConfig(seed=config.seed)) if config.ann_baseline else None
    return TrainedGlm(
        model=model,
        config=config,
        dataset_name=dataset.name,
        dataset_sha256=dataset.sha256,
        basis_float=basis_float,
        basis_int=basis_int,
        basis_scale=basis_scale,
        test_eval=test_eval,
        ann_accuracy=ann_accuracy,
        train_seconds=train_seconds,
        loss_history=loss_history,
    )


@torch.no_grad()
def evaluate_float(
    model: TorchGlmLayer,
    x: np.ndarray,
    y: np.ndarray,
    t_max: int,
    seed: int = 0,
    *,
    repeats: int = 1,
    batch_size: int = 1024,
    frames: int = 1,
) -> FloatEval:
    """Accuracy of the float model run as a stochastic first-to-spike SNN.

    Input spikes are Bernoulli with probability ``x / 256`` and output spikes Bernoulli
    with ``sigmoid(u)``. The first step with an output spike decides, for the spiking
    neuron with the highest potential (ties to the lowest index); with no spike by
    ``t_max`` the class is ``argmax u(t_max)`` (docs/semantics.md, section 6). The random
    numbers come from a ``torch.Generator`` seeded with ``seed``, not from the hardware's
    xorshift32 streams, so the result matches the golden model statistically, not
    sample by sample.

    Parameters
    ----------
    model : TorchGlmLayer
        The float model.
    x : numpy.ndarray
        ``uint8`` intensities ``(n, frames * n_in)``, frame after frame.
    y : numpy.ndarray
        Labels ``(n,)``.
    t_max : int
        Decision deadline.
    seed : int
        Seed of the evaluation's random numbers.
    repeats : int
        Independent passes over the data, averaged (less sampling noise).
    batch_size : int
        Samples per forward pass.
    frames : int
        Frames per sample (``Dataset.frames``).

    Returns
    -------
    FloatEval
        Accuracy, accuracy by step, mean decision step, fraction decided by a spike and
        the expected accuracy.
    """
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != frames * model.n_in:
        raise ValueError(f"evaluate_float: samples of shape {x.shape} are not {frames} frame(s) of "
                         f"{model.n_in} inputs, what the layer takes; evaluate it on the data set "
                         f"it was trained on (frames = that data set's frames)")
    generator = torch.Generator().manual_seed(seed)
    x_t, y_t = torch.tensor(x), torch.tensor(np.asarray(y))
    correct_by_step = torch.zeros(t_max, dtype=torch.float64)
    step_sum, decided_sum, expected_sum = 0.0, 0.0, 0.0
    for _ in range(repeats):
        for idx in torch.arange(len(x_t)).split(batch_size):
            u = model(bernoulli_spikes(x_t[idx], t_max, generator, frames))
            fired = torch.rand(u.shape, generator=generator) < torch.sigmoid(u)
            # The decision rule and the cut-off at t are the golden model's (one definition).
            cls = classes_by_step(u, fired)
            _, step, decided = first_to_spike(u, fired)
            correct_by_step += (cls == y_t[idx, None]).sum(dim=0)
            step_sum += float(step.sum())
            decided_sum += float(decided.sum())
            p_decided, p_undecided = first_to_spike_decision_probs(u.double())
            p_class = p_decided.sum(dim=1).gather(1, y_t[idx, None]).squeeze(1)
            expected_sum += float((p_class + p_undecided * (argmax_lowest(u[:, -1]) == y_t[idx])).sum())
    n = repeats * len(x_t)
    by_step = (correct_by_step / n).tolist()
    return FloatEval(
        accuracy=by_step[-1],
        accuracy_by_step=by_step,
        mean_step=step_sum / n,
        decided=decided_sum / n,
        expected_accuracy=expected_sum / n,
    )
