"""Bundled retina recordings as Neo Blocks."""

from __future__ import annotations

import numpy as np
import pytest
import quantities as pq
from neo.test.tools import assert_neo_object_is_compliant

from elephant_fit import from_neo
from elephant_fit.data.datasets import RETINA_CITATION, load_retina


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
