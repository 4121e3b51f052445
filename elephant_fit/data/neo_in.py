"""Neo in: spike trains of repeated trials from Neo objects, binned exactly like Elephant.

:func:`from_neo` collects the spike trains of every trial from a Block, Segment, list of lists,
``elephant.trials.Trials`` object or file, matches units across trials (see
:mod:`elephant_fit.data._matching`), or cuts trials from continuous Segments around Events or
Epochs (:mod:`elephant_fit.data.trials`), reads conditions and covariates (AnalogSignals, see
:mod:`elephant_fit.data._covariates`) and bins all trials in one vectorised pass
(:mod:`elephant_fit.data._bin_trains`), as ``elephant.conversion.BinnedSpikeTrain`` does.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import neo
import numpy as np
import quantities as pq
import torch

from .._validation import check_time_quantity, describe
from ..errors import ArgumentTypeError, ArgumentValueError
from ._bin_trains import bin_cut, bin_trials
from ._collect import Collected, collect
from ._covariates import (
    SignalRequest,
    bin_signal,
    check_covariate_specs,
    check_same_rate,
    find_signal,
)
from ._trial_fields import TrialFields, check_condition_label
from .spikedata import SpikeData
from .trials import CutTrials, cut_trials, keep_mask

if TYPE_CHECKING:  # Elephant takes 1.3-2 s to import and is not needed to read Neo objects
    from elephant.trials import Trials

__all__ = ["NeoInput", "from_neo"]

#: What :func:`from_neo` accepts as its first argument (a type alias): a ``neo.Block`` (one
#: Segment per trial), a ``neo.Segment`` (one trial, or a continuous recording to cut trials
#: from), a ``neo.SpikeTrain`` or a sequence of them (one trial, one train per unit), a sequence
#: of such sequences (trials x units), an ``elephant.trials.Trials`` object, or the path (str or
#: ``os.PathLike``) of a file that ``neo.io`` reads. Spike times are time quantities in any unit.
NeoInput: TypeAlias = (
    "neo.Block | neo.Segment | neo.SpikeTrain | Sequence[neo.SpikeTrain]"
    " | Sequence[Sequence[neo.SpikeTrain]] | Trials | str | os.PathLike"
)


def from_neo(
    obj: NeoInput,
    bin_size: pq.Quantity,
    t_start: pq.Quantity | None = None,
    t_stop: pq.Quantity | None = None,
    unit_key: str | None = None,
    binary: bool = False,
    *,
    trials: str | neo.Event | neo.Epoch | None = None,
    window: tuple[pq.Quantity, pq.Quantity] | pq.Quantity | None = None,
    condition: str | Callable[[dict], Any] | None = None,
    keep: Callable[[dict], bool] | Sequence[bool] | np.ndarray | None = None,
    drop: str | Sequence[str] = (),
    covariates: Sequence[str] | None = None,
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
    trials : str, neo.Event or neo.Epoch, optional
        Cut trials from continuous Segments: an Event name, an Event, an Epoch, or an Epoch name
        (e.g. an NWB trials table). Each event (or epoch start) is its trial's zero; the trial
        spans ``window`` around it. With an Epoch and no ``window``, the epochs themselves (they
        must last the same number of bins). Units are matched once, on the source Segments.
        Default None: the Segments are the trials (or, with a ``window`` length, consecutive
        windows of that length; the remainder is dropped with a warning).
    window : (pq.Quantity, pq.Quantity) or pq.Quantity, optional
        ``(start, stop)`` around each event, e.g. ``(-200 * pq.ms, 1 * pq.s)``: the trials'
        ``t_start`` and ``t_stop`` exactly, in the unit of ``start``. With ``trials=None``, one
        length. Bins are half-open: a spike exactly at a window's end is not counted.
    condition : str or callable, optional
        The condition of each trial: ``"labels"`` (the Event/Epoch labels), an array-annotation
        or annotation key, or a callable taking the trial's info dict (``segment``,
        ``event_time``, ``label``, the array annotations) and returning a str or int. Without
        ``trials``: a Segment annotation key or a callable on the Segment's annotations (plus
        ``segment``); default there: the Segment annotation ``condition`` when every Segment has
        one. Default None otherwise: one condition.
    keep : callable or boolean mask, optional
        Trials to keep: a callable on the same info dict, or a mask over the candidate trials.
    drop : str or sequence of str, optional
        ``"outside"`` and/or ``"overlapping"``: drop the trials whose windows reach outside the
        recording (spike trains and covariates) or overlap an earlier trial, with a warning that
        counts them, instead of raising.
    covariates : list of str, optional
        AnalogSignals of the Segments to average onto the bins, by name (``"name:channel"`` for
        one channel of a multichannel signal): each bin gets the mean of the samples in it, in
        the signal's units. Cut per trial like the spikes.
    max_memory : float, optional
        Refuse (:class:`~elephant_fit.errors.MemoryLimitError`) counts larger than this many bytes,
        before allocating them; default half the available memory.

    Returns
    -------
    SpikeData
        Counts of shape (n_trials, n_bins, n_neurons); the same numbers as
        ``BinnedSpikeTrain(trial_trains, bin_size, t_start=t_start, t_stop=t_stop).to_array()``
        for every trial. Unit ids come from the matching rule above, unit annotations from the
        unit's Group (or its train in the first trial), trial annotations from the Segments (or,
        for cut trials, where each came from: ``segment``, ``event_time`` in the data's time unit,
        ``label``, ``condition`` and the event's array annotations), and ``hidden`` from a
        ``hidden=True`` annotation. Cut trials equal ``neo.utils.cut_segment_by_epoch`` (with
        ``reset_time=True``) binned by ``BinnedSpikeTrain`` on the window's bins.

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

    Trials around the Events of a continuous recording:

    >>> segment = neo.Segment()
    >>> segment.spiketrains.append(neo.SpikeTrain([0.12, 0.31, 0.52] * pq.s, t_stop=1 * pq.s))
    >>> segment.events.append(neo.Event([0.1, 0.5] * pq.s, labels=["a", "b"], name="stim_on"))
    >>> cut = from_neo(segment, 10 * pq.ms, trials="stim_on", window=(0 * pq.ms, 100 * pq.ms),
    ...                condition="labels")
    >>> cut.counts.shape, cut.condition_labels, cut.counts[:, :, 0].sum(dim=1).tolist()
    (torch.Size([2, 10, 1]), ('a', 'b'), [1.0, 1.0])
    """
    bin_size = check_time_quantity(bin_size, "bin_size", positive=True)
    t_start = None if t_start is None else check_time_quantity(t_start, "t_start")
    t_stop = None if t_stop is None else check_time_quantity(t_stop, "t_stop")
    if not isinstance(dtype, torch.dtype) or dtype in (torch.bool,) or dtype.is_complex:
        raise ArgumentTypeError(
            f"Expected `dtype` to be a real torch dtype (e.g. torch.float32), but got {describe(dtype)}."
        )
    specs = check_covariate_specs(covariates)
    collected = collect(obj, unit_key)
    if trials is None and window is None:
        if drop:
            raise ArgumentValueError(
                f"Expected `drop` only with `trials` or `window`, but got {describe(drop)}."
            )
        _warn_if_continuous(collected)
        counts, axis = bin_trials(
            collected, bin_size, t_start, t_stop, tolerance, dtype, max_memory
        )
        conditions = _segment_conditions(collected, condition)
        values = _segment_covariates(collected, specs, axis, bin_size, counts.shape[1], tolerance)
        mask = keep_mask(keep, _segment_infos(collected)) if keep is not None else None
    else:
        if t_start is not None or t_stop is not None:
            raise ArgumentValueError(
                "Expected `window` rather than `t_start`/`t_stop` when cutting trials, but got "
                f"t_start={describe(t_start)}, t_stop={describe(t_stop)}."
            )
        cut = cut_trials(
            collected, bin_size, trials, window, condition, keep, drop, specs, tolerance
        )
        counts = bin_cut(cut.collected, cut.n_bins, bin_size, tolerance, dtype, max_memory)
        step = float(bin_size.rescale(cut.units).magnitude)
        axis = (step, cut.t_start, cut.t_stop, cut.units)
        collected, conditions, mask = cut.collected, cut.conditions, None
        values = _cut_covariates(cut, specs, bin_size, tolerance)
    if binary:
        counts = counts.clamp_(max=1)
    fields = TrialFields.check(
        conditions, values, [s.text for s in specs] if specs else None, *counts.shape[:2]
    )
    data = SpikeData._from_validated(
        counts,
        window=axis,
        unit_ids=collected.unit_ids,
        unit_annotations=collected.unit_annotations,
        trial_annotations=fields.annotate(
            tuple(dict(a) for a in collected.trial_annotations), strict=False
        ),
        hidden=collected.hidden,
        annotations=collected.annotations,
        trial_fields=fields,
    )
    return data if mask is None else data.select_trials(mask)


