"""Trial matching vs sample-and-measure alone, on a ground truth whose trials fall into two modes.

Ground truth (``elephant_fit.network.synthetic.trial_state_network``, one per seed): 16 recorded
neurons (baseline 3 % per 10 ms bin, a smooth stimulus-locked drive, refractoriness, weak sparse
couplings) and one hidden *state* neuron. In bin 0 the state neuron fires with probability 1/2;
a self-excitation at lag 1 (+2 logit(1 - 1e-4)) then keeps it firing in every bin of the trial,
or silent in every bin (it flips with probability 1e-4 per bin). It excites recorded neuron i at
lag 1 with weight a_i, uniform in [0.5, 1.5]. So each trial is "on" or "off" as a whole: the
per-trial population rate (the statistic below) is bimodal, about 5 Hz or 11 Hz.

Why PSTH + noise covariance cannot tell it from a unimodal model: the recorded neurons see the
state through a_i S, with S = 0 or 1 per trial (mean 1/2, variance 1/4). The PSTH is a first
moment of the activity and the noise covariance (lags 0..max_lag) a second one: to second order
in a_i they depend on S only through its mean and variance. ``trial_state_network(n_states=K)``
replaces the one state by K independent ones, each weighted a_i / sqrt(K) (the biases shifted to
keep the mean): S is then binomial, with mean 1/2 and variance 1/4 again (constant over the
trial, so at every lag), and unimodal. Measured on 400 trials of the truth (seeds 0 / 1), the twin with K = 16 has a broad unimodal per-trial rate (Sarle's bimodality coefficient 0.495 / 0.463
against the truth's 0.850 / 0.835 re-simulated; 5/9 is a uniform distribution's), yet a PSTH R^2
of 0.912 / 0.943 (the truth re-simulated: 0.922 / 0.948) and a normalised distance of its noise
covariance (lags 0..3) of 0.089 / 0.072 (truth: 0.082 / 0.060). The fit's own normalised PSTH
and noise-covariance terms, on batches of 20 trials averaged over 40 batches (seed 0), are
0.268 +- 0.004 and 1.033 +- 0.034 for the twin against 0.262 +- 0.004 and 1.004 +- 0.020 for the
truth: the SM terms of a fit can hardly tell the two apart. The trial-matching term can, weakly
on batches of 20 (window 5: 0.970 +- 0.029 against 0.897 +- 0.035) and clearly on 400 trials at
once (window 25: 0.259 against 0.072; ``tests/test_trial_matching.py``).

Per seed (the truth's structure, the data and the fits' seed): 300 training trials (1 s, 100
bins of 10 ms; the fitter keeps 20 % for validation), 400 held-out trials. Three fits on the same
training data with the same seed, 4 hidden neurons, 3 lags, Adam, up to 600 iterations with the
fitter's early stopping (otherwise its defaults: batches of 20 trials, learning rate 0.01): (a)
the "sm" preset (NLL + 2 PSTH + noise covariance + 0.01 hidden rate), (b) the same + 1.0
``"trial_matching"`` (the default term, a 5-bin window), (c) the same + 1.0
``TrialMatching(window=25)``. Each model is simulated for 400 trials and compared with the
held-out trials:

- W1 (Hz): the 1-Wasserstein distance (``scipy.stats.wasserstein_distance``) between the
  empirical distributions of the per-trial statistic, each trial's mean rate over its 16
  recorded neurons and 100 bins, of the model and of the held-out data;
- BC: Sarle's bimodality coefficient of the model's per-trial statistic, (g^2 + 1) /
  (k + 3 (n - 1)^2 / ((n - 2)(n - 3))) with the sample skewness g and excess kurtosis k (above
  5/9 suggests two modes); |dBC|: its distance to the held-out data's BC;
- PSTH R^2 (``elephant_fit.evaluation.metrics.psth_r2``); NC err: the squared error of the
  zero-lag noise correlations (off-diagonal, 10 ms bins) over the data's sum of squares (0: exact,
  1: a model without correlations; their R^2 says little here: the state correlates all pairs
  alike, so the entries barely vary around their mean); held-out bits/spike (``fitter.score``, a
  particle filter of 64 particles per trial over the hidden neurons).

The "truth" row is the ground truth itself, re-simulated (the sampling floor of W1, |dBC| and NC
err). The table gives each column's mean over seeds, then the mean of (b) - (a) and (c) - (a)
with its paired 95 % t-interval over seeds (t with n_seeds - 1 degrees of freedom). The figure
shows the per-trial statistic's histograms (held-out data and each fit) of the first seed.

Measured (5 seeds, defaults, 181 s on 2 cores): SM alone fits the PSTH (R^2 0.892, truth 0.912)
and part of the noise correlations (NC err 0.758, truth 0.440) but not the two modes (BC 0.343,
the truth 0.823; W1 1.67 Hz, the truth 0.21 Hz). Trial matching did not recover them: (b) - (a)
BC +0.020 +- 0.089, W1 +0.124 +- 0.227 Hz, bits/spike -0.044 +- 0.024, NC err +0.126 +- 0.102;
(c) - (a) BC -0.006 +- 0.021, W1 +0.027 +- 0.065 Hz, bits/spike -0.005 +- 0.011, NC err
+0.062 +- 0.039.

Run: python benchmarks/trial_matching.py [--seeds 5] [--quick] [--out trial_matching.png]
(more options: --iterations, --patience (0: no early stopping), --windows, --weight,
--diagnostics; see --help)
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import quantities as pq
import torch
from scipy import stats

from elephant_fit import NetworkFitter
from elephant_fit.evaluation import metrics
from elephant_fit.fitting.losses import PRESETS, TrialMatching
from elephant_fit.network import held_out_likelihood, simulate
from elephant_fit.network.synthetic import sample_spikedata, trial_state_network
from elephant_fit.statistics import noise_correlation

BIN_SIZE = 10 * pq.ms
COLUMNS = ("W1 (Hz)", "BC", "|dBC|", "PSTH R2", "NC err", "bits/spike")


def per_trial_rate(counts):
    """Each trial's mean rate over its neurons and bins (Hz), shape (n_trials,)."""
    rate = counts.double().mean(dim=(1, 2)) / float(BIN_SIZE.rescale(pq.s).magnitude)
    return rate.numpy()


