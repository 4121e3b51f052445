"""Collecting the spike trains of repeated trials from Neo objects, ordered by unit.

:func:`collect` takes a Block (one Segment per trial), Segment, list of lists, ``elephant.trials``
object or file and returns every trial's trains in one unit order (see
:mod:`elephant_fit.data._matching`), with unit ids and annotations, before binning.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import neo
import numpy as np
from neo.core.spiketrainlist import SpikeTrainList

from .._validation import describe
from ..errors import ArgumentTypeError, ArgumentValueError
from ._matching import (
    clean_annotations,
    match_by_groups,
    match_by_key,
    match_by_position,
    unit_key_function,
)
from .files import read_block

__all__ = ["Collected", "collect", "collect_block"]


@dataclass
class Collected:
    """Spike trains ordered as (trial, unit), with their metadata, before binning."""

    trials: list[list[neo.SpikeTrain]]
    unit_ids: tuple
    unit_annotations: tuple
    hidden: np.ndarray
    trial_annotations: tuple
    annotations: dict
    segments: list = field(default_factory=list)  # the source Segments (Block/Segment input)


# ---------------------------------------------------------------------------------------- input
def collect(obj: Any, unit_key: str | None) -> Collected:
    """Dispatch on the input type and order every trial's spike trains by unit."""
    if isinstance(obj, (str, os.PathLike)):
        return collect_block(read_block(obj), unit_key)
    if isinstance(obj, neo.Block):
        return collect_block(obj, unit_key)
    elephant_trials = sys.modules.get("elephant.trials")  # loaded if obj is one of its Trials
    if elephant_trials is not None and isinstance(obj, elephant_trials.TrialsFromBlock):
        return collect_block(obj.block, unit_key)
    if elephant_trials is not None and isinstance(obj, elephant_trials.Trials):
        trials = [list(obj.get_spiketrains_from_trial_as_list(i)) for i in range(obj.n_trials)]
        return _collect_trials(trials, [{} for _ in trials], {}, unit_key)
    if isinstance(obj, neo.Segment):
        collected = _collect_trials([list(obj.spiketrains)], [obj.annotations], {}, unit_key)
        collected.segments = [obj]
        return collected
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


def collect_block(block: neo.Block, unit_key: str | None) -> Collected:
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
        return Collected(
            ordered,
            ids,
            annotations,
            hidden,
            tuple(clean_annotations(a) for a in trial_annotations),
            clean_annotations(block.annotations),
            list(block.segments),
        )
    collected = _collect_trials(trials, trial_annotations, block.annotations, unit_key)
    collected.segments = list(block.segments)
    return collected


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
) -> Collected:
    """Order trains by an annotation, by name or by position."""
    _check_not_empty(trials)
    key_name, key = unit_key_function(trials, unit_key)
    if key is None:
        ordered = match_by_position(trials)
        ids = tuple(range(len(trials[0])))
    else:
        ordered, ids = match_by_key(trials, key, key_name)
    first = ordered[0]
    return Collected(
        ordered,
        ids,
        tuple(clean_annotations(st.annotations) for st in first),
        np.array([bool(st.annotations.get("hidden", False)) for st in first], dtype=bool),
        tuple(clean_annotations(a) for a in trial_annotations),
        clean_annotations(annotations),
    )
