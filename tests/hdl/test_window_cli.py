"""`spinaps verilog --window/--adders`: the schedule reaches the generator, bad ones fail
with one message naming the option, nothing written."""

import json

import pytest

from spinaps.cli import main
from spinaps.sw import artifact as art


def test_verilog_with_a_window_schedule(tmp_path, tiny_glm_artifact, capsys):
    model = art.save(tmp_path / "tiny.npz", *tiny_glm_artifact)
    assert main(["verilog", "--model", str(model), "--out", str(tmp_path / "v"), "--window", "4",
                 "--adders", "2"]) == 0
    meta = json.loads((tmp_path / "v" / "spinaps_accelerator.json").read_text())
    assert meta["schedule"] == [{"window": 4, "adders": 2}]
    assert "reads" in meta["streams"]["result"] and "discarded_sops" in meta["streams"]["result"]


@pytest.mark.parametrize("argv, words", [
    (["--window", "3"], ["--window", "window"]),
    (["--window", "2", "--adders", "4"], ["--adders", "adders"]),
    (["--window", "2,2"], ["--window", "2 values for 1 layers"]),
    (["--window", "x"], ["--window", "whole number"]),
])
def test_bad_window_schedules_are_one_clean_error(tmp_path, tiny_glm_artifact, capsys, argv, words):
    model = art.save(tmp_path / "tiny.npz", *tiny_glm_artifact)
    assert main(["verilog", "--model", str(model), "--out", str(tmp_path / "v")] + argv) == 2
    _, err = capsys.readouterr()
    assert "Traceback" not in err and err.count("error:") == 1, err
    for word in words:
        assert word in err, (word, err)
    assert not (tmp_path / "v").exists() or not any((tmp_path / "v").iterdir())
