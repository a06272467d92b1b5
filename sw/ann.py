"""The equivalent ANN baseline: same topology as the GLM layer, rates instead of spikes.

SpinAPS compares its first-to-spike network with the non-spiking network of the same
shape (``n_in -> n_out``, no hidden layer). Reading the input as a rate ``x / 255`` that
network is softmax (multinomial logistic) regression. A time series is read as its mean rate
over the frames (:func:`input_rates`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .datasets import Dataset

__all__ = ["AnnConfig", "input_rates", "train_ann", "train_mlp"]


@dataclass(frozen=True)
class AnnConfig:
    """Training settings of the softmax-regression baseline.

    Attributes
    ----------
    epochs : int
        Passes over the training set.
    lr : float
        Adam learning rate.
    batch_size : int
        Samples per step.
    weight_decay : float
        L2 penalty on the weights (mild: 784 inputs, 4000 samples).
    seed : int
        Seeds initialisation and shuffling.
    """

    epochs: int = 60
    lr: float = 3e-3
    batch_size: int = 128
    weight_decay: float = 1e-4
    seed: int = 0


def input_rates(x, frames: int = 1) -> torch.Tensor:
    """Input rates ``x / 255`` (float32) of samples ``[n, frames * n_in]``, averaged over the
    frames of a time series: ``[n, n_in]``."""
    r = torch.tensor(x, dtype=torch.float32) / 255.0
    return r.reshape(len(r), frames, -1).mean(dim=1)


def train_mlp(dataset: Dataset, hidden, config: AnnConfig = AnnConfig(), activation=None) -> float:
    """Train the same-shape ANN of a network with hidden layers; return its test accuracy.

    ``hidden`` lists the hidden layer sizes (``[]`` is :func:`train_ann`'s softmax
    regression); ``activation`` is a module factory (default ``nn.ReLU``). Input rates
    ``x / 255`` averaged over the frames of a time series.
    """
    generator = torch.Generator().manual_seed(config.seed)
    x, y = input_rates(dataset.x_train, dataset.frames), torch.tensor(dataset.y_train)
    sizes = [x.shape[1], *hidden, dataset.n_classes]
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        linear = nn.Linear(a, b)
        with torch.no_grad():
            linear.weight.normal_(0.0, (2.0 / a) ** 0.5, generator=generator)
            linear.bias.zero_()
        layers += [linear, (activation or nn.ReLU)()]
    model = nn.Sequential(*layers[:-1])
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    for _ in range(config.epochs):
        for idx in torch.randperm(len(x), generator=generator).split(config.batch_size):
            optimizer.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            optimizer.step()
    with torch.no_grad():
        predicted = model(input_rates(dataset.x_test, dataset.frames)).argmax(1).numpy()
    return float((predicted == dataset.y_test).mean())


def train_ann(dataset: Dataset, config: AnnConfig = AnnConfig()) -> float:
    """Train softmax regression on input rates and return its test accuracy.

    Parameters
    ----------
    dataset : Dataset
        The data set (``uint8`` intensities are read as rates ``x / 255``, averaged over the
        frames of a time series).
    config : AnnConfig
        Training settings.

    Returns
    -------
    float
        Test accuracy in ``[0, 1]``.
    """
    generator = torch.Generator().manual_seed(config.seed)
    x, y = input_rates(dataset.x_train, dataset.frames), torch.tensor(dataset.y_train)
    model = nn.Linear(dataset.n_in, dataset.n_classes)
    with torch.no_grad():
        # Deterministic, seed-dependent init without touching the global RNG.
        model.weight.normal_(0.0, 0.01, generator=generator)
        model.bias.zero_()
    optimizer = torch.optim.Adam(
        [{"params": [model.weight], "weight_decay": config.weight_decay}, {"params": [model.bias]}],
        lr=config.lr,
    )
    for _ in range(config.epochs):
        for idx in torch.randperm(len(x), generator=generator).split(config.batch_size):
            optimizer.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            optimizer.step()
    with torch.no_grad():
        predicted = model(input_rates(dataset.x_test, dataset.frames)).argmax(1).numpy()
    return float((predicted == dataset.y_test).mean())
