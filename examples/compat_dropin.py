"""Drop elephant-fit's compat twins into an Elephant pipeline by changing one import.

The same pipeline runs with `elephant.statistics` / `elephant.spike_train_correlation` and with
`elephant_fit.compat.statistics` / `elephant_fit.compat.spike_train_correlation`; the results agree
and the twins are faster.

Run: python examples/compat_dropin.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import neo
import numpy as np
import quantities as pq
from elephant import spike_train_correlation as elephant_correlation
from elephant import statistics as elephant_statistics
from elephant.conversion import BinnedSpikeTrain

from elephant_fit.compat import spike_train_correlation as compat_correlation
from elephant_fit.compat import statistics as compat_statistics


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
