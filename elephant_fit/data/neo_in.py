"""Neo in: spike trains of repeated trials from Neo objects, binned exactly like Elephant.

:func:`from_neo` collects the spike trains of every trial from a Block, Segment, list of lists,
``elephant.trials.Trials`` object or file, matches units across trials (see
:mod:`elephant_fit.data._matching`), resolves the common window and bins all trials.

Binning follows ``elephant.conversion.BinnedSpikeTrain`` (see :mod:`elephant_fit.data._binning`); all spikes
of all trials are binned in one vectorised pass.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import neo
import numpy as np
import quantities as pq
import torch
from elephant.trials import Trials, TrialsFromBlock
from neo.core.spiketrainlist import SpikeTrainList

from .._memory import check_memory
from .._quantities import unit_key
from .._validation import check_time_quantity, describe
from ..errors import ArgumentTypeError, ArgumentValueError
from ._binning import bin_spike_times, n_bins_for_window
from ._matching import (
    clean_annotations,
    match_by_groups,
    match_by_key,
    match_by_position,
    unit_key_function,
)
from .files import read_block
from .spikedata import SpikeData

__all__ = ["NeoInput", "from_neo"]

NeoInput = (
    neo.Block
    | neo.Segment
    | neo.SpikeTrain
    | Sequence[neo.SpikeTrain]
    | Sequence[Sequence[neo.SpikeTrain]]
    | Trials
    | str
    | os.PathLike
)


@dataclass
class _Collected:
    """Spike trains ordered as (trial, unit), with their metadata, before binning."""

    trials: list[list[neo.SpikeTrain]]
    unit_ids: tuple
    unit_annotations: tuple
    hidden: np.ndarray
    trial_annotations: tuple
    annotations: dict


# ---------------------------------------------------------------------------------------- input
def _collect(obj: Any, unit_key: str | None) -> _Collected:
    """Dispatch on the input type and order every trial's spike trains by unit."""
    if isinstance(obj, (str, os.PathLike)):
        return _collect_block(read_block(obj), unit_key)
    if isinstance(obj, neo.Block):
        return _collect_block(obj, unit_key)
    if isinstance(obj, TrialsFromBlock):
        return _collect_block(obj.block, unit_key)
    if isinstance(obj, Trials):
        trials = [list(obj.get_spiketrains_from_trial_as_list(i)) for i in range(obj.n_trials)]
        return _collect_trials(trials, [{} for _ in trials], {}, unit_key)
    if isinstance(obj, neo.Segment):
        return _collect_trials([list(obj.spiketrains)], [obj.annotations], {}, unit_key)
    if isinstance(obj, neo.SpikeTrain):
        return _collect_trials([[obj]], [{}], {}, unit_key)
    if isinstance(obj, (list, tuple, SpikeTrainList)):
        return _collect_trials(_as_trial_lists(obj), [{} for _ in range(len(obj))], {}, unit_key)
    raise ArgumentTypeError(
        "Expected `obj` to be a neo.Block, neo.Segment, list of neo.SpikeTrain, list of lists of "
        "neo.SpikeTrain, elephant.trials.Trials or a path to a file neo.io can read, but got "
        f"{describe(obj)}."
    )


def _as_trial_lists(obj: Sequence) -> list[list[neo.SpikeTrain]]:
    """Interpret a list of SpikeTrains as one trial, a list of lists as trials x units."""
    if len(obj) == 0:
        raise ArgumentValueError("Expected `obj` to hold spike trains, but got an empty list.")
    if all(isinstance(item, neo.SpikeTrain) for item in obj):
        return [list(obj)]
    if all(isinstance(item, (list, tuple, SpikeTrainList)) for item in obj):
        trials = [list(item) for item in obj]
        for k, trial in enumerate(trials):
            bad = next((x for x in trial if not isinstance(x, neo.SpikeTrain)), None)
            if bad is not None:
                raise ArgumentTypeError(
                    f"Expected `obj[{k}]` to hold only neo.SpikeTrain objects, but it holds "
                    f"{describe(bad)}."
                )
        return trials
    raise ArgumentTypeError(
        "Expected `obj` to be a list of neo.SpikeTrain (one trial) or a list of lists of "
        f"neo.SpikeTrain (trials x units), but its items are {sorted({type(x).__name__ for x in obj})}."
    )


