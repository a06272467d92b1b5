"""The CLI answers bad input with one message and a non-zero exit code, no traceback."""

import numpy as np
import pytest

from spinaps.sw import artifact as art
from spinaps.cli import main


def test_missing_model_names_the_file(tmp_path, capsys):
    missing = tmp_path / "nope.npz"
    assert main(["verilog", "--model", str(missing), "--out", str(tmp_path / "v")]) == 2
    err = capsys.readouterr().err
    assert "nope.npz" in err and "Traceback" not in err
    assert not (tmp_path / "v").exists()


def test_corrupt_model(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip at all")
    assert main(["report", "--model", str(bad)]) == 2
    assert "bad.npz" in capsys.readouterr().err


def test_unknown_dataset(tmp_path, capsys):
    assert main(["train", "--dataset", "imagenet", "--out", str(tmp_path / "m.npz")]) == 2
    err = capsys.readouterr().err
    assert "imagenet" in err and "digits" in err
    assert not (tmp_path / "m.npz").exists()


def test_verilog_from_a_valid_artifact(tmp_path, tiny_glm_artifact, capsys):
    manifest, arrays = tiny_glm_artifact
    path = art.save(tmp_path / "tiny.npz", manifest, arrays)
    assert main(["verilog", "--model", str(path), "--out", str(tmp_path / "v")]) == 0
    v = (tmp_path / "v" / "spinaps_accelerator.v").read_text()
    assert "module spinaps_accelerator" in v
    assert (tmp_path / "v" / "spinaps_accelerator.json").exists()


def test_wrong_version_is_refused_by_every_command(tmp_path, tiny_glm_artifact, capsys):
    manifest, arrays = tiny_glm_artifact
    path = art.save(tmp_path / "tiny.npz", manifest, arrays)
    import json, zipfile
    with np.load(path) as z:
        data = {k: z[k] for k in z.files}
    m = json.loads(bytes(data["manifest"]).decode())
    m["format_version"] = 99
    data["manifest"] = np.frombuffer(json.dumps(m).encode(), dtype=np.uint8)
    np.savez(tmp_path / "v2.npz", **data)
    for cmd in (["verilog", "--out", str(tmp_path / "o")], ["report"], ["verify", "-n", "1"]):
        assert main([cmd[0], "--model", str(tmp_path / "v2.npz"), *cmd[1:]]) == 2
        assert "format_version" in capsys.readouterr().err


def test_export_without_checkpoint(tmp_path, capsys):
    assert main(["export", "--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path / "m.npz")]) == 2
    err = capsys.readouterr().err
    assert "none.pt" in err and "spinaps train" in err
    assert not (tmp_path / "m.npz").exists()
