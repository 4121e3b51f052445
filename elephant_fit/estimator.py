"""NetworkFitter: a scikit-learn-style front end that fits a SpikingNetwork to Neo data."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import neo
import numpy as np
import quantities as pq
import torch

from ._validation import check_fraction, check_positive_int, check_time_quantity, describe
from ._version import __version__
from .conversion import NeoInput, from_neo, to_neo
from .filtering import HeldOutLikelihood, held_out_likelihood
from .fitting import FitHistory, NonFiniteLossError, fit_model
from .losses import PENALTIES, PRESETS, CombinedLoss, CouplingPenalty, make_loss
from .model import SpikingNetwork
from .simulation import simulate, teacher_forced
from .spikedata import SpikeData

__all__ = ["NetworkFitter", "NotFittedError", "load"]

FORMAT = "elephant-fit-model"


class NotFittedError(ValueError, AttributeError):
    """The estimator is used before ``fit``."""


#: Default spacing of the bumps of a smooth stimulus drive: stimulus-locked responses have a
#: time scale in seconds, not in bins (measured: 40 ms follows the retina's fast responses; the
#: synthetic demo is unchanged from 50 ms).
DRIVE_BUMP_SPACING = 40 * pq.ms


def resolve_device(device: str | torch.device) -> torch.device:
    """'auto' -> CUDA when available, else CPU; anything else -> torch.device(device)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"Expected `device` to be 'auto', 'cpu', 'cuda' or a torch.device, but got {describe(device)}."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"`device` is {str(resolved)!r}, but torch finds no CUDA device here "
            f"(torch {torch.__version__}); use 'cpu' or 'auto'."
        )
    return resolved


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
        Penalty on the coupling between different neurons (:class:`elephant_fit.losses.CouplingPenalty`),
        added to the loss with weight ``penalty_strength``.
    penalty_strength : float, optional
        Weight of the penalty (on the scale of the mean negative log-likelihood per bin and neuron).
    exogenous_hidden : bool, optional
        Hidden neurons receive no recurrent input (independent sources of common input).
    observation : {'bernoulli', 'poisson'}, optional
        Observation model.
    drive : None, 'smooth' or 'free', optional
        Stimulus-locked drive shared by all trials.
    n_drive_basis : int, optional
        Number of temporal bumps of a smooth drive; default one per 40 ms of the trial
        (``DRIVE_BUMP_SPACING``), at least 2.
    self_coupling, dale : bool, optional
        Allow self-history; sign-constrain outgoing weights.
    estimator : str, optional
        Gradient estimator through sampled spikes: 'sigmoid', 'pseudo' or 'gumbel'.
    max_iterations, learning_rate, batch_size : optional
        Optimisation settings (Adam, gradient-norm clip 1).
    validation_fraction : float, optional
        Fraction of trials held out to select the best checkpoint.
    eval_every, patience : int, optional
        Validation period (iterations) and early-stopping patience (evaluations; None: off).
    seed : int, optional
        Seed of initialisation, splitting, batching and sampling.
    device : str, optional
        'auto' (CUDA when present), 'cpu' or 'cuda'.
    dtype : torch.dtype, optional
        Float dtype of the fit.
    progress : bool, optional
        Show a progress bar.
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
        drive: str | None = "smooth",
        n_drive_basis: int | None = None,
        self_coupling: bool = True,
        dale: bool = False,
        estimator: str = "sigmoid",
        max_iterations: int = 1000,
        learning_rate: float = 1e-2,
        batch_size: int = 20,
        validation_fraction: float = 0.2,
        eval_every: int = 20,
        patience: int | None = None,
        seed: int = 0,
        device: str = "auto",
        dtype: torch.dtype = torch.float32,
        progress: bool = True,
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
        self.drive = drive
        self.n_drive_basis = n_drive_basis
        self.self_coupling = self_coupling
        self.dale = dale
        self.estimator = estimator
        self.max_iterations = max_iterations
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.eval_every = eval_every
        self.patience = patience
        self.seed = seed
        self.device = device
        self.dtype = dtype
        self.progress = progress

    # ------------------------------------------------------------------ helpers
    def get_params(self) -> dict[str, Any]:
        """Hyper-parameters given to ``__init__``."""
        names = self.__init__.__code__.co_varnames[1 : self.__init__.__code__.co_argcount]
        return {name: getattr(self, name) for name in names}

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("This NetworkFitter is not fitted yet: call fit(data) first.")

    def _as_spikedata(self, data: NeoInput | SpikeData, bin_size: pq.Quantity | None) -> SpikeData:
        """Bin Neo input, or check that a SpikeData uses the expected bin size."""
        if isinstance(data, SpikeData):
            if bin_size is not None and not np.isclose(
                float(data.bin_size.rescale("s").magnitude), float(bin_size.rescale("s").magnitude)
            ):
                raise ValueError(
                    f"Expected data binned with bin_size {bin_size}, but got data binned with {data.bin_size}."
                )
            return data
        if bin_size is None:
            raise ValueError(
                "Expected `bin_size` (a time quantity) to bin Neo input, but got None."
            )
        binary = self.observation == "bernoulli"
        return from_neo(data, bin_size, binary=binary)

    def _validate(self) -> None:
        """Check hyper-parameters (at fit time, as scikit-learn does)."""
        if (
            isinstance(self.n_hidden, bool)
            or not isinstance(self.n_hidden, int)
            or self.n_hidden < 0
        ):
            raise ValueError(
                f"Expected `n_hidden` to be a non-negative integer, but got {describe(self.n_hidden)}."
            )
        if self.bin_size is not None:
            check_time_quantity(self.bin_size, "bin_size", positive=True)
        check_positive_int(self.max_iterations, "max_iterations")
        check_positive_int(self.batch_size, "batch_size")
        check_fraction(self.validation_fraction, "validation_fraction")
        check_positive_int(self.eval_every, "eval_every")
        if not isinstance(self.dtype, torch.dtype) or not self.dtype.is_floating_point:
            raise TypeError(
                f"Expected `dtype` to be a floating torch.dtype, but got {describe(self.dtype)}."
            )
        if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            raise ValueError(
                f"Expected `learning_rate` to be a positive number, but got {describe(self.learning_rate)}."
            )

    def _max_lag(self, n_bins: int) -> int:
        """Lags of the noise-covariance term: ``max_lag``, or the coupling length (warned if shorter).

        The default is capped at ``n_bins - 1`` (trials shorter than the coupling).
        """
        if self.max_lag is None:
            return min(self.n_lags, n_bins - 1)
        if isinstance(self.max_lag, bool) or not isinstance(self.max_lag, int) or self.max_lag < 0:
            raise ValueError(
                f"Expected `max_lag` to be None or a non-negative integer, but got {describe(self.max_lag)}."
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
        if self.penalty not in PENALTIES:
            raise ValueError(
                f"Expected `penalty` to be None or one of {PENALTIES}, but got {describe(self.penalty)}."
            )
        strength = self.penalty_strength
        if (
            isinstance(strength, bool)
            or not isinstance(strength, (int, float))
            or not (0 <= strength < math.inf)
        ):
            raise ValueError(
                f"Expected `penalty_strength` to be a finite non-negative number, but got "
                f"{describe(strength)}."
            )
        terms = dict(loss.terms)
        terms[self.penalty] = (float(strength), CouplingPenalty(self.penalty))
        return CombinedLoss(terms)

    # ------------------------------------------------------------------ fit
    def fit(self, data: NeoInput | SpikeData) -> NetworkFitter:
        """Fit the network.

        Parameters
        ----------
        data : SpikeData or anything :func:`elephant_fit.from_neo` accepts
            Repeated trials of the recorded neurons.

        Returns
        -------
        NetworkFitter
            ``self``, with learned attributes ``model_``, ``coupling_``, ``history_``, ...
        """
        self._validate()
        spikedata = self._observed(self._as_spikedata(data, self.bin_size).recorded())
        loss = self._make_loss(spikedata.n_bins)
        counts = spikedata.counts
        if "free" in loss.needs and spikedata.n_trials < 2:
            raise ValueError(
                "Sample-and-measure losses compare trial-to-trial statistics: they need at least 2 "
                f"trials, but the data has {spikedata.n_trials}."
            )
        device = resolve_device(self.device)
        train, validation = self._split(spikedata)
        rate = counts.mean(dim=(0, 1))
        model = self._build_model(spikedata.n_bins, spikedata.bin_size, rate)
        model = model.to(device=device, dtype=self.dtype)
        to = {"device": device, "dtype": self.dtype}
        try:
            history = self._run(model, train, validation, loss, to)
        except NonFiniteLossError as error:
            # keep the last good parameters: the estimator stays usable, then the error surfaces
            self.model_, self.history_ = model, error.history
            self._set_fitted_attributes(spikedata)
            raise
        self.model_, self.history_ = model, history
        self._set_fitted_attributes(spikedata)
        return self

    def _run(
        self,
        model: SpikingNetwork,
        train: SpikeData,
        validation: SpikeData | None,
        loss: Any,
        to: dict[str, Any],
    ) -> FitHistory:
        """Run the optimisation on the training (and validation) trials."""
        return fit_model(
            model,
            train.counts.to(**to),
            None if validation is None else validation.counts.to(**to),
            loss,
            max_iterations=self.max_iterations,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            seed=self.seed,
            estimator=self.estimator,
            eval_every=self.eval_every,
            patience=self.patience,
            progress=self.progress,
        )

    def _observed(self, data: SpikeData) -> SpikeData:
        """``data`` with float64 counts for the observation model (Bernoulli: clipped at 1, warned once)."""
        counts = data.counts.to(torch.float64)
        if self.observation == "bernoulli" and bool((counts > 1).any()):
            warnings.warn(
                "Some bins hold more than one spike: a Bernoulli model sees them as one spike. Use "
                "a smaller bin_size or observation='poisson'.",
                UserWarning,
                stacklevel=3,
            )
            counts = counts.clamp(max=1)
        return data._replace(counts=counts)

    def _split(self, data: SpikeData) -> tuple[SpikeData, SpikeData | None]:
        """Training and validation trials (no validation with fewer than 5 trials)."""
        if data.n_trials < 5:
            return data, None
        return data.split(self.validation_fraction, seed=self.seed)

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
            observation=self.observation,
            n_bins=n_bins,
            drive=self.drive,
            n_drive_basis=self._drive_bumps(n_bins, bin_size),
            self_coupling=self.self_coupling,
            exogenous_hidden=self.exogenous_hidden,
            dale=self.dale,
            seed=self.seed,
        )
        rate = rate.clamp(1e-4, 0.9)
        hidden_rate = float(rate.mean())
        rates = torch.cat([rate, torch.full((self.n_hidden,), hidden_rate, dtype=rate.dtype)])
        with torch.no_grad():
            bias = torch.logit(rates) if self.observation == "bernoulli" else torch.log(rates)
            model.bias.copy_(bias.to(model.bias.dtype))
        return model

    def _drive_bumps(self, n_bins: int, bin_size: pq.Quantity) -> int | None:
        """``n_drive_basis``, or by default one bump per :data:`DRIVE_BUMP_SPACING` of the trial."""
        if self.n_drive_basis is not None or self.drive != "smooth":
            return self.n_drive_basis
        duration = n_bins * float(bin_size.rescale(pq.s).magnitude)
        spacing = float(DRIVE_BUMP_SPACING.rescale(pq.s).magnitude)
        return max(2, min(n_bins, round(duration / spacing)))

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
    def _template(self, counts: torch.Tensor, include_hidden: bool) -> SpikeData:
        """SpikeData with the fitted time axis and unit metadata around ``counts``."""
        n_hidden = counts.shape[2] - self.n_recorded_
        ids = list(self.unit_ids_) + [f"hidden-{j}" for j in range(n_hidden)]
        annotations = list(self.unit_annotations_) + [{} for _ in range(n_hidden)]
        hidden = np.array([False] * self.n_recorded_ + [True] * n_hidden)
        return SpikeData(
            counts,
            self.bin_size_,
            t_start=self.t_start_,
            t_stop=self.t_stop_,
            unit_ids=ids,
            unit_annotations=annotations,
            hidden=hidden,
            annotations={"source": "elephant-fit simulation", "elephant_fit_version": __version__},
        )

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
        self._check_fitted()
        sim = simulate(self.model_, n_trials, self.n_bins_, seed=seed, requires_grad=False)
        data = self._template(sim.spikes.detach().cpu().float(), include_hidden)
        return to_neo(data, include_hidden=include_hidden)

    def simulate_data(self, n_trials: int, seed: int | None = None) -> SpikeData:
        """Like :meth:`simulate`, as a SpikeData of all neurons (hidden flagged)."""
        self._check_fitted()
        sim = simulate(self.model_, n_trials, self.n_bins_, seed=seed, requires_grad=False)
        return self._template(sim.spikes.detach().cpu().float(), True)

    def _held_out(self, data: NeoInput | SpikeData) -> tuple[SpikeData, torch.Tensor]:
        """Bin ``data`` like the training data (once); counts on the model's device and dtype."""
        self._check_fitted()
        spikedata = self._as_spikedata(data, self.bin_size_).recorded()
        if spikedata.n_bins != self.n_bins_ or spikedata.n_neurons != self.n_recorded_:
            raise ValueError(
                f"Expected data of {self.n_bins_} bins x {self.n_recorded_} units like the fitted data, "
                f"but got {spikedata.n_bins} bins x {spikedata.n_neurons} units."
            )
        param = self.model_.bias
        counts = self._observed(spikedata).counts.to(device=param.device, dtype=param.dtype)
        return spikedata, counts

    def _teacher_u(self, counts: torch.Tensor, seed: int | None) -> torch.Tensor:
        """Teacher-forced pre-activations of the recorded neurons, (n_trials, n_bins, n_recorded)."""
        with torch.no_grad():
            u = teacher_forced(self.model_, counts, seed=self.seed if seed is None else seed).u
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
        block = neo.Block(name="elephant-fit predicted rates")
        for k in range(spikedata.n_trials):
            segment = neo.Segment(name=f"trial {k}")
            segment.annotate(**spikedata.trial_annotations[k])
            signal = neo.AnalogSignal(
                rates[k],
                units="Hz",
                t_start=self.t_start_,
                sampling_period=self.bin_size_,
                name="predicted rate",
            )
            signal.array_annotate(unit_id=np.array([str(u) for u in self.unit_ids_]))
            segment.analogsignals.append(signal)
            block.segments.append(segment)
        block.check_relationships()
        return block

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
            self.model_, counts, n_particles, self.seed if seed is None else seed
        )

    # ------------------------------------------------------------------ export
    def to_neo(self) -> neo.Group:
        """The fitted model as Neo objects.

        Returns
        -------
        neo.Group
            ``analogsignals``: one coupling-filter AnalogSignal per target neuron (time axis = lag,
            channels = source neurons, array annotations ``source_unit``; annotation
            ``target_unit``), and the stimulus-locked drive (if any) as an AnalogSignal over the
            trial (channels = neurons). Hyper-parameters are in the Group's annotations.
        """
        self._check_fitted()
        n = self.model_.n_neurons
        ids = [str(u) for u in self.unit_ids_] + [
            f"hidden-{j}" for j in range(n - self.n_recorded_)
        ]
        group = neo.Group(name="elephant-fit model", allowed_types=[neo.AnalogSignal])
        params = {
            k: (v if isinstance(v, (int, float, str, bool)) else str(v))
            for k, v in self.get_params().items()
        }
        group.annotate(
            elephant_fit_version=__version__, **{k: v for k, v in params.items() if v is not None}
        )
        for post in range(n):
            signal = neo.AnalogSignal(
                self.coupling_[post].T,  # (lag, pre)
                units="dimensionless",
                t_start=self.bin_size_,
                sampling_period=self.bin_size_,
                name=f"coupling to {ids[post]}",
                target_unit=ids[post],
            )
            signal.array_annotate(source_unit=np.array(ids))
            group.add(signal)
        drive = self.model_.drive()
        if drive is not None:
            signal = neo.AnalogSignal(
                drive.detach().cpu().double().numpy(),
                units="dimensionless",
                t_start=self.t_start_,
                sampling_period=self.bin_size_,
                name="stimulus-locked drive",
            )
            signal.array_annotate(unit=np.array(ids))
            group.add(signal)
        return group

    # ------------------------------------------------------------------ persistence
    def _saveable_params(self) -> dict[str, Any]:
        """Hyper-parameters as plain data; custom loss terms and estimator objects by name (warned)."""
        params = self.get_params()
        loss = params["loss"]
        if not isinstance(loss, str):
            weights = getattr(loss, "weights", loss)
            plain = {
                name: (value[0] if isinstance(value, tuple) else value)
                for name, value in weights.items()
            }
            if plain != dict(weights) or not isinstance(loss, dict):
                warnings.warn(
                    "Custom loss terms cannot be saved safely: the file keeps their names and weights "
                    "only (enough to use the fitted model, not to refit it).",
                    UserWarning,
                    stacklevel=3,
                )
            params["loss"] = plain
        if not isinstance(params["estimator"], str):
            params["estimator"] = getattr(params["estimator"], "name", str(params["estimator"]))
        return params

    def save(self, path: str | Path) -> None:
        """Save the fitted estimator (hyper-parameters, weights, metadata) to ``path``."""
        self._check_fitted()
        params = _plain(self._saveable_params())
        params["bin_size"] = (
            None
            if self.bin_size is None
            else [float(self.bin_size.magnitude), self.bin_size.dimensionality.string]
        )
        params["dtype"] = str(self.dtype).replace("torch.", "")
        state = {
            "format": FORMAT,
            "version": __version__,
            "params": params,
            "state_dict": {k: v.detach().cpu() for k, v in self.model_.state_dict().items()},
            "meta": {
                "bin_size": float(self.bin_size_.magnitude),
                "t_start": float(self.t_start_.magnitude),
                "t_stop": float(self.t_stop_.magnitude),
                "units": self.bin_size_.dimensionality.string,
                "n_bins": self.n_bins_,
                "unit_ids": _plain(list(self.unit_ids_)),
                "unit_annotations": _plain([dict(a) for a in self.unit_annotations_]),
                "n_recorded": self.n_recorded_,
            },
            "history": {
                "train": self.history_.train,
                "validation": self.history_.validation,
                "best_iteration": self.history_.best_iteration,
                "stopped_early": self.history_.stopped_early,
            },
        }
        torch.save(state, Path(path))


