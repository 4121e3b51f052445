"""One smoothing convolution: ``np.convolve(values, kernel, mode='same')`` along one dimension."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["convolve_same"]


def convolve_same(values: torch.Tensor, kernel: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Convolve ``values`` with a 1-D ``kernel`` along ``dim``, like ``np.convolve(mode='same')``.

    Zero padding beyond the ends; the output has the size of ``values``. For an even kernel the
    extra tap falls on the left, as in NumPy. Differentiable with respect to both arguments.

    Parameters
    ----------
    values : torch.Tensor
        Any shape.
    kernel : torch.Tensor
        Shape (n_taps,), same dtype and device as ``values``; not normalised here.
    dim : int, optional
        The dimension to smooth.

    Returns
    -------
    torch.Tensor
        Same shape as ``values``.
    """
    moved = values.movedim(dim, -1)
    n_taps = kernel.shape[0]
    offset = (n_taps - 1) // 2
    flat = F.pad(moved.reshape(-1, 1, moved.shape[-1]), (n_taps - 1 - offset, offset))
    smoothed = F.conv1d(flat, kernel.flip(0).reshape(1, 1, n_taps))
    return smoothed.reshape(moved.shape).movedim(-1, dim)