def _collect_block(block: neo.Block, unit_key: str | None) -> _Collected:
    """Order the trains of a Block (one Segment per trial) by unit."""
    if not block.segments:
        raise ArgumentValueError(
            "Expected `obj` to be a Block with one Segment per trial, but it has no Segment."
        )
    trials = [list(segment.spiketrains) for segment in block.segments]
    trial_annotations = [segment.annotations for segment in block.segments]
    unit_groups = [group for group in block.groups if len(group.spiketrains) > 0]
    if unit_key is None and unit_groups:
        _check_not_empty(trials)
        ordered, ids, annotations, hidden = match_by_groups(trials, unit_groups)
        return _Collected(
            ordered,
            ids,
            annotations,
            hidden,
            tuple(clean_annotations(a) for a in trial_annotations),
            clean_annotations(block.annotations),
        )
    return _collect_trials(trials, trial_annotations, block.annotations, unit_key)


def _check_not_empty(trials: list[list[neo.SpikeTrain]]) -> None:
    """Raise if a trial holds no spike train."""
    for k, trial in enumerate(trials):
        if not trial:
            raise ArgumentValueError(
                f"Expected every trial to hold spike trains, but trial {k} has none."
            )


def _collect_trials(
    trials: list[list[neo.SpikeTrain]],
    trial_annotations: Sequence[dict],
    annotations: dict,
    unit_key: str | None,
) -> _Collected:
    """Order trains by an annotation, by name or by position."""
    _check_not_empty(trials)
    key_name, key = unit_key_function(trials, unit_key)
    if key is None:
        ordered = match_by_position(trials)
        ids = tuple(range(len(trials[0])))
    else:
        ordered, ids = match_by_key(trials, key, key_name)
    first = ordered[0]
    return _Collected(
        ordered,
        ids,
        tuple(clean_annotations(st.annotations) for st in first),
        np.array([bool(st.annotations.get("hidden", False)) for st in first], dtype=bool),
        tuple(clean_annotations(a) for a in trial_annotations),
        clean_annotations(annotations),
    )


# ---------------------------------------------------------------------------------------- binning
@dataclass
class _Flat:
    """All spikes of all trains in one array, in a common time unit."""

    times: np.ndarray  # (n_spikes,)
    lengths: np.ndarray  # (n_trains,) number of spikes per train
    t_starts: np.ndarray  # (n_trains,)
    t_stops: np.ndarray  # (n_trains,)
    units: pq.Quantity


def _flatten(trains: list[neo.SpikeTrain]) -> _Flat:
    """Gather every train's times, rescaled to the first train's unit when units differ."""
    n_trains = len(trains)
    lengths = np.fromiter((len(st) for st in trains), dtype=np.int64, count=n_trains)
    times = np.concatenate([np.asarray(st, dtype=np.float64).reshape(-1) for st in trains])
    t_starts = np.fromiter((st.t_start.item() for st in trains), dtype=np.float64, count=n_trains)
    t_stops = np.fromiter((st.t_stop.item() for st in trains), dtype=np.float64, count=n_trains)
    keys = [unit_key(st) for st in trains]
    units = trains[0].units
    if len(set(keys)) > 1:
        factor_of = {
            key: float(pq.Quantity(1.0, st.dimensionality).rescale(units).magnitude)
            for key, st in zip(keys, trains, strict=True)
        }
        factors = np.array([factor_of[key] for key in keys])
        times = times * np.repeat(factors, lengths)
        t_starts = t_starts * factors
        t_stops = t_stops * factors
    return _Flat(times, lengths, t_starts, t_stops, units)


def _resolve_window(
    flat: _Flat,
    t_start: pq.Quantity | None,
    t_stop: pq.Quantity | None,
    tolerance: float | None,
    locate: Callable[[int], str],
) -> tuple[float, float]:
    """Common window in the data's unit: the trains' own (which must agree) or the one given."""
    tol = 0.0 if tolerance is None else tolerance
    edges = []
    for name, given, own, inside in (
        ("t_start", t_start, flat.t_starts, lambda v, own: v >= own.max() - tol),
        ("t_stop", t_stop, flat.t_stops, lambda v, own: v <= own.min() + tol),
    ):
        if given is None:
            differ = np.flatnonzero(np.abs(own - own[0]) > tol)
            if differ.size:
                raise ArgumentValueError(
                    f"Expected all spike trains to share {name}, but {locate(0)} has {own[0]} and "
                    f"{locate(int(differ[0]))} has {own[differ[0]]} ({flat.units.dimensionality}); "
                    "pass a common window with `t_start` and `t_stop`, or align the trials first "
                    "(e.g. SpikeTrain.time_shift)."
                )
            edges.append(float(own[0]))
            continue
        value = float(given.rescale(flat.units).magnitude)
        if not inside(value, own):
            bound = own.max() if name == "t_start" else own.min()
            raise ArgumentValueError(
                f"Expected `{name}` to lie inside every spike train's [t_start, t_stop], but got "
                f"{describe(given)} while the trains share only up to {bound} "
                f"{flat.units.dimensionality}."
            )
        edges.append(value)
    return edges[0], edges[1]


