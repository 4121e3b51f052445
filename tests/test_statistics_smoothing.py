"""The one smoothing convolution (CCH kernels, smoothed PSTH) against numpy.convolve(mode='same')."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from elephant_fit.statistics._smoothing import convolve_same


@pytest.mark.parametrize("n_taps", [1, 4, 5])
@pytest.mark.parametrize("dim", [-1, 0])
def test_convolve_same_is_numpy_convolve_same(rng, n_taps, dim):
    values = torch.from_numpy(rng.normal(size=(17, 3) if dim == 0 else (3, 17)))
    kernel = rng.uniform(0.1, 1.0, n_taps)  # asymmetric: checks the flip
    smoothed = convolve_same(values, torch.from_numpy(kernel), dim=dim).numpy()
    for row in range(3):
        line = values[:, row] if dim == 0 else values[row]
        expected = np.convolve(line.numpy(), kernel, mode="same")
        got = smoothed[:, row] if dim == 0 else smoothed[row]
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def test_convolve_same_is_differentiable_in_both_arguments(rng):
    values = torch.from_numpy(rng.normal(size=(2, 9))).requires_grad_()
    kernel = torch.from_numpy(rng.uniform(0.1, 1.0, 4)).requires_grad_()
    assert torch.autograd.gradcheck(convolve_same, (values, kernel))
