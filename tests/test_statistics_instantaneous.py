"""instantaneous_rate: functional layer and compat twin against elephant.statistics (1.2.1)."""

from __future__ import annotations

import itertools
import unittest
import warnings

import elephant.kernels as ek
import elephant.statistics as es
import neo
import numpy as np
import pytest
import quantities as pq
import torch
from elephant.trials import TrialsFromBlock, TrialsFromLists

import elephant_fit.compat.kernels as ck
from elephant_fit.compat._instantaneous import instantaneous_rate
from elephant_fit.statistics._padding import pad_spike_times
from elephant_fit.statistics.instantaneous import (
    histogram_spike_times,
    instantaneous_rate_from_counts,
    optimal_kernel_bandwidth,
    smooth_counts,
)
from elephant_fit.statistics.instantaneous import instantaneous_rate as functional_rate
from elephant_fit.statistics.kernels import (
    ELEPHANT_CLASS_NAMES,
    KERNEL_NAMES,
    SmoothingKernel,
    kernel_grid,
)

CLASS_NAMES = list(ELEPHANT_CLASS_NAMES.values())


def trains(rng, n=3, duration=2.0, units="s", rate=15.0, t_start=0.0):
    scale = 1000.0 if units == "ms" else 1.0
    return [
        neo.SpikeTrain(
            np.sort(rng.uniform(t_start, duration, rng.poisson(rate * (duration - t_start))))
            * scale,
            t_start=t_start * scale,
            t_stop=duration * scale,
            units=units,
        )
        for _ in range(n)
    ]


def assert_same_signal(ours, theirs):
    """Same type, shape, units, time axis, annotations; values to rtol 1e-9.

    atol: Elephant convolves with an FFT whose round-off is ~1e-16 of the largest value, so
    samples far from any spike hold noise at that level; 1e-12 of the peak rate is far above it.
    """
    assert type(ours) is type(theirs)
    assert ours.shape == theirs.shape
    assert ours.units == theirs.units
    assert ours.t_start.units == theirs.t_start.units
    assert ours.sampling_period.units == theirs.sampling_period.units
    assert float(ours.sampling_period.magnitude) == float(theirs.sampling_period.magnitude)
    np.testing.assert_allclose(ours.t_start.magnitude, theirs.t_start.magnitude, rtol=1e-12)
    assert ours.annotations == theirs.annotations
    assert ours.array_annotations.keys() == theirs.array_annotations.keys()
    scale = max(float(np.abs(theirs.magnitude).max()), 1e-300)
    np.testing.assert_allclose(ours.magnitude, theirs.magnitude, rtol=1e-9, atol=1e-12 * scale)


