"""elephant-fit: fit recurrent stochastic spiking networks to Neo spike trains.

The subpackages follow the data flow (see ``docs/explanations/architecture.md``):

* :mod:`elephant_fit.data`: :class:`SpikeData`, :func:`from_neo`, :func:`to_neo`,
  :func:`read_block`, :func:`write_block`, :func:`load_retina`, :func:`load_place_cell`,
  :func:`load_reaching_unit` (Neo <-> tensors and files, binning exactly like
  ``elephant.conversion.BinnedSpikeTrain``; bundled recordings);
* :mod:`elephant_fit.statistics`: differentiable twins of Elephant's statistics;
  :mod:`elephant_fit.compat`: drop-in replacements of Elephant's functions;
* :mod:`elephant_fit.network`: :class:`SpikingNetwork`, observation models, :func:`simulate`,
  :func:`teacher_forced`, surrogate gradients, synthetic ground truths;
* :mod:`elephant_fit.fitting`: :class:`NetworkFitter`, :func:`make_loss`, :class:`StatisticLoss`,
  :func:`load_model`;
* :mod:`elephant_fit.evaluation`: held-out likelihood, metrics, reports with Elephant's definitions, figures;
* :mod:`elephant_fit.errors`: :class:`ElephantFitError` and its subclasses.
"""

from ._version import __version__
from .data import (
    SpikeData,
    SpikesOutsideWindowWarning,
    from_neo,
    load_place_cell,
    load_reaching_unit,
    load_retina,
    read_block,
    to_neo,
    write_block,
)
from .errors import ElephantFitError, NonFiniteLossError, NotFittedError
from .fitting import FitConfig, NetworkFitter, StatisticLoss, load_model, make_loss
from .fitting.persistence import load  # noqa: F401 - deprecated name of load_model
from .network import SpikingNetwork, simulate, teacher_forced

__all__ = [
    "ElephantFitError",
    "FitConfig",
    "NetworkFitter",
    "NonFiniteLossError",
    "NotFittedError",
    "SpikeData",
    "SpikesOutsideWindowWarning",
    "SpikingNetwork",
    "StatisticLoss",
    "__version__",
    "from_neo",
    "load_model",
    "load_place_cell",
    "load_reaching_unit",
    "load_retina",
    "make_loss",
    "read_block",
    "simulate",
    "teacher_forced",
    "to_neo",
    "write_block",
]
