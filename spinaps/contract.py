"""The bit-exact contract, docs/semantics.md, as Python: every range, enum, structural rule
and integer helper that the golden model, the RTL generator, the artifact, the training
configs, the cost model, the board link and the CLI share.

This is the one home of each rule: nothing else in the package writes a range or an enum of
the contract as a literal; it asks this module. numpy only (no torch, no amaranth), so that
validating an artifact or elaborating gateware never loads torch.

Checks raise :class:`ContractError` (a ``ValueError``) with one message that names the
parameter (or the field the caller passes), the value and the allowed values, e.g.
``t_max = 300 is out of range 1..255 (time steps per inference)``.

The integer helpers work on Python ints, numpy arrays and torch tensors alike (they only use
operators and ``.clip``), so the golden model (torch) and the validators (numpy) run the
same code.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

__all__ = [
    "CONTRACT_VERSION", "ContractError", "Range", "RANGES", "WEIGHT_BITS", "RESETS",
    "DECISIONS", "EARLY_EXIT_DECISIONS", "LAYER_TYPES", "ENCODER_TYPES", "MAX_LAYERS", "MAX_ENCODER_LANES",
    "SEED_BITS", "SEED_MASK", "PROBABILITY_BITS", "PROBABILITY_MAX", "DRAW_SHIFT",
    "XORSHIFT_SHIFTS", "MASK32", "INTENSITY_BITS", "ENCODER_PHASE",
    "check", "check_int", "check_choice", "check_lanes", "check_encoder_lanes",
    "check_network", "is_int",
    "ceil_div", "words", "groups", "weight_max", "trace_max", "accumulator_bits",
    "potential_bounds", "lif_integrate", "frame_of_step",
    "xorshift32", "initial_state", "check_base_seeds", "splitmix32_seeds", "sample_seeds",
    "encoder_draws", "accumulate_fire", "accumulated_spikes",
    "sigmoid_table", "check_at_least", "unsigned_max", "nearest_odd_level", "largest_potential",
]

#: Version of docs/semantics.md. A change to any rule there bumps it, and changes the golden
#: model and the RTL in the same commit.
#: Version history: 1, the first release; 2, multi-layer networks (LIF layers, frames,
#: decision rules); 3, the deterministic accumulate-and-fire encoder (section 3.2).
CONTRACT_VERSION = 3


class ContractError(ValueError):
    """A value breaks a rule of docs/semantics.md; the message names the field and the rule."""


# --- parameter ranges -------------------------------------------------------------------------

@dataclass(frozen=True)
class Range:
    """Inclusive integer range of one contract parameter, and what the parameter is."""

    lo: int
    hi: int
    meaning: str

    def __contains__(self, value) -> bool:
        return is_int(value) and self.lo <= value <= self.hi


#: Every plain integer range of the contract, by parameter name (docs/semantics.md,
#: docs/artifact.md). Ranges that depend on another value (a layer's ``lanes`` on its
#: ``n_out``, the encoder's on ``n_inputs``) have their own helpers below.
RANGES: dict[str, Range] = {
    "t_max": Range(1, 255, "time steps per inference"),
    "frames": Range(1, 255, "frames per sample"),
    "n_inputs": Range(1, 65536, "input intensities per frame"),
    "n_in": Range(1, 65536, "inputs of a layer"),
    "n_out": Range(1, 65536, "neurons of a layer"),
    "n_classes": Range(2, 65536, "neurons of the output layer, one per class"),
    "basis": Range(1, 4, "basis functions K of a GLM layer"),
    "tau": Range(1, 8, "GLM history window, in steps"),
    "basis_bits": Range(1, 8, "bits of a basis coefficient"),
    "u_bits": Range(4, 12, "bits of a GLM potential"),
    "scale_bits": Range(1, 16, "bits of a GLM per-neuron scale"),
    "scale_shift": Range(0, 31, "right shift after the GLM scale multiply"),
    "v_bits": Range(6, 24, "bits of a LIF potential"),
    "leak_shift": Range(0, 15, "LIF leak shift, 0 = no leak"),
    "refractory": Range(0, 15, "LIF refractory steps"),
    "seed": Range(0, 65535, "16-bit per-inference seed"),
    "layers": Range(1, 8, "layers of a network"),
}

#: Bits per weight (binary cells per weight): weights are the odd levels of that width.
WEIGHT_BITS = (1, 2, 4, 8)
#: LIF reset after a spike: subtract the threshold, or set the potential to zero.
RESETS = ("subtract", "zero")
#: Decision rules (docs/semantics.md section 6), in the order of the link's decision codes.
DECISIONS = ("first_to_spike", "spike_count", "max_potential")
#: Decision rules that may stop before ``t_max`` (section 6: the others run every step).
EARLY_EXIT_DECISIONS = ("first_to_spike",)
#: Layer types. A GLM layer may only be the output layer.
LAYER_TYPES = ("lif", "glm")
#: Input encoders (section 3): random draws (3.1), or accumulate-and-fire without any (3.2).
ENCODER_TYPES = ("bernoulli", "deterministic")
#: Largest number of layers of a network.
MAX_LAYERS = RANGES["layers"].hi
#: Largest number of encoder generators (lanes); also at most ``n_inputs``.
MAX_ENCODER_LANES = 64

#: Width of a per-inference seed; it fills the high half of a generator's 32-bit state.
SEED_BITS = 16
SEED_MASK = (1 << SEED_BITS) - 1
#: The sigmoid table holds 16-bit spike probabilities 0..65535 (section 5.3).
PROBABILITY_BITS = 16
PROBABILITY_MAX = (1 << PROBABILITY_BITS) - 1
#: A GLM draw compares the top 16 bits of a generator state; the encoder the top 8.
DRAW_SHIFT = {"glm": 32 - PROBABILITY_BITS, "encoder": 24}
#: xorshift32 shifts (left, right, left), section 2.
XORSHIFT_SHIFTS = (13, 17, 5)
MASK32 = 0xFFFFFFFF
#: Bits of an input intensity (0..255), and of the deterministic encoder's accumulator,
#: whose carry out of these bits is the spike (section 3.2).
INTENSITY_BITS = 8
#: The deterministic encoder's accumulator at the start of an inference: half of 2^8, so the
#: spikes after t steps of intensity x are round(t*x / 256) (half up), not floor (3.2).
ENCODER_PHASE = 1 << (INTENSITY_BITS - 1)


def is_int(value) -> bool:
    """An integer (Python or numpy), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def check_int(name: str, value, lo: int, hi: int, why: str = ""):
    """Return ``value`` if it is an integer in ``lo..hi``, else raise naming ``name``.

    The general form of :func:`check`, for ranges that depend on other values (``lanes``
    from ``n_out``) or that belong to a component rather than to the contract.
    """
    if not is_int(value) or not lo <= value <= hi:
        hint = f" ({why})" if why else ""
        shown = f"{value!r}" if not is_int(value) else f"{int(value)}"
        raise ContractError(f"{name} = {shown} is out of range {lo}..{hi}{hint}")
    return value


