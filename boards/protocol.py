"""The host <-> board link protocol (docs/link.md): frames, CRC-8, encode and decode.

Pure Python (numpy only for the model fingerprint), no hardware imports: the host client,
the cocotb UART model and the protocol tests all use these functions, and the gateware
(:mod:`spinaps.boards.frame_parser`, :mod:`spinaps.boards.responder`) takes its constants
from here.

A frame is ``SYNC, type, length (16-bit little endian), payload[length], crc8``; the CRC-8
(polynomial 0x07, initial value 0, no reflection, no final xor: CRC-8/SMBUS) covers type,
length and payload, not the sync byte. Multi-byte fields are little endian.
"""

from __future__ import annotations

import dataclasses
import struct
import zlib
from dataclasses import dataclass

import numpy as np

from spinaps.contract import DECISIONS, SEED_BITS, ceil_div, check, encoder_draws

__all__ = [
    "SYNC", "PROTOCOL_VERSION", "HEADER_BYTES", "T_PING", "T_SAMPLE", "T_WEIGHTS", "T_INFO", "T_RESULT", "T_ACK", "T_ERROR",
    "ERRORS", "E_CRC", "E_LENGTH", "E_TYPE", "E_BUSY", "E_TIMEOUT", "E_NOT_WRITABLE", "E_ADDRESS",
    "DECISION_CODES", "INFO_BYTES", "MAX_PAYLOAD", "SEED_BYTES", "MIN_TIMEOUT_BITS", "ProtocolError", "Frame", "Info", "crc8", "encode_frame", "FrameDecoder",
    "encode_ping", "encode_sample", "encode_weights", "weight_word_bytes", "result_bytes",
    "encode_result", "decode_result", "encode_info", "decode_info", "encode_error", "decode_error",
    "model_fingerprint", "model_info",
]

SYNC = 0xA5
PROTOCOL_VERSION = 1
HEADER_BYTES = 4          # sync, type, length lo, length hi (then payload, then crc)
MAX_PAYLOAD = 0xFFFF      # the 16-bit length field
SEED_BYTES = SEED_BITS // 8   # a sample payload starts with the seed, low byte first
MIN_TIMEOUT_BITS = 20     # an idle-line timeout of at least two characters (10 bit times each)

# Host -> board.
T_PING = 0x01             # empty payload; answered with T_INFO
T_SAMPLE = 0x02           # seed lo, seed hi, frames * n_inputs intensities; answered with T_RESULT
T_WEIGHTS = 0x03          # layer u8, address u16, word (weight_word_bytes); answered with T_ACK
# Board -> host.
T_INFO = 0x81
T_RESULT = 0x82
T_ACK = 0x83
T_ERROR = 0xEE            # payload: one error code byte

E_CRC = 1                 # checksum mismatch: the frame is dropped
E_LENGTH = 2              # length wrong for the type (oversize included): rest ignored until idle
E_TYPE = 3                # unknown type: rest ignored until the line is idle
E_BUSY = 4                # sample or weights frame while an inference runs: frame skipped
E_TIMEOUT = 5             # the line went idle inside a frame (truncated): frame dropped
E_NOT_WRITABLE = 6        # weights frame on a bitstream built without writable synapses
E_ADDRESS = 7             # weights frame naming a layer or address the model does not have
ERRORS = {E_CRC: "bad checksum", E_LENGTH: "bad length (wrong size or oversize frame)",
          E_TYPE: "unknown frame type", E_BUSY: "busy (an inference is running)",
          E_TIMEOUT: "timeout (truncated frame)", E_NOT_WRITABLE: "synapse memory not writable",
          E_ADDRESS: "no such layer or synapse address"}

#: Decision rule -> its code in the info frame: the rule's index in the contract's list.
DECISION_CODES = {rule: code for code, rule in enumerate(DECISIONS)}

# version u8, layers u8, t_max u16, n_inputs u16, frames u8, n_classes u16, decision u8,
# weights writable u8, word bytes u8, timeout in bit times u32, model fingerprint u32.
_INFO = struct.Struct("<BBHHBHBBBII")
INFO_BYTES = _INFO.size


