"""First-to-spike loss: log-domain likelihood, closed-form gradient, decision probabilities."""

import itertools

import pytest
import torch

from spinaps.sw.loss import (
    closed_form_grad,
    first_to_spike_decision_probs,
    first_to_spike_loss,
    log_rho,
)


def _random_case(B, T, J, seed, spread=3.0):
    g = torch.Generator().manual_seed(seed)
    u = (torch.randn(B, T, J, generator=g, dtype=torch.float64) * spread).requires_grad_()
    target = torch.randint(0, J, (B,), generator=g)
    return u, target


def _direct_likelihood(u, target):
    """P = sum_t rho_t straight from the product formula (probability domain)."""
    s = torch.sigmoid(u)
    B, T, J = u.shape
    P = torch.zeros(B, dtype=u.dtype)
    for b in range(B):
        c = int(target[b])
        survive = torch.tensor(1.0, dtype=u.dtype)
        for t in range(T):
            others = torch.prod(torch.cat([1 - s[b, t, :c], 1 - s[b, t, c + 1:]]))
            P[b] += survive * s[b, t, c] * others
            survive = survive * torch.prod(1 - s[b, t])
    return P


@pytest.mark.parametrize("B,T,J,seed", [(1, 1, 2, 0), (3, 5, 4, 1), (8, 16, 10, 2), (5, 32, 3, 3), (2, 7, 26, 4)])
def test_autograd_matches_closed_form(B, T, J, seed):
    u, target = _random_case(B, T, J, seed)
    first_to_spike_loss(u, target, reduction="sum").backward()
    expected = closed_form_grad(u.detach(), target)
    torch.testing.assert_close(u.grad, expected, rtol=1e-6, atol=1e-9)


def test_mean_reduction_is_sum_over_batch():
    u, target = _random_case(6, 4, 5, 7)
    first_to_spike_loss(u, target).backward()
    torch.testing.assert_close(u.grad, closed_form_grad(u.detach(), target) / 6, rtol=1e-6, atol=1e-12)


def test_gradient_comparison_detects_the_exclusive_tail():
    """The comparison can fail: R_t summed over t'' > t (not >= t) is measurably wrong."""
    u, target = _random_case(4, 6, 5, 11)
    first_to_spike_loss(u, target, reduction="sum").backward()
    r = torch.softmax(log_rho(u.detach(), target), dim=1)
    R_exclusive = r.flip(1).cumsum(1).flip(1) - r
    wrong = torch.sigmoid(u.detach()) * R_exclusive[:, :, None]
    wrong.scatter_add_(2, target.view(-1, 1, 1).expand(-1, 6, 1), -r[:, :, None])
    assert (u.grad - wrong).abs().max() > 1e-3


def test_log_domain_equals_probability_domain():
    u, target = _random_case(4, 6, 5, 5, spread=2.0)
    loss = first_to_spike_loss(u, target, reduction="none")
    torch.testing.assert_close(loss, -torch.log(_direct_likelihood(u, target)), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_extreme_potentials_stay_finite(dtype):
    levels = torch.tensor([-50.0, 50.0], dtype=dtype)
    # Every pattern of +-50 over 2 steps x 3 neurons, with every target.
    patterns = torch.stack([levels[list(p)] for p in itertools.product([0, 1], repeat=6)]).view(-1, 2, 3)
    for c in range(3):
        u = patterns.clone().requires_grad_()
        target = torch.full((len(u),), c)
        loss = first_to_spike_loss(u, target, reduction="none")
        loss.sum().backward()
        assert torch.isfinite(loss).all() and torch.isfinite(u.grad).all()
        assert (loss >= 0).all()
        # The target alone at +50 on step 1, everybody else at -50: certain success.
        winner = torch.full((1, 2, 3), -50.0, dtype=dtype)
        winner[0, 0, c] = 50.0
        assert first_to_spike_loss(winner, torch.tensor([c])).item() < 1e-6


def test_loss_rejects_bad_shapes():
    with pytest.raises(ValueError, match="shape"):
        first_to_spike_loss(torch.zeros(2, 3), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="target"):
        first_to_spike_loss(torch.zeros(2, 3, 4), torch.zeros(3, dtype=torch.long))


def _enumerated_decision_probs(u):
    """Decision probabilities by enumerating every spike pattern (small sizes only)."""
    s = torch.sigmoid(u)
    T, J = u.shape
    decided = torch.zeros(T, J, dtype=u.dtype)
    reach = torch.tensor(1.0, dtype=u.dtype)
    for t in range(T):
        for pattern in itertools.product([0, 1], repeat=J):
            fired = torch.tensor(pattern, dtype=torch.bool)
            if not fired.any():
                continue
            p = torch.prod(torch.where(fired, s[t], 1 - s[t]))
            winner = int(torch.where(fired, u[t], -torch.inf).argmax())
            decided[t, winner] += reach * p
        reach = reach * torch.prod(1 - s[t])
    return decided, reach


def test_decision_probs_match_enumeration_with_ties():
    g = torch.Generator().manual_seed(3)
    u = torch.randn(2, 3, 4, generator=g, dtype=torch.float64) * 2
    u[0, 1, 2] = u[0, 1, 0]  # a tie: the lower index must win it
    u[1, 0, :] = 8.0  # saturated step: everybody ties
    decided, undecided = first_to_spike_decision_probs(u)
    for b in range(2):
        exp_decided, exp_undecided = _enumerated_decision_probs(u[b])
        torch.testing.assert_close(decided[b], exp_decided, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(undecided[b], exp_undecided, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(decided.sum((1, 2)) + undecided, torch.ones(2, dtype=torch.float64))


def test_decision_loss_is_the_exact_decision_probability():
    """With a hard fallback (large gain) the loss is -log P(the decision rule picks the class)."""
    import torch

    from spinaps.sw.loss import decision_loss, first_to_spike_decision_probs

    torch.manual_seed(0)
    u = torch.randn(6, 5, 4) * 2
    target = torch.tensor([0, 1, 2, 3, 1, 0])
    decided, undecided = first_to_spike_decision_probs(u)
    p = decided[torch.arange(6), :, target].sum(1) + undecided * (u[:, -1].argmax(1) == target).float()
    got = decision_loss(u, target, reduction="none", undecided_gain=1e4)
    assert torch.allclose(got, -torch.log(p), atol=1e-5)
    # Never above the "alone" loss: deciding correctly includes spiking first alone.
    from spinaps.sw.loss import first_to_spike_loss
    assert (got <= first_to_spike_loss(u, target, reduction="none") + 1e-6).all()


def test_expected_error_is_one_minus_p_with_a_p_weighted_gradient():
    """``expected_error(-log P) = 1 - P``; its gradient is the log loss's scaled by ``P``."""
    from spinaps.sw.loss import expected_error

    torch.manual_seed(1)
    u = (torch.randn(5, 6, 4) * 2).requires_grad_()
    target = torch.tensor([0, 1, 2, 3, 1])
    nll = first_to_spike_loss(u, target, reduction="none")
    p = torch.exp(-nll)
    err = expected_error(nll)
    assert torch.allclose(err, 1 - p)
    g_err, = torch.autograd.grad(err.sum(), u, retain_graph=True)
    g_nll = torch.stack([torch.autograd.grad(nll[b], u, retain_graph=True)[0][b] for b in range(5)])
    assert torch.allclose(g_err, p.detach()[:, None, None] * g_nll, atol=1e-6)
