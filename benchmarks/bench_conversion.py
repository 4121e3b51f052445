"""from_neo vs elephant.conversion.BinnedSpikeTrain, and to_neo vs Neo's constructor, side by side in one run.

Workloads (issue 2), each at 1 ms and at 10 ms bins:
  (a) 500 spike trains x 100 s at 10 Hz and at 50 Hz, one trial;
  (b) 1000 trials x 50 units x 2 s at 10 Hz (Elephant: one BinnedSpikeTrain per trial, and also
      one BinnedSpikeTrain over all 50 000 trains, its fastest use).
Each timing is the best of ``--repeats`` runs. Counts are checked equal before timing.
Then ``to_neo`` of 500 trials x 20 units (10 ms bins, 100 bins) against its floor: creating the
same 10 000 ``neo.SpikeTrain`` objects alone, without Segments, Groups or annotations.

Run: python benchmarks/bench_conversion.py [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import time
import warnings

import neo
import numpy as np
import quantities as pq
from elephant.conversion import BinnedSpikeTrain

from elephant_fit import SpikeData, from_neo, to_neo


def poisson_trains(rng, n_trains, duration, rate):
    """n_trains homogeneous Poisson SpikeTrains in seconds on [0, duration]."""
    trains = []
    for n in rng.poisson(rate * duration, n_trains):
        times = np.sort(rng.uniform(0.0, duration, n))
        trains.append(neo.SpikeTrain(times, t_stop=duration, units="s"))
    return trains


def best_of(repeats, func):
    """Best wall time of ``repeats`` calls, and the last result."""
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def compare(name, trials, bin_size, repeats, elephant_variants):
    """Time from_neo and each Elephant variant on the same trials; print one row per variant."""
    ours_time, ours = best_of(repeats, lambda: from_neo(trials, bin_size))
    counts = ours.counts.numpy()
    for label, func in elephant_variants:
        ref_time, ref = best_of(repeats, func)
        assert np.array_equal(ref, counts), f"{name}: counts differ from Elephant"
        print(
            f"{name:<44} {label:<26} {ref_time:9.3f} s {ours_time:9.3f} s "
            f"{ref_time / ours_time:8.1f}x"
        )


def per_trial(trials, bin_size):
    """Elephant: one BinnedSpikeTrain per trial, stacked as (n_trials, n_bins, n_units)."""
    return np.stack([BinnedSpikeTrain(trial, bin_size=bin_size).to_array().T for trial in trials])


def all_at_once(trials, bin_size):
    """Elephant: one BinnedSpikeTrain over every train of every trial."""
    flat = [st for trial in trials for st in trial]
    array = BinnedSpikeTrain(flat, bin_size=bin_size).to_array()
    n_trials, n_units = len(trials), len(trials[0])
    return array.reshape(n_trials, n_units, -1).transpose(0, 2, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="10x smaller workloads")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    rng = np.random.default_rng(0)
    warnings.simplefilter("ignore")
    print("Elephant = BinnedSpikeTrain(...).to_array(); from_neo = dense float32 counts tensor.")
    print(
        f"{'workload':<44} {'Elephant variant':<26} {'Elephant':>11} {'from_neo':>11} {'ratio':>9}"
    )
    workloads_a = [[poisson_trains(rng, 500 // scale, 100.0, rate)] for rate in (10, 50)]
    trials_b = [poisson_trains(rng, 50, 2.0, 10) for _ in range(1000 // scale)]
    for bin_size in (1 * pq.ms, 10 * pq.ms):
        tag = f"{bin_size.item():g} ms bins"
        for rate, trials in zip((10, 50), workloads_a, strict=False):
            compare(
                f"(a) {500 // scale} trains x 100 s, {rate} Hz, {tag}",
                trials,
                bin_size,
                args.repeats,
                [("BinnedSpikeTrain", lambda t=trials, b=bin_size: per_trial(t, b))],
            )
        compare(
            f"(b) {1000 // scale} trials x 50 x 2 s, 10 Hz, {tag}",
            trials_b,
            bin_size,
            args.repeats,
            [
                ("one BST per trial", lambda b=bin_size: per_trial(trials_b, b)),
                ("one BST for all trains", lambda b=bin_size: all_at_once(trials_b, b)),
            ],
        )
    compare_to_neo(args.repeats, 500 // scale)


def compare_to_neo(repeats, n_trials):
    """to_neo of n_trials x 20 units against creating its SpikeTrains alone (Neo's constructor)."""
    import torch

    generator = torch.Generator().manual_seed(0)
    counts = torch.bernoulli(torch.full((n_trials, 100, 20), 0.05), generator=generator)
    data = SpikeData(counts, 10 * pq.ms)
    ours_time, block = best_of(repeats, lambda: to_neo(data))
    times = [np.asarray(st.magnitude) for seg in block.segments for st in seg.spiketrains]

    def constructor_alone():
        start, stop, units = data.t_start, data.t_stop, data.units
        return [neo.SpikeTrain(t, t_start=start, t_stop=stop, units=units) for t in times]

    floor_time, _ = best_of(repeats, constructor_alone)
    print(
        f"\nto_neo, {n_trials} trials x 20 units ({len(times)} trains): {ours_time:.3f} s; "
        f"Neo's constructor per train alone: {floor_time:.3f} s ({ours_time / floor_time:.2f}x)"
    )


if __name__ == "__main__":
    main()
