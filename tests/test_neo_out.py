"""to_neo: the Block's structure, Elephant consuming it, round trips through from_neo, bad input."""

from __future__ import annotations

import neo
import numpy as np
import pytest
import quantities as pq
import torch
from hypothesis import given, settings
from hypothesis import strategies as hst
from neo.test.tools import assert_neo_object_is_compliant

from elephant_fit import SpikeData, from_neo, to_neo
from elephant_fit.data.neo_out import _spike_times


# ------------------------------------------------------------------------ to_neo and round trips
@hst.composite
def spike_data(draw):
    n_trials, n_bins, n_neurons = (draw(hst.integers(1, 4)) for _ in range(3))
    seed = draw(hst.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    counts = rng.poisson(draw(hst.sampled_from([0.05, 0.5, 3.0])), (n_trials, n_bins, n_neurons))
    unit = draw(hst.sampled_from(["s", "ms"]))
    bin_size = pq.Quantity(draw(hst.sampled_from([0.001, 0.003, 0.01, 0.02])), "s").rescale(unit)
    t_start = pq.Quantity(draw(hst.sampled_from([0.0, -0.25, 1.5])), "s").rescale(unit)
    leftover = draw(hst.sampled_from([0.0, 0.4]))
    t_stop = t_start + (n_bins + leftover) * bin_size
    hidden = rng.random(n_neurons) < 0.3
    return SpikeData(
        counts.astype(np.float32),
        bin_size,
        t_start=t_start,
        t_stop=t_stop,
        unit_ids=[f"n{j}" for j in range(n_neurons)],
        unit_annotations=[{"area": "CA1", "index": j} for j in range(n_neurons)],
        trial_annotations=[{"trial": k} for k in range(n_trials)],
        hidden=hidden,
        annotations={"animal": "m3"},
    )


@settings(max_examples=60, deadline=None)
@given(spike_data())
def test_round_trip_from_neo_of_to_neo_is_exact(data):
    block = to_neo(data, include_hidden=True)
    assert_neo_object_is_compliant(block)
    back = from_neo(block, data.bin_size)
    assert back == data
    if data.n_recorded:
        assert from_neo(to_neo(data), data.bin_size) == data.recorded()


@settings(max_examples=30, deadline=None)
@given(spike_data())
def test_each_train_equals_neos_constructor_and_owns_its_objects(data):
    # to_neo slices one SpikeTrain of all spikes: each train must be what the constructor gives
    block = to_neo(data, include_hidden=True)
    times, per_train = _spike_times(data)  # each train's own constructor call, as before
    expected = iter(np.split(times, np.cumsum(per_train)[:-1]))
    for segment in block.segments:
        for st in segment.spiketrains:
            reference = neo.SpikeTrain(
                next(expected),
                t_start=data.t_start,
                t_stop=data.t_stop,
                units=data.units,
                name=st.name,
                **st.annotations,
            )
            assert type(st) is neo.SpikeTrain
            assert st.dtype == reference.dtype
            assert st.units == reference.units
            assert st.t_start.units == reference.t_start.units
            np.testing.assert_array_equal(st.magnitude, reference.magnitude)
            assert st.t_start == reference.t_start
            assert st.t_stop == reference.t_stop
            assert st.sampling_rate == reference.sampling_rate
            assert dict(st.array_annotations) == dict(reference.array_annotations) == {}
            assert st.segment is segment
            assert st.base is None
    trains = [st for segment in block.segments for st in segment.spiketrains]
    first, others = trains[0], trains[1:]
    first.annotate(touched=True)
    first.t_start -= 1 * pq.s
    for st in others:
        assert "touched" not in st.annotations
        assert st.t_start == data.t_start


def test_to_neo_structure(rng):
    counts = np.zeros((2, 5, 3), dtype=np.float32)
    counts[0, 1, 2] = 3
    counts[1, 4, 0] = 1
    data = SpikeData(
        counts, 10 * pq.ms, t_start=1 * pq.s, unit_ids=[4, 5, 6], hidden=[False, False, True]
    )
    block = to_neo(data, include_hidden=True)
    assert len(block.segments) == 2
    assert [g.annotations["unit_id"] for g in block.groups] == [4, 5, 6]
    assert block.groups[2].annotations["hidden"] is True
    train = block.segments[0].spiketrains[2]
    assert train.t_start == 1 * pq.s
    assert train.t_stop == 1.05 * pq.s
    assert train.units == pq.s
    assert len(train) == 3
    assert np.all((train.magnitude > 1.01) & (train.magnitude < 1.02))
    assert all(len(g.spiketrains) == 2 for g in block.groups)
    assert block.groups[0].spiketrains[1] is block.segments[1].spiketrains[0]
    assert len(to_neo(data).groups) == 2


def test_to_neo_output_is_consumed_by_elephant(rng):
    from elephant.statistics import time_histogram

    counts = rng.poisson(0.4, (5, 20, 3)).astype(np.float32)
    data = SpikeData(counts, 20 * pq.ms)
    block = to_neo(data)
    histogram = time_histogram(block.segments[0].spiketrains, 20 * pq.ms)
    assert np.array_equal(histogram.magnitude[:, 0], counts[0].sum(axis=1))


def test_to_neo_rejects_non_spikedata_and_hidden_only():
    with pytest.raises(TypeError, match="`data`"):
        to_neo(np.zeros((1, 2, 3)))
    data = SpikeData(np.ones((1, 2, 1)), 1 * pq.ms, hidden=[True])
    with pytest.raises(ValueError, match="include_hidden"):
        to_neo(data)


@pytest.mark.parametrize("suffix", [".nix", ".pkl"])
def test_conditions_and_covariates_survive_a_file_round_trip(tmp_path, suffix):
    from elephant_fit import read_block, write_block

    pytest.importorskip("nixio")
    generator = torch.Generator().manual_seed(0)
    data = SpikeData(
        torch.bernoulli(torch.full((4, 6, 2), 0.4), generator=generator),
        10 * pq.ms,
        conditions=["grating_0", "grating_90", "grating_90", "grating_0"],
        covariates=torch.rand(4, 6, 1, generator=generator, dtype=torch.float64),
        covariate_names=["running_speed"],
    )
    path = write_block(to_neo(data), tmp_path / f"session{suffix}")
    block = read_block(path)
    assert [s.annotations["condition"] for s in block.segments] == list(data.conditions)
    back = from_neo(block, 10 * pq.ms, condition="condition", covariates=["running_speed"])
    assert back.counts.equal(data.counts)
    assert list(back.conditions) == list(data.conditions)
    torch.testing.assert_close(back.covariates, data.covariates, rtol=1e-12, atol=0)
