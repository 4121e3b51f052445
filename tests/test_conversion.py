"""from_neo / to_neo: Elephant-exact binning, every input type, round trips, bad input."""

from __future__ import annotations

import copy
import datetime
import pickle
import warnings

import neo
import numpy as np
import pytest
import quantities as pq
import torch
from elephant.trials import TrialsFromBlock, TrialsFromLists
from helpers import elephant_counts, poisson_block, same_counts, segments_as_lists
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hst
from neo.test.tools import assert_neo_object_is_compliant

import elephant_fit as ef
from elephant_fit import SpikeData, SpikesOutsideWindowWarning, from_neo, to_neo

DISCARDED = "Binning discarded"


def discarded_total(records):
    """Sum of N over "Binning discarded N last spike(s)" warnings."""
    return sum(int(str(w.message).split()[2]) for w in records if DISCARDED in str(w.message))


def binned_both(trials, bin_size, **window):
    """(ours, Elephant's) counts and discarded-spike totals on the same trials."""
    with warnings.catch_warnings(record=True) as ours_w:
        warnings.simplefilter("always")
        ours = from_neo(trials, bin_size, dtype=torch.float64, **window)
    with warnings.catch_warnings(record=True) as ref_w:
        warnings.simplefilter("always")
        reference = elephant_counts(trials, bin_size, **window)
    return ours, reference, discarded_total(ours_w), discarded_total(ref_w)


# ------------------------------------------------------------------------ reference vs Elephant
@hst.composite
def binning_cases(draw):
    """Random trials whose spikes include bin edges, the window edges and float-rounding traps."""
    unit = draw(hst.sampled_from(["s", "ms"]))
    scale = 1000.0 if unit == "ms" else 1.0
    bin_s = draw(hst.sampled_from([0.001, 0.003, 0.005, 0.007, 0.01, 0.02, 0.1, 0.25]))
    t_start = draw(hst.sampled_from([0.0, 0.5, -1.0, 0.1, 1.7]))
    duration = draw(hst.sampled_from([0.3, 1.0, 1.234, 2.0]))
    duration = max(duration, bin_s)
    n_trials = draw(hst.integers(1, 3))
    n_units = draw(hst.integers(1, 4))
    seed = draw(hst.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n_bins_max = int(duration / bin_s) + 1
    trials = []
    for _ in range(n_trials):
        trains = []
        for _ in range(n_units):
            uniform = rng.uniform(t_start, t_start + duration, rng.integers(0, 30))
            edges = t_start + rng.integers(0, n_bins_max, rng.integers(0, 6)) * bin_s
            edges = edges[edges <= t_start + duration]
            ends = [t_start + duration] * int(rng.integers(0, 2))
            times = np.sort(np.concatenate([uniform, edges, ends])) * scale
            trains.append(
                neo.SpikeTrain(
                    times, t_start=t_start * scale, t_stop=(t_start + duration) * scale, units=unit
                )
            )
        trials.append(trains)
    bin_unit = draw(hst.sampled_from(["s", "ms"]))
    bin_size = pq.Quantity(bin_s * (1000.0 if bin_unit == "ms" else 1.0), bin_unit)
    return trials, bin_size


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(binning_cases())
def test_counts_equal_binnedspiketrain_on_random_trains(case):
    trials, bin_size = case
    ours, reference, ours_discarded, ref_discarded = binned_both(trials, bin_size)
    assert same_counts(ours, reference)
    assert ours_discarded == ref_discarded


@settings(max_examples=60, deadline=None)
@given(binning_cases(), hst.floats(0.0, 0.4), hst.floats(0.0, 0.4))
def test_counts_equal_binnedspiketrain_in_a_narrower_window(case, cut_left, cut_right):
    trials, bin_size = case
    own_start, own_stop = trials[0][0].t_start, trials[0][0].t_stop
    length = own_stop - own_start
    t_start = own_start + cut_left * length
    t_stop = own_stop - cut_right * length
    if (t_stop - t_start).rescale(bin_size.units) < bin_size:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpikesOutsideWindowWarning)
        ours, reference, ours_discarded, ref_discarded = binned_both(
            trials, bin_size, t_start=t_start, t_stop=t_stop
        )
    assert same_counts(ours, reference)
    assert ours_discarded == ref_discarded


