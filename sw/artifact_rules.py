"""The rules of an artifact (docs/artifact.md): every check of a manifest and its arrays.

:func:`validate` runs them all and raises one :class:`ArtifactError` at the first broken
rule, naming the source (file), the field and what to do. Every range, enum and structural
rule comes from :mod:`spinaps.contract` (``check``, ``check_choice``, ``check_lanes``,
``check_encoder_lanes``, ``check_network``, ``check_base_seeds``, ``largest_potential``);
what is only the file format's (required keys, JSON types, array dtypes and shapes) is
here. The file I/O and the :class:`~spinaps.sw.artifact.Artifact` type are in
:mod:`spinaps.sw.artifact`, the public entry point.

About 480 lines, one module on purpose: it is docs/artifact.md's list of rules in the
document's order (versions, manifest, layers, arrays, reachable thresholds), so that the two
can be read side by side and a rule added to one is added to the other.
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any, Mapping

import numpy as np

from spinaps import contract
from spinaps.contract import (CONTRACT_VERSION, DECISIONS, ENCODER_TYPES, LAYER_TYPES, RESETS,
                              WEIGHT_BITS, ContractError)

__all__ = ["ArtifactError", "FORMAT", "FORMAT_VERSION", "MANIFEST_KEY", "Checker", "array_spec",
           "validate", "to_json_tree", "RETRAIN"]

#: Value of the manifest's ``format`` field.
FORMAT = "spinaps-artifact"
#: Version of the file layout described in docs/artifact.md.
FORMAT_VERSION = 2
#: Key of the JSON manifest inside the ``.npz``.
MANIFEST_KEY = "manifest"

# What to do after a content error: the file was written by something that did not follow
# docs/artifact.md, so the fix is to export again.
_REEXPORT = "re-export the model with `spinaps export` (docs/artifact.md lists the rules)"
RETRAIN = "train and export a model first with `spinaps train` (or `make train`)"

# Manifest fields. Unknown keys are errors wherever the manifest describes hardware or data:
# an unknown key there means a model this version would silently run with other semantics.
# `training` is a free-form record and `accuracy` a free set of named scores.
_TOP_REQUIRED = ("format", "format_version", "contract_version", "created_by", "dataset",
                 "t_max", "decision", "encoder", "layers", "accuracy")
_TOP_OPTIONAL = ("training",)
_DATASET_KEYS = ("name", "sha256", "n_train", "n_test")
# `scaling`: how raw values became intensities (spinaps.sw.user_data); absent for built-in data.
_DATASET_OPTIONAL = ("scaling",)
# Sample counts are stored as JSON integers that any reader's int32 holds.
_MAX_SAMPLES = 2**31 - 1
_ENCODER_KEYS = ("type", "n_inputs", "lanes", "frames")
# Keys of each layer type, and those that are plain contract ranges (spinaps.contract.RANGES);
# `lanes` depends on n_out and `weight_bits`, `reset`, `u_scale` have their own rules.
_LAYER_KEYS = {
    "glm": ("type", "n_in", "n_out", "weight_bits", "basis", "tau", "basis_bits", "u_bits",
            "scale_bits", "scale_shift", "u_scale", "lanes"),
    "lif": ("type", "n_in", "n_out", "weight_bits", "v_bits", "leak_shift", "reset",
            "refractory", "lanes"),
}
_LAYER_RANGES = {
    "glm": ("n_in", "n_out", "basis", "tau", "basis_bits", "u_bits", "scale_bits", "scale_shift"),
    "lif": ("n_in", "n_out", "v_bits", "leak_shift", "refractory"),
}
# Array dtypes: the canonical dtype each key is stored and returned with.
_INT16 = np.dtype(np.int16)
_INT32 = np.dtype(np.int32)
_UINT32 = np.dtype(np.uint32)


class ArtifactError(ValueError):
    """An artifact file or an in-memory (manifest, arrays) pair breaks docs/artifact.md.

    The message names the file (or ``<memory>``), the field and what to do, e.g.
    ``model.npz: layers[0].lanes = 0 is out of range 1..10 (...): re-export ...``.
    """


def _show(value: Any) -> str:
    """Render a value the way it appears in the JSON manifest, shortened for messages."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Checker:
    """Raises :class:`ArtifactError` messages prefixed with the source (file) name.

    Each helper raises at the first broken rule, so one error = one message; :meth:`rule`
    runs a check of :mod:`spinaps.contract` and turns its ``ContractError`` into one.
    """

    def __init__(self, source: str):
        self.source = source

    def fail(self, message: str, hint: str = _REEXPORT) -> None:
        raise ArtifactError(f"{self.source}: {message}: {hint}")

    def rule(self, check, *args, **kwargs):
        """``check(*args, **kwargs)`` (a contract check); its error names this source."""
        try:
            return check(*args, **kwargs)
        except ContractError as e:
            self.fail(str(e))

    def mapping(self, value: Any, field: str) -> dict:
        if not isinstance(value, Mapping):
            self.fail(f"{field} = {_show(value)} must be a JSON object")
        for key in value:
            if not isinstance(key, str):
                self.fail(f"{field} has a non-string key {key!r}")
        return value

    def keys(self, obj: Mapping, field: str, required: tuple, optional: tuple = ()) -> None:
        for key in obj:
            if key not in required and key not in optional:
                where = f"{field}.{key}" if field else key
                allowed = ", ".join(required + optional)
                self.fail(f"{where} is an unknown key (format version {FORMAT_VERSION} "
                          f"allows {allowed})")
        for key in required:
            if key not in obj:
                where = f"{field}.{key}" if field else key
                self.fail(f"{where} is missing")

    def integer(self, value: Any, field: str) -> int:
        # bool is an int subclass in Python but `true` is never a count or a width.
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            self.fail(f"{field} = {_show(value)} must be an integer")
        return int(value)

    def in_range(self, param: str, value: Any, field: str) -> int:
        """An integer in the contract range of ``param`` (``spinaps.contract.RANGES``)."""
        return self.rule(contract.check, param, self.integer(value, field), field=field)

    def string(self, value: Any, field: str) -> str:
        if not isinstance(value, str) or not value:
            self.fail(f"{field} = {_show(value)} must be a non-empty string")
        return value

    def real(self, value: Any, field: str) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            self.fail(f"{field} = {_show(value)} must be a number")
        v = float(value)
        if not math.isfinite(v):
            self.fail(f"{field} = {value} must be finite (NaN or infinity)")
        return v


