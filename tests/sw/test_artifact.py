"""The artifact (docs/artifact.md): round trip, one clear error per bad input, atomic writes."""

import json
import os
import zipfile

import numpy as np
import pytest

from spinaps.sw import artifact
from spinaps.sw.artifact import ArtifactError


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def _write_npz(path, manifest, arrays):
    """Write an .npz the way save() does but WITHOUT validation: a hostile or buggy writer."""
    blob = json.dumps(manifest).encode("utf-8") if not isinstance(manifest, bytes) else manifest
    np.savez(path, manifest=np.frombuffer(blob, dtype=np.uint8), **arrays)
    return path


def _load_error(path):
    with pytest.raises(ArtifactError) as info:
        artifact.load(path)
    return str(info.value)


def _save_error(tmp_path, manifest, arrays):
    """Bad input must fail at save() AND, written anyway, at load(), with the same field."""
    target = tmp_path / "model.npz"
    with pytest.raises(ArtifactError) as info:
        artifact.save(target, manifest, arrays)
    assert _files(tmp_path) == [], "a save that fails validation must write nothing"
    from_save = str(info.value)
    assert from_save.startswith(f"{target}: ")
    raw = tmp_path / "raw.npz"
    _write_npz(raw, manifest, arrays)
    from_load = _load_error(raw)
    assert from_load.startswith(f"{raw}: ")
    # The same rule fires on both paths (messages differ only by the file name).
    assert from_load[len(str(raw)):] == from_save[len(str(target)):]
    return from_save


# --------------------------------------------------------------------------------------------
# Round trip


