"""A custom summary statistic as a sample-and-measure loss.

Any differentiable function of activity (n_trials, n_bins, n_neurons) can become an SM term. Here:
the distribution of population synchrony, the variance across trials and bins of the number of
neurons firing together in a bin, which likelihood fitting alone tends to underestimate.

Run: python examples/custom_statistic_loss.py [--quick]
"""

from __future__ import annotations

import argparse

import quantities as pq
import torch

from elephant_fit import NetworkFitter
from elephant_fit.fitting.losses import StatisticLoss
from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata


def synchrony(activity: torch.Tensor) -> torch.Tensor:
    """Mean and variance of the population count per bin, shape (2,)."""
    population = activity.sum(dim=2)
    return torch.stack([population.mean(), population.var()])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    truth = hidden_input_network(seed=0)
    data = sample_spikedata(truth, 100 if args.quick else 400, 10 * pq.ms, seed=1).recorded()
    print(
        "data synchrony (mean, variance):", [round(v, 3) for v in synchrony(data.counts).tolist()]
    )
    iterations = 60 if args.quick else 800
    for name, loss in (
        ("likelihood only", "mle"),
        (
            "likelihood + synchrony",
            {"nll": 1.0, "psth": 0.5, "synchrony": (1.0, StatisticLoss(synchrony))},
        ),
    ):
        fitter = NetworkFitter(
            n_hidden=0 if loss == "mle" else 10,
            bin_size=10 * pq.ms,
            n_lags=3,
            loss=loss,
            max_iterations=iterations,
            progress=False,
            device="cpu",
        ).fit(data)
        simulated = fitter.simulate_spikedata(data.n_trials, seed=3).recorded()
        print(
            f"{name}: model synchrony", [round(v, 3) for v in synchrony(simulated.counts).tolist()]
        )


if __name__ == "__main__":
    main()
