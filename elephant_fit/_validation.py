"""Argument checks used at the public boundary.

Every check raises :class:`~elephant_fit.errors.ArgumentTypeError` (a ``TypeError``) for a wrong
type and :class:`~elephant_fit.errors.ArgumentValueError` (a ``ValueError``) for a wrong value, with
a message of the form "Expected `name` to be <what>, but got <what was received>.".
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import quantities as pq

from .errors import ArgumentTypeError, ArgumentValueError

__all__ = [
    "check_choice",
    "check_float_tensor",
    "check_fraction",
    "check_non_negative_int",
    "check_number",
    "check_positive_int",
    "check_seed",
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
        raise ArgumentTypeError(
            f"Expected `{name}` to be {expected}{example}, but got {describe(value)}."
        )
    if value.dimensionality.simplified != pq.s.dimensionality:
        raise ArgumentTypeError(
            f"Expected `{name}` to be {expected}{example}, but got a quantity in "
            f"{value.dimensionality.string}, which is not a unit of time."
        )
    if value.size != 1:
        raise ArgumentValueError(
            f"Expected `{name}` to be a scalar {expected}, but got {describe(value)}."
        )
    magnitude = float(value.magnitude.item())
    if not math.isfinite(magnitude):
        raise ArgumentValueError(f"Expected `{name}` to be finite, but got {describe(value)}.")
    if positive and magnitude <= 0:
        raise ArgumentValueError(f"Expected `{name}` to be {expected}, but got {describe(value)}.")
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
        raise ArgumentTypeError(
            f"Expected `{name}` to be a number between 0 and 1, but got {describe(value)}."
        )
    fraction = float(value)
    if not 0.0 < fraction < 1.0:
        raise ArgumentValueError(
            f"Expected `{name}` to be strictly between 0 and 1, but got {describe(value)}."
        )
    return fraction


def check_int(
    value: Any, name: str, *, minimum: int | None = None, allow_none: bool = False
) -> int | None:
    """Check an integer argument (numpy integers accepted, ``bool`` refused).

    Parameters
    ----------
    value : Any
        The received value.
    name : str
        The argument's name, used in the error message.
    minimum : int, optional
        Smallest accepted value.
    allow_none : bool, optional
        Accept None (returned as is).

    Returns
    -------
    int or None
        The value as a Python int (or None).

    Raises
    ------
    ArgumentTypeError
        If ``value`` is not an integer.
    ArgumentValueError
        If it is below ``minimum``.
    """
    if value is None and allow_none:
        return None
    kinds = {None: "an integer", 0: "a non-negative integer", 1: "a positive integer"}
    expected = kinds.get(minimum, f"an integer >= {minimum}") + (" or None" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ArgumentTypeError(f"Expected `{name}` to be {expected}, but got {describe(value)}.")
    if minimum is not None and value < minimum:
        raise ArgumentValueError(f"Expected `{name}` to be {expected}, but got {describe(value)}.")
    return int(value)


def check_positive_int(value: Any, name: str) -> int:
    """:func:`check_int` with ``minimum=1``."""
    return check_int(value, name, minimum=1)  # type: ignore[return-value]


def check_non_negative_int(value: Any, name: str) -> int:
    """:func:`check_int` with ``minimum=0``."""
    return check_int(value, name, minimum=0)  # type: ignore[return-value]


#: Largest seed: torch generators take 64-bit seeds, and fits derive seed + 1, seed + 2.
MAX_SEED = 2**62


def check_seed(value: Any, name: str = "seed", *, allow_none: bool = False) -> int | None:
    """A random seed: :func:`check_int` with ``minimum=0`` and at most :data:`MAX_SEED` (or None)."""
    seed = check_int(value, name, minimum=0, allow_none=allow_none)
    if seed is not None and seed > MAX_SEED:
        raise ArgumentValueError(
            f"Expected `{name}` to be at most 2**62, but got {describe(value)}."
        )
    return seed


def check_number(
    value: Any, name: str, *, positive: bool = False, allow_zero: bool = True
) -> float:
    """Check that ``value`` is a finite real number (optionally > 0 or >= 0).

    Parameters
    ----------
    value : Any
        The received value.
    name : str
        The argument's name, used in the error message.
    positive : bool, optional
        Require ``value >= 0`` (``value > 0`` when ``allow_zero`` is False).
    allow_zero : bool, optional
        With ``positive``, whether 0 is accepted.

    Returns
    -------
    float
        The value as a Python float.
    """
    what = "a finite number"
    if positive:
        what = "a finite non-negative number" if allow_zero else "a positive finite number"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ArgumentTypeError(f"Expected `{name}` to be {what}, but got {describe(value)}.")
    number = float(value)
    low_ok = not positive or (number >= 0 if allow_zero else number > 0)
    if not (math.isfinite(number) and low_ok):
        raise ArgumentValueError(f"Expected `{name}` to be {what}, but got {describe(value)}.")
    return number


def check_choice(value: Any, name: str, choices: tuple[Any, ...]) -> Any:
    """Check that ``value`` is one of ``choices`` (compared with ``==``; strings, None, ...).

    Parameters
    ----------
    value : Any
        The received value.
    name : str
        The argument's name, used in the error message.
    choices : tuple
        The accepted values.

    Returns
    -------
    Any
        ``value`` itself.
    """
    try:
        accepted = any(value == choice and type(value) is type(choice) for choice in choices)
    except (TypeError, ValueError):  # arrays and other values without a plain ==
        accepted = False
    if not accepted:
        listed = ", ".join(repr(choice) for choice in choices)
        raise ArgumentValueError(
            f"Expected `{name}` to be one of {listed}, but got {describe(value)}."
        )
    return value


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
        raise ArgumentTypeError(
            f"Expected `{name}` to be a torch.Tensor{of_shape}, but got {describe(value)}."
        )
    if not value.is_floating_point():
        raise ArgumentTypeError(
            f"Expected `{name}` to be a floating-point tensor, but got dtype {value.dtype}."
        )
    if value.ndim < min_ndim:
        got = "a 0-d tensor" if value.ndim == 0 else f"shape {tuple(value.shape)}"
        raise ArgumentValueError(
            f"Expected `{name}` to have at least {min_ndim} dimension(s){of_shape}, but got {got}."
        )
    return value


def check_number_or_tensor(value: Any, name: str) -> Any:
    """Check that ``value`` is a real number or a torch.Tensor; its value is left to the caller.

    Parameters
    ----------
    value : Any
        The received value.
    name : str
        The argument's name, used in the error message.

    Returns
    -------
    float or torch.Tensor
        A number as a Python float, a tensor unchanged.

    Raises
    ------
    TypeError
        If ``value`` is neither a real number (``bool`` refused) nor a tensor.
    """
    import torch  # local, as in check_float_tensor

    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ArgumentTypeError(
            f"Expected `{name}` to be a number or a torch.Tensor, but got {describe(value)}."
        )
    return float(value)


def check_bool_mask(value: Any, name: str, like: Any, like_name: str) -> Any:
    """Check for a bool torch.Tensor with the shape and device of the tensor ``like``.

    Parameters
    ----------
    value : Any
        The received mask.
    name : str
        The mask's argument name, used in the error message.
    like : torch.Tensor
        The (already checked) tensor the mask belongs to.
    like_name : str
        That tensor's argument name.

    Returns
    -------
    torch.Tensor
        ``value`` itself.

    Raises
    ------
    TypeError
        If ``value`` is not a tensor of dtype ``torch.bool``.
    ValueError
        If its shape or device differs from those of ``like``.
    """
    import torch  # local, as in check_float_tensor

    if not isinstance(value, torch.Tensor):
        raise ArgumentTypeError(
            f"Expected `{name}` to be a bool torch.Tensor, but got {describe(value)}."
        )
    if value.dtype != torch.bool:
        raise ArgumentTypeError(
            f"Expected `{name}` to be a bool torch.Tensor, but got dtype {value.dtype}."
        )
    if value.shape != like.shape:
        raise ArgumentValueError(
            f"Expected `{name}` to have the shape of `{like_name}` {tuple(like.shape)}, but got "
            f"shape {tuple(value.shape)}."
        )
    if value.device != like.device:
        raise ArgumentValueError(
            f"Expected `{name}` to be on the device of `{like_name}` ({like.device}), but got "
            f"{value.device}."
        )
    return value
