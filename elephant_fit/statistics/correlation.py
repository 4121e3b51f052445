"""Correlation statistics of binned spike trains and spike times, as differentiable torch functions.

Twins of ``elephant.spike_train_correlation`` (Elephant 1.2.1) with Elephant's definitions, plus the
lagged noise covariance used to fit network models (Bellec et al. 2021; defined in
:mod:`elephant_fit.statistics.noise`, re-exported here).

Shapes:

* binned counts: ``(..., n_bins, n_neurons)``, leading dimensions (e.g. trials) are batch dimensions;
* cross-correlation histograms work on pairs of single trains: ``(..., n_bins)``, batched over pairs;
* spike times: padded ``times``/``mask`` tensors, see :mod:`elephant_fit.statistics._padding`.

Every function accepts float32 or float64 tensors on any device and is differentiable with respect to
its floating-point input wherever the maths allows (``binary=True`` clips counts with ``min(x, 1)``;
the spike-time tiling proportions are piecewise constant in the spike times).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .._validation import (
    check_bool_mask,
    check_float_tensor,
    check_number,
    check_number_or_tensor,
    describe,
)
from ..errors import ArgumentTypeError, ArgumentValueError
from ._fft import fast_fft_length
from ._smoothing import convolve_same
from .noise import noise_correlation, noise_covariance  # defined there, re-exported

__all__ = [
    "correlation_coefficient",
    "correlation_from_covariance",
    "covariance",
    "covariance_from_moments",
    "cross_correlation_histogram",
    "noise_correlation",
    "noise_covariance",
    "spike_time_tiling_coefficient",
    "spike_train_timescale",
]

#: Windows of at most this many lags are correlated exactly by blocked matrix products (cost
#: ~2 * n_lags * n_bins per pair); wider windows use the FFT (cost ~n_bins log n_bins).
_MAX_BLOCKED_LAGS = 512
#: Upper bound on the number of elements of the intermediate products of one chunk of pairs.
_CHUNK_ELEMENTS = 1 << 20

Window = str | tuple[int, int] | Sequence[int] | None


# ------------------------------------------------------------------------------------- validation
def _check_tensor(value: Any, name: str, min_ndim: int) -> torch.Tensor:
    """Check for a floating-point tensor with at least ``min_ndim`` dimensions."""
    return check_float_tensor(value, name, min_ndim)


def _check_same_kind(first: torch.Tensor, second: torch.Tensor, names: str) -> None:
    """Check that two tensors share dtype and device."""
    if first.dtype != second.dtype or first.device != second.device:
        raise ArgumentTypeError(
            f"Expected {names} to have the same dtype and device, but got "
            f"{first.dtype} on {first.device} and {second.dtype} on {second.device}."
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _binarize(counts: torch.Tensor) -> torch.Tensor:
    """Clip counts to at most one spike per bin, ``min(counts, 1)`` (Elephant's ``binarize``)."""
    return counts.clamp(max=1)


# ------------------------------------------------------------------- covariance and correlation
def covariance_from_moments(
    gram: torch.Tensor, sums: torch.Tensor, n_bins: int | torch.Tensor
) -> torch.Tensor:
    """Covariance matrix from the Gram matrix and the sums of binned counts.

    ``C = (G - s s^T / n_bins) / (n_bins - 1)`` (unbiased, as ``np.cov`` and Elephant's
    ``covariance``). ``G`` and ``s`` may be taken about any reference point (e.g. the mean, where
    ``s`` is zero), which leaves ``C`` unchanged.

    Parameters
    ----------
    gram : torch.Tensor
        Shape (..., n_neurons, n_neurons): ``G[i, j] = sum_t x[t, i] x[t, j]``.
    sums : torch.Tensor
        Shape (..., n_neurons): ``s[i] = sum_t x[t, i]``.
    n_bins : int or torch.Tensor
        Number of bins summed over (broadcastable to the batch shape).

    Returns
    -------
    torch.Tensor
        Shape (..., n_neurons, n_neurons). ``n_bins == 1`` gives non-finite values, like ``np.cov``.
    """
    gram = _check_tensor(gram, "gram", 2)
    sums = _check_tensor(sums, "sums", 1)
    outer = sums.unsqueeze(-1) * sums.unsqueeze(-2)
    return (gram - outer / n_bins) / (n_bins - 1)


def correlation_from_covariance(cov: torch.Tensor) -> torch.Tensor:
    """Pearson correlation matrix from a covariance matrix.

    Parameters
    ----------
    cov : torch.Tensor
        Shape (..., n_neurons, n_neurons).

    Returns
    -------
    torch.Tensor
        Shape (..., n_neurons, n_neurons): ``C[i, j] / sqrt(C[i, i] C[j, j])``. Rows and columns of
        neurons with zero variance (e.g. silent neurons) are NaN, as in Elephant.
    """
    cov = _check_tensor(cov, "cov", 2)
    std = torch.diagonal(cov, dim1=-2, dim2=-1).sqrt()
    return cov / (std.unsqueeze(-1) * std.unsqueeze(-2))


def covariance(counts: torch.Tensor, binary: bool = False) -> torch.Tensor:
    """Covariance matrix of binned spike trains (Elephant's ``covariance``).

    ``C[i, j] = <b_i - mu_i, b_j - mu_j> / (n_bins - 1)`` over the bins of each batch item.

    Parameters
    ----------
    counts : torch.Tensor
        Shape (..., n_bins, n_neurons), float.
    binary : bool, optional
        Clip the counts to ``min(counts, 1)`` first (Elephant's ``binary=True``).

    Returns
    -------
    torch.Tensor
        Shape (..., n_neurons, n_neurons), in squared counts. Differentiable.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from elephant_fit.statistics import covariance
    >>> counts = torch.tensor([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0], [2.0, 0.0, 1.0], [1.0, 1.0, 1.0]],
    ...                       dtype=torch.float64)  # 4 bins, 3 neurons
    >>> cov = covariance(counts)
    >>> cov.shape
    torch.Size([3, 3])
    >>> torch.round(cov, decimals=4).tolist()
    [[0.6667, -0.3333, 0.3333], [-0.3333, 0.3333, -0.3333], [0.3333, -0.3333, 0.6667]]
    >>> bool(np.allclose(cov.numpy(), np.cov(counts.numpy().T)))  # rows of np.cov: neurons
    True
    """
    counts = _check_tensor(counts, "counts", 2)
    if binary:
        counts = _binarize(counts)
    centred = counts - counts.mean(dim=-2, keepdim=True)
    gram = centred.mT @ centred
    return covariance_from_moments(gram, centred.sum(dim=-2), counts.shape[-2])


def correlation_coefficient(counts: torch.Tensor, binary: bool = False) -> torch.Tensor:
    """Pearson correlation matrix of binned spike trains (Elephant's ``correlation_coefficient``).

    Parameters
    ----------
    counts : torch.Tensor
        Shape (..., n_bins, n_neurons), float.
    binary : bool, optional
        Clip the counts to ``min(counts, 1)`` first.

    Returns
    -------
    torch.Tensor
        Shape (..., n_neurons, n_neurons). Rows and columns of silent neurons are NaN (0/0), as in
        Elephant; unlike Elephant no warning is emitted here (that would need a device sync), the
        compat layer emits it. Values are not clipped to [-1, 1]. Dimensionless. Differentiable.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import correlation_coefficient
    >>> counts = torch.tensor([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0], [2.0, 0.0, 1.0], [1.0, 1.0, 1.0]],
    ...                       dtype=torch.float64)  # 4 bins, 3 neurons
    >>> torch.round(correlation_coefficient(counts), decimals=4).tolist()
    [[1.0, -0.7071, 0.5], [-0.7071, 1.0, -0.7071], [0.5, -0.7071, 1.0]]
    """
    return correlation_from_covariance(covariance(counts, binary=binary))


# ------------------------------------------------------------------- cross-correlation histogram
def _resolve_window(window: Window, n_bins_i: int, n_bins_j: int) -> tuple[int, int]:
    """Smallest and largest lag (in bins) of a CCH window."""
    lag_min_allowed, lag_max_allowed = -(n_bins_i - 1), n_bins_j - 1
    if window is None or (isinstance(window, str) and window == "full"):
        return lag_min_allowed, lag_max_allowed
    if isinstance(window, str) and window == "valid":
        difference = n_bins_j - n_bins_i
        return min(0, difference), max(0, difference)
    expected = "None, 'full', 'valid' or two integers (lag_min, lag_max)"
    if not isinstance(window, (str, Sequence, np.ndarray)):
        raise ArgumentTypeError(f"Expected `window` to be {expected}, but got {describe(window)}.")
    if isinstance(window, str) or getattr(window, "ndim", 1) != 1 or len(window) != 2:
        raise ArgumentValueError(f"Expected `window` to be {expected}, but got {describe(window)}.")
    if not all(_is_int(edge) for edge in window):
        raise ArgumentTypeError(f"Expected `window` to be {expected}, but got {describe(window)}.")
    lag_min, lag_max = int(window[0]), int(window[1])
    if lag_min > lag_max:
        raise ArgumentValueError(
            f"Expected `window` to satisfy lag_min <= lag_max, but got ({lag_min}, {lag_max})."
        )
    if lag_min < lag_min_allowed or lag_max > lag_max_allowed:
        raise ArgumentValueError(
            f"Expected `window` within [{lag_min_allowed}, {lag_max_allowed}] (the lags at which "
            f"the trains overlap), but got ({lag_min}, {lag_max})."
        )
    return lag_min, lag_max


def _lagged_segment(
    counts_j: torch.Tensor, n_bins_i: int, lag_min: int, n_lags: int
) -> torch.Tensor:
    """``seg[..., u] = counts_j[..., u + lag_min]`` for ``u < n_bins_i + n_lags - 1``, 0 outside."""
    n_bins_j = counts_j.shape[-1]
    length = n_bins_i + n_lags - 1
    start, stop = max(0, lag_min), min(n_bins_j, lag_min + length)
    left = max(0, -lag_min)
    inside = counts_j[..., start:stop] if stop > start else counts_j[..., :0]
    return F.pad(inside, (left, length - left - inside.shape[-1]))


def _correlate_blocked(counts_i: torch.Tensor, segment: torch.Tensor, n_lags: int) -> torch.Tensor:
    """Exact correlation by blocks of ``n_lags`` bins: one batched matrix product.

    With ``A[k, s] = counts_i[k W + s]`` and ``B[k, u] = segment[k W + u]`` (``u < 2W``), the
    correlation at lag ``l`` is the sum of the skewed diagonal ``(A^T B)[s, s + l]``.
    """
    n_pairs, n_bins_i = counts_i.shape
    width = n_lags
    n_blocks = -(-n_bins_i // width)
    blocks_i = F.pad(counts_i, (0, n_blocks * width - n_bins_i)).reshape(n_pairs, n_blocks, width)
    blocks_j = F.pad(segment, (0, (n_blocks + 1) * width - segment.shape[-1]))
    blocks_j = blocks_j.reshape(n_pairs, n_blocks + 1, width)
    two_blocks = torch.cat([blocks_j[:, :-1], blocks_j[:, 1:]], dim=-1)
    products = blocks_i.mT @ two_blocks  # (n_pairs, W, 2W)
    skewed = F.pad(products.reshape(n_pairs, 2 * width * width), (0, width))
    return skewed.reshape(n_pairs, width, 2 * width + 1)[..., :width].sum(dim=-2)


def _correlate_fft(counts_i: torch.Tensor, segment: torch.Tensor, n_lags: int) -> torch.Tensor:
    """Correlation through the FFT (rounding errors ~1e-16 relative in float64)."""
    n_fft = fast_fft_length(segment.shape[-1])
    spectrum = torch.fft.rfft(counts_i, n_fft).conj() * torch.fft.rfft(segment, n_fft)
    return torch.fft.irfft(spectrum, n_fft)[..., :n_lags]


def _correlate_sparse(
    counts_i: torch.Tensor, counts_j: torch.Tensor, lag_min: int, n_lags: int
) -> torch.Tensor:
    """Exact correlation from the non-zero bins only: a histogram of bin differences.

    For each non-zero bin of ``i`` the non-zero bins of ``j`` inside the window are found by
    binary search on keys ``pair * stride + bin`` (``stride > n_bins_i + n_bins_j`` keeps pairs
    apart); products of the matched counts are summed per lag. No gradient reaches zero bins, so
    this is only used when no gradient is needed.
    """
    n_pairs, n_bins_i = counts_i.shape
    stride = n_bins_i + counts_j.shape[-1] + 1
    pair_i, bin_i = torch.nonzero(counts_i, as_tuple=True)
    pair_j, bin_j = torch.nonzero(counts_j, as_tuple=True)
    keys_j = pair_j * stride + bin_j  # ascending: nonzero() is row-major
    lower = pair_i * stride + bin_i + lag_min
    first = torch.searchsorted(keys_j, lower)
    n_matches = torch.searchsorted(keys_j, lower + (n_lags - 1), right=True) - first
    source = torch.repeat_interleave(torch.arange(bin_i.numel(), device=bin_i.device), n_matches)
    starts = torch.cumsum(n_matches, 0) - n_matches
    match = torch.arange(source.numel(), device=bin_i.device) - starts[source] + first[source]
    lag_index = bin_j[match] - bin_i[source] - lag_min
    products = counts_i[pair_i[source], bin_i[source]] * counts_j[pair_j[match], bin_j[match]]
    cch = torch.zeros(n_pairs * n_lags, dtype=counts_i.dtype, device=counts_i.device)
    return cch.index_add_(0, pair_i[source] * n_lags + lag_index, products).reshape(n_pairs, n_lags)


def _prefer_sparse(counts_i: torch.Tensor, counts_j: torch.Tensor, n_lags: int) -> bool:
    """Whether the non-zero-bin algorithm is cheaper (only without gradients: it skips zeros)."""
    if torch.is_grad_enabled() and (counts_i.requires_grad or counts_j.requires_grad):
        return False
    n_pairs, n_bins_i = counts_i.shape
    n_bins_j = counts_j.shape[-1]
    nonzero_i = int(torch.count_nonzero(counts_i))
    nonzero_j = int(torch.count_nonzero(counts_j))
    matches = nonzero_i * nonzero_j * min(n_lags, n_bins_j) / max(1, n_pairs * n_bins_j)
    if n_lags > _MAX_BLOCKED_LAGS:
        length = n_bins_i + n_lags
        dense_cost = 10.0 * n_pairs * length * math.log2(length)
    else:
        dense_cost = 2.0 * n_pairs * n_lags * n_bins_i
    return 100.0 * (matches + nonzero_i + nonzero_j) < dense_cost


def _raw_cch(
    counts_i: torch.Tensor, counts_j: torch.Tensor, lag_min: int, n_lags: int
) -> torch.Tensor:
    """``cch[..., m] = sum_t counts_i[..., t] counts_j[..., t + lag_min + m]``, batched over pairs.

    Exact by blocked matrix products (windows up to 512 lags) or from the non-zero bins (sparse
    trains, no gradient needed); through the FFT otherwise.
    """
    batch = counts_i.shape[:-1]
    flat_i = counts_i.reshape(-1, counts_i.shape[-1])
    flat_j = counts_j.reshape(-1, counts_j.shape[-1])
    if _prefer_sparse(flat_i, flat_j, n_lags):
        return _correlate_sparse(flat_i, flat_j, lag_min, n_lags).reshape(*batch, n_lags)
    segment = _lagged_segment(flat_j, flat_i.shape[-1], lag_min, n_lags)
    if n_lags > _MAX_BLOCKED_LAGS:
        return _correlate_fft(flat_i, segment, n_lags).reshape(*batch, n_lags)
    per_pair = 2 * n_lags * n_lags + 3 * (flat_i.shape[-1] + 2 * n_lags)
    chunk = max(1, _CHUNK_ELEMENTS // per_pair)
    # torch.split (one backward node for all chunks) keeps the backward pass linear in n_pairs
    pieces = [
        _correlate_blocked(part_i, part_j, n_lags)
        for part_i, part_j in zip(
            torch.split(flat_i, chunk), torch.split(segment, chunk), strict=True
        )
    ]
    result = pieces[0] if len(pieces) == 1 else torch.cat(pieces)
    return result.reshape(*batch, n_lags)


def _overlap(lags: torch.Tensor, n_bins_i: int, n_bins_j: int) -> torch.Tensor:
    """Number of bin pairs ``(t, t + lag)`` inside both trains at each lag."""
    upper = torch.clamp(n_bins_j - lags, max=n_bins_i)
    lower = torch.clamp(-lags, min=0)
    return upper - lower


def _as_kernel(kernel: Any, like: torch.Tensor, n_lags: int) -> torch.Tensor:
    """Check and convert a 1-D smoothing kernel."""
    try:
        kernel = torch.as_tensor(kernel, dtype=like.dtype, device=like.device)
    except (TypeError, ValueError, RuntimeError) as error:
        raise ArgumentTypeError(
            f"Expected `kernel` to be a 1-D array of weights, but got {describe(kernel)}."
        ) from error
    if kernel.ndim != 1 or kernel.shape[0] == 0:
        raise ArgumentValueError(
            f"Expected `kernel` to be a non-empty 1-D array, but got shape {tuple(kernel.shape)}."
        )
    if kernel.shape[0] > n_lags:
        raise ArgumentValueError(
            f"Expected `kernel` to be no longer than the CCH ({n_lags} lags), but got "
            f"{kernel.shape[0]} weights."
        )
    return kernel


def _cch_coefficient(
    cch: torch.Tensor, counts_i: torch.Tensor, counts_j: torch.Tensor
) -> torch.Tensor:
    """Eggermont's cross-correlation coefficient normalisation (Elephant's definition)."""
    n_bins = max(counts_i.shape[-1], counts_j.shape[-1])
    spikes_i, spikes_j = counts_i.sum(dim=-1), counts_j.sum(dim=-1)
    squares_i, squares_j = (counts_i * counts_i).sum(dim=-1), (counts_j * counts_j).sum(dim=-1)
    mean_product = spikes_i * spikes_j / n_bins
    scale = ((squares_i - spikes_i**2 / n_bins) * (squares_j - spikes_j**2 / n_bins)).sqrt()
    return (cch - mean_product.unsqueeze(-1)) / scale.unsqueeze(-1)


def cross_correlation_histogram(
    counts_i: torch.Tensor,
    counts_j: torch.Tensor,
    window: Window = None,
    border_correction: bool = False,
    binary: bool = False,
    kernel: torch.Tensor | np.ndarray | Sequence[float] | None = None,
    cross_correlation_coefficient: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-correlation histogram (CCH) of pairs of binned spike trains (Elephant's definition).

    ``cch[lag] = sum_t counts_i[t] counts_j[t + lag]``: a positive lag counts spikes of ``j`` that
    follow spikes of ``i``. Both trains start at the same time (the compat layer adds any shift of
    ``t_start``); they may have different numbers of bins. Computed exactly by blocked matrix
    products for windows of up to 512 lags or, for sparse trains when no gradient is needed, from
    the non-zero bins only; through the FFT (rounding errors ~1e-16 relative) otherwise.

    Parameters
    ----------
    counts_i, counts_j : torch.Tensor
        Shapes (..., n_bins_i) and (..., n_bins_j), float, same dtype and device; leading
        dimensions (pairs) broadcast.
    window : None, 'full', 'valid' or (int, int), optional
        None or 'full': every lag with overlap, ``[-(n_bins_i - 1), n_bins_j - 1]``. 'valid': the
        lags of full overlap, ``[min(0, n_bins_j - n_bins_i), max(0, n_bins_j - n_bins_i)]``.
        ``(lag_min, lag_max)``: any window inside the 'full' one, asymmetric allowed.
    border_correction : bool, optional
        Multiply each lag by ``min(n_bins_i, n_bins_j) / overlap(lag)``, the number of bins at full
        overlap over the number of overlapping bins at that lag.
    binary : bool, optional
        Clip counts to ``min(counts, 1)`` first.
    kernel : 1-D array or tensor, optional
        Smoothing weights, normalised to unit sum and applied like ``np.convolve(..., mode='same')``;
        at most as long as the CCH. Applied after the border correction.
    cross_correlation_coefficient : bool, optional
        Normalise to the cross-correlation coefficient (Eggermont 2010, Eq. 5.10, as Elephant):
        ``(cch - N_i N_j / L) / sqrt((S_i - N_i^2 / L) (S_j - N_j^2 / L))`` with ``N`` the spike
        counts, ``S`` the sums of squared counts and ``L = max(n_bins_i, n_bins_j)``. Applied last.

    Returns
    -------
    cch : torch.Tensor
        Shape (..., n_lags): coincidence counts (products of counts) at each lag, or the
        dimensionless coefficient with ``cross_correlation_coefficient``. Differentiable.
    lags : torch.Tensor
        Shape (n_lags,), int64, in bins, on the device of the input.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import cross_correlation_histogram
    >>> counts_i = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0, 0.0])
    >>> counts_j = torch.tensor([0.0, 0.0, 1.0, 0.0, 1.0, 0.0])  # i's spikes, one bin later
    >>> cch, lags = cross_correlation_histogram(counts_i, counts_j, window=(-2, 2))
    >>> lags.tolist()  # bins
    [-2, -1, 0, 1, 2]
    >>> cch.tolist()
    [0.0, 1.0, 0.0, 2.0, 0.0]
    >>> pairs_i = torch.stack([counts_i, counts_j])  # two pairs, batched: shape (2, n_bins)
    >>> cross_correlation_histogram(pairs_i, counts_j, window=(-2, 2))[0].shape
    torch.Size([2, 5])
    """
    counts_i = _check_tensor(counts_i, "counts_i", 1)
    counts_j = _check_tensor(counts_j, "counts_j", 1)
    _check_same_kind(counts_i, counts_j, "`counts_i` and `counts_j`")
    n_bins_i, n_bins_j = counts_i.shape[-1], counts_j.shape[-1]
    if n_bins_i == 0 or n_bins_j == 0:
        raise ArgumentValueError(
            "Expected `counts_i` and `counts_j` to have at least one bin each, but got shapes "
            f"{tuple(counts_i.shape)} and {tuple(counts_j.shape)}."
        )
    lag_min, lag_max = _resolve_window(window, n_bins_i, n_bins_j)
    n_lags = lag_max - lag_min + 1
    batch = torch.broadcast_shapes(counts_i.shape[:-1], counts_j.shape[:-1])
    counts_i = counts_i.expand(*batch, n_bins_i)
    counts_j = counts_j.expand(*batch, n_bins_j)
    if binary:
        counts_i, counts_j = _binarize(counts_i), _binarize(counts_j)
    lags = torch.arange(lag_min, lag_max + 1, device=counts_i.device)
    cch = _raw_cch(counts_i, counts_j, lag_min, n_lags)
    if border_correction:
        overlap = _overlap(lags, n_bins_i, n_bins_j).to(cch.dtype)
        cch = cch * (min(n_bins_i, n_bins_j) / overlap)
    if kernel is not None:
        weights = _as_kernel(kernel, cch, n_lags)
        cch = convolve_same(cch, weights / weights.sum())
    if cross_correlation_coefficient:
        cch = _cch_coefficient(cch, counts_i, counts_j)
    return cch, lags


# ------------------------------------------------------------------------------------- timescale
def spike_train_timescale(counts: torch.Tensor, bin_size: float, max_tau: float) -> torch.Tensor:
    """Auto-correlation time of binned spike trains (Wieland et al. 2015, Eq. 6; Elephant's).

    ``tau = 2 * trapezoid((c[1:m] / c[1])^2, dx=bin_size)`` where ``c[l]`` is the cross-correlation
    coefficient of the train with itself at lag ``l`` bins (see
    :func:`cross_correlation_histogram`) and ``m = max_tau / bin_size``; the lag-0 peak is left out
    and the normalisation is by the value at lag 1, exactly as Elephant computes it.

    Parameters
    ----------
    counts : torch.Tensor
        Shape (..., n_bins, n_neurons), float.
    bin_size : float
        Bin width (any time unit).
    max_tau : float
        Integration limit in the unit of ``bin_size``, a multiple of it, ``bin_size <= max_tau``
        and ``max_tau / bin_size < n_bins``.

    Returns
    -------
    torch.Tensor
        Shape (..., n_neurons), in the unit of ``bin_size`` (e.g. seconds). NaN for trains with
        fewer than 2 spikes (Elephant warns and returns NaN); ``max_tau == bin_size`` gives 0.
        Differentiable.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import spike_train_timescale
    >>> train = [1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 1]
    >>> counts = torch.tensor(train, dtype=torch.float64).reshape(16, 1)  # 16 bins, 1 neuron
    >>> tau = spike_train_timescale(counts, bin_size=0.001, max_tau=0.003)  # 1 ms bins, in s
    >>> tau.shape, round(tau.item(), 4)
    (torch.Size([1]), 0.033)
    """
    counts = _check_tensor(counts, "counts", 2)
    n_bins = counts.shape[-2]
    bin_size = check_number(bin_size, "bin_size", positive=True, allow_zero=False)
    max_tau = check_number(max_tau, "max_tau", positive=True, allow_zero=False)
    max_lag = round(max_tau / bin_size)
    if not np.isclose(max_tau, max_lag * bin_size):
        raise ArgumentValueError(
            f"Expected `max_tau` to be a multiple of `bin_size` ({bin_size}), but got {max_tau}."
        )
    if not 1 <= max_lag < n_bins:
        raise ArgumentValueError(
            f"Expected `max_tau` / `bin_size` in [1, n_bins - 1] = [1, {n_bins - 1}], but got "
            f"{max_lag}."
        )
    trains = counts.mT
    coefficient, _ = cross_correlation_histogram(
        trains, trains, window=(1, max_lag), cross_correlation_coefficient=True
    )
    ratio = (coefficient / coefficient[..., :1]) ** 2
    timescale = 2 * torch.trapezoid(ratio, dx=bin_size, dim=-1)
    too_few = trains.sum(dim=-1) < 2
    return torch.where(too_few, torch.full_like(timescale, torch.nan), timescale)


# ------------------------------------------------------------------ spike time tiling coefficient
def _tiled_time_fraction(
    times: torch.Tensor,
    mask: torch.Tensor,
    dt: torch.Tensor,
    t_start: torch.Tensor,
    t_stop: torch.Tensor,
) -> torch.Tensor:
    """Fraction of ``[t_start, t_stop]`` within ``dt`` of a spike (Cutts & Eglen's ``T``)."""
    gaps = times[..., 1:] - times[..., :-1]
    inner = torch.where(mask[..., 1:], torch.minimum(gaps, 2 * dt.unsqueeze(-1)), 0).sum(dim=-1)
    n_spikes = mask.sum(dim=-1)
    last = times.gather(-1, (n_spikes - 1).clamp(min=0).unsqueeze(-1)).squeeze(-1)
    edges = torch.minimum(times[..., 0] - t_start, dt) + torch.minimum(t_stop - last, dt)
    return (inner + edges) / (t_stop - t_start)


def _near_fraction(
    times_a: torch.Tensor,
    mask_a: torch.Tensor,
    times_b: torch.Tensor,
    mask_b: torch.Tensor,
    dt: torch.Tensor,
    rtol: float,
) -> torch.Tensor:
    """Fraction of spikes of ``a`` with a spike of ``b`` within ``dt + rtol |t_b|`` (``P``).

    ``|t_a - x| - rtol |x|`` is smallest at ``x = t_a``, so only the two neighbours of ``t_a`` in
    the sorted train ``b`` need testing.
    """
    sorted_b = torch.where(mask_b, times_b, torch.full_like(times_b, torch.inf)).contiguous()
    position = torch.searchsorted(sorted_b, times_a.contiguous())
    n_b = mask_b.sum(dim=-1, keepdim=True)
    near = torch.zeros_like(mask_a)
    for index in ((position - 1).clamp(min=0), torch.minimum(position, (n_b - 1).clamp(min=0))):
        neighbour = times_b.gather(-1, index)
        close = (times_a - neighbour).abs() <= dt.unsqueeze(-1) + rtol * neighbour.abs()
        near = near | (close & mask_b.gather(-1, index))
    near = near & mask_a
    return near.sum(dim=-1).to(times_a.dtype) / mask_a.sum(dim=-1).to(times_a.dtype)


def _half_index(proportion: torch.Tensor, tiled: torch.Tensor) -> torch.Tensor:
    """``(P - T) / (1 - P T)``, replaced by 1 where ``P T == 1`` (Elephant's 0/0 rule)."""
    product = proportion * tiled
    degenerate = product == 1
    denominator = torch.where(degenerate, torch.ones_like(product), 1 - product)
    return torch.where(degenerate, torch.ones_like(product), (proportion - tiled) / denominator)


def _pad_width_one(times: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Give padded trains at least one column so that first/last spikes can be gathered."""
    if times.shape[-1] > 0:
        return times, mask
    return F.pad(times, (0, 1)), F.pad(mask, (0, 1))


def spike_time_tiling_coefficient(
    times_i: torch.Tensor,
    mask_i: torch.Tensor,
    times_j: torch.Tensor,
    mask_j: torch.Tensor,
    dt: float | torch.Tensor,
    t_start: float | torch.Tensor,
    t_stop: float | torch.Tensor,
    rtol: float = 1e-5,
) -> torch.Tensor:
    """Spike time tiling coefficient (Cutts & Eglen 2014), Elephant's definition, batched over pairs.

    ``STTC = 1/2 (PA - TB) / (1 - PA TB) + 1/2 (PB - TA) / (1 - PB TA)`` where ``TA`` (``TB``) is
    the fraction of ``[t_start, t_stop]`` within ``dt`` of a spike of train ``j`` (``i``) and
    ``PA`` (``PB``) the fraction of spikes of ``j`` (``i``) within ``dt`` of a spike of ``i``
    (``j``); a half whose ``P T`` equals 1 is replaced by 1. "Within" is Elephant's
    ``np.isclose`` test ``|t - s| <= dt + rtol |s|`` (``s`` the spike of the other train); pass
    ``rtol=0`` for the plain ``|t - s| <= dt``.

    Parameters
    ----------
    times_i, times_j : torch.Tensor
        Padded spike times, shapes (..., max_spikes_i) and (..., max_spikes_j), sorted ascending
        on the mask (as :func:`~elephant_fit.statistics._padding.pad_spike_times` makes them);
        leading dimensions (pairs) broadcast.
    mask_i, mask_j : torch.Tensor
        Bool, same shapes as the times, True on real spikes.
    dt : float or torch.Tensor
        Synchrony window in the unit of the times, positive; a tensor broadcastable to the batch
        shape.
    t_start, t_stop : float or torch.Tensor
        Recording window shared by both trains, in the unit of the times; tensors broadcastable
        to the batch shape.
    rtol : float, optional
        Relative tolerance of the closeness test (Elephant's ``np.isclose`` default ``1e-5``).

    Returns
    -------
    torch.Tensor
        Shape (...): the STTC, dimensionless, in [-1, 1]; NaN where a train is empty.
        Differentiable in the spike times through ``TA`` and ``TB``.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import spike_time_tiling_coefficient
    >>> times_i = torch.tensor([0.100, 0.300, 0.500], dtype=torch.float64)  # seconds
    >>> times_j = torch.tensor([0.102, 0.400, 0.800], dtype=torch.float64)
    >>> mask_i = mask_j = torch.ones(3, dtype=torch.bool)
    >>> sttc = spike_time_tiling_coefficient(
    ...     times_i, mask_i, times_j, mask_j, dt=0.005, t_start=0.0, t_stop=1.0
    ... )
    >>> sttc.shape, round(sttc.item(), 4)
    (torch.Size([]), 0.3064)
    """
    return _spike_time_tiling(times_i, mask_i, times_j, mask_j, dt, t_start, t_stop, rtol)[0]


def _spike_time_tiling(
    times_i: torch.Tensor,
    mask_i: torch.Tensor,
    times_j: torch.Tensor,
    mask_j: torch.Tensor,
    dt: float | torch.Tensor,
    t_start: float | torch.Tensor,
    t_stop: float | torch.Tensor,
    rtol: float = 1e-5,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`spike_time_tiling_coefficient` and where both halves had ``P T == 1`` (bool).

    (Elephant returns a Python float in that case, a NumPy float otherwise; the compat twin
    follows it.)
    """
    times_i = _check_tensor(times_i, "times_i", 1)
    times_j = _check_tensor(times_j, "times_j", 1)
    _check_same_kind(times_i, times_j, "`times_i` and `times_j`")
    check_bool_mask(mask_i, "mask_i", times_i, "times_i")
    check_bool_mask(mask_j, "mask_j", times_j, "times_j")
    kind = {"dtype": times_i.dtype, "device": times_i.device}
    dt, t_start, t_stop = (
        torch.as_tensor(check_number_or_tensor(value, name), **kind)
        for name, value in (("dt", dt), ("t_start", t_start), ("t_stop", t_stop))
    )
    if not bool((dt > 0).all()):  # NaN fails too
        raise ArgumentValueError(f"Expected `dt` to be positive, but got {describe(dt)}.")
    batch = torch.broadcast_shapes(
        times_i.shape[:-1], times_j.shape[:-1], dt.shape, t_start.shape, t_stop.shape
    )
    times_i, mask_i = _pad_width_one(times_i, mask_i)
    times_j, mask_j = _pad_width_one(times_j, mask_j)
    times_i, mask_i = times_i.expand(*batch, -1), mask_i.expand(*batch, -1)
    times_j, mask_j = times_j.expand(*batch, -1), mask_j.expand(*batch, -1)
    dt, t_start, t_stop = dt.expand(batch), t_start.expand(batch), t_stop.expand(batch)
    tiled_a = _tiled_time_fraction(times_j, mask_j, dt, t_start, t_stop)
    tiled_b = _tiled_time_fraction(times_i, mask_i, dt, t_start, t_stop)
    near_a = _near_fraction(times_j, mask_j, times_i, mask_i, dt, rtol)
    near_b = _near_fraction(times_i, mask_i, times_j, mask_j, dt, rtol)
    index = 0.5 * _half_index(near_a, tiled_b) + 0.5 * _half_index(near_b, tiled_a)
    empty = (mask_i.sum(dim=-1) == 0) | (mask_j.sum(dim=-1) == 0)
    both_degenerate = (near_a * tiled_b == 1) & (near_b * tiled_a == 1) & ~empty
    return torch.where(empty, torch.full_like(index, torch.nan), index), both_degenerate