def to_json_tree(c: Checker, value: Any, field: str) -> Any:
    """A plain-JSON copy of ``value`` (numpy scalars become Python numbers).

    Raises naming the first field JSON cannot hold: a NaN, an array, a non-string key.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if not math.isfinite(float(value)):
            c.fail(f"{field} = {value} cannot be stored (JSON holds no NaN or infinity)")
        return float(value)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                c.fail(f"{field} has a non-string key {key!r} (JSON keys are strings)")
            out[key] = to_json_tree(c, item, f"{field}.{key}" if field else key)
        return out
    if isinstance(value, (list, tuple)):
        return [to_json_tree(c, item, f"{field}[{i}]") for i, item in enumerate(value)]
    c.fail(f"{field} is a {type(value).__name__}, which JSON cannot hold (convert it to a "
           f"list, number or string)")


# --------------------------------------------------------------------------------------------
# Manifest rules.


def _check_versions(c: Checker, manifest: Mapping) -> None:
    """Format name and versions first: a file from another version explains itself."""
    if "format" not in manifest:
        c.fail("format is missing; this is not a spinaps artifact", RETRAIN)
    if manifest["format"] != FORMAT:
        c.fail(f"format = {_show(manifest['format'])} is not {_show(FORMAT)}; this is not a "
               f"spinaps artifact", RETRAIN)
    if "format_version" not in manifest:
        c.fail("format_version is missing")
    version = c.integer(manifest["format_version"], "format_version")
    if version > FORMAT_VERSION:
        c.fail(f"format_version = {version} is newer than this spinaps reads "
               f"({FORMAT_VERSION})", "upgrade spinaps to read it")
    if version < FORMAT_VERSION:
        c.fail(f"format_version = {version} is older than this spinaps reads "
               f"({FORMAT_VERSION})", "re-export the model with this spinaps (`spinaps export`)")
    if "contract_version" not in manifest:
        c.fail("contract_version is missing")
    version = c.integer(manifest["contract_version"], "contract_version")
    if version != CONTRACT_VERSION:
        made_by = manifest.get("created_by", "an unknown spinaps")
        c.fail(f"contract_version = {version} does not match this spinaps' bit-exact contract "
               f"(CONTRACT_VERSION = {CONTRACT_VERSION}, docs/semantics.md)",
               f"re-export the model with this spinaps, or run it with the version that wrote "
               f"it ({_show(made_by)})")


def _check_layer(c: Checker, layer: Any, field: str) -> None:
    """One layer record: its type, keys and every field's rule."""
    layer = c.mapping(layer, field)
    if "type" not in layer:
        c.fail(f"{field}.type is missing")
    kind = c.rule(contract.check_choice, f"{field}.type", layer["type"], LAYER_TYPES)
    c.keys(layer, field, _LAYER_KEYS[kind])
    for key in _LAYER_RANGES[kind]:
        c.in_range(key, layer[key], f"{field}.{key}")
    c.rule(contract.check_choice, f"{field}.weight_bits",
           c.integer(layer["weight_bits"], f"{field}.weight_bits"), WEIGHT_BITS)
    if kind == "glm":
        if not c.real(layer["u_scale"], f"{field}.u_scale") > 0:
            c.fail(f"{field}.u_scale = {_show(layer['u_scale'])} must be > 0")
    else:
        c.rule(contract.check_choice, f"{field}.reset", layer["reset"], RESETS)
    c.rule(contract.check_lanes, layer["n_out"], c.integer(layer["lanes"], f"{field}.lanes"),
           field=f"{field}.lanes")


