"""Numerically safe elementary functions shared by the statistics: finite gradients everywhere."""

from __future__ import annotations

import torch

__all__ = ["clipped_sqrt"]


def clipped_sqrt(value: torch.Tensor) -> torch.Tensor:
    """``sqrt(max(value, 0))`` with a zero gradient (not inf or NaN) where ``value <= 0``.

    Used for standard deviations (variances that may be exactly 0) and for distances (squared
    distances that rounding may push slightly below 0). NaN stays NaN, with a zero gradient: a
    NaN input is never turned into a valid-looking 0.

    Parameters
    ----------
    value : torch.Tensor
        Any shape, floating.

    Returns
    -------
    torch.Tensor
        Same shape and dtype: the square root where ``value > 0``, 0 where ``value <= 0``, NaN
        where ``value`` is NaN.
    """
    positive = value > 0
    root = torch.where(positive, value, torch.ones_like(value)).sqrt()
    rest = torch.where(torch.isnan(value), value.detach(), torch.zeros_like(value))
    return torch.where(positive, root, rest)
