"""Drop the compat twins into an Elephant pipeline
===============================================

The same pipeline runs with ``elephant.statistics`` / ``elephant.spike_train_correlation`` and
with ``elephant_fit.compat.statistics`` / ``elephant_fit.compat.spike_train_correlation``: one
import changes, the results agree and the twins are faster.

Run: python examples/compat_dropin.py [--quick]
"""

import argparse
import time

import matplotlib.pyplot as plt
import neo
import numpy as np
import quantities as pq
from elephant import spike_train_correlation as elephant_correlation
from elephant import statistics as elephant_statistics
from elephant.conversion import BinnedSpikeTrain

from elephant_fit.compat import spike_train_correlation as compat_correlation
from elephant_fit.compat import statistics as compat_statistics

parser = argparse.ArgumentParser(description="The compat twins in an Elephant pipeline")
parser.add_argument("--quick", action="store_true", help="50 spike trains instead of 500")
args = parser.parse_args()

# %%
# A pipeline written for Elephant
# -------------------------------
# It takes the two modules as arguments, so that we can run it with either pair; in a real
# script the change is the import line,
# ``from elephant_fit.compat import statistics, spike_train_correlation``.


def pipeline(statistics, spike_train_correlation, trains):
    """A typical analysis: PSTH, rates, CV of ISIs, Fano factor, correlation matrix."""
    psth = statistics.time_histogram(trains, bin_size=5 * pq.ms, output="rate")
    rates = [statistics.mean_firing_rate(st) for st in trains]
    cvs = [statistics.cv(statistics.isi(st)) for st in trains]
    fano = statistics.fanofactor(trains)
    matrix = spike_train_correlation.correlation_coefficient(
        BinnedSpikeTrain(trains, bin_size=5 * pq.ms)
    )
    return [
        psth.magnitude.ravel(),
        np.array([r.magnitude for r in rates]),
        np.array(cvs),
        np.array([fano]),
        matrix.ravel(),
    ]


# %%
# Poisson spike trains of 10 s, about 10 Hz each, through both
# ------------------------------------------------------------

rng = np.random.default_rng(0)
n = 50 if args.quick else 500
trains = [
    neo.SpikeTrain(np.sort(rng.uniform(0, 10, rng.poisson(100))), t_stop=10, units="s")
    for _ in range(n)
]
timings = {}
results = {}
for name, modules in (
    ("elephant", (elephant_statistics, elephant_correlation)),
    ("compat", (compat_statistics, compat_correlation)),
):
    start = time.perf_counter()
    results[name] = pipeline(*modules, trains)
    timings[name] = time.perf_counter() - start
for ours, reference in zip(results["compat"], results["elephant"], strict=True):
    np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-12)
print(
    f"same results; Elephant {timings['elephant']:.3f} s, compat {timings['compat']:.3f} s "
    f"({timings['elephant'] / timings['compat']:.1f}x)"
)

# %%
# Every number of the pipeline, compat against Elephant (the Fano factor, a single number, in
# the title), and the time each took; the times of one small run vary from run to run.

labels = ("PSTH (1/ms)", "mean rate (Hz)", "CV of ISIs", None, "correlation coefficient")
off_diagonal = ~np.eye(n, dtype=bool).ravel()
fig, axes = plt.subplots(1, 5, figsize=(16, 3.6))
for ax, k in zip(axes[:4], (0, 1, 2, 4), strict=True):
    ours, reference = results["compat"][k], results["elephant"][k]
    if k == 4:  # the correlation matrix, without its diagonal of ones
        ours, reference = ours[off_diagonal], reference[off_diagonal]
    ax.scatter(reference, ours, s=4)
    ends = [np.nanmin(reference), np.nanmax(reference)]
    ax.plot(ends, ends, "k--", lw=0.8)
    ax.set(xlabel=f"Elephant: {labels[k]}", ylabel="compat")
axes[4].bar(list(timings), list(timings.values()), color=["C1", "C0"])
axes[4].set(ylabel="pipeline time (s)", title=f"{n} spike trains")
fano = results["compat"][3][0], results["elephant"][3][0]
fig.suptitle(f"compat against Elephant (Fano factor: {fano[0]:.6f} and {fano[1]:.6f})")
fig.tight_layout()
plt.show()
