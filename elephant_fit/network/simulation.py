"""Free-running simulation and the teacher-forced pass of a :class:`SpikingNetwork`.

The free-running sampler is one loop over bins with one matrix product per bin,
``(n_trials, n_lags * n) @ (n_lags * n, n)``: the history of the last ``n_lags`` bins is a strided
view of a preallocated spike buffer (no copy), and the no-grad path allocates nothing per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .._validation import check_positive_int, check_seed, describe
from ..errors import ArgumentValueError
from .model import SpikingNetwork
from .recurrent import recurrent_sample, sample_loop
from .shard import Shard
from .surrogates import Surrogate, get_surrogate

__all__ = [
    "Simulation",
    "check_recorded",
    "known_input",
    "make_generator",
    "sampled_weights",
    "simulate",
    "teacher_forced",
]


@dataclass
class Simulation:
    """Output of :func:`simulate` and :func:`teacher_forced`.

    Attributes
    ----------
    spikes : torch.Tensor
        Shape (n_trials, n_bins, n_neurons), recorded neurons first: sampled spikes per bin
        (Bernoulli: 0/1; Poisson: counts), in the model's dtype. In the teacher-forced pass, the
        recorded columns are the data.
    u : torch.Tensor
        Shape (n_trials, n_bins, n_neurons): pre-activations, dimensionless (logits for
        Bernoulli; for Poisson the log, or inverse softplus, of the mean count per bin).

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.network import Simulation, SpikingNetwork, simulate, use_loop
    >>> network = SpikingNetwork(n_recorded=2, n_hidden=1, n_lags=3, seed=0)
    >>> with use_loop("torch"):
    ...     run = simulate(network, n_trials=2, n_bins=6, seed=0)
    >>> isinstance(run, Simulation), run.spikes.shape, run.u.shape
    (True, torch.Size([2, 6, 3]), torch.Size([2, 6, 3]))
    >>> p = network.expected_count(run.u)  # spike probability per bin, sigmoid(u)
    >>> bool(((p > 0) & (p < 1)).all())
    True
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
        The generator (``seed`` itself when it is one).

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.network import make_generator
    >>> generator = make_generator(5, torch.device("cpu"))
    >>> generator.initial_seed()
    5
    >>> make_generator(generator, torch.device("cpu")) is generator
    True
    >>> first = torch.rand(3, generator=make_generator(5, torch.device("cpu")))
    >>> bool(torch.equal(first, torch.rand(3, generator=make_generator(5, torch.device("cpu")))))
    True
    """
    if isinstance(seed, torch.Generator):
        return seed
    seed = check_seed(seed, allow_none=True)
    generator = torch.Generator(device=device)
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return generator


def _noise(
    model: SpikingNetwork,
    shape: tuple[int, ...],
    generator: torch.Generator,
    shard: Shard | None = None,
) -> torch.Tensor:
    """The observation model's noise for all bins at once, in the model's dtype and device.

    With a ``shard``, ``shape[0]`` is the share's trial count: the noise of the whole batch
    (``shard.total`` trials) is drawn and the share's trials kept, so a rank's trials get the
    random numbers they would get in one process.
    """
    if shard is None or shard.whole:
        return model.observation.noise(shape, generator, model.bias.dtype, model.bias.device)
    whole = (shard.total, *shape[1:])
    noise = model.observation.noise(whole, generator, model.bias.dtype, model.bias.device)
    return shard.take(noise).contiguous()


def simulate(
    model: SpikingNetwork,
    n_trials: int,
    n_bins: int,
    inputs: torch.Tensor | None = None,
    seed: int | torch.Generator | None = None,
    surrogate: str | Surrogate = "sigmoid",
    requires_grad: bool | None = None,
    first_bin: int = 0,
    shard: Shard | None = None,
    conditions: torch.Tensor | None = None,
) -> Simulation:
    """Run the network freely for ``n_trials`` trials of ``n_bins`` bins.

    Parameters
    ----------
    model : SpikingNetwork
        The network.
    n_trials, n_bins : int
        Size of the simulation: trials, and bins per trial.
    inputs : torch.Tensor, optional
        Covariates from the trial's first bin, shape (n_trials, first_bin + n_bins, n_inputs).
    seed : int or torch.Generator, optional
        Randomness; the same seed gives the same spikes.
    surrogate : str or Surrogate, optional
        Gradient surrogate through the Bernoulli samples ('pseudo', 'sigmoid', 'gumbel'); Poisson
        samples always pass the gradient of their mean.
    requires_grad : bool, optional
        Build the autograd graph. Default: ``torch.is_grad_enabled()``.
    first_bin : int, optional
        Start the run at this bin of the trial (the stimulus-locked drive is taken from there);
        the history before it is empty.
    shard : Shard, optional
        Simulate only the trials ``shard.start:shard.stop`` of the ``n_trials = shard.total``
        trials (data parallelism, :mod:`elephant_fit.distributed`): the result equals those
        trials of the whole run. ``inputs`` and ``conditions`` are then those of the whole run
        or of the share alone.
    conditions : torch.Tensor, optional
        Condition code of each trial, shape (n_trials,) (see
        :meth:`~elephant_fit.network.model.SpikingNetwork.static_input`): each trial runs under
        its condition's drive.

    Returns
    -------
    Simulation
        Spikes and pre-activations of shape (n_trials, n_bins, n_neurons) (``shard.n_trials``
        trials with a shard); history before the first bin is empty (no spikes).

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.network import SpikingNetwork, simulate, use_loop
    >>> network = SpikingNetwork(n_recorded=3, n_hidden=2, n_lags=4, seed=0)
    >>> with use_loop("torch"):
    ...     run = simulate(network, n_trials=4, n_bins=20, seed=1)
    ...     again = simulate(network, 4, 20, seed=1)
    >>> run.spikes.shape  # (n_trials, n_bins, n_neurons), recorded then hidden
    torch.Size([4, 20, 5])
    >>> bool(torch.equal(run.spikes, again.spikes))
    True
    """
    n_trials = check_positive_int(n_trials, "n_trials")
    n_bins = check_positive_int(n_bins, "n_bins")
    generator = make_generator(seed, model.bias.device)
    if shard is not None:
        _check_shard(shard, n_trials, "n_trials", whole=True)
        inputs, conditions = _share_of(shard, inputs), _share_of(shard, conditions)
        n_trials = shard.n_trials
    if inputs is not None:
        inputs = model.check_inputs(inputs, n_trials, first_bin + n_bins)
    if conditions is not None:
        conditions = model.check_conditions(conditions, n_trials)
    noise = _noise(model, (n_trials, n_bins, model.n_neurons), generator, shard)
    grad = torch.is_grad_enabled() if requires_grad is None else requires_grad
    with torch.set_grad_enabled(grad):
        static = model.static_input(n_bins, inputs, first_bin, conditions)
        static = static.expand(n_trials, n_bins, -1)
        if not grad:
            return _simulate_no_grad(model, static, noise)
        return _simulate_grad(model, static, noise, get_surrogate(surrogate))


def _share_of(shard: Shard, tensor: torch.Tensor | None) -> torch.Tensor | None:
    """The share's trials of a per-trial tensor given for the whole run (else as it is)."""
    if tensor is None or not isinstance(tensor, torch.Tensor) or len(tensor) != shard.total:
        return tensor
    return shard.take(tensor)


