"""Spike-train variability (ISI statistics and Fano factors) as differentiable torch functions.

Definitions follow ``elephant.statistics`` (Elephant 1.2.1):

* ``isi``: differences of consecutive spike times;
* ``cv``: ``scipy.stats.variation`` (which Elephant exposes as ``cv``): the standard deviation
  (``ddof=0`` by default) divided by the mean;
* ``cv2`` (Holt et al. 1996): ``2 * mean(|I[i+1] - I[i]| / (I[i+1] + I[i]))``;
* ``lv`` (Shinomoto et al. 2003): ``3 * mean(((I[i+1] - I[i]) / (I[i+1] + I[i]))**2)``;
* ``lvr`` (Shinomoto et al. 2009): ``3 / (N - 1) * sum((1 - 4 I[i] I[i+1] / (I[i] + I[i+1])**2)
  * (1 + 4 R / (I[i] + I[i+1])))``;
* ``fanofactor``: variance (``ddof=0``, as ``np.var``) over mean of spike counts across trials.

The interval statistics take padded intervals (..., n_trains, max_intervals) and a bool mask, as
returned by :func:`isi` from padded spike times; compose them as ``lv(*isi(times, mask))``. Where
a statistic is undefined (fewer than two intervals, fewer than one for ``cv``) it is NaN; the
gradient there is zero, never NaN.
"""

from __future__ import annotations

import math

import torch

from .._validation import (
    check_bool_mask,
    check_float_tensor,
    check_int,
    check_positive_int,
    describe,
)
from ..errors import ArgumentTypeError, ArgumentValueError
from ._safe import clipped_sqrt, safe_divide

__all__ = [
    "cv",
    "cv2",
    "fanofactor",
    "fanofactor_windows",
    "fanofactor_windows_finish",
    "fanofactor_windows_sums",
    "isi",
    "lv",
    "lvr",
    "window_counts",
]

#: Block size below which NumPy's pairwise summation adds sequentially (8 accumulators).
_PAIRWISE_BLOCK = 128


def _check_values(value: object, name: str, shape: str, min_ndim: int = 1) -> torch.Tensor:
    """Raise unless ``value`` is a floating tensor with at least ``min_ndim`` dimensions."""
    return check_float_tensor(value, name, min_ndim, shape)


def _check_mask(mask: object, values: torch.Tensor, values_name: str) -> torch.Tensor | None:
    """None (every entry real), or a bool tensor of the shape of ``values``."""
    if mask is None:
        return None
    return check_bool_mask(mask, "mask", values, values_name)