class ProtocolError(Exception):
    """A reply that is not a well-formed frame (garbled line, wrong baud rate, wrong model)."""


@dataclass(frozen=True)
class Frame:
    type: int
    payload: bytes


def crc8(data, crc=0):
    """CRC-8/SMBUS (poly 0x07, init 0) of ``data`` (bytes or ints), continuing from ``crc``."""
    for byte in data:
        crc ^= int(byte)
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def encode_frame(ftype, payload=b""):
    """Bytes of one frame of type ``ftype`` carrying ``payload``."""
    payload = bytes(payload)
    if not 0 <= ftype <= 0xFF:
        raise ValueError(f"frame type {ftype} is not a byte")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes does not fit the 16-bit length field")
    body = bytes([ftype]) + struct.pack("<H", len(payload)) + payload
    return bytes([SYNC]) + body + bytes([crc8(body)])


class FrameDecoder:
    """Incremental decoder of a byte stream into :class:`Frame` objects (host side).

    ``feed`` returns the complete frames so far. A byte that is not a sync byte where a frame
    should start, a CRC mismatch or a length above ``max_length`` raises
    :class:`ProtocolError` naming what was received.
    """

    def __init__(self, max_length=1024):
        self.max_length = max_length
        self.buf = bytearray()

    def feed(self, data):
        self.buf += bytes(data)
        frames = []
        while self.buf:
            if self.buf[0] != SYNC:
                raise ProtocolError(f"garbled reply: byte 0x{self.buf[0]:02x} where a frame should start "
                                    f"(received {bytes(self.buf[:16]).hex(' ')}); check --baud and the port")
            if len(self.buf) < HEADER_BYTES:
                break
            length = self.buf[2] | self.buf[3] << 8
            if length > self.max_length:
                raise ProtocolError(f"garbled reply: frame type 0x{self.buf[1]:02x} claims {length} bytes "
                                    f"(at most {self.max_length} expected)")
            end = HEADER_BYTES + length + 1
            if len(self.buf) < end:
                break
            body = bytes(self.buf[1:end - 1])
            if crc8(body) != self.buf[end - 1]:
                raise ProtocolError(f"garbled reply: checksum mismatch in a frame of type 0x{body[0]:02x} "
                                    f"({bytes(self.buf[:end]).hex(' ')})")
            frames.append(Frame(body[0], body[3:]))
            del self.buf[:end]
        return frames

    @property
    def pending(self):
        """Bytes of an incomplete frame received so far."""
        return len(self.buf)


# --- host -> board ---------------------------------------------------------------------------

def encode_ping():
    return encode_frame(T_PING)


def encode_sample(seed, intensities):
    """A sample frame: exactly the accelerator's ``sample`` stream bytes (seed lo, hi, intensities)."""
    seed = check("seed", int(seed))
    x = np.asarray(intensities).ravel()
    if x.size and (x.min() < 0 or x.max() > 255):
        raise ValueError("intensities must be 8-bit unsigned (0..255)")
    return encode_frame(T_SAMPLE, seed.to_bytes(SEED_BYTES, "little") + bytes(int(v) for v in x))


def weight_word_bytes(word_width):
    """Bytes carrying one synapse-memory word of ``word_width`` bits."""
    return ceil_div(int(word_width), 8)


def encode_weights(layer, address, word, word_bytes):
    """A weights frame: write ``word`` at ``address`` of layer ``layer``'s synapse memory."""
    if not 0 <= layer <= 0xFF or not 0 <= address <= 0xFFFF:
        raise ValueError(f"layer {layer} / address {address} out of range (u8 / u16)")
    if not 0 <= word < 1 << (8 * word_bytes):
        raise ValueError(f"word 0x{word:x} does not fit {word_bytes} bytes")
    return encode_frame(T_WEIGHTS, bytes([layer]) + struct.pack("<H", address)
                        + int(word).to_bytes(word_bytes, "little"))


# --- board -> host ---------------------------------------------------------------------------