def _simulate_no_grad(
    model: SpikingNetwork, static: torch.Tensor, noise: torch.Tensor
) -> Simulation:
    """Free run without autograd from ``static`` input (n_trials, n_bins, n): one addmm per bin."""
    weights = sampled_weights(model, model.lagged_coupling(), first=0)
    history, u = sample_loop(model.observation, static, weights, noise, 0, model.n_lags)
    return Simulation(history[:, model.n_lags :], u)


def _simulate_grad(
    model: SpikingNetwork, static: torch.Tensor, noise: torch.Tensor, surrogate: Surrogate
) -> Simulation:
    """Free run with autograd through the samples, from ``static`` input (n_trials, n_bins, n)."""
    weights = sampled_weights(model, model.lagged_coupling(), first=0)
    spikes, u = _recurrent_loop(model, static, weights, noise, surrogate, first=0)
    return Simulation(spikes, u)


def _recurrent_loop(
    model: SpikingNetwork,
    u_known: torch.Tensor,
    weights: torch.Tensor,
    noise: torch.Tensor,
    surrogate: Surrogate,
    first: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample neurons ``first:`` bin by bin with gradients: :func:`~elephant_fit.network.recurrent.recurrent_sample`.

    The free run samples every neuron (``first=0``), the teacher-forced pass the hidden ones
    (``first=n_recorded``) while the recorded neurons' input is already in ``u_known``.
    """
    return recurrent_sample(
        model.observation,
        u_known,
        weights,
        noise,
        surrogate,
        first,
        model.n_lags,
    )


def check_recorded(model: SpikingNetwork, recorded: torch.Tensor) -> torch.Tensor:
    """Validate recorded spikes, shape (n_trials, n_bins, n_recorded); return them in the model's dtype and device."""
    if (
        not isinstance(recorded, torch.Tensor)
        or recorded.ndim != 3
        or recorded.shape[2] != model.n_recorded
    ):
        raise ArgumentValueError(
            f"Expected `recorded` of shape (n_trials, n_bins, n_recorded={model.n_recorded}), but got "
            f"{describe(recorded)}."
        )
    return recorded.to(device=model.bias.device, dtype=model.bias.dtype)


def teacher_forced(
    model: SpikingNetwork,
    recorded: torch.Tensor,
    inputs: torch.Tensor | None = None,
    seed: int | torch.Generator | None = None,
    surrogate: str | Surrogate = "sigmoid",
    shard: Shard | None = None,
    conditions: torch.Tensor | None = None,
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
        Recorded spike counts per bin, shape (n_trials, n_bins, n_recorded).
    inputs : torch.Tensor, optional
        Covariates, shape (n_trials, n_bins, n_inputs).
    seed : int or torch.Generator, optional
        Randomness of the hidden neurons.
    surrogate : str or Surrogate, optional
        Gradient surrogate through the hidden samples.
    shard : Shard, optional
        ``recorded`` holds the trials ``shard.start:shard.stop`` of a batch of ``shard.total``
        (data parallelism): the hidden neurons get the random numbers of those trials.
    conditions : torch.Tensor, optional
        Condition code of each trial, shape (n_trials,): each trial gets its condition's drive.

    Returns
    -------
    Simulation
        ``spikes`` (recorded = data, hidden = sampled) and ``u``, shape (n_trials, n_bins, n_neurons).

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.network import SpikingNetwork, teacher_forced, use_loop
    >>> network = SpikingNetwork(n_recorded=3, n_hidden=1, n_lags=3, seed=0)
    >>> recorded = torch.zeros(2, 8, 3)  # (n_trials, n_bins, n_recorded)
    >>> recorded[:, ::3, 0] = 1.0  # neuron 0 fires every third bin
    >>> with use_loop("torch"):
    ...     run = teacher_forced(network, recorded, seed=0)
    >>> run.spikes.shape, run.u.shape  # (n_trials, n_bins, n_neurons)
    (torch.Size([2, 8, 4]), torch.Size([2, 8, 4]))
    >>> bool(torch.equal(run.spikes[..., :3], recorded))  # the recorded columns are the data
    True
    >>> network.neg_log_likelihood(run.u[..., :3], recorded).shape  # nats per bin
    torch.Size([2, 8, 3])
    """
    recorded = check_recorded(model, recorded)
    n_trials, n_bins, _ = recorded.shape
    if shard is not None:
        _check_shard(shard, n_trials, "recorded trials", whole=False)
    coupling = model.lagged_coupling()
    u = known_input(model, recorded, inputs, coupling, conditions)
    if model.n_hidden == 0:
        return Simulation(recorded, u)
    generator = make_generator(seed, model.bias.device)
    noise = _noise(model, (n_trials, n_bins, model.n_hidden), generator, shard)
    weights = sampled_weights(model, coupling, first=model.n_recorded)
    hidden, u = _recurrent_loop(
        model, u, weights, noise, get_surrogate(surrogate), first=model.n_recorded
    )
    return Simulation(torch.cat([recorded, hidden], dim=2), u)


def _check_shard(shard: Shard, n_trials: int, what: str, whole: bool) -> None:
    """A shard must be a Shard of ``n_trials`` (its total, or its own trials)."""
    if isinstance(shard, Shard):
        expected = shard.total if whole else shard.n_trials
    if not isinstance(shard, Shard) or expected != n_trials:
        raise ArgumentValueError(
            f"Expected `shard` to be a Shard with {'total' if whole else 'n_trials'} equal to the "
            f"{what} ({n_trials}), but got {describe(shard)}."
        )


def known_input(
    model: SpikingNetwork,
    recorded: torch.Tensor,
    inputs: torch.Tensor | None,
    coupling: torch.Tensor,
    conditions: torch.Tensor | None = None,
) -> torch.Tensor:
    """Pre-activations without the hidden neurons' input: bias, drive, covariates, recorded history.

    Parameters
    ----------
    recorded : torch.Tensor
        Recorded spikes, shape (n_trials, n_bins, n_recorded), validated; or the spikes of every
        neuron, shape (n_trials, n_bins, n_neurons), for the complete input (hidden spikes given).
    inputs : torch.Tensor or None
        Covariates, shape (n_trials, n_bins, n_inputs) (validated here).
    coupling : torch.Tensor
        The model's coupling, shape (n_lags, n_neurons, n_neurons).
    conditions : torch.Tensor or None
        Condition codes, shape (n_trials,) (validated here).

    Returns
    -------
    torch.Tensor
        Shape (n_trials, n_bins, n_neurons) (an expanded view where trials share it).
    """
    n_trials, n_bins, _ = recorded.shape
    if inputs is not None:
        inputs = model.check_inputs(inputs, n_trials, n_bins)
    if conditions is not None:
        conditions = model.check_conditions(conditions, n_trials)
    u = model.static_input(n_bins, inputs, conditions=conditions) + model.history(
        recorded, coupling[:, : recorded.shape[2]]
    )
    return u.expand(n_trials, n_bins, model.n_neurons)


def sampled_weights(model: SpikingNetwork, coupling: torch.Tensor, first: int) -> torch.Tensor:
    """Outgoing weights of neurons ``first:`` as (n_lags * n_sampled, n_neurons), oldest lag first.

    Rows match a buffer of those neurons' spikes in the last n_lags bins, oldest first
    (``first=0``: every neuron, for the free run; ``first=n_recorded``: the hidden neurons).

    Parameters
    ----------
    coupling : torch.Tensor
        The model's coupling, shape (n_lags, n_neurons, n_neurons).
    first : int
        Index of the first sampled neuron.

    Returns
    -------
    torch.Tensor
        Shape (n_lags * (n_neurons - first), n_neurons).
    """
    return coupling[:, first:].flip(0).reshape(-1, model.n_neurons)
