"""Drop-in twins of ``elephant.statistics.mean_firing_rate`` and ``time_histogram`` (Elephant 1.2.1).

Same signatures, defaults, validation, errors, warnings and return types; the numbers come from
:mod:`elephant_fit.statistics.rates`. ``time_histogram`` bins with :mod:`elephant_fit.data._binning`
(``BinnedSpikeTrain``'s rules) in one vectorised pass over all spikes of all trains.

Divergences from Elephant (all where Elephant fails or is inconsistent):

* ``time_histogram`` accepts an ``elephant.conversion.BinnedSpikeTrain`` (Elephant recurses
  until ``RecursionError``); its own bins, ``t_start`` and ``t_stop`` are used, and ``bin_size``,
  ``t_start`` and ``t_stop``, when given, must agree with them.
* ``time_histogram`` raises ``TypeError`` for a ``bin_size`` that is not a quantity (Elephant:
  ``AttributeError`` from deep inside).
* ``mean_firing_rate`` on a Quantity with a scalar ``t_stop`` and ``axis >= 1`` broadcasts the
  scalar (Elephant raises ``AxisError``); comparisons and the duration are computed in float64
  for float32 inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import neo
import numpy as np
import quantities as pq
import torch
from elephant.conversion import BinnedSpikeTrain
from elephant.utils import deprecated_alias
from elephant.utils import is_time_quantity as _elephant_is_time_quantity
from neo.core.spiketrainlist import SpikeTrainList
from numpy.lib.array_utils import normalize_axis_tuple

from .._quantities import cache_by_units as _cache
from .._quantities import rescaled_magnitude, unit_key
from .._validation import describe
from ..data._binning import ELEPHANT_TOLERANCE as _TOLERANCE
from ..data._binning import bin_spike_times, n_bins_for_window
from ..errors import ArgumentTypeError, ArgumentValueError
from ..statistics.rates import (
    HISTOGRAM_OUTPUTS,
    _normalise_histogram,
    count_in_window,
    firing_rate,
)
from ..statistics.rates import time_histogram as _time_histogram

__all__ = ["is_time_quantity", "mean_firing_rate", "rescaled_magnitude", "time_histogram"]

#: Cache of inverse units (1 / unit) by unit key.
_INVERSE_UNITS: dict[tuple, Any] = {}
#: Cache of "is a unit of time" by unit key.
_TIME_UNITS: dict[tuple, bool] = {}
#: Above this many (train, bin) cells, ``binary=True`` deduplicates with ``np.unique``.
_MAX_OCCUPANCY_CELLS = 50_000_000


def _inverse_units(spiketrain: pq.Quantity) -> Any:
    """``1 / units`` of ``spiketrain`` as a Dimensionality, cached."""
    key = unit_key(spiketrain)
    inverse = _INVERSE_UNITS.get(key)
    if inverse is None:
        inverse = _cache(_INVERSE_UNITS, key, spiketrain._dimensionality**-1, spiketrain)
    return inverse


def is_time_quantity(*quantities: Any, allow_none: bool = False) -> bool:
    """Elephant's ``is_time_quantity``, with the answer cached per unit (it is slow)."""
    for quantity in quantities:
        if allow_none and quantity is None:
            continue
        if not isinstance(quantity, pq.Quantity):
            return False
        key = unit_key(quantity)
        answer = _TIME_UNITS.get(key)
        if answer is None:
            answer = _cache(_TIME_UNITS, key, _elephant_is_time_quantity(quantity), quantity)
        if not answer:
            return False
    return True


# ------------------------------------------------------------------------------ mean_firing_rate
def _spiketrain_duration(spiketrain: neo.SpikeTrain) -> float:
    """``t_stop - t_start`` in the train's units (as Elephant: subtract, then rescale)."""
    key = unit_key(spiketrain)
    if unit_key(spiketrain.t_start) == key and unit_key(spiketrain.t_stop) == key:
        return spiketrain.t_stop.item() - spiketrain.t_start.item()
    duration = (spiketrain.t_stop - spiketrain.t_start).rescale(spiketrain.units)
    return float(duration.magnitude)


