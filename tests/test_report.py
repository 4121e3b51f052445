"""`elephant_fit.evaluation.report`: tables computed by Elephant on Neo Blocks, checked against numpy."""

from __future__ import annotations

import json
import warnings

import neo
import numpy as np
import pytest
import quantities as pq
import torch
from helpers import elephant_counts, poisson_block, segments_as_lists

from elephant_fit import SpikeData, to_neo
from elephant_fit.evaluation import report
from elephant_fit.evaluation.report import (
    MIN_SIMULATED_TRIALS,
    compare_blocks,
    n_simulated_trials,
    noise_correlation_matrix,
    psths,
    write_table,
)

BIN = 50 * pq.ms


@pytest.fixture
def blocks(rng):
    return poisson_block(rng, n_trials=8, n_units=5), poisson_block(rng, n_trials=6, n_units=5)


def _conditions(block):
    """The Segments' condition annotations (poisson_block: trial k has condition k % 2)."""
    return np.array([segment.annotations["condition"] for segment in block.segments])


def _numpy_psths(counts, conditions):
    """Each condition's trial mean (sorted conditions), (n_conditions, n_bins, n_units) counts."""
    return np.stack([counts[conditions == c].mean(axis=0) for c in np.unique(conditions)])


def _numpy_noise_correlation(counts, conditions=None):
    """Pearson correlation over (trial, bin) pairs of counts minus their condition's PSTH."""
    conditions = np.zeros(len(counts), dtype=int) if conditions is None else conditions
    residual = counts.astype(float).copy()
    for c in np.unique(conditions):
        residual[conditions == c] -= counts[conditions == c].mean(axis=0)
    return np.corrcoef(residual.reshape(-1, counts.shape[2]), rowvar=False)


def test_psths_are_trial_averaged_counts_per_second(blocks):
    data, _ = blocks
    counts = elephant_counts(segments_as_lists(data), BIN)
    np.testing.assert_allclose(psths(data, BIN), counts.mean(axis=0) / 0.05, rtol=1e-12)


def test_noise_correlation_matrix_matches_numpy(blocks):
    data, _ = blocks
    counts = elephant_counts(segments_as_lists(data), BIN)
    np.testing.assert_allclose(
        noise_correlation_matrix(data, BIN),
        _numpy_noise_correlation(counts, _conditions(data)),  # noise about each condition's PSTH
        rtol=1e-9,
    )
    for segment in data.segments:  # without conditions: about the PSTH of all trials
        segment.annotations.pop("condition")
    np.testing.assert_allclose(
        noise_correlation_matrix(data, BIN), _numpy_noise_correlation(counts), rtol=1e-9
    )


def test_condition_psths_are_elephants_time_histogram_of_each_conditions_trials(blocks):
    from elephant.statistics import time_histogram

    from elephant_fit.evaluation.report import condition_psths

    data, _ = blocks
    conditions, rates = condition_psths(data, BIN)
    assert conditions == (0, 1)
    for code, condition in enumerate(conditions):
        trials = [s for s in data.segments if s.annotations["condition"] == condition]
        for unit in range(5):
            expected = time_histogram([s.spiketrains[unit] for s in trials], BIN, output="rate")
            np.testing.assert_allclose(
                rates[code, :, unit], expected.rescale("Hz").magnitude[:, 0], rtol=1e-9
            )


def test_a_block_compared_with_itself_fits_perfectly(blocks):
    data, _ = blocks
    row = compare_blocks(data, data, BIN, coarse_bin_size=100 * pq.ms)
    assert row["PSTH R2"] == pytest.approx(1.0)
    for key in ("NC R2 (50 ms)", "NC r (50 ms)", "NC R2 (100 ms)", "NC r (100 ms)"):
        assert row[key] == pytest.approx(1.0)
    assert row["mean-rate error (Hz)"] == 0.0
    assert row["Fano-factor error"] == 0.0


def test_compare_blocks_against_numpy_formulas(blocks):
    model, data = blocks  # different numbers of trials
    row = compare_blocks(model, data, BIN)
    m = elephant_counts(segments_as_lists(model), BIN)
    d = elephant_counts(segments_as_lists(data), BIN)
    cm, cd = _conditions(model), _conditions(data)
    pm, pd = _numpy_psths(m, cm), _numpy_psths(d, cd)  # every condition's PSTH
    assert row["PSTH R2"] == pytest.approx(
        1 - np.sum((pd - pm) ** 2) / np.sum((pd - pd.mean()) ** 2)
    )
    off = ~np.eye(5, dtype=bool)
    nm, nd = _numpy_noise_correlation(m, cm)[off], _numpy_noise_correlation(d, cd)[off]
    assert row["NC r (50 ms)"] == pytest.approx(np.corrcoef(nm, nd)[0, 1])
    rate_m, rate_d = m.sum(axis=1).mean(axis=0) / 2.0, d.sum(axis=1).mean(axis=0) / 2.0
    assert row["mean-rate error (Hz)"] == pytest.approx(np.mean(np.abs(rate_m - rate_d)))
    fano = [  # each condition's trials (a response differing between conditions is no noise)
        np.stack([t[c == k].var(axis=0) / t[c == k].mean(axis=0) for k in np.unique(cd)])
        for t, c in ((m.sum(axis=1), cm), (d.sum(axis=1), cd))
    ]
    assert row["Fano-factor error"] == pytest.approx(np.mean(np.abs(fano[0] - fano[1])))


