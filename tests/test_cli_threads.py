"""spinaps.threads: one torch thread on a busy machine, up to four on an idle one, overridable."""

import pytest

from spinaps.threads import ENV, choose_threads


@pytest.mark.parametrize("cores, load, expected", [(2, 1.9, 1), (2, 1.5, 1), (2, 0.3, 2), (8, 0.5, 4),
                                                   (8, 7.6, 1), (1, 0.0, 1)])
def test_choice_follows_the_load(cores, load, expected):
    n, why = choose_threads(cores=cores, load=load, env={})
    assert n == expected
    assert why == f"load {load:.1f} on {cores} cores"


def test_overrides():
    assert choose_threads(3, cores=2, load=5.0, env={ENV: "2"}) == (3, "--threads")
    assert choose_threads(cores=2, load=5.0, env={ENV: "2"}) == (2, ENV)
    for bad in ("0", "two", "-1"):
        with pytest.raises(ValueError, match=ENV):
            choose_threads(cores=2, load=0.0, env={ENV: bad})
    with pytest.raises(ValueError, match="--threads"):
        choose_threads(0, cores=2, load=0.0, env={})


def test_use_threads_sets_torch_and_says_so():
    import torch

    from spinaps.threads import use_threads
    before = torch.get_num_threads()
    try:
        assert use_threads(1) == "torch threads: 1 (--threads)"
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
