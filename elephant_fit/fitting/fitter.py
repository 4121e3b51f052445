"""NetworkFitter: a scikit-learn-style estimator that fits a SpikingNetwork to Neo data.

It validates hyper-parameters, bins Neo input, builds the network, runs :func:`fit_model` and
uses the fitted network (simulation, rates, likelihood). Persistence lives in
:mod:`elephant_fit.fitting.persistence`, the export of the parameters as Neo objects in
:mod:`elephant_fit.fitting.export`, the optimisation defaults in :class:`FitConfig`.
"""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path
from typing import Any

import neo
import numpy as np
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
from ..data.neo_in import NeoInput, from_neo
from ..data.neo_out import to_neo
from ..data.spikedata import SpikeData
from ..distributed import common_seed, gather_trials, local_shard, raise_together, world_size
from ..errors import (
    ArgumentTypeError,
    ArgumentValueError,
    NoImprovementWarning,
    NonFiniteLossError,
    NotFittedError,
)
from ..network.bases import drive_bumps
from ..network.likelihood import HeldOutLikelihood, held_out_likelihood
from ..network.model import SpikingNetwork
from ..network.observation import Observation, get_observation
from ..network.simulation import simulate, teacher_forced
from .config import FitConfig, resolve_device
from .export import parameters_to_neo, rates_to_neo, simulated_spikedata
from .loop import fit_model
from .losses import PENALTIES, PRESETS, CombinedLoss, CouplingPenalty, make_loss

__all__ = ["NetworkFitter"]

_DEFAULTS = FitConfig()


