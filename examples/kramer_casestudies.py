"""Conditions and covariates on two real recordings
================================================

Do they predict held-out spikes better? The two bundled case studies of Kramer & Eden (2016),
each fitted with and without the structure a lab would model, scored on held-out trials in
bits/spike (K-fold cross-validation: every trial is held out once; each fold fits both models on
the same training trials, so the difference is paired and its standard error is over the folds):

* a rat hippocampal place cell on a linear track (one continuous 178 s session, cut into
  consecutive 5 s windows): bias + self-history, against the same plus a tuning on the animal's
  position (B-splines over the track);
* a human subthalamic-nucleus unit, 50 trials aligned on a GO cue, 25 left and 25 right: one
  stimulus-locked drive for all trials, against one drive per direction.

Both use the Bernoulli observation model at bins short enough that nearly no bin holds two
spikes (2 ms: 217 of the place cell's 219 spikes in whole windows are kept; 1 ms, the file's own
bins, for the STN unit: all), with 5 lags of self-history. A Poisson model was tried first: its
fitted self-excitation (5 lags summing to +1.3 on the place cell) ran away in free simulation,
with the exp link to overflow in 3 of 4 seeds (``simulate`` refuses those,
``SimulationDivergedError``) and with the softplus link to billions of spikes, a known
instability of fitted Poisson GLMs; a Bernoulli neuron cannot fire more than once per bin.
With ``--out`` the script also writes the fitted tuning curve and the per-direction PSTHs (data
and model) as PNG figures.

Run: python examples/kramer_casestudies.py [--folds 5] [--quick] [--out folder]
"""

import argparse
import warnings

import matplotlib.pyplot as plt
import numpy as np
import quantities as pq
import torch

from elephant_fit import NetworkFitter, SpikeData, from_neo, to_neo
from elephant_fit.data.datasets import KRAMER_CITATION, load_place_cell, load_reaching_unit
from elephant_fit.network.covariates import CovariateSpec

parser = argparse.ArgumentParser(description="Conditions and covariates on two real recordings")
parser.add_argument("--folds", type=int, default=None, help="default 5, or 2 with --quick")
parser.add_argument(
    "--quick", action="store_true", help="fewer iterations and folds (a smoke test)"
)
parser.add_argument("--out", default=None, help="folder for PNG figures")
args = parser.parse_args()
n_folds = args.folds or (2 if args.quick else 5)
iterations = 8 if args.quick else 200  # L-BFGS steps (early stopping ends most fits sooner)
print("data:", KRAMER_CITATION)

# %%
# The two recordings, binned
# --------------------------
# :func:`~elephant_fit.from_neo` cuts the continuous place-cell session into 5 s windows and
# averages the position onto the bins (a covariate); it cuts the STN session around each GO
# event and takes each event's label (left or right) as the trial's condition.


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


cell = place_cell()
print(f"place cell: {cell.n_trials} windows of {cell.n_bins} bins, {int(cell.counts.sum())} spikes")
unit = reaching_unit()
print(f"STN unit: {unit.n_trials} trials ({', '.join(unit.condition_labels)}), {unit.n_bins} bins")

# %%
# Paired cross-validation
# -----------------------
# Every model is a single neuron with 5 lags of self-history, fitted by L-BFGS (the likelihood of
# a network without hidden neurons is deterministic). Folds are balanced across conditions.


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


# %%
# The place cell: does its position predict its spikes?
# -----------------------------------------------------
# The model without position sees the same windows with the covariate removed
# (``SpikeData.without``).

no_position = (lambda: _fitter(iterations, drive=None), lambda d: d.without(covariates=True))
tuning = CovariateSpec(("tuning",), n_tuning=10)  # 10 B-splines over the track
with_position = (lambda: _fitter(iterations, drive=None, covariates=tuning), lambda d: d)
models = {"self-history only": no_position, "+ position tuning": with_position}
_print("place cell", compare(cell, models, n_folds))

