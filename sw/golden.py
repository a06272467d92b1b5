"""Bit-exact integer golden model of the accelerator (docs/semantics.md).

Batched over samples with integer PyTorch tensors. Every random draw of every sample is
computed up front (the generators are consumed in a data-independent order), and the whole
``T_max`` run is computed for every sample; the early exit of the hardware is applied
afterwards as a mask. This keeps the model fast and makes "what if T_max were t" (the
accuracy-by-step curve) free.

The same functions are the reference for every test tier: Amaranth-simulator unit tests,
cocotb component tests and the end-to-end cocotb test compare against them. Every rule and
integer helper (generator, seeds, groups, LIF integration, decisions, structural rules)
comes from :mod:`spinaps.contract`; this module only batches them over samples in torch.

One module of about 600 lines on purpose: its sections follow docs/semantics.md one to one
(generator, encoder, traces, GLM, LIF, decision, the whole accelerator), so the model can be
read against the contract.

Speed matters (the design search's inner loop; bench/toolspeed.py measures it against
snnTorch's float simulation of the same network): generator draws come from tables of
xorshift32's linear parts (:func:`draw_table`), the LIF step loop runs in place in int32
(:func:`_lif_steps`), and :meth:`GoldenModel.run` copies each batch once into the result.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import torch

from spinaps import contract
from spinaps.contract import CONTRACT_VERSION, DECISIONS, xorshift32  # noqa: F401  (re-exported)


# --- 2. pseudo-random generator ------------------------------------------------------------

def initial_states(base_seeds, seeds):
    """Generator states at the start of an inference: ``base_seed[g] ^ (seed << 16)``.

    Returns an int64 tensor ``[B, G]`` for ``base_seeds [G]`` and ``seeds [B]``.
    """
    base_seeds = np.asarray(base_seeds, dtype=np.int64)
    seeds = np.asarray(seeds, dtype=np.int64)
    contract.check_base_seeds(base_seeds)
    seed = contract.RANGES["seed"]
    bad = (seeds < seed.lo) | (seeds > seed.hi)
    if bad.any():
        i = int(np.argmax(bad))
        raise contract.ContractError(f"seeds[{i}] = {int(seeds[i])} is out of range "
                                     f"{seed.lo}..{seed.hi} ({seed.meaning})")
    base = torch.as_tensor(base_seeds)
    return contract.initial_state(base[None, :], torch.as_tensor(seeds)[:, None])


def draw_table(base_seeds, seeds, n_draws, shift=0, dtype=torch.int64):
    """All draws of a bank: tensor ``[B, n_draws, G]``; entry ``n`` is draw number n (the
    generator's state after ``n + 1`` steps), shifted right by ``shift``, as ``dtype`` (int64
    holds a whole state; a narrower type must hold ``32 - shift`` bits).

    xorshift32 is linear over GF(2) (shifts and xors only), so the state after ``n`` steps of
    ``base ^ (seed << 16)`` is the state of ``base`` after ``n`` steps xor that of
    ``seed << 16``, and the latter is the xor of the states of the seed's two bytes in place.
    The three parts are tabulated once per bank and length (:func:`_base_steps`,
    :func:`_seed_byte_steps`), so a batch costs two gathers and two xors instead of ``n_draws``
    generator steps; the right shift distributes over xor too.
    """
    initial_states(base_seeds, seeds)                          # the range checks
    seeds = torch.as_tensor(np.asarray(seeds, dtype=np.int64))
    base = (_base_steps(tuple(int(b) for b in np.asarray(base_seeds).ravel()), n_draws) >> shift).to(dtype)
    low, high = ((t >> shift).to(dtype) for t in _seed_byte_steps(n_draws))                   # [n, 256]
    per_seed = (low[:, seeds & 0xFF] ^ high[:, seeds >> 8]).T                                   # [B, n]
    return per_seed[:, :, None] ^ base[None]                                                    # [B, n, G]


def _steps(start, n_draws):
    """States of generators started at ``start`` (int64 ``[M]``) after 1..n_draws steps: ``[n, M]``."""
    out = np.empty((n_draws, len(start)), dtype=np.int64)
    s = np.asarray(start, dtype=np.int64)
    for n in range(n_draws):
        s = xorshift32(s)
        out[n] = s
    return torch.as_tensor(out)


@functools.lru_cache(maxsize=64)
def _base_steps(base_seeds, n_draws):
    """The base seeds' own part of every draw, ``[n_draws, G]`` (see :func:`draw_table`)."""
    return _steps(np.asarray(base_seeds, dtype=np.int64), n_draws)


