"""PNG figures comparing recorded and simulated trials (used by ``demo`` and ``report``).

Every panel is computed from the Neo Blocks with the same functions as the tables in
:mod:`elephant_fit.evaluation.report` (binned by ``BinnedSpikeTrain``'s rules), so a figure
and its table never disagree. matplotlib is optional (``pip install 'elephant-fit[plot]'``):
without it, :func:`comparison_figures` writes nothing and says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import neo
import numpy as np
import quantities as pq

from .report import (
    BlockStatistics,
    _label,
    condition_psths,
    noise_correlation_matrix,
    value_tuning,
)

__all__ = ["comparison_figures", "coupling_figure", "tuning_figure"]


def _pyplot() -> Any | None:
    """matplotlib.pyplot on the Agg backend, or None (with a hint) when it is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(install matplotlib, e.g. pip install 'elephant-fit[plot]', for figures)")
        return None
    return plt


def comparison_figures(
    out: str | Path,
    blocks: dict[str, neo.Block],
    bin_size: pq.Quantity,
    n_units: int = 3,
    statistics: dict[str, BlockStatistics] | None = None,
) -> list[Path]:
    """Rasters, PSTHs and noise-correlation matrices of several Blocks side by side.

    Parameters
    ----------
    out : str or Path
        Output folder (created if needed).
    blocks : dict of {str: neo.Block}
        ``{name: Block}``, the data first; one Segment per trial, the same units in each.
    bin_size : pq.Quantity
        Bin of the PSTHs and noise correlations.
    n_units : int, optional
        Number of PSTH panels (the most active units of the first Block).
    statistics : dict of {str: BlockStatistics}, optional
        The Blocks' statistics from :func:`elephant_fit.evaluation.report.block_statistics` at ``bin_size``,
        if already computed (they are not computed again).

    Returns
    -------
    list of Path
        The written files ``rasters.png``, ``psth.png``, ``noise_correlations.png``; empty
        without matplotlib.
    """
    plt = _pyplot()
    if plt is None:
        return []
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if statistics is None:
        rates = {name: condition_psths(block, bin_size) for name, block in blocks.items()}
        matrices = {name: noise_correlation_matrix(b, bin_size) for name, b in blocks.items()}
    else:
        rates = {name: (statistics[name].conditions, statistics[name].psth) for name in blocks}
        label = _label(bin_size)
        matrices = {name: statistics[name].noise_correlations[label].copy() for name in blocks}
    start = float(next(iter(blocks.values())).segments[0].t_start.rescale("s").magnitude)
    return [
        _rasters(plt, out / "rasters.png", blocks),
        _psth_panels(plt, out / "psth.png", rates, start, bin_size, n_units),
        _noise_correlations(plt, out / "noise_correlations.png", matrices, bin_size),
    ]