# %%
# The STN unit: does the direction change its response?
# -----------------------------------------------------
# A smooth stimulus-locked drive, one bump per 200 ms; without conditions the drive is one for
# all trials, with them one per direction.

drive = {"drive": "smooth", "n_drive_basis": 10}
pooled = (lambda: _fitter(iterations, **drive), lambda d: d.without(conditions=True))
per_direction = (lambda: _fitter(iterations, **drive), lambda d: d)
models = {"one drive for all trials": pooled, "one drive per direction": per_direction}
_print("STN unit", compare(unit, models, n_folds))

# %%
# What the richer models learned
# ------------------------------
# Both richer models fitted to all trials (with ``--quick`` in 8 L-BFGS steps, nearly converged
# for these one-neuron models), simulated on four times as many trials as the data (the place
# cell with the recorded positions, the STN unit with as many trials per direction), and
# compared with the data: the rate against position, and the rate around the GO cue per
# direction.

tuned = _fitter(iterations, drive=None, covariates=tuning).fit(cell)
positions = cell.covariates.repeat(4, 1, 1)
cell_model = tuned.simulate_spikedata(cell.n_trials * 4, seed=0, covariates=positions)
drives = _fitter(iterations, **drive).fit(unit)
conditions = list(unit.conditions) * 4
unit_model = drives.simulate_spikedata(len(conditions), seed=0, conditions=conditions)


def rate_by_position(counts: torch.Tensor, position: torch.Tensor, edges: np.ndarray) -> np.ndarray:
    """Rate (Hz) of the 2 ms bins whose position falls in each interval."""
    where = np.clip(np.digitize(position.numpy().ravel(), edges) - 1, 0, len(edges) - 2)
    spikes = np.bincount(where, counts.numpy().ravel(), minlength=len(edges) - 1)
    occupancy = np.bincount(where, minlength=len(edges) - 1) * 0.002
    return spikes / np.maximum(occupancy, 1e-12)


def psth(counts: torch.Tensor, width: int = 50) -> np.ndarray:
    """Rate (Hz) in consecutive windows of ``width`` 1 ms bins, averaged over trials."""
    trials, bins = counts.shape[:2]
    return counts[..., 0].reshape(trials, bins // width, width).mean(dim=(0, 2)).numpy() * 1000


edges = np.linspace(float(cell.covariates.min()), float(cell.covariates.max()), 21)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
centres = (edges[:-1] + edges[1:]) / 2
for style, (name, data, position) in zip(
    ("o", "-"),
    (("data", cell, cell.covariates), ("model", cell_model, positions)),
    strict=True,
):
    left.plot(centres, rate_by_position(data.counts, position, edges), style, label=name)
left.set(xlabel="position (cm)", ylabel="rate (Hz)", title="place cell: rate against position")
left.legend(fontsize=8)
times = -1 + (np.arange(unit.n_bins // 50) + 0.5) * 0.05
for colour, label in enumerate(unit.condition_labels):  # left, right
    for style, (name, data) in zip(
        (":", "-"), (("data", unit), ("model", unit_model)), strict=True
    ):
        trials = torch.tensor([condition == label for condition in data.conditions])
        right.plot(
            times, psth(data.counts[trials]), style, color=f"C{colour}", label=f"{name}, {label}"
        )
right.axvline(0, color="k", lw=0.5)
right.set(xlabel="time from GO (s)", ylabel="rate (Hz)", title="STN unit: PSTH per direction")
right.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
# With ``--out`` the same models' figures also go to PNG files, drawn by
# ``elephant_fit.evaluation.figures`` from the Neo Blocks (by Elephant's binning).

if args.out:
    from elephant_fit.evaluation.figures import comparison_figures, tuning_figure

    blocks = {"data": to_neo(cell), "model": to_neo(cell_model)}
    print(f"written {tuning_figure(args.out, blocks, cell.bin_size, ['position'])}")
    blocks = {"data": to_neo(unit), "model": to_neo(unit_model)}
    for path in comparison_figures(args.out, blocks, 100 * pq.ms, n_units=1)[1:2]:  # psth.png
        print(f"written {path}")
