"""The link protocol in pure Python: CRC-8 reference values, frame round trips, decoder errors."""

import dataclasses

import numpy as np
import pytest

from spinaps.boards import protocol as p
from spinaps.sw.artifact import load
from spinaps.sw.golden import GoldenModel


def test_crc8_is_crc8_smbus():
    # The catalogue check value of CRC-8/SMBUS (poly 0x07, init 0) over "123456789".
    assert p.crc8(b"123456789") == 0xF4
    assert p.crc8(b"") == 0
    data = bytes(range(200))
    assert p.crc8(data[100:], p.crc8(data[:100])) == p.crc8(data)


def test_frame_layout_and_round_trip():
    frame = p.encode_frame(p.T_SAMPLE, b"\x01\x02\x03")
    assert frame[:4] == bytes([p.SYNC, p.T_SAMPLE, 3, 0]) and frame[4:7] == b"\x01\x02\x03"
    assert frame[-1] == p.crc8(frame[1:-1])
    dec = p.FrameDecoder()
    # Byte by byte: nothing until the checksum arrives.
    got = []
    for byte in frame + p.encode_ping():
        got += dec.feed(bytes([byte]))
    assert got == [p.Frame(p.T_SAMPLE, b"\x01\x02\x03"), p.Frame(p.T_PING, b"")]
    assert dec.pending == 0


def test_sample_frame_is_the_accelerator_sample_stream():
    from spinaps.sim.compare import sample_beats
    x = np.array([0, 17, 255, 3])
    frame = p.encode_sample(0x1234, x)
    assert list(frame[4:-1]) == sample_beats([x], [0x1234])


@pytest.mark.parametrize("bad,match", [
    (lambda f: f[:-1] + bytes([f[-1] ^ 1]), "checksum"),
    (lambda f: b"\x00" + f, "where a frame should start"),
    (lambda f: f[:2] + b"\xff\xff" + f[4:], "claims 65535 bytes"),
])
def test_decoder_rejects_garbled_replies(bad, match):
    with pytest.raises(p.ProtocolError, match=match):
        p.FrameDecoder().feed(bad(p.encode_frame(p.T_RESULT, bytes(21))))


def test_result_round_trip_and_length():
    r = {"cls": 7, "step": 300, "decided": 1, "cycles": 123456, "events": [5, 6], "sops": [70, 80],
         "busy": [90, 100]}
    payload = p.encode_result(r)
    assert len(payload) == p.result_bytes(2) == 33
    assert p.decode_result(payload, 2) == r
    with pytest.raises(p.ProtocolError, match="1-layer model sends 21"):
        p.decode_result(payload, 1)


def test_weights_and_errors():
    frame = p.encode_weights(1, 0x0203, 0xAABBCCDDEE, 5)
    assert frame[4:-1] == bytes([1, 3, 2, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA])
    with pytest.raises(ValueError, match="does not fit 5 bytes"):
        p.encode_weights(0, 0, 1 << 40, 5)
    with pytest.raises(ValueError, match="16-bit"):
        p.encode_sample(70000, [1])
    with pytest.raises(ValueError, match="8-bit"):
        p.encode_sample(1, [256])
    (f,) = p.FrameDecoder().feed(p.encode_error(p.E_BUSY))
    assert p.decode_error(f.payload) == (p.E_BUSY, p.ERRORS[p.E_BUSY])


def test_info_and_fingerprint(tiny_glm_artifact, tmp_path):
    from spinaps.sw.artifact import save
    manifest, arrays = tiny_glm_artifact
    model = GoldenModel.from_artifact(load(save(tmp_path / "tiny.npz", manifest, arrays)))
    info = p.model_info(model, word_width=4, weights_writable=True, timeout_bits=64)
    assert (info.n_inputs, info.n_classes, info.t_max, info.layers, info.word_bytes) == (6, 3, 8, 1, 1)
    assert info.sample_bytes == 8
    assert p.decode_info(p.encode_info(info)) == info
    # One changed weight changes the fingerprint; an equal model keeps it.
    lp = model.layers[0]
    w = np.array(lp.weights)
    w[0, 0, 0] = -w[0, 0, 0]
    other = dataclasses.replace(model, layers=(dataclasses.replace(lp, weights=w),))
    assert p.model_fingerprint(other) != p.model_fingerprint(model)
    assert p.model_fingerprint(dataclasses.replace(model)) == p.model_fingerprint(model)
