"""Binning the collected spike trains of all trials in one vectorised pass, exactly like Elephant.

:func:`bin_trials` bins trials on their own (or a given) common window, as
``elephant.conversion.BinnedSpikeTrain`` does; :func:`bin_cut` bins trials cut from a continuous
recording (times from 0 at each window's start) on the window's bins, with the same rounding and
half-open bins. Both return counts of shape (n_trials, n_bins, n_units).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import neo
import numpy as np
import quantities as pq
import torch

from .._memory import check_memory
from .._quantities import unit_key
from .._validation import describe
from ..errors import ArgumentValueError
from ._binning import bin_spike_times, n_bins_for_window, round_binning_errors
from ._collect import Collected

__all__ = ["bin_cut", "bin_trials"]


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


def bin_trials(
    collected: Collected,
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
    _check_size(n_trials, n_bins, n_units, dtype, max_memory)
    if n_bins < 1:
        raise ArgumentValueError(
            f"Expected the window [{start}, {stop}] {flat.units.dimensionality} to hold at least "
            f"one bin, but it is shorter than `bin_size` ({describe(bin_size)})."
        )
    explicit = t_start is not None or t_stop is not None
    kept, bins = bin_spike_times(
        flat.times, start, stop, step, n_bins, tolerance, warn_outside=explicit, stacklevel=3
    )
    counts = _scatter(flat, kept, bins, n_trials, n_bins, n_units, dtype)
    return counts, (step, start, stop, flat.units)


def _check_size(
    n_trials: int, n_bins: int, n_units: int, dtype: torch.dtype, max_memory: float | None
) -> None:
    """Refuse counts larger than ``max_memory`` before allocating them."""
    itemsize = torch.empty((), dtype=dtype).element_size()
    check_memory(
        float(n_trials) * n_bins * n_units * itemsize,
        f"binning {n_trials} trials x {n_bins} bins x {n_units} units",
        max_memory,
    )


def _scatter(
    flat: _Flat,
    kept: np.ndarray | None,
    bins: np.ndarray,
    n_trials: int,
    n_bins: int,
    n_units: int,
    dtype: torch.dtype,
) -> torch.Tensor:
    """Counts (n_trials, n_bins, n_units) from the bin of every kept spike of every train."""
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
    return counts.reshape(n_trials, n_bins, n_units)


def bin_cut(
    collected: Collected,
    n_bins: int,
    bin_size: pq.Quantity,
    tolerance: float | None,
    dtype: torch.dtype,
    max_memory: float | None = None,
) -> torch.Tensor:
    """Bin cut trials: times from 0 at each window's start, ``n_bins`` half-open bins.

    The bins are laid on the window, not on the cut trains' own ``t_start``/``t_stop`` (which
    carry the cut's float noise). A spike at time ``t`` goes to bin ``t * (1 / bin_size)``,
    rounded as in ``BinnedSpikeTrain``; one at or after the last bin's right edge (the window's
    end, kept by neo's inclusive slice) is not counted, silently: it opens the next window.

    Returns
    -------
    torch.Tensor
        Counts of shape (n_trials, n_bins, n_units) in ``dtype``.
    """
    n_trials, n_units = len(collected.trials), len(collected.unit_ids)
    _check_size(n_trials, n_bins, n_units, dtype, max_memory)
    flat = _flatten([st for trial in collected.trials for st in trial])
    step = float(bin_size.rescale(flat.units).magnitude)
    bins = round_binning_errors(np.maximum(flat.times, 0.0) * (1 / step), tolerance)
    valid = (flat.times >= 0) & (bins < n_bins)
    kept = None if valid.all() else np.flatnonzero(valid)
    return _scatter(flat, kept, bins[valid], n_trials, n_bins, n_units, dtype)
