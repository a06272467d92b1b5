"""fashion (Debian IDX files) and motions (aeon's BasicMotions .ts files): shapes, frames and
clear errors for a missing package or a damaged file."""

import gzip
import shutil

import numpy as np
import pytest

from spinaps.sw import builtin_data
from spinaps.sw.builtin_data import read_idx, read_ts
from spinaps.sw.datasets import DatasetError, load_dataset


def test_motions_frames_and_split():
    ds = load_dataset("motions")
    assert ds.frames == 50 and ds.n_in == 12 and ds.n_classes == 4
    assert ds.x_train.shape == (40, 600) and ds.x_test.shape == (40, 600)
    assert np.bincount(ds.y_train).tolist() == [10, 10, 10, 10]
    assert 0 < ds.x_train.mean() < 255


def test_fashion_shapes():
    """Needs the Debian package dataset-fashion-mnist, which `make setup` installs."""
    ds = load_dataset("fashion")
    assert ds.x_train.shape == (60000, 784) and ds.x_test.shape == (10000, 784) and ds.n_classes == 10


def test_fashion_missing_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(builtin_data, "FASHION_DIR", tmp_path / "nowhere")
    with pytest.raises(DatasetError, match="apt-get install dataset-fashion-mnist"):
        load_dataset("fashion")


def _idx(path, shape):
    header = bytes([0, 0, 8, len(shape)]) + b"".join(n.to_bytes(4, "big") for n in shape)
    data = np.arange(int(np.prod(shape)), dtype=np.uint8).tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + data)
    return header + data


def test_idx_reader_and_truncated_file(tmp_path):
    raw = _idx(tmp_path / "ok.gz", (3, 2, 2))
    assert read_idx(tmp_path / "ok.gz").shape == (3, 2, 2)
    with gzip.open(tmp_path / "short.gz", "wb") as f:
        f.write(raw[:-5])
    with pytest.raises(DatasetError, match="short.gz.*truncated"):
        read_idx(tmp_path / "short.gz")
    (tmp_path / "cut.gz").write_bytes((tmp_path / "ok.gz").read_bytes()[:20])   # a cut gzip stream
    with pytest.raises(DatasetError, match="cut.gz"):
        read_idx(tmp_path / "cut.gz")


def test_ts_reader_refuses_a_truncated_file(tmp_path):
    import importlib.util
    folder = importlib.util.find_spec("aeon").submodule_search_locations[0]
    src = f"{folder}/datasets/data/BasicMotions/BasicMotions_TEST.ts"
    values, labels = read_ts(shutil.copy(src, tmp_path / "ok.ts") and tmp_path / "ok.ts")
    assert values.shape == (40, 6, 100) and len(set(labels)) == 4
    text = (tmp_path / "ok.ts").read_text()
    (tmp_path / "cut.ts").write_text(text[: len(text) - 3000])           # last line cut short
    with pytest.raises(DatasetError, match="cut.ts"):
        read_ts(tmp_path / "cut.ts")
    (tmp_path / "nodata.ts").write_text(text[:200])
    with pytest.raises(DatasetError, match="no @data"):
        read_ts(tmp_path / "nodata.ts")
