"""Correlation statistics: functional layer and compat twins of elephant.spike_train_correlation."""

from __future__ import annotations

import warnings

import elephant.spike_train_correlation as esc
import neo
import numpy as np
import pytest
import quantities as pq
import scipy.sparse
import torch
from elephant.conversion import BinnedSpikeTrain

from elephant_fit.compat import spike_train_correlation as csc
from elephant_fit.statistics import correlation as fc
from elephant_fit.statistics._padding import pad_spike_times

# Exact integer arithmetic gives identical counts; normalised values differ by float rounding only.
RTOL, ATOL = 1e-9, 1e-12


def spiketrain(rng, rate, t_stop, t_start=0.0, units="s"):
    n_spikes = rng.poisson(rate * (t_stop - t_start))
    times = np.sort(rng.uniform(t_start, t_stop, n_spikes))
    return neo.SpikeTrain(times, t_start=t_start, t_stop=t_stop, units=units)


def binned(trains, bin_size=5 * pq.ms, **kwargs):
    return BinnedSpikeTrain(trains, bin_size=bin_size, **kwargs)


def record(function, *args, **kwargs):
    """Result and (category, message) of the warnings other than Quantities' own deprecations."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*args, **kwargs)
    found = [
        (w.category, str(w.message))
        for w in caught
        if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning))
    ]
    return result, found


def counts_tensor(rng, shape, rate=0.3, dtype=torch.float64):
    return torch.from_numpy(rng.poisson(rate, shape).astype(np.float64)).to(dtype)


# ------------------------------------------------------------------ covariance / correlation
def test_covariance_and_correlation_match_numpy_batched(rng):
    counts = counts_tensor(rng, (3, 200, 6))
    cov, corr = fc.covariance(counts), fc.correlation_coefficient(counts)
    for k in range(3):
        np.testing.assert_allclose(
            cov[k].numpy(), np.cov(counts[k].numpy().T), rtol=RTOL, atol=ATOL
        )
        np.testing.assert_allclose(
            corr[k].numpy(), np.corrcoef(counts[k].numpy().T), rtol=RTOL, atol=ATOL
        )
        torch.testing.assert_close(fc.covariance(counts[k]), cov[k], rtol=1e-12, atol=0)
    binary = fc.covariance(counts, binary=True)
    np.testing.assert_allclose(
        binary[0].numpy(), np.cov((counts[0].numpy() > 0).T), rtol=RTOL, atol=ATOL
    )


def test_covariance_from_uncentred_moments_equals_centred(rng):
    counts = counts_tensor(rng, (150, 5))
    moments = fc.covariance_from_moments(counts.T @ counts, counts.sum(0), 150)
    torch.testing.assert_close(moments, fc.covariance(counts), rtol=1e-10, atol=1e-13)


def test_correlation_of_silent_neuron_is_nan(rng):
    counts = counts_tensor(rng, (100, 3))
    counts[:, 1] = 0
    corr = fc.correlation_coefficient(counts)
    assert torch.isnan(corr[1]).all()
    assert torch.isnan(corr[:, 1]).all()
    assert not torch.isnan(corr[[0, 2]][:, [0, 2]]).any()


def test_covariance_float32_and_gradients(rng):
    counts = counts_tensor(rng, (2, 60, 4), rate=1.0)
    torch.testing.assert_close(
        fc.correlation_coefficient(counts.float()).double(),
        fc.correlation_coefficient(counts),
        rtol=1e-5,
        atol=1e-6,
    )
    probabilities = torch.rand(
        30, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    probabilities.requires_grad_(True)
    assert torch.autograd.gradcheck(fc.covariance, (probabilities,))
    assert torch.autograd.gradcheck(fc.correlation_coefficient, (probabilities,))
    assert torch.autograd.gradcheck(lambda p: fc.covariance(p, binary=True), (probabilities,))


@pytest.mark.parametrize(
    ("rate", "bin_size", "n_trains", "duration"),
    [(10, 1 * pq.ms, 12, 20.0), (40, 20 * pq.ms, 30, 20.0), (5, 1 * pq.ms, 3, 1.0)],
    ids=["sparse-scipy-path", "dense-int8-path", "few-trains"],
)
@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("fast", [False, True])
def test_compat_covariance_and_corrcoef_match_elephant(
    rng, rate, bin_size, n_trains, duration, binary, fast
):
    trains = [spiketrain(rng, rate, duration) for _ in range(n_trains)]
    matrix = binned(trains, bin_size)
    for name in ("covariance", "correlation_coefficient"):
        ours = getattr(csc, name)(matrix, binary=binary, fast=fast)
        reference = getattr(esc, name)(matrix, binary=binary, fast=fast)
        assert type(ours) is np.ndarray
        assert ours.shape == reference.shape
        np.testing.assert_allclose(ours, reference, rtol=RTOL, atol=ATOL)


def test_compat_accepts_csc_views_and_float_matrices(rng):
    trains = [spiketrain(rng, 30, 2.0) for _ in range(5)]
    csc_matrix = BinnedSpikeTrain(trains, bin_size=5 * pq.ms, sparse_format="csc")
    view = binned(trains).binarize()  # a BinnedSpikeTrainView
    floats = BinnedSpikeTrain(
        rng.poisson(0.3, (4, 400)).astype(float), bin_size=5 * pq.ms, t_start=0 * pq.s
    )
    for matrix in (csc_matrix, view, floats):
        for name in ("covariance", "correlation_coefficient"):
            ours, reference = getattr(csc, name)(matrix), getattr(esc, name)(matrix)
            np.testing.assert_allclose(ours, reference, rtol=RTOL, atol=ATOL)
    reference = esc.cch(view[0], view[1], [-5, 9], method="memory")
    assert_same_cch(csc.cch(view[0], view[1], [-5, 9]), reference)


def test_compat_single_train_returns_zero_dimensional(rng):
    matrix = binned(spiketrain(rng, 20, 2.0))
    for name in ("covariance", "correlation_coefficient"):
        ours, reference = getattr(csc, name)(matrix), getattr(esc, name)(matrix)
        assert ours.ndim == reference.ndim == 0
        np.testing.assert_allclose(ours, reference, rtol=RTOL)


def test_compat_gram_int8_path_and_its_fallbacks_are_exact(rng):
    small = rng.poisson(2.0, (6, 300))
    assert csc._int8_gram(scipy.sparse.csr_matrix(small)) is not None
    large = small * 60  # counts above 127: no int8 product, scipy's sparse product instead
    assert csc._int8_gram(scipy.sparse.csr_matrix(large)) is None
    for counts in (small, large):
        matrix = BinnedSpikeTrain(counts, bin_size=1 * pq.ms, t_start=0 * pq.s)
        np.testing.assert_allclose(
            csc.covariance(matrix), np.cov(counts.astype(float)), rtol=RTOL, atol=ATOL
        )
        np.testing.assert_allclose(
            csc.covariance(matrix), esc.covariance(matrix), rtol=RTOL, atol=ATOL
        )


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("rate", [2, 150], ids=["sparse", "dense"])
def test_compat_empty_train_warnings_match_elephant(rng, fast, rate):
    trains = [spiketrain(rng, rate, 1.0), neo.SpikeTrain([] * pq.s, t_stop=1.0)]
    matrix = binned(trains, 10 * pq.ms)
    for name in ("covariance", "correlation_coefficient"):
        ours, ours_warnings = record(getattr(csc, name), matrix, fast=fast)
        reference, reference_warnings = record(getattr(esc, name), matrix, fast=fast)
        assert set(ours_warnings) == set(reference_warnings)  # numpy repeats its RuntimeWarning
        np.testing.assert_allclose(ours, reference, rtol=RTOL, atol=ATOL)  # NaN where Elephant


def test_compat_corrcoef_alias_is_deprecated(rng):
    matrix = binned([spiketrain(rng, 20, 1.0) for _ in range(3)])
    with pytest.warns(DeprecationWarning, match="'corrcoef' is deprecated"):
        result = csc.corrcoef(matrix)
    np.testing.assert_allclose(result, esc.correlation_coefficient(matrix), rtol=RTOL)


# ------------------------------------------------------------------- cross-correlation histogram
def numpy_cch(a, b, lag_min, lag_max):
    """Brute force: sum_t a[t] b[t + lag], zero outside the trains."""
    return np.array(
        [
            sum(a[t] * b[t + lag] for t in range(len(a)) if 0 <= t + lag < len(b))
            for lag in range(lag_min, lag_max + 1)
        ]
    )


@pytest.mark.parametrize(
    ("n_i", "n_j", "window", "expected"),
    [
        (40, 40, None, (-39, 39)),
        (30, 45, "full", (-29, 44)),
        (30, 45, "valid", (0, 15)),
        (45, 30, "valid", (-15, 0)),
        (40, 40, (-12, 5), (-12, 5)),
        (40, 33, (3, 9), (3, 9)),
        (40, 40, (-9, -2), (-9, -2)),
    ],
)
def test_cch_matches_brute_force(rng, n_i, n_j, window, expected):
    a, b = rng.poisson(0.7, n_i).astype(float), rng.poisson(0.7, n_j).astype(float)
    cch, lags = fc.cross_correlation_histogram(torch.from_numpy(a), torch.from_numpy(b), window)
    assert (int(lags[0]), int(lags[-1])) == expected
    assert lags.dtype == torch.int64
    np.testing.assert_array_equal(cch.numpy(), numpy_cch(a, b, *expected))


def test_cch_fft_path_for_wide_windows(rng):
    a, b = rng.poisson(0.5, 700).astype(float), rng.poisson(0.5, 650).astype(float)
    cch, lags = fc.cross_correlation_histogram(torch.from_numpy(a), torch.from_numpy(b))
    assert len(lags) > fc._MAX_BLOCKED_LAGS
    np.testing.assert_allclose(cch.numpy(), np.correlate(b, a, mode="full"), rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    ("n_i", "n_j", "lag_min", "lag_max"),
    [(300, 300, -40, 25), (250, 320, -249, 319), (320, 250, 5, 60), (200, 200, -30, -3)],
)
def test_cch_algorithms_agree(rng, n_i, n_j, lag_min, lag_max):
    """Non-zero-bin histogram, blocked products and FFT give the same values (sparse floats)."""
    a = rng.uniform(0.5, 2.0, (3, n_i)) * (rng.random((3, n_i)) < 0.05)
    b = rng.uniform(0.5, 2.0, (3, n_j)) * (rng.random((3, n_j)) < 0.05)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    n_lags = lag_max - lag_min + 1
    segment = fc._lagged_segment(tb, n_i, lag_min, n_lags)
    expected = np.stack([numpy_cch(a[k], b[k], lag_min, lag_max) for k in range(3)])
    for result in (
        fc._correlate_sparse(ta, tb, lag_min, n_lags),
        fc._correlate_blocked(ta, segment, n_lags),
        fc._correlate_fft(ta, segment, n_lags),
    ):
        np.testing.assert_allclose(result.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert fc._prefer_sparse(ta, tb, n_lags)
    assert not fc._prefer_sparse(ta.requires_grad_(True), tb, n_lags)  # skips zeros: no gradient
    assert not fc._prefer_sparse(torch.ones(3, n_i, dtype=torch.float64), tb + 1, n_lags)


def test_cch_batched_equals_looped_and_float32(rng):
    a = counts_tensor(rng, (4, 3, 300), rate=0.5)
    b = counts_tensor(rng, (3, 300), rate=0.5)  # broadcast over the first dimension
    options = {"window": (-20, 7), "border_correction": True, "kernel": np.hanning(5)}
    batch, _ = fc.cross_correlation_histogram(a, b, cross_correlation_coefficient=True, **options)
    assert batch.shape == (4, 3, 28)
    for k in range(4):
        for m in range(3):
            single, _ = fc.cross_correlation_histogram(
                a[k, m], b[m], cross_correlation_coefficient=True, **options
            )
            torch.testing.assert_close(batch[k, m], single, rtol=1e-12, atol=1e-14)
    single32, _ = fc.cross_correlation_histogram(
        a.float(), b.float(), cross_correlation_coefficient=True, **options
    )
    torch.testing.assert_close(single32.double(), batch, rtol=1e-5, atol=1e-6)


def test_cch_border_correction_and_coefficient_formulas(rng):
    a, b = rng.poisson(0.6, 50).astype(float), rng.poisson(0.4, 60).astype(float)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    raw, lags = fc.cross_correlation_histogram(ta, tb)
    corrected, _ = fc.cross_correlation_histogram(ta, tb, border_correction=True)
    overlap = np.array(
        [np.sum((t >= 0) & (t < 60)) for t in (np.arange(50)[None] + lags.numpy()[:, None])]
    )
    np.testing.assert_allclose(corrected.numpy(), raw.numpy() * 50 / overlap, rtol=1e-12)
    coefficient, _ = fc.cross_correlation_histogram(ta, tb, cross_correlation_coefficient=True)
    n_a, n_b, n_bins = a.sum(), b.sum(), 60
    scale = np.sqrt((a @ a - n_a**2 / n_bins) * (b @ b - n_b**2 / n_bins))
    np.testing.assert_allclose(
        coefficient.numpy(), (raw.numpy() - n_a * n_b / n_bins) / scale, rtol=1e-12
    )


def test_cch_gradients():
    generator = torch.Generator().manual_seed(3)
    a = torch.rand(2, 14, dtype=torch.float64, generator=generator, requires_grad=True)
    b = torch.rand(2, 11, dtype=torch.float64, generator=generator, requires_grad=True)
    kernel = torch.tensor([0.2, 1.0, 0.5], dtype=torch.float64, requires_grad=True)

    def every_option(x, y, k):
        return fc.cross_correlation_histogram(
            x,
            y,
            (-6, 4),
            border_correction=True,
            binary=True,
            kernel=k,
            cross_correlation_coefficient=True,
        )[0]

    assert torch.autograd.gradcheck(every_option, (a, b, kernel))
    assert torch.autograd.gradcheck(lambda x, y: fc.cross_correlation_histogram(x, y)[0], (a, b))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"counts_i": np.ones(5)}, TypeError, "`counts_i` to be a torch.Tensor"),
        ({"counts_i": torch.ones(5, dtype=torch.int64)}, TypeError, "floating-point"),
        ({"counts_j": torch.ones(5, dtype=torch.float32)}, TypeError, "same dtype and device"),
        ({"window": "same"}, ValueError, "Expected `window`"),
        ({"window": (3, 1)}, ValueError, "lag_min <= lag_max"),
        ({"window": (-5, 2)}, ValueError, r"within \[-4, 4\]"),
        ({"window": (0.5, 2)}, TypeError, "Expected `window`"),
        ({"kernel": np.ones(10)}, ValueError, "no longer than the CCH"),
        ({"kernel": np.ones((2, 2))}, ValueError, "1-D array"),
        ({"kernel": "box"}, TypeError, "`kernel`"),
    ],
)
def test_cch_bad_input(kwargs, error, match):
    arguments = {
        "counts_i": torch.ones(5, dtype=torch.float64),
        "counts_j": torch.ones(5, dtype=torch.float64),
    }
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        fc.cross_correlation_histogram(**arguments)


def assert_same_cch(ours, reference):
    (signal, lags), (ref_signal, ref_lags) = ours, reference
    assert isinstance(signal, neo.AnalogSignal)
    assert signal.shape == ref_signal.shape
    np.testing.assert_allclose(signal.magnitude, ref_signal.magnitude, rtol=RTOL, atol=ATOL)
    assert signal.units == ref_signal.units
    assert signal.t_start == ref_signal.t_start
    assert signal.t_start.units == ref_signal.t_start.units
    assert signal.sampling_period == ref_signal.sampling_period
    assert signal.annotations == ref_signal.annotations
    assert lags.dtype == ref_lags.dtype == np.int32
    np.testing.assert_array_equal(lags, ref_lags)


@pytest.mark.parametrize("window", ["full", "valid", [-10, 10], [-25, 25]])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"binary": True},
        {"border_correction": True},
        {"kernel": np.hamming(5)},
        {"cross_correlation_coefficient": True},
        {
            "binary": True,
            "border_correction": True,
            "kernel": np.ones(4),
            "cross_correlation_coefficient": True,
        },
    ],
    ids=["plain", "binary", "border", "kernel", "coefficient", "all"],
)
@pytest.mark.parametrize("method", ["speed", "memory"])
def test_compat_cch_matches_elephant(rng, window, options, method):
    i, j = binned(spiketrain(rng, 40, 0.5)), binned(spiketrain(rng, 40, 0.5))
    if window == "valid" and options.get("border_correction"):
        options = {**options, "border_correction": False}
    if window == "valid" and "kernel" in options:  # longer than the single valid lag: both raise
        for function in (csc.cross_correlation_histogram, esc.cross_correlation_histogram):
            with pytest.raises(ValueError, match="The length of the kernel"):
                function(i, j, window=window, method=method, **options)
        return
    ours = csc.cross_correlation_histogram(i, j, window=window, method=method, **options)
    reference = esc.cross_correlation_histogram(i, j, window=window, method=method, **options)
    assert_same_cch(ours, reference)


@pytest.mark.parametrize(
    ("start_i", "stop_i", "start_j", "stop_j"),
    [(3, 8, 1, 13), (1, 7, 2, 9), (1, 7, 8, 15), (0, 10, 0, 6)],
)
@pytest.mark.parametrize("window", ["full", "valid", "edges"])
def test_compat_cch_different_t_start_t_stop(rng, start_i, stop_i, start_j, stop_j, window):
    i = binned(spiketrain(rng, 3, stop_i, start_i), 1 * pq.s)
    j = binned(spiketrain(rng, 3, stop_j, start_j), 1 * pq.s)
    if window == "edges":
        _, full_lags = esc.cch(i, j, window="full")
        window = [int(full_lags[2]), int(full_lags[-3])]
    ours = csc.cch(i, j, window=window, method="speed")
    reference = esc.cch(i, j, window=window, method="memory")  # Elephant's correct method
    assert_same_cch(ours, reference)


def test_compat_cch_asymmetric_window_fixes_elephant_speed_bug(rng):
    """Elephant 1.2.1 'speed' with window [-50, 20] returns 41 values for 71 lags; 'memory' is right."""
    i, j = binned(spiketrain(rng, 30, 2.0)), binned(spiketrain(rng, 30, 2.0))
    elephant_speed, elephant_lags = esc.cch(i, j, window=[-50, 20], method="speed")
    assert elephant_speed.shape[0] == 41 != len(elephant_lags) == 71  # the bug we diverge from
    reference = esc.cch(i, j, window=[-50, 20], method="memory")
    for method in ("speed", "memory"):
        assert_same_cch(csc.cch(i, j, window=[-50, 20], method=method), reference)


def test_compat_border_correction_with_shifted_t_start_diverges_from_elephant(rng):
    """Elephant offsets the lag axes by the t_start shift; ours divides by the true overlap."""
    i = binned(spiketrain(rng, 5, 10.0, 0.0), 1 * pq.s)
    j = binned(spiketrain(rng, 5, 15.0, 5.0), 1 * pq.s)
    raw, lags = csc.cch(i, j)
    corrected, _ = csc.cch(i, j, border_correction=True)
    unaligned = lags - 5  # lag in bins between bin indices of i and j
    overlap = np.minimum(10, 10 - unaligned) - np.maximum(0, -unaligned)
    np.testing.assert_allclose(corrected.magnitude.ravel(), raw.magnitude.ravel() * 10 / overlap)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        elephant, _ = esc.cch(i, j, border_correction=True)
    assert not np.allclose(elephant.magnitude, corrected.magnitude, equal_nan=True)


def test_compat_cch_alias_and_valid_border_warning(rng):
    assert csc.cch is csc.cross_correlation_histogram
    i, j = binned(spiketrain(rng, 30, 1.0)), binned(spiketrain(rng, 30, 1.0))
    ours, ours_warnings = record(csc.cch, i, j, window="valid", border_correction=True)
    reference, reference_warnings = record(esc.cch, i, j, window="valid", border_correction=True)
    assert ours_warnings == reference_warnings
    assert len(ours_warnings) == 1
    assert_same_cch(ours, reference)


@pytest.mark.parametrize(
    ("case", "kwargs", "match"),
    [
        ("two_rows", {}, "Spike trains must be one dimensional"),
        ("bin_size", {}, "Bin sizes must be equal"),
        ("shift", {}, "time shift is not multiple of bin_size"),
        ("plain", {"window": [5, 5]}, r"Window's left edge \(5\) must be lower"),
        ("plain", {"window": [-60, 50]}, "The window exceeds the length"),
        ("plain", {"window": [-25.5, 25.5]}, "Invalid window parameter"),
        ("plain", {"window": "same"}, "Invalid window parameter"),
        ("plain", {"kernel": np.ones(100)}, "The length of the kernel 100 cannot be larger"),
        ("plain", {"window": [-3, 3], "kernel": np.ones(9)}, "The length of the kernel 9"),
        ("plain", {"window": [4, 6], "kernel": np.ones(5)}, r"length 3 of the resulting CCH"),
    ],
)
def test_compat_cch_errors(rng, case, kwargs, match):
    train = spiketrain(rng, 100, 0.05)
    i = binned(train, 1 * pq.ms)
    j = {
        "two_rows": binned([train, train], 1 * pq.ms),
        "bin_size": binned(train, 5 * pq.ms),
        "shift": binned(train, 1 * pq.ms, t_start=0.5 * pq.ms),
    }.get(case, i)
    with pytest.raises(ValueError, match=match):
        csc.cch(i, j, **kwargs)
    if "length 3" not in match:  # Elephant accepts that kernel and returns a mis-shaped signal
        with pytest.raises(ValueError, match=match):
            esc.cch(i, j, **kwargs)


# ------------------------------------------------------------------ spike time tiling coefficient
def brute_sttc(a, b, dt, t_start, t_stop):
    """Textbook STTC with the plain closeness |t - s| <= dt."""

    def tiled(x):
        covered = np.zeros(200001, bool)
        grid = np.linspace(t_start, t_stop, covered.size)
        for s in x:
            covered |= np.abs(grid - s) <= dt
        return covered.mean()

    def near(x, y):
        return np.mean([np.any(np.abs(y - s) <= dt) for s in x])

    ta, tb, pa, pb = tiled(b), tiled(a), near(b, a), near(a, b)
    return 0.5 * (pa - tb) / (1 - pa * tb) + 0.5 * (pb - ta) / (1 - pb * ta)


def test_sttc_matches_textbook_definition_with_rtol_zero(rng):
    a, b = np.sort(rng.uniform(0, 10, 12)), np.sort(rng.uniform(0, 10, 9))
    times, mask = pad_spike_times([a, b])
    ours = fc.spike_time_tiling_coefficient(
        times[0], mask[0], times[1], mask[1], 0.3, 0.0, 10.0, rtol=0.0
    )
    assert abs(float(ours) - brute_sttc(a, b, 0.3, 0.0, 10.0)) < 1e-4  # grid resolution 5e-5


@pytest.mark.parametrize("dt", [0.1 * pq.ms, 2 * pq.ms, 0.005 * pq.s, 50 * pq.ms, 20 * pq.s])
@pytest.mark.parametrize("units", ["s", "ms"])
def test_compat_sttc_matches_elephant(rng, dt, units):
    scale = 1000.0 if units == "ms" else 1.0
    for rate in (2, 20):
        a, b = (
            spiketrain(rng, rate / scale, 10.0 * scale, units=units),
            spiketrain(rng, rate / scale, 10.0 * scale, units=units),
        )
        a = a.time_slice(None, None)
        b = neo.SpikeTrain(
            np.concatenate([b.magnitude, a.magnitude[::3]]), t_stop=10.0 * scale, units=units
        )
        ours, reference = csc.sttc(a, b, dt), esc.sttc(a, b, dt)
        # np.float64 as Elephant's; Elephant's plain float 1.0 (both halves with P T == 1) may
        # differ where T rounds to 1 in one implementation only (dt longer than the window)
        assert type(ours) is type(reference) or ours == reference == 1.0
        np.testing.assert_allclose(ours, reference, rtol=RTOL, atol=ATOL)


def test_compat_sttc_edge_cases_match_elephant():
    cases = [
        ([1], [5], 5 * pq.ms),
        ([1, 5, 9], [5], 3 * pq.ms),
        ([5], [1, 5, 9], 3 * pq.ms),
        ([1.3, 7.56, 15.87, 28.23], [1.02, 2.71, 18.82, 28.46], 5 * pq.s),
        ([9.0, 1.0, 4.0], [4.0, 9.0, 1.0], 1 * pq.ms),  # unsorted
        ([], [1.0], 5 * pq.ms),
        ([1.0], [], 5 * pq.ms),
        ([10.0, 30.0, 40.0], [10.0, 30.0, 40.0], 40 * pq.ms),  # both halves P T = 1: 1.0
        ([10.0, 30.0], [10.0, 30.0], 1 * pq.ms),  # P = 1, T < 1: 1.0 as well
        ([25.0], [5.0], 30 * pq.ms),  # one half P T = 1
    ]
    for a, b, dt in cases:
        x, y = neo.SpikeTrain(a, units="ms", t_stop=50), neo.SpikeTrain(b, units="ms", t_stop=50)
        ours, reference = csc.sttc(x, y, dt), esc.sttc(x, y, dt)
        assert type(ours) is type(reference), (a, b, type(reference))
        np.testing.assert_allclose(ours, reference, rtol=RTOL, atol=ATOL)  # NaN where Elephant


def test_sttc_batched_equals_looped_float32_and_gradients(rng):
    trains = [np.sort(rng.uniform(0, 5, rng.integers(0, 25))) for _ in range(8)]
    times, mask = pad_spike_times(trains)
    batch = fc.spike_time_tiling_coefficient(
        times[:4], mask[:4], times[4:], mask[4:], 0.05, 0.0, 5.0
    )
    for k in range(4):
        ti, mi = pad_spike_times([trains[k]])
        tj, mj = pad_spike_times([trains[k + 4]])
        single = fc.spike_time_tiling_coefficient(ti[0], mi[0], tj[0], mj[0], 0.05, 0.0, 5.0)
        torch.testing.assert_close(batch[k], single, rtol=1e-12, atol=0, equal_nan=True)
    batch32 = fc.spike_time_tiling_coefficient(
        times[:4].float(), mask[:4], times[4:].float(), mask[4:], 0.05, 0.0, 5.0
    )
    torch.testing.assert_close(batch32.double(), batch, rtol=1e-5, atol=1e-6, equal_nan=True)
    full, full_mask = pad_spike_times([np.sort(rng.uniform(0, 5, 15)) for _ in range(2)])
    full.requires_grad_(True)

    def coefficient(times_):
        return fc.spike_time_tiling_coefficient(
            times_[0], full_mask[0], times_[1], full_mask[1], 0.2, 0.0, 5.0
        )

    assert torch.autograd.gradcheck(coefficient, (full,))
    assert coefficient(full).requires_grad


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (
            (
                neo.SpikeTrain([1], units="ms", t_stop=10),
                neo.SpikeTrain([5], units="ms", t_stop=10),
                0 * pq.s,
            ),
            ValueError,
            "dt must be > 0",
        ),
        (
            (
                neo.SpikeTrain([1], units="ms", t_stop=10),
                neo.SpikeTrain([5], units="ms", t_stop=10),
                -1 * pq.ms,
            ),
            ValueError,
            "dt must be > 0",
        ),
        (
            (neo.SpikeTrain([1], units="ms", t_stop=10), neo.SpikeTrain([5], units="ms", t_stop=9)),
            ValueError,
            "same t_stop",
        ),
        (
            (neo.SpikeTrain([1], units="ms", t_stop=10), neo.SpikeTrain([5], units="s", t_stop=10)),
            ValueError,
            "same units",
        ),
        (([], []), TypeError, "list of SpikeTrain"),
        (
            (
                neo.SpikeTrain([1], units="ms", t_stop=10),
                neo.SpikeTrain([5], units="ms", t_stop=10),
                0.005,
            ),
            TypeError,
            "Expected `dt`",
        ),
    ],
)
def test_compat_sttc_errors(args, error, match):
    with pytest.raises(error, match=match):
        csc.sttc(*args)


def test_sttc_functional_bad_input():
    times, mask = pad_spike_times([np.array([1.0, 2.0])])
    with pytest.raises(TypeError, match=r"`mask_i` to be a bool torch\.Tensor"):
        fc.spike_time_tiling_coefficient(times[0], mask[0].float(), times[0], mask[0], 0.1, 0, 3)
    with pytest.raises(ValueError, match="`dt` to be positive"):
        fc.spike_time_tiling_coefficient(times[0], mask[0], times[0], mask[0], 0.0, 0, 3)


# ------------------------------------------------------------------------------------- timescale
@pytest.mark.parametrize("max_tau", [2 * pq.ms, 10 * pq.ms, 0.05 * pq.s])
def test_compat_timescale_matches_elephant(rng, max_tau):
    for units in ("s", "ms"):
        scale = 1000.0 if units == "ms" else 1.0
        matrix = binned(spiketrain(rng, 40, 20.0 * scale, units=units), 1 * pq.ms)
        ours, reference = (
            csc.spike_train_timescale(matrix, max_tau),
            esc.spike_train_timescale(matrix, max_tau),
        )
        assert isinstance(ours, pq.Quantity)
        assert ours.units == reference.units
        assert ours.shape == ()
        np.testing.assert_allclose(ours.magnitude, reference.magnitude, rtol=RTOL, atol=ATOL)


def test_timescale_functional_batched_and_nan(rng):
    counts = counts_tensor(rng, (2, 3000, 3), rate=0.05)
    counts[1, :, 2] = 0
    counts[1, 5, 2] = 1  # one spike only
    result = fc.spike_train_timescale(counts, 0.001, 0.02)
    assert result.shape == (2, 3)
    assert torch.isnan(result[1, 2])
    assert not torch.isnan(result[0]).any()
    single = fc.spike_train_timescale(counts[0, :, 1:2], 0.001, 0.02)
    torch.testing.assert_close(single[0], result[0, 1], rtol=1e-12, atol=0)
    probabilities = torch.rand(
        40, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(5)
    )
    probabilities.requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda p: fc.spike_train_timescale(p, 1.0, 4.0), (probabilities,)
    )


def test_compat_timescale_warnings_and_errors(rng):
    empty = binned(neo.SpikeTrain([1.0] * pq.ms, t_stop=10 * pq.ms), 1 * pq.ms)
    ours, ours_warnings = record(csc.spike_train_timescale, empty, 1 * pq.ms)
    reference, reference_warnings = record(esc.spike_train_timescale, empty, 1 * pq.ms)
    assert np.isnan(ours)
    assert type(ours) is type(reference)
    assert ours_warnings == reference_warnings
    matrix = binned(neo.SpikeTrain([1, 5, 7, 8] * pq.ms, t_stop=10 * pq.ms), 1 * pq.ms)
    for max_tau, match in [
        (1, "max_tau needs units of time"),
        (1.1 * pq.ms, "max_tau has to be a multiple of the bin_size"),
        (0 * pq.ms, r"Window's left edge \(0\)"),
        (12 * pq.ms, "The window exceeds the length"),
    ]:
        with pytest.raises(ValueError, match=match):
            csc.spike_train_timescale(matrix, max_tau)
        with pytest.raises(ValueError, match=match):
            esc.spike_train_timescale(matrix, max_tau)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_tau": 0.0015}, ValueError, "multiple of `bin_size`"),
        ({"max_tau": 0.05}, ValueError, r"\[1, n_bins - 1\]"),
        ({"bin_size": -1.0}, ValueError, "`bin_size` to be a positive"),
        ({"bin_size": "1 ms"}, TypeError, "`bin_size`"),
        ({"counts": torch.ones(20)}, ValueError, "at least 2 dimension"),
    ],
)
def test_timescale_functional_bad_input(kwargs, error, match):
    arguments = {
        "counts": torch.ones(20, 1, dtype=torch.float64),
        "bin_size": 0.001,
        "max_tau": 0.005,
    }
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        fc.spike_train_timescale(**arguments)


# -------------------------------------------------------------------------- noise covariance
def loop_noise_covariance(counts, max_lag, ddof=0):
    n_trials, n_bins, n_neurons = counts.shape
    residuals = counts - counts.mean(axis=0)
    result = np.zeros((max_lag + 1, n_neurons, n_neurons))
    for d in range(max_lag + 1):
        for i in range(n_neurons):
            for j in range(n_neurons):
                total = 0.0
                for k in range(n_trials):
                    for t in range(d, n_bins):
                        total += residuals[k, t, i] * residuals[k, t - d, j]
                result[d, i, j] = total / ((n_trials - ddof) * (n_bins - d))
    return result


@pytest.mark.parametrize(("max_lag", "ddof"), [(0, 0), (3, 0), (2, 1)])
def test_noise_covariance_and_correlation_match_loop(rng, max_lag, ddof):
    counts = rng.poisson(0.8, (5, 12, 3)).astype(float)
    expected = loop_noise_covariance(counts, max_lag, ddof)
    ours = fc.noise_covariance(torch.from_numpy(counts), max_lag=max_lag, ddof=ddof)
    assert ours.shape == (max_lag + 1, 3, 3)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12, atol=1e-15)
    variances = np.diagonal(expected[0])
    correlation = fc.noise_correlation(torch.from_numpy(counts), max_lag=max_lag, ddof=ddof)
    np.testing.assert_allclose(
        correlation.numpy(),
        expected / np.sqrt(np.outer(variances, variances)),
        rtol=1e-12,
        atol=1e-15,
    )
    np.testing.assert_allclose(np.diagonal(correlation[0].numpy()), 1.0, rtol=1e-12)


def test_noise_covariance_batched_float32_gradients_and_eps(rng):
    counts = counts_tensor(rng, (2, 6, 20, 4), rate=0.5)
    batch = fc.noise_covariance(counts, max_lag=2)
    for b in range(2):
        torch.testing.assert_close(
            batch[b], fc.noise_covariance(counts[b], max_lag=2), rtol=1e-12, atol=1e-15
        )
    torch.testing.assert_close(
        fc.noise_correlation(counts.float(), max_lag=2).double(),
        fc.noise_correlation(counts, max_lag=2),
        rtol=1e-4,
        atol=1e-5,
    )
    silent = counts[0].clone()
    silent[:, :, 1] = 0
    assert torch.isnan(fc.noise_correlation(silent)[0, 1]).all()
    assert torch.isfinite(fc.noise_correlation(silent, eps=1e-6)).all()
    probabilities = torch.rand(
        4, 7, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2)
    )
    probabilities.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p: fc.noise_covariance(p, max_lag=2), (probabilities,))
    assert torch.autograd.gradcheck(
        lambda p: fc.noise_correlation(p, max_lag=1, eps=1e-3), (probabilities,)
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_lag": 10}, ValueError, r"`max_lag` to be smaller than n_bins \(10\)"),
        ({"max_lag": -1}, ValueError, "`max_lag` to be a non-negative integer"),
        ({"max_lag": 1.0}, TypeError, "`max_lag`"),
        ({"ddof": 3}, ValueError, r"`ddof` to be smaller than n_trials \(3\)"),
        ({"counts": torch.ones(10, 2)}, ValueError, "at least 3 dimension"),
        ({"counts": [[[1.0]]]}, TypeError, "`counts` to be a torch.Tensor"),
    ],
)
def test_noise_covariance_bad_input(kwargs, error, match):
    arguments = {"counts": torch.ones(3, 10, 2, dtype=torch.float64)}
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        fc.noise_covariance(**arguments)


# -------------------------------------------------------------------------------------- CUDA
@pytest.mark.gpu
def test_cuda_float32_matches_cpu(rng):
    counts = counts_tensor(rng, (4, 500, 6), rate=0.3, dtype=torch.float32)
    cuda = counts.cuda()
    torch.testing.assert_close(
        fc.correlation_coefficient(cuda).cpu(), fc.correlation_coefficient(counts)
    )
    torch.testing.assert_close(fc.noise_correlation(cuda, 3).cpu(), fc.noise_correlation(counts, 3))
    for window in ((-30, 40), None):  # blocked products, then the FFT
        ours, lags = fc.cross_correlation_histogram(
            cuda[:, :, 0], cuda[:, :, 1], window, kernel=np.ones(3)
        )
        reference, _ = fc.cross_correlation_histogram(
            counts[:, :, 0], counts[:, :, 1], window, kernel=np.ones(3)
        )
        assert lags.device == cuda.device
        torch.testing.assert_close(ours.cpu(), reference, rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(
        fc.spike_train_timescale(cuda, 1.0, 5.0).cpu(),
        fc.spike_train_timescale(counts, 1.0, 5.0),
        rtol=1e-3,
        atol=1e-3,
    )
    times, mask = pad_spike_times(
        [np.sort(rng.uniform(0, 5, 30)) for _ in range(4)], dtype=torch.float32
    )
    torch.testing.assert_close(
        fc.spike_time_tiling_coefficient(
            times[:2].cuda(), mask[:2].cuda(), times[2:].cuda(), mask[2:].cuda(), 0.05, 0.0, 5.0
        ).cpu(),
        fc.spike_time_tiling_coefficient(times[:2], mask[:2], times[2:], mask[2:], 0.05, 0.0, 5.0),
    )
