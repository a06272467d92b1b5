"""The hardware-model artifact: one validated ``.npz`` file (docs/artifact.md).

The artifact is the only thing that travels from training to hardware: the exporter writes
it, and the golden model, the RTL generator, the cocotb benches and the board client read
it. So this module is strict in both directions:

* :func:`save` validates before writing (an invalid artifact is never written) and writes
  atomically (a crash or an error leaves either the old file or the new one, never half
  of one);
* :func:`load` validates every rule of docs/artifact.md before returning and raises one
  :class:`ArtifactError` naming the file and the field at the first broken rule; it never
  returns a half-checked model.

Layout of the file: a NumPy zip (no pickles) with the JSON manifest under the key
``manifest`` (a ``uint8`` array of UTF-8 bytes) and integer arrays under the keys listed by
:func:`array_spec`.

``CONTRACT_VERSION`` (the version of docs/semantics.md) is defined here, in the module with
no heavy imports, so that validating an artifact does not import torch;
``spinaps.sw.golden`` re-exports it (``from spinaps.sw.artifact import CONTRACT_VERSION``)
and is the name the docs use.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import numbers
import os
import uuid
import zipfile
import zlib
from pathlib import Path
from typing import Any, Mapping

import numpy as np

__all__ = [
    "ArtifactError",
    "Artifact",
    "FORMAT",
    "FORMAT_VERSION",
    "CONTRACT_VERSION",
    "MANIFEST_KEY",
    "array_spec",
    "validate",
    "save",
    "load",
]

#: Value of the manifest's ``format`` field.
FORMAT = "spinaps-artifact"
#: Version of the file layout described in docs/artifact.md.
FORMAT_VERSION = 2
#: Version of the bit-exact contract, docs/semantics.md. A change to any rule there bumps it
#: (and changes the golden model and the RTL in the same commit); ``spinaps.sw.golden``
#: re-exports this constant rather than defining its own, so the two cannot drift apart.
CONTRACT_VERSION = 2
#: Key of the JSON manifest inside the ``.npz``.
MANIFEST_KEY = "manifest"

# What to do after a content error: the file was written by something that did not follow
# docs/artifact.md, so the fix is to export again.
_REEXPORT = "re-export the model with `spinaps export` (docs/artifact.md lists the rules)"
_RETRAIN = "train and export a model first with `spinaps train` (or `make train`)"

# Manifest fields. Unknown keys are errors wherever the manifest describes hardware or data:
# an unknown key there means a model this version would silently run with other semantics.
# `training` is a free-form record and `accuracy` a free set of named scores.
_TOP_REQUIRED = ("format", "format_version", "contract_version", "created_by", "dataset",
                 "t_max", "decision", "encoder", "layers", "accuracy")
_TOP_OPTIONAL = ("training",)
_DATASET_KEYS = ("name", "sha256", "n_train", "n_test")
_ENCODER_KEYS = ("type", "n_inputs", "lanes", "frames")
_DECISIONS = ("first_to_spike", "spike_count", "max_potential")
_MAX_LAYERS = 8
_GLM_KEYS = ("type", "n_in", "n_out", "weight_bits", "basis", "tau", "basis_bits", "u_bits",
             "scale_bits", "scale_shift", "u_scale", "lanes")
# Plain integer ranges of a GLM layer (docs/artifact.md); `lanes` depends on n_out and is
# checked on its own.
_GLM_RANGES = {
    "n_in": (1, 65536),
    "n_out": (1, 65536),
    "basis": (1, 4),
    "tau": (1, 8),
    "basis_bits": (1, 8),
    "u_bits": (4, 12),
    "scale_bits": (1, 16),
    "scale_shift": (0, 31),
}
_LIF_KEYS = ("type", "n_in", "n_out", "weight_bits", "v_bits", "leak_shift", "reset",
             "refractory", "lanes")
_LIF_RANGES = {
    "n_in": (1, 65536),
    "n_out": (1, 65536),
    "v_bits": (6, 24),
    "leak_shift": (0, 15),
    "refractory": (0, 15),
}
_LIF_RESETS = ("subtract", "zero")
_WEIGHT_BITS = (1, 2, 4, 8)
_SIGMOID_MAX = 65535
# Array dtypes: the canonical dtype each key is stored and returned with.
_INT16 = np.dtype(np.int16)
_INT32 = np.dtype(np.int32)
_UINT32 = np.dtype(np.uint32)


class ArtifactError(ValueError):
    """An artifact file or an in-memory (manifest, arrays) pair breaks docs/artifact.md.

    The message names the file (or ``<memory>``), the field and what to do, e.g.
    ``model.npz: layers[0].lanes = 0 is out of range 1..10 (n_out): re-export ...``.
    """


# eq=False: comparing dicts of arrays would raise (ambiguous truth value), not compare.
@dataclasses.dataclass(frozen=True, eq=False)
class Artifact:
    """A validated hardware model, as returned by :func:`load`.

    Every rule of docs/artifact.md holds when an instance exists; treat the manifest and the
    arrays as read-only (they are shared, not copied, by whoever receives the artifact).

    Attributes
    ----------
    manifest : dict
        The decoded JSON manifest.
    arrays : dict of str to numpy.ndarray
        The integer arrays by key (``encoder.base_seeds``, ``layer0.weights``, ...), each in
        its canonical dtype (int16, int32 or uint32, see :func:`array_spec`).
    path : pathlib.Path or None
        The file it was loaded from, ``None`` for an artifact built in memory.
    """

    manifest: dict
    arrays: dict
    path: Path | None = None

    @property
    def format_version(self) -> int:
        """Format version of the file (always :data:`FORMAT_VERSION` once loaded)."""
        return self.manifest["format_version"]

    @property
    def contract_version(self) -> int:
        """Version of docs/semantics.md the model was exported for."""
        return self.manifest["contract_version"]

    @property
    def t_max(self) -> int:
        """Number of time steps ``T_max`` (1..255)."""
        return self.manifest["t_max"]

    @property
    def decision(self) -> str:
        """The decision rule (``"first_to_spike"``)."""
        return self.manifest["decision"]

    @property
    def encoder(self) -> dict:
        """The encoder record (``type``, ``n_inputs``, ``lanes``)."""
        return self.manifest["encoder"]

    @property
    def layers(self) -> list:
        """The layer records, input side first."""
        return self.manifest["layers"]

    @property
    def dataset(self) -> dict:
        """Name, hash and sizes of the data set the model was trained on."""
        return self.manifest["dataset"]

    @property
    def accuracy(self) -> dict:
        """Accuracies measured at export (``float``, ``golden``, ``ann``, ...)."""
        return self.manifest["accuracy"]

    @property
    def n_inputs(self) -> int:
        """Number of 8-bit input intensities per sample."""
        return self.manifest["encoder"]["n_inputs"]

    @property
    def n_classes(self) -> int:
        """Number of classes (``n_out`` of the last layer)."""
        return self.manifest["layers"][-1]["n_out"]

    @property
    def encoder_seeds(self) -> np.ndarray:
        """``encoder.base_seeds``: one uint32 base seed per encoder lane."""
        return self.arrays["encoder.base_seeds"]

    def layer_arrays(self, index: int) -> dict:
        """The arrays of one layer without their ``layer{L}.`` prefix.

        Parameters
        ----------
        index : int
            Layer index ``L`` (0 is the layer fed by the encoder).

        Returns
        -------
        dict of str to numpy.ndarray
            ``weights``, ``basis``, ``gamma``, ``scale``, ``sigmoid``, ``base_seeds``.
        """
        n = len(self.layers)
        if not 0 <= index < n:
            raise IndexError(f"layer index {index} is out of range 0..{n - 1}")
        prefix = f"layer{index}."
        return {k[len(prefix):]: v for k, v in self.arrays.items() if k.startswith(prefix)}


# --------------------------------------------------------------------------------------------
# Manifest checks. Each helper raises at the first broken rule, so one error = one message.


def _show(value: Any) -> str:
    """Render a value the way it appears in the JSON manifest, shortened for messages."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Checker:
    """Raises :class:`ArtifactError` messages prefixed with the source (file) name."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, message: str, hint: str = _REEXPORT) -> None:
        raise ArtifactError(f"{self.source}: {message}: {hint}")

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

    def int_range(self, value: Any, field: str, lo: int, hi: int, why: str = "") -> int:
        v = self.integer(value, field)
        if not lo <= v <= hi:
            why = f" ({why})" if why else ""
            self.fail(f"{field} = {v} is out of range {lo}..{hi}{why}")
        return v

    def string(self, value: Any, field: str) -> str:
        if not isinstance(value, str) or not value:
            self.fail(f"{field} = {_show(value)} must be a non-empty string")
        return value

    def equals(self, value: Any, field: str, expected: str) -> None:
        if value != expected:
            self.fail(f"{field} = {_show(value)} is not supported (expected {_show(expected)})")

    def real(self, value: Any, field: str) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            self.fail(f"{field} = {_show(value)} must be a number")
        v = float(value)
        if not math.isfinite(v):
            self.fail(f"{field} = {value} must be finite (NaN or infinity)")
        return v


def _check_versions(c: _Checker, manifest: Mapping) -> None:
    """Format name and versions first: a file from another version explains itself."""
    if "format" not in manifest:
        c.fail("format is missing; this is not a spinaps artifact", _RETRAIN)
    if manifest["format"] != FORMAT:
        c.fail(f"format = {_show(manifest['format'])} is not {_show(FORMAT)}; this is not a "
               f"spinaps artifact", _RETRAIN)
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
    contract = c.integer(manifest["contract_version"], "contract_version")
    if contract != CONTRACT_VERSION:
        made_by = manifest.get("created_by", "an unknown spinaps")
        c.fail(f"contract_version = {contract} does not match this spinaps' bit-exact contract "
               f"(CONTRACT_VERSION = {CONTRACT_VERSION}, docs/semantics.md)",
               f"re-export the model with this spinaps, or run it with the version that wrote "
               f"it ({_show(made_by)})")


def _check_glm_layer(c: _Checker, layer: Any, field: str) -> None:
    layer = c.mapping(layer, field)
    if "type" not in layer:
        c.fail(f"{field}.type is missing")
    c.equals(layer["type"], f"{field}.type", "glm")
    c.keys(layer, field, _GLM_KEYS)
    for key, (lo, hi) in _GLM_RANGES.items():
        c.int_range(layer[key], f"{field}.{key}", lo, hi)
    bits = c.integer(layer["weight_bits"], f"{field}.weight_bits")
    if bits not in _WEIGHT_BITS:
        c.fail(f"{field}.weight_bits = {bits} is not one of {', '.join(map(str, _WEIGHT_BITS))}")
    u_scale = c.real(layer["u_scale"], f"{field}.u_scale")
    if not u_scale > 0:
        c.fail(f"{field}.u_scale = {_show(layer['u_scale'])} must be > 0")
    c.int_range(layer["lanes"], f"{field}.lanes", 1, layer["n_out"], "n_out")


def _check_lif_layer(c: _Checker, layer: Mapping, field: str) -> None:
    c.keys(layer, field, _LIF_KEYS)
    for key, (lo, hi) in _LIF_RANGES.items():
        c.int_range(layer[key], f"{field}.{key}", lo, hi)
    bits = c.integer(layer["weight_bits"], f"{field}.weight_bits")
    if bits not in _WEIGHT_BITS:
        c.fail(f"{field}.weight_bits = {bits} is not one of {', '.join(map(str, _WEIGHT_BITS))}")
    if layer["reset"] not in _LIF_RESETS:
        c.fail(f"{field}.reset = {_show(layer['reset'])} is not one of "
               f"{', '.join(map(_show, _LIF_RESETS))}")
    c.int_range(layer["lanes"], f"{field}.lanes", 1, layer["n_out"], "n_out")


def _check_layer(c: _Checker, layer: Any, field: str) -> None:
    layer = c.mapping(layer, field)
    if "type" not in layer:
        c.fail(f"{field}.type is missing")
    if layer["type"] == "lif":
        _check_lif_layer(c, layer, field)
    elif layer["type"] == "glm":
        _check_glm_layer(c, layer, field)
    else:
        c.fail(f"{field}.type = {_show(layer['type'])} is not supported (expected \"lif\" or \"glm\")")


def _check_manifest(c: _Checker, manifest: Any) -> None:
    """Every manifest rule of docs/artifact.md, in document order."""
    manifest = c.mapping(manifest, "manifest")
    _check_versions(c, manifest)
    c.keys(manifest, "", _TOP_REQUIRED, _TOP_OPTIONAL)

    c.string(manifest["created_by"], "created_by")

    dataset = c.mapping(manifest["dataset"], "dataset")
    c.keys(dataset, "dataset", _DATASET_KEYS)
    c.string(dataset["name"], "dataset.name")
    digest = dataset["sha256"]
    if not (isinstance(digest, str) and len(digest) == 64
            and all(ch in "0123456789abcdef" for ch in digest)):
        c.fail(f"dataset.sha256 = {_show(digest)} must be 64 lowercase hex digits")
    for key in ("n_train", "n_test"):
        c.int_range(dataset[key], f"dataset.{key}", 0, 2**31 - 1)

    c.int_range(manifest["t_max"], "t_max", 1, 255)
    if manifest["decision"] not in _DECISIONS:
        c.fail(f"decision = {_show(manifest['decision'])} is not one of "
               f"{', '.join(map(_show, _DECISIONS))}")

    encoder = c.mapping(manifest["encoder"], "encoder")
    if "type" not in encoder:
        c.fail("encoder.type is missing")
    c.equals(encoder["type"], "encoder.type", "bernoulli")
    c.keys(encoder, "encoder", _ENCODER_KEYS)
    n_inputs = c.int_range(encoder["n_inputs"], "encoder.n_inputs", 1, 65536)
    c.int_range(encoder["lanes"], "encoder.lanes", 1, min(64, n_inputs),
                "n_inputs" if n_inputs < 64 else "")
    c.int_range(encoder["frames"], "encoder.frames", 1, 255)

    layers = manifest["layers"]
    if not isinstance(layers, list) or not layers:
        c.fail(f"layers = {_show(layers)} must be a non-empty list")
    if len(layers) > _MAX_LAYERS:
        c.fail(f"layers has {len(layers)} entries; at most {_MAX_LAYERS} are supported")
    for index, layer in enumerate(layers):
        _check_layer(c, layer, f"layers[{index}]")
        if layer["type"] == "glm" and index != len(layers) - 1:
            c.fail(f"layers[{index}] is a glm layer but not the last one; a GLM layer can only "
                   f"be the output layer (docs/semantics.md section 0)")
        if index and layer["n_in"] != layers[index - 1]["n_out"]:
            c.fail(f"layers[{index}].n_in = {layer['n_in']} differs from layers[{index - 1}].n_out "
                   f"= {layers[index - 1]['n_out']}; layer sizes must chain")
    if layers[0]["n_in"] != n_inputs:
        c.fail(f"layers[0].n_in = {layers[0]['n_in']} differs from encoder.n_inputs = "
               f"{n_inputs}")
    if manifest["decision"] != "first_to_spike" and layers[-1]["type"] != "lif":
        c.fail(f"decision = {_show(manifest['decision'])} needs a lif output layer; "
               f"layers[{len(layers) - 1}] is {_show(layers[-1]['type'])} (it decides "
               f"\"first_to_spike\")")
    if layers[-1]["n_out"] < 2:
        c.fail(f"layers[{len(layers) - 1}].n_out = {layers[-1]['n_out']} must be >= 2 "
               f"(it is the number of classes)")

    accuracy = c.mapping(manifest["accuracy"], "accuracy")
    for key, value in accuracy.items():
        if value is not None:
            v = c.real(value, f"accuracy.{key}")
            if not 0.0 <= v <= 1.0:
                c.fail(f"accuracy.{key} = {_show(value)} is out of range 0..1")

    if "training" in manifest:
        c.mapping(manifest["training"], "training")
        _to_json_tree(c, manifest["training"], "training")


# --------------------------------------------------------------------------------------------
# Array checks.


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
    spec = {"encoder.base_seeds": (_UINT32, (manifest["encoder"]["lanes"],))}
    for index, layer in enumerate(manifest["layers"]):
        if layer["type"] == "lif":
            n_in, n_out = layer["n_in"], layer["n_out"]
            spec[f"layer{index}.weights"] = (_INT16, (n_out, n_in))
            spec[f"layer{index}.threshold"] = (_INT32, (n_out,))
            spec[f"layer{index}.bias"] = (_INT32, (n_out,))
            continue
        n_in, n_out, k = layer["n_in"], layer["n_out"], layer["basis"]
        spec[f"layer{index}.weights"] = (_INT16, (n_out, n_in, k))
        spec[f"layer{index}.basis"] = (_INT16, (k, layer["tau"]))
        spec[f"layer{index}.gamma"] = (_INT32, (n_out,))
        spec[f"layer{index}.scale"] = (_INT32, (n_out,))
        spec[f"layer{index}.sigmoid"] = (_INT32, (2 ** layer["u_bits"],))
        spec[f"layer{index}.base_seeds"] = (_UINT32, (layer["lanes"],))
    return spec


def _first(mask: np.ndarray) -> tuple:
    """Index (tuple) of the first True entry of a non-empty mask."""
    return tuple(int(i) for i in np.argwhere(mask)[0])


def _at(key: str, index: tuple) -> str:
    return f"{key}[{', '.join(map(str, index))}]"


def _check_values(c: _Checker, key: str, a: np.ndarray, lo: int, hi: int, why: str) -> None:
    """All entries in lo..hi; the message points at the first one that is not."""
    bad = (a < lo) | (a > hi)
    if bad.any():
        index = _first(bad)
        c.fail(f"{_at(key, index)} = {int(a[index])} is out of range {lo}..{hi} ({why})")


def _check_seeds(c: _Checker, key: str, a: np.ndarray) -> None:
    _check_values(c, key, a, 0, 2**32 - 1, "uint32")
    zero = (a & 0xFFFF) == 0
    if zero.any():
        index = _first(zero)
        c.fail(f"{_at(key, index)} = {int(a[index]):#010x} has all low 16 bits zero (the "
               f"xorshift32 state s = base_seed ^ (seed << 16) could be 0)")


def _check_array(c: _Checker, key: str, value: Any, dtype: np.dtype, shape: tuple) -> np.ndarray:
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


def _check_arrays(c: _Checker, manifest: Mapping, arrays: Any) -> dict:
    """Every array rule of docs/artifact.md; returns the arrays in their canonical dtypes."""
    if not isinstance(arrays, Mapping):
        c.fail(f"arrays must be a dict of numpy arrays, not {type(arrays).__name__}")
    spec = array_spec(manifest)
    for key in arrays:
        if key not in spec:
            if key == MANIFEST_KEY:
                c.fail(f"{key!r} is reserved for the JSON manifest; pass it as the manifest")
            c.fail(f"{key} is an unknown array (this manifest expects {', '.join(spec)})")
    for key in spec:
        if key not in arrays:
            c.fail(f"array {key} is missing")

    out = {}
    for key, (dtype, shape) in spec.items():
        a = _check_array(c, key, arrays[key], dtype, shape)
        field = key.split(".", 1)[1]
        if field == "base_seeds":
            _check_seeds(c, key, a)
        else:
            layer = manifest["layers"][int(key[len("layer"):key.index(".")])]
            if field == "weights":
                top = 2 ** layer["weight_bits"] - 1
                _check_values(c, key, a, -top, top,
                              f"weight_bits = {layer['weight_bits']}: |w| <= 2^b - 1")
                even = a % 2 == 0
                if even.any():
                    index = _first(even)
                    c.fail(f"{_at(key, index)} = {int(a[index])} is even; weights are odd "
                           f"(w = 2*c - (2^b - 1), docs/semantics.md 5.1)")
            elif field == "basis":
                _check_values(c, key, a, 0, 2 ** layer["basis_bits"] - 1,
                              f"basis_bits = {layer['basis_bits']}")
                empty = ~a.any(axis=1)
                if empty.any():
                    c.fail(f"{key}[{_first(empty)[0]}] is all zero; every basis row needs a "
                           f"non-zero entry")
            elif field == "threshold":
                _check_values(c, key, a, 1, 2 ** (layer["v_bits"] - 1) - 1,
                              f"v_bits = {layer['v_bits']}")
            elif field == "bias":
                half = 2 ** (layer["v_bits"] - 1)
                _check_values(c, key, a, -half, half - 1, f"v_bits = {layer['v_bits']}")
            elif field == "gamma":
                half = 2 ** (layer["u_bits"] - 1)
                _check_values(c, key, a, -half, half - 1, f"u_bits = {layer['u_bits']}")
            elif field == "scale":
                _check_values(c, key, a, 0, 2 ** layer["scale_bits"] - 1,
                              f"scale_bits = {layer['scale_bits']}")
            elif field == "sigmoid":
                _check_values(c, key, a, 0, _SIGMOID_MAX, "16-bit probability")
                down = np.diff(a) < 0
                if down.any():
                    i = _first(down)[0]
                    c.fail(f"{key} decreases at index {i + 1} ({int(a[i])} -> {int(a[i + 1])}); "
                           f"the sigmoid table must be non-decreasing")
        original = arrays[key]
        out[key] = original if original.dtype == dtype else original.astype(dtype)
    _check_thresholds_reachable(c, manifest, out)
    return out


def largest_potential(weights: np.ndarray, bias: np.ndarray, v_bits: int, leak_shift: int,
                      t_max: int) -> np.ndarray:
    """The largest potential each LIF neuron can reach within ``t_max`` steps.

    The bound of docs/semantics.md 5b when every excitatory input spikes at every step and
    the neuron never fires: ``v <- clamp(v - (v >> s) + drive)`` from 0, with ``drive`` the
    sum of the positive weights plus the bias. The update is increasing in ``v``, so the
    sequence rises monotonically while ``drive > 0``.
    """
    w = np.asarray(weights, dtype=np.int64)
    drive = np.where(w > 0, w, 0).sum(axis=1) + np.asarray(bias, dtype=np.int64)
    half = 1 << (v_bits - 1)
    v = np.zeros_like(drive)
    best = np.full_like(drive, -half)
    for _ in range(t_max):
        leak = (v >> leak_shift) if leak_shift > 0 else 0
        v = np.clip(v - leak + drive, -half, half - 1)
        best = np.maximum(best, v)
    return best


def _check_thresholds_reachable(c: _Checker, manifest: Mapping, arrays: Mapping) -> None:
    """A LIF layer none of whose neurons can ever reach its threshold.

    Such a layer never spikes, so everything after it sees no input: a broken model, not a
    trained one. Single neurons that cannot fire are left alone (training leaves some dead
    neurons; they change no spike). A max-potential read-out layer never needs to spike.
    """
    layers = manifest["layers"]
    for index, layer in enumerate(layers):
        if layer["type"] != "lif":
            continue
        if index == len(layers) - 1 and manifest["decision"] == "max_potential":
            continue
        w, bias = arrays[f"layer{index}.weights"], arrays[f"layer{index}.bias"]
        theta = np.asarray(arrays[f"layer{index}.threshold"], dtype=np.int64)
        best = largest_potential(w, bias, layer["v_bits"], layer["leak_shift"], manifest["t_max"])
        if (theta > best).all():
            j = int(np.argmax(best - theta))                # the closest one
            c.fail(f"layer{index}.threshold can never be reached by any neuron: with every "
                   f"excitatory input spiking at every step, neuron {j} (threshold "
                   f"{int(theta[j])}) reaches at most {int(best[j])} in t_max = {manifest['t_max']} "
                   f"steps (v_bits = {layer['v_bits']}, leak_shift = {layer['leak_shift']}), and the "
                   f"others fall shorter; lower the thresholds or raise the weights")


# --------------------------------------------------------------------------------------------
# Public API.


def _to_json_tree(c: _Checker, value: Any, field: str) -> Any:
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
            out[key] = _to_json_tree(c, item, f"{field}.{key}" if field else key)
        return out
    if isinstance(value, (list, tuple)):
        return [_to_json_tree(c, item, f"{field}[{i}]") for i, item in enumerate(value)]
    c.fail(f"{field} is a {type(value).__name__}, which JSON cannot hold (convert it to a "
           f"list, number or string)")


def validate(manifest: Any, arrays: Any, source: str = "<memory>") -> dict:
    """Check a manifest and its arrays against every rule of docs/artifact.md.

    Used by :func:`save` before writing and by :func:`load` after reading.

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
    c = _Checker(source)
    _check_manifest(c, manifest)
    return _check_arrays(c, manifest, arrays)