def _as_tensor(value: Any) -> torch.Tensor:
    """A float64 tensor holding ``value`` (scalar or array)."""
    return torch.as_tensor(np.asarray(value, dtype=np.float64))


def _array_rate(spiketrain: Any, t_start: Any, t_stop: Any, axis: Any) -> Any:
    """Elephant's ndarray branch: spikes in [t_start, t_stop] along ``axis`` / duration."""
    if isinstance(t_start, pq.Quantity) or isinstance(t_stop, pq.Quantity):
        raise ArgumentTypeError(
            "'t_start' and 't_stop' cannot be quantities if 'spiketrain' is not a Quantity."
        )
    spiketrain = np.asarray(spiketrain)
    if len(spiketrain) == 0:
        raise ArgumentValueError("Empty input spiketrain.")
    if t_start is None:
        t_start = 0
    if axis is not None:
        normalize_axis_tuple(axis, spiketrain.ndim)  # NumPy's AxisError, as np.sum would raise
    if t_stop is None:
        t_stop = np.max(spiketrain, axis=axis)
    edge = t_stop
    if axis and isinstance(t_stop, np.ndarray) and t_stop.ndim:
        edge = np.expand_dims(t_stop, axis)
    counts = count_in_window(
        _as_tensor(spiketrain), _as_tensor(t_start), _as_tensor(edge), dim=axis
    )
    return firing_rate(counts, _as_tensor(t_start), _as_tensor(t_stop)).numpy()[()]


def _quantity_rate(spiketrain: pq.Quantity, t_start: Any, t_stop: Any, axis: Any) -> pq.Quantity:
    """Elephant's Quantity/SpikeTrain branch: rescale the window, rate in 1 / units."""
    if not is_time_quantity(t_start, allow_none=True):
        raise ArgumentTypeError("'t_start' must be a Quantity or None")
    if not is_time_quantity(t_stop, allow_none=True):
        raise ArgumentTypeError("'t_stop' must be a Quantity or None")
    units = spiketrain.units
    magnitude = spiketrain.magnitude
    if t_start is None:
        t_start = getattr(spiketrain, "t_start", 0 * units)
    t_start = rescaled_magnitude(t_start, units)
    if t_stop is None:
        latest = pq.Quantity(np.max(magnitude, axis=axis), units=units)  # raises as Elephant
        t_stop = getattr(spiketrain, "t_stop", latest)
    t_stop = rescaled_magnitude(t_stop, units)
    rates = _array_rate(magnitude, t_start, t_stop, axis)
    return pq.Quantity(rates, units=_inverse_units(spiketrain))


def mean_firing_rate(
    spiketrain: neo.SpikeTrain | pq.Quantity | np.ndarray | Sequence[float],
    t_start: pq.Quantity | float | None = None,
    t_stop: pq.Quantity | float | None = None,
    axis: int | None = None,
) -> pq.Quantity | np.ndarray | np.float64:
    """Firing rate: spikes in ``[t_start, t_stop]`` divided by ``t_stop - t_start``.

    Drop-in twin of ``elephant.statistics.mean_firing_rate``.

    Parameters
    ----------
    spiketrain : neo.SpikeTrain or pq.Quantity or np.ndarray or list
        Spike times: a 1-D ``neo.SpikeTrain``, or a time quantity or plain array of any shape.
    t_start : pq.Quantity or float, optional
        Window start, a scalar time quantity for SpikeTrain/Quantity input, a number (in the
        units of the spike times) otherwise. Default: the train's ``t_start``, else 0.
    t_stop : pq.Quantity or float, optional
        Window end, same types as ``t_start``. Default: the train's ``t_stop``, else the maximum
        along ``axis``.
    axis : int, optional
        Axis along which spikes are counted; None counts over the flattened array.

    Returns
    -------
    pq.Quantity or np.ndarray or np.float64
        The rate, in ``1 / units`` of the spike times (e.g. ``1/s``) for SpikeTrain and Quantity
        input (a 0-d quantity for a 1-D train), else plain numbers in the inverse of the input's
        implied unit; shape of the input without ``axis``.

    Raises
    ------
    TypeError
        For an unsupported input type, or when the window's type does not match the input's
        (quantities for quantities, numbers for arrays).
    ValueError
        If an array input is empty.

    See Also
    --------
    elephant.statistics.mean_firing_rate : The Elephant function this twins.
    elephant_fit.statistics.mean_firing_rate : The differentiable statistic on tensors.

    Examples
    --------
    >>> import neo
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.statistics
    >>> from elephant_fit.compat import statistics
    >>> st = neo.SpikeTrain([0.1, 0.4, 0.7] * pq.s, t_stop=1 * pq.s)
    >>> rate = statistics.mean_firing_rate(st)
    >>> round(float(rate.rescale("Hz")), 3)
    3.0
    >>> theirs = elephant.statistics.mean_firing_rate(st)
    >>> bool(np.isclose(rate.magnitude, theirs.magnitude)), rate.dimensionality.string
    (True, '1/s')
    """
    if (
        isinstance(spiketrain, neo.SpikeTrain)
        and t_start is None
        and t_stop is None
        and axis is None
    ):
        rate = firing_rate(float(len(spiketrain)), 0.0, _spiketrain_duration(spiketrain))
        return pq.Quantity(rate, units=_inverse_units(spiketrain))
    if isinstance(spiketrain, pq.Quantity):
        return _quantity_rate(spiketrain, t_start, t_stop, axis)
    if isinstance(spiketrain, (np.ndarray, list, tuple)):
        return _array_rate(spiketrain, t_start, t_stop, axis)
    raise ArgumentTypeError(
        f"Invalid input spiketrain type: '{type(spiketrain)}'. Allowed: neo.SpikeTrain, "
        "Quantity, ndarray"
    )


