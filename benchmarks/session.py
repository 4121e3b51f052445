"""What conditions and covariates buy on a lab session, and what they cost.

The synthetic session of ``elephant-fit demo --data session`` (12 units, two stimulus conditions,
a running-speed covariate; 300 trials cut around ``stim_on``, 80 % fitted, 20 % held out). MLE
fits with and without the per-condition drive and the covariate: held-out bits/spike with its
standard error and the fit time; then the time of an SM fit (fixed iterations) with conditions
and the covariate against one without, on the same trials. Run alone on the machine:

    python benchmarks/session.py [--trials 300] [--sm-iterations 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from elephant_fit import NetworkFitter, SpikeData
from elephant_fit.cli._session import session_data


def _view(data: SpikeData, conditions: bool, covariates: bool) -> SpikeData:
    """``data`` keeping its conditions and/or its covariates only."""
    return data.without(conditions=not conditions, covariates=not covariates)


def _per_trial_nats(fitter: NetworkFitter, test: SpikeData) -> np.ndarray:
    """Log-likelihood (nats, exact: no hidden neurons) of each held-out trial, shape (n_trials,)."""
    return np.array(
        [fitter.log_likelihood(test[k : k + 1]).log_likelihood for k in range(len(test))]
    )


def _sm_seconds(data: SpikeData, args: argparse.Namespace) -> float:
    """Seconds per iteration of an SM fit of ``args.sm_iterations`` iterations."""
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
    fitter.fit(data)
    return (time.perf_counter() - start) / args.sm_iterations


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--sm-iterations", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        train, test, _, bin_size, _ = session_data(args.trials, 0, Path(folder), ".pkl")
    print(
        f"session: {train.n_trials} training / {test.n_trials} held-out trials x {train.n_bins} bins of {bin_size} x {train.n_neurons} units"
    )
    n_spikes = float(test.counts.sum())
    scale = n_spikes * np.log(2)
    print("MLE fits; held-out bits/spike, and the loss against the full model: paired over the")
    print(f"{test.n_trials} held-out trials, difference in bits/spike +/- s.e. over trials")
    print(f"{'MLE model':<28}{'bits/spike':>11}{'vs full':>10}{'s.e.':>8}{'fit s':>7}")
    full = None
    warm_up = NetworkFitter(
        n_lags=3, n_input_lags=3, max_iterations=5, device="cpu", progress=False
    )
    warm_up.fit(train[:20])  # torch's first-call costs stay out of the timed fits
    for label, conditions, covariates in (
        ("conditions + covariate", True, True),
        ("conditions, no covariate", True, False),
        ("one drive, covariate", False, True),
        ("one drive, no covariate", False, False),
    ):
        fitter = NetworkFitter(n_lags=3, n_input_lags=3, device="cpu", progress=False)
        start = time.perf_counter()
        fitter.fit(_view(train, conditions, covariates))
        elapsed = time.perf_counter() - start
        view = _view(test, conditions, covariates)
        nats = _per_trial_nats(fitter, view)
        full = nats if full is None else full
        difference = (nats - full) * len(nats) / scale  # bits/spike, per-trial contributions
        error = difference.std(ddof=1) / np.sqrt(len(nats))
        print(
            f"{label:<28}{fitter.score(view):>11.4f}{difference.mean():>+10.4f}{error:>8.4f}"
            f"{elapsed:>7.1f}"
        )
    print(
        f"\nSM fit, {args.sm_iterations} iterations, no early stopping (time per iteration, "
        f"the fastest of {args.repeats} interleaved runs):"
    )
    configurations = {
        "one drive, no covariate": (False, False),
        "2 conditions + covariate": (True, True),
    }
    times = {label: float("inf") for label in configurations}
    for _ in range(args.repeats):
        for label, (conditions, covariates) in configurations.items():
            times[label] = min(
                times[label], _sm_seconds(_view(train, conditions, covariates), args)
            )
    for label, seconds in times.items():
        print(f"{label:<34}{1000 * seconds:>8.1f} ms")
    ratio = times["2 conditions + covariate"] / times["one drive, no covariate"]
    print(f"ratio (2 conditions + covariate / one drive): {ratio:.2f} (bound of the issue: 2)")


if __name__ == "__main__":
    main()
