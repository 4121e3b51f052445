"""elephant-fit: fit recurrent stochastic spiking networks to Neo spike trains.

Public API:

* :class:`SpikeData`, :func:`from_neo`, :func:`to_neo`, :func:`read_block`, :func:`write_block`:
  Neo <-> tensors and files, binning exactly like ``elephant.conversion.BinnedSpikeTrain``;
* :mod:`elephant_fit.statistics`: differentiable twins of Elephant's statistics;
  :mod:`elephant_fit.compat`: drop-in replacements of Elephant's functions;
* :class:`SpikingNetwork`, :func:`simulate`, :func:`teacher_forced`: the network model;
* :class:`NetworkFitter`, :func:`load`: fitting by likelihood and sample-and-measure losses.
"""

from ._binning import SpikesOutsideWindowWarning
from ._version import __version__
from .conversion import from_neo, read_block, to_neo, write_block
from .estimator import NetworkFitter, NotFittedError, load
from .model import SpikingNetwork
from .simulation import simulate, teacher_forced
from .spikedata import SpikeData

__all__ = [
    "NetworkFitter",
    "NotFittedError",
    "SpikeData",
    "SpikesOutsideWindowWarning",
    "SpikingNetwork",
    "__version__",
    "from_neo",
    "load",
    "read_block",
    "simulate",
    "teacher_forced",
    "to_neo",
    "write_block",
]