def test_three_ms_bins_over_ten_seconds(rng):
    times = np.sort(np.concatenate([rng.uniform(0, 10, 2000), np.arange(0, 3334) * 0.003]))
    train = neo.SpikeTrain(times[times <= 10], t_stop=10, units="s")
    ours, reference, ours_d, ref_d = binned_both([[train]], 3 * pq.ms)
    assert ours.n_bins == 3333
    assert same_counts(ours, reference)
    assert ours_d == ref_d


def test_spike_at_9_ms_goes_to_the_fourth_3_ms_bin():
    # 0.009 / 0.003 = 2.9999999999999996 in float64: Elephant's tolerance moves it to bin 3.
    train = neo.SpikeTrain([0.009], t_stop=0.03, units="s")
    ours, reference, _, _ = binned_both([[train]], 3 * pq.ms)
    assert same_counts(ours, reference)
    assert ours.counts[0, 3, 0] == 1


def test_tolerance_none_truncates_like_elephant():
    train = neo.SpikeTrain([0.009], t_stop=0.03, units="s")
    ours = from_neo([train], 3 * pq.ms, tolerance=None)
    from elephant.conversion import BinnedSpikeTrain

    reference = BinnedSpikeTrain(train, bin_size=3 * pq.ms, tolerance=None).to_array()
    assert np.array_equal(ours.counts[0, :, 0].numpy(), reference[0])
    assert ours.counts[0, 2, 0] == 1


def test_spikes_on_edges_and_at_t_stop_warn_like_elephant():
    times = [0.0, 0.01, 0.02, 0.05, 0.1, 0.1]
    train = neo.SpikeTrain(times, t_stop=0.1, units="s")
    with pytest.warns(UserWarning, match="Binning discarded 2 last spike"):
        ours = from_neo([train], 10 * pq.ms)
    with pytest.warns(UserWarning, match="Binning discarded 2 last spike"):
        reference = elephant_counts([[train]], 10 * pq.ms)
    assert same_counts(ours, reference)
    assert ours.counts[0, :, 0].tolist() == [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]


def test_leftover_time_shorter_than_a_bin_is_not_binned():
    train = neo.SpikeTrain([0.001, 0.0255], t_stop=0.0259, units="s")
    with pytest.warns(UserWarning, match="Binning discarded 1"):
        ours = from_neo([train], 5 * pq.ms)
    assert ours.n_bins == 5
    assert ours.t_stop == 0.0259 * pq.s
    with pytest.warns(UserWarning, match="Binning discarded 1"):
        assert same_counts(ours, elephant_counts([[train]], 5 * pq.ms))


def test_t_start_not_zero(rng):
    trains = [
        neo.SpikeTrain(np.sort(rng.uniform(-0.5, 1.5, 40)), t_start=-0.5, t_stop=1.5, units="s")
        for _ in range(3)
    ]
    ours, reference, _, _ = binned_both([trains], 7 * pq.ms)
    assert same_counts(ours, reference)
    assert ours.t_start == -0.5 * pq.s
    assert np.allclose(ours.bin_edges[0].magnitude, -0.5)


def test_trains_in_ms_with_bin_size_in_s(rng):
    block = poisson_block(rng, units="ms")
    ours = from_neo(block, 0.005 * pq.s, dtype=torch.float64)
    reference = elephant_counts(segments_as_lists(block), 0.005 * pq.s)
    assert same_counts(ours, reference)
    assert ours.units == pq.ms
    assert ours.bin_size == 5 * pq.ms


def test_trains_in_different_units_are_rescaled_to_the_first(rng):
    block = poisson_block(rng, n_trials=2, units="s")
    seconds = segments_as_lists(block)
    mixed = [list(trial) for trial in seconds]
    mixed[1] = [st.rescale("ms") for st in mixed[1]]
    mixed[0][2] = mixed[0][2].rescale("ms")
    ours = from_neo(mixed, 4 * pq.ms, dtype=torch.float64)
    as_seconds = [[st.rescale("s") for st in trial] for trial in mixed]
    assert same_counts(ours, elephant_counts(as_seconds, 4 * pq.ms))
    assert ours.units == pq.s


def test_binary_clips_counts_like_to_bool_array(rng):
    block = poisson_block(rng, rate=80.0)
    ours = from_neo(block, 50 * pq.ms, binary=True)
    reference = elephant_counts(segments_as_lists(block), 50 * pq.ms, binary=True)
    assert same_counts(ours, reference)
    assert ours.counts.max() == 1


