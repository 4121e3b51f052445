"""Helpers on quantities shared by the Neo adapters and the compat layer."""

from __future__ import annotations

from typing import Any

import numpy as np
import quantities as pq

__all__ = ["cache_by_units", "rescaled_magnitude", "unit_key"]

#: Units whose ids key the caches built with :func:`cache_by_units` (kept alive so that no id is
#: reused).
_CACHED_UNITS: list[Any] = []
#: Cache of unit conversion factors by (from, to) unit keys.
_FACTORS: dict[tuple, float] = {}


def unit_key(quantity: pq.Quantity) -> tuple:
    """Cheap hashable key of a quantity's unit (comparing or hashing Dimensionality objects is slow).

    The key holds the ids of the unit objects: keep the units alive while keys are in use.
    """
    return tuple((id(unit), power) for unit, power in quantity._dimensionality.items())


def cache_by_units(cache: dict, key: tuple, value: Any, *quantities: pq.Quantity) -> Any:
    """Store ``value`` under a key of unit keys, keeping the units of ``quantities`` alive."""
    _CACHED_UNITS.extend(q._dimensionality.copy() for q in quantities)
    cache[key] = value
    return value


def rescaled_magnitude(quantity: pq.Quantity, units: pq.Quantity) -> np.ndarray | float:
    """``quantity.rescale(units).magnitude``, bit for bit, with the conversion factor cached.

    Quantities parses unit names on every ``rescale``; for float64 data the result is the
    magnitude times one factor, which is computed once per pair of units here.
    """
    key = (unit_key(quantity), unit_key(units))
    if key[0] == key[1]:
        return quantity.magnitude
    if quantity.dtype != np.float64:
        return quantity.rescale(units).magnitude
    factor = _FACTORS.get(key)
    if factor is None:
        unit = pq.Quantity(1.0, quantity.dimensionality)
        factor = cache_by_units(
            _FACTORS, key, float(unit.rescale(units).magnitude), quantity, units
        )
    return quantity.magnitude * factor
