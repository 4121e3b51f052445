"""Kernels: functional layer and compat classes against elephant.kernels (Elephant 1.2.1)."""

from __future__ import annotations

import unittest
import warnings

import elephant.kernels as ek
import numpy as np
import pytest
import quantities as pq
import torch

import elephant_fit.compat.kernels as ck
from elephant_fit.statistics import kernels as fk

NAMES = fk.KERNEL_NAMES
CLASSES = list(fk.ELEPHANT_CLASS_NAMES.items())
ALL_COMPAT = ["Kernel", "SymmetricKernel", *fk.ELEPHANT_CLASS_NAMES.values()]


def elephant_kernel(name, sigma, invert=False):
    return getattr(ek, fk.ELEPHANT_CLASS_NAMES[name])(sigma, invert=invert)


def compat_kernel(name, sigma, invert=False):
    return getattr(ck, fk.ELEPHANT_CLASS_NAMES[name])(sigma, invert=invert)


def quiet(function, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return function(*args)


# ------------------------------------------------------------------------- functional vs Elephant
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("invert", [False, True])
def test_pdf_and_cdf_match_elephant(name, invert, rng):
    sigma = rng.uniform(0.2, 3.0)
    times = np.concatenate([rng.normal(0, 3 * sigma, 300), [0.0, sigma, -sigma]])
    kernel = elephant_kernel(name, sigma * pq.s, invert)
    pdf = fk.kernel_pdf(name, torch.from_numpy(times), sigma, invert)
    cdf = fk.kernel_cdf(name, torch.from_numpy(times), sigma, invert)
    expected_cdf = np.array([kernel.cdf(t * pq.s) for t in times])
    # atol: a few ulps of the peak density / of 1 where Elephant's scipy formulas round differently
    np.testing.assert_allclose(pdf.numpy(), kernel(times * pq.s).magnitude, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(cdf.numpy(), expected_cdf, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("invert", [False, True])
def test_icdf_and_boundary_match_elephant(name, invert, rng):
    sigma = rng.uniform(0.2, 3.0)
    kernel = elephant_kernel(name, sigma * pq.ms, invert)
    fractions = np.concatenate([rng.uniform(0.001, 0.999, 40), [0.5, 0.9999999]])
    icdf = fk.kernel_icdf(name, torch.from_numpy(fractions), sigma, invert).numpy()
    boundary = fk.boundary_enclosing_area_fraction(name, torch.from_numpy(fractions), sigma)
    expected_icdf = [quiet(kernel.icdf, float(f)).magnitude for f in fractions]
    expected_boundary = [
        kernel.boundary_enclosing_area_fraction(float(f)).magnitude for f in fractions
    ]
    # Elephant solves the alpha quantile with fsolve(xtol=1e-7): agreement ~1e-12 there
    rtol = 1e-9 if name != "alpha" else 1e-7
    np.testing.assert_allclose(icdf, np.array(expected_icdf, dtype=float), rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(boundary.numpy(), np.array(expected_boundary, float), rtol=rtol)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("invert", [False, True])
def test_median_index_matches_elephant(name, invert, rng):
    kernel = elephant_kernel(name, 1.3 * pq.s, invert)
    for _ in range(5):
        grid = np.sort(rng.uniform(-8, 8, rng.integers(3, 60)))
        try:
            expected = kernel.median_index(grid * pq.s)
        except ValueError:  # grid right of a kernel's support: mean cdf 1
            with pytest.raises(ValueError, match=r"\[0, 1\)"):
                fk.median_index(name, torch.from_numpy(grid), 1.3, invert)
            continue
        assert fk.median_index(name, torch.from_numpy(grid), 1.3, invert) == expected


def test_median_index_edge_cases():
    with pytest.raises(ValueError, match="empty"):
        fk.median_index("gaussian", torch.zeros(0), 1.0)
    with pytest.raises(ValueError, match="sorted"):
        fk.median_index("gaussian", torch.tensor([0.0, 2.0, 1.0]), 1.0)
    assert fk.median_index("gaussian", torch.tensor([5.0, 6.0]), 1.0) == 0
    left_of_support = torch.linspace(-100, -20, 50, dtype=torch.float64)
    assert fk.median_index("exponential", left_of_support, 1.0) == 25
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        fk.median_index("exponential", torch.linspace(50, 100, 50, dtype=torch.float64), 1.0)


@pytest.mark.parametrize("name", NAMES)
def test_kernel_grid_matches_elephant_discretisation(name, rng):
    invert = bool(rng.integers(2))
    sigma_bins, cutoff = rng.uniform(2.0, 30.0), 5.0
    kernel = elephant_kernel(name, sigma_bins * pq.ms, invert)
    half = int(np.ceil(cutoff * sigma_bins))
    median = kernel.icdf(0.5).magnitude.item()
    reference = np.linspace(
        -cutoff * sigma_bins + median, cutoff * sigma_bins + median, 2 * half + 1
    )
    grid = fk.kernel_grid(name, sigma_bins, cutoff, center_kernel=True, invert=invert)
    assert grid.weights.dtype == torch.float64
    np.testing.assert_allclose(grid.times.numpy(), reference, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        grid.weights.numpy(), kernel(reference * pq.ms).magnitude, rtol=1e-9, atol=1e-15
    )


def test_kernel_grid_cutoff_warning_and_minimum():
    with pytest.warns(UserWarning, match="minimally allowed width"):
        grid = fk.kernel_grid("triangular", 4.0, cutoff=1.0)
    assert grid.cutoff == pytest.approx(np.sqrt(6.0))
    assert grid.weights.shape == (2 * int(np.ceil(np.sqrt(6.0) * 4.0)) + 1,)
    assert fk.kernel_grid("gaussian", 4.0, center_kernel=False).times[4 * 5].item() == 0.0


def test_kernel_grid_single_tap():
    grid = fk.kernel_grid("gaussian", 0.01, cutoff=3.0)
    assert grid.times.shape == (3,)


# ------------------------------------------------------------------------- autograd, dtypes, batch
GRAD_TIMES = {  # away from kinks (0, support edges)
    "rectangular": [0.3, -0.7],
    "triangular": [0.3, -0.7, 1.1],
    "epanechnikovlike": [0.3, -0.7, 1.1],
    "gaussian": [0.3, -0.7, 2.5],
    "laplacian": [0.3, -0.7, 2.5],
    "exponential": [0.3, 1.7, -0.4],
    "alpha": [0.3, 1.7, -0.4],
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("invert", [False, True])
def test_gradcheck_pdf_cdf(name, invert):
    times = torch.tensor(GRAD_TIMES[name], dtype=torch.float64, requires_grad=True)
    sigma = torch.tensor(0.9, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t, s: fk.kernel_pdf(name, t, s, invert), (times, sigma))
    assert torch.autograd.gradcheck(lambda t, s: fk.kernel_cdf(name, t, s, invert), (times, sigma))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("invert", [False, True])
def test_gradcheck_icdf_boundary(name, invert):
    fractions = torch.tensor([0.2, 0.45, 0.8], dtype=torch.float64, requires_grad=True)
    sigma = torch.tensor(1.3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda f, s: fk.kernel_icdf(name, f, s, invert), (fractions, sigma)
    )
    assert torch.autograd.gradcheck(
        lambda f, s: fk.boundary_enclosing_area_fraction(name, f, s), (fractions, sigma)
    )


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck_grid_weights_in_sigma(name):
    sigma = torch.tensor(3.37, dtype=torch.float64, requires_grad=True)
    invert = name in ("exponential", "alpha")

    def weights(s):
        return fk.kernel_grid(name, s, 5.0, center_kernel=True, invert=invert).weights

    assert torch.autograd.gradcheck(weights, (sigma,))


@pytest.mark.parametrize("name", NAMES)
def test_float32_agrees_with_float64(name, rng):
    times = rng.normal(0, 2, 200)
    fractions = rng.uniform(0.05, 0.95, 20)
    for function, values in (
        (fk.kernel_pdf, times),
        (fk.kernel_cdf, times),
        (fk.kernel_icdf, fractions),
    ):
        single = function(name, torch.tensor(values, dtype=torch.float32), 1.2)
        double = function(name, torch.tensor(values, dtype=torch.float64), 1.2)
        assert single.dtype == torch.float32
        torch.testing.assert_close(single.double(), double, rtol=1e-4, atol=1e-5)


def test_broadcast_equals_loop(rng):
    sigmas = torch.tensor(rng.uniform(0.5, 2, (3, 1)))
    times = torch.tensor(rng.normal(0, 2, (1, 7)))
    for name in NAMES:
        batched = fk.kernel_pdf(name, times, sigmas, invert=True)
        looped = torch.stack([fk.kernel_pdf(name, times[0], float(s), invert=True) for s in sigmas])
        torch.testing.assert_close(batched, looped, rtol=1e-12, atol=0)


def test_tails_are_finite():
    times = torch.tensor([-1e6, -1e3, 1e3, 1e6, -np.inf, np.inf], dtype=torch.float64)
    for name in NAMES:
        for invert in (False, True):
            for function in (fk.kernel_pdf, fk.kernel_cdf):
                values = function(name, times, 0.01, invert)
                assert torch.isfinite(values).all(), (name, invert, function.__name__)
    assert fk.kernel_cdf("alpha", -np.inf, 1.0, invert=True).item() == 0.0


def test_smoothing_kernel_object(rng):
    kernel = fk.SmoothingKernel("AlphaKernel", torch.tensor(0.5, dtype=torch.float64), invert=True)
    assert kernel.name == "alpha"
    assert not kernel.is_symmetric
    assert kernel.min_cutoff == 3.0
    times = torch.tensor(rng.normal(0, 1, 10))
    torch.testing.assert_close(kernel(times), fk.kernel_pdf("alpha", times, 0.5, True))
    torch.testing.assert_close(kernel.cdf(times), fk.kernel_cdf("alpha", times, 0.5, True))
    assert kernel.icdf(0.5).item() < 0
    assert kernel.boundary_enclosing_area_fraction(0.5).item() > 0
    grid = kernel.grid(0.05, cutoff=5.0)
    assert grid.weights.shape == (2 * 50 + 1,)
    expected = ek.AlphaKernel(10 * pq.ms, invert=True).median_index(grid.times.numpy() * pq.ms)
    assert fk.median_index(grid.name, grid.times, grid.sigma, grid.invert) == expected
    assert kernel.median_index(grid.times * 0.05) == expected


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        (("cosine", 1.0), ValueError, "Expected `kernel` to be one of"),
        (("gaussian", -1.0), ValueError, "positive"),
        (("gaussian", 0.0), ValueError, "positive"),
        (("gaussian", "1"), TypeError, "float or a tensor"),
        (("gaussian", torch.ones(2)), ValueError, "scalar"),
        (("gaussian", 1.0, 1), TypeError, "`invert` to be a bool"),
    ],
)
def test_smoothing_kernel_bad_input(arguments, error, match):
    with pytest.raises(error, match=match):
        fk.SmoothingKernel(*arguments)


def test_names_and_properties():
    assert fk.kernel_name(ek.GaussianKernel(1 * pq.s)) == "gaussian"
    assert fk.kernel_name(ck.LaplacianKernel(1 * pq.s)) == "laplacian"
    assert fk.kernel_name("EpanechnikovLikeKernel") == "epanechnikovlike"
    assert [fk.is_symmetric(n) for n in NAMES] == [True] * 5 + [False] * 2
    assert [fk.fraction_upper_bound_included(n) for n in NAMES] == [True, True] + [False] * 5
    for name in NAMES:
        assert fk.min_cutoff(name) == pytest.approx(elephant_kernel(name, 1 * pq.s).min_cutoff)


# ------------------------------------------------------------------------- compat classes
@pytest.mark.parametrize(("name", "cls"), CLASSES)
@pytest.mark.parametrize("invert", [False, True])
def test_compat_class_matches_elephant(name, cls, invert, rng):
    sigma = rng.uniform(10, 300) * pq.ms
    ours, theirs = compat_kernel(name, sigma, invert), elephant_kernel(name, sigma, invert)
    assert repr(ours) == repr(theirs)
    assert ours.is_symmetric() == theirs.is_symmetric()
    assert ours.min_cutoff == theirs.min_cutoff
    assert type(ours.min_cutoff) is type(theirs.min_cutoff)
    times = rng.normal(0, 0.3, 50) * pq.s
    value = ours(times)
    assert value.units == theirs(times).units
    np.testing.assert_allclose(value.magnitude, theirs(times).magnitude, rtol=1e-9, atol=1e-15)
    cdf, expected = ours.cdf(0.1 * pq.s), theirs.cdf(0.1 * pq.s)
    assert isinstance(cdf, float)
    assert cdf == pytest.approx(expected, rel=1e-9, abs=1e-15)
    icdf = ours.icdf(0.3)
    assert icdf.units == theirs.icdf(0.3).units
    assert icdf.magnitude == pytest.approx(theirs.icdf(0.3).magnitude, rel=1e-7)
    boundary = ours.boundary_enclosing_area_fraction(0.7)
    assert boundary.units == sigma.units
    assert boundary.magnitude == pytest.approx(
        theirs.boundary_enclosing_area_fraction(0.7).magnitude, rel=1e-7
    )
    grid = np.linspace(-1, 1, 41) * pq.s
    assert ours.median_index(grid) == theirs.median_index(grid)


def test_compat_sigma_handling():
    kernel = ck.GaussianKernel([2.0] * pq.s)
    assert kernel.sigma.ndim == 0
    kernel.invert = True  # plain mutable attributes, as in Elephant
    kernel.sigma = 3 * pq.ms
    assert kernel(0 * pq.ms).magnitude == pytest.approx(1 / (3 * np.sqrt(2 * np.pi)))
    assert repr(ck.AlphaKernel(1 * pq.mV)) == "AlphaKernel(sigma=1.0 mV, invert=False)"


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: ck.RectangularKernel(sigma=[2.0, 2.3] * pq.s), TypeError, "multidimensional"),
        (lambda: ck.RectangularKernel(sigma=[2.0, 2.3, 1.0] * pq.s), TypeError, "multidim"),
        (lambda: ck.RectangularKernel(sigma=2.0), TypeError, "must be a quantity"),
        (lambda: ck.RectangularKernel(sigma=-0.03 * pq.s), ValueError, "cannot be negative"),
        (lambda: ck.AlphaKernel(sigma=2.0 * pq.ms, invert=2), ValueError, "must be bool"),
        (lambda: ck.RectangularKernel(0.3 * pq.ms)([1, 2, 3]), TypeError, "type Quantity"),
        (lambda: ck.RectangularKernel(0.3 * pq.ms)([1, 2] * pq.V), TypeError, "dimensionality"),
        (lambda: ck.Kernel(0.3 * pq.ms)._evaluate([1] * pq.V), NotImplementedError, "subclasses"),
        (
            lambda: ck.Kernel(0.3 * pq.ms).boundary_enclosing_area_fraction(0.9),
            NotImplementedError,
            "directly",
        ),
        (lambda: ck.Kernel(0.3 * pq.ms).min_cutoff, NotImplementedError, "directly"),
        (
            lambda: ck.RectangularKernel(1 * pq.s).boundary_enclosing_area_fraction([1, 2]),
            TypeError,
            "float or integer",
        ),
        (
            lambda: ck.RectangularKernel(1 * pq.s).boundary_enclosing_area_fraction(-10),
            ValueError,
            r"\[0, 1\]",
        ),
        (lambda: ck.GaussianKernel(1 * pq.s).icdf(1.0), ValueError, r"\[0, 1\)"),
        (
            lambda: ck.AlphaKernel(1 * pq.s).boundary_enclosing_area_fraction(1),
            ValueError,
            r"\[0, 1\)",
        ),
        (lambda: ck.GaussianKernel(1 * pq.s).median_index([] * pq.s), ValueError, "empty"),
        (lambda: ck.GaussianKernel(1 * pq.s).median_index([0, 2, 1] * pq.s), ValueError, "sorted"),
    ],
)
def test_compat_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_compat_icdf_at_one_for_compact_kernels():
    assert ck.RectangularKernel(1 * pq.s).icdf(1.0).magnitude == pytest.approx(np.sqrt(3))
    assert ck.TriangularKernel(1 * pq.s).icdf(1.0).magnitude == pytest.approx(np.sqrt(6))
    assert ck.Kernel(1 * pq.s).is_symmetric() is False
    assert ck.RectangularKernel(1 * pq.s).is_symmetric() is True


def test_elephant_kernel_suite_passes_with_compat_classes(monkeypatch):
    """Elephant's own test_kernels module, with elephant.kernels' classes replaced by ours."""
    from elephant.test import test_kernels

    for name in ALL_COMPAT:
        monkeypatch.setattr(ek, name, getattr(ck, name))
    suite = unittest.defaultTestLoader.loadTestsFromModule(test_kernels)
    result = unittest.TestResult()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        suite.run(result)
    assert result.testsRun == 22
    assert result.wasSuccessful(), result.failures + result.errors
