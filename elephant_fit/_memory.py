"""Memory guard: estimate what an operation allocates and refuse it above a limit, before allocating."""

from __future__ import annotations

import os
from typing import Any

from ._validation import check_number
from .errors import MemoryLimitError

__all__ = [
    "DEFAULT_FRACTION",
    "available_memory",
    "check_memory",
    "fit_iteration_bytes",
    "format_bytes",
]

#: Default limit: this fraction of the memory available when the check runs.
DEFAULT_FRACTION = 0.5


def available_memory(device: Any = None) -> int:
    """Bytes of memory available now on ``device`` (CUDA: free device memory; else the host's)."""
    if device is not None and getattr(device, "type", str(device)).startswith("cuda"):
        import torch

        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # unknown platform: no guard
        return 2**62


def fit_iteration_bytes(
    n_trials: int, n_bins: int, n_neurons: int, n_lags: int, itemsize: int
) -> float:
    """Estimated memory of one fitting iteration on ``n_trials`` trials (one rank's share).

    The teacher-forced pass, the free run, their buffers and gradients: about
    ``14 + 2 * n_lags`` values per trial, bin and neuron (measured on the CPU fits); and the
    coupling with its gradient and Adam's two moments, ``4 * n_lags * n_neurons ** 2`` values.

    Parameters
    ----------
    n_trials, n_bins, n_neurons, n_lags : int
        Trials in the (share of the) batch, bins, neurons (recorded + hidden), coupling lags.
    itemsize : int
        Bytes per value (4 for float32).

    Returns
    -------
    float
        Bytes.
    """
    activity = float(n_trials) * n_bins * n_neurons * (14 + 2 * n_lags)
    parameters = 4.0 * n_lags * n_neurons * n_neurons
    return (activity + parameters) * itemsize


def format_bytes(n_bytes: float) -> str:
    """``n_bytes`` in GiB or MiB, e.g. '112.0 GiB'."""
    if n_bytes >= 2**30:
        return f"{n_bytes / 2**30:.1f} GiB"
    return f"{n_bytes / 2**20:.1f} MiB"


def check_memory(n_bytes: float, what: str, max_memory: Any = None, device: Any = None) -> None:
    """Refuse an operation that would allocate about ``n_bytes`` above the memory limit.

    Parameters
    ----------
    n_bytes : float
        Estimated allocation.
    what : str
        What would allocate it, for the message (e.g. "binning 30 trials x 1e9 bins x 38 units").
    max_memory : int, float or None, optional
        The limit in bytes; None: :data:`DEFAULT_FRACTION` of the available memory.
    device : torch.device or str, optional
        Where the memory is allocated (CUDA: the device's free memory; default the host's).

    Raises
    ------
    MemoryLimitError
        With the estimate and the limit, in one line.
    """
    if max_memory is None:
        limit = DEFAULT_FRACTION * available_memory(device)
        source = "half the available memory"
    else:
        limit, source = (
            check_number(max_memory, "max_memory", positive=True, allow_zero=False),
            "max_memory",
        )
    if n_bytes > limit:
        raise MemoryLimitError(
            f"{what} needs about {format_bytes(n_bytes)}, above the limit of "
            f"{format_bytes(limit)} ({source}); use a larger bin size, fewer trials or "
            "neurons, or raise the limit with max_memory= (--max-memory)."
        )
