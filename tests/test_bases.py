"""Temporal bases of the coupling filters and of the smooth drive; default drive bumps; B-splines."""

from __future__ import annotations

import numpy as np
import pytest
import quantities as pq
import torch
from scipy.interpolate import BSpline

from elephant_fit.network.bases import (
    bspline_basis,
    bspline_knots,
    drive_bumps,
    exponential_basis,
    gaussian_bumps,
    raised_cosine_basis,
)


def test_bases_have_expected_shapes_and_peaks():
    rc = raised_cosine_basis(4, 10)
    assert rc.shape == (4, 10)
    assert torch.all(rc.argmax(dim=1).diff() >= 0)
    ex = exponential_basis(3, 9)
    assert ex.shape == (3, 9)
    assert torch.allclose(ex[:, 0], torch.ones(3, dtype=torch.float64))
    bumps = gaussian_bumps(5, 50)
    assert bumps.shape == (50, 5)
    assert bumps.argmax(dim=0).tolist() == [0, 12, 24, 37, 49]


def test_raised_cosine_with_one_lag_is_not_empty():
    assert torch.all(raised_cosine_basis(1, 1) > 0)
    assert raised_cosine_basis(2, 1).abs().sum() > 0


def test_drive_bumps_follow_the_trial_duration_when_the_bin_size_is_known():
    assert drive_bumps(100, 10 * pq.ms) == 25  # 1 s / 40 ms
    assert drive_bumps(900, 20 * pq.ms) == 450  # 18 s / 40 ms
    assert drive_bumps(100, 1 * pq.ms) == 2  # 100 ms: at least 2
    assert drive_bumps(3, 1 * pq.s) == 3  # never more bumps than bins
    assert drive_bumps(100) == 20  # one per 5 bins without a bin size


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("uniform", [True, False])
def test_bsplines_equal_scipy_and_sum_to_one(order, uniform):
    knots = bspline_knots(7, -1.0, 2.5, order=order)
    if not uniform:  # uneven interior knots, clamped ends
        inner = torch.tensor([-1.0, -0.7, 0.1, 0.15, 1.2, 1.9, 2.4, 2.5], dtype=torch.float64)
        inner = inner[: 7 - order + 2]
        inner[-1] = 2.5
        knots = torch.cat([inner[:1].repeat(order - 1), inner, inner[-1:].repeat(order - 1)])
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(500, generator=generator, dtype=torch.float64) * 3.5 - 1.0
    x = torch.cat([x, knots[order - 1 : 8].unique()])  # the knots themselves, both edges
    ours = bspline_basis(x, knots, order=order)
    design = BSpline.design_matrix(x.numpy(), knots.numpy(), order - 1).toarray()
    np.testing.assert_allclose(ours.numpy(), design, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(ours.sum(-1), torch.ones_like(x), rtol=1e-12, atol=1e-12)


def test_bsplines_clamp_outside_the_range_and_keep_the_shape():
    knots = bspline_knots(6, 0.0, 1.0)
    values = torch.tensor([[-3.0, 0.0], [1.0, 7.0]])
    splines = bspline_basis(values, knots)
    assert splines.shape == (2, 2, 6)
    assert splines.dtype == torch.float32
    assert torch.equal(splines[0, 0], splines[0, 1])
    assert torch.equal(splines[1, 0], splines[1, 1])
    assert splines[0, 0].tolist() == [1, 0, 0, 0, 0, 0]


def test_bspline_arguments_are_checked():
    with pytest.raises(ValueError, match="n_basis"):
        bspline_knots(3, 0.0, 1.0, order=4)
    with pytest.raises(ValueError, match="low"):
        bspline_knots(5, 1.0, 1.0)
    with pytest.raises(ValueError, match="knots"):
        bspline_basis(torch.zeros(3), torch.zeros(5), order=4)
