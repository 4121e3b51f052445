"""Ground truths shared by the benchmarks (one definition, so that their figures compare)."""

from __future__ import annotations

import torch

from elephant_fit.network import SpikingNetwork, simulate


def sparse_driven_spikes(n_trials: int = 200) -> torch.Tensor:
    """Spikes of an 80-neuron network: sparse coupling, a stimulus drive, about 9 Hz.

    5 % of the pairs and lags coupled (s.d. 0.8), 5 lags, a smooth drive of 10 bumps (s.d. 0.7),
    100 bins of 10 ms. Returns the spikes, shape (n_trials, 100, 80); the first 150 trials are
    the benchmarks' training set, the rest held out.
    """
    truth = SpikingNetwork(80, n_lags=5, n_bins=100, drive="smooth", n_drive_basis=10, seed=1)
    generator = torch.Generator().manual_seed(2)
    with torch.no_grad():
        truth.bias.fill_(-3.0)
        weights = torch.randn(truth.coupling_weights.shape, generator=generator) * 0.8
        mask = torch.rand(weights.shape, generator=generator) < 0.05
        truth.coupling_weights.copy_(weights * mask)
        truth.drive_weights.normal_(0.0, 0.7, generator=generator)
    return simulate(truth, n_trials, 100, seed=3, requires_grad=False).spikes
