"""Drop-in twins of Elephant 1.2.1's interval and count variability statistics.

``isi``, ``cv`` (Elephant's alias of ``scipy.stats.variation``), ``cv2``, ``lv``, ``lvr`` and
``fanofactor`` with Elephant's signatures, defaults, errors, warnings and return types; the
numbers come from :mod:`elephant_fit.statistics.variability`.

Extensions (only where Elephant raises):

* ``cv2``, ``lv`` and ``lvr`` also accept a *list* of interval vectors (arrays, quantities or
  lists; lengths may differ) and return one value per vector as a float64 array, computed in one
  padded, vectorised pass. Elephant raises ``ValueError`` for such input (not a vector); a 2-D
  array still raises as in Elephant.
* ``isi`` raises ``TypeError`` for boolean, complex or object arrays (NumPy's ``diff`` would
  compute an exclusive-or or fail).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import neo
import numpy as np
import quantities as pq
import torch
from elephant.trials import Trials
from elephant.utils import deprecated_alias
from numpy.lib.array_utils import normalize_axis_index

from .._validation import describe
from ..errors import ArgumentTypeError, ArgumentValueError
from ..statistics import variability as _functional
from ._rates import is_time_quantity, rescaled_magnitude

__all__ = ["cv", "cv2", "fanofactor", "isi", "lv", "lvr"]

_TOO_SHORT_WARNING = (
    "The input size is too small. Please provide"
    "an input with more than 1 entry. Returning `NaN`"
    "since the argument `with_nan` is `True`"
)
_TOO_SHORT_ERROR = (
    "Input size is too small. Please provide an input with more than 1 entry. Set 'with_nan' to "
    "True to replace the error by a warning."
)
_NAN_POLICIES = ("propagate", "raise", "omit")
#: SciPy's SmallSampleWarning texts (scipy.stats._axis_nan_policy).
_SMALL_1D = (
    "One or more sample arguments is too small; all returned values will be NaN. "
    "See documentation for sample size requirements."
)
_SMALL_1D_OMIT = (
    "After omitting NaNs, one or more sample arguments is too small; all returned values will "
    "be NaN. See documentation for sample size requirements."
)
_SMALL_ND = (
    "All axis-slices of one or more sample arguments are too small; all elements of returned "
    "arrays will be NaN. See documentation for sample size requirements."
)
_SMALL_ND_OMIT = (
    "After omitting NaNs, one or more axis-slices of one or more sample arguments is too small; "
    "corresponding elements of returned arrays will be NaN. See documentation for sample size "
    "requirements."
)

try:  # SciPy's (private) warning class, so that filters written for SciPy apply to ours too
    from scipy.stats._axis_nan_policy import SmallSampleWarning as _SmallSampleWarning
except ImportError:  # pragma: no cover - other SciPy versions: its base class
    _SmallSampleWarning = RuntimeWarning


# ------------------------------------------------------------------------------------------ isi
def isi(
    spiketrain: neo.SpikeTrain | pq.Quantity | np.ndarray | Sequence[float], axis: int = -1
) -> pq.Quantity | np.ndarray:
    """Inter-spike intervals: differences of consecutive spike times along ``axis``.

    Drop-in twin of ``elephant.statistics.isi``.

    Parameters
    ----------
    spiketrain : neo.SpikeTrain or pq.Quantity or np.ndarray or list
        Spike times (sorted along ``axis``), at least 1-D; a ``neo.SpikeTrain``, a time quantity
        or plain numbers of a real dtype.
    axis : int, optional
        Axis along which the differences are taken (default: the last).

    Returns
    -------
    pq.Quantity or np.ndarray
        Shape of the input with ``axis`` one shorter; a Quantity in the input's time units for
        SpikeTrain and Quantity input, else an array of the input's dtype.

    Raises
    ------
    ValueError
        For a 0-d input.
    TypeError
        For boolean, complex or object arrays.

    Warns
    -----
    UserWarning
        If an interval is negative (unsorted input).

    See Also
    --------
    elephant.statistics.isi : The Elephant function this twins.
    elephant_fit.statistics.isi : The differentiable statistic on tensors.

    Examples
    --------
    >>> import neo
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.statistics
    >>> from elephant_fit.compat import statistics
    >>> st = neo.SpikeTrain([0.1, 0.4, 0.7] * pq.s, t_stop=1 * pq.s)
    >>> intervals = statistics.isi(st)
    >>> np.round(intervals.magnitude, 3).tolist(), intervals.dimensionality.string
    ([0.3, 0.3], 's')
    >>> bool(np.allclose(intervals.magnitude, elephant.statistics.isi(st).magnitude))
    True
    """
    units = spiketrain.units if isinstance(spiketrain, pq.Quantity) else None
    times = np.asarray(spiketrain)
    if times.ndim == 0:
        raise ArgumentValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis_index(axis, times.ndim)
    if times.dtype.kind not in "iuf":
        raise ArgumentTypeError(
            f"Expected `spiketrain` to hold real numbers, but got an array of dtype {times.dtype}."
        )
    dtype = times.dtype if times.dtype.kind == "f" else np.dtype(np.float64)
    values = torch.from_numpy(np.moveaxis(times, axis, -1).astype(dtype, copy=False))
    intervals, _ = _functional.isi(values)
    result = np.moveaxis(intervals.numpy(), -1, axis).astype(times.dtype, copy=False)
    if (result < 0).any():
        warnings.warn(
            "ISI evaluated to negative values. Please sort the input array.", stacklevel=2
        )
    return result if units is None else pq.Quantity(result, units=units)


# ------------------------------------------------------------------------------------------- cv
def _cv_dtype(values: np.ndarray) -> np.dtype:
    """Floating dtype of the result, as SciPy promotes (float32 stays, others -> float64)."""
    if values.dtype in (np.float32, np.float16):
        return values.dtype
    return np.dtype(np.float64)


def _cv_values(values: np.ndarray, nan_policy: str, ddof: int, dtype: np.dtype) -> np.ndarray:
    """Variation of each row of ``values`` (shape (..., n)) with SciPy's NaN handling."""
    data = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float64))
    mask = None
    if nan_policy == "omit":
        mask = ~torch.isnan(data)
        data = torch.where(mask, data, torch.zeros_like(data))
    return _functional.cv(data, mask, ddof=ddof).numpy().astype(dtype)


