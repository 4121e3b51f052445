"""Measures of fit quality on held-out trials (DESIGN.md section 6).

All functions take counts of shape (n_trials, n_bins, n_neurons) for the data and for the model's
simulations (any numbers of trials) and return plain floats.
"""

from __future__ import annotations

import numpy as np
import torch

from .._validation import describe
from ..errors import ArgumentValueError
from ..statistics.correlation import noise_correlation
from ..statistics.rates import mean_firing_rate, psth, psth_by_condition
from ..statistics.variability import fanofactor, window_counts

__all__ = [
    "coupling_fit",
    "coupling_recovery",
    "detection_auc",
    "fano_factor_error",
    "matrix_fit",
    "mean_rate_error",
    "noise_correlation_fit",
    "pearson",
    "psth_r2",
    "r2_score",
    "rebin",
]


def r2_score(y_true: np.ndarray | torch.Tensor, y_pred: np.ndarray | torch.Tensor) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot`` of ``y_pred`` against ``y_true``.

    scikit-learn's argument order and names (``sklearn.metrics.r2_score(y_true, y_pred)``, same
    value on flattened inputs); unlike scikit-learn, a constant ``y_true`` gives NaN.

    Parameters
    ----------
    y_true : np.ndarray or torch.Tensor
        Reference values, any shape (flattened).
    y_pred : np.ndarray or torch.Tensor
        Predictions, same number of elements.

    Returns
    -------
    float
        R^2 (1 is perfect, 0 the mean of ``y_true``, negative worse); NaN if ``y_true`` is
        constant.
    """
    t = np.asarray(torch.as_tensor(y_true).detach().cpu().double()).ravel()
    p = np.asarray(torch.as_tensor(y_pred).detach().cpu().double()).ravel()
    total = np.sum((t - t.mean()) ** 2)
    return float(1 - np.sum((t - p) ** 2) / total) if total > 0 else float("nan")


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two flat arrays over their finite pairs (NaN if fewer than 3 or constant)."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep] - a[keep].mean(), b[keep] - b[keep].mean()
    denominator = np.sqrt(np.sum(a**2) * np.sum(b**2))
    return (
        float(np.sum(a * b) / denominator) if keep.sum() >= 3 and denominator > 0 else float("nan")
    )


def rebin(counts: torch.Tensor, factor: int) -> torch.Tensor:
    """Sum ``factor`` consecutive bins (leftover bins at the end are dropped).

    Parameters
    ----------
    counts : torch.Tensor
        Shape (n_trials, n_bins, n_neurons).
    factor : int
        Bins per coarse bin.

    Returns
    -------
    torch.Tensor
        Shape (n_trials, n_bins // factor, n_neurons).
    """
    return window_counts(counts, factor)


def psth_r2(
    model_counts: torch.Tensor,
    data_counts: torch.Tensor,
    model_conditions: torch.Tensor | None = None,
    data_conditions: torch.Tensor | None = None,
) -> float:
    """R^2 of the model PSTHs against the data PSTHs (all conditions, bins and neurons pooled).

    Parameters
    ----------
    model_counts, data_counts : torch.Tensor
        Shape (n_trials, n_bins, n_neurons) each (their numbers of trials may differ).
    model_conditions, data_conditions : torch.Tensor, optional
        Condition code of each trial, shape (n_trials,), the same codes on both sides (None: one
        condition): each condition's PSTH is compared with the same condition's.
    """
    n = _n_conditions(model_conditions, data_conditions)
    return r2_score(
        _psths(data_counts, data_conditions, n), _psths(model_counts, model_conditions, n)
    )


def _n_conditions(*codes: torch.Tensor | None) -> int:
    """Number of conditions the codes of either side name (1 without codes)."""
    return max([int(c.max()) + 1 for c in codes if c is not None and c.numel()], default=1)


def _psths(counts: torch.Tensor, codes: torch.Tensor | None, n: int | None = None) -> torch.Tensor:
    """PSTH of each condition, (n_conditions, n_bins, n_neurons); one condition without codes."""
    if codes is None:
        return psth(counts.double())[None]
    return psth_by_condition(counts.double(), codes, n or _n_conditions(codes))


def noise_correlation_fit(
    model_counts: torch.Tensor,
    data_counts: torch.Tensor,
    model_conditions: torch.Tensor | None = None,
    data_conditions: torch.Tensor | None = None,
) -> dict[str, float]:
    """R^2 and Pearson r between model and data zero-lag noise-correlation matrices (off-diagonal).

    With conditions, the noise of each trial is about its condition's PSTH.

    Returns
    -------
    dict
        ``{"r2": ..., "r": ...}``.
    """
    n = _n_conditions(model_conditions, data_conditions)

    def matrix(counts: torch.Tensor, codes: torch.Tensor | None) -> np.ndarray:
        extra = {} if codes is None else {"conditions": codes, "n_conditions": n}
        return noise_correlation(counts.double(), max_lag=0, **extra)[0].cpu().numpy()

    return matrix_fit(matrix(model_counts, model_conditions), matrix(data_counts, data_conditions))


def matrix_fit(model: np.ndarray, data: np.ndarray) -> dict[str, float]:
    """R^2 and Pearson r of the off-diagonal entries of two square matrices (finite pairs only).

    Returns
    -------
    dict
        ``{"r2": ..., "r": ...}``; NaN where no finite pair exists.
    """
    off = ~np.eye(model.shape[-1], dtype=bool)
    m, d = np.asarray(model)[off], np.asarray(data)[off]
    keep = np.isfinite(m) & np.isfinite(d)
    if not keep.any():
        return {"r2": float("nan"), "r": float("nan")}
    return {"r2": r2_score(d[keep], m[keep]), "r": pearson(m[keep], d[keep])}


def mean_rate_error(
    model_counts: torch.Tensor, data_counts: torch.Tensor, bin_size_s: float
) -> float:
    """Mean absolute difference of per-neuron mean rates, in Hz."""
    model = mean_firing_rate(model_counts.double(), bin_size_s).mean(dim=0)
    data = mean_firing_rate(data_counts.double(), bin_size_s).mean(dim=0)
    return float((model - data).abs().mean())


def fano_factor_error(
    model_counts: torch.Tensor,
    data_counts: torch.Tensor,
    model_conditions: torch.Tensor | None = None,
    data_conditions: torch.Tensor | None = None,
) -> float:
    """Mean absolute difference of per-neuron Fano factors of whole-trial spike counts.

    With conditions (codes as in :func:`psth_r2`), the Fano factors are each condition's (over
    its trials) and the mean runs over conditions and neurons. Neurons silent in the model or
    the data (undefined Fano factor) are left out.
    """
    if (model_conditions is None) != (data_conditions is None):
        raise ArgumentValueError(
            "Expected condition codes for both the model and the data (or for neither), but got "
            f"`model_conditions` {describe(model_conditions)} and `data_conditions` "
            f"{describe(data_conditions)}."
        )
    n = _n_conditions(model_conditions, data_conditions)
    model = _condition_fano_factors(model_counts, model_conditions, n)
    data = _condition_fano_factors(data_counts, data_conditions, n)
    return float(torch.nanmean((model - data).abs()))


def _condition_fano_factors(
    counts: torch.Tensor, codes: torch.Tensor | None, n: int
) -> torch.Tensor:
    """Fano factor of whole-trial counts of each condition's trials, (n_conditions, n_neurons)."""
    totals = counts.double().sum(dim=1)  # (n_trials, n_neurons)
    if codes is None:
        return fanofactor(totals)[None]
    return torch.stack([fanofactor(totals[codes == c]) for c in range(n)])


