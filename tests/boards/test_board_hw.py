"""Against a real board (marker `board`, never in the default selection): the client on the
serial port classifies test samples exactly like the golden model.

    SPINAPS_BOARD=icebreaker SPINAPS_PORT=/dev/ttyUSB1 SPINAPS_MODEL=build/model/digits_l2_e4.npz \\
        .venv/bin/python -m pytest -m board tests/boards/test_board_hw.py
after `make bitstream prog BOARD=icebreaker MODEL=...`."""

import os

import pytest

from spinaps.boards.client import run_on_port
from spinaps.sw import artifact as art
from spinaps.sw.datasets import load_dataset
from spinaps.flow import sample_seeds
from spinaps.sw.golden import GoldenModel

pytestmark = pytest.mark.board


def test_board_answers_equal_golden():
    port = os.environ["SPINAPS_PORT"]            # a KeyError names what to set
    artifact = art.load(os.environ.get("SPINAPS_MODEL", "build/model/digits.npz"))
    ds = load_dataset(artifact.manifest["dataset"]["name"])
    n = 100
    rep = run_on_port(GoldenModel.from_artifact(artifact), port, int(os.environ.get("SPINAPS_BAUD", 115200)),
                      ds.x_test[:n], sample_seeds(n), ds.y_test[:n], progress=False)
    assert rep.n == n and rep.mismatches == []