def _cv_1d(values: np.ndarray, nan_policy: str, ddof: int, dtype: np.dtype) -> np.ndarray:
    """SciPy's 1-D path: NaN checks, the too-small warning, then the statistic."""
    has_nan = nan_policy != "propagate" and bool(np.isnan(values).any())
    if has_nan and nan_policy == "raise":
        raise ArgumentValueError("The input contains nan values")
    if has_nan:  # omit
        values = values[~np.isnan(values)]
    if values.size == 0:
        warnings.warn(_SMALL_1D_OMIT if has_nan else _SMALL_1D, _SmallSampleWarning, stacklevel=3)
        return np.full((), np.nan, dtype=dtype)
    return _cv_values(values, "propagate", ddof, dtype)


def _cv_nd(values: np.ndarray, nan_policy: str, ddof: int, dtype: np.dtype) -> np.ndarray:
    """SciPy's N-D path over the last axis of ``values`` (shape (..., n))."""
    if values.shape[-1] == 0:
        if values.size == 0 and np.prod(values.shape[:-1]) != 0:
            warnings.warn(_SMALL_ND, _SmallSampleWarning, stacklevel=3)
        return np.full(values.shape[:-1], np.nan, dtype=dtype)
    has_nan = nan_policy != "propagate" and bool(np.isnan(values).any())
    if has_nan and nan_policy == "raise":
        raise ArgumentValueError("The input contains nan values")
    if has_nan and (np.isnan(values).all(axis=-1)).any():
        warnings.warn(_SMALL_ND_OMIT, _SmallSampleWarning, stacklevel=3)
    return _cv_values(values, nan_policy if has_nan else "propagate", ddof, dtype)


