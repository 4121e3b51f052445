"""Van Rossum and Victor–Purpura distances: functional layer and Elephant twins."""

from __future__ import annotations

import math
import warnings

import elephant.kernels as ekernels
import elephant.spike_train_dissimilarity as eds
import neo
import numpy as np
import pytest
import quantities as pq
import torch

from elephant_fit.compat import spike_train_dissimilarity as cds
from elephant_fit.statistics import dissimilarity as fds
from elephant_fit.statistics._padding import pad_spike_times

RTOL = 1e-9
# Distances are O(1)-O(10); float64 rounding of the summed kernels (up to ~1e3 terms) leaves
# absolute errors below 1e-12.
ATOL = 1e-12


def random_arrays(rng, n_trains=6, rate=20.0, duration=1.0, scale=1000.0):
    """Sorted spike-time arrays (ms by default), one empty train, two with shared spikes."""
    arrays = [
        np.sort(rng.uniform(0, duration, rng.poisson(rate * duration))) * scale
        for _ in range(n_trains)
    ]
    arrays[1] = arrays[1][:0]
    arrays[3] = np.sort(np.concatenate([arrays[3], arrays[2][:3]]))  # ties across trains
    return arrays


def as_trains(arrays, units="ms", t_stop=None):
    t_stop = (
        t_stop if t_stop is not None else max([1.0, *[float(a.max()) for a in arrays if a.size]])
    )
    return [neo.SpikeTrain(a, t_stop=t_stop, units=units) for a in arrays]


def padded(arrays, dtype=torch.float64):
    return pad_spike_times(arrays, dtype=dtype)


def brute_force_van_rossum(arrays, tau):
    def k(a, b):
        return np.exp(-np.abs(a[:, None] - b[None, :]) / tau).sum()

    n = len(arrays)
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            out[i, j] = (
                k(arrays[i], arrays[i]) + k(arrays[j], arrays[j]) - 2 * k(arrays[i], arrays[j])
            )
    return np.sqrt(np.maximum(out, 0))


