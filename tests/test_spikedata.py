"""SpikeData: construction, time axis, selection, splitting, devices, bad input."""

from __future__ import annotations

import neo
import numpy as np
import pytest
import quantities as pq
import torch
from elephant.conversion import BinnedSpikeTrain

from elephant_fit import SpikeData, from_neo, to_neo


@pytest.fixture
def data(rng):
    counts = rng.poisson(0.5, (6, 10, 4)).astype(np.float32)
    return SpikeData(
        counts,
        5 * pq.ms,
        t_start=0.1 * pq.s,
        t_stop=0.152 * pq.s,
        unit_ids=["a", "b", "c", "d"],
        unit_annotations=[{"area": x} for x in "WXYZ"],
        trial_annotations=[{"trial": k} for k in range(6)],
        hidden=[False, False, True, False],
        annotations={"session": 1},
    )


def test_sizes_and_time_axis(data):
    assert (data.n_trials, data.n_bins, data.n_neurons) == (6, 10, 4)
    assert (data.n_hidden, data.n_recorded) == (1, 3)
    assert len(data) == 6
    assert data.units == pq.s
    assert data.bin_size == 0.005 * pq.s
    assert data.t_start == 0.1 * pq.s
    assert data.t_stop == 0.152 * pq.s
    assert data.bin_edges.shape == (11,)
    assert data.bin_centers.shape == (10,)
    assert "SpikeData(n_trials=6" in repr(data)


def test_bin_edges_and_centers_equal_binnedspiketrain():
    train = neo.SpikeTrain([0.5], t_start=0.1, t_stop=3.0, units="s")
    binned = BinnedSpikeTrain(train, bin_size=7 * pq.ms)
    data = SpikeData(np.zeros((1, binned.n_bins, 1)), 7 * pq.ms, 0.1 * pq.s, 3.0 * pq.s)
    assert np.array_equal(data.bin_edges.rescale("s").magnitude, binned.bin_edges.magnitude)
    assert np.array_equal(data.bin_centers.rescale("s").magnitude, binned.bin_centers.magnitude)


def test_defaults():
    data = SpikeData(torch.ones(2, 3, 2), 10 * pq.ms)
    assert data.unit_ids == (0, 1)
    assert data.t_start == 0 * pq.ms
    assert data.t_stop == 30 * pq.ms
    assert data.hidden.tolist() == [False, False]
    assert data.trial_annotations == ({}, {})


def test_bool_counts_become_float():
    data = SpikeData(np.ones((1, 2, 1), dtype=bool), 1 * pq.ms)
    assert data.dtype == torch.float32


def test_select_trials_by_int_slice_list_and_mask(data):
    assert data[2].n_trials == 1
    assert torch.equal(data[2].counts[0], data.counts[2])
    assert data[2].trial_annotations == ({"trial": 2},)
    assert data[-1].trial_annotations == ({"trial": 5},)
    assert data[1:4].n_trials == 3
    assert [a["trial"] for a in data[[5, 0]].trial_annotations] == [5, 0]
    mask = np.array([True, False] * 3)
    assert [a["trial"] for a in data.select_trials(mask).trial_annotations] == [0, 2, 4]
    assert data.select_trials(torch.tensor([1, 3])).n_trials == 2


def test_select_units_by_ids_and_mask(data):
    sub = data.select_units(["d", "a"])
    assert sub.unit_ids == ("d", "a")
    assert torch.equal(sub.counts, data.counts[..., [3, 0]])
    assert sub.unit_annotations == ({"area": "Z"}, {"area": "W"})
    rec = data.recorded()
    assert rec.unit_ids == ("a", "b", "d")
    assert rec.n_hidden == 0
    assert data.select_units(np.array([True, False, False, True])).unit_ids == ("a", "d")


def test_selection_never_changes_the_original(data):
    before = data.counts.clone()
    sub = data.select_units(["a"])[0]
    sub.counts.add_(1)  # a selection is a copy, not a view
    assert torch.equal(data.counts, before)
    assert data.unit_ids == ("a", "b", "c", "d")


def test_split_is_disjoint_complete_and_seeded(data):
    train, test = data.split(0.34, seed=3)
    trials = [a["trial"] for a in train.trial_annotations + test.trial_annotations]
    assert sorted(trials) == list(range(6))
    assert test.n_trials == 2
    again = data.split(0.34, seed=3)
    assert again[0] == train
    assert again[1] == test
    assert any(data.split(0.5, seed=s)[1] != data.split(0.5, seed=0)[1] for s in range(1, 10))


def test_split_keeps_at_least_one_trial_on_each_side(data):
    train, test = data.split(0.01, seed=0)
    assert test.n_trials == 1
    train, test = data.split(0.99, seed=0)
    assert train.n_trials == 1


def test_to_changes_dtype_and_keeps_metadata(data):
    double = data.to(dtype=torch.float64)
    assert double.dtype == torch.float64
    assert double == data
    assert data.dtype == torch.float32


@pytest.mark.gpu
def test_to_cuda_and_back(data):
    cuda = data.to(device="cuda")
    assert cuda.device.type == "cuda"
    assert cuda[1:3].device.type == "cuda"
    assert cuda.to(device="cpu") == data


