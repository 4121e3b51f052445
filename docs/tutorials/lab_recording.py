"""
From a lab recording to a fitted network
========================================

A lab's file is rarely a neat stack of trials. It is usually one continuous recording, with
event markers (a cue, a stimulus onset) carrying labels (the condition of each trial) and
measured signals (position, running speed). This tutorial follows that file from the disk to a
fitted, saved model, on two real recordings bundled with elephant-fit, from the case studies of
Kramer & Eden (2016):

* a human subthalamic-nucleus (STN) unit in a left/right joystick task: one continuous session
  with an Event ``"go"`` at each GO cue, labelled ``left`` or ``right`` (**trials and
  conditions**);
* a rat hippocampal place cell on a linear track: one continuous session with the animal's
  position as an AnalogSignal (**a covariate**, which the cell is tuned to).

The steps are those of :doc:`/guide/session`: write and read
the session as a NIX file, inspect it, cut the trials, split them into training and held-out
trials, fit, score held-out bits/spike, compare data and model with Elephant on Neo objects,
simulate, save and load the model.

Run it with ``python docs/tutorials/lab_recording.py`` (``--quick``: fewer optimiser iterations
and simulated trials; this page was built with ``--quick``). Every number printed below is
computed by this script on one split of the trials: an illustration, not an estimate with an
interval.
"""

# %%
# Setup
# -----
# Files go to a temporary folder, removed at the end.

import sys
import tempfile
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import quantities as pq
from elephant.statistics import time_histogram

import elephant_fit as ef
from elephant_fit.data.contents import describe_block
from elephant_fit.data.datasets import KRAMER_CITATION
from elephant_fit.evaluation.metrics import r2_score
from elephant_fit.evaluation.report import value_tuning
from elephant_fit.network import CovariateSpec

QUICK = "--quick" in sys.argv
ITERATIONS = 10 if QUICK else 200  # L-BFGS iterations (early stopping usually ends sooner)
N_SIMULATED = 50 if QUICK else 200  # simulated trials per condition

workdir = tempfile.TemporaryDirectory(prefix="elephant-fit-tutorial-")
folder = Path(workdir.name)
print("data:", KRAMER_CITATION)

# %%
# The session file
# ----------------
# ``load_reaching_unit()`` returns the STN session as a lab would store it: one Segment of
# 100 s with the unit's SpikeTrain and an Event ``"go"``. We write it to a NIX file and read it
# back, as you would read your own file: ``ef.read_block`` reads anything ``neo.io`` reads (NIX,
# NWB, pickle, Matlab). The rest of the tutorial only uses what came back from the file.

session = ef.load_reaching_unit()
path = ef.write_block(session, folder / "reaching_session.nix")
block = ef.read_block(path)

# %%
# What is in it
# -------------
# Before cutting trials you need the names of the events, their labels and the signals:
# ``describe_block`` prints what ``elephant-fit inspect reaching_session.nix`` prints on the
# command line.

print(describe_block(block))

# %%
# Cut the trials
# --------------
# One call cuts the trials with neo's own tools and bins them like
# ``elephant.conversion.BinnedSpikeTrain``: ``trials="go"`` names the Event, ``window`` the time
# around each event (the event is the trial's zero), ``condition="labels"`` takes each trial's
# condition from the event's label. The file's own resolution is 1 ms; at 1 ms the unit never
# fires twice in a bin, so the Bernoulli model (one spike or none per bin, the default) fits it,
# and ``binary=True`` makes that explicit.
#
# A session with measured signals takes them in the same call: ``covariates=["running_speed"]``
# adds the AnalogSignal of that name, averaged onto the bins (the place cell below).

data = ef.from_neo(
    block,
    1 * pq.ms,
    trials="go",
    window=(-1 * pq.s, 1 * pq.s),
    condition="labels",
    binary=True,
)
print(data)
labels, counts = np.unique(data.conditions, return_counts=True)
print("trials per condition:", dict(zip(labels.tolist(), counts.tolist(), strict=True)))
print("first trial's annotations:", data.trial_annotations[0])

# %%
# A raster of a few trials of each condition, drawn from the Neo Block that ``ef.to_neo`` makes
# of the cut trials (one Segment per trial, annotated with its condition).

trials_block = ef.to_neo(data)


def trains_of(block, label):
    """The spike trains of the first unit in the Segments of one condition."""
    return [seg.spiketrains[0] for seg in block.segments if seg.annotations["condition"] == label]


