"""MLE without hidden neurons: elephant-fit against nemos (PopulationGLM, Bernoulli, LBFGS) on the same data.

nemos needs jax, which elephant-fit does not depend on, so the comparison runs in two steps:

    python benchmarks/mle_vs_nemos.py --export /tmp/mle.npz    # elephant-fit's environment
    /path/to/nemos-env/bin/python benchmarks/mle_vs_nemos.py --nemos /tmp/mle.npz

The first step samples the data of ``bench_fit.py``'s MLE comparison (80 neurons, 5 lags, a smooth
stimulus drive of 10 bumps; 150 training and 50 held-out trials of 100 bins), fits it with
elephant-fit (Adam and L-BFGS, early stopping) and prints time and held-out log-likelihood per
neuron-bin; the second fits nemos on the same design (the same GLM: intercept, 5 lags of all 80
neurons, the same 10 drive bumps) and prints the same two numbers.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def design(counts: np.ndarray, bumps: np.ndarray, n_lags: int) -> np.ndarray:
    """Features (n_trials * n_bins, n_lags * n_neurons + n_bumps): lagged counts, then the drive."""
    n_trials, n_bins, n_neurons = counts.shape
    padded = np.concatenate([np.zeros((n_trials, n_lags, n_neurons)), counts], axis=1)
    lagged = [padded[:, n_lags - lag : n_lags - lag + n_bins] for lag in range(1, n_lags + 1)]
    history = np.concatenate(lagged, axis=2).reshape(n_trials * n_bins, -1)
    drive = np.tile(bumps, (n_trials, 1))
    return np.concatenate([history, drive], axis=1)


def bernoulli_ll(rates: np.ndarray, counts: np.ndarray) -> float:
    """Mean log-likelihood per neuron-bin of binary counts under spike probabilities ``rates``."""
    p = np.clip(rates, 1e-12, 1 - 1e-12)
    return float(np.mean(counts * np.log(p) + (1 - counts) * np.log1p(-p)))


def export(path: str) -> None:
    import quantities as pq
    import torch
    from _truths import sparse_driven_spikes

    from elephant_fit import NetworkFitter
    from elephant_fit.data.spikedata import SpikeData
    from elephant_fit.network import gaussian_bumps, teacher_forced

    spikes = sparse_driven_spikes()  # as in bench_fit.py
    train, test = spikes[:150], spikes[150:]
    bumps = gaussian_bumps(10, 100).numpy()
    np.savez(path, train=train.numpy(), test=test.numpy(), bumps=bumps, n_lags=5)
    print("elephant-fit, 80 neurons x 150 trials x 100 bins, 5 lags (fit s, held-out LL/bin):")
    for label, options in (
        ("Adam, early stopping (default)", {}),
        ("L-BFGS", {"optimizer": "lbfgs"}),
    ):
        fitter = NetworkFitter(n_lags=5, n_drive_basis=10, device="cpu", progress=False, **options)
        start = time.perf_counter()
        fitter.fit(SpikeData(train, 10 * pq.ms))
        elapsed = time.perf_counter() - start
        with torch.no_grad():
            u = teacher_forced(fitter.model_, test).u
            ll = bernoulli_ll(torch.sigmoid(u).double().numpy(), test.double().numpy())
        print(f"  {label:<34}{elapsed:8.2f} s {ll:10.5f}")


def fit_nemos(path: str) -> None:
    import jax
    import nemos as nmo

    jax.config.update("jax_enable_x64", True)
    data = np.load(path)
    n_lags = int(data["n_lags"])
    x_train = design(data["train"], data["bumps"], n_lags)
    y_train = data["train"].reshape(-1, data["train"].shape[2])
    x_test = design(data["test"], data["bumps"], n_lags)
    y_test = data["test"].reshape(-1, data["test"].shape[2])
    print(f"nemos {nmo.__version__}, PopulationGLM, Bernoulli, LBFGS (fit s, held-out LL/bin):")
    for attempt in ("first fit", "warm (second) fit"):
        model = nmo.glm.PopulationGLM(
            observation_model=nmo.observation_models.BernoulliObservations(), solver_name="LBFGS"
        )
        start = time.perf_counter()
        model.fit(x_train, y_train)
        elapsed = time.perf_counter() - start
        ll = bernoulli_ll(np.asarray(model.predict(x_test)), y_test)
        print(f"  {attempt:<34}{elapsed:8.2f} s {ll:10.5f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", help="sample the data, write it here, fit elephant-fit")
    parser.add_argument("--nemos", help="fit nemos on the data written by --export")
    args = parser.parse_args()
    if args.export:
        export(args.export)
    if args.nemos:
        fit_nemos(args.nemos)


if __name__ == "__main__":
    main()
