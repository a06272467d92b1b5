# amaranth: UnusedElaboratable=no
"""Each layer component reports its own storage; the bits equal a count by hand."""

from spinaps.contract import words as word_count
from spinaps.hdl.accelerator import Accelerator
from spinaps.hdl.glm_layer import GlmLayer
from spinaps.hdl.lif_layer import LifLayer
from spinaps.hdl.synapse_layer import synapse_words
from spinaps.hdl.synapse_memory import make_synapse_memory
from spinaps.sim.models import random_glm_layer, random_lif_layer, random_network


def _layer(cls, params, weights, k, memory="sram", **options):
    words = synapse_words(weights, params.weight_bits, params.lanes)
    mem = make_synapse_memory(memory, data_width=params.lanes * params.weight_bits, depth=len(words),
                              init=words, **options)
    assert len(words) == params.n_in * k * word_count(params.n_out, params.lanes)
    return cls(params, t_max=8, memory=mem)


def test_glm_layer_storage_by_hand():
    # 6 inputs, 5 neurons, K = 2 over tau = 3, 2 lanes, 2-bit weights, 2-bit basis, u_bits 6.
    p = random_glm_layer(1, n_in=6, n_out=5, k=2, tau=3, lanes=2, weight_bits=2, basis_bits=2, u_bits=6)
    layer = _layer(GlmLayer, p, p.weights.tolist(), k=2)
    # words = ceil(5 / 2) = 3; trace_max = 3 * 3 = 9; bound = 6 * 2 * 3 * 9 = 324 -> 9 bits + sign.
    assert (layer.words, layer.acc_bits) == (3, 10)
    assert layer.storage == {
        "synapse_memory": ("bram", (6 * 2 * 3) * (2 * 2)),     # n_in K words x lanes b = 144
        "step_sums": ("lutram", 2 * 3 * 2 * 10),               # 2 banks x words x lanes x acc = 120
        "step_sums_fresh": ("ff", 2 * 3),
        "sigmoid_tables": ("bram", 2 * 16 * 64),               # a 2^6-entry 16-bit table per lane
        "generators": ("ff", 2 * 32),
    }


def test_lif_layer_storage_by_hand():
    # 4 inputs, 3 neurons, 2 lanes, 2-bit weights, v_bits 8, refractory 1 (1 counter bit).
    p = random_lif_layer(2, n_in=4, n_out=3, lanes=2, weight_bits=2, v_bits=8, refractory=1)
    layer = _layer(LifLayer, p, [[[w] for w in row] for row in p.weights.tolist()], k=1)
    # words = 2; trace 1; bound = 4 * 3 = 12 -> 4 bits + sign.
    assert (layer.words, layer.acc_bits) == (2, 5)
    assert layer.storage == {
        "synapse_memory": ("bram", (4 * 2) * (2 * 2)),         # 32
        "step_sums": ("lutram", 2 * 2 * 2 * 5),                # 40
        "step_sums_fresh": ("ff", 2 * 2),
        "potentials": ("lutram", 2 * 2 * 8),                   # words x lanes slots, padding included
        "refractory": ("lutram", 2 * 2 * 1),
        "state_seen": ("ff", 2),
    }


def test_sttram_error_generators_are_counted():
    p = random_lif_layer(2, n_in=4, n_out=3, lanes=2, weight_bits=2, v_bits=8, refractory=0)
    weights = [[[w] for w in row] for row in p.weights.tolist()]
    plain = _layer(LifLayer, p, weights, k=1, memory="sttram", read_latency=3)
    faulty = _layer(LifLayer, p, weights, k=1, memory="sttram", write_error_prob=0.01)
    assert plain.storage["synapse_memory"] == ("bram", 32) and "synapse_memory_write_error_generators" not in plain.storage
    assert faulty.storage["synapse_memory_write_error_generators"] == ("ff", 32 * 4)    # 4 cells a word
    assert plain.storage["refractory"] == ("lutram", 4)      # the 1-bit field exists without a period


def test_accelerator_storage_lists_layers_encoder_and_links():
    # 12 inputs (4 encoder lanes) -> 8 LIF (3 lanes) -> 5 LIF spike count (2 lanes).
    model = random_network(3, sizes=(12, 8, 5), output="lif", decision="spike_count", lanes=[3, 2],
                           encoder_lanes=4, t_max=8, frames=2)
    acc = Accelerator(model)
    assert acc.encoder_storage == {"samples": ("bram", 8 * 4 * 3 * 2),     # byte x lanes x groups x frames
                                   "generators": ("ff", 4 * 32)}           # tau 1: no history memory
    assert [set(d) for d in acc.layer_storage] == [
        set(acc.layers[0].storage),
        set(acc.layers[1].storage) | {"events_history", "events_pending", "events_step_spikes"}]
    # The link from layer 0 (8 neurons, 3 words of 3) to a LIF layer (tau 1).
    assert {k: v for k, v in acc.layer_storage[1].items() if k.startswith("events_")} == {
        "events_history": ("ff", 8), "events_pending": ("ff", 8), "events_step_spikes": ("ff", 8)}
    assert acc.decision_storage == {"spike_counts": ("ff", 5 * 4)}         # counts 0..8: 4 bits
    flat = acc.storage
    assert flat["encoder.samples"] == ("bram", 192) and flat["decision.spike_counts"] == ("ff", 20)
    assert flat["layer1.potentials"] == acc.layers[1].storage["potentials"]
    kinds = {kind for kind, _ in flat.values()}
    assert kinds <= {"ff", "lutram", "bram"}


def test_encoder_history_memory_for_a_glm_input_layer():
    model = random_network(4, sizes=(10, 4), output="glm", encoder_lanes=4,
                           glm_options=dict(k=2, tau=3))
    acc = Accelerator(model)
    # groups = ceil(10 / 4) = 3; tau - 1 = 2 past bits per input slot.
    assert acc.encoder_storage["history"] == ("bram", 4 * 2 * 3)
    assert acc.layer_storage == [acc.layers[0].storage]


def test_deterministic_encoder_storage_has_accumulators_not_generators():
    from dataclasses import replace

    model = replace(random_network(4, sizes=(10, 4), output="glm", glm_options=dict(k=2, tau=3)),
                    encoder_type="deterministic", encoder_base_seeds=None, encoder_lanes=4)
    acc = Accelerator(model)
    # groups = ceil(10 / 4) = 3: one byte per input slot, no generator.
    assert acc.encoder_storage == {"samples": ("bram", 8 * 4 * 3), "history": ("bram", 4 * 2 * 3),
                                   "accumulators": ("bram", 8 * 4 * 3)}
    assert acc.storage["encoder.accumulators"] == ("bram", 96)