def _check_dataset(c: Checker, dataset: Any) -> None:
    """The ``dataset`` record: name, hash, split sizes and the optional ``scaling``."""
    dataset = c.mapping(dataset, "dataset")
    c.keys(dataset, "dataset", _DATASET_KEYS, _DATASET_OPTIONAL)
    c.string(dataset["name"], "dataset.name")
    digest = dataset["sha256"]
    if not (isinstance(digest, str) and len(digest) == 64
            and all(ch in "0123456789abcdef" for ch in digest)):
        c.fail(f"dataset.sha256 = {_show(digest)} must be 64 lowercase hex digits")
    for key in ("n_train", "n_test"):
        n = c.integer(dataset[key], f"dataset.{key}")
        c.rule(contract.check_int, f"dataset.{key}", n, 0, _MAX_SAMPLES, "samples")
    if "scaling" in dataset:
        _check_scaling(c, dataset["scaling"], None)


def _check_scaling(c: Checker, scaling: Any, n_inputs: int | None) -> None:
    """``dataset.scaling`` by the rules of :func:`spinaps.sw.user_data.check_scaling`; with
    ``n_inputs`` (``encoder.n_inputs``), a per-feature record has one entry per input."""
    from .user_data import check_scaling
    from .datasets import DatasetError

    try:
        check_scaling(scaling, n_inputs, field="dataset.scaling")
    except DatasetError as e:
        c.fail(str(e))


