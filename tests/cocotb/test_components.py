"""cocotb on Icarus, component tier: each component's generated Verilog against the golden model.

The cocotb side (``spinaps.sim.cocotb_components``) drives the stimulus written here and
reports what it saw; the expectations come from ``spinaps.sim.expect`` (golden model) and
are compared here. One Icarus build per parameter set (``tmp_path``).
"""

import numpy as np
import pytest

from spinaps.hdl.encoder import BernoulliEncoder
from spinaps.hdl.first_to_spike import FirstToSpike
from spinaps.hdl.layouts import event_layout, neuron_word_layout, pack, unpack
from spinaps.hdl.synapse_memory import make_synapse_memory
from spinaps.sim.component_runner import run_component
from spinaps.hdl.lif_layer import LifLayer
from spinaps.hdl.synapse_layer import synapse_words
from spinaps.sim.expect import expected_encoder_events, expected_first_to_spike, expected_lif_words, lif_events
from spinaps.sim.models import random_lif_layer

pytestmark = pytest.mark.cocotb


def _first_difference(got, want):
    for n, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return f"first difference at item {n}: got {g!r}, expected {w!r}"
    return f"lengths differ: got {len(got)} items, expected {len(want)}"


# --------------------------------------------------------------------------- encoder

@pytest.mark.parametrize("n_inputs,lanes,tau,t_max,stall", [
    (13, 5, 3, 6, 0.3),     # lanes do not divide n_inputs (3 padded lanes), tau > 1
    (10, 4, 8, 5, 0.5),     # 2 padded lanes, longest history
    (6, 6, 1, 4, 0.0),      # one group, memoryless, no stalls
])
def test_encoder_verilog_matches_golden(tmp_path, n_inputs, lanes, tau, t_max, stall):
    rng = np.random.default_rng(1000 * n_inputs + 10 * lanes + tau)
    base_seeds = [int(s) | 1 for s in rng.integers(1, 2**32, lanes)]
    dut = BernoulliEncoder(n_inputs=n_inputs, lanes=lanes, tau=tau, t_max=t_max, base_seeds=base_seeds)
    samples = [
        rng.integers(0, 256, n_inputs),                                          # dense
        rng.integers(0, 256, n_inputs) * (rng.random(n_inputs) < 0.3),           # sparse
        rng.choice([0, 255], n_inputs),                                          # never / always
        rng.integers(192, 256, n_inputs),                                        # mostly spiking
        rng.integers(0, 256, n_inputs) * (rng.random(n_inputs) < 0.1),           # very sparse
    ]
    seeds = [int(s) for s in rng.integers(0, 65536, len(samples))]
    seeds[-1] = 65535
    params = dict(n_inputs=n_inputs, tau=tau, t_max=t_max, stall_prob=stall, rng_seed=7,
                  samples=[[int(v) for v in x] for x in samples], seeds=seeds)
    obs = run_component(dut, "encoder", "encoder", params, tmp_path)

    layout = event_layout(n_inputs, tau)
    assert len(obs["runs"]) == len(samples)
    for n, (x, seed, run) in enumerate(zip(samples, seeds, obs["runs"])):
        beats = [unpack(layout, b) for b in run["events"]]
        got = ["eos" if b["eos"] else (b["index"], b["hist"]) for b in beats]
        want = expected_encoder_events(x, seed, base_seeds, tau, t_max)
        assert got == want, f"sample {n} (seed {seed}): {_first_difference(got, want)}"
        assert run["loaded"] == 1, f"sample {n}: `loaded` low after the last sample beat"
        assert run["extra_valid"] == 0, f"sample {n}: events emitted after step t_max"
        assert run["running_after"] == 0, f"sample {n}: still running after t_max steps"


# --------------------------------------------------------------------------- first-to-spike

