"""ISI statistics and Fano factors: functional layer and Elephant compat twins."""

from __future__ import annotations

import math
import re
import warnings

import elephant.statistics as es
import neo
import numpy as np
import pytest
import quantities as pq
import scipy.stats
import torch
from elephant.trials import TrialsFromBlock, TrialsFromLists
from helpers import poisson_block

from elephant_fit.compat import _variability as compat
from elephant_fit.statistics._padding import pad_spike_times
from elephant_fit.statistics._safe import clipped_sqrt
from elephant_fit.statistics.variability import (
    _pairwise_sum,
    cv,
    cv2,
    fanofactor,
    fanofactor_windows,
    isi,
    lv,
    lvr,
    window_counts,
)

RTOL = 1e-12  # float64 reference comparisons: only summation order differs
INTERVAL_STATISTICS = {"cv": cv, "cv2": cv2, "lv": lv, "lvr": lvr}


def error_of(call, *args, **kwargs):
    """The exception ``call`` raises (the test fails if it raises none)."""
    try:
        call(*args, **kwargs)
    except Exception as exc:  # any error of the reference is the expectation
        return exc
    pytest.fail(f"{call.__name__} raised nothing")


def elephant_interval_statistic(name, intervals):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "cv":
            return es.cv(intervals) if len(intervals) else np.nan
        if name == "lvr":
            return es.lvr(intervals * pq.ms, with_nan=True)
        return getattr(es, name)(intervals, with_nan=True)


@pytest.fixture
def trains(rng):
    """Spike times in ms, including trains too short for every statistic."""
    sizes = (0, 1, 2, 3, 7, 40, 120)
    return [np.sort(rng.uniform(0, 2000, n)) for n in sizes]


@pytest.fixture
def padded(trains):
    return pad_spike_times(trains)


# ------------------------------------------------------------------------------------ functional
def test_isi_is_diff_with_mask(trains, padded):
    intervals, mask = isi(*padded)
    assert intervals.shape == (len(trains), max(map(len, trains)) - 1)
    for k, train in enumerate(trains):
        np.testing.assert_array_equal(intervals[k][mask[k]].numpy(), np.diff(train))
    assert isi(padded[0])[1].all()
    assert isi(torch.zeros(3, 0, dtype=torch.float64))[0].shape == (3, 0)


@pytest.mark.parametrize("name", INTERVAL_STATISTICS)
def test_interval_statistics_match_elephant(trains, padded, name):
    values = INTERVAL_STATISTICS[name](*isi(*padded))
    expected = [elephant_interval_statistic(name, np.diff(t)) for t in trains]
    np.testing.assert_allclose(values.numpy(), expected, rtol=RTOL)
    assert torch.isnan(values[:2]).all()


@pytest.mark.parametrize("name", INTERVAL_STATISTICS)
def test_interval_statistics_batched_equal_looped(trains, padded, name):
    fn = INTERVAL_STATISTICS[name]
    intervals, mask = isi(*padded)
    batch = fn(torch.stack([intervals, 2 * intervals]), torch.stack([mask, mask]))
    for k, train in enumerate(trains):
        single = fn(torch.from_numpy(np.diff(train)).unsqueeze(0))
        torch.testing.assert_close(batch[0, k : k + 1], single, equal_nan=True)
    if name != "lvr":  # scale invariant (LvR is not, through R)
        torch.testing.assert_close(batch[1], batch[0], equal_nan=True)


def test_lvr_refractoriness_in_interval_units(trains):
    intervals = np.diff(trains[-1])
    for R in (0.0, 5.0, 12.5):
        ours = lvr(torch.from_numpy(intervals), R=R).item()
        assert ours == pytest.approx(es.lvr(intervals * pq.ms, R=R * pq.ms), rel=RTOL)
    seconds = lvr(torch.from_numpy(intervals / 1000), R=0.005).item()
    assert seconds == pytest.approx(lvr(torch.from_numpy(intervals)).item(), rel=RTOL)


