"""Likelihood of recorded spikes when hidden neurons are not observed: a particle filter.

With hidden neurons, the likelihood of the recorded spikes ``r`` is a sum over every hidden spike
history ``h``. Given the past of all neurons, the recorded and hidden spikes of one bin are
independent, so the likelihood factorises over bins into one-step predictive terms::

    log p(r) = sum_t log p(r_t | r_<t) = sum_t log E_{h_<t ~ p(h_<t | r_<t)} p(r_t | r_<t, h_<t)

A particle filter estimates each term with particles (hidden histories) per trial: in every bin it
weights each particle by ``p(r_t | past)``, adds ``log mean(weights)`` to the estimate, resamples
the particles by their weights (systematic resampling, every bin), then samples the hidden spikes
of the bin. A bootstrap filter samples them from the model; for Bernoulli networks we sample them
from a proposal that also looks at the next bin's recorded spikes (see :func:`_guided_sample`) and
correct the weights by the prior-to-proposal ratio, which keeps the estimate of ``p(r)`` unbiased
and cuts its variance about 12-fold on the demo ground truth (``benchmarks/particle_filter.py``). The logarithm of the estimate is
biased low by about half its variance; the standard error, from independent replicate filters,
says how large that is.

Without hidden neurons the likelihood is exact (one teacher-forced pass, no sampling).

:func:`sample_hidden` runs the same filter keeping each particle's genealogy and returns one hidden
history per trial followed back from the last bin: an approximate draw from the hidden spikes
given all the recorded ones (a particle smoother), used by the training term ``"nll_posterior"``.

``log_likelihood(..., requires_grad=True)`` is differentiable (through the weights and, straight
through, the sampled hidden spikes; not through resampling). Used as the training likelihood instead
of one prior sample of the hidden spikes (16 particles per trial, with and without SM terms), it
changed neither coupling recovery nor held-out likelihood on the connectivity benchmark (5 seeds)
and cost 12 times more per fit, so :class:`~elephant_fit.fitting.fitter.NetworkFitter` does not offer it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .._validation import check_positive_int
from ..errors import ArgumentValueError
from .model import SpikingNetwork
from .observation import Bernoulli
from .simulation import (
    _noise,
    check_recorded,
    known_input,
    make_generator,
    sampled_weights,
    teacher_forced,
)
from .surrogates import Surrogate, get_surrogate

__all__ = [
    "HeldOutLikelihood",
    "LogLikelihood",
    "held_out_likelihood",
    "log_likelihood",
    "sample_hidden",
]

#: Rows (trials x particles) handled at once without gradients; bounds memory on long recordings.
ROWS_PER_CHUNK = 8192
#: Rows (trials x particles) of one call of the smoother in :func:`sample_hidden`: its genealogy
#: holds n_bins x rows x n_hidden spikes (262 MB at 100 bins, 20 hidden, float32). A training batch
#: and a validation set of up to 1024 trials at 32 particles are one call (one random stream).
SMOOTHER_ROWS_PER_CHUNK = 32768
#: Weight of the look-ahead term in the proposal (1: the full likelihood ratio). Chosen during
#: development on the demo ground truth (100 trials, 4 x 256 particles; not a script in the repo):
#: variance of the per-trial log-likelihood 9.7 nats^2 without look-ahead, 3.9 with 1.0, 0.6 with
#: 0.75 (with the exact look-ahead term of round 2; the separable term of :func:`_guided_sample`
#: since 2026-12-07). ``benchmarks/particle_filter.py`` measures the default against the
#: bootstrap filter and against the exact term.
LOOKAHEAD = 0.75


@dataclass(frozen=True)
class LogLikelihood:
    """Log-likelihood of recorded trials.

    Attributes
    ----------
    per_trial : torch.Tensor
        Shape (n_trials,): ``log p(recorded spikes of the trial)`` in nats (float64 when computed
        without gradients; the model's dtype, differentiable, in training).
    variance : torch.Tensor
        Shape (n_trials,): Monte Carlo variance of each trial's estimate (from the spread of
        independent replicate filters; zeros when exact, NaN with a single replicate).
    n_particles : int
        Particles per trial, over all replicate filters (0 when exact).
    exact : bool
        True when the model has no hidden neurons (no sampling).

    Examples
    --------
    Without hidden neurons the likelihood is exact; four silent bins of three neurons with bias
    -3 (logit) cost ``12 * softplus(-3)`` nats per trial:

    >>> import torch
    >>> from elephant_fit.network import LogLikelihood, SpikingNetwork, log_likelihood
    >>> network = SpikingNetwork(n_recorded=3, n_lags=3, seed=0)
    >>> result = log_likelihood(network, torch.zeros(2, 4, 3))  # (n_trials, n_bins, n_recorded)
    >>> isinstance(result, LogLikelihood), result.exact, result.n_particles
    (True, True, 0)
    >>> result.per_trial.shape, result.per_trial.dtype
    (torch.Size([2]), torch.float64)
    >>> round(result.total, 4), result.standard_error  # nats
    (-1.1661, 0.0)
    """

    per_trial: torch.Tensor
    variance: torch.Tensor
    n_particles: int
    exact: bool

    @property
    def total(self) -> float:
        """Sum over trials (nats)."""
        return float(self.per_trial.detach().sum())

    @property
    def standard_error(self) -> float:
        """Monte Carlo standard error of :attr:`total` (trials are filtered independently)."""
        return float(self.variance.sum().sqrt())


def log_likelihood(
    model: SpikingNetwork,
    recorded: torch.Tensor,
    inputs: torch.Tensor | None = None,
    n_particles: int = 256,
    n_replicates: int = 2,
    seed: int | torch.Generator | None = None,
    surrogate: str | Surrogate = "sigmoid",
    requires_grad: bool = False,
    conditions: torch.Tensor | None = None,
) -> LogLikelihood:
    """Log-likelihood of recorded spikes, marginal over the hidden neurons.

    Parameters
    ----------
    model : SpikingNetwork
        The network.
    recorded : torch.Tensor
        Recorded spike counts per bin, shape (n_trials, n_bins, n_recorded).
    inputs : torch.Tensor, optional
        Covariates, shape (n_trials, n_bins, n_inputs).
    n_particles : int, optional
        Particles (hidden histories) per trial, shared equally by the replicate filters.
    n_replicates : int, optional
        Independent filters per trial (``n_particles // n_replicates`` particles each: a remainder
        is not used); the estimate averages their likelihoods and their spread gives the standard
        error (at least 2 for a standard error).
    seed : int or torch.Generator, optional
        Randomness of resampling and hidden spikes; the same seed gives the same estimate (on the
        same device; trials are filtered in chunks of ``ROWS_PER_CHUNK`` rows, which set how
        the random stream is drawn).
    surrogate : str or Surrogate, optional
        Gradient surrogate through the sampled hidden spikes (with ``requires_grad``).
    requires_grad : bool, optional
        Keep the graph: the gradient flows through the weights and the sampled hidden spikes
        (straight-through), not through the resampling indices.
    conditions : torch.Tensor, optional
        Condition code of each trial, shape (n_trials,): each trial is scored under its
        condition's drive.

    Returns
    -------
    LogLikelihood
        Per-trial estimates (nats), shape (n_trials,), and their Monte Carlo variances
        (nats squared).

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.network import SpikingNetwork, log_likelihood
    >>> network = SpikingNetwork(n_recorded=3, n_hidden=1, n_lags=3, seed=0)
    >>> recorded = torch.zeros(2, 6, 3)  # (n_trials, n_bins, n_recorded)
    >>> recorded[:, ::2, 0] = 1.0
    >>> result = log_likelihood(network, recorded, n_particles=8, seed=0)
    >>> result.exact, result.n_particles  # two replicate filters of 4 particles
    (False, 8)
    >>> result.per_trial.shape, result.variance.shape
    (torch.Size([2]), torch.Size([2]))
    >>> again = log_likelihood(network, recorded, n_particles=8, seed=0)
    >>> bool(torch.equal(result.per_trial, again.per_trial))  # the same seed, the same estimate
    True
    """
    recorded = check_recorded(model, recorded)
    n_trials = recorded.shape[0]
    if model.n_hidden == 0:
        with torch.set_grad_enabled(requires_grad):
            run = teacher_forced(model, recorded, inputs, conditions=conditions)
            u = run.u[..., : model.n_recorded]
            per_trial = -model.neg_log_likelihood(u, recorded).sum(dim=(1, 2))
        per_trial = per_trial if requires_grad else per_trial.double()
        return LogLikelihood(per_trial, torch.zeros_like(per_trial.detach()), 0, True)
    n_particles = check_positive_int(n_particles, "n_particles")
    n_replicates = check_positive_int(n_replicates, "n_replicates")
    if n_particles < n_replicates:
        raise ArgumentValueError(
            f"Expected `n_particles` ({n_particles}) to be at least `n_replicates` ({n_replicates})."
        )
    per_filter = n_particles // n_replicates
    generator = make_generator(seed, model.bias.device)
    with torch.set_grad_enabled(requires_grad):
        coupling = model.lagged_coupling()
        u_known = known_input(model, recorded, inputs, coupling, conditions)
        weights = sampled_weights(model, coupling, first=model.n_recorded)
        chunk = n_trials if requires_grad else _trials_per_chunk(ROWS_PER_CHUNK, n_particles)
        parts = [
            _filter(
                model,
                recorded[start : start + chunk],
                u_known[start : start + chunk],
                weights,
                per_filter,
                n_replicates,
                generator,
                get_surrogate(surrogate),
            )
            for start in range(0, n_trials, chunk)
        ]
    log_z = torch.cat(parts)  # (n_trials, n_replicates)
    if not requires_grad:
        log_z = log_z.double()
    per_trial = torch.logsumexp(log_z, dim=1) - math.log(n_replicates)
    if n_replicates > 1:
        variance = log_z.detach().var(dim=1) / n_replicates
    else:
        variance = torch.full_like(per_trial.detach(), float("nan"))
    return LogLikelihood(per_trial, variance, per_filter * n_replicates, False)


def sample_hidden(
    model: SpikingNetwork,
    recorded: torch.Tensor,
    inputs: torch.Tensor | None = None,
    n_particles: int = 32,
    seed: int | torch.Generator | None = None,
    conditions: torch.Tensor | None = None,
) -> torch.Tensor:
    """Hidden spikes drawn given the recorded ones: one history per trial, from a particle smoother.

    The particle filter of :func:`log_likelihood` (one filter of ``n_particles`` per trial) keeps
    the genealogy of its particles; after the last bin one particle is drawn (they are equally
    weighted after resampling) and its hidden spikes are followed back through its ancestors. The
    history is an approximate draw from ``p(h | r)``, the hidden spikes given *all* the recorded
    ones, past and future (exact as ``n_particles`` grows; with few particles the early bins of
    different draws share ancestors). With such draws, the gradient of the complete-data
    log-likelihood ``log p(r, h)`` is an estimate of the gradient of the marginal log-likelihood
    ``log p(r)`` (Fisher's identity; a stochastic EM), with no gradient through the sampling:
    :class:`~elephant_fit.fitting.PosteriorNegativeLogLikelihood` uses it as a training term.

    Parameters
    ----------
    model : SpikingNetwork
        The network.
    recorded : torch.Tensor
        Recorded spike counts per bin, shape (n_trials, n_bins, n_recorded).
    inputs : torch.Tensor, optional
        Covariates, shape (n_trials, n_bins, n_inputs).
    n_particles : int, optional
        Particles per trial.
    seed : int or torch.Generator, optional
        Randomness of resampling, hidden spikes and the final draw.
    conditions : torch.Tensor, optional
        Condition code of each trial, shape (n_trials,).

    Returns
    -------
    torch.Tensor
        Hidden spikes, shape (n_trials, n_bins, n_hidden), in the model's dtype (no gradient).

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.network import SpikingNetwork, sample_hidden
    >>> network = SpikingNetwork(n_recorded=3, n_hidden=2, n_lags=3, seed=0)
    >>> recorded = torch.zeros(4, 6, 3)  # (n_trials, n_bins, n_recorded)
    >>> hidden = sample_hidden(network, recorded, n_particles=8, seed=0)
    >>> hidden.shape  # (n_trials, n_bins, n_hidden)
    torch.Size([4, 6, 2])
    >>> bool(torch.equal(hidden, sample_hidden(network, recorded, n_particles=8, seed=0)))
    True
    """
    recorded = check_recorded(model, recorded)
    n_particles = check_positive_int(n_particles, "n_particles")
    n_trials, n_bins, _ = recorded.shape
    if model.n_hidden == 0 or n_bins == 0:
        return recorded.new_zeros(n_trials, n_bins, model.n_hidden)
    generator = make_generator(seed, model.bias.device)
    chunk = _trials_per_chunk(SMOOTHER_ROWS_PER_CHUNK, n_particles)  # bounds the genealogy
    with torch.no_grad():
        coupling = model.lagged_coupling()
        u_known = known_input(model, recorded, inputs, coupling, conditions)
        weights = sampled_weights(model, coupling, first=model.n_recorded)
        surrogate = get_surrogate("sigmoid")  # unused without gradients
        parts = []
        for start in range(0, n_trials, chunk):
            trace: list[tuple[torch.Tensor, torch.Tensor]] = []
            trials = recorded[start : start + chunk]
            known = u_known[start : start + chunk]
            _filter(model, trials, known, weights, n_particles, 1, generator, surrogate, trace)
            chosen = torch.randint(
                n_particles, (trials.shape[0],), generator=generator, device=model.bias.device
            )
            parts.append(_trace_back(trace, chosen))
        return torch.cat(parts)


@dataclass(frozen=True)
class HeldOutLikelihood:
    """Held-out log-likelihood of recorded spikes, in bits per spike over a homogeneous baseline.

    Attributes
    ----------
    bits_per_spike : float
        ``(log p(data | model) - log p(data | baseline)) / (n_spikes ln 2)``; the baseline gives
        each neuron its mean count per bin in the data, under the same observation model.
    standard_error : float
        Monte Carlo standard error of ``bits_per_spike`` (0 when exact).
    log_likelihood : float
        ``log p(data | model)`` in nats, summed over trials.
    n_spikes : int
        Spikes in the data.
    n_particles : int
        Particles per trial (0: exact, no hidden neurons).

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.network import HeldOutLikelihood, SpikingNetwork, held_out_likelihood
    >>> network = SpikingNetwork(n_recorded=3, n_lags=3, seed=0)  # untrained
    >>> recorded = torch.zeros(2, 6, 3)  # (n_trials, n_bins, n_recorded)
    >>> recorded[:, ::2, 0] = 1.0  # neuron 0 fires every other bin
    >>> score = held_out_likelihood(network, recorded)
    >>> isinstance(score, HeldOutLikelihood), score.n_spikes, score.n_particles
    (True, 6, 0)
    >>> print(score)  # worse than the baseline: negative
    -2.923 +/- 0.0000 bits/spike (exact)
    """

    bits_per_spike: float
    standard_error: float
    log_likelihood: float
    n_spikes: int
    n_particles: int

    def __str__(self) -> str:
        method = (
            "exact"
            if self.n_particles == 0
            else f"particle filter, {self.n_particles} particles per trial"
        )
        return f"{self.bits_per_spike:.3f} +/- {self.standard_error:.4f} bits/spike ({method})"


def held_out_likelihood(
    model: SpikingNetwork,
    recorded: torch.Tensor,
    n_particles: int = 256,
    seed: int | torch.Generator | None = 0,
    *,
    inputs: torch.Tensor | None = None,
    conditions: torch.Tensor | None = None,
) -> HeldOutLikelihood:
    """Log-likelihood of held-out recorded trials in bits per spike, with its standard error.

    Parameters
    ----------
    model : SpikingNetwork
        The network.
    recorded : torch.Tensor
        Recorded spike counts per bin, shape (n_trials, n_bins, n_recorded).
    n_particles : int, optional
        Particles per trial when the model has hidden neurons (two replicate filters of half).
    seed : int or torch.Generator, optional
        Randomness of the particle filter.
    inputs : torch.Tensor, optional
        Covariates, shape (n_trials, n_bins, n_inputs).
    conditions : torch.Tensor, optional
        Condition code of each trial, shape (n_trials,).

    Returns
    -------
    HeldOutLikelihood
        The estimate, in bits per spike, and the log-likelihood in nats.

    Examples
    --------
    >>> import math
    >>> import torch
    >>> from elephant_fit.network import SpikingNetwork, held_out_likelihood
    >>> network = SpikingNetwork(n_recorded=3, n_hidden=1, n_lags=3, seed=0)
    >>> recorded = torch.zeros(2, 6, 3)  # (n_trials, n_bins, n_recorded)
    >>> recorded[:, ::2, 0] = 1.0
    >>> score = held_out_likelihood(network, recorded, n_particles=8, seed=0)
    >>> score.n_particles, score.n_spikes, math.isfinite(score.bits_per_spike)
    (8, 6, True)
    """
    recorded = check_recorded(model, recorded)
    with torch.no_grad():
        estimate = log_likelihood(
            model,
            recorded,
            inputs,
            n_particles=n_particles,
            seed=seed,
            conditions=conditions,
        )
        baseline = -_homogeneous_nll(model, recorded)
    n_spikes = float(recorded.sum())
    scale = max(n_spikes, 1.0) * math.log(2)
    return HeldOutLikelihood(
        bits_per_spike=(estimate.total - baseline) / scale,
        standard_error=estimate.standard_error / scale,
        log_likelihood=estimate.total,
        n_spikes=round(n_spikes),
        n_particles=estimate.n_particles,
    )


def _trials_per_chunk(rows: int, n_particles: int) -> int:
    """Trials filtered in one call so that trials x particles stays within ``rows`` (at least 1)."""
    return max(1, rows // n_particles)


def _homogeneous_nll(model: SpikingNetwork, counts: torch.Tensor) -> float:
    """Negative log-likelihood (nats) of a homogeneous rate per neuron: its mean count per bin."""
    return model.observation.baseline_neg_log_likelihood(counts)


def _filter(
    model: SpikingNetwork,
    recorded: torch.Tensor,
    u_known: torch.Tensor,
    weights: torch.Tensor,
    n_particles: int,
    n_replicates: int,
    generator: torch.Generator,
    surrogate: Surrogate,
    trace: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
) -> torch.Tensor:
    """Run ``n_replicates`` filters of ``n_particles`` per trial; log-likelihood per trial and replicate.

    Parameters
    ----------
    recorded : torch.Tensor
        Shape (n_trials, n_bins, n_recorded).
    u_known : torch.Tensor
        Shape (n_trials, n_bins, n_neurons): pre-activations without the hidden neurons' input.
    weights : torch.Tensor
        Hidden neurons' outgoing weights, shape (n_lags * n_hidden, n_neurons), rows ordered
        oldest lag first (:func:`elephant_fit.network.simulation.sampled_weights`).
    trace : list, optional
        When given, receives per bin the resampling's ancestor indices, shape (F, K), and the
        hidden spikes sampled for each particle, shape (F, K, n_hidden) (F = n_trials *
        n_replicates filters, K = n_particles): the genealogy :func:`_trace_back` follows.

    Returns
    -------
    torch.Tensor
        Shape (n_trials, n_replicates).
    """
    n_trials, n_bins, n_rec = recorded.shape
    n_filters, n_hidden, lags = n_trials * n_replicates, model.n_hidden, model.n_lags
    dtype, device = u_known.dtype, u_known.device
    # filter f follows trial f // n_replicates
    trial_u = u_known.repeat_interleave(n_replicates, dim=0).unsqueeze(2)  # (F, T, 1, N)
    trial_r = recorded.repeat_interleave(n_replicates, dim=0).unsqueeze(2)  # (F, T, 1, n_rec)
    window = torch.zeros(n_filters, n_particles, lags * n_hidden, dtype=dtype, device=device)
    log_z = torch.zeros(n_filters, dtype=dtype, device=device)
    correction = torch.zeros(n_filters, n_particles, dtype=dtype, device=device)
    offsets = torch.arange(n_particles, dtype=dtype, device=device) / n_particles
    first_row = torch.arange(n_filters, device=device).unsqueeze(1) * n_particles  # (F, 1)
    guided = isinstance(model.observation, Bernoulli)  # the look-ahead is derived for it
    for t in range(n_bins):
        u_t = trial_u[:, t] + window @ weights  # (F, K, N)
        log_w = correction - model.neg_log_likelihood(u_t[..., :n_rec], trial_r[:, t]).sum(dim=-1)
        log_z = log_z + torch.logsumexp(log_w, dim=1) - math.log(n_particles)
        ancestors = _systematic_resampling(log_w.detach(), offsets, generator)
        # the ancestors' rows, copied whole (a gather along dim 1 took 5x as long)
        rows = (ancestors + first_row).view(-1)
        u_hidden = u_t.reshape(-1, u_t.shape[2]).index_select(0, rows)[:, n_rec:]
        u_hidden = u_hidden.view(n_filters, n_particles, n_hidden)
        window = window.reshape(-1, window.shape[2]).index_select(0, rows).view(window.shape)
        noise = _noise(model, (n_filters, n_particles, n_hidden), generator)
        if guided and t + 1 < n_bins:
            spikes, correction = _guided_sample(
                model,
                u_hidden,
                window,
                weights,
                trial_u[:, t + 1],
                trial_r[:, t + 1],
                noise,
                surrogate,
            )
        else:
            spikes = model.observation.sample(u_hidden, noise, surrogate)
        if trace is not None:
            trace.append((ancestors, spikes))
        window = torch.cat([window[..., n_hidden:], spikes], dim=2)
    return log_z.view(n_trials, n_replicates)


def _trace_back(
    trace: list[tuple[torch.Tensor, torch.Tensor]], chosen: torch.Tensor
) -> torch.Tensor:
    """The hidden spike history of one particle per filter, followed back through its ancestors.

    Parameters
    ----------
    trace : list of (torch.Tensor, torch.Tensor)
        Per bin, the ancestor indices (F, K) and the sampled hidden spikes (F, K, n_hidden)
        recorded by :func:`_filter`.
    chosen : torch.Tensor
        Shape (F,): the particle of each filter after the last bin.

    Returns
    -------
    torch.Tensor
        Shape (F, n_bins, n_hidden).
    """
    rows = torch.arange(chosen.shape[0], device=chosen.device)
    particle, path = chosen, []
    for ancestors, spikes in reversed(trace):
        path.append(spikes[rows, particle])
        particle = ancestors[rows, particle]
    return torch.stack(path[::-1], dim=1)


def _guided_sample(
    model: SpikingNetwork,
    u_hidden: torch.Tensor,
    window: torch.Tensor,
    weights: torch.Tensor,
    u_next: torch.Tensor,
    r_next: torch.Tensor,
    noise: torch.Tensor,
    surrogate: Surrogate,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample a bin's hidden spikes looking one bin ahead at the recorded spikes (Bernoulli).

    Hidden neuron ``h``'s prior log-odds are raised by :data:`LOOKAHEAD` times an approximation
    of the log-likelihood ratio of the next bin's recorded spikes when ``h`` fires, the other
    hidden neurons contributing their mean (lag-1 weights; the particle's older hidden spikes and
    the recorded history are known). The prior-to-proposal ratio of the sampled spikes is
    returned as a log-weight correction, so the likelihood estimate stays unbiased whatever the
    proposal.

    The exact ratio of recorded neuron ``r`` is ``x_r w_hr - [softplus(m_r + (1 - p_h) w_hr) -
    softplus(m_r - p_h w_hr)]`` (``x`` the next bin's spikes, ``m`` its mean input, ``p_h`` the
    firing probability of ``h``, ``w`` the lag-1 weights): elementwise over filters x particles
    x hidden x recorded. Its expansion to third order in ``w`` about ``m`` is separable,
    ``(x_r - s_r) w_hr - (1 - 2 p_h) s'_r w_hr^2 / 2 - (1 - 3 p_h + 3 p_h^2) s''_r w_hr^3 / 6``
    with ``s = sigmoid(m)`` and its derivatives: three matrix products per bin. Measured by
    ``benchmarks/particle_filter.py`` (per-trial variance of the estimate, 4 filters x 128
    particles; exact term / third order / second order; times of one run on 2 cores): demo's
    ground truth (200 trials, lag-1 weights up to 2) 1.315 / 1.177 / 1.572 nats^2 in 52.8 / 10.2
    / 9.1 s; the connectivity benchmark's truth (``--truth assembly``, 60 hidden, 100 trials)
    0.309 / 0.306 / 0.286 in 74.5 / 15.9 / 12.4 s; the 8 + 8 truth of the tests (``--truth small``)
    0.389 / 0.385 / 0.600.

    Parameters
    ----------
    u_hidden : torch.Tensor
        Shape (F, K, n_hidden): the hidden neurons' prior logits in this bin.
    window : torch.Tensor
        Shape (F, K, n_lags * n_hidden): hidden spikes of the last n_lags bins, oldest first.
    u_next, r_next : torch.Tensor
        Shapes (F, 1, n_neurons) and (F, 1, n_recorded): next bin's known input and recorded spikes.

    Returns
    -------
    spikes, correction : torch.Tensor
        Shapes (F, K, n_hidden) and (F, K).
    """
    n_rec, n_hidden = model.n_recorded, model.n_hidden
    lag1 = weights[-n_hidden:, :n_rec]  # (n_hidden, n_rec)
    # next bin's recorded input: known part, older hidden spikes (lags 2..L), this bin's mean
    older = window[..., n_hidden:] @ weights[: -n_hidden or None, :n_rec]
    p_hidden = torch.sigmoid(u_hidden)
    mean_input = u_next[..., :n_rec] + older + p_hidden @ lag1  # (F, K, n_rec)
    proposal = u_hidden + LOOKAHEAD * _lookahead_gain(mean_input, r_next, p_hidden, lag1)
    spikes = model.observation.sample(proposal, noise, surrogate)
    log_prior = -model.neg_log_likelihood(u_hidden, spikes)
    log_proposal = -model.neg_log_likelihood(proposal, spikes)
    return spikes, (log_prior - log_proposal).sum(dim=-1)


def _lookahead_gain(
    mean_input: torch.Tensor, r_next: torch.Tensor, p_hidden: torch.Tensor, lag1: torch.Tensor
) -> torch.Tensor:
    """Log-likelihood ratio of the next bin's recorded spikes when each hidden neuron fires, to third order.

    Parameters
    ----------
    mean_input : torch.Tensor
        Shape (F, K, n_rec): the recorded neurons' next input with every hidden neuron at its mean.
    r_next : torch.Tensor
        Shape (F, 1, n_rec): their spikes in the next bin (0 or 1).
    p_hidden : torch.Tensor
        Shape (F, K, n_hidden): the hidden neurons' firing probabilities in this bin.
    lag1 : torch.Tensor
        Shape (n_hidden, n_rec): lag-1 weights from hidden to recorded neurons.

    Returns
    -------
    torch.Tensor
        Shape (F, K, n_hidden), nats (see :func:`_guided_sample` for the expansion).
    """
    rate = torch.sigmoid(mean_input)
    slope = rate * (1 - rate)  # the derivatives of sigmoid at the mean input
    second = slope @ (lag1 * lag1).T  # (F, K, n_hidden)
    third = (slope * (1 - 2 * rate)) @ (lag1 * lag1 * lag1).T
    cubic = 1 - 3 * p_hidden * (1 - p_hidden)
    return (r_next - rate) @ lag1.T - (1 - 2 * p_hidden) * second / 2 - cubic * third / 6


def _systematic_resampling(
    log_weights: torch.Tensor, offsets: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """Ancestor indices by systematic resampling, shape (n_filters, n_particles).

    One uniform per filter places ``n_particles`` evenly spaced points on the cumulative weights.
    """
    weights = torch.softmax(log_weights, dim=1)
    cumulative = weights.cumsum(dim=1)
    cumulative[:, -1] = 1.0  # guard against rounding below the last point
    start = torch.rand(
        (log_weights.shape[0], 1), generator=generator, dtype=offsets.dtype, device=offsets.device
    )
    points = (start / offsets.numel() + offsets).to(cumulative.dtype)
    # right=True: a point on a cumulative value never selects a particle of zero weight
    return torch.searchsorted(cumulative.contiguous(), points.contiguous(), right=True).clamp(
        max=log_weights.shape[1] - 1
    )
