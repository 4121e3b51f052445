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
    "SpikesOutsideWindowWarning",
    "bin_spike_times",
    "n_bins_for_window",
    "round_binning_errors",
]

#: Text of Elephant's warning for spikes that fall at or after the right edge of the last bin.
DISCARDED_SPIKES_MESSAGE = "Binning discarded {} last spike(s) of the input spiketrain"


class SpikesOutsideWindowWarning(UserWarning):
    """Spikes outside the requested ``[t_start, t_stop]`` window were ignored."""


def round_binning_errors(values: np.ndarray, tolerance: float | None) -> np.ndarray:
    """Round bin positions down, first moving values within ``tolerance`` below an integer up.

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
    if tolerance is None or tolerance == 0:
        return values.astype(np.int64)
    corrected = np.where(1 - tolerance <= values % 1, values + 0.5, values)
    return corrected.astype(np.int64)


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
) -> tuple[np.ndarray, np.ndarray]:
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
    kept : np.ndarray
        Indices into ``times`` of the spikes that were binned, shape (n_kept,).
    bins : np.ndarray
        Their bin indices in ``[0, n_bins)``, shape (n_kept,), int64.

    Warns
    -----
    UserWarning
        Elephant's warning, with the same text, when spikes in the window fall at or after the
        right edge of the last bin (for example a spike exactly at ``t_stop``).
    """
    in_window = np.flatnonzero((times >= t_start) & (times <= t_stop))
    n_outside = times.shape[0] - in_window.shape[0]
    if warn_outside and n_outside > 0:
        warnings.warn(
            f"{n_outside} spike(s) outside the window [{t_start}, {t_stop}] were ignored.",
            SpikesOutsideWindowWarning,
            stacklevel=stacklevel + 1,
        )
    positions = (times[in_window] - t_start) * (1 / bin_size)
    bins = round_binning_errors(positions, tolerance)
    valid = bins < n_bins
    n_discarded = int(valid.shape[0] - np.count_nonzero(valid))
    if n_discarded > 0:
        warnings.warn(
            DISCARDED_SPIKES_MESSAGE.format(n_discarded), UserWarning, stacklevel=stacklevel + 1
        )
    return in_window[valid], bins[valid]
