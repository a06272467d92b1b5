"""Bit-exact integer golden model of the accelerator (docs/semantics.md, contract version 1).

Batched over samples with integer PyTorch tensors. Every random draw of every sample is
computed up front (the generators are consumed in a data-independent order), and the whole
``T_max`` run is computed for every sample; the early exit of the hardware is applied
afterwards as a mask. This keeps the model fast and makes "what if T_max were t" (the
accuracy-by-step curve) free.

The same functions are the reference for every test tier: Amaranth-simulator unit tests,
cocotb component tests and the end-to-end cocotb test compare against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .artifact import CONTRACT_VERSION  # noqa: F401  (one definition, re-exported)

_MASK32 = 0xFFFFFFFF


# --- 2. pseudo-random generator ------------------------------------------------------------

def xorshift32(state):
    """One xorshift32 step (13, 17, 5) on an int64 tensor (or Python int) of 32-bit states."""
    s = state
    s = s ^ ((s << 13) & _MASK32)
    s = s ^ (s >> 17)
    s = s ^ ((s << 5) & _MASK32)
    return s


def initial_states(base_seeds, seeds):
    """Generator states at the start of an inference: ``base_seed[g] ^ (seed << 16)``.

    Returns an int64 tensor ``[B, G]`` for ``base_seeds [G]`` and ``seeds [B]``.
    """
    base = torch.as_tensor(np.asarray(base_seeds, dtype=np.int64))
    seeds = torch.as_tensor(np.asarray(seeds, dtype=np.int64))
    if bool(((base & 0xFFFF) == 0).any()):
        raise ValueError("every base seed needs a non-zero low half (docs/semantics.md section 2)")
    if bool(((seeds < 0) | (seeds > 0xFFFF)).any()):
        raise ValueError("per-inference seeds are 16-bit unsigned (0..65535)")
    return base[None, :] ^ (seeds[:, None] << 16)


def draw_table(base_seeds, seeds, n_draws):
    """All draws of a bank: int64 tensor ``[B, n_draws, G]``; entry ``n`` is draw number n."""
    s = initial_states(base_seeds, seeds)
    out = torch.empty((s.shape[0], n_draws, s.shape[1]), dtype=torch.int64)
    for n in range(n_draws):
        s = xorshift32(s)
        out[:, n] = s
    return out


def _groups(n, lanes):
    return -(-n // lanes)


# --- 3. encoder ------------------------------------------------------------------------------

def encode_bernoulli(intensity, seeds, base_seeds, t_max):
    """Input spikes ``x [B, T, N_in]`` (bool) of the Bernoulli rate encoder (section 3)."""
    x = torch.as_tensor(np.asarray(intensity, dtype=np.int64))
    b, n_in = x.shape
    g = len(base_seeds)
    q = _groups(n_in, g)
    r = draw_table(base_seeds, seeds, t_max * q) >> 24            # [B, T*Q, G]
    r = r.reshape(b, t_max, q * g)[:, :, :n_in]                     # input i = q*G + g
    return r < x[:, None, :]


# --- 4. history and traces -------------------------------------------------------------------

def histories(x, tau):
    """Spike histories ``h [B, T, N_in]`` (int64): bit l of h_i(t) is x_i(t - l) (section 4)."""
    xi = x.to(torch.int64)
    h = torch.zeros_like(xi)
    for lag in range(min(tau, x.shape[1])):
        h[:, lag:] |= xi[:, : x.shape[1] - lag] << lag
    return h


def traces(x, basis):
    """Traces ``c [B, T, N_in, K]`` and activity ``[B, T, N_in]`` (section 4).

    ``c`` holds exact integers in float32 (every trace is below ``tau * 255 < 2**24``), the
    dtype the potential matmul wants.
    """
    A = np.asarray(basis, dtype=np.int64)                           # [K, tau]
    k, tau = A.shape
    b, t_max, n_in = x.shape
    lagged = torch.zeros((b, t_max, n_in, tau), dtype=torch.float32)
    for lag in range(min(tau, t_max)):
        lagged[:, lag:, :, lag] = x[:, : t_max - lag]               # x_i(t - lag), zero before t=1
    # One small matmul instead of a pass per lag; float32 is exact: every trace is an
    # integer below tau * 255 < 2**24.
    assert tau * int(A.max(initial=0)) < 2**24
    c = lagged @ torch.as_tensor(A.T, dtype=torch.float32)
    return c, lagged.amax(dim=-1) > 0


# --- 5. GLM neurons --------------------------------------------------------------------------

@dataclass(frozen=True)
class GlmLayerParams:
    """Integer parameters of one GLM layer, as stored in the artifact."""

    weights: np.ndarray      # [N_out, N_in, K] odd integers
    basis: np.ndarray        # [K, tau] unsigned
    gamma: np.ndarray        # [N_out]
    scale: np.ndarray        # [N_out]
    scale_shift: int
    u_bits: int
    sigmoid: np.ndarray      # [2^U]
    base_seeds: np.ndarray   # [P]
    weight_bits: int
    basis_bits: int
    scale_bits: int

    @property
    def n_out(self):
        return self.weights.shape[0]

    @property
    def n_in(self):
        return self.weights.shape[1]

    @property
    def lanes(self):
        return len(self.base_seeds)


def glm_potentials(c, params: GlmLayerParams):
    """Accumulators and clamped potentials ``u [B, T, N_out]`` (section 5.2)."""
    # Integer-exact float matmul: float32 while every partial sum is below 2**24, else float64.
    bound = int(np.abs(params.weights).sum(axis=(1, 2)).max()) * int(np.asarray(params.basis).sum(axis=1).max())
    dtype = torch.float32 if bound < 2**24 else torch.float64
    w = torch.as_tensor(np.asarray(params.weights), dtype=dtype)
    b, t = c.shape[:2]
    acc = (c.to(dtype).reshape(b * t, -1) @ w.reshape(w.shape[0], -1).T).round().to(torch.int64).reshape(b, t, -1)
    scale = torch.as_tensor(np.asarray(params.scale, dtype=np.int64))
    gamma = torch.as_tensor(np.asarray(params.gamma, dtype=np.int64))
    v = gamma + torch.div(scale * acc, 1 << params.scale_shift, rounding_mode="floor")
    half = 1 << (params.u_bits - 1)
    return acc, v.clamp(-half, half - 1)


def glm_spikes(u, seeds, params: GlmLayerParams):
    """Bernoulli output spikes ``y [B, T, N_out]`` (bool) from potentials (section 5.3)."""
    b, t_max, n_out = u.shape
    p = params.lanes
    qn = _groups(n_out, p)
    table = torch.as_tensor(np.asarray(params.sigmoid, dtype=np.int64))
    prob = table[u + (1 << (params.u_bits - 1))]
    r = draw_table(params.base_seeds, seeds, t_max * qn) >> 16
    r = r.reshape(b, t_max, qn * p)[:, :, :n_out]
    return r < prob


# --- 6. decision -----------------------------------------------------------------------------

def argmax_lowest(u, mask=None):
    """argmax over the last axis, ties to the lowest index (torch.argmax returns the first).

    With ``mask``, only entries where it is true compete (integer or float potentials).
    """
    if mask is not None:
        low = torch.iinfo(u.dtype).min if not u.is_floating_point() else -torch.inf
        u = torch.where(mask, u, torch.full_like(u, low))
    return torch.argmax(u, dim=-1)


def first_to_spike(u, y):
    """Class, decision step (1-based) and decided flag per sample (section 6)."""
    b, t_max, _ = u.shape
    any_spike = y.any(dim=-1)                                        # [B, T]
    decided = any_spike.any(dim=-1)
    first = torch.where(decided, any_spike.to(torch.int8).argmax(dim=-1), torch.full((b,), t_max - 1))
    idx = torch.arange(b)
    u_at, y_at = u[idx, first], y[idx, first]
    cls = torch.where(decided, argmax_lowest(u_at, y_at), argmax_lowest(u_at))
    return cls, first + 1, decided


def classes_by_step(u, y):
    """Class ``[B, T]`` when ``T_max`` is cut to ``t`` (entry t-1): a sample decided by a spike
    at a step ``<= t`` keeps that class, any other takes ``argmax_j u_j(t)`` (section 6).
    The last column is :func:`first_to_spike`'s class. Works on float potentials too."""
    cls, step, decided = first_to_spike(u, y)
    keep = decided[:, None] & (step[:, None] <= torch.arange(1, u.shape[1] + 1)[None, :])
    return torch.where(keep, cls[:, None], argmax_lowest(u))


