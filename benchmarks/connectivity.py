"""Connectivity benchmark: a ground truth where maximum likelihood on the recorded neurons must fail.

Ground truth (``elephant_fit.network.synthetic.assembly_network``): 20 recorded + 60 hidden neurons in 6
assemblies; each assembly drives a few recorded neurons at target-specific delays, some recorded
neurons drive an assembly (recorded -> hidden -> recorded loops), sparse direct recorded couplings.

Fits, on the same training trials of each seed:
- "MLE, no hidden": likelihood of the recorded neurons alone;
- "MLE, hidden": likelihood with hidden neurons (sampled from the prior, as in the paper);
- "SM, hidden": the "sm" preset (NLL + PSTH + noise covariance + hidden rate) with hidden neurons;
- "oracle": likelihood with every neuron observed (the ceiling of coupling recovery).

Per fit, over seeds (mean and 95% t-interval): coupling r, R^2 and slope on the true non-zero
weights (recorded pairs, summed over lags), mean |coupling| on pairs that share a hidden confound
but have no direct connection, detection AUC, PSTH R^2, noise-correlation R^2 at 1 and 5 bins,
held-out bits/spike (particle filter; the oracle scored as a hidden-neuron model); the time
of each fit, of simulating it and of scoring it (one thread per seed).

Run: python benchmarks/connectivity.py [--seeds 5] [--jobs 2] [--quick] [--json out.json] [--figure out.png]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import quantities as pq
import torch

from elephant_fit import SpikeData
from elephant_fit.evaluation import metrics
from elephant_fit.fitting.fitter import NetworkFitter
from elephant_fit.network.likelihood import held_out_likelihood
from elephant_fit.network.model import SpikingNetwork
from elephant_fit.network.synthetic import assembly_network, confounded_pairs, sample_spikedata

BIN = 10 * pq.ms
FITS = ("MLE, no hidden", "MLE, hidden", "SM, hidden", "oracle")
#: Paired comparisons printed as per-seed differences (first minus second).
PAIRS = (("SM, hidden", "MLE, no hidden"), ("SM, hidden", "MLE, hidden"))


def coupling_metrics(fitted, true, confounded):
    """Recovery metrics on recorded pairs (post, pre), off-diagonal, summed over lags."""
    fit = metrics.coupling_fit(fitted, true, confounded)
    return {
        "coupling r": fit["r"],
        "coupling R2": fit["r2"],
        "slope (true non-zero)": fit["slope"],
        "spurious |w| (confounded)": fit["spurious"],
        "detection AUC": fit["auc"],
    }


def activity_metrics(simulated, data):
    """PSTH and noise-correlation R^2 of simulated vs held-out recorded counts."""
    row = {"PSTH R2": metrics.psth_r2(simulated, data)}
    for label, factor in (("1 bin", 1), ("5 bins", 5)):
        fit = metrics.noise_correlation_fit(
            metrics.rebin(simulated, factor), metrics.rebin(data, factor)
        )
        row[f"NC R2 ({label})"] = fit["r2"]
    return row


def as_hidden_model(oracle, n_recorded):
    """The oracle's fully observed network, with all but the first neurons declared hidden."""
    full = oracle.model_
    model = SpikingNetwork(
        n_recorded,
        n_hidden=full.n_neurons - n_recorded,
        n_lags=full.n_lags,
        n_bins=full.n_bins,
        drive=full.drive,
        n_drive_basis=None if full.drive_basis is None else full.drive_basis.shape[1],
    )
    model.load_state_dict(full.state_dict())
    return model


def run_seed(seed, settings):
    """All fits and metrics of one seed (one thread: seeds run in parallel processes)."""
    torch.set_num_threads(1)
    truth = assembly_network(seed=seed)
    n_rec = truth.n_recorded
    full_train = sample_spikedata(truth, settings["train_trials"], BIN, seed=seed + 1000)
    train = full_train.recorded()
    test = sample_spikedata(truth, settings["test_trials"], BIN, seed=seed + 2000).recorded()
    true = truth.coupling_array()[:n_rec, :n_rec]
    confounded = confounded_pairs(truth).numpy()
    common = {
        "bin_size": BIN,
        "n_lags": truth.n_lags,
        "seed": seed,
        "device": "cpu",
        "progress": False,
    }
    specs = {
        "MLE, no hidden": {"loss": "mle", "max_iterations": settings["iterations_mle"]},
        "MLE, hidden": {
            "loss": "mle",
            "n_hidden": settings["n_hidden"],
            "max_iterations": settings["iterations_mle"],
        },
        "SM, hidden": {
            "loss": "sm",
            "n_hidden": settings["n_hidden"],
            "max_iterations": settings["iterations_sm"],
        },
        "oracle": {"loss": "mle", "max_iterations": settings["iterations_mle"]},
    }
    rows = {}
    particles = settings["particles"]
    for name in settings["fits"]:
        start = time.perf_counter()
        data = SpikeData(full_train.counts, BIN) if name == "oracle" else train
        fitter = NetworkFitter(**common, **specs[name]).fit(data)
        elapsed = time.perf_counter() - start
        model = as_hidden_model(fitter, n_rec) if name == "oracle" else fitter.model_
        start = time.perf_counter()
        with torch.no_grad():
            simulated = fitter.simulate_spikedata(settings["sim_trials"], seed=seed + 3000).counts
        simulating = time.perf_counter() - start
        row = coupling_metrics(fitter.coupling_[:n_rec, :n_rec], true, confounded)
        row.update(activity_metrics(simulated[..., :n_rec], test.counts))
        row.update(scored(model, test.counts, particles, seed))
        row.update({"fit time (s)": elapsed, "simulation time (s)": simulating})
        rows[name] = row
    # the ceiling of the activity metrics: the true network simulated like the fits
    start = time.perf_counter()
    with torch.no_grad():
        simulated = sample_spikedata(truth, settings["sim_trials"], BIN, seed=seed + 3000).counts
    rows["truth"] = activity_metrics(simulated[..., :n_rec], test.counts)
    rows["truth"]["simulation time (s)"] = time.perf_counter() - start
    rows["truth"].update(scored(truth, test.counts, particles, seed))
    return seed, rows


