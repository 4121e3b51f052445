"""A data-parallel fit
===================

A fit can run in several processes with PyTorch's ``torch.distributed``: every process (rank)
holds the same model, each batch of trials is split into one share per rank, each rank runs its
share, and the sums over trials that the losses need, and the gradients, are added across ranks
before every step. Under ``torchrun`` both the ``elephant-fit`` command and a Python script
fitting inside ``elephant_fit.distributed.process_group()`` do this by themselves.

Here one small fit script runs twice on the same recording, in one process and under
``torchrun`` in two processes on this machine, and we compare the two fitted models: they should
be the same fit, up to the rounding of sums taken in another order. Everything is written to a
temporary folder, deleted at the end.

Run: python examples/data_parallel.py [--quick] [--processes 2]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import quantities as pq

from elephant_fit import load_model, to_neo, write_block
from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata

parser = argparse.ArgumentParser(description="A data-parallel fit")
parser.add_argument("--quick", action="store_true", help="a small fit (seconds), as the docs build")
parser.add_argument("--processes", type=int, default=2, help="ranks of the parallel fit")
args = parser.parse_args()

# %%
# A recording on disk
# -------------------
# Ten recorded neurons of a ground-truth network with hidden inputs (twenty without
# ``--quick``), written as a Neo Block, one Segment per trial, as a lab's recording would be.

folder = tempfile.TemporaryDirectory()
work = Path(folder.name)
if args.quick:
    truth = hidden_input_network(n_recorded=10, n_hidden=5, n_bins=50, seed=0)
    n_trials, hidden, iterations = 60, 4, 40
else:
    truth = hidden_input_network(seed=0)  # 20 recorded + 20 hidden neurons, 100 bins
    n_trials, hidden, iterations = 400, 10, 300
recording = sample_spikedata(truth, n_trials, 10 * pq.ms, seed=1).recorded()
write_block(to_neo(recording), work / "recording.pkl")
print(f"recording: {recording}")

# %%
# One fit script
# --------------
# The script below fits a network with the Python API, inside
# :func:`~elephant_fit.distributed.process_group`: under ``torchrun`` that joins the ranks
# (``torch.distributed`` with the gloo backend on CPUs, NCCL when every rank has a GPU); in a
# plain process it does nothing. The fit itself needs no change. Rank 0 alone writes the model
# file. It is a sample-and-measure fit with hidden neurons, whose losses are not plain sums over
# trials (the PSTH and the noise covariance of a batch: the ranks add the sums over their trials
# that these are made of). Early stopping is off, so that both runs take the same number of
# steps, and the fit is in float64, so that the order of the sums does not show.

script = """
import sys

import quantities as pq
import torch

from elephant_fit import NetworkFitter, read_block
from elephant_fit.distributed import is_main_process, process_group

out, hidden, iterations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with process_group():  # under torchrun: join the other ranks; in one process: nothing
    fitter = NetworkFitter(
        n_hidden=hidden,
        bin_size=10 * pq.ms,
        n_lags=3,
        loss="sm",
        max_iterations=iterations,
        patience=None,
        dtype=torch.float64,
        device="cpu",
        progress=False,
    ).fit(read_block("recording.pkl"))
    if is_main_process():
        fitter.save(out)
"""
(work / "fit.py").write_text(script)

# %%
# Run twice: one process, then two under torchrun
# -----------------------------------------------
# ``python -m torch.distributed.run`` is ``torchrun``; ``--standalone`` starts the ranks on this
# machine. On a cluster, one ``torchrun`` per node does the same (the user guide's "Scaling out").

settings = [str(hidden), str(iterations)]
one_process = [sys.executable, "fit.py", "one.pt", *settings]
torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
parallel = [*torchrun, "--nproc-per-node", str(args.processes), "fit.py", "parallel.pt", *settings]


def run(command):
    """Run a command in the temporary folder; its wall time (s)."""
    start = time.perf_counter()
    result = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}")
    return time.perf_counter() - start


for label, command in (("1 process", one_process), (f"{args.processes} processes", parallel)):
    print(f"{label}: {run(command):.1f} s, with Python's and the ranks' start-up")

# %%
# The times include starting Python, importing torch and, with torchrun, the launcher and the
# process group. On a 2-core machine two ranks of one thread each are no faster than one process
# of two threads, and slower when other work shares the cores (the ranks wait for each other at
# every step): ranks pay off when each brings its own cores or GPU.
#
# The same fit?
# -------------
# :func:`~elephant_fit.load_model` reads both files back. We compare every parameter, relative to
# the largest entry of its tensor, and the training losses iteration by iteration.

one = load_model(work / "one.pt")
several = load_model(work / "parallel.pt")
pairs = {
    name: (value.detach(), dict(several.model_.named_parameters())[name].detach())
    for name, value in one.model_.named_parameters()
}
differences = {}
for name, (a, b) in pairs.items():
    differences[name] = float((b - a).abs().max() / a.abs().max())
    print(f"{name:>16} {tuple(a.shape)}: largest difference {differences[name]:.1e}")
worst = max(differences.values())
verdict = "the same fit" if worst < 1e-8 else "the fits differ"
print(f"{args.processes} processes vs 1 process: {verdict}, largest difference {worst:.1e}")

# %%
# Left, the training loss of both runs; right, how far apart the parameters are, entry by entry
# (relative to the largest entry of their tensor; float64 resolves about 1e-16).

loss_one = [row["loss"] for row in one.history_.train]
loss_several = [row["loss"] for row in several.history_.train]
relative = np.concatenate(
    [((b - a).abs() / a.abs().max()).ravel().numpy() for a, b in pairs.values()]
)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
steps = np.arange(1, len(loss_one) + 1)
left.plot(steps, loss_one, lw=3, alpha=0.5, label="1 process")
left.plot(steps, loss_several, "k--", lw=1, label=f"{args.processes} processes")
left.set(xlabel="iteration", ylabel="training loss (NLL + SM terms)", title="training loss")
left.legend()
floor = 1e-18  # entries that agree exactly
right.hist(np.log10(np.maximum(relative, floor)), bins=30)
right.set(
    xlabel="log10 |difference| / largest entry (exact agreement at -18)",
    ylabel="parameters",
    title=f"{relative.size} parameters, {args.processes} processes vs 1",
)
fig.tight_layout()
plt.show()

# %%
# From the command line, ``torchrun --nproc-per-node 2 $(which elephant-fit) fit recording.pkl
# --hidden 4 --loss sm`` runs a fit the same way (in float32: there the parameters agree to about
# 1e-6, single entries to about 1e-5 of the largest, since Adam can amplify a rounding difference
# in a gradient near zero). ``tests/test_distributed.py`` checks both precisions.

folder.cleanup()
