"""Firing rates, population histograms and PSTHs, as differentiable torch functions.

Definitions follow ``elephant.statistics`` (Elephant 1.2.1):

* the mean firing rate of a spike train is the number of spikes in ``[t_start, t_stop]`` (both
  edges included) divided by ``t_stop - t_start``; on binned counts it is the total count over the
  bins divided by ``n_bins * bin_size``;
* the time histogram sums counts over spike trains (here: over neurons, per trial) and reports
  counts, the mean count per train (``'mean'``) or the mean rate per train (``'rate'``);
* the PSTH is the trial mean of the counts per bin, optionally smoothed along the bins; for trials
  split into shares (a data-parallel fit) it is also :func:`psth_finish` of the added
  :func:`psth_sums` of the shares;
* with stimulus conditions (an integer code per trial), :func:`psth_by_condition` is the PSTH of
  each condition's trials, from sums over trials too (:func:`psth_by_condition_sums`: the
  indicator matrix of the codes, transposed, times the counts).

Binned inputs have shape (..., n_trials, n_bins, n_neurons); spike-time inputs are padded tensors
(..., n_trains, max_spikes) with a bool mask (see :mod:`elephant_fit.statistics._padding`).
"""

from __future__ import annotations

import torch

from .._validation import (
    check_bool_mask,
    check_choice,
    check_float_tensor,
    check_number,
    check_number_or_tensor,
    check_positive_int,
    describe,
)
from ..errors import ArgumentTypeError, ArgumentValueError
from ._smoothing import convolve_same

__all__ = [
    "condition_indicators",
    "count_in_window",
    "firing_rate",
    "mean_firing_rate",
    "mean_firing_rate_from_times",
    "psth",
    "psth_by_condition",
    "psth_by_condition_finish",
    "psth_by_condition_sums",
    "psth_finish",
    "psth_sums",
    "time_histogram",
]

#: The normalisations of :func:`time_histogram`, as in ``elephant.statistics.time_histogram``.
HISTOGRAM_OUTPUTS = ("counts", "mean", "rate")


def _check_tensor(value: object, name: str, shape: str, min_dim: int) -> torch.Tensor:
    """Raise unless ``value`` is a floating tensor with at least ``min_dim`` dimensions."""
    return check_float_tensor(value, name, min_dim, shape)


def _check_bin_size(bin_size: object) -> float:
    """Raise unless ``bin_size`` is a positive finite number; return it as a float."""
    return check_number(bin_size, "bin_size", positive=True, allow_zero=False)


def firing_rate(
    n_spikes: float | torch.Tensor, t_start: float | torch.Tensor, t_stop: float | torch.Tensor
) -> float | torch.Tensor:
    """Rate of ``n_spikes`` spikes over the window ``[t_start, t_stop]``.

    Works on Python numbers, NumPy arrays and tensors alike (plain arithmetic, broadcasting).

    Parameters
    ----------
    n_spikes : float or torch.Tensor
        Spike counts, any shape.
    t_start, t_stop : float or torch.Tensor
        Window edges, broadcastable to ``n_spikes``.

    Returns
    -------
    float or torch.Tensor
        ``n_spikes / (t_stop - t_start)``, in the inverse of the time unit of the edges.
    """
    return n_spikes / (t_stop - t_start)


def count_in_window(
    times: torch.Tensor,
    t_start: float | torch.Tensor,
    t_stop: float | torch.Tensor,
    mask: torch.Tensor | None = None,
    dim: int | None = -1,
) -> torch.Tensor:
    """Number of spike times in ``[t_start, t_stop]``, both edges included (Elephant's rule).

    Parameters
    ----------
    times : torch.Tensor
        Spike times, any shape; counted along ``dim``.
    t_start, t_stop : float or torch.Tensor
        Window edges, broadcastable to ``times`` (give them a size-1 axis at ``dim``).
    mask : torch.Tensor, optional
        Bool tensor broadcastable to ``times``; False entries (padding) are not counted.
    dim : int or None, optional
        Axis to count along; None counts over all entries.

    Returns
    -------
    torch.Tensor
        Counts, ``times``' shape without ``dim`` (a 0-d tensor for ``dim=None``), in the dtype of
        ``times``. Not differentiable (counts are piecewise constant in the times).
    """
    inside = (times >= t_start) & (times <= t_stop)
    if mask is not None:
        inside = inside & mask
    counts = inside.sum() if dim is None else inside.sum(dim=dim)
    return counts.to(times.dtype)


