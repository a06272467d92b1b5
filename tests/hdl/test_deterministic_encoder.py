"""Amaranth simulator: the deterministic encoder's events equal the golden model's spikes
and histories (docs/semantics.md 3.2, 4), with random stalls on both streams."""


import numpy as np
import pytest

from spinaps import contract
from spinaps.hdl.deterministic_encoder import DeterministicEncoder
from spinaps.sim.amaranth_streams import encoder_runs
from spinaps.sim.expect import expected_encoder_events as expected_events


@pytest.mark.parametrize("n_inputs,lanes,tau,frames,stall", [
    (13, 4, 1, 1, 0.0), (13, 5, 3, 1, 0.3), (8, 8, 2, 3, 0.5), (5, 1, 1, 2, 0.2), (20, 16, 8, 1, 0.0),
    (6, 6, 2, 1, 0.4),                                  # one group: transparent accumulator read
])
def test_deterministic_encoder_matches_golden(n_inputs, lanes, tau, frames, stall):
    rng = np.random.default_rng(n_inputs * 100 + lanes)
    t_max = 9
    dut = DeterministicEncoder(n_inputs=n_inputs, lanes=lanes, tau=tau, t_max=t_max, frames=frames)
    samples = [rng.integers(0, 256, frames * n_inputs, dtype=np.int64) for _ in range(2)]
    samples[1][:3] = [255, 0, 128]
    got = encoder_runs(dut, samples, [3, 65535], t_max, stall=stall)
    for x, g in zip(samples, got):
        want = expected_events(x, 0, None, tau, t_max, frames)
        assert g == want
    assert any(e != "eos" for e in got[0])


def test_storage_reports_the_accumulators():
    dut = DeterministicEncoder(n_inputs=13, lanes=5, tau=3, t_max=4, frames=2)
    assert dut.storage == {"samples": ("bram", 8 * 5 * 3 * 2), "history": ("bram", 5 * 2 * 3),
                           "accumulators": ("bram", contract.INTENSITY_BITS * 5 * 3)}


@pytest.mark.parametrize("kw,field", [
    (dict(n_inputs=0), "n_inputs"), (dict(lanes=0), "lanes"), (dict(lanes=9), "lanes"),
    (dict(tau=9), "tau"), (dict(t_max=0), "t_max"), (dict(frames=0), "frames"),
])
def test_deterministic_encoder_rejects_bad_parameters(kw, field):
    args = dict(n_inputs=8, lanes=4, tau=1, t_max=4)
    args.update(kw)
    with pytest.raises(ValueError, match=field):
        DeterministicEncoder(**args)