# ------------------------------------------------------------------------------ time_histogram
_SHARED_WINDOW_HINT = (
    "If you want to bin over the shared [t_start, t_stop] interval, provide shared t_start and "
    "t_stop explicitly, which can be obtained like so: t_start, t_stop = "
    "elephant.utils.get_common_start_stop_times(spiketrains)"
)


def _is_nested_spiketrains(obj: Any) -> bool:
    """Elephant's ``_check_neo_spiketrain``: a SpikeTrain or (nested) iterables of them."""
    if isinstance(obj, neo.SpikeTrain):
        return True
    if isinstance(obj, (list, tuple, SpikeTrainList)):
        return all(_is_nested_spiketrains(item) for item in obj)
    return False


def _check_bin_size(bin_size: Any) -> pq.Quantity:
    """Raise unless ``bin_size`` is given as a quantity (Elephant fails on other types)."""
    if bin_size is None:
        raise ArgumentValueError("Either 'bin_size' or 'n_bins' must be given")
    if not isinstance(bin_size, pq.Quantity):
        raise ArgumentTypeError(
            f"Expected `bin_size` to be a time quantity (e.g. 5 * pq.ms), but got "
            f"{describe(bin_size)}."
        )
    return bin_size


class _Trains:
    """All spikes of a list of SpikeTrains, gathered once (magnitudes in each train's unit)."""

    def __init__(self, spiketrains: Sequence[neo.SpikeTrain]) -> None:
        n = len(spiketrains)
        self.spiketrains = spiketrains
        self.lengths = np.fromiter((len(st) for st in spiketrains), dtype=np.int64, count=n)
        self.t_starts = np.fromiter((st.t_start.item() for st in spiketrains), np.float64, n)
        self.t_stops = np.fromiter((st.t_stop.item() for st in spiketrains), np.float64, n)
        keys = [unit_key(st) for st in spiketrains]
        first = keys[0]
        self.same_units = np.fromiter((key == first for key in keys), dtype=bool, count=n)
        self.same_units[~self.same_units] = [
            not bool(spiketrains[i].units != spiketrains[0].units)
            for i in np.flatnonzero(~self.same_units)
        ]

    def times(self) -> np.ndarray:
        """All spike times, train after train, as float64 magnitudes (shape (n_spikes,))."""
        if not self.lengths.sum():
            return np.zeros(0)
        return np.concatenate(
            [np.asarray(st, dtype=np.float64).reshape(-1) for st in self.spiketrains]
        )


