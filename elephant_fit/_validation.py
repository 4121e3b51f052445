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
