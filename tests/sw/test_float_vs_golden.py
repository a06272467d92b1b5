"""Tier 2: the float model and the golden integer model agree within quantization error."""

import numpy as np
import pytest
import torch

from spinaps.contract import sample_seeds
from spinaps.sw import artifact as art
from spinaps.sw import golden
from spinaps.sw.datasets import load_dataset
from spinaps.sw.export import export_glm
from spinaps.sw.train import GlmTrainConfig, train_glm


@pytest.fixture(scope="module")
def trained_and_exported():
    ds = load_dataset("digits")
    trained = train_glm(ds, GlmTrainConfig(weight_bits=4, epochs=15, ann_baseline=False, eval_repeats=4),
                        progress=False)
    manifest, arrays = export_glm(trained, ds)
    return ds, trained, manifest, golden.GoldenModel.from_artifact(art.from_memory(manifest, arrays))


def test_potentials_agree_within_one_lsb_on_the_same_spikes(trained_and_exported):
    ds, trained, manifest, model = trained_and_exported
    n = 100
    seeds = sample_seeds(n)
    x = golden.encode_bernoulli(ds.x_test[:n], seeds, model.encoder_base_seeds, model.t_max)
    c, _ = golden.traces(x, model.output_layer.basis)
    _, u_int = golden.glm_potentials(c, model.output_layer)
    with torch.no_grad():
        u_float = trained.model(x.to(torch.float32)).double().numpy()
    u_scale = manifest["layers"][0]["u_scale"]
    half = 2 ** (model.output_layer.u_bits - 1)
    inside = (u_int.numpy() > -half) & (u_int.numpy() < half - 1)       # not saturated
    err = np.abs(u_float / u_scale - u_int.numpy())[inside]
    # Rounding of gamma and of scale/2^shift, plus the floor of the shift: at most ~1.5 LSB.
    assert err.max() <= 1.5, f"max |u_float - u_int| = {err.max():.3f} LSB"


def test_accuracies_agree(trained_and_exported):
    ds, trained, manifest, model = trained_and_exported
    # Both are stochastic (torch draws vs xorshift draws): average the golden model over five
    # seed offsets (1800 inferences) against the float model's 4 repeats (1440). The standard
    # error of the difference is about 1.3 points; allow 4 points (3 sigma) plus quantization.
    n = len(ds.y_test)
    golden_acc = np.mean([model.run(ds.x_test, sample_seeds(n, off * 1000)).accuracy(ds.y_test)
                          for off in range(5)])
    assert abs(golden_acc - trained.test_eval.accuracy) <= 0.04 + 0.01, (golden_acc, trained.test_eval.accuracy)