def test_default_dtype_is_float32_and_dtype_is_configurable(rng):
    block = poisson_block(rng)
    assert from_neo(block, 5 * pq.ms).dtype == torch.float32
    assert from_neo(block, 5 * pq.ms, dtype=torch.int64).dtype == torch.int64
    half = from_neo(block, 5 * pq.ms, dtype=torch.bfloat16)
    assert torch.equal(half.counts.float(), from_neo(block, 5 * pq.ms).counts)


# ------------------------------------------------------------------------ accepted input types
def reference_data(block, bin_size=5 * pq.ms):
    return elephant_counts(segments_as_lists(block), bin_size)


def test_block_with_groups(rng):
    block = poisson_block(rng, key=None)
    data = from_neo(block, 5 * pq.ms)
    assert data.unit_ids == ("u0", "u1", "u2", "u3")
    assert data.n_trials == 3
    assert same_counts(data, reference_data(block))
    assert data.trial_annotations[1] == {"condition": 1}
    assert data.annotations == {"session": "s1"}


def test_groups_define_units_even_when_trials_are_shuffled(rng):
    block = poisson_block(rng, key=None)
    expected = from_neo(block, 5 * pq.ms)
    block.segments[1].spiketrains = block.segments[1].spiketrains[::-1]
    for st in block.segments[1].spiketrains:
        st.name = None
    assert from_neo(block, 5 * pq.ms) == expected


def test_units_matched_by_unit_id_annotation_across_shuffled_trials(rng):
    block = poisson_block(rng, groups=False)
    expected = reference_data(block)
    trials = segments_as_lists(block)
    trials[2] = trials[2][::-1]
    data = from_neo(trials, 5 * pq.ms)
    assert data.unit_ids == ("u0", "u1", "u2", "u3")
    assert same_counts(data, expected)


def test_units_matched_by_channel_id_then_name_then_position(rng):
    block = poisson_block(rng, groups=False, key="channel_id")
    assert from_neo(block, 5 * pq.ms).unit_ids == ("u0", "u1", "u2", "u3")
    block = poisson_block(rng, groups=False, key=None)
    assert from_neo(block, 5 * pq.ms).unit_ids == ("u0", "u1", "u2", "u3")
    for segment in block.segments:
        for st in segment.spiketrains:
            st.name = None
    data = from_neo(block, 5 * pq.ms)
    assert data.unit_ids == (0, 1, 2, 3)
    assert same_counts(data, reference_data(block))


def test_unit_key_selects_the_annotation(rng):
    block = poisson_block(rng, groups=False, key="electrode")
    data = from_neo(block, 5 * pq.ms, unit_key="electrode")
    assert data.unit_ids == ("u0", "u1", "u2", "u3")
    assert data.unit_annotations[0] == {"electrode": "u0"}


def test_segment_is_one_trial(rng):
    block = poisson_block(rng)
    data = from_neo(block.segments[1], 5 * pq.ms)
    assert data.n_trials == 1
    assert data.trial_annotations == ({"condition": 1},)
    assert np.array_equal(data.counts[0].double().numpy(), reference_data(block)[1])


def test_list_of_spiketrains_is_one_trial_and_single_train_is_accepted(rng):
    block = poisson_block(rng)
    trains = list(block.segments[0].spiketrains)
    data = from_neo(trains, 5 * pq.ms)
    assert data.counts.shape == (1, 400, 4)
    single = from_neo(trains[0], 5 * pq.ms)
    assert single.counts.shape == (1, 400, 1)
    assert torch.equal(single.counts[..., 0], data.counts[..., 0])


def test_list_of_lists_and_elephant_trials(rng):
    block = poisson_block(rng)
    expected = from_neo(block, 5 * pq.ms)
    lists = segments_as_lists(block)
    assert torch.equal(from_neo(lists, 5 * pq.ms).counts, expected.counts)
    assert from_neo(TrialsFromBlock(block), 5 * pq.ms) == expected
    from_lists = from_neo(TrialsFromLists(lists), 5 * pq.ms)
    assert torch.equal(from_lists.counts, expected.counts)
    assert from_lists.unit_ids == expected.unit_ids


@pytest.mark.parametrize("suffix", ["pkl", "nix", "mat"])
def test_path_to_a_file_neo_reads(rng, tmp_path, suffix):
    block = poisson_block(rng)
    expected = from_neo(block, 5 * pq.ms)
    path = tmp_path / f"rec.{suffix}"
    if suffix == "pkl":
        neo.io.PickleIO(str(path)).write_block(block)
    elif suffix == "mat":
        neo.io.NeoMatlabIO(str(path)).write_block(block)
    else:
        with neo.io.NixIO(str(path), mode="ow") as io:
            io.write_block(copy.deepcopy(block))
    assert from_neo(path, 5 * pq.ms) == expected
    assert from_neo(str(path), 5 * pq.ms) == expected


