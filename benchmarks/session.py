"""What conditions and covariates buy on a lab session, and what they cost.

The synthetic session of ``elephant-fit demo --data session`` (12 units, two stimulus conditions,
a running-speed covariate; 300 trials cut around ``stim_on``, 80 % fitted, 20 % held out). MLE
fits with and without the per-condition drive and the covariate: held-out bits/spike with its
standard error and the fit time; then the time of an SM fit (fixed iterations) with conditions
and the covariate against one without, on the same trials. Run alone on the machine:

    python benchmarks/session.py [--trials 300] [--sm-iterations 100]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from elephant_fit import NetworkFitter, SpikeData
from elephant_fit.cli._session import session_data


def _without(data: SpikeData, conditions: bool, covariates: bool) -> SpikeData:
    """``data`` keeping its conditions and/or its covariates only."""
    return SpikeData(
        data.counts,
        data.bin_size,
        t_start=data.t_start,
        t_stop=data.t_stop,
        unit_ids=data.unit_ids,
        conditions=list(data.conditions) if conditions else None,
        covariates=data.covariates if covariates else None,
        covariate_names=data.covariate_names if covariates else None,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--sm-iterations", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        train, test, _, bin_size, _ = session_data(args.trials, 0, Path(folder), ".pkl")
    print(
        f"session: {train.n_trials} training / {test.n_trials} held-out trials x {train.n_bins} bins of {bin_size} x {train.n_neurons} units"
    )
    print(f"{'MLE model':<34}{'bits/spike':>12}{'s.e.':>9}{'fit s':>8}")
    for label, conditions, covariates in (
        ("conditions + covariate", True, True),
        ("conditions, no covariate", True, False),
        ("one drive, covariate", False, True),
        ("one drive, no covariate", False, False),
    ):
        fitter = NetworkFitter(n_lags=3, n_input_lags=3, device="cpu", progress=False)
        start = time.perf_counter()
        fitter.fit(_without(train, conditions, covariates))
        elapsed = time.perf_counter() - start
        score = fitter.log_likelihood(_without(test, conditions, covariates))
        print(
            f"{label:<34}{score.bits_per_spike:>12.4f}{score.standard_error:>9.4f}{elapsed:>8.1f}"
        )
    print(f"\nSM fit, {args.sm_iterations} iterations, no early stopping (time per iteration):")
    times = {}
    for label, conditions, covariates in (
        ("one drive, no covariate", False, False),
        ("2 conditions + covariate", True, True),
    ):
        fitter = NetworkFitter(
            n_lags=3,
            n_input_lags=3,
            loss="sm",
            max_iterations=args.sm_iterations,
            patience=None,
            device="cpu",
            progress=False,
        )
        start = time.perf_counter()
        fitter.fit(_without(train, conditions, covariates))
        times[label] = (time.perf_counter() - start) / args.sm_iterations
        print(f"{label:<34}{1000 * times[label]:>8.1f} ms")
    ratio = times["2 conditions + covariate"] / times["one drive, no covariate"]
    print(f"ratio (2 conditions + covariate / one drive): {ratio:.2f} (bound of the issue: 2)")


if __name__ == "__main__":
    main()
