"""Connectivity against data size: does maximum likelihood level off at the hidden-input bias?

The ground truth of ``benchmarks/connectivity.py`` (``assembly_network``: 20 recorded neurons, 60
hidden ones in 6 assemblies), with its strength options (``--projection-weight``,
``--assembly-weight``, ``--n-targets``), fitted on nested training sets of growing size (the first
N trials of one long sample per seed) and scored on 500 held-out trials:

- "MLE, no hidden": the exact maximum-likelihood estimate on the recorded neurons (full-batch
  L-BFGS: Adam on batches of 20 would add an optimisation noise that more data does not remove);
- "MLE, hidden": likelihood with 20 hidden neurons (Adam, the fitter's defaults);
- "SM, hidden": the "sm" preset with 20 hidden neurons (Adam, at most 1500 iterations);
- "oracle": exact maximum likelihood with all 80 neurons observed (L-BFGS): the fully observed,
  well-specified fit of the same recurrent network, whose error must keep falling with data;
- "oracle, 2 lags" (optional, ``--fits``): fully observed but misspecified (filters of 2 bins; the
  truth's reach 4): a model-misspecification bias without hidden neurons;
- "SM from MLE, hidden" (optional): "MLE, hidden", then the "sm" preset started from its
  parameters (``warm_start``; at most 1500 iterations, early stopping on SM's validation loss);
- "SM, hidden, batches of 80" (optional): "SM, hidden" on batches of 80 trials instead of 20;
- "MLE, hidden, smoother" and "SM, hidden, smoother" (optional): "MLE, hidden" and "SM, hidden"
  with the likelihood term ``"nll_posterior"`` instead of ``"nll"``: the hidden spikes drawn given
  the recorded ones (a particle smoother, 32 particles) instead of from the model alone, whose
  complete-data likelihood gradient estimates the marginal likelihood's (a stochastic EM);
- "MLE, hidden, smoother, 3000 iterations" and "SM from MLE smoother, hidden" (optional): the
  stochastic EM with three times the iterations, and the "sm" preset started from the (1000
  iterations) stochastic EM fit (``warm_start``);
- "MLE, hidden, smoother, L1 <strength>" and "MLE, no hidden, L1 <strength>" (optional; strengths
  in ``L1_STRENGTHS``): the stochastic EM with an L1 penalty on the recorded-to-recorded
  couplings only (``CouplingPenalty("l1", pairs="recorded")``: hidden neurons explain shared
  input at no cost), and its control, the same penalty on the likelihood without hidden neurons
  (Adam, as the EM);
- "MLE, hidden, smoother, L1 <strength>, refit" and "MLE, no hidden, L1 <strength>, refit"
  (optional): the same fits, then the recorded pairs whose coupling (summed |w| over lags) is
  below ``PRUNE_BELOW`` removed from the network (its coupling mask) and the rest fitted again
  without the penalty from there (``warm_start``): the L1 selects, the refit undoes its shrinkage
  (a relaxed lasso);
- "MLE, hidden, smoother, L1 <strength>, refit, 3000 iterations" (optional): the refit stage with
  three times the iterations;
- "MLE, 60 hidden, smoother, L1 <strength>" and its ", refit" (optional): the same stochastic EM
  fits with the L1 and the refit, with 60 hidden neurons (as many as the truth has) instead of 20;
- "SM, hidden, L1 <strength>" and "SM from EM + L1 <strength> refit, hidden" (optional): the
  "sm" preset with the same penalty on the recorded pairs, and the "sm" preset started from the
  EM's refit (its removed pairs stay removed).

Per fit and size, mean and 95% t-interval over seeds: coupling R^2, slope on the true non-zero
weights, spurious |w| on confounded pairs, detection AUC, PSTH R^2, NC R^2 at 1 and 5 bins,
held-out bits/spike (particle filter, with its standard error), the time of fitting and of scoring;
paired per-seed intervals of "SM closes half the gap":
(SM - MLE) - (oracle - MLE) / 2 on coupling R^2 (> 0) and spurious |w| (< 0).

Run: python benchmarks/connectivity_sweep.py [--sizes 150 600 2400 9600] [--seeds 5] [--jobs 2]
     [--fits "MLE, no hidden;oracle"] [--quick] [--json out.json] [--figure out.png]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import torch
from connectivity import (
    BIN,
    FITS,
    activity_metrics,
    as_hidden_model,
    coupling_metrics,
    interval,
    paired_differences,
    scored,
)

from elephant_fit import SpikeData
from elephant_fit.errors import NoImprovementWarning
from elephant_fit.fitting.fitter import NetworkFitter
from elephant_fit.fitting.losses import PRESETS, CouplingPenalty
from elephant_fit.network.synthetic import assembly_network, confounded_pairs, sample_spikedata

#: An optional control: fully observed but misspecified (2-bin filters; the truth's reach 4 bins).
MISSPECIFIED = "oracle, 2 lags"
#: An optional fit: "MLE, hidden", then the "sm" preset started from it (warm_start).
WARM = "SM from MLE, hidden"
#: An optional fit: the "sm" preset on batches of 80 trials (less noise in the descent).
LARGE_BATCH = "SM, hidden, batches of 80"
#: Optional fits: the likelihood term with hidden spikes drawn given the recorded ones.
SMOOTHER_MLE = "MLE, hidden, smoother"
SMOOTHER_SM = "SM, hidden, smoother"
#: Optional fits: the stochastic EM three times longer, and the "sm" preset started from it.
SMOOTHER_LONG = "MLE, hidden, smoother, 3000 iterations"
SM_FROM_SMOOTHER = "SM from MLE smoother, hidden"
#: Optional fits: strengths of an L1 penalty on the recorded couplings (the stochastic EM and its
#: control without hidden neurons); a weight of magnitude w is shrunk by about 20 * strength * w
#: / |w| at 5 Hz (the penalty's gradient over the likelihood's curvature per weight).
L1_STRENGTHS = (0.003, 0.01, 0.03)
SMOOTHER_L1 = "MLE, hidden, smoother, L1 {:g}"
NO_HIDDEN_L1 = "MLE, no hidden, L1 {:g}"
#: The refits on the pairs the L1 fits keep: a pair whose summed |w| over lags is below this is
#: removed (Adam's steps of 0.01 keep a penalised weight within about 0.01 of 0 per lag).
PRUNE_BELOW = 0.05
REFIT = "{}, refit"
#: Optional fits: the refit with three times the iterations (with 1000, seed 0's validation loss
#: was still falling at the end).
LONG_REFIT = "{}, refit, 3000 iterations"
#: Optional fits: the stochastic EM with the L1 (and its refit) with as many hidden neurons as the
#: truth has (60) instead of 20.
WIDE_HIDDEN = 60
WIDE_L1 = "MLE, 60 hidden, smoother, L1 {:g}"
SM_L1 = "SM, hidden, L1 {:g}"
SM_FROM_REFIT = "SM from EM + L1 {:g} refit, hidden"
#: Metrics of the figure (error against data size).
FIGURE_KEYS = (
    "coupling R2",
    "spurious |w| (confounded)",
    "slope (true non-zero)",
    "bits/spike",
)
#: Paired per-seed differences printed (first minus second).
PAIRED = (
    ("SM, hidden", "MLE, no hidden"),
    ("SM, hidden", "oracle"),
    ("MLE, hidden", "MLE, no hidden"),
    ("MLE, no hidden", "oracle"),
    (WARM, "MLE, no hidden"),
    (WARM, "SM, hidden"),
    (LARGE_BATCH, "MLE, no hidden"),
    (LARGE_BATCH, "SM, hidden"),
    (SMOOTHER_MLE, "MLE, no hidden"),
    (SMOOTHER_MLE, "MLE, hidden"),
    (SMOOTHER_SM, "MLE, no hidden"),
    (SMOOTHER_SM, "SM, hidden"),
    (SMOOTHER_SM, SMOOTHER_MLE),
    (SMOOTHER_LONG, "MLE, no hidden"),
    (SMOOTHER_LONG, SMOOTHER_MLE),
    (SM_FROM_SMOOTHER, "MLE, no hidden"),
    (SM_FROM_SMOOTHER, "SM, hidden"),
    *(
        pair
        for strength in L1_STRENGTHS
        for pair in (
            (SMOOTHER_L1.format(strength), NO_HIDDEN_L1.format(strength)),
            (SMOOTHER_L1.format(strength), "MLE, no hidden"),
            (NO_HIDDEN_L1.format(strength), "MLE, no hidden"),
            (
                REFIT.format(SMOOTHER_L1.format(strength)),
                REFIT.format(NO_HIDDEN_L1.format(strength)),
            ),
            (REFIT.format(SMOOTHER_L1.format(strength)), "MLE, no hidden"),
            (REFIT.format(SMOOTHER_L1.format(strength)), SMOOTHER_L1.format(strength)),
            (SM_L1.format(strength), "SM, hidden"),
            (SM_L1.format(strength), "MLE, no hidden"),
            (SM_FROM_REFIT.format(strength), REFIT.format(SMOOTHER_L1.format(strength))),
            (SM_FROM_REFIT.format(strength), "SM, hidden"),
            (SM_FROM_REFIT.format(strength), "MLE, no hidden"),
            (REFIT.format(WIDE_L1.format(strength)), REFIT.format(SMOOTHER_L1.format(strength))),
            (
                LONG_REFIT.format(SMOOTHER_L1.format(strength)),
                REFIT.format(SMOOTHER_L1.format(strength)),
            ),
            (LONG_REFIT.format(SMOOTHER_L1.format(strength)), "MLE, no hidden"),
            (REFIT.format(WIDE_L1.format(strength)), "MLE, no hidden"),
            (WIDE_L1.format(strength), SMOOTHER_L1.format(strength)),
        )
    ),
    *(  # the refit at each strength against the next stronger
        (REFIT.format(SMOOTHER_L1.format(weak)), REFIT.format(SMOOTHER_L1.format(strong)))
        for weak, strong in itertools.pairwise(L1_STRENGTHS)
    ),
)
#: The gap-closing targets: metric -> sign of "better".
GAP_KEYS = {"coupling R2": 1.0, "spurious |w| (confounded)": -1.0}


def fit_specs(settings: dict) -> dict:
    """NetworkFitter arguments of each fit."""
    hidden = {"n_hidden": settings["n_hidden"]}
    smoother = {
        "loss": {"nll_posterior": 1.0},
        **hidden,
        "max_iterations": settings["iterations_mle"],
    }
    return {
        "MLE, no hidden": {"loss": "mle", "optimizer": "lbfgs"},
        "MLE, hidden": {"loss": "mle", **hidden, "max_iterations": settings["iterations_mle"]},
        "SM, hidden": {"loss": "sm", **hidden, "max_iterations": settings["iterations_sm"]},
        LARGE_BATCH: {
            "loss": "sm",
            **hidden,
            "max_iterations": settings["iterations_sm"],
            "batch_size": 80,
        },
        WARM: {
            "loss": "mle",
            **hidden,
            "max_iterations": settings["iterations_mle"],
            "warm_start": True,
            "then": [{"loss": "sm", "max_iterations": settings["iterations_sm"]}],
        },
        SMOOTHER_MLE: smoother,
        SMOOTHER_SM: {
            "loss": {
                ("nll_posterior" if name == "nll" else name): weight
                for name, weight in PRESETS["sm"].items()
            },
            **hidden,
            "max_iterations": settings["iterations_sm"],
        },
        SMOOTHER_LONG: {**smoother, "max_iterations": 3 * settings["iterations_mle"]},
        SM_FROM_SMOOTHER: {
            **smoother,
            "warm_start": True,
            "then": [{"loss": "sm", "max_iterations": settings["iterations_sm"]}],
        },
        **l1_specs(settings),
        "oracle": {"loss": "mle", "optimizer": "lbfgs"},
        MISSPECIFIED: {"loss": "mle", "optimizer": "lbfgs", "n_lags": 2},
    }


def l1_specs(settings: dict) -> dict:
    """The stochastic EM and the likelihood without hidden neurons, with an L1 on recorded pairs."""
    specs = {}
    for strength in L1_STRENGTHS:
        penalty = ("l1", (strength, CouplingPenalty("l1", pairs="recorded")))
        specs[SMOOTHER_L1.format(strength)] = {
            "loss": dict([("nll_posterior", 1.0), penalty]),
            "n_hidden": settings["n_hidden"],
            "max_iterations": settings["iterations_mle"],
        }
        specs[NO_HIDDEN_L1.format(strength)] = {
            "loss": dict([("nll", 1.0), penalty]),
            "max_iterations": settings["iterations_mle"],
        }
        for name, likelihood in ((SMOOTHER_L1, "nll_posterior"), (NO_HIDDEN_L1, "nll")):
            selected = specs[name.format(strength)]
            specs[REFIT.format(name.format(strength))] = {
                **selected,
                "warm_start": True,
                "prune_below": PRUNE_BELOW,
                "then": [{"loss": {likelihood: 1.0}}],
            }
        refit = specs[REFIT.format(SMOOTHER_L1.format(strength))]
        specs[LONG_REFIT.format(SMOOTHER_L1.format(strength))] = {
            **refit,
            "then": [{**refit["then"][0], "max_iterations": 3 * settings["iterations_mle"]}],
        }
        specs[SM_L1.format(strength)] = {
            "loss": dict([*PRESETS["sm"].items(), penalty]),
            "n_hidden": settings["n_hidden"],
            "max_iterations": settings["iterations_sm"],
        }
        for name in (SMOOTHER_L1, REFIT.format(SMOOTHER_L1)):
            wide = name.replace(SMOOTHER_L1, WIDE_L1)
            specs[wide.format(strength)] = {
                **specs[name.format(strength)],
                "n_hidden": WIDE_HIDDEN,
            }
        specs[SM_FROM_REFIT.format(strength)] = {
            **refit,
            "then": [
                *refit["then"],
                {"loss": "sm", "max_iterations": settings["iterations_sm"]},
            ],
        }
    return specs


def prune(fitter: NetworkFitter, n_rec: int, below: float) -> int:
    """Remove from the fitted network the recorded pairs whose summed |w| over lags is below ``below``.

    Returns the number of ordered pairs removed.
    """
    model = fitter.model_
    with torch.no_grad():
        size = model.lagged_coupling().abs().sum(dim=0)[:n_rec, :n_rec]  # (pre, post)
        weak = size < below
        weak.fill_diagonal_(False)  # self-history stays
        model.coupling_mask[:n_rec, :n_rec][weak] = 0.0
    return int(weak.sum())


def make_truth(seed: int, settings: dict):
    """The seed's ground truth with the sweep's strength options."""
    return assembly_network(seed=seed, **settings["truth"])


def run_cell(task: tuple[int, int], settings: dict) -> tuple[int, int, dict]:
    """Every fit of one (seed, training size) cell, with its metrics (one thread)."""
    seed, size = task
    torch.set_num_threads(1)
    truth = make_truth(seed, settings)
    n_rec = truth.n_recorded
    longest = sample_spikedata(truth, max(settings["sizes"]), BIN, seed=seed + 1000)
    counts = longest.counts[:size]  # nested training sets: the first `size` trials
    test = sample_spikedata(truth, settings["test_trials"], BIN, seed=seed + 2000).recorded()
    true = truth.coupling_array()[:n_rec, :n_rec]
    confounded = confounded_pairs(truth).numpy()
    common = {"bin_size": BIN, "n_lags": truth.n_lags, "seed": seed, "device": "cpu"}
    observed_fully = ("oracle", MISSPECIFIED)
    rows = {}
    for name in settings["fits"]:
        start = time.perf_counter()
        data = SpikeData(counts if name in observed_fully else counts[..., :n_rec], BIN)
        spec = {**common, **fit_specs(settings)[name]}
        then = spec.pop("then", None)
        prune_below = spec.pop("prune_below", None)
        fitter = NetworkFitter(**spec, progress=False).fit(data)
        n_removed = None if prune_below is None else prune(fitter, n_rec, prune_below)
        for stage in then or []:  # further fits, each from the previous one's parameters
            with warnings.catch_warnings():  # kept the first fit's: said in the row
                warnings.simplefilter("ignore", NoImprovementWarning)
                fitter.set_params(**stage).fit(data)
        elapsed = time.perf_counter() - start
        model = as_hidden_model(fitter, n_rec) if name in observed_fully else fitter.model_
        row = coupling_metrics(fitter.coupling_[:n_rec, :n_rec], true, confounded)
        with torch.no_grad():
            simulated = fitter.simulate_spikedata(settings["sim_trials"], seed=seed + 3000).counts
        row.update(activity_metrics(simulated[..., :n_rec], test.counts))
        row.update(scored(model, test.counts, settings["particles"], seed))
        row["fit time (s)"] = elapsed
        row["kept iteration"] = fitter.history_.best_iteration
        if n_removed is not None:
            row["pairs removed"] = n_removed
        rows[name] = row
    return seed, size, rows


def truth_row(seed: int, settings: dict) -> tuple[int, dict]:
    """The generating network's activity metrics and held-out bits/spike (the ceiling)."""
    torch.set_num_threads(1)
    truth = make_truth(seed, settings)
    n_rec = truth.n_recorded
    test = sample_spikedata(truth, settings["test_trials"], BIN, seed=seed + 2000).recorded()
    with torch.no_grad():
        simulated = sample_spikedata(truth, settings["sim_trials"], BIN, seed=seed + 3000)
    row = activity_metrics(simulated.counts[..., :n_rec], test.counts)
    row.update(scored(truth, test.counts, settings["particles"], seed))
    row["recorded rate (Hz)"] = float(test.counts.mean()) / float(BIN.rescale("s").magnitude)
    return seed, row


