"""Fixtures of the synthesis tier."""

import pytest


@pytest.fixture(scope="session")
def digits_small_artifact(tmp_path_factory):
    """The digits GLM model exported with 2 lanes and 4 encoder lanes (fits the UP5K), as a
    path: the smallest digits model the tests build (as tests/boards/test_bitstreams.py's)."""
    from spinaps.flow import train_and_export
    from spinaps.sw.train import GlmTrainConfig

    path = tmp_path_factory.mktemp("digits_small") / "digits.npz"
    cfg = GlmTrainConfig(weight_bits=4, epochs=8, ann_baseline=False, eval_repeats=1)
    train_and_export("digits", path, config=cfg, encoder_lanes=4, lanes=2, progress=False, checkpoint=False)
    return path