# ------------------------------------------------------------------------------------------
# Reference against Elephant
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tau_ms", [0.5, 10.0, 100.0, 5000.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_van_rossum_matches_elephant(seed, tau_ms):
    arrays = random_arrays(np.random.default_rng(seed))
    trains = as_trains(arrays)
    reference = eds.van_rossum_distance(trains, tau_ms * pq.ms)
    times, mask = padded(arrays)
    ours = fds.van_rossum_distance(times, mask, tau_ms).numpy()
    np.testing.assert_allclose(ours, reference, rtol=RTOL, atol=ATOL)
    compat = cds.van_rossum_distance(trains, tau_ms * pq.ms)
    assert type(compat) is np.ndarray
    assert compat.dtype == reference.dtype
    np.testing.assert_allclose(compat, reference, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("q_per_ms", [0.01, 0.2, 5.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_victor_purpura_matches_elephant(seed, q_per_ms):
    arrays = random_arrays(np.random.default_rng(seed))
    trains = as_trains(arrays)
    q = q_per_ms / pq.ms
    reference = eds.victor_purpura_distance(trains, q)
    times, mask = padded(arrays)
    ours = fds.victor_purpura_distance(times, mask, q_per_ms).numpy()
    np.testing.assert_allclose(ours, reference, rtol=RTOL, atol=ATOL)
    for algorithm in ("fast", "intuitive"):
        compat = cds.victor_purpura_distance(trains, q, algorithm=algorithm)
        assert type(compat) is np.ndarray
        assert compat.dtype == np.float64
        np.testing.assert_allclose(compat, reference, rtol=RTOL, atol=ATOL)


KERNELS = [
    ekernels.TriangularKernel(5 * pq.ms),
    ekernels.GaussianKernel(3 * pq.ms),
    ekernels.LaplacianKernel(4 * pq.ms),
    ekernels.RectangularKernel(0.004 * pq.s),
    ekernels.EpanechnikovLikeKernel(5 * pq.ms),
    ekernels.ExponentialKernel(6 * pq.ms),
    ekernels.ExponentialKernel(6 * pq.ms, invert=True),
    ekernels.AlphaKernel(6 * pq.ms),
]


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: repr(k))
def test_victor_purpura_kernels_match_elephant(kernel):
    rng = np.random.default_rng(3)
    arrays = [np.sort(rng.uniform(0, 300, n)) for n in (8, 8, 5, 0, 11)]
    trains = as_trains(arrays)
    trains[2] = trains[2].rescale("s")  # mixed units
    for algorithm in ("fast", "intuitive"):
        reference = eds.victor_purpura_distance(
            trains, 0.1 / pq.ms, kernel=kernel, algorithm=algorithm
        )
        compat = cds.victor_purpura_distance(
            trains, 0.1 / pq.ms, kernel=kernel, algorithm=algorithm
        )
        np.testing.assert_allclose(compat, reference, rtol=RTOL, atol=ATOL)
    # asymmetric kernels give asymmetric matrices for trains with as many spikes (as Elephant)
    assert np.array_equal(compat, compat.T) == kernel.is_symmetric() or algorithm == "intuitive"


def test_unsorted_trains_sort_flag():
    rng = np.random.default_rng(4)
    arrays = [rng.permutation(np.arange(1.0, 40.0, 7.0)), rng.uniform(0, 40, 6)]
    trains = as_trains(arrays)
    for sort in (True, False):
        reference = eds.victor_purpura_distance(trains, 0.2 / pq.ms, sort=sort)
        compat = cds.victor_purpura_distance(trains, 0.2 / pq.ms, sort=sort)
        np.testing.assert_allclose(compat, reference, rtol=RTOL, atol=ATOL)
    sorted_distance = cds.van_rossum_distance(trains, 10 * pq.ms)
    np.testing.assert_allclose(
        sorted_distance, eds.van_rossum_distance(trains, 10 * pq.ms), rtol=RTOL, atol=ATOL
    )
    # sort=False promises sorted input; on unsorted trains the number is not the distance
    assert cds.van_rossum_distance(trains, 10 * pq.ms, sort=False)[0, 1] != sorted_distance[0, 1]


@pytest.mark.parametrize(
    ("function", "value"),
    [
        (cds.van_rossum_distance, 0 * pq.ms),
        (cds.van_rossum_distance, np.inf * pq.s),
        (cds.victor_purpura_distance, 0 / pq.s),
        (cds.victor_purpura_distance, np.inf / pq.ms),
    ],
)
def test_special_parameter_values_match_elephant(function, value):
    trains = as_trains(random_arrays(np.random.default_rng(5)))
    reference = getattr(eds, function.__name__)(trains, value)
    ours = function(trains, value)
    assert ours.dtype == reference.dtype
    assert ours.shape == reference.shape
    np.testing.assert_array_equal(ours, reference)


@pytest.mark.parametrize("n_trains", [0, 1])
def test_fewer_than_two_trains(n_trains):
    trains = as_trains(random_arrays(np.random.default_rng(6)))[:n_trains]
    for name, value in [("van_rossum_distance", 5 * pq.ms), ("victor_purpura_distance", 1 / pq.ms)]:
        reference = getattr(eds, name)(trains, value)
        ours = getattr(cds, name)(trains, value)
        assert ours.shape == reference.shape == (n_trains, n_trains)
        np.testing.assert_array_equal(ours, reference)


def test_unit_conversion_is_exact():
    first = neo.SpikeTrain([1.0], units="ms", t_stop=10.0)
    second = neo.SpikeTrain([5.0], units="ms", t_stop=10.0)
    assert (
        cds.van_rossum_distance([first, second], 10 * pq.ms)[0, 1]
        == (cds.van_rossum_distance([first, second], 0.01 * pq.s)[0, 1])
    )
    assert cds.victor_purpura_distance([first, second], 1 / (10 * pq.ms))[0, 1] == 0.4
    assert cds.victor_purpura_distance([first, second], 1 / (0.01 * pq.s))[0, 1] == 0.4


def test_identical_trains_are_exactly_zero_without_warning():
    # Elephant's rounding gives a tiny negative square here and warns (its regression test
    # for issue #679 asserts the warning); our sums for identical trains are identical.
    train = neo.SpikeTrain([0.1782, 0.2286, 0.2804, 0.4972, 0.5504], units="s", t_stop=4.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = cds.van_rossum_distance([train, train], 0.1 * pq.s)
    np.testing.assert_array_equal(result, np.zeros((2, 2)))


def test_negative_squares_warn_and_clip(monkeypatch):
    def negative(times, mask, time_constant):
        return torch.tensor([[0.0, -1e-15], [-1e-15, 0.0]], dtype=torch.float64)

    monkeypatch.setattr(cds, "van_rossum_squared_distance", negative)
    trains = as_trains([np.array([1.0]), np.array([2.0])])
    with pytest.warns(RuntimeWarning, match="very small negative values encountered"):
        result = cds.van_rossum_distance(trains, 1 * pq.ms)
    np.testing.assert_array_equal(result, np.zeros((2, 2)))


# ------------------------------------------------------------------------------------------
# Exactness, stability, chunking
# ------------------------------------------------------------------------------------------


def test_van_rossum_long_trains_small_tau_are_stable():
    rng = np.random.default_rng(7)
    arrays = [np.sort(rng.uniform(0, 1e4, 400)) for _ in range(3)]  # seconds; t / tau ~ 1e7
    arrays[2] = arrays[1] + 1e-4
    times, mask = padded(arrays)
    times.requires_grad_(True)
    tau = torch.tensor(1e-3, dtype=torch.float64, requires_grad=True)
    distance = fds.van_rossum_distance(times, mask, tau)
    assert torch.isfinite(distance).all()
    np.testing.assert_allclose(
        distance.detach().numpy(), brute_force_van_rossum(arrays, 1e-3), rtol=1e-9
    )
    distance.sum().backward()
    assert torch.isfinite(times.grad).all()
    assert torch.isfinite(tau.grad)


def test_van_rossum_infinite_tau_counts_spikes():
    arrays = random_arrays(np.random.default_rng(8))
    times, mask = padded(arrays)
    counts = torch.tensor([len(a) for a in arrays], dtype=torch.float64)
    expected = (counts[:, None] - counts[None, :]).abs()
    torch.testing.assert_close(fds.van_rossum_distance(times, mask, float("inf")), expected)


def test_chunked_equals_unchunked(monkeypatch):
    arrays = random_arrays(np.random.default_rng(9), n_trains=7)
    times, mask = padded(arrays)
    whole_vr = fds.van_rossum_distance(times, mask, 20.0)
    whole_vp = fds.victor_purpura_distance(times, mask, 0.1)
    monkeypatch.setitem(fds._CHUNK_ELEMENTS, "cpu", 1)
    monkeypatch.setitem(fds._DP_CHUNK_ELEMENTS, "cpu", 1)
    torch.testing.assert_close(
        fds.van_rossum_distance(times, mask, 20.0), whole_vr, rtol=1e-12, atol=1e-12
    )
    torch.testing.assert_close(
        fds.victor_purpura_distance(times, mask, 0.1), whole_vp, rtol=0, atol=0
    )


def test_victor_purpura_small_cases():
    times = torch.tensor(
        [[10.0, 20.0, 30.0], [12.0, 24.0, 30.0], [0.0, 0.0, 0.0]], dtype=torch.float64
    )
    mask = torch.tensor([[1, 1, 1], [1, 1, 1], [0, 0, 0]], dtype=torch.bool)
    d = fds.victor_purpura_distance(times, mask, 0.1)
    torch.testing.assert_close(d[0, 1], torch.tensor(0.6, dtype=torch.float64))
    assert d[0, 2] == d[1, 2] == 3
    assert torch.equal(d, d.T)
    assert (d.diagonal() == 0).all()
    assert fds.victor_purpura_distance(times, mask, 0.0)[0, 1] == 0  # free shifts
    assert fds.victor_purpura_distance(times, mask, 1e6)[0, 1] == 4  # only one spike matches


# ------------------------------------------------------------------------------------------
# Gradients, batching, dtypes, devices
# ------------------------------------------------------------------------------------------


def test_gradcheck_van_rossum():
    rng = np.random.default_rng(10)
    arrays = [np.sort(rng.uniform(0, 1, n)) for n in (4, 3, 0, 5)]
    times, mask = padded(arrays)
    times.requires_grad_(True)
    tau = torch.tensor(0.2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t, s: fds.van_rossum_distance(t, mask, s), (times, tau))
    # padding receives no gradient
    fds.van_rossum_distance(times, mask, tau).sum().backward()
    assert (times.grad[~mask] == 0).all()


def test_van_rossum_nan_stays_nan_and_zero_distance_has_zero_gradient():
    times, mask = padded([np.array([0.1, 0.3]), np.array([0.1, 0.3]), np.array([0.2])])
    times.requires_grad_(True)
    distance = fds.van_rossum_distance(times, mask, 0.1)
    assert distance[0, 1] == 0  # identical trains
    (grad,) = torch.autograd.grad(distance[0, 1], times)
    assert torch.equal(grad, torch.zeros_like(grad))
    # a NaN squared distance is not turned into a valid-looking 0
    nan_tau = torch.tensor(math.nan, dtype=torch.float64)
    assert torch.isnan(fds.van_rossum_distance(times, mask, nan_tau)[0, 2])


def test_gradcheck_victor_purpura():
    rng = np.random.default_rng(11)
    arrays = [np.sort(rng.uniform(0, 1, n)) for n in (4, 3, 0, 5)]
    times, mask = padded(arrays)
    times.requires_grad_(True)
    q = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda t, c: fds.victor_purpura_distance(t, mask, c), (times, q)
    )


def test_batched_equals_looped():
    rng = np.random.default_rng(12)
    sets = [random_arrays(rng, n_trains=4, rate=rng.uniform(5, 30)) for _ in range(6)]
    width = max(len(a) for s in sets for a in s)
    pieces = [padded([*s, np.full(width, 0.5)]) for s in sets]  # pad every set to one width
    times = torch.stack([p[0][:-1] for p in pieces]).reshape(2, 3, 4, width)
    mask = torch.stack([p[1][:-1] for p in pieces]).reshape(2, 3, 4, width)
    taus = torch.tensor([5.0, 50.0, 500.0], dtype=torch.float64)
    batched_vr = fds.van_rossum_distance(times, mask, taus)
    batched_vp = fds.victor_purpura_distance(times, mask, 0.05)
    for i in range(2):
        for j in range(3):
            torch.testing.assert_close(
                batched_vr[i, j], fds.van_rossum_distance(times[i, j], mask[i, j], float(taus[j]))
            )
            torch.testing.assert_close(
                batched_vp[i, j], fds.victor_purpura_distance(times[i, j], mask[i, j], 0.05)
            )


def test_float32_agrees_with_float64():
    arrays = [a / 1000.0 for a in random_arrays(np.random.default_rng(13))]  # seconds
    times, mask = padded(arrays)
    for function, parameter in [
        (fds.van_rossum_distance, 0.02),
        (fds.victor_purpura_distance, 30.0),
    ]:
        reference = function(times, mask, parameter)
        single = function(times.float(), mask, parameter)
        assert single.dtype == torch.float32
        # float32 spike times carry ~1e-7 s of rounding; distances are O(1)
        torch.testing.assert_close(single.double(), reference, rtol=1e-4, atol=1e-4)


@pytest.mark.gpu
def test_cuda_matches_cpu():
    arrays = [a / 1000.0 for a in random_arrays(np.random.default_rng(14), n_trains=20)]
    times, mask = padded(arrays, dtype=torch.float32)
    for function, parameter in [
        (fds.van_rossum_distance, 0.02),
        (fds.victor_purpura_distance, 30.0),
    ]:
        cpu = function(times, mask, parameter)
        cuda = function(times.cuda(), mask.cuda(), parameter)
        assert cuda.device.type == "cuda"
        torch.testing.assert_close(cuda.cpu(), cpu, rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------

GOOD_TIMES = torch.zeros(2, 3, dtype=torch.float64)
GOOD_MASK = torch.ones(2, 3, dtype=torch.bool)


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((np.zeros((2, 3)), GOOD_MASK, 1.0), TypeError, "`times` to be a torch.Tensor"),
        ((GOOD_TIMES.long(), GOOD_MASK, 1.0), TypeError, "`times` to be a floating-point"),
        ((GOOD_TIMES, GOOD_MASK.double(), 1.0), TypeError, "`mask` to be a bool"),
        ((GOOD_TIMES, GOOD_MASK[:, :2], 1.0), ValueError, "to have the shape"),
        ((GOOD_TIMES[0], GOOD_MASK[0], 1.0), ValueError, r"shape \(..., n_trains, max_spikes\)"),
        ((GOOD_TIMES, GOOD_MASK, 0.0), ValueError, "`time_constant` to be positive"),
        ((GOOD_TIMES, GOOD_MASK, -1.0), ValueError, "`time_constant` to be positive"),
        ((GOOD_TIMES, GOOD_MASK, "1"), TypeError, "`time_constant` to be a number"),
        ((GOOD_TIMES, GOOD_MASK, torch.ones(3)), ValueError, "broadcastable to the batch shape"),
    ],
)
def test_van_rossum_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        fds.van_rossum_distance(*args)


@pytest.mark.parametrize(
    ("cost_factor", "error", "match"),
    [
        (-1.0, ValueError, "`cost_factor` to be non-negative"),
        (float("inf"), ValueError, "`cost_factor` to be finite"),
        (float("nan"), ValueError, "`cost_factor` to be non-negative"),
        (None, TypeError, "`cost_factor` to be a number"),
        (torch.ones(2), ValueError, "`cost_factor` to be a scalar"),
    ],
)
def test_victor_purpura_bad_input(cost_factor, error, match):
    with pytest.raises(error, match=match):
        fds.victor_purpura_distance(GOOD_TIMES, GOOD_MASK, cost_factor)


ST = neo.SpikeTrain([1.0, 2.0], units="ms", t_stop=10.0)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: cds.van_rossum_distance([np.arange(3.0)], 1 * pq.ms), TypeError, "element 0"),
        (
            lambda: cds.van_rossum_distance([np.arange(3.0) * pq.Hz], 1 * pq.ms),
            TypeError,
            "time unit",
        ),
        (lambda: cds.van_rossum_distance([ST], 5.0), TypeError, "tau must be a time quantity"),
        (lambda: cds.van_rossum_distance([ST], 5 * pq.Hz), TypeError, "`time_constant`"),
        (lambda: cds.van_rossum_distance([ST, ST], [1, 2] * pq.ms), ValueError, "scalar"),
        (lambda: cds.van_rossum_distance([ST, ST], -1 * pq.ms), ValueError, "positive"),
        (lambda: cds.victor_purpura_distance([ST], 1 * pq.ms), TypeError, "rate quantity"),
        (lambda: cds.victor_purpura_distance([ST], 1.0), TypeError, "rate quantity"),
        (lambda: cds.victor_purpura_distance([[1, 2]], 1 * pq.Hz), TypeError, "time unit"),
        (lambda: cds.victor_purpura_distance([ST, ST], -1 * pq.Hz), ValueError, "non-negative"),
        (
            lambda: cds.victor_purpura_distance([ST, ST], 1 * pq.Hz, algorithm="slow"),
            NameError,
            "either 'fast' or 'intuitive'",
        ),
        (
            lambda: cds.victor_purpura_distance([ST, ST], kernel=ekernels.Kernel(1 * pq.ms)),
            NotImplementedError,
            "should not be used directly",
        ),
    ],
)
def test_compat_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_compat_errors_are_elephants_types():
    # the same calls raise the same exception types in Elephant
    for call, error in [
        (lambda m: m.van_rossum_distance([ST], 5.0), TypeError),
        (lambda m: m.victor_purpura_distance([ST], 1 * pq.ms), TypeError),
        (lambda m: m.victor_purpura_distance([ST, ST], 1 * pq.Hz, algorithm="x"), NameError),
        (lambda m: m.victor_purpura_distance([ST, ST], -1 * pq.Hz), ValueError),
    ]:
        for module in (eds, cds):
            with pytest.raises(error):
                call(module)
    # an unknown algorithm passes silently with fewer than two trains, as in Elephant
    assert cds.victor_purpura_distance([ST], 1 * pq.Hz, algorithm="x").shape == (1, 1)
