"""The record of a fit: the losses it saw (FitHistory) and where its loop stands (LoopState)."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["FitHistory", "LoopState"]


@dataclass
class FitHistory:
    """Losses recorded during a fit.

    Each record is a dict with the ``"iteration"`` (int), the total ``"loss"`` (the weighted sum
    of the terms) and each term's unweighted value under its name (floats; ``"nll"`` in nats per
    bin and recorded neuron, the sample-and-measure terms dimensionless when normalised).

    Attributes
    ----------
    train : list of dict
        Per iteration: the total and each term's value on the training batch.
    validation : list of dict
        Per evaluation: the iteration, the total and each term on the validation trials (the
        first record, iteration 0, is the initial state).
    best_iteration : int
        Iteration of the kept (best validation) parameters; 0: no iteration improved on the
        initial state (see :attr:`improved`).
    stopped_early : bool
        Whether early stopping ended the fit.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.fitting import fit_model, make_loss
    >>> from elephant_fit.network import SpikingNetwork, use_loop
    >>> generator = torch.Generator().manual_seed(0)
    >>> counts = torch.bernoulli(torch.full((10, 20, 3), 0.1), generator=generator)
    >>> model = SpikingNetwork(n_recorded=3, n_lags=2, seed=0)
    >>> with use_loop("torch"):
    ...     history = fit_model(
    ...         model, counts[:8], counts[8:], make_loss("mle"), max_iterations=5, progress=False
    ...     )
    >>> type(history).__name__, len(history.train), sorted(history.train[0])
    ('FitHistory', 5, ['iteration', 'loss', 'nll'])
    >>> [record["iteration"] for record in history.validation]  # initial state, last iteration
    [0, 5]
    >>> history.stopped_early
    False
    """

    @property
    def improved(self) -> bool:
        """Whether some iteration beat the initial parameters on the validation loss."""
        return self.best_iteration > 0

    train: list[dict[str, float]] = field(default_factory=list)
    validation: list[dict[str, float]] = field(default_factory=list)
    best_iteration: int = 0
    stopped_early: bool = False


@dataclass
class LoopState:
    """Where :func:`~elephant_fit.fitting.fit_model` stands (saved whole in a checkpoint).

    Attributes
    ----------
    iteration : int
        The last finished iteration (0: none yet).
    best : float
        The best validation loss so far (inf when the initial one was not finite).
    best_state : dict of str to torch.Tensor
        The model's state at ``best``.
    waited : int
        Evaluations since the last relative improvement of at least the tolerance.
    last_good : dict of str to torch.Tensor
        The parameters that last gave a finite loss and gradient (restored on a non-finite one).
    """

    iteration: int
    best: float
    best_state: dict[str, torch.Tensor]
    waited: int = 0
    last_good: dict[str, torch.Tensor] = field(default_factory=dict)

    @classmethod
    def start(cls, model: torch.nn.Module, initial_loss: float) -> LoopState:
        """The state before the first iteration: the initial parameters are the best so far."""
        best = initial_loss if math.isfinite(initial_loss) else math.inf
        return cls(iteration=0, best=best, best_state=copy.deepcopy(model.state_dict()))

    def keep_last_good(self, model: torch.nn.Module) -> None:
        """Remember the model's current parameters as the last good ones."""
        self.last_good = {name: p.detach().clone() for name, p in model.named_parameters()}

    def as_dict(self) -> dict[str, Any]:
        """Plain data for a checkpoint."""
        return {
            "iteration": self.iteration,
            "best": self.best,
            "best_state": self.best_state,
            "waited": self.waited,
            "last_good": self.last_good,
        }

    def update_from(self, saved: dict[str, Any], device: torch.device) -> None:
        """Take the values of a checkpoint's :meth:`as_dict` (tensors moved to ``device``)."""
        self.iteration, self.best, self.waited = saved["iteration"], saved["best"], saved["waited"]
        self.best_state = {k: v.to(device) for k, v in saved["best_state"].items()}
        self.last_good = {k: v.to(device) for k, v in saved["last_good"].items()}
