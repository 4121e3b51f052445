"""Builders of Neo test data and the Elephant reference used across test modules."""

from __future__ import annotations

import itertools
import os
import socket

import neo
import numpy as np
import quantities as pq
import torch
from elephant.conversion import BinnedSpikeTrain

from elephant_fit.network.model import SpikingNetwork


def poisson_block(
    rng, n_trials=3, n_units=4, duration=2.0, rate=20.0, units="s", groups=True, key="unit_id"
):
    """A Block with one Segment per trial, Poisson trains, unit ids and (optionally) Groups."""
    scale = 1000.0 if units == "ms" else 1.0
    block = neo.Block(name="test", session="s1")
    unit_groups = [neo.Group(name=f"u{j}", unit_id=f"u{j}") for j in range(n_units)]
    for k in range(n_trials):
        segment = neo.Segment(name=f"trial {k}", condition=k % 2)
        for j in range(n_units):
            times = np.sort(rng.uniform(0, duration, rng.poisson(rate * duration))) * scale
            st = neo.SpikeTrain(times, t_stop=duration * scale, units=units, name=f"u{j}")
            if key is not None:
                st.annotate(**{key: f"u{j}"})
            segment.spiketrains.append(st)
            unit_groups[j].add(st)
        block.segments.append(segment)
    if groups:
        block.groups.extend(unit_groups)
    block.check_relationships()
    return block


def elephant_counts(trials, bin_size, t_start=None, t_stop=None, binary=False):
    """Reference counts of shape (n_trials, n_bins, n_units), one BinnedSpikeTrain per trial."""
    arrays = []
    for trains in trials:
        binned = BinnedSpikeTrain(list(trains), bin_size=bin_size, t_start=t_start, t_stop=t_stop)
        arrays.append(binned.to_bool_array() if binary else binned.to_array())
    return np.stack([a.T for a in arrays]).astype(np.float64)


def segments_as_lists(block):
    return [list(segment.spiketrains) for segment in block.segments]


def same_counts(data, reference):
    return np.array_equal(data.counts.double().numpy(), reference)


__all__ = ["elephant_counts", "poisson_block", "pq", "same_counts", "segments_as_lists"]


def local_rank_environment(index: int, size: int, port: int, threads: int = 1) -> dict[str, str]:
    """The environment torchrun gives rank ``index`` of ``size`` ranks on this machine.

    For starting ranks without torchrun (tests, benchmarks): this process's environment plus
    ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR`` (this host),
    ``MASTER_PORT`` and ``OMP_NUM_THREADS``.
    """
    return dict(
        os.environ,
        RANK=str(index),
        LOCAL_RANK=str(index),
        WORLD_SIZE=str(size),
        LOCAL_WORLD_SIZE=str(size),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        OMP_NUM_THREADS=str(threads),
    )


def free_port() -> int:
    """A TCP port free on this host now (for ``MASTER_PORT``)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def small_spikedata(n_bins: int = 30, seed: int = 3):
    """8 trials of a 4-neuron network without hidden neurons, 10 ms bins (a small recording)."""
    from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata

    truth = hidden_input_network(n_recorded=4, n_hidden=0, n_bins=n_bins, seed=2)
    return sample_spikedata(truth, 8, 10 * pq.ms, seed=seed)


def one_error(capsys, *needles: str) -> str:
    """The one error line the command line printed (every line from elephant-fit), with needles."""
    lines = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in lines if ": error: " in line]
    assert len(errors) == 1, lines
    assert all(line.startswith("elephant-fit") for line in lines), lines
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def small_network(n_recorded=2, n_hidden=2, n_lags=2, seed=0, observation="bernoulli"):
    model = SpikingNetwork(n_recorded, n_hidden=n_hidden, n_lags=n_lags, observation=observation)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.coupling_weights.normal_(0, 1.5, generator=generator)
        model.bias.normal_(-1.0, 0.5, generator=generator)
    return model.double()


def joint_log_probabilities(model, recorded):
    """log p(recorded, h) of every hidden history h of one trial, shape (2 ** (n_bins * n_hidden),).

    Histories are enumerated by ``itertools.product`` over bins (outer) and hidden neurons.
    """
    n_bins = recorded.shape[1]
    terms = []
    for bits in itertools.product([0.0, 1.0], repeat=n_bins * model.n_hidden):
        hidden = torch.tensor(bits, dtype=torch.float64).view(1, n_bins, model.n_hidden)
        spikes = torch.cat([recorded, hidden], dim=2)
        u = model.static_input(n_bins) + model.history(spikes)
        terms.append(-model.neg_log_likelihood(u, spikes).sum())
    return torch.stack(terms)


def exact_marginal(model, recorded):
    """log p(recorded) by summing over every hidden spike history (tiny models only)."""
    return torch.stack(
        [
            torch.logsumexp(joint_log_probabilities(model, recorded[k : k + 1]), dim=0)
            for k in range(recorded.shape[0])
        ]
    )