def mean_firing_rate_from_times(
    times: torch.Tensor,
    mask: torch.Tensor | None,
    t_start: float | torch.Tensor,
    t_stop: float | torch.Tensor,
) -> torch.Tensor:
    """Mean firing rate of padded spike trains over ``[t_start, t_stop]``.

    Parameters
    ----------
    times : torch.Tensor
        Shape (..., n_trains, max_spikes), padded spike times.
    mask : torch.Tensor or None
        Shape (..., n_trains, max_spikes), bool, True on real spikes (None: all real).
    t_start, t_stop : float or torch.Tensor
        Window edges, in the unit of ``times``; scalars or tensors broadcastable to
        (..., n_trains).

    Returns
    -------
    torch.Tensor
        Shape (..., n_trains): spikes in ``[t_start, t_stop]`` (edges included) divided by
        ``t_stop - t_start``, in the inverse time unit (Hz for seconds). Differentiable w.r.t.
        float window edges given as tensors.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import mean_firing_rate_from_times
    >>> times = torch.tensor([[0.1, 0.4, 0.9], [0.2, 0.2, 0.2]])  # seconds, padded
    >>> mask = torch.tensor([[True, True, True], [True, False, False]])
    >>> mean_firing_rate_from_times(times, mask, t_start=0.0, t_stop=0.5).tolist()  # Hz
    [4.0, 2.0]
    """
    times = _check_tensor(times, "times", "(..., n_trains, max_spikes)", 1)
    if mask is not None:
        check_bool_mask(mask, "mask", times, "times")
    t_start, t_stop = (
        torch.as_tensor(check_number_or_tensor(value, name), dtype=times.dtype, device=times.device)
        for name, value in (("t_start", t_start), ("t_stop", t_stop))
    )
    counts = count_in_window(times, t_start.unsqueeze(-1), t_stop.unsqueeze(-1), mask)
    return firing_rate(counts, t_start, t_stop)


def mean_firing_rate(counts: torch.Tensor, bin_size: float = 1.0) -> torch.Tensor:
    """Mean firing rate per neuron over all bins of binned counts.

    Parameters
    ----------
    counts : torch.Tensor
        Shape (..., n_bins, n_neurons), e.g. (n_trials, n_bins, n_neurons).
    bin_size : float, optional
        Bin width in the time unit of the result (e.g. seconds for Hz); the default 1.0 gives
        the mean count per bin.

    Returns
    -------
    torch.Tensor
        Shape (..., n_neurons): total count divided by ``n_bins * bin_size``, in the inverse of
        the unit of ``bin_size`` (Hz for seconds). Differentiable.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import mean_firing_rate
    >>> counts = torch.tensor([[[1.0, 0.0], [0.0, 0.0], [2.0, 1.0], [0.0, 0.0]],
    ...                        [[0.0, 1.0], [1.0, 0.0], [1.0, 0.0], [0.0, 0.0]]])
    >>> counts.shape  # (n_trials, n_bins, n_neurons)
    torch.Size([2, 4, 2])
    >>> mean_firing_rate(counts, bin_size=0.025).tolist()  # 25 ms bins: Hz per trial and neuron
    [[30.0, 10.0], [20.0, 10.0]]
    """
    counts = _check_tensor(counts, "counts", "(..., n_bins, n_neurons)", 2)
    bin_size = _check_bin_size(bin_size)
    return firing_rate(counts.sum(dim=-2), 0.0, counts.shape[-2] * bin_size)


def _normalise_histogram(
    hist: torch.Tensor, n_trains: int, bin_size: float | None, output: str
) -> torch.Tensor:
    """Elephant's ``time_histogram`` normalisation of a population count ``hist``."""
    if output == "counts":
        return hist
    if output == "mean":
        return hist / n_trains
    if output == "rate":
        if bin_size is None:
            raise ArgumentValueError("Expected `bin_size` for output='rate', but got None.")
        return hist / (n_trains * bin_size)
    raise ArgumentValueError(
        f"Expected `output` to be one of {HISTOGRAM_OUTPUTS}, but got {describe(output)}."
    )


