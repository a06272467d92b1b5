"""load_data on your own files (.npz and .csv, docs/data.md): the same data set as
Dataset.from_arrays, named by the file's stem, and one message naming the file per problem."""

import numpy as np
import pytest

from spinaps.sw.datasets import Dataset, DatasetError, load_data


def _arrays():
    rng = np.random.default_rng(3)
    x_train, x_test = rng.uniform(-2, 9, (10, 4)), rng.uniform(-2, 9, (5, 4))
    return x_train, np.arange(10) % 2, x_test, np.arange(5) % 2


def test_npz_is_the_same_data_set_as_the_arrays(tmp_path):
    x_train, y_train, x_test, y_test = _arrays()
    np.savez(tmp_path / "sensor.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    ds = load_data(tmp_path / "sensor.npz")
    ref = Dataset.from_arrays(x_train, y_train, x_test, y_test, name="sensor")
    assert ds.name == "sensor" and ds.sha256 == ref.sha256 and ds.scaling == ref.scaling
    assert np.array_equal(ds.x_test, ref.x_test)
    assert load_data(str(tmp_path / "sensor.npz"), scale="global").scaling["method"] == "global"


def test_npz_time_series_with_frames(tmp_path):
    x_train, y_train, x_test, y_test = _arrays()
    np.savez(tmp_path / "ts.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
             frames=2)
    ds = load_data(tmp_path / "ts.npz")
    assert ds.frames == 2 and ds.n_in == 2
    with pytest.raises(DatasetError, match=r"ts.npz: holds frames = 2, but frames = 4 was given"):
        load_data(tmp_path / "ts.npz", frames=4)


def test_csv_with_a_split_column(tmp_path):
    x_train, y_train, x_test, y_test = _arrays()
    lines = ["f0,label,f1,split,f2,f3"]
    for x, y, split in [(x_train, y_train, "train"), (x_test, y_test, "test")]:
        for row, label in zip(x, y):
            r = [repr(float(v)) for v in row]
            lines.append(f"{r[0]},{label},{r[1]},{split},{r[2]},{r[3]}")
    lines.insert(4, "")                                                  # blank lines are skipped
    (tmp_path / "table.csv").write_text("\n".join(lines) + "\n")
    ds = load_data(tmp_path / "table.csv")
    ref = Dataset.from_arrays(x_train, y_train, x_test, y_test, name="table")
    assert ds.name == "table" and ds.sha256 == ref.sha256 and ds.scaling == ref.scaling


@pytest.mark.parametrize("text,message", [
    ("a,b\n1,2\n", r"bad.csv: the header row must name one column 'label'"),
    ("label,split,a\n0,train,1\n1,valid,2\n", r"bad.csv: line 3: split = 'valid' is not train or test"),
    ("label,split,a\n0,train,x\n", r"bad.csv: line 2: could not convert string to float: 'x'"),
    ("label,split,a\n0.5,train,1\n", r"bad.csv: line 2: .*labels are integers"),
    ("label,split,a\n0,train,1,2\n", r"bad.csv: line 2 has 4 values, the header 3"),
    ("", r"bad.csv: is empty"),
    ("label,split,a\n0,train,1\n1,train,2\n0,test,1\n", r"bad.csv: x_test has 1 sample\(s\)"),
])
def test_bad_csv(tmp_path, text, message):
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(DatasetError, match=message):
        load_data(tmp_path / "bad.csv")


def test_bad_npz_files(tmp_path):
    x_train, y_train, x_test, y_test = _arrays()
    np.savez(tmp_path / "nokey.npz", x_train=x_train, y_train=y_train, x_test=x_test)
    with pytest.raises(DatasetError, match=r"nokey.npz: has no key y_test \(keys: x_train, y_train, "
                                           r"x_test\); a data .npz holds x_train, y_train"):
        load_data(tmp_path / "nokey.npz")
    np.savez(tmp_path / "extra.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
             x_val=x_test)
    with pytest.raises(DatasetError, match=r"extra.npz: has unknown key\(s\) x_val"):
        load_data(tmp_path / "extra.npz")
    np.savez(tmp_path / "nan.npz", x_train=np.where(x_train > 8, np.nan, x_train), y_train=y_train,
             x_test=x_test, y_test=y_test)
    first = tuple(int(i) for i in np.argwhere(x_train > 8)[0])
    with pytest.raises(DatasetError, match=rf"nan.npz: x_train\[{first[0]}, {first[1]}\] is NaN"):
        load_data(tmp_path / "nan.npz")
    np.savez(tmp_path / "obj.npz", x_train=np.array([[1], "a"], dtype=object), y_train=y_train,
             x_test=x_test, y_test=y_test)
    with pytest.raises(DatasetError, match=r"obj.npz: cannot be read as numeric arrays"):
        load_data(tmp_path / "obj.npz")
    np.save(tmp_path / "one.npy", x_train)
    (tmp_path / "one.npy").rename(tmp_path / "one.npz")
    with pytest.raises(DatasetError, match=r"one.npz: holds one array \(a .npy file\)"):
        load_data(tmp_path / "one.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(DatasetError, match=r"text.npz: cannot be read"):
        load_data(tmp_path / "text.npz")
    np.savez(tmp_path / "frames.npz", x_train=x_train, y_train=y_train, x_test=x_test,
             y_test=y_test, frames=np.array([1.5]))
    with pytest.raises(DatasetError, match=r"frames.npz: frames = .* must be one integer"):
        load_data(tmp_path / "frames.npz")


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(DatasetError, match=r"nosuch.npz: no such file; check the path"):
        load_data(tmp_path / "nosuch.npz")
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(DatasetError, match=r"folder.csv: is not a file"):
        load_data(tmp_path / "folder.csv")
    (tmp_path / "data.npy").write_bytes(b"")
    with pytest.raises(DatasetError, match=r"data.npy: is neither .npz nor .csv; save the four "
                                           r"arrays with np.savez"):
        load_data(tmp_path / "data.npy")
    with pytest.raises(DatasetError, match=r"data = 3: give a built-in data set"):
        load_data(3)
