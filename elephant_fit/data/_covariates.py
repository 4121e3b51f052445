"""Covariates from AnalogSignals: pick a signal of a Segment by name, average it onto the bins.

A covariate is one channel of a named ``neo.AnalogSignal`` (``"name"`` or ``"name:channel"``).
:func:`bin_signal` gives each bin the mean of the samples whose times fall in it, with the
half-open bins of ``elephant.conversion.BinnedSpikeTrain`` (a sample at time ``t`` goes to bin
``(t - t_start) / bin_size``, rounded down after the same tolerance rule as spikes); a bin without
a sample is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import neo
import numpy as np
import quantities as pq

from .._validation import describe
from ..errors import ArgumentTypeError, ArgumentValueError
from ._binning import round_binning_errors

__all__ = ["SignalRequest", "bin_signal", "check_covariate_specs", "find_signal"]


class SignalRequest:
    """One requested covariate: the AnalogSignal's name and its channel (None: the only one)."""

    def __init__(self, text: str) -> None:
        name, _, channel = text.rpartition(":") if ":" in text else (text, "", "")
        self.text = text
        self.name = name
        self.channel = int(channel) if channel.strip().isdigit() else None
        if channel and self.channel is None:  # a colon that is part of the name
            self.name, self.channel = text, None


def check_covariate_specs(covariates: Any) -> list[SignalRequest]:
    """Validate ``covariates``: a list of AnalogSignal names (``"name"`` or ``"name:channel"``)."""
    if covariates is None:
        return []
    if isinstance(covariates, str) or not isinstance(covariates, Sequence):
        raise ArgumentTypeError(
            "Expected `covariates` to be a list of AnalogSignal names (e.g. ['running_speed'] or "
            f"['position:0']), but got {describe(covariates)}."
        )
    items = list(covariates)
    if not items or not all(isinstance(c, str) and c for c in items):
        raise ArgumentTypeError(
            f"Expected `covariates` to be a non-empty list of AnalogSignal names, but got {items!r}."
        )
    if len(set(items)) != len(items):
        raise ArgumentValueError(
            f"Expected each covariate once in `covariates`, but got {items!r}."
        )
    return [SignalRequest(c) for c in items]


def find_signal(segment: neo.Segment, spec: SignalRequest, where: str) -> neo.AnalogSignal:
    """The one-channel AnalogSignal of ``segment`` that ``spec`` names (a view: input unchanged)."""
    found = [s for s in segment.analogsignals if s.name == spec.name]
    if not found:
        names = sorted({str(s.name) for s in segment.analogsignals})
        raise ArgumentValueError(
            f"Expected `covariates` to name AnalogSignals of the data, but {where} has no "
            f"AnalogSignal named {spec.name!r}; it has {names}."
        )
    if len(found) > 1:
        raise ArgumentValueError(
            f"Expected one AnalogSignal named {spec.name!r} in {where}, but it holds {len(found)} "
            "(a recording in pieces, with gaps between them?); join or rename them."
        )
    signal = found[0]
    n_channels = signal.shape[1]
    if spec.channel is None and n_channels != 1:
        raise ArgumentValueError(
            f"Expected covariate {spec.text!r} to be a one-channel AnalogSignal, but it has "
            f"{n_channels} channels; name one as '{spec.name}:<channel>' (0..{n_channels - 1})."
        )
    channel = spec.channel or 0
    if channel >= n_channels:
        raise ArgumentValueError(
            f"Expected the channel of covariate {spec.text!r} to be in 0..{n_channels - 1}, but "
            f"got {channel}."
        )
    return signal[:, channel : channel + 1].view(type(signal))


def check_same_rate(signals: list[neo.AnalogSignal], spec: SignalRequest, where: list[str]) -> None:
    """Raise if one covariate has different sampling rates in different segments."""
    periods = [float(s.sampling_period.rescale(pq.s).magnitude) for s in signals]
    differ = [i for i, p in enumerate(periods) if not np.isclose(p, periods[0], rtol=1e-9)]
    if differ:
        i = differ[0]
        raise ArgumentValueError(
            f"Expected covariate {spec.text!r} to have one sampling rate, but it is sampled at "
            f"{signals[0].sampling_rate} in {where[0]} and at {signals[i].sampling_rate} in "
            f"{where[i]}; resample it (AnalogSignal.resample) first."
        )


def bin_signal(
    signal: neo.AnalogSignal,
    t_start: pq.Quantity,
    bin_size: pq.Quantity,
    n_bins: int,
    tolerance: float | None,
    where: str,
) -> np.ndarray:
    """Mean of the samples in each of ``n_bins`` half-open bins from ``t_start``.

    Parameters
    ----------
    signal : neo.AnalogSignal
        One channel, shape (n_samples, 1); sample ``i`` is at ``signal.t_start + i / rate``.
    t_start, bin_size : pq.Quantity
        Left edge of the first bin and bin width (time quantities).
    n_bins : int
        Number of bins.
    tolerance : float or None
        Rounding tolerance of bin positions, in bins (as for spikes).
    where : str
        The covariate and trial, for error messages.

    Returns
    -------
    np.ndarray
        Shape (n_bins,), float64, in the signal's units. Samples before ``t_start`` or at or after
        the last bin's right edge are ignored.
    """
    units = signal.times.units
    step = float(bin_size.rescale(units).magnitude)
    period = float(signal.sampling_period.rescale(units).magnitude)
    first = float((signal.t_start - t_start).rescale(units).magnitude)
    values = np.asarray(signal.magnitude, dtype=np.float64)[:, 0]
    positions = (first + np.arange(values.shape[0]) * period) * (1 / step)
    tol = 0.0 if tolerance is None else tolerance
    inside = positions >= -tol
    bins = round_binning_errors(np.maximum(positions[inside], 0.0), tolerance)
    valid = bins < n_bins
    bins, kept = bins[valid], values[inside][valid]
    n_samples = np.bincount(bins, minlength=n_bins)
    empty = np.flatnonzero(n_samples == 0)
    if empty.size:
        if period > step * (1 + 1e-9):
            raise ArgumentValueError(
                f"Expected every bin to hold a sample of {where}, but the signal is sampled every "
                f"{period} {units.dimensionality.string}, coarser than `bin_size` ({step}): "
                f"{empty.size} of {n_bins} bins hold none; use a bin_size of at least the sampling "
                "period, or resample the signal (AnalogSignal.resample)."
            )
        raise ArgumentValueError(
            f"Expected every bin to hold a sample of {where}, but bin {int(empty[0])} (and "
            f"{empty.size - 1} more) holds none: the signal has a gap or ends inside the window."
        )
    return np.bincount(bins, weights=kept, minlength=n_bins) / n_samples
