"""Gradient surrogates: exact forward samples, surrogate derivatives equal their formulas."""

from __future__ import annotations

import pytest
import torch

from elephant_fit.network.observation import Bernoulli
from elephant_fit.network.surrogates import (
    GumbelSigmoid,
    PseudoDerivative,
    SigmoidStraightThrough,
    get_surrogate,
)


def grad_of(surrogate, u, noise):
    u = u.clone().requires_grad_(True)
    surrogate.sample(u, noise).sum().backward()
    return u.grad


def test_forward_is_an_exact_bernoulli_sample():
    u = torch.full((200_000,), -1.2, dtype=torch.float64)
    noise = Bernoulli().noise(u.shape, torch.Generator().manual_seed(0), torch.float64, u.device)
    for surrogate in (PseudoDerivative(), SigmoidStraightThrough(), GumbelSigmoid(0.5)):
        z = surrogate.sample(u, noise)
        assert set(torch.unique(z).tolist()) == {0.0, 1.0}
        assert abs(z.mean().item() - torch.sigmoid(torch.tensor(-1.2)).item()) < 4e-3


def test_pseudo_derivative_equals_the_papers_formula():
    u = torch.linspace(-3, 3, 61, dtype=torch.float64)
    noise = torch.zeros_like(u)
    grad = grad_of(PseudoDerivative(gamma=0.3), u, noise)
    expected = 0.3 * torch.clamp(1 - u.abs(), min=0)
    torch.testing.assert_close(grad, expected)
    assert grad[u.abs() > 1].abs().max() == 0  # vanishes for p < 0.27 or p > 0.73


def test_sigmoid_straight_through_has_the_sigmoid_derivative():
    u = torch.linspace(-6, 6, 49, dtype=torch.float64)
    grad = grad_of(SigmoidStraightThrough(), u, torch.randn_like(u))
    p = torch.sigmoid(u)
    torch.testing.assert_close(grad, p * (1 - p))
    assert (grad > 0).all()


def test_gumbel_sigmoid_gradient_is_that_of_the_relaxation():
    u = torch.linspace(-4, 4, 33, dtype=torch.float64)
    noise = Bernoulli().noise(u.shape, torch.Generator().manual_seed(1), torch.float64, u.device)
    tau = 0.7
    grad = grad_of(GumbelSigmoid(tau), u, noise)
    soft = torch.sigmoid((u + noise) / tau)
    torch.testing.assert_close(grad, soft * (1 - soft) / tau)


def test_get_estimator_by_name_and_errors():
    assert isinstance(get_surrogate("pseudo"), PseudoDerivative)
    assert isinstance(get_surrogate("sigmoid"), SigmoidStraightThrough)
    assert isinstance(get_surrogate("gumbel"), GumbelSigmoid)
    custom = PseudoDerivative(0.5)
    assert get_surrogate(custom) is custom
    with pytest.raises(ValueError, match=r"`surrogate`.*'nope'"):
        get_surrogate("nope")
    with pytest.raises(ValueError, match="`tau`"):
        GumbelSigmoid(0.0)
