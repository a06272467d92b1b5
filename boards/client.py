"""Host client of the board link: ping, classify samples, write synapses, compare with golden.

The client logic (:class:`BoardLink`) is written against a *transport*: any object with
``async write(data: bytes)`` and ``async read(n) -> bytes`` (fewer bytes than asked, or none,
means the read timed out). :class:`SerialTransport` wraps pyserial for a real board; the
cocotb UART model (``spinaps.boards.cocotb_board.UartModel``) drives the simulated pins. Both
run exactly this code. Nothing here imports torch or Amaranth at module level, so the
cocotb side stays quick to start.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import numpy as np

from . import protocol as p

__all__ = ["BoardError", "BoardTimeout", "ModelMismatch", "ErrorFrame", "TRANSIENT_ERRORS", "BoardLink",
           "SerialTransport",
           "compare_answers", "RunReport", "run_samples", "open_serial", "run_on_port"]


class BoardError(Exception):
    """Anything that went wrong talking to the board (one clear message)."""


class BoardTimeout(BoardError):
    pass


class ModelMismatch(BoardError):
    pass


class ErrorFrame(BoardError):
    """The board answered with an error frame."""

    def __init__(self, code):
        self.code = code
        super().__init__(f"the board answered with error {code}: {p.decode_error(bytes([code]))[1]}")


#: Error codes a noisy line can cause (a corrupted header looks like a wrong length or type,
#: a lost byte like a truncated frame; busy follows a late answer): the request is sent again.
#: The others (not writable, no such address) say the request itself is wrong: no resend helps.
TRANSIENT_ERRORS = frozenset({p.E_CRC, p.E_LENGTH, p.E_TYPE, p.E_BUSY, p.E_TIMEOUT})

#: Bytes :meth:`BoardLink.resync` discards at most before it gives up on a line that never
#: goes quiet (a wrong baud rate or a board stuck sending).
MAX_DRAIN_BYTES = 1 << 16


class BoardLink:
    """Frames over a transport (see the module docstring).

    ``retries``: how many times a request (ping, sample, synapse write) is sent again after a
    timeout, a garbled reply or a transient error frame (:data:`TRANSIENT_ERRORS`). Before
    each resend the link :meth:`resync` s: it discards what arrives until the line is quiet
    for one transport read timeout (longer than the board's frame timeout and any inference),
    so the board's parser is back between frames and no late answer of an earlier attempt is
    taken for the next one. The protocol has no sequence numbers; that wait is what keeps a
    stale result out. After a timeout or a garbled reply the next request resyncs first too,
    even with ``retries=0`` (the default), where the first failure is raised as is.
    """

    def __init__(self, transport, *, n_layers=None, retries=0):
        self.transport = transport
        self.n_layers = n_layers
        if not (isinstance(retries, int) and 0 <= retries <= 100):
            raise ValueError(f"retries = {retries!r}: give a whole number of resends from 0 to 100")
        self.retries = retries
        self.resends = 0          # requests sent again so far (a noisy line shows here)
        self.unsure = False       # a read failed: a late answer may still come, resync first

    async def read_exact(self, n, what):
        data = b""
        while len(data) < n:
            chunk = await self.transport.read(n - len(data))
            if not chunk:
                raise BoardTimeout(f"timed out waiting for {what} ({len(data)} of {n} bytes came"
                                   + (f": {data.hex(' ')}" if data else "") + "); is the board programmed "
                                   "with a spinaps bitstream and the baud rate right?")
            data += chunk
        return data

    async def read_frame(self):
        """The next frame from the board; :class:`protocol.ProtocolError` if garbled."""
        header = await self.read_exact(p.HEADER_BYTES, "a reply frame")
        decoder = p.FrameDecoder()
        decoder.feed(header)                          # raises on a wrong sync byte or length
        rest = await self.read_exact((header[2] | header[3] << 8) + 1, "the rest of a reply frame")
        (frame,) = decoder.feed(rest)
        return frame

    async def send(self, data):
        await self.transport.write(bytes(data))

    async def expect(self, ftype):
        frame = await self.read_frame()
        if frame.type == p.T_ERROR:
            code, _ = p.decode_error(frame.payload)
            raise ErrorFrame(code)
        if frame.type != ftype:
            raise p.ProtocolError(f"expected a frame of type 0x{ftype:02x}, got 0x{frame.type:02x}")
        return frame

    async def resync(self):
        """Discard everything the board sends until the line is quiet for one read timeout."""
        dropped = 0
        while chunk := await self.transport.read(256):
            dropped += len(chunk)
            if dropped > MAX_DRAIN_BYTES:
                raise BoardError(f"the line never goes quiet ({dropped} bytes discarded while waiting for "
                                 "silence): check --baud and that the port is the board's")
        return dropped

    async def request(self, data, ftype, what):
        """Send ``data`` and return the answer frame of type ``ftype``, resending up to
        ``retries`` times (see the class docstring); one :class:`BoardError` naming every
        failed attempt when none succeeds."""
        failures = []
        for attempt in range(self.retries + 1):
            if attempt:
                self.resends += 1
            if attempt or self.unsure:
                await self.resync()
                self.unsure = False
            await self.send(data)
            try:
                return await self.expect(ftype)
            except ErrorFrame as e:
                if e.code not in TRANSIENT_ERRORS:
                    raise
                failures.append(e)
            except (BoardTimeout, p.ProtocolError) as e:
                self.unsure = True
                failures.append(e)
        if len(failures) == 1:
            raise failures[0]
        tries = "; ".join(f"attempt {i + 1}: {e}" for i, e in enumerate(failures))
        raise BoardError(f"no valid answer to {what} after {len(failures)} attempts ({tries}); "
                         "check the cable, the port and --baud")

    async def info(self):
        return p.decode_info((await self.request(p.encode_ping(), p.T_INFO, "a ping")).payload)

    async def check_model(self, model):
        """Ping and check the bitstream runs ``model`` (a GoldenModel); returns its Info."""
        info = await self.info()
        want = p.model_fingerprint(model)
        if info.version != p.PROTOCOL_VERSION:
            raise ModelMismatch(f"the board speaks link protocol version {info.version}, this client "
                                f"{p.PROTOCOL_VERSION}: rebuild the bitstream (make bitstream)")
        if info.fingerprint != want:
            raise ModelMismatch(
                f"the board runs another model (fingerprint 0x{info.fingerprint:08x}, {info.n_inputs} inputs, "
                f"{info.n_classes} classes, T_max {info.t_max}) than the artifact (0x{want:08x}, {model.n_in} "
                f"inputs, {model.layers[-1].n_out} classes, T_max {model.t_max}): program the bitstream built "
                "from this artifact (make bitstream MODEL=... && make prog)")
        self.n_layers = info.layers
        return info

    async def classify(self, seed, intensities):
        """Run one sample; the result dict of :func:`protocol.decode_result`."""
        frame = await self.request(p.encode_sample(seed, intensities), p.T_RESULT, f"sample (seed {seed})")
        return p.decode_result(frame.payload, self.n_layers)

    async def write_word(self, layer, address, word, word_bytes):
        await self.request(p.encode_weights(layer, address, word, word_bytes), p.T_ACK,
                           f"synapse write (layer {layer}, address {address})")


def compare_answers(gold, answers):
    """Mismatches ``(sample, what, board, golden)`` between answers and a GoldenResult."""
    out = []
    for i, a in enumerate(answers):
        checks = [("class", a["cls"], int(gold.cls[i])), ("step", a["step"], int(gold.step[i])),
                  ("decided", a["decided"], int(gold.decided[i])),
                  ("events", list(a["events"]), gold.events[i].tolist()),
                  ("sops", list(a["sops"]), gold.sops[i].tolist())]
        out += [(i, what, av, gv) for what, av, gv in checks if av != gv]
    return out


@dataclass
class RunReport:
    n: int
    accuracy: float
    golden_accuracy: float
    inferences_per_second: float
    mean_decision_step: float
    mean_cycles: float
    mismatches: list = field(default_factory=list)
    resends: int = 0

    def lines(self):
        out = [f"samples                 {self.n}",
               f"accuracy (board)        {self.accuracy:.4f}",
               f"accuracy (golden)       {self.golden_accuracy:.4f}",
               f"throughput              {self.inferences_per_second:.1f} inferences/s (link included)",
               f"mean decision step      {self.mean_decision_step:.2f}",
               f"mean cycles/inference   {self.mean_cycles:.1f}",
               f"mismatches with golden  {len({m[0] for m in self.mismatches})} samples",
               f"requests sent again     {self.resends} (timeouts, garbled replies, link errors)"]
        out += [f"  sample {s}: {what}: board={b} golden={g}" for s, what, b, g in self.mismatches[:10]]
        return out


async def run_samples(link, model, xs, seeds, labels, *, progress=True):
    """Check the model, classify every sample, compare with the golden model."""
    from tqdm import tqdm

    await link.check_model(model)
    gold = model.run(np.asarray(xs), np.asarray(seeds))
    answers = []
    t0 = time.perf_counter()
    for x, s in tqdm(list(zip(xs, seeds)), desc="board", unit="sample", disable=not progress):
        answers.append(await link.classify(int(s), x))
    wall = time.perf_counter() - t0
    cls = np.array([a["cls"] for a in answers])
    return RunReport(
        n=len(answers), accuracy=float(np.mean(cls == np.asarray(labels))),
        golden_accuracy=float(np.mean(gold.cls == np.asarray(labels))),
        inferences_per_second=len(answers) / wall if wall > 0 else float("nan"),
        mean_decision_step=float(np.mean([a["step"] for a in answers])),
        mean_cycles=float(np.mean([a["cycles"] for a in answers])),
        mismatches=compare_answers(gold, answers), resends=link.resends)


class SerialTransport:
    """pyserial port as a transport (blocking reads with a timeout, wrapped as async).

    A port that fails under the client (unplugged, a pty whose other side closed) raises
    :class:`BoardError` naming the port, not pyserial's own exception.
    """

    def __init__(self, ser):
        self.ser = ser

    def _failed(self, e):
        return BoardError(f"serial port {self.ser.port!r} failed ({e}); was the board unplugged?")

    async def write(self, data):
        import serial
        try:
            self.ser.write(data)
            self.ser.flush()
        except (serial.SerialException, OSError) as e:
            raise self._failed(e) from None

    async def read(self, n):
        import serial
        try:
            return self.ser.read(n)
        except (serial.SerialException, OSError) as e:
            raise self._failed(e) from None

    def close(self):
        self.ser.close()


def open_serial(port, baud, timeout=2.0):
    """Open ``port`` at ``baud`` with a read timeout; a missing port gives one clear error."""
    try:
        import serial
    except ImportError:       # pragma: no cover - pyserial is a dependency
        raise BoardError("pyserial is not installed: run `make setup`")
    try:
        ser = serial.Serial(port, baud, timeout=timeout)
    except serial.SerialException as e:
        raise BoardError(f"cannot open serial port {port!r} ({e}); is the board plugged in? List ports with "
                         "`.venv/bin/python -m serial.tools.list_ports`") from None
    ser.reset_input_buffer()
    return SerialTransport(ser)


def run_on_port(model, port, baud, xs, seeds, labels, *, timeout=2.0, retries=3, progress=True):
    """Synchronous entry point of ``spinaps run``: open the port and :func:`run_samples`
    (``timeout``: seconds of silence that end a read; ``retries``: resends per request)."""
    transport = open_serial(port, baud, timeout)
    try:
        link = BoardLink(transport, retries=retries)
        return asyncio.run(run_samples(link, model, xs, seeds, labels, progress=progress))
    finally:
        transport.close()
