"""Fixtures shared by every test tier."""

import hashlib
import math

import numpy as np
import pytest

from spinaps.contract import CONTRACT_VERSION


@pytest.fixture
def tiny_glm_artifact():
    """A small valid artifact as ``(manifest, arrays)``, fresh for every test.

    One GLM layer, 6 inputs -> 3 classes, K = 2 basis functions over tau = 3 steps, 2-bit
    weights, 6-bit potentials, 4 encoder lanes (2 input groups, the second one padded) and
    2 neuron lanes (2 words, the second one padded), so padding paths are exercised. Values
    are fixed (no RNG) so every tier sees the same model; tests may mutate their copy.
    """
    n_in, n_out, k, tau, u_bits, u_scale = 6, 3, 2, 3, 6, 0.25
    manifest = {
        "format": "spinaps-artifact",
        "format_version": 2,
        "contract_version": CONTRACT_VERSION,
        "created_by": "spinaps 0.1.0 (tests/conftest.py)",
        "dataset": {"name": "tiny", "sha256": hashlib.sha256(b"tiny").hexdigest(),
                    "n_train": 0, "n_test": 0},
        "t_max": 8,
        "decision": "first_to_spike",
        "encoder": {"type": "bernoulli", "n_inputs": n_in, "lanes": 4, "frames": 1},
        "layers": [
            {"type": "glm", "n_in": n_in, "n_out": n_out, "weight_bits": 2, "basis": k,
             "tau": tau, "basis_bits": 2, "u_bits": u_bits, "scale_bits": 8,
             "scale_shift": 4, "u_scale": u_scale, "lanes": 2},
        ],
        "accuracy": {"float": 0.5, "golden": 0.5, "ann": None},
        "training": {"note": "hand-made fixture"},
    }
    # Odd 2-bit weights (-3, -1, 1, 3) in a fixed pattern that differs per neuron.
    codes = (np.arange(n_out * n_in * k).reshape(n_out, n_in, k) * 7 + 1) % 4
    half = 2 ** (u_bits - 1)
    sigmoid = [min(65535, round(65536 / (1 + math.exp(-u * u_scale))))
               for u in range(-half, half)]
    arrays = {
        "encoder.base_seeds": np.array([0x0001_0001, 0xDEAD_BEEF, 0x1234_5678, 0x0000_8000],
                                       dtype=np.uint32),
        "layer0.weights": (2 * codes - 3).astype(np.int16),
        "layer0.basis": np.array([[3, 1, 0], [0, 2, 3]], dtype=np.int16),
        "layer0.gamma": np.array([-4, 0, 5], dtype=np.int32),
        "layer0.scale": np.array([16, 32, 255], dtype=np.int32),
        "layer0.sigmoid": np.array(sigmoid, dtype=np.int32),
        "layer0.base_seeds": np.array([0xACE1_0001, 0x0BAD_F00D], dtype=np.uint32),
    }
    return manifest, arrays


@pytest.fixture(scope="session")
def digits_artifact(tmp_path_factory):
    """A small digits GLM model trained and exported once per test session (a few seconds)."""
    from spinaps.sw import artifact as art
    from spinaps.flow import train_and_export
    from spinaps.sw.train import GlmTrainConfig

    path = tmp_path_factory.mktemp("digits") / "digits.npz"
    cfg = GlmTrainConfig(weight_bits=4, epochs=8, ann_baseline=False, eval_repeats=1)
    train_and_export("digits", path, config=cfg, progress=False, checkpoint=False)
    return art.load(path)


def _trained_network(tmp_path_factory, name, **config):
    from spinaps.sw import artifact as art
    from spinaps.flow import train_network_and_export
    from spinaps.sw.lif import LifNetConfig

    path = tmp_path_factory.mktemp(name) / f"{name}.npz"
    cfg = LifNetConfig(ann_baseline=False, **config)
    train_network_and_export("digits", path, config=cfg, lanes=None, progress=False, checkpoint=False)
    return art.load(path)


@pytest.fixture(scope="session")
def digits_hybrid_artifact(tmp_path_factory):
    """A digits 64 -> 32 LIF -> 10 GLM first-to-spike hybrid, trained once per session (seconds)."""
    return _trained_network(tmp_path_factory, "hybrid", hidden=(32,), epochs=12)


@pytest.fixture(scope="session")
def digits_lif_artifact(tmp_path_factory):
    """A digits 64 -> 32 LIF -> 10 LIF spike-count network, trained once per session (seconds)."""
    return _trained_network(tmp_path_factory, "lif", hidden=(32,), epochs=12, output="lif",
                            decision="spike_count")


@pytest.fixture(scope="session")
def digits_small_artifact(tmp_path_factory):
    """The digits GLM model exported with 2 lanes and 4 encoder lanes (fits the UP5K), as a
    path: the smallest digits model the tests build (synthesis and bitstream tiers)."""
    from spinaps.flow import train_and_export
    from spinaps.sw.train import GlmTrainConfig

    path = tmp_path_factory.mktemp("digits_small") / "digits.npz"
    cfg = GlmTrainConfig(weight_bits=4, epochs=8, ann_baseline=False, eval_repeats=1)
    train_and_export("digits", path, config=cfg, encoder_lanes=4, lanes=2, progress=False, checkpoint=False)
    return path