def coupling_recovery(fitted: np.ndarray, true: np.ndarray) -> float:
    """Pearson r between fitted and true coupling among recorded neurons, off-diagonal, summed over lags.

    Parameters
    ----------
    fitted, true : np.ndarray
        Shape (n_post, n_pre, n_lags) restricted to the recorded neurons (lags may differ: each
        is summed over its own lags).
    """
    return coupling_fit(fitted, true)["r"]


def detection_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` for boolean ``labels`` (Mann-Whitney; ties count half)."""
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool)
    positive, negative = scores[labels], scores[~labels]
    if not len(positive) or not len(negative):
        return float("nan")
    greater = (positive[:, None] > negative[None, :]).mean()
    ties = (positive[:, None] == negative[None, :]).mean()
    return float(greater + 0.5 * ties)


def coupling_fit(
    fitted: np.ndarray, true: np.ndarray, confounded: np.ndarray | None = None
) -> dict[str, float]:
    """How well fitted coupling among recorded neurons matches the truth (off-diagonal pairs).

    Each filter is summed over its lags. Pearson r hides scale, so R^2 and the slope are given too.

    Parameters
    ----------
    fitted, true : np.ndarray
        Shape (n_post, n_pre, n_lags) restricted to the recorded neurons.
    confounded : np.ndarray, optional
        Boolean (n_post, n_pre): pairs with a hidden confound (shared hidden input or relay).

    Returns
    -------
    dict
        ``r``; ``r2`` (1 - SS_res / SS_tot of fitted against true); ``slope`` (least-squares slope
        of fitted on true over the true non-zero pairs; 1 is unbiased, below 1 attenuated);
        ``auc`` (detection of non-zero pairs by ``|fitted|``); with ``confounded``, ``spurious``:
        mean ``|fitted|`` over confounded pairs without a direct connection.
    """
    fitted_total, true_total = np.asarray(fitted).sum(axis=2), np.asarray(true).sum(axis=2)
    off = ~np.eye(true_total.shape[0], dtype=bool)
    nonzero = off & (true_total != 0)
    slope = (
        np.polyfit(true_total[nonzero], fitted_total[nonzero], 1)[0]
        if nonzero.sum() > 1
        else np.nan
    )
    row = {
        "r": pearson(fitted_total[off], true_total[off]),
        "r2": r2_score(true_total[off], fitted_total[off]),
        "slope": float(slope),
        "auc": detection_auc(np.abs(fitted_total[off]), nonzero[off]),
    }
    if confounded is not None:
        spurious = np.asarray(confounded, dtype=bool) & (true_total == 0) & off
        row["spurious"] = (
            float(np.abs(fitted_total[spurious]).mean()) if spurious.any() else float("nan")
        )
    return row
