"""Trials from a continuous recording: windows around Events, Epochs, or consecutive windows.

:func:`cut_trials` (called by :func:`elephant_fit.data.neo_in.from_neo` when ``trials`` or
``window`` is given) turns the Segments of a Block into trials with neo's own tools: the Event
(or Epoch) is found with ``neo.utils.get_events`` / ``get_epochs``, the trial windows become an
Epoch with ``neo.utils.add_epoch`` and the Segment is cut with ``neo.utils.cut_segment_by_epoch``
(``reset_time=True``). What neo's cutting leaves out or gets slightly wrong is handled here:

* the Event's labels do not reach the cut Segments (only array annotations do): every trial's
  label, time and array annotations are carried alongside, into ``trial_annotations``;
* the cut trains are new objects outside the Block's Groups: they keep the unit order of the
  source Segment's trains, matched once by :func:`elephant_fit.data._collect.collect`;
* ``reset_time=True`` leaves float noise in each cut train's ``t_start``/``t_stop`` (e.g.
  1.2499999999999998) and keeps a late-starting train's offset: the bins are laid on the window
  itself (``n_bins`` from ``window``, starting at the cut's zero), never on the cut trains' edges;
* the slice keeps a spike exactly at the window's end: the bins are half-open, as in
  ``BinnedSpikeTrain``, so such a spike (the first of the next consecutive window) is not counted;
* an epoch reaching past an AnalogSignal makes neo raise: windows are checked against the
  recording (spike trains and requested covariates) first.

The event time is each trial's zero: a trial spans ``[window[0], window[1]]`` around it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import neo
import numpy as np
import quantities as pq
from neo.utils import add_epoch, cut_segment_by_epoch, get_epochs, get_events

from .._validation import check_time_quantity, describe
from ..errors import ArgumentTypeError, ArgumentValueError
from ._binning import n_bins_for_window
from ._collect import Collected
from ._covariates import SignalRequest, find_signal
from ._trial_fields import check_condition_label

__all__ = ["CutTrials", "TrialInfo", "cut_trials"]

#: What ``drop`` may name.
DROP_CHOICES = ("outside", "overlapping")
TrialInfo = dict[str, Any]
_ZERO = "_zero"  # private key of an info dict: the trial's zero as the marker's Quantity


@dataclass
class CutTrials:
    """Cut trials, before binning: trains relative to each window's start, and their fields."""

    collected: Collected  # trains (times from 0 = window start), units, trial annotations
    t_start: float  # window edges relative to the event, in ``units``
    t_stop: float
    units: pq.Quantity
    n_bins: int
    conditions: tuple | None
    signals: list[list[neo.AnalogSignal]]  # per trial, the cut covariate signals (same order)


@dataclass
class _Marks:
    """The candidate trials of one Segment: zero times, labels, array annotations."""

    segment: int
    times: pq.Quantity  # (n,) each trial's zero
    labels: list
    array_annotations: dict
    annotations: dict
    durations: pq.Quantity | None = None  # an Epoch's own durations (trials without window)


# ---------------------------------------------------------------------------------------- marks
def _event_names(segments: list[neo.Segment]) -> str:
    """The Event and Epoch names of the data, for error messages."""
    events = sorted({str(e.name) for s in segments for e in s.events})
    epochs = sorted({str(e.name) for s in segments for e in s.epochs})
    return f"Events {events} and Epochs {epochs}"


def _find_marker(segment: neo.Segment, trials: Any, k: int, segments: list) -> Any:
    """The Event or Epoch of ``segment`` that ``trials`` names (or is)."""
    if isinstance(trials, (neo.Event, neo.Epoch)):
        owner = trials.segment
        if len(segments) == 1 or owner is segment or owner is None:
            return trials if len(segments) == 1 or owner is segment else None
        return None
    found = get_events(segment, name=trials) or get_epochs(segment, name=trials)
    if len(found) > 1:
        raise ArgumentValueError(
            f"Expected `trials`={trials!r} to name one Event or Epoch, but segment {k} holds "
            f"{len(found)} of that name."
        )
    return found[0] if found else None


def _plain(value: Any) -> Any:
    """A numpy scalar as a Python scalar (annotations stay readable and comparable)."""
    return value.item() if isinstance(value, np.generic) else value


