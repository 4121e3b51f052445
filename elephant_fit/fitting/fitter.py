"""NetworkFitter: a scikit-learn-style estimator that fits a SpikingNetwork to Neo data.

It validates hyper-parameters, bins Neo input, builds the network from its
:class:`~elephant_fit.fitting.spec.ModelSpec` and runs :func:`fit_model`. What a fitted network
does (simulation, rates, likelihood, Neo export, saving) is :class:`FittedNetwork`
(:mod:`elephant_fit.fitting.fitted`); loading is :func:`elephant_fit.fitting.persistence.load_model`;
the optimisation defaults are :class:`FitConfig`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import quantities as pq
import torch

from .._memory import check_memory, fit_iteration_bytes
from .._validation import (
    check_choice,
    check_fraction,
    check_non_negative_int,
    check_number,
    check_positive_int,
    check_seed,
    check_time_quantity,
    describe,
)
from ..data import NeoInput, SpikeData
from ..distributed import raise_together, world_size
from ..errors import ArgumentTypeError, ArgumentValueError, NoImprovementWarning, NonFiniteLossError
from ..network.covariates import CovariateSpec
from ..network.model import SpikingNetwork
from .config import FitConfig, resolve_device
from .fitted import FittedNetwork, trial_tensors
from .loop import fit_model
from .losses import PENALISED_PAIRS, PENALTIES, PRESETS, CombinedLoss, CouplingPenalty, make_loss
from .spec import ModelSpec, TrainedOn

__all__ = ["NetworkFitter"]

_DEFAULTS = FitConfig()
_SPEC = ModelSpec()


class NetworkFitter(FittedNetwork):
    """Fit a recurrent stochastic spiking network to spike trains of repeated trials.

    Parameters
    ----------
    n_hidden : int, optional
        Number of hidden (unrecorded) neurons.
    bin_size : pq.Quantity, optional
        Bin width used to bin Neo input, a time quantity such as ``10 * pq.ms`` (required unless
        ``fit`` receives a SpikeData).
    n_lags : int, optional
        Coupling filter length in bins.
    basis : None, 'raised_cosine' or 'exponential', optional
        Temporal basis of the coupling filters (None: free lags).
    n_basis : int, optional
        Number of basis functions.
    loss : str or dict, optional
        'mle', 'sm' (normalised sample-and-measure defaults; without a stimulus drive and
        without covariates, the same without the PSTH term: 'sm_spontaneous'), 'paper', or
        ``{term: weight}`` with
        terms 'nll', 'psth', 'noise_covariance', 'rate', 'fano', 'hidden_rate' (or custom LossTerms).
    max_lag : int, optional
        Lags 0..max_lag (bins) of the noise-covariance term. Default: ``n_lags``, the coupling
        length (at most ``n_bins - 1``). A smaller value warns: the fit can then reproduce zero-lag
        noise correlations with coupling at lags the loss never measures, instead of with hidden
        common input.
    penalty : None, 'l1' or 'l2', optional
        Penalty on the coupling between different neurons (:class:`elephant_fit.fitting.losses.CouplingPenalty`),
        added to the loss with weight ``penalty_strength``.
    penalty_strength : float, optional
        Weight of the penalty (on the scale of the mean negative log-likelihood per bin and neuron).
    penalty_pairs : {'all', 'recorded'}, optional
        The pairs penalised: all (default), or those between recorded neurons only, so that hidden
        neurons explain shared input at no cost (a sparsity prior on the recorded circuit; with
        ``loss={"nll_posterior": 1.0}`` it removed spurious coupling that the same fit without
        hidden neurons keeps: ``benchmarks/connectivity_sweep.py``).
    exogenous_hidden : bool, optional
        Hidden neurons receive no recurrent input (independent sources of common input).
    observation : {'bernoulli', 'poisson'}, optional
        Observation model (``elephant_fit.network.observation``).
    link : str, optional
        Its link: 'sigmoid' (Bernoulli), 'exp' or 'softplus' (Poisson); default the first.
    drive : None, 'smooth' or 'free', optional
        Stimulus-locked drive: one per stimulus condition of the data (``SpikeData.conditions``),
        shared by that condition's trials. None for spontaneous activity.
    n_drive_basis : int, optional
        Number of temporal bumps of a smooth drive; default one per 40 ms of the trial
        (:func:`elephant_fit.network.bases.drive_bumps`), at least 2.
    self_coupling, dale : bool, optional
        Allow self-history; sign-constrain outgoing weights.
    n_input_lags : int, optional
        Length in bins of the filters through which covariates (``SpikeData.covariates``) enter.
    covariates : CovariateSpec, optional
        Instead: how each covariate enters (:class:`~elephant_fit.network.covariates.CovariateSpec`:
        history filters on a temporal basis, or tuning on its value with B-splines over the range
        seen in the data, and which neurons receive it). Default: free-lag history filters of
        ``n_input_lags`` lags.
    stimulus_encoder : torch.nn.Module, optional
        A module mapping the covariates (n_trials, n_bins, n_inputs), e.g. the stimulus, to a
        drive (n_trials, n_bins, n_neurons), trained jointly (a copy: the module given stays as
        it is). It predicts responses to stimuli the fit never saw, which the stimulus-locked
        drive cannot. Without ``covariates`` it takes every covariate. Model files keep its
        parameters; :func:`~elephant_fit.load_model` then needs a module of the same class.
    surrogate : str, optional
        Gradient surrogate through sampled spikes: 'sigmoid', 'pseudo' or 'gumbel'.
    max_iterations, learning_rate, batch_size, clip_norm : optional
        Optimisation settings (Adam, gradient-norm clipping); defaults from :class:`FitConfig`.
    optimizer : {'adam', 'lbfgs'}, optional
        Adam on mini-batches, or full-batch L-BFGS for the likelihood without hidden neurons
        (``loss='mle'``, ``n_hidden=0``): see :class:`FitConfig` for when each wins.
    validation_fraction : float, optional
        Fraction of trials held out to select the best checkpoint.
    eval_every, patience : int, optional
        Validation period (iterations) and early-stopping patience (evaluations without a relative
        improvement of ``tolerance``; None: off). On by default: the best parameters come early.
    tolerance : float, optional
        Relative improvement of the validation loss that resets the patience.
    sm_window, sm_burn_in : int, optional
        Measure the sample-and-measure terms on random windows of ``sm_window`` bins, each after
        up to ``sm_burn_in`` simulated but unmeasured bins (None: whole trials; :class:`FitConfig`).
    seed : int, optional
        Seed of initialisation, splitting, batching and sampling.
    device : str, optional
        'auto' (CUDA when present), 'cpu' or 'cuda'.
    dtype : torch.dtype, optional
        Float dtype of the fit.
    max_memory : float, optional
        Refuse (:class:`~elephant_fit.errors.MemoryLimitError`, before allocating) to bin, fit or
        simulate when the estimated memory exceeds this many bytes; default half the available
        memory.
    progress : bool, optional
        Show a progress bar.
    warm_start : bool, optional
        Start the next :meth:`fit` from the fitted network ``model_`` of the previous one (the
        same architecture and data layout), e.g. a fit with ``loss='sm'`` after one with
        ``loss='mle'`` (scikit-learn's ``warm_start``). False: from the initialisation of
        ``seed``.

    Attributes
    ----------
    model_ : SpikingNetwork
        The fitted network (recorded neurons first, then hidden ones), in ``dtype`` on ``device``.
    coupling_ : np.ndarray
        Effective coupling, float64, shape (n_post, n_pre, n_lags), dimensionless:
        ``coupling_[j, i, l - 1]`` is added to neuron j's pre-activation ``l`` bins after a spike
        of neuron i.
    history_ : FitHistory
        The losses recorded during the fit.
    trained_on_ : TrainedOn
        The layout of the training data.
    bin_size_, t_start_, t_stop_ : pq.Quantity
        Bin width and trial window of the training data (time quantities).
    n_bins_, n_recorded_ : int
        Bins per trial and recorded units of the training data.
    unit_ids_, unit_annotations_ : tuple
        Ids and annotations of the recorded units, in the order of the recorded neurons.
    covariate_filters_, tuning_values_, tuning_curves_ : np.ndarray
        With covariates only: see :class:`~elephant_fit.fitting.fitted.FittedNetwork`.

    Notes
    -----
    Each hyper-parameter is one field of a record with its default: the architecture of
    :class:`~elephant_fit.fitting.spec.ModelSpec` (:meth:`model_spec`) and the optimisation
    settings of :class:`FitConfig` (:meth:`fit_config`); the others (``bin_size``, ``loss``,
    ``max_lag``, ``penalty``, ``penalty_strength``, ``penalty_pairs``, ``validation_fraction``, ``device``,
    ``dtype``, ``max_memory``, ``warm_start``) are the estimator's own.

    Examples
    --------
    >>> import quantities as pq
    >>> from elephant_fit import NetworkFitter
    >>> from elephant_fit.network import use_loop
    >>> from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata
    >>> truth = hidden_input_network(n_recorded=5, n_hidden=3, n_bins=30, seed=0)
    >>> with use_loop("torch"):
    ...     data = sample_spikedata(truth, n_trials=20, bin_size=10 * pq.ms, seed=1).recorded()
    ...     fitter = NetworkFitter(n_lags=3, max_iterations=20, device="cpu", progress=False)
    ...     fitter.fit(data) is fitter
    True
    >>> fitter.coupling_.shape  # (n_post, n_pre, n_lags)
    (5, 5, 3)
    >>> NetworkFitter(n_hidden=2).set_params(loss="sm")
    NetworkFitter(n_hidden=2, loss='sm')
    """

    def __init__(
        self,
        n_hidden: int = _SPEC.n_hidden,
        bin_size: pq.Quantity | None = None,
        n_lags: int = _SPEC.n_lags,
        basis: str | None = _SPEC.basis,
        n_basis: int | None = _SPEC.n_basis,
        loss: str | dict = "mle",
        max_lag: int | None = None,
        penalty: str | None = None,
        penalty_strength: float = 1e-3,
        penalty_pairs: str = "all",
        exogenous_hidden: bool = _SPEC.exogenous_hidden,
        observation: str = _SPEC.observation,
        link: str | None = _SPEC.link,
        drive: str | None = _SPEC.drive,
        n_drive_basis: int | None = _SPEC.n_drive_basis,
        self_coupling: bool = _SPEC.self_coupling,
        dale: bool = _SPEC.dale,
        n_input_lags: int = _SPEC.n_input_lags,
        covariates: CovariateSpec | None = _SPEC.covariates,
        stimulus_encoder: torch.nn.Module | None = _SPEC.stimulus_encoder,
        surrogate: str = _DEFAULTS.surrogate,
        max_iterations: int = _DEFAULTS.max_iterations,
        learning_rate: float = _DEFAULTS.learning_rate,
        batch_size: int = _DEFAULTS.batch_size,
        clip_norm: float = _DEFAULTS.clip_norm,
        optimizer: str = _DEFAULTS.optimizer,
        validation_fraction: float = 0.2,
        eval_every: int = _DEFAULTS.eval_every,
        patience: int | None = _DEFAULTS.patience,
        tolerance: float = _DEFAULTS.tolerance,
        sm_window: int | None = _DEFAULTS.sm_window,
        sm_burn_in: int = _DEFAULTS.sm_burn_in,
        seed: int = _DEFAULTS.seed,
        device: str = "auto",
        dtype: torch.dtype = torch.float32,
        max_memory: float | None = None,
        progress: bool = _DEFAULTS.progress,
        warm_start: bool = False,
    ) -> None:
        self._store_params(locals())

    def fit_config(self) -> FitConfig:
        """The optimisation settings of this estimator as a :class:`FitConfig` (validated)."""
        params = self.get_params()
        return FitConfig(**{name: params[name] for name in FitConfig.names()})

    def _validate(self) -> tuple[ModelSpec, FitConfig]:
        """Check hyper-parameters (at fit time, as scikit-learn does): architecture and settings."""
        spec = self.model_spec()
        if self.bin_size is not None:
            check_time_quantity(self.bin_size, "bin_size", positive=True)
        check_fraction(self.validation_fraction, "validation_fraction")
        if not isinstance(self.dtype, torch.dtype) or not self.dtype.is_floating_point:
            raise ArgumentTypeError(
                f"Expected `dtype` to be a floating torch.dtype, but got {describe(self.dtype)}."
            )
        return spec, self.fit_config()

    def _loss(self, n_bins: int, has_inputs: bool = False) -> CombinedLoss:
        """The loss of ``loss`` for trials of ``n_bins`` bins, with the coupling penalty if set.

        Without a stimulus drive and without inputs (``has_inputs``: covariates or a stimulus
        encoder, which can lock responses to the trial), ``'sm'`` is ``'sm_spontaneous'`` (no
        PSTH term).
        """
        spontaneous = self.loss == "sm" and self.drive is None and not has_inputs
        spec = "sm_spontaneous" if spontaneous else self.loss
        loss = make_loss(spec, max_lag=_noise_covariance_lags(self, n_bins))
        check_choice(self.penalty_pairs, "penalty_pairs", PENALISED_PAIRS)
        if self.penalty is None:
            return loss
        check_choice(self.penalty, "penalty", (None, *PENALTIES))
        strength = check_number(self.penalty_strength, "penalty_strength", positive=True)
        term = CouplingPenalty(self.penalty, pairs=self.penalty_pairs)
        return CombinedLoss({**loss.terms, self.penalty: (strength, term)})

    def fit(
        self,
        data: NeoInput | SpikeData,
        checkpoint: str | Path | None = None,
        resume: bool = False,
    ) -> NetworkFitter:
        """Fit the network.

        Parameters
        ----------
        data : SpikeData or anything :func:`elephant_fit.from_neo` accepts
            Repeated trials of the recorded neurons.
        checkpoint : path, optional
            Save the fit's state there every 100 iterations and on SIGINT/SIGTERM (which then
            raise :class:`~elephant_fit.errors.FitInterrupted`).
        resume : bool, optional
            Continue an interrupted fit from ``checkpoint`` (same data and hyper-parameters: the
            result is bit-identical to an uninterrupted fit on the CPU).

        Returns
        -------
        NetworkFitter
            ``self``, with learned attributes ``model_``, ``coupling_``, ``history_``, ...

        Notes
        -----
        Inside an initialised ``torch.distributed`` process group (e.g. under ``torchrun``), call
        ``fit`` on every rank with the same data and arguments (the same ``checkpoint`` path:
        rank 0 writes it): each batch of trials is split across the ranks and the result is that
        of one process (:mod:`elephant_fit.distributed`).
        """
        spec, config = self._validate()
        spikedata = self._observed(self._as_spikedata(data, self.bin_size).recorded())
        loss = self._loss(spikedata.n_bins, has_inputs=spikedata.covariates is not None)
        _check_trainable(spikedata, loss)
        device = resolve_device(self.device)
        self._check_fit_memory(spikedata, config, device)
        train, validation = self._split(spikedata)
        trained_on = TrainedOn.of(spikedata, spec.covariate_spec(spikedata))
        model = spec.build(
            spikedata.n_bins,
            spikedata.bin_size,
            spikedata.counts.mean(dim=(0, 1)),
            check_seed(self.seed),
            n_conditions=trained_on.n_conditions,
            covariates=trained_on.covariate_spec,
            n_inputs=trained_on.n_inputs,
        ).to(device=device, dtype=self.dtype)
        warm = self.warm_start and getattr(self, "model_", None) is not None
        if warm:
            self._start_from_fitted(model)
        like = model.bias
        try:
            history = fit_model(
                model,
                trial_tensors(trained_on, train, like),
                None if validation is None else trial_tensors(trained_on, validation, like),
                loss,
                config,
                checkpoint=checkpoint,
                resume=resume,
            )
        except NonFiniteLossError as error:
            # keep the last good parameters: the estimator stays usable, then the error surfaces
            self._set_fitted(model, error.history, trained_on)
            raise
        self._set_fitted(model, history, trained_on)
        if not history.improved:
            start = "the previous fit's (warm_start)" if warm else "biases at the mean rates"
            warnings.warn(
                f"No iteration improved the validation loss of the initial parameters ({start}): "
                "the estimator keeps them. Expected when the data hold little beyond the mean "
                "rates (or the previous fit); otherwise try a smaller learning_rate.",
                NoImprovementWarning,
                stacklevel=2,
            )
        return self

    def _start_from_fitted(self, model: SpikingNetwork) -> None:
        """Copy the previous fit's parameters into ``model`` (``warm_start``), or say why not."""
        try:
            model.load_state_dict(self.model_.state_dict())
        except RuntimeError as error:
            raise ArgumentValueError(
                "Expected `warm_start` to continue a fit of the same architecture and data "
                "layout (neurons, bins, lags, conditions, covariates), but the previous fit's "
                f"network does not fit this one: {str(error).splitlines()[0]}"
            ) from None

    def _check_fit_memory(self, data: SpikeData, config: FitConfig, device: torch.device) -> None:
        """Refuse a fit whose iterations would need more than ``max_memory`` (an estimate)."""
        n_neurons = data.n_neurons + self.n_hidden
        n_validation = round(self.validation_fraction * data.n_trials) if data.n_trials >= 5 else 0
        batch = (
            data.n_trials if config.optimizer == "lbfgs" else min(config.batch_size, data.n_trials)
        )
        # each rank of a data-parallel fit holds its share of a batch
        share = -(-max(batch, n_validation) // world_size())
        itemsize = torch.empty((), dtype=self.dtype).element_size()
        counts = data.n_trials * data.n_bins * data.n_neurons  # float64 host copy + device copy
        iteration = fit_iteration_bytes(share, data.n_bins, n_neurons, self.n_lags, itemsize)
        noise = 2.0 * max(batch, n_validation) * data.n_bins * n_neurons * itemsize  # whole batch
        n_bytes = iteration + noise + counts * (itemsize + 8)
        what = (
            f"fitting {n_neurons} neurons x {data.n_bins} bins ({batch} trials per iteration, "
            f"{n_validation} per validation, {self.n_lags} lags, {world_size()} rank(s))"
        )
        # every rank answers (each GPU has its own free memory), so that all stop together
        raise_together(lambda: check_memory(float(n_bytes), what, self.max_memory, device))

    def _split(self, data: SpikeData) -> tuple[SpikeData, SpikeData | None]:
        """Training and validation trials (no validation with fewer than 5 trials)."""
        if data.n_trials < 5:
            return data, None
        return data.split(self.validation_fraction, seed=check_seed(self.seed))


def _noise_covariance_lags(fitter: NetworkFitter, n_bins: int) -> int:
    """Lags of the noise-covariance term: ``max_lag``, or the coupling length (warned if shorter).

    The default is capped at ``n_bins - 1`` (trials, or ``sm_window`` windows, shorter than
    the coupling).
    """
    if fitter.sm_window is not None:
        n_bins = min(n_bins, check_positive_int(fitter.sm_window, "sm_window"))
    if fitter.max_lag is None:
        return min(fitter.n_lags, n_bins - 1)
    check_non_negative_int(fitter.max_lag, "max_lag")
    if not _uses_noise_covariance(fitter.loss):
        return fitter.max_lag
    if fitter.max_lag >= n_bins:
        raise ArgumentValueError(
            f"Expected `max_lag` below the {n_bins} bins the noise covariance is measured on "
            f"(trials or sm_window), but got {fitter.max_lag}."
        )
    if fitter.max_lag < fitter.n_lags:
        warnings.warn(
            f"max_lag={fitter.max_lag} is shorter than the coupling (n_lags={fitter.n_lags}): the "
            "noise-covariance term does not see lags "
            f"{fitter.max_lag + 1}..{fitter.n_lags}, and the fit can reproduce zero-lag noise "
            "correlations with coupling at those lags instead of with hidden common input. "
            "Use max_lag=None (the coupling length).",
            UserWarning,
            stacklevel=4,
        )
    return fitter.max_lag


def _check_trainable(data: SpikeData, loss: CombinedLoss) -> None:
    """Refuse data without spikes, and sample-and-measure losses on a single trial."""
    if not bool(data.counts.any()):
        raise ArgumentValueError(
            f"Expected `data` with spikes, but its {data.n_trials} trials x "
            f"{data.n_bins} bins x {data.n_neurons} units hold none: there is "
            "nothing to fit."
        )
    if "free" in loss.needs and data.n_trials < 2:
        raise ArgumentValueError(
            "Sample-and-measure losses compare trial-to-trial statistics: they need at least 2 "
            f"trials, but the data has {data.n_trials}."
        )


def _uses_noise_covariance(loss: Any) -> bool:
    """Whether a loss specification has a noise-covariance term with a positive weight."""
    if isinstance(loss, str):
        return PRESETS.get(loss, {}).get("noise_covariance", 0) > 0
    weights = getattr(loss, "weights", loss)
    value = weights.get("noise_covariance", 0) if isinstance(weights, dict) else 0
    return (value[0] if isinstance(value, tuple) else value) > 0