def _check_consistency(trains: _Trains, t_start: Any, t_stop: Any) -> None:
    """Elephant's ``check_neo_consistency`` (units, and t_start/t_stop when not given)."""
    if not is_time_quantity(t_start, t_stop, allow_none=True):
        raise ArgumentTypeError("'t_start' and 't_stop' must be time quantities.")
    problems = ~trains.same_units
    starts = np.abs(trains.t_starts - trains.t_starts[0]) > _TOLERANCE
    stops = np.abs(trains.t_stops - trains.t_stops[0]) > _TOLERANCE
    if t_start is None:
        problems = problems | starts
    if t_stop is None:
        problems = problems | stops
    bad = np.flatnonzero(problems)
    if not bad.size:
        return
    i = int(bad[0])
    if not trains.same_units[i]:
        message = "The input must have the same units."
    elif t_start is None and starts[i]:
        message = "The input must have the same t_start."
    else:
        message = "The input must have the same t_stop."
    raise ArgumentValueError(ValueError(message), _SHARED_WINDOW_HINT)


def _resolve_window(
    trains: _Trains, bin_size: pq.Quantity, t_start: Any, t_stop: Any
) -> tuple[float, float, float, int, pq.Quantity]:
    """``BinnedSpikeTrain``'s window and number of bins, with its errors."""
    _check_consistency(trains, t_start, t_stop)
    first = trains.spiketrains[0]
    units = first.units
    start = float(rescaled_magnitude(first.t_start if t_start is None else t_start, units))
    stop = float(rescaled_magnitude(first.t_stop if t_stop is None else t_stop, units))
    start_shared, stop_shared = float(trains.t_starts.max()), float(trains.t_stops.min())
    if start < start_shared - _TOLERANCE or stop > stop_shared + _TOLERANCE:
        raise ArgumentValueError(
            f"'t_start' ({pq.Quantity(start, units=units)}) or 't_stop' "
            f"({pq.Quantity(stop, units=units)}) is outside of the shared [{start_shared}, "
            f"{stop_shared}] interval"
        )
    step = float(np.asarray(rescaled_magnitude(bin_size, units)).item())
    n_bins = n_bins_for_window(start, stop, step, _TOLERANCE)
    if start >= stop:
        raise ArgumentValueError("t_start must be smaller than t_stop")
    if n_bins <= 0:
        raise ArgumentTypeError(f"The number of bins ({n_bins}) must be a positive integer")
    return start, stop, step, n_bins, units


def _population_counts(trains: _Trains, window: tuple, binary: bool) -> np.ndarray:
    """Spike counts per bin summed over trains (each train clipped at 1 per bin if binary)."""
    start, stop, step, n_bins, _ = window
    kept, bins = bin_spike_times(
        trains.times(), start, stop, step, n_bins, _TOLERANCE, stacklevel=5
    )
    if not binary:
        return np.bincount(bins, minlength=n_bins)
    owner = np.repeat(np.arange(trains.lengths.shape[0]), trains.lengths)
    if kept is not None:
        owner = owner[kept]
    cells = owner * n_bins + bins
    if trains.lengths.shape[0] * n_bins <= _MAX_OCCUPANCY_CELLS:
        occupied = np.zeros(trains.lengths.shape[0] * n_bins, dtype=bool)
        occupied[cells] = True
        return occupied.reshape(-1, n_bins).sum(axis=0)
    return np.bincount(np.unique(cells) % n_bins, minlength=n_bins)


def _from_spiketrains(
    spiketrains: Sequence[neo.SpikeTrain],
    bin_size: pq.Quantity,
    t_start: Any,
    t_stop: Any,
    binary: bool,
) -> tuple[np.ndarray, int, pq.Quantity]:
    """Population counts of SpikeTrains, their number, and the histogram's t_start."""
    if len(spiketrains) == 0:
        raise ArgumentTypeError("The input must be a list of SpikeTrain")
    trains = _Trains(spiketrains)
    window = _resolve_window(trains, bin_size, t_start, t_stop)
    counts = _population_counts(trains, window, binary)
    return counts, len(spiketrains), pq.Quantity(window[0], units=window[4])


