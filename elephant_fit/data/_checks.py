"""Validation and index helpers of :class:`elephant_fit.data.spikedata.SpikeData`.

Pure functions: each checks one constructor argument (counts, time axis, unit ids, annotations,
hidden flags) or turns a selection (trial index, unit ids or mask) into positions, raising the
errors of :mod:`elephant_fit.errors` with the argument's name.
"""

from __future__ import annotations

import copy
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import quantities as pq
import torch

from .._validation import check_fraction, check_time_quantity, describe
from ..errors import ArgumentTypeError, ArgumentValueError
from ._binning import n_bins_for_window

__all__ = [
    "check_concatenable",
    "check_counts",
    "check_dtype",
    "check_hidden",
    "check_unit_ids",
    "check_window",
    "copy_annotations",
    "resolve_index",
    "split_positions",
    "unit_positions",
]


def check_counts(counts: Any) -> torch.Tensor:
    """Validate a counts array of shape (n_trials, n_bins, n_neurons) and return it as a tensor."""
    if not isinstance(counts, (torch.Tensor, np.ndarray)):
        raise ArgumentTypeError(
            "Expected `counts` to be a torch.Tensor or numpy array of shape "
            f"(n_trials, n_bins, n_neurons), but got {describe(counts)}."
        )
    tensor = torch.as_tensor(counts).detach()
    if tensor.ndim != 3:
        raise ArgumentValueError(
            "Expected `counts` to have shape (n_trials, n_bins, n_neurons), but got shape "
            f"{tuple(tensor.shape)}."
        )
    if min(tensor.shape) == 0:
        raise ArgumentValueError(
            f"Expected `counts` to be non-empty, but got shape {tuple(tensor.shape)}."
        )
    if tensor.dtype == torch.bool:
        tensor = tensor.to(torch.float32)
    if tensor.is_complex():
        raise ArgumentTypeError(f"Expected `counts` to be real, but got dtype {tensor.dtype}.")
    if tensor.is_floating_point():
        bad = ~torch.isfinite(tensor) | (tensor != torch.round(tensor))
        if bool(bad.any()):
            raise ArgumentValueError(
                "Expected `counts` to hold whole numbers, but got non-integer values."
            )
    if bool((tensor < 0).any()):
        raise ArgumentValueError("Expected `counts` to be non-negative, but got negative values.")
    return tensor


def check_dtype(dtype: Any) -> None:
    """Validate an optional target dtype (None keeps the current one)."""
    if dtype is not None and not isinstance(dtype, torch.dtype):
        raise ArgumentTypeError(f"Expected `dtype` to be a torch.dtype, but got {describe(dtype)}.")


def check_window(
    bin_size: pq.Quantity,
    t_start: pq.Quantity | None,
    t_stop: pq.Quantity | None,
    n_bins: int,
    tolerance: float | None,
) -> tuple[float, float, float, pq.Quantity]:
    """Validate the time axis of ``n_bins`` bins: ``(bin_size, t_start, t_stop, units)``.

    The three magnitudes are in one time unit: that of ``t_start`` if given, else that of
    ``bin_size``. ``t_stop`` defaults to ``t_start + n_bins * bin_size``; a given one must make a
    window of exactly ``n_bins`` bins (with ``tolerance``, as ``BinnedSpikeTrain``).
    """
    bin_size = check_time_quantity(bin_size, "bin_size", positive=True)
    units = bin_size.units if t_start is None else check_time_quantity(t_start, "t_start").units
    start = 0.0 if t_start is None else float(t_start.rescale(units).magnitude)
    step = float(bin_size.rescale(units).magnitude)
    if t_stop is None:
        stop = start + n_bins * step
    else:
        stop = float(check_time_quantity(t_stop, "t_stop").rescale(units).magnitude)
        expected = n_bins_for_window(start, stop, step, tolerance) if stop > start else 0
        if expected != n_bins:
            raise ArgumentValueError(
                f"Expected `counts` to have {expected} bins for the window [{start}, {stop}] "
                f"{units.dimensionality.string} with bin_size {step}, but got {n_bins}."
            )
    return step, start, stop, units


def copy_annotations(items: Sequence[Mapping[str, Any]] | None, n: int, name: str) -> tuple:
    """Deep-copy a sequence of ``n`` annotation dicts (``None`` gives empty dicts)."""
    if items is None:
        return tuple({} for _ in range(n))
    items = list(items)
    if len(items) != n or not all(isinstance(item, Mapping) for item in items):
        raise ArgumentValueError(
            f"Expected `{name}` to be a sequence of {n} dicts, but got {describe(items)} "
            f"of length {len(items)}."
        )
    return tuple(copy.deepcopy(dict(item)) for item in items)


def check_unit_ids(unit_ids: Sequence[Hashable] | None, n_neurons: int) -> tuple:
    """Validate unit ids: one unique hashable per neuron."""
    if unit_ids is None:
        return tuple(range(n_neurons))
    ids = tuple(unit_ids)
    if len(ids) != n_neurons:
        raise ArgumentValueError(
            f"Expected `unit_ids` to hold {n_neurons} ids (one per neuron), but got {len(ids)}."
        )
    try:
        unique = len(set(ids))
    except TypeError as exc:
        raise ArgumentTypeError(
            f"Expected `unit_ids` to be hashable, but got {describe(ids)}."
        ) from exc
    if unique != n_neurons:
        raise ArgumentValueError(
            f"Expected `unit_ids` to be unique, but got duplicates in {list(ids)}."
        )
    return ids


