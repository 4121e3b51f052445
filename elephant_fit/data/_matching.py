"""Matching units across trials: by the Block's Groups, an annotation, the name or position.

Each function takes the spike trains of every trial (a list of lists, trials x trains) and
returns them reordered so that the j-th train of every trial belongs to unit j, with the unit ids;
:func:`elephant_fit.data.neo_in.from_neo` bins the result.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import neo
import numpy as np

from .._validation import describe
from ..errors import ArgumentTypeError, ArgumentValueError

__all__ = [
    "clean_annotations",
    "match_by_groups",
    "match_by_key",
    "match_by_position",
    "unit_key_function",
]

#: Annotation keys that hold our own bookkeeping (or an IO's) rather than user metadata.
_RESERVED_KEYS = frozenset({"unit_id", "hidden", "nix_name"})
#: Annotations tried, in order, to match units across trials when ``unit_key`` is None.
_DEFAULT_UNIT_KEYS = ("unit_id", "channel_id")


def clean_annotations(annotations: dict) -> dict:
    """Copy of ``annotations`` without reserved keys."""
    return {k: v for k, v in annotations.items() if k not in _RESERVED_KEYS}


def unit_key_function(
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


def match_by_position(trials: list[list[neo.SpikeTrain]]) -> list[list[neo.SpikeTrain]]:
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


def match_by_key(
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


def match_by_groups(
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
    annotations = tuple(clean_annotations(group.annotations) for group in groups)
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
