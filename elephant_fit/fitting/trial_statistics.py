"""The statistics of the built-in sample-and-measure terms, as functions of sums over trials.

Each is a callable on activity of shape (n_trials, n_bins, n_neurons) (the value a loss term
compares) that calls :mod:`elephant_fit.statistics`, and it can also be assembled from sums over
trials (:meth:`TrialStatistic.sums`, :meth:`TrialStatistic.finish`): in a data-parallel fit each
rank sums over its own trials, the sums are added across ranks, and ``finish`` gives the
statistic of the whole batch (:mod:`elephant_fit.distributed`). Tests check that
``finish(sums(x), n_trials)`` equals ``statistic(x)`` (float64, relative 1e-9).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..statistics.correlation import noise_covariance
from ..statistics.rates import mean_firing_rate, psth
from ..statistics.variability import fanofactor_windows, window_counts

__all__ = ["FanoFactors", "MeanCount", "NoiseCovariance", "Psth", "TrialStatistic"]


class TrialStatistic:
    """A statistic of activity (n_trials, n_bins, n_neurons) that is a function of trial sums.

    :meth:`finish` works in float64 (:func:`wide`): a variance from sums of squares cancels
    digits, which float32 cannot spare. The sums themselves stay in the activity's dtype (spike
    counts and their products are integers, exact in float32 below 2**24).
    """

    def __call__(self, activity: torch.Tensor) -> torch.Tensor:
        """The statistic of ``activity``, shape (n_trials, n_bins, n_neurons)."""
        raise NotImplementedError

    def sums(self, activity: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Sums over the trials of ``activity`` that :meth:`finish` needs."""
        raise NotImplementedError

    def finish(self, sums: tuple[torch.Tensor, ...], n_trials: int) -> torch.Tensor:
        """The statistic (float64) from :meth:`sums` over ``n_trials`` trials."""
        raise NotImplementedError


def wide(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` in float64 (where sums are combined; differentiable)."""
    return tensor.to(torch.float64)


@dataclass(frozen=True)
class Psth(TrialStatistic):
    """Trial mean per bin and neuron (:func:`elephant_fit.statistics.psth`), shape (n_bins, n)."""

    def __call__(self, activity: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return psth(activity)

    def sums(self, activity: torch.Tensor) -> tuple[torch.Tensor, ...]:  # noqa: D102
        return (activity.sum(dim=0),)

    def finish(self, sums: tuple[torch.Tensor, ...], n_trials: int) -> torch.Tensor:  # noqa: D102
        return wide(sums[0]) / n_trials


@dataclass(frozen=True)
class MeanCount(TrialStatistic):
    """Mean count per bin of each neuron over trials and bins, shape (n,)."""

    def __call__(self, activity: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return mean_firing_rate(activity).mean(dim=0)

    def sums(self, activity: torch.Tensor) -> tuple[torch.Tensor, ...]:  # noqa: D102
        return (mean_firing_rate(activity).sum(dim=0),)

    def finish(self, sums: tuple[torch.Tensor, ...], n_trials: int) -> torch.Tensor:  # noqa: D102
        return wide(sums[0]) / n_trials


@dataclass(frozen=True)
class NoiseCovariance(TrialStatistic):
    """Noise covariance at lags 0..max_lag without the lag-0 diagonal, shape (max_lag + 1, n, n).

    :func:`elephant_fit.statistics.noise_covariance` (``ddof=0``) with the variances set to 0.
    From sums: with ``s[t] = sum_k x[k, t]`` and ``P[d] = sum_k sum_t x[k, t] x[k, t - d]^T``,
    ``C[d] = (P[d] - sum_t s[t] s[t - d]^T / K) / (K (n_bins - d))``: the residual products
    expanded (the centred form is the definition; this one is used across ranks).
    """

    max_lag: int = 2

    def __call__(self, activity: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return _without_variances(noise_covariance(activity, max_lag=self.max_lag))

    def sums(self, activity: torch.Tensor) -> tuple[torch.Tensor, ...]:  # noqa: D102
        return activity.sum(dim=0), _lagged_products(activity, self.max_lag)

    def finish(self, sums: tuple[torch.Tensor, ...], n_trials: int) -> torch.Tensor:  # noqa: D102
        totals, products = wide(sums[0]), wide(sums[1])
        n_bins = totals.shape[0]
        centring = _lagged_products(totals.unsqueeze(0), self.max_lag) / n_trials
        lags = torch.arange(self.max_lag + 1, dtype=totals.dtype, device=totals.device)
        covariance = (products - centring) / (n_trials * (n_bins - lags))[:, None, None]
        return _without_variances(covariance)


def _lagged_products(activity: torch.Tensor, max_lag: int) -> torch.Tensor:
    """``P[d, i, j] = sum_k sum_t x[k, t, i] x[k, t - d, j]``, shape (max_lag + 1, n, n)."""
    n_trials, n_bins, n = activity.shape
    lagged = torch.stack(
        [F.pad(activity[:, : n_bins - d], (0, 0, d, 0)) for d in range(max_lag + 1)], dim=2
    )  # (K, T, max_lag + 1, n), zero where t - d < 0
    left = activity.reshape(n_trials * n_bins, n)
    right = lagged.reshape(n_trials * n_bins, (max_lag + 1) * n)
    return (left.T @ right).reshape(n, max_lag + 1, n).movedim(1, 0)


def _without_variances(covariance: torch.Tensor) -> torch.Tensor:
    """Lagged covariances (max_lag + 1, n, n) with the lag-0 diagonal set to 0."""
    keep = torch.ones_like(covariance)
    keep[0].fill_diagonal_(0.0)
    return covariance * keep


@dataclass(frozen=True)
class FanoFactors(TrialStatistic):
    """Fano factors of counts in windows of ``window`` bins, 0 where a neuron is silent.

    :func:`elephant_fit.statistics.fanofactor_windows` (variance with ``ddof=0`` over the mean,
    across trials), shape (n_bins // window, n). From sums of the window counts and of their
    squares: ``(S2 / K - (S / K) ** 2) / (S / K)``.
    """

    window: int = 10

    def _window(self, activity: torch.Tensor) -> int:
        return min(self.window, activity.shape[-2])

    def __call__(self, activity: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return torch.nan_to_num(fanofactor_windows(activity, self._window(activity)), nan=0.0)

    def sums(self, activity: torch.Tensor) -> tuple[torch.Tensor, ...]:  # noqa: D102
        counts = window_counts(activity, self._window(activity))
        return counts.sum(dim=0), counts.pow(2).sum(dim=0)

    def finish(self, sums: tuple[torch.Tensor, ...], n_trials: int) -> torch.Tensor:  # noqa: D102
        mean = wide(sums[0]) / n_trials
        variance = wide(sums[1]) / n_trials - mean.pow(2)
        spiking = mean > 0  # silent windows: 0, with a zero (not NaN) gradient
        return torch.where(spiking, variance / torch.where(spiking, mean, 1.0), 0.0)
