"""Raised-cosine basis functions on a logarithmic time axis and their integer table.

A GLM neuron sees input ``i`` through ``K`` traces ``c_ik(t) = sum_l A[k, l] x_i(t - l)``
over lags ``l = 0 .. tau - 1`` (lag 0, the current step, is inside the window; see
docs/semantics.md, section 4). Following the GLM literature (Pillow et al., Nature 2008),
the kernels are raised cosine bumps evenly spaced on a log-stretched lag axis, so that the
first basis functions are narrow (recent spikes, fine timing) and the later ones broad.
The hardware stores only the unsigned integer table produced by :func:`quantize_basis`.
"""

from __future__ import annotations

import numpy as np

from spinaps import contract

__all__ = ["raised_cosine_basis", "quantize_basis"]

# Offset of the log stretch, in steps: log(l + _LOG_OFFSET). Smaller values stretch the
# first lags more (more basis functions near lag 0).
_LOG_OFFSET = 1.0


def raised_cosine_basis(K: int, tau: int) -> np.ndarray:
    """``K`` raised-cosine kernels over lags ``0 .. tau - 1`` on a log time axis.

    With ``z(l) = log(l + 1)``, kernel ``k`` is
    ``0.5 * (1 + cos(clip((z(l) - phi_k) * pi / (2 * delta), -pi, pi)))``, the centres
    ``phi_k`` evenly spaced from ``z(0)`` to ``z(tau - 1)`` with spacing ``delta``, so that
    neighbouring bumps overlap by half and every lag is covered. A single kernel
    (``K = 1``) is centred on lag 0 and decays to 0.5 at the last lag. Each row is
    normalised to a maximum of 1.

    Parameters
    ----------
    K : int
        Number of basis functions, ``>= 1``.
    tau : int
        Window length in steps, ``>= 1``.

    Returns
    -------
    numpy.ndarray
        ``float64`` array of shape ``(K, tau)``; ``K = 1, tau = 1`` gives ``[[1.0]]``.
    """
    if K < 1 or tau < 1:
        raise ValueError(f"raised_cosine_basis needs K >= 1 and tau >= 1 (got K={K}, tau={tau})")
    z = np.log(np.arange(tau, dtype=np.float64) + _LOG_OFFSET)
    span = z[-1] - z[0]
    if span == 0.0:
        # tau = 1: a single lag, every kernel is the spike itself.
        return np.ones((K, tau))
    centres = np.linspace(z[0], z[-1], K) if K > 1 else z[:1]
    delta = span / (K - 1) if K > 1 else span
    phase = np.clip((z[None, :] - centres[:, None]) * np.pi / (2.0 * delta), -np.pi, np.pi)
    basis = 0.5 * (1.0 + np.cos(phase))
    return basis / basis.max(axis=1, keepdims=True)


def quantize_basis(A_float: np.ndarray, basis_bits: int) -> tuple[np.ndarray, float]:
    """Quantize a non-negative basis to the unsigned integer table of the hardware.

    One scale is shared by all rows (``scale = max(A_float) / (2**basis_bits - 1)``) so
    that the relative weight of the kernels is kept; the scale is absorbed by the
    per-neuron weight scale of the GLM layer. A row that would round to all zeros keeps a
    1 at its peak, because the contract requires every row to be non-zero.

    Parameters
    ----------
    A_float : numpy.ndarray
        Non-negative array of shape ``(K, tau)`` with at least one positive entry per row.
    basis_bits : int
        Bits per table entry, 1..8.

    Returns
    -------
    A_int : numpy.ndarray
        ``int64`` array of shape ``(K, tau)``, values in ``0 .. 2**basis_bits - 1``,
        every row non-zero.
    scale : float
        ``A_float`` is approximately ``A_int * scale``.
    """
    A = np.asarray(A_float, dtype=np.float64)
    if A.ndim != 2 or A.size == 0:
        raise ValueError(f"basis must be a non-empty (K, tau) array (got shape {A.shape})")
    contract.check("basis_bits", basis_bits)
    if not np.all(np.isfinite(A)) or A.min() < 0 or np.any(A.max(axis=1) <= 0):
        raise ValueError("basis must be finite, non-negative, with a positive entry per row")
    top = contract.unsigned_max(basis_bits)
    scale = float(A.max()) / top
    # Half-up rounding (not NumPy's half-to-even) so that 0.5 of the peak keeps a 1 at 1 bit.
    A_int = np.clip(np.floor(A / scale + 0.5), 0, top).astype(np.int64)
    empty = ~A_int.any(axis=1)
    A_int[empty, A[empty].argmax(axis=1)] = 1
    return A_int, scale
