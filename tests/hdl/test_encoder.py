"""Amaranth simulator: the encoder's events equal the golden model's spikes and histories."""


import numpy as np
import pytest

from spinaps.hdl.encoder import BernoulliEncoder
from spinaps.sim.amaranth_streams import encoder_runs, encoder_word_runs
from spinaps.sw import golden
from spinaps.sim.expect import expected_encoder_events as expected_events


@pytest.mark.parametrize("n_inputs,lanes,tau,stall", [
    (13, 4, 1, 0.0), (13, 5, 3, 0.3), (8, 8, 2, 0.5), (5, 1, 1, 0.2), (20, 16, 8, 0.0),
])
def test_encoder_matches_golden(n_inputs, lanes, tau, stall):
    rng = np.random.default_rng(n_inputs * 100 + lanes)
    t_max = 6
    base_seeds = [int(s) | 1 for s in rng.integers(1, 2**32, lanes)]
    dut = BernoulliEncoder(n_inputs=n_inputs, lanes=lanes, tau=tau, t_max=t_max, base_seeds=base_seeds)
    samples = [rng.integers(0, 256, n_inputs, dtype=np.int64) for _ in range(2)]
    seeds = [3, 65535]
    got = encoder_runs(dut, samples, seeds, t_max, stall=stall)
    for x, seed, g in zip(samples, seeds, got):
        assert g == expected_events(x, seed, base_seeds, tau, t_max)


@pytest.mark.parametrize("n_inputs,lanes,per_word,frames,stall", [
    (13, 4, 1, 1, 0.3), (13, 4, 2, 1, 0.3), (16, 4, 2, 1, 0.0), (9, 2, 2, 3, 0.4), (12, 5, 2, 2, 0.2),
])
def test_encoder_words_match_golden(n_inputs, lanes, per_word, frames, stall):
    """Window mode: one word per group, or per two groups (each generator drawing twice a
    cycle; odd group counts and frames included), the golden model's spikes."""
    rng = np.random.default_rng(n_inputs * 10 + lanes)
    t_max = 5
    base_seeds = [int(s) | 1 for s in rng.integers(1, 2**32, lanes)]
    dut = BernoulliEncoder(n_inputs=n_inputs, lanes=lanes, tau=1, t_max=t_max, base_seeds=base_seeds,
                           frames=frames, words_out=True, groups_per_word=per_word)
    assert dut.words_per_step == -(-(-(-n_inputs // lanes)) // per_word)
    samples = [rng.integers(0, 256, n_inputs * frames, dtype=np.int64) for _ in range(2)]
    seeds = [7, 40000]
    got = encoder_word_runs(dut, samples, seeds, t_max, stall=stall)
    for x, seed, g in zip(samples, seeds, got):
        want = golden.encode_bernoulli(x[None], np.array([seed]), base_seeds, t_max, frames)[0]
        np.testing.assert_array_equal(g, want)


def test_encoder_two_groups_per_word_needs_words_out():
    with pytest.raises(ValueError, match="groups_per_word"):
        BernoulliEncoder(n_inputs=8, lanes=4, tau=1, t_max=4, base_seeds=[1, 2, 3, 4], groups_per_word=2)


@pytest.mark.parametrize("kw,field", [
    (dict(n_inputs=0), "n_inputs"), (dict(lanes=0), "lanes"), (dict(lanes=9), "lanes"),
    (dict(tau=9), "tau"), (dict(t_max=0), "t_max"),
])
def test_encoder_rejects_bad_parameters(kw, field):
    args = dict(n_inputs=8, lanes=4, tau=1, t_max=4, base_seeds=[1, 2, 3, 4])
    args.update(kw)
    if "lanes" in kw and kw["lanes"] > 0:
        args["base_seeds"] = [1] * kw["lanes"]
    with pytest.raises(ValueError, match=field):
        BernoulliEncoder(**args)