@functools.lru_cache(maxsize=16)
def _seed_byte_steps(n_draws):
    """The seed's part of every draw, per byte value: ``(low, high)``, each ``[n_draws, 256]``,
    for the seed's low byte in state bits 16..23 and its high byte in bits 24..31."""
    byte = np.arange(256, dtype=np.int64)
    both = _steps(np.concatenate([byte << contract.SEED_BITS, byte << (contract.SEED_BITS + 8)]), n_draws)
    return both[:, :256], both[:, 256:]


# --- 3. encoder ------------------------------------------------------------------------------

_NUMPY_DTYPES = {torch.int16: np.int16, torch.int64: np.int64}


def _frames_of(intensity, frames, t_max, dtype=torch.int64):
    """Intensities ``[B, frames * N_in]`` as the ``[B, T, N_in]`` tensor of each step's frame
    (section 1: step ``t`` uses frame ``min(t, F) - 1``); with one frame, a broadcast view."""
    # astype copies: the caller's array may be read-only (torch warns on those).
    x = torch.from_numpy(np.asarray(intensity).astype(_NUMPY_DTYPES[dtype]))
    if x.shape[1] % frames:
        raise ValueError(f"a sample of {x.shape[1]} intensities does not split into {frames} frames")
    n_in = x.shape[1] // frames
    if frames == 1:
        return x[:, None, :].expand(x.shape[0], t_max, n_in)
    frame = torch.as_tensor(contract.frame_of_step(t_max, frames))
    return x.reshape(x.shape[0], frames, n_in)[:, frame]


def encode_bernoulli(intensity, seeds, base_seeds, t_max, frames=1):
    """Input spikes ``x [B, T, N_in]`` (bool) of the Bernoulli rate encoder (sections 1, 3.1).

    ``intensity`` is ``[B, frames * N_in]``, frame after frame (the sample stream's order).
    """
    x = _frames_of(intensity, frames, t_max, torch.int16)          # [B, T, N_in]
    b, _, n_in = x.shape
    g = len(base_seeds)
    q = contract.groups(n_in, g)
    # 8-bit draws (the top byte of each state) compared with 8-bit intensities: int16 holds both.
    r = draw_table(base_seeds, seeds, t_max * q, contract.DRAW_SHIFT["encoder"], torch.int16)  # [B, T*Q, G]
    r = r.reshape(b, t_max, q * g)[:, :, :n_in]                     # input i = q*G + g
    return r < x


def encode_deterministic(intensity, t_max, frames=1):
    """Input spikes ``x [B, T, N_in]`` (bool) of the accumulate-and-fire encoder (section 3.2).

    Closed form: with ``S(t)`` the intensities summed over steps ``1..t``, an input has fired
    ``(128 + S(t)) >> 8`` times after step ``t`` (:func:`spinaps.contract.accumulated_spikes`),
    and spikes at the steps where that count grows. No seeds: it draws nothing.
    """
    total = _frames_of(intensity, frames, t_max).cumsum(dim=1)      # S(t), [B, T, N_in]
    fired = contract.accumulated_spikes(total)
    return torch.diff(fired, dim=1, prepend=torch.zeros_like(fired[:, :1])) > 0


def encode(encoder_type, intensity, seeds, base_seeds, t_max, frames=1):
    """Input spikes ``[B, T, N_in]`` of the encoder ``encoder_type`` (section 3); the
    deterministic encoder ignores ``seeds`` and ``base_seeds``."""
    if contract.encoder_draws(encoder_type):
        return encode_bernoulli(intensity, seeds, base_seeds, t_max, frames)
    return encode_deterministic(intensity, t_max, frames)


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
    u_scale: float = 1.0     # float value of one potential LSB (export record, not contract)

    kind = "glm"

    @property
    def n_out(self):
        return self.weights.shape[0]

    @property
    def n_in(self):
        return self.weights.shape[1]

    @property
    def lanes(self):
        return len(self.base_seeds)

    @property
    def tau(self):
        return int(np.asarray(self.basis).shape[1])


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
    return acc, v.clip(*contract.potential_bounds(params.u_bits))


