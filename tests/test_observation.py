"""Observation models: means and their inverses, likelihoods, samplers, clipping, baselines."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from elephant_fit.network.observation import (
    MEAN_FLOOR,
    Bernoulli,
    Observation,
    Poisson,
    get_observation,
)

OBSERVATIONS = {
    "bernoulli": Bernoulli(),
    "poisson-exp": Poisson("exp"),
    "poisson-softplus": Poisson("softplus"),
}
#: Pre-activations whose means lie well inside the range the inverse does not clamp.
U_RANGE = {"bernoulli": (-9.0, 9.0), "poisson-exp": (-9.0, 4.0), "poisson-softplus": (-9.0, 30.0)}


def generator(seed):
    return torch.Generator().manual_seed(seed)


def independent_mean(name, u):
    if name == "bernoulli":
        return 1.0 / (1.0 + torch.exp(-u))
    if name == "poisson-exp":
        return torch.exp(u)
    return torch.log1p(torch.exp(u))


@pytest.mark.parametrize("name", list(OBSERVATIONS))
def test_mean_is_the_link_and_inverse_mean_undoes_it(name):
    observation = OBSERVATIONS[name]
    u = torch.linspace(*U_RANGE[name], 101, dtype=torch.float64)
    mean = observation.mean(u)
    # rtol 1e-9: torch's softplus is linear above 20 (relative error exp(-u) / u there)
    torch.testing.assert_close(mean, independent_mean(name, u), rtol=1e-9, atol=0)
    torch.testing.assert_close(observation.inverse_mean(mean), u, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", list(OBSERVATIONS))
def test_inverse_mean_clamps_impossible_means(name):
    observation = OBSERVATIONS[name]
    u = observation.inverse_mean(torch.tensor([0.0, -1.0], dtype=torch.float64))
    assert torch.isfinite(u).all()
    torch.testing.assert_close(
        observation.mean(u), torch.full((2,), MEAN_FLOOR, dtype=torch.float64)
    )
    if observation.binary:
        top = observation.mean(observation.inverse_mean(torch.tensor([1.0], dtype=torch.float64)))
        torch.testing.assert_close(top, torch.tensor([1 - MEAN_FLOOR], dtype=torch.float64))


@pytest.mark.parametrize("name", list(OBSERVATIONS))
def test_neg_log_likelihood_matches_torch_distributions(name):
    observation = OBSERVATIONS[name]
    u = torch.randn(50, 4, generator=generator(0), dtype=torch.float64) * 2
    if observation.binary:
        counts = (torch.rand(50, 4, generator=generator(1), dtype=torch.float64) < 0.4).double()
        expected = -torch.distributions.Bernoulli(logits=u).log_prob(counts)
    else:
        counts = torch.randint(0, 12, (50, 4), generator=generator(1)).double()
        rate = independent_mean(name, u)
        expected = -torch.distributions.Poisson(rate).log_prob(counts)
    torch.testing.assert_close(
        observation.neg_log_likelihood(u, counts), expected, rtol=1e-10, atol=1e-12
    )


#: Means to sample at: for Poisson, both the inverse CDF (<= 20) and the normal branch (> 20).
SAMPLED_MEANS = {"bernoulli": [0.2, 0.5, 0.9], "poisson": [0.3, 3.0, 35.0]}


@pytest.mark.parametrize("name", list(OBSERVATIONS))
def test_samples_have_the_model_mean_and_variance(name):
    observation = OBSERVATIONS[name]
    means = torch.tensor(SAMPLED_MEANS[observation.name], dtype=torch.float64)
    u = observation.inverse_mean(means).expand(10_000, 3)  # < 32768 entries: one thread, fast
    noise = observation.noise(u.shape, generator(2), torch.float64, u.device)
    counts = observation.sample(u, noise)
    assert counts.dtype == u.dtype
    assert torch.equal(counts, counts.round())
    assert counts.min() >= 0
    if observation.binary:
        assert counts.max() <= 1
    variance = means * (1 - means) if observation.binary else means
    standard_error = torch.sqrt(variance / u.shape[0])
    assert torch.all((counts.mean(dim=0) - means).abs() < 5 * standard_error)
    torch.testing.assert_close(counts.var(dim=0), variance, rtol=0.1, atol=0)
    # same noise, same counts: the sampler is a function of (u, noise)
    again = observation.noise(u.shape, generator(2), torch.float64, u.device)
    assert torch.equal(observation.sample(u, again), counts)


@pytest.mark.parametrize("name", list(OBSERVATIONS))
def test_sample_into_writes_what_sample_returns(name):
    observation = OBSERVATIONS[name]
    u = torch.randn(40, 5, generator=generator(3), dtype=torch.float64)
    noise = observation.noise(u.shape, generator(4), torch.float64, u.device)
    out = torch.full_like(u, -7.0)
    observation.sample_into(u, observation.prepare_noise(noise), out)
    assert torch.equal(out, observation.sample(u, noise))


@pytest.mark.parametrize("name", ["poisson-exp", "poisson-softplus"])
def test_poisson_samples_pass_the_gradient_of_their_mean(name):
    observation = OBSERVATIONS[name]
    u = torch.linspace(-2.0, 2.0, 9, dtype=torch.float64, requires_grad=True)
    noise = observation.noise(u.shape, generator(5), torch.float64, u.device)
    observation.sample(u, noise).sum().backward()
    expected = torch.exp(u) if name == "poisson-exp" else torch.sigmoid(u)
    torch.testing.assert_close(u.grad, expected.detach(), rtol=1e-12, atol=0)


def test_clip_counts_clips_only_binary_models_and_leaves_the_input_alone():
    counts = torch.tensor([[0.0, 1.0, 2.0], [3.0, 0.0, 1.0]])
    before = counts.clone()
    clipped, changed = Bernoulli().clip_counts(counts)
    assert changed
    assert torch.equal(clipped, torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]]))
    assert torch.equal(counts, before)
    binary = torch.tensor([[0.0, 1.0, 1.0]])
    same, changed = Bernoulli().clip_counts(binary)
    assert not changed
    assert same is binary
    for link in ("exp", "softplus"):
        same, changed = Poisson(link).clip_counts(counts)
        assert not changed
        assert same is counts
    assert torch.equal(counts, before)


@pytest.mark.parametrize("name", list(OBSERVATIONS))
def test_baseline_is_a_homogeneous_rate_per_neuron(name):
    observation = OBSERVATIONS[name]
    rng = np.random.default_rng(6)
    if observation.binary:
        counts = (rng.random((7, 30, 3)) < [0.1, 0.3, 0.6]).astype(float)
    else:
        counts = rng.poisson([0.2, 1.5, 6.0], size=(7, 30, 3)).astype(float)
    rate = counts.mean(axis=(0, 1))  # each neuron's mean count per bin
    if observation.binary:
        expected = -np.sum(counts * np.log(rate) + (1 - counts) * np.log1p(-rate))
    else:
        log_factorial = np.vectorize(lambda k: math.lgamma(k + 1))(counts)
        expected = -np.sum(counts * np.log(rate) - rate - log_factorial)
    value = observation.baseline_neg_log_likelihood(torch.from_numpy(counts).float())
    assert isinstance(value, float)
    assert value == pytest.approx(expected, rel=1e-9)


def test_get_observation_by_name_instance_and_errors():
    assert get_observation("bernoulli") == Bernoulli()
    assert get_observation("poisson") == Poisson("exp")
    assert get_observation("poisson", link="softplus") == Poisson("softplus")
    assert Poisson("exp") != Poisson("softplus")
    instance = Poisson("softplus")
    assert get_observation(instance) is instance
    assert isinstance(get_observation("bernoulli"), Observation)
    with pytest.raises(ValueError, match="`link`"):
        get_observation(instance, link="exp")
    with pytest.raises(ValueError, match="`link`"):
        get_observation("bernoulli", link="exp")
    with pytest.raises(ValueError, match="`observation`"):
        get_observation("gauss")
    with pytest.raises(TypeError, match="`observation`"):
        get_observation(3)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_bernoulli_noise_is_the_logistic_transform_of_the_generators_uniforms(dtype):
    """Bit for bit ``log(U + tiny) - log1p(-U + tiny)`` of the same draws (fits stay reproducible)."""
    uniform = torch.rand((6, 50, 7), generator=torch.Generator().manual_seed(3), dtype=dtype)
    tiny = torch.finfo(dtype).tiny
    expected = torch.log(uniform + tiny) - torch.log1p(-uniform + tiny)
    noise = Bernoulli().noise((6, 50, 7), torch.Generator().manual_seed(3), dtype, "cpu")
    assert torch.equal(noise, expected)
    assert (noise > 0).double().mean().item() == pytest.approx(0.5, abs=0.05)  # median 0