def _fts_runs(rng, n_out, u_bits, t_max, count):
    """Random potentials ``u`` and spikes ``y`` ``[count, t_max, n_out]`` with many ties.

    Each run's first spiking step is drawn uniformly from ``1 .. t_max`` plus "never" (then
    the decision is the overall argmax at ``t_max``); that step has one or more spiking neurons.
    """
    half = 1 << (u_bits - 1)
    u = np.empty((count, t_max, n_out), dtype=np.int64)
    y = np.zeros((count, t_max, n_out), dtype=bool)
    for r in range(count):
        if r % 3 == 0:
            u[r] = rng.integers(-half, half, (t_max, n_out))          # full range, both signs
        else:
            c = int(rng.integers(-half, half - 1))
            u[r] = rng.integers(c, c + 2, (t_max, n_out))             # 2 values: ties everywhere
        first = int(rng.integers(0, t_max + 1))                       # t_max: no spike at all
        if first < t_max:
            y[r, first] = rng.random(n_out) < 0.4
            y[r, first, rng.integers(0, n_out)] = True
            y[r, first + 1:] = rng.random((t_max - first - 1, n_out)) < 0.5
    # Fixed corner cases: all equal and all spiking at step 1 (class 0), all equal and
    # silent (class 0 at t_max), extreme potentials where only the lower one spikes.
    u[0], y[0] = -half, True
    u[1], y[1] = half - 1, False
    u[2], y[2] = -half, False
    u[2, :, -1], y[2, -1, 0] = half - 1, True
    return u, y


def _fts_words(rng, u, y, layout, lanes, n_words, last_step):
    """Packed neuron words of steps 1..last_step; padding lanes carry random garbage."""
    n_out = u.shape[-1]
    words = []
    for t in range(1, last_step + 1):
        for q in range(n_words):
            us, spikes = [], 0
            for lane in range(lanes):
                j = q * lanes + lane
                if j < n_out:
                    us.append(int(u[t - 1, j]))
                    spikes |= int(y[t - 1, j]) << lane
                else:
                    us.append(int(rng.integers(0, 1 << 16)))          # masked to the field by pack
                    spikes |= int(rng.integers(0, 2)) << lane
            words.append(pack(layout, dict(step=t, word=q, last=int(q == n_words - 1),
                                           spikes=spikes, u=us)))
    return words


@pytest.mark.parametrize("n_out,lanes,u_bits,t_max", [
    (7, 3, 6, 5),     # 3 words, the last one with 2 padding lanes
    (4, 4, 4, 3),     # one word per step
    (5, 1, 8, 1),     # one lane, t_max = 1
    (10, 10, 6, 4),   # ten lanes: a register inside the lane tree (latency 5)
])
def test_first_to_spike_verilog_matches_golden(tmp_path, n_out, lanes, u_bits, t_max):
    rng = np.random.default_rng(100 * n_out + 10 * lanes + t_max)
    dut = FirstToSpike(n_out=n_out, lanes=lanes, u_bits=u_bits, t_max=t_max)
    n_words = dut.words
    layout = neuron_word_layout(lanes, u_bits, n_words, t_max)
    u, y = _fts_runs(rng, n_out, u_bits, t_max, count=60)
    want = expected_first_to_spike(u, y)
    assert {w["decided"] for w in want} == {0, 1}, "stimulus must cover both outcomes"
    runs = []
    for r, w in enumerate(want):
        # After the deciding step the unit may see a speculative next step: it must ignore it.
        last_step = min(t_max, w["step"] + int(rng.integers(0, 2)))
        runs.append(_fts_words(rng, u[r], y[r], layout, lanes, n_words, last_step))
    obs = run_component(dut, "first_to_spike", "first_to_spike",
                        dict(runs=runs, stall_prob=0.4, rng_seed=3, latency=dut.latency), tmp_path)

    assert len(obs["runs"]) == len(want)
    got = [dict(cls=o["cls"], step=o["step"], decided=o["spiked"]) for o in obs["runs"]]
    assert got == want, _first_difference(got, want)
    assert all(o["decided"] == 1 for o in obs["runs"]), "`decided` low after the decision"
    assert all(o["cleared"] == 1 for o in obs["runs"]), "`decided` still high after `clear`"
    # `decided` rises once per run, `latency` cycles after the last word of the deciding step
    # (register stages reduce the word's lanes, the last merges with the step's running best).
    # (The driver may already be sending the next step's words meanwhile.)
    sent_before = np.cumsum([0] + [len(words) for words in runs])[:-1]
    deciding = [int(s) + w["step"] * n_words - 1 for s, w in zip(sent_before, want)]
    got_delays = [r["cycle"] - obs["word_cycles"][k] for r, k in zip(obs["rises"], deciding)]
    assert len(obs["rises"]) == len(want)
    assert got_delays == [dut.latency] * len(want), _first_difference(got_delays, [dut.latency] * len(want))