def test_equality(data):
    assert data == data.to(dtype=torch.float64)
    other = SpikeData(data.counts.clone(), 5 * pq.ms, 0.1 * pq.s, 0.152 * pq.s)
    assert other != data
    assert (data == 3) is False


def test_inputs_are_copied(rng):
    counts = rng.poisson(1.0, (2, 3, 1)).astype(np.float32)
    annotations = [{"x": [1, 2]}]
    data = SpikeData(counts, 1 * pq.ms, unit_annotations=annotations)
    annotations[0]["x"].append(3)
    assert data.unit_annotations[0] == {"x": [1, 2]}


BAD = [
    ("counts list", {"counts": [[[1]]]}, TypeError, "`counts`"),
    ("counts 2-D", {"counts": np.zeros((3, 4))}, ValueError, r"\(n_trials, n_bins, n_neurons\)"),
    ("counts empty", {"counts": np.zeros((0, 4, 2))}, ValueError, "non-empty"),
    ("counts negative", {"counts": -np.ones((1, 2, 1))}, ValueError, "non-negative"),
    ("counts fractional", {"counts": np.full((1, 2, 1), 0.5)}, ValueError, "whole numbers"),
    ("counts nan", {"counts": np.full((1, 2, 1), np.nan)}, ValueError, "whole numbers"),
    ("bin_size number", {"bin_size": 0.001}, TypeError, "`bin_size`"),
    ("bin_size zero", {"bin_size": 0 * pq.s}, ValueError, "`bin_size`"),
    ("t_start unitless", {"t_start": pq.Quantity(1.0)}, TypeError, "`t_start`"),
    ("t_stop mismatched", {"t_stop": 1 * pq.s}, ValueError, "Expected `counts` to have 1000 bins"),
    ("unit_ids length", {"unit_ids": ["a"]}, ValueError, "`unit_ids`.*2 ids"),
    ("unit_ids duplicates", {"unit_ids": ["a", "a"]}, ValueError, "unique"),
    ("unit_ids unhashable", {"unit_ids": [[1], [2]]}, TypeError, "hashable"),
    ("hidden length", {"hidden": [True]}, ValueError, "`hidden`"),
    ("hidden ints", {"hidden": [1, 0]}, ValueError, "`hidden`"),
    ("trial annotations", {"trial_annotations": [{}]}, ValueError, "`trial_annotations`"),
]


@pytest.mark.parametrize(("label", "changes", "error", "match"), BAD, ids=[b[0] for b in BAD])
def test_bad_construction(label, changes, error, match):
    kwargs = {"counts": np.zeros((3, 4, 2)), "bin_size": 1 * pq.ms}
    kwargs.update(changes)
    with pytest.raises(error, match=match):
        SpikeData(**kwargs)


BAD_SELECTIONS = [
    ("trial out of range", lambda d: d[6], IndexError, "out of range"),
    ("trial float", lambda d: d[[0.5]], TypeError, "`index`"),
    ("trial bool scalar", lambda d: d[True], TypeError, "`index`"),
    ("empty selection", lambda d: d[[]], ValueError, "at least one"),
    ("mask wrong length", lambda d: d.select_trials(np.array([True, False])), ValueError, "shape"),
    ("unknown unit", lambda d: d.select_units(["zz"]), ValueError, "unknown id"),
    ("unit twice", lambda d: d.select_units(["a", "a"]), ValueError, "each unit once"),
    ("units as str", lambda d: d.select_units("a"), TypeError, "`units`"),
    ("fraction 0", lambda d: d.split(0.0), ValueError, "`test_fraction`"),
    ("fraction str", lambda d: d.split("0.2"), TypeError, "`test_fraction`"),
    ("split one trial", lambda d: d[0].split(0.5), ValueError, "at least 2 trials"),
    ("dtype str", lambda d: d.to(dtype="float64"), TypeError, "`dtype`"),
]


@pytest.mark.parametrize(
    ("label", "call", "error", "match"), BAD_SELECTIONS, ids=[b[0] for b in BAD_SELECTIONS]
)
def test_bad_selection(data, label, call, error, match):
    with pytest.raises(error, match=match):
        call(data)


def test_without_drops_conditions_or_covariates_and_shares_the_counts():
    covariates = torch.rand(4, 5, 2, dtype=torch.float64)
    data = SpikeData(
        torch.ones(4, 5, 3),
        10 * pq.ms,
        conditions=["a", "b", "a", "b"],
        covariates=covariates,
        covariate_names=["x", "y"],
    )
    plain = data.without(conditions=True)
    assert plain.conditions is None
    assert plain.n_conditions == 1
    assert plain.covariate_names == ("x", "y")
    assert all("condition" not in a for a in plain.trial_annotations)  # to_neo writes none
    assert from_neo(to_neo(plain), 10 * pq.ms).n_conditions == 1
    bare = data.without(conditions=True, covariates=True)
    assert bare.covariates is None
    assert bare.covariate_names == ()
    assert bare.counts is data.counts  # nothing copied, nothing modified
    assert list(data.conditions) == ["a", "b", "a", "b"]
    assert data.without() == data