def time_histogram(
    counts: torch.Tensor,
    bin_size: float | None = None,
    output: str = "counts",
    binary: bool = False,
) -> torch.Tensor:
    """Population histogram: counts summed over neurons, per bin (and per trial).

    Parameters
    ----------
    counts : torch.Tensor
        Shape (..., n_bins, n_neurons), e.g. (n_trials, n_bins, n_neurons).
    bin_size : float, optional
        Bin width in the time unit of the result; needed for ``output='rate'``.
    output : {'counts', 'mean', 'rate'}, optional
        ``'counts'``: summed counts; ``'mean'``: divided by ``n_neurons``; ``'rate'``: divided by
        ``n_neurons * bin_size``.
    binary : bool, optional
        Clip counts at 1 before summing (Elephant's ``binary=True``).

    Returns
    -------
    torch.Tensor
        Shape (..., n_bins): counts (``'counts'``), counts per neuron (``'mean'``) or a rate per
        neuron in the inverse of the unit of ``bin_size`` (``'rate'``, Hz for seconds).
        Differentiable (with ``binary=True``, zero gradient where a count exceeds 1).

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import time_histogram
    >>> counts = torch.tensor([[[1.0, 0.0], [0.0, 0.0], [2.0, 1.0], [0.0, 0.0]],
    ...                        [[0.0, 1.0], [1.0, 0.0], [1.0, 0.0], [0.0, 0.0]]])
    >>> time_histogram(counts).tolist()  # (n_trials, n_bins)
    [[1.0, 0.0, 3.0, 0.0], [1.0, 1.0, 1.0, 0.0]]
    >>> time_histogram(counts, bin_size=0.025, output="rate").tolist()  # Hz per neuron
    [[20.0, 0.0, 60.0, 0.0], [20.0, 20.0, 20.0, 0.0]]
    """
    counts = _check_tensor(counts, "counts", "(..., n_bins, n_neurons)", 2)
    check_choice(output, "output", HISTOGRAM_OUTPUTS)
    if bin_size is not None:
        bin_size = _check_bin_size(bin_size)
    if binary:
        counts = counts.clamp(max=1.0)
    return _normalise_histogram(counts.sum(dim=-1), counts.shape[-1], bin_size, output)


def _check_kernel(kernel: object, like: torch.Tensor) -> torch.Tensor:
    """Raise unless ``kernel`` is a 1-D float tensor of odd length; cast it like ``like``."""
    if not isinstance(kernel, torch.Tensor):
        raise ArgumentTypeError(
            f"Expected `kernel` to be a 1-D torch.Tensor of weights, but got {describe(kernel)}."
        )
    if kernel.dim() != 1 or kernel.shape[0] % 2 == 0:
        raise ArgumentValueError(
            "Expected `kernel` to be a 1-D tensor of odd length (centred on its middle entry), "
            f"but got shape {tuple(kernel.shape)}."
        )
    if not kernel.is_floating_point():
        raise ArgumentTypeError(
            f"Expected `kernel` to be a floating-point tensor, but got dtype {kernel.dtype}."
        )
    return kernel.to(dtype=like.dtype, device=like.device)


def _scale_and_smooth(
    mean: torch.Tensor, bin_size: float | None, kernel: torch.Tensor | None
) -> torch.Tensor:
    """The PSTH from the trial mean (..., n_bins, n_neurons): a rate with ``bin_size``, smoothed."""
    if bin_size is not None:
        mean = mean / _check_bin_size(bin_size)
    if kernel is not None:
        mean = convolve_same(mean, _check_kernel(kernel, mean), dim=-2)
    return mean