def save(path: str | os.PathLike, manifest: Mapping, arrays: Mapping) -> Path:
    """Validate, then write an artifact atomically.

    The file is written to a temporary file in the same folder, flushed to disk and renamed
    over ``path`` (``os.replace``), so readers see either the old file or the complete new
    one. On any failure the temporary file is removed and an existing file at ``path`` is
    left untouched. Missing parent folders are created.

    Parameters
    ----------
    path : str or os.PathLike
        Destination, conventionally ``*.npz``.
    manifest : dict
        The manifest (docs/artifact.md); numpy scalars are converted to JSON numbers.
    arrays : dict of str to numpy.ndarray
        The integer arrays; stored in their canonical dtypes.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ArtifactError
        If the manifest or the arrays break a rule; nothing is written then.
    OSError
        If the file cannot be written.
    """
    path = Path(path)
    c = _Checker(str(path))
    if not isinstance(manifest, Mapping):
        c.fail(f"manifest must be a dict, not {type(manifest).__name__}")
    # Validate the JSON form, so what is checked is exactly what will be read back.
    manifest = _to_json_tree(c, manifest, "")
    arrays = validate(manifest, arrays, str(path))
    text = json.dumps(manifest, indent=1, sort_keys=False, allow_nan=False)
    payload = {MANIFEST_KEY: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
    payload.update(arrays)

    path.parent.mkdir(parents=True, exist_ok=True)
    # A hidden name in the same folder: os.replace is atomic only within one file system.
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        # os.open with 0o666 lets the umask decide the final mode, as for any new file
        # (tempfile.mkstemp would leave the artifact 0600).
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        # Also on KeyboardInterrupt: never leave a stray temporary file behind.
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; best effort (not every OS or file system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# Errors NumPy's zip reader raises on damaged files: a bad zip structure, a bad CRC or
# deflate stream, a bad .npy header, a truncated member, pickled (object) data.
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, ValueError, EOFError, OSError)


def load(path: str | os.PathLike) -> Artifact:
    """Read and validate an artifact.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npz`` file written by :func:`save` (``spinaps export``).

    Returns
    -------
    Artifact
        The model; every rule of docs/artifact.md holds.

    Raises
    ------
    ArtifactError
        If the file is missing, is not a spinaps artifact, is damaged, has another format or
        contract version, or breaks any rule; the message names the file and the field.
    """
    path = Path(path)
    c = _Checker(str(path))
    if not path.exists():
        c.fail("no such file", _RETRAIN)
    if not path.is_file():
        c.fail("is not a file", _RETRAIN)

    try:
        # Read the bytes once: the zip is parsed from memory, so no handle stays open and a
        # concurrent os.replace by save() cannot mix two versions.
        data = path.read_bytes()
    except OSError as e:
        c.fail(f"cannot be read ({e.strerror or e})", "check the path and its permissions")
    if not data.startswith(b"PK\x03\x04") and not data.startswith(b"PK\x05\x06"):
        c.fail("is not an .npz artifact (no zip signature; empty, truncated or another "
               "format)", _RETRAIN)
    raw = {}
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            for key in npz.files:
                try:
                    raw[key] = npz[key]
                except _READ_ERRORS as e:
                    c.fail(f"array {key} is corrupt ({type(e).__name__}: {e})", _RETRAIN)
    except ArtifactError:
        raise
    except _READ_ERRORS as e:
        c.fail(f"is not a readable .npz artifact ({type(e).__name__}: {e})", _RETRAIN)

    if MANIFEST_KEY not in raw:
        c.fail(f"{MANIFEST_KEY} is missing; this .npz is not a spinaps artifact", _RETRAIN)
    blob = raw.pop(MANIFEST_KEY)
    if blob.dtype != np.uint8 or blob.ndim != 1:
        c.fail(f"{MANIFEST_KEY} has dtype {blob.dtype} and shape {blob.shape}; expected a "
               f"1-D uint8 array of UTF-8 JSON")
    try:
        text = blob.tobytes().decode("utf-8")
    except UnicodeDecodeError as e:
        c.fail(f"{MANIFEST_KEY} is not UTF-8 text ({e})")

    def _no_constants(name: str) -> None:
        c.fail(f"{MANIFEST_KEY} contains {name}, which JSON and artifacts do not allow")

    try:
        manifest = json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as e:
        c.fail(f"{MANIFEST_KEY} is not valid JSON ({e})")
    arrays = validate(manifest, raw, str(path))
    return Artifact(manifest=manifest, arrays=arrays, path=path)
