"""Free-running simulation and the teacher-forced pass of a :class:`SpikingNetwork`.

The free-running sampler is one loop over bins with one matrix product per bin,
``(n_trials, n_lags * n) @ (n_lags * n, n)``: the history of the last ``n_lags`` bins is a strided
view of a preallocated spike buffer (no copy), and the no-grad path allocates nothing per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ._validation import check_positive_int, describe
from .estimators import SpikeEstimator, get_estimator, logistic_noise
from .model import SpikingNetwork

__all__ = [
    "Simulation",
    "check_recorded",
    "hidden_weights",
    "known_input",
    "make_generator",
    "simulate",
    "teacher_forced",
]


@dataclass
class Simulation:
    """Output of :func:`simulate` and :func:`teacher_forced`.

    Attributes
    ----------
    spikes : torch.Tensor
        Shape (n_trials, n_bins, n_neurons): sampled spikes (Bernoulli: 0/1; Poisson: counts). In
        the teacher-forced pass, the recorded columns are the data.
    u : torch.Tensor
        Shape (n_trials, n_bins, n_neurons): pre-activations (logits for Bernoulli).
    """

    spikes: torch.Tensor
    u: torch.Tensor


def make_generator(seed: int | torch.Generator | None, device: torch.device) -> torch.Generator:
    """A torch.Generator on ``device`` from a seed (None: a random seed), or the generator itself.

    Parameters
    ----------
    seed : int, torch.Generator or None
        Seed or generator.
    device : torch.device
        Device of the generator.

    Returns
    -------
    torch.Generator
        The generator.
    """
    if isinstance(seed, torch.Generator):
        return seed
    generator = torch.Generator(device=device)
    if seed is None:
        generator.seed()
    elif isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(
            f"Expected `seed` to be an int, a torch.Generator or None, but got {describe(seed)}."
        )
    else:
        generator.manual_seed(seed)
    return generator


def _noise(
    model: SpikingNetwork, shape: tuple[int, ...], generator: torch.Generator
) -> torch.Tensor:
    """Noise for all bins at once (logistic for Bernoulli; uniform for Poisson via inverse CDF)."""
    dtype, device = model.bias.dtype, model.bias.device
    if model.observation == "bernoulli":
        return logistic_noise(shape, generator, dtype, device)
    return torch.rand(shape, generator=generator, dtype=dtype, device=device)


def _poisson_sample(mean: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """Poisson counts from given uniforms: inverse CDF for means up to 20, normal approximation above.

    Parameters
    ----------
    mean : torch.Tensor
        Mean counts, any shape.
    uniform : torch.Tensor
        Uniform(0, 1) samples, same shape.

    Returns
    -------
    torch.Tensor
        Counts with a straight-through gradient equal to that of the mean.
    """
    with torch.no_grad():
        lam = mean.detach().double().clamp(min=0.0)  # float64: the running CDF must reach 1
        uniform = uniform.double()
        small = lam.clamp(max=20.0)
        term = torch.exp(-small)
        cdf = term.clone()
        count = torch.zeros_like(lam)
        for k in range(1, 80):  # P(count >= 80 | mean 20) < 1e-20
            below = uniform > cdf
            if not bool(below.any()):
                break
            count += below.to(count.dtype)
            term = term * small / k
            cdf = cdf + term
        normal = torch.sqrt(torch.tensor(2.0, dtype=lam.dtype)) * torch.erfinv(2 * uniform - 1)
        large = torch.clamp(torch.round(lam + torch.sqrt(lam) * normal), min=0.0)
        count = torch.where(lam > 20.0, large, count).to(mean.dtype)
    return count + (mean - mean.detach())


def simulate(
    model: SpikingNetwork,
    n_trials: int,
    n_bins: int,
    inputs: torch.Tensor | None = None,
    seed: int | torch.Generator | None = None,
    estimator: str | SpikeEstimator = "sigmoid",
    requires_grad: bool | None = None,
) -> Simulation:
    """Run the network freely for ``n_trials`` trials of ``n_bins`` bins.

    Parameters
    ----------
    model : SpikingNetwork
        The network.
    n_trials, n_bins : int
        Size of the simulation.
    inputs : torch.Tensor, optional
        Covariates, shape (n_trials, n_bins, n_inputs).
    seed : int or torch.Generator, optional
        Randomness; the same seed gives the same spikes.
    estimator : str or SpikeEstimator, optional
        Gradient estimator through the Bernoulli samples ('pseudo', 'sigmoid', 'gumbel'); Poisson
        samples always pass the gradient of their mean.
    requires_grad : bool, optional
        Build the autograd graph. Default: ``torch.is_grad_enabled()``.

    Returns
    -------
    Simulation
        Spikes and pre-activations of shape (n_trials, n_bins, n_neurons); history before the
        first bin is empty (no spikes).
    """
    n_trials = check_positive_int(n_trials, "n_trials")
    n_bins = check_positive_int(n_bins, "n_bins")
    if inputs is not None:
        inputs = model.check_inputs(inputs, n_trials, n_bins)
    generator = make_generator(seed, model.bias.device)
    noise = _noise(model, (n_trials, n_bins, model.n_neurons), generator)
    grad = torch.is_grad_enabled() if requires_grad is None else requires_grad
    if not grad:
        with torch.no_grad():
            return _simulate_no_grad(model, n_trials, n_bins, inputs, noise)
    with torch.enable_grad():
        return _simulate_grad(model, n_trials, n_bins, inputs, noise, get_estimator(estimator))


def _flat_coupling(model: SpikingNetwork) -> torch.Tensor:
    """Coupling as (n_lags * n, n), rows ordered oldest lag first (matches the history buffer)."""
    coupling = model.coupling()
    return coupling.flip(0).reshape(model.n_lags * model.n_neurons, model.n_neurons)


def _simulate_no_grad(
    model: SpikingNetwork,
    n_trials: int,
    n_bins: int,
    inputs: torch.Tensor | None,
    noise: torch.Tensor,
) -> Simulation:
    """Free run without autograd: preallocated buffers, one addmm per bin."""
    n, lags = model.n_neurons, model.n_lags
    weights = _flat_coupling(model)
    static = model.static_input(n_bins, inputs).expand(n_trials, n_bins, n)
    buffer = torch.zeros(n_trials, lags + n_bins, n, dtype=weights.dtype, device=weights.device)
    u = torch.empty(n_trials, n_bins, n, dtype=weights.dtype, device=weights.device)
    u_t = torch.empty(n_trials, n, dtype=weights.dtype, device=weights.device)
    drive = torch.empty_like(u_t)  # u + noise
    fired = torch.empty(n_trials, n, dtype=torch.bool, device=weights.device)
    bernoulli = model.observation == "bernoulli"
    for t in range(n_bins):
        history = buffer[:, t : t + lags].reshape(n_trials, lags * n)  # a view: no copy
        torch.addmm(static[:, t], history, weights, out=u_t)
        u[:, t] = u_t
        if bernoulli:  # u + logistic noise > 0, into preallocated buffers
            torch.gt(torch.add(u_t, noise[:, t], out=drive), 0, out=fired)
            buffer[:, t + lags] = fired
        else:  # Poisson: the inverse-CDF sampler allocates (small means: a few steps)
            buffer[:, t + lags] = _poisson_sample(model.mean(u_t), noise[:, t])
    return Simulation(buffer[:, lags:], u)


def _simulate_grad(
    model: SpikingNetwork,
    n_trials: int,
    n_bins: int,
    inputs: torch.Tensor | None,
    noise: torch.Tensor,
    estimator: SpikeEstimator,
) -> Simulation:
    """Free run with autograd through the samples (straight-through estimator)."""
    n, lags = model.n_neurons, model.n_lags
    weights = _flat_coupling(model)
    static = model.static_input(n_bins, inputs).expand(n_trials, n_bins, n)
    zero = torch.zeros(n_trials, n, dtype=weights.dtype, device=weights.device)
    recent = [zero] * lags
    spikes, us = [], []
    for t in range(n_bins):
        u_t = torch.addmm(static[:, t], torch.cat(recent, dim=1), weights)
        z_t = _sample_grad(model, u_t, noise[:, t], estimator)
        recent = [*recent[1:], z_t]
        spikes.append(z_t)
        us.append(u_t)
    return Simulation(torch.stack(spikes, dim=1), torch.stack(us, dim=1))


def _sample_grad(
    model: SpikingNetwork, u_t: torch.Tensor, noise_t: torch.Tensor, estimator: SpikeEstimator
) -> torch.Tensor:
    """Sample one bin with a surrogate gradient."""
    if model.observation == "bernoulli":
        return estimator.sample(u_t, noise_t)
    return _poisson_sample(model.mean(u_t), noise_t)


def check_recorded(model: SpikingNetwork, recorded: torch.Tensor) -> torch.Tensor:
    """Validate recorded spikes, shape (n_trials, n_bins, n_recorded); return them in the model's dtype and device."""
    if (
        not isinstance(recorded, torch.Tensor)
        or recorded.ndim != 3
        or recorded.shape[2] != model.n_recorded
    ):
        raise ValueError(
            f"Expected `recorded` of shape (n_trials, n_bins, n_recorded={model.n_recorded}), but got "
            f"{describe(recorded)}."
        )
    return recorded.to(device=model.bias.device, dtype=model.bias.dtype)