@pytest.mark.parametrize("ddof", [0, 1, 2])
def test_cv_matches_scipy_including_edge_cases(ddof):
    rows = [
        [1.0, 2.0, 4.0],
        [3.0, 3.0, 3.0],
        [-1.0, 1.0, 2.0],
        [-1.0, 1.0, 0.0],
        [0.0, 0.0, 0.0],
        [2.0, np.nan, 1.0],
        [5.0, 7.0, 0.0],  # padded: two values
        [5.0, 5.0, 0.0],
    ]
    values = torch.tensor(rows, dtype=torch.float64)
    mask = torch.ones_like(values, dtype=torch.bool)
    mask[-2:, 2] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = [scipy.stats.variation(r, ddof=ddof) for r in rows[:-2]]
        expected += [scipy.stats.variation(r[:2], ddof=ddof) for r in rows[-2:]]
    np.testing.assert_allclose(cv(values, mask, ddof=ddof).numpy(), expected, rtol=RTOL)
    np.testing.assert_allclose(cv(values[:-2], ddof=ddof).numpy(), expected[:-2], rtol=RTOL)


def test_pairwise_sum_is_bit_identical_to_numpy(rng):
    for n in (*range(20), 127, 128, 129, 300, 1000, 4097, 20001):
        values = rng.standard_normal((2, n))
        ours = _pairwise_sum(torch.from_numpy(values)).numpy()
        assert np.array_equal(ours, values.sum(axis=1)), n


@pytest.mark.parametrize("n_trials", [1, 7, 300, 1500])
def test_fanofactor_is_bit_identical_to_numpy(rng, n_trials):
    counts = rng.poisson(rng.uniform(0.5, 20, 5), (n_trials, 5)).astype(np.float64)
    counts[:, 0] = 0
    ours = fanofactor(torch.from_numpy(counts)).numpy()
    with np.errstate(invalid="ignore"):
        expected = counts.var(axis=0) / counts.mean(axis=0)
    for j in range(5):
        column = np.ascontiguousarray(counts[:, j])
        with np.errstate(invalid="ignore"):
            expected[j] = column.var() / column.mean()
    np.testing.assert_array_equal(ours, expected)
    assert np.isnan(ours[0])


def test_fanofactor_windows_matches_elephant(rng):
    counts = torch.from_numpy(rng.poisson(2.0, (6, 23, 3)).astype(np.float64))
    windowed = window_counts(counts, 5)
    assert windowed.shape == (6, 4, 3)
    torch.testing.assert_close(windowed[:, 1], counts[:, 5:10].sum(dim=1))
    factors = fanofactor_windows(counts, 5)
    for w in range(4):
        for j in range(3):
            trains = [np.zeros(int(c)) for c in windowed[:, w, j]]
            assert factors[w, j].item() == es.fanofactor(trains)
    whole = fanofactor_windows(counts, 23)
    torch.testing.assert_close(whole[0], fanofactor(counts.sum(dim=1)))
    batch = fanofactor_windows(torch.stack([counts, counts.flip(0)]), 5)
    torch.testing.assert_close(batch[1], factors)


def test_clipped_sqrt():
    value = torch.tensor([4.0, 0.0, -1e-18, -math.inf, math.nan], dtype=torch.float64)
    value.requires_grad_(True)
    root = clipped_sqrt(value)
    expected = torch.tensor([2.0, 0.0, 0.0, 0.0, math.nan], dtype=torch.float64)
    torch.testing.assert_close(root, expected, equal_nan=True)
    (grad,) = torch.autograd.grad(root.nansum(), value)
    assert torch.equal(grad, torch.tensor([0.25, 0.0, 0.0, 0.0, 0.0], dtype=torch.float64))


def test_cv_is_nan_with_fewer_values_than_ddof():
    intervals = torch.tensor([[1.0, 2.0, 4.0]], dtype=torch.float64)
    mask = torch.tensor([[True, False, False]])
    assert torch.isnan(cv(intervals, mask, ddof=2)).all()


def test_gradients_are_finite_and_correct(rng):
    times, mask = pad_spike_times(
        [np.sort(rng.uniform(0, 1, n)) + 0.01 * np.arange(n) for n in (1, 3, 6)]
    )
    times.requires_grad_(True)
    for name, fn in INTERVAL_STATISTICS.items():

        def statistic(t, fn=fn):
            return fn(*isi(t, mask))[1:]  # drop the NaN of the 1-spike train

        assert torch.autograd.gradcheck(statistic, (times,)), name
        total = torch.nansum(fn(*isi(times, mask)))
        (grad,) = torch.autograd.grad(total, times)
        assert torch.isfinite(grad).all(), name
    regular = torch.arange(5, dtype=torch.float64).requires_grad_(True)
    (grad,) = torch.autograd.grad(cv(*isi(regular)), regular)
    assert torch.equal(grad, torch.zeros(5, dtype=torch.float64))  # CV = 0: zero gradient
    counts = torch.rand(5, 8, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda c: fanofactor(c.sum(dim=1)), (counts,))
    assert torch.autograd.gradcheck(lambda c: fanofactor_windows(c, 3), (counts,))


