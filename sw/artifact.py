"""The hardware-model artifact: one validated ``.npz`` file (docs/artifact.md).

The artifact is the only thing that travels from training to hardware: the exporter writes
it, and the golden model, the RTL generator, the cocotb benches and the board client read
it. So this module is strict in both directions:

* :func:`save` validates before writing (an invalid artifact is never written) and writes
  atomically (:func:`spinaps.toolchain.atomic_write_bytes`: a crash or an error leaves either
  the old file or the new one, never half of one);
* :func:`load` validates every rule of docs/artifact.md before returning and raises one
  :class:`ArtifactError` naming the file and the field at the first broken rule; it never
  returns a half-checked model;
* :func:`from_memory` validates a manifest and arrays that are not (yet) saved, so an
  exporter can run the golden model on exactly what it will write.

Layout of the file: a NumPy zip (no pickles) with the JSON manifest under the key
``manifest`` (a ``uint8`` array of UTF-8 bytes) and integer arrays under the keys listed by
:func:`array_spec`.

This module is the public entry point and holds the file I/O; the rules themselves are in
:mod:`spinaps.sw.artifact_rules` (re-exported here: :func:`validate`, :func:`array_spec`,
:class:`ArtifactError`, the format constants). ``CONTRACT_VERSION`` is
:data:`spinaps.contract.CONTRACT_VERSION`, re-exported. Nothing here imports torch.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from spinaps.contract import CONTRACT_VERSION
from spinaps.toolchain import atomic_write_bytes

from .artifact_rules import (FORMAT, FORMAT_VERSION, MANIFEST_KEY, RETRAIN, ArtifactError, Checker,
                             array_spec, to_json_tree, validate)

__all__ = [
    "ArtifactError",
    "Artifact",
    "FORMAT",
    "FORMAT_VERSION",
    "CONTRACT_VERSION",
    "MANIFEST_KEY",
    "array_spec",
    "validate",
    "from_memory",
    "save",
    "load",
]


# eq=False: comparing dicts of arrays would raise (ambiguous truth value), not compare.
@dataclasses.dataclass(frozen=True, eq=False)
class Artifact:
    """A validated hardware model, as returned by :func:`load` and :func:`from_memory`.

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
        """The encoder record (``type``, ``n_inputs``, ``lanes``, ``frames``)."""
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
    def encoder_type(self) -> str:
        """``encoder.type``: ``"bernoulli"`` or ``"deterministic"`` (docs/semantics.md 3)."""
        return self.manifest["encoder"]["type"]

    @property
    def encoder_seeds(self) -> np.ndarray:
        """``encoder.base_seeds``: one uint32 base seed per encoder lane; empty for an encoder
        that draws nothing (``"deterministic"``, which has no such array)."""
        return self.arrays.get("encoder.base_seeds", np.zeros(0, dtype=np.uint32))

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


def _json_manifest(c: Checker, manifest: Any) -> dict:
    """The manifest as plain JSON (what is checked is exactly what a file holds)."""
    if not isinstance(manifest, Mapping):
        c.fail(f"manifest must be a dict, not {type(manifest).__name__}")
    return to_json_tree(c, manifest, "")


def from_memory(manifest: Mapping, arrays: Mapping) -> Artifact:
    """A validated artifact that is not saved (``path`` is ``None``).

    Runs every rule of :func:`save` (the same JSON conversion and :func:`validate`), so the
    golden model or the RTL generator never runs on a model that could not be written.

    Parameters
    ----------
    manifest : dict
        The manifest (docs/artifact.md); copied as plain JSON (numpy scalars become numbers).
    arrays : dict of str to numpy.ndarray
        The integer arrays; returned in their canonical dtypes.

    Raises
    ------
    ArtifactError
        At the first broken rule, naming ``<memory>`` and the field.
    """
    c = Checker("<memory>")
    manifest = _json_manifest(c, manifest)
    return Artifact(manifest=manifest, arrays=validate(manifest, arrays), path=None)


def save(path: str | os.PathLike, manifest: Mapping, arrays: Mapping) -> Path:
    """Validate, then write an artifact atomically.

    The file is written through :func:`spinaps.toolchain.atomic_write_bytes` (a temporary
    file in the same folder, flushed to disk and renamed over ``path``), so readers see either
    the old file or the complete new one; on any failure an existing file at ``path`` is left
    untouched. Missing parent folders are created.

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
    manifest = _json_manifest(Checker(str(path)), manifest)
    arrays = validate(manifest, arrays, str(path))
    text = json.dumps(manifest, indent=1, sort_keys=False, allow_nan=False)
    payload = {MANIFEST_KEY: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
    payload.update(arrays)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **payload)
    return atomic_write_bytes(path, buffer.getvalue())


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
    c = Checker(str(path))
    if not path.exists():
        c.fail("no such file", RETRAIN)
    if not path.is_file():
        c.fail("is not a file", RETRAIN)

    try:
        # Read the bytes once: the zip is parsed from memory, so no handle stays open and a
        # concurrent os.replace by save() cannot mix two versions.
        data = path.read_bytes()
    except OSError as e:
        c.fail(f"cannot be read ({e.strerror or e})", "check the path and its permissions")
    if not data.startswith(b"PK\x03\x04") and not data.startswith(b"PK\x05\x06"):
        c.fail("is not an .npz artifact (no zip signature; empty, truncated or another "
               "format)", RETRAIN)
    raw = {}
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            for key in npz.files:
                try:
                    raw[key] = npz[key]
                except _READ_ERRORS as e:
                    c.fail(f"array {key} is corrupt ({type(e).__name__}: {e})", RETRAIN)
    except ArtifactError:
        raise
    except _READ_ERRORS as e:
        c.fail(f"is not a readable .npz artifact ({type(e).__name__}: {e})", RETRAIN)

    if MANIFEST_KEY not in raw:
        c.fail(f"{MANIFEST_KEY} is missing; this .npz is not a spinaps artifact", RETRAIN)
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