def check(param: str, value, *, field: str | None = None):
    """Check ``value`` against the contract range of ``param`` (a key of :data:`RANGES`).

    ``field`` names the value in the message (default ``param``), e.g. ``layers[0].tau``.
    Returns the value.
    """
    r = RANGES[param]
    return check_int(field or param, value, r.lo, r.hi, r.meaning)


def check_choice(name: str, value, choices: Sequence):
    """Return ``value`` if it is one of ``choices``, else raise naming ``name`` and them."""
    if isinstance(value, (bool, np.bool_)) or value not in choices:
        shown = ", ".join(repr(c) if isinstance(c, str) else str(c) for c in choices)
        raise ContractError(f"{name} = {value!r} is not one of {shown}")
    return value


def check_lanes(n_out: int, lanes, *, field: str = "lanes"):
    """A layer's accumulator lanes: 1..n_out (section 9)."""
    return check_int(field, lanes, 1, n_out, "1 up to the layer's neurons, n_out")


def check_encoder_lanes(n_inputs: int, lanes, *, field: str = "encoder lanes"):
    """The encoder's lanes (generators or accumulators per cycle): 1..min(64, n_inputs)
    (section 3)."""
    hi = min(MAX_ENCODER_LANES, n_inputs)
    why = "n_inputs" if n_inputs < MAX_ENCODER_LANES else f"at most {MAX_ENCODER_LANES}"
    return check_int(field, lanes, 1, hi, why)


