"""The salamander retina with hidden neurons
=========================================

The bundled recording of Onken et al. (2016): 38 ganglion cells, 30 repeats of a natural movie.
We bin at 20 ms, hold out 6 repeats, and compare the likelihood alone with likelihood +
sample-and-measure with hidden neurons, on the held-out PSTH and noise correlations and the
held-out likelihood (exact for the likelihood alone; a particle filter over the hidden neurons,
with its standard error, for the model with hidden neurons). A real recording has no ground
truth, so no coupling to compare.

Run: python examples/retina_hidden.py [--quick]
"""

import argparse
import warnings

import matplotlib.pyplot as plt
import numpy as np
import quantities as pq

from elephant_fit import NetworkFitter, from_neo
from elephant_fit.data.datasets import RETINA_CITATION, load_retina
from elephant_fit.evaluation import metrics
from elephant_fit.statistics import noise_correlation

parser = argparse.ArgumentParser(description="The salamander retina with hidden neurons")
parser.add_argument("--quick", action="store_true", help="3 s of the movie, short fits")
args = parser.parse_args()

# %%
# The recording
# -------------
# ``load_retina`` returns a ``neo.Block`` (one Segment per repeat); with ``--quick`` we keep the
# first 3 s of the movie, otherwise all 18 s. Bins of 20 ms hold at most one spike
# (``binary=True``: the Bernoulli model).

print("data:", RETINA_CITATION)
t_stop = (3 if args.quick else 18) * pq.s
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # spikes after the cropped window / at 18 s
    data = from_neo(load_retina(1), 20 * pq.ms, t_start=0 * pq.s, t_stop=t_stop, binary=True)
train, test = data.split(test_fraction=0.2, seed=0)
print(f"{train.n_trials} training and {test.n_trials} held-out repeats of {data}")

# %%
# Two fits, scored on the held-out repeats
# ----------------------------------------
# Each model is simulated on 100 repeats; ``log_likelihood`` estimates the held-out likelihood
# (with hidden neurons, by a particle filter over their spikes).

iterations = 40 if args.quick else 300
simulated = {}
for name, hidden, loss in (("NLL only", 0, "mle"), ("NLL + SM, hidden", 10, "sm")):
    fitter = NetworkFitter(
        n_hidden=hidden,
        bin_size=20 * pq.ms,
        n_lags=5,
        loss=loss,
        max_iterations=iterations,
        batch_size=12,
        progress=not args.quick,
        device="cpu",
    ).fit(train)
    simulated[name] = fitter.simulate_spikedata(100, seed=1).recorded().counts
    nc = metrics.noise_correlation_fit(simulated[name], test.counts)
    likelihood = fitter.log_likelihood(test)  # particle filter over the hidden neurons
    print(
        f"{name:>18}: PSTH R2 {metrics.psth_r2(simulated[name], test.counts):.3f}, "
        f"NC R2 {nc['r2']:.3f}, NC r {nc['r']:.3f}, held-out {likelihood}"
    )

# %%
# The PSTH of the most active cell, held-out repeats against each model, and every pair's
# zero-lag noise correlation, model against held-out data. With 6 held-out repeats the data's
# noise correlations are themselves noisy.

counts = {"held-out data": test.counts, **simulated}
cell = int(test.counts.mean(dim=(0, 1)).argmax())
times = (np.arange(data.n_bins) + 0.5) * 0.02
off = ~np.eye(data.n_neurons, dtype=bool)
data_nc = noise_correlation(test.counts.double(), max_lag=0)[0].numpy()[off]
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for colour, (name, spikes) in enumerate(counts.items()):
    rate = spikes[:, :, cell].double().mean(dim=0).numpy() / 0.02
    left.plot(times, rate, color=f"C{colour}", lw=2 if colour == 0 else 1, label=name)
    if colour:
        model_nc = noise_correlation(spikes.double(), max_lag=0)[0].numpy()[off]
        right.scatter(data_nc, model_nc, s=5, color=f"C{colour}", alpha=0.6, label=name)
left.set(xlabel="time in the movie (s)", ylabel="rate (Hz)", title=f"PSTH of cell {cell}")
left.legend(fontsize=8)
ends = [np.nanmin(data_nc), np.nanmax(data_nc)]
right.plot(ends, ends, "k--", lw=0.8)
right.set(xlabel="held-out data", ylabel="model", title="noise correlations (20 ms, all pairs)")
right.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
# With ``--quick`` each fit takes 40 steps on 3 s of the movie, far too few to follow the
# stimulus (the PSTHs above are nearly flat): the figure shows what the script computes, not what
# the models can do. ``elephant-fit demo --data retina`` fits the whole recording in a similar
# way; its table (PSTH R^2 about 0.6-0.7, and noise-correlation R^2 0.16 for the likelihood alone
# against 0.51 with sample-and-measure and hidden neurons) is in the user guide's "Bundled data"
# page.
