"""Lagged noise covariance and correlation across trials (Bellec et al. 2021).

The covariance is written once, in two steps (as a streaming metric): :func:`noise_covariance_sums`
reduces the trials to sums, :func:`noise_covariance_finish` turns sums over ``n_trials`` trials
into the covariance, and :func:`noise_covariance` is ``finish(sums(counts))``. Sums of disjoint
shares of the trials add up, so a data-parallel fit sums on each process, adds the sums across
processes and finishes once (:mod:`elephant_fit.fitting.trial_statistics`).

With stimulus conditions (an integer code per trial), the noise is the counts minus the PSTH of
the trial's own condition, and the sums carry one total per condition (``conditions=``): the
products ``P`` do not depend on the conditions, the centring term is a sum over conditions.

Shapes: counts ``(..., n_trials, n_bins, n_neurons)``, leading dimensions are batch dimensions.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from .._validation import (
    check_float_tensor,
    check_non_negative_int,
    check_number,
    check_positive_int,
    describe,
)
from ..errors import ArgumentTypeError, ArgumentValueError
from .rates import condition_indicators, psth_by_condition_sums

__all__ = [
    "noise_correlation",
    "noise_covariance",
    "noise_covariance_finish",
    "noise_covariance_sums",
]

#: ``(totals, products)``; with conditions ``(totals per condition, products, trials per condition)``.
NoiseSums = tuple[torch.Tensor, ...]


def _lagged_products(
    values: torch.Tensor, max_lag: int, other: torch.Tensor | None = None
) -> torch.Tensor:
    """``P[..., d, i, j] = sum_k sum_{t >= d} x[..., k, t, i] y[..., k, t - d, j]`` (``y = other or x``).

    ``values`` (and ``other``) have shape (..., n_trials, n_bins, n_neurons); the result
    (..., max_lag + 1, n_neurons, n_neurons'), differentiable (:class:`_LaggedProducts`).
    """
    return _LaggedProducts.apply(values, other, max_lag)


class _LaggedProducts(torch.autograd.Function):
    """The lagged products as one matrix product per lag over all trials, with its backward.

    Each trial is padded in front with ``max_lag`` zero bins and the trials are laid end to end,
    ``X`` of shape (n_trials * (n_bins + max_lag), n): then ``P[d] = X[d:]^T @ Y[:-d]`` exactly
    (a bin ``t < d`` meets its own trial's zeros, never the previous trial). Nothing is copied
    per lag; the backward is ``dX[d:] += Y[:-d] @ G[d]^T`` and ``dY[:-d] += X[d:] @ G[d]``, in
    place. Stacking ``max_lag + 1`` shifted copies and leaving the backward to autograd took
    twice as long (retina demo sizes: 24 trials x 900 bins x 38 neurons, lags 0-5, float32:
    26 ms forward + backward, against 13 ms).
    """

    @staticmethod
    def forward(
        ctx: Any, values: torch.Tensor, other: torch.Tensor | None, max_lag: int
    ) -> torch.Tensor:
        batch, (n_trials, n_bins, n) = values.shape[:-3], values.shape[-3:]
        left = _padded(values, max_lag)  # (B, R, n)
        right = left if other is None else _padded(other, max_lag)
        n_rows, m = left.shape[1], right.shape[2]
        products = values.new_empty(left.shape[0], max_lag + 1, n, m)
        for x, y, out in zip(left.unbind(0), right.unbind(0), products.unbind(0), strict=True):
            for d, out_d in enumerate(out.unbind(0)):
                torch.mm(x[d:].T, y[: n_rows - d], out=out_d)
        ctx.save_for_backward(left, right)
        ctx.layout = (batch, n_trials, n_bins, max_lag, other is None)
        return products.view(*batch, max_lag + 1, n, m)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        left, right = ctx.saved_tensors
        batch, n_trials, n_bins, max_lag, same = ctx.layout
        grad = grad.reshape(left.shape[0], max_lag + 1, left.shape[2], right.shape[2])
        n_rows = left.shape[1]
        grad_left = torch.zeros_like(left)
        grad_right = grad_left if same else torch.zeros_like(right)
        batches = (t.unbind(0) for t in (left, right, grad, grad_left, grad_right))
        for x, y, g, grad_x, grad_y in zip(*batches, strict=True):
            for d, g_d in enumerate(g.unbind(0)):
                grad_x[d:].addmm_(y[: n_rows - d], g_d.T)
                grad_y[: n_rows - d].addmm_(x[d:], g_d)

        def unpadded(padded: torch.Tensor) -> torch.Tensor:
            shape = (*batch, n_trials, n_bins + max_lag, padded.shape[2])
            return padded.view(shape)[..., max_lag:, :]

        return unpadded(grad_left), None if same else unpadded(grad_right), None


def _padded(values: torch.Tensor, max_lag: int) -> torch.Tensor:
    """(..., n_trials, n_bins, n) -> (B, n_trials * (max_lag + n_bins), n), zero bins first."""
    padded = F.pad(values, (0, 0, max_lag, 0))
    return padded.reshape(-1, padded.shape[-3] * padded.shape[-2], padded.shape[-1])


def _check_lag(max_lag: int, n_bins: int) -> int:
    max_lag = check_non_negative_int(max_lag, "max_lag")
    if max_lag >= n_bins:
        raise ArgumentValueError(
            f"Expected `max_lag` to be smaller than n_bins ({n_bins}), but got {max_lag}."
        )
    return max_lag


def _check_ddof(ddof: int, n_trials: int) -> int:
    ddof = check_non_negative_int(ddof, "ddof")
    if ddof >= n_trials:
        raise ArgumentValueError(
            f"Expected `ddof` to be smaller than n_trials ({n_trials}), but got {ddof}."
        )
    return ddof


def noise_covariance_sums(
    counts: torch.Tensor,
    max_lag: int = 0,
    centred: bool = False,
    conditions: torch.Tensor | None = None,
    n_conditions: int | None = None,
) -> NoiseSums:
    """The sums over trials from which :func:`noise_covariance_finish` makes the covariance.

    Parameters
    ----------
    counts : torch.Tensor
        Shape (..., n_trials, n_bins, n_neurons), float.
    max_lag : int, optional
        Largest lag ``d`` in bins, ``0 <= max_lag < n_bins``.
    centred : bool, optional
        Take the sums about the trial mean (the PSTH; with conditions, each trial's condition's
        PSTH) of ``counts``: the totals are then exactly zero and the products those of the
        residuals (the two-pass form, which cancels no digits). Only for all the trials at once:
        sums about a share's own mean do not add up across shares. Default: plain sums, which
        add up.
    conditions : torch.Tensor, optional
        Condition code of each trial, shape (n_trials,), integers in ``0 .. n_conditions - 1``:
        the noise is then measured about each condition's PSTH.
    n_conditions : int, optional
        Number of conditions (required with ``conditions``; the same for every share).

    Returns
    -------
    totals : torch.Tensor
        Shape (..., n_bins, n_neurons): ``s[t, i] = sum_k x[k, t, i]``; with conditions
        (..., n_conditions, n_bins, n_neurons), the sums over each condition's trials.
    products : torch.Tensor
        Shape (..., max_lag + 1, n_neurons, n_neurons):
        ``P[d, i, j] = sum_k sum_{t=d}^{n_bins-1} x[k, t, i] x[k, t - d, j]``.
        Both in the dtype of ``counts``, differentiable.
    trials : torch.Tensor
        Only with conditions: shape (n_conditions,), the trials of each condition.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import noise_covariance_sums
    >>> counts = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [0.0, 0.0]],
    ...                        [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [1.0, 0.0]],
    ...                        [[2.0, 0.0], [0.0, 0.0], [0.0, 2.0], [1.0, 1.0]]],
    ...                       dtype=torch.float64)  # 3 trials, 4 bins, 2 neurons
    >>> totals, products = noise_covariance_sums(counts, max_lag=1)
    >>> totals.shape, products.shape  # (n_bins, n_neurons), (max_lag + 1, n_neurons, n_neurons)
    (torch.Size([4, 2]), torch.Size([2, 2, 2]))
    >>> products[0].tolist()  # lag 0: sum over trials and bins of x[t, i] x[t, j]
    [[13.0, 4.0], [4.0, 9.0]]
    >>> totals, products, trials = noise_covariance_sums(
    ...     counts, max_lag=1, conditions=torch.tensor([0, 1, 0]), n_conditions=2
    ... )
    >>> totals.shape, trials.tolist()  # (n_conditions, n_bins, n_neurons)
    (torch.Size([2, 4, 2]), [2.0, 1.0])
    """
    counts = check_float_tensor(counts, "counts", 3, "(..., n_trials, n_bins, n_neurons)")
    max_lag = _check_lag(max_lag, counts.shape[-2])
    if not isinstance(centred, bool):
        raise ArgumentTypeError(f"Expected `centred` to be a bool, but got {describe(centred)}.")
    if conditions is not None:
        return _sums_by_condition(counts, max_lag, centred, conditions, n_conditions)
    if centred:
        residuals = counts - counts.mean(dim=-3, keepdim=True)
        totals = torch.zeros(residuals.shape[:-3] + residuals.shape[-2:], **_kind(counts))
        return totals, _lagged_products(residuals, max_lag)
    return counts.sum(dim=-3), _lagged_products(counts, max_lag)


def _sums_by_condition(
    counts: torch.Tensor,
    max_lag: int,
    centred: bool,
    conditions: torch.Tensor,
    n_conditions: int | None,
) -> NoiseSums:
    """:func:`noise_covariance_sums` with conditions: (totals per condition, products, trials)."""
    if n_conditions is None:
        raise ArgumentValueError("`conditions` need `n_conditions` (the number of conditions).")
    totals, trials = psth_by_condition_sums(counts, conditions, n_conditions)
    if not centred:
        return totals, _lagged_products(counts, max_lag), trials
    indicators = condition_indicators(conditions, n_conditions, counts)
    means = totals / trials.clamp(min=1)[:, None, None]  # (..., C, T, n)
    residuals = counts - torch.einsum("kc,...ctn->...ktn", indicators, means)
    return torch.zeros_like(totals), _lagged_products(residuals, max_lag), trials


def _kind(tensor: torch.Tensor) -> dict[str, object]:
    return {"dtype": tensor.dtype, "device": tensor.device}


def noise_covariance_finish(sums: NoiseSums, n_trials: int, ddof: int = 0) -> torch.Tensor:
    """Noise covariance from the sums of :func:`noise_covariance_sums` over ``n_trials`` trials.

    ``C[d] = (P[d] - sum_t s[t] s[t - d]^T / n_trials) / ((n_trials - ddof) (n_bins - d))``: the
    residual products of :func:`noise_covariance` expanded (the centring term is the lagged
    product of the totals). With conditions the centring term is
    ``sum_c sum_t s_c[t] s_c[t - d]^T / n_c`` and the trial count ``n_trials - ddof * (number of
    conditions with trials)``.

    Parameters
    ----------
    sums : tuple of torch.Tensor
        ``(totals, products)``, shapes (..., n_bins, n_neurons) and (..., max_lag + 1, n_neurons,
        n_neurons), summed over ``n_trials`` trials (possibly share by share); or, with
        conditions, ``(totals, products, trials)`` with totals (..., n_conditions, n_bins,
        n_neurons) and trials (n_conditions,). The result is in the dtype of the totals (widen
        them first to cancel fewer digits).
    n_trials : int
        Number of trials summed over.
    ddof : int, optional
        Delta degrees of freedom of the trial average (of each condition's), at least one trial
        left.

    Returns
    -------
    torch.Tensor
        Shape (..., max_lag + 1, n_neurons, n_neurons), in squared counts. Differentiable in the
        sums.

    Examples
    --------
    Trials split into two shares (e.g. two processes): add the shares' sums, finish once.

    >>> import torch
    >>> from elephant_fit.statistics import (
    ...     noise_covariance,
    ...     noise_covariance_finish,
    ...     noise_covariance_sums,
    ... )
    >>> counts = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [0.0, 0.0]],
    ...                        [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [1.0, 0.0]],
    ...                        [[2.0, 0.0], [0.0, 0.0], [0.0, 2.0], [1.0, 1.0]]],
    ...                       dtype=torch.float64)  # 3 trials, 4 bins, 2 neurons
    >>> share_a = noise_covariance_sums(counts[:2], max_lag=1)
    >>> share_b = noise_covariance_sums(counts[2:], max_lag=1)
    >>> sums = tuple(a + b for a, b in zip(share_a, share_b))
    >>> cov = noise_covariance_finish(sums, n_trials=3)
    >>> cov.shape
    torch.Size([2, 2, 2])
    >>> torch.allclose(cov, noise_covariance(counts, max_lag=1))
    True
    """
    if not (isinstance(sums, tuple) and len(sums) in (2, 3)):
        raise ArgumentTypeError(
            "Expected `sums` to be (totals, products) or (totals, products, trials), but got "
            f"{describe(sums)}."
        )
    by_condition = len(sums) == 3
    totals = check_float_tensor(
        sums[0], "sums[0]", 2 + by_condition, "(..., [n_conditions,] n_bins, n_neurons)"
    )
    products = check_float_tensor(sums[1], "sums[1]", 3, "(..., max_lag + 1, n, n)")
    n_trials = check_positive_int(n_trials, "n_trials")
    n_bins, max_lag = totals.shape[-2], products.shape[-3] - 1
    if by_condition:
        trials = check_float_tensor(sums[2], "sums[2]", 1, "(n_conditions,)").to(totals.dtype)
        means = totals / trials.clamp(min=1)[:, None, None]
        centring = _lagged_products(totals, max_lag, other=means)
        n_means = int((trials > 0).sum())
    else:
        centring = _lagged_products(totals.unsqueeze(-3), max_lag) / n_trials
        n_means = 1
    ddof = _check_ddof(ddof, n_trials) if n_means == 1 else check_non_negative_int(ddof, "ddof")
    if n_trials - ddof * n_means < 1:
        raise ArgumentValueError(
            f"Expected `ddof` to leave at least one trial ({n_trials} trials, {n_means} trial "
            f"means), but got {ddof}."
        )
    lags = torch.arange(max_lag + 1, **_kind(totals))
    n_terms = (n_trials - ddof * n_means) * (n_bins - lags)
    return (products - centring) / n_terms[:, None, None]


def noise_covariance(
    counts: torch.Tensor,
    max_lag: int = 0,
    ddof: int = 0,
    conditions: torch.Tensor | None = None,
    n_conditions: int | None = None,
) -> torch.Tensor:
    """Lagged noise covariance across trials (Bellec et al. 2021).

    With residuals ``n[k, t, i] = counts[k, t, i] - mean_k counts[k, t, i]`` (counts minus the
    PSTH; with ``conditions``, minus the PSTH of trial ``k``'s condition),

    ``C[d, i, j] = sum_k sum_{t=d}^{n_bins-1} n[k, t, i] n[k, t-d, j] / ((n_trials - ddof) (n_bins - d))``

    i.e. the mean over trials and over the ``n_bins - d`` bins where ``t - d`` is valid (with
    ``ddof=1`` the trial average is unbiased). Neuron ``j`` leads neuron ``i`` by ``d`` bins.
    Computed as ``noise_covariance_finish(noise_covariance_sums(counts, centred=True))``.

    Parameters
    ----------
    counts : torch.Tensor
        Shape (..., n_trials, n_bins, n_neurons), float.
    max_lag : int, optional
        Largest lag ``d`` in bins, ``0 <= max_lag < n_bins``.
    ddof : int, optional
        Delta degrees of freedom of the trial average, ``0 <= ddof < n_trials`` (with conditions:
        of each condition's average; the divisor is ``n_trials - ddof * n_conditions_seen``).
    conditions : torch.Tensor, optional
        Condition code of each trial, shape (n_trials,), integers in ``0 .. n_conditions - 1``.
    n_conditions : int, optional
        Number of conditions (required with ``conditions``).

    Returns
    -------
    torch.Tensor
        Shape (..., max_lag + 1, n_neurons, n_neurons), in squared counts; entry ``[d, i, j]`` is
        the lag of ``d`` bins. Differentiable.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import noise_covariance
    >>> counts = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [0.0, 0.0]],
    ...                        [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [1.0, 0.0]],
    ...                        [[2.0, 0.0], [0.0, 0.0], [0.0, 2.0], [1.0, 1.0]]],
    ...                       dtype=torch.float64)  # 3 trials, 4 bins, 2 neurons
    >>> cov = noise_covariance(counts, max_lag=1)
    >>> cov.shape  # (max_lag + 1, n_neurons, n_neurons)
    torch.Size([2, 2, 2])
    >>> torch.round(cov[0], decimals=4).tolist()  # lag 0
    [[0.4444, -0.1667], [-0.1667, 0.2222]]
    >>> by_condition = noise_covariance(counts, conditions=torch.tensor([0, 1, 0]), n_conditions=2)
    >>> torch.round(by_condition[0], decimals=4).tolist()  # about each condition's PSTH
    [[0.25, -0.0417], [-0.0417, 0.125]]
    """
    counts = check_float_tensor(counts, "counts", 3, "(..., n_trials, n_bins, n_neurons)")
    max_lag = _check_lag(max_lag, counts.shape[-2])
    n_trials = counts.shape[-3]
    ddof = _check_ddof(ddof, n_trials)
    sums = noise_covariance_sums(counts, max_lag, True, conditions, n_conditions)
    return noise_covariance_finish(sums, n_trials, ddof)


def noise_correlation(
    counts: torch.Tensor,
    max_lag: int = 0,
    ddof: int = 0,
    eps: float = 0.0,
    conditions: torch.Tensor | None = None,
    n_conditions: int | None = None,
) -> torch.Tensor:
    """Lagged noise correlation: :func:`noise_covariance` normalised by the lag-0 variances.

    ``R[d, i, j] = C[d, i, j] / sqrt((C[0, i, i] + eps) (C[0, j, j] + eps))``.

    Parameters
    ----------
    counts : torch.Tensor
        Shape (..., n_trials, n_bins, n_neurons), float.
    max_lag : int, optional
        Largest lag in bins.
    ddof : int, optional
        Delta degrees of freedom of the trial average (cancels at lag 0).
    eps : float, optional
        Added to each variance; with the default 0 a neuron without trial-to-trial variability gives
        NaN rows and columns (like :func:`correlation_coefficient`); a small positive value keeps
        values and gradients finite.
    conditions, n_conditions : optional
        As in :func:`noise_covariance`: the noise about each condition's PSTH.

    Returns
    -------
    torch.Tensor
        Shape (..., max_lag + 1, n_neurons, n_neurons), dimensionless; entry ``[d, i, j]`` is the
        lag of ``d`` bins. Differentiable.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import noise_correlation
    >>> counts = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [0.0, 0.0]],
    ...                        [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [1.0, 0.0]],
    ...                        [[2.0, 0.0], [0.0, 0.0], [0.0, 2.0], [1.0, 1.0]]],
    ...                       dtype=torch.float64)  # 3 trials, 4 bins, 2 neurons
    >>> corr = noise_correlation(counts, max_lag=1)
    >>> corr.shape  # (max_lag + 1, n_neurons, n_neurons)
    torch.Size([2, 2, 2])
    >>> torch.round(corr[0], decimals=4).tolist()  # lag 0: ones on the diagonal
    [[1.0, -0.5303], [-0.5303, 1.0]]
    """
    eps = check_number(eps, "eps", positive=True)
    cov = noise_covariance(counts, max_lag, ddof, conditions, n_conditions)
    std = (torch.diagonal(cov[..., 0, :, :], dim1=-2, dim2=-1) + eps).sqrt()
    return cov / (std.unsqueeze(-1) * std.unsqueeze(-2)).unsqueeze(-3)
