"""Time series (motions: 50 frames x 12 inputs) through every trainer, the per-data-set t_max
default, and the one clear error for samples a network cannot take."""

import dataclasses

import numpy as np
import pytest
import torch

from spinaps import contract
from spinaps.sw import artifact as art
from spinaps.sw.datasets import (DATASETS, STATIC_T_MAX, DatasetError, default_t_max, load_dataset,
                                 shape_errors)
from spinaps.sw.golden import GoldenModel


@pytest.fixture(scope="module")
def motions():
    # aeon (which ships BasicMotions) is a declared dependency: a missing data set is a failure.
    return load_dataset("motions")


def _golden_run(manifest, arrays, ds):
    model = GoldenModel.from_artifact(art.from_memory(manifest, arrays))
    return model, model.run(ds.x_test, contract.sample_seeds(len(ds.y_test)), labels=ds.y_test)


def test_default_t_max_covers_a_time_series():
    assert default_t_max("motions") == 50                      # at least the frame count
    assert default_t_max("motions", "softlif") == STATIC_T_MAX["softlif"] == 64
    for network in STATIC_T_MAX:                                # static data: the network's default
        assert default_t_max("digits", network) == STATIC_T_MAX[network]
    assert all(default_t_max(name) >= spec.frames for name, spec in DATASETS.items())
    with pytest.raises(DatasetError, match="unknown data set 'nope'"):
        default_t_max("nope")
    with pytest.raises(ValueError, match="network = 'cnn'"):
        default_t_max("digits", "cnn")


def test_default_t_max_is_capped_by_the_contract():
    long = dataclasses.replace(load_dataset("digits"), frames=300)
    assert default_t_max(long) == contract.RANGES["t_max"].hi


def test_the_config_defaults_are_the_static_table():
    from spinaps.sw.lif import LifNetConfig
    from spinaps.sw.train import GlmTrainConfig

    assert GlmTrainConfig().t_max == STATIC_T_MAX["glm"] and LifNetConfig().t_max == STATIC_T_MAX["lif"]


def test_glm_trains_and_exports_frame_by_frame(motions):
    from spinaps.sw.export import export_glm
    from spinaps.sw.train import GlmTrainConfig, train_glm

    torch.set_num_threads(1)
    config = GlmTrainConfig(epochs=2, t_max=default_t_max(motions), eval_repeats=1)
    trained = train_glm(motions, config, progress=False)
    assert trained.model.n_in == 12 and trained.ann_accuracy is not None
    manifest, arrays = export_glm(trained, motions, encoder_lanes=4)
    assert manifest["encoder"]["frames"] == 50 and manifest["t_max"] == 50
    model, res = _golden_run(manifest, arrays, motions)
    assert model.sample_size == 600 and len(res.accuracy_by_step) == 50


def test_softlif_trains_and_converts_a_time_series(motions):
    from spinaps.sw.softlif import SoftLifConfig, train_softlif
    from spinaps.sw.softlif_convert import convert, softlif_artifact

    torch.set_num_threads(1)
    trained = train_softlif(motions, SoftLifConfig(epochs=2), progress=False, compare_relu=False)
    assert trained.sizes[0] == 12 and trained.frames == 50
    golden = convert(trained, motions, weight_bits=4, t_max=default_t_max(motions, "softlif"))
    assert golden.frames == 50 and len(golden.encoder_base_seeds) == 12   # capped at n_in
    _, res = _golden_run(*softlif_artifact(golden, trained, motions), motions)
    assert res.cls.shape == (40,)


def test_a_broken_frame_count_names_the_shape_and_the_fix(motions):
    from spinaps.sw.train import GlmTrainConfig, train_glm

    broken = dataclasses.replace(motions, frames=7)
    with pytest.raises(DatasetError) as info:
        train_glm(broken, GlmTrainConfig(epochs=1), progress=False)
    message = str(info.value)
    assert message.startswith("train_glm: data set 'motions'")
    assert "(40, 600)" in message and "frames = 7" in message and "Dataset.frames" in message


def test_a_shape_mismatch_in_training_is_one_clear_error(motions):
    with pytest.raises(DatasetError) as info:
        with shape_errors(motions, "train_glm"):
            torch.zeros(2, 600) @ torch.zeros(12, 4)       # what an n_in = 12 layer did to 600
    message = str(info.value)
    assert "train_glm: the network does not fit data set 'motions'" in message
    assert "(40, 600)" in message and "50 frame(s) of 12 inputs" in message
    assert "change --dataset or --network" in message
    with pytest.raises(KeyError):                          # other errors pass unchanged
        with shape_errors(motions, "train_glm"):
            raise KeyError("x")


def test_float_evaluation_refuses_samples_of_another_shape(motions):
    from spinaps.sw.glm import TorchGlmLayer
    from spinaps.sw.train import evaluate_float

    layer = TorchGlmLayer(64, 4, np.ones((1, 1)))
    with pytest.raises(ValueError, match=r"samples of shape \(40, 600\) are not 1 frame\(s\) of 64"):
        evaluate_float(layer, motions.x_test, motions.y_test, 8)
