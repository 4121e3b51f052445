"""FitConfig: every optimisation setting and its default, in one place.

:func:`elephant_fit.fitting.fit_model` takes a FitConfig; :class:`elephant_fit.NetworkFitter`
builds one from its hyper-parameters, whose defaults are read from here.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import torch

from .._validation import (
    check_choice,
    check_non_negative_int,
    check_number,
    check_positive_int,
    check_seed,
    describe,
)
from ..errors import ArgumentValueError
from ..network.surrogates import Surrogate, get_surrogate

__all__ = ["FitConfig", "resolve_device"]


@dataclass(frozen=True)
class FitConfig:
    """Settings of the optimisation loop (Adam on mini-batches of trials, best checkpoint kept).

    Attributes
    ----------
    max_iterations : int
        Number of optimisation steps (Adam steps, or L-BFGS updates).
    learning_rate : float
        Adam learning rate.
    batch_size : int
        Trials per mini-batch (and simulated trials per sample-and-measure evaluation).
    seed : int
        Seed of batch selection and sampling; same seed, same device -> same result.
    surrogate : str or Surrogate
        Gradient surrogate through sampled spikes: 'sigmoid', 'pseudo' or 'gumbel'.
    clip_norm : float
        Maximal gradient norm (Adam; L-BFGS's line search sets its own step).
    optimizer : {'adam', 'lbfgs'}
        'adam' (default): Adam on mini-batches. 'lbfgs': full-batch L-BFGS (one update with a
        strong-Wolfe line search per iteration; ``learning_rate`` and ``batch_size`` unused), for
        deterministic losses only: the likelihood of a network without hidden neurons. Measured
        (``benchmarks/bench_fit.py``, the demos): L-BFGS reaches its best held-out likelihood 3-7
        times sooner, better on synthetic data, but worse on the retina recording (many drive
        parameters, few trials), where Adam's slower path generalises better; hence not the
        default.
    eval_every : int
        Iterations between validation evaluations (the last iteration is always evaluated; with
        L-BFGS every iteration is).
    patience : int or None
        Early stopping: stop after this many evaluations in a row without a relative improvement
        of the validation loss of at least ``tolerance`` (None: never stop early). The best
        parameters are kept in any case.
    tolerance : float
        Relative improvement that resets the patience.
    sm_window : int or None
        Measure the sample-and-measure terms on a random window of this many bins of each batch
        (the same window of the data and of the simulation) instead of whole trials: long trials
        then cost like short ones per iteration. None: whole trials. Validation always uses
        whole trials.
    sm_burn_in : int
        Bins simulated before the window but not measured (the network settles from an empty
        history); fewer at the start of a trial.
    progress : bool
        Show a progress bar with the loss terms.

    Examples
    --------
    >>> config = FitConfig(max_iterations=200)
    >>> config.learning_rate
    0.01
    >>> config.replace(seed=3).seed
    3
    """

    max_iterations: int = 1000
    learning_rate: float = 1e-2
    batch_size: int = 20
    seed: int = 0
    surrogate: str | Surrogate = "sigmoid"
    clip_norm: float = 1.0
    optimizer: str = "adam"
    eval_every: int = 20
    patience: int | None = 10
    tolerance: float = 1e-4
    sm_window: int | None = None
    sm_burn_in: int = 50
    progress: bool = True

    def __post_init__(self) -> None:
        check_positive_int(self.max_iterations, "max_iterations")
        check_number(self.learning_rate, "learning_rate", positive=True, allow_zero=False)
        check_positive_int(self.batch_size, "batch_size")
        object.__setattr__(self, "seed", check_seed(self.seed))  # numpy integers -> int
        get_surrogate(self.surrogate)
        check_number(self.clip_norm, "clip_norm", positive=True, allow_zero=False)
        check_choice(self.optimizer, "optimizer", ("adam", "lbfgs"))
        check_positive_int(self.eval_every, "eval_every")
        check_number(self.tolerance, "tolerance", positive=True)
        if self.patience is not None:
            check_positive_int(self.patience, "patience")
        if self.sm_window is not None:
            check_positive_int(self.sm_window, "sm_window")
        check_non_negative_int(self.sm_burn_in, "sm_burn_in")
        check_choice(self.progress, "progress", (True, False))

    def replace(self, **changes: Any) -> FitConfig:
        """A copy with some settings changed (validated)."""
        return replace(self, **changes)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Names of the settings."""
        return tuple(field.name for field in fields(cls))


def resolve_device(device: str | torch.device) -> torch.device:
    """'auto' -> CUDA when available, else CPU; anything else -> torch.device(device)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ArgumentValueError(
            f"Expected `device` to be 'auto', 'cpu', 'cuda' or a torch.device, but got {describe(device)}."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ArgumentValueError(
            f"`device` is {str(resolved)!r}, but torch finds no CUDA device here "
            f"(torch {torch.__version__}); use 'cpu' or 'auto'."
        )
    return resolved