def gap_closing(cells: dict, key: str, sign: float, fit: str = "SM, hidden") -> tuple[float, float]:
    """Paired interval of sign * ((fit - MLE) - (oracle - MLE) / 2): > 0 means it closes half."""
    values = [
        sign
        * (
            rows[fit][key]
            - rows["MLE, no hidden"][key]
            - 0.5 * (rows["oracle"][key] - rows["MLE, no hidden"][key])
        )
        for rows in cells.values()
    ]
    return interval(values)


def summary_table(results: dict, truth: dict, fits: list[str]) -> str:
    """Markdown: one row per (size, metric), one column per fit."""
    every = [set(s[f]) for size in results for s in results[size].values() for f in fits]
    keys = [
        k
        for k in dict.fromkeys(
            k for size in results for s in results[size].values() for k in s[fits[0]]
        )
        if all(k in present for present in every)
    ]
    lines = ["| trials | metric | " + " | ".join([*fits, "truth"]) + " |"]
    lines.append("|---" * (len(fits) + 3) + "|")
    for size in sorted(results):
        for key in keys:
            cells = [
                format_interval(interval([r[f][key] for r in results[size].values()])) for f in fits
            ]
            in_truth = key in next(iter(truth.values()))
            cells.append(
                format_interval(interval([r[key] for r in truth.values()])) if in_truth else ""
            )
            lines.append(f"| {size} | {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def truth_differences(results: dict, truth: dict, fits: list[str]) -> dict:
    """Print and return paired per-seed differences fit - truth on the held-out activity.

    How far each fitted model's recorded activity is from the generating network's, on the same
    held-out trials (bits/spike: a Kullback-Leibler rate between the two; the truth's figure is a
    particle-filter estimate, biased low: about 0.002 bits/spike on the default truth, several
    hundredths with strong hidden input).
    """
    keys = ("bits/spike", "NC R2 (5 bins)", "PSTH R2")
    print("\npaired per-seed differences fit - truth (held-out activity of the recorded neurons):")
    differences = {}
    for size in sorted(results):
        for fit in fits:
            row = {
                key: interval(
                    [rows[fit][key] - truth[seed][key] for seed, rows in results[size].items()]
                )
                for key in keys
            }
            differences[f"{fit} - truth, {size}"] = row
            text = ", ".join(f"{k}: {format_interval(v)}" for k, v in row.items())
            print(f"  {size} trials, {fit}: {text}")
    return differences


def format_interval(pair: tuple[float, float]) -> str:
    mean, half = pair
    return f"{mean:.3f} ± {half:.3f}" if np.isfinite(half) else f"{mean:.3f}"


def figure(results: dict, fits: list[str], path: str) -> None:
    """Error against data size (log axis), mean and 95% interval over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(results)
    fig, axes = plt.subplots(1, len(FIGURE_KEYS), figsize=(3.4 * len(FIGURE_KEYS), 3.3))
    for axis, key in zip(axes, FIGURE_KEYS, strict=True):
        for fit in fits:
            pairs = [interval([r[fit][key] for r in results[s].values()]) for s in sizes]
            means, halves = zip(*pairs, strict=True)
            axis.errorbar(sizes, means, yerr=halves, marker="o", capsize=3, label=fit)
        axis.set_xscale("log")
        axis.set_xlabel("training trials")
        axis.set_title(key, fontsize=9)
    axes[0].legend(fontsize=7)
    fig.suptitle("Connectivity against data size: mean and 95% interval over seeds", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[150, 600, 2400, 9600])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2, help="cells in parallel (1 thread each)")
    parser.add_argument("--fits", default=";".join(FITS), help="fits to run, separated by ;")
    parser.add_argument("--projection-weight", type=float, default=0.6)
    parser.add_argument("--assembly-weight", type=float, default=0.35)
    parser.add_argument("--n-targets", type=int, default=4)
    parser.add_argument("--particles", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the script")
    parser.add_argument("--json", default=None)
    parser.add_argument("--figure", default=None)
    parser.add_argument(
        "--from-json",
        nargs="+",
        default=None,
        help="report saved runs instead of fitting (runs of other fits on the same truth, sizes "
        "and seeds are merged)",
    )
    return parser.parse_args()


def settings_from(args: argparse.Namespace) -> dict:
    settings = {
        "sizes": args.sizes,
        "test_trials": 500,
        "sim_trials": 1000,
        "n_hidden": 20,
        "iterations_mle": 1000,
        "iterations_sm": 1500,
        "particles": args.particles,
        "fits": args.fits.split(";"),
        "truth": {
            "projection_weight": args.projection_weight,
            "assembly_weight": args.assembly_weight,
            "n_targets": args.n_targets,
        },
    }
    if args.quick:
        settings.update(
            sizes=[20, 40],
            test_trials=20,
            sim_trials=40,
            iterations_mle=10,
            iterations_sm=5,
            particles=8,
        )
    return settings


def merge_runs(paths: list[str]) -> tuple[dict, dict, dict]:
    """Results, truth rows and settings of saved runs, merged fit by fit."""
    results: dict = {}
    truth: dict = {}
    settings: dict = {}
    for path in paths:
        with open(path) as handle:
            saved = json.load(handle)
        fits = saved["settings"]["fits"]
        if settings and saved["settings"]["truth"] != settings["truth"]:
            raise SystemExit(f"{path}: another ground truth than the first run's")
        settings = {**saved["settings"], "fits": [*settings.get("fits", []), *fits]}
        truth.update({int(seed): row for seed, row in saved["truth"].items()})
        for size, cells in saved["results"].items():
            for seed, rows in cells.items():
                results.setdefault(int(size), {}).setdefault(int(seed), {}).update(rows)
    return results, truth, settings


def main() -> None:
    args = parse_arguments()
    if args.from_json:
        results, truth, settings = merge_runs(args.from_json)
        args.seeds = len(truth)
        report(results, truth, settings, args, 0.0)
        return
    settings = settings_from(args)
    start = time.perf_counter()
    tasks = sorted(
        ((seed, size) for seed in range(args.seeds) for size in settings["sizes"]),
        key=lambda task: -task[1],  # the largest cells first: better load balance
    )
    results: dict = {size: {} for size in settings["sizes"]}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        truth = dict(pool.map(truth_row, range(args.seeds), [settings] * args.seeds))
        for seed, size, rows in pool.map(run_cell, tasks, [settings] * len(tasks)):
            results[size][seed] = rows
            elapsed = time.perf_counter() - start
            print(f"seed {seed}, {size} trials done ({elapsed:.0f} s)", file=sys.stderr, flush=True)
            print(
                json.dumps({"seed": seed, "size": size, "rows": rows}), file=sys.stderr, flush=True
            )
    report(results, truth, settings, args, time.perf_counter() - start)


def report(results: dict, truth: dict, settings: dict, args, elapsed: float) -> None:
    """Print the table and the gap-closing intervals; write the JSON and the figure."""
    fits = settings["fits"]
    print(summary_table(results, truth, fits))
    gaps = {}
    for fit in (
        "SM, hidden",
        WARM,
        LARGE_BATCH,
        SMOOTHER_MLE,
        SMOOTHER_SM,
        SMOOTHER_LONG,
        SM_FROM_SMOOTHER,
        *(SMOOTHER_L1.format(strength) for strength in L1_STRENGTHS),
        *(REFIT.format(SMOOTHER_L1.format(strength)) for strength in L1_STRENGTHS),
        *(LONG_REFIT.format(SMOOTHER_L1.format(strength)) for strength in L1_STRENGTHS),
        *(WIDE_L1.format(strength) for strength in L1_STRENGTHS),
        *(REFIT.format(WIDE_L1.format(strength)) for strength in L1_STRENGTHS),
        *(SM_L1.format(strength) for strength in L1_STRENGTHS),
        *(SM_FROM_REFIT.format(strength) for strength in L1_STRENGTHS),
    ):
        if not {fit, "MLE, no hidden", "oracle"} <= set(fits):
            continue
        print(
            f"\n{fit} closes half the MLE-oracle gap: sign * ((it - MLE) - (oracle - MLE) / 2) > 0"
        )
        for size in sorted(results):
            gap = {
                key: gap_closing(results[size], key, sign, fit) for key, sign in GAP_KEYS.items()
            }
            gaps[size if fit == "SM, hidden" else f"{fit}, {size}"] = gap
            text = ", ".join(f"{k}: {format_interval(v)}" for k, v in gap.items())
            print(f"  {size} trials: {text}")
    differences = {}
    for first, second in PAIRED:
        if {first, second} <= set(fits):
            print(f"\npaired per-seed differences, {first} - {second}:")
            for size in sorted(results):
                paired = paired_differences(results[size], first, second)
                row = {key: paired[key] for key in FIGURE_KEYS}
                differences[f"{first} - {second}, {size}"] = row
                text = ", ".join(f"{k}: {format_interval(v)}" for k, v in row.items())
                print(f"  {size} trials: {text}")
    against_truth = truth_differences(results, truth, fits)
    print(f"\n{args.seeds} seeds, {args.jobs} processes, {elapsed:.0f} s in all")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(
                {
                    "settings": settings,
                    "results": results,
                    "truth": truth,
                    "gaps": gaps,
                    "paired": differences,
                    "against truth": against_truth,
                },
                handle,
                indent=2,
            )
    if args.figure:
        figure(results, fits, args.figure)


if __name__ == "__main__":
    main()
