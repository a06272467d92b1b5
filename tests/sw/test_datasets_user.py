"""Your own data: Dataset.from_arrays, the scaling rule and scale_samples, and one clear
DatasetError per kind of bad data."""

import numpy as np
import pytest

from spinaps.sw.datasets import (Dataset, DatasetError, check_dataset_matches, dataset_for_model,
                                 load_data, load_dataset, scale_samples)


def _arrays(n_train=12, n_test=6, features=3, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x_train = rng.normal(10.0, 5.0, (n_train, features))
    x_test = rng.normal(10.0, 5.0, (n_test, features))
    y_train = np.arange(n_train) % classes
    y_test = np.arange(n_test) % classes
    return x_train, y_train, x_test, y_test


def test_per_feature_scaling_maps_training_min_max_onto_0_255():
    x_train, y_train, x_test, y_test = _arrays()
    x_train[:, 1] *= 1000.0                               # another unit: its own scale
    ds = Dataset.from_arrays(x_train, y_train, x_test, y_test, name="mine")
    assert ds.name == "mine" and ds.frames == 1 and ds.n_in == 3 and ds.n_classes == 3
    assert ds.x_train.dtype == np.uint8 and ds.x_train.shape == (12, 3)
    assert ds.scaling["method"] == "per_feature"
    assert ds.scaling["low"] == x_train.min(axis=0).tolist()
    assert ds.scaling["high"] == x_train.max(axis=0).tolist()
    # Each feature's training minimum is 0 and its maximum 255.
    assert ds.x_train.min(axis=0).tolist() == [0, 0, 0]
    assert ds.x_train.max(axis=0).tolist() == [255, 255, 255]
    lo, hi = x_train.min(axis=0), x_train.max(axis=0)
    expected = np.clip(np.rint((x_test - lo) * 255.0 / (hi - lo)), 0, 255)
    assert np.array_equal(ds.x_test, expected.astype(np.uint8))
    assert not ds.x_train.flags.writeable


def test_new_samples_scale_as_the_test_split_and_clip():
    x_train, y_train, x_test, y_test = _arrays()
    ds = Dataset.from_arrays(x_train, y_train, x_test, y_test)
    assert np.array_equal(scale_samples(x_test, ds.scaling), ds.x_test)
    far = np.array([[-1e6, 1e6, x_train[0, 2]]])
    assert scale_samples(far, ds.scaling).tolist() == [[0, 255, ds.x_train[0, 2]]]


def test_a_constant_feature_maps_to_zero():
    x_train, y_train, x_test, y_test = _arrays()
    x_train[:, 2] = 7.0
    x_test[:, 2] = 100.0
    ds = Dataset.from_arrays(x_train, y_train, x_test, y_test)
    assert not ds.x_train[:, 2].any() and not ds.x_test[:, 2].any()


def test_global_none_and_auto():
    x_train, y_train, x_test, y_test = _arrays()
    ds = Dataset.from_arrays(x_train, y_train, x_test, y_test, scale="global")
    assert ds.scaling == {"method": "global", "low": [x_train.min()], "high": [x_train.max()]}
    assert ds.x_train.min() == 0 and ds.x_train.max() == 255
    images = np.random.default_rng(1).integers(0, 256, (12, 5)).astype(np.uint8)
    auto = Dataset.from_arrays(images, y_train, images[:6], y_test)      # uint8: used as is
    assert auto.scaling == {"method": "none"} and np.array_equal(auto.x_train, images)
    as_int = Dataset.from_arrays(images.astype(np.int64), y_train, images[:6], y_test, scale="none")
    assert as_int.sha256 == auto.sha256
    big = images.astype(int)
    big[2, 1] = 300
    with pytest.raises(DatasetError, match=r"x_train\[2, 1\] = 300 is not an intensity; .*"
                                           r"integers 0\.\.255 \(use scale='per_feature'"):
        Dataset.from_arrays(big, y_train, images[:6], y_test, scale="none")
    with pytest.raises(DatasetError, match=r"x\[0, 0\] = 0.5 is not an intensity"):
        scale_samples(np.full((1, 5), 0.5), auto.scaling)
    with pytest.raises(DatasetError, match="scale = 'minmax' is not one of auto, per_feature"):
        Dataset.from_arrays(x_train, y_train, x_test, y_test, scale="minmax")


def test_time_series_are_frame_major_and_scaled_per_channel():
    rng = np.random.default_rng(2)
    x_train = rng.normal(size=(8, 5, 2)) * np.array([1.0, 100.0])   # 5 frames of 2 channels
    x_test = rng.normal(size=(4, 5, 2)) * np.array([1.0, 100.0])
    y_train, y_test = np.arange(8) % 2, np.arange(4) % 2
    ds = Dataset.from_arrays(x_train, y_train, x_test, y_test, name="series")
    assert ds.frames == 5 and ds.n_in == 2 and ds.x_train.shape == (8, 10)
    assert len(ds.scaling["low"]) == 2 and ds.scaling["low"][1] == x_train[:, :, 1].min()
    # Intensity f * n_in + i of a sample is frame f, channel i (docs/semantics.md section 1).
    lo, hi = x_train.min(axis=(0, 1)), x_train.max(axis=(0, 1))
    q = np.clip(np.rint((x_train - lo) * 255.0 / (hi - lo)), 0, 255).astype(np.uint8)
    assert ds.x_train[3, 2 * 2 + 1] == q[3, 2, 1]
    assert np.array_equal(ds.x_train, q.reshape(8, 10))
    # The same data flat (frame-major) with frames given: the same data set.
    flat = Dataset.from_arrays(x_train.reshape(8, 10), y_train, x_test.reshape(4, 10), y_test,
                               name="series", frames=5)
    assert flat.sha256 == ds.sha256 and flat.scaling == ds.scaling and flat.frames == 5
    assert np.array_equal(scale_samples(x_test, ds.scaling), ds.x_test)
    assert np.array_equal(scale_samples(x_test.reshape(4, 10), ds.scaling), ds.x_test)


def test_hash_is_over_the_scaled_data_and_stable():
    a = Dataset.from_arrays(*_arrays())
    b = Dataset.from_arrays(*_arrays())
    c = Dataset.from_arrays(*_arrays(seed=1))
    assert a.sha256 == b.sha256 != c.sha256 and len(a.sha256) == 64
    from spinaps.sw.datasets import _sha256

    assert a.sha256 == _sha256(a.x_train, a.y_train, a.x_test, a.y_test)


def _bad(**change):
    x_train, y_train, x_test, y_test = _arrays()
    args = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    args.update(change)
    return args


def _nan(at, value=np.nan):
    x = _arrays()[2].copy()
    x[at] = value
    return x


@pytest.mark.parametrize("args,message", [
    (_bad(x_train=np.zeros((12, 2, 3, 4))), r"x_train has shape \(12, 2, 3, 4\); give images"),
    (_bad(x_test=np.zeros((6, 4))), r"x_train has shape \(12, 3\) and x_test \(6, 4\).*same features"),
    (_bad(x_train=np.zeros((12, 0)), x_test=np.zeros((6, 0))),
     r"features per frame = 0 is out of range 1\.\.65536"),
    (_bad(x_test=_nan((4, 1))), r"x_test\[4, 1\] is NaN.*remove or fill"),
    (_bad(x_train=np.full((12, 3), np.inf)), r"x_train\[0, 0\] is infinite"),
    (_bad(x_train=np.array([["a"] * 3] * 12)), r"x_train has dtype <U1; give numbers"),
    (_bad(y_train=np.array(["red", "white", "rose"] * 4)),
     r"y_train has dtype <U5; give numbers \(int or float\); map class names to numbers 0\.\.C-1"),
    (_bad(y_train=np.arange(12) % 3 + 1), r"y_train has labels up to 3 but no sample of class\(es\) 0"),
    (_bad(y_train=np.where(np.arange(12) % 3 == 1, 5, np.arange(12) % 3)),
     r"no sample of class\(es\) 1, 3, 4; labels must be 0\.\.C-1"),
    (_bad(y_test=np.array([0, 1, 2, 3, 0, 1])), r"y_test\[3\] = 3 is a class no training sample has"),
    (_bad(y_train=np.arange(12) % 3 - 1), r"y_train\[0\] = -1 is negative"),
    (_bad(y_train=np.arange(12) % 3 + 0.5), r"y_train\[0\] = 0.5 is not an integer"),
    (_bad(y_train=np.zeros(12, dtype=int), y_test=np.zeros(6, dtype=int)),
     r"y_train holds 1 class; a classifier needs at least 2"),
    (_bad(y_test=np.arange(5) % 3), r"y_test has 5 labels but x_test has 6 samples"),
    (_bad(y_train=np.zeros((12, 2))), r"y_train has shape \(12, 2\); give one class number"),
    (_bad(x_test=np.zeros((1, 3)), y_test=np.zeros(1)), r"x_test has 1 sample\(s\); each split needs at least 2"),
    (_bad(x_test=np.zeros((0, 3)), y_test=np.zeros(0)), r"x_test has 0 sample\(s\)"),
    (_bad(x_train=np.zeros((12, 300, 1)), x_test=np.zeros((6, 300, 1))), r"frames = 300 is out of range 1\.\.255"),
])
def test_bad_arrays_get_one_message_naming_the_array(args, message):
    with pytest.raises(DatasetError, match=message):
        Dataset.from_arrays(**args)


def test_frames_that_do_not_fit_the_arrays():
    x_train, y_train, x_test, y_test = _arrays(features=6)
    with pytest.raises(DatasetError, match=r"frames = 4 does not divide the 6 values"):
        Dataset.from_arrays(x_train, y_train, x_test, y_test, frames=4)
    with pytest.raises(DatasetError, match=r"frames = 3 but x_train has shape \(12, 2, 3\)"):
        Dataset.from_arrays(x_train.reshape(12, 2, 3), y_train, x_test.reshape(6, 2, 3), y_test,
                            frames=3)


def test_scale_samples_refuses_bad_samples_and_records():
    ds = Dataset.from_arrays(*_arrays())
    with pytest.raises(DatasetError, match=r"x has shape \(4, 5\) but the scaling has 3 features"):
        scale_samples(np.zeros((4, 5)), ds.scaling)
    with pytest.raises(DatasetError, match=r"x has shape \(3,\); give a batch .*x\[None\]"):
        scale_samples(np.zeros(3), ds.scaling)
    with pytest.raises(DatasetError, match=r"x\[1, 2\] is NaN"):
        scale_samples(np.array([[0, 0, 0], [0, 0, np.nan]]), ds.scaling)
    broken = dict(ds.scaling, high=ds.scaling["high"][:2])
    with pytest.raises(DatasetError, match=r"scaling.low has 3 entries and scaling.high 2.*"
                                           r"pass the scaling recorded"):
        scale_samples(np.zeros((1, 3)), broken)
    with pytest.raises(DatasetError, match=r"scaling.method = 'zscore' is not one of"):
        scale_samples(np.zeros((1, 3)), {"method": "zscore"})


def test_a_model_used_with_other_data_says_so():
    ds = Dataset.from_arrays(*_arrays(), name="wine")
    record = {"name": "wine", "sha256": ds.sha256, "n_train": 12, "n_test": 6}
    check_dataset_matches(record, ds)                                 # its own data: fine
    other = Dataset.from_arrays(*_arrays(seed=5), name="wine")
    with pytest.raises(DatasetError) as info:
        check_dataset_matches(record, other, model="wine_glm.npz")
    message = str(info.value)
    assert message.startswith("wine_glm.npz was trained on data set 'wine' (12 train / 6 test")
    assert ds.sha256[:12] in message and other.sha256[:12] in message
    assert "same name, other data" in message and "retrain" in message
    assert "--data wine.npz" in message
    digits = load_dataset("digits")
    with pytest.raises(DatasetError, match=r"'digits' \(1437 train / 360 test samples"):
        check_dataset_matches(record, digits)


def test_dataset_for_model_loads_a_builtin_or_asks_for_the_file(tmp_path):
    digits = load_dataset("digits")
    record = {"name": "digits", "sha256": digits.sha256, "n_train": 1437, "n_test": 360}
    assert dataset_for_model(record).sha256 == digits.sha256
    assert dataset_for_model(record, "digits").sha256 == digits.sha256
    ds = Dataset.from_arrays(*_arrays(), name="mine")
    mine = {"name": "mine", "sha256": ds.sha256, "n_train": 12, "n_test": 6}
    with pytest.raises(DatasetError, match=r"model.npz was trained on your own data 'mine' "
                                           r"\(12 train / 6 test samples\); pass that data"):
        dataset_for_model(mine, model="model.npz")
    assert dataset_for_model(mine, ds) is ds
    with pytest.raises(DatasetError, match="not on the data given, 'digits'"):
        dataset_for_model(mine, "digits")


def test_load_data_takes_builtin_names():
    assert load_data("digits").sha256 == load_dataset("digits").sha256
    with pytest.raises(DatasetError, match=r"unknown data set 'digit': give a built-in data set "
                                           r"\(digits, .*\) or a .npz or .csv file"):
        load_data("digit")
    with pytest.raises(DatasetError, match="scale and frames apply to data files"):
        load_data("digits", scale="global")
