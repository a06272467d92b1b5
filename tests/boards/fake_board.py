"""A pure-Python model of the board side of the link (docs/link.md) for host-client tests,
and transports that put it behind a faulty line (in process) or a pty (for `spinaps run`).

The model parses host frames byte by byte with the states and error codes of
``boards/frame_parser.py`` (sync hunt, header checks, payload, crc, drain after a bad
length or type, skip of a busy frame by its length) and answers like the responder. It is
the device side only where no RTL can be: the client's handling of lost, corrupted, late
and garbled answers, which a simulated board cannot be made to produce on demand. The
answers come from the golden model (``answer(seed, intensities) -> result dict``).

Time is counted in *idle events*: :meth:`FakeBoard.idle` is the line staying quiet for the
board's timeout. A result can be made late (``latency`` idle events after its frame), so
that it arrives after the client gave up on it.
"""

from __future__ import annotations

import os
import select
import threading

from spinaps.boards import protocol as p


class FakeBoard:
    def __init__(self, info, answer, *, latency=0):
        self.info, self.answer, self.latency = info, answer, latency
        self.state, self.buf, self.count = "HUNT", bytearray(), 0
        self.pending = None           # (idle events left, result frame) of a running inference
        self.samples = []             # every sample the board ran: (seed, intensities)

    def _frame_done(self, body, crc):
        ftype, payload = body[0], bytes(body[3:])
        if p.crc8(body) != crc:
            return p.encode_error(p.E_CRC)
        if ftype == p.T_PING:
            return p.encode_frame(p.T_INFO, p.encode_info(self.info))
        if ftype == p.T_SAMPLE:
            seed = int.from_bytes(payload[:p.SEED_BYTES], "little")
            x = list(payload[p.SEED_BYTES:])
            self.samples.append((seed, x))
            frame = p.encode_frame(p.T_RESULT, p.encode_result(self.answer(seed, x)))
            if self.latency:
                self.pending = [self.latency, frame]
                return b""
            return frame
        layer = payload[0]
        return p.encode_frame(p.T_ACK) if layer < self.info.layers else p.encode_error(p.E_ADDRESS)

    def _expected_length(self, ftype):
        return {p.T_PING: 0, p.T_SAMPLE: self.info.sample_bytes,
                p.T_WEIGHTS: 3 + self.info.word_bytes}.get(ftype)

    def feed(self, data):
        """Bytes from the host; returns the answer bytes they cause."""
        out = bytearray()
        for byte in bytes(data):
            if self.state == "HUNT":
                if byte == p.SYNC:
                    self.state, self.buf = "HEADER", bytearray()
            elif self.state == "HEADER":
                self.buf.append(byte)
                if len(self.buf) == 3:
                    ftype, n = self.buf[0], self.buf[1] | self.buf[2] << 8
                    want = self._expected_length(ftype)
                    if want is None or n != want:
                        out += p.encode_error(p.E_TYPE if want is None else p.E_LENGTH)
                        self.state = "DRAIN"
                    elif ftype != p.T_PING and self.pending is not None:
                        out += p.encode_error(p.E_BUSY)
                        self.state, self.count = "SKIP", n + 1
                    else:
                        self.state, self.count = "BODY", n + 1
            elif self.state == "BODY":
                self.count -= 1
                if self.count:
                    self.buf.append(byte)
                else:
                    out += self._frame_done(bytes(self.buf), byte)
                    self.state = "HUNT"
            elif self.state == "SKIP":
                self.count -= 1
                if not self.count:
                    self.state = "HUNT"
            # DRAIN: every byte is ignored until the line is idle
        return bytes(out)

    def idle(self):
        """The line was quiet for the timeout; returns the answer bytes that causes."""
        out = b""
        if self.state in ("HEADER", "BODY"):
            out = p.encode_error(p.E_TIMEOUT)
        self.state = "HUNT"
        if self.pending is not None:
            self.pending[0] -= 1
            if self.pending[0] <= 0:
                out += self.pending[1]
                self.pending = None
        return out


class FaultyLine:
    """A client transport with :class:`FakeBoard` on the far end of a faulty line.

    ``to_board`` and ``to_host`` map the index of a write (a request) to a fault applied to
    that request's bytes or to the bytes of the answers it causes: ``("flip", i, bit)``
    (one bit of byte ``i`` flipped, ``i`` taken modulo the length), ``("drop", i)`` (byte
    ``i`` lost), ``("cut", i)`` (everything from byte ``i`` on lost), ``("noise", bytes)``
    (the bytes go first; never a sync byte) and ``("silence",)`` (all lost). A read with
    nothing to deliver is the line going idle: the board's :meth:`FakeBoard.idle`, and an
    empty answer (the client's read timed out).
    """

    def __init__(self, board, *, to_board=None, to_host=None):
        self.board, self.to_board, self.to_host = board, dict(to_board or {}), dict(to_host or {})
        self.writes, self.line = 0, bytearray()

    @staticmethod
    def apply(fault, data):
        data = bytearray(data)
        if fault is None or not data:
            return bytes(data)
        kind = fault[0]
        if kind == "flip":
            data[fault[1] % len(data)] ^= 1 << fault[2]
        elif kind == "drop":
            del data[fault[1] % len(data)]
        elif kind == "cut":
            del data[fault[1] % len(data):]
        elif kind == "noise":
            data[:0] = fault[1]
        elif kind == "silence":
            data.clear()
        return bytes(data)

    async def write(self, data):
        index, self.writes = self.writes, self.writes + 1
        answer = self.board.feed(self.apply(self.to_board.get(index), data))
        self.line += self.apply(self.to_host.get(index), answer)

    async def read(self, n):
        if not self.line:
            # The read waits: the line is idle for the board's timeout. What that causes (a
            # timeout error, a late result) arrives within this read; nothing: it times out.
            # A late answer belongs to the last request (its fault applies).
            self.line += self.apply(self.to_host.get(self.writes - 1), self.board.idle())
            if not self.line:
                return b""
        out = bytes(self.line[:n])
        del self.line[:n]
        return out


class PtyBoard:
    """:class:`FakeBoard` behind a pseudo-terminal: ``port`` is a real tty path for pyserial
    (``spinaps run --port``). A thread feeds it; ``idle_s`` of quiet is its frame timeout.
    ``mangle(answer_index, bytes) -> bytes`` can corrupt its answers on the way out."""

    def __init__(self, board, *, idle_s=0.05, mangle=None):
        self.board, self.idle_s, self.mangle = board, idle_s, mangle
        self.master, slave = os.openpty()
        self.port = os.ttyname(slave)
        self._slave = slave
        self.answers = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _send(self, data):
        if data:
            if self.mangle is not None:
                data = self.mangle(self.answers, data)
            self.answers += 1
            os.write(self.master, data)

    def _serve(self):
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], self.idle_s)
            if ready:
                try:
                    data = os.read(self.master, 4096)
                except OSError:      # the client closed its side
                    return
                self._send(self.board.feed(data))
            else:
                self._send(self.board.idle())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        os.close(self.master)
        os.close(self._slave)
