"""Files: read and write Neo Blocks with ``neo.io`` (NIX, NWB, pickle, Matlab).

:func:`read_block` reads the first Block of a file (pickles with the allow-list of
:mod:`elephant_fit.data._pickle`); :func:`write_block` writes a Block atomically with the ``neo.io``
class its suffix names, warning about the annotations that NIX and NWB do not store as they are.
"""

from __future__ import annotations

import copy
import datetime
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import neo
import numpy as np
import quantities as pq

from .._io import atomic_path
from .._validation import describe
from ..errors import ArgumentTypeError, ArgumentValueError, UnsafeFileError
from ._pickle import safe_pickle_load

__all__ = ["read_block", "write_block"]


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

    Examples
    --------
    >>> import os, tempfile
    >>> import neo, quantities as pq
    >>> segment = neo.Segment()
    >>> segment.spiketrains.append(neo.SpikeTrain([1, 5] * pq.ms, t_stop=10 * pq.ms))
    >>> segment.spiketrains.append(neo.SpikeTrain([3] * pq.ms, t_stop=10 * pq.ms))
    >>> block = neo.Block()
    >>> block.segments.append(segment)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_block(block, os.path.join(folder, "recording.pkl"))
    ...     read = read_block(path)
    >>> len(read.segments), len(read.segments[0].spiketrains)  # 1 trial, 2 units
    (1, 2)
    >>> train = read.segments[0].spiketrains[0]
    >>> train.magnitude.tolist(), train.units.dimensionality.string  # spike times and their unit
    ([1.0, 5.0], 'ms')
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

    Examples
    --------
    >>> import os, tempfile
    >>> import neo, quantities as pq
    >>> segment = neo.Segment()
    >>> segment.spiketrains.append(neo.SpikeTrain([1, 5] * pq.ms, t_stop=10 * pq.ms))
    >>> segment.spiketrains.append(neo.SpikeTrain([3] * pq.ms, t_stop=10 * pq.ms))
    >>> block = neo.Block()
    >>> block.segments.append(segment)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_block(block, os.path.join(folder, "recording.pkl"))
    ...     print(path.name, path.exists())
    ...     read = read_block(path)
    recording.pkl True
    >>> len(read.segments), len(read.segments[0].spiketrains)  # 1 trial, 2 units
    (1, 2)
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

    Pickles are read with the allow-list of :func:`elephant_fit.data._pickle.safe_pickle_load` unless
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
