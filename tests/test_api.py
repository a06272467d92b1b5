"""The public API (spinaps.api, docs/api.md): its documented example runs as written, and its
methods refuse bad input with one clear message."""

import re
from pathlib import Path

import numpy as np
import pytest

import spinaps

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


@pytest.mark.cocotb
def test_the_documented_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert blocks, "docs/api.md has no python example"
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), {})
    assert (tmp_path / "build/api_example/verilog/spinaps_accelerator.v").is_file()


def test_predict_and_trace_are_the_golden_model(digits_artifact):
    from spinaps.sw.datasets import load_dataset
    hw = spinaps.load(digits_artifact.path)
    ds = load_dataset("digits")
    trace = hw.trace(ds.x_test[:40])
    assert np.array_equal(hw.predict(ds.x_test[:40]), trace.classes)
    assert len(trace.layer_spikes) == len(hw.manifest["layers"])
    assert trace.layer_potentials[-1].shape == (40, hw.manifest["t_max"], hw.manifest["layers"][-1]["n_out"])
    # Seeds default to the sample index: the whole test split gives the exported accuracy.
    assert np.mean(hw.predict(ds.x_test) == ds.y_test) == pytest.approx(hw.manifest["accuracy"]["golden"])


def test_bad_input_is_refused(digits_artifact):
    hw = spinaps.load(digits_artifact.path)
    with pytest.raises(ValueError, match="samples must have shape"):
        hw.predict(np.zeros((2, 7), dtype=np.uint8))
    with pytest.raises(ValueError, match="target = 'nosuch'"):
        hw.build("nosuch")
    with pytest.raises(ValueError, match="at least one sample"):
        hw.verify(n=0)
    with pytest.raises(ValueError, match="network = 'cnn'"):
        spinaps.train("digits", "cnn")
    with pytest.raises(ValueError, match="^threads = 0"):
        spinaps.train("digits", "glm", threads=0)
    with pytest.raises(TypeError, match="validated artifact"):
        spinaps.HardwareModel({"manifest": {}})
