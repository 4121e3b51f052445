"""Hidden neurons and connectivity
===============================

A ground-truth network in which hidden neurons drive the recorded ones: 60 hidden neurons in 6
assemblies that fire together, each assembly projecting to a few of the 20 recorded neurons, each
target at its own delay, so that a recorded neuron hit early predicts one hit later. A model of
the recorded neurons alone can explain that only with couplings between recorded neurons, which
do not exist. We fit three models on the same trials and compare their recorded-to-recorded
couplings with the true ones:

* the likelihood of the recorded neurons alone (no hidden neurons);
* the likelihood plus sample-and-measure terms (``loss="sm"``), with 20 hidden neurons;
* the *oracle*: the likelihood with all 80 neurons observed, the best one can hope for.

This is one seed of one network: it shows what the code does, not a scientific result. Without
``--quick`` the script fits seed 0 of ``benchmarks/connectivity.py``, which runs the comparison
on 5 seeds with confidence intervals (:doc:`/benchmarks/connectivity`).

Run: python examples/hidden_connectivity.py [--quick]
"""

import argparse

import matplotlib.pyplot as plt
import numpy as np
import quantities as pq

from elephant_fit import NetworkFitter, SpikeData
from elephant_fit.evaluation import metrics
from elephant_fit.network.synthetic import assembly_network, confounded_pairs, sample_spikedata

parser = argparse.ArgumentParser(description="Hidden neurons and connectivity")
parser.add_argument("--quick", action="store_true", help="a small fit (seconds), as the docs build")
args = parser.parse_args()
BIN = 10 * pq.ms

# %%
# The ground truth and its data
# -----------------------------
# ``sample_spikedata`` (``elephant_fit.network.synthetic``) simulates every neuron, hidden ones
# included and flagged as hidden in the :class:`~elephant_fit.SpikeData`; ``recorded()`` keeps
# what an experimenter would see. The true coupling is ``[post, pre, lag]``; we compare couplings
# summed over lags, on the pairs of different recorded neurons, in three groups: connected pairs,
# unconnected pairs with a hidden confound (a shared hidden input, or a relay through a hidden
# neuron), and the other unconnected pairs.

truth = assembly_network(seed=0)  # 20 recorded + 60 hidden neurons, 100 bins of 10 ms
full = sample_spikedata(truth, 200 if args.quick else 600, BIN, seed=1000)
recorded = full.recorded()
n = truth.n_recorded
true = truth.coupling_array()[:n, :n]
true_total = true.sum(axis=2)
off = ~np.eye(n, dtype=bool)
direct = off & (true_total != 0)
confounded = off & ~direct & confounded_pairs(truth).numpy()  # [post, pre]
other = off & ~direct & ~confounded
print(f"all neurons: {full}")
print(f"recorded:    {recorded}")
print(
    f"recorded pairs: {int(direct.sum())} connected, {int(confounded.sum())} unconnected with a "
    f"hidden confound, {int(other.sum())} other unconnected"
)

# %%
# Three fits on the same trials
# -----------------------------
# The oracle sees all 80 neurons as recorded (a plain :class:`~elephant_fit.SpikeData` of every
# neuron's counts). Without ``--quick`` the fits run as in the benchmark (600 trials, up to 1000
# iterations for the likelihood and 1500 for sample-and-measure, with early stopping: a few
# minutes). With ``--quick`` they see 200 trials and stop after 150 or 80 iterations, long before
# they converge: the figure below then shows the code at work, not what the methods can do.

iterations = {"mle": 150, "sm": 80} if args.quick else {"mle": 1000, "sm": 1500}
fits = {
    "likelihood, no hidden": (recorded, {"loss": "mle"}),
    "NLL + SM, 20 hidden": (recorded, {"loss": "sm", "n_hidden": 20}),
    "oracle (all observed)": (SpikeData(full.counts, BIN), {"loss": "mle"}),
}
fitted = {}
for name, (data, options) in fits.items():
    fitter = NetworkFitter(
        bin_size=BIN,
        n_lags=truth.n_lags,
        max_iterations=iterations[options["loss"]],
        seed=0,
        device="cpu",
        progress=False,
        **options,
    ).fit(data)
    fitted[name] = fitter.coupling_[:n, :n]  # the recorded neurons come first

