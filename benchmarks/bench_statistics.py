"""elephant_fit.compat vs Elephant on the same data, measured side by side in one run.

Each row times Elephant's function and our compat twin on identical inputs (best of --repeats),
checks that the results agree, and prints the ratio Elephant / ours. Per-train functions
(mean_firing_rate, cv) are timed as a list comprehension over 1000 trains on both sides; lv is
timed as Elephant's list comprehension against one call of our twin on the list (our cv2/lv/lvr
accept a list of interval vectors and vectorise; Elephant raises on such input).

Run: python benchmarks/bench_statistics.py [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import neo
import numpy as np
import quantities as pq
from elephant import kernels as el_kernels
from elephant import spike_train_correlation as el_corr
from elephant import spike_train_dissimilarity as el_dis
from elephant import statistics as el_stats
from elephant.conversion import BinnedSpikeTrain

from elephant_fit.compat import spike_train_correlation as ef_corr
from elephant_fit.compat import spike_train_dissimilarity as ef_dis
from elephant_fit.compat import statistics as ef_stats


def poisson_trains(rng, n_trains, duration, rate):
    """Homogeneous Poisson SpikeTrains in seconds on [0, duration]."""
    return [
        neo.SpikeTrain(np.sort(rng.uniform(0, duration, n)), t_stop=duration, units="s")
        for n in rng.poisson(rate * duration, n_trains)
    ]


def best_of(repeats, func):
    best, result = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def magnitude(value):
    if isinstance(value, (list, tuple)):
        return np.array([magnitude(v) for v in value], dtype=float)
    return np.asarray(getattr(value, "magnitude", value), dtype=float)


def workloads(rng, scale):
    """(name, elephant callable, ours callable, comparison) for each table row."""
    trials = poisson_trains(rng, 1000 // scale, 2.0, 20.0)
    trains_1000 = poisson_trains(rng, 1000 // scale, 10.0, 10.0)
    isis = [np.diff(st.magnitude) for st in trains_1000]
    long_100 = poisson_trains(rng, 100 // scale, 100.0, 10.0)
    kernel = el_kernels.GaussianKernel(50 * pq.ms)
    rows = [
        (
            "time_histogram 1000 trials x 2 s, 5 ms",
            lambda: el_stats.time_histogram(trials, 5 * pq.ms),
            lambda: ef_stats.time_histogram(trials, 5 * pq.ms),
        ),
        (
            "mean_firing_rate 1000 trains",
            lambda: [el_stats.mean_firing_rate(st) for st in trains_1000],
            lambda: [ef_stats.mean_firing_rate(st) for st in trains_1000],
        ),
        (
            "cv 1000 ISI arrays",
            lambda: [el_stats.cv(x) for x in isis],
            lambda: [ef_stats.cv(x) for x in isis],
        ),
        (
            "lv 1000 ISI arrays (ours: one call on the list)",
            lambda: [el_stats.lv(x) for x in isis],
            lambda: ef_stats.lv(isis),
        ),
        (
            "fanofactor 1000 trains",
            lambda: el_stats.fanofactor(trains_1000),
            lambda: ef_stats.fanofactor(trains_1000),
        ),
        (
            "instantaneous_rate 100 trains x 100 s",
            lambda: el_stats.instantaneous_rate(long_100, 1 * pq.ms, kernel=kernel),
            lambda: ef_stats.instantaneous_rate(long_100, 1 * pq.ms, kernel=kernel),
        ),
    ]
    for rate in (10, 50):
        binned = BinnedSpikeTrain(
            poisson_trains(rng, 500 // scale, 100.0, rate), bin_size=5 * pq.ms
        )
        rows.append(
            (
                f"correlation_coefficient 500 x 100 s, {rate} Hz, 5 ms",
                lambda b=binned: el_corr.correlation_coefficient(b),
                lambda b=binned: ef_corr.correlation_coefficient(b),
            )
        )
    pairs = poisson_trains(rng, 200 // scale, 100.0, 10.0)
    binned_pairs = [BinnedSpikeTrain(st, bin_size=1 * pq.ms) for st in pairs]
    rows.append(
        (
            "cross_correlation_histogram 100 pairs, 1 ms, +-100 bins",
            lambda: [
                el_corr.cross_correlation_histogram(
                    binned_pairs[2 * i], binned_pairs[2 * i + 1], window=[-100, 100]
                )[0]
                for i in range(len(pairs) // 2)
            ],
            lambda: [
                ef_corr.cross_correlation_histogram(
                    binned_pairs[2 * i], binned_pairs[2 * i + 1], window=[-100, 100]
                )[0]
                for i in range(len(pairs) // 2)
            ],
        )
    )
    vr_trains = poisson_trains(rng, 100 // scale, 10.0, 20.0)
    rows.append(
        (
            "van_rossum_distance 100 trains x 10 s, 20 Hz",
            lambda: el_dis.van_rossum_distance(vr_trains, 100 * pq.ms),
            lambda: ef_dis.van_rossum_distance(vr_trains, 100 * pq.ms),
        )
    )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="10x smaller workloads")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    ratios = []
    print(f"{'workload':<56} {'Elephant':>10} {'compat':>10} {'ratio':>8}  agree")
    for name, elephant_call, ours_call in workloads(rng, 10 if args.quick else 1):
        ours_time, ours = best_of(args.repeats, ours_call)
        ref_time, ref = best_of(args.repeats, elephant_call)
        agree = np.allclose(magnitude(ours), magnitude(ref), rtol=1e-6, atol=1e-9, equal_nan=True)
        ratios.append(ref_time / ours_time)
        print(f"{name:<56} {ref_time:9.4f}s {ours_time:9.4f}s {ratios[-1]:7.1f}x  {agree}")
    print(
        f"{'geometric mean of ratios':<56} {'':>10} {'':>10} {math.exp(np.mean(np.log(ratios))):7.1f}x"
    )


if __name__ == "__main__":
    main()
