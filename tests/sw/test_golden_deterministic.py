"""The deterministic accumulate-and-fire encoder (docs/semantics.md 3.2): the golden model's
closed form against the per-step rule, its properties, the golden model's encoder fields,
and the artifact with ``encoder.type = "deterministic"`` (round trip, refusals)."""

import dataclasses
import io
import json

import numpy as np
import pytest

from spinaps import contract
from spinaps.sim.models import random_network
from spinaps.sw import artifact, golden
from spinaps.sw.export import golden_to_artifact

DATASET = {"name": "random", "sha256": "0" * 64, "n_train": 0, "n_test": 0}


def step_by_step(x, t_max, frames):
    """The rule of section 3.2 written as the loop a third implementation would write."""
    b, n = x.shape[0], x.shape[1] // frames
    x = x.reshape(b, frames, n).astype(np.int64)
    acc = np.full((b, n), contract.ENCODER_PHASE, dtype=np.int64)
    out = np.zeros((b, t_max, n), dtype=bool)
    for t in range(1, t_max + 1):
        spike, acc = contract.accumulate_fire(acc, x[:, min(t, frames) - 1])
        assert ((acc >= 0) & (acc <= 255)).all() and ((spike == 0) | (spike == 1)).all()
        out[:, t - 1] = spike == 1
    return out


@pytest.mark.parametrize("t_max,frames", [(1, 1), (17, 1), (255, 1), (20, 3), (6, 9)])
def test_closed_form_equals_the_step_rule(t_max, frames):
    rng = np.random.default_rng(t_max * 10 + frames)
    x = rng.integers(0, 256, (5, frames * 11))
    x[0] = 255
    x[1] = 0
    got = golden.encode_deterministic(x, t_max, frames).numpy()
    np.testing.assert_array_equal(got, step_by_step(x, t_max, frames))


def test_rates_and_phase():
    x = np.array([[0, 1, 127, 128, 255]])
    s = golden.encode_deterministic(x, 255).numpy()[0]               # [T, 5]
    t = np.arange(1, 256)[:, None]
    # The count after t steps is t*x/256 rounded, halves up.
    np.testing.assert_array_equal(s.cumsum(axis=0), (2 * t * x + 256) // 512)
    assert not s[:, 0].any()                                          # x = 0 never spikes
    assert np.flatnonzero(s[:, 1]).tolist() == [127]                  # x = 1: first at step 128
    assert s[0].tolist() == [False, False, False, True, True]         # x >= 128 spikes at step 1
    assert np.flatnonzero(~s[:, 4]).tolist() == [128]                 # x = 255 misses step 129 only


def test_seeds_change_nothing_and_lanes_change_no_value():
    base = random_network(3, sizes=(12, 8, 5), output="glm", t_max=10)
    rng = np.random.default_rng(0)
    xs = rng.integers(0, 256, (16, 12))
    seeds = rng.integers(0, 65536, 16)
    runs = [dataclasses.replace(base, encoder_type="deterministic", encoder_base_seeds=None, encoder_lanes=g)
            .run(xs, seeds) for g in (1, 5, 12)]
    for other in runs[1:]:
        np.testing.assert_array_equal(other.input_spikes, runs[0].input_spikes)
        np.testing.assert_array_equal(other.cls, runs[0].cls)
        np.testing.assert_array_equal(other.events, runs[0].events)
    x1 = golden.encode("deterministic", xs, seeds, [], 10)
    x2 = golden.encode("deterministic", xs, seeds[::-1].copy(), [], 10)
    assert bool((x1 == x2).all())


@pytest.mark.parametrize("kw,match", [
    (dict(encoder_base_seeds=np.array([1, 2], dtype=np.uint32), encoder_lanes=2), "draws nothing"),
    (dict(encoder_base_seeds=None, encoder_lanes=None), "encoder_lanes: a deterministic encoder needs"),
    (dict(encoder_base_seeds=None, encoder_lanes=13), "encoder_lanes = 13 is out of range 1..12"),
    (dict(encoder_base_seeds=None, encoder_lanes=2, encoder_type="poisson"), "encoder.type"),
])
def test_golden_model_checks_its_encoder(kw, match):
    base = random_network(3, sizes=(12, 8, 5))
    with pytest.raises(contract.ContractError, match=match):
        dataclasses.replace(base, **{"encoder_type": "deterministic", **kw})


def _deterministic_model(output, decision):
    base = random_network(5, sizes=(10, 6, 4), output=output, decision=decision, t_max=9, frames=2)
    return dataclasses.replace(base, encoder_type="deterministic", encoder_base_seeds=None, encoder_lanes=3)


@pytest.mark.parametrize("output,decision", [("glm", "first_to_spike"), ("lif", "spike_count")])
def test_artifact_round_trip(tmp_path, output, decision):
    model = _deterministic_model(output, decision)
    manifest, arrays = golden_to_artifact(model, dataset=DATASET)
    assert manifest["encoder"] == {"type": "deterministic", "n_inputs": 10, "lanes": 3, "frames": 2}
    assert "encoder.base_seeds" not in arrays
    loaded = artifact.load(artifact.save(tmp_path / "m.npz", manifest, arrays))
    assert loaded.encoder_type == "deterministic" and loaded.encoder_seeds.size == 0
    again = golden.GoldenModel.from_artifact(loaded)
    assert (again.encoder_type, again.encoder_lanes, again.frames) == ("deterministic", 3, 2)
    rng = np.random.default_rng(1)
    xs = rng.integers(0, 256, (8, model.sample_size))
    seeds = np.arange(8)
    a, b = model.run(xs, seeds), again.run(xs, seeds)
    for key in ("cls", "step", "decided", "events", "sops", "input_spikes"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))


def test_deterministic_artifact_with_encoder_seeds_is_refused():
    manifest, arrays = golden_to_artifact(_deterministic_model("glm", "first_to_spike"), dataset=DATASET)
    arrays["encoder.base_seeds"] = np.array([1, 2, 3], dtype=np.uint32)
    with pytest.raises(artifact.ArtifactError, match=r"encoder.base_seeds is not allowed with "
                                                     r"encoder.type = \"deterministic\""):
        artifact.from_memory(manifest, arrays)


def test_bernoulli_artifact_still_needs_encoder_seeds(tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    del arrays["encoder.base_seeds"]
    with pytest.raises(artifact.ArtifactError, match="array encoder.base_seeds is missing"):
        artifact.from_memory(manifest, arrays)


def test_contract_version_2_artifact_is_refused_with_re_export(tmp_path, tiny_glm_artifact):
    """A file written for contract version 2 (before section 3.2) loads no more: the message
    names the version and says to export again."""
    manifest, arrays = tiny_glm_artifact
    manifest["contract_version"] = 2
    path = tmp_path / "v2.npz"
    buffer = io.BytesIO()
    np.savez_compressed(buffer, manifest=np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8), **arrays)
    path.write_bytes(buffer.getvalue())
    with pytest.raises(artifact.ArtifactError) as e:
        artifact.load(path)
    message = str(e.value)
    assert str(path) in message and "contract_version = 2" in message
    assert f"CONTRACT_VERSION = {contract.CONTRACT_VERSION}" in message and "re-export" in message
