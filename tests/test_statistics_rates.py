"""Rates, time histograms and PSTHs: functional layer and Elephant compat twins."""

from __future__ import annotations

import warnings

import elephant.statistics as es
import neo
import numpy as np
import pytest
import quantities as pq
import torch
from elephant.conversion import BinnedSpikeTrain
from helpers import elephant_counts

from elephant_fit._quantities import rescaled_magnitude
from elephant_fit.compat._rates import mean_firing_rate as compat_mean_firing_rate
from elephant_fit.compat._rates import time_histogram as compat_time_histogram
from elephant_fit.statistics._padding import pad_spike_times
from elephant_fit.statistics.rates import (
    count_in_window,
    firing_rate,
    mean_firing_rate,
    mean_firing_rate_from_times,
    psth,
    time_histogram,
)

RTOL = 1e-12  # float64 reference comparisons: only summation order differs


def poisson_trials(rng, n_trials=4, n_units=3, duration=1.0, rate=30.0, units="s"):
    scale = 1000.0 if units == "ms" else 1.0
    return [
        [
            neo.SpikeTrain(
                np.sort(rng.uniform(0, duration, rng.poisson(rate * duration))) * scale,
                t_stop=duration * scale,
                units=units,
            )
            for _ in range(n_units)
        ]
        for _ in range(n_trials)
    ]


@pytest.fixture
def trials(rng):
    return poisson_trials(rng)


@pytest.fixture
def counts(trials):
    return torch.from_numpy(elephant_counts(trials, 10 * pq.ms))


# ------------------------------------------------------------------------------------ functional
def test_firing_rate_is_count_over_window():
    assert firing_rate(6.0, 1.0, 4.0) == 2.0
    torch.testing.assert_close(
        firing_rate(torch.tensor([3.0, 6.0]), 0.0, torch.tensor([3.0, 2.0])),
        torch.tensor([1.0, 3.0]),
    )


def test_count_in_window_includes_both_edges():
    times = torch.tensor([[0.0, 1.0, 2.0, 3.0], [1.0, 1.5, 2.0, 9.0]])
    mask = torch.tensor([[True, True, True, False], [True, True, True, True]])
    torch.testing.assert_close(count_in_window(times, 1.0, 2.0, mask), torch.tensor([2.0, 3.0]))
    assert count_in_window(times, 1.0, 2.0, dim=None).item() == 5


def test_mean_firing_rate_on_counts_matches_elephant(trials, counts):
    n_bins = counts.shape[1]
    rates = mean_firing_rate(counts, bin_size=0.01)
    expected = [
        [
            es.mean_firing_rate(st, t_start=0 * pq.s, t_stop=n_bins * 0.01 * pq.s).item()
            for st in trial
        ]
        for trial in trials
    ]
    np.testing.assert_allclose(rates.numpy(), expected, rtol=RTOL)


def test_mean_firing_rate_from_times_matches_elephant(rng):
    trains = [np.sort(rng.uniform(0, 2, n)) for n in (0, 1, 5, 40)]
    trains[3][[0, -1]] = [0.5, 1.5]  # spikes exactly on the window edges are counted
    times, mask = pad_spike_times(trains)
    rates = mean_firing_rate_from_times(times, mask, 0.5, 1.5)
    expected = [
        es.mean_firing_rate(neo.SpikeTrain(t, t_stop=2, units="s"), 0.5 * pq.s, 1.5 * pq.s).item()
        if len(t)  # Elephant raises for an empty train with a window
        else 0.0
        for t in trains
    ]
    np.testing.assert_allclose(rates.numpy(), expected, rtol=RTOL)
    per_train = mean_firing_rate_from_times(
        times, mask, torch.tensor([0.0, 0.0, 0.5, 0.5]), torch.full((4,), 1.5)
    )
    assert per_train[0] == 0
    assert per_train[3] == rates[3]


