"""A synthetic lab session from a known network: a continuous recording with events and a covariate.

What an acquisition system writes: one continuous Segment, one SpikeTrain per unit, an Event
``stim_on`` whose labels name the stimulus condition of each trial, and an AnalogSignal of a
measured covariate (``running_speed``). The spikes are a known :class:`SpikingNetwork`'s, one
condition-specific stimulus drive per label and a covariate filter, so a fit of the cut trials
can be checked against the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import neo
import numpy as np
import quantities as pq
import torch

from .._validation import check_positive_int
from ..data.spikedata import SpikeData
from .bases import gaussian_bumps
from .model import SpikingNetwork
from .simulation import simulate

__all__ = ["Session", "session_network", "synthetic_session"]

#: The stimulus conditions of the synthetic session.
CONDITIONS = ("grating_0", "grating_90")


def session_network(
    n_recorded: int = 12, n_bins: int = 120, n_input_lags: int = 3, seed: int = 0
) -> SpikingNetwork:
    """A network of two stimulus conditions and one covariate (10 ms bins in mind).

    Condition 0 drives the first half of the neurons 200-500 ms into the trial, condition 1 the
    second half 500-800 ms in (bins 20-50 and 50-80 of 120); every neuron is excited by the
    covariate through a decaying filter over ``n_input_lags`` bins; weak random coupling and a
    refractory self-history; about 8 Hz.

    Returns
    -------
    SpikingNetwork
        ``n_conditions=2``, ``n_inputs=1``, smooth drive of ``n_bins // 10`` bumps.
    """
    n_recorded = check_positive_int(n_recorded, "n_recorded")
    network = SpikingNetwork(
        n_recorded,
        n_lags=3,
        n_bins=n_bins,
        drive="smooth",
        n_drive_basis=n_bins // 10,
        n_conditions=2,
        n_inputs=1,
        n_input_lags=n_input_lags,
        seed=seed,
    )
    generator = torch.Generator().manual_seed(seed)
    bumps = gaussian_bumps(n_bins // 10, n_bins)  # (n_bins, n_basis)
    centres = bumps.argmax(dim=0).float() / n_bins  # where each bump peaks, fraction of a trial
    half = n_recorded // 2
    with torch.no_grad():
        network.bias.fill_(-3.2)
        network.drive_weights.zero_()
        first = ((centres > 0.16) & (centres < 0.42)).float()
        second = ((centres > 0.42) & (centres < 0.67)).float()
        network.drive_weights[0, :, :half] = 1.4 * first[:, None]
        network.drive_weights[1, :, half:] = 1.4 * second[:, None]
        decay = torch.exp(-torch.arange(n_input_lags, dtype=torch.float32))
        network.input_filters.copy_((0.8 * decay)[:, None, None].expand_as(network.input_filters))
        weights = torch.randn(network.coupling_weights.shape, generator=generator) * 0.15
        weights[:, range(n_recorded), range(n_recorded)] = -2.0  # refractory
        network.coupling_weights.copy_(weights)
    return network


@dataclass(frozen=True)
class Session:
    """A synthetic session and its truth.

    Attributes
    ----------
    block : neo.Block
        One continuous Segment: SpikeTrains (``unit_id``), the Event ``stim_on`` (labels: the
        conditions), the AnalogSignal ``running_speed`` (1 kHz).
    trials : SpikeData
        The simulated trials themselves (counts, conditions, covariates), what cutting the block
        around ``stim_on`` with ``window=(-pre, trial - pre)`` must give.
    network : SpikingNetwork
        The network that produced them.
    pre : pq.Quantity
        Time from a trial's start to its event.
    """

    block: neo.Block
    trials: SpikeData
    network: SpikingNetwork
    pre: pq.Quantity


def synthetic_session(
    n_trials: int = 200,
    network: SpikingNetwork | None = None,
    bin_size: pq.Quantity = 10 * pq.ms,
    pre: pq.Quantity = 200 * pq.ms,
    gap: pq.Quantity = 300 * pq.ms,
    seed: int = 1,
) -> Session:
    """Simulate ``n_trials`` trials of alternating conditions and lay them out as one session.

    Trial k lasts ``network.n_bins`` bins; it starts at ``k * (trial + gap)``, its event
    ``stim_on`` comes ``pre`` later; the covariate is a smooth positive signal (a running speed)
    in each trial, 0 in the gaps, sampled at 1 kHz (constant within a bin, so averaging onto the
    bins gives it back exactly). Spikes lie at the centres of their bins.

    Returns
    -------
    Session
    """
    n_trials = check_positive_int(n_trials, "n_trials")
    network = session_network() if network is None else network
    n_bins, step = network.n_bins, float(bin_size.rescale("s").magnitude)
    generator = torch.Generator().manual_seed(seed)
    codes = torch.arange(n_trials) % 2
    smooth = torch.nn.functional.avg_pool1d(
        torch.randn(n_trials, 1, n_bins + 19, generator=generator), 20, stride=1
    )
    speed = torch.nn.functional.softplus(2.0 * smooth).transpose(1, 2)  # (n_trials, n_bins, 1)
    spikes = simulate(
        network, n_trials, n_bins, inputs=speed, conditions=codes, seed=seed, requires_grad=False
    ).spikes
    labels = [CONDITIONS[int(code)] for code in codes]
    trials = SpikeData(
        spikes.double(),
        bin_size,
        t_start=-pre,
        t_stop=n_bins * bin_size - pre,
        unit_ids=[f"unit {j}" for j in range(network.n_neurons)],
        conditions=labels,
        covariates=speed.double(),
        covariate_names=["running_speed"],
    )
    period = n_bins * step + float(gap.rescale("s").magnitude)
    block = _session_block(trials, spikes.numpy(), speed.numpy(), period, step)
    return Session(block=block, trials=trials, network=network, pre=pre)


def _session_block(
    trials: SpikeData, spikes: np.ndarray, speed: np.ndarray, period: float, step: float
) -> neo.Block:
    """One continuous Segment of the trials laid end to end, ``period`` seconds apart."""
    n_trials, n_bins, n_units = spikes.shape
    starts = np.arange(n_trials) * period
    duration = n_trials * period
    segment = neo.Segment(name="session")
    for j in range(n_units):
        k, t = np.nonzero(spikes[:, :, j])
        times = np.sort(starts[k] + (t + 0.5) * step)
        train = neo.SpikeTrain(times * pq.s, t_stop=duration * pq.s, name=f"unit {j}")
        train.annotate(unit_id=f"unit {j}")
        segment.spiketrains.append(train)
    pre = float(-trials.t_start.rescale("s").magnitude)
    labels = np.array(trials.conditions, dtype="U")
    segment.events.append(neo.Event((starts + pre) * pq.s, labels=labels, name="stim_on"))
    per_ms = round(step * 1000)
    signal = np.zeros(round(duration * 1000))
    for k, start in enumerate(starts):
        first = round(start * 1000)
        signal[first : first + n_bins * per_ms] = np.repeat(speed[k, :, 0], per_ms)
    segment.analogsignals.append(
        neo.AnalogSignal(
            signal[:, None], units="cm/s", sampling_rate=1 * pq.kHz, name="running_speed"
        )
    )
    block = neo.Block(name="synthetic session")
    block.segments.append(segment)
    block.check_relationships()
    return block
