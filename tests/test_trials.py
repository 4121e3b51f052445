"""Trials cut from a continuous session (data/trials.py through from_neo), against neo and Elephant."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import quantities as pq
import torch
from elephant.conversion import BinnedSpikeTrain
from elephant.statistics import time_histogram
from neo.utils import add_epoch, cut_segment_by_epoch

from elephant_fit import from_neo
from elephant_fit.network.sessions import synthetic_session

BIN = 10 * pq.ms
WINDOW = (-200 * pq.ms, 1 * pq.s)
LENGTH = 1.2 * pq.s


@pytest.fixture(scope="module")
def session():
    return synthetic_session(12)


def _cut(session, **options):
    return from_neo(session.block, BIN, trials="stim_on", window=WINDOW, **options)


def test_cut_trials_equal_neo_cut_segment_by_epoch_binned_by_elephant(session):
    data = _cut(session)
    segment = session.block.segments[0]
    epoch = add_epoch(
        segment, segment.events[0], pre=WINDOW[0], post=WINDOW[1], attach_result=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trials = cut_segment_by_epoch(segment, epoch, reset_time=True)
        expected = np.stack(
            [
                BinnedSpikeTrain(  # neo's reset_time starts each trial at 0, not at its event
                    trial.spiketrains, bin_size=BIN, t_start=0 * pq.s, t_stop=LENGTH
                ).to_array()
                for trial in trials
            ]
        ).transpose(0, 2, 1)
    np.testing.assert_array_equal(data.counts.numpy(), expected)
    np.testing.assert_array_equal(data.counts.double().numpy(), session.trials.counts.numpy())
    assert data.t_start == WINDOW[0].rescale(data.t_start.units)  # the event is the trial's zero
    assert data.t_stop == WINDOW[1].rescale(data.t_stop.units)


def test_conditions_come_from_the_labels_and_each_trial_keeps_where_it_came_from(session):
    data = _cut(session, condition="labels")
    assert list(data.conditions) == list(session.trials.conditions)
    assert data.condition_labels == ("grating_0", "grating_90")
    second = data.trial_annotations[1]
    assert second["label"] == second["condition"] == "grating_90"
    assert second["segment"] == 0
    event = session.block.segments[0].events[0][1]
    assert second["event_time"] == pytest.approx(float(event.rescale(pq.ms).magnitude))


def test_per_condition_psths_equal_elephants_time_histogram_of_that_conditions_trials(session):
    from elephant_fit.statistics import psth_by_condition

    data = _cut(session, condition="labels")
    ours = psth_by_condition(
        data.counts.double(), data.condition_codes, data.n_conditions, bin_size=0.01
    )
    trials = _neo_trials(session)
    for code, label in enumerate(data.condition_labels):
        mine = [t for t, c in zip(trials, data.conditions, strict=True) if c == label]
        for unit in range(data.n_neurons):
            trains = [t.spiketrains[unit] for t in mine]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = time_histogram(trains, BIN, 0 * pq.s, LENGTH, output="rate")
            np.testing.assert_allclose(
                ours[code, :, unit].numpy(), expected.rescale("Hz").magnitude[:, 0], rtol=1e-9
            )


def _neo_trials(session):
    """neo's own cut: each trial a Segment whose time starts at 0 (its window's start)."""
    segment = session.block.segments[0]
    epoch = add_epoch(
        segment, segment.events[0], pre=WINDOW[0], post=WINDOW[1], attach_result=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cut_segment_by_epoch(segment, epoch, reset_time=True)


def test_covariates_are_the_signals_averaged_onto_the_bins(session):
    data = _cut(session, condition="labels", covariates=["running_speed"])
    assert data.covariate_names == ("running_speed",)
    torch.testing.assert_close(data.covariates, session.trials.covariates, rtol=1e-12, atol=0)


def test_the_input_block_is_not_modified(session):
    segment = session.block.segments[0]
    before = [train.times.copy() for train in segment.spiketrains], len(segment.epochs)
    _cut(session, condition="labels", covariates=["running_speed"])
    assert len(segment.epochs) == before[1]
    for train, times in zip(segment.spiketrains, before[0], strict=True):
        np.testing.assert_array_equal(train.times, times)


def test_consecutive_windows_of_a_continuous_recording(session):
    # 12 trials of 1.5 s: an 18 s recording, cut into 7 s windows, 4 s remain
    with pytest.warns(UserWarning, match="4"):
        data = from_neo(session.block, BIN, window=7 * pq.s)
    assert (data.n_trials, data.n_bins) == (2, 700)
    whole = from_neo(session.block, BIN, window=18 * pq.s)
    torch.testing.assert_close(data.counts, whole.counts[0, :1400].reshape(2, 700, 12))


def test_an_unknown_event_lists_the_ones_there_are(session):
    with pytest.raises(ValueError, match=r"'stim_of'.*Events \['stim_on'\]"):
        from_neo(session.block, BIN, trials="stim_of", window=WINDOW)


def test_windows_outside_the_recording_are_refused_or_dropped(session):
    early = (-500 * pq.ms, 1 * pq.s)  # the first event is 200 ms after the recording starts
    with pytest.raises(ValueError, match=r"1 trial\(s\) are outside the recording: 0 "):
        from_neo(session.block, BIN, trials="stim_on", window=early)
    with pytest.warns(UserWarning, match=r"Dropped 1 trial\(s\)"):
        data = from_neo(session.block, BIN, trials="stim_on", window=early, drop="outside")
    assert data.n_trials == 11


def test_an_unknown_covariate_lists_the_signals_there_are(session):
    with pytest.raises(ValueError, match=r"'speed'.*\['running_speed'\]"):
        _cut(session, covariates=["speed"])