def _marks(collected: Collected, trials: Any, window: Any) -> list[_Marks]:
    """The candidate trials of every Segment, in recording order."""
    segments = collected.segments
    if trials is None:
        return [_consecutive(collected, k, window) for k in range(len(segments))]
    if not isinstance(trials, (str, neo.Event, neo.Epoch)):
        raise ArgumentTypeError(
            "Expected `trials` to be an Event or Epoch name, a neo.Event or a neo.Epoch, but got "
            f"{describe(trials)}."
        )
    marks = []
    for k, segment in enumerate(segments):
        marker = _find_marker(segment, trials, k, segments)
        if marker is None:
            continue
        labels = [_plain(x) for x in np.asarray(marker.labels).reshape(-1)]
        if len(labels) != len(marker):
            labels = [None] * len(marker)
        durations = marker.durations if isinstance(marker, neo.Epoch) else None
        array_annotations = {
            key: [_plain(v) for v in values] for key, values in marker.array_annotations.items()
        }
        annotations = {key: v for key, v in marker.annotations.items() if key != "nix_name"}
        marks.append(_Marks(k, marker.times, labels, array_annotations, annotations, durations))
    if not marks:
        raise ArgumentValueError(
            f"Expected `trials` to name an Event or Epoch of the data, but got {trials!r}; the "
            f"data hold {_event_names(segments)}."
        )
    return marks


def _recording(collected: Collected, k: int) -> tuple[pq.Quantity, pq.Quantity]:
    """Extent of segment ``k``'s spike trains: earliest t_start, latest t_stop."""
    trains = collected.trials[k]
    return min(st.t_start for st in trains), max(st.t_stop for st in trains)


def _consecutive(collected: Collected, k: int, window: pq.Quantity) -> _Marks:
    """Consecutive windows of length ``window`` over segment ``k`` (the remainder dropped)."""
    t_start, t_stop = _recording(collected, k)
    units = t_start.units
    length = float(window.rescale(units).magnitude)
    start, stop = float(t_start.magnitude), float(t_stop.rescale(units).magnitude)
    n = n_bins_for_window(start, stop, length, 1e-8)
    if n < 1:
        raise ArgumentValueError(
            f"Expected `window` to be at most the recording's duration, but got "
            f"{describe(window)} for segment {k}, which lasts {stop - start} "
            f"{units.dimensionality.string}."
        )
    remainder = stop - (start + n * length)
    if remainder > 1e-8 * length:
        warnings.warn(
            f"Segment {k}: {n} windows of {describe(window)}; the last "
            f"{remainder:.6g} {units.dimensionality.string} of the recording are dropped.",
            UserWarning,
            stacklevel=5,
        )
    times = pq.Quantity(start + np.arange(n) * length, units)
    return _Marks(k, times, [None] * n, {}, {})


# ---------------------------------------------------------------------------------------- trials
def _infos(marks: list[_Marks], units: pq.Quantity) -> list[TrialInfo]:
    """One info dict per candidate trial: segment, event time (in ``units``), label, annotations."""
    infos = []
    for mark in marks:
        times = mark.times.rescale(units).magnitude
        for i, time in enumerate(times):
            info = {key: values[i] for key, values in mark.array_annotations.items()}
            info.update(segment=mark.segment, event_time=float(time), label=mark.labels[i])
            info[_ZERO] = mark.times[i]  # in the marker's own unit, as neo adds pre/post to it
            infos.append(info)
    return infos


def _public(info: TrialInfo) -> TrialInfo:
    """A copy of an info dict for the user's callables: without private keys and None values."""
    return {key: v for key, v in info.items() if key != _ZERO and v is not None}


def _conditions(condition: Any, infos: list[TrialInfo], marks: list[_Marks]) -> list | None:
    """The condition of every candidate trial (None: one condition)."""
    if condition is None:
        return None
    if callable(condition):
        values = [condition(_public(info)) for info in infos]
        return [
            check_condition_label(v, f"trial {i} (from `condition`)") for i, v in enumerate(values)
        ]
    if not isinstance(condition, str):
        raise ArgumentTypeError(
            "Expected `condition` to be 'labels', an (array-)annotation key or a callable, but got "
            f"{describe(condition)}."
        )
    key = "label" if condition == "labels" else condition
    values = []
    for mark in marks:
        n = len(mark.times)
        if key in mark.array_annotations or key == "label":
            values += mark.labels if key == "label" else mark.array_annotations[key]
        elif key in mark.annotations:
            values += [mark.annotations[key]] * n
        else:
            keys = sorted(mark.array_annotations) + sorted(mark.annotations)
            raise ArgumentValueError(
                f"Expected `condition` to be 'labels' or an annotation key of the Event/Epoch, but "
                f"got {condition!r}; its keys are {keys}."
            )
    return [check_condition_label(v, f"trial {i}") for i, v in enumerate(values)]


