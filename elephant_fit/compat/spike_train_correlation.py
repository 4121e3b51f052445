"""Drop-in twins of ``elephant.spike_train_correlation`` (Elephant 1.2.1).

Same names, signatures, defaults, return types, errors and warnings as Elephant's functions; the
numbers come from :mod:`elephant_fit.statistics.correlation`. The functions accept Elephant's own
``BinnedSpikeTrain`` (and ``BinnedSpikeTrainView``) and ``neo.SpikeTrain``.

Divergences from Elephant 1.2.1 (Elephant is wrong in each case; we return the correct values):

* ``cross_correlation_histogram(..., method='speed')`` with an integer window that is not symmetric
  about the zero lag of the two trains (e.g. ``[-50, 20]``, ``[20, 30]``, or any window when
  ``t_start`` or ``n_bins`` differ) returns too few values and wrong values in Elephant (the
  zero-padding is ``min(-left, right)`` bins on both sides); ``method='memory'`` is right. Here both
  methods return what Elephant's ``'memory'`` returns.
* ``border_correction=True`` when the trains have different ``t_start``: Elephant measures the
  distance of each lag to the lags of full overlap with the two lag axes offset by the shift of
  ``t_start`` (and can divide by zero or negative numbers); here the factor is always
  ``min(n_bins_i, n_bins_j) / (number of overlapping bins at that lag)``.
* a ``kernel`` longer than the CCH but shorter than Elephant's bound ``|left| + |right| + 1`` makes
  Elephant return a signal longer than its lags; here it raises Elephant's ``ValueError``.
* inputs are never modified (Elephant rescales ``binned_spiketrain_j`` to the units of
  ``binned_spiketrain_i`` in place); non-quantity ``dt`` raises ``TypeError`` (Elephant:
  ``AttributeError``); the 'valid' lags are computed from the integer bin counts rather than by
  truncating float differences of ``t_stop``.
"""

from __future__ import annotations

import warnings
from typing import Any

import neo
import numpy as np
import quantities as pq
import scipy.sparse
import torch
from elephant.utils import check_neo_consistency

from .._validation import describe
from ..errors import ArgumentTypeError, ArgumentValueError
from ..statistics import correlation as _correlation
from ..statistics._padding import pad_spike_times

__all__ = [
    "cch",
    "corrcoef",
    "correlation_coefficient",
    "covariance",
    "cross_correlation_histogram",
    "spike_time_tiling_coefficient",
    "spike_train_timescale",
    "sttc",
]

#: Elephant's threshold of sparsity above which ``fast=True`` uses dense numpy (and so decides
#: which warnings are emitted).
_SPARSITY_MEMORY_EFFICIENT_THR = 0.1
#: Relative cost of one product in a sparse (scipy) Gram matrix and in a dense int8 one, measured.
_SPARSE_TO_DENSE_COST = 2500.0
#: Largest dense int8 matrix built for a Gram matrix (bytes).
_MAX_DENSE_ELEMENTS = 1 << 28
_EMPTY_TRAINS_MESSAGE = "Detected empty spike trains (rows) in the binned_spiketrain."


# ------------------------------------------------------------------------------------ conversion
def _check_binned(value: Any, name: str) -> Any:
    """Check for an Elephant ``BinnedSpikeTrain`` (or anything with its attributes)."""
    needed = ("sparse_matrix", "n_bins", "_t_start", "_bin_size", "units")
    if not all(hasattr(value, attribute) for attribute in needed):
        raise ArgumentTypeError(
            f"Expected `{name}` to be an elephant.conversion.BinnedSpikeTrain, but got "
            f"{describe(value)}."
        )
    return value


def _train_counts(binned: Any) -> torch.Tensor:
    """The counts of a one-row ``BinnedSpikeTrain`` as a float64 tensor of shape (n_bins,)."""
    return torch.from_numpy(np.asarray(binned.to_array()[0], dtype=np.float64))


def _with_data(matrix: scipy.sparse.csr_matrix, data: np.ndarray) -> scipy.sparse.csr_matrix:
    """The same sparsity pattern with other values (indices shared, input untouched)."""
    return scipy.sparse.csr_matrix((data, matrix.indices, matrix.indptr), shape=matrix.shape)


