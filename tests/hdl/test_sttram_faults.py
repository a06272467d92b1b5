# amaranth: UnusedElaboratable=no
"""STT-RAM write errors and write-verify (docs/semantics.md 9.1): the Amaranth model of
hdl/sttram_memory.py against the golden side's spinaps.sw.write_faults, cycle by cycle.

Every simulation drives random writes (with stalls, held offers and concurrent reads),
records which writes the memory accepted and when ``wr_ready`` was high, then reads every
word back; sw.write_faults.write_memory, given only (p, fault seed, the accepted write
sequence), must predict the contents, the counters and the busy time of every write.
"""

import random

import numpy as np
import pytest
from amaranth.back import rtlil
from amaranth.sim import Simulator

from spinaps import contract
from spinaps.hdl.synapse_layer import synapse_words
from spinaps.hdl.sttram_memory import SttRamSynapseMemory
from spinaps.sim.models import random_network
from spinaps.sw import write_faults

COUNTERS = write_faults.WRITE_COUNTERS


def run_writes(dut, n_writes, rng, *, offer_prob=0.7, read_prob=0.5):
    """Offer ``n_writes`` random writes (a stream producer with valid stalls that holds its
    offer until taken, random reads beside), wait until idle, read every word back.

    Returns (accepted writes as (cycle, addr, word), ready per cycle, words read, counters)."""
    accepted, ready_log, words = [], [], []
    counters = {}

    async def bench(ctx):
        offer, cycle = None, 0
        while len(accepted) < n_writes or not ctx.get(dut.wr_ready):
            if offer is None and len(accepted) < n_writes and rng.random() < offer_prob:
                offer = (rng.randrange(dut.depth), rng.getrandbits(dut.data_width))
            ctx.set(dut.wr_valid, offer is not None)
            if offer is not None:
                ctx.set(dut.wr_addr, offer[0])
                ctx.set(dut.wr_data, offer[1])
            ctx.set(dut.rd_en, rng.random() < read_prob)
            ctx.set(dut.rd_addr, rng.randrange(dut.depth))
            ready = ctx.get(dut.wr_ready)
            ready_log.append(ready)
            if offer is not None and ready:
                accepted.append((cycle, *offer))
                offer = None
            await ctx.tick()
            cycle += 1
        ctx.set(dut.wr_valid, 0)
        for name in COUNTERS:
            counters[name] = ctx.get(getattr(dut, name))
        for addr in range(dut.depth):
            ctx.set(dut.rd_en, 1)
            ctx.set(dut.rd_addr, addr)
            await ctx.tick()
            ctx.set(dut.rd_en, 0)
            for _ in range(dut.read_latency - 1):
                await ctx.tick()
            assert ctx.get(dut.rd_valid)
            words.append(ctx.get(dut.rd_data))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return accepted, ready_log, words, counters


@pytest.mark.parametrize("p, retries, write_latency, erased", [
    (0.3, 0, 2, False),
    (0.2, 0, 4, True),
    (0.4, 2, 2, False),
    (0.25, 3, 3, True),
    (0.0, 1, 2, False),          # write-verify without errors: one attempt each, verify cost only
])
def test_rtl_matches_write_faults(p, retries, write_latency, erased):
    rng = random.Random(hash((p, retries, write_latency)) & 0xFFFF)
    width, depth, seed, layer = 12, 10, rng.getrandbits(32), rng.randrange(3)
    init = [rng.getrandbits(width) for _ in range(depth)]
    dut = SttRamSynapseMemory(data_width=width, depth=depth, init=init, read_latency=2,
                              write_latency=write_latency, write_error_prob=p, write_error_seed=seed,
                              write_retries=retries, erased=erased, layer=layer)
    accepted, ready_log, words, counters = run_writes(dut, 40, rng)
    start = [0] * depth if erased else init
    expected, stats = write_faults.write_memory(start, [(a, w) for _, a, w in accepted], data_width=width, p=p,
                                                seed=seed, layer=layer, retries=retries,
                                                write_latency=write_latency)
    assert words == expected
    assert counters == stats.counters()
    assert stats.write_errors > 0 or p == 0
    if retries and p:
        assert stats.retries > 0
    # Busy time: wr_ready is low only while a write is in progress, for exactly its cycles.
    total_low = sum(1 for r in ready_log[accepted[0][0]:] if not r)
    assert total_low + len(accepted) == stats.cycles