def bimodality_coefficient(values):
    """Sarle's bimodality coefficient (sample skewness and excess kurtosis, bias-corrected)."""
    n = len(values)
    skew = stats.skew(values, bias=False)
    kurtosis = stats.kurtosis(values, bias=False)
    return (skew**2 + 1) / (kurtosis + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))


def correlation_error(simulated, held_out):
    """Squared error of the zero-lag noise correlations (off-diagonal), over the data's square."""
    model, data = (
        noise_correlation(c.double(), max_lag=0)[0].numpy() for c in (simulated, held_out)
    )
    off = ~np.eye(data.shape[0], dtype=bool)
    return float(((model - data)[off] ** 2).sum() / (data[off] ** 2).sum())


def compare(simulated, held_out):
    """The per-trial statistic and activity metrics of ``simulated`` against ``held_out``."""
    model_rate, data_rate = per_trial_rate(simulated), per_trial_rate(held_out)
    bc = bimodality_coefficient(model_rate)
    return {
        "W1 (Hz)": stats.wasserstein_distance(model_rate, data_rate),
        "BC": bc,
        "|dBC|": abs(bc - bimodality_coefficient(data_rate)),
        "PSTH R2": metrics.psth_r2(simulated, held_out),
        "NC err": correlation_error(simulated, held_out),
    }, model_rate


def losses(windows, weight):
    """Fit label -> loss dict: the "sm" preset, then the preset + trial matching per window."""
    sm = dict(PRESETS["sm"])
    specs = {"SM": sm}
    for window in windows:
        specs[f"SM+TM w{window}"] = {**sm, "trial_matching": (weight, TrialMatching(window=window))}
    return specs


