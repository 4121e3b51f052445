"""`elephant_fit.evaluation.figures`: the PNG files of `demo` and `report`."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import quantities as pq
from helpers import poisson_block

from elephant_fit.evaluation.figures import comparison_figures, coupling_figure

pytest.importorskip("matplotlib")


def _is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000


def test_comparison_figures_are_written(rng, tmp_path):
    blocks = {"data": poisson_block(rng, n_trials=4), "model": poisson_block(rng, n_trials=7)}
    paths = comparison_figures(tmp_path / "figs", blocks, 20 * pq.ms, n_units=2)
    assert [p.name for p in paths] == ["rasters.png", "psth.png", "noise_correlations.png"]
    assert all(_is_png(p) for p in paths)


def test_one_block_and_one_unit_panel(rng, tmp_path):
    paths = comparison_figures(tmp_path, {"data": poisson_block(rng)}, 20 * pq.ms, n_units=10)
    assert all(_is_png(p) for p in paths)


def test_coupling_against_truth_and_alone(rng, tmp_path):
    fitted, truth = rng.normal(size=(5, 5, 3)), rng.normal(size=(5, 5, 3))
    path = coupling_figure(tmp_path / "a", {"m1": fitted, "m2": fitted * 2}, truth)
    assert _is_png(path)
    path = coupling_figure(tmp_path / "b", {"model": np.zeros((4, 4, 2))})
    assert _is_png(path)
    assert path.name == "coupling.png"


def test_without_matplotlib_nothing_is_written(rng, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert comparison_figures(tmp_path, {"data": poisson_block(rng)}, 20 * pq.ms) == []
    assert coupling_figure(tmp_path, {"model": np.ones((2, 2, 1))}) is None
    assert "pip install 'elephant-fit[plot]'" in capsys.readouterr().out
    assert not list(tmp_path.iterdir())


def test_precomputed_statistics_are_used_and_not_modified(rng, tmp_path):
    from elephant_fit.evaluation.report import block_statistics

    blocks = {"data": poisson_block(rng, n_trials=4), "model": poisson_block(rng, n_trials=5)}
    statistics = {name: block_statistics(b, 20 * pq.ms) for name, b in blocks.items()}
    before = statistics["data"].noise_correlations["20 ms"].copy()
    paths = comparison_figures(tmp_path, blocks, 20 * pq.ms, statistics=statistics)
    assert all(_is_png(p) for p in paths)
    np.testing.assert_array_equal(statistics["data"].noise_correlations["20 ms"], before)
