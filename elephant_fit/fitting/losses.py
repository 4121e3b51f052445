"""Losses: teacher-forced negative log-likelihood and sample-and-measure (SM) terms.

An SM term measures one statistic (a function of ``elephant_fit.statistics``) on free-running
simulations of the model and on data trials, and penalises their distance. Distances are
normalised by the scale of the data statistic (its mean square), so that one set of weights works
at any bin size, rate and population size; ``normalise=False`` gives the raw distance (the
``"paper"`` preset of Bellec et al. 2021).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

import torch

from .._validation import describe
from ..errors import ArgumentTypeError, ArgumentValueError
from ..network.model import SpikingNetwork
from ..network.simulation import Simulation
from ..statistics.correlation import noise_covariance
from ..statistics.rates import mean_firing_rate, psth
from ..statistics.variability import fanofactor_windows

__all__ = [
    "PRESETS",
    "CombinedLoss",
    "CouplingPenalty",
    "HiddenRateLoss",
    "LossTerm",
    "NegativeLogLikelihood",
    "StatisticLoss",
    "make_loss",
]

#: Weights of the presets. "sm" is our normalised default (PSTH weight 2 measured against 0.5 on
#: the synthetic and the retina demos: held-out PSTH R^2 and likelihood up, noise correlations
#: about the same); "paper" is Bellec et al. (2021), raw.
PRESETS: dict[str, dict[str, float]] = {
    "mle": {"nll": 1.0},
    "sm": {"nll": 1.0, "psth": 2.0, "noise_covariance": 1.0, "hidden_rate": 0.01},
    "paper": {"nll": 0.4, "psth": 0.1, "noise_covariance": 50.0, "hidden_rate": 0.001},
}


@dataclass
class Batch:
    """What a loss term sees at one iteration.

    Attributes
    ----------
    data : torch.Tensor
        Recorded counts, shape (n_trials, n_bins, n_recorded).
    teacher : Simulation or None
        Teacher-forced pass on ``data`` (for the likelihood).
    free : Simulation or None
        Free-running simulation (for SM terms), shape (n_sim_trials, n_window, n_neurons).
    measured : torch.Tensor or None
        The recorded counts the SM terms compare ``free`` with, shape (n_trials, n_window,
        n_recorded): a window of ``data`` when the SM terms are measured on windows
        (``FitConfig.sm_window``); None: ``data`` itself.
    """

    data: torch.Tensor
    teacher: Simulation | None = None
    free: Simulation | None = None
    measured: torch.Tensor | None = None

    @property
    def sm_data(self) -> torch.Tensor:
        """What sample-and-measure terms compare the free run with (``measured`` or ``data``)."""
        return self.data if self.measured is None else self.measured


class LossTerm:
    """A term of the loss; ``needs`` says which passes it uses ('teacher' and/or 'free')."""

    needs: frozenset[str] = frozenset()

    def __call__(self, model: SpikingNetwork, batch: Batch) -> torch.Tensor:
        """Scalar value of the term on a batch."""
        raise NotImplementedError


class NegativeLogLikelihood(LossTerm):
    """Mean teacher-forced negative log-likelihood per bin and recorded neuron (nats).

    Hidden neurons' spikes are sampled given the past (Bellec et al. 2021). A particle-filter
    likelihood (recorded spikes informing the hidden ones) was measured as a training term on the
    connectivity benchmark and did not help: see :mod:`elephant_fit.evaluation.likelihood`.
    """

    needs = frozenset({"teacher"})

    def __call__(self, model: SpikingNetwork, batch: Batch) -> torch.Tensor:  # noqa: D102
        assert batch.teacher is not None
        u = batch.teacher.u[..., : model.n_recorded]
        return model.neg_log_likelihood(u, batch.data).mean()


def normalised_mse(
    model_value: torch.Tensor, data_value: torch.Tensor, normalise: bool
) -> torch.Tensor:
    """Mean squared difference, divided by the mean square of the data statistic when ``normalise``.

    Parameters
    ----------
    model_value, data_value : torch.Tensor
        Statistics of the same shape.
    normalise : bool
        Divide by ``mean(data_value ** 2)`` (at least the dtype's smallest normal number).

    Returns
    -------
    torch.Tensor
        Scalar distance.
    """
    error = (model_value - data_value).pow(2).mean()
    if not normalise:
        return error
    scale = data_value.detach().pow(2).mean()
    return error / scale.clamp(min=torch.finfo(scale.dtype).tiny)


@dataclass
class StatisticLoss(LossTerm):
    """Sample-and-measure term: ``distance(statistic(model activity), statistic(data))``.

    Parameters
    ----------
    statistic : callable
        Maps activity of shape (n_trials, n_bins, n_recorded) to a tensor (any shape).
    model_side : {'spikes', 'mean'}
        Measure the model's sampled spikes (gradient through the surrogate) or its spike
        probabilities / mean counts (lower variance; right for first-order statistics like a PSTH).
    distance : callable, optional
        ``distance(model_value, data_value) -> scalar``; default: (normalised) mean squared error.
    normalise : bool
        Divide the default distance by the mean square of the data statistic.
    """

    statistic: Callable[[torch.Tensor], torch.Tensor]
    model_side: str = "spikes"
    distance: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None
    normalise: bool = True
    needs: frozenset[str] = field(default=frozenset({"free"}), init=False)

    def __post_init__(self) -> None:
        if self.model_side not in ("spikes", "mean"):
            raise ArgumentValueError(
                f"Expected `model_side` to be 'spikes' or 'mean', but got {describe(self.model_side)}."
            )
        if not callable(self.statistic):
            raise ArgumentTypeError(
                f"Expected `statistic` to be callable, but got {describe(self.statistic)}."
            )

    def model_activity(self, model: SpikingNetwork, free: Simulation) -> torch.Tensor:
        """Recorded neurons' activity of the free run, shape (n_trials, n_bins, n_recorded)."""
        if self.model_side == "spikes":
            return free.spikes[..., : model.n_recorded]
        return model.mean(free.u[..., : model.n_recorded])

    def __call__(self, model: SpikingNetwork, batch: Batch) -> torch.Tensor:  # noqa: D102
        assert batch.free is not None
        model_value = self.statistic(self.model_activity(model, batch.free))
        data_value = self.statistic(batch.sm_data).detach()
        if self.distance is not None:
            return self.distance(model_value, data_value)
        return normalised_mse(model_value, data_value, self.normalise)


def _off_diagonal_noise_covariance(counts: torch.Tensor, max_lag: int) -> torch.Tensor:
    """Noise covariance at lags 0..max_lag without the lag-0 diagonal (the variances).

    Returns
    -------
    torch.Tensor
        Shape (max_lag + 1, n, n) with the lag-0 diagonal set to 0.
    """
    covariance = noise_covariance(counts, max_lag=max_lag)
    n = covariance.shape[-1]
    keep = torch.ones_like(covariance)
    keep[0] = 1.0 - torch.eye(n, dtype=covariance.dtype, device=covariance.device)
    return covariance * keep


def _fano_factors(counts: torch.Tensor, window: int) -> torch.Tensor:
    """Fano factors of spike counts in windows of ``window`` bins; 0 where a neuron is silent.

    Returns
    -------
    torch.Tensor
        Shape (n_bins // window, n_neurons).
    """
    return torch.nan_to_num(fanofactor_windows(counts, min(window, counts.shape[-2])), nan=0.0)


def _mean_count_per_bin(counts: torch.Tensor) -> torch.Tensor:
    """Mean count per bin of each neuron over trials, shape (n_neurons,)."""
    return mean_firing_rate(counts).mean(dim=0)


@dataclass
class HiddenRateLoss(LossTerm):
    """Pull the hidden neurons' mean spike probability per bin towards ``target``.

    Parameters
    ----------
    target : float
        Target mean count per bin (e.g. the recorded neurons' mean).
    """

    target: float = 0.05
    needs: frozenset[str] = field(default=frozenset({"free"}), init=False)

    def __call__(self, model: SpikingNetwork, batch: Batch) -> torch.Tensor:  # noqa: D102
        if model.n_hidden == 0 or batch.free is None:
            return torch.zeros((), dtype=model.bias.dtype, device=model.bias.device)
        rates = model.mean(batch.free.u[..., model.n_recorded :]).mean(dim=(0, 1))
        return ((rates - self.target) / max(self.target, 1e-6)).pow(2).mean()


@dataclass
class CouplingPenalty(LossTerm):
    """L1 or L2 penalty on the coupling between different neurons (self-history is not penalised).

    The value is the mean over the ordered pairs ``i != j`` (recorded and hidden) that the network
    may connect (its coupling mask) of ``sum_l |W[l, i, j]|`` (L1) or ``sum_l W[l, i, j] ** 2``
    (L2): its weight (``penalty_strength``) is on the scale of the mean negative log-likelihood per
    bin and neuron.

    Parameters
    ----------
    kind : {'l1', 'l2'}
        The norm.
    """

    kind: str = "l1"
    needs: frozenset[str] = field(default=frozenset(), init=False)

    def __post_init__(self) -> None:
        if self.kind not in PENALTIES:
            raise ArgumentValueError(
                f"Expected `penalty` to be one of {PENALTIES}, but got {describe(self.kind)}."
            )

    def __call__(self, model: SpikingNetwork, batch: Batch) -> torch.Tensor:  # noqa: D102
        coupling = model.coupling()  # (n_lags, pre, post)
        size = coupling.abs() if self.kind == "l1" else coupling.pow(2)
        total = size.sum() - torch.diagonal(size, dim1=1, dim2=2).sum()
        free = model.coupling_mask.sum() - torch.diagonal(model.coupling_mask).sum()
        return total / free.clamp(min=1.0).to(total.dtype)


#: Coupling penalties, also names of loss terms.
PENALTIES = ("l1", "l2")


def default_term(
    name: str, normalise: bool = True, max_lag: int = 2, fano_window: int = 10
) -> LossTerm:
    """The term behind a weight name: 'nll', 'psth', 'noise_covariance', 'rate', 'fano', 'hidden_rate', 'l1', 'l2'.

    Parameters
    ----------
    name : str
        Term name.
    normalise : bool, optional
        Normalise SM distances by the data scale.
    max_lag : int, optional
        Lags 0..max_lag of the noise covariance.
    fano_window : int, optional
        Counting window (bins) of the Fano-factor term.

    Returns
    -------
    LossTerm
        The term.
    """
    if name == "nll":
        return NegativeLogLikelihood()
    if name == "psth":
        return StatisticLoss(psth, model_side="mean", normalise=normalise)
    if name == "noise_covariance":
        return StatisticLoss(
            partial(_off_diagonal_noise_covariance, max_lag=max_lag), normalise=normalise
        )
    if name == "rate":
        return StatisticLoss(_mean_count_per_bin, model_side="mean", normalise=normalise)
    if name == "fano":
        return StatisticLoss(partial(_fano_factors, window=fano_window), normalise=normalise)
    if name == "hidden_rate":
        return HiddenRateLoss()
    if name in PENALTIES:
        return CouplingPenalty(name)
    raise ArgumentValueError(
        "Expected loss term names among 'nll', 'psth', 'noise_covariance', 'rate', 'fano', 'hidden_rate', 'l1', 'l2' "
        f"(or a LossTerm object), but got {name!r}."
    )


class CombinedLoss:
    """Weighted sum of loss terms.

    Parameters
    ----------
    terms : mapping of str to (float, LossTerm)
        Name -> (weight, term).
    """

    def __init__(self, terms: Mapping[str, tuple[float, LossTerm]]) -> None:
        if not terms:
            raise ArgumentValueError("Expected at least one loss term, but got none.")
        self.terms = dict(terms)

    @property
    def needs(self) -> frozenset[str]:
        """Passes needed by any term with a non-zero weight."""
        return frozenset().union(*(term.needs for weight, term in self.terms.values() if weight))

    @property
    def weights(self) -> dict[str, float]:
        """Weight of each term."""
        return {name: weight for name, (weight, _) in self.terms.items()}

    def __call__(
        self, model: SpikingNetwork, batch: Batch
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Total loss and the value of each term.

        Returns
        -------
        total : torch.Tensor
            Scalar weighted sum (differentiable).
        values : dict of str to float
            Unweighted value of each term (for progress and history).
        """
        total = torch.zeros((), dtype=model.bias.dtype, device=model.bias.device)
        values = {}
        for name, (weight, term) in self.terms.items():
            if not weight:
                continue
            value = term(model, batch)
            values[name] = float(value.detach())
            total = total + weight * value
        return total, values


def make_loss(
    spec: str | Mapping[str, float | tuple[float, LossTerm]] | CombinedLoss, max_lag: int = 2
) -> CombinedLoss:
    """Build a :class:`CombinedLoss` from a preset name or a dict of weights.

    Parameters
    ----------
    spec : str, dict or CombinedLoss
        A preset ('mle', 'sm', 'paper'), or ``{name: weight}`` with the names of
        :func:`default_term`, or ``{name: (weight, LossTerm)}`` for custom terms.
    max_lag : int, optional
        Lags 0..max_lag of the noise-covariance term (they should cover the coupling lags).

    Returns
    -------
    CombinedLoss
        The loss.

    Examples
    --------
    >>> make_loss("sm").weights
    {'nll': 1.0, 'psth': 2.0, 'noise_covariance': 1.0, 'hidden_rate': 0.01}
    >>> sorted(make_loss({"nll": 1.0, "fano": 0.5}).needs)  # passes the terms need
    ['free', 'teacher']
    """
    if isinstance(spec, CombinedLoss):
        return spec
    normalise = spec != "paper"
    if isinstance(spec, str):
        if spec not in PRESETS:
            raise ArgumentValueError(
                f"Expected `loss` to be one of {sorted(PRESETS)} or a dict of weights, but got {spec!r}."
            )
        spec = PRESETS[spec]
    if not isinstance(spec, Mapping):
        raise ArgumentTypeError(
            f"Expected `loss` to be a preset name or a dict of weights, but got {describe(spec)}."
        )
    terms: dict[str, tuple[float, LossTerm]] = {}
    for name, value in spec.items():
        if isinstance(value, tuple):
            weight, term = value
        else:
            weight, term = value, default_term(name, normalise=normalise, max_lag=max_lag)
        if (
            isinstance(weight, bool)
            or not isinstance(weight, (int, float))
            or not 0 <= weight < float("inf")
        ):
            raise ArgumentValueError(
                f"Expected the weight of loss term {name!r} to be a finite non-negative number, but got {weight!r}."
            )
        terms[name] = (float(weight), term)
    if terms and not any(weight > 0 for weight, _ in terms.values()):
        raise ArgumentValueError(f"Expected at least one positive loss weight, but got {spec!r}.")
    return CombinedLoss(terms)
