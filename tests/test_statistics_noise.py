"""Statistics as sums over trials + finish: the sums of shares add up to the statistic."""

from __future__ import annotations

import pytest
import torch

from elephant_fit.statistics._safe import safe_divide
from elephant_fit.statistics.noise import (
    noise_covariance,
    noise_covariance_finish,
    noise_covariance_sums,
)
from elephant_fit.statistics.rates import psth, psth_finish, psth_sums
from elephant_fit.statistics.variability import (
    fanofactor_windows,
    fanofactor_windows_finish,
    fanofactor_windows_sums,
)


def _counts(shape=(2, 9, 30, 4), seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.poisson(torch.full(shape, 0.8, dtype=torch.float64), generator=generator)


def _added(sums_a, sums_b):
    return tuple(a + b for a, b in zip(sums_a, sums_b, strict=True))


@pytest.mark.parametrize("max_lag", [0, 3])
@pytest.mark.parametrize("ddof", [0, 1])
def test_noise_covariance_from_sums_of_shares(max_lag, ddof):
    counts = _counts()  # batch of 2, 9 trials
    parts = [
        noise_covariance_sums(counts[:, :4], max_lag),
        noise_covariance_sums(counts[:, 4:], max_lag),
    ]
    assembled = noise_covariance_finish(_added(*parts), 9, ddof)
    direct = noise_covariance(counts, max_lag, ddof)
    assert assembled.shape == (2, max_lag + 1, 4, 4)
    torch.testing.assert_close(assembled, direct, rtol=1e-9, atol=1e-12)


def test_centred_sums_are_the_functional_bit_for_bit():
    counts = _counts().float()
    sums = noise_covariance_sums(counts, 2, centred=True)
    assert bool((sums[0] == 0).all())
    assert torch.equal(noise_covariance_finish(sums, 9), noise_covariance(counts, 2))


def test_psth_and_fano_factors_from_sums_of_shares():
    counts = _counts()
    added = _added(psth_sums(counts[:, :4]), psth_sums(counts[:, 4:]))
    torch.testing.assert_close(psth_finish(added, 9, bin_size=0.5), psth(counts, bin_size=0.5))
    added = _added(
        fanofactor_windows_sums(counts[:, :4], 7), fanofactor_windows_sums(counts[:, 4:], 7)
    )
    torch.testing.assert_close(
        fanofactor_windows_finish(added, 9),
        fanofactor_windows(counts, 7),
        rtol=1e-9,
        atol=1e-12,
        equal_nan=True,
    )


def test_gradcheck_of_finish_of_sums():
    x = torch.rand(5, 8, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda v: noise_covariance_finish(noise_covariance_sums(v, 2), 5), (x,)
    )
    assert torch.autograd.gradcheck(
        lambda v: fanofactor_windows_finish(fanofactor_windows_sums(v, 4), 5), (x,)
    )


def test_finish_errors_name_the_argument():
    counts = _counts()
    with pytest.raises(ValueError, match="`ddof`"):
        noise_covariance_finish(noise_covariance_sums(counts, 1), 9, ddof=9)
    with pytest.raises(TypeError, match="`sums`"):
        noise_covariance_finish(counts, 9)
    with pytest.raises(ValueError, match="`n_trials`"):
        psth_finish(psth_sums(counts), 0)
    with pytest.raises(ValueError, match="`max_lag`"):
        noise_covariance_sums(counts, 30)


def test_safe_divide_fills_with_finite_gradients():
    numerator = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    denominator = torch.tensor([2.0, 0.0, 4.0], dtype=torch.float64, requires_grad=True)
    value = safe_divide(numerator, denominator, denominator != 0, fill=0.0)
    assert value.tolist() == [0.5, 0.0, 0.75]
    value.sum().backward()
    assert bool(torch.isfinite(numerator.grad).all() & torch.isfinite(denominator.grad).all())
    assert torch.isnan(safe_divide(numerator, denominator, denominator != 0)[1])
