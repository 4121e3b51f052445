"""Held-out likelihood with hidden neurons: accuracy of the particle filter, and the old estimator.

On the demo ground truth (20 recorded + 20 hidden neurons, 10 ms bins), for the true network:
- the variance of the per-trial log-likelihood estimate (from 4 independent filters per trial),
  bootstrap proposal (hidden spikes from the model) against the look-ahead proposal, and the
  look-ahead's separable term (the library's, third order; and second order) against its exact
  term (round 2), with times;
- bits/spike with 256 and 1024 particles per trial (the default: 256) and its standard error;
- the round-1 estimator (log of the mean of 20 whole-trial samples from the prior);
- an MLE fit of the recorded neurons alone, for the ranking.

Run: python benchmarks/particle_filter.py [--trials 200] [--truth assembly|small]
(``--truth assembly``: the connectivity benchmark's ground truth, 60 hidden neurons; ``small``:
the 8 + 8 truth of ``tests/test_likelihood.py``; the variance comparison only.)
"""

from __future__ import annotations

import argparse
import math
import time

import quantities as pq
import torch

from elephant_fit.fitting.fitter import NetworkFitter
from elephant_fit.network import likelihood
from elephant_fit.network.simulation import teacher_forced
from elephant_fit.network.synthetic import assembly_network, hidden_input_network, sample_spikedata


def exact_gain(mean_input, r_next, p_hidden, lag1):
    """Round 2's look-ahead gain: the exact log-likelihood ratio, (F, K, hidden, recorded) wide."""
    others = mean_input.unsqueeze(2) - p_hidden.unsqueeze(3) * lag1
    penalty = torch.log1p(torch.sigmoid(others) * torch.expm1(lag1)).sum(dim=-1)
    return r_next @ lag1.T - penalty


def second_order_gain(mean_input, r_next, p_hidden, lag1):
    """The separable gain expanded to second order only (measured, not used: see the docs)."""
    rate = torch.sigmoid(mean_input)
    second = (rate * (1 - rate)) @ (lag1 * lag1).T
    return (r_next - rate) @ lag1.T - (1 - 2 * p_hidden) * second / 2


def proposal_variances(truth, test):
    """Variance of log p per trial (4 filters x 128 particles) and time, for each proposal."""
    third_order = likelihood._lookahead_gain
    for name, lookahead, gain in (
        ("bootstrap (prior proposal)", 0.0, third_order),
        ("look-ahead, exact term", 0.75, exact_gain),
        ("look-ahead, second order", 0.75, second_order_gain),
        ("look-ahead, third order", 0.75, third_order),
    ):
        likelihood.LOOKAHEAD, likelihood._lookahead_gain = lookahead, gain
        start = time.perf_counter()
        with torch.no_grad():
            estimate = likelihood.log_likelihood(
                truth, test, n_particles=4 * 128, n_replicates=4, seed=1
            )
        elapsed = time.perf_counter() - start
        variance = float(estimate.variance.mean()) * 4
        print(
            f"  {name:<28} variance of log p per trial, 128 particles: {variance:.3f} nats^2, "
            f"log p {float(estimate.total):.1f} nats  [{elapsed:.1f} s]"
        )
    likelihood.LOOKAHEAD, likelihood._lookahead_gain = 0.75, third_order


def prior_samples_estimate(model, counts, n_samples=20, seed=0):
    """Round 1: log mean over whole-trial prior samples of p(recorded | sampled hidden), bits/spike."""
    per_sample = []
    for s in range(n_samples):
        u = teacher_forced(model, counts, seed=seed + 7919 * s).u[..., : model.n_recorded]
        per_sample.append(-model.neg_log_likelihood(u, counts).sum(dim=(1, 2)).double())
    log_lik = torch.logsumexp(torch.stack(per_sample), dim=0) - math.log(n_samples)
    baseline = -likelihood._homogeneous_nll(model, counts)
    return (float(log_lik.sum()) - baseline) / (float(counts.sum()) * math.log(2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--truth", choices=("demo", "assembly", "small"), default="demo")
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.truth != "demo":
        truth, seed = (
            (assembly_network(seed=0), 2)
            if args.truth == "assembly"
            else (hidden_input_network(n_recorded=8, n_hidden=8, n_bins=60, seed=3), 5)
        )
        test = sample_spikedata(truth, args.trials, 10 * pq.ms, seed=seed).recorded().counts
        print(f"{args.truth} truth, {args.trials} held-out trials")
        proposal_variances(truth, test)
        return
    truth = hidden_input_network(seed=0)
    train = sample_spikedata(truth, 500, 10 * pq.ms, seed=1).recorded()
    test_data = sample_spikedata(truth, args.trials, 10 * pq.ms, seed=2).recorded()
    test = test_data.counts
    print(f"true network, {args.trials} held-out trials")
    proposal_variances(truth, test)
    for n_particles in (256, 1024):
        start = time.perf_counter()
        result = likelihood.held_out_likelihood(truth, test, n_particles=n_particles, seed=2)
        elapsed = time.perf_counter() - start
        print(f"  particle filter, {n_particles:>4} particles: {result}  [{elapsed:.1f} s]")
    with torch.no_grad():
        old = prior_samples_estimate(truth, test)
    print(f"  round-1 estimator (20 prior samples):  {old:.3f} bits/spike")
    mle = NetworkFitter(
        bin_size=10 * pq.ms, n_lags=3, max_iterations=300, progress=False, device="cpu"
    ).fit(train)
    print(f"MLE fit of the recorded neurons (exact): {mle.log_likelihood(test_data)}")


if __name__ == "__main__":
    main()
