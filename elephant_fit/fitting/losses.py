"""Losses: teacher-forced negative log-likelihood and sample-and-measure (SM) terms.

An SM term measures one statistic (a function of ``elephant_fit.statistics``) on free-running
simulations of the model and on data trials, and penalises their distance. Distances are
normalised by the scale of the data statistic (its mean square), so that one set of weights works
at any bin size, rate and population size; ``normalise=False`` gives the raw distance (the
``"paper"`` preset of Bellec et al. 2021).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch

from .._validation import check_choice, check_number, check_positive_int, describe
from ..distributed import TrialReducer
from ..errors import ArgumentTypeError, ArgumentValueError
from ..network.likelihood import sample_hidden
from ..network.model import SpikingNetwork
from ..network.shard import Shard
from ..network.simulation import Simulation, known_input
from ..statistics.rates import condition_indicators
from .trial_matching import (
    behaviour_channels,
    check_channels,
    check_groups,
    matched_by_condition,
    matched_distance,
    population_activity,
    sinkhorn_distance,
    zscore_by_data,
)
from .trial_statistics import (
    FanoFactors,
    MeanCount,
    NoiseCovariance,
    Psth,
    TrialStatistic,
    wide,
)

#: How trial matching pairs simulated with recorded trials.
MATCHINGS = ("hungarian", "sinkhorn")

__all__ = [
    "PRESETS",
    "CombinedLoss",
    "CouplingPenalty",
    "HiddenRateLoss",
    "LossTerm",
    "NegativeLogLikelihood",
    "PosteriorNegativeLogLikelihood",
    "StatisticLoss",
    "TrialMatching",
    "make_loss",
]

#: Loss presets: preset name -> ``{term name: weight}`` (the names of ``default_term``; the
#: weights are dimensionless factors of the terms); :func:`make_loss` builds a preset by name.
#: "mle" is the likelihood alone. "sm" is our normalised default (PSTH weight 2 measured against
#: 0.5 on the synthetic and the retina demos: held-out PSTH R^2 and likelihood up, noise
#: correlations about the same); "sm_spontaneous" is "sm" without the PSTH term, for activity
#: without a stimulus (no time-locked response to match: consecutive windows of a spontaneous
#: session; a fitter with ``drive=None`` uses it for "sm"); "paper" is Bellec et al. (2021), raw
#: (distances not normalised).
PRESETS: dict[str, dict[str, float]] = {
    "mle": {"nll": 1.0},
    "sm": {"nll": 1.0, "psth": 2.0, "noise_covariance": 1.0, "hidden_rate": 0.01},
    "sm_spontaneous": {"nll": 1.0, "noise_covariance": 1.0, "hidden_rate": 0.01},
    "paper": {"nll": 0.4, "psth": 0.1, "noise_covariance": 50.0, "hidden_rate": 0.001},
}


@dataclass
class Batch:
    """What a loss term sees at one iteration.

    Attributes
    ----------
    data : torch.Tensor
        Recorded counts (spikes per bin), shape (n_trials, n_bins, n_recorded).
    teacher : Simulation or None
        Teacher-forced pass on ``data`` (for the likelihood): ``spikes`` and pre-activations
        ``u``, shape (n_trials, n_bins, n_neurons), recorded neurons first, then hidden ones.
    free : Simulation or None
        Free-running simulation (for SM terms), shape (n_sim_trials, n_window, n_neurons).
    measured : torch.Tensor or None
        The recorded counts the SM terms compare ``free`` with, shape (n_trials, n_window,
        n_recorded): a window of ``data`` when the SM terms are measured on windows
        (``FitConfig.sm_window``); None: ``data`` itself.
    shard : Shard or None
        In a data-parallel fit, which trials of the whole batch this rank holds (``data``,
        ``teacher`` and ``free`` are this share); None: one process holds the whole batch.
    conditions : torch.Tensor or None
        Condition code of each trial of ``data``, shape (n_trials,) (the free run simulated each
        trial under its condition: SM terms compare data and model condition by condition).
    inputs : torch.Tensor or None
        Covariates of the trials of ``data``, shape (n_trials, n_bins, n_inputs).
    reducer : TrialReducer
        Adds sums over trials across ranks (set from ``shard``).

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.fitting import Batch
    >>> from elephant_fit.network import SpikingNetwork, simulate, teacher_forced, use_loop
    >>> network = SpikingNetwork(n_recorded=3, n_hidden=1, n_lags=2, seed=0)
    >>> counts = torch.zeros(4, 10, 3)  # 4 trials, 10 bins, 3 recorded neurons
    >>> with use_loop("torch"):
    ...     batch = Batch(
    ...         counts,
    ...         teacher=teacher_forced(network, counts, seed=0),
    ...         free=simulate(network, n_trials=4, n_bins=10, seed=1),
    ...     )
    >>> batch.teacher.u.shape, batch.free.spikes.shape  # recorded, then hidden neurons
    (torch.Size([4, 10, 4]), torch.Size([4, 10, 4]))
    >>> batch.sm_data is batch.data  # no window: SM terms measure the whole trials
    True
    """

    data: torch.Tensor
    teacher: Simulation | None = None
    free: Simulation | None = None
    measured: torch.Tensor | None = None
    shard: Shard | None = None
    conditions: torch.Tensor | None = None
    inputs: torch.Tensor | None = None
    reducer: TrialReducer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        """How terms add their sums over trials across ranks (one process: nothing to add)."""
        whole = Shard.whole_batch(self.data.shape[0])
        self.reducer = TrialReducer(whole if self.shard is None else self.shard)

    @property
    def sm_data(self) -> torch.Tensor:
        """What sample-and-measure terms compare the free run with (``measured`` or ``data``)."""
        return self.data if self.measured is None else self.measured


class LossTerm:
    """A term of the loss; ``needs`` says which passes it uses ('teacher' and/or 'free').

    A term is called as ``term(model, batch)`` with a
    :class:`~elephant_fit.network.SpikingNetwork` and a :class:`Batch`, and returns a scalar
    (0-dimensional) tensor, differentiable with respect to the model's parameters. Subclass it
    for a custom term and pass it as ``{name: (weight, term)}`` to :func:`make_loss`.

    Attributes
    ----------
    needs : frozenset of str
        The passes the term reads: ``"teacher"`` (``batch.teacher``) and/or ``"free"``
        (``batch.free``); empty for a penalty on the parameters alone.
    parallel_safe : bool
        Whether the term gives the whole-batch value in a data-parallel fit (default False).

    Notes
    -----
    ``parallel_safe``: whether the term gives the whole-batch value in a data-parallel fit, where
    a batch holds one rank's share of the trials (combine sums over trials with
    ``batch.reducer.sum``, see :mod:`elephant_fit.distributed`). Terms that are not are refused
    there. A parallel-safe term is evaluated twice per batch (first with this rank's own sums,
    then with the sums of all ranks): it must make the same ``batch.reducer`` calls both times
    and not branch on their values, and a sum it passes must not depend on another sum of the
    same evaluation (the second pass reuses the first pass's sums, computed from this rank's own
    values); a part that does not depend on the trials (e.g. a penalty on
    the parameters) must go through ``batch.reducer.shared`` so that its gradient is counted once.

    Examples
    --------
    A penalty on the biases (it does not depend on the trials: ``batch.reducer.shared``):

    >>> import torch
    >>> from elephant_fit.fitting import Batch, LossTerm, make_loss
    >>> from elephant_fit.network import SpikingNetwork
    >>> class BiasPenalty(LossTerm):
    ...     needs = frozenset()
    ...     parallel_safe = True
    ...
    ...     def __call__(self, model, batch):
    ...         return batch.reducer.shared(model.bias.pow(2).mean())
    >>> network = SpikingNetwork(n_recorded=3, n_lags=2, seed=0)
    >>> BiasPenalty()(network, Batch(torch.zeros(2, 5, 3))).shape
    torch.Size([])
    >>> make_loss({"nll": 1.0, "bias": (0.1, BiasPenalty())}).weights
    {'nll': 1.0, 'bias': 0.1}
    """

    needs: frozenset[str] = frozenset()
    parallel_safe: bool = False

    def __call__(self, model: SpikingNetwork, batch: Batch) -> torch.Tensor:
        """Scalar value of the term on a batch."""
        raise NotImplementedError


class NegativeLogLikelihood(LossTerm):
    """Mean teacher-forced negative log-likelihood per bin and recorded neuron (nats).

    Called as ``term(model, batch)``: the mean over the trials, bins and recorded neurons of
    ``batch.data`` (n_trials, n_bins, n_recorded) of the negative log-likelihood of their counts
    given the pre-activations of ``batch.teacher``; a scalar tensor in nats per bin and neuron.
    Hidden neurons' spikes are sampled given the past (Bellec et al. 2021). A particle-filter
    likelihood (recorded spikes informing the hidden ones) was measured as a training term on the
    connectivity benchmark and did not help: see ``elephant_fit.network.likelihood``; hidden
    spikes drawn given the recorded ones (:class:`PosteriorNegativeLogLikelihood`) reproduced
    the activity better there but not the coupling (the connectivity sweep's page).

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.fitting import Batch, NegativeLogLikelihood
    >>> from elephant_fit.network import SpikingNetwork, teacher_forced
    >>> network = SpikingNetwork(n_recorded=3, n_lags=2, seed=0)
    >>> counts = torch.zeros(4, 10, 3)  # 4 trials, 10 bins, 3 recorded neurons
    >>> batch = Batch(counts, teacher=teacher_forced(network, counts, seed=0))
    >>> nll = NegativeLogLikelihood()(network, batch)  # nats per bin and neuron
    >>> nll.shape, bool(nll > 0), sorted(NegativeLogLikelihood.needs)
    (torch.Size([]), True, ['teacher'])
    """

    needs = frozenset({"teacher"})
    parallel_safe = True

    def __call__(self, model: SpikingNetwork, batch: Batch) -> torch.Tensor:  # noqa: D102
        assert batch.teacher is not None
        u = batch.teacher.u[..., : model.n_recorded]
        return trial_mean(model.neg_log_likelihood(u, batch.data), batch.reducer)


@dataclass
class PosteriorNegativeLogLikelihood(LossTerm):
    """Complete-data negative log-likelihood, the hidden spikes drawn given the recorded ones.

    Called as ``term(model, batch)``: hidden spikes ``h`` are drawn for each trial of
    ``batch.data`` (n_trials, n_bins, n_recorded) from a particle smoother
    (:func:`~elephant_fit.network.sample_hidden`: given the trial's recorded spikes, past and
    future; no gradient through the draw), and the term is ``-log p(r, h)``, the likelihood of
    the recorded *and* the drawn hidden spikes given their past, summed over all neurons and
    averaged over trials and bins, divided by ``n_recorded`` (without hidden neurons it equals
    :class:`NegativeLogLikelihood`; nats per bin and recorded neuron). By Fisher's identity its
    gradient estimates that of the marginal likelihood ``-log p(r)``: a stochastic EM, where
    :class:`NegativeLogLikelihood` draws the hidden spikes from the model alone (given the past),
    which optimises a lower bound that ignores what the recorded spikes say about the hidden ones.

    Parameters
    ----------
    n_particles : int
        Particles per trial of the smoother (cost grows linearly with it).
    seed : int
        Seed of the term's own random stream (created on the model's device at the first call).

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.fitting import Batch, PosteriorNegativeLogLikelihood
    >>> from elephant_fit.network import SpikingNetwork
    >>> network = SpikingNetwork(n_recorded=3, n_hidden=2, n_lags=2, seed=0)
    >>> counts = torch.zeros(4, 10, 3)  # 4 trials, 10 bins, 3 recorded neurons
    >>> term = PosteriorNegativeLogLikelihood(n_particles=8)
    >>> value = term(network, Batch(counts))  # nats per bin and recorded neuron
    >>> value.shape, bool(value > 0), sorted(term.needs)  # no teacher-forced or free pass
    (torch.Size([]), True, [])
    """

    n_particles: int = 32
    seed: int = 0
    needs: frozenset[str] = field(default=frozenset(), init=False)
    parallel_safe: bool = field(default=False, init=False)
    _generator: torch.Generator | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        """Validate the particle count."""
        self.n_particles = check_positive_int(self.n_particles, "n_particles")

    def __call__(self, model: SpikingNetwork, batch: Batch) -> torch.Tensor:  # noqa: D102
        device = model.bias.device
        if self._generator is None or self._generator.device != device:
            self._generator = torch.Generator(device).manual_seed(self.seed)
        hidden = sample_hidden(
            model, batch.data, batch.inputs, self.n_particles, self._generator, batch.conditions
        )
        spikes = torch.cat([batch.data.to(hidden.dtype), hidden], dim=2)
        coupling = model.lagged_coupling()
        u = known_input(model, spikes, batch.inputs, coupling, batch.conditions)
        return model.neg_log_likelihood(u, spikes).sum(dim=2).mean() / model.n_recorded


def trial_mean(values: torch.Tensor, reducer: TrialReducer) -> torch.Tensor:
    """Mean of all entries of ``values`` (trials first) over the whole batch of trials.

    Parameters
    ----------
    values : torch.Tensor
        Shape (n_trials, ...): this rank's trials.
    reducer : TrialReducer
        The batch's reducer.

    Returns
    -------
    torch.Tensor
        Scalar: ``values.mean()`` in one process; the sum over ranks divided by the whole
        batch's entry count in a data-parallel fit.
    """
    if not reducer.parallel:
        return values.mean()
    per_trial = values[0].numel() if values.shape[0] else math.prod(values.shape[1:])
    return reducer.sum(values.sum()) / (per_trial * reducer.n_trials)


def normalised_mse(
    model_value: torch.Tensor,
    data_value: torch.Tensor,
    normalise: bool,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean squared difference, divided by the mean square of the data statistic when ``normalise``.

    Parameters
    ----------
    model_value, data_value : torch.Tensor
        Statistics of the same shape; with ``weights``, (n_conditions, ...): one per condition.
    normalise : bool
        Divide by ``mean(data_value ** 2)`` (at least the dtype's smallest normal number).
    weights : torch.Tensor, optional
        Shape (n_conditions,), e.g. the trials of each condition: the mean square error and the
        mean square of the data are then averaged over conditions with these weights (for one
        condition: the unweighted distance).

    Returns
    -------
    torch.Tensor
        Scalar distance.
    """
    return normalised_error((model_value - data_value).pow(2), data_value, normalise, weights)