def glm_spikes(u, seeds, params: GlmLayerParams):
    """Bernoulli output spikes ``y [B, T, N_out]`` (bool) from potentials (section 5.3)."""
    b, t_max, n_out = u.shape
    p = params.lanes
    qn = contract.groups(n_out, p)
    table = torch.as_tensor(np.asarray(params.sigmoid, dtype=np.int64))
    prob = table[u - contract.potential_bounds(params.u_bits)[0]]        # entry u + 2^(U-1)
    r = draw_table(params.base_seeds, seeds, t_max * qn, contract.DRAW_SHIFT["glm"], torch.int32)
    r = r.reshape(b, t_max, qn * p)[:, :, :n_out]
    return r < prob


# --- 5b. LIF neurons --------------------------------------------------------------------------

@dataclass(frozen=True)
class LifLayerParams:
    """Integer parameters of one LIF layer (section 5b), as stored in the artifact."""

    weights: np.ndarray      # [N_out, N_in] odd integers, |w| <= 2^weight_bits - 1
    weight_bits: int
    threshold: np.ndarray    # [N_out], 1 .. 2^(v_bits-1) - 1
    bias: np.ndarray         # [N_out]
    v_bits: int
    leak_shift: int          # 0 = no leak
    reset: str               # "subtract" | "zero"
    refractory: int
    lanes: int

    kind = "lif"

    @property
    def n_out(self):
        return self.weights.shape[0]

    @property
    def n_in(self):
        return self.weights.shape[1]


def lif_layer(s, params: LifLayerParams):
    """Potentials ``u [B, T, N_out]`` (int64, saturated, before reset) and spikes ``y`` (bool)
    of a LIF layer for input spikes ``s [B, T, N_in]`` (section 5b)."""
    u, y = _lif_steps(s, params)
    return u.to(torch.int64), y


def _lif_steps(s, params: LifLayerParams):
    """:func:`lif_layer` with int32 potentials, both outputs ``[B, T, N_out]`` views of
    time-major tensors.

    The step loop is the model's inner loop (the design search runs it millions of times), so
    it works time-major in int32 with in-place operations into preallocated outputs, and
    skips the refractory bookkeeping of a layer without refractory steps. int32 is exact: a
    potential has at most 24 bits (``v_bits``), a drive at most 16 + 8 bits of summed
    weights plus a bias (``n_in <= 65536``, ``|w| <= 255``).
    """
    w = np.asarray(params.weights, dtype=np.int64)
    b, t_max, n_in = s.shape
    n_out = params.n_out
    # Integer-exact float matmul (every partial sum of |w| bounded by the dtype's mantissa), so
    # the products need no rounding.
    dtype = torch.float32 if int(np.abs(w).sum(axis=1).max(initial=0)) < 2**24 else torch.float64
    drive = s.transpose(0, 1).reshape(t_max * b, n_in).to(dtype) @ torch.as_tensor(w, dtype=dtype).T
    drive = drive.to(torch.int32).reshape(t_max, b, n_out)
    drive += torch.as_tensor(np.asarray(params.bias, dtype=np.int32))
    theta = torch.as_tensor(np.asarray(params.threshold, dtype=np.int32))
    lo, hi = contract.potential_bounds(params.v_bits)
    shift, subtract, refractory = params.leak_shift, params.reset == "subtract", params.refractory
    u_out = torch.empty((t_max, b, n_out), dtype=torch.int32)
    y_out = torch.empty((t_max, b, n_out), dtype=torch.bool)
    v = torch.zeros((b, n_out), dtype=torch.int32)
    tmp = torch.empty_like(v)
    ref = torch.zeros_like(v) if refractory else None
    for t in range(t_max):
        u, y = u_out[t], y_out[t]
        # contract.lif_integrate, in place: clamp(v - (v >> s) + drive)
        if shift:
            torch.bitwise_right_shift(v, shift, out=tmp)
            torch.sub(v, tmp, out=u)
            u += drive[t]
        else:
            torch.add(v, drive[t], out=u)
        u.clamp_(lo, hi)
        if refractory:
            quiet = ref > 0                              # refractory: hold v, no spike
            u.copy_(torch.where(quiet, v, u))
            torch.ge(u, theta, out=y)
            y &= ~quiet
            ref.sub_(1).clamp_(min=0)                    # counts down while quiet, else 0
            ref += y * refractory
        else:
            torch.ge(u, theta, out=y)
        v = (u - y * theta) if subtract else u.masked_fill(y, 0)
    return u_out.permute(1, 0, 2), y_out.permute(1, 0, 2)


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


