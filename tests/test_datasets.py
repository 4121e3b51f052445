"""Bundled recordings as Neo Blocks: the retina, and the Kramer & Eden case studies."""

from __future__ import annotations

import numpy as np
import pytest
import quantities as pq
from neo.test.tools import assert_neo_object_is_compliant

import elephant_fit.statistics as fs
from elephant_fit import from_neo, to_neo
from elephant_fit.data.datasets import (
    KRAMER_CITATION,
    RETINA_CITATION,
    load_place_cell,
    load_reaching_unit,
    load_retina,
)


@pytest.mark.parametrize(
    ("recording", "n_neurons", "spikes"), [(1, 38, (25_000, 30_000)), (2, 49, (70_000, 85_000))]
)
def test_load_retina(recording, n_neurons, spikes):
    block = load_retina(recording)
    assert_neo_object_is_compliant(block)
    assert len(block.segments) == 30
    assert len(block.groups) == n_neurons
    train = block.segments[0].spiketrains[0]
    assert train.units == pq.ms
    assert train.t_stop == 18000 * pq.ms
    total = sum(len(st) for segment in block.segments for st in segment.spiketrains)
    assert spikes[0] < total < spikes[1]
    assert block.annotations["citation"] == RETINA_CITATION
    assert all(np.all(np.diff(st.magnitude) >= 0) for st in block.segments[3].spiketrains)


def test_retina_bins_into_spikedata():
    with pytest.warns(UserWarning, match="Binning discarded"):  # spikes exactly at 18000 ms
        data = from_neo(load_retina(1), 20 * pq.ms)
    assert data.counts.shape == (30, 900, 38)
    assert data.unit_ids == tuple(range(38))
    assert data.trial_annotations[4] == {"trial": 4}


def test_bad_recording():
    with pytest.raises(ValueError, match="`recording`"):
        load_retina(3)


def _kramer_file(name):
    from importlib import resources

    from scipy.io import loadmat

    folder = resources.files("elephant_fit") / "data" / "kramer_casestudies"
    with resources.as_file(folder / name) as path:
        return loadmat(str(path))


def test_reaching_unit_is_one_session_that_cuts_back_into_the_files_trials():
    block = load_reaching_unit()
    assert_neo_object_is_compliant(block)
    assert block.annotations["citation"] == KRAMER_CITATION
    assert block.annotations["licence"] == "MIT"
    assert len(block.segments) == 1  # as a lab stores it: one continuous segment and its cues
    go = block.segments[0].events[0]
    mat = _kramer_file("10_spikes-1.mat")
    data = from_neo(block, 1 * pq.ms, trials="go", window=(-1 * pq.s, 1 * pq.s), condition="labels")
    np.testing.assert_array_equal(data.counts[..., 0].numpy(), mat["train"])  # the file's bins
    direction = mat["direction"].reshape(-1)
    assert data.conditions.tolist() == ["left" if d == 0 else "right" for d in direction]
    assert [a["direction"] for a in data.trial_annotations] == direction.tolist()
    np.testing.assert_allclose(
        [a["event_time"] for a in data.trial_annotations], go.times.rescale("s").magnitude
    )
    assert data.t_start == -1 * pq.s  # the GO cue is each trial's zero


def test_reaching_unit_psth_by_direction_matches_elephant():
    from elephant.statistics import time_histogram

    block = load_reaching_unit()
    data = from_neo(
        block, 50 * pq.ms, trials="go", window=(-1 * pq.s, 1 * pq.s), condition="labels"
    )
    psth = fs.psth_by_condition(
        data.counts.double(), data.condition_codes, data.n_conditions, bin_size=0.05
    )
    trials = to_neo(data).segments
    for c, label in enumerate(data.condition_labels):
        trains = [s.spiketrains[0] for s in trials if s.annotations["condition"] == label]
        expected = time_histogram(trains, 50 * pq.ms, output="rate").rescale("Hz").magnitude[:, 0]
        np.testing.assert_allclose(psth[c, :, 0].numpy(), expected, rtol=1e-9)
    assert psth[1].mean() != psth[0].mean()  # the two directions differ


def test_place_cell_has_its_spikes_and_position_averaged_onto_the_bins():
    block = load_place_cell()
    assert_neo_object_is_compliant(block)
    segment = block.segments[0]
    train, position = segment.spiketrains[0], segment.analogsignals[0]
    mat = _kramer_file("spikes-1.mat")
    np.testing.assert_array_equal(np.sort(train.magnitude), np.sort(mat["spiketimes"].ravel()))
    assert position.units == pq.cm
    assert position.shape == mat["X"].shape
    with pytest.warns(
        UserWarning, match="dropped"
    ):  # 177.76 s is not a whole number of 10 s windows
        data = from_neo(block, 100 * pq.ms, window=10 * pq.s, covariates=["position"])
    assert data.counts.shape == (17, 100, 1)
    assert data.covariate_names == ("position",)
    x = mat["X"].ravel()[: 17 * 100 * 100].reshape(17, 100, 100).mean(axis=-1)  # 100 samples a bin
    np.testing.assert_allclose(data.covariates[..., 0].numpy(), x, rtol=1e-12)
    assert data.counts.sum() == np.sum(train.magnitude < 170.001)
