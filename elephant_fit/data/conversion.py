"""Neo <-> tensor adapters.

:func:`from_neo` bins spike trains exactly like Elephant; :func:`to_neo` turns counts back into a
Neo Block.

Binning follows ``elephant.conversion.BinnedSpikeTrain`` (see :mod:`elephant_fit.data._binning`); all spikes
of all trials are binned in one vectorised pass.
"""

from __future__ import annotations

import copy
import datetime
import os
import warnings
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import neo
import numpy as np
import quantities as pq
import torch
from elephant.trials import Trials, TrialsFromBlock
from neo.core.spiketrainlist import SpikeTrainList

from .._io import atomic_path, safe_pickle_load
from .._memory import check_memory
from .._quantities import unit_key
from .._validation import check_time_quantity, describe
from ..errors import ArgumentTypeError, ArgumentValueError, UnsafeFileError
from ._binning import bin_spike_times, n_bins_for_window
from .spikedata import SpikeData

__all__ = ["from_neo", "read_block", "to_neo"]

#: Annotation keys that hold our own bookkeeping (or an IO's) rather than user metadata.
_RESERVED_KEYS = frozenset({"unit_id", "hidden", "nix_name"})
#: Annotations tried, in order, to match units across trials when ``unit_key`` is None.
_DEFAULT_UNIT_KEYS = ("unit_id", "channel_id")

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


# ---------------------------------------------------------------------------------------- reading
def read_block(path: str | os.PathLike, *, trust_pickle: bool = False) -> neo.Block:
    """Read the first Block of a file with ``neo.io`` (NIX, NWB, pickle, Matlab, ...).

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    trust_pickle : bool, optional
        Pickles (``.pkl``, ``.pickle``) are read by default with an allow-list: the file may name
        only neo, quantities, numpy, ``datetime`` and builtin objects, so reading it never runs
        code of the file's choosing (genuine Neo pickles, such as those of ``neo.io.PickleIO`` and
        :func:`write_block`, read as before). True reads pickles with ``neo.io.PickleIO`` and the
        plain ``pickle`` module, which runs whatever code the file names: only for files you trust
        that hold other classes.

    Returns
    -------
    neo.Block
        The first Block in the file.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    UnsafeFileError
        If a pickle names a class or function outside the allow-list (nothing of it is run).
    ValueError
        If no ``neo.io`` class can read it.
    """
    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(
            f"Expected `obj` to be an existing file, but {str(file)!r} does not exist."
        )
    if not isinstance(trust_pickle, bool):
        raise ArgumentTypeError(
            f"Expected `trust_pickle` to be True or False, but got {describe(trust_pickle)}."
        )
    try:
        candidates = neo.io.list_candidate_ios(str(file))
    except (ValueError, OSError):
        candidates = []
    if not candidates:
        raise ArgumentValueError(
            f"neo.io has no reader for {str(file)!r} (unknown file extension)."
        )
    errors = []
    for io_class in dict.fromkeys(candidates):
        try:
            return _read_with(io_class, file, trust_pickle)
        except UnsafeFileError:
            raise
        except Exception as exc:
            errors.append(f"{io_class.__name__}: {type(exc).__name__}: {exc}")
    raise ArgumentValueError(f"neo.io could not read {str(file)!r}. " + "; ".join(errors))


#: File suffix -> neo.io class name and constructor keywords, for :func:`write_block`.
_WRITERS = {
    ".pkl": ("PickleIO", {}),
    ".pickle": ("PickleIO", {}),
    ".nix": ("NixIO", {"mode": "ow"}),
    ".h5": ("NixIO", {"mode": "ow"}),
    ".mat": ("NeoMatlabIO", {}),
    ".nwb": ("NWBIO", {"mode": "w"}),
}


