"""Random but valid integer models for tests: every corner of the contract, no training needed."""

import numpy as np

from spinaps.sw.export import splitmix32_seeds
from spinaps.sw.golden import GlmLayerParams, GoldenModel

__all__ = ["random_glm_model"]


def random_glm_model(seed=0, *, n_in=12, n_out=5, k=1, tau=1, lanes=None, encoder_lanes=4,
                     weight_bits=2, basis_bits=2, u_bits=6, scale_bits=4, scale_shift=3, t_max=8):
    """A GoldenModel with random weights, basis, gamma, scale and a steep sigmoid table.

    The table and gamma are drawn so that outputs spike now and then (not never, not always),
    which exercises ties, early exits and the no-spike rule.
    """
    rng = np.random.default_rng(seed)
    lanes = lanes or n_out
    levels = np.arange(-(2**weight_bits - 1), 2**weight_bits, 2)
    weights = rng.choice(levels, size=(n_out, n_in, k)).astype(np.int16)
    basis = rng.integers(0, 2**basis_bits, size=(k, tau)).astype(np.int16)
    basis[:, 0] = np.maximum(basis[:, 0], 1)                 # every row non-zero
    half = 1 << (u_bits - 1)
    u = np.arange(-half, half)
    sigmoid = np.minimum(65535, np.round(65536 / (1 + np.exp(-(u - half / 2) * 6.0 / half)))).astype(np.int32)
    params = GlmLayerParams(
        weights=weights, basis=basis,
        gamma=rng.integers(-half // 2, half // 2, n_out).astype(np.int32),
        scale=rng.integers(0, 2**scale_bits, n_out).astype(np.int32),
        scale_shift=scale_shift, u_bits=u_bits, sigmoid=sigmoid,
        base_seeds=splitmix32_seeds(seed * 7 + 1, lanes),
        weight_bits=weight_bits, basis_bits=basis_bits, scale_bits=scale_bits,
    )
    return GoldenModel(t_max=t_max, encoder_base_seeds=splitmix32_seeds(seed * 7 + 2, encoder_lanes), layer=params)
