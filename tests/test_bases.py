"""Temporal bases of the coupling filters and of the smooth drive; default drive bumps."""

from __future__ import annotations

import quantities as pq
import torch

from elephant_fit.network.bases import (
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
