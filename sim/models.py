"""Random but valid integer models for tests: every corner of the contract, no training needed."""

import numpy as np

from spinaps.sw.golden import GlmLayerParams, GoldenModel

__all__ = ["random_glm_model", "splitmix_seeds"]


def splitmix_seeds(seed, count):
    """``count`` 32-bit generator seeds with non-zero low halves, derived from ``seed``."""
    out, x = [], seed & 0xFFFFFFFFFFFFFFFF
    while len(out) < count:
        x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        z = (z ^ (z >> 31)) & 0xFFFFFFFF
        if z & 0xFFFF:
            out.append(z)
    return np.array(out, dtype=np.uint32)


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
        base_seeds=splitmix_seeds(seed * 7 + 1, lanes),
        weight_bits=weight_bits, basis_bits=basis_bits, scale_bits=scale_bits,
    )
    return GoldenModel(t_max=t_max, encoder_base_seeds=splitmix_seeds(seed * 7 + 2, encoder_lanes), layer=params)
