"""The float GLM first-to-spike layer (SpinAPS) with hardware-shaped weight quantization.

:class:`TorchGlmLayer` is the trainable torch model of a GLM layer; the Amaranth component
that runs it in hardware is :class:`spinaps.hdl.glm_layer.GlmLayer`, its integer form
:class:`spinaps.sw.golden.GlmLayerParams`.

The layer computes, for a batch of input spike trains ``x[b, t, i]`` in {0, 1},

    c_ik(t) = sum_l A[k, l] x_i(t - l)                  (integer basis, lag 0 included)
    u_j(t)  = clamp(gamma_j + alpha_j * sum_{i,k} w[j, i, k] c_ik(t), -u_range, u_range)

where ``A`` is the integer table of :func:`spinaps.sw.basis.quantize_basis`, ``alpha_j > 0``
a per-neuron scale and ``w`` the weight in *code units*. In the quantized mode ``w`` is
one of the odd integers ``2c - (2^b - 1)`` the binary cells can hold (docs/semantics.md,
5.1), obtained from a latent weight with a straight-through estimator; in the
full-precision mode ``w`` is the latent weight itself, scaled to the same range. Because
the trace is already the hardware's integer trace and the clamp is the hardware's
saturation, the exporter only has to round ``gamma`` and ``alpha`` to integers: the float
model *is* the integer model up to that rounding.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from spinaps import contract
from spinaps.contract import WEIGHT_BITS

__all__ = ["TorchGlmLayer", "bernoulli_spikes", "odd_levels", "ste_nearest_odd_level"]


def odd_levels(bits: int) -> torch.Tensor:
    """The ``2**bits`` odd integer weight levels ``2c - (2**bits - 1)``, ascending."""
    top = contract.weight_max(bits)
    return torch.arange(-top, top + 1, 2)


def ste_nearest_odd_level(w: torch.Tensor, bits: int) -> torch.Tensor:
    """Round to the nearest odd weight level, with a straight-through gradient.

    Level ``2m + 1`` (:func:`spinaps.contract.nearest_odd_level`) is the nearest odd integer
    for ``w`` in ``[2m, 2m + 2)``, so
    ``bits = 1`` gives ``sign(w)`` in {-1, +1} (zero maps to +1). Values outside
    ``[-2**bits, 2**bits]`` saturate at ``-(2**bits - 1)`` / ``2**bits - 1``. The backward
    pass is the identity: the gradient reaches the latent weight unchanged (the layer
    keeps latent weights inside the range, so no clipping mask is needed).

    Parameters
    ----------
    w : torch.Tensor
        Latent weights in code units.
    bits : int
        Weight width, one of :data:`WEIGHT_BITS`.

    Returns
    -------
    torch.Tensor
        Same shape and dtype as ``w``, holding odd integers in ``[-(2**bits-1), 2**bits-1]``.
    """
    contract.check_choice("weight_bits", bits, WEIGHT_BITS)
    levels = contract.nearest_odd_level(w, bits)
    return w + (levels - w).detach()


def bernoulli_spikes(intensity: torch.Tensor, t_steps: int, generator: torch.Generator,
                     frames: int = 1) -> torch.Tensor:
    """Rate-encode 8-bit intensities as Bernoulli spike trains, like the hardware.

    Input ``i`` spikes at step ``t`` iff a uniform 8-bit number ``r`` is below its intensity
    in frame ``min(t, frames) - 1`` (:func:`spinaps.contract.frame_of_step`), i.e. with
    probability ``intensity / 256`` (docs/semantics.md, sections 1 and 3); the numbers come
    from ``generator``, not from the hardware's xorshift32 streams.

    Parameters
    ----------
    intensity : torch.Tensor
        Integer intensities 0..255, shape ``(B, frames * n_in)``, frame after frame.
    t_steps : int
        Number of steps ``T``.
    generator : torch.Generator
        Source of the random bytes.
    frames : int
        Frames per sample (1 for an image, the series length for a time series).

    Returns
    -------
    torch.Tensor
        ``float32`` spikes in {0, 1}, shape ``(B, T, n_in)``.
    """
    b, width = intensity.shape
    if width % frames:
        raise ValueError(f"samples of {width} intensities do not split into {frames} frames")
    frame = torch.as_tensor(contract.frame_of_step(t_steps, frames))
    x = intensity.reshape(b, frames, width // frames)[:, frame]         # [B, T, n_in]
    r = torch.randint(0, 256, x.shape, generator=generator, dtype=torch.int16)
    return (r < x.to(torch.int16)).float()


class TorchGlmLayer(nn.Module):
    """A trainable layer of GLM neurons with per-neuron scale and quantizable weights.

    Parameters
    ----------
    n_in, n_out : int
        Numbers of inputs and neurons.
    basis_int : numpy.ndarray
        Unsigned integer basis table ``A`` of shape ``(K, tau)``.
    weight_bits : int
        Cells per weight, one of :data:`WEIGHT_BITS`.
    full_precision : bool
        If true the weights are not rounded (comparison mode); ``weight_bits`` then only
        sets their range and the width used when the model is exported.
    u_range : float
        Potentials saturate to ``[-u_range, u_range]`` as the hardware's ``u_bits``
        register does; the exporter maps this range onto the ``u_bits`` codes.

    Attributes
    ----------
    weight : torch.nn.Parameter
        Latent weights ``(n_out, n_in, K)`` normalised to ``[-1, 1]``; ``weight * 2**b``
        is the weight in code units.
    gamma : torch.nn.Parameter
        Biases ``(n_out,)``, in potential units.
    log_alpha : torch.nn.Parameter
        ``log(alpha)``, ``(n_out,)``; the log keeps ``alpha`` positive.
    basis : torch.Tensor
        Buffer with the integer basis as ``float32``.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        basis_int: np.ndarray,
        *,
        weight_bits: int = 4,
        full_precision: bool = False,
        u_range: float = 8.0,
    ) -> None:
        super().__init__()
        contract.check_choice("weight_bits", weight_bits, WEIGHT_BITS)
        basis = torch.as_tensor(np.asarray(basis_int), dtype=torch.float32)
        if basis.ndim != 2:
            raise ValueError(f"basis_int must have shape (K, tau) (got {tuple(basis.shape)})")
        self.n_in, self.n_out = int(n_in), int(n_out)
        self.weight_bits = int(weight_bits)
        self.full_precision = bool(full_precision)
        self.u_range = float(u_range)
        self.register_buffer("basis", basis)
        K = basis.shape[0]
        self.weight = nn.Parameter(torch.zeros(n_out, n_in, K))
        self.gamma = nn.Parameter(torch.zeros(n_out))
        self.log_alpha = nn.Parameter(torch.zeros(n_out))

    @property
    def n_basis(self) -> int:
        """Number of basis functions ``K``."""
        return int(self.basis.shape[0])

    @property
    def tau(self) -> int:
        """History window in steps."""
        return int(self.basis.shape[1])

    @property
    def alpha(self) -> torch.Tensor:
        """Per-neuron scale ``alpha_j > 0``: potential per unit of ``w * c``."""
        return self.log_alpha.exp()

    def weight_levels(self) -> torch.Tensor:
        """Weights in code units as used by the forward pass.

        Odd integers (with a straight-through gradient) in the quantized mode, the
        unrounded latent weights in the full-precision mode.
        """
        w = self.weight * 2.0**self.weight_bits
        return w if self.full_precision else ste_nearest_odd_level(w, self.weight_bits)

    def weight_codes(self) -> np.ndarray:
        """The odd integer weights the hardware stores, ``int64`` ``(n_out, n_in, K)``.

        Always rounded to ``weight_bits``, also for a full-precision model (which is then
        quantized after training).
        """
        with torch.no_grad():
            w = ste_nearest_odd_level(self.weight * 2.0**self.weight_bits, self.weight_bits)
        return w.round().to(torch.int64).numpy()

    def traces(self, x: torch.Tensor) -> torch.Tensor:
        """Basis traces ``c[b, t, i, k] = sum_l A[k, l] x[b, t - l, i]`` (zero before t=1).

        Parameters
        ----------
        x : torch.Tensor
            Spikes, shape ``(B, T, n_in)``.

        Returns
        -------
        torch.Tensor
            Shape ``(B, T, n_in, K)``.
        """
        T = x.shape[1]
        c = x[..., None] * self.basis[:, 0]
        for lag in range(1, self.tau):
            delayed = F.pad(x, (0, 0, lag, 0))[:, :T]
            c = c + delayed[..., None] * self.basis[:, lag]
        return c

    def drive(self, x: torch.Tensor) -> torch.Tensor:
        """``sum_{i,k} w[j, i, k] c_ik(t)`` in code units, shape ``(B, T, n_out)``.

        This is the hardware's accumulator ``acc_j(t)`` for quantized weights.
        """
        c = self.traces(x)
        B, T = c.shape[:2]
        w = self.weight_levels().reshape(self.n_out, -1)
        return (c.reshape(B * T, -1) @ w.T).reshape(B, T, self.n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Membrane potentials ``u[b, t, j]`` for spikes ``x[b, t, i]``.

        Parameters
        ----------
        x : torch.Tensor
            Input spikes in {0, 1}, shape ``(B, T, n_in)``.

        Returns
        -------
        torch.Tensor
            Potentials, shape ``(B, T, n_out)``, saturated to ``[-u_range, u_range]``.
        """
        u = self.gamma + self.alpha * self.drive(x)
        # A hard clamp, like the hardware register: a saturated neuron gets no gradient,
        # so training cannot rely on potentials the integer model cannot represent.
        return torch.clamp(u, -self.u_range, self.u_range)

    @torch.no_grad()
    def project_(self) -> None:
        """Keep the parameters where the hardware can represent them (after each step).

        Latent weights stay in ``[-1, 1]`` (the code range, so the straight-through
        estimator never pushes them where rounding no longer changes), biases in
        ``[-u_range, u_range]`` (the exporter stores them in ``u_bits``).
        """
        self.weight.clamp_(-1.0, 1.0)
        self.gamma.clamp_(-self.u_range, self.u_range)

    @torch.no_grad()
    def init_parameters(
        self,
        x_sample: torch.Tensor,
        generator: torch.Generator,
        *,
        gamma: float = -4.0,
        drive_std: float = 2.0,
    ) -> None:
        """Random weights, a quiet bias and a data-dependent scale.

        Parameters
        ----------
        x_sample : torch.Tensor
            Input spikes ``(B, T, n_in)`` from the training set, used to measure the
            spread of the drive.
        generator : torch.Generator
            Source of the random weights.
        gamma : float
            Initial bias: negative so that neurons rarely spike before they learn, which
            keeps the first-to-spike likelihood informative.
        drive_std : float
            Target standard deviation of ``alpha_j * drive_j`` over samples and steps, so
            that potentials start in the sigmoid's useful range.
        """
        self.weight.uniform_(-1.0, 1.0, generator=generator)
        self.gamma.fill_(gamma)
        std = self.drive(x_sample).std(dim=(0, 1)).clamp_min(1e-6)
        self.log_alpha.copy_(torch.log(drive_std / std))