def both(spiketrains, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return instantaneous_rate(spiketrains, *args, **kwargs), es.instantaneous_rate(
            spiketrains, *args, **kwargs
        )


# ----------------------------------------------------------------------------- compat vs Elephant
@pytest.mark.parametrize("class_name", CLASS_NAMES)
def test_every_kernel_and_option_matches_elephant(class_name, rng):
    sts = trains(rng, n=2, units="ms")
    for invert, trim, center, pool, cutoff in itertools.product(
        (False, True), (False, True), (False, True), (False, True), (2.0, 5.0)
    ):
        kernel = getattr(ek, class_name)(rng.uniform(5, 60) * pq.ms, invert=invert)
        ours, theirs = both(
            sts,
            sampling_period=rng.choice([1.0, 2.5, 0.7]) * pq.ms,
            kernel=kernel,
            cutoff=cutoff,
            trim=trim,
            center_kernel=center,
            pool_spike_trains=pool,
        )
        assert_same_signal(ours, theirs)


@pytest.mark.parametrize("trim", [False, True])
def test_border_correction_matches_elephant(trim, rng):
    sts = trains(rng, n=3, duration=3.0)
    kernel = ek.GaussianKernel(80 * pq.ms)
    ours, theirs = both(sts, 5 * pq.ms, kernel, border_correction=True, trim=trim)
    assert_same_signal(ours, theirs)
    single_ours, single_theirs = both(
        sts[:1], 5 * pq.ms, kernel, border_correction=True, pool_spike_trains=True
    )
    assert_same_signal(single_ours, single_theirs)


def test_window_units_and_period_units_match_elephant(rng):
    sts = trains(rng, n=2, duration=4.0, t_start=0.5)
    kernel = ek.LaplacianKernel(30 * pq.ms)
    for t_start, t_stop, period in [
        (1000 * pq.ms, 3.2 * pq.s, 3 * pq.ms),
        (None, 3500 * pq.ms, 0.01 * pq.s),
        (0.7 * pq.s, None, 7 * pq.ms),
        (None, None, 0.35 * pq.s),  # a leftover shorter than one period is dropped
    ]:
        ours, theirs = both(sts, period, kernel, t_start=t_start, t_stop=t_stop)
        assert_same_signal(ours, theirs)


def test_single_spiketrain_and_spikes_on_bin_edges():
    spikes = np.array([0.0, 0.1, 0.25, 0.5, 0.999, 1.0])  # on edges and at t_stop
    st = neo.SpikeTrain(spikes, t_stop=1.0, units="s")
    for period in (0.05, 0.1, 0.001):
        ours, theirs = both(st, period * pq.s, ek.TriangularKernel(0.1 * pq.s))
        assert_same_signal(ours, theirs)


def test_auto_kernel_matches_elephant(rng):
    for index in range(4):
        st = trains(rng, n=1, duration=5.0, rate=8.0 + 4 * index)[0]
        ours, theirs = both(st, 10 * pq.ms, "auto", border_correction=index % 2 == 0)
        assert_same_signal(ours, theirs)
        assert ours.annotations["kernel"]["type"] == "GaussianKernel"


def test_optimal_kernel_bandwidth_matches_elephant(rng):
    for index in range(25):
        spikes = np.sort(rng.uniform(0, rng.uniform(1, 30), rng.integers(3, 200)))
        if index % 2:
            spikes = np.round(spikes, 2)  # repeated spike times
        expected = es.optimal_kernel_bandwidth(spikes)["optw"]
        if expected is None:
            with pytest.raises(ValueError, match="Unable to calculate"):
                optimal_kernel_bandwidth(torch.from_numpy(spikes))
        else:
            assert optimal_kernel_bandwidth(torch.from_numpy(spikes)) == pytest.approx(
                expected, rel=1e-9
            )


@pytest.mark.parametrize("spikes", [[2.12, 2.13, 2.15], [1.0], [], [3.0, 3.0]])
def test_optimal_kernel_bandwidth_failures(spikes):
    with pytest.raises(ValueError, match="Unable to calculate optimal kernel width"):
        optimal_kernel_bandwidth(torch.tensor(spikes, dtype=torch.float64))
    st = neo.SpikeTrain(spikes, t_stop=10, units="s")
    with pytest.raises(ValueError, match="Unable to calculate optimal kernel width"):
        instantaneous_rate(st, 1 * pq.ms)


@pytest.mark.parametrize(
    ("pool_trials", "pool_spike_trains"), list(itertools.product([False, True], repeat=2))
)
def test_trials_match_elephant(pool_trials, pool_spike_trains, rng):
    lists = [trains(rng, n=3, duration=1.5) for _ in range(4)]
    trials = TrialsFromLists(lists)
    kernel = ek.GaussianKernel(40 * pq.ms)
    options = {"pool_trials": pool_trials, "pool_spike_trains": pool_spike_trains}
    ours, theirs = both(trials, 5 * pq.ms, kernel, border_correction=True, **options)
    if isinstance(theirs, list):
        assert isinstance(ours, list)
        assert len(ours) == len(theirs)
        for one, other in zip(ours, theirs, strict=True):
            assert_same_signal(one, other)
    else:
        assert_same_signal(ours, theirs)


def test_trials_with_different_windows_and_auto(rng):
    block = neo.Block()
    for index in range(3):
        segment = neo.Segment()
        segment.spiketrains.extend(trains(rng, n=1, duration=2.0 + index, t_start=0.1 * index))
        block.segments.append(segment)
    trials = TrialsFromBlock(block)
    for kernel in ("auto", ek.ExponentialKernel(50 * pq.ms, invert=True)):
        ours, theirs = both(trials, 4 * pq.ms, kernel)
        for one, other in zip(ours, theirs, strict=True):
            assert_same_signal(one, other)


def test_compat_and_elephant_kernels_give_the_same_rate(rng):
    sts = trains(rng, n=2)
    for class_name in CLASS_NAMES:
        ours = instantaneous_rate(sts, 2 * pq.ms, getattr(ck, class_name)(25 * pq.ms, invert=True))
        theirs = instantaneous_rate(
            sts, 2 * pq.ms, getattr(ek, class_name)(25 * pq.ms, invert=True)
        )
        np.testing.assert_array_equal(ours.magnitude, theirs.magnitude)
        assert ours.annotations == theirs.annotations


def test_cutoff_warning(rng):
    sts = trains(rng, n=1)
    with pytest.warns(UserWarning, match="minimally allowed width"):
        instantaneous_rate(sts, 1 * pq.ms, ek.GaussianKernel(10 * pq.ms), cutoff=1)
    with pytest.warns(UserWarning, match="minimally allowed width"):
        functional_rate(
            torch.zeros(1, 1), torch.ones(1, 1, dtype=torch.bool), 0.001,
            SmoothingKernel("gaussian", 0.01), t_start=0.0, t_stop=1.0, cutoff=0.5,
        )  # fmt: skip


def test_border_correction_with_pooled_trains_diverges_from_elephant(rng):
    """Elephant raises IndexError (it rescales a pooled column per input train); we pool after."""
    sts = trains(rng, n=3)
    kernel = ek.GaussianKernel(50 * pq.ms)
    with pytest.raises(IndexError):
        es.instantaneous_rate(
            sts, 2 * pq.ms, kernel, border_correction=True, pool_spike_trains=True
        )
    pooled = instantaneous_rate(
        sts, 2 * pq.ms, kernel, border_correction=True, pool_spike_trains=True
    )
    each = es.instantaneous_rate(sts, 2 * pq.ms, kernel, border_correction=True)
    np.testing.assert_allclose(pooled.magnitude[:, 0], each.magnitude.mean(axis=1), rtol=1e-9)


BAD_COMPAT = [
    ({"spiketrains": [1, 2, 3] * pq.s}, TypeError, "list of neo.SpikeTrain"),
    ({"sampling_period": 0.01}, TypeError, "time Quantity"),
    ({"sampling_period": -0.01 * pq.ms}, ValueError, "non-negative"),
    ({"sampling_period": 0 * pq.ms}, ValueError, "positive"),
    ({"kernel": "NONE"}, TypeError, "'kernel' must be instance"),
    ({"kernel": "wrong_string"}, TypeError, "'kernel' must be instance"),
    ({"cutoff": 20 * pq.ms}, TypeError, "'cutoff' must be float"),
    ({"t_start": 2}, TypeError, "'t_start' must be a time Quantity"),
    ({"t_stop": 20 * pq.mV}, TypeError, "'t_stop' must be a time Quantity"),
    ({"trim": 1}, TypeError, "'trim' must be bool"),
    ({"kernel": "auto", "spiketrains": "two"}, ValueError, "Cannot estimate a kernel"),
    ({"kernel": ek.AlphaKernel(1 * pq.s), "border_correction": True}, ValueError, "Gaussian"),
    ({"kernel": ek.GaussianKernel(1 * pq.s), "trim": True}, ValueError, "Kernel length"),
    ({"t_start": 1.999 * pq.s}, ValueError, "holds no whole"),
    ({"spiketrains": []}, TypeError, "list of SpikeTrain"),
]


@pytest.mark.parametrize(("overrides", "error", "match"), BAD_COMPAT)
def test_compat_bad_input(overrides, error, match, rng):
    sts = trains(rng, n=2)
    arguments = {
        "spiketrains": sts[0],
        "sampling_period": 10 * pq.ms,
        "kernel": ek.TriangularKernel(30 * pq.ms),
    }
    arguments.update(overrides)
    if isinstance(arguments["spiketrains"], str):
        arguments["spiketrains"] = sts
    with pytest.raises(error, match=match):
        instantaneous_rate(**arguments)


def test_compat_rejects_inconsistent_trains(rng):
    sts = trains(rng, n=1) + trains(rng, n=1, duration=3.0)
    with pytest.raises(ValueError, match="same t_stop"):
        instantaneous_rate(sts, 1 * pq.ms, ek.GaussianKernel(10 * pq.ms))


def test_elephant_instantaneous_rate_suite_passes_with_compat(monkeypatch):
    """Elephant's InstantaneousRateTestCase with its instantaneous_rate (and kernels) replaced."""
    from elephant.test import test_statistics

    monkeypatch.setattr(es, "instantaneous_rate", instantaneous_rate)
    for name in ["Kernel", "SymmetricKernel", *CLASS_NAMES]:
        monkeypatch.setattr(ek, name, getattr(ck, name))
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(
        test_statistics.InstantaneousRateTestCase
    )
    result = unittest.TestResult()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        suite.run(result)
    assert result.testsRun == 29
    assert len(result.skipped) == 1  # Elephant skips test_instantaneous_rate_spikes_on_edges
    assert result.wasSuccessful(), result.failures + result.errors


# ----------------------------------------------------------------------------- functional layer
def padded(spike_lists, dtype=torch.float64):
    return pad_spike_times([np.asarray(s) for s in spike_lists], dtype=dtype)


def test_histogram_matches_numpy(rng):
    period, n_bins, t_start = 0.003, 333, 0.25
    lists = [
        np.concatenate([rng.uniform(0, 1.5, 100), t_start + period * rng.integers(0, 400, 30)])
        for _ in range(4)
    ]
    times, mask = padded(lists)
    counts = histogram_spike_times(times, mask, t_start, period, n_bins)
    assert counts.shape == (n_bins, 4)
    for column, spikes in enumerate(lists):
        expected, _ = np.histogram(spikes, bins=n_bins, range=(t_start, t_start + n_bins * period))
        np.testing.assert_array_equal(counts[:, column].numpy(), expected)


def test_batched_equals_looped_and_pooling(rng):
    lists = [[np.sort(rng.uniform(0, 2, rng.poisson(20))) for _ in range(3)] for _ in range(4)]
    times, mask = padded([s for trial in lists for s in trial])
    times, mask = times.reshape(4, 3, -1), mask.reshape(4, 3, -1)
    kernel = SmoothingKernel("epanechnikovlike", 0.04)
    options = {"t_start": 0.0, "t_stop": 2.0, "border_correction": False}
    batched = functional_rate(times, mask, 0.002, kernel, **options)
    for index, trial in enumerate(lists):
        one_times, one_mask = padded(trial)
        looped = functional_rate(one_times, one_mask, 0.002, kernel, **options).rate
        torch.testing.assert_close(batched.rate[index], looped, rtol=1e-12, atol=1e-12)
    pooled = functional_rate(times, mask, 0.002, kernel, pool_trials=True, **options).rate
    torch.testing.assert_close(pooled, batched.rate.mean(dim=0))
    both_pooled = functional_rate(
        times, mask, 0.002, kernel, pool_trials=True, pool_spike_trains=True, **options
    ).rate
    assert both_pooled.shape == (1000, 1)
    torch.testing.assert_close(both_pooled[:, 0], batched.rate.mean(dim=(0, 2)))


def test_counts_path_equals_times_path(rng):
    lists = [np.sort(rng.uniform(0, 1, rng.poisson(30))) for _ in range(3)]
    times, mask = padded(lists)
    kernel = SmoothingKernel("gaussian", 0.02)
    for trim, border in itertools.product((False, True), repeat=2):
        options = {"trim": trim, "border_correction": border}
        from_times = functional_rate(times, mask, 0.001, kernel, t_start=0.0, t_stop=1.0, **options)
        counts = histogram_spike_times(times, mask, 0.0, 0.001, 1000)
        from_counts = instantaneous_rate_from_counts(counts, 0.001, kernel, **options)
        torch.testing.assert_close(from_counts.rate, from_times.rate, rtol=1e-12, atol=1e-10)
        assert from_counts.t_start == from_times.t_start


def test_smooth_counts_matches_direct_convolution(rng):
    counts = torch.tensor(rng.poisson(0.3, (2, 50, 3)), dtype=torch.float64)
    weights = torch.tensor(rng.uniform(0, 1, 7))
    same = smooth_counts(counts, weights)
    valid = smooth_counts(counts, weights, trim=True)
    for trial, train in itertools.product(range(2), range(3)):
        full = np.convolve(counts[trial, :, train].numpy(), weights.numpy())
        np.testing.assert_allclose(same[trial, :, train].numpy(), full[3:53], atol=1e-12)
        np.testing.assert_allclose(valid[trial, :, train].numpy(), full[6:50], atol=1e-12)


def test_gradcheck_counts_and_sigma(rng):
    # positive counts keep every rate sample away from the clip at 0 (not differentiable there)
    counts = torch.tensor(
        rng.uniform(0.5, 1.5, (2, 30, 2)), dtype=torch.float64, requires_grad=True
    )
    sigma = torch.tensor(0.00337, dtype=torch.float64, requires_grad=True)
    for name in KERNEL_NAMES:

        def rate(c, s, name=name):
            return instantaneous_rate_from_counts(
                c, 0.001, SmoothingKernel(name, s), t_start=0.0, cutoff=3.0
            ).rate

        assert torch.autograd.gradcheck(rate, (counts, sigma), fast_mode=True)

    def corrected(c, s):
        kernel = SmoothingKernel("gaussian", s)
        return instantaneous_rate_from_counts(
            c,
            0.001,
            kernel,
            border_correction=True,
            trim=True,
            cutoff=3.0,
            n_spikes=torch.tensor([5, 7]),
        ).rate

    assert torch.autograd.gradcheck(corrected, (counts, sigma), fast_mode=True)


def test_surrogate_spike_time_gradient_is_kernel_derivative(rng):
    """d rate / d spike time ~ -K'(t - spike) (central difference, error O(period^2))."""
    period, sigma = 0.001, 0.02  # cutoff * sigma = 100 whole bins: grid step exactly one bin
    spikes = torch.tensor([[0.3005, 0.6215]], dtype=torch.float64, requires_grad=True)
    mask = torch.ones_like(spikes, dtype=torch.bool)
    result = functional_rate(
        spikes, mask, period, SmoothingKernel("gaussian", sigma), t_start=0.0, t_stop=1.0,
        center_kernel=False,
    )  # fmt: skip
    probe = torch.tensor(rng.normal(size=result.rate.shape))
    (gradient,) = torch.autograd.grad((result.rate * probe).sum(), spikes)
    sample_times = torch.arange(1000, dtype=torch.float64) * period
    bins = torch.floor(spikes.detach() / period) * period
    lag = sample_times[:, None] - bins[0][None, :]
    derivative = (
        lag / sigma**2 * torch.exp(-0.5 * (lag / sigma) ** 2) / (np.sqrt(2 * np.pi) * sigma)
    )
    expected = (probe[:, 0:1] * derivative).sum(dim=0)
    torch.testing.assert_close(gradient[0], expected, rtol=3e-3, atol=1e-6 * expected.abs().max())


def test_float32_agrees_with_float64(rng):
    period, n_bins = 0.002, 500
    lists = [(rng.integers(0, n_bins, 40) + rng.uniform(0.1, 0.9, 40)) * period for _ in range(3)]
    kernel = SmoothingKernel("alpha", 0.03)
    rates = {}
    for dtype in (torch.float32, torch.float64):
        times, mask = padded(lists, dtype=dtype)
        rates[dtype] = functional_rate(
            times, mask, period, kernel, t_start=0.0, t_stop=1.0, border_correction=False
        ).rate
    assert rates[torch.float32].dtype == torch.float32
    scale = rates[torch.float64].abs().max()
    torch.testing.assert_close(
        rates[torch.float32].double(), rates[torch.float64], rtol=1e-4, atol=1e-5 * scale
    )


def test_kernel_grid_argument_and_auto(rng):
    spikes = np.sort(rng.uniform(0, 3, 40))
    times, mask = padded([spikes])
    auto = functional_rate(times, mask, 0.01, "auto", t_start=0.0, t_stop=3.0)
    assert auto.kernel.name == "gaussian"
    assert auto.kernel.sigma == pytest.approx(es.optimal_kernel_bandwidth(spikes)["optw"])
    grid = kernel_grid("gaussian", auto.kernel.sigma / 0.01)
    from_grid = functional_rate(times, mask, 0.01, grid, t_start=0.0, t_stop=3.0)
    torch.testing.assert_close(from_grid.rate, auto.rate)


BAD_FUNCTIONAL = [
    ({"times": np.zeros((1, 2))}, TypeError, "`times` to be a torch.Tensor"),
    ({"mask": torch.ones(1, 3, dtype=torch.bool)}, ValueError, "`mask` to have the shape"),
    ({"mask": torch.ones(1, 2)}, TypeError, "`mask` to be a bool torch.Tensor"),
    ({"sampling_period": 0.0}, ValueError, "`sampling_period` to be a positive"),
    ({"sampling_period": "1"}, TypeError, "`sampling_period`"),
    ({"cutoff": None}, TypeError, "`cutoff`"),
    ({"trim": 1}, TypeError, "`trim` to be a bool"),
    ({"kernel": 3}, TypeError, "`kernel` to be 'auto'"),
    ({"t_stop": 0.0005}, ValueError, "at least one sampling period"),
    ({"t_stop": "1"}, TypeError, "`t_stop` to be a finite number"),
    ({"n_bins": 2.0}, TypeError, "`n_bins` to be a positive integer"),
    ({"kernel": SmoothingKernel("alpha", 0.01), "border_correction": True}, ValueError, "Gaussian"),
    ({"kernel": SmoothingKernel("gaussian", 1.0), "trim": True}, ValueError, "Kernel length"),
    (
        {"times": torch.zeros(2, 2, dtype=torch.float64), "kernel": "auto"},
        ValueError,
        "Cannot estimate",
    ),
]


@pytest.mark.parametrize(("overrides", "error", "match"), BAD_FUNCTIONAL)
def test_functional_bad_input(overrides, error, match):
    arguments = {
        "times": torch.tensor([[0.1, 0.5]], dtype=torch.float64),
        "sampling_period": 0.001,
        "kernel": SmoothingKernel("gaussian", 0.01),
        "t_start": 0.0,
        "t_stop": 1.0,
    }
    arguments.update(overrides)
    shape = getattr(arguments["times"], "shape", (1, 2))
    mask = arguments.pop("mask", torch.ones(shape, dtype=torch.bool))
    times = arguments.pop("times")
    with pytest.raises(error, match=match):
        functional_rate(times, mask, **arguments)


def test_counts_bad_input():
    with pytest.raises(ValueError, match="`counts` to have at least 2 dimension"):
        instantaneous_rate_from_counts(torch.zeros(5), 0.001, SmoothingKernel("gaussian", 0.01))
    with pytest.raises(ValueError, match="'auto'"):
        instantaneous_rate_from_counts(torch.zeros(5, 2), 0.001, "auto")


def test_no_grad_mode_and_grad_mode_agree(rng):
    times, mask = padded([np.sort(rng.uniform(0, 1, 20)) for _ in range(2)])
    sigma = torch.tensor(0.012, dtype=torch.float64, requires_grad=True)
    options = {"t_start": 0.0, "t_stop": 1.0}
    with_grad = functional_rate(times, mask, 0.001, SmoothingKernel("laplacian", sigma), **options)
    with torch.no_grad():
        without = functional_rate(
            times, mask, 0.001, SmoothingKernel("laplacian", sigma), **options
        )
    assert with_grad.rate.requires_grad
    assert not without.rate.requires_grad
    torch.testing.assert_close(with_grad.rate.detach(), without.rate, rtol=1e-12, atol=1e-12)


def test_inputs_not_modified(rng):
    times, mask = padded([np.sort(rng.uniform(0, 1, 20))])
    times.requires_grad_(True)
    before = times.detach().clone()
    functional_rate(times, mask, 0.001, SmoothingKernel("gaussian", 0.01), t_start=0.0, t_stop=1.0)
    torch.testing.assert_close(times.detach(), before, rtol=0, atol=0)


@pytest.mark.gpu
def test_cuda_matches_cpu(rng):
    lists = [np.sort(rng.uniform(0, 2, 50)) for _ in range(4)]
    times, mask = padded(lists, dtype=torch.float32)
    kernel = SmoothingKernel("gaussian", torch.tensor(0.03))
    options = {"t_start": 0.0, "t_stop": 2.0, "border_correction": True, "trim": True}
    cpu = functional_rate(times, mask, 0.001, kernel, **options)
    cuda_kernel = SmoothingKernel("gaussian", torch.tensor(0.03, device="cuda"))
    gpu = functional_rate(times.cuda(), mask.cuda(), 0.001, cuda_kernel, **options)
    assert gpu.rate.device.type == "cuda"
    torch.testing.assert_close(gpu.rate.cpu(), cpu.rate, rtol=1e-4, atol=1e-3)
    counts = histogram_spike_times(times.cuda(), mask.cuda(), 0.0, 0.001, 2000)
    torch.testing.assert_close(
        counts.cpu(), histogram_spike_times(times, mask, 0.0, 0.001, 2000), rtol=0, atol=0
    )


def test_compat_signature_is_elephants():
    """Drop-in: the same parameter names, order and defaults as Elephant's."""
    import inspect

    from elephant.statistics import instantaneous_rate as elephant_rate

    from elephant_fit.compat.statistics import instantaneous_rate as compat_rate

    ours = inspect.signature(compat_rate).parameters.values()
    theirs = inspect.signature(elephant_rate).parameters.values()
    assert [(p.name, p.default, p.kind) for p in ours] == [
        (p.name, p.default, p.kind) for p in theirs
    ]
