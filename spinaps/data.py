"""Data for the flow and the CLI: a built-in data set's name or a data file, and the check that
a model meets the data it was trained on.

An adapter over :mod:`spinaps.sw.datasets`: with its ``load_data`` and ``check_dataset_matches``
(issue 13, item 2) it uses them; without them only built-in names load and a model meets
data through the data's hash.
"""

from __future__ import annotations

__all__ = ["load_data", "check_matches", "data_for", "as_dataset"]


def load_data(spec):
    """A :class:`~spinaps.sw.datasets.Dataset` from a built-in name or an .npz / .csv path."""
    from spinaps.sw import datasets

    if hasattr(datasets, "load_data"):
        return datasets.load_data(spec)
    return datasets.load_dataset(str(spec))


def check_matches(record, ds):
    """Raise a DatasetError when ``ds`` is not the data an artifact's ``dataset`` record names."""
    from spinaps.sw import datasets

    if hasattr(datasets, "check_dataset_matches"):
        return datasets.check_dataset_matches(record, ds)
    if ds.sha256 != record.get("sha256", ds.sha256):
        raise datasets.DatasetError(
            f"the data ({ds.name}) is not the data set the model was trained on ({record.get('name')}): "
            "give the model's data with --data, or re-train on this data (`spinaps train --data ...`)")
    return None


def data_for(artifact, data=None):
    """The data set to run ``artifact`` on: ``data`` (a Dataset, a built-in name or a file),
    default the artifact's own built-in data set; checked to be the data it was trained on."""
    from spinaps.sw.datasets import DATASETS, Dataset, DatasetError

    record = artifact.manifest["dataset"]
    if data is None and record["name"] not in DATASETS:
        raise DatasetError(f"{artifact.path}: the model was trained on {record['name']!r}, which is not a built-in "
                           "data set: give its data file with --data FILE")
    ds = data if isinstance(data, Dataset) else load_data(record["name"] if data is None else data)
    check_matches(record, ds)
    return ds


def as_dataset(data):
    """``data`` as a Dataset: itself, or loaded by name or file."""
    from spinaps.sw.datasets import Dataset
    return data if isinstance(data, Dataset) else load_data(data)