def run_seed(seed, args):
    """Fit every loss on one seed's truth; rows of metrics and the per-trial statistics."""
    truth = trial_state_network(n_recorded=args.n_recorded, n_bins=args.n_bins, seed=seed)
    train = sample_spikedata(truth, args.train_trials, BIN_SIZE, seed=1000 + seed).recorded()
    test = sample_spikedata(truth, args.test_trials, BIN_SIZE, seed=2000 + seed).recorded()
    held_out = test.counts
    reference = simulate(
        truth, args.test_trials, args.n_bins, seed=3000 + seed, requires_grad=False
    )
    row, rate = compare(reference.spikes[..., : args.n_recorded].detach(), held_out)
    row["bits/spike"] = held_out_likelihood(truth, held_out, args.particles).bits_per_spike
    rows = {"truth": row}
    rates = {"held-out data": per_trial_rate(held_out), "truth": rate}
    # --patience: unset, the fitter's default; 0, no early stopping (patience=None)
    stopping = {} if args.patience is None else {"patience": args.patience or None}
    for label, loss in losses(args.windows, args.weight).items():
        fitter = NetworkFitter(
            n_hidden=args.n_hidden,
            bin_size=BIN_SIZE,
            n_lags=3,
            loss=loss,
            max_iterations=args.iterations,
            eval_every=args.eval_every,
            seed=seed,
            device="cpu",
            progress=False,
            **stopping,
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # no-improvement warnings of short (--quick) fits
            fitter.fit(train)
        elapsed = time.perf_counter() - start
        simulated = fitter.simulate_spikedata(args.test_trials, seed=4000 + seed).recorded()
        row, rate = compare(simulated.counts, held_out)
        row["bits/spike"] = fitter.score(test, n_particles=args.particles)
        rows[label] = row
        rates[label] = rate
        print(
            f"  seed {seed} {label:<12} {len(fitter.history_.train):>5} iterations {elapsed:7.1f} s"
            + "".join(f"  {name} {row[name]:.3f}" for name in COLUMNS)
            + (diagnostics(fitter, args.n_recorded) if args.diagnostics else ""),
            flush=True,
        )
    return rows, rates


def diagnostics(fitter, n_recorded):
    """The kept (best validation) iteration and the largest hidden self-coupling at lag 1.

    ``lagged_coupling()`` is (n_lags, n_pre, n_post), recorded neurons first: the hidden
    neurons' self-couplings are its diagonal from ``n_recorded`` on (the truth's state neuron:
    2 logit(1 - 1e-4), about +18.4, at lag 1). Also that neuron's self-coupling summed over lags.
    """
    coupling = fitter.model_.lagged_coupling().detach().double()
    self_coupling = torch.diagonal(coupling, dim1=1, dim2=2)[:, n_recorded:]  # (n_lags, n_hidden)
    if self_coupling.shape[1] == 0:
        return f"  best it {fitter.history_.best_iteration}"
    strongest = int(self_coupling[0].argmax())
    return (
        f"  best it {fitter.history_.best_iteration}"
        f"  max hidden self W[lag 1] {float(self_coupling[0, strongest]):+.2f}"
        f" (sum over lags {float(self_coupling[:, strongest].sum()):+.2f})"
    )


def interval(differences):
    """Mean and paired 95 % t-interval half-width of per-seed differences."""
    differences = np.asarray(differences, dtype=float)
    n = len(differences)
    half = stats.t.ppf(0.975, n - 1) * differences.std(ddof=1) / np.sqrt(n)
    return differences.mean(), half


def print_table(results, labels):
    """Means over seeds per fit, then (fit) - SM with paired 95 % t-intervals."""
    width = 18
    print(f"\n{'mean over seeds':<24}" + "".join(f"{name:>{width}}" for name in COLUMNS))
    for label in ("truth", *labels):
        cells = "".join(
            f"{np.mean([rows[label][name] for rows in results]):>{width}.3f}" for name in COLUMNS
        )
        print(f"{label:<24}{cells}")
    print(f"\n{'paired, 95% t-interval':<24}" + "".join(f"{name:>{width}}" for name in COLUMNS))
    for label in labels[1:]:
        cells = ""
        for name in COLUMNS:
            mean, half = interval([rows[label][name] - rows["SM"][name] for rows in results])
            cells += f"{f'{mean:+.3f} +- {half:.3f}':>{width}}"
        print(f"{f'({label}) - (SM)':<24}{cells}")


def draw(rates, seed, path):
    """Histograms of the per-trial statistic: held-out data and each fit, one seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [label for label in rates if label != "truth"]
    every = np.concatenate([rates[label] for label in shown])
    edges = np.linspace(every.min(), every.max(), 31)
    figure, axes = plt.subplots(len(shown), 1, figsize=(5, 1.6 * len(shown)), sharex=True)
    for axis, label in zip(axes, shown, strict=True):
        axis.hist(rates[label], bins=edges, color="0.3" if label == "held-out data" else "C0")
        title = f"{label}: BC {bimodality_coefficient(rates[label]):.2f}"
        if label != "held-out data":
            w1 = stats.wasserstein_distance(rates[label], rates["held-out data"])
            title += f", W1 to the data {w1:.2f} Hz"
        axis.set_title(title, fontsize=9)
        axis.set_ylabel("trials")
    axes[-1].set_xlabel("per-trial mean rate of the recorded neurons (Hz)")
    figure.suptitle(f"trial_state_network, seed {seed}", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=600)
    parser.add_argument("--eval-every", type=int, default=20)
    parser.add_argument("--train-trials", type=int, default=300)
    parser.add_argument("--test-trials", type=int, default=400)
    parser.add_argument("--n-recorded", type=int, default=16)
    parser.add_argument("--n-bins", type=int, default=100)
    parser.add_argument("--n-hidden", type=int, default=4)
    parser.add_argument("--windows", type=int, nargs="+", default=[5, 25])
    parser.add_argument("--weight", type=float, default=1.0)
    parser.add_argument("--particles", type=int, default=64)
    parser.add_argument(
        "--patience",
        type=int,
        default=None,
        help="early-stopping patience (evaluations); 0: none; unset: the fitter's default",
    )
    parser.add_argument(
        "--diagnostics",
        action="store_true",
        help="also print, per fit, the kept iteration and the largest hidden self-coupling",
    )
    parser.add_argument("--quick", action="store_true", help="2 seeds, tiny sizes (a smoke test)")
    parser.add_argument("--out", default="trial_matching.png", help="the figure's path")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.iterations, args.eval_every = 2, 5, 5
        args.train_trials, args.test_trials, args.n_bins = 30, 30, 30
        args.windows, args.particles, args.n_hidden = [5], 8, 2
    torch.set_num_threads(1)
    start = time.perf_counter()
    print(
        f"{args.seeds} seeds; {args.train_trials} training / {args.test_trials} held-out trials of "
        f"{args.n_bins} bins; {args.n_hidden} hidden; up to {args.iterations} iterations; "
        f"trial matching weight {args.weight}, windows {args.windows}",
        flush=True,
    )
    results, first_rates = [], None
    for seed in range(args.seeds):
        rows, rates = run_seed(seed, args)
        results.append(rows)
        first_rates = first_rates or rates
    labels = list(losses(args.windows, args.weight))
    print_table(results, labels)
    draw(first_rates, 0, args.out)
    print(f"\nfigure: {args.out}; wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
