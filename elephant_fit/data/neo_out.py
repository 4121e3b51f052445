"""Neo out: binned counts back into a Neo Block of spike trains.

:func:`to_neo` places ``c`` spikes inside a bin holding ``c`` counts, so that
:func:`elephant_fit.data.neo_in.from_neo` bins them back to the same counts; unit ids, unit and
trial annotations and hidden flags travel as names, annotations and ``neo.Group`` objects; each
trial's condition as the Segment annotation ``condition`` and each covariate as an AnalogSignal.
"""

from __future__ import annotations

import neo
import numpy as np
import quantities as pq
import torch

from .._validation import describe
from ..errors import ArgumentTypeError, ArgumentValueError
from .spikedata import SpikeData

__all__ = ["to_neo"]


def _spike_times(data: SpikeData) -> tuple[np.ndarray, np.ndarray]:
    """Spike times that re-bin to ``data.counts``, grouped by (trial, neuron).

    Returns
    -------
    times : np.ndarray
        Shape (n_spikes,): for each (trial, neuron) in order, its spikes in time order. ``c``
        spikes in one bin sit at fractions 1/(c+1), ..., c/(c+1) of the bin, away from its edges.
    per_train : np.ndarray
        Shape (n_trials * n_neurons,): number of spikes of each train.
    """
    counts = data.counts.detach().to("cpu", torch.int64).numpy()
    by_train = np.ascontiguousarray(counts.transpose(0, 2, 1))  # (n_trials, n_neurons, n_bins)
    flat = by_train.reshape(-1)
    nonzero = np.flatnonzero(flat)
    repeats = flat[nonzero]
    spike_bins = np.repeat(nonzero % data.n_bins, repeats)
    first = np.cumsum(repeats) - repeats
    rank = np.arange(spike_bins.shape[0]) - np.repeat(first, repeats)
    fraction = (rank + 1) / (np.repeat(repeats, repeats) + 1)
    step, start = float(data.bin_size.magnitude), float(data.t_start.magnitude)
    times = start + (spike_bins + fraction) * step
    return times, by_train.sum(axis=2).reshape(-1)


def to_neo(data: SpikeData, include_hidden: bool = False) -> neo.Block:
    """Turn binned counts into a Neo Block of spike trains.

    Parameters
    ----------
    data : SpikeData
        Counts of shape (n_trials, n_bins, n_neurons).
    include_hidden : bool, optional
        Include hidden neurons (annotated ``hidden=True``); by default only recorded ones.

    Returns
    -------
    neo.Block
        One Segment per trial (annotated with the trial annotations), one SpikeTrain per neuron
        (``t_start``, ``t_stop`` and units of ``data``; name = str(unit id); annotations
        ``unit_id`` and the unit annotations), and one ``neo.Group`` per unit linking its trains
        across trials. A count of ``c`` in a bin gives ``c`` spikes inside that bin, so
        ``from_neo(to_neo(data), data.bin_size) == data``. With conditions, each Segment is
        annotated ``condition``; each covariate is a dimensionless AnalogSignal of its Segment
        (name = covariate name, ``sampling_period = bin_size``, ``t_start`` = the trial's), one
        sample per bin, which ``from_neo(..., covariates=data.covariate_names)`` reads back.

    Examples
    --------
    >>> import quantities as pq, torch
    >>> from elephant_fit.data.neo_in import from_neo
    >>> data = SpikeData(torch.tensor([[[1.0], [0.0], [2.0]]]), 10 * pq.ms)
    >>> block = to_neo(data)
    >>> len(block.segments), len(block.segments[0].spiketrains)
    (1, 1)
    >>> from_neo(block, data.bin_size) == data
    True
    """
    if not isinstance(data, SpikeData):
        raise ArgumentTypeError(f"Expected `data` to be a SpikeData, but got {describe(data)}.")
    if not include_hidden and data.n_hidden:
        if data.n_recorded == 0:
            raise ArgumentValueError("`data` holds hidden neurons only: pass include_hidden=True.")
        data = data.recorded()
    times, per_train = _spike_times(data)
    ends = np.cumsum(per_train)
    starts = ends - per_train
    # one constructor call for all spikes: each train is a copy of its slice (Neo's constructor
    # costs ~0.1 ms per train, mostly quantities' unit comparisons)
    every_spike = neo.SpikeTrain(times, t_start=data.t_start, t_stop=data.t_stop, units=data.units)
    block = neo.Block(name="elephant-fit")
    block.annotate(**data.annotations)
    groups = [_unit_group(data, j) for j in range(data.n_neurons)]
    names = [str(unit_id) for unit_id in data.unit_ids]
    members: list[list[neo.SpikeTrain]] = [[] for _ in groups]
    for k in range(data.n_trials):
        segment = neo.Segment(name=f"trial {k}")
        segment.annotate(**data.trial_annotations[k])
        if data.conditions is not None:
            segment.annotate(condition=data.conditions[k])
        _add_covariates(data, k, segment)
        segment_trains = []
        for j, group in enumerate(groups):
            index = k * data.n_neurons + j
            st = _sliced_train(every_spike, starts[index], ends[index])
            st.name = names[j]
            st.annotate(**group.annotations)
            st.segment = segment
            segment_trains.append(st)
            members[j].append(st)
        segment.spiketrains.extend(segment_trains)
        segment.block = block
        block.segments.append(segment)
    # one extend per list: Neo's append checks membership against the whole list (quadratic)
    for group, unit_trains in zip(groups, members, strict=True):
        group.spiketrains.extend(unit_trains)
    for group in groups:
        group.block = block
        block.groups.append(group)
    return block


def _sliced_train(every_spike: neo.SpikeTrain, start: int, stop: int) -> neo.SpikeTrain:
    """Spikes ``start:stop`` of ``every_spike`` as a SpikeTrain of their own.

    Equal to ``neo.SpikeTrain(times[start:stop], t_start, t_stop, units)``: slicing keeps the
    units, ``t_start`` and ``t_stop`` (Neo's documented rule) without the constructor's checks,
    already done for all spikes; the copy owns its data, and its annotations, ``t_start`` and
    ``t_stop`` are its own objects, not shared with the other trains.
    """
    train = every_spike[start:stop].copy()
    train.annotations = {}
    train.t_start = every_spike.t_start.copy()
    train.t_stop = every_spike.t_stop.copy()
    return train


def _unit_group(data: SpikeData, j: int) -> neo.Group:
    """The Group of unit ``j``, annotated with its id, annotations and hidden flag."""
    group = neo.Group(name=str(data.unit_ids[j]), allowed_types=[neo.SpikeTrain])
    group.annotate(unit_id=data.unit_ids[j], **data.unit_annotations[j])
    if data.hidden[j]:
        group.annotate(hidden=True)
    return group


def _add_covariates(data: SpikeData, k: int, segment: neo.Segment) -> None:
    """Append trial ``k``'s covariates to ``segment``, one AnalogSignal per covariate."""
    if data.covariates is None:
        return
    values = data.covariates[k].detach().cpu().numpy()  # (n_bins, n_inputs)
    for i, name in enumerate(data.covariate_names):
        signal = neo.AnalogSignal(
            values[:, i : i + 1].copy(),
            units=pq.dimensionless,
            sampling_period=data.bin_size,
            t_start=data.t_start,
            name=name,
        )
        signal.segment = segment
        segment.analogsignals.append(signal)