class NetworkFitter:
    """Fit a recurrent stochastic spiking network to spike trains of repeated trials.

    Parameters
    ----------
    n_hidden : int, optional
        Number of hidden (unrecorded) neurons.
    bin_size : pq.Quantity, optional
        Bin width used to bin Neo input (required unless ``fit`` receives a SpikeData).
    n_lags : int, optional
        Coupling filter length in bins.
    basis : None, 'raised_cosine' or 'exponential', optional
        Temporal basis of the coupling filters (None: free lags).
    n_basis : int, optional
        Number of basis functions.
    loss : str or dict, optional
        'mle', 'sm' (normalised sample-and-measure defaults), 'paper', or ``{term: weight}`` with
        terms 'nll', 'psth', 'noise_covariance', 'rate', 'fano', 'hidden_rate' (or custom LossTerms).
    max_lag : int, optional
        Lags 0..max_lag of the noise-covariance term. Default: ``n_lags``, the coupling length
        (at most ``n_bins - 1``). A smaller value warns: the fit can then reproduce zero-lag noise
        correlations with coupling at lags the loss never measures, instead of with hidden common
        input.
    penalty : None, 'l1' or 'l2', optional
        Penalty on the coupling between different neurons (:class:`elephant_fit.fitting.losses.CouplingPenalty`),
        added to the loss with weight ``penalty_strength``.
    penalty_strength : float, optional
        Weight of the penalty (on the scale of the mean negative log-likelihood per bin and neuron).
    exogenous_hidden : bool, optional
        Hidden neurons receive no recurrent input (independent sources of common input).
    observation : {'bernoulli', 'poisson'}, optional
        Observation model (:mod:`elephant_fit.network.observation`).
    link : str, optional
        Its link: 'sigmoid' (Bernoulli), 'exp' or 'softplus' (Poisson); default the first.
    drive : None, 'smooth' or 'free', optional
        Stimulus-locked drive shared by all trials.
    n_drive_basis : int, optional
        Number of temporal bumps of a smooth drive; default one per 40 ms of the trial
        (:func:`elephant_fit.network.bases.drive_bumps`), at least 2.
    self_coupling, dale : bool, optional
        Allow self-history; sign-constrain outgoing weights.
    surrogate : str, optional
        Gradient surrogate through sampled spikes: 'sigmoid', 'pseudo' or 'gumbel'.
    max_iterations, learning_rate, batch_size, clip_norm : optional
        Optimisation settings (Adam, gradient-norm clipping); defaults from :class:`FitConfig`.
    validation_fraction : float, optional
        Fraction of trials held out to select the best checkpoint.
    optimizer : {'adam', 'lbfgs'}, optional
        Adam on mini-batches, or full-batch L-BFGS for the likelihood without hidden neurons
        (``loss='mle'``, ``n_hidden=0``): see :class:`FitConfig` for when each wins.
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

    Examples
    --------
    >>> import quantities as pq
    >>> from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata
    >>> truth = hidden_input_network(n_recorded=5, n_hidden=3, n_bins=30, seed=0)
    >>> data = sample_spikedata(truth, n_trials=20, bin_size=10 * pq.ms, seed=1).recorded()
    >>> fitter = NetworkFitter(n_lags=3, max_iterations=20, device="cpu", progress=False)
    >>> fitter.fit(data) is fitter
    True
    >>> fitter.coupling_.shape  # (n_post, n_pre, n_lags)
    (5, 5, 3)
    >>> NetworkFitter(n_hidden=2).set_params(loss="sm")
    NetworkFitter(n_hidden=2, loss='sm')
    """

    def __init__(
        self,
        n_hidden: int = 0,
        bin_size: pq.Quantity | None = None,
        n_lags: int = 9,
        basis: str | None = None,
        n_basis: int | None = None,
        loss: str | dict = "mle",
        max_lag: int | None = None,
        penalty: str | None = None,
        penalty_strength: float = 1e-3,
        exogenous_hidden: bool = False,
        observation: str = "bernoulli",
        link: str | None = None,
        drive: str | None = "smooth",
        n_drive_basis: int | None = None,
        self_coupling: bool = True,
        dale: bool = False,
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
    ) -> None:
        self.n_hidden = n_hidden
        self.bin_size = bin_size
        self.n_lags = n_lags
        self.basis = basis
        self.n_basis = n_basis
        self.loss = loss
        self.max_lag = max_lag
        self.penalty = penalty
        self.penalty_strength = penalty_strength
        self.exogenous_hidden = exogenous_hidden
        self.observation = observation
        self.link = link
        self.drive = drive
        self.n_drive_basis = n_drive_basis
        self.self_coupling = self_coupling
        self.dale = dale
        self.surrogate = surrogate
        self.max_iterations = max_iterations
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.clip_norm = clip_norm
        self.optimizer = optimizer
        self.validation_fraction = validation_fraction
        self.eval_every = eval_every
        self.patience = patience
        self.tolerance = tolerance
        self.sm_window = sm_window
        self.sm_burn_in = sm_burn_in
        self.seed = seed
        self.device = device
        self.dtype = dtype
        self.max_memory = max_memory
        self.progress = progress

    # ------------------------------------------------------------------ scikit-learn protocol
    @classmethod
    def _param_names(cls) -> list[str]:
        """Names of the hyper-parameters: the arguments of ``__init__``."""
        signature = inspect.signature(cls.__init__)
        return [name for name in signature.parameters if name != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyper-parameters given to ``__init__`` (``deep`` is accepted for scikit-learn).

        Returns
        -------
        dict
            ``{name: value}`` for every argument of ``__init__``.
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> NetworkFitter:
        """Set hyper-parameters (validated at the next ``fit``, as in scikit-learn).

        Returns
        -------
        NetworkFitter
            ``self``.
        """
        names = self._param_names()
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise ArgumentValueError(
                f"Invalid parameters {unknown} for NetworkFitter; valid parameters are {names}."
            )
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __getattr__(self, name: str) -> Any:
        # only called for missing attributes: fitted ones (trailing underscore) before fit
        if name.endswith("_") and not name.startswith("_"):
            raise NotFittedError(
                f"`{name}` is a fitted attribute: this NetworkFitter is not fitted yet, call "
                "fit(data) first."
            )
        raise AttributeError(f"'NetworkFitter' object has no attribute {name!r}")

    def __repr__(self) -> str:
        defaults = {
            name: parameter.default
            for name, parameter in inspect.signature(type(self).__init__).parameters.items()
        }
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_params().items()
            if not _same(value, defaults.get(name))
        ]
        return f"NetworkFitter({', '.join(changed)})"

    def __sklearn_is_fitted__(self) -> bool:
        """Whether ``fit`` has run (scikit-learn's ``check_is_fitted``)."""
        return "model_" in self.__dict__

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's estimator tags (called by scikit-learn only, which is then installed)."""
        from sklearn.utils import Tags, TargetTags

        # no labels: fit(data) models the spike trains themselves; stochastic simulation
        return Tags(
            estimator_type=None, target_tags=TargetTags(required=False), non_deterministic=True
        )

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError("This NetworkFitter is not fitted yet: call fit(data) first.")

    # ------------------------------------------------------------------ validation
    def _observation(self) -> Observation:
        """The observation model of ``observation`` and ``link``."""
        return get_observation(self.observation, self.link)

    def fit_config(self) -> FitConfig:
        """The optimisation settings of this estimator as a :class:`FitConfig` (validated)."""
        return FitConfig(
            max_iterations=self.max_iterations,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            clip_norm=self.clip_norm,
            optimizer=self.optimizer,
            seed=check_seed(self.seed),
            surrogate=self.surrogate,
            eval_every=self.eval_every,
            patience=self.patience,
            tolerance=self.tolerance,
            sm_window=self.sm_window,
            sm_burn_in=self.sm_burn_in,
            progress=self.progress,
        )

    def _as_spikedata(self, data: NeoInput | SpikeData, bin_size: pq.Quantity | None) -> SpikeData:
        """Bin Neo input, or check that a SpikeData uses the expected bin size."""
        if isinstance(data, SpikeData):
            if bin_size is not None and not np.isclose(
                float(data.bin_size.rescale("s").magnitude), float(bin_size.rescale("s").magnitude)
            ):
                raise ArgumentValueError(
                    f"Expected data binned with bin_size {bin_size}, but got data binned with {data.bin_size}."
                )
            return data
        if bin_size is None:
            raise ArgumentValueError(
                "Expected `bin_size` (a time quantity) to bin Neo input, but got None."
            )
        return from_neo(
            data, bin_size, binary=self._observation().binary, max_memory=self.max_memory
        )

    def _validate(self) -> FitConfig:
        """Check hyper-parameters (at fit time, as scikit-learn does); the optimisation settings."""
        check_non_negative_int(self.n_hidden, "n_hidden")
        if self.bin_size is not None:
            check_time_quantity(self.bin_size, "bin_size", positive=True)
        check_positive_int(self.n_lags, "n_lags")
        check_fraction(self.validation_fraction, "validation_fraction")
        check_seed(self.seed)
        self._observation()
        check_choice(self.drive, "drive", (None, "smooth", "free"))
        if not isinstance(self.dtype, torch.dtype) or not self.dtype.is_floating_point:
            raise ArgumentTypeError(
                f"Expected `dtype` to be a floating torch.dtype, but got {describe(self.dtype)}."
            )
        return self.fit_config()

    def _max_lag(self, n_bins: int) -> int:
        """Lags of the noise-covariance term: ``max_lag``, or the coupling length (warned if shorter).

        The default is capped at ``n_bins - 1`` (trials, or ``sm_window`` windows, shorter than
        the coupling).
        """
        if self.sm_window is not None:
            n_bins = min(n_bins, check_positive_int(self.sm_window, "sm_window"))
        if self.max_lag is None:
            return min(self.n_lags, n_bins - 1)
        check_non_negative_int(self.max_lag, "max_lag")
        if self.max_lag >= n_bins and _uses_noise_covariance(self.loss):
            raise ArgumentValueError(
                f"Expected `max_lag` below the {n_bins} bins the noise covariance is measured on "
                f"(trials or sm_window), but got {self.max_lag}."
            )
        if self.max_lag < self.n_lags and _uses_noise_covariance(self.loss):
            warnings.warn(
                f"max_lag={self.max_lag} is shorter than the coupling (n_lags={self.n_lags}): the "
                "noise-covariance term does not see lags "
                f"{self.max_lag + 1}..{self.n_lags}, and the fit can reproduce zero-lag noise "
                "correlations with coupling at those lags instead of with hidden common input. "
                "Use max_lag=None (the coupling length).",
                UserWarning,
                stacklevel=4,
            )
        return self.max_lag

    def _make_loss(self, n_bins: int) -> CombinedLoss:
        """The loss of ``loss`` for trials of ``n_bins`` bins, with the coupling penalty if set."""
        loss = make_loss(self.loss, max_lag=self._max_lag(n_bins))
        if self.penalty is None:
            return loss
        check_choice(self.penalty, "penalty", (None, *PENALTIES))
        strength = check_number(self.penalty_strength, "penalty_strength", positive=True)
        terms = dict(loss.terms)
        terms[self.penalty] = (strength, CouplingPenalty(self.penalty))
        return CombinedLoss(terms)

    # ------------------------------------------------------------------ fit
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
        config = self._validate()
        spikedata = self._observed(self._as_spikedata(data, self.bin_size).recorded())
        loss = self._make_loss(spikedata.n_bins)
        counts = spikedata.counts
        if not bool(counts.any()):
            raise ArgumentValueError(
                f"Expected `data` with spikes, but its {spikedata.n_trials} trials x "
                f"{spikedata.n_bins} bins x {spikedata.n_neurons} units hold none: there is "
                "nothing to fit."
            )
        if "free" in loss.needs and spikedata.n_trials < 2:
            raise ArgumentValueError(
                "Sample-and-measure losses compare trial-to-trial statistics: they need at least 2 "
                f"trials, but the data has {spikedata.n_trials}."
            )
        device = resolve_device(self.device)
        self._check_fit_memory(spikedata, config, device)
        train, validation = self._split(spikedata)
        rate = counts.mean(dim=(0, 1))
        model = self._build_model(spikedata.n_bins, spikedata.bin_size, rate)
        model = model.to(device=device, dtype=self.dtype)
        to = {"device": device, "dtype": self.dtype}
        try:
            history = fit_model(
                model,
                train.counts.to(**to),
                None if validation is None else validation.counts.to(**to),
                loss,
                config,
                checkpoint=checkpoint,
                resume=resume,
            )
        except NonFiniteLossError as error:
            # keep the last good parameters: the estimator stays usable, then the error surfaces
            self.model_, self.history_ = model, error.history
            self._set_fitted_attributes(spikedata)
            raise
        self.model_, self.history_ = model, history
        self._set_fitted_attributes(spikedata)
        if not history.improved:
            warnings.warn(
                "No iteration improved the validation loss of the initial parameters (the fit may "
                "have diverged: try a smaller learning_rate); the estimator keeps the initial "
                "parameters.",
                NoImprovementWarning,
                stacklevel=2,
            )
        return self

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

    def _observed(self, data: SpikeData) -> SpikeData:
        """``data`` with float64 counts for the observation model (Bernoulli: clipped at 1, warned once)."""
        counts, clipped = self._observation().clip_counts(data.counts.to(torch.float64))
        if clipped:
            warnings.warn(
                "Some bins hold more than one spike: a Bernoulli model sees them as one spike. Use "
                "a smaller bin_size or observation='poisson'.",
                UserWarning,
                stacklevel=3,
            )
        return data._replace(counts=counts)

    def _split(self, data: SpikeData) -> tuple[SpikeData, SpikeData | None]:
        """Training and validation trials (no validation with fewer than 5 trials)."""
        if data.n_trials < 5:
            return data, None
        return data.split(self.validation_fraction, seed=check_seed(self.seed))

    def _build_model(
        self, n_bins: int, bin_size: pq.Quantity, rate: torch.Tensor
    ) -> SpikingNetwork:
        """A network for ``n_bins`` bins and ``rate.shape[0]`` recorded neurons, biases at ``rate``.

        ``rate`` is each recorded neuron's mean count per bin, shape (n_recorded,); hidden neurons
        start at their mean.
        """
        model = SpikingNetwork(
            n_recorded=rate.shape[0],
            n_hidden=self.n_hidden,
            n_lags=self.n_lags,
            basis=self.basis,
            n_basis=self.n_basis,
            observation=self._observation(),
            n_bins=n_bins,
            drive=self.drive,
            n_drive_basis=self._drive_bumps(n_bins, bin_size),
            self_coupling=self.self_coupling,
            exogenous_hidden=self.exogenous_hidden,
            dale=self.dale,
            seed=check_seed(self.seed),
        )
        rate = rate.clamp(1e-4, 0.9 if model.observation.binary else None)
        hidden_rate = float(rate.mean())
        rates = torch.cat([rate, torch.full((self.n_hidden,), hidden_rate, dtype=rate.dtype)])
        with torch.no_grad():
            model.bias.copy_(model.observation.inverse_mean(rates).to(model.bias.dtype))
        return model

    def _drive_bumps(self, n_bins: int, bin_size: pq.Quantity) -> int | None:
        """``n_drive_basis``, or by default one bump per 40 ms of the trial (``drive_bumps``)."""
        if self.n_drive_basis is not None or self.drive != "smooth":
            return self.n_drive_basis
        return drive_bumps(n_bins, bin_size)

    def _set_fitted_attributes(self, data: SpikeData) -> None:
        """Learned attributes (trailing underscore)."""
        self.coupling_ = self.model_.coupling_array()  # (post, pre, lag)
        self.bin_size_ = data.bin_size
        self.t_start_ = data.t_start
        self.t_stop_ = data.t_stop
        self.n_bins_ = data.n_bins
        self.unit_ids_ = data.unit_ids
        self.unit_annotations_ = data.unit_annotations
        self.n_recorded_ = data.n_neurons

    # ------------------------------------------------------------------ use
    def simulate(
        self, n_trials: int, seed: int | None = None, include_hidden: bool = False
    ) -> neo.Block:
        """Simulate trials of the fitted network.

        Parameters
        ----------
        n_trials : int
            Number of trials.
        seed : int, optional
            Seed (None: random).
        include_hidden : bool, optional
            Include hidden neurons (annotated ``hidden=True``).

        Returns
        -------
        neo.Block
            One Segment per trial, the fitted data's unit ids, Groups and annotations.
        """
        data = self.simulate_spikedata(n_trials, seed)
        return to_neo(data, include_hidden=include_hidden)

    def simulate_spikedata(self, n_trials: int, seed: int | None = None) -> SpikeData:
        """Like :meth:`simulate`, as a SpikeData of all neurons (hidden flagged).

        In a data-parallel run (:mod:`elephant_fit.distributed`) each rank simulates its share of
        the trials and every rank receives all of them, the trials of the one-process run.
        """
        self._check_fitted()
        self._check_simulation_memory(n_trials)
        shard = local_shard(n_trials)
        sim = simulate(
            self.model_,
            n_trials,
            self.n_bins_,
            seed=common_seed(seed),
            requires_grad=False,
            shard=None if shard.whole else shard,
        )
        spikes = gather_trials(sim.spikes, shard)
        return simulated_spikedata(self, spikes.detach().cpu().float())

    def _check_simulation_memory(self, n_trials: int) -> None:
        """Refuse a simulation whose buffers would exceed ``max_memory`` (an estimate)."""
        n_trials = check_positive_int(n_trials, "n_trials")
        n_values = float(n_trials) * self.n_bins_ * self.model_.n_neurons * 5  # u, spikes, noise...
        what = (
            f"simulating {n_trials} trials x {self.n_bins_} bins x {self.model_.n_neurons} neurons"
        )
        n_bytes = n_values * self.model_.bias.element_size()
        device = self.model_.bias.device
        raise_together(lambda: check_memory(n_bytes, what, self.max_memory, device))

    def _held_out(self, data: NeoInput | SpikeData) -> tuple[SpikeData, torch.Tensor]:
        """Bin ``data`` like the training data (once); counts on the model's device and dtype."""
        self._check_fitted()
        spikedata = self._as_spikedata(data, self.bin_size_).recorded()
        if spikedata.n_bins != self.n_bins_ or spikedata.n_neurons != self.n_recorded_:
            raise ArgumentValueError(
                f"Expected data of {self.n_bins_} bins x {self.n_recorded_} units like the fitted data, "
                f"but got {spikedata.n_bins} bins x {spikedata.n_neurons} units."
            )
        param = self.model_.bias
        counts = self._observed(spikedata).counts.to(device=param.device, dtype=param.dtype)
        return spikedata, counts

    def _teacher_u(self, counts: torch.Tensor, seed: int | None) -> torch.Tensor:
        """Teacher-forced pre-activations of the recorded neurons, (n_trials, n_bins, n_recorded)."""
        with torch.no_grad():
            u = teacher_forced(
                self.model_, counts, seed=check_seed(self.seed) if seed is None else seed
            ).u
        return u[..., : self.n_recorded_]

    def predict_rates(self, data: NeoInput | SpikeData, seed: int | None = None) -> neo.Block:
        """Teacher-forced firing rates of the recorded neurons, one AnalogSignal per trial (Hz)."""
        spikedata, counts = self._held_out(data)
        u = self._teacher_u(counts, seed)
        rates = (
            (self.model_.mean(u) / float(self.bin_size_.rescale("s").magnitude))
            .cpu()
            .double()
            .numpy()
        )
        return rates_to_neo(self, spikedata, rates)

    def score(
        self, data: NeoInput | SpikeData, seed: int | None = None, n_particles: int = 256
    ) -> float:
        """Held-out log-likelihood in bits per spike, relative to a homogeneous rate per neuron.

        Exact without hidden neurons; with hidden neurons, a particle-filter estimate of the
        likelihood marginal over them (see :meth:`log_likelihood`, which also gives its standard
        error).

        Parameters
        ----------
        data : SpikeData or anything :func:`elephant_fit.from_neo` accepts
            Held-out trials of the recorded neurons.
        seed : int, optional
            Seed of the particle filter (default: the fit's seed).
        n_particles : int, optional
            Particles per trial (ignored without hidden neurons).

        Returns
        -------
        float
            ``(log-likelihood - baseline log-likelihood) / (n_spikes ln 2)``; the baseline is each
            neuron's mean count per bin in ``data`` under the same observation model.
        """
        return self.log_likelihood(data, seed=seed, n_particles=n_particles).bits_per_spike

    def log_likelihood(
        self, data: NeoInput | SpikeData, seed: int | None = None, n_particles: int = 256
    ) -> HeldOutLikelihood:
        """Held-out log-likelihood with its Monte Carlo standard error.

        Parameters
        ----------
        data : SpikeData or anything :func:`elephant_fit.from_neo` accepts
            Held-out trials of the recorded neurons.
        seed : int, optional
            Seed of the particle filter (default: the fit's seed).
        n_particles : int, optional
            Particles per trial, in two independent filters whose spread gives the standard
            error (ignored without hidden neurons: the likelihood is then exact).

        Returns
        -------
        HeldOutLikelihood
            ``bits_per_spike``, ``standard_error``, ``log_likelihood`` (nats), ``n_spikes``,
            ``n_particles``; ``str()`` gives a one-line summary.
        """
        _, counts = self._held_out(data)
        n_particles = check_positive_int(n_particles, "n_particles")
        return held_out_likelihood(
            self.model_, counts, n_particles, check_seed(self.seed) if seed is None else seed
        )

    # ------------------------------------------------------------------ export and files
    def parameters_to_neo(self) -> neo.Group:
        """The fitted parameters as Neo objects: :func:`elephant_fit.fitting.export.parameters_to_neo`."""
        return parameters_to_neo(self)

    def save(self, path: str | Path) -> None:
        """Save the fitted estimator to ``path`` (:func:`elephant_fit.fitting.persistence.save_model`)."""
        from .persistence import save_model

        save_model(self, path)


def _same(value: Any, default: Any) -> bool:
    """Whether a hyper-parameter equals its default (for ``repr``; arrays and quantities never do)."""
    try:
        return bool(value is default or (type(value) is type(default) and value == default))
    except (TypeError, ValueError):
        return False


def _uses_noise_covariance(loss: Any) -> bool:
    """Whether a loss specification has a noise-covariance term with a positive weight."""
    if isinstance(loss, str):
        return PRESETS.get(loss, {}).get("noise_covariance", 0) > 0
    weights = getattr(loss, "weights", loss)
    value = weights.get("noise_covariance", 0) if isinstance(weights, dict) else 0
    return (value[0] if isinstance(value, tuple) else value) > 0
