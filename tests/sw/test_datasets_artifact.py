"""Your own data in the artifact: dataset.scaling is validated, round-trips through training
and export, and lets the golden model classify new raw samples (docs/artifact.md)."""

import numpy as np
import pytest

from spinaps.sw import artifact
from spinaps.sw.artifact import ArtifactError
from spinaps.sw.datasets import Dataset, check_dataset_matches, load_dataset, scale_samples


def _with_scaling(tiny_glm_artifact, scaling):
    manifest, arrays = tiny_glm_artifact
    manifest["dataset"]["scaling"] = scaling
    return manifest, arrays


def test_an_artifact_without_scaling_still_loads(tiny_glm_artifact, tmp_path):
    manifest, arrays = tiny_glm_artifact
    assert "scaling" not in manifest["dataset"]
    assert "scaling" not in artifact.load(artifact.save(tmp_path / "m.npz", manifest, arrays)).dataset


@pytest.mark.parametrize("scaling", [
    {"method": "none"},
    {"method": "global", "low": [-1.5], "high": [2.0]},
    {"method": "per_feature", "low": [0, 1, 2, 3, 4, 5], "high": [1, 1, 2, 9, 9, 9.5]},
])
def test_valid_scalings_round_trip(tiny_glm_artifact, tmp_path, scaling):
    manifest, arrays = _with_scaling(tiny_glm_artifact, scaling)
    loaded = artifact.load(artifact.save(tmp_path / "m.npz", manifest, arrays))
    assert loaded.dataset["scaling"] == scaling


@pytest.mark.parametrize("scaling,message", [
    ("minmax", r"dataset.scaling = 'minmax' must be a JSON object"),
    ({"method": "zscore"}, r"dataset.scaling.method = 'zscore' is not one of per_feature, global, none"),
    ({"method": "none", "low": [0]}, r"dataset.scaling has keys .*method 'none' takes exactly method"),
    ({"method": "global", "low": [0]}, r"dataset.scaling has keys .*takes exactly method, low, high"),
    ({"method": "global", "low": [], "high": []}, r"dataset.scaling.low must be a non-empty list"),
    ({"method": "global", "low": [0, 1], "high": [2, 3]},
     r"dataset.scaling.low has 2 entries and dataset.scaling.high 2; method 'global' needs 1"),
    ({"method": "per_feature", "low": [0] * 5, "high": [1] * 5},
     r"dataset.scaling.low has 5 entries .*needs 6 \(one per input feature\)"),
    ({"method": "global", "low": [True], "high": [1]}, r"dataset.scaling.low\[0\] = True must be a finite"),
    ({"method": "global", "low": ["0"], "high": [1]}, r"dataset.scaling.low\[0\] = '0' must be a finite"),
    ({"method": "global", "low": [2], "high": [1]}, r"dataset.scaling.low\[0\] = 2 is above dataset.scaling.high\[0\] = 1"),
])
def test_bad_scaling_is_refused_on_save_and_load(tiny_glm_artifact, tmp_path, scaling, message):
    manifest, arrays = _with_scaling(tiny_glm_artifact, scaling)
    with pytest.raises(ArtifactError, match=message + r".*re-export"):
        artifact.save(tmp_path / "m.npz", manifest, arrays)
    assert not (tmp_path / "m.npz").exists()


def test_an_infinite_scaling_is_refused_on_load(tiny_glm_artifact, tmp_path):
    """JSON's 1e999 reads as infinity: load() names it (save() cannot write it)."""
    import json

    manifest, arrays = _with_scaling(tiny_glm_artifact, {"method": "global", "low": [0],
                                                         "high": [12345.0]})
    text = json.dumps(manifest).replace("12345.0", "1e999")
    np.savez(tmp_path / "m.npz", manifest=np.frombuffer(text.encode(), np.uint8), **arrays)
    with pytest.raises(ArtifactError, match=r"m.npz: dataset.scaling.high\[0\] = inf must be a finite"):
        artifact.load(tmp_path / "m.npz")


def test_builtin_records_are_unchanged():
    from spinaps.sw.export import dataset_record

    ds = load_dataset("digits")
    assert dataset_record(ds) == {"name": "digits", "sha256": ds.sha256, "n_train": 1437, "n_test": 360}


