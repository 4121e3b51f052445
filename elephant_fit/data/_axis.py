"""The time axis and sizes of :class:`~elephant_fit.data.spikedata.SpikeData` (a mixin).

Read-only properties computed from ``counts`` (shape (n_trials, n_bins, n_neurons)), the bin
width and window stored as magnitudes ``_bin_size``, ``_t_start``, ``_t_stop`` in ``_units``, and
the ``hidden`` flags.
"""

from __future__ import annotations

import numpy as np
import quantities as pq
import torch

__all__ = ["TimeAxis"]


class TimeAxis:
    """Time axis (``bin_size``, ``t_start``, ``t_stop``, bin edges and centres) and sizes."""

    counts: torch.Tensor
    hidden: np.ndarray
    _bin_size: float
    _t_start: float
    _t_stop: float
    _units: pq.Quantity

    # ------------------------------------------------------------------ time axis
    @property
    def units(self) -> pq.Quantity:
        """Time unit of ``bin_size``, ``t_start`` and ``t_stop``."""
        return self._units

    @property
    def bin_size(self) -> pq.Quantity:
        """Width of one bin (scalar time quantity)."""
        return pq.Quantity(self._bin_size, self._units)

    @property
    def t_start(self) -> pq.Quantity:
        """Left edge of the first bin (scalar time quantity)."""
        return pq.Quantity(self._t_start, self._units)

    @property
    def t_stop(self) -> pq.Quantity:
        """End of the trial window (scalar time quantity)."""
        return pq.Quantity(self._t_stop, self._units)

    @property
    def bin_edges(self) -> pq.Quantity:
        """Bin edges, shape (n_bins + 1,), as ``BinnedSpikeTrain.bin_edges``."""
        last = self._t_start + self.n_bins * self._bin_size
        return pq.Quantity(np.linspace(self._t_start, last, self.n_bins + 1), self._units)

    @property
    def bin_centers(self) -> pq.Quantity:
        """Bin centres, shape (n_bins,), as ``BinnedSpikeTrain.bin_centers``."""
        first = self._t_start + self._bin_size / 2
        last = first + (self.n_bins - 1) * self._bin_size
        return pq.Quantity(np.linspace(first, last, self.n_bins), self._units)

    # ------------------------------------------------------------------ sizes
    @property
    def n_trials(self) -> int:
        """Number of trials."""
        return int(self.counts.shape[0])

    @property
    def n_bins(self) -> int:
        """Number of bins per trial."""
        return int(self.counts.shape[1])

    @property
    def n_neurons(self) -> int:
        """Number of neurons (recorded and hidden)."""
        return int(self.counts.shape[2])

    @property
    def n_hidden(self) -> int:
        """Number of hidden neurons."""
        return int(self.hidden.sum())

    @property
    def n_recorded(self) -> int:
        """Number of recorded (not hidden) neurons."""
        return self.n_neurons - self.n_hidden

    @property
    def device(self) -> torch.device:
        """Device of ``counts``."""
        return self.counts.device

    @property
    def dtype(self) -> torch.dtype:
        """Data type of ``counts``."""
        return self.counts.dtype

    def same_time_axis(self, other: TimeAxis) -> bool:
        """Whether ``other`` has the same number of bins, bin size and window (to rounding)."""
        return bool(
            self.n_bins == other.n_bins
            and np.isclose(self._bin_size, float(other.bin_size.rescale(self._units).magnitude))
            and np.isclose(self._t_start, float(other.t_start.rescale(self._units).magnitude))
            and np.isclose(self._t_stop, float(other.t_stop.rescale(self._units).magnitude))
        )