def normalised_error(
    squared: torch.Tensor,
    data_value: torch.Tensor,
    normalise: bool,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean of squared errors, divided by the mean square of the data statistic when ``normalise``.

    Parameters
    ----------
    squared : torch.Tensor
        Squared error of each entry of the statistic (or an estimate of it), ``data_value``'s shape.
    data_value, normalise, weights
        As in :func:`normalised_mse`.

    Returns
    -------
    torch.Tensor
        Scalar distance.
    """
    scale = data_value.detach().pow(2)
    if weights is None:
        error, scale = squared.mean(), scale.mean()
    else:
        share = (weights / weights.sum()).to(squared.dtype)
        error = squared.flatten(1).mean(dim=1) @ share
        scale = scale.flatten(1).mean(dim=1) @ share
    if not normalise:
        return error
    return error / scale.clamp(min=torch.finfo(scale.dtype).tiny)


@dataclass
class StatisticLoss(LossTerm):
    """Sample-and-measure term: ``distance(statistic(model activity), statistic(data))``.

    Called as ``term(model, batch)``: the statistic of the free run's recorded neurons
    (``batch.free``) against that of ``batch.sm_data``; a scalar tensor, dimensionless when
    normalised (else in the squared units of the statistic).

    Parameters
    ----------
    statistic : callable
        Maps activity of shape (n_trials, n_bins, n_recorded), counts per bin, to a tensor (any
        shape). In a data-parallel fit a
        ``TrialStatistic`` is assembled from sums
        over trials; any other callable sees the trials of all ranks (gathered: more
        communication).
    model_side : {'spikes', 'mean'}
        Measure the model's sampled spikes (gradient through the surrogate) or its spike
        probabilities / mean counts (lower variance; right for first-order statistics like a PSTH).
    distance : callable, optional
        ``distance(model_value, data_value) -> scalar``; default: (normalised) mean squared error.
    normalise : bool
        Divide the default distance by the mean square of the data statistic.
    unbiased : bool
        Replace the squared error of the statistic of the simulated batch by an estimate of the
        squared error of the model's *expected* statistic (it can be negative). The squared
        error of a statistic of ``K`` simulated trials adds the statistic's sampling variance,
        and its gradient lowers that variance: it shrinks the couplings that carry
        trial-to-trial variability. For a mean over trials (``Psth``, ``MeanCount``): the mean
        over pairs of different simulated trials ``k != l`` (of the same condition) of
        ``(x_k - data) * (x_l - data)`` (a U-statistic; conditions with fewer than 2 simulated
        trials in the batch are left out). For another ``TrialStatistic``
        (``NoiseCovariance``, ``FanoFactors``): ``(model_A - data) * (model_B - data)``, with A
        and B the even and odd trials of the batch, and ``data`` the mean of the data's
        statistic on its own even and odd trials (an estimate of the same size as the model's).
        Where the model's expected statistic equals the data's, the gradient is zero on average.

    Examples
    --------
    The PSTH (mean count per bin, shape (n_bins, n_recorded)) of a free run against the data's:

    >>> import torch
    >>> from elephant_fit.fitting import Batch, StatisticLoss
    >>> from elephant_fit.network import SpikingNetwork, simulate, use_loop
    >>> network = SpikingNetwork(n_recorded=3, n_lags=2, seed=0)
    >>> counts = torch.ones(4, 10, 3)  # 4 trials, 10 bins, 3 recorded neurons
    >>> with use_loop("torch"):
    ...     free = simulate(network, n_trials=4, n_bins=10, seed=1)
    >>> term = StatisticLoss(lambda activity: activity.mean(dim=0), model_side="mean")
    >>> value = term(network, Batch(counts, free=free))
    >>> value.shape, value.requires_grad  # a scalar, differentiable through the free run
    (torch.Size([]), True)
    """

    statistic: Callable[[torch.Tensor], torch.Tensor]
    model_side: str = "spikes"
    distance: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None
    normalise: bool = True
    unbiased: bool = False
    needs: frozenset[str] = field(default=frozenset({"free"}), init=False)
    parallel_safe: bool = field(default=True, init=False)

    def __post_init__(self) -> None:
        if self.model_side not in ("spikes", "mean"):
            raise ArgumentValueError(
                f"Expected `model_side` to be 'spikes' or 'mean', but got {describe(self.model_side)}."
            )
        if not callable(self.statistic):
            raise ArgumentTypeError(
                f"Expected `statistic` to be callable, but got {describe(self.statistic)}."
            )
        if self.unbiased and not isinstance(self.statistic, TrialStatistic):
            raise ArgumentValueError(
                "Expected `statistic` to be a TrialStatistic (Psth, MeanCount, NoiseCovariance, "
                f"FanoFactors) with `unbiased=True`, but got {describe(self.statistic)}."
            )
        if self.unbiased and self.distance is not None:
            raise ArgumentValueError(
                "Expected `distance` to be None with `unbiased=True` (the unbiased estimate is of "
                f"the squared error), but got {describe(self.distance)}."
            )

    def model_activity(self, model: SpikingNetwork, free: Simulation) -> torch.Tensor:
        """Recorded neurons' activity of the free run, shape (n_trials, n_bins, n_recorded)."""
        if self.model_side == "spikes":
            return free.spikes[..., : model.n_recorded]
        return model.expected_count(free.u[..., : model.n_recorded])

    def __call__(self, model: SpikingNetwork, batch: Batch) -> torch.Tensor:  # noqa: D102
        assert batch.free is not None
        reducer = batch.reducer
        groups = _groups(self.statistic, model, batch)
        activity = self.model_activity(model, batch.free)
        weights = None
        if groups is not None and self.statistic.by_condition == "split":
            weights = condition_trials(groups, reducer, batch.sm_data)
        if self.unbiased and not self.statistic.trial_mean:
            return self.half_estimate(activity, batch.sm_data, reducer, groups, weights)
        data_value = self.measure(batch.sm_data, reducer, groups).detach()
        if self.unbiased:
            return self.pair_estimate(activity, data_value, reducer, groups)
        model_value = self.measure(activity, reducer, groups)
        if self.distance is not None:
            return self.distance(model_value, data_value)
        return normalised_mse(model_value, data_value, self.normalise, weights)

    def half_estimate(
        self,
        activity: torch.Tensor,
        data: torch.Tensor,
        reducer: TrialReducer,
        groups: tuple[torch.Tensor, int] | None = None,
        weights: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The unbiased distance of a statistic that is not a trial mean: even and odd trials.

        Parameters
        ----------
        activity : torch.Tensor
            The model's activity, shape (n_trials, n_bins, n_recorded): this rank's trials.
        data : torch.Tensor
            The recorded counts, shape (n_data_trials, n_bins, n_recorded): this rank's trials.
        reducer : TrialReducer
            The batch's reducer (the free run and the data are shared alike across ranks).
        groups : (torch.Tensor, int), optional
            ``(conditions, n_conditions)`` of this rank's trials.
        weights : torch.Tensor, optional
            Shape (n_conditions,): how conditions are weighed (as by the plain distance).

        Returns
        -------
        torch.Tensor
            Scalar: the normalised mean of ``(model_even - data) * (model_odd - data)``, ``data``
            the mean of the data's statistic on its even and on its odd trials.
        """
        model_even, model_odd = self._halves(activity, reducer, groups)
        data_value = torch.stack(self._halves(data, reducer, groups)).mean(dim=0).detach()
        product = (model_even - data_value) * (model_odd - data_value)
        return normalised_error(product, data_value, self.normalise, weights)

    def _halves(
        self,
        activity: torch.Tensor,
        reducer: TrialReducer,
        groups: tuple[torch.Tensor, int] | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The statistic of the batch's even trials and of its odd trials (over all ranks)."""
        shard = reducer.shard
        number = torch.arange(shard.start, shard.start + activity.shape[0], device=activity.device)
        values = []
        for half in (0, 1):
            rows = number % 2 == half
            if reducer.parallel:  # the half's trials on earlier ranks, here, and in all
                before = _half_count(shard.start, half)
                part = Shard(before, before + int(rows.sum()), _half_count(shard.total, half))
            else:
                part = Shard.whole_batch(int(rows.sum()))
            kept = None if groups is None else (groups[0][rows], groups[1])
            values.append(self.measure(activity[rows], reducer.part(part), kept))
        return values[0], values[1]

    def pair_estimate(
        self,
        activity: torch.Tensor,
        data_value: torch.Tensor,
        reducer: TrialReducer,
        groups: tuple[torch.Tensor, int] | None = None,
    ) -> torch.Tensor:
        """The unbiased distance (``unbiased=True``): the mean over pairs of different trials.

        Parameters
        ----------
        activity : torch.Tensor
            The model's activity, shape (n_trials, n_bins, n_recorded): this rank's trials.
        data_value : torch.Tensor
            The data's statistic: the statistic's shape, with a leading condition axis
            (n_conditions, ...) when ``groups`` is given.
        reducer : TrialReducer
            The batch's reducer.
        groups : (torch.Tensor, int), optional
            ``(conditions, n_conditions)`` of this rank's trials.

        Returns
        -------
        torch.Tensor
            Scalar: for each condition's ``K`` trials, the mean over pairs ``k != l`` of
            ``(x_k - data) * (x_l - data)``, averaged as the plain distance averages squared
            errors (conditions weighted by ``K``). Computed from the sums over trials of ``x``
            and ``x ** 2`` (in float64), which ranks add before the data's statistic is known.
        """
        values = self.statistic.trial_values(activity)  # (n_trials, ...)
        if groups is None:
            indicators = values.new_ones(values.shape[0], 1)
            target = data_value.unsqueeze(0)
        else:
            indicators = condition_indicators(*groups, activity).to(values.dtype)
            target = data_value
        # sums over trials of x and x**2 alone (across ranks they are added before the target
        # is known): the pairs' mean of x_k * x_l, minus 2 * target * mean(x), plus target**2
        totals = wide(reducer.sum(torch.einsum("kc,k...->c...", indicators, values)))
        squares = wide(reducer.sum(torch.einsum("kc,k...->c...", indicators, values.pow(2))))
        trials = wide(reducer.sum(indicators.sum(dim=0))).view(-1, *[1] * (totals.dim() - 1))
        target = wide(target)
        pairs = (trials * (trials - 1)).clamp(min=1)
        mean = totals / trials.clamp(min=1)
        estimate = ((totals.pow(2) - squares) / pairs - 2 * target * mean + target.pow(2)).to(
            values.dtype
        )
        trials = trials.flatten()
        weights = torch.where(trials >= 2, trials, torch.zeros_like(trials))
        if not float(weights.sum()):  # fewer than 2 trials of every condition: no pair
            return estimate.sum() * 0.0
        return normalised_error(estimate, target.to(values.dtype), self.normalise, weights)

    def measure(
        self,
        activity: torch.Tensor,
        reducer: TrialReducer,
        groups: tuple[torch.Tensor, int] | None = None,
    ) -> torch.Tensor:
        """The statistic of the whole batch from this rank's ``activity``: :func:`measure`."""
        return measure(self.statistic, activity, reducer, groups)


def _half_count(n_trials: int, half: int) -> int:
    """How many of trials ``0 .. n_trials - 1`` are even (``half`` 0) or odd (``half`` 1)."""
    return (n_trials + 1 - half) // 2


def _groups(
    statistic: Callable[..., torch.Tensor], model: SpikingNetwork, batch: Batch
) -> tuple[torch.Tensor, int] | None:
    """``(conditions, n_conditions)`` when the statistic measures conditions and there are several."""
    if (
        batch.conditions is None
        or model.n_conditions == 1
        or not isinstance(statistic, TrialStatistic)
        or statistic.by_condition is None
    ):
        return None
    return batch.conditions, model.n_conditions


def condition_trials(
    groups: tuple[torch.Tensor, int], reducer: TrialReducer, like: torch.Tensor
) -> torch.Tensor:
    """Trials of each condition in the whole batch, shape (n_conditions,), in ``like``'s dtype."""
    conditions, n_conditions = groups
    return reducer.sum(condition_indicators(conditions, n_conditions, like).sum(dim=0))


def measure(
    statistic: Callable[..., torch.Tensor],
    activity: torch.Tensor,
    reducer: TrialReducer,
    groups: tuple[torch.Tensor, int] | None = None,
) -> torch.Tensor:
    """A statistic of the whole batch of trials from this rank's share of it.

    Parameters
    ----------
    statistic : callable
        Maps activity (n_trials, n_bins, n) to a tensor.
    activity : torch.Tensor
        Shape (n_trials, n_bins, n): this rank's trials (all of them in one process).
    reducer : TrialReducer
        The batch's reducer.
    groups : (torch.Tensor, int), optional
        ``(conditions, n_conditions)``: this rank's trials' condition codes, shape (n_trials,),
        for a ``TrialStatistic`` that measures conditions.

    Returns
    -------
    torch.Tensor
        One process: ``statistic(activity)``. Across ranks: a ``TrialStatistic`` assembled
        from its sums over trials added across ranks; any other statistic of the gathered trials.
    """
    extra = () if groups is None else groups
    if not reducer.parallel:
        return statistic(activity, *extra)
    if isinstance(statistic, TrialStatistic):
        sums = reducer.sums(lambda: statistic.sums(activity, *extra))
        return statistic.finish(sums, reducer.n_trials).to(activity.dtype)
    return statistic(reducer.gather(activity))


@dataclass
class HiddenRateLoss(LossTerm):
    """Pull the hidden neurons' mean spike probability per bin towards ``target``.

    Called as ``term(model, batch)``: the mean over hidden neurons of
    ``((rate - target) / target) ** 2``, ``rate`` a hidden neuron's expected count per bin
    averaged over the trials and bins of ``batch.free``; a dimensionless scalar tensor (zero
    without hidden neurons).

    Parameters
    ----------
    target : float
        Target mean count per bin (spikes per bin, e.g. the recorded neurons' mean).

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.fitting import Batch, HiddenRateLoss
    >>> from elephant_fit.network import SpikingNetwork, simulate, use_loop
    >>> network = SpikingNetwork(n_recorded=3, n_hidden=2, n_lags=2, seed=0)
    >>> with use_loop("torch"):
    ...     free = simulate(network, n_trials=4, n_bins=10, seed=1)
    >>> value = HiddenRateLoss(target=0.05)(network, Batch(torch.zeros(4, 10, 3), free=free))
    >>> value.shape, bool(value >= 0)
    (torch.Size([]), True)
    """

    target: float = 0.05
    needs: frozenset[str] = field(default=frozenset({"free"}), init=False)
    parallel_safe: bool = field(default=True, init=False)

    def __call__(self, model: SpikingNetwork, batch: Batch) -> torch.Tensor:  # noqa: D102
        if model.n_hidden == 0 or batch.free is None:
            return torch.zeros((), dtype=model.bias.dtype, device=model.bias.device)
        means = model.expected_count(batch.free.u[..., model.n_recorded :])
        if batch.reducer.parallel:
            rates = measure(MeanCount(), means, batch.reducer)
        else:  # the one-process formula as it was (MeanCount rounds differently in float32)
            rates = means.mean(dim=(0, 1))
        return ((rates - self.target) / max(self.target, 1e-6)).pow(2).mean()


@dataclass
class CouplingPenalty(LossTerm):
    """L1 or L2 penalty on the coupling between different neurons (self-history is not penalised).

    The value is the mean over the ordered pairs ``i != j`` that the network may connect (its
    coupling mask) of ``sum_l |W[l, i, j]|`` (L1) or ``sum_l W[l, i, j] ** 2`` (L2): its weight
    (``penalty_strength``) is on the scale of the mean negative log-likelihood per bin and neuron.

    Parameters
    ----------
    kind : {'l1', 'l2'}
        The norm.
    pairs : {'all', 'recorded'}, optional
        The pairs penalised: all (recorded and hidden; default), or those between recorded
        neurons only, so that hidden neurons explain shared input at no cost (a sparsity prior on
        the recorded circuit).

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.fitting import Batch, CouplingPenalty
    >>> from elephant_fit.network import SpikingNetwork
    >>> network = SpikingNetwork(n_recorded=3, n_lags=2, seed=0)
    >>> batch = Batch(torch.zeros(1, 5, 3))  # the trials are not used
    >>> value = CouplingPenalty("l1")(network, batch)  # coupling weights are dimensionless
    >>> value.shape, bool(value > 0)
    (torch.Size([]), True)
    >>> with torch.no_grad():
    ...     _ = network.coupling_weights.zero_()
    >>> CouplingPenalty("l2")(network, batch).item()
    0.0
    """

    kind: str = "l1"
    pairs: str = "all"
    needs: frozenset[str] = field(default=frozenset(), init=False)
    parallel_safe: bool = field(default=True, init=False)

    def __post_init__(self) -> None:
        if self.kind not in PENALTIES:
            raise ArgumentValueError(
                f"Expected `penalty` to be one of {PENALTIES}, but got {describe(self.kind)}."
            )
        if self.pairs not in PENALISED_PAIRS:
            raise ArgumentValueError(
                f"Expected `pairs` to be one of {PENALISED_PAIRS}, but got {describe(self.pairs)}."
            )

    def __call__(self, model: SpikingNetwork, batch: Batch) -> torch.Tensor:  # noqa: D102
        coupling = model.lagged_coupling()  # (n_lags, pre, post)
        mask = model.coupling_mask
        if self.pairs == "recorded":
            n_rec = model.n_recorded
            coupling, mask = coupling[:, :n_rec, :n_rec], mask[:n_rec, :n_rec]
        size = coupling.abs() if self.kind == "l1" else coupling.pow(2)
        total = size.sum() - torch.diagonal(size, dim1=1, dim2=2).sum()
        free = mask.sum() - torch.diagonal(mask).sum()
        # the same on every rank: each passes its share of the gradient
        return batch.reducer.shared(total / free.clamp(min=1.0).to(total.dtype))


#: Coupling penalties, also names of loss terms.
PENALTIES = ("l1", "l2")
#: The pairs a coupling penalty can cover.
PENALISED_PAIRS = ("all", "recorded")


class TrialMatching(LossTerm):
    """Trial matching (Sourmpis et al. 2023): ``"trial_matching"`` in a loss dict.

    Simulated and recorded trials are paired one to one by the Hungarian algorithm on the
    distance of a per-trial statistic, within each condition, and the term is the mean squared
    distance of the pairs (``elephant_fit.fitting.trial_matching``). The statistic is the
    population activity of groups of recorded neurons, averaged over ``window`` bins and z-scored
    by the data (its mean per group and bin, its standard deviation per group).

    Called as ``term(model, batch)``: a dimensionless scalar tensor (the activity is z-scored),
    from the recorded neurons of ``batch.free`` and ``batch.sm_data``, both of shape
    (n_trials, n_bins, n_recorded).

    Parameters
    ----------
    groups : sequence of sequences of int, optional
        Recorded neurons of each group whose population activity is compared (default: one group
        of all recorded neurons).
    window : int, optional
        Bins of the moving average of the population activity (default 5).
    covariates : sequence of int, optional
        Behavioural channels: indices of the fit's covariates (``batch.inputs``, shape
        (n_trials, n_bins, n_inputs)) added to the per-trial statistic, averaged over the same
        windows and z-scored by the data. A simulated trial ran under its recorded trial's
        covariates, so they make the assignment pair trials that behaved alike (no gradient
        flows through them). Needs whole-trial sample-and-measure (``sm_window=None``).
    covariate_weight : float, optional
        Weight of the behavioural channels in the distance, relative to the activity channels.
    matching : {'hungarian', 'sinkhorn'}, optional
        One-to-one pairs by the Hungarian algorithm (scipy), or a soft matching: the
        entropy-regularised transport plan of log-domain Sinkhorn iterations in torch
        (:func:`~elephant_fit.fitting.trial_matching.sinkhorn_distance`; it stays on the
        device and also pairs batches of unequal sizes). Measured on the two-mode ground truth
        (``trial_state_network``, 400 trials, window 25): the twin/truth ratio of the term is 3.6
        with the Hungarian pairs, 3.1 with Sinkhorn at ``epsilon`` 0.01, 2.2 at 0.05; on 2 CPU
        cores Sinkhorn is slower (29 vs 2 ms for 20 trials, 430 vs 140 ms for 400): hence the
        Hungarian default.
    epsilon : float, optional
        Sinkhorn's entropic regularisation, relative to the mean pair cost.

    Notes
    -----
    The assignment needs every trial of the batch at once, so the term is not offered in
    data-parallel fits (``parallel_safe`` is False: such a fit refuses to start).

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.fitting import Batch, TrialMatching
    >>> from elephant_fit.network import SpikingNetwork, simulate, use_loop
    >>> network = SpikingNetwork(n_recorded=3, n_lags=2, seed=0)
    >>> generator = torch.Generator().manual_seed(0)
    >>> counts = torch.bernoulli(torch.full((6, 10, 3), 0.3), generator=generator)  # 6 trials
    >>> with use_loop("torch"):
    ...     free = simulate(network, n_trials=6, n_bins=10, seed=1)
    >>> term = TrialMatching(groups=[[0, 1], [2]], window=3)  # two groups, 3-bin average
    >>> value = term(network, Batch(counts, free=free))
    >>> value.shape, bool(value >= 0)
    (torch.Size([]), True)
    """

    needs = frozenset({"free"})
    parallel_safe = False

    def __init__(
        self,
        groups: Sequence[Sequence[int]] | None = None,
        window: int = 5,
        covariates: Sequence[int] | None = None,
        covariate_weight: float = 1.0,
        matching: str = "hungarian",
        epsilon: float = 0.01,
    ) -> None:
        self.matching = check_choice(matching, "matching", MATCHINGS)
        self.epsilon = check_number(epsilon, "epsilon", positive=True, allow_zero=False)
        self.window = check_positive_int(window, "window")
        self.groups = None if groups is None else check_groups(groups)
        self.covariates = None if covariates is None else check_channels(covariates)
        self.covariate_weight = check_number(covariate_weight, "covariate_weight", positive=True)

    def __call__(self, model: SpikingNetwork, batch: Batch) -> torch.Tensor:  # noqa: D102
        data = batch.sm_data
        _, n_bins, n_recorded = data.shape
        if self.window > n_bins:
            raise ArgumentValueError(
                f"Expected the trial-matching `window` ({self.window} bins) to be at most the "
                f"trials' {n_bins} bins."
            )
        groups = [list(range(n_recorded))] if self.groups is None else self.groups
        if max(max(group) for group in groups) >= n_recorded:
            raise ArgumentValueError(
                f"Expected trial-matching `groups` of recorded neurons (0..{n_recorded - 1}), but "
                f"got {self.groups}."
            )
        simulated = batch.free.spikes[..., :n_recorded]
        model_z, data_z = zscore_by_data(
            population_activity(simulated, groups, self.window),
            population_activity(data.to(simulated.dtype), groups, self.window),
        )
        if self.covariates is not None:
            behaviour = behaviour_channels(batch.inputs, self.covariates, self.window, n_bins)
            behaviour = behaviour.to(simulated.dtype)
            _, behaviour_z = zscore_by_data(behaviour, behaviour)
            behaviour_z = behaviour_z * math.sqrt(self.covariate_weight)
            # simulated trial k ran under recorded trial k's covariates: the same channels
            model_z, data_z = (
                torch.cat([model_z, behaviour_z], 1),
                torch.cat([data_z, behaviour_z], 1),
            )
        return matched_by_condition(model_z, data_z, batch.conditions, self._distance)

    def _distance(self, model: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
        if self.matching == "sinkhorn":
            return sinkhorn_distance(model, data, epsilon=self.epsilon)
        return matched_distance(model, data)


def default_term(
    name: str, normalise: bool = True, max_lag: int = 2, fano_window: int = 10
) -> LossTerm:
    """The term behind a weight name: 'nll', 'nll_posterior', 'psth', 'noise_covariance', 'rate', 'fano', 'hidden_rate', 'trial_matching', 'l1', 'l2'.

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
    if name == "nll_posterior":
        return PosteriorNegativeLogLikelihood()
    if name == "psth":
        return StatisticLoss(Psth(), model_side="mean", normalise=normalise)
    if name == "noise_covariance":
        return StatisticLoss(NoiseCovariance(max_lag), normalise=normalise)
    if name == "rate":
        return StatisticLoss(MeanCount(), model_side="mean", normalise=normalise)
    if name == "fano":
        return StatisticLoss(FanoFactors(fano_window), normalise=normalise)
    if name == "hidden_rate":
        return HiddenRateLoss()
    if name in PENALTIES:
        return CouplingPenalty(name)
    if name == "trial_matching":
        return TrialMatching()
    raise ArgumentValueError(
        "Expected loss term names among 'nll', 'nll_posterior', 'psth', 'noise_covariance', 'rate', 'fano', "
        "'hidden_rate', 'trial_matching', 'l1', 'l2' (or a LossTerm object), but got "
        f"{name!r}."
    )


class CombinedLoss:
    """Weighted sum of loss terms.

    Called as ``loss(model, batch)``: the scalar total (differentiable) and each term's
    unweighted value (see ``__call__``).

    Parameters
    ----------
    terms : mapping of str to (float, LossTerm)
        Name -> (weight, term); the weights are dimensionless, non-negative (a zero weight
        switches its term off).

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.fitting import Batch, CombinedLoss, CouplingPenalty, NegativeLogLikelihood
    >>> from elephant_fit.network import SpikingNetwork, teacher_forced
    >>> loss = CombinedLoss(
    ...     {"nll": (1.0, NegativeLogLikelihood()), "l1": (0.01, CouplingPenalty("l1"))}
    ... )
    >>> loss.weights, sorted(loss.needs)
    ({'nll': 1.0, 'l1': 0.01}, ['teacher'])
    >>> network = SpikingNetwork(n_recorded=3, n_lags=2, seed=0)
    >>> counts = torch.zeros(4, 10, 3)  # 4 trials, 10 bins, 3 recorded neurons
    >>> total, values = loss(network, Batch(counts, teacher=teacher_forced(network, counts)))
    >>> total.shape, sorted(values)
    (torch.Size([]), ['l1', 'nll'])
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

        Parameters
        ----------
        model : SpikingNetwork
            The network.
        batch : Batch
            The passes the terms need (:attr:`needs`) on one batch of trials.

        Returns
        -------
        total : torch.Tensor
            Scalar weighted sum (differentiable).
        values : dict of str to float
            Unweighted value of each term (for progress and history).
        """
        return batch.reducer.evaluate(lambda: self._weighted_sum(model, batch))

    def _weighted_sum(
        self, model: SpikingNetwork, batch: Batch
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """The total and the terms (data parallel: called twice by ``reducer.evaluate``)."""
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
        ``default_term``, or ``{name: (weight, LossTerm)}`` for custom terms.
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
