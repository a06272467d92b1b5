"""LIF layers, multi-layer networks, decisions and frames of the golden model against
independent plain-Python references written from docs/semantics.md (sections 0, 1, 5b, 6, 7)."""

import dataclasses

import numpy as np
import pytest
import torch

from spinaps.sim.models import random_lif_layer, random_network
from spinaps.sw import golden


def _lif_by_hand(spikes, p):
    """Section 5b, one neuron and one step at a time, Python integers only."""
    w = np.asarray(p.weights).tolist()
    half = 1 << (p.v_bits - 1)
    b_, t_, _ = spikes.shape
    u_out = np.zeros((b_, t_, p.n_out), dtype=np.int64)
    y_out = np.zeros((b_, t_, p.n_out), dtype=bool)
    for b in range(b_):
        for j in range(p.n_out):
            v, r = 0, 0
            theta, bias = int(p.threshold[j]), int(p.bias[j])
            for t in range(t_):
                acc = sum(w[j][i] for i in range(p.n_in) if spikes[b, t, i])
                if r > 0:
                    u, y, r = v, False, r - 1
                else:
                    leak = v >> p.leak_shift if p.leak_shift else 0
                    u = max(-half, min(half - 1, v - leak + acc + bias))
                    y = u >= theta
                    v = (u - theta if p.reset == "subtract" else 0) if y else u
                    r = p.refractory if y else 0
                u_out[b, t, j], y_out[b, t, j] = u, y
    return u_out, y_out


@pytest.mark.parametrize("leak_shift, reset, refractory, v_bits", [
    (0, "subtract", 0, 8), (2, "subtract", 1, 8), (3, "zero", 2, 6), (1, "zero", 0, 10), (15, "subtract", 3, 24)])
def test_lif_layer_matches_hand_reference(leak_shift, reset, refractory, v_bits):
    p = random_lif_layer(leak_shift, n_in=9, n_out=7, weight_bits=4, v_bits=v_bits, leak_shift=leak_shift,
                         reset=reset, refractory=refractory)
    rng = np.random.default_rng(leak_shift + v_bits)
    s = torch.as_tensor(rng.random((5, 20, 9)) < 0.5)
    u, y = golden.lif_layer(s, p)
    u_ref, y_ref = _lif_by_hand(s.numpy(), p)
    assert np.array_equal(u.numpy(), u_ref) and np.array_equal(y.numpy(), y_ref)
    assert y_ref.any() and not y_ref.all()      # the case exercises both outcomes


def test_lif_saturates_at_both_ends():
    p = golden.LifLayerParams(weights=np.array([[15], [-15]]), weight_bits=4, threshold=np.array([31, 31]),
                              bias=np.array([0, 0]), v_bits=6, leak_shift=0, reset="zero", refractory=0, lanes=2)
    s = torch.ones((1, 6, 1), dtype=torch.bool)
    u, y = golden.lif_layer(s, p)
    assert u[0, :, 1].tolist() == [-15, -30, -32, -32, -32, -32]
    assert u[0, :3, 0].tolist() == [15, 30, 31] and y[0, 2, 0] and not y[0, 1, 0]


def _decide_by_hand(u, y, decision):
    t_max, n = u.shape
    if decision == "spike_count":
        counts = y.sum(axis=0)
        best = max(range(n), key=lambda j: (counts[j], -j))
        return best, t_max, bool(counts.any())
    if decision == "max_potential":
        best = max(range(n), key=lambda j: (u[-1, j], -j))
        return best, t_max, True
    for t in range(t_max):
        fired = [j for j in range(n) if y[t, j]]
        if fired:
            return max(fired, key=lambda j: (u[t, j], -j)), t + 1, True
    return max(range(n), key=lambda j: (u[-1, j], -j)), t_max, False