def teacher_forced(
    model: SpikingNetwork,
    recorded: torch.Tensor,
    inputs: torch.Tensor | None = None,
    seed: int | torch.Generator | None = None,
    estimator: str | SpikeEstimator = "sigmoid",
) -> Simulation:
    """Pre-activations given the recorded spikes (teacher forcing).

    Without hidden neurons there is no loop over time: the history of every bin comes from one
    convolution (im2col + one matrix product). With hidden neurons, their spikes are sampled bin
    by bin (as in Bellec et al. 2021) while the recorded neurons' history comes from the data.

    Parameters
    ----------
    model : SpikingNetwork
        The network.
    recorded : torch.Tensor
        Recorded spikes, shape (n_trials, n_bins, n_recorded).
    inputs : torch.Tensor, optional
        Covariates, shape (n_trials, n_bins, n_inputs).
    seed : int or torch.Generator, optional
        Randomness of the hidden neurons.
    estimator : str or SpikeEstimator, optional
        Gradient estimator through the hidden samples.

    Returns
    -------
    Simulation
        ``spikes`` (recorded = data, hidden = sampled) and ``u``, shape (n_trials, n_bins, n_neurons).
    """
    recorded = check_recorded(model, recorded)
    n_trials, n_bins, _ = recorded.shape
    if inputs is not None:
        inputs = model.check_inputs(inputs, n_trials, n_bins)
    coupling = model.coupling()
    u = known_input(model, recorded, inputs, coupling)
    if model.n_hidden == 0:
        return Simulation(recorded, u)
    generator = make_generator(seed, model.bias.device)
    noise = _noise(model, (n_trials, n_bins, model.n_hidden), generator)
    return _hidden_loop(
        model, recorded, u, hidden_weights(model, coupling), noise, get_estimator(estimator)
    )