def _warn_if_continuous(collected: Collected) -> None:
    """Warn when one Segment with Events or Epochs is binned as one trial."""
    if len(collected.segments) != 1:
        return
    segment = collected.segments[0]
    names = [str(e.name) for e in segment.events] + [str(e.name) for e in segment.epochs]
    if names:
        warnings.warn(
            f"The data are one Segment, binned as one trial, but it holds Events/Epochs {names}: "
            "pass trials=<name> and window=(start, stop) to cut trials around them.",
            UserWarning,
            stacklevel=3,
        )


def _segment_infos(collected: Collected) -> list[dict]:
    """Info dicts of the trials when the Segments are the trials: annotations and position."""
    return [dict(a, segment=k) for k, a in enumerate(collected.trial_annotations)]


def _segment_conditions(collected: Collected, condition: Any) -> list | None:
    """Conditions of trials that are Segments: an annotation (default ``condition``) or callable."""
    infos = _segment_infos(collected)
    if callable(condition):
        return [
            check_condition_label(condition(info), f"trial {k}") for k, info in enumerate(infos)
        ]
    if condition is not None and not isinstance(condition, str):
        raise ArgumentTypeError(
            f"Expected `condition` to be a Segment annotation key or a callable, but got "
            f"{describe(condition)}."
        )
    key = "condition" if condition is None else condition
    lacking = [k for k, info in enumerate(infos) if key not in info]
    if condition is None and len(lacking) == len(infos):
        return None
    if lacking:
        raise ArgumentValueError(
            f"Expected every Segment (trial) to carry the annotation {key!r} (the condition), but "
            f"trials {lacking[:8]} lack it."
        )
    return [check_condition_label(info[key], f"trial {k}") for k, info in enumerate(infos)]


