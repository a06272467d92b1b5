"""Artifacts of LIF and hybrid networks (docs/artifact.md, format version 2): round trip and
every refusal the multi-layer rules add."""

import dataclasses

import numpy as np
import pytest

from spinaps.sim.models import random_network
from spinaps.sw import artifact as art
from spinaps.sw.export import golden_to_artifact
from spinaps.sw.golden import GoldenModel

DATASET = {"name": "digits", "sha256": "0" * 64, "n_train": 1, "n_test": 1}


def _pair(**kw):
    model = random_network(3, **kw)
    return model, *golden_to_artifact(model, dataset=DATASET, accuracy={"golden": 0.5})


def _refused(tmp_path, manifest, arrays):
    with pytest.raises(art.ArtifactError) as info:
        art.save(tmp_path / "m.npz", manifest, arrays)
    assert not (tmp_path / "m.npz").exists()
    return str(info.value)


@pytest.mark.parametrize("output, decision", [("glm", "first_to_spike"), ("lif", "spike_count"),
                                              ("lif", "max_potential"), ("lif", "first_to_spike")])
def test_round_trip_runs_identically(tmp_path, output, decision):
    model, manifest, arrays = _pair(sizes=(12, 8, 6, 4), output=output, decision=decision, frames=2)
    loaded = GoldenModel.from_artifact(art.load(art.save(tmp_path / "m.npz", manifest, arrays)))
    x = np.random.default_rng(0).integers(0, 256, (9, 24))
    a, b = model.run(x, np.arange(9)), loaded.run(x, np.arange(9))
    assert np.array_equal(a.cls, b.cls) and np.array_equal(a.events, b.events)
    assert all(np.array_equal(p, q) for p, q in zip(a.layer_spikes, b.layer_spikes))
    assert loaded.decision == decision and loaded.frames == 2


def test_layer_sizes_must_chain(tmp_path):
    _, manifest, arrays = _pair(sizes=(12, 8, 5))
    manifest["layers"][1]["n_in"] = 7
    assert "layers[1].n_in = 7 differs from layers[0].n_out = 8" in _refused(tmp_path, manifest, arrays)


@pytest.mark.parametrize("key, value, words", [
    ("v_bits", 5, "layers[0].v_bits = 5 is out of range 6..24"),
    ("v_bits", 25, "layers[0].v_bits = 25 is out of range 6..24"),
    ("weight_bits", 3, "layers[0].weight_bits = 3 is not one of 1, 2, 4, 8"),
    ("leak_shift", 16, "layers[0].leak_shift = 16 is out of range 0..15"),
    ("refractory", -1, "layers[0].refractory = -1 is out of range 0..15"),
    ("reset", "half", "layers[0].reset = 'half' is not one of 'subtract', 'zero'"),
    ("lanes", 0, "layers[0].lanes = 0 is out of range 1..8 (1 up to the layer's neurons, n_out)"),
])
def test_lif_fields_out_of_range(tmp_path, key, value, words):
    _, manifest, arrays = _pair(sizes=(12, 8, 5))
    manifest["layers"][0][key] = value
    assert words in _refused(tmp_path, manifest, arrays)


def test_threshold_that_can_never_be_reached(tmp_path):
    _, manifest, arrays = _pair(sizes=(12, 8, 5))
    w = np.ones_like(arrays["layer0.weights"])                  # drive 12 per step
    w[3, :6] = 3                                                # neuron 3: drive 24, the closest
    manifest["layers"][0]["leak_shift"] = 1                     # leak caps v near 2 * drive
    arrays = {**arrays, "layer0.weights": w, "layer0.bias": np.zeros(8, np.int32),
              "layer0.threshold": np.full(8, 127, np.int32)}
    message = _refused(tmp_path, manifest, arrays)
    assert "layer0.threshold can never be reached by any neuron" in message
    assert "neuron 3 (threshold 127) reaches at most 48" in message
    arrays["layer0.threshold"] = np.array([127, 127, 127, 47, 127, 127, 127, 127], np.int32)
    art.save(tmp_path / "ok.npz", manifest, arrays)             # one neuron can fire: accepted


def test_threshold_range_and_decision_rules(tmp_path):
    _, manifest, arrays = _pair(sizes=(12, 8, 5))
    bad = arrays["layer0.threshold"].copy()
    bad[0] = 0
    assert "layer0.threshold" in _refused(tmp_path, manifest, {**arrays, "layer0.threshold": bad})
    manifest["decision"] = "spike_count"
    assert "decision = 'spike_count' needs a lif output layer" in _refused(tmp_path, manifest, arrays)
    manifest["decision"] = "vote"
    assert "decision = 'vote' is not one of" in _refused(tmp_path, manifest, arrays)


def test_frames_out_of_range(tmp_path):
    _, manifest, arrays = _pair(sizes=(12, 8, 5))
    manifest["encoder"]["frames"] = 0
    assert "encoder.frames = 0 is out of range 1..255" in _refused(tmp_path, manifest, arrays)


def test_largest_potential_is_the_documented_bound():
    """spinaps.contract.largest_potential: from v = 0, every positive weight's input spiking at
    every step, bias included, leak and saturation applied, never firing."""
    from spinaps.contract import largest_potential

    w = np.array([[3, -2, 1], [20, 20, -1], [1, -9, 1]])
    bias = np.array([-1, 0, -7])
    # Row 0: drive 3 + 1 - 1 = 3; leak v >> 1: 3, 5, 6, 6 -> 6. Row 1: 40 per step, clamped
    # at 31 (v_bits = 6). Row 2: drive -5, so the potential only falls: its best is step 1.
    np.testing.assert_array_equal(largest_potential(w, bias, v_bits=6, leak_shift=1, t_max=4),
                                  [6, 31, -5])
    np.testing.assert_array_equal(largest_potential(w, bias, v_bits=6, leak_shift=0, t_max=4),
                                  [12, 31, -5])