@pytest.mark.parametrize("output", ["counts", "mean", "rate"])
@pytest.mark.parametrize("binary", [False, True])
def test_time_histogram_matches_elephant_per_trial(trials, output, binary):
    counts = torch.from_numpy(elephant_counts(trials, 5 * pq.ms))
    hist = time_histogram(counts, bin_size=0.005, output=output, binary=binary)
    for k, trial in enumerate(trials):
        reference = es.time_histogram(trial, 5 * pq.ms, output=output, binary=binary)
        np.testing.assert_allclose(
            hist[k].numpy(),
            reference.magnitude[:, 0] * (1000.0 if output == "rate" else 1.0),
            rtol=RTOL,
        )


def test_time_histogram_batched_equals_looped(counts):
    batch = time_histogram(counts, 0.01, "rate")
    for k in range(counts.shape[0]):
        torch.testing.assert_close(batch[k], time_histogram(counts[k], 0.01, "rate"))


def test_psth_is_trial_mean_in_counts_or_hz(counts):
    torch.testing.assert_close(psth(counts), counts.mean(dim=0))
    torch.testing.assert_close(psth(counts, bin_size=0.01), counts.mean(dim=0) / 0.01)
    stacked = torch.stack([counts, 2 * counts])
    torch.testing.assert_close(psth(stacked)[1], 2 * psth(counts))


def test_psth_kernel_is_a_same_size_convolution(counts):
    kernel = torch.tensor([0.1, 0.2, 0.3, 0.25, 0.15], dtype=torch.float64)  # asymmetric
    smoothed = psth(counts, bin_size=0.01, kernel=kernel)
    mean = (counts.mean(dim=0) / 0.01).numpy()
    for j in range(mean.shape[1]):
        expected = np.convolve(mean[:, j], kernel.numpy(), mode="same")
        np.testing.assert_allclose(smoothed[:, j].numpy(), expected, rtol=1e-12, atol=1e-12)
    long_kernel = torch.ones(2 * counts.shape[1] + 1, dtype=torch.float64)
    assert psth(counts, kernel=long_kernel).shape == counts.shape[1:]


def test_gradients():
    torch.manual_seed(1)
    counts = torch.rand(3, 6, 2, dtype=torch.float64, requires_grad=True)
    kernel = torch.rand(3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda c: mean_firing_rate(c, 0.01), (counts,))
    for output in ("counts", "mean", "rate"):
        assert torch.autograd.gradcheck(lambda c, o=output: time_histogram(c, 0.01, o), (counts,))
    assert torch.autograd.gradcheck(lambda c, k: psth(c, 0.01, k), (counts, kernel))
    times, mask = pad_spike_times([np.array([0.1, 0.4, 0.7]), np.array([0.2])])
    edges = torch.tensor([0.05, 0.9], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda e: mean_firing_rate_from_times(times, mask, e[0], e[1]), (edges,)
    )


def test_float32_agrees_with_float64(counts):
    kernel = torch.tensor([0.25, 0.5, 0.25], dtype=torch.float64)
    for fn in (
        lambda c: mean_firing_rate(c, 0.01),
        lambda c: time_histogram(c, 0.01, "rate", binary=True),
        lambda c: psth(c, 0.01, kernel.to(c.dtype)),
    ):
        single = fn(counts.float())
        assert single.dtype == torch.float32
        torch.testing.assert_close(single.double(), fn(counts), rtol=1e-6, atol=1e-4)


