"""Elephant-exact binning rules, written once and used by every converter.

These functions reproduce the arithmetic of ``elephant.conversion.BinnedSpikeTrain`` (Elephant 1.2)
operation for operation, so that the same float64 inputs give the same bins:

* the number of bins is ``(t_stop - t_start) / bin_size``, rounded down after moving values within
  ``tolerance`` of the next integer up to it;
* a spike at time ``t`` in ``[t_start, t_stop]`` goes to bin ``(t - t_start) * (1 / bin_size)``,
  rounded the same way; bins at or beyond ``n_bins`` are discarded with a warning;
* spikes before ``t_start`` or after ``t_stop`` are ignored.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = [
    "DISCARDED_SPIKES_MESSAGE",
    "ELEPHANT_TOLERANCE",
    "SpikesOutsideWindowWarning",
    "bin_spike_times",
    "n_bins_for_window",
    "round_binning_errors",
]

#: ``BinnedSpikeTrain``'s default rounding tolerance (in bins for bin positions, in time units
#: for comparing the trains' windows).
ELEPHANT_TOLERANCE = 1e-8

#: Text of Elephant's warning for spikes that fall at or after the right edge of the last bin.
DISCARDED_SPIKES_MESSAGE = "Binning discarded {} last spike(s) of the input spiketrain"


class SpikesOutsideWindowWarning(UserWarning):
    """Spikes outside the requested ``[t_start, t_stop]`` window were ignored.

    Issued by :func:`elephant_fit.data.from_neo` when ``t_start`` or ``t_stop`` narrows the
    trains' own window and some spikes fall outside it.

    Examples
    --------
    >>> import warnings
    >>> import neo, quantities as pq
    >>> from elephant_fit.data import from_neo
    >>> train = neo.SpikeTrain([2, 15, 35] * pq.ms, t_stop=40 * pq.ms)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     data = from_neo([train], 10 * pq.ms, t_start=10 * pq.ms, t_stop=30 * pq.ms)
    >>> [warning.category.__name__ for warning in caught]
    ['SpikesOutsideWindowWarning']
    >>> data.counts.shape, float(data.counts.sum())  # (n_trials, n_bins, n_neurons); 1 spike kept
    (torch.Size([1, 2, 1]), 1.0)
    """


def round_binning_errors(values: np.ndarray, tolerance: float | None) -> np.ndarray:
    """Round bin positions down, first moving values within ``tolerance`` below an integer up.

    Same result as Elephant's ``round_binning_errors`` (add 0.5 where ``1 - tolerance <= value % 1``,
    then truncate) for non-negative values, computed as ``floor + (fraction >= 1 - tolerance)``.

    Parameters
    ----------
    values : np.ndarray
        Non-negative bin positions in units of bins, any shape (float64).
    tolerance : float or None
        Absolute tolerance in units of bins; ``None`` or 0 disables the correction.

    Returns
    -------
    np.ndarray
        Integer bin indices (int64), same shape as ``values``. ``values`` is not modified.
    """
    values = np.asarray(values, dtype=np.float64)
    floor = values.astype(np.int64)
    if tolerance is None or tolerance == 0:
        return floor
    floor += (values - floor) >= 1 - tolerance
    return floor


def n_bins_for_window(
    t_start: float, t_stop: float, bin_size: float, tolerance: float | None
) -> int:
    """Number of whole bins of ``bin_size`` in ``[t_start, t_stop]`` (Elephant's rule).

    Parameters
    ----------
    t_start, t_stop, bin_size : float
        Window edges and bin width, as magnitudes in one common time unit.
    tolerance : float or None
        Rounding tolerance in units of bins (``BinnedSpikeTrain``'s ``tolerance``).

    Returns
    -------
    int
        The number of bins; leftover time shorter than one bin at the end is not binned.
    """
    return int(round_binning_errors(np.asarray((t_stop - t_start) / bin_size), tolerance))


def bin_spike_times(
    times: np.ndarray,
    t_start: float,
    t_stop: float,
    bin_size: float,
    n_bins: int,
    tolerance: float | None,
    *,
    warn_outside: bool = False,
    stacklevel: int = 2,
) -> tuple[np.ndarray | None, np.ndarray]:
    """Bin indices of spike times, with Elephant's edge rules.

    Parameters
    ----------
    times : np.ndarray
        Spike times, shape (n_spikes,), float64 magnitudes in the unit of ``t_start``.
    t_start, t_stop, bin_size : float
        Window and bin width in the same unit as ``times``.
    n_bins : int
        Number of bins, from :func:`n_bins_for_window`.
    tolerance : float or None
        Rounding tolerance in units of bins.
    warn_outside : bool, optional
        Emit :class:`SpikesOutsideWindowWarning` when spikes lie outside ``[t_start, t_stop]``
        (Elephant ignores them silently).
    stacklevel : int, optional
        Stack level of the warnings, counted from the caller of this function.

    Returns
    -------
    kept : np.ndarray or None
        Indices into ``times`` of the spikes that were binned, shape (n_kept,); None when every
        spike was binned (the common case, which saves a gather).
    bins : np.ndarray
        Their bin indices in ``[0, n_bins)``, shape (n_kept,), int64.

    Warns
    -----
    UserWarning
        Elephant's warning, with the same text, when spikes in the window fall at or after the
        right edge of the last bin (for example a spike exactly at ``t_stop``).
    """
    inside = (times >= t_start) & (times <= t_stop)
    n_outside = times.shape[0] - int(np.count_nonzero(inside))
    kept: np.ndarray | None = None
    if n_outside > 0:
        kept = np.flatnonzero(inside)
        times = times[kept]
        if warn_outside:
            warnings.warn(
                f"{n_outside} spike(s) outside the window [{t_start}, {t_stop}] were ignored.",
                SpikesOutsideWindowWarning,
                stacklevel=stacklevel + 1,
            )
    bins = round_binning_errors((times - t_start) * (1 / bin_size), tolerance)
    valid = bins < n_bins
    n_discarded = bins.shape[0] - int(np.count_nonzero(valid))
    if n_discarded > 0:
        warnings.warn(
            DISCARDED_SPIKES_MESSAGE.format(n_discarded), UserWarning, stacklevel=stacklevel + 1
        )
        valid_index = np.flatnonzero(valid)
        kept = valid_index if kept is None else kept[valid_index]
        bins = bins[valid_index]
    return kept, bins
