"""MLE vs NLL + sample-and-measure with hidden neurons, on a ground-truth hidden-input network.

Recorded neurons receive common input from hidden neurons (elephant_fit.network.synthetic). We fit
(a) NLL only, without hidden neurons, and (b) the "sm" preset (NLL + PSTH + noise covariance +
hidden-rate) with hidden neurons, on training trials; then simulate both freely and compare with
held-out data: PSTH R^2, noise-correlation R^2 and r (10 ms and 50 ms), mean-rate error, Fano-factor
error, held-out bits per spike and coupling recovery among recorded neurons.

Run: python benchmarks/fit_hidden_network.py [--iterations 1500] [--surrogate sigmoid]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import quantities as pq
import torch

from elephant_fit.evaluation import metrics
from elephant_fit.fitting.fitter import NetworkFitter
from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata


def evaluate(fitter, test, true_coupling, n_sim, seed):
    """Held-out metrics of a fitted model."""
    sim = fitter.simulate_spikedata(n_sim, seed=seed).recorded().counts
    data = test.recorded().counts
    row = {
        "bits/spike": fitter.score(test.recorded()),
        "PSTH R2": metrics.psth_r2(sim, data),
        "rate err (Hz)": metrics.mean_rate_error(sim, data, 0.01),
        "Fano err": metrics.fano_factor_error(sim, data),
    }
    for label, factor in (("10ms", 1), ("50ms", 5)):
        nc = metrics.noise_correlation_fit(metrics.rebin(sim, factor), metrics.rebin(data, factor))
        row[f"NC{label} R2"], row[f"NC{label} r"] = nc["r2"], nc["r"]
    n_rec = test.n_recorded
    fitted = fitter.coupling_[:n_rec, :n_rec]
    row["coupling r"] = metrics.coupling_recovery(fitted, true_coupling[:n_rec, :n_rec])
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1500)
    parser.add_argument("--train-trials", type=int, default=500)
    parser.add_argument("--test-trials", type=int, default=1000)
    parser.add_argument("--surrogate", default="sigmoid")
    parser.add_argument("--n-hidden", type=int, default=20)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the table as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(2)

    truth = hidden_input_network(seed=args.seed)
    true_coupling = truth.coupling_array()
    train = sample_spikedata(truth, args.train_trials, 10 * pq.ms, seed=args.seed + 1).recorded()
    test = sample_spikedata(truth, args.test_trials, 10 * pq.ms, seed=args.seed + 2)
    common = {
        "bin_size": 10 * pq.ms,
        "n_lags": 3,
        "max_iterations": args.iterations,
        "learning_rate": args.lr,
        "surrogate": args.surrogate,
        "seed": args.seed,
        "device": "cpu",
        "progress": False,
    }
    rows = {}
    for name, params in (
        ("NLL only", {"n_hidden": 0, "loss": "mle"}),
        ("NLL+SM, hidden", {"n_hidden": args.n_hidden, "loss": "sm"}),
    ):
        start = time.perf_counter()
        fitter = NetworkFitter(**params, **common).fit(train)
        elapsed = time.perf_counter() - start
        rows[name] = evaluate(fitter, test, true_coupling, args.test_trials, seed=123)
        rows[name]["fit time (s)"] = elapsed
        rows[name]["s/iteration"] = elapsed / len(fitter.history_.train)
    keys = list(next(iter(rows.values())))
    print(f"{'metric':<16}" + "".join(f"{name:>18}" for name in rows))
    for key in keys:
        print(f"{key:<16}" + "".join(f"{rows[name][key]:>18.3f}" for name in rows))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"args": vars(args), "rows": rows}, handle, indent=2)


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