def cv(
    a: Any,
    axis: int | None = 0,
    nan_policy: str = "propagate",
    ddof: int = 0,
    *,
    keepdims: bool = False,
) -> np.float64 | np.ndarray:
    """Coefficient of variation, ``std(a, ddof) / mean(a)`` along ``axis``.

    Drop-in twin of ``elephant.statistics.cv`` (Elephant's alias of ``scipy.stats.variation``)
    for NumPy arrays, quantities and lists.

    Parameters
    ----------
    a : array_like
        Input values (e.g. inter-spike intervals); quantities are used as their magnitudes.
    axis : int or None, optional
        Axis of the computation; None uses the flattened array.
    nan_policy : {'propagate', 'raise', 'omit'}, optional
        NaN handling: return NaN, raise ``ValueError``, or ignore NaNs.
    ddof : int, optional
        Delta degrees of freedom of the standard deviation.
    keepdims : bool, optional
        Keep the reduced axes with length one.

    Returns
    -------
    np.float64 or np.ndarray
        Dimensionless: a scalar for 1-D input (or ``axis=None``), else an array without
        ``axis``. float32 input gives float32. NaN for empty input (with SciPy's
        ``SmallSampleWarning``), inf or NaN for a zero mean, +-inf or NaN when ``ddof`` equals
        the sample size.

    Raises
    ------
    ValueError
        For an unknown ``nan_policy``, or NaNs with ``nan_policy='raise'``.
    TypeError
        For non-real input or a non-integer ``axis``.

    See Also
    --------
    elephant.statistics.cv : The Elephant function this twins.
    elephant_fit.statistics.cv : The differentiable statistic on tensors.

    Examples
    --------
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.statistics
    >>> from elephant_fit.compat import statistics
    >>> intervals = np.array([0.2, 0.4])  # inter-spike intervals, e.g. in s
    >>> ours = statistics.cv(intervals)
    >>> round(float(ours), 4)
    0.3333
    >>> bool(np.isclose(ours, elephant.statistics.cv(intervals)))
    True
    """
    if (
        type(a) is np.ndarray
        and a.ndim == 1
        and a.dtype == np.float64
        and type(ddof) is int
        and a.size > max(ddof, 0)
        and axis in (0, -1)
        and nan_policy == "propagate"
        and not keepdims
    ):  # the common call cv(isi_array): straight to the functional layer
        return np.float64(_functional.cv(torch.from_numpy(a), ddof=ddof).item())
    if nan_policy not in _NAN_POLICIES:
        raise ArgumentValueError("nan_policy must be one of {'propagate', 'raise', 'omit'}.")
    values = np.asarray(a)
    if values.dtype.kind not in "biuf":
        raise ArgumentTypeError(f"Expected `a` to hold real numbers, but got {describe(a)}.")
    dtype = _cv_dtype(values)
    values = np.atleast_1d(values)
    ndim = values.ndim
    if axis is None:
        values = values.reshape(-1)
    else:
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ArgumentTypeError(
                f"Expected `axis` to be an integer or None, but got {describe(axis)}."
            )
        if not -ndim <= axis < ndim:
            raise np.exceptions.AxisError(f"`axis` is out of bounds for array of dimension {ndim}")
        values = np.moveaxis(values, axis, -1)
    if values.ndim == 1:
        result = _cv_1d(values, nan_policy, ddof, dtype)
    else:
        result = _cv_nd(values, nan_policy, ddof, dtype)
    if keepdims:
        result = _keep_reduced(np.asarray(result), ndim, axis)
    return result[()] if np.ndim(result) == 0 else result


def _keep_reduced(result: np.ndarray, ndim: int, axis: int | None) -> np.ndarray:
    """Reinsert the reduced axis (or all axes for ``axis=None``) with length one."""
    if axis is None:
        return result.reshape((1,) * ndim)
    return np.expand_dims(result, axis % ndim)


# ----------------------------------------------------------------------------- cv2, lv and lvr
def _is_batch(time_intervals: Any) -> bool:
    """A list or tuple of 1-D interval vectors (our batched extension)."""
    if not isinstance(time_intervals, (list, tuple)) or len(time_intervals) == 0:
        return False
    for item in time_intervals:
        if isinstance(item, np.ndarray):
            if item.ndim != 1:
                return False
        elif not isinstance(item, (list, tuple)):
            return False
    return True


