"""How well can any model do on the retina demo? The training repeats used as the "model".

The demo (`elephant-fit demo --data retina`) compares each fitted model's simulated trials with the
6 held-out repeats. Here the 24 training repeats themselves play the model, with the same split,
bins and Elephant-computed statistics: a ceiling set by trial-to-trial noise.

Run: python benchmarks/retina_ceiling.py
"""

from __future__ import annotations

from elephant_fit import to_neo
from elephant_fit.cli.demo import _retina
from elephant_fit.evaluation.report import block_statistics, compare_statistics


def main():
    train, test, _, bin_size = _retina(quick=False, seed=0)
    row = compare_statistics(
        block_statistics(to_neo(train), bin_size), block_statistics(to_neo(test), bin_size)
    )
    print(f"training repeats ({train.n_trials}) against held-out repeats ({test.n_trials}):")
    for key, value in row.items():
        print(f"  {key:<22} {value:.3f}")


if __name__ == "__main__":
    main()