def check_network(types: Sequence[str], sizes: Sequence[tuple[int, int]], decision: str,
                  n_inputs: int | None = None, *, field: str = "layers") -> None:
    """The structural rules of a network (docs/semantics.md section 0).

    Parameters
    ----------
    types : sequence of str
        Layer types, input side first (each one of :data:`LAYER_TYPES`).
    sizes : sequence of (n_in, n_out)
        Layer sizes, same order.
    decision : str
        The decision rule.
    n_inputs : int, optional
        Encoder inputs per frame; when given, the first layer must take that many.

    Raises
    ------
    ContractError
        At the first broken rule: layer count, a GLM layer that is not the output layer,
        sizes that do not chain, a decision that needs a LIF output, fewer than 2 classes.
    """
    check_choice("decision", decision, DECISIONS)
    n = len(types)
    if n != len(sizes):
        raise ContractError(f"{field}: {n} layer types but {len(sizes)} layer sizes")
    check_int(f"number of {field}", n, RANGES["layers"].lo, RANGES["layers"].hi,
              RANGES["layers"].meaning)
    for i, kind in enumerate(types):
        check_choice(f"{field}[{i}].type", kind, LAYER_TYPES)
        if kind == "glm" and i != n - 1:
            raise ContractError(f"{field}[{i}] is a glm layer but not the last one; a GLM layer "
                                f"can only be the output layer (docs/semantics.md section 0)")
        if i and sizes[i][0] != sizes[i - 1][1]:
            raise ContractError(f"{field}[{i}].n_in = {sizes[i][0]} differs from "
                                f"{field}[{i - 1}].n_out = {sizes[i - 1][1]}; layer sizes must "
                                f"chain")
    if n_inputs is not None and sizes[0][0] != n_inputs:
        raise ContractError(f"{field}[0].n_in = {sizes[0][0]} differs from encoder.n_inputs = "
                            f"{n_inputs}")
    if decision != "first_to_spike" and types[-1] != "lif":
        raise ContractError(f"decision = {decision!r} needs a lif output layer; {field}[{n - 1}] "
                            f"is {types[-1]!r} (it decides \"first_to_spike\")")
    if sizes[-1][1] < RANGES["n_classes"].lo:
        raise ContractError(f"{field}[{n - 1}].n_out = {sizes[-1][1]} must be >= "
                            f"{RANGES['n_classes'].lo} (it is the number of classes)")


# --- word, group and width arithmetic (sections 3, 4, 9) ---------------------------------------