def _check_manifest(c: Checker, manifest: Any) -> None:
    """Every manifest rule of docs/artifact.md, in document order."""
    manifest = c.mapping(manifest, "manifest")
    _check_versions(c, manifest)
    c.keys(manifest, "", _TOP_REQUIRED, _TOP_OPTIONAL)

    c.string(manifest["created_by"], "created_by")

    _check_dataset(c, manifest["dataset"])

    c.in_range("t_max", manifest["t_max"], "t_max")
    c.rule(contract.check_choice, "decision", manifest["decision"], DECISIONS)

    encoder = c.mapping(manifest["encoder"], "encoder")
    if "type" not in encoder:
        c.fail("encoder.type is missing")
    c.rule(contract.check_choice, "encoder.type", encoder["type"], ENCODER_TYPES)
    c.keys(encoder, "encoder", _ENCODER_KEYS)
    n_inputs = c.in_range("n_inputs", encoder["n_inputs"], "encoder.n_inputs")
    c.rule(contract.check_encoder_lanes, n_inputs, c.integer(encoder["lanes"], "encoder.lanes"),
           field="encoder.lanes")
    c.in_range("frames", encoder["frames"], "encoder.frames")

    layers = manifest["layers"]
    if not isinstance(layers, list) or not layers:
        c.fail(f"layers = {_show(layers)} must be a non-empty list")
    c.rule(contract.check, "layers", len(layers), field="number of layers")
    for index, layer in enumerate(layers):
        _check_layer(c, layer, f"layers[{index}]")
    c.rule(contract.check_network, [layer["type"] for layer in layers],
           [(layer["n_in"], layer["n_out"]) for layer in layers], manifest["decision"], n_inputs,
           field="layers")

    accuracy = c.mapping(manifest["accuracy"], "accuracy")
    for key, value in accuracy.items():
        if value is not None:
            v = c.real(value, f"accuracy.{key}")
            if not 0.0 <= v <= 1.0:
                c.fail(f"accuracy.{key} = {_show(value)} is out of range 0..1")

    if "training" in manifest:
        c.mapping(manifest["training"], "training")
        to_json_tree(c, manifest["training"], "training")

    if "scaling" in manifest["dataset"]:
        _check_scaling(c, manifest["dataset"]["scaling"], n_inputs)


# --------------------------------------------------------------------------------------------
# Array rules.


def array_spec(manifest: Mapping) -> dict:
    """The arrays a valid manifest requires: key to (canonical dtype, shape).

    Parameters
    ----------
    manifest : dict
        A manifest that passed the manifest checks of :func:`validate`.

    Returns
    -------
    dict of str to (numpy.dtype, tuple of int)
        In the order of docs/artifact.md; the exporter can use it to build its arrays.
    """
    spec = {}
    if contract.encoder_draws(manifest["encoder"]["type"]):     # a deterministic one has none
        spec["encoder.base_seeds"] = (_UINT32, (manifest["encoder"]["lanes"],))
    for index, layer in enumerate(manifest["layers"]):
        n_in, n_out = layer["n_in"], layer["n_out"]
        if layer["type"] == "lif":
            spec[f"layer{index}.weights"] = (_INT16, (n_out, n_in))
            spec[f"layer{index}.threshold"] = (_INT32, (n_out,))
            spec[f"layer{index}.bias"] = (_INT32, (n_out,))
            continue
        k = layer["basis"]
        spec[f"layer{index}.weights"] = (_INT16, (n_out, n_in, k))
        spec[f"layer{index}.basis"] = (_INT16, (k, layer["tau"]))
        spec[f"layer{index}.gamma"] = (_INT32, (n_out,))
        spec[f"layer{index}.scale"] = (_INT32, (n_out,))
        spec[f"layer{index}.sigmoid"] = (_INT32, (2 ** layer["u_bits"],))
        spec[f"layer{index}.base_seeds"] = (_UINT32, (layer["lanes"],))
    return spec