def test_hidden_annotation_becomes_the_hidden_flag(rng):
    block = poisson_block(rng, groups=False)
    for segment in block.segments:
        segment.spiketrains[3].annotate(hidden=True)
    data = from_neo(block, 5 * pq.ms)
    assert data.hidden.tolist() == [False, False, False, True]
    assert "hidden" not in data.unit_annotations[3]


def test_inputs_are_not_modified(rng):
    block = poisson_block(rng)
    before = pickle.dumps(block)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_neo(block, 5 * pq.ms, t_start=0.1 * pq.s, t_stop=1.5 * pq.s)
        from_neo(segments_as_lists(block), 5 * pq.ms, binary=True)
    assert pickle.dumps(block) == before


def test_spikes_outside_an_explicit_window_warn(rng):
    block = poisson_block(rng)
    with pytest.warns(SpikesOutsideWindowWarning, match="outside the window"):
        data = from_neo(block, 10 * pq.ms, t_start=0.5 * pq.s, t_stop=1.5 * pq.s)
    assert data.n_bins == 100
    assert same_counts(
        data,
        elephant_counts(segments_as_lists(block), 10 * pq.ms, 0.5 * pq.s, 1.5 * pq.s),
    )


def test_common_window_allows_trials_with_different_extents(rng):
    trials = [
        [neo.SpikeTrain([0.2, 0.7], t_start=0.0, t_stop=1.0, units="s")],
        [neo.SpikeTrain([0.3, 1.1], t_start=0.1, t_stop=1.2, units="s")],
    ]
    with pytest.warns(SpikesOutsideWindowWarning):
        data = from_neo(trials, 100 * pq.ms, t_start=0.1 * pq.s, t_stop=1.0 * pq.s)
    assert data.n_bins == 9
    assert data.counts.sum() == 3


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


def test_nix_round_trip_loses_nothing(tmp_path, rng):
    counts = rng.poisson(0.7, (3, 40, 4)).astype(np.float32)
    data = SpikeData(
        counts,
        5 * pq.ms,
        t_start=0.25 * pq.s,
        unit_ids=["a", 7, "c", "d"],
        unit_annotations=[{"area": "V1"}, {"depth": 3.5}, {}, {"quality": "good"}],
        trial_annotations=[{"stimulus": f"s{k}"} for k in range(3)],
        hidden=[False, False, True, False],
        annotations={"session": "2026-11-28"},
    )
    path = tmp_path / "model.nix"
    with neo.io.NixIO(str(path), mode="ow") as io:
        io.write_block(to_neo(data, include_hidden=True))
    assert from_neo(path, data.bin_size) == data
    block = ef.read_block(path)
    assert_neo_object_is_compliant(block)
    assert block.segments[0].spiketrains[1].annotations["depth"] == 3.5


def test_nwb_round_trip_keeps_counts_ids_and_window(tmp_path, rng):
    pytest.importorskip("pynwb")
    counts = rng.poisson(0.7, (3, 40, 4)).astype(np.float32)
    data = SpikeData(
        counts,
        5 * pq.ms,
        t_start=0.25 * pq.s,
        unit_ids=["a", "b", "c", "d"],
        trial_annotations=[{"stimulus": f"s{k}"} for k in range(3)],
    )
    block = to_neo(data)
    block.segments[1].name = None
    with pytest.warns(UserWarning, match="NWB writer does not store.*Segment 'stimulus'"):
        path = ef.write_block(block, tmp_path / "rec.nwb")
    assert block.segments[1].name is None  # the caller's Block is not modified
    back = from_neo(path, data.bin_size)
    assert torch.equal(back.counts, data.counts)
    assert back.unit_ids == data.unit_ids
    assert back.t_start == data.t_start
    assert back.t_stop == data.t_stop
    assert back.trial_annotations == ({}, {}, {})  # what NWB drops, as warned
    start = datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    block.rec_datetime = start
    with pytest.warns(UserWarning, match="NWB writer"):
        ef.write_block(block, path)
    assert ef.read_block(path).annotations["session_start_time"] == start


def test_to_neo_rejects_non_spikedata_and_hidden_only():
    with pytest.raises(TypeError, match="`data`"):
        to_neo(np.zeros((1, 2, 3)))
    data = SpikeData(np.ones((1, 2, 1)), 1 * pq.ms, hidden=[True])
    with pytest.raises(ValueError, match="include_hidden"):
        to_neo(data)