def _matrix_window(
    n_bins: int, bin_size: Any, t_start: Any, t_stop: Any
) -> tuple[pq.Quantity, pq.Quantity]:
    """Window of a binned matrix input, as ``BinnedSpikeTrain`` resolves it."""
    if bin_size is None:
        if t_start is None or t_stop is None:
            raise ArgumentValueError(
                "To determine the bin size, both 't_start' and 't_stop' must be set"
            )
        bin_size = (t_stop - t_start) / n_bins
    if t_start is None and t_stop is None:
        raise ArgumentValueError("Either 't_start' or 't_stop' must be set")
    if t_start is None:
        t_start = t_stop - bin_size * n_bins
    if t_stop is None:
        t_stop = t_start + bin_size * n_bins
    units = bin_size.units
    expected = (t_stop - t_start) / bin_size
    if isinstance(expected, pq.Quantity):
        expected = expected.simplified.item()
    if n_bins != n_bins_for_window(0.0, float(expected), 1.0, _TOLERANCE):
        raise ArgumentValueError(
            f"Inconsistent arguments: t_start ({t_start}), t_stop ({t_stop}), bin_size "
            f"({bin_size}), and n_bins ({n_bins})"
        )
    if t_start >= t_stop:
        raise ArgumentValueError("t_start must be smaller than t_stop")
    return pq.Quantity(t_start.rescale(units).item(), units=units), bin_size


def _from_matrix(
    matrix: Any, bin_size: Any, t_start: Any, t_stop: Any, binary: bool
) -> tuple[np.ndarray, int, pq.Quantity]:
    """Population counts of a binned (n_trains, n_bins) count matrix, as Elephant reads it."""
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.dtype == np.dtype("O"):
        raise ArgumentValueError(
            "If the input is not a spiketrain(s), it must be an MxN numpy array, each cell of "
            "which represents the number of (binned) spikes that fall in an interval - not raw "
            "spike times."
        )
    start, _ = _matrix_window(matrix.shape[1], bin_size, t_start, t_stop)
    counts = torch.from_numpy(matrix.astype(np.int32).astype(np.float64).T)
    if binary:
        counts = (counts != 0).to(counts.dtype)
    hist = _time_histogram(counts, output="counts")
    return hist.numpy().astype(np.int64), matrix.shape[0], start


def _from_binned(
    binned: BinnedSpikeTrain, bin_size: pq.Quantity, t_start: Any, t_stop: Any, binary: bool
) -> tuple[np.ndarray, int, pq.Quantity]:
    """Population counts of an Elephant ``BinnedSpikeTrain`` (its own bins and window)."""
    tolerance = _TOLERANCE if binned.tolerance is None else binned.tolerance
    for name, given, own in (
        ("bin_size", bin_size, binned._bin_size),
        ("t_start", t_start, binned._t_start),
        ("t_stop", t_stop, binned._t_stop),
    ):
        if given is not None and abs(given.rescale(binned.units).item() - own) > tolerance:
            raise ArgumentValueError(
                f"Expected `{name}` to match the BinnedSpikeTrain's ({own} "
                f"{binned.units.dimensionality}), but got {describe(given)}; re-bin the spike "
                "trains to change it."
            )
    matrix = binned.to_sparse_bool_array() if binary else binned.sparse_matrix
    counts = np.asarray(matrix.sum(axis=0), dtype=np.int64).reshape(-1)
    return counts, binned.shape[0], pq.Quantity(binned._t_start, units=binned.units)


