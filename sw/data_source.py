"""Which data: a built-in name or your own file, and whether it is a model's training data.

:func:`load_data` takes a built-in data set's name (:func:`~spinaps.sw.datasets.load_dataset`)
or a ``.npz`` / ``.csv`` file (:func:`read_data_file`; layouts in docs/data.md), which it
turns into a data set with :func:`~spinaps.sw.user_data.dataset_from_arrays`.
:func:`check_dataset_matches` compares a data set with an artifact's ``dataset`` record (by
hash) and :func:`dataset_for_model` picks and checks the data for a model: the commands that
use a model with data (report, verify, pnr, run, cost) call it. All are also importable from
:mod:`spinaps.sw.datasets`.
"""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .datasets import DATASETS, Dataset, DatasetError, _known, load_dataset
from .user_data import dataset_from_arrays

__all__ = ["load_data", "read_data_file", "check_dataset_matches", "dataset_for_model", "NPZ_KEYS"]

#: Keys of a data ``.npz`` file: the four arrays (required) and ``frames`` (optional).
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
_CSV_COLUMNS = ("label", "split")


def load_data(spec: str | os.PathLike, *, scale: str = "auto", frames: int | None = None) -> Dataset:
    """A built-in data set by name, or your own from a ``.npz`` or ``.csv`` file.

    Parameters
    ----------
    spec : str or path
        A key of :data:`~spinaps.sw.datasets.DATASETS` (as :func:`load_dataset`), else a path to a ``.npz``
        (keys ``x_train``, ``y_train``, ``x_test``, ``y_test``, optional ``frames``) or a
        ``.csv`` (columns ``label``, ``split``, features) file (docs/data.md). A file's data
        set is named by its stem and scaled as :meth:`Dataset.from_arrays` does.
    scale, frames
        For files only: as :meth:`Dataset.from_arrays`.

    Raises
    ------
    DatasetError
        An unknown name (listing the known ones), a missing or unreadable file, and every
        rule of :meth:`Dataset.from_arrays`, in one message naming the file.
    """
    text = os.fspath(spec) if isinstance(spec, (str, os.PathLike)) else None
    if not text:
        raise DatasetError(f"data = {spec!r}: give a built-in data set ({_known()}) or a .npz "
                           f"or .csv file")
    if text in DATASETS and not isinstance(spec, os.PathLike):
        if scale != "auto" or frames is not None:
            raise DatasetError(f"scale and frames apply to data files; the built-in {text!r} "
                               f"has fixed intensities")
        return load_dataset(text)
    if Path(text).suffix.lower() not in (".npz", ".csv") and not Path(text).exists():
        raise DatasetError(f"unknown data set {text!r}: give a built-in data set ({_known()}) "
                           f"or a .npz or .csv file (docs/data.md)")
    return read_data_file(text, scale=scale, frames=frames)


def _describe(name: Any, n_train: Any, n_test: Any, sha256: Any) -> str:
    digest = f"sha256 {sha256[:12]}" if isinstance(sha256, str) else "no sha256"
    return f"{name!r} ({n_train} train / {n_test} test samples, {digest})"


def check_dataset_matches(record: Mapping, ds: Dataset, *, model: str = "the model") -> None:
    """Refuse a data set that is not the one a model was trained on (compared by hash).

    Parameters
    ----------
    record : dict
        The artifact's ``manifest["dataset"]`` (``name``, ``sha256``, ``n_train``, ``n_test``).
    ds : Dataset
        The data about to be used with the model.
    model : str
        How to name the model in the message (its file).

    Raises
    ------
    DatasetError
        Naming both data sets (names, sizes, shortened hashes) and what to do.
    """
    if record.get("sha256") == ds.sha256:
        return
    trained = _describe(record.get("name"), record.get("n_train"), record.get("n_test"),
                        record.get("sha256"))
    given = _describe(ds.name, ds.n_train, ds.n_test, ds.sha256)
    same = " (same name, other data: the file, its split or its scaling changed)" \
        if record.get("name") == ds.name else ""
    raise DatasetError(f"{model} was trained on data set {trained}, not on the data given, "
                       f"{given}{same}; use the data the model was trained on "
                       f"({_where(record)}) or retrain the model on this data")


def _where(record: Mapping) -> str:
    name = record.get("name")
    if name in DATASETS:
        return f"--data {name}"
    return f"--data {name}.npz or {name}.csv, the file it was trained on"


