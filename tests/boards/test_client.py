"""Host client errors a real board cannot be made to produce on demand (garbled line, silence,
another model), through a transport that replays bytes made by boards/protocol.py; and the
CLI's messages for a missing port and a missing board."""

import asyncio

import pytest

from spinaps.boards import protocol as p
from spinaps.boards.client import BoardLink, BoardTimeout, ErrorFrame, ModelMismatch
from spinaps.sw.artifact import load, save
from spinaps.cli import main
from spinaps.sw.golden import GoldenModel


class Replay:
    """A transport whose line carries ``reply`` (then silence)."""

    def __init__(self, reply):
        self.reply, self.sent = bytearray(reply), bytearray()

    async def write(self, data):
        self.sent += data

    async def read(self, n):
        out = bytes(self.reply[:n])
        del self.reply[:n]
        return out


@pytest.fixture
def tiny_model(tiny_glm_artifact, tmp_path):
    manifest, arrays = tiny_glm_artifact
    path = save(tmp_path / "tiny.npz", manifest, arrays)
    return path, GoldenModel.from_artifact(load(path))


def _info(model, **change):
    info = p.model_info(model, word_width=4, weights_writable=True, timeout_bits=64)
    return p.Info(**{**info.__dict__, **change})


def test_check_model_accepts_its_bitstream_and_refuses_another(tiny_model):
    _, model = tiny_model
    link = BoardLink(Replay(p.encode_frame(p.T_INFO, p.encode_info(_info(model)))))
    assert asyncio.run(link.check_model(model)).fingerprint == p.model_fingerprint(model)
    assert link.transport.sent == p.encode_ping()
    other = _info(model, fingerprint=_info(model).fingerprint ^ 1)
    with pytest.raises(ModelMismatch, match="runs another model"):
        asyncio.run(BoardLink(Replay(p.encode_frame(p.T_INFO, p.encode_info(other)))).check_model(model))


@pytest.mark.parametrize("reply,error,match", [
    (b"", BoardTimeout, "0 of 4 bytes came"),
    (p.encode_frame(p.T_RESULT, bytes(21))[:7], BoardTimeout, "the rest of a reply frame"),
    (b"\x13\x37\x00\x00\x00", p.ProtocolError, "garbled reply: byte 0x13"),
    (p.encode_error(p.E_BUSY), ErrorFrame, "busy"),
])
def test_classify_errors(reply, error, match):
    with pytest.raises(error, match=match):
        asyncio.run(BoardLink(Replay(reply), n_layers=1).classify(1, [0, 1, 2]))


def test_cli_run_missing_port_and_wrong_dataset(digits_artifact, tiny_model, capsys):
    args = ["run", "--board", "icebreaker", "--port", "/dev/nonexistent-spinaps", "--dataset", "digits", "-n", "2"]
    assert main(args + ["--model", str(digits_artifact.path)]) == 2
    assert "cannot open serial port '/dev/nonexistent-spinaps'" in capsys.readouterr().err
    assert main(args + ["--model", str(tiny_model[0])]) == 2
    assert "not on the data given" in capsys.readouterr().err


def test_cli_prog_without_a_board(tmp_path, capsys):
    import shutil
    if shutil.which("openFPGALoader") is None:
        pytest.fail("openFPGALoader is missing: run make setup")
    bit = tmp_path / "x.bin"
    bit.write_bytes(bytes(64))
    assert main(["prog", "--board", "icebreaker", "--bitstream", str(bit)]) != 0
    assert "no icebreaker board found" in capsys.readouterr().err