def scored(model, counts, particles, seed):
    """Held-out bits/spike (particle filter), its standard error and the time it took."""
    start = time.perf_counter()
    score = held_out_likelihood(model, counts, n_particles=particles, seed=seed)
    return {
        "bits/spike": score.bits_per_spike,
        "bits/spike s.e.": score.standard_error,
        "scoring time (s)": time.perf_counter() - start,
    }


def interval(values):
    """Mean and 95% t-interval half-width over seeds."""
    values = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if len(values) < 2:
        return float(values.mean()) if len(values) else math.nan, math.nan
    quantiles = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776, 6: 2.571, 7: 2.447, 8: 2.365, 9: 2.306}
    t = quantiles.get(len(values), 2.262 if len(values) == 10 else 1.96)
    return float(values.mean()), float(t * values.std(ddof=1) / math.sqrt(len(values)))


def summarise(results, names):
    """{fit: {metric: (mean, half-width)}} over seeds."""
    summary = {}
    for name in names:
        keys = next(iter(results.values()))[name].keys()
        summary[name] = {
            key: interval([rows[name][key] for rows in results.values()])
            for key in keys
            if key != "bits/spike s.e."
        }
    return summary


def paired_differences(results, first, second):
    """{metric: (mean, half-width)} of per-seed differences first - second (same data per seed)."""
    keys = [
        k for k in results[next(iter(results))][first] if k in results[next(iter(results))][second]
    ]
    return {
        key: interval([rows[first][key] - rows[second][key] for rows in results.values()])
        for key in keys
        if key != "bits/spike s.e." and not key.endswith("time (s)")
    }


def markdown(summary, names):
    metrics_order = list(dict.fromkeys(k for name in names for k in summary[name]))
    lines = ["| metric | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for key in metrics_order:
        cells = []
        for name in names:
            if key not in summary[name]:
                cells.append("")
                continue
            mean, half = summary[name][key]
            cells.append(f"{mean:.3f} ± {half:.3f}" if np.isfinite(half) else f"{mean:.3f}")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figure(summary, names, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [
        "coupling R2",
        "spurious |w| (confounded)",
        "slope (true non-zero)",
        "NC R2 (1 bin)",
        "PSTH R2",
        "bits/spike",
    ]
    fig, axes = plt.subplots(1, len(keys), figsize=(3 * len(keys), 3.2))
    for axis, key in zip(axes, keys, strict=True):
        present = [name for name in names if key in summary[name]]
        means = [summary[name][key][0] for name in present]
        halves = [summary[name][key][1] for name in present]
        axis.errorbar(range(len(present)), means, yerr=halves, fmt="o", capsize=4)
        axis.set_xticks(range(len(present)), present, rotation=45, ha="right", fontsize=8)
        axis.set_title(key, fontsize=9)
    fig.suptitle("Connectivity benchmark: mean and 95% interval over seeds", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--jobs", type=int, default=2, help="seeds fitted in parallel (1 thread each)"
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the script")
    parser.add_argument("--fits", default=";".join(FITS), help="fits to run, separated by ;")
    parser.add_argument("--json", default=None)
    parser.add_argument("--figure", default=None)
    parser.add_argument(
        "--from-json", default=None, help="summarise a saved run (its fits among --fits) instead"
    )
    args = parser.parse_args()
    settings = {
        "train_trials": 600,
        "test_trials": 500,
        "sim_trials": 1000,
        "n_hidden": 20,
        "iterations_mle": 1000,
        "iterations_sm": 1500,
        "particles": 256,
        "fits": args.fits.split(";"),
    }
    if args.quick:
        settings.update(
            train_trials=60,
            test_trials=20,
            sim_trials=40,
            iterations_mle=20,
            iterations_sm=10,
            particles=16,
        )
    start = time.perf_counter()
    if args.from_json:
        with open(args.from_json) as handle:
            saved = json.load(handle)
        results = {int(seed): rows for seed, rows in saved["per_seed"].items()}
        settings.update({k: v for k, v in saved["settings"].items() if k != "fits"})
        args.seeds = len(results)
        report(results, settings, args, start)
        return
    results = {}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for seed, rows in pool.map(run_seed, range(args.seeds), [settings] * args.seeds):
            results[seed] = rows
            elapsed = time.perf_counter() - start
            print(f"seed {seed} done ({elapsed:.0f} s)", file=sys.stderr, flush=True)
    report(results, settings, args, start)


def report(results, settings, args, start):
    """Print the table and paired differences; write the JSON and the figure."""
    names = [*settings["fits"], "truth"]
    summary = summarise(results, names)
    print(markdown(summary, names))
    differences = {}
    for first, second in PAIRS:
        if first in names and second in names:
            label = f"{first} - {second}"
            differences[label] = paired_differences(results, first, second)
            print(f"\npaired per-seed differences, {label}:")
            for key, (mean, half) in differences[label].items():
                print(f"  {key:<28} {mean:+.3f} ± {half:.3f}")
    print(
        f"\n{args.seeds} seeds, {args.jobs} processes, {time.perf_counter() - start:.0f} s in all"
    )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(
                {
                    "settings": settings,
                    "per_seed": results,
                    "summary": summary,
                    "paired_differences": differences,
                },
                handle,
                indent=2,
            )
    if args.figure:
        figure(summary, names, args.figure)


if __name__ == "__main__":
    main()
