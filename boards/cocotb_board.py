"""cocotb test module for the board core (run through :mod:`spinaps.boards.board_runner`,
e.g. by ``tests/boards/test_board_cocotb.py``).

A UART model on the ``rx`` / ``tx`` pins is the transport of the host client
(:class:`spinaps.boards.client.BoardLink`), so the simulated board is driven by exactly the
code that drives a real one. The model works at bit level with timers (one await per bit,
none per clock cycle) and the design runs freely between bits.

The stimulus comes from the JSON file named by ``$SPINAPS_COMPONENT_IN``; what the test saw
goes to ``$SPINAPS_OUT`` for the pytest side to compare with the golden model.
"""

import time

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, Event, FallingEdge, SimTimeoutError, Timer, with_timeout
from cocotb.utils import get_sim_time

from spinaps.sim.cocotb_env import read_params as _params, write_output as _write

from . import protocol as p
from .client import BoardLink, ErrorFrame

CLOCK_NS = 10


class UartModel:
    """The host's UART on the simulated pins, as a client transport (``write`` / ``read``)."""

    def __init__(self, dut, clocks_per_bit, read_timeout_ns):
        self.dut = dut
        self.bit_ns = clocks_per_bit * CLOCK_NS
        self.read_timeout_ns = read_timeout_ns
        self.received = bytearray()
        self.framing_errors = 0
        self._event = Event()
        dut.rx.value = 1
        cocotb.start_soon(self._receive())

    async def _receive(self):
        tx = self.dut.tx
        while True:
            await FallingEdge(tx)
            await Timer(self.bit_ns * 3 // 2, "ns")        # middle of data bit 0
            byte = 0
            for bit in range(8):
                byte |= int(tx.value) << bit
                await Timer(self.bit_ns, "ns")
            if int(tx.value) != 1:                          # middle of the stop bit
                self.framing_errors += 1
            self.received.append(byte)
            self._event.set()

    async def write(self, data):
        for byte in bytes(data):
            for bit in [0] + [(byte >> i) & 1 for i in range(8)] + [1]:
                self.dut.rx.value = bit
                await Timer(self.bit_ns, "ns")

    async def read(self, n):
        while len(self.received) < n:
            self._event.clear()
            try:
                await with_timeout(self._event.wait(), self.read_timeout_ns, "ns")
            except SimTimeoutError:
                break
        out = bytes(self.received[:n])
        del self.received[:len(out)]
        return out

    async def idle(self, bits):
        self.dut.rx.value = 1
        if bits > 0:            # cocotb's Timer refuses a zero time (an abuse script can draw 0)
            await Timer(bits * self.bit_ns, "ns")


async def _setup(dut, params):
    Clock(dut.clk, CLOCK_NS, unit="ns").start(start_high=False)
    dut.rx.value = 1
    dut.rst.value = 1
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    await ClockCycles(dut.clk, 2)
    uart = UartModel(dut, params["clocks_per_bit"], params["read_timeout_cycles"] * CLOCK_NS)
    return uart, BoardLink(uart, n_layers=params["n_layers"])




def _info_dict(info):
    return {k: getattr(info, k) for k in info.__dataclass_fields__}


@cocotb.test()
async def classify(dut):
    """Ping, then every sample through the client; answers go back for the golden comparison."""
    params = _params()
    uart, link = await _setup(dut, params)
    t0 = time.perf_counter()
    info = await link.info()
    answers = [await link.classify(seed, x) for seed, x in params["samples"]]
    _write({"info": _info_dict(info), "answers": answers, "wall_s": time.perf_counter() - t0,
            "sim_ns": get_sim_time("ns"),
            "framing_errors": uart.framing_errors})


async def _error_of(link):
    try:
        frame = await link.read_frame()
    except Exception as e:  # noqa: BLE001 - reported to the pytest side
        return f"no frame: {e}"
    return p.decode_error(frame.payload)[0] if frame.type == p.T_ERROR else f"frame type 0x{frame.type:02x}"


@cocotb.test()
async def protocol_errors(dut):
    """Each bad frame gets its error frame, and the next sample is still classified."""
    params = _params()
    uart, link = await _setup(dut, params)
    samples = params["samples"]
    timeout_bits = params["timeout_bits"]
    seen, answers = {}, []

    async def classify_next():
        seed, x = samples[len(answers)]
        answers.append(await link.classify(seed, x))

    def sample_frame(index):
        seed, x = samples[index]
        return p.encode_sample(seed, x)

    # 1. corrupted checksum
    good = sample_frame(0)
    answers.append(None)                     # sample 0 is never classified
    await link.send(good[:-1] + bytes([good[-1] ^ 0x5A]))
    seen["crc"] = await _error_of(link)
    await classify_next()                    # sample 1

    # 2. truncated sample frame: the line goes idle half-way
    answers.append(None)                     # sample 2
    frame = sample_frame(2)
    await link.send(frame[:len(frame) // 2])
    seen["truncated"] = await _error_of(link)
    await classify_next()                    # sample 3

    # 3. oversize frame (the length field exceeds any frame), then the rest of its bytes
    await link.send(bytes([p.SYNC, p.T_SAMPLE, 0x00, 0x20]) + bytes(range(1, 40)))
    seen["oversize"] = await _error_of(link)
    await uart.idle(timeout_bits + 20)
    await classify_next()                    # sample 4

    # 4. unknown frame type
    await link.send(p.encode_frame(0x55, b"\x01\x02\x03"))
    seen["unknown_type"] = await _error_of(link)
    await uart.idle(timeout_bits + 20)
    await classify_next()                    # sample 5

    # 5. a sample frame while the previous inference runs: busy, the first result still comes
    await link.send(sample_frame(6) + sample_frame(7))
    first, second = await link.read_frame(), await link.read_frame()
    kinds = sorted([first.type, second.type])
    seen["busy"] = [p.decode_error(f.payload)[0] if f.type == p.T_ERROR else f"0x{f.type:02x}"
                    for f in (first, second)]
    result = first if first.type == p.T_RESULT else second
    answers.append(p.decode_result(result.payload, link.n_layers) if p.T_RESULT in kinds else None)  # sample 6
    answers.append(None)                     # sample 7 was refused
    await classify_next()                    # sample 8

    # 6. junk bytes between frames are skipped
    await link.send(bytes([0x00, 0x13, 0xFF]))
    await classify_next()                    # sample 9

    # 7. a ping still answers the model's info
    info = await link.info()

    # 8. synapse writes: a bad address is refused, good ones change the model
    try:
        await link.write_word(params["n_layers"], 0, 0, info.word_bytes)
        seen["bad_address"] = "acknowledged"
    except ErrorFrame as e:
        seen["bad_address"] = e.code
    for layer, address, word in params["writes"]:
        await link.write_word(layer, address, word, info.word_bytes)
    while len(answers) < len(samples):
        await classify_next()                # classified by the rewritten model
    _write({"seen": seen, "answers": answers, "info": _info_dict(info), "framing_errors": uart.framing_errors})
