"""Which part of the sample-and-measure fit shrinks the recorded couplings?

On the connectivity ground truth (``assembly_network``, strength options as in
``benchmarks/connectivity_sweep.py``), every variant below is fitted with 20 hidden neurons on the
same training trials of each seed, and compared on the slope of the fitted on the true non-zero
recorded couplings (1: no shrinkage), coupling R^2, spurious |w| on confounded pairs and held-out
bits/spike (particle filter). Paired per-seed differences against the default "sm" preset.

Variants (each changes one thing of the default):
- "sm": the preset (nll 1, psth 2, noise_covariance 1, hidden_rate 0.01), early stopping on;
- "nll only": nll + hidden_rate (no sample-and-measure term);
- "nll + psth", "nll + noise cov.": one sample-and-measure term at a time;
- "sm, half weights": psth 1, noise_covariance 0.5;
- "sm, no early stop": all 1500 iterations, last iterate;
- "sm, pseudo surrogate": the pseudo-derivative instead of the sigmoid surrogate;
- "nll + psth (pairs)", "sm (pairs)": the PSTH term as the unbiased pair estimate
  (``StatisticLoss(..., unbiased=True)``: the mean over pairs of different simulated trials, whose
  gradient does not lower the variance of the batch's PSTH);
- "nll + noise cov. (halves)", "sm (unbiased)": the noise-covariance term as the product of the
  errors of the even and the odd simulated trials (``unbiased=True``), the latter with PSTH pairs.

- "sm from nll": the "nll only" fit, then the preset started from its parameters
  (``NetworkFitter(warm_start=True)``);
- "sm, batches of 80", "sm, gumbel surrogate": less noise in the descent (batches of 80 trials
  instead of 20), another gradient estimator through the samples.

``--from-json`` merges saved runs (same seeds and settings) into one report.

Run: python benchmarks/sm_shrinkage.py [--trials 600] [--seeds 5] [--jobs 2] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import torch
from connectivity import BIN, coupling_metrics, interval

from elephant_fit import SpikeData
from elephant_fit.fitting.fitter import NetworkFitter
from elephant_fit.fitting.losses import StatisticLoss
from elephant_fit.fitting.trial_statistics import NoiseCovariance, Psth
from elephant_fit.network.likelihood import held_out_likelihood
from elephant_fit.network.synthetic import assembly_network, confounded_pairs, sample_spikedata

SM = {"nll": 1.0, "psth": 2.0, "noise_covariance": 1.0, "hidden_rate": 0.01}
PAIRS = (2.0, StatisticLoss(Psth(), model_side="mean", unbiased=True))
HALVES = (1.0, StatisticLoss(NoiseCovariance(2), unbiased=True))
VARIANTS: dict[str, dict] = {
    "sm": {"loss": SM},
    "nll only": {"loss": {"nll": 1.0, "hidden_rate": 0.01}},
    "nll + psth": {"loss": {"nll": 1.0, "psth": 2.0, "hidden_rate": 0.01}},
    "nll + noise cov.": {"loss": {"nll": 1.0, "noise_covariance": 1.0, "hidden_rate": 0.01}},
    "sm, half weights": {"loss": {**SM, "psth": 1.0, "noise_covariance": 0.5}},
    "sm, no early stop": {"loss": SM, "patience": None},
    "sm, pseudo surrogate": {"loss": SM, "surrogate": "pseudo"},
    "nll + psth (pairs)": {"loss": {"nll": 1.0, "psth": PAIRS, "hidden_rate": 0.01}},
    "sm (pairs)": {"loss": {**SM, "psth": PAIRS}},
    "nll + noise cov. (halves)": {
        "loss": {"nll": 1.0, "noise_covariance": HALVES, "hidden_rate": 0.01}
    },
    "sm (unbiased)": {"loss": {**SM, "psth": PAIRS, "noise_covariance": HALVES}},
    "sm from nll": {"loss": {"nll": 1.0, "hidden_rate": 0.01}, "then": SM},
    "sm, batches of 80": {"loss": SM, "batch_size": 80},
    "sm, gumbel surrogate": {"loss": SM, "surrogate": "gumbel"},
}
KEYS = ("slope (true non-zero)", "coupling R2", "spurious |w| (confounded)", "bits/spike")


def run_seed(seed: int, settings: dict) -> tuple[int, dict]:
    """Every variant on one seed's data (one thread)."""
    torch.set_num_threads(1)
    truth = assembly_network(seed=seed, **settings["truth"])
    n_rec = truth.n_recorded
    train = sample_spikedata(truth, settings["trials"], BIN, seed=seed + 1000).recorded()
    test = sample_spikedata(truth, settings["test_trials"], BIN, seed=seed + 2000).recorded()
    true = truth.coupling_array()[:n_rec, :n_rec]
    confounded = confounded_pairs(truth).numpy()
    rows = {}
    for name in settings["variants"]:
        start = time.perf_counter()
        options = dict(VARIANTS[name])
        then = options.pop("then", None)
        fitter = NetworkFitter(
            bin_size=BIN,
            n_lags=truth.n_lags,
            n_hidden=20,
            max_iterations=settings["iterations"],
            seed=seed,
            device="cpu",
            progress=False,
            warm_start=then is not None,
            **options,
        ).fit(SpikeData(train.counts, BIN))
        if then is not None:  # a second fit from the first one's parameters
            fitter.set_params(loss=then).fit(SpikeData(train.counts, BIN))
        row = coupling_metrics(fitter.coupling_[:n_rec, :n_rec], true, confounded)
        score = held_out_likelihood(
            fitter.model_, test.counts, n_particles=settings["particles"], seed=seed
        )
        row["bits/spike"] = score.bits_per_spike
        row["kept iteration"] = fitter.history_.best_iteration
        kept = [r for r in fitter.history_.validation if r["iteration"] == row["kept iteration"]]
        row["validation (kept)"] = kept[-1] if kept else None  # total and terms there
        row["fit time (s)"] = time.perf_counter() - start
        rows[name] = row
    return seed, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=600)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--variants", default=";".join(VARIANTS), help="separated by ;")
    parser.add_argument("--projection-weight", type=float, default=0.6)
    parser.add_argument("--assembly-weight", type=float, default=0.35)
    parser.add_argument("--n-targets", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the script")
    parser.add_argument("--json", default=None)
    parser.add_argument("--from-json", nargs="+", default=None, help="report saved runs")
    args = parser.parse_args()
    if args.from_json:
        merge(args)
        return
    settings = {
        "trials": 20 if args.quick else args.trials,
        "test_trials": 20 if args.quick else 500,
        "iterations": 5 if args.quick else 1500,
        "particles": 8 if args.quick else 64,
        "variants": args.variants.split(";"),
        "truth": {
            "projection_weight": args.projection_weight,
            "assembly_weight": args.assembly_weight,
            "n_targets": args.n_targets,
        },
    }
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = dict(pool.map(run_seed, range(args.seeds), [settings] * args.seeds))
    report(results, settings, args, time.perf_counter() - start)


def merge(args: argparse.Namespace) -> None:
    """One report of saved runs: their variants side by side, seed by seed."""
    results: dict = {}
    settings: dict = {}
    for path in args.from_json:
        with open(path) as handle:
            saved = json.load(handle)
        for seed, rows in saved["per_seed"].items():
            results.setdefault(seed, {}).update(rows)
        variants = settings.get("variants", []) + saved["settings"]["variants"]
        settings = {**saved["settings"], "variants": list(dict.fromkeys(variants))}
    args.seeds, args.json = len(results), None
    report(results, settings, args, float("nan"))


def report(results: dict, settings: dict, args: argparse.Namespace, elapsed: float) -> None:
    """Means, and paired differences against 'sm', with 95% t-intervals over seeds."""
    print("| variant | " + " | ".join(KEYS) + " | kept iteration |")
    print("|---" * (len(KEYS) + 2) + "|")
    for name in settings["variants"]:
        cells = []
        for key in KEYS:
            mean, half = interval([rows[name][key] for rows in results.values()])
            cells.append(f"{mean:.3f} ± {half:.3f}")
            if name != "sm" and "sm" in settings["variants"]:
                diff = interval([rows[name][key] - rows["sm"][key] for rows in results.values()])
                cells[-1] += f" ({diff[0]:+.3f} ± {diff[1]:.3f})"
        kept = [rows[name]["kept iteration"] for rows in results.values()]
        print(f"| {name} | " + " | ".join(cells) + f" | {min(kept)}-{max(kept)} |")
    print(f"\n{args.seeds} seeds, {settings['trials']} trials, {elapsed:.0f} s in all")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"settings": settings, "per_seed": results}, handle, indent=2)


if __name__ == "__main__":
    sys.exit(main())
