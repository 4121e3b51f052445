"""Conditions and covariates on two real recordings: do they predict held-out spikes better?

The two bundled case studies of Kramer & Eden (2016), each fitted with and without the structure
a lab would model, scored on held-out trials in bits/spike (K-fold cross-validation: every trial
is held out once; each fold fits both models on the same training trials, so the difference is
paired and its standard error is over the folds):

* a rat hippocampal place cell on a linear track (one continuous 178 s session, cut into
  consecutive 5 s windows): bias + self-history, against the same plus a tuning on the animal's
  position (B-splines over the track);
* a human subthalamic-nucleus unit, 50 trials aligned on a GO cue, 25 left and 25 right: one
  stimulus-locked drive for all trials, against one drive per direction.

Both use the Bernoulli observation model at bins short enough that nearly no bin holds two
spikes (2 ms: 217 of the place cell's 219 spikes in whole windows are kept; 1 ms, the file's own
bins, for the STN unit: all), with 5 lags of self-history. A Poisson model was tried first: its fitted
self-excitation (5 lags summing to +1.3 on the place cell) ran away in free simulation, with the
exp link to overflow in 3 of 4 seeds (``simulate`` refuses those, SimulationDivergedError) and
with the softplus link to billions of spikes, a known instability of fitted Poisson GLMs; a
Bernoulli neuron cannot fire more than once per bin. With ``--out`` the script writes the fitted tuning curve and the
per-direction PSTHs (data and model) as PNG figures.

Run: python examples/kramer_casestudies.py [--folds 5] [--quick] [--out folder]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import quantities as pq

from elephant_fit import NetworkFitter, SpikeData, from_neo, to_neo
from elephant_fit.data.datasets import KRAMER_CITATION, load_place_cell, load_reaching_unit
from elephant_fit.network.covariates import CovariateSpec


def place_cell() -> SpikeData:
    """The place cell in 5 s windows at 2 ms, with its position (cm) averaged onto the bins."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the last 2.8 s are not a whole window
        block = load_place_cell()
        return from_neo(block, 2 * pq.ms, window=5 * pq.s, covariates=["position"], binary=True)


def reaching_unit() -> SpikeData:
    """The STN unit, -1 s .. +1 s around the GO cue at 1 ms (the file's bins), condition = the direction."""
    return from_neo(
        load_reaching_unit(),
        1 * pq.ms,
        trials="go",
        window=(-1 * pq.s, 1 * pq.s),
        condition="labels",
        binary=True,
    )


def _fitter(iterations: int, **options) -> NetworkFitter:
    return NetworkFitter(
        n_lags=5,
        optimizer="lbfgs",
        max_iterations=iterations,
        device="cpu",
        progress=False,
        **options,
    )


def folds(data: SpikeData, k: int, seed: int = 0) -> list[np.ndarray]:
    """``k`` disjoint sets of held-out trials covering all trials, balanced across conditions."""
    rng = np.random.default_rng(seed)
    codes = data.condition_codes.numpy()
    parts: list[list[int]] = [[] for _ in range(k)]
    for code in np.unique(codes):
        trials = rng.permutation(np.flatnonzero(codes == code))
        for i, trial in enumerate(trials):
            parts[i % k].append(int(trial))
    return [np.sort(np.array(part)) for part in parts]


def compare(data: SpikeData, models: dict, k: int) -> dict[str, np.ndarray]:
    """Held-out bits/spike of each model on each of ``k`` folds: ``{name: (k,)}``.

    ``models``: ``{name: (make a fitter, the data it sees: a function of SpikeData)}``.
    """
    scores = {name: [] for name in models}
    for held_out in folds(data, k):
        train = data[np.setdiff1d(np.arange(data.n_trials), held_out)]
        test = data[held_out]
        for name, (make, view) in models.items():
            fitter = make().fit(view(train))
            scores[name].append(fitter.score(view(test)))
    return {name: np.array(values) for name, values in scores.items()}


def _print(title: str, scores: dict[str, np.ndarray]) -> None:
    (base, a), (richer, b) = scores.items()
    k = len(a)
    print(f"{title} ({k}-fold cross-validation, held-out bits/spike, mean +/- s.e. over folds)")
    for name, values in scores.items():
        print(f"  {name:<28} {values.mean():.3f} +/- {values.std(ddof=1) / np.sqrt(k):.3f}")
    gain = b - a
    print(
        f"  {richer} - {base}: {gain.mean():+.3f} +/- {gain.std(ddof=1) / np.sqrt(k):.3f} "
        f"bits/spike (better on {int((gain > 0).sum())} of {k} folds)"
    )


def _figures(out: str, cell: SpikeData, unit: SpikeData, iterations: int = 200) -> None:
    """Tuning curve and per-direction PSTHs of models fitted to all trials, against the data.

    Always fully fitted (a few seconds), also with ``--quick``.
    """
    from elephant_fit.evaluation.figures import comparison_figures, tuning_figure

    tuned = _fitter(iterations, drive=None, covariates=CovariateSpec(("tuning",), n_tuning=10))
    tuned.fit(cell)
    simulated = tuned.simulate(cell.n_trials * 4, covariates=cell.covariates.repeat(4, 1, 1))
    path = tuning_figure(
        out, {"data": to_neo(cell), "model": simulated}, cell.bin_size, ["position"]
    )
    print(f"written {path}")
    drives = _fitter(iterations, drive="smooth", n_drive_basis=10).fit(unit)
    conditions = list(unit.conditions) * 4
    simulated = drives.simulate(len(conditions), conditions=conditions)
    blocks = {"data": to_neo(unit), "model": simulated}
    for path in comparison_figures(out, blocks, 100 * pq.ms, n_units=1)[1:2]:  # psth.png
        print(f"written {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke test)")
    parser.add_argument("--out", default=None, help="folder for the figures")
    args = parser.parse_args()
    iterations = 20 if args.quick else 200
    print("data:", KRAMER_CITATION)

    cell = place_cell()
    print(
        f"place cell: {cell.n_trials} windows of {cell.n_bins} bins, {int(cell.counts.sum())} spikes"
    )
    no_position = (lambda: _fitter(iterations, drive=None), lambda d: d.without(covariates=True))
    tuning = CovariateSpec(("tuning",), n_tuning=10)  # 10 B-splines over the track
    with_position = (lambda: _fitter(iterations, drive=None, covariates=tuning), lambda d: d)
    models = {"self-history only": no_position, "+ position tuning": with_position}
    _print("place cell", compare(cell, models, args.folds))

    unit = reaching_unit()
    print(
        f"STN unit: {unit.n_trials} trials ({', '.join(unit.condition_labels)}), {unit.n_bins} bins"
    )
    drive = {"drive": "smooth", "n_drive_basis": 10}  # one bump per 200 ms
    pooled = (lambda: _fitter(iterations, **drive), lambda d: d.without(conditions=True))
    per_direction = (lambda: _fitter(iterations, **drive), lambda d: d)
    models = {"one drive for all trials": pooled, "one drive per direction": per_direction}
    _print("STN unit", compare(unit, models, args.folds))
    if args.out:
        _figures(args.out, cell, unit)


if __name__ == "__main__":
    main()
