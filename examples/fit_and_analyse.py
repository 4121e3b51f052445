"""Neo Block -> fit -> simulate -> an existing Elephant analysis
=============================================================

A recording (here: a ground-truth network whose hidden neurons drive the recorded ones) is a
``neo.Block`` with one Segment per trial. We fit NLL + sample-and-measure with hidden neurons,
simulate the model, and run the same Elephant analysis, unchanged, on the recording and on the
simulation.

Run: python examples/fit_and_analyse.py [--quick]
"""

import argparse
import warnings

import matplotlib.pyplot as plt
import numpy as np
import quantities as pq
from elephant.conversion import BinnedSpikeTrain
from elephant.spike_train_correlation import correlation_coefficient
from elephant.statistics import fanofactor, time_histogram

from elephant_fit import NetworkFitter, to_neo
from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata

parser = argparse.ArgumentParser(description="Neo Block -> fit -> simulate -> Elephant")
parser.add_argument("--quick", action="store_true", help="a small fit (seconds), as the docs build")
args = parser.parse_args()

# %%
# The recording
# -------------
# 20 recorded neurons, 100 bins of 10 ms per trial; 20 hidden neurons give them common input.
# :func:`~elephant_fit.to_neo` turns the synthetic counts into the Block a lab would have: one
# Segment per trial, one ``neo.Group`` per unit linking its trains across trials.

truth = hidden_input_network(seed=0)
recording = to_neo(
    sample_spikedata(truth, 100 if args.quick else 400, 10 * pq.ms, seed=1).recorded()
)
print(f"{len(recording.segments)} trials of {len(recording.groups)} units")

# %%
# Fit and simulate
# ----------------
# :class:`~elephant_fit.NetworkFitter` takes the Block as it is; ``simulate`` returns a Block
# with the same units, Groups and annotations.

fitter = NetworkFitter(
    n_hidden=20,
    bin_size=10 * pq.ms,
    loss="sm",
    n_lags=3,
    max_iterations=60 if args.quick else 1000,
    progress=not args.quick,
    device="cpu",
).fit(recording)
simulated = fitter.simulate(len(recording.segments), seed=2)

# %%
# An existing Elephant analysis
# -----------------------------
# Written for recordings, run as it is on the simulation.


def elephant_analysis(block):
    """An existing Elephant pipeline: population PSTH peak, mean pairwise correlation, Fano factor."""
    trains_by_unit = [list(group.spiketrains) for group in block.groups]
    psth = time_histogram(
        [st for seg in block.segments for st in seg.spiketrains], 10 * pq.ms, output="rate"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        matrix = correlation_coefficient(
            BinnedSpikeTrain(block.segments[0].spiketrains, bin_size=50 * pq.ms)
        )
        fano = np.nanmean([fanofactor(trains) for trains in trains_by_unit])
    off = ~np.eye(matrix.shape[0], dtype=bool)
    return {
        "peak population rate (Hz)": float(psth.rescale("Hz").max()),
        "mean pairwise correlation (trial 0, 50 ms)": float(np.nanmean(matrix[off])),
        "mean Fano factor": float(fano),
    }


blocks = {"recording": recording, "model": simulated}
for name, block in blocks.items():
    print(name, {k: round(v, 3) for k, v in elephant_analysis(block).items()})

# %%
# Trial 0 of each Block as a raster, and the population PSTH of all trials, both from the Neo
# objects (the PSTH by ``elephant.statistics.time_histogram``).

fig, axes = plt.subplot_mosaic(
    [["recording", "model"], ["psth", "psth"]], figsize=(10, 6), height_ratios=(2, 1)
)
for colour, (name, block) in enumerate(blocks.items()):
    for j, train in enumerate(block.segments[0].spiketrains):
        times = train.rescale("s").magnitude
        axes[name].plot(times, np.full(len(times), j), "|", color=f"C{colour}", markersize=4)
    axes[name].set(title=f"{name}: trial 0", xlabel="time (s)", ylabel="unit")
    psth = time_histogram(
        [st for seg in block.segments for st in seg.spiketrains], 10 * pq.ms, output="rate"
    )
    times = psth.times.rescale("s").magnitude
    axes["psth"].step(times, psth.rescale("Hz").magnitude.ravel(), where="post", label=name)
axes["psth"].set(xlabel="time (s)", ylabel="rate per unit (Hz)", title="PSTH, all trials")
axes["psth"].legend(fontsize=8)
fig.tight_layout()
plt.show()