def keep_mask(keep: Any, infos: list[TrialInfo]) -> np.ndarray:
    """Boolean mask of the trials to keep, from a callable on the info dicts or a mask."""
    n = len(infos)
    if keep is None:
        return np.ones(n, dtype=bool)
    if callable(keep):
        return np.array([bool(keep(_public(info))) for info in infos], dtype=bool)
    mask = np.asarray(keep)
    if mask.dtype != bool or mask.shape != (n,):
        raise ArgumentValueError(
            f"Expected `keep` to be a callable or a boolean mask of shape ({n},) (one per "
            f"candidate trial), but got {describe(keep)}."
        )
    return mask.copy()


def _check_drop(drop: Any) -> frozenset:
    """``drop`` as a set of names from :data:`DROP_CHOICES`."""
    items = [drop] if isinstance(drop, str) else list(drop or ())
    bad = [d for d in items if d not in DROP_CHOICES]
    if bad:
        raise ArgumentValueError(
            f"Expected `drop` to name some of {list(DROP_CHOICES)}, but got {describe(drop)}."
        )
    return frozenset(items)


def _extent(
    collected: Collected, k: int, signals: list[neo.AnalogSignal], units: pq.Quantity
) -> tuple[float, float]:
    """The recorded span of segment ``k``: spike trains' extent within every covariate's span."""
    t_start, t_stop = _recording(collected, k)
    starts = [t_start] + [s.t_start for s in signals]
    stops = [t_stop] + [s.t_stop for s in signals]
    return (
        max(float(t.rescale(units).magnitude) for t in starts),
        min(float(t.rescale(units).magnitude) for t in stops),
    )


