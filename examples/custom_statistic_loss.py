"""A custom summary statistic as a sample-and-measure loss
=======================================================

Any differentiable function of activity ``(n_trials, n_bins, n_neurons)`` can become a
sample-and-measure term. Here: population synchrony, the mean and the variance across trials and
bins of the number of neurons firing together in a bin, whose variance likelihood fitting alone
tends to underestimate.

Run: python examples/custom_statistic_loss.py [--quick]
"""

import argparse

import matplotlib.pyplot as plt
import numpy as np
import quantities as pq
import torch

from elephant_fit import NetworkFitter
from elephant_fit.fitting.losses import StatisticLoss
from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata

parser = argparse.ArgumentParser(description="A custom summary statistic as an SM loss")
parser.add_argument("--quick", action="store_true", help="small fits (seconds), as the docs build")
args = parser.parse_args()

# %%
# The statistic
# -------------
# A plain torch function. In a fit it is measured on the model's simulated activity (spike
# probabilities on the model side, so that gradients flow) and on the recorded trials, and the
# fit penalises the difference.


def synchrony(activity: torch.Tensor) -> torch.Tensor:
    """Mean and variance of the population count per bin, shape (2,)."""
    population = activity.sum(dim=2)
    return torch.stack([population.mean(), population.var()])


# %%
# Data with synchrony
# -------------------
# 20 recorded neurons driven by 20 hidden ones: neurons that share a hidden input fire together.

truth = hidden_input_network(seed=0)
data = sample_spikedata(truth, 100 if args.quick else 400, 10 * pq.ms, seed=1).recorded()
print("data synchrony (mean, variance):", [round(v, 3) for v in synchrony(data.counts).tolist()])

# %%
# Two fits
# --------
# The likelihood alone, without hidden neurons; and the likelihood plus a PSTH term plus the
# synchrony term, wrapped in :class:`~elephant_fit.StatisticLoss`, with 10 hidden neurons that can
# provide the common input. A loss given as a dict names each term and its weight.

iterations = 60 if args.quick else 800
simulated = {}
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
    simulated[name] = fitter.simulate_spikedata(data.n_trials, seed=3).recorded()
    print(
        f"{name}: model synchrony",
        [round(v, 3) for v in synchrony(simulated[name].counts).tolist()],
    )

# %%
# The distribution of the population count per bin, of the data and of each model simulated on
# as many trials: its variance is what the synchrony term fits.

fig, ax = plt.subplots(figsize=(6.5, 4))
counts = {"data": data, **simulated}
largest = max(int(d.counts.sum(dim=2).max()) for d in counts.values())
edges = np.arange(largest + 2) - 0.5
for style, (name, spikes) in zip(("o-", "s--", "^:"), counts.items(), strict=True):
    population = spikes.counts.sum(dim=2).ravel().numpy()
    frequency, _ = np.histogram(population, bins=edges, density=True)
    frequency[frequency == 0] = np.nan  # no point at log(0)
    variance = population.var(ddof=1)
    ax.plot(
        np.arange(largest + 1), frequency, style, ms=4, label=f"{name} (variance {variance:.2f})"
    )
ax.set(
    xlabel="neurons firing in a 10 ms bin",
    ylabel="fraction of bins",
    yscale="log",
    title="population synchrony",
)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
