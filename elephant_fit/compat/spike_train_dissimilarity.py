"""Drop-in twins of :mod:`elephant.spike_train_dissimilarity` (Elephant 1.2.1).

Same names, signatures, defaults, return types (``np.ndarray`` matrices), errors and warnings;
the numbers come from :mod:`elephant_fit.statistics.dissimilarity`.

Differences from Elephant, all on inputs where Elephant's answer is meaningless:

* ``van_rossum_distance`` raises ``ValueError`` for a negative ``time_constant`` (Elephant
  returns numbers from exponentials of the wrong sign).
* ``van_rossum_distance`` computes exactly 0 for identical trains, so it does not emit Elephant's
  "very small negative values" warning there (Elephant's rounding makes the squared distance
  slightly negative); the warning is still emitted whenever a squared distance is negative.
* With ``sort=False`` and unsorted trains, ``van_rossum_distance`` (like Elephant) returns a
  number without meaning, but not Elephant's.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import quantities as pq
import torch

from elephant_fit._validation import describe
from elephant_fit.statistics._padding import pad_spike_times
from elephant_fit.statistics.dissimilarity import (
    kernel_shift_cost,
    van_rossum_squared_distance,
    victor_purpura_pairs,
)

from ..errors import ArgumentTypeError, ArgumentValueError

__all__ = ["van_rossum_distance", "victor_purpura_distance"]

_NEGATIVE_WARNING = (
    "van_rossum_distance: very small negative values encountered; setting them to zero. "
    "Potentially due to floating point error, which can occur if spike times are represented "
    "as small floating point values (e.g., in seconds). A possible way to prevent this warning "
    "is to use a time unit with better numerical precision, e.g., from seconds to milliseconds."
)


# quantities' unit simplification is slow (~0.2 ms); Elephant pays it for every train. Results
# are cached by unit string (computed from the objects themselves, never parsed from the string).
_SIMPLIFIED: dict[str, Any] = {}
_FACTORS: dict[tuple[str, str], float] = {}


def _simplified(value: pq.Quantity) -> Any:
    key = value.dimensionality.string
    if key not in _SIMPLIFIED:
        _SIMPLIFIED[key] = value.dimensionality.simplified
    return _SIMPLIFIED[key]


def _conversion_factor(value: pq.Quantity, unit: pq.Quantity) -> float:
    key = (value.dimensionality.string, unit.dimensionality.string)
    if key not in _FACTORS:
        _FACTORS[key] = float(value.units.rescale(unit).magnitude)
    return _FACTORS[key]


def _has_dimension(value: Any, unit: pq.Quantity) -> bool:
    return isinstance(value, pq.Quantity) and _simplified(value) == _simplified(unit)


def _check_spiketrains(spiketrains: Sequence[Any]) -> None:
    for index, train in enumerate(spiketrains):
        if not _has_dimension(train, pq.s):
            raise ArgumentTypeError(
                "Spike trains must have a time unit: expected every element of `spiketrains` to "
                f"be a neo.SpikeTrain or a time Quantity, but element {index} is "
                f"{describe(train)}."
            )


def _scalar_magnitude(value: pq.Quantity, name: str) -> float:
    if value.size != 1:
        raise ArgumentValueError(
            f"Expected `{name}` to be a scalar quantity, but got {describe(value)}."
        )
    return float(value.magnitude.item())


def _common_unit(spiketrains: Sequence[pq.Quantity]) -> pq.Quantity:
    """The unit in which all times are expressed: the first train's (seconds if none)."""
    return spiketrains[0].units if len(spiketrains) else pq.s