# %%
# How close is each fit to the true coupling?
# -------------------------------------------
# ``coupling_fit`` of ``elephant_fit.evaluation.metrics`` gives Pearson's r, R^2 (which also
# penalises a wrong scale) and the slope of fitted on true weights over the connected pairs (1:
# unbiased, below 1: shrunk). The mean absolute weight on the unconnected pairs with a hidden
# confound (spurious coupling) is to be read against the same on the other unconnected pairs,
# which is the fit's estimation noise.

scores = {}
for name, coupling in fitted.items():
    row = metrics.coupling_fit(coupling, true, confounded)
    row["other"] = float(np.abs(coupling.sum(axis=2)[other]).mean())
    scores[name] = row
    print(
        f"{name:>22}: coupling r {row['r']:.3f}, R2 {row['r2']:.3f}, slope {row['slope']:.3f}; "
        f"mean |w| confounded {row['spurious']:.3f}, other unconnected {row['other']:.3f}"
    )

# %%
# Fitted against true couplings, one panel per fit. Blue: connected pairs, which should sit on
# the diagonal. The unconnected pairs all have a true coupling of 0; they are spread a little
# sideways so that one can see them: grey, the other unconnected pairs (left of 0), orange, those
# with a hidden confound (right of 0). Both should sit at 0.

rng = np.random.default_rng(0)
groups = (
    ("other unconnected", other, "0.6", -0.15),
    ("hidden confound", confounded, "C1", 0.15),
    ("connected", direct, "C0", 0.0),
)
fig, axes = plt.subplots(1, len(fitted), figsize=(4.2 * len(fitted), 4), sharex=True, sharey=True)
for ax, (name, coupling) in zip(axes, fitted.items(), strict=True):
    total = coupling.sum(axis=2)
    for label, mask, colour, shift in groups:
        spread = shift + (rng.uniform(-0.08, 0.08, mask.sum()) if shift else 0.0)
        ax.scatter(true_total[mask] + spread, total[mask], s=8, color=colour, label=label)
    limits = np.array([true_total[off].min(), true_total[off].max()])
    ax.plot(limits, limits, "k--", lw=0.8)
    ax.axhline(0, color="k", lw=0.4)
    row = scores[name]
    ax.set_title(f"{name}\nr {row['r']:.2f}, R$^2$ {row['r2']:.2f}", fontsize=9)
    ax.set_xlabel("true coupling (sum over lags)")
axes[0].set_ylabel("fitted coupling (sum over lags)")
axes[0].legend(fontsize=7)
fig.tight_layout()
plt.show()

# %%
# What to look for: a fit of the recorded neurons alone explains the hidden assemblies with
# couplings between their targets (orange points further from 0 than grey ones); the oracle,
# which sees the hidden neurons, should not. Sample-and-measure with hidden neurons aims at the
# oracle without seeing the hidden neurons.
#
# One full run of this script (600 trials, on a 2-core CPU) gave these mean absolute weights on
# confounded / other unconnected pairs: 0.275 / 0.191 for the likelihood alone, 0.218 / 0.149
# with sample-and-measure and 0.176 / 0.209 for the oracle; and slopes of 0.97, 0.63 and 1.00.
# On this seed sample-and-measure shrinks every weight, the spurious ones and the true ones,
# while the confounded pairs keep about the same excess over the other unconnected pairs that
# the likelihood alone gives them; only the oracle has none. Whether such differences hold
# beyond one seed is what ``benchmarks/connectivity.py`` measures, over 5 seeds.