def check_hidden(hidden: Sequence[bool] | np.ndarray | None, n_neurons: int) -> np.ndarray:
    """Validate the per-neuron hidden flags."""
    if hidden is None:
        return np.zeros(n_neurons, dtype=bool)
    flags = np.asarray(hidden)
    if flags.shape != (n_neurons,) or flags.dtype != bool:
        raise ArgumentValueError(
            f"Expected `hidden` to be {n_neurons} booleans (one per neuron), but got "
            f"{describe(flags)} of dtype {flags.dtype}."
        )
    return flags.copy()


def resolve_index(index: Any, size: int, name: str) -> np.ndarray:
    """Turn an int, slice, sequence of ints or boolean mask into positions in ``range(size)``."""
    positions = _positions(index, size, name)
    if positions.size == 0:
        raise ArgumentValueError(
            f"Expected `{name}` to select at least one element, but it selects none."
        )
    return positions


def _positions(index: Any, size: int, name: str) -> np.ndarray:
    """Positions for :func:`resolve_index` (possibly empty)."""
    if isinstance(index, (bool, np.bool_)):
        raise ArgumentTypeError(f"Expected `{name}` to be an index, but got {describe(index)}.")
    if isinstance(index, (int, np.integer)):
        index = [int(index)]
    if isinstance(index, slice):
        return np.arange(size)[index]
    if isinstance(index, torch.Tensor):
        index = index.detach().cpu().numpy()
    try:
        positions = np.asarray(index)
    except (TypeError, ValueError) as exc:
        raise ArgumentTypeError(
            f"Expected `{name}` to be an index, but got {describe(index)}."
        ) from exc
    if positions.dtype == bool:
        if positions.shape != (size,):
            raise ArgumentValueError(
                f"Expected boolean `{name}` to have shape ({size},), but got {positions.shape}."
            )
        return np.flatnonzero(positions)
    if positions.size == 0:
        positions = positions.astype(np.int64)
    if positions.ndim != 1 or not np.issubdtype(positions.dtype, np.integer):
        raise ArgumentTypeError(
            f"Expected `{name}` to be an int, slice, sequence of ints or boolean mask, but got "
            f"{describe(index)}."
        )
    if positions.size and (positions.min() < -size or positions.max() >= size):
        raise IndexError(f"`{name}` {positions.tolist()[:10]} is out of range for size {size}.")
    return np.where(positions < 0, positions + size, positions).astype(np.int64)


def unit_positions(units: Any, unit_ids: tuple, n_neurons: int) -> np.ndarray:
    """Positions of the selected units, from a boolean mask or a sequence of ``unit_ids``."""
    if isinstance(units, (np.ndarray, torch.Tensor)) and units.dtype in (np.bool_, torch.bool):
        return resolve_index(units, n_neurons, "units")
    if isinstance(units, (str, bytes)) or not isinstance(units, (Sequence, np.ndarray)):
        raise ArgumentTypeError(
            f"Expected `units` to be a sequence of unit ids or a boolean mask, but got "
            f"{describe(units)}."
        )
    items = list(units)
    if items and all(isinstance(u, (bool, np.bool_)) for u in items):
        return resolve_index(np.asarray(items, dtype=bool), n_neurons, "units")
    lookup = {uid: i for i, uid in enumerate(unit_ids)}
    missing = [u for u in items if u not in lookup]
    if missing:
        raise ArgumentValueError(
            f"Expected `units` to name existing unit ids, but got unknown id(s) {missing[:5]}; "
            f"known ids start with {list(unit_ids[:5])}."
        )
    if len(set(items)) != len(items):
        raise ArgumentValueError(f"Expected `units` to hold each unit once, but got {items}.")
    return np.asarray([lookup[u] for u in items], dtype=np.int64)


def split_positions(
    n_trials: int, test_fraction: float, seed: int | np.random.Generator | None
) -> tuple[np.ndarray, np.ndarray]:
    """Trial positions of a random train/test split, each in recording order.

    At least one trial goes to each set; the same seed gives the same split.
    """
    fraction = check_fraction(test_fraction, "test_fraction")
    if n_trials < 2:
        raise ArgumentValueError(
            f"Expected at least 2 trials to split into train and test, but got {n_trials}."
        )
    n_test = min(max(round(fraction * n_trials), 1), n_trials - 1)
    order = np.random.default_rng(seed).permutation(n_trials)
    test = np.sort(order[:n_test])
    train = np.sort(order[n_test:])
    return train, test


def check_concatenable(datasets: Any, cls: type) -> list:
    """Validate a non-empty sequence of ``cls`` (SpikeData) with one time axis and one set of units."""
    if isinstance(datasets, cls) or not isinstance(datasets, Sequence) or not datasets:
        raise ArgumentTypeError(
            f"Expected `datasets` to be a non-empty list of SpikeData, but got {describe(datasets)}."
        )
    items = list(datasets)
    for i, data in enumerate(items):
        if not isinstance(data, cls):
            raise ArgumentTypeError(
                f"Expected `datasets[{i}]` to be a SpikeData, but got {describe(data)}."
            )
        first = items[0]
        if not first.same_time_axis(data):
            raise ArgumentValueError(
                "Expected all data sets to concatenate to share their bins, but `datasets[0]` has "
                f"{first.n_bins} bins of {first.bin_size} from {first.t_start} to {first.t_stop} "
                f"and `datasets[{i}]` {data.n_bins} bins of {data.bin_size} from {data.t_start} "
                f"to {data.t_stop}."
            )
        if data.unit_ids != first.unit_ids or not np.array_equal(data.hidden, first.hidden):
            raise ArgumentValueError(
                "Expected all data sets to concatenate to hold the same units, but `datasets[0]` "
                f"has unit ids {list(first.unit_ids)[:8]} and `datasets[{i}]` "
                f"{list(data.unit_ids)[:8]} (or other hidden flags)."
            )
    return items
