"""The update tail the lane-utilization bound assumes (spinaps.sim.activity.update_tail) is the
layers' own: measured in the Amaranth simulator from the end-of-step marker to the step's last
neuron word, for both layer types, one and several words, and a deeper read pipeline."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from spinaps.hdl.glm_layer import GlmLayer
from spinaps.hdl.lif_layer import LifLayer
from spinaps.hdl.synapse_layer import synapse_words
from spinaps.hdl.synapse_memory import make_synapse_memory
from spinaps.sim.activity import update_tail
from spinaps.sim.cost import LayerConfig
from spinaps.sim.models import random_glm_layer, random_lif_layer


def _cycles_of_one_step(kind, n_out, lanes, read_latency, n_events, n_in=6):
    """Cycles from the first event beat taken to the step's last neuron word, both included,
    for ``n_events`` back-to-back events and one end-of-step beat."""
    if kind == "lif":
        params = random_lif_layer(1, n_in=n_in, n_out=n_out, lanes=lanes)
        weights = np.asarray(params.weights)[:, :, None].tolist()
    else:
        params = random_glm_layer(1, n_in=n_in, n_out=n_out, lanes=lanes)
        weights = np.asarray(params.weights).tolist()
    words = synapse_words(weights, params.weight_bits, lanes)
    memory, opts = ("sram", {}) if read_latency == 1 else ("sttram", {"read_latency": read_latency})
    mem = make_synapse_memory(memory, data_width=lanes * params.weight_bits, depth=len(words), init=words, **opts)
    dut = (LifLayer if kind == "lif" else GlmLayer)(params, t_max=4, memory=mem)
    beats = [dict(index=i, hist=1, eos=0) for i in range(n_events)] + [dict(index=0, hist=0, eos=1)]
    seen = {}

    async def driver(ctx):
        ctx.set(dut.start, 1)
        await ctx.tick()
        ctx.set(dut.start, 0)
        for beat in beats:
            ctx.set(dut.events.valid, 1)
            ctx.set(dut.events.payload, beat)
            await ctx.tick().until(dut.events.ready)
        ctx.set(dut.events.valid, 0)

    async def monitor(ctx):
        cycle = 0
        async for _, _, taken, valid, payload in ctx.tick().sample(
                dut.events.valid & dut.events.ready, dut.neurons.valid, dut.neurons.payload):
            cycle += 1
            if taken:
                seen.setdefault("first", cycle)
            if valid and payload.last:
                seen.setdefault("last", cycle)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(driver)
    sim.add_process(monitor)
    sim.run_until(1e-8 * 300)
    return seen["last"] - seen["first"] + 1, dut.words


@pytest.mark.parametrize("kind,n_out,lanes,read_latency", [
    ("lif", 7, 7, 1), ("lif", 12, 2, 2), ("glm", 7, 3, 1), ("glm", 7, 7, 3)])
def test_update_tail_is_the_layers(kind, n_out, lanes, read_latency):
    events = 3
    cycles, qn = _cycles_of_one_step(kind, n_out, lanes, read_latency, events)
    layer = LayerConfig(kind=kind, n_in=6, n_out=n_out, lanes=lanes, weight_bits=2)
    assert layer.words == qn
    # Two register stages before the sequencer issues the first read (the event register and
    # the sequencer), one read per (event, word), one cycle for the end-of-step marker, the tail.
    assert cycles == 2 + events * qn + 1 + update_tail(layer, read_latency)