@pytest.mark.parametrize("decision", golden.DECISIONS)
def test_decisions_match_hand_reference(decision):
    rng = np.random.default_rng(3)
    u = torch.as_tensor(rng.integers(-3, 4, (40, 6, 4)))
    y = torch.as_tensor(rng.random((40, 6, 4)) < 0.15)
    cls, step, decided = golden.decide(u, y, decision)
    for b in range(40):
        assert (int(cls[b]), int(step[b]), bool(decided[b])) == _decide_by_hand(u[b].numpy(), y[b].numpy(), decision)
    by_step = golden.classes_by_step(u, y, decision)
    assert torch.equal(by_step[:, -1], cls)
    for t in range(1, 6):   # cutting T_max to t is deciding on the first t steps
        assert torch.equal(by_step[:, t - 1], golden.decide(u[:, :t], y[:, :t], decision)[0])


def test_network_chains_layers_within_a_step():
    model = random_network(5, sizes=(10, 8, 6, 4), output="lif", decision="spike_count", t_max=7)
    x = np.random.default_rng(1).integers(0, 256, (6, 10))
    seeds = np.arange(6)
    res = model.run(x, seeds)
    s = golden.encode_bernoulli(x, seeds, model.encoder_base_seeds, model.t_max)
    for index, lp in enumerate(model.layers):
        u, y = golden.lif_layer(s, lp)
        assert np.array_equal(res.layer_potentials[index], u.numpy())
        assert np.array_equal(res.layer_spikes[index], y.numpy())        # spike_count: no early exit
        assert np.array_equal(res.events[:, index], s.sum(dim=(1, 2)).numpy())
        assert np.array_equal(res.sops[:, index], s.sum(dim=(1, 2)).numpy() * lp.n_out)
        s = y
    assert (res.step == model.t_max).all()


def test_hybrid_counters_stop_at_the_decision_step():
    model = random_network(2, sizes=(12, 8, 5), output="glm", t_max=10)
    x = np.random.default_rng(4).integers(0, 256, (30, 12))
    res = model.run(x, np.arange(30))
    hidden_in = res.input_spikes.sum(axis=2)                 # masked after the decision
    assert np.array_equal(res.events[:, 0], hidden_in.sum(axis=1))
    for b in range(30):
        assert not res.layer_spikes[0][b, res.step[b]:].any()
        assert not res.spikes[b, res.step[b]:].any()


def test_frames_pick_one_frame_per_step_and_hold_the_last():
    base = [0x1001, 0x2002]
    seeds = np.array([7])
    frames = np.array([[255, 0, 0, 255, 255, 255]])           # F = 3 frames of 2 inputs
    x = golden.encode_bernoulli(frames, seeds, base, 5, frames=3)
    assert x[0, :, 0].tolist() == [True, False, True, True, True]
    assert x[0, :, 1].tolist() == [False, True, True, True, True]
    with pytest.raises(ValueError, match="frames"):
        golden.encode_bernoulli(np.zeros((1, 5)), seeds, base, 5, frames=3)


def test_model_refuses_bad_networks():
    lif = random_lif_layer(0, n_in=12, n_out=8)
    glm = random_network(0, sizes=(8, 5)).output_layer
    seeds = np.arange(1, 5, dtype=np.uint32) * 0x10001
    with pytest.raises(ValueError, match="must chain"):
        golden.GoldenModel(t_max=4, encoder_base_seeds=seeds, layers=(lif, dataclasses.replace(lif, weights=lif.weights[:, :5])))
    with pytest.raises(ValueError, match="can only be the output layer"):
        golden.GoldenModel(t_max=4, encoder_base_seeds=seeds, layers=(dataclasses.replace(glm), lif))
    with pytest.raises(ValueError, match="needs a lif output layer"):
        golden.GoldenModel(t_max=4, encoder_base_seeds=seeds, layers=(lif, glm), decision="spike_count")
    with pytest.raises(ValueError, match="not one of"):
        golden.GoldenModel(t_max=4, encoder_base_seeds=seeds, layers=(lif,), decision="vote")