def from_neo(
    obj: NeoInput,
    bin_size: pq.Quantity,
    t_start: pq.Quantity | None = None,
    t_stop: pq.Quantity | None = None,
    unit_key: str | None = None,
    binary: bool = False,
    *,
    tolerance: float | None = 1e-8,
    dtype: torch.dtype = torch.float32,
    max_memory: float | None = None,
) -> SpikeData:
    """Bin Neo spike trains of repeated trials into a :class:`SpikeData`.

    Parameters
    ----------
    obj : neo.Block, neo.Segment, list of neo.SpikeTrain, list of lists, Trials or path
        A Block (one Segment per trial), a Segment (one trial), a list of SpikeTrains (one trial),
        a list of lists (trials x units), an ``elephant.trials.Trials`` object, or the path of a
        file ``neo.io`` reads (NIX, NWB, pickle, Matlab; its first Block is used).
    bin_size : pq.Quantity
        Bin width (time quantity).
    t_start, t_stop : pq.Quantity, optional
        Common window of all trials. Default: the trains' own ``t_start``/``t_stop``, which must
        then agree across all trains (within ``tolerance``). A window given here must lie inside
        every train's; spikes outside it are ignored with a :class:`SpikesOutsideWindowWarning`.
    unit_key : str, optional
        Annotation that identifies a unit across trials. Default: units are the Block's
        ``neo.Group`` objects if it has groups of spike trains; else the annotation ``unit_id``,
        else ``channel_id`` (when every train carries it), else the train's name, else the
        position in the trial.
    binary : bool, optional
        Clip counts at 1 (as ``BinnedSpikeTrain.to_bool_array``).
    tolerance : float or None, optional
        ``BinnedSpikeTrain``'s rounding tolerance, in bins (None disables it).
    dtype : torch.dtype, optional
        Dtype of the counts. float32 holds counts exactly up to 2**24.
    max_memory : float, optional
        Refuse (:class:`~elephant_fit.errors.MemoryLimitError`) counts larger than this many bytes,
        before allocating them; default half the available memory.

    Returns
    -------
    SpikeData
        Counts of shape (n_trials, n_bins, n_neurons); the same numbers as
        ``BinnedSpikeTrain(trial_trains, bin_size, t_start=t_start, t_stop=t_stop).to_array()``
        for every trial. Unit ids come from the matching rule above, unit annotations from the
        unit's Group (or its train in the first trial), trial annotations from the Segments, and
        ``hidden`` from a ``hidden=True`` annotation.

    Warns
    -----
    UserWarning
        Elephant's "Binning discarded N last spike(s)" warning for spikes at or after the end of
        the last bin (e.g. exactly at ``t_stop``).
    SpikesOutsideWindowWarning
        When a window narrower than the trains' is given and spikes fall outside it.

    Notes
    -----
    Unlike Elephant, trains in different time units are accepted: every time is rescaled to the
    unit of the first train (trial 0, unit 0) before binning, and ``bin_size``, ``t_start`` and
    ``t_stop`` of the result are expressed in that unit. The input objects are never modified.

    Examples
    --------
    >>> import neo, quantities as pq
    >>> trials = [
    ...     [neo.SpikeTrain([1, 12, 13] * pq.ms, t_stop=50 * pq.ms),
    ...      neo.SpikeTrain([40] * pq.ms, t_stop=50 * pq.ms)],
    ...     [neo.SpikeTrain([] * pq.ms, t_stop=50 * pq.ms),
    ...      neo.SpikeTrain([5, 45] * pq.ms, t_stop=50 * pq.ms)],
    ... ]
    >>> data = from_neo(trials, 10 * pq.ms)
    >>> data.counts.shape  # (n_trials, n_bins, n_neurons)
    torch.Size([2, 5, 2])
    >>> data.counts[0, :, 0].tolist()
    [1.0, 2.0, 0.0, 0.0, 0.0]
    """
    bin_size = check_time_quantity(bin_size, "bin_size", positive=True)
    t_start = None if t_start is None else check_time_quantity(t_start, "t_start")
    t_stop = None if t_stop is None else check_time_quantity(t_stop, "t_stop")
    if not isinstance(dtype, torch.dtype) or dtype in (torch.bool,) or dtype.is_complex:
        raise ArgumentTypeError(
            f"Expected `dtype` to be a real torch dtype (e.g. torch.float32), but got {describe(dtype)}."
        )
    collected = _collect(obj, unit_key)
    counts, window = _bin_trials(collected, bin_size, t_start, t_stop, tolerance, dtype, max_memory)
    if binary:
        counts = counts.clamp_(max=1)
    return SpikeData._from_validated(
        counts,
        window=window,
        unit_ids=collected.unit_ids,
        unit_annotations=collected.unit_annotations,
        trial_annotations=collected.trial_annotations,
        hidden=collected.hidden,
        annotations=collected.annotations,
    )


