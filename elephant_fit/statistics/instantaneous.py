"""Instantaneous firing rate by kernel convolution (``elephant.statistics.instantaneous_rate``).

Elephant's estimate, reproduced number for number: spikes are counted in bins of
``sampling_period`` (``numpy.histogram`` rules: half-open bins, the last one closed, a trailing
piece shorter than a bin dropped), the counts are convolved with the kernel discretised on the same
grid (:func:`elephant_fit.statistics.kernels.kernel_grid`), in 'same' mode or, with ``trim``, 'valid' mode,
negative round-off is clipped to 0, and an optional border correction rescales the estimate near
``t_start`` and ``t_stop`` (Gaussian kernels only).

Composable pieces, each usable alone: :func:`histogram_spike_times`, :func:`smooth_counts`,
``border_correction_factor``, ``optimal_kernel_bandwidth``; the two front ends
:func:`instantaneous_rate` (padded spike times) and :func:`instantaneous_rate_from_counts` (binned
counts) chain them.

Gradients. The rate is linear in the counts and smooth in the kernel's ``sigma`` (for a fixed
number of taps). Binning is piecewise constant in the spike times, so the forward pass keeps
Elephant's exact counts while the backward pass uses a straight-through surrogate: each spike's
count is moved by a central difference over its two neighbouring bins, which makes
``d rate / d spike_time`` the finite-difference derivative ``-K'`` of the kernel at the spike
(exact up to ``O(sampling_period^2)`` for a smooth kernel).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from .._validation import (
    check_bool_mask,
    check_float_tensor,
    check_number,
    check_positive_int,
    describe,
)
from ..errors import ArgumentTypeError, ArgumentValueError
from ._fft import fast_fft_length
from ._rate_options import (
    DEFAULT_OPTIONS,
    RATE_OPTIONS_DOC,
    RateOptions,
    with_rate_options_doc,
)
from .kernels import KernelGrid, SmoothingKernel, kernel_grid, median_index

__all__ = [
    "RATE_OPTIONS_DOC",
    "InstantaneousRate",
    "RateOptions",
    "border_correction_factor",
    "histogram_spike_times",
    "instantaneous_rate",
    "instantaneous_rate_from_counts",
    "optimal_kernel_bandwidth",
    "smooth_counts",
]

KernelArg = SmoothingKernel | KernelGrid | str


class InstantaneousRate(NamedTuple):
    """Result of :func:`instantaneous_rate`.

    Attributes
    ----------
    rate : torch.Tensor
        Rate estimate in spikes per time unit, shape (..., n_samples, n_trains) (``n_trains`` is
        1 with ``pool_spike_trains``; the trial axis is gone with ``pool_trials``).
    t_start : float
        Time of the first sample (moved right by the kernel's median index with ``trim``).
    kernel : SmoothingKernel
        The kernel used (the Gaussian chosen for ``'auto'``), ``sigma`` in time units.
    """

    rate: torch.Tensor
    t_start: float
    kernel: SmoothingKernel


# ----------------------------------------------------------------------------------- binning
def histogram_spike_times(
    times: torch.Tensor,
    mask: torch.Tensor,
    t_start: float,
    sampling_period: float,
    n_bins: int,
) -> torch.Tensor:
    """Spike counts on ``n_bins`` bins of ``sampling_period`` from ``t_start`` (numpy's rules).

    Same counts as ``numpy.histogram(train, bins=n_bins, range=(t_start, t_start + n_bins *
    sampling_period))`` in the same dtype: bins are half-open except the last, which includes its
    right edge; spikes outside the range are ignored. Gradients with respect to ``times`` follow
    the straight-through central-difference surrogate described in the module docstring.

    Parameters
    ----------
    times : torch.Tensor
        Padded spike times, shape (..., n_trains, max_spikes).
    mask : torch.Tensor
        Bool, same shape, True on real spikes.
    t_start : float
        Left edge of the first bin.
    sampling_period : float
        Bin width, in the unit of ``times``.
    n_bins : int
        Number of bins.

    Returns
    -------
    torch.Tensor
        Counts of shape (..., n_bins, n_trains), dtype of ``times`` (a transposed view of a
        (..., n_trains, n_bins) tensor).
    """
    return _histogram_rows(times, mask, t_start, sampling_period, n_bins, n_bins).transpose(-1, -2)


def _histogram_rows(
    times: torch.Tensor,
    mask: torch.Tensor,
    t_start: float,
    sampling_period: float,
    n_bins: int,
    width: int,
) -> torch.Tensor:
    """Counts of shape (..., n_trains, width): ``n_bins`` bins followed by zeros."""
    detached = times.detach()
    first = float(t_start)
    last = first + n_bins * float(sampling_period)
    keep = mask & (detached >= first) & (detached <= last)
    index = ((detached - first) / (last - first) * n_bins).to(torch.int64)
    index = torch.clamp(index, 0, n_bins - 1)
    step = (last - first) / n_bins
    edges = torch.arange(n_bins + 1, dtype=times.dtype, device=times.device) * step + first
    edges[-1] = last
    index = index - (detached < edges[index]).to(torch.int64)
    index = torch.clamp(index, 0, n_bins - 1)
    index = index + ((detached >= edges[index + 1]) & (index != n_bins - 1)).to(torch.int64)
    counts = torch.zeros((*times.shape[:-1], width), dtype=times.dtype, device=times.device)
    counts.scatter_add_(-1, index, keep.to(times.dtype))
    if times.requires_grad:
        shift = (times - detached) / (2 * float(sampling_period))
        shift = torch.where(keep, shift, torch.zeros_like(shift))
        counts = counts + _moved_counts(shift, index, n_bins, width)
    return counts


def _moved_counts(
    shift: torch.Tensor, index: torch.Tensor, n_bins: int, width: int
) -> torch.Tensor:
    """Counts ``+shift`` in the bin right of each spike's and ``-shift`` in the one left of it."""
    right, left = index + 1, index - 1
    zero = torch.zeros_like(shift)
    counts = torch.zeros((*shift.shape[:-1], width), dtype=shift.dtype, device=shift.device)
    counts = counts.scatter_add(
        -1, torch.clamp(right, max=n_bins - 1), torch.where(right < n_bins, shift, zero)
    )
    return counts.scatter_add(-1, torch.clamp(left, min=0), torch.where(left >= 0, -shift, zero))


# ----------------------------------------------------------------------------------- convolution
def _check_taps(n_bins: int, n_taps: int, trim: bool) -> None:
    if trim and n_taps > n_bins:
        raise ArgumentValueError(
            f"Kernel length ({n_taps}) is longer than binned spike train length ({n_bins}) for "
            "'valid' convolution. Try adjusting the kernel width, 'sampling_period', or using "
            "'trim=False'."
        )


def _convolve_rows(
    rows: torch.Tensor, n_bins: int, weights: torch.Tensor, trim: bool
) -> torch.Tensor:
    """Linear convolution of zero-padded rows (..., n_trains, size) with ``weights``.

    ``size`` must be at least ``n_bins + n_taps - 1`` and the rows zero beyond ``n_bins``. Returns
    the 'same' or 'valid' part, shape (..., n_trains, n_samples), negative round-off clipped.
    Without autograd on CPU the transforms run in numpy's pocketfft (faster there than torch's);
    otherwise in torch.fft.
    """
    size, n_taps = rows.shape[-1], weights.shape[-1]
    weights = weights.to(dtype=rows.dtype, device=rows.device)
    start = n_taps - 1 if trim else (n_taps - 1) // 2
    stop = n_bins if trim else start + n_bins
    needs_grad = torch.is_grad_enabled() and (rows.requires_grad or weights.requires_grad)
    if rows.device.type == "cpu" and not needs_grad:
        spectrum = np.fft.rfft(rows.detach().numpy(), axis=-1)
        spectrum *= np.fft.rfft(weights.detach().numpy(), n=size)
        full = torch.from_numpy(np.fft.irfft(spectrum, n=size, axis=-1)[..., start:stop])
        return full.clamp_(min=0)
    spectrum = torch.fft.rfft(rows) * torch.fft.rfft(weights, n=size)
    return torch.clamp(torch.fft.irfft(spectrum, n=size)[..., start:stop], min=0)


def smooth_counts(counts: torch.Tensor, weights: torch.Tensor, trim: bool = False) -> torch.Tensor:
    """Convolve counts with a discretised kernel along the bin axis (FFT), like scipy's fftconvolve.

    Parameters
    ----------
    counts : torch.Tensor
        Shape (..., n_bins, n_trains).
    weights : torch.Tensor
        Kernel taps, shape (n_taps,), odd length, middle tap on the spike.
    trim : bool, optional
        'valid' mode (only samples with full overlap, ``n_bins - n_taps + 1`` of them) instead of
        'same' mode (``n_bins`` samples centred on the input).

    Returns
    -------
    torch.Tensor
        Shape (..., n_samples, n_trains), negative round-off clipped to 0.

    Raises
    ------
    ValueError
        If ``trim`` and the kernel has more taps than there are bins.
    """
    n_bins, n_taps = counts.shape[-2], weights.shape[-1]
    _check_taps(n_bins, n_taps, trim)
    size = fast_fft_length(n_bins + n_taps - 1)
    rows = torch.nn.functional.pad(counts.transpose(-1, -2), (0, size - n_bins))
    return _convolve_rows(rows, n_bins, weights, trim).transpose(-1, -2)


# ----------------------------------------------------------------------------------- border
def border_correction_factor(
    sample_times: torch.Tensor, sigma: float | torch.Tensor, t_start: float, t_stop: float
) -> torch.Tensor:
    """Inverse of the Gaussian kernel mass inside ``[t_start, t_stop]`` at each sample time.

    Parameters
    ----------
    sample_times : torch.Tensor
        Shape (n_samples,).
    sigma : float or torch.Tensor
        Gaussian standard deviation, same unit.
    t_start, t_stop : float
        Window edges.

    Returns
    -------
    torch.Tensor
        ``2 / (erf((t_stop - t) / (sqrt(2) sigma)) - erf((t_start - t) / (sqrt(2) sigma)))``,
        shape (n_samples,).
    """
    scale = math.sqrt(2.0) * sigma
    return 2 / (
        torch.erf((t_stop - sample_times) / scale) - torch.erf((t_start - sample_times) / scale)
    )


def _border_correct(
    rate: torch.Tensor,
    n_spikes: torch.Tensor,
    sigma: float | torch.Tensor,
    t_first: float,
    sampling_period: float,
    t_start: float,
    t_stop: float,
) -> torch.Tensor:
    """Elephant's border correction, then rescale each train's integral to its spike count."""
    index = torch.arange(rate.shape[-2], dtype=rate.dtype, device=rate.device)
    sample_times = t_first + index * sampling_period
    rate = rate * border_correction_factor(sample_times, sigma, t_start, t_stop).unsqueeze(-1)
    duration = t_stop - t_start
    scale = n_spikes.to(rate.dtype) / (rate.mean(dim=-2) * duration)
    scale = torch.where(n_spikes > 0, scale, torch.ones_like(scale))
    return rate * scale.unsqueeze(-2)


# ----------------------------------------------------------------------------------- 'auto'
def _gaussian_smooth_fft(density: torch.Tensor, width: float) -> torch.Tensor:
    """Shimazaki's FFT Gaussian smoother (``width`` in bins), magnitude of the result."""
    length = density.shape[-1]
    size = 2 ** math.ceil(math.log2(length + 3 * width))
    spectrum = torch.fft.fft(density.to(torch.complex128), n=size)
    freq = torch.arange(size, dtype=torch.float64, device=density.device) / size
    half = size // 2
    freq = torch.cat([-freq[:half], freq[1 : half + 1].flip(0)])
    gain = torch.exp(-0.5 * (width * 2 * math.pi * freq) ** 2)
    return torch.fft.ifft(spectrum * gain, n=size)[:length].abs()


def _bandwidth_cost(density: torch.Tensor, n_spikes: float, width: float, dt: float) -> float:
    """Shimazaki-Shinomoto cost of a Gaussian of standard deviation ``width``."""
    smooth = _gaussian_smooth_fft(density, width / dt)
    cost = (
        float((smooth**2).sum()) * dt
        - 2 * float((smooth * density).sum()) * dt
        + 2 / math.sqrt(2 * math.pi) / width / n_spikes
    )
    return cost * n_spikes * n_spikes


def _softplus(x: float) -> float:
    return math.log(1 + math.exp(x)) if x < 1e2 else x


def _softplus_inverse(x: float) -> float:
    return math.log(math.exp(x) - 1) if x < 1e2 else x


def optimal_kernel_bandwidth(spike_times: torch.Tensor) -> float:
    """Optimal Gaussian bandwidth (standard deviation) of Shimazaki & Shinomoto (2010).

    Same search as ``elephant.statistics.optimal_kernel_bandwidth(spike_times)['optw']``: the
    spikes are histogrammed on at most 1000 points spaced by the smallest inter-spike interval,
    and a golden-section search on a softplus scale (at most 20 steps, tolerance 1e-5) minimises
    the cost between ``2 dt`` and the spike-time range. The bandwidth is a selection and carries
    no gradient.

    Parameters
    ----------
    spike_times : torch.Tensor
        Spike times of one train, shape (n_spikes,), in the order given (Elephant takes the
        differences of consecutive entries).

    Returns
    -------
    float
        The bandwidth, in the unit of ``spike_times``.

    Raises
    ------
    ValueError
        If it cannot be computed: fewer than two distinct spike times, or spikes so close to each
        other that the search interval is empty.
    """
    spikes = spike_times.detach().to(torch.float64).reshape(-1)
    message = "Unable to calculate optimal kernel width for instantaneous rate from input data."
    intervals = torch.diff(spikes)
    intervals = intervals[intervals > 0]
    if intervals.numel() == 0:
        raise ArgumentValueError(message)
    low, high = float(spikes.min()), float(spikes.max())
    span = high - low
    n_points = min(int(span / float(intervals.min()) + 0.5), 1000)
    if n_points < 2:
        raise ArgumentValueError(message)
    step = span / (n_points - 1)
    grid = torch.arange(n_points, dtype=torch.float64, device=spikes.device) * step + low
    grid[-1] = high
    dt = float(torch.diff(grid).min())
    edges = torch.cat([grid - dt / 2, grid[-1:] + dt / 2])
    sorted_spikes = torch.sort(spikes).values
    cumulative = torch.cat(
        [
            torch.searchsorted(sorted_spikes, edges[:-1], right=False),
            torch.searchsorted(sorted_spikes, edges[-1:], right=True),
        ]
    )
    histogram = torch.diff(cumulative).to(torch.float64)
    n_spikes = float(histogram.sum())
    density = histogram / (n_spikes * dt)
    return _golden_section(density, n_spikes, dt, 2 * dt, span, message)


def _golden_section(
    density: torch.Tensor, n_spikes: float, dt: float, w_min: float, w_max: float, message: str
) -> float:
    """Elephant's golden-section search on the softplus scale; returns the last point tried."""
    phi = 0.5 * (math.sqrt(5) + 1)
    a, b = _softplus_inverse(w_min), _softplus_inverse(w_max)
    c1 = (phi - 1) * a + (2 - phi) * b
    c2 = (2 - phi) * a + (phi - 1) * b
    f1 = _bandwidth_cost(density, n_spikes, _softplus(c1), dt)
    f2 = _bandwidth_cost(density, n_spikes, _softplus(c2), dt)
    best: float | None = None
    for _ in range(20):
        if not abs(b - a) > 1e-5 * (abs(c1) + abs(c2)):
            break
        if f1 < f2:
            b, c2, f2 = c2, c1, f1
            c1 = (phi - 1) * a + (2 - phi) * b
            best = _softplus(c1)
            f1 = _bandwidth_cost(density, n_spikes, best, dt)
        else:
            a, c1, f1 = c1, c2, f2
            c2 = (2 - phi) * a + (phi - 1) * b
            best = _softplus(c2)
            f2 = _bandwidth_cost(density, n_spikes, best, dt)
    if best is None:
        raise ArgumentValueError(message)
    return best


# ----------------------------------------------------------------------------------- front ends
def _check_sampling_period(sampling_period: float) -> float:
    return check_number(sampling_period, "sampling_period", positive=True, allow_zero=False)


def _resolve_grid(
    kernel: KernelArg,
    sampling_period: float,
    options: RateOptions,
    dtype: torch.dtype,
    device: torch.device,
    auto_times: torch.Tensor | None,
) -> tuple[KernelGrid, SmoothingKernel]:
    """The discretised kernel and its time-unit description."""
    if isinstance(kernel, str) and kernel == "auto":
        if auto_times is None:
            raise ArgumentValueError(
                "Cannot estimate a kernel for several spike trains (or from counts). Please "
                "provide a kernel explicitly rather than 'auto'."
            )
        kernel = SmoothingKernel("gaussian", optimal_kernel_bandwidth(auto_times))
    if isinstance(kernel, KernelGrid):
        described = SmoothingKernel(kernel.name, kernel.sigma * sampling_period, kernel.invert)
        return kernel, described
    if not isinstance(kernel, SmoothingKernel):
        raise ArgumentTypeError(
            "Expected `kernel` to be 'auto', a SmoothingKernel or a KernelGrid, but got "
            f"{describe(kernel)}."
        )
    sigma = kernel.sigma
    sigma_bins = (
        sigma.to(dtype=dtype, device=device) / sampling_period
        if isinstance(sigma, torch.Tensor)
        else torch.tensor(sigma / sampling_period, dtype=dtype, device=device)
    )
    grid = kernel_grid(
        kernel.name, sigma_bins, options.cutoff, options.center_kernel, kernel.invert, stacklevel=4
    )
    return grid, kernel


def _rate_from_rows(
    rows: torch.Tensor,
    n_bins: int,
    n_spikes: torch.Tensor,
    grid: KernelGrid,
    described: SmoothingKernel,
    sampling_period: float,
    t_start: float,
    t_stop: float,
    options: RateOptions,
) -> InstantaneousRate:
    """Shared tail: convolve zero-padded rows (..., n_trains, size), border-correct, pool."""
    trim = options.trim
    _check_taps(n_bins, grid.weights.shape[-1], trim)
    weights = grid.weights.to(dtype=rows.dtype, device=rows.device) / sampling_period
    rate = _convolve_rows(rows, n_bins, weights, trim).transpose(-1, -2)
    t_first, t_last = t_start, t_stop
    if trim:
        middle = median_index(grid.name, grid.times, grid.sigma, grid.invert)
        t_first = t_start + middle * sampling_period
        t_last = t_stop - (grid.weights.shape[-1] - middle) * sampling_period
    if options.border_correction:
        if grid.name != "gaussian":
            raise ArgumentValueError(
                "The border correction is only implemented for Gaussian kernels."
            )
        sigma = grid.sigma.to(dtype=rows.dtype, device=rows.device) * sampling_period
        rate = _border_correct(rate, n_spikes, sigma, t_first, sampling_period, t_first, t_last)
    if options.pool_spike_trains:
        rate = rate.mean(dim=-1, keepdim=True)
    if options.pool_trials and rate.ndim >= 3:
        rate = rate.mean(dim=-3)
    return InstantaneousRate(rate, t_first, described)


@with_rate_options_doc
def instantaneous_rate(
    times: torch.Tensor,
    mask: torch.Tensor,
    sampling_period: float,
    kernel: KernelArg = "auto",
    *,
    t_start: float,
    t_stop: float,
    cutoff: float = DEFAULT_OPTIONS.cutoff,
    trim: bool = DEFAULT_OPTIONS.trim,
    center_kernel: bool = DEFAULT_OPTIONS.center_kernel,
    border_correction: bool = DEFAULT_OPTIONS.border_correction,
    pool_trials: bool = DEFAULT_OPTIONS.pool_trials,
    pool_spike_trains: bool = DEFAULT_OPTIONS.pool_spike_trains,
    n_bins: int | None = None,
) -> InstantaneousRate:
    """Instantaneous firing rate of padded spike trains (Elephant's ``instantaneous_rate``).

    Parameters
    ----------
    times : torch.Tensor
        Padded spike times, shape (..., n_trains, max_spikes), e.g. (n_trials, n_trains,
        max_spikes); see :mod:`elephant_fit.statistics._padding`.
    mask : torch.Tensor
        Bool, same shape, True on real spikes.
    sampling_period : float
        Sampling period of the estimate (also the bin width), in the unit of ``times``.
    kernel : SmoothingKernel, KernelGrid or 'auto', optional
        The kernel (``sigma`` in the unit of ``times``), a kernel already discretised in bins
        (then ``cutoff`` and ``center_kernel`` are not used), or ``'auto'``: a Gaussian with
        ``optimal_kernel_bandwidth``, only for a single spike train.
    t_start, t_stop : float
        Window of the estimate; a trailing piece shorter than ``sampling_period`` is dropped.
    {rate_options}
    n_bins : int, optional
        Number of samples; default ``floor((t_stop - t_start) / sampling_period)``.

    Returns
    -------
    InstantaneousRate
        ``rate`` of shape (..., n_samples, n_trains) in spikes per time unit (Hz for seconds;
        ``n_samples`` is ``n_bins`` or, with ``trim``, ``n_bins - n_taps + 1``), ``t_start`` of
        the first sample and the kernel used.

    Raises
    ------
    TypeError
        For arguments of the wrong type.
    ValueError
        For an empty window, mismatched ``times``/``mask``, ``'auto'`` with several trains, a
        border correction with a non-Gaussian kernel, or ``trim`` with a kernel longer than the
        window.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from elephant_fit.statistics import instantaneous_rate
    >>> from elephant_fit.statistics.kernels import SmoothingKernel
    >>> times = torch.tensor([[0.03, 0.05]], dtype=torch.float64)  # 1 train, seconds
    >>> mask = torch.ones_like(times, dtype=torch.bool)
    >>> kernel = SmoothingKernel("gaussian", sigma=0.02)  # 20 ms
    >>> estimate = instantaneous_rate(times, mask, 0.01, kernel, t_start=0.0, t_stop=0.1)
    >>> estimate.rate.shape  # (n_samples, n_trains): 10 samples of 10 ms
    torch.Size([10, 1])
    >>> torch.round(estimate.rate[:5, 0], decimals=2).tolist()  # Hz
    [7.35, 14.8, 24.08, 32.05, 35.21]

    The same estimate as Elephant's:

    >>> import neo
    >>> import quantities as pq
    >>> from elephant.kernels import GaussianKernel
    >>> from elephant.statistics import instantaneous_rate as elephant_rate
    >>> train = neo.SpikeTrain([0.03, 0.05], t_stop=0.1, units="s")
    >>> reference = elephant_rate(train, 0.01 * pq.s, GaussianKernel(0.02 * pq.s))
    >>> bool(np.allclose(estimate.rate.numpy(), reference.magnitude))
    True
    """
    check_float_tensor(times, "times", 2, "(..., n_trains, max_spikes)")
    check_bool_mask(mask, "mask", times, "times")
    sampling_period = _check_sampling_period(sampling_period)
    options = RateOptions(
        cutoff, trim, center_kernel, border_correction, pool_trials, pool_spike_trains
    )
    n_bins = _window_bins(t_start, t_stop, sampling_period, n_bins)
    single = times.shape[:-1].numel() == 1
    auto_times = times.detach().reshape(-1)[mask.reshape(-1)] if single else None
    grid, described = _resolve_grid(
        kernel, sampling_period, options, times.dtype, times.device, auto_times
    )
    size = fast_fft_length(n_bins + grid.weights.shape[-1] - 1)
    rows = _histogram_rows(times, mask, t_start, sampling_period, n_bins, size)
    return _rate_from_rows(
        rows,
        n_bins,
        mask.sum(dim=-1),
        grid,
        described,
        sampling_period,
        float(t_start),
        float(t_stop),
        options,
    )


def _window_bins(t_start: float, t_stop: float, sampling_period: float, n_bins: int | None) -> int:
    t_start = check_number(t_start, "t_start")
    t_stop = check_number(t_stop, "t_stop")
    if n_bins is not None:
        return check_positive_int(n_bins, "n_bins")
    n_bins = int((t_stop - t_start) / sampling_period)
    if n_bins < 1:
        raise ArgumentValueError(
            f"Expected the window [{t_start}, {t_stop}] to hold at least one sampling period "
            f"({sampling_period}), but got n_bins={n_bins!r}."
        )
    return n_bins


@with_rate_options_doc
def instantaneous_rate_from_counts(
    counts: torch.Tensor,
    sampling_period: float,
    kernel: SmoothingKernel | KernelGrid,
    *,
    t_start: float = 0.0,
    t_stop: float | None = None,
    cutoff: float = DEFAULT_OPTIONS.cutoff,
    trim: bool = DEFAULT_OPTIONS.trim,
    center_kernel: bool = DEFAULT_OPTIONS.center_kernel,
    border_correction: bool = DEFAULT_OPTIONS.border_correction,
    pool_trials: bool = DEFAULT_OPTIONS.pool_trials,
    pool_spike_trains: bool = DEFAULT_OPTIONS.pool_spike_trains,
    n_spikes: torch.Tensor | None = None,
) -> InstantaneousRate:
    """Instantaneous firing rate from counts binned at ``sampling_period``.

    Same estimate as :func:`instantaneous_rate` once the spikes are binned; differentiable with
    respect to ``counts`` (e.g. sampled spikes of a model).

    Parameters
    ----------
    counts : torch.Tensor
        Shape (..., n_bins, n_neurons), e.g. (n_trials, n_bins, n_neurons).
    sampling_period : float
        Bin width, in the time unit of the result.
    kernel : SmoothingKernel or KernelGrid
        The kernel (``sigma`` in time units) or a kernel discretised in bins.
    t_start : float, optional
        Time of the first bin's left edge.
    t_stop : float, optional
        End of the window for the border correction; default ``t_start + n_bins *
        sampling_period``.
    {rate_options}
    n_spikes : torch.Tensor, optional
        Spikes per train for the border correction's normalisation, shape (..., n_neurons);
        default the counts' sums.

    Returns
    -------
    InstantaneousRate
        ``rate`` of shape (..., n_samples, n_neurons) in spikes per time unit (Hz for seconds;
        ``n_samples`` is ``n_bins`` or, with ``trim``, ``n_bins - n_taps + 1``), ``t_start`` of
        the first sample and the kernel used.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import instantaneous_rate_from_counts
    >>> from elephant_fit.statistics.kernels import SmoothingKernel
    >>> counts = torch.zeros(2, 10, 3, dtype=torch.float64)  # (n_trials, n_bins, n_neurons)
    >>> counts[0, 3, 0] = counts[0, 5, 0] = 1.0  # spikes at 30 ms and 50 ms in 10 ms bins
    >>> kernel = SmoothingKernel("gaussian", sigma=0.02)  # seconds
    >>> estimate = instantaneous_rate_from_counts(counts, 0.01, kernel)
    >>> estimate.rate.shape  # (n_trials, n_samples, n_neurons)
    torch.Size([2, 10, 3])
    >>> torch.round(estimate.rate[0, :5, 0], decimals=2).tolist()  # Hz
    [7.35, 14.8, 24.08, 32.05, 35.21]
    >>> instantaneous_rate_from_counts(counts, 0.01, kernel, pool_trials=True).rate.shape
    torch.Size([10, 3])
    """
    check_float_tensor(counts, "counts", 2, "(..., n_bins, n_neurons)")
    sampling_period = _check_sampling_period(sampling_period)
    options = RateOptions(
        cutoff, trim, center_kernel, border_correction, pool_trials, pool_spike_trains
    )
    if isinstance(kernel, str):
        raise ArgumentValueError(
            f"Expected `kernel` to be a SmoothingKernel or a KernelGrid (an 'auto' kernel cannot "
            f"be estimated from counts), but got {describe(kernel)}."
        )
    grid, described = _resolve_grid(
        kernel, sampling_period, options, counts.dtype, counts.device, None
    )
    n_bins = counts.shape[-2]
    t_start = check_number(t_start, "t_start")
    t_stop = (
        t_start + n_bins * sampling_period if t_stop is None else check_number(t_stop, "t_stop")
    )
    if n_spikes is None:
        n_spikes = counts.detach().sum(dim=-2)
    size = fast_fft_length(n_bins + grid.weights.shape[-1] - 1)
    rows = torch.nn.functional.pad(counts.transpose(-1, -2), (0, size - n_bins))
    return _rate_from_rows(
        rows,
        n_bins,
        n_spikes,
        grid,
        described,
        sampling_period,
        float(t_start),
        t_stop,
        options,
    )