def _segment_covariates(
    collected: Collected,
    specs: list[SignalRequest],
    axis: tuple,
    bin_size: pq.Quantity,
    n_bins: int,
    tolerance: float | None,
) -> np.ndarray | None:
    """Covariates of trials that are Segments: (n_trials, n_bins, n_inputs), or None."""
    if not specs:
        return None
    if not collected.segments:
        raise ArgumentTypeError(
            "Expected `obj` to be a neo.Block, neo.Segment or file with `covariates` (they are "
            "AnalogSignals of its Segments), but got spike trains without a Segment."
        )
    t_start = pq.Quantity(axis[1], axis[3])
    where = [f"segment {k}" for k in range(len(collected.segments))]
    values = np.empty((len(collected.segments), n_bins, len(specs)))
    for i, spec in enumerate(specs):
        signals = [find_signal(s, spec, w) for s, w in zip(collected.segments, where, strict=True)]
        check_same_rate(signals, spec, where)
        for k, signal in enumerate(signals):
            label = f"covariate {spec.text!r} in {where[k]}"
            values[k, :, i] = bin_signal(signal, t_start, bin_size, n_bins, tolerance, label)
    return values


def _cut_covariates(
    cut: CutTrials, specs: list[SignalRequest], bin_size: pq.Quantity, tolerance: float | None
) -> np.ndarray | None:
    """Covariates of cut trials (signals from 0 at each window's start), or None."""
    if not specs:
        return None
    values = np.empty((len(cut.signals), cut.n_bins, len(specs)))
    zero = pq.Quantity(0.0, cut.units)
    for k, signals in enumerate(cut.signals):
        for i, (spec, signal) in enumerate(zip(specs, signals, strict=True)):
            label = f"covariate {spec.text!r} in trial {k}"
            values[k, :, i] = bin_signal(signal, zero, bin_size, cut.n_bins, tolerance, label)
    return values
