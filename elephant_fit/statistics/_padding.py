"""Padded spike-time tensors: many spike trains of different lengths in one tensor.

Convention used by every spike-time statistic:

* ``times``: float tensor of shape (..., n_trains, max_spikes). Row ``i`` holds the spike times of
  train ``i`` in ascending order, followed by padding. Padding holds a finite value (the train's
  last spike, or 0 for an empty train), never NaN, so that masked arithmetic keeps gradients finite.
* ``mask``: bool tensor of the same shape, True on real spikes; it is a prefix of each row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .._validation import check_bool_mask, check_float_tensor, describe
from ..errors import ArgumentTypeError, ArgumentValueError

__all__ = ["lengths_of", "pad_spike_times", "unpad_spike_times"]


def pad_spike_times(
    trains: Sequence[np.ndarray | torch.Tensor],
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
    sort: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack spike trains of different lengths into a padded tensor and a mask.

    Parameters
    ----------
    trains : sequence of 1-D arrays or tensors
        Spike times of each train (magnitudes in one common unit), shape (n_spikes_i,).
    dtype : torch.dtype, optional
        Floating dtype of the result.
    device : torch.device or str, optional
        Device of the result (default: CPU).
    sort : bool, optional
        Sort each train's times (the inputs are not modified).

    Returns
    -------
    times : torch.Tensor
        Shape (n_trains, max_spikes), in the unit of ``trains``; padding repeats the train's
        last spike (0 if empty).
    mask : torch.Tensor
        Shape (n_trains, max_spikes), bool, True on real spikes.

    Examples
    --------
    >>> import numpy as np
    >>> from elephant_fit.statistics import pad_spike_times
    >>> trains = [np.array([0.3, 0.1]), np.array([]), np.array([0.5])]  # seconds
    >>> times, mask = pad_spike_times(trains)
    >>> times.shape, times.dtype
    (torch.Size([3, 2]), torch.float64)
    >>> times.tolist()
    [[0.1, 0.3], [0.0, 0.0], [0.5, 0.5]]
    >>> mask.tolist()
    [[True, True], [False, False], [True, False]]
    """
    _check_trains(trains)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ArgumentTypeError(
            f"Expected `dtype` to be a floating torch.dtype, but got {describe(dtype)}."
        )
    n_trains = len(trains)
    lengths = np.fromiter((len(t) for t in trains), dtype=np.int64, count=n_trains)
    width = int(lengths.max()) if n_trains else 0
    flat = (
        np.concatenate([np.asarray(t, dtype=np.float64).reshape(-1) for t in trains])
        if n_trains and width
        else np.zeros(0)
    )
    times = torch.zeros((n_trains, width), dtype=dtype)
    mask = torch.arange(width).unsqueeze(0) < torch.from_numpy(lengths).unsqueeze(1)
    times[mask] = torch.from_numpy(flat).to(dtype)
    if sort and width:
        times = torch.where(mask, times, torch.full_like(times, torch.inf))
        times = torch.sort(times, dim=-1).values
    if width:
        last = times.gather(-1, (torch.from_numpy(lengths).clamp(min=1) - 1).unsqueeze(1))
        last = torch.where(torch.from_numpy(lengths).unsqueeze(1) > 0, last, torch.zeros_like(last))
        times = torch.where(mask, times, last)
    return times.to(device), mask.to(device)


def _check_trains(trains: object) -> None:
    """Raise unless ``trains`` is a sequence of 1-D arrays, tensors or lists."""
    expected = "a sequence of 1-D arrays or tensors (one per spike train)"
    array_like = (Sequence, np.ndarray, torch.Tensor)
    if isinstance(trains, (str, bytes)) or not isinstance(trains, array_like):
        raise ArgumentTypeError(f"Expected `trains` to be {expected}, but got {describe(trains)}.")
    for index, train in enumerate(trains):
        if isinstance(train, (str, bytes)) or not isinstance(train, array_like):
            raise ArgumentTypeError(
                f"Expected `trains` to be {expected}, but element {index} is {describe(train)}."
            )
        if getattr(train, "ndim", 1) != 1:
            raise ArgumentValueError(
                f"Expected `trains` to be {expected}, but element {index} has shape "
                f"{tuple(train.shape)}."
            )


def lengths_of(mask: torch.Tensor) -> torch.Tensor:
    """Number of spikes per train.

    Parameters
    ----------
    mask : torch.Tensor
        Shape (..., n_trains, max_spikes), bool.

    Returns
    -------
    torch.Tensor
        Shape (..., n_trains), int64.
    """
    return mask.sum(dim=-1)


def unpad_spike_times(times: torch.Tensor, mask: torch.Tensor) -> list[np.ndarray]:
    """Inverse of :func:`pad_spike_times` for a 2-D batch.

    Parameters
    ----------
    times : torch.Tensor
        Shape (n_trains, max_spikes), padded spike times (any time unit).
    mask : torch.Tensor
        Shape (n_trains, max_spikes), bool, True on real spikes.

    Returns
    -------
    list of np.ndarray
        One float array of shape (n_spikes_i,) per train, in the unit and dtype of ``times``
        (detached, on the CPU).

    Examples
    --------
    >>> import numpy as np
    >>> from elephant_fit.statistics import pad_spike_times, unpad_spike_times
    >>> times, mask = pad_spike_times([np.array([0.1, 0.3]), np.array([]), np.array([0.5])])
    >>> [train.tolist() for train in unpad_spike_times(times, mask)]
    [[0.1, 0.3], [], [0.5]]
    """
    check_float_tensor(times, "times", 2, "(n_trains, max_spikes)")
    if times.ndim != 2:
        raise ArgumentValueError(
            f"Expected `times` to have shape (n_trains, max_spikes), but got shape "
            f"{tuple(times.shape)}."
        )
    check_bool_mask(mask, "mask", times, "times")
    values = times.detach().cpu().numpy()
    counts = mask.sum(dim=-1).cpu().numpy()
    return [values[i, : counts[i]].copy() for i in range(values.shape[0])]
