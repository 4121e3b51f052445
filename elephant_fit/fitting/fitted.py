"""Using a fitted network: simulation, predicted rates, held-out likelihood, Neo export, saving.

:class:`FittedNetwork` is the half of :class:`~elephant_fit.NetworkFitter` that works on a fitted
model (``model_``, ``trained_on_``, ``history_``), whether ``fit`` made it or
:func:`~elephant_fit.load_model` read it; the estimator half (hyper-parameters, validation,
``fit``) is in :mod:`elephant_fit.fitting.fitter`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import neo
import numpy as np
import quantities as pq
import torch

from .._memory import check_memory
from .._validation import check_positive_int, check_seed
from ..data import NeoInput, SpikeData, from_neo, to_neo
from ..distributed import common_seed, gather_trials, local_shard, raise_together
from ..errors import ArgumentValueError, SimulationDivergedError
from ..network.likelihood import HeldOutLikelihood, held_out_likelihood
from ..network.model import SpikingNetwork
from ..network.simulation import simulate, teacher_forced
from ._estimator import Estimator
from .export import parameters_to_neo, rates_to_neo, simulated_spikedata
from .history import FitHistory
from .model_file import write_model_file
from .spec import ModelSpec, TrainedOn
from .trials import TrialTensors

__all__ = ["FittedNetwork", "side_information", "trial_tensors"]


class FittedNetwork(Estimator):
    """The use of a fitted network (a base of :class:`~elephant_fit.NetworkFitter`).

    Fitted attributes (set by :meth:`_set_fitted`): ``model_`` (the SpikingNetwork),
    ``history_`` (FitHistory), ``trained_on_`` (:class:`~elephant_fit.fitting.spec.TrainedOn`)
    and, from it, ``coupling_`` (n_post, n_pre, n_lags), ``bin_size_``, ``t_start_``,
    ``t_stop_``, ``n_bins_``, ``unit_ids_``, ``unit_annotations_``, ``n_recorded_``; with
    covariates, ``covariate_filters_`` (n_neurons, n_history, n_input_lags: the history
    covariates' filters, the layout of ``coupling_``), and with tuning covariates
    ``tuning_values_`` (n_values, n_tuned: a grid over each one's range) and ``tuning_curves_``
    (n_tuned, n_neurons, n_values: the pre-activation added at each value).
    """

    seed: int
    max_memory: float | None

    def model_spec(self) -> ModelSpec:
        """The architecture of this estimator as a :class:`ModelSpec` (validated)."""
        return ModelSpec.of(self.get_params())

    def _set_fitted(
        self, model: SpikingNetwork, history: FitHistory, trained_on: TrainedOn
    ) -> None:
        """Set every fitted attribute (trailing underscore) from the network and the data layout."""
        for stale in ("covariate_filters_", "tuning_values_", "tuning_curves_"):  # of a refit
            self.__dict__.pop(stale, None)
        self.model_, self.history_, self.trained_on_ = model.eval(), history, trained_on
        self.coupling_ = model.coupling_array()  # (post, pre, lag)
        self.bin_size_ = trained_on.bin_size
        self.t_start_ = trained_on.t_start
        self.t_stop_ = trained_on.t_stop
        self.n_bins_ = trained_on.n_bins
        self.unit_ids_ = trained_on.unit_ids
        self.unit_annotations_ = trained_on.unit_annotations
        self.n_recorded_ = trained_on.n_recorded
        covariates = model.covariate_input
        if covariates is not None:
            self.covariate_filters_ = covariates.history_filters().numpy()
            if covariates.spec.tuning_index:
                values = covariates.tuning_grid()
                self.tuning_values_ = values.numpy()
                self.tuning_curves_ = covariates.tuning_curves(values).numpy()

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
        binary = self.model_spec().observation_model().binary
        return from_neo(data, bin_size, binary=binary, max_memory=self.max_memory)

    def _observed(self, data: SpikeData) -> SpikeData:
        """``data`` with float64 counts for the observation model (Bernoulli: clipped at 1, warned once)."""
        observation = self.model_spec().observation_model()
        counts, clipped = observation.clip_counts(data.counts.to(torch.float64))
        if clipped:
            warnings.warn(
                "Some bins hold more than one spike: a Bernoulli model sees them as one spike. Use "
                "a smaller bin_size or observation='poisson'.",
                UserWarning,
                stacklevel=3,
            )
        return data._replace(counts=counts)

    def simulate(
        self,
        n_trials: int,
        seed: int | None = None,
        include_hidden: bool = False,
        conditions: Sequence[Any] | None = None,
        condition: Any = None,
        covariates: torch.Tensor | np.ndarray | None = None,
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
        conditions : sequence, optional
            The stimulus condition of each trial (labels of the fitted data's conditions).
        condition : optional
            One condition for every trial (instead of ``conditions``).
        covariates : array of shape (n_trials, n_bins, n_inputs), optional
            The covariates of the simulated trials (e.g. held-out trials' own); required when the
            network was fitted with covariates.

        Returns
        -------
        neo.Block
            One Segment per trial (annotated with its condition), the fitted data's unit ids,
            Groups and annotations.
        """
        data = self.simulate_spikedata(n_trials, seed, conditions, condition, covariates)
        return to_neo(data, include_hidden=include_hidden)

    def simulate_spikedata(
        self,
        n_trials: int,
        seed: int | None = None,
        conditions: Sequence[Any] | None = None,
        condition: Any = None,
        covariates: torch.Tensor | np.ndarray | None = None,
    ) -> SpikeData:
        """Like :meth:`simulate`, as a SpikeData of all neurons (hidden flagged).

        In a data-parallel run (:mod:`elephant_fit.distributed`) each rank simulates its share of
        the trials and every rank receives all of them, the trials of the one-process run.
        """
        self._check_fitted()
        self._check_simulation_memory(n_trials)
        if condition is not None:
            if conditions is not None:
                raise ArgumentValueError(
                    "Give `conditions` (one per trial) or `condition`, not both."
                )
            conditions = [condition] * n_trials
        trials = side_information(
            self.trained_on_, n_trials, conditions, covariates, self.model_.bias
        )
        shard = local_shard(n_trials)
        sim = simulate(
            self.model_,
            n_trials,
            self.n_bins_,
            inputs=trials.inputs,
            seed=common_seed(seed),
            requires_grad=False,
            shard=None if shard.whole else shard,
            conditions=trials.conditions,
        )
        spikes = gather_trials(sim.spikes, shard)
        _check_not_diverged(spikes, float(self.bin_size_.rescale("s").magnitude))
        return simulated_spikedata(
            self.trained_on_, spikes.detach().cpu().float(), trials.conditions, trials.inputs
        )

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

    def _held_out(self, data: NeoInput | SpikeData) -> tuple[SpikeData, TrialTensors]:
        """Bin ``data`` like the training data (once); its trials on the model's device and dtype."""
        self._check_fitted()
        spikedata = self._as_spikedata(data, self.bin_size_).recorded()
        if spikedata.n_bins != self.n_bins_ or spikedata.n_neurons != self.n_recorded_:
            raise ArgumentValueError(
                f"Expected data of {self.n_bins_} bins x {self.n_recorded_} units like the fitted data, "
                f"but got {spikedata.n_bins} bins x {spikedata.n_neurons} units."
            )
        return spikedata, trial_tensors(
            self.trained_on_, self._observed(spikedata), self.model_.bias
        )

    def _seed_or_fit_seed(self, seed: int | None) -> int:
        """``seed``, or the fit's seed."""
        return check_seed(self.seed) if seed is None else seed

    def predict_rates(self, data: NeoInput | SpikeData, seed: int | None = None) -> neo.Block:
        """Teacher-forced firing rates of the recorded neurons, one AnalogSignal per trial (Hz)."""
        spikedata, trials = self._held_out(data)
        with torch.no_grad():
            u = teacher_forced(
                self.model_,
                trials.counts,
                inputs=trials.inputs,
                seed=self._seed_or_fit_seed(seed),
                conditions=trials.conditions,
            ).u
        expected = self.model_.expected_count(u[..., : self.n_recorded_])
        rates = (expected / float(self.bin_size_.rescale("s").magnitude)).cpu().double().numpy()
        return rates_to_neo(self.trained_on_, spikedata, rates)

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
        _, trials = self._held_out(data)
        n_particles = check_positive_int(n_particles, "n_particles")
        return held_out_likelihood(
            self.model_,
            trials.counts,
            n_particles,
            self._seed_or_fit_seed(seed),
            inputs=trials.inputs,
            conditions=trials.conditions,
        )

    def parameters_to_neo(self) -> neo.Group:
        """The fitted parameters as Neo objects: :func:`elephant_fit.fitting.export.parameters_to_neo`."""
        self._check_fitted()
        return parameters_to_neo(self.model_, self.trained_on_, self.get_params())

    def save(self, path: str | Path) -> None:
        """Save the fitted estimator to ``path`` (read it back with :func:`elephant_fit.load_model`).

        Parameters
        ----------
        path : str or Path
            The file to write (conventionally ``.pt``). An existing file is replaced atomically:
            on any failure (full disk, file-size limit) it is left as it was.
        """
        self._check_fitted()
        write_model_file(path, self.get_params(), self.model_, self.trained_on_, self.history_)


#: Rates above this (Hz) in a simulated bin mean a runaway, not a neuron (refractoriness caps
#: real firing near 1 kHz).
MAX_SIMULATED_RATE = 10_000.0


def _check_not_diverged(spikes: torch.Tensor, bin_seconds: float) -> None:
    """Refuse simulated counts that overflowed or exceed :data:`MAX_SIMULATED_RATE`."""
    finite = bool(torch.isfinite(spikes).all())
    largest = float(spikes.max()) if spikes.numel() else 0.0
    if finite and largest <= max(1.0, MAX_SIMULATED_RATE * bin_seconds):  # one spike: fine
        return
    what = "overflowed" if not finite else f"exceeded {MAX_SIMULATED_RATE:g} Hz in some bin"
    raise SimulationDivergedError(
        f"The simulated rates {what}: the fitted network excites itself without bound "
        "(positive self-coupling through an unbounded link, a known instability of fitted "
        "Poisson GLMs). Fit the Bernoulli model, fewer lags, or a coupling penalty."
    )


def _labels_of(data: SpikeData) -> list | None:
    """The condition label of each trial of ``data`` (None: no conditions)."""
    return None if data.conditions is None else list(data.conditions)


def side_information(
    trained_on: TrainedOn,
    n_trials: int,
    conditions: Sequence[Any] | None,
    covariates: Any,
    like: torch.Tensor,
) -> TrialTensors:
    """Condition codes and covariates of ``n_trials`` trials, checked, on the device and dtype of ``like``.

    Returns a TrialTensors without recorded neurons (counts of shape (n_trials, n_bins, 0)).
    """
    codes = trained_on.condition_codes(conditions, n_trials)
    inputs = None
    if trained_on.n_inputs:
        if covariates is None:
            raise ArgumentValueError(
                f"The network was fitted with covariates {list(trained_on.covariate_names)}: "
                f"give `covariates` of shape ({n_trials}, {trained_on.n_bins}, "
                f"{trained_on.n_inputs}), e.g. held-out trials' own."
            )
        inputs = torch.as_tensor(covariates).to(device=like.device, dtype=like.dtype)
    elif covariates is not None:
        raise ArgumentValueError(
            "The network was fitted without covariates, but `covariates` were given."
        )
    counts = like.new_zeros((n_trials, trained_on.n_bins, 0))
    return TrialTensors(counts, None if codes is None else codes.to(like.device), inputs)


def trial_tensors(trained_on: TrainedOn, data: SpikeData, like: torch.Tensor) -> TrialTensors:
    """Counts, condition codes (in the fitted order) and covariates of ``data``, like ``like``.

    Parameters
    ----------
    trained_on : TrainedOn
        The layout of the training data (its condition labels fix the codes).
    data : SpikeData
        Trials of the recorded neurons.
    like : torch.Tensor
        A tensor of the model's device and dtype.

    Returns
    -------
    TrialTensors
        Counts (n_trials, n_bins, n_recorded), codes (n_trials,) or None, covariates or None.
    """
    side = side_information(trained_on, data.n_trials, _labels_of(data), data.covariates, like)
    counts = data.counts.to(device=like.device, dtype=like.dtype)
    return TrialTensors(counts, side.conditions, side.inputs)
