"""The built-in SM statistics assembled from sums over trials equal the statistics themselves."""

from __future__ import annotations

import pytest
import torch

from elephant_fit.fitting.trial_statistics import FanoFactors, MeanCount, NoiseCovariance, Psth
from elephant_fit.statistics import fanofactor_windows, noise_covariance, psth

STATISTICS = [Psth(), MeanCount(), NoiseCovariance(0), NoiseCovariance(3), FanoFactors(7)]


def _counts(n_trials=9, n_bins=40, n=5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.poisson(torch.full((n_trials, n_bins, n), 0.7), generator=generator).double()


@pytest.mark.parametrize("statistic", STATISTICS, ids=repr)
def test_finish_of_sums_equals_the_statistic(statistic):
    counts = _counts()
    direct = statistic(counts)
    assembled = statistic.finish(statistic.sums(counts), counts.shape[0])
    torch.testing.assert_close(assembled, direct, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("statistic", STATISTICS, ids=repr)
def test_sums_of_parts_add_up(statistic):
    """Sums over two shares of the trials, added, give the statistic of all trials."""
    counts = _counts(n_trials=11)
    parts = [statistic.sums(counts[:4]), statistic.sums(counts[4:])]
    added = tuple(a + b for a, b in zip(*parts, strict=True))
    torch.testing.assert_close(
        statistic.finish(added, 11), statistic(counts), rtol=1e-9, atol=1e-12
    )


def test_the_statistics_are_those_of_the_statistics_module():
    counts = _counts()
    torch.testing.assert_close(Psth()(counts), psth(counts), rtol=0, atol=0)
    covariance = noise_covariance(counts, max_lag=2)
    without = NoiseCovariance(2)(counts)
    off = ~torch.eye(5, dtype=torch.bool)
    torch.testing.assert_close(without[0][off], covariance[0][off], rtol=0, atol=0)
    assert bool((torch.diagonal(without[0]) == 0).all())
    torch.testing.assert_close(without[1:], covariance[1:], rtol=0, atol=0)
    torch.testing.assert_close(
        FanoFactors(7)(counts), torch.nan_to_num(fanofactor_windows(counts, 7)), rtol=0, atol=0
    )
    torch.testing.assert_close(MeanCount()(counts), counts.mean(dim=(0, 1)), rtol=1e-12, atol=0)


def test_silent_neurons_give_zero_fano_factors():
    counts = _counts()
    counts[..., 2] = 0
    statistic = FanoFactors(10)
    assembled = statistic.finish(statistic.sums(counts), counts.shape[0])
    assert bool((assembled[:, 2] == 0).all())


@pytest.mark.parametrize("statistic", STATISTICS, ids=repr)
def test_gradcheck_through_the_sums(statistic):
    activity = torch.rand(4, 12, 3, dtype=torch.float64, requires_grad=True)

    def assembled(x):
        return statistic.finish(statistic.sums(x), x.shape[0])

    assert torch.autograd.gradcheck(assembled, (activity,))


@pytest.mark.parametrize(
    "statistic", [Psth(), NoiseCovariance(0), NoiseCovariance(3), FanoFactors(7)], ids=repr
)
def test_float32_counts_lose_no_digits(statistic):
    """Integer sums are exact in float32; the cancelling part (finish) runs in float64.

    (MeanCount sums per-trial means, rounded in float32 like any float32 mean: not listed.)
    """
    counts = _counts(n_trials=64, n_bins=100) * 3.0  # s s^T / K is not exact in float32
    assembled = statistic.finish(statistic.sums(counts.float()), counts.shape[0])
    assert assembled.dtype == torch.float64
    torch.testing.assert_close(assembled, statistic(counts), rtol=1e-9, atol=1e-12)


def test_silent_windows_have_finite_gradients():
    """A window where every trial is silent: Fano factor 0 and a zero gradient, not NaN."""
    activity = torch.rand(5, 20, 3, dtype=torch.float64)
    activity[:, :10, 1] = 0.0
    activity.requires_grad_(True)
    statistic = FanoFactors(10)
    value = statistic.finish(statistic.sums(activity), 5)
    assert value[0, 1] == 0
    value.sum().backward()
    assert bool(torch.isfinite(activity.grad).all())


# ---------------------------------------------------------------- per stimulus condition
CONDITIONS = torch.tensor([0, 2, 1, 0, 1, 2, 2, 0, 1, 0, 2])


@pytest.mark.parametrize(
    "statistic", [Psth(), NoiseCovariance(0), NoiseCovariance(2), FanoFactors(5)], ids=repr
)
def test_by_condition_finish_of_sums_and_shares(statistic):
    counts = _counts(n_trials=11)
    direct = statistic(counts, CONDITIONS, 3)
    whole = statistic.finish(statistic.sums(counts, CONDITIONS, 3), 11)
    torch.testing.assert_close(whole, direct, rtol=1e-9, atol=1e-12)
    parts = [
        statistic.sums(counts[:4], CONDITIONS[:4], 3),
        statistic.sums(counts[4:], CONDITIONS[4:], 3),
    ]
    added = tuple(a + b for a, b in zip(*parts, strict=True))
    torch.testing.assert_close(statistic.finish(added, 11), direct, rtol=1e-9, atol=1e-12)


def test_by_condition_values_are_the_statistics_of_each_condition():
    counts = _counts(n_trials=11)
    by_condition = Psth()(counts, CONDITIONS, 3)
    assert by_condition.shape == (3, 40, 5)
    for c in range(3):
        torch.testing.assert_close(
            by_condition[c], psth(counts[torch.eq(CONDITIONS, c)]), rtol=1e-12, atol=0
        )
    within = NoiseCovariance(1)(counts, CONDITIONS, 3)
    expected = noise_covariance(counts, 1, conditions=CONDITIONS, n_conditions=3)
    off = ~torch.eye(5, dtype=torch.bool)
    torch.testing.assert_close(within[0][off], expected[0][off], rtol=0, atol=0)


@pytest.mark.parametrize("statistic", [Psth(), NoiseCovariance(2), FanoFactors(5)], ids=repr)
def test_one_condition_is_the_statistic_without_conditions_bit_for_bit(statistic):
    counts = _counts()
    zeros = torch.zeros(counts.shape[0], dtype=torch.long)
    assert torch.equal(statistic(counts, zeros, 1), statistic(counts))
    assert all(
        torch.equal(a, b)
        for a, b in zip(statistic.sums(counts, zeros, 1), statistic.sums(counts), strict=True)
    )


@pytest.mark.parametrize("statistic", [Psth(), NoiseCovariance(2), FanoFactors(4)], ids=repr)
def test_gradcheck_by_condition(statistic):
    activity = torch.rand(6, 8, 3, dtype=torch.float64, requires_grad=True)
    codes = torch.tensor([0, 1, 1, 0, 2, 2])

    def assembled(x):
        return statistic.finish(statistic.sums(x, codes, 3), x.shape[0])

    assert torch.autograd.gradcheck(assembled, (activity,))


def test_fano_factors_by_condition_are_elephants_over_each_conditions_trials():
    from elephant.statistics import fanofactor

    counts = torch.poisson(torch.full((11, 40, 3), 0.3, dtype=torch.float64))
    counts[CONDITIONS == 1] *= 3  # a condition with a stronger response: not variability
    by_condition = FanoFactors(10)(counts, CONDITIONS, 3)
    assert by_condition.shape == (3, 4, 3)
    for c in range(3):
        for w in range(4):
            for n in range(3):
                window = counts[c == CONDITIONS, 10 * w : 10 * w + 10, n].sum(dim=1)
                expected = fanofactor([list(range(int(k))) for k in window])  # counts as trains
                assert float(by_condition[c, w, n]) == pytest.approx(expected, rel=1e-9)