@pytest.mark.gpu
def test_cuda_matches_cpu(counts):
    kernel = torch.tensor([0.25, 0.5, 0.25])
    cpu = counts.float()
    gpu = cpu.cuda()
    torch.testing.assert_close(psth(gpu, 0.01, kernel).cpu(), psth(cpu, 0.01, kernel))
    torch.testing.assert_close(
        time_histogram(gpu, 0.01, "mean").cpu(), time_histogram(cpu, 0.01, "mean")
    )
    torch.testing.assert_close(mean_firing_rate(gpu, 0.01).cpu(), mean_firing_rate(cpu, 0.01))
    times, mask = pad_spike_times([np.array([0.1, 0.4, 0.7]), np.array([0.2])], dtype=torch.float32)
    torch.testing.assert_close(
        mean_firing_rate_from_times(times.cuda(), mask.cuda(), 0.0, 1.0).cpu(),
        mean_firing_rate_from_times(times, mask, 0.0, 1.0),
    )


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda c: mean_firing_rate(c.numpy(), 0.01), TypeError, "`counts` to be a torch.Tensor"),
        (lambda c: mean_firing_rate(c.long(), 0.01), TypeError, "floating-point"),
        (lambda c: mean_firing_rate(c[0, 0], 0.01), ValueError, r"\(\.\.\., n_bins, n_neurons\)"),
        (lambda c: mean_firing_rate(c, 0.0), ValueError, "`bin_size` to be a positive"),
        (lambda c: mean_firing_rate(c, 10 * pq.ms), TypeError, "`bin_size` to be a positive"),
        (lambda c: time_histogram(c, 0.01, "Hz"), ValueError, "`output` to be one of"),
        (lambda c: time_histogram(c, None, "rate"), ValueError, "`bin_size` for output='rate'"),
        (lambda c: psth(c[0]), ValueError, "n_trials, n_bins, n_neurons"),
        (lambda c: psth(c, kernel=[0.5, 0.5]), TypeError, "`kernel` to be a 1-D torch.Tensor"),
        (lambda c: psth(c, kernel=torch.ones(4)), ValueError, "odd length"),
        (lambda c: psth(c, kernel=torch.ones(3, 1)), ValueError, "odd length"),
        (lambda c: psth(c, kernel=torch.ones(3, dtype=torch.long)), TypeError, "floating-point"),
    ],
)
def test_functional_bad_input(counts, call, error, match):
    with pytest.raises(error, match=match):
        call(counts)


# ------------------------------------------------------------------------- compat: mean rate
def error_of(call, *args, **kwargs):
    """The exception ``call`` raises (the test fails if it raises none)."""
    try:
        call(*args, **kwargs)
    except Exception as exc:  # any error of the reference is the expectation
        return exc
    pytest.fail(f"{call.__name__} raised nothing")


def assert_same_result(ours, reference):
    assert type(ours) is type(reference)
    if isinstance(reference, pq.Quantity):
        assert ours.dimensionality == reference.dimensionality
    np.testing.assert_allclose(np.asarray(ours), np.asarray(reference), rtol=RTOL)
    assert np.shape(ours) == np.shape(reference)


def mean_rate_cases(rng):
    st = neo.SpikeTrain(np.sort(rng.uniform(0.5, 9.5, 30)), units="ms", t_start=0.5, t_stop=10.0)
    sliced = st.time_slice(2 * pq.ms, 8 * pq.ms)  # t_start/t_stop kept in other units
    array_2d = rng.uniform(0, 10, (3, 7))
    array_3d = rng.uniform(0, 10, (2, 3, 4))
    return [
        ((st,), {}),
        ((sliced,), {}),
        ((st.rescale("s"),), {}),
        ((st,), {"t_start": 1 * pq.ms, "t_stop": 0.008 * pq.s}),
        ((st,), {"t_stop": 5000 * pq.us}),
        ((st.magnitude * pq.ms,), {}),
        ((array_2d * pq.s,), {"axis": 1}),
        ((array_2d * pq.s,), {"axis": 0, "t_start": 1 * pq.s}),
        ((array_2d,), {}),
        ((array_2d,), {"axis": 0}),
        ((array_2d,), {"axis": 1, "t_start": 2.0, "t_stop": 8.0}),
        ((array_2d,), {"axis": -1}),
        ((array_3d,), {"axis": 2, "t_stop": 9.0}),
        ((array_3d,), {"axis": 1}),
        ((list(st.magnitude),), {"t_start": 1.0}),
        ((np.array([1, 2, 3, 4]),), {}),
    ]


def test_compat_mean_firing_rate_matches_elephant(rng):
    for args, kwargs in mean_rate_cases(rng):
        assert_same_result(
            compat_mean_firing_rate(*args, **kwargs), es.mean_firing_rate(*args, **kwargs)
        )


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (([],), {}),
        ((None,), {}),
        ((0.1,), {}),
        ((np.array([1.0, 2.0]),), {"t_start": 0 * pq.s}),
        ((np.array([1.0, 2.0]),), {"t_stop": 10 * pq.s}),
        ((np.array([1.0, 2.0]) * pq.s,), {"t_start": 0.4}),
        ((np.array([1.0, 2.0]) * pq.s,), {"t_stop": 1.0}),
        ((np.array([1.0, 2.0]) * pq.s,), {"t_stop": 1.0 * pq.Hz}),
        ((np.array([]) * pq.s,), {}),
        ((np.ones((2, 3)),), {"axis": 2}),
    ],
)
def test_compat_mean_firing_rate_errors_like_elephant(args, kwargs):
    expected = error_of(es.mean_firing_rate, *args, **kwargs)
    with pytest.raises(type(expected)):
        compat_mean_firing_rate(*args, **kwargs)