def test_float32_agrees_with_float64(padded):
    intervals, mask = isi(*padded)
    for name, fn in INTERVAL_STATISTICS.items():
        single = fn(intervals.float(), mask)
        assert single.dtype == torch.float32
        torch.testing.assert_close(
            single.double(), fn(intervals, mask), rtol=1e-5, atol=1e-6, equal_nan=True, msg=name
        )
    counts = torch.rand(9, 12, 3, dtype=torch.float64) * 5
    torch.testing.assert_close(
        fanofactor_windows(counts.float(), 4).double(),
        fanofactor_windows(counts, 4),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.gpu
def test_cuda_matches_cpu(padded):
    intervals, mask = isi(padded[0].float(), padded[1])
    for name, fn in INTERVAL_STATISTICS.items():
        torch.testing.assert_close(
            fn(intervals.cuda(), mask.cuda()).cpu(), fn(intervals, mask), equal_nan=True, msg=name
        )
    counts = torch.rand(9, 12, 3) * 5
    torch.testing.assert_close(
        fanofactor_windows(counts.cuda(), 4).cpu(), fanofactor_windows(counts, 4)
    )


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: isi(np.arange(3.0)), TypeError, "`times` to be a torch.Tensor"),
        (lambda: isi(torch.arange(3)), TypeError, "floating-point"),
        (lambda: isi(torch.tensor(1.0)), ValueError, "0-d tensor"),
        (lambda: lv(torch.ones(2, 3), torch.ones(2, 3)), TypeError, "`mask` to be a bool"),
        (lambda: lv(torch.ones(2, 3), torch.ones(2, 4, dtype=torch.bool)), ValueError, "shape"),
        (lambda: lvr(torch.ones(3), R=-1.0), ValueError, "`R` to be a non-negative number"),
        (lambda: lvr(torch.ones(3), R=5 * pq.ms), TypeError, "`R` to be a non-negative number"),
        (lambda: cv(torch.ones(3), ddof=0.5), TypeError, "`ddof` to be an integer"),
        (lambda: window_counts(torch.ones(2, 4, 1), 0), ValueError, "`window` to be a positive"),
        (lambda: window_counts(torch.ones(4), 2), ValueError, "n_bins, n_neurons"),
        (lambda: fanofactor_windows(torch.ones(4, 2), 2), ValueError, "n_trials, n_bins"),
        (lambda: fanofactor([1.0, 2.0]), TypeError, "`spike_counts` to be a torch.Tensor"),
    ],
)
def test_functional_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -------------------------------------------------------------------------------- compat: isi
def test_compat_isi_matches_elephant(rng):
    data = np.sort(rng.uniform(0, 10, (3, 6)), axis=1)
    st = neo.SpikeTrain(data[0], units="ms", t_stop=10.0)
    for args in (
        (st,),
        (data[0] * pq.s,),
        (list(data[0]),),
        (data,),
        (data, 0),
        (data, 1),
        (data.astype(np.float32),),
        (np.array([1, 5, 9]),),
    ):
        with warnings.catch_warnings(record=True) as ours_warnings:
            warnings.simplefilter("always")
            ours = compat.isi(*args)
        with warnings.catch_warnings(record=True) as their_warnings:
            warnings.simplefilter("always")
            reference = es.isi(*args)
        assert type(ours) is type(reference)
        assert ours.dtype == reference.dtype
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(reference))
        if isinstance(reference, pq.Quantity):
            assert ours.units == reference.units
        assert [str(w.message) for w in ours_warnings] == [
            str(w.message) for w in their_warnings if w.category is UserWarning
        ]
    for args, error in (
        ((np.float64(1.0),), ValueError),  # as np.diff
        ((np.ones((2, 2)), 2), np.exceptions.AxisError),
        (([True, False],), TypeError),  # divergence: NumPy would return an exclusive-or
    ):
        with pytest.raises(error):
            compat.isi(*args)