def psth(
    counts: torch.Tensor,
    bin_size: float | None = None,
    kernel: torch.Tensor | None = None,
) -> torch.Tensor:
    """Peri-stimulus time histogram: the trial mean of the counts per bin.

    Parameters
    ----------
    counts : torch.Tensor
        Shape (..., n_trials, n_bins, n_neurons).
    bin_size : float, optional
        Bin width; when given, the result is a rate in the inverse of its unit (e.g. Hz for
        seconds), else a mean count per bin.
    kernel : torch.Tensor, optional
        Smoothing weights, shape (n_kernel,) with n_kernel odd, centred on the middle entry.
        The PSTH is convolved with it along the bins ('same' size, zero padding beyond the
        edges); weights are used as given (normalise them to sum to 1 to preserve the mean).

    Returns
    -------
    torch.Tensor
        Shape (..., n_bins, n_neurons). Differentiable w.r.t. ``counts`` and ``kernel``. Equal to
        ``psth_finish(psth_sums(counts), n_trials, ...)`` up to rounding: the trial mean here is
        ``torch.mean``, which on CUDA multiplies by ``1 / n_trials`` rather than dividing.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import psth
    >>> counts = torch.tensor([[[1.0, 0.0], [0.0, 0.0], [2.0, 1.0], [0.0, 0.0]],
    ...                        [[0.0, 1.0], [1.0, 0.0], [1.0, 0.0], [0.0, 0.0]]])
    >>> psth(counts).tolist()  # mean count per bin, (n_bins, n_neurons)
    [[0.5, 0.5], [0.5, 0.0], [1.5, 0.5], [0.0, 0.0]]
    >>> psth(counts, bin_size=0.025).tolist()  # 25 ms bins: Hz
    [[20.0, 20.0], [20.0, 0.0], [60.0, 20.0], [0.0, 0.0]]
    >>> kernel = torch.tensor([0.25, 0.5, 0.25])  # smoothing weights over 3 bins
    >>> psth(counts, kernel=kernel)[:, 0].tolist()
    [0.375, 0.75, 0.875, 0.375]
    """
    counts = _check_tensor(counts, "counts", "(..., n_trials, n_bins, n_neurons)", 3)
    return _scale_and_smooth(counts.mean(dim=-3), bin_size, kernel)


def psth_sums(counts: torch.Tensor) -> tuple[torch.Tensor]:
    """The sum over trials from which :func:`psth_finish` makes the PSTH.

    Parameters
    ----------
    counts : torch.Tensor
        Shape (..., n_trials, n_bins, n_neurons).

    Returns
    -------
    tuple of torch.Tensor
        ``(totals,)``, shape (..., n_bins, n_neurons): the counts summed over the trials (sums
        over disjoint shares of the trials add up), in the unit of ``counts``. Differentiable.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import psth_sums
    >>> counts = torch.tensor([[[1.0], [0.0], [2.0]], [[0.0], [1.0], [1.0]]])  # 2 trials, 3 bins
    >>> (totals,) = psth_sums(counts)
    >>> totals.shape, totals.flatten().tolist()
    (torch.Size([3, 1]), [1.0, 1.0, 3.0])
    """
    counts = _check_tensor(counts, "counts", "(..., n_trials, n_bins, n_neurons)", 3)
    return (counts.sum(dim=-3),)


def psth_finish(
    sums: tuple[torch.Tensor],
    n_trials: int,
    bin_size: float | None = None,
    kernel: torch.Tensor | None = None,
) -> torch.Tensor:
    """The PSTH from :func:`psth_sums` over ``n_trials`` trials.

    Parameters
    ----------
    sums : tuple of torch.Tensor
        ``(totals,)``, shape (..., n_bins, n_neurons); the result is in its dtype.
    n_trials : int
        Number of trials summed over.
    bin_size, kernel
        As in :func:`psth`.

    Returns
    -------
    torch.Tensor
        Shape (..., n_bins, n_neurons): ``totals / n_trials``, then as :func:`psth` (a mean
        count per bin, or a rate in the inverse of the unit of ``bin_size``). Differentiable.

    Examples
    --------
    Trials split into two shares (e.g. two processes): add the shares' sums, finish once.

    >>> import torch
    >>> from elephant_fit.statistics import psth, psth_finish, psth_sums
    >>> counts = torch.tensor([[[1.0], [0.0], [2.0]], [[0.0], [1.0], [1.0]], [[2.0], [2.0], [3.0]]])
    >>> share_a, share_b = psth_sums(counts[:2]), psth_sums(counts[2:])
    >>> sums = tuple(a + b for a, b in zip(share_a, share_b))
    >>> psth_finish(sums, n_trials=3, bin_size=0.5).flatten().tolist()  # 0.5 s bins: Hz
    [2.0, 2.0, 4.0]
    >>> torch.allclose(psth_finish(sums, n_trials=3), psth(counts))
    True
    """
    if not (isinstance(sums, tuple) and len(sums) == 1):
        raise ArgumentTypeError(
            f"Expected `sums` to be the 1-tuple (totals,), but got {describe(sums)}."
        )
    totals = _check_tensor(sums[0], "sums[0]", "(..., n_bins, n_neurons)", 2)
    n_trials = check_positive_int(n_trials, "n_trials")
    return _scale_and_smooth(totals / n_trials, bin_size, kernel)


