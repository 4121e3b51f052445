"""Does the compiled (numba) loop fit as well as the torch loop? The demo's SM fit, 5 seeds, paired.

The two loops give the same spikes for the same random numbers, but they add the recurrent input
in another order, so float32 rounding differs and a fit's trajectory drifts apart over 1500
iterations. This script fits the synthetic demo's recording (``elephant-fit demo``: 20 recorded
neurons driven by 20 hidden ones, 500 training trials) with the "sm" preset and 20 hidden neurons
under each loop, for several fit seeds on the same data, and compares held-out figures: the
particle-filter bits/spike, PSTH R^2 and noise-correlation R^2 at 10 and 50 ms of 1000 simulated
trials against the 500 held-out ones. It prints each loop's mean and seed standard deviation and
the paired numba - torch difference with its 95% t-interval.

Run: python benchmarks/loop_equivalence.py [--seeds 5] [--quick]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
import torch

from elephant_fit.cli.demo import DemoSettings, _synthetic
from elephant_fit.evaluation.metrics import noise_correlation_fit, psth_r2, rebin
from elephant_fit.fitting.fitter import NetworkFitter
from elephant_fit.network.likelihood import held_out_likelihood
from elephant_fit.network.loops import use_loop

LOOPS = ("torch", "numba")
#: Two-sided 95% t quantiles by degrees of freedom.
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def fit_and_score(train, test, settings, seed, loop, particles):
    with use_loop(loop):
        start = time.perf_counter()
        fitter = NetworkFitter(
            bin_size=train.bin_size,
            n_lags=settings.n_lags,
            n_hidden=settings.n_hidden,
            loss="sm",
            max_iterations=settings.iterations_sm,
            seed=seed,
            device="cpu",
            progress=False,
        ).fit(train)
        elapsed = time.perf_counter() - start
        with torch.no_grad():
            simulated = fitter.simulate_spikedata(1000, seed=seed + 3).counts[..., : test.n_neurons]
        score = held_out_likelihood(fitter.model_, test.counts, n_particles=particles, seed=seed)
    return {
        "bits/spike": score.bits_per_spike,
        "PSTH R2": psth_r2(simulated, test.counts),
        "NC R2 (10 ms)": noise_correlation_fit(simulated, test.counts)["r2"],
        "NC R2 (50 ms)": noise_correlation_fit(rebin(simulated, 5), rebin(test.counts, 5))["r2"],
        "fit time (s)": elapsed,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--particles", type=int, default=256)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the script")
    args = parser.parse_args()
    settings = DemoSettings.for_data("synthetic", quick=args.quick)
    if args.quick:
        settings.iterations_sm, args.particles = 20, 16
    train, test, _, _ = _synthetic(settings, seed=0)  # one recording; fit seeds vary
    rows = {loop: [] for loop in LOOPS}
    for seed in range(args.seeds):
        for loop in LOOPS:
            rows[loop].append(fit_and_score(train, test, settings, seed, loop, args.particles))
        print(
            f"seed {seed}: "
            + ", ".join(f"{loop} {rows[loop][-1]['bits/spike']:.4f} bits/spike" for loop in LOOPS),
            flush=True,
        )
    metrics = list(rows["torch"][0])
    print(f"\n{args.seeds} fit seeds, the demo's recording, {settings.iterations_sm} iterations")
    print(f"{'metric':<16}{'torch mean (sd)':>20}{'numba mean (sd)':>20}{'numba - torch':>24}")
    for metric in metrics:
        values = {loop: np.array([row[metric] for row in rows[loop]]) for loop in LOOPS}
        cells = "".join(
            f"{values[loop].mean():>11.4f} ({values[loop].std(ddof=1):.4f})" for loop in LOOPS
        )
        difference = values["numba"] - values["torch"]
        half = (
            T95.get(len(difference) - 1, 1.96)
            * statistics.stdev(difference)
            / math.sqrt(len(difference))
        )
        print(f"{metric:<16}{cells}{difference.mean():>+14.4f} ± {half:.4f}")


if __name__ == "__main__":
    main()
