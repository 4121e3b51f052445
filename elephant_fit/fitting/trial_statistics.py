"""The statistics of the built-in sample-and-measure terms, as functions of sums over trials.

Each is a callable on activity of shape (n_trials, n_bins, n_neurons) (the value a loss term
compares) that calls :mod:`elephant_fit.statistics`, and it can also be assembled from sums over
trials (:meth:`TrialStatistic.sums`, :meth:`TrialStatistic.finish`): in a data-parallel fit each
rank sums over its own trials, the sums are added across ranks, and ``finish`` gives the
statistic of the whole batch (:mod:`elephant_fit.distributed`). Tests check that
``finish(sums(x), n_trials)`` equals ``statistic(x)`` (float64, relative 1e-9).

With stimulus conditions (``conditions``, a code per trial, and ``n_conditions > 1``), a
statistic whose :attr:`TrialStatistic.by_condition` says so measures each condition: the PSTH
gains a leading condition axis (``"split"``), the noise covariance measures the noise about each
trial's condition's PSTH (``"within"``), and the Fano factors are each condition's
(``"split"``). With one condition the values are those without.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from ..statistics.noise import noise_covariance, noise_covariance_finish, noise_covariance_sums
from ..statistics.rates import (
    mean_firing_rate,
    psth,
    psth_by_condition,
    psth_by_condition_finish,
    psth_by_condition_sums,
    psth_finish,
    psth_sums,
)
from ..statistics.variability import (
    fanofactor_windows,
    fanofactor_windows_finish,
    fanofactor_windows_sums,
    window_counts,
)

__all__ = ["FanoFactors", "MeanCount", "NoiseCovariance", "Psth", "TrialStatistic"]


class TrialStatistic:
    """A statistic of activity (n_trials, n_bins, n_neurons) that is a function of trial sums.

    :meth:`finish` works in float64 (:func:`wide`): a variance from sums of squares cancels
    digits, which float32 cannot spare. The sums themselves stay in the activity's dtype (spike
    counts and their products are integers, exact in float32 below 2**24).

    A statistic that measures conditions (:attr:`by_condition` not None) takes
    ``conditions`` (codes, shape (n_trials,)) and ``n_conditions`` in :meth:`__call__` and
    :meth:`sums`; the others are called with the activity alone.
    """

    #: How conditions enter: None (they do not), "split" (one value per condition, a leading
    #: axis of n_conditions), "within" (the same shape, measured within conditions).
    by_condition: ClassVar[str | None] = None
    #: Whether the statistic is the mean over trials of :meth:`trial_values` (of each
    #: condition's trials with conditions).
    trial_mean: ClassVar[bool] = False

    def trial_values(self, activity: torch.Tensor) -> torch.Tensor:
        """What the statistic averages over trials, shape (n_trials, ...) (``trial_mean`` only)."""
        raise NotImplementedError

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


def _wide_all(sums: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """Every sum in float64."""
    return tuple(wide(total) for total in sums)


def _conditioned(conditions: torch.Tensor | None, n_conditions: int) -> bool:
    """Whether conditions change a statistic: codes given and more than one condition."""
    return conditions is not None and n_conditions > 1


@dataclass(frozen=True)
class Psth(TrialStatistic):
    """Trial mean per bin and neuron (:func:`elephant_fit.statistics.psth`), shape (n_bins, n).

    With conditions: each condition's PSTH (:func:`elephant_fit.statistics.psth_by_condition`),
    shape (n_conditions, n_bins, n). Sums and finish:
    :func:`~elephant_fit.statistics.rates.psth_sums`,
    :func:`~elephant_fit.statistics.rates.psth_finish` (with conditions their ``_by_condition``
    twins).
    """

    by_condition: ClassVar[str | None] = "split"
    trial_mean: ClassVar[bool] = True

    def trial_values(self, activity: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return activity

    def __call__(  # noqa: D102
        self,
        activity: torch.Tensor,
        conditions: torch.Tensor | None = None,
        n_conditions: int = 1,
    ) -> torch.Tensor:
        if _conditioned(conditions, n_conditions):
            return psth_by_condition(activity, conditions, n_conditions)
        return psth(activity)

    def sums(  # noqa: D102
        self,
        activity: torch.Tensor,
        conditions: torch.Tensor | None = None,
        n_conditions: int = 1,
    ) -> tuple[torch.Tensor, ...]:
        if _conditioned(conditions, n_conditions):
            return psth_by_condition_sums(activity, conditions, n_conditions)
        return psth_sums(activity)

    def finish(self, sums: tuple[torch.Tensor, ...], n_trials: int) -> torch.Tensor:  # noqa: D102
        if len(sums) == 2:  # (totals per condition, trials per condition)
            return psth_by_condition_finish(_wide_all(sums))
        return psth_finish(_wide_all(sums), n_trials)


def _trial_rates(activity: torch.Tensor) -> torch.Tensor:
    """Mean count per bin of each trial and neuron, as one-bin 'counts' (n_trials, 1, n)."""
    return mean_firing_rate(activity).unsqueeze(-2)


@dataclass(frozen=True)
class MeanCount(TrialStatistic):
    """Mean count per bin of each neuron over trials and bins, shape (n,).

    The PSTH (trial mean) of each trial's :func:`elephant_fit.statistics.mean_firing_rate`.
    """

    trial_mean: ClassVar[bool] = True

    def trial_values(self, activity: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return mean_firing_rate(activity)

    def __call__(self, activity: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return psth(_trial_rates(activity)).squeeze(-2)

    def sums(self, activity: torch.Tensor) -> tuple[torch.Tensor, ...]:  # noqa: D102
        return psth_sums(_trial_rates(activity))

    def finish(self, sums: tuple[torch.Tensor, ...], n_trials: int) -> torch.Tensor:  # noqa: D102
        return psth_finish(_wide_all(sums), n_trials).squeeze(-2)


@dataclass(frozen=True)
class NoiseCovariance(TrialStatistic):
    """Noise covariance at lags 0..max_lag without the lag-0 diagonal, shape (max_lag + 1, n, n).

    :func:`elephant_fit.statistics.noise_covariance` (``ddof=0``) with the variances set to 0;
    with conditions, the noise is the activity minus its trial's condition's PSTH. Sums and
    finish: :func:`~elephant_fit.statistics.noise.noise_covariance_sums`,
    :func:`~elephant_fit.statistics.noise.noise_covariance_finish`.
    """

    max_lag: int = 2
    by_condition: ClassVar[str | None] = "within"

    def __call__(  # noqa: D102
        self,
        activity: torch.Tensor,
        conditions: torch.Tensor | None = None,
        n_conditions: int = 1,
    ) -> torch.Tensor:
        if _conditioned(conditions, n_conditions):
            value = noise_covariance(activity, self.max_lag, 0, conditions, n_conditions)
        else:
            value = noise_covariance(activity, max_lag=self.max_lag)
        return _without_variances(value)

    def sums(  # noqa: D102
        self,
        activity: torch.Tensor,
        conditions: torch.Tensor | None = None,
        n_conditions: int = 1,
    ) -> tuple[torch.Tensor, ...]:
        if _conditioned(conditions, n_conditions):
            return noise_covariance_sums(activity, self.max_lag, False, conditions, n_conditions)
        return noise_covariance_sums(activity, self.max_lag)

    def finish(self, sums: tuple[torch.Tensor, ...], n_trials: int) -> torch.Tensor:  # noqa: D102
        return _without_variances(noise_covariance_finish(_wide_all(sums), n_trials))


def _without_variances(covariance: torch.Tensor) -> torch.Tensor:
    """Lagged covariances (max_lag + 1, n, n) with the lag-0 diagonal set to 0."""
    keep = torch.ones_like(covariance)
    keep[0].fill_diagonal_(0.0)
    return covariance * keep


@dataclass(frozen=True)
class FanoFactors(TrialStatistic):
    """Fano factors of counts in windows of ``window`` bins, 0 where a neuron is silent.

    :func:`elephant_fit.statistics.fanofactor_windows` (variance with ``ddof=0`` over the mean,
    across trials), shape (n_bins // window, n); with conditions, across each condition's trials
    (a stimulus's response is not variability), shape (n_conditions, n_bins // window, n). Sums
    and finish: :func:`~elephant_fit.statistics.variability.fanofactor_windows_sums`,
    :func:`~elephant_fit.statistics.variability.fanofactor_windows_finish` (silent windows: 0,
    with a zero gradient), per condition with the sums of
    :func:`~elephant_fit.statistics.rates.psth_by_condition_sums`.
    """

    window: int = 10
    by_condition: ClassVar[str | None] = "split"

    def _window(self, activity: torch.Tensor) -> int:
        return min(self.window, activity.shape[-2])

    def __call__(  # noqa: D102
        self,
        activity: torch.Tensor,
        conditions: torch.Tensor | None = None,
        n_conditions: int = 1,
    ) -> torch.Tensor:
        if _conditioned(conditions, n_conditions):
            sums = self.sums(activity, conditions, n_conditions)
            return self.finish(sums, activity.shape[-3]).to(activity.dtype)
        return torch.nan_to_num(fanofactor_windows(activity, self._window(activity)), nan=0.0)

    def sums(  # noqa: D102
        self,
        activity: torch.Tensor,
        conditions: torch.Tensor | None = None,
        n_conditions: int = 1,
    ) -> tuple[torch.Tensor, ...]:
        if not _conditioned(conditions, n_conditions):
            return fanofactor_windows_sums(activity, self._window(activity))
        assert conditions is not None
        windowed = window_counts(activity, self._window(activity))  # (K, W, n)
        # the per-condition sums of the PSTH, of the window counts and of their squares
        totals, trials = psth_by_condition_sums(windowed, conditions, n_conditions)
        squares, _ = psth_by_condition_sums(windowed.pow(2), conditions, n_conditions)
        return totals, squares, trials

    def finish(self, sums: tuple[torch.Tensor, ...], n_trials: int) -> torch.Tensor:  # noqa: D102
        if len(sums) == 2:
            return torch.nan_to_num(fanofactor_windows_finish(_wide_all(sums), n_trials), nan=0.0)
        totals, squares, trials = _wide_all(sums)
        per_condition = [  # one formula: each condition's trials as a batch of its own
            fanofactor_windows_finish((totals[c], squares[c]), max(round(float(k)), 1))
            for c, k in enumerate(trials)
        ]
        return torch.nan_to_num(torch.stack(per_condition), nan=0.0)