def _uses_noise_covariance(loss: Any) -> bool:
    """Whether a loss specification has a noise-covariance term with a positive weight."""
    if isinstance(loss, str):
        return PRESETS.get(loss, {}).get("noise_covariance", 0) > 0
    weights = getattr(loss, "weights", loss)
    value = weights.get("noise_covariance", 0) if isinstance(weights, dict) else 0
    return (value[0] if isinstance(value, tuple) else value) > 0


def _plain(value: Any) -> Any:
    """Numpy scalars/arrays inside lists and dicts as plain Python (loadable with weights_only)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if isinstance(value, pq.Quantity):
        return [_plain(value.magnitude), value.dimensionality.string]
    return value


def load(path: str | Path) -> NetworkFitter:
    """Load a NetworkFitter saved with :meth:`NetworkFitter.save` (safe: ``weights_only=True``).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not an elephant-fit model or was written by an incompatible version.
    """
    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(
            f"Expected an elephant-fit model file, but {str(file)!r} does not exist."
        )
    try:
        state = torch.load(file, weights_only=True, map_location="cpu")
    except Exception as exc:
        raise ValueError(
            f"{str(file)!r} is not an elephant-fit model file ({type(exc).__name__}: {exc})."
        ) from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{str(file)!r} is not an elephant-fit model file.")
    if str(state.get("version", "")).split(".")[:2] != __version__.split(".")[:2]:
        raise ValueError(
            f"{str(file)!r} was written by elephant-fit {state.get('version')}; this is {__version__}, "
            "which cannot read it. Refit, or load it with the version that wrote it."
        )
    return _restore_fitter(state)


def _restore_fitter(state: dict) -> NetworkFitter:
    """Rebuild a fitted NetworkFitter from a loaded state."""
    params = dict(state["params"])
    if params["bin_size"] is not None:
        params["bin_size"] = pq.Quantity(params["bin_size"][0], params["bin_size"][1])
    params["dtype"] = getattr(torch, params["dtype"])
    if str(params["device"]).startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(
            f"The model was fitted with device={params['device']!r}; no CUDA device here, "
            "so it is loaded on the CPU.",
            UserWarning,
            stacklevel=3,
        )
        params["device"] = "cpu"
    fitter = NetworkFitter(**params)
    meta = state["meta"]
    units = pq.Quantity(1.0, meta["units"]).units
    fitter.bin_size_ = pq.Quantity(meta["bin_size"], units)
    fitter.t_start_ = pq.Quantity(meta["t_start"], units)
    fitter.t_stop_ = pq.Quantity(meta["t_stop"], units)
    fitter.n_bins_ = meta["n_bins"]
    fitter.unit_ids_ = tuple(meta["unit_ids"])
    fitter.unit_annotations_ = tuple(meta["unit_annotations"])
    fitter.n_recorded_ = meta["n_recorded"]
    # the biases are overwritten by the saved state: any rate builds the right architecture
    rate = torch.full((fitter.n_recorded_,), 0.1)
    weights = state["state_dict"].get("drive_weights")
    if fitter.drive == "smooth" and weights is not None:
        fitter.n_drive_basis = int(weights.shape[0])  # the fitted number, whatever the default
    model = fitter._build_model(fitter.n_bins_, fitter.bin_size_, rate)
    model.load_state_dict(state["state_dict"])
    fitter.model_ = model.to(device=resolve_device(fitter.device), dtype=fitter.dtype)
    history = state["history"]
    fitter.history_ = FitHistory(
        history["train"], history["validation"], history["best_iteration"], history["stopped_early"]
    )
    fitter.coupling_ = model.coupling_array()
    return fitter