def test_write_table_markdown_and_json(tmp_path):
    rows = {"a": {"x": 0.12345, "y": 3}, "b": {"x": -1.0}}
    markdown, as_json = write_table(rows, tmp_path / "out", name="t")
    lines = markdown.read_text().splitlines()
    assert lines[0] == "| metric | a | b |"
    assert lines[2] == "| x | 0.123 | -1.000 |"
    assert lines[3] == "| y | 3 |  |"
    assert json.loads(as_json.read_text()) == rows


def test_models_are_simulated_on_at_least_100_trials():
    assert n_simulated_trials(6) == MIN_SIMULATED_TRIALS == 100
    assert n_simulated_trials(500) == 500


def test_tensor_metrics_and_the_elephant_report_are_one_definition(blocks):
    """The benchmarks' tensor metrics give the numbers `fit`, `report` and `demo` print."""
    from elephant_fit import from_neo
    from elephant_fit.evaluation import metrics

    model, data = blocks
    row = compare_blocks(model, data, BIN)
    model_data = from_neo(model, BIN, dtype=torch.float64)
    data_data = from_neo(data, BIN, dtype=torch.float64)
    assert model_data.condition_labels == data_data.condition_labels == (0, 1)
    m, d = model_data.counts, data_data.counts
    codes = model_data.condition_codes, data_data.condition_codes
    assert metrics.psth_r2(m, d, *codes) == pytest.approx(row["PSTH R2"], rel=1e-9)
    fit = metrics.noise_correlation_fit(m, d, *codes)
    assert fit["r2"] == pytest.approx(row["NC R2 (50 ms)"], rel=1e-9)
    assert fit["r"] == pytest.approx(row["NC r (50 ms)"], rel=1e-9)
    rate_error = metrics.mean_rate_error(m, d, float(BIN.rescale("s").magnitude))
    assert rate_error == pytest.approx(row["mean-rate error (Hz)"], rel=1e-9)
    fano_error = metrics.fano_factor_error(m, d, *codes)
    assert fano_error == pytest.approx(row["Fano-factor error"], rel=1e-9)


def test_value_tuning_is_the_mean_rate_of_the_bins_at_each_value():
    from elephant_fit.evaluation.report import value_tuning

    generator = torch.Generator().manual_seed(3)
    position = torch.rand(6, 40, 1, generator=generator, dtype=torch.float64) * 10
    counts = torch.bernoulli(position.expand(-1, -1, 2) / 10, generator=generator)
    data = SpikeData(counts, 5 * pq.ms, covariates=position, covariate_names=["position"])
    edges = np.array([0.0, 2.5, 5.0, 7.5, 10.0])
    rates = value_tuning(to_neo(data), 5 * pq.ms, "position", edges)
    x, y = position[..., 0].numpy().ravel(), counts.numpy().reshape(-1, 2)
    for i in range(4):
        inside = (x >= edges[i]) & (x < edges[i + 1])
        np.testing.assert_allclose(rates[i], y[inside].mean(axis=0) / 0.005, rtol=1e-12)
    with pytest.raises(ValueError, match="one AnalogSignal 'speed'"):
        value_tuning(to_neo(data), 5 * pq.ms, "speed", edges)


