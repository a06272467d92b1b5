"""Random but valid integer models for tests: every corner of the contract, no training needed."""

import numpy as np

from spinaps.contract import DECISIONS, PROBABILITY_MAX, RESETS, splitmix32_seeds, weight_max
from spinaps.sw.golden import GlmLayerParams, GoldenModel, LifLayerParams

__all__ = ["random_glm_model", "random_lif_layer", "random_network"]


def random_glm_layer(seed=0, *, n_in=12, n_out=5, k=1, tau=1, lanes=None, weight_bits=2, basis_bits=2,
                     u_bits=6, scale_bits=4, scale_shift=3):
    """Random GLM layer parameters (see :func:`random_glm_model`)."""
    rng = np.random.default_rng(seed)
    lanes = lanes or n_out
    levels = np.arange(-weight_max(weight_bits), weight_max(weight_bits) + 1, 2)
    weights = rng.choice(levels, size=(n_out, n_in, k)).astype(np.int16)
    basis = rng.integers(0, 2**basis_bits, size=(k, tau)).astype(np.int16)
    basis[:, 0] = np.maximum(basis[:, 0], 1)                 # every row non-zero
    half = 1 << (u_bits - 1)
    u = np.arange(-half, half)
    sigmoid = np.minimum(PROBABILITY_MAX, np.round((PROBABILITY_MAX + 1) / (1 + np.exp(-(u - half / 2) * 6.0 / half))))
    sigmoid = sigmoid.astype(np.int32)
    return GlmLayerParams(
        weights=weights, basis=basis,
        gamma=rng.integers(-half // 2, half // 2, n_out).astype(np.int32),
        scale=rng.integers(0, 2**scale_bits, n_out).astype(np.int32),
        scale_shift=scale_shift, u_bits=u_bits, sigmoid=sigmoid,
        base_seeds=splitmix32_seeds(seed * 7 + 1, lanes),
        weight_bits=weight_bits, basis_bits=basis_bits, scale_bits=scale_bits,
    )


def random_lif_layer(seed=0, *, n_in=12, n_out=6, lanes=None, weight_bits=2, v_bits=8, leak_shift=2,
                     reset=RESETS[0], refractory=1, excitation=0.35):
    """Random LIF layer parameters whose neurons fire now and then.

    Weights lean positive by ``excitation`` so that thresholds drawn around the expected drive
    of a few input spikes are crossed sometimes; small ``v_bits`` make saturation happen.
    """
    rng = np.random.default_rng(seed)
    lanes = lanes or n_out
    top = weight_max(weight_bits)
    levels = np.arange(-top, top + 1, 2)
    p = np.exp(excitation * levels / max(top, 1))
    weights = rng.choice(levels, size=(n_out, n_in), p=p / p.sum()).astype(np.int16)
    half = 1 << (v_bits - 1)
    drive = np.maximum(weights, 0).sum(axis=1)
    threshold = np.clip(rng.integers(1, np.maximum(2, drive // 2 + 2)), 1, min(half - 1, 127))
    threshold = np.minimum(threshold, np.maximum(1, drive))     # always reachable
    bias = rng.integers(-2, 3, n_out)
    return LifLayerParams(weights=weights, weight_bits=weight_bits, threshold=threshold.astype(np.int32),
                          bias=bias.astype(np.int32), v_bits=v_bits, leak_shift=leak_shift, reset=reset,
                          refractory=refractory, lanes=lanes)


def random_network(seed=0, *, sizes=(12, 8, 5), output="glm", decision=DECISIONS[0], t_max=8,
                   encoder_lanes=4, frames=1, lanes=None, glm_options=None, lif_options=None):
    """A random multi-layer GoldenModel: LIF hidden layers, then a GLM or LIF output layer.

    ``sizes`` lists the encoder inputs then each layer's neurons; ``lanes`` (int or list per
    layer) defaults to each layer's size.
    """
    n_layers = len(sizes) - 1
    lanes = lanes if isinstance(lanes, (list, tuple)) else [lanes] * n_layers
    layers = []
    for index in range(n_layers):
        n_in, n_out, sub = sizes[index], sizes[index + 1], seed * 31 + index
        if index == n_layers - 1 and output == "glm":
            layers.append(random_glm_layer(sub, n_in=n_in, n_out=n_out, lanes=lanes[index], **(glm_options or {})))
        else:
            layers.append(random_lif_layer(sub, n_in=n_in, n_out=n_out, lanes=lanes[index], **(lif_options or {})))
    return GoldenModel(t_max=t_max, encoder_base_seeds=splitmix32_seeds(seed * 7 + 2, encoder_lanes),
                       layers=tuple(layers), decision=decision, frames=frames)


def random_glm_model(seed=0, *, n_in=12, n_out=5, k=1, tau=1, lanes=None, encoder_lanes=4,
                     weight_bits=2, basis_bits=2, u_bits=6, scale_bits=4, scale_shift=3, t_max=8):
    """A GoldenModel with random weights, basis, gamma, scale and a steep sigmoid table.

    The table and gamma are drawn so that outputs spike now and then (not never, not always),
    which exercises ties, early exits and the no-spike rule.
    """
    params = random_glm_layer(seed, n_in=n_in, n_out=n_out, k=k, tau=tau, lanes=lanes, weight_bits=weight_bits,
                              basis_bits=basis_bits, u_bits=u_bits, scale_bits=scale_bits, scale_shift=scale_shift)
    return GoldenModel(t_max=t_max, encoder_base_seeds=splitmix32_seeds(seed * 7 + 2, encoder_lanes),
                       layers=(params,))