def _too_short(with_nan: bool, stacklevel: int) -> None:
    """Elephant's reaction to fewer than two intervals: warn (NaN result) or raise."""
    if not with_nan:
        raise ArgumentValueError(_TOO_SHORT_ERROR)
    warnings.warn(_TOO_SHORT_WARNING, stacklevel=stacklevel)


def _magnitude(item: Any, to_ms: bool) -> np.ndarray:
    """Float64 magnitudes of one interval vector (rescaled to ms if ``to_ms``)."""
    if to_ms and isinstance(item, pq.Quantity):
        return np.asarray(rescaled_magnitude(item, pq.ms), dtype=np.float64)
    return np.asarray(item, dtype=np.float64)


def _single(
    time_intervals: Any, with_nan: bool, to_ms: bool, stacklevel: int
) -> torch.Tensor | None:
    """One vector as a (1, n) tensor, after Elephant's checks; None when too short."""
    values = _magnitude(time_intervals, to_ms)
    if values.ndim != 1:
        raise ArgumentValueError(f"The input must be a vector, not a {values.ndim}-dim matrix.")
    if values.size < 2:
        _too_short(with_nan, stacklevel + 1)
        return None
    return torch.from_numpy(values).unsqueeze(0)


def _batch(
    items: Sequence[Any], with_nan: bool, to_ms: bool, stacklevel: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Vectors of different lengths as zero-padded values (n, max_len) and their mask."""
    arrays = [_magnitude(item, to_ms) for item in items] if to_ms else items
    lengths = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
    if (lengths < 2).any():
        _too_short(with_nan, stacklevel + 1)
    width = int(lengths.max())
    mask = np.arange(width) < lengths[:, None]
    values = np.zeros(mask.shape)
    values[mask] = np.asarray(np.concatenate(arrays), dtype=np.float64)
    return torch.from_numpy(values), torch.from_numpy(mask)


def _interval_statistic(
    time_intervals: Any, with_nan: bool, statistic: Any, to_ms: bool = False, stacklevel: int = 4
) -> np.float64 | np.ndarray:
    """Elephant's checks, then ``statistic(values, mask)`` for one vector or (extension) a list.

    ``stacklevel`` counts the frames from this function up to the user's call (for warnings).
    """
    if _is_batch(time_intervals):
        values, mask = _batch(time_intervals, with_nan, to_ms, stacklevel + 1)
        return statistic(values, mask).numpy()
    values = _single(time_intervals, with_nan, to_ms, stacklevel + 1)
    if values is None:
        return np.nan
    return statistic(values, None).numpy()[0]


def _has_units(time_intervals: Any) -> bool:
    """Whether the intervals (every vector of a batch) carry units."""
    if _is_batch(time_intervals):
        return all(isinstance(item, pq.Quantity) for item in time_intervals)
    return isinstance(time_intervals, pq.Quantity)


@deprecated_alias(v="time_intervals")
def cv2(time_intervals: Any, with_nan: bool = False) -> np.float64 | np.ndarray:
    """CV2 of a sequence of intervals (Holt et al. 1996).

    Drop-in twin of ``elephant.statistics.cv2``: ``2 * mean(|I[i+1] - I[i]| / (I[i+1] + I[i]))``.

    Parameters
    ----------
    time_intervals : pq.Quantity or np.ndarray or list, or a list of them
        A vector of consecutive intervals; or (extension) a list of such vectors.
    with_nan : bool, optional
        For fewer than two intervals, warn and return NaN instead of raising ``ValueError``.

    Returns
    -------
    np.float64 or np.ndarray
        The CV2 (dimensionless, in ``[0, 2)``); for a list of vectors, an array of shape
        (n_vectors,).

    Raises
    ------
    ValueError
        For input that is not a vector, or fewer than two intervals with ``with_nan=False``.

    Warns
    -----
    UserWarning
        For fewer than two intervals with ``with_nan=True``.

    See Also
    --------
    elephant.statistics.cv2 : The Elephant function this twins.
    elephant_fit.statistics.cv2 : The differentiable statistic on tensors.

    Examples
    --------
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.statistics
    >>> from elephant_fit.compat import statistics
    >>> intervals = [0.2, 0.4] * pq.s
    >>> ours = statistics.cv2(intervals)
    >>> round(float(ours), 4)
    0.6667
    >>> bool(np.isclose(ours, elephant.statistics.cv2(intervals)))
    True
    """
    return _interval_statistic(time_intervals, with_nan, _functional.cv2)


@deprecated_alias(v="time_intervals")
def lv(time_intervals: Any, with_nan: bool = False) -> np.float64 | np.ndarray:
    """Local variation Lv of a sequence of intervals (Shinomoto et al. 2003).

    Drop-in twin of ``elephant.statistics.lv``:
    ``3 * mean(((I[i+1] - I[i]) / (I[i+1] + I[i]))**2)``.

    Parameters
    ----------
    time_intervals : pq.Quantity or np.ndarray or list, or a list of them
        A vector of consecutive intervals; or (extension) a list of such vectors.
    with_nan : bool, optional
        For fewer than two intervals, warn and return NaN instead of raising ``ValueError``.

    Returns
    -------
    np.float64 or np.ndarray
        The Lv (dimensionless, in ``[0, 3)``); for a list of vectors, an array of shape
        (n_vectors,).

    Raises
    ------
    ValueError
        For input that is not a vector, or fewer than two intervals with ``with_nan=False``.

    Warns
    -----
    UserWarning
        For fewer than two intervals with ``with_nan=True``.

    See Also
    --------
    elephant.statistics.lv : The Elephant function this twins.
    elephant_fit.statistics.lv : The differentiable statistic on tensors.

    Examples
    --------
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.statistics
    >>> from elephant_fit.compat import statistics
    >>> intervals = [0.2, 0.4] * pq.s
    >>> ours = statistics.lv(intervals)
    >>> round(float(ours), 4)
    0.3333
    >>> bool(np.isclose(ours, elephant.statistics.lv(intervals)))
    True
    """
    return _interval_statistic(time_intervals, with_nan, _functional.lv)


def lvr(
    time_intervals: Any, R: pq.Quantity | float = 5 * pq.ms, with_nan: bool = False
) -> np.float64 | np.ndarray:
    """Revised local variation LvR of a sequence of intervals (Shinomoto et al. 2009).

    Drop-in twin of ``elephant.statistics.lvr``; intervals and ``R`` are taken in ms (plain
    numbers are assumed to be ms, with a warning).

    Parameters
    ----------
    time_intervals : pq.Quantity or np.ndarray or list, or a list of them
        A vector of consecutive intervals (a time quantity, or plain numbers in ms); or
        (extension) a list of such vectors.
    R : pq.Quantity or float, optional
        Refractoriness constant (>= 0), a scalar time quantity or a number in ms. Default: 5 ms.
    with_nan : bool, optional
        For fewer than two intervals, warn and return NaN instead of raising ``ValueError``.

    Returns
    -------
    np.float64 or np.ndarray
        The LvR (dimensionless); for a list of vectors, an array of shape (n_vectors,).

    Raises
    ------
    ValueError
        For a negative ``R``, input that is not a vector, or fewer than two intervals with
        ``with_nan=False``.

    Warns
    -----
    UserWarning
        When ``R`` or the intervals carry no units (milliseconds are assumed), or for fewer
        than two intervals with ``with_nan=True``.

    See Also
    --------
    elephant.statistics.lvr : The Elephant function this twins.
    elephant_fit.statistics.lvr : The differentiable statistic on tensors.

    Examples
    --------
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.statistics
    >>> from elephant_fit.compat import statistics
    >>> intervals = [0.2, 0.4] * pq.s
    >>> ours = statistics.lvr(intervals, R=5 * pq.ms)
    >>> round(float(ours), 4)
    0.3444
    >>> bool(np.isclose(ours, elephant.statistics.lvr(intervals, R=5 * pq.ms)))
    True
    """
    if isinstance(R, pq.Quantity):
        R = rescaled_magnitude(R, pq.ms)
    else:
        warnings.warn("No units specified for R, assuming milliseconds (ms)", stacklevel=2)
    if R < 0:
        raise ArgumentValueError("R must be >= 0")
    if not _has_units(time_intervals):
        warnings.warn(
            "No units specified for time_intervals, assuming milliseconds (ms)", stacklevel=2
        )
    refractoriness = float(R)

    def statistic(values: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return _functional.lvr(values, mask, R=refractoriness)

    return _interval_statistic(time_intervals, with_nan, statistic, to_ms=True, stacklevel=3)


# ----------------------------------------------------------------------------------- fanofactor
def _duration_warnings(columns: list[list[Any]], warn_tolerance: Any) -> None:
    """Elephant's duration check, per group of SpikeTrains (magnitudes, as Elephant compares)."""
    for trains in columns:
        if not all(isinstance(st, neo.SpikeTrain) for st in trains):
            continue
        if not is_time_quantity(warn_tolerance):
            raise ArgumentTypeError(
                f"'warn_tolerance' must be a time quantity, but got {type(warn_tolerance)}"
            )
        durations = np.fromiter(
            (st.t_stop.item() - st.t_start.item() for st in trains), np.float64, len(trains)
        )
        if durations.max() - durations.min() > float(np.asarray(warn_tolerance).reshape(-1)[0]):
            warnings.warn(
                f"Fano factor calculated for spike trains of different duration (minimum: "
                f"{np.min(durations)}s, maximum {np.max(durations)}s).",
                stacklevel=4,
            )


def _fano_columns(columns: list[list[Any]], warn_tolerance: Any) -> list[float]:
    """Fano factor of each group of trains: NaN if all are empty, else var / mean of counts."""
    counts = np.array([[len(st) for st in trains] for trains in columns], dtype=np.float64)
    counts = counts.reshape(len(columns), -1)
    silent = ~counts.any(axis=1)
    _duration_warnings([c for c, s in zip(columns, silent, strict=True) if not s], warn_tolerance)
    factors = _functional.fanofactor(torch.from_numpy(counts), dim=1).numpy()
    return [np.nan if s else np.float64(f) for f, s in zip(factors, silent, strict=True)]


def fanofactor(
    spiketrains: Sequence[neo.SpikeTrain] | Sequence[pq.Quantity] | Sequence[np.ndarray] | Trials,
    warn_tolerance: pq.Quantity = 0.1 * pq.ms,
) -> float | list[float]:
    """Fano factor (``var / mean``, ``ddof=0``) of the spike counts of spike trains.

    Drop-in twin of ``elephant.statistics.fanofactor``.

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain, pq.Quantity, np.ndarray or lists, or Trials
        Spike trains (their lengths are the counts); or an ``elephant.trials.Trials`` object, for
        one Fano factor per spike train across trials.
    warn_tolerance : pq.Quantity, optional
        Warn when SpikeTrains' durations differ by more than this (compared as magnitudes,
        as Elephant does).

    Returns
    -------
    float or list of float
        The Fano factor (``np.float64``; NaN if every train is empty or the list is empty); a
        list of them for a Trials object.

    Raises
    ------
    TypeError
        If the trains are SpikeTrains and ``warn_tolerance`` is not a time quantity.

    Warns
    -----
    UserWarning
        If the SpikeTrains' durations differ by more than ``warn_tolerance``.

    See Also
    --------
    elephant.statistics.fanofactor : The Elephant function this twins.
    elephant_fit.statistics.fanofactor : The differentiable statistic on tensors.

    Examples
    --------
    >>> import neo
    >>> import quantities as pq
    >>> import elephant.statistics
    >>> from elephant_fit.compat import statistics
    >>> trains = [
    ...     neo.SpikeTrain([0.1, 0.4, 0.7] * pq.s, t_stop=1 * pq.s),
    ...     neo.SpikeTrain([0.5] * pq.s, t_stop=1 * pq.s),
    ... ]
    >>> ours = statistics.fanofactor(trains)  # counts 3 and 1: variance 1, mean 2
    >>> float(ours), bool(ours == elephant.statistics.fanofactor(trains))
    (0.5, True)
    """
    if isinstance(spiketrains, Trials):
        trials = [
            spiketrains.get_spiketrains_from_trial_as_list(trial_id=k)
            for k in range(spiketrains.n_trials)
        ]
        columns = [[trial[j] for trial in trials] for j in range(len(trials[0]))]
        return _fano_columns(columns, warn_tolerance) if columns else []
    return _fano_columns([list(spiketrains)], warn_tolerance)[0]
