"""Held-out stimuli: a stimulus encoder predicts responses the stimulus-locked drive cannot.

A known network (8 neurons, 3 lags of coupling) is driven through a fixed random two-layer
encoder (6 stimulus features -> 16 tanh units -> 8 neurons) by a different smooth random
stimulus in every trial. Each model is fitted by maximum likelihood on 120 trials and scored on
60 trials of *new* stimuli (held-out bits/spike):

* ``smooth drive``: the stimulus-locked drive (one time course per condition, here one), which
  can only replay the average response to the training stimuli;
* ``encoder``: ``NetworkFitter(stimulus_encoder=...)``, a fresh module of the truth's
  architecture, trained jointly with the network;
* ``truth``: the generating network itself (the ceiling).

Seeds change the truth's encoder, the stimuli, the spikes and the initialisation; the
differences are paired by seed (mean +/- standard error over seeds). Run alone on the machine:

    python benchmarks/stimulus_encoder.py [--seeds 5] [--iterations 300]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import quantities as pq
import torch
from torch import nn

from elephant_fit import NetworkFitter, SpikeData
from elephant_fit.network import SpikingNetwork, simulate
from elephant_fit.network.likelihood import held_out_likelihood

N_NEURONS, N_FEATURES, N_BINS = 8, 6, 100


def encoder(seed: int, gain: float = 1.0) -> nn.Module:
    """The two-layer encoder (6 features -> 16 tanh units -> 8 neurons), weights from ``seed``."""
    torch.manual_seed(seed)
    module = nn.Sequential(nn.Linear(N_FEATURES, 16), nn.Tanh(), nn.Linear(16, N_NEURONS))
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.mul_(gain)
    return module


def truth_network(seed: int) -> SpikingNetwork:
    """The generating network: its drive is a random encoder of the stimulus (gain 2)."""
    network = SpikingNetwork(
        N_NEURONS, n_lags=3, n_inputs=N_FEATURES, stimulus_encoder=encoder(seed, 2.0), seed=seed
    )
    with torch.no_grad():
        network.bias.fill_(-2.5)
    return network


def stimuli(n_trials: int, seed: int) -> torch.Tensor:
    """Smooth random stimuli (about 10 bins), one per trial: shape (n_trials, n_bins, 6)."""
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(n_trials, N_FEATURES, N_BINS + 9, generator=generator)
    return torch.nn.functional.avg_pool1d(noise, 10, stride=1).transpose(1, 2) * 3


def trials(truth: SpikingNetwork, n_trials: int, seed: int) -> SpikeData:
    """Spikes of ``truth`` to ``n_trials`` new stimuli, the stimuli as covariates."""
    stimulus = stimuli(n_trials, seed)
    spikes = simulate(truth, n_trials, N_BINS, inputs=stimulus, seed=seed, requires_grad=False)
    names = [f"feature {i}" for i in range(N_FEATURES)]
    return SpikeData(
        spikes.spikes.detach(), 10 * pq.ms, covariates=stimulus.double(), covariate_names=names
    )


def one_seed(seed: int, iterations: int) -> dict[str, tuple[float, float]]:
    """Held-out bits/spike and fit time of each model for one seed."""
    truth = truth_network(100 + seed)
    train, test = trials(truth, 120, 2 * seed), trials(truth, 60, 2 * seed + 1)
    options = {"n_lags": 3, "max_iterations": iterations, "device": "cpu", "progress": False}
    results = {}
    start = time.perf_counter()
    drive = NetworkFitter(drive="smooth", seed=seed, **options)
    drive.fit(train.without(covariates=True))
    results["smooth drive"] = (
        drive.score(test.without(covariates=True)),
        time.perf_counter() - start,
    )
    start = time.perf_counter()
    fitter = NetworkFitter(drive=None, stimulus_encoder=encoder(1000 + seed), seed=seed, **options)
    fitter.set_params(learning_rate=0.01).fit(train)
    results["encoder"] = (fitter.score(test), time.perf_counter() - start)
    inputs = test.covariates.float()
    ceiling = held_out_likelihood(truth, test.counts.float(), inputs=inputs).bits_per_spike
    results["truth"] = (ceiling, 0.0)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args()
    runs = [one_seed(seed, args.iterations) for seed in range(args.seeds)]
    names = list(runs[0])
    scores = {name: np.array([run[name][0] for run in runs]) for name in names}
    times = {name: np.mean([run[name][1] for run in runs]) for name in names}
    k = args.seeds
    print(f"held-out bits/spike on new stimuli, {k} seeds (mean +/- s.e. over seeds)")
    for name in names:
        values = scores[name]
        print(
            f"  {name:<14}{values.mean():>8.3f} +/- {values.std(ddof=1) / np.sqrt(k):.3f}"
            f"   (fit {times[name]:.1f} s)   per seed: {np.round(values, 3).tolist()}"
        )
    for a, b in (("encoder", "smooth drive"), ("truth", "encoder")):
        gain = scores[a] - scores[b]
        print(
            f"  {a} - {b}: {gain.mean():+.3f} +/- {gain.std(ddof=1) / np.sqrt(k):.3f} "
            f"(positive in {int((gain > 0).sum())} of {k} seeds)"
        )


if __name__ == "__main__":
    main()
