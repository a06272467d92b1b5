"""Amaranth simulator: the LIF layer against the golden model's ``lif_layer`` (semantics 5b)."""

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from spinaps.hdl.lif_layer import LifLayer
from spinaps.hdl.synapse_layer import synapse_words
from spinaps.hdl.synapse_memory import make_synapse_memory
from spinaps.sim.amaranth_streams import stream_send
from spinaps.sim.expect import expected_lif_words, lif_events
from spinaps.sim.models import random_lif_layer


def run_lif_layer(params, spikes, *, memory="sram", stall=0.0, hold=0.0, **mem_opts):
    """Feed one inference's input spikes ``[T, N_in]``; return the neuron words seen."""
    t_max = len(spikes)
    words = synapse_words(np.asarray(params.weights)[:, :, None].tolist(), params.weight_bits, params.lanes)
    mem = make_synapse_memory(memory, data_width=params.lanes * params.weight_bits, depth=len(words),
                              init=words, **mem_opts)
    dut = LifLayer(params, t_max=t_max, memory=mem)
    beats = [dict(index=0, hist=0, eos=1) if e == "eos" else dict(index=e[0], hist=e[1], eos=0)
             for e in lif_events(spikes)]
    seen = []
    n_words = t_max * dut.words
    rng = random.Random(9)

    async def driver(ctx):
        ctx.set(dut.start, 1)
        await ctx.tick()
        ctx.set(dut.start, 0)
        await stream_send(ctx, dut.events, beats, stall=stall, rng=random.Random(3))

    async def holder(ctx):      # the consumer is sometimes not ready for a new step
        while len(seen) < n_words:
            ctx.set(dut.hold, rng.random() < hold)
            await ctx.tick()

    async def monitor(ctx):
        async for _, _, valid, payload in ctx.tick().sample(dut.neurons.valid, dut.neurons.payload):
            if valid:
                seen.append(dict(step=payload.step, word=payload.word, spikes=payload.spikes,
                                 u=[payload.u[p] for p in range(dut.lanes)]))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(driver)
    sim.add_testbench(holder)
    sim.add_process(monitor)
    sim.run_until(1e-8 * (200 + 20 * t_max * (params.n_in * dut.words + dut.words + 8)))
    return seen, dut


@pytest.mark.parametrize("kw,memory,stall,hold", [
    (dict(n_in=9, n_out=7, lanes=3, leak_shift=2, reset="subtract", refractory=1), "sram", 0.3, 0.3),
    (dict(n_in=6, n_out=5, lanes=5, leak_shift=0, reset="zero", refractory=0, v_bits=6, weight_bits=4), "sram", 0.0, 0.0),
    (dict(n_in=12, n_out=4, lanes=1, leak_shift=3, reset="subtract", refractory=3, weight_bits=1), "sttram", 0.2, 0.5),
])
def test_lif_layer_matches_golden(kw, memory, stall, hold):
    params = random_lif_layer(seed=len(kw) * 7 + kw["n_in"], **kw)
    spikes = np.random.default_rng(kw["n_in"]).random((10, params.n_in)) < 0.5
    opts = dict(read_latency=2) if memory == "sttram" else {}
    seen, dut = run_lif_layer(params, spikes, memory=memory, stall=stall, hold=hold, **opts)
    want = expected_lif_words(spikes, params)
    got = [dict(w, u=w["u"][:len(e["u"])]) for w, e in zip(seen, want)]   # padding lanes dropped
    assert len(seen) == len(want)
    assert got == want
    assert any(w["spikes"] for w in want) and not all(w["spikes"] for w in want)


def test_lif_layer_refuses_bad_parameters():
    params = random_lif_layer(n_in=4, n_out=3)
    mem = make_synapse_memory("sram", data_width=3 * 2, depth=4, init=[0] * 4)
    import dataclasses
    for change, words in [(dict(v_bits=5), "v_bits"), (dict(leak_shift=16), "leak_shift"),
                          (dict(reset="half"), "reset"), (dict(lanes=0), "lanes"),
                          (dict(threshold=np.array([0, 1, 1])), "thresholds"), (dict(weight_bits=3), "weight_bits")]:
        with pytest.raises(ValueError, match=words):
            LifLayer(dataclasses.replace(params, **change), t_max=4, memory=mem)
