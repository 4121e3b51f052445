"""Helpers on quantities shared by the Neo adapters and the compat layer."""

from __future__ import annotations

import quantities as pq

__all__ = ["unit_key"]


def unit_key(quantity: pq.Quantity) -> tuple:
    """Cheap hashable key of a quantity's unit (comparing or hashing Dimensionality objects is slow).

    The key holds the ids of the unit objects: keep the units alive while keys are in use.
    """
    return tuple((id(unit), power) for unit, power in quantity._dimensionality.items())
