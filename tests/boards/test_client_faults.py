"""The host client on a faulty line: it times out, resends, never returns a wrong or stale
result, and when it gives up says in one message what went wrong on every attempt.

The device side is the pure-Python protocol model of tests/boards/fake_board.py (the real
board core is abused in tests/boards/test_board_abuse.py); answers come from the golden
model. The CLI test runs `spinaps run` on a pty, through pyserial, as on a real port."""

import asyncio

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fake_board import FakeBoard, FaultyLine, PtyBoard
from spinaps.boards import protocol as p
from spinaps.boards.client import BoardError, BoardLink, BoardTimeout, ErrorFrame, compare_answers
from spinaps.cli import main
from spinaps.sw.artifact import load, save
from spinaps.sw.golden import GoldenModel


def _answers(model, xs, seeds):
    """``answer(seed, x)`` for a FakeBoard: the golden model's result of that sample."""
    gold = model.run(np.asarray(xs), np.asarray(seeds))
    table = {(int(s), tuple(int(v) for v in x)): i for i, (s, x) in enumerate(zip(seeds, xs))}
    n_layers = len(model.layers)

    def answer(seed, x):
        i = table[(seed, tuple(x))]
        return {"cls": int(gold.cls[i]), "step": int(gold.step[i]), "decided": int(gold.decided[i]),
                "cycles": 100 + i, "events": gold.events[i].tolist(), "sops": gold.sops[i].tolist(),
                "busy": [1] * n_layers}
    return answer, gold


@pytest.fixture
def tiny(tiny_glm_artifact, tmp_path):
    manifest, arrays = tiny_glm_artifact
    path = save(tmp_path / "tiny.npz", manifest, arrays)
    model = GoldenModel.from_artifact(load(path))
    rng = np.random.default_rng(5)
    xs = rng.integers(0, 256, size=(4, model.frames * model.n_in))
    seeds = [11, 12, 13, 14]
    answer, gold = _answers(model, xs, seeds)
    info = p.model_info(model, word_width=4, weights_writable=True, timeout_bits=64)
    return model, xs, seeds, answer, gold, info


async def _session(link, model, xs, seeds):
    await link.check_model(model)
    return [await link.classify(int(s), x) for s, x in zip(seeds, xs)]


_noise = st.binary(min_size=1, max_size=6).map(lambda b: bytes(v if v != p.SYNC else 0 for v in b))
_fault = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 40), st.integers(0, 7)),
    st.tuples(st.just("drop"), st.integers(0, 40)),
    st.tuples(st.just("cut"), st.integers(0, 40)),
    st.tuples(st.just("noise"), _noise),
    st.just(("silence",)),
)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(to_board=st.dictionaries(st.integers(0, 14), _fault, max_size=6),
       to_host=st.dictionaries(st.integers(0, 14), _fault, max_size=6),
       retries=st.integers(0, 3))
def test_client_on_a_faulty_line(tiny, to_board, to_host, retries):
    model, xs, seeds, answer, gold, info = tiny
    line = FaultyLine(FakeBoard(info, answer), to_board=to_board, to_host=to_host)
    link = BoardLink(line, retries=retries)
    try:
        answers = asyncio.run(_session(link, model, xs, seeds))
    except (BoardError, p.ProtocolError) as e:
        # Given up only after retries + 1 attempts in a row that were each hit by a fault
        # (noise in front of a request is skipped by the board: not a fault).
        attempts = range(line.writes - 1 - retries, line.writes)
        hit = [w in to_host or (w in to_board and to_board[w][0] != "noise") for w in attempts]
        assert all(hit), f"gave up ({e}) although attempt(s) {[w for w, h in zip(attempts, hit) if not h]} were clean"
        assert "\n" not in str(e)
        if retries:
            assert f"after {retries + 1} attempts" in str(e) and "attempt 1: " in str(e)
        return
    assert compare_answers(gold, answers) == []
    assert link.resends <= retries * (len(seeds) + 1)


def test_a_late_result_is_never_taken_for_the_next_sample(tiny):
    model, xs, seeds, answer, gold, info = tiny
    board = FakeBoard(info, answer, latency=2)       # later than the client's read timeout
    link = BoardLink(FaultyLine(board), n_layers=1)
    with pytest.raises(BoardTimeout, match="timed out waiting for a reply frame"):
        asyncio.run(link.classify(seeds[0], xs[0]))
    board.latency = 0
    # Sample 0's result arrives while the client resyncs before sample 1: it is discarded.
    got = asyncio.run(link.classify(seeds[1], xs[1]))
    assert (got["cls"], got["step"], got["cycles"]) == (int(gold.cls[1]), int(gold.step[1]), 101)


def test_gives_up_with_one_message_naming_every_attempt(tiny):
    model, xs, seeds, answer, gold, info = tiny
    board = FakeBoard(info, answer)
    every = {w: ("flip", 3, 0) for w in range(8)}            # every answer's length field corrupted
    link = BoardLink(FaultyLine(board, to_host=every), retries=2, n_layers=1)
    with pytest.raises(BoardError) as e:
        asyncio.run(link.classify(seeds[0], xs[0]))
    msg = str(e.value)
    assert msg.startswith("no valid answer to sample (seed 11) after 3 attempts")
    assert msg.count("attempt ") == 3 and "check the cable, the port and --baud" in msg
    assert len(board.samples) == 3                          # the board ran every resend
    # A request the board refuses for what it is (no such address) is not resent.
    link = BoardLink(FaultyLine(FakeBoard(info, answer)), retries=3)
    with pytest.raises(ErrorFrame, match="no such layer or synapse address"):
        asyncio.run(link.write_word(5, 0, 1, 1))
    assert link.resends == 0


def test_cli_run_on_a_pty_resends_and_reports(digits_artifact, tmp_path, capsys):
    """`spinaps run` on a pty: one corrupted result is resent and the run is right; a line
    that corrupts everything ends with one message and exit 2, no traceback."""
    from spinaps.flow import sample_seeds
    from spinaps.sw.datasets import load_dataset

    model = GoldenModel.from_artifact(digits_artifact)
    ds = load_dataset("digits")
    n = 3
    answer, _ = _answers(model, ds.x_test[:n], sample_seeds(n))
    info = p.model_info(model, word_width=8, weights_writable=True, timeout_bits=64)

    def flip_second(index, data):           # answer 0 is the info frame, 1 the first result
        return data[:5] + bytes([data[5] ^ 0x10]) + data[6:] if index == 1 else data

    args = ["run", "--board", "icebreaker", "--dataset", "digits", "-n", str(n), "--timeout", "0.3",
            "--model", str(digits_artifact.path)]
    with PtyBoard(FakeBoard(info, answer), mangle=flip_second) as board:
        assert main(args + ["--port", board.port]) == 0
    out = capsys.readouterr().out
    assert "mismatches with golden  0 samples" in out and "requests sent again     1" in out

    with PtyBoard(FakeBoard(info, answer), mangle=lambda i, d: d[:-1] + bytes([d[-1] ^ 1])) as board:
        assert main(args + ["--port", board.port]) == 2
    err = capsys.readouterr().err
    assert "no valid answer to a ping after 4 attempts" in err and "checksum mismatch" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
