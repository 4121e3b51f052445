"""Compare recorded and simulated trials with Elephant's own functions on the Neo objects.

Everything here consumes Neo Blocks (one Segment per trial) and calls Elephant
(``time_histogram``, ``BinnedSpikeTrain``, ``mean_firing_rate``, ``fanofactor``), which shows
that Elephant consumes elephant-fit's output unchanged.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import neo
import numpy as np
import quantities as pq
from elephant.conversion import BinnedSpikeTrain
from elephant.statistics import fanofactor, mean_firing_rate, time_histogram

from .metrics import r2_score

__all__ = ["compare_blocks", "write_table"]


def _units(block: neo.Block) -> list[list[neo.SpikeTrain]]:
    """Spike trains per unit (Groups), or per position, across trials."""
    if block.groups:
        return [list(group.spiketrains) for group in block.groups]
    n_units = len(block.segments[0].spiketrains)
    return [[segment.spiketrains[j] for segment in block.segments] for j in range(n_units)]


def _psths(block: neo.Block, bin_size: pq.Quantity) -> np.ndarray:
    """Trial-averaged rate per bin and unit with ``elephant.statistics.time_histogram``, Hz."""
    columns = [
        time_histogram(trains, bin_size, output="rate").rescale("Hz").magnitude[:, 0]
        for trains in _units(block)
    ]
    return np.stack(columns, axis=1)


def _binned(block: neo.Block, bin_size: pq.Quantity) -> np.ndarray:
    """Counts (n_trials, n_units, n_bins) with ``BinnedSpikeTrain`` per trial."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.stack(
            [
                BinnedSpikeTrain(seg.spiketrains, bin_size=bin_size).to_array()
                for seg in block.segments
            ]
        )


def _noise_correlations(counts: np.ndarray) -> np.ndarray:
    """Correlation of residuals (counts minus the trial mean) between units, off-diagonal values."""
    residuals = counts - counts.mean(axis=0, keepdims=True)
    flat = residuals.transpose(1, 0, 2).reshape(counts.shape[1], -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = np.corrcoef(flat)
    return matrix[~np.eye(matrix.shape[0], dtype=bool)]


def _fano_factors(block: neo.Block) -> np.ndarray:
    """Fano factor of whole-trial counts per unit with ``elephant.statistics.fanofactor``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.array([fanofactor(trains) for trains in _units(block)], dtype=float)


def _rates(block: neo.Block) -> np.ndarray:
    """Mean rate per unit over trials with ``elephant.statistics.mean_firing_rate``, Hz."""
    return np.array(
        [
            np.mean([float(mean_firing_rate(st).rescale("Hz").magnitude) for st in trains])
            for trains in _units(block)
        ]
    )


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    keep = np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 3 or np.std(a[keep]) == 0 or np.std(b[keep]) == 0:
        return float("nan")
    return float(np.corrcoef(a[keep], b[keep])[0, 1])


def compare_blocks(
    model: neo.Block,
    data: neo.Block,
    bin_size: pq.Quantity,
    coarse_bin_size: pq.Quantity = 50 * pq.ms,
) -> dict[str, float]:
    """Statistics of simulated vs recorded trials, computed by Elephant on the Neo objects.

    Parameters
    ----------
    model, data : neo.Block
        Simulated and recorded trials (one Segment per trial, the same units).
    bin_size : pq.Quantity
        The fitting bin.
    coarse_bin_size : pq.Quantity, optional
        A coarser bin for the noise correlations.

    Returns
    -------
    dict
        PSTH R^2, noise-correlation R^2 and r at both bins (off-diagonal pairs), mean-rate error
        (Hz) and Fano-factor error (mean absolute differences over units).
    """
    row = {"PSTH R2": r2_score(_psths(model, bin_size), _psths(data, bin_size))}
    for size in (bin_size, coarse_bin_size):
        label = f"{float(size.rescale('ms').magnitude):g} ms"
        model_nc = _noise_correlations(_binned(model, size))
        data_nc = _noise_correlations(_binned(data, size))
        keep = np.isfinite(model_nc) & np.isfinite(data_nc)
        row[f"NC R2 ({label})"] = (
            r2_score(model_nc[keep], data_nc[keep]) if keep.any() else float("nan")
        )
        row[f"NC r ({label})"] = _pearson(model_nc, data_nc)
    row["mean-rate error (Hz)"] = float(np.mean(np.abs(_rates(model) - _rates(data))))
    fano = np.abs(_fano_factors(model) - _fano_factors(data))
    row["Fano-factor error"] = float(np.nanmean(fano)) if np.isfinite(fano).any() else float("nan")
    return row


def write_table(
    rows: dict[str, dict[str, Any]], out: str | Path, name: str = "report"
) -> tuple[Path, Path]:
    """Write ``{column: {metric: value}}`` as Markdown and JSON.

    Returns
    -------
    markdown, json : Path
        The written files.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    columns = list(rows)
    metrics = list(dict.fromkeys(key for row in rows.values() for key in row))
    lines = ["| metric | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for metric in metrics:
        cells = [_format(rows[column].get(metric)) for column in columns]
        lines.append(f"| {metric} | " + " | ".join(cells) + " |")
    markdown = out / f"{name}.md"
    markdown.write_text("\n".join(lines) + "\n")
    as_json = out / f"{name}.json"
    as_json.write_text(json.dumps(rows, indent=2, default=float))
    return markdown, as_json


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