def write_block(block: neo.Block, path: str | os.PathLike) -> Path:
    """Write a Block with the ``neo.io`` class that its suffix names (.pkl, .nix, .mat, .nwb).

    Parameters
    ----------
    block : neo.Block
        The Block.
    path : str or os.PathLike
        The file; an existing file is replaced atomically: the Block is written to a temporary
        file in the same folder, flushed to disk, then renamed over ``path``, so a failed write
        (full disk, file-size limit, an error in the writer) leaves the previous file intact.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ValueError
        For an unknown suffix, or when the writer is not installed (e.g. nixio, pynwb).

    Warns
    -----
    UserWarning
        For ``.nwb``, naming the Segment, SpikeTrain and Group annotations that neo's NWB writer
        does not store (spike times, unit names and trial windows are kept). The file's session
        start is the Block's ``rec_datetime``, else now. For ``.nix``, naming the annotations that
        NIX cannot store as they are (dicts, sets, nested lists or arrays: neo's NIX writer keeps a
        dict's keys only and drops nested containers). ``block`` itself is not modified.
    """
    file = Path(path)
    name, kwargs = _writer_for(file)
    if name == "NWBIO":
        kwargs = {**kwargs, **_nwb_session(block)}
        block = copy.deepcopy(block)  # neo's NWB writer names unnamed objects in place
    elif name == "NixIO":
        _check_nix_annotations(block)
    writer_class = getattr(neo.io, name)
    with atomic_path(file) as temporary:
        try:
            writer = writer_class(str(temporary), **kwargs)
        except (ImportError, ModuleNotFoundError) as exc:
            raise ArgumentValueError(
                f"Writing {file.suffix} files needs an optional package: {exc}."
            ) from exc
        try:
            with warnings.catch_warnings():
                # neo's NWBIO calls pynwb.validate the deprecated way; not the user's concern
                warnings.filterwarnings("ignore", "validate: Using positional", FutureWarning)
                writer.write_block(block)
        finally:
            close = getattr(writer, "close", None)
            if callable(close):
                close()
    return file


def _writer_for(path: str | os.PathLike) -> tuple[str, dict[str, Any]]:
    """The ``neo.io`` class name and keywords that :func:`write_block` uses for ``path``'s suffix.

    Raises
    ------
    ArgumentValueError
        For a suffix that no writer handles.
    """
    file = Path(path)
    if file.suffix.lower() not in _WRITERS:
        raise ArgumentValueError(
            f"Expected a file name ending in one of {sorted(_WRITERS)}, but got {str(file)!r}."
        )
    return _WRITERS[file.suffix.lower()]


def _nix_lossy(value: Any) -> str | None:
    """Why NIX cannot store an annotation value as it is (None if it can)."""
    if value is None:
        return "None"
    if isinstance(value, dict):
        return "a dict"
    if isinstance(value, (set, frozenset)):
        return "a set"
    if isinstance(value, np.ndarray) and value.ndim != 1:
        return None if value.ndim == 0 else "a multidimensional array"
    if isinstance(value, (list, tuple, np.ndarray)):
        for item in value:
            if item is None or (
                isinstance(item, Iterable) and not isinstance(item, (str, bytes, pq.Quantity))
            ):
                return "a nested container" if item is not None else "a list holding None"
            if isinstance(item, pq.Quantity) and item.ndim > 0:
                return "a nested container"
    return None


def _check_nix_annotations(block: neo.Block) -> None:
    """Warn about annotations that neo's NIX writer changes; refuse those it cannot write at all.

    neo's NIX writer stores a dict as the list of its keys, drops a list of lists (or dicts) with a
    log message only, turns sets into lists, and fails on None with an obscure TypeError.
    """
    objects: list[tuple[str, Any]] = [("Block", block)]
    for segment in block.segments:
        objects.append(("Segment", segment))
        for kind in (
            "spiketrains",
            "analogsignals",
            "irregularlysampledsignals",
            "events",
            "epochs",
        ):
            for child in getattr(segment, kind, []):
                objects.append((type(child).__name__, child))
    groups = list(block.groups)
    while groups:
        group = groups.pop()
        objects.append(("Group", group))
        groups.extend(getattr(group, "groups", []))
    lossy: dict[str, str] = {}
    for kind, obj in objects:
        for key, value in obj.annotations.items():
            reason = _nix_lossy(value)
            if reason is not None:
                lossy.setdefault(f"{kind} {key!r}", reason)
    unwritable = sorted(name for name, reason in lossy.items() if reason.endswith("None"))
    if unwritable:
        raise ArgumentValueError(
            "NIX cannot store None annotations: "
            + ", ".join(unwritable)
            + ". Remove them, or write .pkl to keep them."
        )
    if lossy:
        warnings.warn(
            "NIX does not store these annotations as they are: "
            + ", ".join(f"{name} ({reason})" for name, reason in sorted(lossy.items()))
            + " (a dict keeps its keys only, nested containers are dropped, sets become lists). "
            "Write .pkl to keep them.",
            UserWarning,
            stacklevel=3,
        )