def decide(u, y, decision="first_to_spike"):
    """Class, decision step (1-based) and decided flag per sample for a decision rule (section 6)."""
    b, t_max, _ = u.shape
    contract.check_choice("decision", decision, DECISIONS)
    if decision == "first_to_spike":
        return first_to_spike(u, y)
    full = torch.full((b,), t_max)
    if decision == "spike_count":
        counts = y.sum(dim=1)
        return argmax_lowest(counts), full, counts.amax(dim=-1) > 0
    return argmax_lowest(u[:, -1]), full, torch.ones(b, dtype=torch.bool)      # max_potential


def classes_by_step(u, y, decision="first_to_spike"):
    """Class ``[B, T]`` when ``T_max`` is cut to ``t`` (entry t-1), section 6.

    First-to-spike: a sample decided by a spike at a step ``<= t`` keeps that class, any other
    takes ``argmax_j u_j(t)``; spike count: argmax of the counts of steps ``1..t``; max
    potential: ``argmax_j u_j(t)``. The last column is :func:`decide`'s class. Works on float
    potentials too.
    """
    if decision == "spike_count":
        return argmax_lowest(y.to(torch.int64).cumsum(dim=1))
    if decision == "max_potential":
        return argmax_lowest(u)
    cls, step, decided = first_to_spike(u, y)
    keep = decided[:, None] & (step[:, None] <= torch.arange(1, u.shape[1] + 1)[None, :])
    return torch.where(keep, cls[:, None], argmax_lowest(u))


def accuracy_by_step(u, y, labels, decision="first_to_spike"):
    """Accuracy when T_max is cut to t, for t = 1..T (list, entry t-1)."""
    labels = torch.as_tensor(np.array(labels))
    return (classes_by_step(u, y, decision) == labels[:, None]).double().mean(dim=0).tolist()


# --- the whole accelerator ---------------------------------------------------------------------

@dataclass
class GoldenResult:
    """What the accelerator reports per sample, plus every spike up to the decision."""

    cls: np.ndarray          # [B]
    step: np.ndarray         # [B] 1-based decision step
    decided: np.ndarray      # [B] bool
    events: np.ndarray       # [B, L] per layer, steps 1..step
    sops: np.ndarray         # [B, L]
    input_spikes: np.ndarray  # [B, T, N_in] bool, steps after the decision zeroed
    layer_spikes: list       # per layer [B, T, N_l] bool, steps after the decision zeroed
    layer_potentials: list   # per layer [B, T, N_l] int, the whole run (not masked)
    accuracy_by_step: list = field(default_factory=list)

    @property
    def spikes(self):
        """The output layer's spikes ``[B, T, N_out]`` (masked after the decision)."""
        return self.layer_spikes[-1]

    @property
    def potentials(self):
        """The output layer's potentials ``[B, T, N_out]`` (the whole run)."""
        return self.layer_potentials[-1]

    def accuracy(self, labels):
        return float(np.mean(self.cls == np.asarray(labels)))


