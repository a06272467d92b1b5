"""`spinaps import` and `spinaps export-nir`: a spinaps LIF artifact goes to NIR and back
through the CLI to the same integer model, and bad input is refused before any work."""

import numpy as np
import pytest

from spinaps.cli import main
from spinaps.sw import artifact as art


def test_export_then_import_gives_the_same_model(digits_lif_artifact, tmp_path, capsys):
    graph = tmp_path / "net.nir"
    assert main(["export-nir", "--model", str(digits_lif_artifact.path), "--out", str(graph)]) == 0
    out = tmp_path / "back.npz"
    assert main(["import", str(graph), "--dt", "1e-4", "--data", "digits", "--out", str(out),
                 "--threads", "1"]) == 0
    assert "golden accuracy" in capsys.readouterr().out
    a, b = digits_lif_artifact, art.load(out)
    assert a.decision == b.decision and a.t_max == b.t_max
    for key in a.arrays:
        if key.startswith("layer"):
            assert np.array_equal(a.arrays[key], b.arrays[key]), key


@pytest.mark.parametrize("argv, message", [
    (["import", "missing.nir", "--dt", "1e-4", "--data", "digits"], "MODEL.nir"),
    (["export-nir", "--model", "missing.npz"], "--model"),
])
def test_bad_input_is_one_message(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_import_needs_data_and_a_positive_dt(digits_lif_artifact, tmp_path, capsys):
    graph = tmp_path / "net.nir"
    assert main(["export-nir", "--model", str(digits_lif_artifact.path), "--out", str(graph)]) == 0
    assert main(["import", str(graph), "--dt", "0", "--data", "digits", "--out", str(tmp_path / "x.npz")]) == 2
    assert "--dt" in capsys.readouterr().err
    assert main(["import", str(graph), "--dt", "1e-4", "--out", str(tmp_path / "x.npz")]) == 2
    assert "--data" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


def test_import_with_the_deterministic_encoder(digits_lif_artifact, tmp_path):
    graph = tmp_path / "net.nir"
    assert main(["export-nir", "--model", str(digits_lif_artifact.path), "--out", str(graph)]) == 0
    out = tmp_path / "det.npz"
    assert main(["import", str(graph), "--dt", "1e-4", "--data", "digits", "--encoder", "deterministic",
                 "--out", str(out), "--threads", "1"]) == 0
    a = art.load(out)
    assert a.manifest["encoder"]["type"] == "deterministic" and "encoder.base_seeds" not in a.arrays