def test_compat_mean_firing_rate_divergence_scalar_t_stop_with_axis():
    # Elephant raises AxisError here (it expands a 0-d t_stop); we broadcast the scalar.
    data = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]) * pq.s
    result = compat_mean_firing_rate(data, t_start=0 * pq.s, t_stop=4 * pq.s, axis=1)
    np.testing.assert_allclose(result.magnitude, [0.75, 0.25])


def test_rescaled_magnitude_is_quantities_rescale():
    value = np.array([1.5, 2.25, 1e-3]) * pq.s
    for units in (pq.ms, pq.us, pq.s, pq.min):
        assert np.array_equal(rescaled_magnitude(value, units), value.rescale(units).magnitude)
    single = np.float32(3.3) * pq.ms
    assert rescaled_magnitude(single, pq.s) == single.rescale(pq.s).magnitude


# ------------------------------------------------------------------------- compat: histogram
def assert_same_signal(ours, reference):
    assert isinstance(ours, neo.AnalogSignal)
    assert ours.dtype == reference.dtype
    assert ours.shape == reference.shape
    assert ours.units == reference.units
    np.testing.assert_array_equal(ours.magnitude, reference.magnitude)
    assert ours.t_start == reference.t_start
    assert ours.t_start.units == reference.t_start.units
    assert ours.sampling_period == reference.sampling_period
    assert ours.annotations == reference.annotations


@pytest.mark.parametrize("output", ["counts", "mean", "rate"])
@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("units", ["s", "ms"])
def test_compat_time_histogram_matches_elephant(rng, output, binary, units):
    trains = [st for trial in poisson_trials(rng, 3, 4, 1.0, 60.0, units) for st in trial]
    trains[0] = trains[0].merge(neo.SpikeTrain([0.25, 0.25] * pq.s, t_stop=trains[0].t_stop))
    for bin_size, window in (
        (5 * pq.ms, {}),
        (0.007 * pq.s, {"t_start": 0.1 * pq.s}),
        (3 * pq.ms, {"t_start": 100 * pq.ms, "t_stop": 0.9 * pq.s}),
        (1 * pq.s, {}),
    ):
        args = (trains, bin_size)
        kwargs = {"output": output, "binary": binary, **window}
        with warnings.catch_warnings(record=True) as ours_warnings:
            warnings.simplefilter("always")
            ours = compat_time_histogram(*args, **kwargs)
        with warnings.catch_warnings(record=True) as their_warnings:
            warnings.simplefilter("always")
            reference = es.time_histogram(*args, **kwargs)
        assert_same_signal(ours, reference)
        assert [str(w.message) for w in ours_warnings] == [
            str(w.message) for w in their_warnings if w.category is UserWarning
        ]


def test_compat_time_histogram_edges_and_single_train():
    st = neo.SpikeTrain([0.0, 0.1, 0.5, 1.0, 1.5, 2.0, 3.0] * pq.s, t_stop=3.0 * pq.s)
    for output in ("counts", "mean", "rate"):
        with pytest.warns(UserWarning, match="Binning discarded 1 last spike"):
            ours = compat_time_histogram(st, 0.5 * pq.s, output=output)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = es.time_histogram(st, 0.5 * pq.s, output=output)
        assert_same_signal(ours, reference)
    # rounding: 0.3 / 0.1 lands just below 3; Elephant's tolerance moves it to bin 3
    edge = neo.SpikeTrain([0.3, 0.7] * pq.s, t_stop=1.0 * pq.s)
    assert_same_signal(
        compat_time_histogram([edge], 0.1 * pq.s), es.time_histogram([edge], 0.1 * pq.s)
    )


