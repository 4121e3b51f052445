"""Fit the bundled salamander-retina recording with hidden neurons (Onken et al. 2016).

38 ganglion cells, 30 repeats of a natural movie. We bin at 20 ms, hold out 6 repeats, and compare
NLL only with NLL + sample-and-measure with hidden neurons on the held-out PSTH and noise
correlations and the held-out likelihood (exact for NLL only; a particle filter over the hidden
neurons, with its standard error, for the model with hidden neurons). No ground truth: no coupling.

Run: python examples/retina_hidden.py [--quick]
"""

from __future__ import annotations

import argparse
import warnings

import quantities as pq

from elephant_fit import NetworkFitter, from_neo
from elephant_fit.data.datasets import RETINA_CITATION, load_retina
from elephant_fit.evaluation import metrics


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print("data:", RETINA_CITATION)
    t_stop = (3 if args.quick else 18) * pq.s  # --quick: the first 3 s of the movie
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # spikes after the cropped window / at 18 s
        data = from_neo(load_retina(1), 20 * pq.ms, t_start=0 * pq.s, t_stop=t_stop, binary=True)
    train, test = data.split(test_fraction=0.2, seed=0)
    iterations = (40, 40) if args.quick else (300, 300)
    for (name, hidden, loss), max_iterations in zip(
        (("NLL only", 0, "mle"), ("NLL + SM, hidden", 10, "sm")), iterations, strict=True
    ):
        fitter = NetworkFitter(
            n_hidden=hidden,
            bin_size=20 * pq.ms,
            n_lags=5,
            loss=loss,
            max_iterations=max_iterations,
            batch_size=12,
            progress=not args.quick,
            device="cpu",
        ).fit(train)
        simulated = fitter.simulate_spikedata(100, seed=1).recorded().counts
        nc = metrics.noise_correlation_fit(simulated, test.counts)
        likelihood = fitter.log_likelihood(test)  # particle filter over the hidden neurons
        print(
            f"{name:>18}: PSTH R2 {metrics.psth_r2(simulated, test.counts):.3f}, "
            f"NC R2 {nc['r2']:.3f}, NC r {nc['r']:.3f}, held-out {likelihood}"
        )


if __name__ == "__main__":
    main()