# ------------------------------------------------------------------------ bad input
def train(times=(0.1,), t_start=0.0, t_stop=1.0, **annotations):
    return neo.SpikeTrain(list(times), t_start=t_start, t_stop=t_stop, units="s", **annotations)


BAD_INPUTS = [
    ("bin_size float", lambda: from_neo([train()], 0.005), TypeError, "`bin_size`.*time quantity"),
    (
        "bin_size in mV",
        lambda: from_neo([train()], 5 * pq.mV),
        TypeError,
        "`bin_size`.*not a unit of time",
    ),
    ("bin_size zero", lambda: from_neo([train()], 0 * pq.ms), ValueError, "`bin_size`.*positive"),
    (
        "bin_size negative",
        lambda: from_neo([train()], -1 * pq.ms),
        ValueError,
        "`bin_size`.*positive",
    ),
    (
        "bin_size array",
        lambda: from_neo([train()], [1, 2] * pq.ms),
        ValueError,
        "`bin_size`.*scalar",
    ),
    ("bin_size nan", lambda: from_neo([train()], np.nan * pq.ms), ValueError, "`bin_size`.*finite"),
    ("window < bin", lambda: from_neo([train()], 2 * pq.s), ValueError, "at least one bin"),
    (
        "t_stop <= t_start",
        lambda: from_neo([train()], 1 * pq.ms, t_start=0.5 * pq.s, t_stop=0.5 * pq.s),
        ValueError,
        "`t_stop` > `t_start`",
    ),
    ("t_start float", lambda: from_neo([train()], 1 * pq.ms, t_start=0.1), TypeError, "`t_start`"),
    (
        "window outside the trains",
        lambda: from_neo([train()], 1 * pq.ms, t_stop=2 * pq.s),
        ValueError,
        "`t_stop`.*inside every spike train",
    ),
    ("empty Block", lambda: from_neo(neo.Block(), 1 * pq.ms), ValueError, "no Segment"),
    ("empty Segment", lambda: from_neo(neo.Segment(), 1 * pq.ms), ValueError, "trial 0 has none"),
    ("empty list", lambda: from_neo([], 1 * pq.ms), ValueError, "empty list"),
    (
        "different units per trial",
        lambda: from_neo(
            [[train(unit_id=1), train(unit_id=2)], [train(unit_id=1), train(unit_id=3)]], 1 * pq.ms
        ),
        ValueError,
        r"trial 1 lacks \[2\] and has \[3\]",
    ),
    (
        "unit twice",
        lambda: from_neo([[train(unit_id=1), train(unit_id=1)]], 1 * pq.ms),
        ValueError,
        "holds unit 1 .* twice",
    ),
    (
        "different counts by position",
        lambda: from_neo([[train(), train()], [train()]], 1 * pq.ms),
        ValueError,
        "trial 1 has 1",
    ),
    (
        "different t_start",
        lambda: from_neo([[train()], [train(t_start=0.05)]], 1 * pq.ms),
        ValueError,
        "share t_start.*common window",
    ),
    (
        "different t_stop",
        lambda: from_neo([[train()], [train(t_stop=0.9)]], 1 * pq.ms),
        ValueError,
        "share t_stop",
    ),
    (
        "nan spike",
        lambda: from_neo([train(times=[0.1, np.nan])], 1 * pq.ms),
        ValueError,
        "NaN or inf",
    ),
    (
        "unsupported type",
        lambda: from_neo(np.zeros(3), 1 * pq.ms),
        TypeError,
        "Expected `obj`.*ndarray",
    ),
    ("dict", lambda: from_neo({"a": 1}, 1 * pq.ms), TypeError, "Expected `obj`"),
    ("mixed list", lambda: from_neo([train(), 3], 1 * pq.ms), TypeError, "items are"),
    (
        "list of lists with junk",
        lambda: from_neo([[train()], [train(), "x"]], 1 * pq.ms),
        TypeError,
        r"`obj\[1\]`",
    ),
    (
        "missing file",
        lambda: from_neo("/no/such/file.nix", 1 * pq.ms),
        FileNotFoundError,
        "does not exist",
    ),
    (
        "missing unit_key",
        lambda: from_neo([train(unit_id=1)], 1 * pq.ms, unit_key="electrode"),
        ValueError,
        "'electrode'",
    ),
    ("dtype", lambda: from_neo([train()], 1 * pq.ms, dtype="float32"), TypeError, "`dtype`"),
    ("dtype bool", lambda: from_neo([train()], 1 * pq.ms, dtype=torch.bool), TypeError, "`dtype`"),
]


