"""Argument checks used at the public boundary.

Every check raises ``TypeError`` for a wrong type and ``ValueError`` for a wrong value, with a message
of the form "Expected `name` to be <what>, but got <what was received>.".
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import quantities as pq

__all__ = [
    "check_fraction",
    "check_positive_int",
    "check_time_quantity",
    "describe",
]


def describe(value: Any) -> str:
    """Return a short description of a received value for error messages.

    Parameters
    ----------
    value : Any
        The value to describe.

    Returns
    -------
    str
        ``repr`` of small values, or the type (and shape where known) of large ones.
    """
    if isinstance(value, pq.Quantity):
        if value.size == 1:
            return f"{value.item()!r} {value.dimensionality.string}"
        return f"Quantity array of shape {value.shape} in {value.dimensionality.string}"
    shape = getattr(value, "shape", None)
    if shape is not None and len(shape) > 0:
        return f"{type(value).__name__} of shape {tuple(shape)}"
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} (type {type(value).__name__})"


def check_time_quantity(
    value: Any,
    name: str,
    *,
    positive: bool = False,
) -> pq.Quantity:
    """Check that ``value`` is a finite scalar time quantity.

    Parameters
    ----------
    value : Any
        The received value.
    name : str
        The argument's name, used in the error message.
    positive : bool, optional
        Require a strictly positive value.

    Returns
    -------
    pq.Quantity
        The value as a scalar quantity (unchanged units).

    Raises
    ------
    TypeError
        If ``value`` is not a ``quantities.Quantity`` with time units.
    ValueError
        If ``value`` is not a finite scalar, or is not positive when ``positive`` is set.
    """
    expected = "a positive time quantity" if positive else "a time quantity"
    example = " (e.g. 5 * pq.ms)"
    if not isinstance(value, pq.Quantity):
        raise TypeError(f"Expected `{name}` to be {expected}{example}, but got {describe(value)}.")
    if value.dimensionality.simplified != pq.s.dimensionality:
        raise TypeError(
            f"Expected `{name}` to be {expected}{example}, but got a quantity in "
            f"{value.dimensionality.string}, which is not a unit of time."
        )
    if value.size != 1:
        raise ValueError(f"Expected `{name}` to be a scalar {expected}, but got {describe(value)}.")
    magnitude = float(value.magnitude.item())
    if not math.isfinite(magnitude):
        raise ValueError(f"Expected `{name}` to be finite, but got {describe(value)}.")
    if positive and magnitude <= 0:
        raise ValueError(f"Expected `{name}` to be {expected}, but got {describe(value)}.")
    return value.reshape(()) if value.ndim else value


def check_fraction(value: Any, name: str) -> float:
    """Check that ``value`` is a real number strictly between 0 and 1.

    Parameters
    ----------
    value : Any
        The received value.
    name : str
        The argument's name, used in the error message.

    Returns
    -------
    float
        The value as a Python float.

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If ``value`` is not in the open interval (0, 1).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"Expected `{name}` to be a number between 0 and 1, but got {describe(value)}."
        )
    fraction = float(value)
    if not 0.0 < fraction < 1.0:
        raise ValueError(
            f"Expected `{name}` to be strictly between 0 and 1, but got {describe(value)}."
        )
    return fraction


def check_positive_int(value: Any, name: str) -> int:
    """Check that ``value`` is a strictly positive integer.

    Parameters
    ----------
    value : Any
        The received value.
    name : str
        The argument's name, used in the error message.

    Returns
    -------
    int
        The value as a Python int.

    Raises
    ------
    TypeError
        If ``value`` is not an integer.
    ValueError
        If ``value`` is not positive.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"Expected `{name}` to be a positive integer, but got {describe(value)}.")
    if value <= 0:
        raise ValueError(f"Expected `{name}` to be a positive integer, but got {describe(value)}.")
    return int(value)


def check_float_tensor(value: Any, name: str, min_ndim: int = 1, shape: str | None = None) -> Any:
    """Check for a floating-point torch.Tensor with at least ``min_ndim`` dimensions.

    Parameters
    ----------
    value : Any
        The received value.
    name : str
        The argument's name, used in the error message.
    min_ndim : int, optional
        Minimal number of dimensions.
    shape : str, optional
        The expected shape in words, e.g. "(..., n_bins, n_neurons)", for the messages.

    Returns
    -------
    torch.Tensor
        ``value`` itself.

    Raises
    ------
    TypeError
        If ``value`` is not a tensor, or not of a floating dtype.
    ValueError
        If it has fewer than ``min_ndim`` dimensions.
    """
    import torch  # local: keep this module importable without torch for the Neo-only helpers

    of_shape = f" of shape {shape}" if shape else ""
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"Expected `{name}` to be a torch.Tensor{of_shape}, but got {describe(value)}."
        )
    if not value.is_floating_point():
        raise TypeError(
            f"Expected `{name}` to be a floating-point tensor, but got dtype {value.dtype}."
        )
    if value.ndim < min_ndim:
        got = "a 0-d tensor" if value.ndim == 0 else f"shape {tuple(value.shape)}"
        raise ValueError(
            f"Expected `{name}` to have at least {min_ndim} dimension(s){of_shape}, but got {got}."
        )
    return value
