"""Your own data: a :class:`~spinaps.sw.datasets.Dataset` from numpy arrays or from a file.

:func:`dataset_from_arrays` (also ``Dataset.from_arrays``) checks four arrays, scales their
values to the 8-bit intensities the encoder takes (docs/semantics.md section 1) and records
the scaling, so that :func:`scale_samples` maps new samples exactly as the training data
was mapped. :mod:`.data_source` reads the same four arrays from a ``.npz`` or ``.csv`` file.

**The scaling rule** (``scale=``; the applied rule is ``Dataset.scaling`` and the artifact's
``dataset.scaling``):

* ``"per_feature"``: each input feature (for a time series: each channel, over all frames)
  maps its minimum and maximum over the *training* split, ``low`` and ``high``, onto 0 and
  255: ``q = clip(round((x - low) * 255 / (high - low)), 0, 255)`` in float64, rounding half
  to even; test and new samples beyond the training range are clipped. A feature that is
  constant on the training split (``high == low``) maps to 0 everywhere.
* ``"global"``: the same with one ``low`` and ``high`` over all features (images whose
  pixels share one scale).
* ``"none"``: the values are already intensities, integers 0..255, and are used as they are.
* ``"auto"`` (default): ``"none"`` when both input arrays have dtype ``uint8`` (already the
  contract's type), else ``"per_feature"``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Mapping

import numpy as np

from spinaps import contract
from spinaps.contract import ContractError

from .datasets import Dataset, DatasetError, make_dataset

__all__ = ["dataset_from_arrays", "scale_samples", "check_scaling", "SCALE_CHOICES",
           "SCALING_METHODS", "MIN_SAMPLES"]

#: Values of ``scale=``; ``auto`` resolves to one of :data:`SCALING_METHODS`.
SCALE_CHOICES = ("auto", "per_feature", "global", "none")
#: Values of a scaling record's ``method``.
SCALING_METHODS = ("per_feature", "global", "none")
#: Fewest samples per split: one sample can neither be trained on nor measured.
MIN_SAMPLES = 2
_INTENSITY_MAX = 255


def _index(a: np.ndarray, mask: np.ndarray) -> str:
    return ", ".join(str(int(i)) for i in np.argwhere(mask)[0])


def _numeric(x: Any, key: str, fix: str = "") -> np.ndarray:
    """``x`` as a numeric array (bool becomes 0/1); NaN and infinity named by first index."""
    try:
        a = np.asarray(x)
    except (ValueError, TypeError) as e:     # ragged nested lists
        raise DatasetError(f"{key} is not a rectangular array ({e}); give a numpy array of "
                           f"numbers") from None
    if a.dtype.kind == "b":
        a = a.astype(np.uint8)
    if a.dtype.kind not in "iuf":
        raise DatasetError(f"{key} has dtype {a.dtype}; give numbers (int or float)"
                           f"{fix or f', e.g. {key}.astype(float)'}")
    if a.dtype.kind == "f":
        for bad, what in ((np.isnan(a), "NaN"), (np.isinf(a), "infinite")):
            if bad.any():
                raise DatasetError(f"{key}[{_index(a, bad)}] is {what} ({int(bad.sum())} such "
                                   f"value(s)); remove or fill those samples before loading")
    return a


def _check_range(what: str, param: str, value: int, fix: str) -> None:
    try:
        contract.check(param, value, field=what)
    except ContractError as e:
        raise DatasetError(f"{e}: {fix}") from None


def _inputs(x_train: np.ndarray, x_test: np.ndarray, frames: int | None):
    """Both splits as ``[n, frames, n_in]`` and the frame count, with every shape rule."""
    for key, a in (("x_train", x_train), ("x_test", x_test)):
        if a.ndim not in (2, 3):
            raise DatasetError(f"{key} has shape {a.shape}; give images or tables as "
                               f"[samples, features] and time series as [samples, frames, "
                               f"features] (flatten each image, e.g. x.reshape(len(x), -1))")
    if x_train.ndim != x_test.ndim or x_train.shape[1:] != x_test.shape[1:]:
        raise DatasetError(f"x_train has shape {x_train.shape} and x_test {x_test.shape}: the "
                           f"splits disagree on the features per sample; give both the same "
                           f"features in the same order")
    if x_train.ndim == 3:
        if frames is not None and frames != x_train.shape[1]:
            raise DatasetError(f"frames = {frames} but x_train has shape {x_train.shape}, "
                               f"{x_train.shape[1]} frames per sample; leave frames out for "
                               f"[samples, frames, features] arrays")
        frames = x_train.shape[1]
    elif frames is None:
        frames = 1
    elif not contract.is_int(frames) or frames < 1 or x_train.shape[1] % frames:
        raise DatasetError(f"frames = {frames!r} does not divide the {x_train.shape[1]} values "
                           f"per sample of x_train (shape {x_train.shape}); give the series "
                           f"length, or the arrays as [samples, frames, features]")
    frames = int(frames)
    _check_range("frames", "frames", frames, "shorten the series or average neighbouring steps")
    n_in = x_train.shape[-1] if x_train.ndim == 3 else x_train.shape[1] // frames
    _check_range("features per frame", "n_inputs", n_in, "give at least one feature, and at "
                 "most the contract's limit (reduce the features, e.g. by pooling)")
    return (x_train.reshape(len(x_train), frames, n_in), x_test.reshape(len(x_test), frames, n_in),
            frames)


def _labels(y: Any, key: str, n: int, x_key: str) -> np.ndarray:
    """Labels as int64 ``[n]``: integers (a float array must hold whole numbers)."""
    a = _numeric(y, key, "; map class names to numbers 0..C-1, e.g. with "
                          "np.unique(y, return_inverse=True)")
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise DatasetError(f"{key} has shape {a.shape}; give one class number per sample, "
                           f"shape [samples] (for one-hot labels use y.argmax(axis=1))")
    if len(a) != n:
        raise DatasetError(f"{key} has {len(a)} labels but {x_key} has {n} samples; give one "
                           f"label per sample")
    if a.dtype.kind == "f":
        frac = a != np.round(a)
        if frac.any():
            raise DatasetError(f"{key}[{_index(a, frac)}] = {float(a[frac][0])} is not an integer; "
                               f"labels are class numbers 0..C-1 (map class names to numbers, "
                               f"e.g. with np.unique(y, return_inverse=True))")
    if (a < 0).any():
        bad = a < 0
        raise DatasetError(f"{key}[{_index(a, bad)}] = {a[bad][0]} is negative; labels are "
                           f"class numbers 0..C-1 (e.g. np.unique(y, return_inverse=True))")
    return a.astype(np.int64)


def _classes(y_train: np.ndarray, y_test: np.ndarray) -> int:
    """The number of classes C: every class 0..C-1 has a training sample, none is beyond."""
    n = int(y_train.max()) + 1
    missing = sorted(set(range(n)) - set(np.unique(y_train).tolist()))
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise DatasetError(f"y_train has labels up to {n - 1} but no sample of class(es) "
                           f"{shown}; labels must be 0..C-1 with every class in the training "
                           f"split (renumber them, e.g. np.unique(y, return_inverse=True))")
    beyond = y_test >= n
    if beyond.any():
        raise DatasetError(f"y_test[{_index(y_test, beyond)}] = {int(y_test[beyond][0])} is a "
                           f"class no training sample has (y_train holds 0..{n - 1}); put "
                           f"samples of every class in the training split")
    lo = contract.RANGES["n_classes"].lo
    if n < lo:
        raise DatasetError(f"y_train holds {n} class; a classifier needs at least {lo} "
                           f"classes (labels 0..C-1)")
    return n


def _resolve(scale: str, x_train: np.ndarray, x_test: np.ndarray) -> str:
    if scale not in SCALE_CHOICES:
        raise DatasetError(f"scale = {scale!r} is not one of {', '.join(SCALE_CHOICES)}")
    if scale == "auto":
        return "none" if x_train.dtype == x_test.dtype == np.uint8 else "per_feature"
    return scale


def _fit(method: str, x3: np.ndarray) -> dict:
    """The scaling record of ``method`` fitted on the training inputs ``[n, frames, n_in]``."""
    if method == "none":
        return {"method": "none"}
    axes = (0, 1) if method == "per_feature" else None
    low = np.atleast_1d(x3.min(axis=axes)).astype(np.float64)
    high = np.atleast_1d(x3.max(axis=axes)).astype(np.float64)
    return {"method": method, "low": low.tolist(), "high": high.tolist()}


def _intensities(a: np.ndarray, key: str) -> None:
    """Values already intensities (scaling ``none``): integers 0..255."""
    bad = (a < 0) | (a > _INTENSITY_MAX) | (a != np.round(a))
    if bad.any():
        raise DatasetError(f"{key}[{_index(a, bad)}] = {a[bad][0].item()} is not an intensity; "
                           f"with scaling 'none' values must be integers 0..255 (use "
                           f"scale='per_feature' or 'global' to scale them)")


def _apply(x3: np.ndarray, scaling: Mapping, key: str) -> np.ndarray:
    """``[n, frames, n_in]`` values -> ``uint8`` intensities by the record (module docstring)."""
    if scaling["method"] == "none":
        _intensities(x3, key)
        return x3.astype(np.uint8)
    low = np.asarray(scaling["low"], dtype=np.float64)
    high = np.asarray(scaling["high"], dtype=np.float64)
    span = high - low
    flat = span == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        q = (x3.astype(np.float64) - low) * float(_INTENSITY_MAX) / np.where(flat, 1.0, span)
    q = np.where(flat, 0.0, np.clip(np.rint(q), 0, _INTENSITY_MAX))
    return q.astype(np.uint8)


def check_scaling(scaling: Any, n_inputs: int | None = None, field: str = "scaling") -> dict:
    """A scaling record's rules; returns it. ``n_inputs`` (when known) is the features per frame.

    Raises
    ------
    DatasetError
        Naming ``field`` and its broken rule (``scaling.low[3] = NaN must be finite``).
    """
    if not isinstance(scaling, Mapping):
        raise DatasetError(f"{field} = {scaling!r} must be a JSON object (dict)")
    method = scaling.get("method")
    if method not in SCALING_METHODS:
        raise DatasetError(f"{field}.method = {method!r} is not one of {', '.join(SCALING_METHODS)}")
    keys = ("method",) if method == "none" else ("method", "low", "high")
    extra = sorted(set(scaling) - set(keys), key=str)
    if extra or any(k not in scaling for k in keys):
        raise DatasetError(f"{field} has keys {sorted(scaling, key=str)}; method {method!r} "
                           f"takes exactly {', '.join(keys)}")
    if method == "none":
        return scaling
    for key in ("low", "high"):
        values = scaling[key]
        if not isinstance(values, (list, tuple)) or not values:
            raise DatasetError(f"{field}.{key} must be a non-empty list of numbers")
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise DatasetError(f"{field}.{key}[{i}] = {v!r} must be a finite number")
    low, high = scaling["low"], scaling["high"]
    want = 1 if method == "global" else n_inputs
    if len(low) != len(high) or (want is not None and len(low) != want):
        raise DatasetError(f"{field}.low has {len(low)} entries and {field}.high {len(high)}; "
                           f"method {method!r} needs {want if want is not None else 'as many'}"
                           f"{' (one per input feature)' if method == 'per_feature' else ''}")
    for i, (lo, hi) in enumerate(zip(low, high)):
        if lo > hi:
            raise DatasetError(f"{field}.low[{i}] = {lo} is above {field}.high[{i}] = {hi}")
    return scaling


def scale_samples(x: Any, scaling: Mapping) -> np.ndarray:
    """New samples scaled as the training data was, ready for the golden model or a board.

    Parameters
    ----------
    x : array_like
        Raw samples like the arrays given to :func:`dataset_from_arrays`: ``[n, features]``,
        ``[n, frames, features]`` or ``[n, frames * features]`` (frame-major).
    scaling : dict
        The record: ``Dataset.scaling`` or an artifact's ``manifest["dataset"]["scaling"]``.

    Returns
    -------
    numpy.ndarray
        ``uint8`` intensities ``[n, frames * features]``, frame after frame.

    Raises
    ------
    DatasetError
        A broken record, samples that are not numbers, NaN or infinity, a wrong width.
    """
    try:
        check_scaling(scaling)
    except DatasetError as e:
        raise DatasetError(f"{e}; pass the scaling recorded with the data set (Dataset.scaling "
                           f"or the artifact's manifest['dataset']['scaling'])") from None
    a = _numeric(x, "x")
    if a.ndim not in (2, 3):
        raise DatasetError(f"x has shape {a.shape}; give a batch [samples, features] or "
                           f"[samples, frames, features] (one sample: x[None])")
    n_in = len(scaling["low"]) if scaling["method"] == "per_feature" else a.shape[-1]
    width = a.shape[-1] if a.ndim == 3 else a.shape[1]
    if a.ndim == 3 and width != n_in or a.ndim == 2 and (width == 0 or width % n_in):
        raise DatasetError(f"x has shape {a.shape} but the scaling has {n_in} features per "
                           f"frame; give samples with the training data's features")
    if scaling["method"] == "none":
        _intensities(a, "x")
    return _apply(a.reshape(len(a), -1, n_in), scaling, "x").reshape(len(a), -1)


def dataset_from_arrays(x_train, y_train, x_test, y_test, *, name: str = "user",
                        frames: int | None = None, scale: str = "auto") -> Dataset:
    """A data set from numpy arrays, scaled to 8-bit intensities (``Dataset.from_arrays``).

    Parameters
    ----------
    x_train, x_test : array_like
        Numbers of any range: ``[samples, features]`` (images flattened, tables) or
        ``[samples, frames, features]`` (time series, one frame per time step); a flat
        ``[samples, frames * features]`` frame-major array with ``frames`` given also works.
    y_train, y_test : array_like
        Class numbers 0..C-1, every class in the training split.
    name : str
        The data set's name in artifacts and messages.
    frames : int, optional
        Frames per sample of flat 2-D arrays (default 1: images and tables).
    scale : str
        ``auto``, ``per_feature``, ``global`` or ``none`` (module docstring).

    Returns
    -------
    Dataset
        ``uint8`` inputs ``[samples, frames * features]`` (frame-major), the hash of the
        scaled data and ``scaling``, the applied rule.

    Raises
    ------
    DatasetError
        One message naming the array and the problem: shape, NaN or infinity, labels, too
        few samples or classes.
    """
    if not isinstance(name, str) or not name.strip():
        raise DatasetError(f"name = {name!r} must be a non-empty string")
    xtr, xte = _numeric(x_train, "x_train"), _numeric(x_test, "x_test")
    xtr3, xte3, frames = _inputs(xtr, xte, frames)
    for key, a in (("x_train", xtr), ("x_test", xte)):
        if len(a) < MIN_SAMPLES:
            raise DatasetError(f"{key} has {len(a)} sample(s); each split needs at least "
                               f"{MIN_SAMPLES} (move samples into it)")
    ytr = _labels(y_train, "y_train", len(xtr), "x_train")
    yte = _labels(y_test, "y_test", len(xte), "x_test")
    _classes(ytr, yte)
    scaling = _fit(_resolve(scale, xtr, xte), xtr3)
    if scaling["method"] == "none":
        _intensities(xtr, "x_train")
        _intensities(xte, "x_test")
    return make_dataset(name, _apply(xtr3, scaling, "x_train").reshape(len(xtr), -1), ytr,
                        _apply(xte3, scaling, "x_test").reshape(len(xte), -1), yte,
                        frames=frames, scaling=scaling)