def _wine():
    from sklearn.datasets import load_wine

    x, y = load_wine(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))
    return x[order], y[order]


@pytest.fixture
def one_thread():
    """One torch thread: on a busy machine several times faster for a model this small."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_glm_trained_on_arrays_records_its_scaling_and_runs_new_raw_samples(tmp_path, one_thread):
    """The whole path of your own data through the Python API: arrays -> training -> export
    -> artifact -> golden model on new raw samples scaled by the recorded rule."""
    from spinaps.contract import sample_seeds
    from spinaps.flow import export_and_save
    from spinaps.sw.golden import GoldenModel
    from spinaps.sw.train import GlmTrainConfig, train_glm

    x, y = _wine()
    ds = Dataset.from_arrays(x[:130], y[:130], x[130:170], y[130:170], name="wine")
    trained = train_glm(ds, GlmTrainConfig(epochs=60, batch_size=16, lr=5e-2, ann_baseline=False,
                                           eval_repeats=1),
                        progress=False)
    model, gold = export_and_save(trained, ds, tmp_path / "wine.npz", encoder_lanes=4)

    loaded = artifact.load(tmp_path / "wine.npz")
    record = loaded.dataset
    assert record["name"] == "wine" and record["sha256"] == ds.sha256
    assert record["scaling"] == ds.scaling and record["scaling"]["method"] == "per_feature"
    check_dataset_matches(record, ds, model="wine.npz")
    # Far better than chance (1/3) on 40 held-out wines.
    assert loaded.accuracy["golden"] > 0.7, loaded.accuracy

    golden = GoldenModel.from_artifact(loaded)
    # New raw samples (never seen, in the raw units) scaled by the artifact's record alone.
    new = x[170:]
    q = scale_samples(new, record["scaling"])
    assert q.dtype == np.uint8 and q.shape == (len(new), 13)
    lo, hi = np.array(record["scaling"]["low"]), np.array(record["scaling"]["high"])
    assert np.array_equal(q, np.clip(np.rint((new - lo) * 255.0 / (hi - lo)), 0, 255))
    classes = golden.run(q, sample_seeds(len(q))).cls            # as docs/data.md shows
    assert classes.shape == (8,) and set(classes.tolist()) <= {0, 1, 2}
    # The test split, re-scaled from its raw values, gives the exported golden accuracy again.
    again = golden.run(scale_samples(x[130:170], record["scaling"]), sample_seeds(40), labels=y[130:170])
    assert again.accuracy(y[130:170]) == gold.accuracy(ds.y_test) == loaded.accuracy["golden"]


def test_a_time_series_from_arrays_trains_frame_by_frame(tmp_path, one_thread):
    """[samples, frames, features] arrays train and export as a time series: the artifact
    has encoder.frames = 6 and records the per-channel scaling (the frame-major layout itself
    is checked in test_datasets_user.py)."""
    from spinaps.flow import export_and_save
    from spinaps.sw.train import GlmTrainConfig, train_glm

    rng = np.random.default_rng(4)

    def series(n):
        y = np.arange(n) % 2
        x = rng.normal(0.0, 0.2, (n, 6, 2))              # 6 frames of 2 channels, raw units
        x[y == 0, :3, 0] += 3.0
        x[y == 1, 3:, 1] += 3.0
        return x, y

    (x_train, y_train), (x_test, y_test) = series(60), series(20)
    ds = Dataset.from_arrays(x_train, y_train, x_test, y_test, name="pulses")
    assert ds.frames == 6 and ds.n_in == 2
    trained = train_glm(ds, GlmTrainConfig(epochs=20, batch_size=16, lr=5e-2, ann_baseline=False,
                                           eval_repeats=1), progress=False)
    loaded, gold = export_and_save(trained, ds, tmp_path / "pulses.npz", encoder_lanes=2)
    assert loaded.encoder["frames"] == 6 and loaded.n_inputs == 2
    assert loaded.accuracy["golden"] >= 0.9, loaded.accuracy
    assert np.array_equal(scale_samples(x_test, loaded.dataset["scaling"]), ds.x_test)