def _bad_windows(
    infos: list[TrialInfo],
    bounds: np.ndarray,
    extents: dict[int, tuple[float, float]],
    eps: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the windows outside their segment's recording and overlapping an earlier one."""
    segments = np.array([info["segment"] for info in infos])
    low = np.array([extents[s][0] for s in segments]) - eps
    high = np.array([extents[s][1] for s in segments]) + eps
    outside = (bounds[:, 0] < low) | (bounds[:, 1] > high)
    overlapping = np.zeros(len(infos), dtype=bool)
    for s in np.unique(segments):
        members = np.flatnonzero((segments == s) & ~outside)
        order = members[np.argsort(bounds[members, 0], kind="stable")]
        end = -np.inf
        for i in order:
            if bounds[i, 0] < end - eps:
                overlapping[i] = True
            else:
                end = bounds[i, 1]
    return outside, overlapping


def _refuse_or_drop(
    bad: np.ndarray,
    what: str,
    drop: frozenset,
    bounds: np.ndarray,
    units: pq.Quantity,
    name: str,
) -> None:
    """Raise for trials flagged ``bad``, or warn that they are dropped when ``drop`` says so."""
    if not bad.any():
        return
    listed = np.flatnonzero(bad)
    unit = units.dimensionality.string
    shown = ", ".join(f"{i} [{bounds[i, 0]:.6g}, {bounds[i, 1]:.6g}] {unit}" for i in listed[:5])
    if name in drop:
        warnings.warn(
            f"Dropped {listed.size} trial(s) whose windows are {what}: {shown}"
            + (" ..." if listed.size > 5 else "")
            + ".",
            UserWarning,
            stacklevel=5,
        )
        return
    raise ArgumentValueError(
        f"Expected every trial window to be inside the recording and not to overlap another, but "
        f"{listed.size} trial(s) are {what}: {shown}"
        + (" ..." if listed.size > 5 else "")
        + f"; pass drop={name!r} to drop them, or another `window`."
    )


# ---------------------------------------------------------------------------------------- windows
def resolve_window(trials: Any, window: Any, bin_size: pq.Quantity) -> tuple | pq.Quantity | None:
    """Validate ``window``: a (start, stop) pair around events, or one length (no ``trials``)."""
    if trials is None:
        length = check_time_quantity(window, "window", positive=True)
        if length < bin_size:
            raise ArgumentValueError(
                f"Expected `window` to hold at least one bin of {describe(bin_size)}, but got "
                f"{describe(window)}."
            )
        return length
    if window is None:
        if not isinstance(trials, neo.Epoch) and not isinstance(trials, str):
            raise ArgumentValueError(
                "Expected `window` (e.g. (-200 * pq.ms, 1 * pq.s)) with an Event, but got None."
            )
        return None
    if not isinstance(window, (tuple, list)) or len(window) != 2:
        raise ArgumentTypeError(
            "Expected `window` to be a (start, stop) pair of time quantities around each event "
            f"(e.g. (-200 * pq.ms, 1 * pq.s)), but got {describe(window)}."
        )
    start = check_time_quantity(window[0], "window[0]")
    stop = check_time_quantity(window[1], "window[1]").rescale(start.units)
    if float(stop.magnitude) - float(start.magnitude) < float(bin_size.rescale(start.units)):
        raise ArgumentValueError(
            f"Expected `window` to span at least one bin of {describe(bin_size)}, but got "
            f"[{describe(window[0])}, {describe(window[1])}]."
        )
    return start, stop


def _epoch_window(
    marks: list[_Marks], bin_size: pq.Quantity, tolerance: float | None
) -> tuple[pq.Quantity, pq.Quantity]:
    """Trials that are the Epochs themselves: equal durations after snapping to bins."""
    if any(m.durations is None for m in marks):
        raise ArgumentValueError(
            "Expected `window` (e.g. (-200 * pq.ms, 1 * pq.s)) with an Event, but got None."
        )
    units = marks[0].durations.units
    step = float(bin_size.rescale(units).magnitude)
    durations = np.concatenate([m.durations.rescale(units).magnitude for m in marks])
    n_bins = np.array([n_bins_for_window(0.0, d, step, tolerance) for d in durations])
    if np.unique(n_bins).size > 1:
        raise ArgumentValueError(
            f"Expected the epochs to last the same number of bins of {describe(bin_size)}, but "
            f"they last {sorted(set(n_bins.tolist()))[:6]} bins; pass a common window, e.g. "
            f"window=(0 * pq.s, {durations.min():.6g} * pq.{units.dimensionality.string})."
        )
    return pq.Quantity(0.0, units), pq.Quantity(n_bins[0] * step, units)


def _spanning_views(
    trains: list[neo.SpikeTrain], t_start: pq.Quantity, t_stop: pq.Quantity
) -> list[neo.SpikeTrain]:
    """Views of ``trains`` that all cover the segment's recording ``[t_start, t_stop]``.

    A train that starts late (or stops early) would otherwise keep its own edge in the cut
    (neo refuses a window wholly outside it); the inputs are not modified.
    """
    views = []
    for st in trains:
        view = st.view(type(st))
        view.t_start, view.t_stop = t_start.rescale(st.units), t_stop.rescale(st.units)
        views.append(view)
    return views


def _cut_segment(
    collected: Collected,
    k: int,
    zeros: pq.Quantity,
    window: tuple[pq.Quantity, pq.Quantity],
    signals: list[neo.AnalogSignal],
) -> list[neo.Segment]:
    """Cut segment ``k`` around ``zeros`` with ``add_epoch`` and ``cut_segment_by_epoch``."""
    segment = neo.Segment(name=f"segment {k}")
    segment.spiketrains.extend(_spanning_views(collected.trials[k], *_recording(collected, k)))
    segment.analogsignals.extend(
        [s.view(type(s)) for s in signals]
    )  # a list: ObjectList ignores a generator
    event = neo.Event(times=zeros, name="trial zero")
    epoch = add_epoch(segment, event, pre=window[0], post=window[1], attach_result=False)
    return cut_segment_by_epoch(segment, epoch, reset_time=True)


def _checked_trials(
    collected: Collected,
    infos: list[TrialInfo],
    window: tuple[float, float],
    units: pq.Quantity,
    signals: dict[int, list[neo.AnalogSignal]],
    mask: np.ndarray,
    drop: frozenset,
    eps: float,
) -> np.ndarray:
    """Positions of the kept trials whose windows lie inside the recording and do not overlap."""
    extents = {k: _extent(collected, k, signals[k], units) for k in signals}
    times = np.array([info["event_time"] for info in infos])
    bounds = np.stack([times + window[0], times + window[1]], axis=1)
    kept = np.flatnonzero(mask)
    sub = [infos[i] for i in kept]
    outside, _ = _bad_windows(sub, bounds[kept], extents, eps)
    _refuse_or_drop(outside, "outside the recording", drop, bounds[kept], units, "outside")
    kept = kept[~outside]
    _, overlapping = _bad_windows([infos[i] for i in kept], bounds[kept], extents, eps)
    _refuse_or_drop(
        overlapping, "overlapping an earlier one", drop, bounds[kept], units, "overlapping"
    )
    kept = kept[~overlapping]
    if kept.size == 0:
        raise ArgumentValueError("Expected at least one trial, but `keep` and `drop` left none.")
    return kept


def cut_trials(
    collected: Collected,
    bin_size: pq.Quantity,
    trials: str | neo.Event | neo.Epoch | None,
    window: Any,
    condition: str | Callable[[TrialInfo], Any] | None,
    keep: Callable[[TrialInfo], bool] | Sequence[bool] | np.ndarray | None,
    drop: str | Sequence[str],
    specs: list[SignalRequest],
    tolerance: float | None,
) -> CutTrials:
    """Trials of the Segments in ``collected``, cut with neo (see the module docstring).

    Returns the cut trains of every kept trial in the unit order of ``collected``, with times
    from 0 at the window's start, their trial annotations (``segment``, ``event_time`` in the
    window's unit, ``label``, ``condition``, the Event's array annotations), conditions and cut
    covariate signals. Every check runs before anything is cut.
    """
    if not collected.segments:
        raise ArgumentTypeError(
            "Expected `obj` to be a neo.Block, neo.Segment or file when `trials` or `window` is "
            "given (trials are cut from Segments), but got spike trains without a Segment."
        )
    drop = _check_drop(drop)
    resolved = resolve_window(trials, window, bin_size)
    marks = _marks(collected, trials, resolved)
    if trials is None:
        start, stop = pq.Quantity(0.0, resolved.units), resolved
    elif resolved is None:
        start, stop = _epoch_window(marks, bin_size, tolerance)
    else:
        start, stop = resolved
    units = start.units
    w0, w1 = float(start.magnitude), float(stop.rescale(units).magnitude)
    step = float(bin_size.rescale(units).magnitude)
    infos = _infos(marks, units)
    conditions = _conditions(condition, infos, marks)
    mask = keep_mask(keep, infos)
    segments = collected.segments
    signals = {
        m.segment: [
            find_signal(segments[m.segment], spec, f"segment {m.segment}") for spec in specs
        ]
        for m in marks
    }
    eps = (tolerance or 0.0) * step
    kept = _checked_trials(collected, infos, (w0, w1), units, signals, mask, drop, eps)
    cut_trains, cut_signals, annotations = [], [], []
    for k in dict.fromkeys(infos[i]["segment"] for i in kept):  # kept is in segment order
        here = [i for i in kept if infos[i]["segment"] == k]
        first = infos[here[0]][_ZERO]
        zeros = pq.Quantity(
            [infos[i][_ZERO].rescale(first.units).magnitude for i in here], first.units
        )
        for piece in _cut_segment(collected, k, zeros, (start, stop), signals[k]):
            cut_trains.append(list(piece.spiketrains))
            cut_signals.append(list(piece.analogsignals))
        for i in here:
            info = _public(infos[i])
            if conditions is not None:
                info["condition"] = conditions[i]
            annotations.append(info)
    cut = Collected(
        cut_trains,
        collected.unit_ids,
        collected.unit_annotations,
        collected.hidden,
        tuple(annotations),
        collected.annotations,
    )
    n_bins = n_bins_for_window(w0, w1, step, tolerance)
    chosen = None if conditions is None else tuple(conditions[i] for i in kept)
    return CutTrials(cut, w0, w1, units, n_bins, chosen, cut_signals)