def test_round_trip(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    path = artifact.save(tmp_path / "sub" / "model.npz", manifest, arrays)
    assert path == tmp_path / "sub" / "model.npz"
    assert _files(path.parent) == ["model.npz"]  # no temp file left behind
    loaded = artifact.load(path)
    assert loaded.manifest == manifest
    assert loaded.path == path
    assert sorted(loaded.arrays) == sorted(arrays)
    for key, value in arrays.items():
        assert loaded.arrays[key].dtype == value.dtype, key
        np.testing.assert_array_equal(loaded.arrays[key], value, err_msg=key)
    assert loaded.t_max == 8
    assert loaded.n_inputs == 6 and loaded.n_classes == 3
    assert loaded.layers[0]["basis"] == 2
    assert loaded.format_version == artifact.FORMAT_VERSION
    assert loaded.contract_version == artifact.CONTRACT_VERSION
    assert sorted(loaded.layer_arrays(0)) == ["base_seeds", "basis", "gamma", "scale",
                                              "sigmoid", "weights"]
    np.testing.assert_array_equal(loaded.encoder_seeds, arrays["encoder.base_seeds"])
    with pytest.raises(IndexError):
        loaded.layer_arrays(1)


def test_from_memory_is_validated_like_a_file(tiny_glm_artifact):
    """The in-memory artifact (what an export runs the golden model on) passes every rule of
    save(), returns canonical arrays and copies the manifest as plain JSON."""
    manifest, arrays = tiny_glm_artifact
    built = artifact.from_memory(manifest, {k: v.astype(np.int64) for k, v in arrays.items()})
    assert built.path is None and built.manifest == manifest and built.manifest is not manifest
    assert all(built.arrays[k].dtype == v.dtype for k, v in arrays.items())
    assert built.t_max == 8 and built.n_classes == 3


@pytest.mark.parametrize("change, words", [
    (lambda m: m.update(t_max=300), "<memory>: t_max = 300 is out of range 1..255"),
    (lambda m: m["layers"][0].update(lanes=0), "<memory>: layers[0].lanes = 0 is out of range"),
    (lambda m: m.pop("decision"), "<memory>: decision is missing"),
    (lambda m: m.update(contract_version=99), "<memory>: contract_version = 99 does not match"),
])
def test_from_memory_refuses_a_bad_manifest(tiny_glm_artifact, change, words):
    manifest, arrays = tiny_glm_artifact
    manifest = json.loads(json.dumps(manifest))
    change(manifest)
    with pytest.raises(ArtifactError) as info:
        artifact.from_memory(manifest, arrays)
    assert str(info.value).startswith(words)
    with pytest.raises(ArtifactError, match="manifest must be a dict"):
        artifact.from_memory([manifest], arrays)


def test_round_trip_normalizes_numpy_scalars_and_dtypes(tmp_path, tiny_glm_artifact):
    """An exporter may hand numpy scalars and int64 arrays; the file holds JSON and int16."""
    manifest, arrays = tiny_glm_artifact
    manifest["t_max"] = np.int64(8)
    manifest["accuracy"]["float"] = np.float32(0.5)
    arrays["layer0.weights"] = arrays["layer0.weights"].astype(np.int64)
    loaded = artifact.load(artifact.save(tmp_path / "m.npz", manifest, arrays))
    assert type(loaded.t_max) is int and loaded.t_max == 8
    assert loaded.arrays["layer0.weights"].dtype == np.int16


def test_file_holds_no_pickles(tmp_path, tiny_glm_artifact):
    path = artifact.save(tmp_path / "m.npz", *tiny_glm_artifact)
    with np.load(path, allow_pickle=False) as npz:
        assert npz["manifest"].dtype == np.uint8
        assert json.loads(npz["manifest"].tobytes())["format"] == "spinaps-artifact"


def test_save_overwrites_a_valid_file(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    path = artifact.save(tmp_path / "m.npz", manifest, arrays)
    manifest["t_max"] = 9
    artifact.save(path, manifest, arrays)
    assert artifact.load(path).t_max == 9
    assert _files(tmp_path) == ["m.npz"]


def test_contract_version_is_the_contracts():
    """One CONTRACT_VERSION: artifact and golden re-export spinaps.contract's."""
    from spinaps import contract
    from spinaps.sw import golden

    assert artifact.CONTRACT_VERSION is contract.CONTRACT_VERSION
    assert golden.CONTRACT_VERSION is contract.CONTRACT_VERSION


# --------------------------------------------------------------------------------------------
# Bad files


def test_missing_file(tmp_path):
    message = _load_error(tmp_path / "nope.npz")
    assert "nope.npz: no such file" in message
    assert "spinaps train" in message and "make train" in message


def test_directory_is_not_an_artifact(tmp_path):
    assert "is not a file" in _load_error(tmp_path)


def test_corrupt_file_random_bytes(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    message = _load_error(path)
    assert message.startswith(f"{path}: is not an .npz artifact")


def test_empty_file(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(b"")
    assert "is not an .npz artifact" in _load_error(path)


def test_truncated_zip(tmp_path, tiny_glm_artifact):
    path = artifact.save(tmp_path / "model.npz", *tiny_glm_artifact)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    message = _load_error(path)
    assert message.startswith(f"{path}: is not a readable .npz artifact (BadZipFile")


def test_corrupt_member(tmp_path, tiny_glm_artifact):
    """A zip whose directory is intact but one member's bytes are damaged (bad CRC)."""
    manifest, arrays = tiny_glm_artifact
    path = _write_npz(tmp_path / "model.npz", manifest, arrays)
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("layer0.sigmoid.npy")
    data = bytearray(path.read_bytes())
    # The member's data starts after its 30-byte local header, name and extra field.
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.file_size - 8] ^= 0xFF
    path.write_bytes(bytes(data))
    message = _load_error(path)
    assert "array layer0.sigmoid is corrupt" in message


def test_single_npy_is_not_an_artifact(tmp_path):
    path = tmp_path / "model.npz"
    with open(path, "wb") as f:
        np.save(f, np.zeros(3))
    assert "is not an .npz artifact" in _load_error(path)


def test_npz_without_manifest(tmp_path):
    path = tmp_path / "model.npz"
    np.savez(path, weights=np.zeros(3, dtype=np.int16))
    assert "manifest is missing; this .npz is not a spinaps artifact" in _load_error(path)


def test_manifest_not_json(tmp_path, tiny_glm_artifact):
    _, arrays = tiny_glm_artifact
    path = _write_npz(tmp_path / "model.npz", b"{not json", arrays)
    assert "manifest is not valid JSON" in _load_error(path)


def test_manifest_with_nan_literal(tmp_path, tiny_glm_artifact):
    """Python's json would accept NaN; an artifact must not."""
    manifest, arrays = tiny_glm_artifact
    text = json.dumps(manifest).replace('"u_scale": 0.25', '"u_scale": NaN')
    path = _write_npz(tmp_path / "model.npz", text.encode(), arrays)
    assert "manifest contains NaN" in _load_error(path)


def test_object_array_is_refused_without_unpickling(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    path = tmp_path / "model.npz"
    blob = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
    np.savez(path, manifest=blob, **{**arrays, "layer0.gamma": np.array([{"x": 1}], dtype=object)})
    message = _load_error(path)
    assert "array layer0.gamma is corrupt" in message and "pickle" in message


# --------------------------------------------------------------------------------------------
# Bad manifests: each must name the field.


@pytest.mark.parametrize("version, words", [(3, "newer than this spinaps reads (2): upgrade spinaps"),
                                            (1, "older than this spinaps reads (2): re-export")])
def test_wrong_format_version(tmp_path, tiny_glm_artifact, version, words):
    manifest, arrays = tiny_glm_artifact
    manifest["format_version"] = version
    message = _save_error(tmp_path, manifest, arrays)
    assert f"format_version = {version} is {words}" in message


def test_wrong_format_name(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    manifest["format"] = "something-else"
    assert 'format = "something-else" is not "spinaps-artifact"' in _save_error(
        tmp_path, manifest, arrays)


def test_contract_version_mismatch(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    manifest["contract_version"] = artifact.CONTRACT_VERSION + 1
    message = _save_error(tmp_path, manifest, arrays)
    assert f"contract_version = {artifact.CONTRACT_VERSION + 1} does not match" in message
    assert "docs/semantics.md" in message


def test_t_max_zero(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    manifest["t_max"] = 0
    assert "t_max = 0 is out of range 1..255" in _save_error(tmp_path, manifest, arrays)


def test_t_max_not_integer(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    manifest["t_max"] = 8.0
    assert "t_max = 8.0 must be an integer" in _save_error(tmp_path, manifest, arrays)


def test_lanes_zero(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    manifest["layers"][0]["lanes"] = 0
    message = _save_error(tmp_path, manifest, arrays)
    assert "layers[0].lanes = 0 is out of range 1..3 (1 up to the layer's neurons, n_out)" in message


def test_lanes_above_n_out(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    manifest["layers"][0]["lanes"] = 4
    message = _save_error(tmp_path, manifest, arrays)
    assert "layers[0].lanes = 4 is out of range 1..3 (1 up to the layer's neurons, n_out)" in message


def test_encoder_lanes_above_n_inputs(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    manifest["encoder"]["lanes"] = 7
    message = _save_error(tmp_path, manifest, arrays)
    assert "encoder.lanes = 7 is out of range 1..6 (n_inputs)" in message


def test_unknown_manifest_key(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    manifest["layers"][0]["leak"] = 3
    assert "layers[0].leak is an unknown key" in _save_error(tmp_path, manifest, arrays)


def test_missing_manifest_key(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    del manifest["layers"][0]["tau"]
    assert "layers[0].tau is missing" in _save_error(tmp_path, manifest, arrays)


def test_encoder_n_inputs_differs_from_layer(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    manifest["encoder"]["n_inputs"] = 5
    manifest["encoder"]["lanes"] = 4
    message = _save_error(tmp_path, manifest, arrays)
    assert "layers[0].n_in = 6 differs from encoder.n_inputs = 5" in message


def test_glm_layer_must_be_last(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    manifest["layers"].append(dict(manifest["layers"][0]))
    assert "layers[0] is a glm layer but not the last one" in _save_error(tmp_path, manifest, arrays)


def test_weight_bits_not_allowed(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    manifest["layers"][0]["weight_bits"] = 3
    assert "layers[0].weight_bits = 3 is not one of 1, 2, 4, 8" in _save_error(
        tmp_path, manifest, arrays)


def test_nan_in_manifest(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    manifest["layers"][0]["u_scale"] = float("nan")
    with pytest.raises(ArtifactError, match=r"layers\[0\]\.u_scale = nan cannot be stored"):
        artifact.save(tmp_path / "m.npz", manifest, arrays)
    with pytest.raises(ArtifactError, match=r"layers\[0\]\.u_scale = nan must be finite"):
        artifact.validate(manifest, arrays)
    assert _files(tmp_path) == []


# --------------------------------------------------------------------------------------------
# Bad arrays: each must name the key (and the first bad entry).


def test_weights_shape_mismatch(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    arrays["layer0.weights"] = arrays["layer0.weights"][:, :5]
    message = _save_error(tmp_path, manifest, arrays)
    assert "layer0.weights has shape (3, 5, 2); expected (3, 6, 2)" in message


def test_nan_in_float_array(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    gamma = arrays["layer0.gamma"].astype(np.float32)
    gamma[1] = np.nan
    arrays["layer0.gamma"] = gamma
    message = _save_error(tmp_path, manifest, arrays)
    assert "layer0.gamma[1] is NaN" in message and "float dtype float32" in message


def test_float_array_without_nan(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    arrays["layer0.scale"] = arrays["layer0.scale"].astype(np.float64)
    assert "layer0.scale has float dtype float64" in _save_error(tmp_path, manifest, arrays)


def test_bool_array(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    arrays["layer0.basis"] = arrays["layer0.basis"] > 0
    assert "layer0.basis has dtype bool" in _save_error(tmp_path, manifest, arrays)


def test_weight_even(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    arrays["layer0.weights"][2, 4, 1] = 2
    message = _save_error(tmp_path, manifest, arrays)
    assert "layer0.weights[2, 4, 1] = 2 is even" in message


def test_weight_out_of_range(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    arrays["layer0.weights"][0, 1, 0] = -5
    message = _save_error(tmp_path, manifest, arrays)
    assert "layer0.weights[0, 1, 0] = -5 is out of range -3..3 (weight_bits = 2" in message


def test_basis_row_all_zero(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    arrays["layer0.basis"][1] = 0
    assert "layer0.basis[1] is all zero" in _save_error(tmp_path, manifest, arrays)


def test_basis_out_of_range(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    arrays["layer0.basis"][0, 2] = 4
    message = _save_error(tmp_path, manifest, arrays)
    assert "layer0.basis[0, 2] = 4 is out of range 0..3 (basis_bits = 2)" in message


def test_gamma_out_of_range(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    arrays["layer0.gamma"][2] = 32
    message = _save_error(tmp_path, manifest, arrays)
    assert "layer0.gamma[2] = 32 is out of range -32..31 (u_bits = 6)" in message


def test_scale_negative(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    arrays["layer0.scale"][0] = -1
    assert "layer0.scale[0] = -1 is out of range 0..255" in _save_error(tmp_path, manifest, arrays)


def test_sigmoid_decreasing(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    arrays["layer0.sigmoid"][40] = arrays["layer0.sigmoid"][39] - 1
    message = _save_error(tmp_path, manifest, arrays)
    assert "layer0.sigmoid decreases at index 40" in message


def test_sigmoid_above_16_bits(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    arrays["layer0.sigmoid"][-1] = 65536
    message = _save_error(tmp_path, manifest, arrays)
    assert "layer0.sigmoid[63] = 65536 is out of range 0..65535" in message


def test_sigmoid_wrong_length(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    arrays["layer0.sigmoid"] = arrays["layer0.sigmoid"][:32]
    assert "layer0.sigmoid has shape (32,); expected (64,)" in _save_error(
        tmp_path, manifest, arrays)


@pytest.mark.parametrize("key", ["encoder.base_seeds", "layer0.base_seeds"])
def test_base_seed_with_zero_low_half(tmp_path, tiny_glm_artifact, key):
    manifest, arrays = tiny_glm_artifact
    arrays[key][1] = 0xABCD_0000
    message = _save_error(tmp_path, manifest, arrays)
    assert f"{key}[1] = 0xabcd0000 must be a 32-bit value whose low 16 bits are not all zero" in message


def test_unknown_array_key(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    arrays["layer0.threshold"] = np.zeros(3, dtype=np.int32)
    assert "layer0.threshold is an unknown array" in _save_error(tmp_path, manifest, arrays)


def test_missing_array_key(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    del arrays["layer0.scale"]
    assert "array layer0.scale is missing" in _save_error(tmp_path, manifest, arrays)


def test_manifest_key_is_reserved(tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    arrays["manifest"] = np.zeros(1, dtype=np.uint8)
    with pytest.raises(ArtifactError, match="'manifest' is reserved"):
        artifact.validate(manifest, arrays)


# --------------------------------------------------------------------------------------------
# Atomicity


def test_failed_save_over_existing_file_keeps_it(tmp_path, tiny_glm_artifact):
    manifest, arrays = tiny_glm_artifact
    path = artifact.save(tmp_path / "model.npz", manifest, arrays)
    before = path.read_bytes()
    bad = dict(arrays, **{"layer0.weights": arrays["layer0.weights"] * 2})
    with pytest.raises(ArtifactError, match="layer0.weights"):
        artifact.save(path, manifest, bad)
    assert path.read_bytes() == before
    assert _files(tmp_path) == ["model.npz"]


def test_write_failure_removes_temp_and_keeps_old_file(tmp_path, tiny_glm_artifact, monkeypatch):
    """A failure after validation (disk full, interrupt) mid-write: old file intact, no temp."""
    manifest, arrays = tiny_glm_artifact
    path = artifact.save(tmp_path / "model.npz", manifest, arrays)
    before = path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        artifact.save(path, manifest, arrays)
    assert path.read_bytes() == before
    assert _files(tmp_path) == ["model.npz"]


def test_saved_file_mode_follows_umask(tmp_path, tiny_glm_artifact):
    """The temp file must not leak a 0600 mode into the published artifact."""
    old = os.umask(0o022)
    try:
        path = artifact.save(tmp_path / "model.npz", *tiny_glm_artifact)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
