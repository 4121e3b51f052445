"""Ground-truth networks for examples, tests and benchmarks: recorded neurons driven by hidden ones."""

from __future__ import annotations

import math

import quantities as pq
import torch

from .._validation import check_number
from ..data.spikedata import SpikeData
from ..errors import ArgumentValueError
from .bases import gaussian_bumps
from .model import SpikingNetwork
from .simulation import simulate

__all__ = [
    "assembly_network",
    "confounded_pairs",
    "hidden_input_network",
    "sample_spikedata",
    "trial_state_network",
]


def hidden_input_network(
    n_recorded: int = 20,
    n_hidden: int = 20,
    n_bins: int = 100,
    n_lags: int = 3,
    fan_out: int = 4,
    hidden_weight: float = 2.0,
    recorded_rate: float = 0.04,
    hidden_rate: float = 0.15,
    seed: int = 0,
) -> SpikingNetwork:
    """A network whose hidden neurons give common input to groups of recorded neurons.

    Each hidden neuron excites ``fan_out`` random recorded neurons (weight ``hidden_weight`` at lag 1,
    decaying over ``n_lags``), so recorded neurons that share a hidden input are correlated at zero
    lag: activity that a model of the recorded neurons alone explains poorly. All neurons get a
    smooth stimulus-locked drive (repeated-stimulus design), a refractory self-history, and
    recorded neurons weak sparse couplings among themselves.

    Parameters
    ----------
    n_recorded, n_hidden : int, optional
        Population sizes.
    n_bins : int, optional
        Bins per trial.
    n_lags : int, optional
        Filter length in bins.
    fan_out : int, optional
        Recorded targets per hidden neuron.
    hidden_weight : float, optional
        Weight of a hidden -> recorded connection at lag 1.
    recorded_rate, hidden_rate : float, optional
        Baseline spike probabilities per bin.
    seed : int, optional
        Seed of the random structure.

    Returns
    -------
    SpikingNetwork
        The ground truth (float32, CPU), with a free drive of ``n_bins`` bins.

    Examples
    --------
    >>> truth = hidden_input_network(n_recorded=6, n_hidden=3, seed=0)
    >>> truth.n_recorded, truth.n_hidden, truth.n_lags
    (6, 3, 3)
    """
    generator = torch.Generator().manual_seed(seed)
    n = n_recorded + n_hidden
    model = SpikingNetwork(
        n_recorded, n_hidden=n_hidden, n_lags=n_lags, n_bins=n_bins, drive="free", seed=seed
    )
    decay = torch.exp(-torch.arange(n_lags, dtype=torch.float32))  # lag profile 1, e^-1, ...
    weights = torch.zeros(n_lags, n, n)
    for h in range(n_recorded, n):
        targets = torch.randperm(n_recorded, generator=generator)[:fan_out]
        weights[:, h, targets] = hidden_weight * decay.view(-1, 1)
    sparse = (torch.rand(n_recorded, n_recorded, generator=generator) < 0.1).float()
    recurrent = 0.4 * torch.randn(n_recorded, n_recorded, generator=generator) * sparse
    weights[:, :n_recorded, :n_recorded] += recurrent.unsqueeze(0) * decay.view(-1, 1, 1)
    weights[0, torch.arange(n), torch.arange(n)] = -2.0  # refractoriness
    bumps = gaussian_bumps(max(2, n_bins // 10), n_bins).float()
    drive = bumps @ torch.randn(bumps.shape[1], n, generator=generator) * 0.8
    base = torch.cat(
        [torch.full((n_recorded,), recorded_rate), torch.full((n_hidden,), hidden_rate)]
    )
    with torch.no_grad():
        model.coupling_weights.copy_(weights)
        model.drive_weights.copy_(drive)
        # the hidden neurons' mean input to recorded ones is compensated in the bias
        mean_hidden_input = hidden_rate * weights[:, n_recorded:, :].sum(dim=(0, 1))
        model.bias.copy_(torch.logit(base) - mean_hidden_input)
    return model


def assembly_network(
    n_recorded: int = 20,
    n_hidden: int = 60,
    n_assemblies: int = 6,
    n_bins: int = 100,
    n_lags: int = 4,
    seed: int = 0,
    *,
    projection_weight: float = 0.6,
    assembly_weight: float = 0.35,
    n_targets: int = 4,
) -> SpikingNetwork:
    """A ground truth in which maximum likelihood on the recorded neurons must fail.

    More hidden than recorded neurons, organised in assemblies that fire together (recurrent
    excitation within an assembly, an assembly-specific stimulus drive). Each assembly projects to
    a few recorded neurons, each target at its *own delay* (lag 1..n_lags), so a recorded neuron
    hit early predicts one hit later: the best one-step predictor of the recorded neurons has
    directed coupling between pairs that are not connected. Some recorded neurons excite an
    assembly (recorded -> hidden -> recorded loops). Recorded neurons also have sparse direct
    couplings (the ground truth to recover) and refractory self-history.

    Parameters
    ----------
    n_recorded, n_hidden : int, optional
        Population sizes (hidden neurons split evenly into ``n_assemblies``).
    n_assemblies : int, optional
        Number of hidden assemblies.
    n_bins : int, optional
        Bins per trial (a free stimulus-locked drive of this length).
    n_lags : int, optional
        Filter length in bins (delays of hidden -> recorded projections lie in 1..n_lags).
    seed : int, optional
        Seed of the random structure.
    projection_weight : float, optional
        Weight (on the input ``u``) of each hidden -> recorded projection; about 60 % of an
        assembly's members project to each of its targets. Larger: a stronger shared hidden input.
    assembly_weight : float, optional
        Weight of the excitation between members of one assembly (how strongly they co-fire).
    n_targets : int, optional
        Recorded neurons each assembly projects to (at most ``n_recorded``).

    Returns
    -------
    SpikingNetwork
        The ground truth (float32, CPU).

    Raises
    ------
    ArgumentValueError
        If ``n_targets`` is not in 1..n_recorded or a weight is negative or not finite.

    Examples
    --------
    The benchmark's truth: 20 recorded neurons, 60 hidden ones in assemblies.

    >>> truth = assembly_network(seed=0)
    >>> truth.n_recorded, truth.n_hidden
    (20, 60)
    """
    if not 1 <= n_targets <= n_recorded:
        raise ArgumentValueError(
            f"n_targets must be in 1..n_recorded ({n_recorded}), got {n_targets!r}"
        )
    check_number(projection_weight, "projection_weight", positive=True)
    check_number(assembly_weight, "assembly_weight", positive=True)
    generator = torch.Generator().manual_seed(seed)
    n = n_recorded + n_hidden
    model = SpikingNetwork(
        n_recorded, n_hidden=n_hidden, n_lags=n_lags, n_bins=n_bins, drive="free", seed=seed
    )
    weights = torch.zeros(n_lags, n, n)  # [lag - 1, pre, post]
    decay = torch.exp(-torch.arange(n_lags, dtype=torch.float32))
    members = torch.arange(n_hidden).chunk(n_assemblies)
    bumps = gaussian_bumps(max(2, n_bins // 10), n_bins).float()
    drive = bumps @ torch.randn(bumps.shape[1], n, generator=generator) * 0.5
    for assembly in members:
        hidden = assembly + n_recorded
        weights[0, hidden.view(-1, 1), hidden.view(1, -1)] = assembly_weight  # co-firing
        drive[:, hidden] += (bumps @ torch.randn(bumps.shape[1], 1, generator=generator)) * 0.8
        targets = torch.randperm(n_recorded, generator=generator)[:n_targets]
        for target in targets.tolist():
            delay = int(torch.randint(0, n_lags, (1,), generator=generator))
            projecting = hidden[torch.rand(len(hidden), generator=generator) < 0.6]
            weights[delay, projecting, target] = projection_weight
        source = int(torch.randint(0, n_recorded, (1,), generator=generator))
        weights[0, source, hidden] = 1.0  # loop: recorded -> assembly -> recorded
    direct = (torch.rand(n_recorded, n_recorded, generator=generator) < 0.1).float()
    direct.fill_diagonal_(0.0)
    strength = torch.randn(n_recorded, n_recorded, generator=generator).clamp(-2.5, 2.5) * 0.8
    weights[:, :n_recorded, :n_recorded] += (direct * strength).unsqueeze(0) * decay.view(-1, 1, 1)
    weights[0, torch.arange(n), torch.arange(n)] = -3.0  # refractoriness
    base = torch.cat([torch.full((n_recorded,), 0.03), torch.full((n_hidden,), 0.04)])
    with torch.no_grad():
        model.coupling_weights.copy_(weights)
        model.drive_weights.copy_(drive)
        model.bias.copy_(torch.logit(base))
    return model


def trial_state_network(
    n_recorded: int = 16,
    n_bins: int = 100,
    n_lags: int = 3,
    n_states: int = 1,
    switch_probability: float = 1e-4,
    state_weight: float = 1.0,
    recorded_rate: float = 0.03,
    seed: int = 0,
) -> SpikingNetwork:
    """A ground truth whose trials fall into two modes: a hidden state set at random per trial.

    Recorded neurons (baseline spike probability ``recorded_rate`` per bin, a smooth
    stimulus-locked drive, refractoriness, weak sparse couplings) and ``n_states`` hidden *state*
    neurons. In bin 0 a state neuron fires with probability 1/2; a self-excitation at lag 1 of
    ``2 logit(1 - switch_probability)`` then keeps it firing in every bin of the trial, or silent
    in every bin (it flips with probability ``switch_probability`` per bin). It excites recorded
    neuron i at lag 1 with weight ``a_i / sqrt(n_states)``, ``a_i`` uniform in
    ``state_weight * [0.5, 1.5]``. With one state, each trial is "on" or "off" as a whole and the
    per-trial population rate is bimodal. With ``n_states = K`` independent states the summed
    state input ``sum_k a_i S_k / sqrt(K)`` has the variance of one state's, and the recorded
    biases are shifted by ``-a_i (sqrt(K) - 1) / 2`` so that its mean is one state's too: the
    same PSTH and noise covariance to second order, but a unimodal, binomial distribution of the
    state input: a twin that trial-averaged statistics can hardly tell from the truth.

    Parameters
    ----------
    n_recorded : int, optional
        Recorded neurons (the first ``n_recorded``; the state neurons are hidden).
    n_bins : int, optional
        Bins per trial (a free stimulus-locked drive of this length).
    n_lags : int, optional
        Filter length in bins.
    n_states : int, optional
        Independent hidden state neurons (1: the bimodal truth; more: its unimodal twin).
    switch_probability : float, optional
        Probability per bin that a state flips, in (0, 0.5).
    state_weight : float, optional
        Scale of the state -> recorded weights (dimensionless, on the input ``u``).
    recorded_rate : float, optional
        Baseline spike probability per bin of the recorded neurons.
    seed : int, optional
        Seed of the random structure.

    Returns
    -------
    SpikingNetwork
        The ground truth (float32, CPU), with a free drive of ``n_bins`` bins.

    Raises
    ------
    ArgumentValueError
        If ``switch_probability`` is not in (0, 0.5), ``n_states`` is below 1 or
        ``recorded_rate`` is not in (0, 1).

    Examples
    --------
    >>> from elephant_fit.network import simulate, use_loop
    >>> truth = trial_state_network(n_recorded=8, n_bins=50, seed=0)
    >>> truth.n_recorded, truth.n_hidden
    (8, 1)
    >>> with use_loop("torch"):
    ...     spikes = simulate(truth, n_trials=200, n_bins=50, seed=1, requires_grad=False).spikes
    >>> state = spikes[:, 1:, 8].mean(dim=1)  # fraction of bins the state neuron fires, per trial
    >>> bool(((state < 0.05) | (state > 0.95)).float().mean() > 0.98)  # off or on all trial
    True
    >>> bool(0.4 < (state > 0.5).float().mean() < 0.6)  # on in about half of the trials
    True
    """
    if not 0.0 < switch_probability < 0.5:
        raise ArgumentValueError(
            f"switch_probability must be in (0, 0.5), got {switch_probability!r}"
        )
    if n_states < 1:
        raise ArgumentValueError(f"n_states must be at least 1, got {n_states!r}")
    if not 0.0 < recorded_rate < 1.0:
        raise ArgumentValueError(f"recorded_rate must be in (0, 1), got {recorded_rate!r}")
    generator = torch.Generator().manual_seed(seed)
    n = n_recorded + n_states
    model = SpikingNetwork(
        n_recorded, n_hidden=n_states, n_lags=n_lags, n_bins=n_bins, drive="free", seed=seed
    )
    decay = torch.exp(-torch.arange(n_lags, dtype=torch.float32))
    weights = torch.zeros(n_lags, n, n)
    sparse = (torch.rand(n_recorded, n_recorded, generator=generator) < 0.1).float()
    recurrent = 0.4 * torch.randn(n_recorded, n_recorded, generator=generator) * sparse
    weights[:, :n_recorded, :n_recorded] += recurrent.unsqueeze(0) * decay.view(-1, 1, 1)
    recorded = torch.arange(n_recorded)
    weights[0, recorded, recorded] = -2.0  # refractoriness
    stay = math.log((1 - switch_probability) / switch_probability)
    states = torch.arange(n_recorded, n)
    weights[0, states, states] = 2 * stay
    gains = state_weight * (0.5 + torch.rand(n_recorded, generator=generator))
    weights[0, n_recorded:, :n_recorded] = gains / math.sqrt(n_states)
    bumps = gaussian_bumps(max(2, n_bins // 10), n_bins).float()
    drive = torch.zeros(n_bins, n)
    drive[:, :n_recorded] = (
        bumps @ torch.randn(bumps.shape[1], n_recorded, generator=generator) * 0.8
    )
    drive[0, n_recorded:] = stay  # bin 0: u = -stay + stay = 0, p = 1/2
    baseline = math.log(recorded_rate / (1 - recorded_rate))
    # K states: the same mean state input a_i / 2 as one state (and the same variance a_i^2 / 4)
    recorded_bias = baseline - gains * (math.sqrt(n_states) - 1) / 2
    bias = torch.cat([recorded_bias, torch.full((n_states,), -stay)])
    with torch.no_grad():
        model.coupling_weights.copy_(weights)
        model.drive_weights.copy_(drive.view_as(model.drive_weights))
        model.bias.copy_(bias)
    return model


def confounded_pairs(model: SpikingNetwork) -> torch.Tensor:
    """Recorded pairs (post, pre) with a hidden confound: a shared hidden input or a hidden relay.

    Parameters
    ----------
    model : SpikingNetwork
        A ground truth.

    Returns
    -------
    torch.Tensor
        Boolean (n_recorded, n_recorded), ``[post, pre]``: True where some hidden neuron projects
        to both, or ``pre`` projects to a hidden neuron that projects to ``post``; the diagonal is
        False.

    Examples
    --------
    >>> pairs = confounded_pairs(assembly_network(seed=0))
    >>> pairs.shape, pairs.dtype, bool(pairs.diagonal().any())
    (torch.Size([20, 20]), torch.bool, False)
    """
    n_rec = model.n_recorded
    reach = model.lagged_coupling().detach().abs().sum(dim=0) > 0  # [pre, post]
    to_recorded = reach[n_rec:, :n_rec].float()  # hidden -> recorded
    shared = (to_recorded.T @ to_recorded) > 0  # [post, pre]: a common hidden parent
    relay = (reach[:n_rec, n_rec:].float() @ to_recorded) > 0  # [pre, post] via one hidden
    pairs = shared | relay.T
    pairs.fill_diagonal_(False)
    return pairs


def sample_spikedata(
    model: SpikingNetwork, n_trials: int, bin_size: pq.Quantity = 10 * pq.ms, seed: int = 0
) -> SpikeData:
    """Simulate ``n_trials`` trials of a network as SpikeData (hidden neurons flagged).

    Parameters
    ----------
    model : SpikingNetwork
        The network (with a drive: its ``n_bins`` sets the trial length).
    n_trials : int
        Number of trials.
    bin_size : pq.Quantity, optional
        Bin width of the returned data.
    seed : int, optional
        Seed of the simulation.

    Returns
    -------
    SpikeData
        Counts of shape (n_trials, n_bins, n_neurons); unit ids 'r0'.., 'h0'..

    Examples
    --------
    >>> import quantities as pq
    >>> from elephant_fit.network import use_loop
    >>> truth = hidden_input_network(n_recorded=4, n_hidden=2, n_bins=30, seed=0)
    >>> with use_loop("torch"):
    ...     data = sample_spikedata(truth, n_trials=5, bin_size=10 * pq.ms, seed=1)
    >>> tuple(data.counts.shape), tuple(data.recorded().counts.shape)
    ((5, 30, 6), (5, 30, 4))
    """
    n_bins = model.n_bins if model.n_bins is not None else 100
    spikes = simulate(model, n_trials, n_bins, seed=seed, requires_grad=False).spikes
    ids = [f"r{j}" for j in range(model.n_recorded)] + [f"h{j}" for j in range(model.n_hidden)]
    hidden = [False] * model.n_recorded + [True] * model.n_hidden
    return SpikeData(
        spikes.float().cpu(),
        bin_size,
        unit_ids=ids,
        hidden=torch.tensor(hidden).numpy(),
        annotations={"source": "elephant-fit synthetic hidden-input network", "seed": seed},
    )