def _zeros(size: int, dtype: torch.dtype) -> torch.Tensor:
    """Zero tensor of ``size`` elements; via numpy where it can, which is faster for large arrays.

    np.zeros takes zeroed pages from the OS lazily (calloc): about twice as fast as torch.zeros
    followed by the scatter, for the large dense arrays of fine bins.
    """
    try:
        numpy_dtype = torch.empty(0, dtype=dtype).numpy().dtype
    except TypeError:  # e.g. bfloat16 has no numpy equivalent
        return torch.zeros(size, dtype=dtype)
    return torch.from_numpy(np.zeros(size, dtype=numpy_dtype))


def _bin_trials(
    collected: _Collected,
    bin_size: pq.Quantity,
    t_start: pq.Quantity | None,
    t_stop: pq.Quantity | None,
    tolerance: float | None,
    dtype: torch.dtype,
    max_memory: float | None = None,
) -> tuple[torch.Tensor, tuple[float, float, float, pq.Quantity]]:
    """Bin all trains of all trials in one pass; counts of shape (n_trials, n_bins, n_units)."""
    n_trials, n_units = len(collected.trials), len(collected.unit_ids)
    flat = _flatten([st for trial in collected.trials for st in trial])

    def locate(train: int) -> str:
        return f"trial {train // n_units} unit {collected.unit_ids[train % n_units]!r}"

    if not np.isfinite(flat.times).all():
        first_bad = np.flatnonzero(~np.isfinite(flat.times))[0]
        bad = int(np.searchsorted(np.cumsum(flat.lengths), first_bad, side="right"))
        raise ArgumentValueError(
            f"Expected finite spike times, but {locate(bad)} holds NaN or inf."
        )
    start, stop = _resolve_window(flat, t_start, t_stop, tolerance, locate)
    step = float(bin_size.rescale(flat.units).magnitude)
    if stop <= start:
        raise ArgumentValueError(
            f"Expected `t_stop` > `t_start`, but got t_start={start}, t_stop={stop}."
        )
    n_bins = n_bins_for_window(start, stop, step, tolerance)
    itemsize = torch.empty((), dtype=dtype).element_size()
    check_memory(
        float(n_trials) * n_bins * n_units * itemsize,
        f"binning {n_trials} trials x {n_bins} bins x {n_units} units",
        max_memory,
    )
    if n_bins < 1:
        raise ArgumentValueError(
            f"Expected the window [{start}, {stop}] {flat.units.dimensionality} to hold at least "
            f"one bin, but it is shorter than `bin_size` ({describe(bin_size)})."
        )
    explicit = t_start is not None or t_stop is not None
    kept, bins = bin_spike_times(
        flat.times, start, stop, step, n_bins, tolerance, warn_outside=explicit, stacklevel=3
    )
    # Offset of each train's (trial k, unit j) cell in the flat (n_trials, n_bins, n_units) array.
    trains = np.arange(n_trials * n_units)
    offsets = (trains // n_units) * (n_bins * n_units) + trains % n_units
    flat_index = np.repeat(offsets, flat.lengths)
    if kept is not None:
        flat_index = flat_index[kept]
    flat_index += bins * n_units
    counts = _zeros(n_trials * n_bins * n_units, dtype)
    index = torch.from_numpy(flat_index)
    counts.index_add_(0, index, torch.ones(index.shape[0], dtype=dtype))
    window = (step, start, stop, flat.units)
    return counts.reshape(n_trials, n_bins, n_units), window
