"""Neo Block -> SpikeData -> Neo Block, checked against Elephant
=============================================================

A synthetic repeated-trial experiment (stimulus-locked Poisson units) is built as a
``neo.Block``, binned with :func:`~elephant_fit.from_neo`, compared bin for bin with
``elephant.conversion.BinnedSpikeTrain``, turned back into a ``neo.Block`` with
:func:`~elephant_fit.to_neo`, written to disk with ``neo.io`` and read back.

Run: python examples/neo_roundtrip.py [--quick] [--trials N] [--out DIR]
"""

import argparse
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import neo
import numpy as np
import quantities as pq
from elephant.conversion import BinnedSpikeTrain
from elephant.statistics import time_histogram

import elephant_fit as ef

parser = argparse.ArgumentParser(description="Neo Block -> SpikeData -> Neo Block")
parser.add_argument("--quick", action="store_true", help="10 trials instead of 50")
parser.add_argument("--trials", type=int, default=None, help="number of trials")
parser.add_argument("--out", type=Path, default=None, help="folder to keep the file in")
args = parser.parse_args()
n_trials = args.trials or (10 if args.quick else 50)

# %%
# An experiment as a neo.Block
# ----------------------------
# One Segment per trial, one ``neo.Group`` per unit linking its spike trains across trials, and
# annotations on all of them, as a lab's files would have.


def make_block(n_trials: int, n_units: int, seed: int = 0) -> neo.Block:
    """Repeated trials of stimulus-locked inhomogeneous Poisson units, one Group per unit."""
    rng = np.random.default_rng(seed)
    duration, dt = 2.0, 1e-4
    grid = np.arange(0.0, duration, dt)
    phases = rng.uniform(0, 2 * np.pi, n_units)
    rates = 5.0 + 15.0 * (1 + np.sin(2 * np.pi * 1.5 * grid[:, None] + phases))  # Hz
    block = neo.Block(name="synthetic experiment", experimenter="elephant-fit example")
    groups = [neo.Group(name=f"unit {j}", unit_id=j, area="V1") for j in range(n_units)]
    for k in range(n_trials):
        segment = neo.Segment(name=f"trial {k}", stimulus="grating")
        spikes = rng.random((grid.size, n_units)) < rates * dt
        for j in range(n_units):
            train = neo.SpikeTrain(grid[spikes[:, j]] * 1000, t_stop=duration * 1000, units="ms")
            segment.spiketrains.append(train)
            groups[j].add(train)
        block.segments.append(segment)
    block.groups.extend(groups)
    block.check_relationships()
    return block


block = make_block(n_trials, n_units=12)

# %%
# Neo -> SpikeData, checked against Elephant's binning
# ----------------------------------------------------

start = time.perf_counter()
data = ef.from_neo(block, bin_size=10 * pq.ms)
elapsed = time.perf_counter() - start
print(f"from_neo: {data}  ({elapsed * 1000:.1f} ms)")

reference = np.stack(
    [BinnedSpikeTrain(seg.spiketrains, bin_size=10 * pq.ms).to_array().T for seg in block.segments]
)
assert np.array_equal(data.counts.numpy(), reference), "counts differ from BinnedSpikeTrain"
print("counts equal elephant.conversion.BinnedSpikeTrain for every trial: yes")

psth = data.counts.mean(dim=0) / data.bin_size.rescale("s").item()  # (n_bins, n_neurons), Hz
print(f"PSTH peak rates (Hz): {np.round(psth.max(dim=0).values.numpy(), 1).tolist()}")

train, test = data.split(test_fraction=0.2, seed=0)
print(f"split: {train.n_trials} training trials, {test.n_trials} test trials")

# %%
# SpikeData -> Neo, and through a file
# ------------------------------------
# Elephant takes the Block that :func:`~elephant_fit.to_neo` returns as it is. The file goes to a
# temporary folder unless ``--out`` names one.

out_block = ef.to_neo(data)
histogram = time_histogram(out_block.segments[0].spiketrains, bin_size=10 * pq.ms)
assert np.array_equal(histogram.magnitude[:, 0], data.counts[0].sum(dim=1).numpy())
print("elephant.statistics.time_histogram consumes the to_neo output unchanged: yes")

folder = tempfile.TemporaryDirectory()
out = args.out if args.out is not None else Path(folder.name)
out.mkdir(parents=True, exist_ok=True)
path = out / "roundtrip.pkl"
neo.io.PickleIO(str(path)).write_block(out_block)
again = ef.from_neo(path, bin_size=10 * pq.ms)
assert again == data, "round trip through a neo file changed the data"
shown = path if args.out is not None else path.name
print(f"wrote {shown} and read it back: identical SpikeData")
folder.cleanup()

# %%
# Trial 0 of the original Block (blue) and of the Block :func:`~elephant_fit.to_neo` made from the
# counts (orange, raised a little; each spike at the start of its 10 ms bin), and the PSTH of two
# units in 50 ms bins, from the SpikeData's counts and by Elephant from the round-tripped Block:
# the same numbers.

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for offset, source in enumerate((block, out_block)):
    for j, st in enumerate(source.segments[0].spiketrains):
        times = st.rescale("s").magnitude
        axes[0].plot(times, np.full(len(times), j + 0.3 * offset), "|", color=f"C{offset}", ms=4)
axes[0].set(xlabel="time (s)", ylabel="unit", title="trial 0: original and to_neo(from_neo(...))")
factor = 5  # 10 ms bins -> 50 ms
coarse = psth[: data.n_bins // factor * factor].reshape(-1, factor, data.n_neurons).mean(dim=1)
starts = np.arange(coarse.shape[0]) * 0.05
for j in range(2):
    trains = [seg.spiketrains[j] for seg in out_block.segments]
    elephant_psth = time_histogram(trains, bin_size=50 * pq.ms, output="rate").rescale("Hz")
    axes[1].step(starts, coarse[:, j].numpy(), where="post", color=f"C{j}", lw=3, alpha=0.4)
    axes[1].step(
        starts, elephant_psth.magnitude.ravel(), ":", where="post", color=f"C{j}", label=f"unit {j}"
    )
axes[1].set(xlabel="time (s)", ylabel="rate (Hz)", title="PSTH: SpikeData (wide), Elephant (dots)")
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()