def _layer_from_artifact(record, a):
    if record["type"] == "lif":
        return LifLayerParams(
            weights=np.asarray(a["weights"]), weight_bits=int(record["weight_bits"]),
            threshold=np.asarray(a["threshold"]), bias=np.asarray(a["bias"]),
            v_bits=int(record["v_bits"]), leak_shift=int(record["leak_shift"]),
            reset=str(record["reset"]), refractory=int(record["refractory"]), lanes=int(record["lanes"]),
        )
    return GlmLayerParams(
        weights=np.asarray(a["weights"]), basis=np.asarray(a["basis"]),
        gamma=np.asarray(a["gamma"]), scale=np.asarray(a["scale"]),
        scale_shift=int(record["scale_shift"]), u_bits=int(record["u_bits"]),
        sigmoid=np.asarray(a["sigmoid"]), base_seeds=np.asarray(a["base_seeds"]),
        weight_bits=int(record["weight_bits"]), basis_bits=int(record["basis_bits"]),
        scale_bits=int(record["scale_bits"]), u_scale=float(record["u_scale"]),
    )


@dataclass(frozen=True)
class GoldenModel:
    """The integer model of an artifact: encoder, layers, decision (docs/semantics.md 0-7).

    ``layers`` holds :class:`LifLayerParams` and :class:`GlmLayerParams` (a GLM layer only
    last); ``output_layer`` is the last one. The structural rules are checked at
    construction (:func:`spinaps.contract.check_network`).

    The encoder (section 3) is ``encoder_type``: ``"bernoulli"`` needs
    ``encoder_base_seeds``, one per lane (``encoder_lanes`` is their number);
    ``"deterministic"`` draws nothing, so it takes ``encoder_lanes`` (1..min(64, n_in)) and
    no seeds (``encoder_base_seeds`` becomes an empty array).
    """

    t_max: int
    encoder_base_seeds: np.ndarray | None = None
    layers: tuple = ()
    decision: str = "first_to_spike"
    frames: int = 1
    encoder_type: str = "bernoulli"
    encoder_lanes: int | None = None

    def __post_init__(self):
        layers = tuple(self.layers)
        if not layers:
            raise contract.ContractError("a golden model needs at least one layer")
        contract.check_network([lp.kind for lp in layers], [(lp.n_in, lp.n_out) for lp in layers],
                               self.decision)
        object.__setattr__(self, "layers", layers)
        seeds = np.asarray([] if self.encoder_base_seeds is None else self.encoder_base_seeds)
        if contract.encoder_draws(self.encoder_type):
            if not len(seeds):
                raise contract.ContractError("encoder_base_seeds: a bernoulli encoder needs one base "
                                             "seed per lane")
            if self.encoder_lanes is not None and self.encoder_lanes != len(seeds):
                raise contract.ContractError(f"encoder_lanes = {self.encoder_lanes} differs from the "
                                             f"{len(seeds)} encoder_base_seeds (one per lane)")
            object.__setattr__(self, "encoder_lanes", len(seeds))
            return
        if len(seeds):
            raise contract.ContractError(f"encoder_base_seeds: a {self.encoder_type} encoder draws "
                                         f"nothing; pass no base seeds (got {len(seeds)})")
        if self.encoder_lanes is None:
            raise contract.ContractError(f"encoder_lanes: a {self.encoder_type} encoder needs its "
                                         f"lanes (inputs per cycle)")
        contract.check_encoder_lanes(layers[0].n_in, self.encoder_lanes, field="encoder_lanes")
        object.__setattr__(self, "encoder_base_seeds", np.zeros(0, dtype=np.uint32))

    @property
    def output_layer(self):
        """The output layer (the only one of a SpinAPS network)."""
        return self.layers[-1]

    @classmethod
    def from_artifact(cls, artifact):
        """The model of a validated :class:`spinaps.sw.artifact.Artifact` (loaded from a file
        or built by :func:`spinaps.sw.artifact.from_memory`)."""
        m = artifact.manifest
        layers = []
        for index, record in enumerate(m["layers"]):
            prefix = f"layer{index}."
            a = {k[len(prefix):]: v for k, v in artifact.arrays.items() if k.startswith(prefix)}
            layers.append(_layer_from_artifact(record, a))
        enc = m["encoder"]
        seeds = artifact.arrays.get("encoder.base_seeds")           # absent: no draws (3.2)
        return cls(t_max=int(m["t_max"]), encoder_base_seeds=None if seeds is None else np.asarray(seeds),
                   layers=tuple(layers), decision=m.get("decision", "first_to_spike"),
                   frames=int(enc.get("frames", 1)), encoder_type=str(enc["type"]),
                   encoder_lanes=int(enc["lanes"]))

    @property
    def n_in(self):
        """Encoder inputs per frame."""
        return self.layers[0].n_in

    @property
    def sample_size(self):
        """Intensities per sample: ``frames * n_in``."""
        return self.frames * self.n_in

    def run(self, intensity, seeds, labels=None, batch=512):
        """Run a batch of samples. ``intensity`` uint8 ``[B, frames * N_in]``, ``seeds`` ``[B]``."""
        intensity = np.asarray(intensity)
        seeds = np.asarray(seeds)
        if intensity.ndim == 3:                      # [B, F, N_in] is accepted too
            intensity = intensity.reshape(len(intensity), -1)
        if intensity.ndim != 2 or intensity.shape[1] != self.sample_size:
            raise ValueError(f"samples must have shape [B, {self.sample_size}] ({self.frames} frame(s) of "
                             f"{self.n_in} inputs), got {list(intensity.shape)}")
        if intensity.min(initial=0) < 0 or intensity.max(initial=0) > 255:
            raise ValueError("input intensities must be 8-bit unsigned (0..255)")
        if seeds.shape != (intensity.shape[0],):
            raise ValueError(f"need one seed per sample: {seeds.shape} vs {intensity.shape[0]} samples")
        n, n_layers = len(seeds), len(self.layers)
        arrays = {}

        def put(key, i, value, dtype=None):
            """Copy one batch's tensor into the whole run's array (made at the first batch):
            one strided copy per batch instead of a concatenation and a conversion."""
            if key not in arrays:
                arrays[key] = np.empty((n, *value.shape[1:]), dtype=dtype or value.numpy().dtype)
            torch.from_numpy(arrays[key][i:i + len(value)]).copy_(value)

        for i in range(0, n, batch) if n else [0]:
            part = self._run(intensity[i:i + batch], seeds[i:i + batch])
            for key in ("cls", "step", "decided", "events", "sops", "x"):
                put(key, i, part[key])
            for index in range(n_layers):
                put(("y", index), i, part["y"][index])
                put(("u", index), i, part["u"][index], np.int64)
            if labels is not None:
                put("y_full", i, part["y_full"])
        out = GoldenResult(
            cls=arrays["cls"], step=arrays["step"], decided=arrays["decided"], events=arrays["events"],
            sops=arrays["sops"], input_spikes=arrays["x"],
            layer_spikes=[arrays["y", index] for index in range(n_layers)],
            layer_potentials=[arrays["u", index] for index in range(n_layers)],
        )
        if labels is not None:
            u, y = torch.as_tensor(arrays["u", n_layers - 1]), torch.as_tensor(arrays["y_full"])
            out.accuracy_by_step = accuracy_by_step(u, y, labels, self.decision)
        return out

    def _run(self, intensity, seeds):
        x = encode(self.encoder_type, intensity, seeds, self.encoder_base_seeds, self.t_max, self.frames)
        s = x
        us, ys, events, sops = [], [], [], []
        for lp in self.layers:
            if lp.kind == "lif":
                u, y = _lif_steps(s, lp)
                ev = s.sum(dim=-1)                                            # [B, T]
                sop = ev * lp.n_out
            else:
                c, active = traces(s, lp.basis)
                _, u = glm_potentials(c, lp)
                y = glm_spikes(u, seeds, lp)
                ev = active.sum(dim=-1)
                sop = (c != 0).sum(dim=(2, 3)) * lp.n_out
            us.append(u)
            ys.append(y)
            events.append(ev)
            sops.append(sop)
            s = y
        cls, step, decided = decide(us[-1], ys[-1], self.decision)
        live = torch.arange(1, self.t_max + 1)[None, :] <= step[:, None]          # [B, T]
        return dict(cls=cls, step=step, decided=decided,
                    events=torch.stack([(e * live).sum(dim=1) for e in events], dim=1),
                    sops=torch.stack([(o * live).sum(dim=1) for o in sops], dim=1),
                    x=x & live[..., None], y=[y & live[..., None] for y in ys], y_full=ys[-1], u=us)
