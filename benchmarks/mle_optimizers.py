"""The likelihood without hidden neurons, fitted by Adam (the default) and by L-BFGS.

Held-out bits/spike and fit time of the "NLL only" model on the two demos' data and split: the
synthetic ground truth (500 training, 500 held-out trials, 3 lags, 300 iterations) and the
retina recording (24 training, 6 held-out repeats, 5 lags, 300 iterations); early stopping on.

Run: python benchmarks/mle_optimizers.py
"""

from __future__ import annotations

import time

from elephant_fit import NetworkFitter
from elephant_fit.cli.demo import DemoSettings, _retina, _synthetic


def main():
    print(f"{'data':<12}{'optimizer':<10}{'fit s':>8}{'iterations':>12}{'bits/spike':>12}")
    for name in ("synthetic", "retina"):
        settings = DemoSettings.for_data(name)
        if name == "synthetic":
            train, test, _, bin_size = _synthetic(settings, 0)
        else:
            train, test, _, bin_size = _retina(False, 0)
        for optimizer in ("adam", "lbfgs"):
            fitter = NetworkFitter(
                bin_size=bin_size,
                n_lags=settings.n_lags,
                max_iterations=settings.iterations_mle,
                optimizer=optimizer,
                seed=0,
                device="cpu",
                progress=False,
            )
            start = time.perf_counter()
            fitter.fit(train)
            elapsed = time.perf_counter() - start
            bits = fitter.score(test)
            iterations = len(fitter.history_.train)
            print(f"{name:<12}{optimizer:<10}{elapsed:>8.2f}{iterations:>12}{bits:>12.3f}")


if __name__ == "__main__":
    main()
