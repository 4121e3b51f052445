"""Numerically safe elementary functions shared by the statistics: finite gradients everywhere."""

from __future__ import annotations

import math

import torch

__all__ = ["clipped_sqrt", "safe_divide"]


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


def safe_divide(
    numerator: torch.Tensor,
    denominator: torch.Tensor,
    valid: torch.Tensor,
    fill: float = math.nan,
) -> torch.Tensor:
    """``numerator / denominator`` where ``valid``, ``fill`` elsewhere, with finite gradients.

    The denominator is replaced by 1 outside ``valid`` before dividing, so that neither the value
    nor the gradient there is inf or NaN (``torch.where`` alone would pass NaN gradients back
    from the discarded branch); the gradient outside ``valid`` is zero.

    Parameters
    ----------
    numerator : torch.Tensor
        Floating, broadcastable with ``denominator`` and ``valid``.
    denominator : torch.Tensor
        Floating, broadcastable with ``numerator`` and ``valid``.
    valid : torch.Tensor
        Bool, broadcastable: where the quotient is defined (e.g. ``denominator != 0``).
    fill : float, optional
        The value outside ``valid``: NaN (default, an undefined statistic) or e.g. 0.

    Returns
    -------
    torch.Tensor
        The broadcast shape, in the dtype of the quotient.
    """
    quotient = numerator / torch.where(valid, denominator, 1.0)
    return torch.where(valid, quotient, fill)
