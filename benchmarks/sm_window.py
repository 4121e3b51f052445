"""Sample-and-measure on windows of long trials: fit time and fit quality on the retina recording.

The retina demo's split (recording 1, 18 s trials of 900 bins of 20 ms, 24 training repeats, 6
held out; NLL + SM with 10 hidden neurons, 5 lags, 300 iterations, early stopping), fitted with the
SM terms measured on whole trials and on random windows (``sm_window`` bins after ``sm_burn_in``
unmeasured ones). Each model is compared with the held-out repeats by the demo's Elephant row.

Run: python benchmarks/sm_window.py [--windows 100 250] [--burn-in 50]
"""

from __future__ import annotations

import argparse
import time
import warnings

import quantities as pq

from elephant_fit import NetworkFitter, from_neo, load_retina, to_neo
from elephant_fit.evaluation.report import block_statistics, model_row

ROWS = ("bits/spike", "PSTH R2", "NC R2 (20 ms)", "NC R2 (50 ms)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, nargs="+", default=[100, 250])
    parser.add_argument("--burn-in", type=int, default=50)
    args = parser.parse_args()
    bin_size = 20 * pq.ms
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = from_neo(load_retina(1), bin_size, t_start=0 * pq.s, t_stop=18 * pq.s, binary=True)
    train, test = data.split(test_fraction=0.2, seed=0)
    statistics = block_statistics(to_neo(test), bin_size)
    print(
        f"retina: {train.n_trials} training trials of {train.n_bins} bins, {test.n_trials} held out"
    )
    print(
        f"{'SM measured on':<26}{'fit s':>8}{'iterations':>12}" + "".join(f"{r:>15}" for r in ROWS)
    )
    for window in (None, *args.windows):
        fitter = NetworkFitter(
            n_hidden=10,
            bin_size=bin_size,
            n_lags=5,
            loss="sm",
            max_iterations=300,
            sm_window=window,
            sm_burn_in=args.burn_in,
            seed=0,
            device="cpu",
            progress=False,
        )
        start = time.perf_counter()
        fitter.fit(train)
        elapsed = time.perf_counter() - start
        row, _, _ = model_row(fitter, test, statistics, 100, seed=3)
        label = "whole trials" if window is None else f"{window}-bin windows"
        cells = "".join(f"{row[name]:>15.3f}" for name in ROWS)
        print(f"{label:<26}{elapsed:>8.1f}{len(fitter.history_.train):>12}{cells}")


if __name__ == "__main__":
    main()