def _value_range(field: str, layer: Mapping) -> tuple[int, int, str]:
    """Allowed values ``lo..hi`` of one layer array, and the field that sets them."""
    if field == "weights":
        top = contract.weight_max(layer["weight_bits"])
        return -top, top, f"weight_bits = {layer['weight_bits']}: |w| <= 2^b - 1"
    if field == "basis":
        return 0, contract.unsigned_max(layer["basis_bits"]), f"basis_bits = {layer['basis_bits']}"
    if field == "threshold":
        return 1, contract.potential_bounds(layer["v_bits"])[1], f"v_bits = {layer['v_bits']}"
    if field == "bias":
        return (*contract.potential_bounds(layer["v_bits"]), f"v_bits = {layer['v_bits']}")
    if field == "gamma":
        return (*contract.potential_bounds(layer["u_bits"]), f"u_bits = {layer['u_bits']}")
    if field == "scale":
        return 0, contract.unsigned_max(layer["scale_bits"]), f"scale_bits = {layer['scale_bits']}"
    assert field == "sigmoid", field
    return 0, contract.PROBABILITY_MAX, f"{contract.PROBABILITY_BITS}-bit probability"


def _first(mask: np.ndarray) -> tuple:
    """Index (tuple) of the first True entry of a non-empty mask."""
    return tuple(int(i) for i in np.argwhere(mask)[0])


def _at(key: str, index: tuple) -> str:
    return f"{key}[{', '.join(map(str, index))}]"


def _check_values(c: Checker, key: str, a: np.ndarray, lo: int, hi: int, why: str) -> None:
    """All entries in lo..hi; the message points at the first one that is not."""
    bad = (a < lo) | (a > hi)
    if bad.any():
        index = _first(bad)
        c.fail(f"{_at(key, index)} = {int(a[index])} is out of range {lo}..{hi} ({why})")


def _check_array(c: Checker, key: str, value: Any, dtype: np.dtype, shape: tuple) -> np.ndarray:
    """Type, dtype kind and shape of one array; returns it as an int64 view for range checks."""
    if not isinstance(value, np.ndarray):
        c.fail(f"{key} is a {type(value).__name__}, not a numpy array")
    kind = value.dtype.kind
    if kind in "fc":
        a = value.astype(np.complex128 if kind == "c" else np.float64)
        if np.isnan(a).any():
            c.fail(f"{key}[{', '.join(map(str, _first(np.isnan(a))))}] is NaN ({key} has float "
                   f"dtype {value.dtype}; artifacts hold {dtype} integers)")
        if np.isinf(a).any():
            c.fail(f"{key}[{', '.join(map(str, _first(np.isinf(a))))}] is infinite ({key} has "
                   f"float dtype {value.dtype}; artifacts hold {dtype} integers)")
        c.fail(f"{key} has float dtype {value.dtype}; artifacts hold {dtype} integers (round "
               f"and convert before export)")
    if kind not in "iu":
        c.fail(f"{key} has dtype {value.dtype} (kind {kind!r}); expected integers ({dtype})")
    if value.shape != shape:
        c.fail(f"{key} has shape {value.shape}; expected {shape} from the manifest")
    # Range checks on Python-int-safe values: uint64 above 2**63 must not wrap.
    if value.dtype == np.uint64 and value.size and int(value.max()) > 2**63 - 1:
        index = _first(value > 2**63 - 1)
        c.fail(f"{_at(key, index)} = {int(value[index])} is out of range for {dtype}")
    return value.astype(np.int64)


def _check_layer_array(c: Checker, key: str, field: str, a: np.ndarray, layer: Mapping) -> None:
    """Values of one layer array: its range, and the rules beyond it (odd weights, non-zero
    basis rows, a non-decreasing sigmoid table)."""
    _check_values(c, key, a, *_value_range(field, layer))
    if field == "weights":
        even = a % 2 == 0
        if even.any():
            index = _first(even)
            c.fail(f"{_at(key, index)} = {int(a[index])} is even; weights are odd "
                   f"(w = 2*c - (2^b - 1), docs/semantics.md 5.1)")
    elif field == "basis":
        empty = ~a.any(axis=1)
        if empty.any():
            c.fail(f"{key}[{_first(empty)[0]}] is all zero; every basis row needs a non-zero entry")
    elif field == "sigmoid":
        down = np.diff(a) < 0
        if down.any():
            i = _first(down)[0]
            c.fail(f"{key} decreases at index {i + 1} ({int(a[i])} -> {int(a[i + 1])}); "
                   f"the sigmoid table must be non-decreasing")