def condition_indicators(
    conditions: torch.Tensor, n_conditions: int, like: torch.Tensor
) -> torch.Tensor:
    """Indicator matrix of condition codes: ``I[k, c] = 1`` if trial ``k`` has condition ``c``.

    Parameters
    ----------
    conditions : torch.Tensor
        Integer codes, shape (n_trials,), with ``n_trials = like.shape[-3]`` and values in
        ``0 .. n_conditions - 1``.
    n_conditions : int
        Number of conditions (all shares of a batch must use the same).
    like : torch.Tensor
        Counts of shape (..., n_trials, n_bins, n_neurons): the dtype and device of the result.

    Returns
    -------
    torch.Tensor
        Shape (n_trials, n_conditions), in the dtype and device of ``like``.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import condition_indicators
    >>> condition_indicators(torch.tensor([1, 0, 1]), 2, torch.zeros(3, 1, 1))
    tensor([[0., 1.],
            [1., 0.],
            [0., 1.]])
    """
    n_conditions = check_positive_int(n_conditions, "n_conditions")
    n_trials = like.shape[-3]
    if (
        not isinstance(conditions, torch.Tensor)
        or conditions.dtype.is_floating_point
        or conditions.dtype.is_complex
        or conditions.dtype == torch.bool
    ):
        raise ArgumentTypeError(
            f"Expected `conditions` to be an integer tensor of {n_trials} codes (one per "
            f"trial), but got {describe(conditions)}."
        )
    if conditions.shape != (n_trials,):
        raise ArgumentValueError(
            f"Expected `conditions` of shape ({n_trials},) (one code per trial), but got shape "
            f"{tuple(conditions.shape)}."
        )
    if len(conditions) and (int(conditions.min()) < 0 or int(conditions.max()) >= n_conditions):
        raise ArgumentValueError(
            f"Expected `conditions` in 0..{n_conditions - 1} (`n_conditions` = {n_conditions}), "
            f"but got values {int(conditions.min())}..{int(conditions.max())}."
        )
    codes = conditions.to(device=like.device, dtype=torch.long)
    return torch.nn.functional.one_hot(codes, n_conditions).to(like.dtype)


