"""elephant-fit: fit recurrent stochastic spiking networks to Neo spike trains.

The public API: :class:`SpikeData` (binned counts of shape (n_trials, n_bins, n_neurons) with their
time axis and unit metadata), :func:`from_neo` (Neo -> SpikeData, binning exactly like
``elephant.conversion.BinnedSpikeTrain``) and :func:`to_neo` (SpikeData -> neo.Block).
"""

from ._binning import SpikesOutsideWindowWarning
from ._version import __version__
from .conversion import from_neo, read_block, to_neo
from .spikedata import SpikeData

__all__ = [
    "SpikeData",
    "SpikesOutsideWindowWarning",
    "__version__",
    "from_neo",
    "read_block",
    "to_neo",
]
