"""The golden model's pieces against independent references (docs/semantics.md)."""

import numpy as np
import pytest
import torch

from spinaps.sw import golden


def test_xorshift32_matches_marsaglia():
    # Marsaglia (2003), "Xorshift RNGs": y = 2463534242 -> first output 723471715.
    assert int(golden.xorshift32(torch.tensor(2463534242))) == 723471715


def _draws_by_hand(state, n):
    out = []
    for _ in range(n):
        state ^= (state << 13) & 0xFFFFFFFF
        state ^= state >> 17
        state ^= (state << 5) & 0xFFFFFFFF
        out.append(state)
    return out


def test_draw_table_is_each_generator_stepped_in_order():
    base = [0x12345678, 0x0000FFFF, 0xDEAD0001]
    seeds = [0, 1, 65535]
    table = golden.draw_table(base, seeds, 7)
    for b, s in enumerate(seeds):
        for g, bs in enumerate(base):
            assert table[b, :, g].tolist() == _draws_by_hand(bs ^ (s << 16), 7)


def test_zero_low_half_seed_is_refused():
    with pytest.raises(ValueError, match="low 16 bits"):
        golden.initial_states([0x10000], [0])


def test_encoder_draw_order_and_comparison():
    base = [0x1001, 0x2002, 0x3003]                     # G = 3 lanes, 7 inputs -> Q = 3 groups
    x = np.array([[0, 255, 128, 7, 200, 90, 255]])
    spikes = golden.encode_bernoulli(x, [42], base, 2)
    for g, bs in enumerate(base):
        d = _draws_by_hand(bs ^ (42 << 16), 6)
        for t in range(2):
            for q in range(3):
                i = q * 3 + g
                if i < 7:
                    assert bool(spikes[0, t, i]) == ((d[t * 3 + q] >> 24) < x[0, i])


def test_histories_and_traces_follow_the_window():
    x = torch.tensor([[[1], [0], [1], [0], [0], [0]]], dtype=torch.bool)   # spikes at t=1, 3
    h = golden.histories(x, 3)[0, :, 0].tolist()
    assert h == [0b001, 0b010, 0b101, 0b010, 0b100, 0]
    c, active = golden.traces(x, [[3, 2, 1]])
    assert c[0, :, 0, 0].tolist() == [3, 2, 4, 2, 1, 0]
    assert active[0, :, 0].tolist() == [True] * 5 + [False]


def test_first_to_spike_rules():
    u = torch.tensor([[[1, 5, 5], [0, 0, 0]],        # step 1: 1 and 2 spike with equal u -> 1
                      [[9, 0, 0], [2, 7, 7]],        # no spike: argmax at T_max, tie -> 1
                      [[0, 0, 0], [3, 1, 4]]])       # step 2: 0 and 1 spike, 0 has higher u
    y = torch.tensor([[[0, 1, 1], [1, 1, 1]],
                      [[0, 0, 0], [0, 0, 0]],
                      [[0, 0, 0], [1, 1, 0]]], dtype=torch.bool)
    cls, step, decided = golden.first_to_spike(u, y)
    assert cls.tolist() == [1, 1, 0]
    assert step.tolist() == [1, 2, 2]
    assert decided.tolist() == [True, False, True]


def test_potential_floor_shift_and_clamp():
    from spinaps.sim.models import random_glm_model
    p = random_glm_model(n_in=2, n_out=2, u_bits=4).output_layer
    c = torch.tensor([[[[1], [0]]]])
    acc, u = golden.glm_potentials(c, p)
    expect = np.clip(p.gamma + np.floor(p.scale * p.weights[:, 0, 0] / 2**p.scale_shift), -8, 7)
    assert acc[0, 0].tolist() == p.weights[:, 0, 0].tolist()
    assert u[0, 0].tolist() == expect.astype(int).tolist()


def test_accuracy_by_step_ends_at_the_final_accuracy():
    from spinaps.sim.models import random_glm_model
    m = random_glm_model(seed=4, n_in=10, n_out=4, t_max=6)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (50, 10))
    labels = rng.integers(0, 4, 50)
    res = m.run(x, np.arange(50), labels=labels)
    assert len(res.accuracy_by_step) == 6
    assert res.accuracy_by_step[-1] == pytest.approx(res.accuracy(labels))
    # Nothing is counted or recorded after the decision step.
    for b in range(50):
        assert not res.spikes[b, res.step[b]:].any()
        assert not res.input_spikes[b, res.step[b]:].any()


def test_run_rejects_bad_samples():
    from spinaps.sim.models import random_glm_model
    m = random_glm_model()
    with pytest.raises(ValueError, match="shape"):
        m.run(np.zeros((2, 5)), np.arange(2))
    with pytest.raises(ValueError, match="8-bit"):
        m.run(np.full((2, m.n_in), 300), np.arange(2))
    with pytest.raises(ValueError, match="seed"):
        m.run(np.zeros((2, m.n_in)), np.arange(3))


def test_draw_table_shortcut_equals_stepping_every_generator():
    """draw_table tabulates xorshift32's linear parts (base seed, seed bytes): the same states as
    stepping each generator, for any seed, any shift and a narrower dtype."""
    rng = np.random.default_rng(5)
    base = [0xACE10001, 0x0BADF00D, 0x00010001, 0xFFFFFFFF]
    seeds = rng.integers(0, 65536, 6).tolist() + [0, 255, 256, 65535]
    full = golden.draw_table(base, seeds, 40)
    for b, s in enumerate(seeds):
        for g, bs in enumerate(base):
            assert full[b, :, g].tolist() == _draws_by_hand(bs ^ (s << 16), 40)
    assert torch.equal(golden.draw_table(base, seeds, 40, 24, torch.int16), (full >> 24).to(torch.int16))
    assert torch.equal(golden.draw_table(base, seeds, 40, 16, torch.int32), (full >> 16).to(torch.int32))


def test_run_in_batches_equals_one_batch():
    """run() fills its arrays batch by batch: any batch size gives the same result."""
    from spinaps.sim.models import random_network

    model = random_network(4, sizes=(9, 7, 4), output="lif", decision="spike_count", t_max=6, frames=2,
                           lif_options=dict(refractory=2, reset="zero"))
    rng = np.random.default_rng(1)
    xs, seeds = rng.integers(0, 256, (11, model.sample_size)), rng.integers(0, 65536, 11)
    whole, parts = model.run(xs, seeds, labels=np.arange(11) % 4), model.run(xs, seeds, labels=np.arange(11) % 4, batch=3)
    for key in ("cls", "step", "decided", "events", "sops", "input_spikes"):
        assert np.array_equal(getattr(whole, key), getattr(parts, key)), key
        assert getattr(whole, key).dtype == getattr(parts, key).dtype, key
    for a, b in zip(whole.layer_spikes + whole.layer_potentials, parts.layer_spikes + parts.layer_potentials):
        assert np.array_equal(a, b) and a.dtype == b.dtype
    assert whole.layer_potentials[0].dtype == np.int64
    assert whole.accuracy_by_step == parts.accuracy_by_step