def known_input(
    model: SpikingNetwork,
    recorded: torch.Tensor,
    inputs: torch.Tensor | None,
    coupling: torch.Tensor,
) -> torch.Tensor:
    """Pre-activations without the hidden neurons' input: bias, drive, covariates, recorded history.

    Parameters
    ----------
    recorded : torch.Tensor
        Recorded spikes, shape (n_trials, n_bins, n_recorded), validated.
    inputs : torch.Tensor or None
        Validated covariates, shape (n_trials, n_bins, n_inputs).
    coupling : torch.Tensor
        The model's coupling, shape (n_lags, n_neurons, n_neurons).

    Returns
    -------
    torch.Tensor
        Shape (n_trials, n_bins, n_neurons) (an expanded view where trials share it).
    """
    n_trials, n_bins, _ = recorded.shape
    u = model.static_input(n_bins, inputs) + model.history(
        recorded, coupling[:, : model.n_recorded]
    )
    return u.expand(n_trials, n_bins, model.n_neurons)


def hidden_weights(model: SpikingNetwork, coupling: torch.Tensor) -> torch.Tensor:
    """Hidden neurons' outgoing weights as (n_lags * n_hidden, n_neurons), rows oldest lag first.

    Matches a buffer of the hidden spikes of the last n_lags bins, oldest first.
    """
    return coupling[:, model.n_recorded :].flip(0).reshape(-1, model.n_neurons)


def _hidden_loop(
    model: SpikingNetwork,
    recorded: torch.Tensor,
    u_recorded: torch.Tensor,
    weights: torch.Tensor,
    noise: torch.Tensor,
    estimator: SpikeEstimator,
) -> Simulation:
    """Add the hidden neurons' recurrent input bin by bin, sampling their spikes."""
    n_trials, n_bins, _ = recorded.shape
    zero = torch.zeros(n_trials, model.n_hidden, dtype=u_recorded.dtype, device=u_recorded.device)
    recent = [zero] * model.n_lags
    hidden, us = [], []
    for t in range(n_bins):
        u_t = torch.addmm(u_recorded[:, t], torch.cat(recent, dim=1), weights)
        z_t = _sample_grad(model, u_t[:, model.n_recorded :], noise[:, t], estimator)
        recent = [*recent[1:], z_t]
        hidden.append(z_t)
        us.append(u_t)
    spikes = torch.cat([recorded, torch.stack(hidden, dim=1)], dim=2)
    return Simulation(spikes, torch.stack(us, dim=1))