# --------------------------------------------------------------------------- synapse memories

@pytest.mark.parametrize("kind,options", [
    ("sram", {}),
    ("sttram", dict(read_latency=3)),
])
def test_synapse_memory_verilog_reads(tmp_path, kind, options):
    rng = np.random.default_rng(5 if kind == "sram" else 6)
    data_width, depth = 12, 24
    init = [int(v) for v in rng.integers(0, 1 << data_width, depth)]
    dut = make_synapse_memory(kind, data_width=data_width, depth=depth, init=init, **options)
    latency = dut.read_latency
    cycles = 160
    # Back-to-back reads first, then random idle cycles (the address keeps changing).
    en = [1] * (cycles // 2) + [int(v) for v in rng.random(cycles - cycles // 2) < 0.6]
    addr = [int(a) for a in rng.integers(0, depth, cycles)]
    drain = latency + 4
    obs = run_component(dut, "synapse_memory", "synapse_memory",
                        dict(reads=[[e, a] for e, a in zip(en, addr)], drain=drain), tmp_path)

    seen = obs["seen"]
    assert len(seen) == cycles + drain
    want_valid = [en[c - latency] if 0 <= c - latency < cycles else 0 for c in range(len(seen))]
    got_valid = [v for v, _ in seen]
    assert got_valid == want_valid, f"rd_valid misaligned: {_first_difference(got_valid, want_valid)}"
    got = [(c, d) for c, (v, d) in enumerate(seen) if v]
    want = [(c, init[addr[c - latency]]) for c, v in enumerate(want_valid) if v]
    assert got == want, f"rd_data (cycle, word): {_first_difference(got, want)}"
    assert obs["reads"] == sum(en)


# --------------------------------------------------------------------------- LIF layer

@pytest.mark.parametrize("kw,memory,stall", [
    (dict(n_in=10, n_out=7, lanes=3, leak_shift=2, reset="subtract", refractory=2), "sram", 0.3),
    (dict(n_in=8, n_out=6, lanes=6, leak_shift=0, reset="zero", refractory=0, weight_bits=4, v_bits=7), "sttram", 0.0),
])
def test_lif_layer_verilog_matches_golden(tmp_path, kw, memory, stall):
    params = random_lif_layer(seed=kw["n_in"], **kw)
    spikes = np.random.default_rng(kw["n_out"]).random((8, params.n_in)) < 0.5
    words = synapse_words(np.asarray(params.weights)[:, :, None].tolist(), params.weight_bits, params.lanes)
    mem = make_synapse_memory(memory, data_width=params.lanes * params.weight_bits, depth=len(words),
                              init=words, **(dict(read_latency=3) if memory == "sttram" else {}))
    dut = LifLayer(params, t_max=len(spikes), memory=mem)
    ev_layout = event_layout(params.n_in, 1)
    events = [pack(ev_layout, dict(eos=1) if e == "eos" else dict(index=e[0], hist=e[1])) for e in lif_events(spikes)]
    want = expected_lif_words(spikes, params)
    obs = run_component(dut, "lif_layer", "lif_layer",
                        dict(events=events, n_words=len(want), stall_prob=stall, rng_seed=5), tmp_path)
    layout = neuron_word_layout(params.lanes, params.v_bits, dut.words, len(spikes))
    got = []
    for raw, expect in zip(obs["words"], want):
        w = unpack(layout, raw)
        got.append(dict(step=w["step"], word=w["word"], spikes=w["spikes"], u=w["u"][:len(expect["u"])]))
    assert len(obs["words"]) == len(want), "one neuron word per step and word, nothing more"
    assert got == want, _first_difference(got, want)