def _nwb_session(block: neo.Block) -> dict[str, Any]:
    """NWBIO keywords for ``block``; warns about the annotations that neo's NWB writer drops.

    NWB requires a session start: the recording time, else now (a simulation's session).
    neo's NWBIO keeps spike times, names (our unit ids), t_start/t_stop and Block-level NWB
    fields, but not Segment, SpikeTrain or Group annotations (trial conditions, ``hidden``).
    """
    trains = [st for seg in block.segments for st in seg.spiketrains]
    dropped = sorted(
        {f"SpikeTrain {key!r}" for st in trains for key in _nwb_lost(st)}
        | {f"Segment {key!r}" for seg in block.segments for key in seg.annotations}
        | {f"Group {key!r}" for group in block.groups for key in _nwb_lost(group)}
    )
    if dropped:
        warnings.warn(
            "neo's NWB writer does not store these annotations: "
            + ", ".join(dropped)
            + ". Write .nix or .pkl to keep them.",
            UserWarning,
            stacklevel=3,
        )
    if "session_start_time" in block.annotations:
        return {}
    return {
        "session_start_time": block.rec_datetime or datetime.datetime.now(datetime.timezone.utc)
    }


def _nwb_lost(obj: neo.SpikeTrain | neo.Group) -> list[str]:
    """Annotation keys of ``obj`` that an NWB file loses (a ``unit_id`` equal to the name survives)."""
    return [
        key
        for key, value in obj.annotations.items()
        if key != "nwb_group" and not (key == "unit_id" and str(value) == obj.name)
    ]


def _read_with(io_class: type, file: Path, trust_pickle: bool = False) -> neo.Block:
    """Read the first Block of ``file`` with one ``neo.io`` class, closing it afterwards.

    Pickles are read with the allow-list of :func:`elephant_fit._io.safe_pickle_load` unless
    ``trust_pickle``.
    """
    if io_class is neo.io.PickleIO and not trust_pickle:
        block = safe_pickle_load(file)
        if not isinstance(block, neo.Block):
            raise ArgumentValueError("the file holds no neo.Block")
        return block
    kwargs = {"mode": "ro"} if io_class.__name__ == "NixIO" else {}
    reader = io_class(str(file), **kwargs)
    try:
        block = reader.read_block(lazy=False)
    finally:
        close = getattr(reader, "close", None)
        if callable(close):
            close()
    if not isinstance(block, neo.Block):
        raise ArgumentValueError("the file holds no neo.Block")
    return block