def dataset_for_model(record: Mapping, spec: str | os.PathLike | Dataset | None = None, *,
                      model: str = "the model") -> Dataset:
    """The data set to use with a model: ``spec`` (a name, a file or a :class:`Dataset`)
    if given, else the built-in data set the model names; checked with
    :func:`check_dataset_matches`.

    Raises
    ------
    DatasetError
        The model was trained on a file and ``spec`` is missing (the message says to pass
        it), ``spec`` cannot be loaded, or it is not the model's data.
    """
    if spec is None:
        name = record.get("name")
        if name not in DATASETS:
            raise DatasetError(f"{model} was trained on your own data {name!r} "
                               f"({record.get('n_train')} train / {record.get('n_test')} test "
                               f"samples); pass that data ({_where(record)})")
        spec = name
    ds = spec if isinstance(spec, Dataset) else load_data(spec)
    check_dataset_matches(record, ds, model=model)
    return ds


def _read_npz(path: Path) -> tuple[dict, int | None]:
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise DatasetError("holds one array (a .npy file), not the four a data file needs; "
                               "save them with np.savez(path, x_train=..., y_train=..., "
                               "x_test=..., y_test=...)")
        with data:
            keys = list(data.files)
            unknown = [k for k in keys if k not in NPZ_KEYS + ("frames",)]
            missing = [k for k in NPZ_KEYS if k not in keys]
            if unknown or missing:
                problem = (f"has no key {', '.join(missing)}" if missing
                           else f"has unknown key(s) {', '.join(unknown)}")
                raise DatasetError(f"{problem} (keys: {', '.join(keys) or 'none'}); a data "
                                   f".npz holds {', '.join(NPZ_KEYS)} and optionally frames")
            arrays = {k: data[k] for k in keys}
    except DatasetError:
        raise
    except ValueError as e:                 # object arrays (pickles) or a non-numpy file
        raise DatasetError(f"cannot be read as numeric arrays ({e}); save plain numeric "
                           f"arrays with np.savez") from None
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise DatasetError(f"cannot be read ({e}); is it a .npz written by np.savez?") from None
    frames = arrays.pop("frames", None)
    if frames is not None:
        if frames.size != 1 or frames.dtype.kind not in "iu":
            raise DatasetError(f"frames = {frames!r} must be one integer (np.savez(..., frames=50))")
        frames = int(frames.reshape(()))
    return arrays, frames


def _read_csv(path: Path) -> dict:
    """One table: a header row with ``label``, ``split`` (train/test) and feature columns."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"cannot be read ({e})") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise DatasetError("is empty; the first row must name the columns (label, split and "
                           "the features)")
    header = [cell.strip() for cell in rows[0]]
    for column in _CSV_COLUMNS:
        if header.count(column) != 1:
            raise DatasetError(f"the header row must name one column {column!r} (it has "
                               f"{', '.join(header[:8])}{' ...' if len(header) > 8 else ''}); "
                               f"columns: label (class 0..C-1), split (train or test), features")
    at = {c: header.index(c) for c in _CSV_COLUMNS}
    features = [i for i, c in enumerate(header) if c not in _CSV_COLUMNS]
    x = {"train": [], "test": []}
    y = {"train": [], "test": []}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DatasetError(f"line {line} has {len(row)} values, the header {len(header)}")
        split = row[at["split"]].strip().lower()
        if split not in x:
            raise DatasetError(f"line {line}: split = {row[at['split']]!r} is not train or test")
        try:
            y[split].append(int(row[at["label"]]))
            x[split].append([float(row[i]) for i in features])
        except ValueError as e:
            raise DatasetError(f"line {line}: {e} (labels are integers, features numbers)") from None
    return {"x_train": np.array(x["train"], dtype=np.float64).reshape(len(x["train"]), len(features)),
            "y_train": np.array(y["train"], dtype=np.int64),
            "x_test": np.array(x["test"], dtype=np.float64).reshape(len(x["test"]), len(features)),
            "y_test": np.array(y["test"], dtype=np.int64)}


def read_data_file(path: str | os.PathLike, *, scale: str = "auto",
                   frames: int | None = None) -> Dataset:
    """A data set from a ``.npz`` or ``.csv`` file (docs/data.md), named by the file's stem.

    Raises
    ------
    DatasetError
        Naming the file: missing or unreadable, a missing key or column, and every rule of
        :func:`dataset_from_arrays`.
    """
    path = Path(path)
    kind = path.suffix.lower()
    try:
        if kind not in (".npz", ".csv"):
            raise DatasetError("is neither .npz nor .csv; save the four arrays with "
                               "np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)")
        if not path.is_file():
            raise DatasetError("no such file; check the path" if not path.exists() else "is not a file")
        if kind == ".npz":
            arrays, stored = _read_npz(path)
            if frames is not None and stored is not None and frames != stored:
                raise DatasetError(f"holds frames = {stored}, but frames = {frames} was given")
            frames = stored if frames is None else frames
        else:
            arrays = _read_csv(path)
        return dataset_from_arrays(arrays["x_train"], arrays["y_train"], arrays["x_test"],
                                   arrays["y_test"], name=path.stem, frames=frames, scale=scale)
    except DatasetError as e:
        raise DatasetError(f"{path}: {e}") from None