def _padded(
    spiketrains: Sequence[pq.Quantity], unit: pq.Quantity, sort: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Spike times in ``unit`` as a float64 padded tensor (n_trains, max_spikes) and its mask."""
    target = unit.dimensionality.string
    arrays = []
    for train in spiketrains:
        magnitude = np.asarray(train.magnitude, dtype=np.float64).reshape(-1)
        if train.dimensionality.string != target:
            magnitude = magnitude * _conversion_factor(train, unit)
        arrays.append(magnitude)
    return pad_spike_times(arrays, dtype=torch.float64, sort=sort)


def _spike_counts(spiketrains: Sequence[pq.Quantity]) -> np.ndarray:
    return np.asarray([train.size for train in spiketrains], dtype=np.int_)


def van_rossum_distance(
    spiketrains: Sequence[Any], time_constant: pq.Quantity = 1.0 * pq.s, sort: bool = True
) -> np.ndarray:
    """Van Rossum distance between all pairs of spike trains (twin of Elephant's).

    The Euclidean distance of the trains convolved with a causal exponential of time constant
    ``time_constant``, normalised so that an empty train and a one-spike train are at distance
    1 (divide by ``sqrt(2)`` for van Rossum's normalisation). Computed in closed form by
    ``elephant_fit.statistics.dissimilarity.van_rossum_squared_distance``.

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or pq.Quantity
        The n_trains spike trains, 1-D (any time units; converted to the first train's unit).
    time_constant : pq.Quantity, optional
        Time constant ``tau`` of the filter, a scalar time quantity. Default: 1 s. ``0`` and
        ``inf`` follow Elephant's special cases: ``sqrt(n_i + n_j)`` (also on the diagonal) and
        ``|n_i - n_j|`` (an integer array).
    sort : bool, optional
        Sort each train's spike times; set False only for trains already sorted.

    Returns
    -------
    np.ndarray
        Shape (n_trains, n_trains), float64, dimensionless (int for ``time_constant = inf``).

    Raises
    ------
    TypeError
        If a train or ``time_constant`` does not have a time unit.
    ValueError
        If ``time_constant`` is not a scalar or is negative.

    Warns
    -----
    RuntimeWarning
        If rounding made a squared distance negative (it is set to zero).

    See Also
    --------
    elephant.spike_train_dissimilarity.van_rossum_distance : The Elephant function this twins.
    elephant_fit.statistics.van_rossum_distance : The differentiable distance on tensors.

    Examples
    --------
    >>> import neo
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.spike_train_dissimilarity
    >>> from elephant_fit.compat import spike_train_dissimilarity
    >>> trains = [
    ...     neo.SpikeTrain([0.1, 0.4, 0.7] * pq.s, t_stop=1 * pq.s),
    ...     neo.SpikeTrain([0.2, 0.45, 0.9] * pq.s, t_stop=1 * pq.s),
    ... ]
    >>> ours = spike_train_dissimilarity.van_rossum_distance(trains, time_constant=100 * pq.ms)
    >>> ours.shape, round(float(ours[0, 1]), 4)
    ((2, 2), 1.9105)
    >>> theirs = elephant.spike_train_dissimilarity.van_rossum_distance(
    ...     trains, time_constant=100 * pq.ms
    ... )
    >>> bool(np.allclose(ours, theirs))
    True
    """
    _check_spiketrains(spiketrains)
    if not _has_dimension(time_constant, pq.s):
        raise ArgumentTypeError(
            "tau must be a time quantity: expected `time_constant` to be a time Quantity "
            f"(e.g. 10 * pq.ms), but got {describe(time_constant)}."
        )
    tau = _scalar_magnitude(time_constant, "time_constant")
    counts = _spike_counts(spiketrains)
    if tau == 0:
        return np.sqrt(counts[np.newaxis, :] + counts[:, np.newaxis])
    if tau == np.inf:
        return np.absolute(counts[np.newaxis, :] - counts[:, np.newaxis])
    unit = _common_unit(spiketrains)
    times, mask = _padded(spiketrains, unit, sort)
    tau_in_unit = float(time_constant.rescale(unit).magnitude.item())
    squared = van_rossum_squared_distance(times, mask, tau_in_unit).numpy()
    if np.any(squared < 0):
        warnings.warn(_NEGATIVE_WARNING, RuntimeWarning, stacklevel=2)
        squared = np.maximum(squared, 0.0)
    return np.sqrt(squared)


def _elephant_kernel_cost(kernel: Any, unit: pq.Quantity) -> Callable[[torch.Tensor], torch.Tensor]:
    """Shift cost of an Elephant kernel object, evaluated on differences in ``unit``."""
    scale = np.sqrt(6.0) * kernel.sigma

    def scaled_kernel(dt: torch.Tensor) -> torch.Tensor:
        values = kernel(pq.Quantity(dt.detach().cpu().numpy(), unit))
        scaled = np.asarray((scale * values).simplified.magnitude, dtype=np.float64)
        return torch.as_tensor(scaled, dtype=dt.dtype, device=dt.device)

    return kernel_shift_cost(scaled_kernel)


def _pairs(
    counts: np.ndarray, symmetric: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Matrix positions to fill and the ordered pairs (a, b) to compute for them, Elephant's way.

    A symmetric cost needs the upper triangle only (mirrored). Otherwise every position
    ``(i, j)``, ``i != j``, is computed with the longer train as ``a``: Elephant swaps the trains
    when the first is shorter, so ``D[i, j] == D[j, i]`` unless both have as many spikes.

    Returns
    -------
    rows, cols, first, second : np.ndarray
        Each of shape (n_pairs,), int: positions ``(rows, cols)``, trains ``(first, second)``.
    """
    n_trains = counts.size
    if symmetric:
        rows, cols = np.triu_indices(n_trains, k=1)
        return rows, cols, rows, cols
    rows, cols = np.nonzero(~np.eye(n_trains, dtype=bool))
    swap = counts[rows] < counts[cols]
    return rows, cols, np.where(swap, cols, rows), np.where(swap, rows, cols)


def _fill_matrix(
    n_trains: int, rows: np.ndarray, cols: np.ndarray, values: np.ndarray, symmetric: bool
) -> np.ndarray:
    matrix = np.zeros((n_trains, n_trains))
    matrix[rows, cols] = values
    if symmetric:
        matrix[cols, rows] = values
    return matrix


def victor_purpura_distance(
    spiketrains: Sequence[Any],
    cost_factor: pq.Quantity = 1.0 * pq.Hz,
    kernel: Any = None,
    sort: bool = True,
    algorithm: str = "fast",
) -> np.ndarray:
    """Victor–Purpura distance between all pairs of spike trains (twin of Elephant's).

    The minimal cost of turning one train into the other by inserting or deleting spikes (cost
    1) and shifting spikes (cost ``q |dt|``). Computed by the vectorised dynamic programme of
    ``elephant_fit.statistics.dissimilarity.victor_purpura_pairs``; both ``algorithm``
    values give the same numbers, as in Elephant.

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or pq.Quantity
        The n_trains spike trains, 1-D (any time units; converted to the first train's unit).
    cost_factor : pq.Quantity, optional
        ``q``, a scalar rate quantity (e.g. ``10 * pq.Hz``). Default: 1 Hz. ``0`` gives ``|n_i - n_j|`` and ``inf`` gives ``n_i + n_j`` (integer
        arrays) when ``kernel`` is None. Ignored when ``kernel`` is given (except by
        ``algorithm='intuitive'``, which always uses ``q``, as in Elephant).
    kernel : elephant.kernels.Kernel or None, optional
        Generalised shift cost ``2 (1 - sqrt(6) sigma K(dt))``; the default is the triangular
        kernel of half width ``2 / q``, i.e. the classic distance. For an asymmetric kernel
        every ordered pair is computed with the longer train first, as in Elephant.
    sort : bool, optional
        Sort each train's spike times (the programme matches spikes in the order given).
    algorithm : {'fast', 'intuitive'}, optional
        Kept for compatibility; any other value raises ``NameError`` once two or more trains
        are given.

    Returns
    -------
    np.ndarray
        Shape (n_trains, n_trains), float64, dimensionless (a cost in units of one spike
        insertion); int for the special ``cost_factor`` values.

    Raises
    ------
    TypeError
        If a train does not have a time unit or ``cost_factor`` is not a rate.
    ValueError
        If ``cost_factor`` is negative or not a scalar.
    NameError
        If ``algorithm`` is unknown and at least two trains are given.
    NotImplementedError
        If ``kernel`` is Elephant's abstract ``Kernel`` or ``SymmetricKernel``.

    See Also
    --------
    elephant.spike_train_dissimilarity.victor_purpura_distance : The Elephant function this
        twins.
    elephant_fit.statistics.victor_purpura_distance : The differentiable distance on tensors.

    Examples
    --------
    >>> import neo
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.spike_train_dissimilarity
    >>> from elephant_fit.compat import spike_train_dissimilarity
    >>> trains = [
    ...     neo.SpikeTrain([0.1, 0.4, 0.7] * pq.s, t_stop=1 * pq.s),
    ...     neo.SpikeTrain([0.2, 0.45, 0.9] * pq.s, t_stop=1 * pq.s),
    ... ]
    >>> ours = spike_train_dissimilarity.victor_purpura_distance(trains, cost_factor=10 * pq.Hz)
    >>> ours.shape, round(float(ours[0, 1]), 4)
    ((2, 2), 3.5)
    >>> theirs = elephant.spike_train_dissimilarity.victor_purpura_distance(
    ...     trains, cost_factor=10 * pq.Hz
    ... )
    >>> bool(np.allclose(ours, theirs))
    True
    """
    _check_spiketrains(spiketrains)
    if not _has_dimension(cost_factor, pq.Hz):
        raise ArgumentTypeError(
            "cost_factor must be a rate quantity: expected `cost_factor` to be a Quantity in "
            f"inverse time units (e.g. 10 * pq.Hz), but got {describe(cost_factor)}."
        )
    q = _scalar_magnitude(cost_factor, "cost_factor")
    counts = _spike_counts(spiketrains)
    if kernel is None:
        if q == 0:
            return np.absolute(counts[:, np.newaxis] - counts[np.newaxis, :])
        if q == np.inf:
            return counts[:, np.newaxis] + counts[np.newaxis, :]
    if counts.size >= 2 and algorithm not in ("fast", "intuitive"):
        raise NameError("The algorithm must be either 'fast' or 'intuitive'.")
    symmetric = kernel is None or algorithm == "intuitive" or kernel.is_symmetric()
    unit = _common_unit(spiketrains)
    times, mask = _padded(spiketrains, unit, sort)
    rows, cols, first, second = _pairs(counts, symmetric)
    if kernel is not None and algorithm == "fast":
        shift_cost = _elephant_kernel_cost(kernel, unit)
        rate = 0.0
    else:
        shift_cost = None
        rate = float(cost_factor.rescale(1 / unit).magnitude.item())
        if rate == np.inf:
            shift_cost = _infinite_cost
    index_a, index_b = torch.from_numpy(first), torch.from_numpy(second)
    values = victor_purpura_pairs(
        times[index_a], mask[index_a], times[index_b], mask[index_b], rate, shift_cost=shift_cost
    )
    return _fill_matrix(counts.size, rows, cols, values.numpy(), symmetric)


def _infinite_cost(dt: torch.Tensor) -> torch.Tensor:
    return torch.full_like(dt, torch.inf)