def _check_arrays(c: Checker, manifest: Mapping, arrays: Any) -> dict:
    """Every array rule of docs/artifact.md; returns the arrays in their canonical dtypes."""
    if not isinstance(arrays, Mapping):
        c.fail(f"arrays must be a dict of numpy arrays, not {type(arrays).__name__}")
    spec = array_spec(manifest)
    for key in arrays:
        if key not in spec:
            if key == MANIFEST_KEY:
                c.fail(f"{key!r} is reserved for the JSON manifest; pass it as the manifest")
            if key == "encoder.base_seeds":
                c.fail(f"{key} is not allowed with encoder.type = "
                       f"{_show(manifest['encoder']['type'])}, which draws nothing "
                       f"(docs/semantics.md 3.2)", "remove the array, or re-export the model")
            c.fail(f"{key} is an unknown array (this manifest expects {', '.join(spec)})")
    for key in spec:
        if key not in arrays:
            c.fail(f"array {key} is missing")

    out = {}
    for key, (dtype, shape) in spec.items():
        a = _check_array(c, key, arrays[key], dtype, shape)
        field = key.split(".", 1)[1]
        if field == "base_seeds":
            c.rule(contract.check_base_seeds, a, field=key)
        else:
            layer = manifest["layers"][int(key[len("layer"):key.index(".")])]
            _check_layer_array(c, key, field, a, layer)
        original = arrays[key]
        out[key] = original if original.dtype == dtype else original.astype(dtype)
    _check_thresholds_reachable(c, manifest, out)
    return out


def _check_thresholds_reachable(c: Checker, manifest: Mapping, arrays: Mapping) -> None:
    """A LIF layer none of whose neurons can ever reach its threshold.

    Such a layer never spikes, so everything after it sees no input: a broken model, not a
    trained one. Single neurons that cannot fire are left alone (training leaves some dead
    neurons; they change no spike). A max-potential read-out layer never needs to spike. The
    bound is :func:`spinaps.contract.largest_potential`.
    """
    layers = manifest["layers"]
    for index, layer in enumerate(layers):
        if layer["type"] != "lif":
            continue
        if index == len(layers) - 1 and manifest["decision"] == "max_potential":
            continue
        w, bias = arrays[f"layer{index}.weights"], arrays[f"layer{index}.bias"]
        theta = np.asarray(arrays[f"layer{index}.threshold"], dtype=np.int64)
        best = contract.largest_potential(w, bias, layer["v_bits"], layer["leak_shift"],
                                          manifest["t_max"])
        if (theta > best).all():
            j = int(np.argmax(best - theta))                # the closest one
            c.fail(f"layer{index}.threshold can never be reached by any neuron: with every "
                   f"excitatory input spiking at every step, neuron {j} (threshold "
                   f"{int(theta[j])}) reaches at most {int(best[j])} in t_max = "
                   f"{manifest['t_max']} steps (v_bits = {layer['v_bits']}, leak_shift = "
                   f"{layer['leak_shift']}), and the others fall shorter; lower the thresholds "
                   f"or raise the weights")


def validate(manifest: Any, arrays: Any, source: str = "<memory>") -> dict:
    """Check a manifest and its arrays against every rule of docs/artifact.md.

    Parameters
    ----------
    manifest : dict
        The manifest (JSON-compatible; numpy scalars are accepted).
    arrays : dict of str to numpy.ndarray
        The arrays by key, without the manifest. Any integer dtype is accepted if the
        values fit the rules; float, bool and object arrays are rejected.
    source : str, optional
        Name used at the start of error messages (the file path).

    Returns
    -------
    dict of str to numpy.ndarray
        The arrays in their canonical dtypes (arrays already canonical are not copied).

    Raises
    ------
    ArtifactError
        At the first broken rule, naming ``source`` and the field.
    """
    c = Checker(source)
    _check_manifest(c, manifest)
    return _check_arrays(c, manifest, arrays)