def test_failures_only_where_cells_change_at_rate_p():
    """Writing the stored word again never fails; a cell that changes fails with rate p; with
    write-verify the cells left wrong drop to about p^(R+1)."""
    rng = np.random.default_rng(3)
    width, depth, p = 32, 400, 0.2
    words = [int(w) for w in rng.integers(0, 1 << width, depth)]
    same, s0 = write_faults.write_memory(words, list(enumerate(words)), data_width=width, p=p, seed=5)
    assert same == words and s0.write_errors == 0
    zeros = [0] * depth
    _, s1 = write_faults.write_memory(zeros, list(enumerate(words)), data_width=width, p=p, seed=5)
    changing = sum(bin(w).count("1") for w in words)
    sigma = (changing * p * (1 - p)) ** 0.5
    assert abs(s1.write_errors - p * changing) < 5 * sigma
    assert s1.wrong_cells == s1.write_errors and s1.cycles == depth * 4
    _, s2 = write_faults.write_memory(zeros, list(enumerate(words)), data_width=width, p=p, seed=5, retries=3)
    assert s2.wrong_cells < s1.wrong_cells / 20
    assert s2.attempts == depth + s2.retries and s2.verify_reads == s2.attempts
    assert s2.cycles == sum(contract.write_cycles(1, 4, True) for _ in range(depth)) + 5 * s2.retries


def test_layer_words_match_the_rtl_layout_and_invert():
    model = random_network(4, sizes=(7, 6, 5), output="glm", lanes=[4, 2],
                           glm_options=dict(k=2, tau=2, weight_bits=4), lif_options=dict(weight_bits=2))
    for lp in model.layers:
        w = np.asarray(lp.weights)
        w3 = (w if w.ndim == 3 else w[:, :, None]).tolist()
        words = write_faults.layer_words(lp)
        assert words.tolist() == synapse_words(w3, lp.weight_bits, lp.lanes)
        assert np.array_equal(write_faults.layer_weights(lp, words), w)
    words, stats = write_faults.load_network(model, p=0.0, seed=1)
    assert all(s.wrong_cells == 0 for s in stats)
    same = write_faults.faulted_model(model, words)
    assert all(np.array_equal(a.weights, b.weights) for a, b in zip(same.layers, model.layers))


def test_seeds_per_layer_and_cell():
    seeds = {contract.fault_cell_seed(7, layer, cell) for layer in range(3) for cell in range(40)}
    assert len(seeds) == 120 and 0 not in seeds
    dut = SttRamSynapseMemory(data_width=5, depth=2, write_error_prob=0.5, write_error_seed=7, layer=2)
    assert dut.error_seeds == tuple(write_faults.cell_seeds(7, 2, 5).tolist())
    assert dut.write_error_threshold == contract.write_error_threshold(0.5) == round(0.5 * contract.MASK32)


@pytest.mark.parametrize("kwargs, words", [
    (dict(write_latency=1, write_error_prob=0.1), "write_latency = 1"),
    (dict(write_latency=1, write_retries=1), "write_latency = 1"),
    (dict(write_retries=16), "write_retries"),
    (dict(write_retries=-1), "write_retries"),
    (dict(write_error_prob=1.0), "write_error_prob"),
    (dict(write_error_prob=float("nan")), "write_error_prob"),
    (dict(write_error_seed=1 << 32), "write_error_seed"),
    (dict(layer=8), "layer"),
])
def test_bad_parameters_are_named(kwargs, words):
    with pytest.raises(ValueError, match=words):
        SttRamSynapseMemory(data_width=4, depth=4, **kwargs)


def test_no_fault_logic_without_errors_or_verify():
    def text(**kw):
        return rtlil.convert(SttRamSynapseMemory(data_width=8, depth=16, **kw), name="top", emit_src=False)

    plain = text(write_error_seed=1)
    assert "xorshift" not in plain and plain == text(write_error_seed=0xDEADBEEF)
    assert "xorshift" in text(write_error_prob=0.3)
    verify = text(write_retries=2)
    assert "xorshift" not in verify and "attempt" in verify and "attempt" not in plain