@deprecated_alias(binsize="bin_size")
def time_histogram(
    spiketrains: Sequence[neo.SpikeTrain] | neo.SpikeTrain | BinnedSpikeTrain | np.ndarray,
    bin_size: pq.Quantity,
    t_start: pq.Quantity | None = None,
    t_stop: pq.Quantity | None = None,
    output: str = "counts",
    binary: bool = False,
) -> neo.AnalogSignal:
    """Time histogram (population count per bin) of spike trains.

    Drop-in twin of ``elephant.statistics.time_histogram``: the same bins as
    ``BinnedSpikeTrain(spiketrains, bin_size, t_start=t_start, t_stop=t_stop)``, summed over
    trains.

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain or neo.SpikeTrain or BinnedSpikeTrain or np.ndarray
        Spike trains sharing units (and ``t_start``/``t_stop`` unless given), an Elephant
        ``elephant.conversion.BinnedSpikeTrain``, or a binned count matrix of shape
        (n_trains, n_bins) (then ``t_start`` or ``t_stop`` is required).
    bin_size : pq.Quantity
        Width of the bins, a scalar time quantity (e.g. ``5 * pq.ms``).
    t_start, t_stop : pq.Quantity, optional
        Window, scalar time quantities; spikes in ``[t_start, t_stop]`` are binned. Default:
        the trains' own.
    output : {'counts', 'mean', 'rate'}, optional
        Counts per bin, mean count per train, or mean rate per train (``1 / bin_size`` units).
    binary : bool, optional
        Count each train at most once per bin.

    Returns
    -------
    neo.AnalogSignal
        Shape (n_bins, 1); int64 counts (dimensionless) for ``'counts'``, float64 otherwise;
        ``t_start`` of the bins, ``sampling_period=bin_size``, annotation ``normalization``.

    Raises
    ------
    ValueError
        For an invalid ``output``, inconsistent trains, or a window outside the trains.
    TypeError
        For time arguments that are not time quantities, or no bins in the window.

    Warns
    -----
    UserWarning
        "Binning discarded N last spike(s)" for spikes at or after the end of the last bin.

    See Also
    --------
    elephant.statistics.time_histogram : The Elephant function this twins.
    elephant_fit.statistics.time_histogram : The differentiable statistic on tensors.

    Examples
    --------
    >>> import neo
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.statistics
    >>> from elephant_fit.compat import statistics
    >>> trains = [
    ...     neo.SpikeTrain([0.1, 0.4, 0.7] * pq.s, t_stop=1 * pq.s),
    ...     neo.SpikeTrain([0.2, 0.45, 0.9] * pq.s, t_stop=1 * pq.s),
    ... ]
    >>> hist = statistics.time_histogram(trains, bin_size=0.5 * pq.s)
    >>> hist.shape, hist.magnitude.ravel().tolist()
    ((2, 1), [4, 2])
    >>> theirs = elephant.statistics.time_histogram(trains, bin_size=0.5 * pq.s)
    >>> bool(np.array_equal(hist.magnitude, theirs.magnitude))
    True
    """
    if isinstance(spiketrains, neo.SpikeTrain):
        spiketrains = [spiketrains]
    if isinstance(spiketrains, BinnedSpikeTrain):
        if bin_size is None:
            bin_size = pq.Quantity(spiketrains._bin_size, units=spiketrains.units)
        bin_size = _check_bin_size(bin_size)
        hist, n_trains, start = _from_binned(spiketrains, bin_size, t_start, t_stop, binary)
    elif _is_nested_spiketrains(spiketrains):
        bin_size = _check_bin_size(bin_size)
        if not all(isinstance(st, neo.SpikeTrain) for st in spiketrains):
            raise ArgumentTypeError("The input must be a list of SpikeTrain")
        hist, n_trains, start = _from_spiketrains(spiketrains, bin_size, t_start, t_stop, binary)
    else:
        hist, n_trains, start = _from_matrix(spiketrains, bin_size, t_start, t_stop, binary)
    if not isinstance(output, str) or output not in HISTOGRAM_OUTPUTS:
        raise ArgumentValueError(f"Parameter output ({output}) is not valid.")
    return _analog_signal(hist, n_trains, bin_size, start, output)


def _analog_signal(
    hist: np.ndarray, n_trains: int, bin_size: pq.Quantity, t_start: pq.Quantity, output: str
) -> neo.AnalogSignal:
    """Normalise the population counts and wrap them as Elephant does."""
    step = float(np.asarray(bin_size.magnitude).item())
    values = _normalise_histogram(torch.from_numpy(hist.astype(np.float64)), n_trains, step, output)
    if output == "counts":
        signal = pq.Quantity(hist, units=pq.dimensionless)
    elif output == "mean":
        signal = pq.Quantity(values.numpy(), units=pq.dimensionless)
    else:
        signal = pq.Quantity(values.numpy(), units=bin_size._dimensionality**-1)
    return neo.AnalogSignal(
        signal=np.expand_dims(signal, axis=1),
        sampling_period=bin_size,
        units=signal.units,
        t_start=t_start,
        normalization=output,
    )