# --------------------------------------------------------------------------------- compat: cv
CV_CASES = [
    (np.arange(1, 6.0), {}),
    ([1, 2, 3, 7], {}),
    (np.array([2.0, 3.0, 5.0]) * pq.ms, {}),
    (np.arange(12.0).reshape(3, 4) + 1, {}),
    (np.arange(12.0).reshape(3, 4) + 1, {"axis": 1}),
    (np.arange(12.0).reshape(3, 4) + 1, {"axis": -1, "keepdims": True}),
    (np.arange(24.0).reshape(2, 3, 4) - 5, {"axis": None}),
    (np.arange(24.0).reshape(2, 3, 4) - 5, {"axis": None, "keepdims": True}),
    (np.array([1.0, 2.0, 4.0], dtype=np.float32), {}),
    (np.array([1.0, np.nan, 4.0]), {}),
    (np.array([1.0, np.nan, 4.0]), {"nan_policy": "omit"}),
    (np.array([[1.0, np.nan, 4.0], [2.0, 3.0, 9.0]]), {"axis": 1, "nan_policy": "omit"}),
    (np.array([[np.nan, np.nan], [2.0, 3.0]]), {"axis": 1, "nan_policy": "omit"}),
    (np.array([1.0, 2.0]), {"ddof": 2}),
    (np.array([[1.0, 2.0], [3.0, 3.0]]), {"axis": 1, "ddof": 1}),
    (np.array([]), {}),
    (np.zeros((0, 3)), {}),
    (np.zeros((3, 0)), {}),
    (5.0, {}),
    ([True, False, True], {}),
]


@pytest.mark.parametrize(("data", "kwargs"), CV_CASES)
def test_compat_cv_matches_scipy(data, kwargs):
    with warnings.catch_warnings(record=True) as their_warnings:
        warnings.simplefilter("always")
        reference = scipy.stats.variation(data, **kwargs)
    with warnings.catch_warnings(record=True) as ours_warnings:
        warnings.simplefilter("always")
        ours = compat.cv(data, **kwargs)
    assert type(ours) is type(reference)
    assert np.shape(ours) == np.shape(reference)
    assert np.asarray(ours).dtype == np.asarray(reference).dtype
    np.testing.assert_allclose(ours, reference, rtol=1e-6 if ours.dtype == np.float32 else RTOL)
    assert [(w.category, str(w.message)) for w in ours_warnings] == [
        (w.category, str(w.message)) for w in their_warnings
    ]


def test_compat_cv_errors_and_exact_zero():
    assert compat.cv(es.isi(np.arange(1, 6))) == 0.0
    with pytest.raises(ValueError, match="The input contains nan values"):
        compat.cv([1.0, np.nan], nan_policy="raise")
    with pytest.raises(ValueError, match="nan_policy must be one of"):
        compat.cv([1.0, 2.0], nan_policy="drop")
    with pytest.raises(np.exceptions.AxisError, match="out of bounds"):
        compat.cv([1.0, 2.0], axis=1)


# -------------------------------------------------------------------- compat: cv2, lv and lvr
SEQUENCE = [1, 28, 4, 47, 5, 16, 2, 5, 21, 12, 4, 12, 59, 2, 4, 18, 33, 25, 2, 34]