fig, axes = plt.subplots(1, 2, figsize=(9, 3), sharey=True)
for ax, label in zip(axes, data.condition_labels, strict=True):
    for row, train in enumerate(trains_of(trials_block, label)[:10]):
        ax.vlines(train.times.rescale("s").magnitude, row + 0.6, row + 1.4, lw=0.6)
    ax.axvline(0, color="C3", lw=1)
    ax.set(title=f"{label}: 10 trials", xlabel="time from GO cue (s)")
axes[0].set_ylabel("trial")
fig.tight_layout()
plt.show()

# %%
# Training and held-out trials
# ----------------------------
# ``split`` holds out 20 % of the trials, stratified by condition: both sets keep the 25/25
# balance of left and right trials.

train, test = data.split(0.2, seed=0)
for name, part in (("train", train), ("held out", test)):
    labels, counts = np.unique(part.conditions, return_counts=True)
    print(f"{name}: {dict(zip(labels.tolist(), counts.tolist(), strict=True))}")

# %%
# Fit
# ---
# ``NetworkFitter`` fits one stimulus-locked drive per condition of the data (here a smooth
# time course of 10 bumps over the 2 s trial) and 5 lags of self-history, by maximum likelihood.
# Without hidden neurons the likelihood is exact and full-batch L-BFGS fits it in a few
# iterations; 20 % of the training trials are kept for early stopping. To see what the
# conditions buy, the same model is fitted with one drive for all trials
# (``without(conditions=True)`` forgets the labels).


def make_fitter(**options):
    """The estimator used for both recordings (one neuron, Bernoulli, L-BFGS)."""
    return ef.NetworkFitter(
        n_lags=5,
        optimizer="lbfgs",
        max_iterations=ITERATIONS,
        device="cpu",
        progress=False,
        seed=0,
        **options,
    )


fitter = make_fitter(drive="smooth", n_drive_basis=10).fit(train)
pooled = make_fitter(drive="smooth", n_drive_basis=10).fit(train.without(conditions=True))

# %%
# Held-out bits/spike
# -------------------
# ``log_likelihood`` scores the held-out trials, each under its own condition's drive, in bits
# per spike over a homogeneous rate (``score`` returns the number alone).

per_direction = fitter.log_likelihood(test)
one_drive = pooled.score(test.without(conditions=True))
print(f"one drive per direction: {per_direction}")
print(f"one drive for all trials: {one_drive:.3f} bits/spike")
print(f"gain of the conditions on this split: {per_direction.bits_per_spike - one_drive:+.3f}")

# %%
# On one split of 10 held-out trials this difference is noisy. Cross-validated over 5 folds,
# paired (``python examples/kramer_casestudies.py``, measured and reported in :doc:`/guide/data`), the
# per-direction drive scored 0.134 +/- 0.008 bits/spike against 0.085 +/- 0.003 for one drive,
# a gain of +0.050 +/- 0.005, better on 5 of 5 folds.

# %%
# PSTH per condition: data and model, computed by Elephant
# ---------------------------------------------------------
# ``fitter.simulate`` returns a Neo Block (one Segment per trial, annotated with its condition,
# the recording's unit ids), so the comparison uses Elephant's own ``time_histogram`` on both
# sides. The data side has all 25 trials of each condition (20 of which the model was fitted
# on); the model side ``N_SIMULATED`` simulated trials of the condition.

bin_psth = 100 * pq.ms
fig, axes = plt.subplots(1, 2, figsize=(9, 3), sharey=True)
for ax, label in zip(axes, data.condition_labels, strict=True):
    simulated = fitter.simulate(N_SIMULATED, condition=label, seed=1)
    rates = {}
    for name, trains in (
        ("data", trains_of(trials_block, label)),
        ("model", trains_of(simulated, label)),
    ):
        histogram = time_histogram(trains, bin_psth, output="rate")
        rates[name] = histogram.rescale("Hz").magnitude.ravel()
        ax.step(histogram.times.rescale("s"), rates[name], where="post", label=name)
    r2 = r2_score(rates["data"], rates["model"])
    print(f"{label}: PSTH R2 (model vs data, {bin_psth}) = {r2:.3f}")
    ax.set(title=label, xlabel="time from GO cue (s)")
axes[0].set_ylabel("rate (Hz)")
axes[0].legend()
fig.tight_layout()
plt.show()

# %%
# Save the model and load it back
# -------------------------------
# ``fitter.save(path)`` (or ``elephant_fit.fitting.save_model(fitter, path)``) writes the
# hyper-parameters, weights, the data layout (unit ids, conditions, bins) and the fit history,
# with a checksum; ``ef.load_model`` verifies it and returns a fitted estimator that scores and
# simulates as the original does.

