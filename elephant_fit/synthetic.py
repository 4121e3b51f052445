"""Ground-truth networks for examples, tests and benchmarks: recorded neurons driven by hidden ones."""

from __future__ import annotations

import quantities as pq
import torch

from .model import SpikingNetwork, gaussian_bumps
from .simulation import simulate
from .spikedata import SpikeData

__all__ = ["hidden_input_network", "sample_spikedata"]


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