@pytest.mark.filterwarnings("ignore:No units specified")
@pytest.mark.parametrize("name", ["cv2", "lv", "lvr"])
def test_compat_interval_statistics_match_elephant(name):
    ours_fn, their_fn = getattr(compat, name), getattr(es, name)
    for data in (
        SEQUENCE,
        np.array(SEQUENCE),
        np.array(SEQUENCE) * pq.ms,
        (np.array(SEQUENCE) * pq.ms).rescale("s"),
        np.array(SEQUENCE[:2]),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = their_fn(data)
            ours = ours_fn(data)
        assert type(ours) is type(reference)
        assert ours == pytest.approx(reference, rel=RTOL)
    with pytest.warns(UserWarning, match="The input size is too small"):
        assert np.isnan(ours_fn([1.0], with_nan=True))
    for bad in ([], 1, np.array([SEQUENCE, SEQUENCE]), [1.0]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = error_of(their_fn, bad)
            with pytest.raises(ValueError, match=re.escape(str(expected))):
                ours_fn(bad)
        assert isinstance(expected, ValueError)


def test_compat_lvr_units_and_warnings():
    data = np.array(SEQUENCE, dtype=float)
    with pytest.warns(UserWarning, match="No units specified for R"):
        assert compat.lvr(data * pq.ms, R=5) == pytest.approx(es.lvr(data * pq.ms), rel=RTOL)
    with pytest.warns(UserWarning, match="No units specified for time_intervals"):
        compat.lvr(data)
    assert compat.lvr(data * pq.ms, R=0.01 * pq.s) == pytest.approx(
        es.lvr(data * pq.ms, R=10 * pq.ms), rel=RTOL
    )
    with pytest.raises(ValueError, match="R must be >= 0"):
        compat.lvr(data * pq.ms, -1 * pq.ms)


def test_compat_deprecated_alias_v():
    with pytest.warns(DeprecationWarning, match="'v' is deprecated"):
        assert compat.cv2(v=SEQUENCE) == pytest.approx(es.cv2(SEQUENCE), rel=RTOL)


@pytest.mark.filterwarnings("ignore:No units specified")
@pytest.mark.parametrize("name", ["cv2", "lv", "lvr"])
def test_compat_batched_extension_equals_per_vector(rng, name):
    vectors = [rng.exponential(10.0, n) for n in (2, 5, 40, 3)]
    items = [vectors[0] * pq.ms, list(vectors[1]), vectors[2], tuple(vectors[3])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = getattr(compat, name)(items)
        reference = [getattr(es, name)(v) for v in vectors]
        assert isinstance(ours, np.ndarray)
        assert ours.shape == (4,)
        np.testing.assert_allclose(ours, reference, rtol=RTOL)
        short = getattr(compat, name)([vectors[2], [1.0]], with_nan=True)
    assert np.isnan(short[1])
    assert short[0] == pytest.approx(reference[2], rel=RTOL)
    with pytest.raises(ValueError, match="Input size is too small"):
        getattr(compat, name)([vectors[2], []])


# ------------------------------------------------------------------------ compat: fanofactor
@pytest.fixture(scope="module")
def fano_inputs():
    rng = np.random.default_rng(100)
    spikes = [rng.random(rng.integers(20) + 1) for _ in range(300)]
    trains = [neo.SpikeTrain(r * pq.ms, t_start=0 * pq.ms, t_stop=20 * pq.ms) for r in spikes]
    return {
        "spiketrains": trains,
        "arrays": spikes,
        "quantities": [r * pq.ms for r in spikes],
        "lists": [list(r) for r in spikes],
    }


@pytest.mark.parametrize("kind", ["spiketrains", "arrays", "quantities", "lists"])
def test_compat_fanofactor_is_exactly_elephants(fano_inputs, kind):
    ours = compat.fanofactor(fano_inputs[kind])
    assert type(ours) is np.float64
    assert ours == es.fanofactor(fano_inputs[kind])
    assert compat.fanofactor(fano_inputs[kind][:1] * 3) == 0.0


def test_compat_fanofactor_empty_inputs():
    empty = neo.SpikeTrain([] * pq.ms, t_start=0 * pq.ms, t_stop=1.5 * pq.ms)
    for data in ([], [[]], [] * pq.ms, empty, [empty, empty]):
        assert np.isnan(compat.fanofactor(data))
    result = compat.fanofactor(TrialsFromLists([[empty], [empty]]))
    assert len(result) == 1
    assert np.isnan(result[0])
    assert compat.fanofactor(TrialsFromLists([[], []])) == []


def test_compat_fanofactor_trials_match_elephant(rng):
    block = poisson_block(rng, n_trials=6, n_units=4, rate=5.0)
    for trials in (
        TrialsFromBlock(block),
        TrialsFromLists([list(s.spiketrains) for s in block.segments]),
    ):
        ours = compat.fanofactor(trials)
        reference = es.fanofactor(trials)
        assert ours == reference
        assert all(type(x) is np.float64 for x in ours)


def test_compat_fanofactor_duration_warnings_and_errors():
    st1 = neo.SpikeTrain([1, 2, 3] * pq.s, t_stop=4 * pq.s)
    st2 = neo.SpikeTrain([1, 2] * pq.s, t_stop=4.5 * pq.s)
    close = neo.SpikeTrain([1, 2] * pq.s, t_stop=4.05 * pq.s)  # 0.05 (s) < 0.1 (ms): magnitudes
    for trains in ((st1, st2), (st1, close), [st1, st2.rescale("ms")]):
        with warnings.catch_warnings(record=True) as ours:
            warnings.simplefilter("always")
            value = compat.fanofactor(trains)
        with warnings.catch_warnings(record=True) as theirs:
            warnings.simplefilter("always")
            assert value == es.fanofactor(trains)
        assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    with pytest.raises(TypeError, match="'warn_tolerance' must be a time quantity"):
        compat.fanofactor([st1], warn_tolerance=1e-4)
    assert compat.fanofactor([np.ones(2), np.ones(3)], warn_tolerance=1e-4) == es.fanofactor(
        [np.ones(2), np.ones(3)]
    )
    with pytest.raises(TypeError):
        compat.fanofactor(st1)  # iterating a SpikeTrain gives unsized spike times, as Elephant
