"""cocotb test module: the board core under abuse (run through
:func:`spinaps.boards.board_runner.simulate_board`, e.g. by tests/boards/test_board_abuse.py).

A script of *episodes* comes from ``$SPINAPS_COMPONENT_IN`` (the pytest side draws it with
hypothesis and keeps what each episode expects); this module only plays it on the pins
through the UART model of :mod:`spinaps.boards.cocotb_board` and records what came back, so
every judgement stays on the pytest side. An episode is a list of actions:

* ``["send", hex]``: bytes on the line, back to back;
* ``["idle", bits]``: the line high for ``bits`` bit times;
* ``["break", bits]``: the line low for ``bits`` bit times (framing errors, a break);
* ``["reset", cycles, hex]``: send ``hex`` and, ``cycles`` clock cycles after its first bit,
  pulse the core's reset for 3 cycles (during the frame, the inference or the answer);
  then the line is left idle until any answer on its way is out;
* ``["answers", n]``: read ``n`` frames;
* ``["until_info"]``: read frames up to and including an info frame (at most 32).

Per episode it records ``leftover`` (bytes that were already waiting when it began: answers
nobody asked for), ``events`` (``["frame", type, payload hex]``, ``["raw", hex]`` for what
a reset left on the line, ``["timeout", what]``, ``["garbled", message]``) and ``cycles``.
Every read is bounded (the UART model's read timeout), so a hung core shows as a timeout.
"""

import cocotb
from cocotb.triggers import ClockCycles, Timer
from cocotb.utils import get_sim_time

from spinaps.sim.cocotb_env import read_params as _params, write_output as _write

from . import protocol as p
from .client import BoardError
from .cocotb_board import CLOCK_NS, _setup


async def _read_frames(link, events, n=None, until=None):
    for _ in range(n if n is not None else 32):
        try:
            frame = await link.read_frame()
        except BoardError as e:
            events.append(["timeout", str(e)])
            return
        except p.ProtocolError as e:
            events.append(["garbled", str(e)])
            return
        events.append(["frame", frame.type, frame.payload.hex()])
        if until is not None and frame.type == until:
            return
    if until is not None:
        events.append(["timeout", "no info frame among 32 frames"])


async def _reset_pulse(dut, cycles):
    await ClockCycles(dut.clk, cycles)
    dut.rst.value = 1
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0


async def _play(dut, uart, link, action, events, answer_bits):
    kind = action[0]
    if kind == "send":
        await uart.write(bytes.fromhex(action[1]))
    elif kind == "idle":
        await uart.idle(action[1])
    elif kind == "break":
        dut.rx.value = 0
        await Timer(action[1] * uart.bit_ns, "ns")
        dut.rx.value = 1
    elif kind == "reset":
        pulse = cocotb.start_soon(_reset_pulse(dut, action[1]))
        await uart.write(bytes.fromhex(action[2]))
        await pulse
        # Long enough for a whole inference and its answer after the frame (if the reset
        # came too early to stop them), then whatever came is the episode's raw bytes.
        await uart.idle(answer_bits)
        events.append(["raw", bytes(uart.received).hex()])
        uart.received.clear()
    elif kind == "answers":
        await _read_frames(link, events, n=action[1])
    elif kind == "until_info":
        await _read_frames(link, events, until=p.T_INFO)
    else:
        raise ValueError(f"unknown action {kind!r}")


@cocotb.test()
async def abuse(dut):
    """Play every episode of the script; record what the board answered."""
    params = _params()
    uart, link = await _setup(dut, params)
    answer_bits = params["answer_bits"]
    out = []
    for episode in params["episodes"]:
        leftover = bytes(uart.received).hex()
        uart.received.clear()
        events = []
        t0 = get_sim_time("ns")
        for action in episode:
            await _play(dut, uart, link, action, events, answer_bits)
        out.append({"leftover": leftover, "events": events, "cycles": (get_sim_time("ns") - t0) // CLOCK_NS})
    # Anything still coming after the last episode is a leftover too.
    await uart.idle(answer_bits)
    _write({"episodes": out, "trailing": bytes(uart.received).hex(), "framing_errors": uart.framing_errors})