def psth_by_condition_sums(
    counts: torch.Tensor, conditions: torch.Tensor, n_conditions: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The sums over trials from which :func:`psth_by_condition_finish` makes each condition's PSTH.

    Parameters
    ----------
    counts : torch.Tensor
        Shape (..., n_trials, n_bins, n_neurons).
    conditions : torch.Tensor
        Condition code of each trial, shape (n_trials,), integers in ``0 .. n_conditions - 1``.
    n_conditions : int
        Number of conditions.

    Returns
    -------
    totals : torch.Tensor
        Shape (..., n_conditions, n_bins, n_neurons): ``S[c, t, i] = sum_{k: c(k) = c} x[k, t, i]``
        (``I^T @ counts`` with the indicators :func:`condition_indicators`). Differentiable.
    trials : torch.Tensor
        Shape (n_conditions,): the number of trials of each condition, in the dtype of ``counts``.
        Both add up over disjoint shares of the trials.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import psth_by_condition_sums
    >>> counts = torch.tensor([[[1.0]], [[0.0]], [[3.0]]])  # 3 trials, 1 bin, 1 neuron
    >>> totals, trials = psth_by_condition_sums(counts, torch.tensor([0, 1, 0]), n_conditions=2)
    >>> totals.shape  # (n_conditions, n_bins, n_neurons)
    torch.Size([2, 1, 1])
    >>> totals.flatten().tolist(), trials.tolist()
    ([4.0, 0.0], [2.0, 1.0])
    """
    counts = _check_tensor(counts, "counts", "(..., n_trials, n_bins, n_neurons)", 3)
    indicators = condition_indicators(conditions, n_conditions, counts)
    totals = torch.einsum("kc,...ktn->...ctn", indicators, counts)
    return totals, indicators.sum(dim=0)


def psth_by_condition_finish(
    sums: tuple[torch.Tensor, torch.Tensor],
    bin_size: float | None = None,
    kernel: torch.Tensor | None = None,
) -> torch.Tensor:
    """Each condition's PSTH from :func:`psth_by_condition_sums`.

    Parameters
    ----------
    sums : tuple of torch.Tensor
        ``(totals, trials)``, shapes (..., n_conditions, n_bins, n_neurons) and (n_conditions,),
        possibly added over shares of the trials; the result is in the dtype of ``totals``.
    bin_size, kernel
        As in :func:`psth`.

    Returns
    -------
    torch.Tensor
        Shape (..., n_conditions, n_bins, n_neurons): ``totals[c] / trials[c]`` (0 for a
        condition without trials), then as :func:`psth` (a mean count per bin, or a rate in the
        inverse of the unit of ``bin_size``). Differentiable.

    Examples
    --------
    Trials split into two shares: add the shares' sums, finish once.

    >>> import torch
    >>> from elephant_fit.statistics import psth_by_condition_finish, psth_by_condition_sums
    >>> counts = torch.tensor([[[1.0]], [[0.0]], [[3.0]]])  # 3 trials, 1 bin, 1 neuron
    >>> conditions = torch.tensor([0, 1, 0])
    >>> share_a = psth_by_condition_sums(counts[:2], conditions[:2], 2)
    >>> share_b = psth_by_condition_sums(counts[2:], conditions[2:], 2)
    >>> sums = tuple(a + b for a, b in zip(share_a, share_b))
    >>> psth_by_condition_finish(sums, bin_size=0.5).flatten().tolist()  # 0.5 s bins: Hz
    [4.0, 0.0]
    """
    if not (isinstance(sums, tuple) and len(sums) == 2):
        raise ArgumentTypeError(
            f"Expected `sums` to be the pair (totals, trials), but got {describe(sums)}."
        )
    totals = _check_tensor(sums[0], "sums[0]", "(..., n_conditions, n_bins, n_neurons)", 3)
    trials = _check_tensor(sums[1], "sums[1]", "(n_conditions,)", 1)
    if trials.ndim != 1 or trials.shape[0] != totals.shape[-3]:
        raise ArgumentValueError(
            f"Expected `sums[1]` of shape ({totals.shape[-3]},) (one count per condition), but "
            f"got {tuple(trials.shape)}."
        )
    means = totals / trials.clamp(min=1).to(totals.dtype)[:, None, None]
    return _scale_and_smooth(means, bin_size, kernel)


def psth_by_condition(
    counts: torch.Tensor,
    conditions: torch.Tensor,
    n_conditions: int,
    bin_size: float | None = None,
    kernel: torch.Tensor | None = None,
) -> torch.Tensor:
    """PSTH of each stimulus condition: the mean over that condition's trials, per bin.

    Parameters
    ----------
    counts : torch.Tensor
        Shape (..., n_trials, n_bins, n_neurons).
    conditions : torch.Tensor
        Condition code of each trial, shape (n_trials,), integers in ``0 .. n_conditions - 1``.
    n_conditions : int
        Number of conditions (a condition without trials gets a PSTH of zeros).
    bin_size, kernel
        As in :func:`psth`.

    Returns
    -------
    torch.Tensor
        Shape (..., n_conditions, n_bins, n_neurons), a mean count per bin (or a rate in the
        inverse of the unit of ``bin_size``):
        ``psth_by_condition_finish(psth_by_condition_sums(...))``. Differentiable.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import psth_by_condition
    >>> counts = torch.tensor([[[1.0]], [[0.0]], [[3.0]]])  # 3 trials, 1 bin, 1 neuron
    >>> psth_by_condition(counts, torch.tensor([0, 1, 0]), 2).flatten().tolist()
    [2.0, 0.0]
    """
    sums = psth_by_condition_sums(counts, conditions, n_conditions)
    return psth_by_condition_finish(sums, bin_size, kernel)
