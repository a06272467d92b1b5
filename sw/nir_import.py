"""Import a NIR graph (Neuromorphic Intermediate Representation, PyPI ``nir``) as the
hardware's integer LIF network (docs/nir.md; docs/semantics.md section 5b).

A chain ``[Input] -> [Flatten] -> (Affine|Linear -> LIF|IF|CubaLIF)+ -> [Output]`` maps onto
integer LIF layers. With ``a = dt / tau`` (per-step decay of the forward-Euler step that
snnTorch, Norse and NIR's reference simulators take), a NIR LIF neuron computes per step

    v <- v + a * (v_leak - v) + a * r * (W x + b)
      = (1 - a) v + a r W x + a (r b + v_leak)

and spikes when ``v > v_threshold`` (strict), then ``v <- v_reset``. An IF neuron is
``v <- v + r (W x + b)`` (``a = 1`` for the input, no decay). The integer layer is the same
recurrence in a scale ``k`` (one per layer, potentials ``v_int ~ k v``):

* leak shift ``s``: the power of two nearest ``a`` in relative error, ``2^-s`` for ``s`` in
  1..15; refused when ``|2^-s - a| / a > leak_tolerance`` (a leak that would be far from
  the source's, or would round to none); IF: ``s = 0``;
* weights ``nearest_odd_level(k * a * r * W)`` (the odd-level code of ``weight_bits``), with
  ``k`` the quantization-error-minimising scale of the layer (:func:`softlif.best_scale`),
  lowered when the threshold would not fit ``v_bits``; a graph whose effective weights are
  already odd integer codes (what :mod:`spinaps.sw.nir_export` writes) keeps ``k = 1``;
* bias ``round(k * a * (r * b + v_leak))`` (the Affine bias and ``v_leak``);
* threshold ``floor(k * v_threshold) + 1``: for integer ``u``, ``u >= floor(x) + 1`` exactly
  when ``u > x``, so the contract's ``>=`` reproduces NIR's strict ``>``;
* reset: ``"zero"`` (what NIR's ``v_reset = 0`` says) or ``"subtract"`` on request
  (snnTorch's default, which its NIR export loses); ``v_reset != 0`` is refused.

What cannot map is collected over the whole graph and refused with one
:class:`NirImportError` naming every offending node, field, value and what to do.

About 430 lines in one module on purpose: the graph walk, the per-node mapping and the
integer layers all append to that one problem list, and read against docs/nir.md's table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spinaps import contract
from spinaps.contract import DECISIONS, RESETS, WEIGHT_BITS, splitmix32_seeds

from .checks import per_layer, prefixed, real
from .golden import GoldenModel, LifLayerParams
from .lanes import DEFAULT_ENCODER_LANES, default_lanes
from .softlif import best_scale, odd_level_codes

__all__ = ["NirImportError", "NirLayer", "require_nir", "read_graph", "nir_layers", "nir_to_golden",
           "import_nir", "LEAK_TOLERANCE", "CUBA_SYN_TOLERANCE"]

#: Default largest relative error ``|2^-s - dt/tau| / (dt/tau)`` of the per-step decay. The
#: nearest power of two is never further than 1/3 away, so this refuses only leaks outside
#: ``2^-15 .. 2^-1`` (too slow: would round to no leak; too fast: beta < 1/4).
LEAK_TOLERANCE = 0.34
#: A CubaLIF synapse maps only when it passes its input through within one step:
#: ``|dt / tau_syn - 1| <= CUBA_SYN_TOLERANCE``.
CUBA_SYN_TOLERANCE = 0.05

_WEIGHTS = ("Affine", "Linear")
_NEURONS = ("LIF", "IF", "CubaLIF")
_PASS = ("Input", "Output", "Flatten")
_ADVICE = {
    "Conv1d": "convolution is not supported: use fully connected (Affine) layers",
    "Conv2d": "convolution is not supported: use fully connected (Affine) layers",
    "SumPooling2d": "pooling is not supported: remove it or fold it into the next Affine layer",
    "AvgPooling2d": "pooling is not supported: remove it or fold it into the next Affine layer",
    "NIRGraph": "nested graphs (recurrent or composite modules) are not supported: use a flat "
                "feed-forward chain",
}


class NirImportError(ValueError):
    """A NIR graph that does not map onto spinaps LIF layers; ``problems`` lists every
    ``(node, field, value, what to do)``, the message shows them one per line."""

    def __init__(self, problems):
        self.problems = list(problems)
        lines = [f"  - node {n!r}: {f} = {v}: {todo}" for n, f, v, todo in self.problems]
        super().__init__(f"this NIR graph cannot be mapped onto spinaps LIF layers "
                         f"({len(self.problems)} problem(s)):\n" + "\n".join(lines))


@dataclass(frozen=True)
class NirLayer:
    """One ``Affine -> neuron`` pair of the chain, as float per-step quantities."""

    weight_name: str
    neuron_name: str
    weights: np.ndarray      # [n_out, n_in] per-step drive of one input spike: a r W
    bias: np.ndarray         # [n_out] per-step constant drive: a (r b + v_leak)
    threshold: np.ndarray    # [n_out] v_threshold (strict)
    decay: float             # a = dt / tau (0: IF, no leak)
    v_reset: np.ndarray      # [n_out]


def require_nir():
    """The ``nir`` module, or an ``ImportError`` that says how to install it."""
    try:
        import nir
    except ImportError:
        raise ImportError("NIR import/export needs the nir package: pip install 'spinaps[nir]'") from None
    return nir


def read_graph(source):
    """A :class:`nir.NIRGraph` from a graph or a ``.nir`` file (read without NIR's type
    check, which refuses files that snnTorch writes; docs/nir.md)."""
    nir = require_nir()

    if isinstance(source, nir.NIRGraph):
        return source
    path = Path(source)
    if not path.is_file():
        raise NirImportError([(str(path), "file", "missing", "give the path of a .nir file")])
    try:
        return nir.read(str(path), type_check=False)
    except Exception as e:      # h5py/nir raise many types for a file that is not NIR
        raise NirImportError([(str(path), "file", f"unreadable ({type(e).__name__}: {e})",
                               "write it with nir.write (a NIR HDF5 file)")]) from None


def _vec(value, n):
    """A parameter as a float vector of ``n`` (a scalar broadcasts)."""
    v = np.asarray(value, dtype=np.float64).reshape(-1)
    return np.broadcast_to(v, (n,)).copy() if v.size in (1, n) else None


def _chain(graph, problems):
    """The node names from input to output, appending graph-shape problems."""
    names = list(graph.nodes)
    succ = {n: [] for n in names}
    pred = {n: [] for n in names}
    for src, dst in graph.edges:
        if src not in succ or dst not in succ:
            problems.append((f"{src}->{dst}", "edge", "unknown node", "every edge must join two nodes"))
            continue
        succ[src].append(dst)
        pred[dst].append(src)
    for n in names:
        if len(pred[n]) > 1:
            problems.append((n, "inputs", sorted(pred[n]), "skip connections (a node with two "
                             "inputs) are not supported: use a plain chain"))
        if len(succ[n]) > 1:
            problems.append((n, "outputs", sorted(succ[n]), "branches are not supported: use a "
                             "plain chain"))
    # Cycles (recurrence): depth-first search for an edge back to a node on the stack.
    state = {}

    def visit(n):
        state[n] = 1
        for m in succ[n]:
            if state.get(m) == 1:
                problems.append((n, "edge", f"{n}->{m} goes back to {m!r}", "recurrence is not "
                                 "supported: use a feed-forward network"))
            elif m not in state:
                visit(m)
        state[n] = 2

    for n in names:
        if n not in state:
            visit(n)
    starts = [n for n in names if not pred[n]]
    if len(starts) != 1:
        problems.append(("<graph>", "inputs", starts, "the graph needs exactly one input node"))
        return []
    order, n = [], starts[0]
    while n is not None and n not in order:
        order.append(n)
        n = succ[n][0] if succ[n] else None
    return order


def nir_layers(graph, *, dt: float, leak_tolerance: float = LEAK_TOLERANCE):
    """The graph's chain as :class:`NirLayer` s plus the input size; raises
    :class:`NirImportError` listing every node that cannot map."""
    real("dt", dt, lo=0, lo_open=True)
    real("leak_tolerance", leak_tolerance, lo=0, lo_open=True)
    problems = []
    order = _chain(graph, problems)
    for name, node in graph.nodes.items():
        kind = type(node).__name__
        if kind not in _WEIGHTS + _NEURONS + _PASS:
            problems.append((name, "type", kind, _ADVICE.get(kind, f"node type {kind} is not "
                             "supported: use Affine/Linear -> LIF/IF chains")))
    layers, n_in, pending = [], None, None
    for name in order:
        node = graph.nodes[name]
        kind = type(node).__name__
        if kind in _WEIGHTS:
            w = np.asarray(node.weight, dtype=np.float64)
            if w.ndim != 2:
                problems.append((name, "weight.shape", list(w.shape), "an Affine weight must be [n_out, n_in]"))
                continue
            if pending is not None:
                problems.append((name, "type", kind, f"follows {pending[0]!r} with no neuron "
                                 "between: merge the two weight layers into one"))
            b = np.asarray(getattr(node, "bias", 0.0), dtype=np.float64).reshape(-1)
            n_in = w.shape[1] if n_in is None and not layers else n_in
            pending = (name, w, np.broadcast_to(b, (w.shape[0],)) if b.size in (1, w.shape[0]) else None)
        elif kind in _NEURONS:
            if pending is None:
                problems.append((name, "type", kind, "a neuron layer needs an Affine/Linear node before it"))
                continue
            layer = _neuron(name, node, kind, pending, dt, leak_tolerance, problems)
            if layer is not None:
                if layers and layer.weights.shape[1] != layers[-1].weights.shape[0]:
                    problems.append((pending[0], "weight.shape", list(layer.weights.shape),
                                     f"needs {layers[-1].weights.shape[0]} inputs (the previous layer's neurons)"))
                layers.append(layer)
            pending = None
    if pending is not None:
        problems.append((pending[0], "type", "Affine", "the chain must end with a neuron layer "
                         "(a LIF/IF after the last Affine)"))
    if not layers and not problems:
        problems.append(("<graph>", "nodes", list(graph.nodes), "no Affine -> LIF/IF pair found"))
    if problems:
        raise NirImportError(problems)
    return layers, n_in


def _neuron(name, node, kind, pending, dt, leak_tolerance, problems):
    """One NirLayer from a weight node and its neuron node (or None, with problems)."""
    wname, w, b = pending
    n = w.shape[0]
    if b is None:
        problems.append((wname, "bias.shape", "mismatch", f"needs {n} values (one per neuron)"))
        return None
    r = _vec(node.r, n)
    theta = _vec(node.v_threshold, n)
    v_reset = getattr(node, "v_reset", None)
    v_reset = _vec(0.0 if v_reset is None else v_reset, n)
    v_leak = _vec(getattr(node, "v_leak", 0.0), n)
    for field, v in (("r", r), ("v_threshold", theta), ("v_reset", v_reset), ("v_leak", v_leak)):
        if v is None:
            problems.append((name, field, "shape mismatch", f"give one value or {n} (one per neuron)"))
            return None
    if kind == "IF":
        decay = 0.0
        gain = r
    else:
        tau = np.asarray(node.tau if kind == "LIF" else node.tau_mem, dtype=np.float64).reshape(-1)
        field = "tau" if kind == "LIF" else "tau_mem"
        if tau.size > 1 and np.ptp(tau) > 1e-6 * abs(float(tau.mean())):
            problems.append((name, field, f"per-neuron values {tau.min():g}..{tau.max():g}",
                             "every neuron of a layer needs the same tau (one leak shift per layer)"))
            return None
        decay = dt / float(tau.mean())
        if kind == "CubaLIF":
            tau_syn = float(np.asarray(node.tau_syn, dtype=np.float64).mean())
            if abs(dt / tau_syn - 1) > CUBA_SYN_TOLERANCE:
                problems.append((name, "tau_syn", f"{tau_syn:g} s (dt = {dt:g} s)",
                                 f"a slow synapse cannot map: tau_syn must equal dt within "
                                 f"{CUBA_SYN_TOLERANCE:.0%} (no synaptic memory), or use LIF"))
                return None
            w = w * float(np.asarray(getattr(node, "w_in", 1.0)).mean())
        if not decay < 1 or _shift(decay, leak_tolerance) is None:
            problems.append((name, field, f"{float(tau.mean()):g} s (dt/tau = {decay:.4g})",
                             f"the leak 1 - 2^-s (s in 1..15) cannot match dt/tau within "
                             f"{leak_tolerance:.0%}: too slow rounds to no leak (use IF, or a "
                             f"larger dt), too fast (beta < 1/4) needs a larger tau"))
            return None
        gain = decay * r
    if np.any(v_reset != 0):
        problems.append((name, "v_reset", f"{v_reset.min():g}..{v_reset.max():g}",
                         "the hardware resets to 0 (or subtracts the threshold): shift the potential "
                         "so v_reset = 0"))
        return None
    if np.any(theta <= 0):
        problems.append((name, "v_threshold", f"min {theta.min():g}", "thresholds must be positive"))
        return None
    bias = (decay if kind != "IF" else 1.0) * (r * b) + (decay * v_leak if kind != "IF" else 0.0)
    return NirLayer(weight_name=wname, neuron_name=name, weights=gain[:, None] * w, bias=bias,
                    threshold=theta, decay=decay, v_reset=v_reset)


def _shift(decay, tolerance):
    """The leak shift in 1..15 whose ``2^-s`` is nearest ``decay`` in relative error, or None
    beyond ``tolerance``."""
    s_range = contract.RANGES["leak_shift"]
    s = min(range(1, s_range.hi + 1), key=lambda k: abs(2.0 ** -k - decay))
    return s if abs(2.0 ** -s - decay) / decay <= tolerance else None


def _layer_scale(layer, bits, v_bits):
    """Scale ``k`` of a layer: 1 for integer odd codes, else the best quantization scale,
    lowered so the largest threshold fits ``v_bits`` (when given)."""
    w = layer.weights
    top = contract.weight_max(bits)
    if np.all(np.abs(w) <= top) and np.all(np.mod(w, 2) == 1) and np.all(np.mod(layer.bias, 1) == 0):
        k = 1.0
    else:
        k = float(best_scale(w, bits, axis=None))
    if v_bits is not None:
        hi = contract.potential_bounds(v_bits)[1]
        k = min(k, (hi - 1) / float(layer.threshold.max()))
    return k


def nir_to_golden(source, *, dt: float, t_max: int, n_inputs: int | None = None, weight_bits=8,
                  v_bits=None, encoder_lanes: int | None = None, lanes=None,
                  readout: str = "spike_count", reset: str = "zero",
                  leak_tolerance: float = LEAK_TOLERANCE, seed: int = 0x41B5,
                  frames: int = 1, encoder: str = "bernoulli") -> GoldenModel:
    """Map a NIR graph onto the integer golden model (module docstring; docs/nir.md).

    Parameters
    ----------
    source : nir.NIRGraph, str or path
        The graph, or a ``.nir`` file.
    dt : float
        Seconds per step of the source simulation (snnTorch: any ``dt`` with
        ``tau = dt / (1 - beta)``, the one given to its export).
    t_max : int
        Time steps per inference, 1..255.
    n_inputs : int, optional
        Inputs per sample of the data set; checked against the first layer.
    weight_bits : int or sequence of int
        Odd-level weight code per layer (1, 2, 4, 8).
    v_bits : int, sequence or None
        Potential width per layer (6..24); ``None``: the smallest that holds the threshold
        plus one step's largest drive and the leak's fixed point of the largest inhibition.
    encoder_lanes : int, optional
        Encoder generators; default :data:`lanes.DEFAULT_ENCODER_LANES` capped at ``n_in``.
    lanes : int, sequence or None
        Accumulator lanes per layer; ``None``: :func:`lanes.default_lanes`.
    readout : str
        ``spike_count`` (default), ``first_to_spike`` or ``max_potential``.
    reset : str
        ``zero`` (NIR's ``v_reset = 0``) or ``subtract`` (snnTorch's default).
    leak_tolerance : float
        Largest relative error of ``2^-s`` against ``dt/tau``.
    seed : int
        Derives the encoder's generator base seeds.
    encoder : str
        ``"bernoulli"`` (rate-coded input, as snnTorch's ``spikegen.rate``) or
        ``"deterministic"`` (accumulate-and-fire, no randomness: what a network trained on
        direct, non-spiking input maps to; docs/semantics.md section 3).
    frames : int
        Frames per sample (a time series: step ``t`` reads frame ``min(t, F) - 1``).

    Raises
    ------
    NirImportError
        Listing every node that cannot map (a ``ValueError``); a ``ValueError`` naming an
        option out of range.
    """
    with prefixed("nir import: "):
        contract.check("t_max", t_max)
        contract.check_choice("readout", readout, DECISIONS)
        contract.check_choice("reset", reset, RESETS)
    layers, n_in = nir_layers(read_graph(source), dt=dt, leak_tolerance=leak_tolerance)
    if n_inputs is not None and n_in != n_inputs:
        raise NirImportError([(layers[0].weight_name, "weight.shape[1]", n_in,
                               f"the data set has {n_inputs} inputs per sample: train on it")])
    count = len(layers)
    with prefixed("nir import: "):
        bits = per_layer("weight_bits", weight_bits, count,
                          lambda f, v: contract.check_choice(f, v, WEIGHT_BITS))
        vbits = per_layer("v_bits", v_bits, count, lambda f, v: contract.check("v_bits", v, field=f))
        lanes = per_layer("lanes", lanes, count, None)
        if encoder_lanes is None:
            encoder_lanes = min(DEFAULT_ENCODER_LANES, n_in)
        contract.check_encoder_lanes(n_in, encoder_lanes, field="encoder_lanes")
        out = []
        for i, layer in enumerate(layers):
            out.append(_integer_layer(layer, bits[i], vbits[i], lanes[i], reset, t_max, f"layer {i}"))
    from .export import encoder_fields
    return GoldenModel(t_max=t_max, layers=tuple(out), decision=readout, frames=frames,
                       **encoder_fields(encoder, splitmix32_seeds(seed, encoder_lanes)))


def import_nir(source, dataset, *, dt: float, t_max: int, source_accuracy: float | None = None,
               **options):
    """Import a NIR graph for a data set: the artifact's ``(manifest, arrays)`` and the golden
    result on the test split (save with :func:`spinaps.sw.artifact.save`).

    ``options`` are those of :func:`nir_to_golden`; ``source_accuracy`` (the framework's own
    test accuracy, if known) is recorded as ``accuracy["float"]``.
    """
    from spinaps.contract import sample_seeds

    from .export import dataset_record, golden_to_artifact

    golden = nir_to_golden(source, dt=dt, t_max=t_max, n_inputs=dataset.n_in,
                           frames=dataset.frames, **options)
    result = golden.run(dataset.x_test, sample_seeds(len(dataset.y_test)), labels=dataset.y_test)
    accuracy = {"golden": result.accuracy(dataset.y_test)}
    if source_accuracy is not None:
        accuracy["float"] = float(source_accuracy)
    training = {"method": "NIR import", "dt": dt,
                "source": str(source) if isinstance(source, (str, Path)) else "nir.NIRGraph",
                "options": dict(options)}
    manifest, arrays = golden_to_artifact(golden, dataset=dataset_record(dataset),
                                          accuracy=accuracy, training=training)
    return manifest, arrays, result


def _integer_layer(layer, bits, v_bits, lanes, reset, t_max, where):
    """The :class:`LifLayerParams` of one float layer (module docstring)."""
    k = _layer_scale(layer, bits, v_bits)
    w = odd_level_codes(layer.weights * k, bits)
    bias = np.rint(layer.bias * k).astype(np.int64)
    theta = (np.floor(layer.threshold * k) + 1).astype(np.int64)
    s = 0 if layer.decay == 0 else _shift(layer.decay, math.inf)
    if v_bits is None:
        drive = int(np.abs(w).sum(axis=1).max() + np.abs(bias).max())
        bound = max(int(theta.max()) + drive, drive << s if s else drive * t_max)
        r = contract.RANGES["v_bits"]
        v_bits = int(min(r.hi, max(r.lo, math.ceil(math.log2(bound + 1)) + 1)))
    lo, hi = contract.potential_bounds(v_bits)
    if theta.max() > hi:
        raise ValueError(f"nir import: {where} ({layer.neuron_name!r}): threshold {int(theta.max())} "
                         f"does not fit v_bits = {v_bits} (largest {hi}): raise v_bits")
    # The artifact refuses a layer no neuron of which can ever fire; single dead neurons are
    # lowered to the largest reachable potential, which real inputs do not produce either.
    reach = contract.largest_potential(w, np.clip(bias, lo, hi), v_bits, s, t_max)
    theta = np.where((theta > reach) & (reach > 0), reach, theta)
    n_out = w.shape[0]
    lanes = default_lanes(n_out) if lanes is None else contract.check_lanes(n_out, lanes, field=f"{where} lanes")
    return LifLayerParams(weights=w, weight_bits=bits, threshold=theta, bias=np.clip(bias, lo, hi),
                          v_bits=v_bits, leak_shift=s, reset=reset, refractory=0, lanes=lanes)