def accuracy_by_step(u, y, labels):
    """Accuracy when T_max is cut to t, for t = 1..T (list, entry t-1)."""
    labels = torch.as_tensor(np.array(labels))
    return (classes_by_step(u, y) == labels[:, None]).double().mean(dim=0).tolist()


# --- the whole accelerator ---------------------------------------------------------------------

@dataclass
class GoldenResult:
    """What the accelerator reports per sample, plus every spike up to the decision."""

    cls: np.ndarray          # [B]
    step: np.ndarray         # [B] 1-based decision step
    decided: np.ndarray      # [B] bool
    events: np.ndarray       # [B]
    sops: np.ndarray         # [B]
    input_spikes: np.ndarray  # [B, T, N_in] bool, steps after the decision zeroed
    spikes: np.ndarray       # [B, T, N_out] bool, steps after the decision zeroed
    potentials: np.ndarray   # [B, T, N_out] int, the whole run (not masked)
    accuracy_by_step: list = field(default_factory=list)

    def accuracy(self, labels):
        return float(np.mean(self.cls == np.asarray(labels)))


@dataclass(frozen=True)
class GoldenModel:
    """The integer model of an artifact: encoder, one GLM layer, first-to-spike decision."""

    t_max: int
    encoder_base_seeds: np.ndarray
    layer: GlmLayerParams

    @classmethod
    def from_artifact(cls, artifact):
        m, a = artifact.manifest, artifact.arrays
        layer = m["layers"][0]
        return cls(
            t_max=int(m["t_max"]),
            encoder_base_seeds=np.asarray(a["encoder.base_seeds"]),
            layer=GlmLayerParams(
                weights=np.asarray(a["layer0.weights"]), basis=np.asarray(a["layer0.basis"]),
                gamma=np.asarray(a["layer0.gamma"]), scale=np.asarray(a["layer0.scale"]),
                scale_shift=int(layer["scale_shift"]), u_bits=int(layer["u_bits"]),
                sigmoid=np.asarray(a["layer0.sigmoid"]), base_seeds=np.asarray(a["layer0.base_seeds"]),
                weight_bits=int(layer["weight_bits"]), basis_bits=int(layer["basis_bits"]),
                scale_bits=int(layer["scale_bits"]),
            ),
        )

    @property
    def n_in(self):
        return self.layer.n_in

    def run(self, intensity, seeds, labels=None, batch=512):
        """Run a batch of samples. ``intensity`` uint8 ``[B, N_in]``, ``seeds`` ``[B]``."""
        intensity = np.asarray(intensity)
        seeds = np.asarray(seeds)
        if intensity.ndim != 2 or intensity.shape[1] != self.n_in:
            raise ValueError(f"samples must have shape [B, {self.n_in}], got {list(intensity.shape)}")
        if intensity.min(initial=0) < 0 or intensity.max(initial=0) > 255:
            raise ValueError("input intensities must be 8-bit unsigned (0..255)")
        if seeds.shape != (intensity.shape[0],):
            raise ValueError(f"need one seed per sample: {seeds.shape} vs {intensity.shape[0]} samples")
        parts = [self._run(intensity[i:i + batch], seeds[i:i + batch]) for i in range(0, len(seeds), batch)]
        res = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
        out = GoldenResult(
            cls=res["cls"].numpy(), step=res["step"].numpy(), decided=res["decided"].numpy(),
            events=res["events"].numpy(), sops=res["sops"].numpy(),
            input_spikes=res["x"].numpy(), spikes=res["y"].numpy(), potentials=res["u"].numpy(),
        )
        if labels is not None:
            out.accuracy_by_step = accuracy_by_step(res["u"], res["y_full"], labels)
        return out

    def _run(self, intensity, seeds):
        x = encode_bernoulli(intensity, seeds, self.encoder_base_seeds, self.t_max)
        c, active = traces(x, self.layer.basis)
        _, u = glm_potentials(c, self.layer)
        y = glm_spikes(u, seeds, self.layer)
        cls, step, decided = first_to_spike(u, y)
        live = torch.arange(1, self.t_max + 1)[None, :] <= step[:, None]          # [B, T]
        events = (active & live[..., None]).sum(dim=(1, 2))
        sops = ((c != 0) & live[..., None, None]).sum(dim=(1, 2, 3)) * self.layer.n_out
        return dict(cls=cls, step=step, decided=decided, events=events, sops=sops,
                    x=x & live[..., None], y=y & live[..., None], y_full=y, u=u)
