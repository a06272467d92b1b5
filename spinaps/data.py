"""Data for the flow and the CLI: a built-in data set's name, a data file or a Dataset, and the
check that a model meets the data it was trained on (docs/data.md). Thin names over
:mod:`spinaps.sw.datasets`, so the flow, the API and the CLI resolve data one way."""

from __future__ import annotations

from spinaps.sw.datasets import Dataset, dataset_for_model, load_data

__all__ = ["load_data", "data_for", "as_dataset"]


def data_for(artifact, data=None) -> Dataset:
    """The data set to run ``artifact`` on: ``data`` (a Dataset, a built-in name or a file),
    by default the built-in data set the model names; checked to be the data it was trained
    on (a model trained on a file needs that file)."""
    return dataset_for_model(artifact.manifest["dataset"], data,
                             model=str(artifact.path) if artifact.path else "the model")


def as_dataset(data) -> Dataset:
    """``data`` as a Dataset: itself, or loaded by name or file."""
    return data if isinstance(data, Dataset) else load_data(data)