model_path = folder / "stn_unit.pt"
fitter.save(model_path)
restored = ef.load_model(model_path)
print("conditions of the loaded model:", restored.trained_on_.condition_labels)
print("same held-out score after loading:", restored.score(test) == fitter.score(test))

# %%
# A covariate: the place cell
# ---------------------------
# The second session has no events: the cell was recorded for 178 s while the rat ran back and
# forth, and its position was sampled at 1 kHz. Written and read back the same way, the file
# shows one SpikeTrain and one AnalogSignal.

path = ef.write_block(ef.load_place_cell(), folder / "place_cell_session.nix")
block = ef.read_block(path)
print(describe_block(block))

# %%
# Without ``trials=``, ``window`` is one length: the session is cut into consecutive 5 s
# windows (the last 2.8 s are not a whole window and are dropped, with a warning that we print).
# ``covariates=["position"]`` averages the AnalogSignal onto the 2 ms bins.

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    cell = ef.from_neo(block, 2 * pq.ms, window=5 * pq.s, covariates=["position"], binary=True)
for warning in caught:
    print("warning:", warning.message)
print(cell)
cell_train, cell_test = cell.split(0.2, seed=0)

# %%
# Position enters as a *tuning*: a function of its value (10 B-splines over the range of the
# track seen in the training data), not a filter over its recent history
# (``CovariateSpec(("history",), n_lags=...)`` would be that, e.g. for a stimulus or a running
# speed). There is no stimulus-locked drive (``drive=None``): the windows are not aligned on
# anything. The comparison model has self-history only.

tuned = make_fitter(drive=None, covariates=CovariateSpec(("tuning",), n_tuning=10))
tuned.fit(cell_train)
history_only = make_fitter(drive=None).fit(cell_train.without(covariates=True))
with_position = tuned.score(cell_test)
without_position = history_only.score(cell_test.without(covariates=True))
print(f"self-history only: {without_position:.3f} bits/spike")
print(f"+ position tuning: {with_position:.3f} bits/spike")

# %%
# (Measured in :doc:`/guide/data` with 5-fold cross-validation, ``examples/kramer_casestudies.py``:
# -0.439 +/- 0.361 without the position and 1.367 +/- 0.464 with it, a paired gain of
# +1.806 +/- 0.564 bits/spike, better on 4 of 5 folds. The self-history-only model can score
# below zero because the rate differs widely between 5 s windows, depending on where the animal
# was.)

# %%
# The tuning curve: data and model
# --------------------------------
# A model fitted with covariates needs them to simulate: here each simulated window gets the
# positions of a recorded window (all windows, repeated), so the simulated rat runs the same
# paths. ``value_tuning`` (the function behind ``elephant-fit report``'s ``tuning.png``) bins
# the spikes with Elephant and averages the rate in each position interval, on the recorded
# Block and on the simulated one alike.

repeats = 2 if QUICK else 4
simulated = tuned.simulate(
    cell.n_trials * repeats, covariates=cell.covariates.repeat(repeats, 1, 1), seed=1
)
edges = np.linspace(0.0, 100.0, 21)  # the track, in cm
centres = (edges[:-1] + edges[1:]) / 2
recorded_rate = value_tuning(ef.to_neo(cell), cell.bin_size, "position", edges)[:, 0]
model_rate = value_tuning(simulated, cell.bin_size, "position", edges)[:, 0]
print(f"tuning R2 (model vs data, 5 cm intervals): {r2_score(recorded_rate, model_rate):.3f}")

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(centres, recorded_rate, "o", label="data (all windows)")
ax.plot(centres, model_rate, "-", label=f"model ({repeats} x the windows' positions)")
ax.set(xlabel="position (cm)", ylabel="rate (Hz)", title="place field")
ax.legend(loc="upper left", fontsize=8)
fig.tight_layout()
plt.show()

# %%
# The fitted tuning itself is kept on the estimator: ``tuned.tuning_values_`` (a grid over the
# range seen in the data) and ``tuned.tuning_curves_`` (the input added to the neuron at each
# value), and as Neo objects in ``tuned.parameters_to_neo()``.

peak = tuned.tuning_values_[np.argmax(tuned.tuning_curves_[0, 0]), 0]
print(f"fitted tuning peaks at {peak:.1f} cm")

# %%
# Clean up
# --------
# On the command line the same workflow is::
#
#     elephant-fit inspect session.nix
#     elephant-fit fit session.nix --trials go --window -1s,1s --condition labels \
#         --bin-size 1ms --out model.pt
#     elephant-fit report model.pt session.nix --trials go --window -1s,1s \
#         --condition labels --out report/

workdir.cleanup()
print("done: files written to and read from a temporary folder, now removed")
