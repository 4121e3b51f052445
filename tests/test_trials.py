"""Trials cut from a continuous session (data/trials.py through from_neo), against neo and Elephant."""

from __future__ import annotations

import copy
import warnings

import neo
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


def test_overlapping_windows_are_named_and_can_be_dropped(session):
    long = (-200 * pq.ms, 2 * pq.s)  # 2.2 s windows, an event every 1.5 s
    with pytest.raises(ValueError, match=r"5 trial\(s\) are overlapping an earlier one: 1 \["):
        from_neo(session.block, BIN, trials="stim_on", window=long, drop="outside")
    with pytest.warns(UserWarning, match="Dropped"):
        data = from_neo(
            session.block, BIN, trials="stim_on", window=long, drop=["outside", "overlapping"]
        )
    assert [a["event_time"] for a in data.trial_annotations] == pytest.approx(
        [200.0 + 3000 * k for k in range(6)]  # every other event, in ms
    )


def _with_signal(session, change):
    """A copy of the session whose running speed is ``change(signal)``."""
    block = copy.deepcopy(session.block)
    segment = block.segments[0]
    signal = change(segment.analogsignals[0])
    signal.segment = segment
    segment.analogsignals = [signal]
    return block


def _nan_at(signal, sample):
    signal = signal.copy()
    signal[sample] = np.nan * signal.units
    return signal


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: _nan_at(s, 5000), r"covariate 'running_speed' is nan in trial 3, bin 50"),
        (lambda s: s[:9000], r"6 trial\(s\) are outside the recording: 6 \[9000"),
        (
            lambda s: neo.AnalogSignal(
                s.magnitude[::100], units=s.units, sampling_rate=10 * pq.Hz, name=s.name
            ),
            r"sampled every 0.1 s, coarser than `bin_size`",
        ),
    ],
    ids=["NaN", "ends early", "coarse"],
)
def test_a_bad_covariate_signal_is_refused_in_one_line(session, change, expected):
    block = _with_signal(session, change)
    with pytest.raises(ValueError, match=expected):
        from_neo(block, BIN, trials="stim_on", window=WINDOW, covariates=["running_speed"])


def test_a_condition_too_small_for_the_split_is_named(session):
    data = _cut(session, condition="labels")[[0, 1, 2, 4, 6]]  # one trial of grating_90
    with pytest.raises(ValueError, match=r"condition 'grating_90' \(1 trial\) has fewer"):
        data.split(0.5, seed=0)
