"""Statistics as sums over trials + finish: the sums of shares add up to the statistic."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from elephant_fit.statistics._safe import safe_divide
from elephant_fit.statistics.noise import (
    _lagged_products,
    noise_covariance,
    noise_covariance_finish,
    noise_covariance_sums,
)
from elephant_fit.statistics.rates import (
    psth,
    psth_by_condition,
    psth_by_condition_finish,
    psth_by_condition_sums,
    psth_finish,
    psth_sums,
)
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


def _brute_lagged(x, max_lag, y):
    """P[..., d, i, j] = sum_k sum_{t >= d} x[..., k, t, i] y[..., k, t - d, j], by loops over d and t."""
    n_bins = x.shape[-2]
    lags = []
    for d in range(max_lag + 1):
        total = torch.zeros(*x.shape[:-3], x.shape[-1], y.shape[-1], dtype=x.dtype)
        for t in range(d, n_bins):
            total = total + torch.einsum("...ki,...kj->...ij", x[..., t, :], y[..., t - d, :])
        lags.append(total)
    return torch.stack(lags, dim=-3)


@pytest.mark.parametrize("shape", [(5, 7, 3), (2, 4, 6, 3)])  # with and without a batch dimension
@pytest.mark.parametrize("max_lag", [0, 1, 4])
def test_lagged_products_match_loops_and_gradcheck(shape, max_lag):
    x = _counts(shape, seed=1).requires_grad_()
    y = _counts((*shape[:-1], 2), seed=2).requires_grad_()
    torch.testing.assert_close(
        _lagged_products(x, max_lag), _brute_lagged(x, max_lag, x), rtol=1e-12, atol=0
    )
    torch.testing.assert_close(
        _lagged_products(x, max_lag, other=y), _brute_lagged(x, max_lag, y), rtol=1e-12, atol=0
    )
    # no bin meets the previous trial's last bins: a trial's products ignore the other trials
    alone = _lagged_products(x[..., :1, :, :], max_lag)
    torch.testing.assert_close(
        alone, _brute_lagged(x[..., :1, :, :], max_lag, x[..., :1, :, :]), rtol=1e-12, atol=0
    )
    assert torch.autograd.gradcheck(lambda a: _lagged_products(a, max_lag), (x,))
    assert torch.autograd.gradcheck(lambda a, b: _lagged_products(a, max_lag, other=b), (x, y))
    strided = x.detach().transpose(-1, -2).contiguous().transpose(-1, -2)  # not contiguous
    torch.testing.assert_close(_lagged_products(strided, max_lag), _lagged_products(x, max_lag))


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


# ---------------------------------------------------------------- per stimulus condition
def _coded(n_trials=13, n_bins=11, n=3, seed=4):
    generator = torch.Generator().manual_seed(seed)
    counts = torch.poisson(
        torch.full((n_trials, n_bins, n), 0.8, dtype=torch.float64), generator=generator
    )
    conditions = torch.randint(0, 3, (n_trials,), generator=generator)
    conditions[:3] = torch.tensor([0, 1, 2])  # every condition has trials
    return counts, conditions


def _numpy_by_condition(counts, conditions, max_lag):
    """Direct computation: each condition's PSTH, and the lagged covariance of the residuals."""
    x, c = counts.numpy(), conditions.numpy()
    n_trials, n_bins, n = x.shape
    means = np.stack([x[c == k].mean(axis=0) for k in range(3)])
    noise = x - means[c]
    cov = np.zeros((max_lag + 1, n, n))
    for d in range(max_lag + 1):
        for k in range(n_trials):
            for t in range(d, n_bins):
                cov[d] += np.outer(noise[k, t], noise[k, t - d])
        cov[d] /= n_trials * (n_bins - d)
    return means, cov


def test_psth_and_noise_covariance_by_condition_match_a_direct_computation():
    counts, conditions = _coded()
    means, cov = _numpy_by_condition(counts, conditions, max_lag=2)
    np.testing.assert_allclose(psth_by_condition(counts, conditions, 3).numpy(), means, rtol=1e-9)
    got = noise_covariance(counts, 2, conditions=conditions, n_conditions=3)
    np.testing.assert_allclose(got.numpy(), cov, rtol=1e-9, atol=1e-15)


def test_sums_by_condition_of_two_shares_add_up():
    counts, conditions = _coded()
    for split in (5, 1):
        a = noise_covariance_sums(counts[:split], 2, conditions=conditions[:split], n_conditions=3)
        b = noise_covariance_sums(counts[split:], 2, conditions=conditions[split:], n_conditions=3)
        whole = noise_covariance(counts, 2, conditions=conditions, n_conditions=3)
        torch.testing.assert_close(
            noise_covariance_finish(_added(a, b), 13), whole, rtol=1e-9, atol=1e-15
        )
        a = psth_by_condition_sums(counts[:split], conditions[:split], 3)
        b = psth_by_condition_sums(counts[split:], conditions[split:], 3)
        torch.testing.assert_close(
            psth_by_condition_finish(_added(a, b)),
            psth_by_condition(counts, conditions, 3),
            rtol=1e-12,
            atol=0,
        )


def test_by_condition_gradcheck_and_one_condition_is_the_pooled_statistic():
    counts, conditions = _coded(n_trials=5, n_bins=6, n=2)
    counts = counts.requires_grad_()

    def both(x):
        sums = noise_covariance_sums(x, 1, conditions=conditions, n_conditions=3)
        return noise_covariance_finish(sums, 5), psth_by_condition(x, conditions, 3)

    assert torch.autograd.gradcheck(both, (counts,))
    zeros = torch.zeros(5, dtype=torch.long)
    torch.testing.assert_close(
        noise_covariance(counts, 1, conditions=zeros, n_conditions=1),
        noise_covariance(counts, 1),
        rtol=1e-12,
        atol=1e-15,
    )
    torch.testing.assert_close(psth_by_condition(counts, zeros, 1)[0], psth(counts))


def test_a_condition_without_trials_and_bad_codes():
    counts, _ = _coded(n_trials=4)
    conditions = torch.tensor([0, 0, 2, 2])
    assert torch.equal(psth_by_condition(counts, conditions, 3)[1], torch.zeros(11, 3).double())
    with pytest.raises(ValueError, match=r"0\.\.2"):
        psth_by_condition(counts, torch.tensor([0, 1, 3, 0]), 3)
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        psth_by_condition(counts, torch.tensor([0, 1]), 3)
    with pytest.raises(ValueError, match="n_conditions"):
        noise_covariance(counts, 1, conditions=conditions)