def ceil_div(a: int, b: int) -> int:
    """``ceil(a / b)`` for non-negative integers."""
    return -(-a // b)


def words(n_out: int, lanes: int) -> int:
    """Synapse-memory words per row of a layer: ``ceil(n_out / lanes)`` (section 9)."""
    return ceil_div(n_out, lanes)


def groups(n: int, lanes: int) -> int:
    """Groups of ``lanes`` that cover ``n`` inputs or neurons: ``ceil(n / lanes)``."""
    return ceil_div(n, lanes)


def weight_max(weight_bits: int) -> int:
    """Largest weight magnitude of a ``b``-bit odd-level weight: ``2^b - 1``."""
    return (1 << weight_bits) - 1


def trace_max(tau: int, basis_bits: int) -> int:
    """Largest GLM trace: ``tau * (2^basis_bits - 1)`` (section 4); 1 for a LIF input."""
    return tau * ((1 << basis_bits) - 1)


def accumulator_bits(n_in: int, weight_bits: int, *, basis: int = 1, tau: int = 1,
                     basis_bits: int = 1) -> int:
    """Signed width that holds any synaptic sum of a layer exactly (no overflow possible):
    the bound ``n_in * K * (2^b - 1) * trace_max`` plus a sign bit."""
    bound = n_in * basis * weight_max(weight_bits) * trace_max(tau, basis_bits)
    return bound.bit_length() + 1


def potential_bounds(bits: int) -> tuple[int, int]:
    """Saturation bounds of a signed ``bits``-bit potential: ``(-2^(bits-1), 2^(bits-1) - 1)``."""
    half = 1 << (bits - 1)
    return -half, half - 1


def lif_integrate(v, drive, leak_shift: int, v_bits: int):
    """One LIF integration, section 5b: ``clamp(v - (v >> s) + drive)`` (no leak when s = 0).

    Before the refractory hold, the threshold and the reset. Works on numpy arrays and torch
    tensors (``>>`` is arithmetic, so the leak rounds toward minus infinity).
    """
    lo, hi = potential_bounds(v_bits)
    leak = (v >> leak_shift) if leak_shift > 0 else 0
    return (v - leak + drive).clip(lo, hi)


def encoder_draws(encoder_type: str) -> bool:
    """Whether an encoder type consumes random draws (and so has ``encoder.base_seeds``):
    the Bernoulli encoder does, the deterministic one does not (section 3)."""
    check_choice("encoder.type", encoder_type, ENCODER_TYPES)
    return encoder_type == "bernoulli"


def encoder_groups_per_word(encoder_type: str, n_inputs: int, lanes: int, window: int) -> int:
    """Groups of inputs the encoder decides per cycle (hardware only, no value changes: the
    same draws in the same order): 2 when a Bernoulli encoder feeds a window (``window > 1``,
    section 8.1) and a step has more than one group, each generator drawing twice per
    cycle; else 1."""
    two = encoder_draws(encoder_type) and window > 1 and groups(n_inputs, lanes) > 1
    return 2 if two else 1


def accumulate_fire(acc, x):
    """One step of the deterministic encoder for one input, section 3.2:
    ``s = acc + x`` (9 bits), returns ``(spike, acc')`` = ``(s >> 8, s & 255)``.

    ``acc`` is the 8-bit accumulator (``ENCODER_PHASE`` before step 1), ``x`` the step's
    intensity. Works on Python ints, numpy arrays and torch tensors.
    """
    s = acc + x
    return s >> INTENSITY_BITS, s & ((1 << INTENSITY_BITS) - 1)


def accumulated_spikes(total):
    """Spikes of a deterministic-encoder input over its first steps whose intensities sum to
    ``total``: ``(ENCODER_PHASE + total) >> 8`` (section 3.2, the closed form of
    :func:`accumulate_fire` repeated). Input ``i`` spikes at step ``t`` iff this count grows
    from step ``t-1`` to ``t``."""
    return (total + ENCODER_PHASE) >> INTENSITY_BITS


def frame_of_step(t_max: int, frames: int) -> np.ndarray:
    """0-based frame index used at each step ``t = 1..T`` (section 1): ``min(t, F) - 1``."""
    return np.minimum(np.arange(t_max), frames - 1)


# --- pseudo-random generator and seeds (section 2) ---------------------------------------------

def xorshift32(state):
    """One xorshift32 step (13, 17, 5) of 32-bit states held in Python ints or int64 arrays
    or tensors."""
    a, b, c = XORSHIFT_SHIFTS
    s = state
    s = s ^ ((s << a) & MASK32)
    s = s ^ (s >> b)
    s = s ^ ((s << c) & MASK32)
    return s


def check_base_seeds(base_seeds: Iterable[int], *, field: str = "base_seeds") -> None:
    """Every base seed is 32-bit with a non-zero low half, so no state can be 0 (section 2)."""
    for i, s in enumerate(np.asarray(list(base_seeds), dtype=np.int64).ravel()):
        if not 0 <= int(s) <= MASK32 or int(s) & SEED_MASK == 0:
            raise ContractError(f"{field}[{i}] = {int(s):#010x} must be a 32-bit value whose "
                                f"low 16 bits are not all zero (the state base_seed ^ "
                                f"(seed << 16) could be 0; docs/semantics.md section 2)")


def initial_state(base_seed, seed):
    """A generator's state at the start of an inference: ``base_seed ^ (seed << 16)``."""
    return base_seed ^ (seed << SEED_BITS)


def sample_seeds(n: int, offset: int = 0) -> np.ndarray:
    """Per-inference seeds of ``n`` samples: the sample's index in the split it is taken from
    (the test split for every report), starting at ``offset``, modulo 2^16 (section 1)."""
    return ((np.arange(offset, offset + n)) & SEED_MASK).astype(np.int64)


def splitmix32_seeds(seed: int, count: int) -> np.ndarray:
    """``count`` distinct 32-bit generator base seeds derived from ``seed`` (docs/artifact.md).

    A Weyl sequence (increment ``0x9E3779B9``) finalised with the MurmurHash3 32-bit mixer
    ("splitmix32"). Values whose low 16 bits are zero, or that repeat an earlier one (banks
    never share generators), are skipped. Returns a ``uint32`` array of shape ``(count,)``.
    """
    state = seed & MASK32
    out: list[int] = []
    while len(out) < count:
        state = (state + 0x9E3779B9) & MASK32
        z = state
        z = ((z ^ (z >> 16)) * 0x85EBCA6B) & MASK32
        z = ((z ^ (z >> 13)) * 0xC2B2AE35) & MASK32
        z ^= z >> 16
        if z & SEED_MASK and z not in out:
            out.append(z)
    return np.array(out, dtype=np.uint32)


# --- GLM spike probability (section 5.3) -----------------------------------------------------

def sigmoid_table(u_bits: int, u_scale: float) -> np.ndarray:
    """The spike-probability table: entry ``u + 2^(u_bits-1)`` is
    ``min(65535, round(65536 * sigmoid(u * u_scale)))`` (section 5.3).

    Returns an ``int64`` array of shape ``(2^u_bits,)``, non-decreasing, in ``0..65535``.
    """
    lo, hi = potential_bounds(u_bits)
    u = np.arange(lo, hi + 1, dtype=np.float64) * u_scale
    # 0.5 * (1 + tanh(u / 2)) is sigmoid(u) without overflow for large |u|.
    p = 0.5 * (1.0 + np.tanh(0.5 * u))
    return np.minimum(PROBABILITY_MAX, np.rint((PROBABILITY_MAX + 1) * p)).astype(np.int64)


# --- checks with a lower bound only ------------------------------------------------------------

def check_at_least(name: str, value, lo: int, why: str = ""):
    """Return ``value`` if it is an integer ``>= lo``, else raise naming ``name``.

    For component parameters with a lower bound only (memory widths, depths and latencies),
    where :func:`check_int` would have to invent an upper one.
    """
    if not is_int(value) or value < lo:
        hint = f" ({why})" if why else ""
        shown = f"{value!r}" if not is_int(value) else f"{int(value)}"
        raise ContractError(f"{name} = {shown} must be an integer >= {lo}{hint}")
    return value


# --- weight levels and the reachable-threshold bound ------------------------------------------

def unsigned_max(bits: int) -> int:
    """Largest value of an unsigned ``bits``-bit field: ``2^bits - 1`` (a basis entry, a GLM
    scale; docs/artifact.md)."""
    return (1 << bits) - 1


def nearest_odd_level(v, weight_bits: int):
    """The odd weight level of section 5.1 nearest to real ``v``: ``2m + 1`` for ``v`` in
    ``[2m, 2m + 2)``, saturated to ``+-(2^b - 1)`` (so 1 bit gives ``sign(v)``, 0 maps to +1).

    Works on numpy arrays and torch tensors (``//`` is floor division; the result keeps the
    input's float dtype).
    """
    top = weight_max(weight_bits)
    return (2 * (v // 2) + 1).clip(-top, top)


def largest_potential(weights, bias, v_bits: int, leak_shift: int, t_max: int) -> np.ndarray:
    """The largest potential each neuron of a LIF layer can reach within ``t_max`` steps.

    The bound of the artifact's "reachable thresholds" rule (docs/artifact.md): start from
    ``v = 0``; at every step every input with a positive weight spikes, so the drive is
    ``sum_i max(w_ji, 0) + bias_j`` (bias included, negative weights silent); integrate with
    :func:`lif_integrate` (the leak ``v >> leak_shift`` and the saturation to ``v_bits``);
    the neuron never fires (no reset, no refractory hold). The result is the maximum of the
    potential over steps ``1..t_max``. The update is non-decreasing in ``v``, so no other
    input pattern from ``v = 0`` gets higher: a threshold above this bound is never reached.

    Parameters
    ----------
    weights : array_like
        ``[n_out, n_in]`` integer weights.
    bias : array_like
        ``[n_out]`` integer biases.
    v_bits, leak_shift, t_max : int
        As in the layer record and the manifest.

    Returns
    -------
    numpy.ndarray
        ``int64`` ``[n_out]``.
    """
    w = np.asarray(weights, dtype=np.int64)
    drive = np.where(w > 0, w, 0).sum(axis=1) + np.asarray(bias, dtype=np.int64)
    v = np.zeros_like(drive)
    best = np.full_like(drive, potential_bounds(v_bits)[0])
    for _ in range(t_max):
        v = lif_integrate(v, drive, leak_shift, v_bits)
        best = np.maximum(best, v)
    return best


# --- schedules: hardware parameters that change no value (docs/semantics.md section 8.1) ------

# Window lengths W of the window engine (SpikeX's neuro-temporal work unit): a layer owns its
# neurons for W consecutive steps and reads each synapse row once per window. 1 = the
# time-sequential engine. 16: a layer whose inputs fire in many steps of a long run (the
# motions networks' hidden layer, 50 steps) reads them once per 16 steps.
WINDOWS = (1, 2, 4, 8, 16)


def check_schedule(window, adders, *, field: str = "layer"):
    """Check one layer's schedule: ``window`` in :data:`WINDOWS`, ``adders`` (temporal adders
    per lane, the steps of a window one row word is added into per cycle) in ``1..window``.

    Returns ``(window, adders)``. These are generator parameters, not artifact fields: they
    change cycles and synapse reads, never a spike (section 8.1).
    """
    check_choice(f"{field} window", window, WINDOWS)
    check_int(f"{field} adders", adders, 1, int(window),
              "temporal adders per lane: 1 keeps the cycle count, the window length is one cycle per word")
    return int(window), int(adders)


def window_of_step(step, window: int):
    """The 0-based window of 1-based step(s) ``step`` for window length ``window``."""
    return (np.asarray(step) - 1) // window


def window_reads(nonzero, words_per_row: int, window: int) -> np.ndarray:
    """Synapse-memory word reads of one layer per window (section 7, ``reads``).

    ``nonzero`` is a boolean array ``[T, N_in, K]``: ``c_ik(t) != 0`` (a GLM layer's traces,
    section 4; a LIF layer's input spikes with ``K = 1``). Row ``i*K + k`` is read once per
    window in which it is non-zero in at least one step, ``words_per_row`` (``Qn``) words each.
    Returns ``int64 [ceil(T / window)]``; ``window = 1`` gives the time-sequential engine's
    reads per step.
    """
    nz = np.asarray(nonzero, dtype=bool)
    t = nz.shape[0]
    n_windows = ceil_div(t, window)
    pad = np.zeros((n_windows * window - t,) + nz.shape[1:], dtype=bool)
    per = np.concatenate([nz, pad]).reshape((n_windows, window) + nz.shape[1:]).any(axis=1)
    return per.reshape(n_windows, -1).sum(axis=1).astype(np.int64) * int(words_per_row)


# --- STT-RAM write errors and write-verify (section 9.1) -----------------------------------------
# A written STT-RAM cell that has to change state fails to switch with probability p (it keeps
# its old value); a cell already in the written state is not disturbed. Each memory (one per
# layer) has one xorshift32 generator per cell of a word; every write attempt draws once from
# every generator, and a cell fails when its draw is <= write_error_threshold(p).

#: Re-writes after a failed verify read (write-verify, section 9.1); 0 = no verify read at all.
WRITE_RETRIES = Range(0, 15, "re-writes after a failed verify read, 0 = write without verify")
#: The fault seed of an accelerator's synapse memories (a 32-bit value).
FAULT_SEED = Range(0, MASK32, "32-bit fault seed of the STT-RAM write-error generators")
#: Fault seed used when none is given.
DEFAULT_FAULT_SEED = 0x1234ABCD
#: Shortest write (cycles) with write errors or write-verify: the old word is read in the
#: acceptance cycle and is needed before the commit at the end of the last busy cycle.
FAULT_MIN_WRITE_LATENCY = 2
#: Cells per layer in the seed derivation: cell m of layer l is generator l * 65536 + m.
FAULT_LAYER_STRIDE = 1 << 16
#: Golden-ratio increment (Weyl sequence) and the replacement of a zero state in
#: fault_cell_seed: a xorshift32 state must never be 0.
FAULT_SEED_STEP = 0x9E3779B9
FAULT_ZERO_STATE = 0x6D2B79F5


def check_write_error_prob(p, *, field: str = "write_error_prob") -> float:
    """``p`` as a float: a real number with ``0 <= p < 1`` (NaN, bools and strings refused)."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
        raise ContractError(f"{field} = {p!r} must be a number with 0 <= {field} < 1 "
                            f"(probability that a written cell fails to switch)")
    return float(p)


def write_error_threshold(p) -> int:
    """A cell fails to switch when its draw (1 .. 2^32 - 1) is ``<=`` this:
    ``round(p * (2^32 - 1))``, so the failure probability is within 2^-32 of ``p``."""
    return int(round(check_write_error_prob(p) * MASK32))


def fmix32(h: int) -> int:
    """MurmurHash3's 32-bit finalizer (a bijection with good avalanche)."""
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK32
    h ^= h >> 16
    return h


def fault_cell_seed(seed: int, layer: int, cell: int) -> int:
    """Initial state of the write-error generator of cell ``cell`` of layer ``layer``'s memory:
    ``fmix32((seed + FAULT_SEED_STEP * (layer * FAULT_LAYER_STRIDE + cell + 1)) mod 2^32)``,
    or :data:`FAULT_ZERO_STATE` where that is 0."""
    check_int("fault seed", seed, FAULT_SEED.lo, FAULT_SEED.hi, FAULT_SEED.meaning)
    check_int("cell", cell, 0, FAULT_LAYER_STRIDE - 1, "cell of a synapse word")
    check_int("layer", layer, 0, MAX_LAYERS - 1, "layer index")
    index = layer * FAULT_LAYER_STRIDE + cell + 1
    return fmix32((seed + FAULT_SEED_STEP * index) & MASK32) or FAULT_ZERO_STATE


def write_cycles(attempts: int, write_latency: int, verify: bool) -> int:
    """Cycles one accepted write keeps the memory from accepting the next one (section 9.1):
    ``write_latency`` without verify; ``attempts * (write_latency + 1) + 1`` with it (each
    attempt, then a verify read and its compare; the retry starts in the compare cycle)."""
    return attempts * (write_latency + 1) + 1 if verify else write_latency
