"""from_neo: Elephant-exact binning, every input type, matching units across trials, bad input."""

from __future__ import annotations

import copy
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

from elephant_fit import SpikesOutsideWindowWarning, from_neo

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


# ------------------------------------------------------------------------ issue 12: groups
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