def _elephant_counts(block, bin_size):
    """``BinnedSpikeTrain(segment.spiketrains, bin_size).to_array()`` of each Segment, stacked."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Elephant's "discarded spikes" warning
        return elephant_counts(segments_as_lists(block), bin_size).transpose(0, 2, 1)


def _shifted(block, offsets, units=None):
    """The trials of ``block`` moved by ``offsets`` (one per trial, s), optionally in other units."""
    moved_block = neo.Block()
    for segment, offset in zip(block.segments, offsets, strict=True):
        moved = neo.Segment()
        for train in segment.spiketrains:
            shift = offset * pq.s
            times, t_start, t_stop = (
                train.times + shift,
                train.t_start + shift,
                train.t_stop + shift,
            )
            if units is not None:
                times, t_start, t_stop = (q.rescale(units) for q in (times, t_start, t_stop))
            moved.spiketrains.append(neo.SpikeTrain(times, t_start=t_start, t_stop=t_stop))
        moved_block.segments.append(moved)
    return moved_block


@pytest.mark.parametrize("bin_size", [BIN, 3 * pq.ms, 0.1 * pq.s])
def test_counts_equal_elephants_binned_spike_train_of_every_segment(rng, bin_size):
    block = poisson_block(rng, n_trials=5, n_units=3)
    # spikes on bin edges, at t_stop (dropped by Elephant) and at t_start
    edge_train = block.segments[0].spiketrains[0]
    edges = np.array([0.0, 0.01, 0.02, 0.03, 0.1, 0.3]) * pq.s
    edge = neo.SpikeTrain(
        np.append(edges.magnitude, edge_train.t_stop.rescale("s").magnitude) * pq.s,
        t_start=edge_train.t_start,
        t_stop=edge_train.t_stop,
    )
    block.segments[0].spiketrains[0] = edge
    expected = _elephant_counts(block, bin_size)
    np.testing.assert_array_equal(report._binned(block, bin_size), expected)
    # trials cut from a session keep their own times (each on its own window), in any unit
    for units in (None, pq.ms):
        shifted = _shifted(block, 2.0 * np.arange(5) + 0.3, units)
        np.testing.assert_array_equal(
            report._binned(shifted, bin_size), _elephant_counts(shifted, bin_size)
        )
        np.testing.assert_array_equal(report._binned(shifted, bin_size), expected)


def test_binning_refuses_segments_that_elephant_cannot_stack(rng):
    block = poisson_block(rng, n_trials=3, n_units=2)
    uneven = _shifted(block, [0.0, 0.0, 0.0])
    uneven.segments[0].spiketrains = list(uneven.segments[0].spiketrains)[:1]
    with pytest.raises(ValueError, match="same number"):
        report._binned(uneven, BIN)
    with pytest.raises(ValueError, match="same number"):
        report._binned(neo.Block(), BIN)  # no trials
    mixed = _shifted(block, [0.0, 0.0, 0.0])
    train = mixed.segments[1].spiketrains[1]
    mixed.segments[1].spiketrains[1] = neo.SpikeTrain(
        train.times + 1 * pq.s, t_start=train.t_start + 1 * pq.s, t_stop=train.t_stop + 1 * pq.s
    )
    with pytest.raises(ValueError, match="Segment 1 has"):
        report._binned(mixed, BIN)
    longer = _shifted(block, [0.0, 0.0, 0.0])
    first = longer.segments[0].spiketrains
    for j, train in enumerate(list(first)):
        first[j] = neo.SpikeTrain(
            train.times, t_start=train.t_start, t_stop=train.t_stop + 1 * pq.s
        )
    with pytest.raises(ValueError, match="one length"):
        report._binned(longer, BIN)


def test_block_statistics_are_elephants_rates_and_fano_factors_of_each_condition(blocks):
    from elephant.statistics import fanofactor, mean_firing_rate

    from elephant_fit.evaluation.report import block_statistics

    data, _ = blocks
    trains = data.segments[0].spiketrains
    trains[:] = [train.rescale("ms") for train in trains]  # one trial in ms, the others in s
    statistics = block_statistics(data, BIN)
    rates = [
        np.mean([float(mean_firing_rate(s.spiketrains[unit]).rescale("Hz")) for s in data.segments])
        for unit in range(5)
    ]
    np.testing.assert_allclose(statistics.rates, rates, rtol=1e-12)
    for code, condition in enumerate(statistics.conditions):
        trials = [s for s in data.segments if s.annotations["condition"] == condition]
        expected = [fanofactor([s.spiketrains[unit] for s in trials]) for unit in range(5)]
        np.testing.assert_allclose(statistics.fano_factors[code], expected, rtol=1e-12)


def test_a_unit_silent_in_a_condition_has_elephants_nan_fano_factor(rng):
    from elephant.statistics import fanofactor

    from elephant_fit.evaluation.report import block_statistics

    data = poisson_block(rng, n_trials=4, n_units=2)
    for segment in data.segments[::2]:  # unit 0 silent in condition 0
        train = segment.spiketrains[0]
        segment.spiketrains[0] = neo.SpikeTrain([], t_stop=train.t_stop, units=train.units)
    statistics = block_statistics(data, BIN)
    silent = [data.segments[0].spiketrains[0], data.segments[2].spiketrains[0]]
    assert np.isnan(fanofactor(silent))
    assert np.isnan(statistics.fano_factors[0, 0])
    assert np.isfinite(statistics.fano_factors[1]).all()