def _rasters(plt: Any, path: Path, blocks: dict[str, neo.Block]) -> Path:
    """Trial 0 of every Block as a raster."""
    fig, axes = plt.subplots(1, len(blocks), figsize=(4 * len(blocks), 3), sharey=True)
    for ax, (name, block) in zip(np.atleast_1d(axes), blocks.items(), strict=True):
        for j, st in enumerate(block.segments[0].spiketrains):
            ax.plot(st.rescale("s").magnitude, np.full(len(st), j), "|", color="k", markersize=3)
        ax.set(xlabel="time (s)")
        ax.set_title(f"{name}: trial 0", fontsize=9)
    np.atleast_1d(axes)[0].set_ylabel("neuron")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _psth_panels(
    plt: Any,
    path: Path,
    rates: dict[str, tuple[tuple, np.ndarray]],
    start: float,
    bin_size: pq.Quantity,
    n_units: int,
) -> Path:
    """PSTHs of the most active units, one panel per unit; start in s.

    ``rates``: per Block, its conditions and their PSTHs (n_conditions, n_bins, n_units) in Hz;
    one colour per Block, one line style per condition.
    """
    conditions, first = next(iter(rates.values()))
    pooled = first.mean(axis=0)
    units = np.argsort(-pooled.mean(axis=0), kind="stable")[: min(n_units, pooled.shape[1])]
    times = start + (np.arange(first.shape[1]) + 0.5) * float(bin_size.rescale("s").magnitude)
    styles = ("-", "--", ":", "-.")
    fig, axes = plt.subplots(len(units), 1, figsize=(10, 2.2 * len(units)), sharex=True)
    for ax, unit in zip(np.atleast_1d(axes), units, strict=True):
        for colour, (name, (labels, rate)) in enumerate(rates.items()):
            for code, condition in enumerate(labels):
                label = name if condition is None else f"{name}, {condition}"
                style = styles[code % len(styles)]
                ax.plot(times, rate[code, :, unit], style, color=f"C{colour}", label=label, lw=1)
        ax.set_title(f"PSTH, unit {unit}", fontsize=9)
        ax.set_ylabel("rate (Hz)")
    np.atleast_1d(axes)[0].legend(fontsize=7, ncol=max(1, len(conditions)))
    np.atleast_1d(axes)[-1].set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _noise_correlations(
    plt: Any, path: Path, matrices: dict[str, np.ndarray], bin_size: pq.Quantity
) -> Path:
    """Zero-lag noise-correlation matrices (blanked in place), on the data's colour scale."""
    for matrix in matrices.values():
        np.fill_diagonal(matrix, np.nan)
    first = np.abs(next(iter(matrices.values())))
    limit = float(np.nanquantile(first, 0.98)) if np.isfinite(first).any() else 0.1
    limit = limit if limit > 0 else 0.1
    fig, axes = plt.subplots(1, len(matrices), figsize=(4 * len(matrices), 3.6))
    image = None
    label = _label(bin_size)
    for ax, (name, matrix) in zip(np.atleast_1d(axes), matrices.items(), strict=True):
        image = ax.imshow(matrix, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"noise corr. ({label}): {name}", fontsize=9)
        ax.set(xlabel="unit")
    np.atleast_1d(axes)[0].set_ylabel("unit")
    fig.colorbar(image, ax=axes, shrink=0.8)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def coupling_figure(
    out: str | Path,
    couplings: dict[str, np.ndarray],
    true_coupling: np.ndarray | None = None,
) -> Path | None:
    """Fitted coupling among recorded neurons, against the ground truth when there is one.

    Parameters
    ----------
    out : str or Path
        Output folder; the file is ``coupling.png``.
    couplings : dict of {str: np.ndarray}
        ``{model name: coupling}``, each of shape (n_post, n_pre, n_lags) restricted to the
        recorded neurons (e.g. ``fitter.coupling_[:n, :n]``).
    true_coupling : np.ndarray, optional
        Ground truth of the same shape: scatter of fitted vs true (summed over lags).
        Without it, heat maps of the fitted coupling summed over lags.

    Returns
    -------
    Path or None
        The written file, or None without matplotlib.
    """
    plt = _pyplot()
    if plt is None:
        return None
    path = Path(out) / "coupling.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, len(couplings), figsize=(4 * len(couplings), 3.6))
    for ax, (name, coupling) in zip(np.atleast_1d(axes), couplings.items(), strict=True):
        total = np.asarray(coupling).sum(axis=2)
        if true_coupling is None:
            limit = float(np.abs(total).max()) or 1.0
            image = ax.imshow(total, cmap="RdBu_r", vmin=-limit, vmax=limit)
            fig.colorbar(image, ax=ax, shrink=0.8)
            ax.set(title=f"coupling (sum over lags): {name}", xlabel="pre", ylabel="post")
        else:
            truth = np.asarray(true_coupling).sum(axis=2)
            off = ~np.eye(total.shape[0], dtype=bool)
            ax.scatter(truth[off], total[off], s=6)
            ax.set(title=f"coupling: {name}", xlabel="true (sum over lags)", ylabel="fitted")
        ax.title.set_fontsize(9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def tuning_figure(
    out: str | Path,
    blocks: dict[str, neo.Block],
    bin_size: pq.Quantity,
    covariates: list[str],
    n_units: int = 3,
    n_values: int = 20,
) -> Path | None:
    """Empirical tuning curves (rate against a covariate's value) of several Blocks, overlaid.

    Parameters
    ----------
    out : str or Path
        Output folder; the file is ``tuning.png``.
    blocks : dict of {str: neo.Block}
        ``{name: Block}``, the data first, each Segment with the covariates as AnalogSignals
        (one sample per bin, as :func:`~elephant_fit.to_neo` writes them).
    bin_size : pq.Quantity
        The bins.
    covariates : list of str
        Covariates to plot, one column of panels each.
    n_units, n_values : int, optional
        Rows (the most active units of the first Block) and value intervals (equal width over
        the first Block's range).

    Returns
    -------
    Path or None
        The written file, or None without matplotlib.
    """
    plt = _pyplot()
    if plt is None:
        return None
    path = Path(out) / "tuning.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    first = next(iter(blocks.values()))
    curves = {}
    for name in covariates:
        values = [
            s.magnitude for seg in first.segments for s in seg.analogsignals if s.name == name
        ]
        edges = np.linspace(np.min(values), np.max(values), n_values + 1)
        centres = (edges[:-1] + edges[1:]) / 2
        curves[name] = (
            centres,
            {k: value_tuning(b, bin_size, name, edges) for k, b in blocks.items()},
        )
    data_rates = next(iter(curves[covariates[0]][1].values()))
    units = np.argsort(-np.nanmean(data_rates, axis=0), kind="stable")[:n_units]
    fig, axes = plt.subplots(
        len(units), len(covariates), figsize=(4 * len(covariates), 2.4 * len(units)), squeeze=False
    )
    for column, name in enumerate(covariates):
        centres, rates = curves[name]
        for row, unit in enumerate(units):
            ax = axes[row, column]
            for colour, (label, rate) in enumerate(rates.items()):
                style = "o" if colour == 0 else "-"
                ax.plot(centres, rate[:, unit], style, color=f"C{colour}", label=label, ms=3)
            ax.set_title(f"unit {unit}: rate against {name}", fontsize=9)
            ax.set(xlabel=name, ylabel="rate (Hz)")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
