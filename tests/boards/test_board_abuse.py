"""The board core under abuse, in cocotb on Icarus: hypothesis draws a script of episodes
(random garbage, truncated, corrupted and wrong-length frames, unknown types, breaks on the
line, bursts, synapse writes good and bad, a reset in the middle of a frame, an inference or
an answer), boards/cocotb_abuse.py plays it on the pins of the real board core in one
simulator run, and the checks here hold for every episode:

* the link never hangs: every read is bounded by the UART model's read timeout, and every
  episode's answers come;
* every well-formed frame is answered (after any garbage, once the line was idle for the
  frame timeout where the protocol asks for it), with the frame the protocol names;
* no result is wrong or stale: each equals the golden model's for the sample just sent
  (synapse writes that fail leave the model as it was), nothing comes unasked;
* after a reset the next inference is right.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings, strategies as st

from spinaps.boards import protocol as p
from spinaps.boards.board_runner import simulate_board
from spinaps.boards.top import BoardTop
from spinaps.flow import sample_seeds
from spinaps.hdl.synapse_layer import synapse_words
from spinaps.sw.datasets import load_dataset
from spinaps.sw.golden import GoldenModel

pytestmark = pytest.mark.cocotb

POOL = 24          # test samples the episodes draw from
KINDS = ["garbage", "truncated", "corrupt", "wrong_length", "unknown_type", "burst", "ping_during",
         "weights", "reset", "break"]


class Board:
    """The design under test and everything the checks need, built once per test."""

    def __init__(self, artifact, build_dir):
        self.model = GoldenModel.from_artifact(artifact)
        ds = load_dataset("digits")
        self.xs, self.seeds = ds.x_test[:POOL], sample_seeds(POOL)
        self.gold = self.model.run(self.xs, self.seeds)
        self.core = BoardTop("icebreaker", self.model).elaborate(None)
        self.frames = [p.encode_sample(int(s), x) for s, x in zip(self.seeds, self.xs)]
        lp = self.model.layers[0]
        w = np.asarray(lp.weights)
        self.words = synapse_words((w if w.ndim == 3 else w[:, :, None]).tolist(), lp.weight_bits, lp.lanes)
        self.timeout_bits = self.core.timeout_bits
        self.build_dir = build_dir

    def weights(self, address, word=None, layer=0):
        word = self.words[address % len(self.words)] if word is None else word
        return p.encode_weights(layer, address, word, self.core.info.word_bytes)


def _contains_frame(data):
    """Whether ``data`` holds a complete well-formed host frame (garbage must not)."""
    for i, byte in enumerate(data):
        if byte == p.SYNC and i + 4 <= len(data):
            n = data[i + 2] | data[i + 3] << 8
            end = i + 4 + n + 1
            if data[i + 1] in (p.T_PING, p.T_SAMPLE, p.T_WEIGHTS) and end <= len(data) \
                    and p.crc8(data[i + 1:end - 1]) == data[end - 1]:
                return True
    return False


@st.composite
def episodes(draw, board, kind):
    """``(kind, actions, params)`` of one episode; ``params`` are what its check needs."""
    n = len(board.frames)
    probe = draw(st.integers(0, n - 1))
    idle = ["idle", board.timeout_bits + 4]
    finish = [["send", board.frames[probe].hex()], ["answers", 1]]
    if kind == "garbage":
        # Random bytes and pieces of real frames (headers, prefixes), never a whole frame.
        piece = st.one_of(st.binary(max_size=12),
                          st.integers(0, n - 1).flatmap(lambda j: st.integers(1, len(board.frames[j]) - 1).map(
                              lambda k, j=j: board.frames[j][:k])),
                          st.sampled_from([bytes([p.SYNC]), bytes([p.SYNC, p.T_SAMPLE]), bytes([p.SYNC, p.T_PING])]))
        junk = draw(st.lists(piece, max_size=6).map(b"".join).filter(lambda g: not _contains_frame(g)))
        actions = [["send", junk.hex()], idle, ["send", p.encode_ping().hex()], ["until_info"]]
    elif kind == "truncated":
        j = draw(st.integers(0, n - 1))
        k = draw(st.integers(1, len(board.frames[j]) - 1))
        actions = [["send", board.frames[j][:k].hex()], idle, ["answers", 1]]
    elif kind == "corrupt":
        # One bit of the payload or checksum flipped (a header bit is a length or type error).
        j = draw(st.integers(0, n - 1))
        frame = bytearray(board.frames[j])
        frame[draw(st.integers(p.HEADER_BYTES, len(frame) - 1))] ^= 1 << draw(st.integers(0, 7))
        actions = [["send", bytes(frame).hex()], ["answers", 1]]
    elif kind == "wrong_length":
        ftype = draw(st.sampled_from([p.T_PING, p.T_SAMPLE, p.T_WEIGHTS]))
        want = {p.T_PING: 0, p.T_SAMPLE: board.core.accelerator.sample_bytes,
                p.T_WEIGHTS: 3 + board.core.info.word_bytes}[ftype]
        length = draw(st.integers(0, p.MAX_PAYLOAD).filter(lambda v: v != want))
        tail = draw(st.binary(max_size=20))
        actions = [["send", (bytes([p.SYNC, ftype]) + length.to_bytes(2, "little") + tail).hex()], ["answers", 1], idle]
    elif kind == "unknown_type":
        ftype = draw(st.integers(0, 255).filter(lambda v: v not in (p.T_PING, p.T_SAMPLE, p.T_WEIGHTS)))
        actions = [["send", p.encode_frame(ftype, draw(st.binary(max_size=12))).hex()], ["answers", 1], idle]
    elif kind == "burst":
        # A second sample right behind the first (busy, or run if the first is already out).
        j, j2 = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        actions = [["send", board.frames[j].hex()], ["idle", draw(st.integers(0, 60))],
                   ["send", board.frames[j2].hex()], ["answers", 2]]
        return kind, actions, {"j": j, "j2": j2}
    elif kind == "ping_during":
        j = draw(st.integers(0, n - 1))
        actions = [["send", (board.frames[j] + p.encode_ping()).hex()], ["answers", 2]]
        return kind, actions, {"j": j}
    elif kind == "weights":
        # A write of the word already there (acknowledged), a corrupted one, a bad address.
        what = draw(st.sampled_from(["same", "corrupt", "address", "layer"]))
        addr = draw(st.integers(0, len(board.words) - 1))
        frame = bytearray(board.weights(addr))
        if what == "corrupt":
            frame[draw(st.integers(p.HEADER_BYTES, len(frame) - 1))] ^= 1 << draw(st.integers(0, 7))
        elif what == "address":
            frame = bytearray(board.weights(len(board.words) + addr, word=board.words[addr]))
        elif what == "layer":
            frame = bytearray(board.weights(addr, layer=len(board.model.layers)))
        actions = [["send", bytes(frame).hex()], ["answers", 1]]
        return kind, actions + finish, {"what": what, "probe": probe}
    elif kind == "reset":
        j = draw(st.integers(0, n - 1))
        line_cycles = len(board.frames[j]) * 10 * board.core.clocks_per_bit
        at = draw(st.integers(0, line_cycles + 3000))
        actions = [["reset", at, board.frames[j].hex()], idle]
        return kind, actions + finish, {"j": j, "probe": probe}
    elif kind == "break":
        actions = [["break", draw(st.integers(1, 40))], idle]
    else:
        raise ValueError(kind)
    return kind, actions + finish, {"probe": probe}


@st.composite
def scripts(draw, board, extra):
    """Every kind of episode at least once, in a random order, then ``extra`` more."""
    kinds = draw(st.permutations(KINDS)) + draw(st.lists(st.sampled_from(KINDS), min_size=extra, max_size=extra))
    return [draw(episodes(board, kind)) for kind in kinds]


def _frames(events):
    bad = [e for e in events if e[0] in ("timeout", "garbled")]
    assert not bad, f"the link did not answer: {bad}"
    return [(e[1], bytes.fromhex(e[2])) for e in events if e[0] == "frame"]


def _check_result(board, frame, j, what):
    ftype, payload = frame
    assert ftype == p.T_RESULT, f"{what}: a frame of type 0x{ftype:02x} where the result of sample {j} was due"
    got = p.decode_result(payload, len(board.model.layers))
    g = board.gold
    want = {"cls": int(g.cls[j]), "step": int(g.step[j]), "decided": int(g.decided[j]),
            "events": g.events[j].tolist(), "sops": g.sops[j].tolist()}
    assert {k: got[k] for k in want} == want, f"{what}: wrong result for sample {j}"
    assert got["cycles"] > 0


def _error(frame):
    return p.decode_error(frame[1])[0] if frame[0] == p.T_ERROR else f"0x{frame[0]:02x}"


def _valid_frames(raw):
    """Well-formed board frames anywhere in ``raw`` (what a reset left on the line)."""
    out, i = [], 0
    while i < len(raw):
        if raw[i] == p.SYNC and i + 4 <= len(raw):
            end = i + 4 + (raw[i + 2] | raw[i + 3] << 8) + 1
            if end <= len(raw) and p.crc8(raw[i + 1:end - 1]) == raw[end - 1]:
                out.append((raw[i + 1], bytes(raw[i + 4:end - 1])))
                i = end
                continue
        i += 1
    return out


def check_episode(board, kind, params, record):
    what = f"{kind} episode {params}"
    assert record["leftover"] == "", f"{what}: bytes nobody asked for came before it: {record['leftover']}"
    frames = _frames(record["events"])
    if kind in ("burst", "ping_during"):
        assert len(frames) == 2, what
        if kind == "ping_during":
            info = [f for f in frames if f[0] == p.T_INFO]
            assert len(info) == 1 and p.decode_info(info[0][1]) == board.core.info, what
            _check_result(board, next(f for f in frames if f[0] != p.T_INFO), params["j"], what)
            return
        results = [f for f in frames if f[0] == p.T_RESULT]
        _check_result(board, results[0], params["j"], what)
        if len(results) == 2:
            _check_result(board, results[1], params["j2"], what)
        else:
            assert [_error(f) for f in frames if f[0] != p.T_RESULT] == [p.E_BUSY], what
        return
    *answers, last = frames
    _check_result(board, last, params["probe"], what)      # the next sample is right
    if kind == "garbage":
        assert answers and answers[-1][0] == p.T_INFO, f"{what}: the ping after garbage got no info"
        assert p.decode_info(answers[-1][1]) == board.core.info
        codes = [_error(f) for f in answers[:-1]]
        assert set(codes) <= {p.E_CRC, p.E_LENGTH, p.E_TYPE, p.E_TIMEOUT, p.E_ADDRESS}, f"{what}: {codes}"
        return
    if kind == "reset":
        raw = bytes.fromhex(next(e[1] for e in record["events"] if e[0] == "raw"))
        for frame in _valid_frames(raw):          # an answer sent out before the reset
            if frame[0] == p.T_RESULT:
                _check_result(board, frame, params["j"], what)
            else:
                assert frame[0] == p.T_ERROR, f"{what}: frame 0x{frame[0]:02x} after a reset"
        assert answers == [], what
        return
    expected = {"truncated": [p.E_TIMEOUT], "corrupt": [p.E_CRC], "wrong_length": [p.E_LENGTH],
                "unknown_type": [p.E_TYPE], "break": []}
    if kind == "weights":
        expected = {"same": [f"0x{p.T_ACK:02x}"], "corrupt": [p.E_CRC], "address": [p.E_ADDRESS],
                    "layer": [p.E_ADDRESS]}[params["what"]]
    else:
        expected = expected[kind]
    assert [_error(f) for f in answers] == expected, what


def run_script(board, script, name):
    out, _ = simulate_board(board.core, "abuse", {
        "episodes": [actions for _, actions, _ in script],
        # After a reset: a whole inference and its answer, then the frame timeout.
        "answer_bits": 3 * board.timeout_bits + 10 * (5 + p.result_bytes(len(board.model.layers)) + 30),
    }, build_dir=board.build_dir / name, test_module="spinaps.boards.cocotb_abuse")
    assert out["framing_errors"] == 0
    assert out["trailing"] == "", f"bytes after the last episode: {out['trailing']}"
    assert len(out["episodes"]) == len(script)
    for (kind, _, params), record in zip(script, out["episodes"]):
        check_episode(board, kind, params, record)
    return out


@pytest.fixture(scope="module")
def board(digits_artifact, tmp_path_factory):
    return Board(digits_artifact, tmp_path_factory.mktemp("abuse"))


def _abuse_test(extra, examples, minimal):
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate],     # a shrink step is a simulator run
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def test(board, data):
        # Hypothesis's first example draws the smallest value everywhere (empty garbage, the
        # first sample, a reset at cycle 0): with one simulator run per example, the default
        # tier spends its one run on a random script instead; the slow tier runs both kinds.
        assume(minimal or data.draw(st.integers(0, 1 << 16), label="variant") != 0)
        script = data.draw(scripts(board, extra), label="script")
        run_script(board, script, f"run{abs(hash(str(script))) % 10**8}")
    return test


# make test: one random script with every kind of episode once and two more (one run).
test_board_core_under_abuse = _abuse_test(extra=2, examples=1, minimal=False)
# make test-full: the smallest script (edge values) and five longer random ones.
test_board_core_under_abuse_long = pytest.mark.slow(_abuse_test(extra=30, examples=6, minimal=True))
