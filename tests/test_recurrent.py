"""The fused recurrent kernel (torch and numba loops): the same samples as the autograd loop, and the same gradients."""

from __future__ import annotations

import pytest
import torch

from elephant_fit.network import SpikingNetwork, simulate, teacher_forced
from elephant_fit.network.loops import use_loop
from elephant_fit.network.observation import Bernoulli
from elephant_fit.network.recurrent import RecurrentSampler, recurrent_sample
from elephant_fit.network.surrogates import Surrogate

CASES = [
    # observation, surrogate, n_hidden, basis, dale, n_inputs, n_conditions
    ("bernoulli", "sigmoid", 2, None, False, 0, 1),
    ("bernoulli", "pseudo", 2, "raised_cosine", True, 0, 1),
    ("bernoulli", "gumbel", 0, None, False, 2, 1),
    ("bernoulli", "sigmoid", 0, "exponential", False, 0, 1),
    ("poisson", "sigmoid", 2, None, True, 1, 1),
    ("poisson", "sigmoid", 0, None, False, 0, 1),
    ("bernoulli", "sigmoid", 2, None, False, 1, 3),
]


def _passes(loop, dtype, observation, surrogate, n_hidden, basis, dale, n_inputs, n_conditions):
    """Free run and teacher-forced pass of one network, a loss through spikes and u, its gradient."""
    with use_loop(loop):
        return _run_passes(
            dtype, observation, surrogate, n_hidden, basis, dale, n_inputs, n_conditions
        )


def _run_passes(dtype, observation, surrogate, n_hidden, basis, dale, n_inputs, n_conditions):
    bernoulli = observation == "bernoulli"
    model = SpikingNetwork(
        4,
        n_hidden=n_hidden,
        n_lags=3,
        observation=observation,
        n_bins=30,
        drive="smooth",
        basis=basis,
        n_basis=2 if basis else None,
        dale=dale,
        n_inputs=n_inputs,
        n_conditions=n_conditions,
        seed=1,
    ).to(dtype)
    with torch.no_grad():  # strong coupling: many spikes, so the history matters
        model.bias.fill_(-1.0 if bernoulli else -2.0)
        model.coupling_weights.mul_(3.0 if bernoulli else 1.0)
        if n_inputs:
            model.input_filters.normal_(0.0, 0.3, generator=torch.Generator().manual_seed(7))
        if n_conditions > 1:  # drives that differ between conditions
            model.drive_weights.normal_(0.0, 1.0, generator=torch.Generator().manual_seed(8))
    conditions = torch.arange(6) % n_conditions if n_conditions > 1 else None
    inputs = None
    if n_inputs:
        inputs = torch.randn(
            6, 30, n_inputs, dtype=dtype, generator=torch.Generator().manual_seed(5)
        )
    free = simulate(model, 6, 30, inputs=inputs, seed=3, surrogate=surrogate, conditions=conditions)
    recorded = (torch.rand(6, 30, 4, generator=torch.Generator().manual_seed(2)) < 0.3).to(dtype)
    forced = teacher_forced(
        model, recorded, inputs=inputs, seed=4, surrogate=surrogate, conditions=conditions
    )
    loss = (
        (free.spikes.cumsum(1) ** 2).mean()
        + torch.sigmoid(free.u).pow(2).mean()
        + (forced.spikes.sum(-1) * torch.sin(forced.u.sum(-1))).mean()
        + forced.u.pow(2).mean()
    )
    loss.backward()
    gradients = {name: p.grad.clone() for name, p in model.named_parameters()}
    return (free.spikes, free.u, forced.spikes, forced.u), gradients


@pytest.mark.parametrize("loop", ["torch", "numba"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(str(v) for v in c))
def test_fused_kernel_equals_the_autograd_loop(case, dtype, loop):
    fused, fused_grads = _passes(loop, dtype, *case)
    reference, reference_grads = _passes("autograd", dtype, *case)
    free_spikes, free_u, forced_spikes, forced_u = fused
    assert torch.equal(free_spikes, reference[0])  # the same samples
    assert torch.equal(forced_spikes, reference[2])
    if loop == "torch":  # the same pre-activations, bit for bit
        assert torch.equal(free_u, reference[1])
        assert torch.equal(forced_u, reference[3])
    else:  # numba adds the same terms in another order
        atol = 1e-12 if dtype == torch.float64 else 1e-5
        torch.testing.assert_close(free_u, reference[1], rtol=0.0, atol=atol)
        torch.testing.assert_close(forced_u, reference[3], rtol=0.0, atol=atol)
    assert free_spikes.sum() > 10  # the networks do spike
    assert all(torch.isfinite(x).all() for x in fused)
    rtol = 1e-12 if dtype == torch.float64 else 2e-5
    for name, gradient in reference_grads.items():
        scale = gradient.abs().max().clamp(min=torch.finfo(dtype).tiny)
        assert float((fused_grads[name] - gradient).abs().max() / scale) < rtol, name
        assert gradient.abs().max() > 0, name


def test_the_fused_kernel_is_one_autograd_node():
    model = SpikingNetwork(3, n_hidden=2, n_lags=2, seed=0)
    free = simulate(model, 4, 50, seed=0, requires_grad=True)
    assert type(free.u.grad_fn).__name__ == "RecurrentSamplerBackward"


def test_gradients_of_the_fused_kernels_by_finite_differences_of_a_frozen_sample():
    """With the samples frozen (noise = +-inf), spikes are fixed and u is linear in the inputs:
    the hand-written backward of u then is exact, so gradcheck applies to it."""
    generator = torch.Generator().manual_seed(0)
    n_trials, n_bins, n_neurons, n_lags = 3, 12, 4, 2
    u_known = torch.randn(n_trials, n_bins, n_neurons, dtype=torch.float64, generator=generator)
    weights = torch.randn(n_lags * n_neurons, n_neurons, dtype=torch.float64, generator=generator)
    sign = torch.rand(n_trials, n_bins, n_neurons, generator=generator) < 0.4
    noise = torch.where(sign, torch.inf, -torch.inf).to(torch.float64)  # spike iff +inf

    for loops in (("torch", "torch"), ("numba", "numba"), ("numba", "torch")):

        def u_of(known, w, loops=loops):
            return RecurrentSampler.apply(known, w, noise, Bernoulli(), None, 0, n_lags, loops)[1]

        inputs = (u_known.detach().requires_grad_(), weights.detach().requires_grad_())
        assert torch.autograd.gradcheck(u_of, inputs), loops


def test_a_surrogate_without_a_closed_form_derivative_uses_autograd():
    class Custom(Surrogate):
        name = "custom"

        def sample(self, u, noise):
            soft = torch.sigmoid(2 * (u + noise))
            return (u + noise > 0).to(u.dtype) + soft - soft.detach()

    u_known = torch.zeros(2, 5, 3, requires_grad=True)
    weights = torch.zeros(3, 3, requires_grad=True)
    noise = Bernoulli().noise((2, 5, 3), torch.Generator().manual_seed(0), torch.float32, "cpu")
    _, u = recurrent_sample(Bernoulli(), u_known, weights, noise, Custom(), 0, 1)
    assert type(u.grad_fn).__name__ != "RecurrentSamplerBackward"
    u.sum().backward()
    assert u_known.grad is not None
