"""cocotb test module of the component tier (run by ``spinaps.sim.component_runner``).

One ``@cocotb.test()`` per component. Each reads its stimulus and parameters from the JSON
file named by ``$SPINAPS_COMPONENT_IN`` (written by the pytest side, which also computes the
expected values with the golden model), drives the generated Verilog, and writes what it
observed to ``$SPINAPS_COMPONENT_OUT``; the pytest side compares. Tests are short: the
drivers do Python work every cycle.
"""

import random
import time

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from spinaps.hdl.layouts import event_layout, unpack
from spinaps.sim.cocotb_streams import StreamSink, StreamSource, value_or_none
from spinaps.sim.cocotb_env import read_params as _params, write_output as _write




async def _start(dut, inputs):
    """Zero ``inputs``, start the 10 ns clock and hold the synchronous reset for 2 cycles.

    Returns just after a rising edge, with reset released.
    """
    for name in inputs:
        getattr(dut, name).value = 0
    dut.rst.value = 1
    Clock(dut.clk, 10, unit="ns").start(start_high=False)
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    await RisingEdge(dut.clk)


async def _sample(dut, names):
    """Values of ``names`` in the ReadOnly phase of this cycle; returns after the next edge."""
    await ReadOnly()
    values = {name: value_or_none(getattr(dut, name)) for name in names}
    await RisingEdge(dut.clk)
    return values


@cocotb.test()
async def encoder(dut):
    """BernoulliEncoder: load each sample, start, collect ``t_max`` steps of events.

    In: ``n_inputs``, ``tau``, ``t_max``, ``samples`` (lists of 8-bit ints), ``seeds``,
    ``stall_prob`` (valid gaps on ``sample``, ready stalls on ``events``), ``rng_seed``.
    Out: per sample ``events`` (raw payload ints), ``loaded`` (``loaded`` after the last
    sample beat), ``extra_valid`` (``events__valid`` seen in the 4 cycles after the last
    end-of-step) and ``running_after``.
    """
    p = _params()
    layout = event_layout(p["n_inputs"], p["tau"])
    rng = random.Random(p["rng_seed"])
    await _start(dut, ["seed", "start", "sample__valid", "sample__payload", "events__ready"])
    src = StreamSource(dut, "sample", dut.clk)
    sink = StreamSink(dut, "events", dut.clk)
    t0 = time.perf_counter()
    runs = []
    for x, seed in zip(p["samples"], p["seeds"]):
        await src.send(x, stall_prob=p["stall_prob"], rng=rng)
        loaded = (await _sample(dut, ["loaded"]))["loaded"]
        dut.seed.value = seed
        dut.start.value = 1
        await RisingEdge(dut.clk)
        dut.start.value = 0
        events = []
        for _ in range(p["t_max"]):
            events += await sink.collect(until=lambda b: unpack(layout, b)["eos"],
                                         stall_prob=p["stall_prob"], rng=rng,
                                         timeout_cycles=20 * (p["n_inputs"] + 8))
        dut.events__ready.value = 1   # anything still offered would be taken and seen
        extra = 0
        for _ in range(4):
            extra |= (await _sample(dut, ["events__valid"]))["events__valid"]
        dut.events__ready.value = 0
        running = (await _sample(dut, ["running"]))["running"]
        runs.append(dict(events=events, loaded=loaded, extra_valid=extra, running_after=running))
    _write(dict(runs=runs, wall_s=time.perf_counter() - t0))