def _int8_gram(matrix: scipy.sparse.csr_matrix) -> torch.Tensor | None:
    """Exact Gram matrix of small integer counts by a dense int8 product; None if not possible."""
    n_trains, n_bins = matrix.shape
    data = matrix.data
    if (
        not np.issubdtype(data.dtype, np.integer)
        or data.size == 0
        or n_trains * n_bins > _MAX_DENSE_ELEMENTS
        or data.min() < -127
        or data.max() > 127
    ):
        return None
    squares = np.asarray(matrix.multiply(matrix).sum(axis=1), dtype=np.float64)
    if squares.max() >= 2**31:  # int32 accumulators
        return None
    rows = torch.from_numpy(np.repeat(np.arange(n_trains, dtype=np.int64), np.diff(matrix.indptr)))
    dense = torch.zeros((n_trains, n_bins), dtype=torch.int8)
    dense[rows, torch.from_numpy(matrix.indices.astype(np.int64))] = torch.from_numpy(
        data.astype(np.int8)
    )
    try:
        return torch._int_mm(dense, dense.T).to(torch.float64)
    except (RuntimeError, AttributeError):  # pragma: no cover - builds without int8 products
        return None


def _binned_moments(binned: Any, binary: bool) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Gram matrix, spike counts per train and number of bins of a ``BinnedSpikeTrain``.

    The Gram matrix of the counts is computed exactly by whichever product is cheaper: scipy's
    sparse product (Elephant's) for very sparse matrices, a dense int8 one otherwise.
    """
    matrix = binned.sparse_matrix
    if matrix.format != "csr":
        matrix = matrix.tocsr()
    integral = np.issubdtype(matrix.data.dtype, np.integer)
    if binary:
        matrix = _with_data(matrix, _correlation._binarize(torch.from_numpy(matrix.data)).numpy())
    elif not integral:
        matrix = _with_data(matrix, matrix.data.astype(np.float64))
    n_trains, n_bins = matrix.shape
    sums = np.asarray(matrix.sum(axis=1), dtype=np.float64).reshape(n_trains)
    nnz = matrix.data.size
    # expected number of products of the sparse Gram matrix if spikes were spread uniformly
    sparse_cost = nnz + nnz**2 / n_bins
    dense_cost = n_trains * n_trains * n_bins / _SPARSE_TO_DENSE_COST + n_trains * n_bins / 30
    gram = _int8_gram(matrix) if dense_cost < sparse_cost else None
    if gram is None:
        largest = float(np.abs(matrix.data).max()) * float(np.abs(sums).max()) if nnz else 0.0
        if integral and largest >= np.iinfo(matrix.data.dtype).max:  # keep integer sums exact
            matrix = _with_data(matrix, matrix.data.astype(np.int64))
        gram = torch.from_numpy(np.asarray((matrix @ matrix.T).toarray(), dtype=np.float64))
    return gram, torch.from_numpy(sums), n_bins


def _warn_like_elephant(binned: Any, sums: torch.Tensor, fast: bool, corrcoef_norm: bool) -> None:
    """Elephant's warnings for empty trains, which depend on the path it would take.

    Elephant's memory-efficient path warns with a ``UserWarning``; where it then divides by a zero
    standard deviation (correlation coefficients, both paths) numpy adds a ``RuntimeWarning``.
    """
    if not bool((sums == 0).any()):
        return
    if not (fast and binned.sparsity > _SPARSITY_MEMORY_EFFICIENT_THR):
        warnings.warn(_EMPTY_TRAINS_MESSAGE, UserWarning, stacklevel=3)
    if corrcoef_norm:
        warnings.warn("invalid value encountered in divide", RuntimeWarning, stacklevel=3)


# -------------------------------------------------------------------- covariance / corrcoef
def covariance(binned_spiketrain: Any, binary: bool = False, fast: bool = True) -> np.ndarray:
    r"""Covariance matrix of N binned spike trains (twin of Elephant's ``covariance``).

    ``C[i, j] = <b_i - mu_i, b_j - mu_j> / (L - 1)`` with ``L`` the number of bins.

    Parameters
    ----------
    binned_spiketrain : elephant.conversion.BinnedSpikeTrain
        N binned spike trains (shape (N, L)).
    binary : bool, optional
        Count at most one spike per bin. Default: False.
    fast : bool, optional
        Kept for compatibility: it only decides, as in Elephant, whether empty trains are reported
        with a ``UserWarning`` (memory-efficient path) or silently (dense path, sparsity > 0.1).
        The computation is always exact and memory-efficient. Default: True.

    Returns
    -------
    np.ndarray
        Shape (N, N), float64, in squared spike counts per bin (no units); a 0-d array when
        N == 1.

    Raises
    ------
    TypeError
        If ``binned_spiketrain`` is not a ``BinnedSpikeTrain``.

    Warns
    -----
    UserWarning
        If a train is empty and Elephant would take its memory-efficient path.

    See Also
    --------
    elephant.spike_train_correlation.covariance : The Elephant function this twins.
    elephant_fit.statistics.covariance : The differentiable statistic on tensors.

    Examples
    --------
    >>> import neo
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.spike_train_correlation
    >>> from elephant.conversion import BinnedSpikeTrain
    >>> from elephant_fit.compat import spike_train_correlation
    >>> binned = BinnedSpikeTrain(
    ...     [
    ...         neo.SpikeTrain([0.1, 0.4, 0.7] * pq.s, t_stop=1 * pq.s),
    ...         neo.SpikeTrain([0.2, 0.45, 0.9] * pq.s, t_stop=1 * pq.s),
    ...     ],
    ...     bin_size=0.1 * pq.s,
    ... )
    >>> cov = spike_train_correlation.covariance(binned)
    >>> cov.shape, round(float(cov[0, 1]), 4)
    ((2, 2), 0.0111)
    >>> bool(np.allclose(cov, elephant.spike_train_correlation.covariance(binned)))
    True
    """
    _check_binned(binned_spiketrain, "binned_spiketrain")
    gram, sums, n_bins = _binned_moments(binned_spiketrain, binary)
    _warn_like_elephant(binned_spiketrain, sums, fast, corrcoef_norm=False)
    return np.squeeze(_correlation.covariance_from_moments(gram, sums, n_bins).numpy())


def correlation_coefficient(
    binned_spiketrain: Any, binary: bool = False, fast: bool = True
) -> np.ndarray:
    r"""Pearson correlation matrix of N binned spike trains (twin of Elephant's).

    ``C[i, j] = <b_i - mu_i, b_j - mu_j> / sqrt(<b_i - mu_i, b_i - mu_i> <b_j - mu_j, b_j - mu_j>)``.
    Rows and columns of empty trains are NaN.

    Parameters
    ----------
    binned_spiketrain : elephant.conversion.BinnedSpikeTrain
        N binned spike trains (shape (N, L)).
    binary : bool, optional
        Count at most one spike per bin. Default: False.
    fast : bool, optional
        As in :func:`covariance`: only decides which warning reports empty trains. Default: True.

    Returns
    -------
    np.ndarray
        Shape (N, N), float64, dimensionless; a 0-d array (1.0) when N == 1. Not clipped to
        [-1, 1] (Elephant's dense path clips; the differences are rounding errors).

    Raises
    ------
    TypeError
        If ``binned_spiketrain`` is not a ``BinnedSpikeTrain``.

    Warns
    -----
    UserWarning
        If a train is empty and Elephant would take its memory-efficient path (``RuntimeWarning``
        "invalid value encountered in divide" on its dense path, like ``np.corrcoef``).

    See Also
    --------
    elephant.spike_train_correlation.correlation_coefficient : The Elephant function this twins.
    elephant_fit.statistics.correlation_coefficient : The differentiable statistic on tensors.

    Examples
    --------
    >>> import neo
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.spike_train_correlation
    >>> from elephant.conversion import BinnedSpikeTrain
    >>> from elephant_fit.compat import spike_train_correlation
    >>> binned = BinnedSpikeTrain(
    ...     [
    ...         neo.SpikeTrain([0.1, 0.4, 0.7] * pq.s, t_stop=1 * pq.s),
    ...         neo.SpikeTrain([0.2, 0.45, 0.9] * pq.s, t_stop=1 * pq.s),
    ...     ],
    ...     bin_size=0.1 * pq.s,
    ... )
    >>> corr = spike_train_correlation.correlation_coefficient(binned)
    >>> corr.shape, round(float(corr[0, 1]), 4)
    ((2, 2), 0.0476)
    >>> theirs = elephant.spike_train_correlation.correlation_coefficient(binned)
    >>> bool(np.allclose(corr, theirs))
    True
    """
    _check_binned(binned_spiketrain, "binned_spiketrain")
    gram, sums, n_bins = _binned_moments(binned_spiketrain, binary)
    _warn_like_elephant(binned_spiketrain, sums, fast, corrcoef_norm=True)
    cov = _correlation.covariance_from_moments(gram, sums, n_bins)
    return np.squeeze(_correlation.correlation_from_covariance(cov).numpy())


def corrcoef(*args: Any, **kwargs: Any) -> np.ndarray:
    """Deprecated alias of :func:`~elephant_fit.compat.spike_train_correlation.correlation_coefficient` (warns ``DeprecationWarning``).

    Drop-in twin of Elephant's deprecated ``elephant.spike_train_correlation.corrcoef``: a
    wrapper (not the same object) that warns, then calls :func:`correlation_coefficient`.

    Parameters
    ----------
    *args, **kwargs
        Passed to :func:`correlation_coefficient`: an ``elephant.conversion.BinnedSpikeTrain``
        of N trains, then ``binary`` and ``fast``.

    Returns
    -------
    np.ndarray
        Shape (N, N), float64, dimensionless: see :func:`correlation_coefficient`.

    Warns
    -----
    DeprecationWarning
        On every call.

    See Also
    --------
    correlation_coefficient : The function to call instead.
    elephant.spike_train_correlation.correlation_coefficient : Its Elephant twin.

    Examples
    --------
    >>> import neo
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.spike_train_correlation
    >>> from elephant.conversion import BinnedSpikeTrain
    >>> from elephant_fit.compat import spike_train_correlation
    >>> binned = BinnedSpikeTrain(
    ...     [
    ...         neo.SpikeTrain([0.1, 0.4, 0.7] * pq.s, t_stop=1 * pq.s),
    ...         neo.SpikeTrain([0.2, 0.45, 0.9] * pq.s, t_stop=1 * pq.s),
    ...     ],
    ...     bin_size=0.1 * pq.s,
    ... )
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     corr = spike_train_correlation.corrcoef(binned)
    >>> [w.category.__name__ for w in caught]
    ['DeprecationWarning']
    >>> bool(np.allclose(corr, spike_train_correlation.correlation_coefficient(binned)))
    True
    """
    warnings.warn(
        "'corrcoef' is deprecated; use 'correlation_coefficient'", DeprecationWarning, stacklevel=2
    )
    return correlation_coefficient(*args, **kwargs)


# ------------------------------------------------------------------- cross-correlation histogram
def _is_integer_window(window: Any) -> bool:
    """Elephant's test for a window given as two integers."""
    try:
        return len(window) == 2 and all(np.issubdtype(type(edge), np.integer) for edge in window)
    except TypeError:
        return False


def _resolve_cch_window(
    window: Any, n_bins_i: int, n_bins_j: int, shift: int
) -> tuple[Any, np.ndarray, tuple[int, int]]:
    """Window for the functional layer, Elephant's lags, and Elephant's internal edges."""
    if isinstance(window, str) and window == "full":
        edges = (-n_bins_i + 1, n_bins_j - 1)
        lags = np.arange(edges[0] + shift, edges[1] + 1 + shift, dtype=np.int32)
        return "full", lags, edges
    if isinstance(window, str) and window == "valid":
        low, high = min(0, n_bins_j - n_bins_i), max(0, n_bins_j - n_bins_i)
        lags = np.arange(low + shift, high + shift + 1, dtype=np.int32)
        return "valid", lags, (int(lags[0]), int(lags[-1]))
    if not isinstance(window, str) and _is_integer_window(window):
        if window[0] >= window[1]:
            raise ArgumentValueError(
                f"Window's left edge ({window[0]}) must be lower than the right edge ({window[1]})"
            )
        edges = (int(window[0]) - shift, int(window[1]) - shift)
        if edges[0] < -n_bins_i + 1 or edges[1] > n_bins_j - 1:
            raise ArgumentValueError("The window exceeds the length of the spike trains")
        lags = np.arange(window[0], window[1] + 1, dtype=np.int32)
        return edges, lags, edges
    if not isinstance(window, str) and not hasattr(window, "__len__"):
        raise ArgumentTypeError(
            "Expected `window` to be 'full', 'valid' or a list of two integers, but got "
            f"{describe(window)}."
        )
    raise ArgumentValueError("Invalid window parameter")


def _time_shift(binned_i: Any, binned_j: Any) -> int:
    """Shift of ``t_start`` of j relative to i in bins, with Elephant's checks."""
    if binned_i.shape[0] != 1 or binned_j.shape[0] != 1:
        raise ArgumentValueError("Spike trains must be one dimensional")
    scale = (
        binned_j.units.rescale(binned_i.units).item() if binned_j.units != binned_i.units else 1.0
    )
    if not np.isclose(binned_i._bin_size, binned_j._bin_size * scale):
        raise ArgumentValueError("Bin sizes must be equal")
    shift = (binned_j._t_start * scale - binned_i._t_start) / binned_i._bin_size
    if not np.isclose(shift, round(shift)):
        raise ArgumentValueError("Binned spiketrains time shift is not multiple of bin_size")
    return round(shift)


def _check_kernel(kernel: Any, edges: tuple[int, int], n_lags: int) -> np.ndarray:
    """Elephant's bound on the kernel length (and the length of the CCH itself)."""
    kernel = np.asarray(kernel, dtype=np.float64)
    bound = abs(edges[0]) + abs(edges[1]) + 1
    for limit in (bound, n_lags):
        if len(kernel) > limit:
            raise ArgumentValueError(
                f"The length of the kernel {len(kernel)} cannot be larger than the length "
                f"{limit} of the resulting CCH."
            )
    return kernel


def cross_correlation_histogram(
    binned_spiketrain_i: Any,
    binned_spiketrain_j: Any,
    window: str | list[int] | tuple[int, int] | np.ndarray = "full",
    border_correction: bool = False,
    binary: bool = False,
    kernel: np.ndarray | None = None,
    method: str = "speed",
    cross_correlation_coefficient: bool = False,
) -> tuple[neo.AnalogSignal, np.ndarray]:
    """Cross-correlation histogram of two binned spike trains (twin of Elephant's).

    Drop-in twin of ``elephant.spike_train_correlation.cross_correlation_histogram``, also
    available under Elephant's short name ``cch`` (the same function object). An entry at
    positive lag counts spikes of ``binned_spiketrain_j`` following spikes of
    ``binned_spiketrain_i``. The trains may have different ``t_start``/``t_stop`` (the shift of
    ``t_start`` must be a whole number of bins).

    Parameters
    ----------
    binned_spiketrain_i, binned_spiketrain_j : elephant.conversion.BinnedSpikeTrain
        One binned spike train each, same bin size.
    window : {'full', 'valid'} or list of two int, optional
        'full': every lag with overlap (N + M - 1 values); 'valid': the lags of full overlap
        (max(N, M) - min(N, M) + 1 values); ``[min_lag, max_lag]``: these lags (in bins), which
        must lie inside 'full' with ``min_lag < max_lag``. Default: 'full'.
    border_correction : bool, optional
        Multiply each lag by ``min(N, M) / (number of overlapping bins)``; no effect (with a
        warning) for ``window='valid'``. Default: False.
    binary : bool, optional
        Count at most one spike per bin. Default: False.
    kernel : np.ndarray or None, optional
        1-D smoothing kernel, normalised to unit area and applied like
        ``np.convolve(cch, kernel, mode='same')``; it cannot be longer than the CCH. Default: None.
    method : {'speed', 'memory'}, optional
        Accepted for compatibility; both give the same (exact) result. Unlike Elephant 1.2.1,
        'speed' is also right for asymmetric windows such as ``[-50, 20]`` (see the module notes).
        Default: 'speed'.
    cross_correlation_coefficient : bool, optional
        Normalise to the cross-correlation coefficient (Eggermont 2010, Eq. 5.10). Default: False.

    Returns
    -------
    cch_result : neo.AnalogSignal
        Shape (n_lags, 1), dimensionless (coincidence counts, or coefficients), ``t_start =
        (lags[0] - 0.5) * bin_size`` in the units of ``binned_spiketrain_i``, sampling period
        the bin size, annotation ``cch_parameters`` as Elephant's.
    lags : np.ndarray
        Shape (n_lags,), int32 lag of each value, in bins.

    Raises
    ------
    ValueError
        Elephant's errors: trains with more than one row, different bin sizes, a shift of
        ``t_start`` that is not a whole number of bins, an invalid or too long window, a kernel
        longer than the CCH.

    Warns
    -----
    UserWarning
        ``border_correction=True`` with ``window='valid'``.

    See Also
    --------
    elephant.spike_train_correlation.cross_correlation_histogram : The Elephant function this
        twins.
    elephant_fit.statistics.cross_correlation_histogram : The differentiable statistic on
        tensors.

    Examples
    --------
    >>> import neo
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.spike_train_correlation
    >>> from elephant.conversion import BinnedSpikeTrain
    >>> from elephant_fit.compat import spike_train_correlation
    >>> st_i = neo.SpikeTrain([0.1, 0.4, 0.7] * pq.s, t_stop=1 * pq.s)
    >>> st_j = neo.SpikeTrain([0.2, 0.45, 0.9] * pq.s, t_stop=1 * pq.s)
    >>> binned_i = BinnedSpikeTrain(st_i, bin_size=0.1 * pq.s)
    >>> binned_j = BinnedSpikeTrain(st_j, bin_size=0.1 * pq.s)
    >>> hist, lags = spike_train_correlation.cross_correlation_histogram(
    ...     binned_i, binned_j, window=[-2, 2]
    ... )
    >>> lags.tolist(), hist.magnitude.ravel().tolist()
    ([-2, -1, 0, 1, 2], [1.0, 0.0, 1.0, 1.0, 1.0])
    >>> theirs, their_lags = elephant.spike_train_correlation.cch(
    ...     binned_i, binned_j, window=[-2, 2]
    ... )
    >>> bool(np.allclose(hist.magnitude, theirs.magnitude)), bool((lags == their_lags).all())
    (True, True)
    """
    _check_binned(binned_spiketrain_i, "binned_spiketrain_i")
    _check_binned(binned_spiketrain_j, "binned_spiketrain_j")
    shift = _time_shift(binned_spiketrain_i, binned_spiketrain_j)
    n_bins_i, n_bins_j = binned_spiketrain_i.n_bins, binned_spiketrain_j.n_bins
    functional_window, lags, edges = _resolve_cch_window(window, n_bins_i, n_bins_j, shift)
    apply_border_correction = border_correction
    if border_correction and isinstance(window, str) and window == "valid":
        warnings.warn(
            "Border correction does not have any effect in 'valid' window mode since there are "
            "no border effects!",
            UserWarning,
            stacklevel=2,
        )
        apply_border_correction = False
    if kernel is not None:
        kernel = _check_kernel(kernel, edges, len(lags))
    values, _ = _correlation.cross_correlation_histogram(
        _train_counts(binned_spiketrain_i),
        _train_counts(binned_spiketrain_j),
        window=functional_window,
        border_correction=apply_border_correction,
        binary=binary,
        kernel=kernel,
        cross_correlation_coefficient=cross_correlation_coefficient,
    )
    parameters = {
        "window": window,
        "border_correction": border_correction,
        "binary": binary,
        "kernel": kernel is not None,
        "normalization": "normalized" if cross_correlation_coefficient else "counts",
    }
    units = binned_spiketrain_i.units
    signal = neo.AnalogSignal(
        signal=values.numpy()[:, np.newaxis],
        units=pq.dimensionless,
        t_start=pq.Quantity((lags[0] - 0.5) * binned_spiketrain_i._bin_size, units=units),
        sampling_period=binned_spiketrain_i.bin_size,
        cch_parameters=parameters,
    )
    return signal, lags


cch = cross_correlation_histogram


# ------------------------------------------------------------------ spike time tiling coefficient
def spike_time_tiling_coefficient(
    spiketrain_i: neo.SpikeTrain,
    spiketrain_j: neo.SpikeTrain,
    dt: pq.Quantity = 0.005 * pq.s,
) -> float:
    """Spike time tiling coefficient of two spike trains (twin of Elephant's ``sttc``).

    Drop-in twin of ``elephant.spike_train_correlation.spike_time_tiling_coefficient``, also
    available under Elephant's short name ``sttc`` (the same function object).
    ``STTC = 1/2 ((PA - TB) / (1 - PA TB) + (PB - TA) / (1 - PB TA))``, Cutts & Eglen (2014), with
    Elephant's closeness test ``np.isclose(t, s, atol=dt)`` (which adds ``1e-5 |s|`` to ``dt``) and
    its rule that a half with ``P T = 1`` counts as 1.

    Parameters
    ----------
    spiketrain_i, spiketrain_j : neo.SpikeTrain
        Same units, ``t_start`` and ``t_stop``.
    dt : pq.Quantity, optional
        Synchrony window, a positive scalar time quantity. Default: 5 ms.

    Returns
    -------
    float
        The STTC, dimensionless in ``[-1, 1]``, a ``numpy.float64`` as Elephant's; as in Elephant a plain ``float`` where it is
        NaN (a train is empty) or where both halves have ``P T = 1`` (the value 1; where a
        tiled fraction ``T`` is within rounding of 1 the two may disagree on that case).

    Raises
    ------
    ValueError
        ``dt <= 0``; different units, ``t_start`` or ``t_stop``.
    TypeError
        Inputs that are not ``neo.SpikeTrain``; ``dt`` that is not a quantity.

    See Also
    --------
    elephant.spike_train_correlation.spike_time_tiling_coefficient : The Elephant function
        this twins.
    elephant_fit.statistics.spike_time_tiling_coefficient : The differentiable statistic on
        tensors.

    Examples
    --------
    >>> import neo
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.spike_train_correlation
    >>> from elephant_fit.compat import spike_train_correlation
    >>> st_i = neo.SpikeTrain([0.1, 0.4, 0.7] * pq.s, t_stop=1 * pq.s)
    >>> st_j = neo.SpikeTrain([0.2, 0.45, 0.9] * pq.s, t_stop=1 * pq.s)
    >>> ours = spike_train_correlation.sttc(st_i, st_j, dt=50 * pq.ms)
    >>> round(float(ours), 4)
    0.037
    >>> theirs = elephant.spike_train_correlation.sttc(st_i, st_j, dt=50 * pq.ms)
    >>> bool(np.isclose(ours, theirs))
    True
    """
    if not isinstance(dt, pq.Quantity):
        raise ArgumentTypeError(
            f"Expected `dt` to be a time quantity (e.g. 5 * pq.ms), but got {describe(dt)}."
        )
    if dt <= 0 * pq.s:
        raise ArgumentValueError(f"dt must be > 0, found: {dt}")
    check_neo_consistency([spiketrain_j, spiketrain_i], neo.core.SpikeTrain)
    if dt.units != spiketrain_i.units:
        dt = dt.rescale(spiketrain_i.units)
    times, mask = pad_spike_times([spiketrain_i.magnitude, spiketrain_j.magnitude])
    index, both_degenerate = _correlation._spike_time_tiling(
        times[0],
        mask[0],
        times[1],
        mask[1],
        dt=float(dt.item()),
        t_start=float(spiketrain_i.t_start.item()),
        t_stop=float(spiketrain_i.t_stop.item()),
    )
    if len(spiketrain_i) == 0 or len(spiketrain_j) == 0:
        return float("nan")  # Elephant: np.nan, a Python float
    if bool(both_degenerate):
        return 1.0  # Elephant's literal 1.0
    return np.float64(index.item())


sttc = spike_time_tiling_coefficient


# ------------------------------------------------------------------------------------- timescale
def spike_train_timescale(binned_spiketrain: Any, max_tau: pq.Quantity) -> pq.Quantity | float:
    r"""Auto-correlation time of a binned spike train (twin of Elephant's).

    ``tau = \int_{-tau_max}^{tau_max} (C(tau) / C(0))^2 dtau`` (Wieland et al. 2015, Eq. 6),
    computed as Elephant does: twice the trapezoidal integral over lags ``bin_size ... max_tau`` of
    the squared cross-correlation coefficient normalised by its value at the first lag.

    Parameters
    ----------
    binned_spiketrain : elephant.conversion.BinnedSpikeTrain
        One binned spike train (shape (1, n_bins)).
    max_tau : pq.Quantity
        Integration limit, a scalar time quantity, a multiple of the bin size.

    Returns
    -------
    pq.Quantity or float
        The timescale in the units of the binned train; ``np.nan`` (a float, with a warning) if
        the train has fewer than 2 spikes.

    Raises
    ------
    ValueError
        ``max_tau`` without time units, not a multiple of the bin size, shorter than one bin or
        longer than the train.

    Warns
    -----
    UserWarning
        If the train has fewer than 2 spikes.

    See Also
    --------
    elephant.spike_train_correlation.spike_train_timescale : The Elephant function this twins.
    elephant_fit.statistics.spike_train_timescale : The differentiable statistic on tensors.

    Examples
    --------
    >>> import neo
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.spike_train_correlation
    >>> from elephant.conversion import BinnedSpikeTrain
    >>> from elephant_fit.compat import spike_train_correlation
    >>> st = neo.SpikeTrain([0.1, 0.4, 0.7] * pq.s, t_stop=1 * pq.s)
    >>> binned = BinnedSpikeTrain(st, bin_size=0.1 * pq.s)
    >>> tau = spike_train_correlation.spike_train_timescale(binned, max_tau=0.3 * pq.s)
    >>> round(float(tau.rescale("s")), 4)
    0.4494
    >>> theirs = elephant.spike_train_correlation.spike_train_timescale(binned, 0.3 * pq.s)
    >>> bool(np.isclose(tau.magnitude, theirs.magnitude))
    True
    """
    _check_binned(binned_spiketrain, "binned_spiketrain")
    if binned_spiketrain.get_num_of_spikes() < 2:
        warnings.warn(
            "Spike train contains less than 2 spikes! np.nan will be returned.",
            UserWarning,
            stacklevel=2,
        )
        return np.nan
    bin_size = binned_spiketrain._bin_size
    try:
        max_tau = max_tau.rescale(binned_spiketrain.units).item()
    except (AttributeError, ValueError) as error:
        raise ArgumentValueError("max_tau needs units of time") from error
    max_tau_bins = round(max_tau / bin_size)
    if not np.isclose(max_tau, max_tau_bins * bin_size):
        raise ArgumentValueError("max_tau has to be a multiple of the bin_size")
    if max_tau_bins <= 0:
        raise ArgumentValueError(
            f"Window's left edge ({-max_tau_bins}) must be lower than the right edge "
            f"({max_tau_bins})"
        )
    if binned_spiketrain.shape[0] != 1:
        raise ArgumentValueError("Spike trains must be one dimensional")
    if max_tau_bins > binned_spiketrain.n_bins - 1:
        raise ArgumentValueError("The window exceeds the length of the spike trains")
    counts = _train_counts(binned_spiketrain).unsqueeze(-1)
    timescale = _correlation.spike_train_timescale(counts, bin_size, max_tau_bins * bin_size)
    return pq.Quantity(float(timescale[0]), units=binned_spiketrain.units)