def result_bytes(n_layers):
    """Payload bytes of a result: cls u16, step u16, decided u8, cycles u32, then per layer
    events u32, synaptic operations u32, busy cycles u32."""
    return 9 + 12 * n_layers


def encode_result(r):
    """Result payload of a dict with ``cls, step, decided, cycles, events[], sops[], busy[]``
    (what :func:`decode_result` returns; the gateware builds the same bytes)."""
    out = struct.pack("<HHBI", r["cls"], r["step"], r["decided"], r["cycles"])
    for e, s, b in zip(r["events"], r["sops"], r["busy"]):
        out += struct.pack("<III", e, s, b)
    return out


def decode_result(payload, n_layers):
    if len(payload) != result_bytes(n_layers):
        raise ProtocolError(f"result payload has {len(payload)} bytes, a {n_layers}-layer model sends "
                            f"{result_bytes(n_layers)}")
    cls, step, decided, cycles = struct.unpack_from("<HHBI", payload)
    per = [struct.unpack_from("<III", payload, 9 + 12 * i) for i in range(n_layers)]
    return {"cls": cls, "step": step, "decided": decided, "cycles": cycles,
            "events": [p[0] for p in per], "sops": [p[1] for p in per], "busy": [p[2] for p in per]}


@dataclass(frozen=True)
class Info:
    """What a bitstream says about itself (answer to a ping)."""

    version: int
    layers: int
    t_max: int
    n_inputs: int
    frames: int
    n_classes: int
    decision: int
    weights_writable: int
    word_bytes: int
    timeout_bits: int
    fingerprint: int

    @property
    def sample_bytes(self):
        return SEED_BYTES + self.frames * self.n_inputs


def encode_info(info):
    return _INFO.pack(*dataclasses.astuple(info))


def decode_info(payload):
    if len(payload) != INFO_BYTES:
        raise ProtocolError(f"info payload has {len(payload)} bytes, protocol version "
                            f"{PROTOCOL_VERSION} sends {INFO_BYTES}")
    return Info(*_INFO.unpack(payload))


def encode_error(code):
    return encode_frame(T_ERROR, bytes([code]))


def decode_error(payload):
    code = payload[0] if len(payload) == 1 else None
    return code, ERRORS.get(code, f"unknown error code {code}")


# --- model identity --------------------------------------------------------------------------

def model_fingerprint(model):
    """CRC-32 of everything that defines a golden model's integer behaviour.

    ``model`` is a :class:`spinaps.sw.golden.GoldenModel` (read through its dataclass
    fields, so nothing is imported here). The board reports the value it was built with;
    the client refuses to compare answers from a bitstream of another model.
    """
    crc = zlib.crc32(repr((int(model.t_max), model.decision, int(model.frames))).encode())
    crc = zlib.crc32(np.asarray(model.encoder_base_seeds, dtype=np.int64).tobytes(), crc)
    # An encoder without draws has no seeds: its type and lanes stand for them (a Bernoulli
    # model's fingerprint is what it was before deterministic encoders existed).
    if not encoder_draws(model.encoder_type):
        crc = zlib.crc32(f"encoder={model.encoder_type},{int(model.encoder_lanes)}".encode(), crc)
    for lp in model.layers:
        for f in dataclasses.fields(lp):
            v = getattr(lp, f.name)
            if isinstance(v, np.ndarray) or isinstance(v, (list, tuple)):
                crc = zlib.crc32(np.asarray(v, dtype=np.int64).tobytes(), crc)
            else:
                crc = zlib.crc32(f"{f.name}={v!r}".encode(), crc)
    return crc


def model_info(model, *, word_width, weights_writable, timeout_bits):
    """The :class:`Info` a bitstream of ``model`` answers with."""
    return Info(version=PROTOCOL_VERSION, layers=len(model.layers), t_max=int(model.t_max),
                n_inputs=int(model.n_in), frames=int(model.frames), n_classes=int(model.layers[-1].n_out),
                decision=DECISION_CODES[model.decision], weights_writable=int(bool(weights_writable)),
                word_bytes=weight_word_bytes(word_width), timeout_bits=int(timeout_bits),
                fingerprint=model_fingerprint(model))