@cocotb.test()
async def first_to_spike(dut):
    """FirstToSpike: drive each run's neuron words, read the decision, pulse ``clear``.

    In: ``runs`` (per run, the neuron-word payload ints in the order to send),
    ``stall_prob`` (cycles with ``neurons__valid`` low between words), ``rng_seed``,
    ``latency`` (the unit's). Out: per run ``decided``, ``spiked``, ``cls``, ``step`` read
    ``latency + 1`` cycles after the last word, ``cleared`` (``decided`` low the cycle after ``clear``); and ``rises``: for every
    0 -> 1 transition of ``decided``, the words sent before that cycle (``words``), the
    cycles since the last of them (``delay``) and the cycle (``cycle``); ``word_cycles``: the
    cycle of every word sent.
    """
    p = _params()
    rng = random.Random(p["rng_seed"])
    await _start(dut, ["clear", "neurons__valid", "neurons__payload"])
    src = StreamSource(dut, "neurons", dut.clk)
    rises, word_cycles = [], []

    async def monitor():
        cycle, words, last_word, before = 0, 0, None, 0
        while True:
            await ReadOnly()
            decided, valid = value_or_none(dut.decided), value_or_none(dut.neurons__valid)
            if decided and not before:
                rises.append(dict(words=words, delay=None if last_word is None else cycle - last_word, cycle=cycle))
            before = decided
            if valid:
                words, last_word = words + 1, cycle
                word_cycles.append(cycle)
            await RisingEdge(dut.clk)
            cycle += 1

    cocotb.start_soon(monitor())
    t0 = time.perf_counter()
    runs = []
    for words in p["runs"]:
        await src.send(words, stall_prob=p["stall_prob"], rng=rng)
        await ClockCycles(dut.clk, p["latency"] + 1)
        out = await _sample(dut, ["decided", "spiked", "cls", "step"])
        dut.clear.value = 1
        await RisingEdge(dut.clk)
        dut.clear.value = 0
        out["cleared"] = int((await _sample(dut, ["decided"]))["decided"] == 0)
        runs.append(out)
    _write(dict(runs=runs, rises=rises, word_cycles=word_cycles, wall_s=time.perf_counter() - t0))


@cocotb.test()
async def synapse_memory(dut):
    """Synapse memory (SRAM or STT-RAM): one read request per cycle from a script.

    In: ``reads``: per cycle ``[rd_en, rd_addr]`` (the address is driven even when
    ``rd_en`` is 0). Out: per cycle ``[rd_valid, rd_data]`` (``rd_data`` ``None`` when it
    holds X/Z) for ``len(reads) + drain`` cycles, with ``drain`` from the input (default 8),
    and the ``reads`` counter at the end.
    """
    p = _params()
    await _start(dut, ["rd_en", "rd_addr", "wr_valid", "wr_addr", "wr_data"])
    t0 = time.perf_counter()
    seen = []
    script = p["reads"] + [[0, 0]] * p.get("drain", 8)
    for en, addr in script:
        dut.rd_en.value = en
        dut.rd_addr.value = addr
        v = await _sample(dut, ["rd_valid", "rd_data"])
        seen.append([v["rd_valid"], v["rd_data"]])
    counter = (await _sample(dut, ["reads"]))["reads"]
    _write(dict(seen=seen, reads=counter, wall_s=time.perf_counter() - t0))


@cocotb.test()
async def lif_layer(dut):
    """LifLayer: a start pulse, then one inference's events; collect every neuron word.

    In: ``events`` (payload ints in order, end-of-step beats included), ``n_words`` (words
    to expect), ``stall_prob`` (valid gaps on ``events``), ``rng_seed``.
    Out: ``words``: the ``neurons__payload`` ints of every cycle with ``neurons__valid``.
    """
    p = _params()
    rng = random.Random(p["rng_seed"])
    await _start(dut, ["seed", "start", "hold", "events__valid", "events__payload"])
    src = StreamSource(dut, "events", dut.clk)
    words = []

    async def monitor():
        while True:
            await ReadOnly()
            if value_or_none(dut.neurons__valid):
                words.append(int(dut.neurons__payload.value))
            await RisingEdge(dut.clk)

    cocotb.start_soon(monitor())
    t0 = time.perf_counter()
    dut.start.value = 1
    await RisingEdge(dut.clk)
    dut.start.value = 0
    await src.send(p["events"], stall_prob=p["stall_prob"], rng=rng)
    for _ in range(200):
        if len(words) >= p["n_words"]:
            break
        await RisingEdge(dut.clk)
    await ClockCycles(dut.clk, 4)        # anything after the last word would be seen
    _write(dict(words=words, wall_s=time.perf_counter() - t0))