def test_compat_time_histogram_binned_inputs(trials):
    trains = trials[0]
    binned = BinnedSpikeTrain(trains, bin_size=10 * pq.ms)
    reference = es.time_histogram(trains, 10 * pq.ms, output="rate")
    assert_same_signal(compat_time_histogram(binned, 10 * pq.ms, output="rate"), reference)
    in_seconds = es.time_histogram(trains, 0.01 * pq.s, output="rate")
    assert_same_signal(compat_time_histogram(binned, None, output="rate"), in_seconds)
    binary = es.time_histogram(trains, 10 * pq.ms, binary=True)
    assert_same_signal(compat_time_histogram(binned, 10 * pq.ms, binary=True), binary)
    with pytest.raises(ValueError, match="`bin_size` to match the BinnedSpikeTrain"):
        compat_time_histogram(binned, 5 * pq.ms)
    with pytest.raises(ValueError, match="`t_start` to match"):
        compat_time_histogram(binned, 10 * pq.ms, t_start=0.5 * pq.s)
    matrix = binned.to_array()
    for kwargs in ({"t_start": 0 * pq.s}, {"t_stop": 1 * pq.s}):
        for output in ("counts", "mean", "rate"):
            assert_same_signal(
                compat_time_histogram(matrix, 10 * pq.ms, output=output, **kwargs),
                es.time_histogram(matrix, 10 * pq.ms, output=output, **kwargs),
            )


def test_compat_time_histogram_deprecated_binsize(trials):
    with pytest.warns(DeprecationWarning, match="'binsize' is deprecated"):
        ours = compat_time_histogram(trials[0], binsize=10 * pq.ms)
    assert_same_signal(ours, es.time_histogram(trials[0], 10 * pq.ms))


def histogram_error_cases():
    a = neo.SpikeTrain([0.1, 0.5] * pq.s, t_stop=1 * pq.s)
    late = neo.SpikeTrain([0.6] * pq.s, t_start=0.5 * pq.s, t_stop=1 * pq.s)
    short = neo.SpikeTrain([0.1] * pq.s, t_stop=0.8 * pq.s)
    in_ms = neo.SpikeTrain([100.0] * pq.ms, t_stop=1000 * pq.ms)
    return [
        (([a, late], pq.s), {}),
        (([a, short], pq.s), {}),
        (([a, in_ms], pq.s), {}),
        (([a], pq.s), {"t_start": -1 * pq.s}),
        (([a], pq.s), {"t_stop": 2 * pq.s}),
        (([a], 100 * pq.ms), {"t_start": 0.6 * pq.s, "t_stop": 0.4 * pq.s}),
        (([a], 2 * pq.s), {}),
        (([a], -1 * pq.ms), {}),
        (([a], pq.s), {"t_start": 0.0}),
        (([a], pq.s), {"output": " "}),
        (([a], pq.s), {"output": None}),
        (([a], None), {}),
        (([], pq.s), {}),
        (([[a]], pq.s), {}),
        ((np.ones(3), pq.s), {"t_start": 0 * pq.s}),
        ((np.ones((2, 3)), pq.s), {}),
        ((np.ones((2, 3)), None), {"t_start": 0 * pq.s}),
        ((np.ones((2, 3)), pq.s), {"t_start": 0 * pq.s, "t_stop": 5 * pq.s}),
        (([a], 1 * pq.Hz), {}),
    ]


@pytest.mark.parametrize(("args", "kwargs"), histogram_error_cases())
def test_compat_time_histogram_errors_like_elephant(args, kwargs):
    expected = error_of(es.time_histogram, *args, **kwargs)
    with pytest.raises(type(expected)) as ours:
        compat_time_histogram(*args, **kwargs)
    if isinstance(expected, (ValueError, TypeError)):
        assert str(ours.value) == str(expected)


def test_compat_time_histogram_divergences(trials):
    # Elephant fails deep inside (AttributeError) for a plain-number bin_size: we say why.
    with pytest.raises(TypeError, match="`bin_size` to be a time quantity"):
        compat_time_histogram(trials[0], 0.01)