@pytest.mark.parametrize(
    ("label", "call", "error", "match"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_raises_a_clear_error(label, call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_unreadable_and_unknown_files(tmp_path):
    unknown = tmp_path / "notes.xyz123"
    unknown.write_text("hello")
    with pytest.raises(ValueError, match="no reader"):
        from_neo(unknown, 1 * pq.ms)
    corrupt = tmp_path / "broken.nix"
    corrupt.write_bytes(b"this is not an HDF5 file")
    with pytest.raises(ValueError, match="could not read"):
        from_neo(corrupt, 1 * pq.ms)


def test_group_membership_errors(rng):
    block = poisson_block(rng, key=None)
    block.groups[0].spiketrains.append(block.segments[0].spiketrains[1])
    with pytest.raises(ValueError, match=r"belong to one neo\.Group"):
        from_neo(block, 5 * pq.ms)
    block = poisson_block(rng, key=None)
    extra = train(t_stop=2.0)
    block.segments[1].spiketrains.append(extra)
    with pytest.raises(ValueError, match="belongs to none"):
        from_neo(block, 5 * pq.ms)
    block = poisson_block(rng, key=None)
    block.segments[2].spiketrains.pop(0)
    with pytest.raises(ValueError, match="trial 2 lacks groups"):
        from_neo(block, 5 * pq.ms)


def test_write_block_rejects_unknown_suffixes(tmp_path):
    from elephant_fit.data.conversion import write_block

    with pytest.raises(ValueError, match="ending in one of"):
        write_block(neo.Block(), tmp_path / "x.txt")


# ------------------------------------------------------------------------ issue 12: files, groups
def test_groups_sharing_a_unit_id_are_refused(rng):
    block = poisson_block(rng, key=None)
    for group in block.groups:
        group.annotations["unit_id"] = 7
    with pytest.raises(ValueError, match=r"groups 'u0' \(position 0\) and 'u1' \(position 1\)"):
        from_neo(block, 5 * pq.ms)
    block.groups[1].annotations["unit_id"] = [1]
    with pytest.raises(TypeError, match="hashable"):
        from_neo(block, 5 * pq.ms)


def test_groups_with_duplicate_names_and_no_unit_id_are_numbered(rng):
    block = poisson_block(rng, key=None)
    for group in block.groups:
        del group.annotations["unit_id"]
        group.name = "unit"
    assert from_neo(block, 5 * pq.ms).unit_ids == (0, 1, 2, 3)


def test_nix_warns_about_annotations_it_changes_and_refuses_none(tmp_path, rng):
    from elephant_fit.data.conversion import write_block

    block = poisson_block(rng)
    block.annotate(config={"a": 1, "b": {"c": 2}}, ok=[1, 2])
    block.annotations["tags"] = {"x"}  # annotate() refuses sets; the dict does not
    block.segments[0].annotate(pairs=[[1, 2], [3, 4]])
    block.groups[0].annotate(matrix=np.eye(2))
    path = tmp_path / "rec.nix"
    with pytest.warns(UserWarning, match="NIX does not store") as caught:
        write_block(block, path)
    message = str(caught[0].message)
    for name in (
        "Block 'config' (a dict)",
        "Block 'tags' (a set)",
        "Segment 'pairs' (a nested container)",
        "Group 'matrix' (a multidimensional array)",
    ):
        assert name in message
    assert "'ok'" not in message
    assert "'session'" not in message
    assert ef.read_block(path).annotations["config"] != {"a": 1, "b": {"c": 2}}  # what NIX did
    block = poisson_block(rng)
    block.segments[1].annotate(stimulus=None)
    with pytest.raises(ValueError, match=r"None annotations: Segment 'stimulus'"):
        write_block(block, tmp_path / "none.nix")
    assert not (tmp_path / "none.nix").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_block(poisson_block(rng), tmp_path / "plain.nix")  # nothing to warn about


def test_read_block_refuses_a_pickle_that_names_a_function(tmp_path):
    from elephant_fit.errors import UnsafeFileError

    path = tmp_path / "evil.pkl"
    path.write_bytes(b"cbuiltins\nprint\n(S'pwned'\ntR.")
    with pytest.raises(UnsafeFileError, match=r"builtins\.print"):
        ef.read_block(path)