# ---------------------------------------------------------------------------------------- input
def _clean(annotations: dict) -> dict:
    """Copy of ``annotations`` without reserved keys."""
    return {k: v for k, v in annotations.items() if k not in _RESERVED_KEYS}


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
        ordered, ids, annotations, hidden = _match_by_groups(trials, unit_groups)
        return _Collected(
            ordered,
            ids,
            annotations,
            hidden,
            tuple(_clean(a) for a in trial_annotations),
            _clean(block.annotations),
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
    key_name, key = _unit_key_function(trials, unit_key)
    if key is None:
        ordered = _match_by_position(trials)
        ids = tuple(range(len(trials[0])))
    else:
        ordered, ids = _match_by_key(trials, key, key_name)
    first = ordered[0]
    return _Collected(
        ordered,
        ids,
        tuple(_clean(st.annotations) for st in first),
        np.array([bool(st.annotations.get("hidden", False)) for st in first], dtype=bool),
        tuple(_clean(a) for a in trial_annotations),
        _clean(annotations),
    )


def _unit_key_function(
    trials: list[list[neo.SpikeTrain]], unit_key: str | None
) -> tuple[str, Callable[[neo.SpikeTrain], Any] | None]:
    """Choose how units are identified: ``unit_key``, a default annotation, the name, or position."""
    trains = [st for trial in trials for st in trial]
    if unit_key is not None:
        if not isinstance(unit_key, str):
            raise ArgumentTypeError(
                f"Expected `unit_key` to be an annotation name, but got {describe(unit_key)}."
            )
        for k, trial in enumerate(trials):
            for st in trial:
                if unit_key not in st.annotations:
                    raise ArgumentValueError(
                        f"Expected every spike train to carry the annotation `unit_key`={unit_key!r}, "
                        f"but a train in trial {k} (name {st.name!r}) lacks it."
                    )
        return f"annotation {unit_key!r}", lambda st: st.annotations[unit_key]
    for name in _DEFAULT_UNIT_KEYS:
        if all(name in st.annotations for st in trains):
            return f"annotation {name!r}", lambda st, name=name: st.annotations[name]
    if all(st.name for st in trains):
        return "name", lambda st: st.name
    return "position", None


def _match_by_position(trials: list[list[neo.SpikeTrain]]) -> list[list[neo.SpikeTrain]]:
    """Units are the i-th train of every trial: all trials must hold the same number."""
    n_units = len(trials[0])
    for k, trial in enumerate(trials):
        if len(trial) != n_units:
            raise ArgumentValueError(
                "Expected every trial to hold the same units, but trial 0 has "
                f"{n_units} spike trains and trial {k} has {len(trial)} (units are matched by "
                "position because the trains carry no 'unit_id', 'channel_id' or name; pass "
                "`unit_key` to match by another annotation)."
            )
    return trials


def _match_by_key(
    trials: list[list[neo.SpikeTrain]], key: Callable[[neo.SpikeTrain], Any], key_name: str
) -> tuple[list[list[neo.SpikeTrain]], tuple]:
    """Reorder every trial's trains into the unit order of trial 0."""
    reference = _trial_ids(trials[0], key, key_name, 0)
    lookup = {uid: j for j, uid in enumerate(reference)}
    ordered = []
    for k, trial in enumerate(trials):
        ids = _trial_ids(trial, key, key_name, k)
        if ids == reference:
            ordered.append(trial)
            continue
        missing = [u for u in reference if u not in set(ids)]
        extra = [u for u in ids if u not in lookup]
        if missing or extra:
            raise ArgumentValueError(
                f"Expected every trial to hold the same units (matched by {key_name}), but trial {k} "
                f"lacks {missing[:5]} and has {extra[:5]} that trial 0 does not."
            )
        positions = {uid: i for i, uid in enumerate(ids)}
        ordered.append([trial[positions[u]] for u in reference])
    return ordered, tuple(reference)


def _trial_ids(trial: list[neo.SpikeTrain], key: Callable, key_name: str, k: int) -> list[Hashable]:
    """Unit ids of one trial's trains; each must be hashable and appear once."""
    ids = [key(st) for st in trial]
    try:
        unique = set(ids)
    except TypeError as exc:
        raise ArgumentTypeError(
            f"Expected unit ids ({key_name}) to be hashable, but got {ids[:5]}."
        ) from exc
    if len(unique) != len(ids):
        seen: set = set()
        twice = next(u for u in ids if u in seen or seen.add(u))
        raise ArgumentValueError(
            f"Expected each unit once per trial, but trial {k} holds unit {twice!r} ({key_name}) twice."
        )
    return ids


def _match_by_groups(
    trials: list[list[neo.SpikeTrain]], groups: list[neo.Group]
) -> tuple[list[list[neo.SpikeTrain]], tuple, tuple, np.ndarray]:
    """Units are the Groups of the Block: every train belongs to one Group, once per trial."""
    owner: dict[int, int] = {}
    for g, group in enumerate(groups):
        for st in group.spiketrains:
            if id(st) in owner and owner[id(st)] != g:
                raise ArgumentValueError(
                    f"Expected each spike train to belong to one neo.Group, but train {st.name!r} is "
                    f"in groups {groups[owner[id(st)]].name!r} and {group.name!r}; pass `unit_key` "
                    "to match units by annotation instead."
                )
            owner[id(st)] = g
    ordered = []
    for k, trial in enumerate(trials):
        by_group: dict[int, neo.SpikeTrain] = {}
        for st in trial:
            g = owner.get(id(st))
            if g is None:
                raise ArgumentValueError(
                    f"Expected every spike train to belong to a unit neo.Group, but train {st.name!r} "
                    f"of trial {k} belongs to none; pass `unit_key` to match units by annotation."
                )
            if g in by_group:
                raise ArgumentValueError(
                    f"Expected each unit once per trial, but trial {k} holds two trains of group "
                    f"{groups[g].name!r}."
                )
            by_group[g] = st
        if len(by_group) != len(groups):
            lacking = [groups[g].name for g in range(len(groups)) if g not in by_group]
            raise ArgumentValueError(
                f"Expected every trial to hold every unit, but trial {k} lacks groups {lacking[:5]}."
            )
        ordered.append([by_group[g] for g in range(len(groups))])
    ids = _group_ids(groups)
    annotations = tuple(_clean(group.annotations) for group in groups)
    hidden = np.array([bool(group.annotations.get("hidden", False)) for group in groups])
    return ordered, ids, annotations, hidden


def _group_ids(groups: list[neo.Group]) -> tuple:
    """Unit ids of unit Groups: their ``unit_id`` annotations, else their names, else positions.

    ``unit_id`` annotations name units explicitly, so two groups with the same one are refused
    (as two trains of one unit in a trial are). Duplicate or missing names are only labels: the
    groups are then numbered 0..n-1.
    """
    annotated = [g for g, group in enumerate(groups) if "unit_id" in group.annotations]
    seen: dict[Any, int] = {}
    for g in annotated:
        uid = groups[g].annotations["unit_id"]
        try:
            first = seen.setdefault(uid, g)
        except TypeError:
            raise ArgumentTypeError(
                f"Expected the `unit_id` annotation of group {groups[g].name!r} to be hashable, "
                f"but got {describe(uid)}."
            ) from None
        if first != g:
            raise ArgumentValueError(
                f"Expected each unit neo.Group to carry its own `unit_id`, but groups "
                f"{groups[first].name!r} (position {first}) and {groups[g].name!r} (position {g}) "
                f"both carry unit_id={uid!r}; give them distinct ids, or pass `unit_key` to match "
                "units by a spike-train annotation instead."
            )
    ids = tuple(
        group.annotations.get("unit_id", group.name if group.name else g)
        for g, group in enumerate(groups)
    )
    if len(set(ids)) != len(ids):
        ids = tuple(range(len(groups)))
    return ids


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


# ---------------------------------------------------------------------------------------- output
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
        ``from_neo(to_neo(data), data.bin_size) == data``.

    Examples
    --------
    >>> import quantities as pq, torch
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
    trains = np.split(times, np.cumsum(per_train)[:-1])
    block = neo.Block(name="elephant-fit")
    block.annotate(**data.annotations)
    groups = [_unit_group(data, j) for j in range(data.n_neurons)]
    for k in range(data.n_trials):
        segment = neo.Segment(name=f"trial {k}")
        segment.annotate(**data.trial_annotations[k])
        for j, group in enumerate(groups):
            st = neo.SpikeTrain(
                trains[k * data.n_neurons + j],
                t_start=data.t_start,
                t_stop=data.t_stop,
                units=data.units,
                name=str(data.unit_ids[j]),
            )
            st.annotate(**group.annotations)
            st.segment = segment
            segment.spiketrains.append(st)
            group.add(st)
        segment.block = block
        block.segments.append(segment)
    for group in groups:
        group.block = block
        block.groups.append(group)
    return block


def _unit_group(data: SpikeData, j: int) -> neo.Group:
    """The Group of unit ``j``, annotated with its id, annotations and hidden flag."""
    group = neo.Group(name=str(data.unit_ids[j]), allowed_types=[neo.SpikeTrain])
    group.annotate(unit_id=data.unit_ids[j], **data.unit_annotations[j])
    if data.hidden[j]:
        group.annotate(hidden=True)
    return group
