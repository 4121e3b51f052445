"""Fit-quality measures against direct numpy computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from elephant_fit.evaluation import metrics


def counts(seed, n_trials=30, n_bins=40, n_neurons=5, p=0.2):
    generator = torch.Generator().manual_seed(seed)
    return (
        torch.rand(n_trials, n_bins, n_neurons, generator=generator, dtype=torch.float64) < p
    ).double()


def test_r2_and_psth_r2():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 2.5])
    assert metrics.r2_score(a, a) == 1.0
    expected = 1 - np.sum((a - b) ** 2) / np.sum((a - a.mean()) ** 2)
    assert np.isclose(metrics.r2_score(a, b), expected)
    data = counts(0)
    assert metrics.psth_r2(data, data) == 1.0
    assert metrics.psth_r2(counts(1), data) < 0.5


def test_noise_correlation_fit_of_identical_data_is_perfect():
    data = counts(2)
    fit = metrics.noise_correlation_fit(data, data)
    assert np.isclose(fit["r2"], 1.0)
    assert np.isclose(fit["r"], 1.0)


def test_rebin_sums_bins_and_drops_leftovers():
    data = counts(3, n_bins=11)
    coarse = metrics.rebin(data, 5)
    assert coarse.shape == (30, 2, 5)
    torch.testing.assert_close(coarse[:, 1], data[:, 5:10].sum(dim=1))


def test_rate_and_fano_errors():
    data = counts(4)
    assert metrics.mean_rate_error(data, data, 0.01) == 0.0
    assert np.isclose(
        metrics.mean_rate_error(data * 0, data, 0.01), float(data.mean(dim=(0, 1)).mean() / 0.01)
    )
    assert metrics.fano_factor_error(data, data) == 0.0
    totals = data.sum(dim=1).numpy()
    fano = totals.var(axis=0) / totals.mean(axis=0)
    other = counts(5)
    totals_other = other.sum(dim=1).numpy()
    expected = np.mean(np.abs(totals_other.var(axis=0) / totals_other.mean(axis=0) - fano))
    assert np.isclose(metrics.fano_factor_error(other, data), expected)


def test_coupling_recovery():
    rng = np.random.default_rng(0)
    true = rng.normal(size=(6, 6, 3))
    assert np.isclose(metrics.coupling_recovery(true, true), 1.0)
    assert np.isclose(metrics.coupling_recovery(-true, true), -1.0)


def test_coupling_fit_against_direct_formulas():
    generator = np.random.default_rng(0)
    true = np.zeros((6, 6, 2))
    true[0, 1, 0], true[2, 3, 1], true[4, 5, 0], true[1, 4, 0] = 1.0, -0.5, 0.8, 0.3
    fitted = 0.5 * true + 0.05 * generator.normal(size=true.shape)
    confounded = np.zeros((6, 6), dtype=bool)
    confounded[3, 2] = confounded[5, 0] = True
    fit = metrics.coupling_fit(fitted, true, confounded)
    f, t = fitted.sum(axis=2), true.sum(axis=2)
    off = ~np.eye(6, dtype=bool)
    assert np.isclose(fit["r"], np.corrcoef(f[off], t[off])[0, 1])
    assert np.isclose(
        fit["r2"], 1 - np.sum((t[off] - f[off]) ** 2) / np.sum((t[off] - t[off].mean()) ** 2)
    )
    nonzero = off & (t != 0)
    assert np.isclose(fit["slope"], np.polyfit(t[nonzero], f[nonzero], 1)[0])
    assert 0.4 < fit["slope"] < 0.6  # the fitted weights are half the true ones
    assert np.isclose(fit["spurious"], np.mean(np.abs([f[3, 2], f[5, 0]])))
    assert metrics.detection_auc(np.array([3.0, 2.0, 1.0, 0.0]), np.array([1, 1, 0, 0])) == 1.0
    assert metrics.detection_auc(np.array([1.0, 1.0]), np.array([1, 0])) == 0.5


def test_r2_score_is_scikit_learns():
    from sklearn.metrics import r2_score, roc_auc_score

    rng = np.random.default_rng(0)
    y_true, y_pred = rng.normal(size=50), rng.normal(size=50)
    y_pred = 0.7 * y_true + 0.3 * y_pred
    assert np.isclose(metrics.r2_score(y_true, y_pred), r2_score(y_true, y_pred), rtol=1e-12)
    assert np.isclose(metrics.r2_score(y_pred, y_true), r2_score(y_pred, y_true), rtol=1e-12)
    assert np.isnan(metrics.r2_score(np.ones(4), np.arange(4.0)))  # scikit-learn: 0.0
    labels = rng.random(50) < 0.4
    assert np.isclose(metrics.detection_auc(y_pred, labels), roc_auc_score(labels, y_pred))


def test_fano_factor_error_needs_codes_on_both_sides_or_neither():
    counts = torch.poisson(torch.full((6, 10, 2), 2.0))
    codes = torch.tensor([0, 1, 0, 1, 0, 1])
    assert metrics.fano_factor_error(counts, counts, codes, codes) == 0.0
    with pytest.raises(ValueError, match="`model_conditions`"):
        metrics.fano_factor_error(counts, counts, codes, None)