def isi(times: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Inter-spike intervals of padded spike trains.

    Parameters
    ----------
    times : torch.Tensor
        Shape (..., n_trains, max_spikes): spike times, padded (see ``_padding``).
    mask : torch.Tensor, optional
        Shape (..., n_trains, max_spikes), bool, True on real spikes (a prefix of each row).
        Default: every entry is a spike.

    Returns
    -------
    intervals : torch.Tensor
        Shape (..., n_trains, max(max_spikes - 1, 0)): ``times[..., i + 1] - times[..., i]``, in
        the unit of ``times``; padding holds finite values (0 when padding repeats the last
        spike). Differentiable.
    interval_mask : torch.Tensor
        Same shape, bool, True on real intervals.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import isi
    >>> times = torch.tensor([[10.0, 30.0, 60.0, 80.0], [20.0, 50.0, 50.0, 50.0]])  # ms, padded
    >>> mask = torch.tensor([[True, True, True, True], [True, True, False, False]])
    >>> intervals, interval_mask = isi(times, mask)
    >>> intervals.tolist()  # ms
    [[20.0, 30.0, 20.0], [30.0, 0.0, 0.0]]
    >>> interval_mask.tolist()
    [[True, True, True], [True, False, False]]
    """
    times = _check_values(times, "times", "(..., n_trains, max_spikes)")
    mask = _check_mask(mask, times, "times")
    intervals = times[..., 1:] - times[..., :-1]
    if mask is None:
        return intervals, torch.ones(intervals.shape, dtype=torch.bool, device=times.device)
    return intervals, mask[..., 1:] & mask[..., :-1]


def _pairs(
    intervals: torch.Tensor, mask: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Consecutive pairs ``(I[i], I[i+1])``, their mask (None: all real) and count per train."""
    intervals = _check_values(intervals, "intervals", "(..., n_trains, max_intervals)")
    mask = _check_mask(mask, intervals, "intervals")
    first, second = intervals[..., :-1], intervals[..., 1:]
    if mask is None:
        n_pairs = torch.full(
            intervals.shape[:-1], first.shape[-1], dtype=torch.int64, device=intervals.device
        )
        return first, second, None, n_pairs
    pair_mask = mask[..., :-1] & mask[..., 1:]
    return first, second, pair_mask, pair_mask.sum(dim=-1)


def _pair_sums(
    first: torch.Tensor, second: torch.Tensor, pair_mask: torch.Tensor | None
) -> torch.Tensor:
    """``I[i] + I[i+1]``, replaced by 1 on padding so that divisions stay finite."""
    total = first + second
    if pair_mask is None:
        return total
    return torch.where(pair_mask, total, 1.0)


def _masked(values: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``values`` with padding entries set to 0 (unchanged without a mask)."""
    if mask is None:
        return values
    return torch.where(mask, values, 0.0)


def _mean_over_pairs(terms: torch.Tensor, n_pairs: torch.Tensor) -> torch.Tensor:
    """Sum of ``terms`` over the last axis divided by ``n_pairs``; NaN where there is no pair."""
    total = terms.sum(dim=-1)
    return safe_divide(total, n_pairs.to(total.dtype), n_pairs > 0)


def cv2(intervals: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """CV2 of each train's intervals (Holt et al. 1996), as ``elephant.statistics.cv2``.

    Parameters
    ----------
    intervals : torch.Tensor
        Shape (..., n_trains, max_intervals), padded intervals.
    mask : torch.Tensor, optional
        Same shape, bool, True on real intervals. Default: all real.

    Returns
    -------
    torch.Tensor
        Shape (..., n_trains), dimensionless: ``2 * mean(|I[i+1] - I[i]| / (I[i+1] + I[i]))``; NaN
        for trains with fewer than two intervals. Differentiable.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from elephant.statistics import cv2 as elephant_cv2
    >>> from elephant_fit.statistics import cv2, isi
    >>> times = torch.tensor([[10.0, 30.0, 60.0, 80.0], [20.0, 50.0, 50.0, 50.0]])  # ms, padded
    >>> mask = torch.tensor([[True, True, True, True], [True, True, False, False]])
    >>> values = cv2(*isi(times, mask))  # the second train has a single interval
    >>> [round(value, 4) for value in values.tolist()]
    [0.4, nan]
    >>> bool(np.isclose(values[0].item(), elephant_cv2(np.array([20.0, 30.0, 20.0]))))
    True
    """
    first, second, pair_mask, n_pairs = _pairs(intervals, mask)
    ratio = (second - first) / _pair_sums(first, second, pair_mask)
    return 2.0 * _mean_over_pairs(_masked(ratio.abs(), pair_mask), n_pairs)


def lv(intervals: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Local variation Lv of each train's intervals (Shinomoto et al. 2003), as Elephant's ``lv``.

    Parameters
    ----------
    intervals : torch.Tensor
        Shape (..., n_trains, max_intervals), padded intervals.
    mask : torch.Tensor, optional
        Same shape, bool, True on real intervals. Default: all real.

    Returns
    -------
    torch.Tensor
        Shape (..., n_trains), dimensionless: ``3 * mean(((I[i+1] - I[i]) / (I[i+1] + I[i]))**2)``;
        NaN for trains with fewer than two intervals. Differentiable.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from elephant.statistics import lv as elephant_lv
    >>> from elephant_fit.statistics import isi, lv
    >>> times = torch.tensor([[10.0, 30.0, 60.0, 80.0], [20.0, 50.0, 50.0, 50.0]])  # ms, padded
    >>> mask = torch.tensor([[True, True, True, True], [True, True, False, False]])
    >>> values = lv(*isi(times, mask))  # the second train has a single interval
    >>> [round(value, 4) for value in values.tolist()]
    [0.12, nan]
    >>> bool(np.isclose(values[0].item(), elephant_lv(np.array([20.0, 30.0, 20.0]))))
    True
    """
    first, second, pair_mask, n_pairs = _pairs(intervals, mask)
    ratio = (second - first) / _pair_sums(first, second, pair_mask)
    return 3.0 * _mean_over_pairs(_masked(ratio.pow(2), pair_mask), n_pairs)


def lvr(intervals: torch.Tensor, mask: torch.Tensor | None = None, R: float = 5.0) -> torch.Tensor:
    """Revised local variation LvR (Shinomoto et al. 2009), as Elephant's ``lvr``.

    Parameters
    ----------
    intervals : torch.Tensor
        Shape (..., n_trains, max_intervals), padded intervals.
    mask : torch.Tensor, optional
        Same shape, bool, True on real intervals. Default: all real.
    R : float, optional
        Refractoriness constant (>= 0) in the time unit of ``intervals``. The default 5.0 is
        Elephant's 5 ms for intervals in milliseconds (Elephant's unit for plain numbers).

    Returns
    -------
    torch.Tensor
        Shape (..., n_trains), dimensionless:
        ``3 / (N - 1) * sum((1 - 4 I[i] I[i+1] / t**2) * (1 + 4 R / t))`` with
        ``t = I[i] + I[i+1]`` and N intervals; NaN for trains with fewer than two intervals.
        Differentiable.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import isi, lvr
    >>> times = torch.tensor([[10.0, 30.0, 60.0, 80.0], [20.0, 50.0, 50.0, 50.0]])  # ms, padded
    >>> mask = torch.tensor([[True, True, True, True], [True, True, False, False]])
    >>> intervals, interval_mask = isi(times, mask)
    >>> [round(value, 4) for value in lvr(intervals, interval_mask, R=5.0).tolist()]  # R = 5 ms
    [0.168, nan]
    >>> round(lvr(intervals, interval_mask, R=0.0)[0].item(), 4)  # without refractoriness: Lv
    0.12
    """
    if isinstance(R, bool) or not isinstance(R, (int, float)):
        raise ArgumentTypeError(f"Expected `R` to be a non-negative number, but got {describe(R)}.")
    if not R >= 0:  # NaN fails too; inf is allowed
        raise ArgumentValueError(
            f"Expected `R` to be a non-negative number, but got {describe(R)}."
        )
    first, second, pair_mask, n_pairs = _pairs(intervals, mask)
    total = _pair_sums(first, second, pair_mask)
    frac1 = 4 * first * second / total**2
    frac2 = 4 * R / total
    terms = _masked((1 - frac1) * (1 + frac2), pair_mask)
    three = torch.full(n_pairs.shape, 3.0, dtype=terms.dtype, device=terms.device)
    factor = safe_divide(three, n_pairs.to(terms.dtype), n_pairs > 0)
    return factor * terms.sum(dim=-1)


def cv(intervals: torch.Tensor, mask: torch.Tensor | None = None, ddof: int = 0) -> torch.Tensor:
    """Coefficient of variation along the last axis, as ``scipy.stats.variation`` (Elephant's ``cv``).

    Parameters
    ----------
    intervals : torch.Tensor
        Shape (..., n_trains, max_intervals), padded values (usually inter-spike intervals).
    mask : torch.Tensor, optional
        Same shape, bool, True on real values. Default: all real.
    ddof : int, optional
        Delta degrees of freedom of the standard deviation (``N - ddof`` divisor).

    Returns
    -------
    torch.Tensor
        Shape (..., n_trains): ``std(ddof=0) * sqrt(N / (N - ddof)) / mean``. As SciPy: NaN for
        an empty train; for ``N == ddof`` +-inf (sign of the mean) if the values differ, else
        NaN; NaN for ``N < ddof``; inf/NaN for a zero mean. NaN values propagate. Dimensionless.
        Differentiable (zero gradient through the standard deviation where it is 0).

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import cv, isi
    >>> times = torch.tensor([[10.0, 30.0, 60.0, 80.0], [20.0, 50.0, 50.0, 50.0]])  # ms, padded
    >>> mask = torch.tensor([[True, True, True, True], [True, True, False, False]])
    >>> intervals, interval_mask = isi(times, mask)
    >>> [round(value, 4) for value in cv(intervals, interval_mask).tolist()]
    [0.202, 0.0]
    >>> [round(value, 4) for value in cv(intervals, interval_mask, ddof=1).tolist()]
    [0.2474, nan]
    """
    intervals = _check_values(intervals, "intervals", "(..., n_trains, max_intervals)")
    mask = _check_mask(mask, intervals, "intervals")
    ddof = check_int(ddof, "ddof")
    size = intervals.shape[-1]
    if mask is None and size > max(ddof, 0) and intervals.numel() and not intervals.requires_grad:
        std, mean = torch.std_mean(intervals, dim=-1, correction=ddof)  # one fused kernel
        return std / mean
    if mask is None and size > max(ddof, 0):
        mean = intervals.sum(dim=-1) / size
        deviation = intervals - mean.unsqueeze(-1)
        std = clipped_sqrt(deviation.pow(2).sum(dim=-1) / size)
        return std * math.sqrt(size / (size - ddof)) / mean if ddof else std / mean
    if mask is None:
        mask = torch.ones(intervals.shape, dtype=torch.bool, device=intervals.device)
    n = mask.sum(dim=-1).to(intervals.dtype)
    mean = safe_divide(_masked(intervals, mask).sum(dim=-1), n, n > 0)
    deviation = _masked(intervals - mean.unsqueeze(-1), mask)
    std = clipped_sqrt(safe_divide(deviation.pow(2).sum(dim=-1), n, n > 0))
    result = std * clipped_sqrt(safe_divide(n, n - ddof, n > ddof)) / mean
    at_ddof = torch.where(
        std > 0, torch.copysign(torch.full_like(mean, torch.inf), mean), torch.nan
    )
    return torch.where(n == ddof, at_ddof, result)


def _sequential_sum(values: torch.Tensor) -> torch.Tensor:
    """Left-to-right sum over the last axis (a cumulative sum's last entry)."""
    if values.shape[-1] == 0:
        return values.sum(dim=-1)
    return values.cumsum(dim=-1)[..., -1]


def _pairwise_sum(values: torch.Tensor) -> torch.Tensor:
    """Sum over the last axis in NumPy's pairwise order (bit-identical to ``np.sum`` on CPU).

    NumPy sums blocks of up to 128 values with 8 interleaved accumulators, combined as
    ``((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))`` plus the tail, and splits longer
    arrays in two halves (the first a multiple of 8 long).
    """
    n = values.shape[-1]
    if n < 8:
        return _sequential_sum(values)
    if n <= _PAIRWISE_BLOCK:
        n_blocks = n // 8
        blocks = values[..., : 8 * n_blocks].reshape(*values.shape[:-1], n_blocks, 8)
        r = blocks.cumsum(dim=-2)[..., -1, :]
        head = ((r[..., 0] + r[..., 1]) + (r[..., 2] + r[..., 3])) + (
            (r[..., 4] + r[..., 5]) + (r[..., 6] + r[..., 7])
        )
        tail = values[..., 8 * n_blocks :]
        return _sequential_sum(torch.cat([head.unsqueeze(-1), tail], dim=-1))
    half = n // 2
    half -= half % 8
    return _pairwise_sum(values[..., :half]) + _pairwise_sum(values[..., half:])


def fanofactor(spike_counts: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """Fano factor of spike counts across ``dim`` (the trials or spike trains).

    Parameters
    ----------
    spike_counts : torch.Tensor
        Spike counts, e.g. shape (n_trials, n_neurons) of whole-trial counts per train.
    dim : int, optional
        The axis holding the repetitions (default 0).

    Returns
    -------
    torch.Tensor
        ``spike_counts``' shape without ``dim``: ``var / mean`` with ``var`` the mean squared
        deviation (``ddof=0``, as ``np.var`` in Elephant). NaN where the mean is 0 or there are
        no counts. Dimensionless. Sums follow NumPy's pairwise order, so float64 results on CPU
        equal Elephant's bit for bit. Differentiable.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from elephant.statistics import fanofactor as elephant_fanofactor
    >>> from elephant_fit.statistics import fanofactor
    >>> counts = torch.tensor([[2.0, 0.0], [4.0, 1.0], [3.0, 2.0]], dtype=torch.float64)
    >>> counts.shape  # (n_trials, n_neurons)
    torch.Size([3, 2])
    >>> [round(value, 4) for value in fanofactor(counts).tolist()]
    [0.2222, 0.6667]
    >>> trains = [np.zeros(2), np.zeros(4), np.zeros(3)]  # trains of 2, 4 and 3 spikes
    >>> bool(fanofactor(counts)[0].item() == elephant_fanofactor(trains))  # bit for bit
    True
    """
    spike_counts = _check_values(spike_counts, "spike_counts", "(n_trials, ...)")
    dim = check_int(dim, "dim")
    if not -spike_counts.ndim <= dim < spike_counts.ndim:
        raise ArgumentValueError(
            f"Expected `dim` to index a dimension of `spike_counts` (ndim {spike_counts.ndim}), "
            f"but got {dim}."
        )
    values = spike_counts.movedim(dim, -1)
    n = values.shape[-1]
    mean = _pairwise_sum(values) / n
    deviation = values - mean.unsqueeze(-1)
    variance = _pairwise_sum(deviation * deviation) / n
    return safe_divide(variance, mean, mean != 0)


def window_counts(counts: torch.Tensor, window: int) -> torch.Tensor:
    """Spike counts in consecutive, non-overlapping windows of ``window`` bins.

    Parameters
    ----------
    counts : torch.Tensor
        Shape (..., n_bins, n_neurons).
    window : int
        Window length in bins; bins left over after the last whole window are dropped.

    Returns
    -------
    torch.Tensor
        Shape (..., n_bins // window, n_neurons). Differentiable.
    """
    counts = _check_values(counts, "counts", "(..., n_bins, n_neurons)", 2)
    window = check_positive_int(window, "window")
    *batch, n_bins, n_neurons = counts.shape
    n_windows = n_bins // window
    kept = counts[..., : n_windows * window, :]
    return kept.reshape(*batch, n_windows, window, n_neurons).sum(dim=-2)


def fanofactor_windows(counts: torch.Tensor, window: int) -> torch.Tensor:
    """Fano factor of windowed spike counts across trials, per window and neuron.

    Parameters
    ----------
    counts : torch.Tensor
        Shape (..., n_trials, n_bins, n_neurons).
    window : int
        Counting window in bins (non-overlapping; leftover bins at the end are dropped). Use
        ``window=n_bins`` for whole-trial counts.

    Returns
    -------
    torch.Tensor
        Shape (..., n_bins // window, n_neurons), dimensionless: variance (``ddof=0``) over mean
        across trials of the counts in each window; NaN where the mean count is 0.
        Differentiable.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import fanofactor_windows
    >>> counts = torch.tensor([[[1.0], [0.0], [2.0], [1.0]],
    ...                        [[0.0], [0.0], [1.0], [1.0]],
    ...                        [[2.0], [1.0], [0.0], [0.0]]])  # 3 trials, 4 bins, 1 neuron
    >>> factors = fanofactor_windows(counts, window=2)  # two windows of 2 bins
    >>> factors.shape
    torch.Size([2, 1])
    >>> [round(value, 4) for value in factors.flatten().tolist()]
    [1.1667, 0.9333]
    """
    counts = _check_values(counts, "counts", "(..., n_trials, n_bins, n_neurons)", 3)
    return fanofactor(window_counts(counts, window), dim=-3)


def fanofactor_windows_sums(counts: torch.Tensor, window: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Sums over trials of the window counts and of their squares (for trials split in shares).

    Parameters
    ----------
    counts : torch.Tensor
        Shape (..., n_trials, n_bins, n_neurons).
    window : int
        Counting window in bins, as in :func:`fanofactor_windows`.

    Returns
    -------
    totals : torch.Tensor
        Shape (..., n_bins // window, n_neurons): ``S = sum_k c[k]`` of the window counts ``c``.
    squares : torch.Tensor
        Same shape: ``S2 = sum_k c[k] ** 2``. Both in the dtype of ``counts`` (exact for integer
        counts below 2**24 in float32); sums over disjoint shares of the trials add up.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import fanofactor_windows_sums
    >>> counts = torch.tensor([[[1.0], [0.0], [2.0], [1.0]],
    ...                        [[0.0], [0.0], [1.0], [1.0]],
    ...                        [[2.0], [1.0], [0.0], [0.0]]])  # 3 trials, 4 bins, 1 neuron
    >>> totals, squares = fanofactor_windows_sums(counts, window=2)
    >>> totals.shape  # (n_windows, n_neurons)
    torch.Size([2, 1])
    >>> totals.flatten().tolist(), squares.flatten().tolist()
    ([4.0, 5.0], [10.0, 13.0])
    """
    counts = _check_values(counts, "counts", "(..., n_trials, n_bins, n_neurons)", 3)
    windowed = window_counts(counts, window)
    return windowed.sum(dim=-3), windowed.pow(2).sum(dim=-3)


def fanofactor_windows_finish(
    sums: tuple[torch.Tensor, torch.Tensor], n_trials: int
) -> torch.Tensor:
    """Fano factors from :func:`fanofactor_windows_sums` over ``n_trials`` trials.

    ``(S2 / K - (S / K) ** 2) / (S / K)`` with ``K = n_trials``: :func:`fanofactor_windows` from
    raw moments (it agrees to rounding; widen float32 sums first, the variance cancels digits).

    Parameters
    ----------
    sums : tuple of torch.Tensor
        ``(totals, squares)``, each of shape (..., n_windows, n_neurons).
    n_trials : int
        Number of trials summed over.

    Returns
    -------
    torch.Tensor
        Shape (..., n_windows, n_neurons), dtype of the sums, dimensionless: NaN where the mean
        count is 0, with a zero (not NaN) gradient there. Differentiable.

    Examples
    --------
    Trials split into two shares (e.g. two processes): add the shares' sums, finish once.

    >>> import torch
    >>> from elephant_fit.statistics import (
    ...     fanofactor_windows,
    ...     fanofactor_windows_finish,
    ...     fanofactor_windows_sums,
    ... )
    >>> counts = torch.tensor([[[1.0], [0.0], [2.0], [1.0]],
    ...                        [[0.0], [0.0], [1.0], [1.0]],
    ...                        [[2.0], [1.0], [0.0], [0.0]]], dtype=torch.float64)
    >>> share_a = fanofactor_windows_sums(counts[:1], window=2)
    >>> share_b = fanofactor_windows_sums(counts[1:], window=2)
    >>> sums = tuple(a + b for a, b in zip(share_a, share_b))
    >>> factors = fanofactor_windows_finish(sums, n_trials=3)
    >>> [round(value, 4) for value in factors.flatten().tolist()]
    [1.1667, 0.9333]
    >>> torch.allclose(factors, fanofactor_windows(counts, window=2))
    True
    """
    if not (isinstance(sums, tuple) and len(sums) == 2):
        raise ArgumentTypeError(
            f"Expected `sums` to be the pair (totals, squares), but got {describe(sums)}."
        )
    totals = _check_values(sums[0], "sums[0]", "(..., n_windows, n_neurons)")
    squares = _check_values(sums[1], "sums[1]", "(..., n_windows, n_neurons)")
    n_trials = check_positive_int(n_trials, "n_trials")
    mean = totals / n_trials
    variance = squares / n_trials - mean.pow(2)
    return safe_divide(variance, mean, mean != 0)
