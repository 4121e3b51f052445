"""Neo Block -> fit -> simulate -> an existing Elephant analysis, unchanged.

A recording (here: a ground-truth network whose hidden neurons drive the recorded ones) is a
neo.Block with one Segment per trial. We fit NLL + sample-and-measure with hidden neurons, simulate
the model, and run the same Elephant analysis on the recording and on the simulation.

Run: python examples/fit_and_analyse.py [--quick]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import quantities as pq
from elephant.conversion import BinnedSpikeTrain
from elephant.spike_train_correlation import correlation_coefficient
from elephant.statistics import fanofactor, time_histogram

from elephant_fit import NetworkFitter, to_neo
from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    truth = hidden_input_network(seed=0)
    recording = to_neo(
        sample_spikedata(truth, 100 if args.quick else 400, 10 * pq.ms, seed=1).recorded()
    )
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
    for name, block in (("recording", recording), ("model", simulated)):
        print(name, {k: round(v, 3) for k, v in elephant_analysis(block).items()})


if __name__ == "__main__":
    main()
