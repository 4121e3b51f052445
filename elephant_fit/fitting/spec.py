"""The two records a fitted estimator is made of besides its parameters and history.

:class:`ModelSpec` is the architecture (what :class:`~elephant_fit.network.SpikingNetwork` needs
besides the data), one field per option with its default; :class:`TrainedOn` is what the fit
learned about the data's layout (bin size, trial window, units). Model building and model files
use both, so an option of the architecture is written once, here.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import quantities as pq
import torch
from torch import nn

from .._validation import check_choice, check_non_negative_int, check_positive_int
from ..data.spikedata import SpikeData
from ..errors import ArgumentTypeError, ArgumentValueError
from ..network.bases import drive_bumps
from ..network.covariates import CovariateSpec
from ..network.model import SpikingNetwork
from ..network.observation import Observation, get_observation

__all__ = ["DRIVES", "ModelSpec", "TrainedOn"]

#: Stimulus-locked drives a fitted network may have.
DRIVES = (None, "smooth", "free")


@dataclass(frozen=True)
class ModelSpec:
    """The architecture of a fitted network.

    The fields are the hyper-parameters of :class:`~elephant_fit.NetworkFitter` of the same
    names (documented there).

    Examples
    --------
    >>> import quantities as pq
    >>> import torch
    >>> from elephant_fit.fitting import ModelSpec
    >>> spec = ModelSpec(n_hidden=2, n_lags=3, drive=None)
    >>> network = spec.build(n_bins=20, bin_size=10 * pq.ms, rate=torch.full((4,), 0.1), seed=0)
    >>> network.n_neurons
    6
    """

    n_hidden: int = 0
    n_lags: int = 9
    basis: str | None = None
    n_basis: int | None = None
    exogenous_hidden: bool = False
    observation: str | Observation = "bernoulli"
    link: str | None = None
    drive: str | None = "smooth"
    n_drive_basis: int | None = None
    self_coupling: bool = True
    dale: bool = False
    n_input_lags: int = 1
    covariates: CovariateSpec | None = None
    stimulus_encoder: nn.Module | None = None

    def __post_init__(self) -> None:
        check_non_negative_int(self.n_hidden, "n_hidden")
        check_positive_int(self.n_lags, "n_lags")
        check_positive_int(self.n_input_lags, "n_input_lags")
        self.observation_model()
        check_choice(self.drive, "drive", DRIVES)
        if self.covariates is not None and not isinstance(self.covariates, CovariateSpec):
            raise ArgumentTypeError(
                "Expected `covariates` to be a CovariateSpec (how each covariate enters) or None, "
                f"but got {type(self.covariates).__name__}."
            )

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Names of the fields."""
        return tuple(field.name for field in fields(cls))

    @classmethod
    def of(cls, params: Mapping[str, Any]) -> ModelSpec:
        """The spec of the fields named in ``params`` (other entries are ignored)."""
        return cls(**{name: params[name] for name in cls.names() if name in params})

    def observation_model(self) -> Observation:
        """The observation model of ``observation`` and ``link``."""
        return get_observation(self.observation, self.link)

    def covariate_spec(self, data: SpikeData) -> CovariateSpec | None:
        """How the covariates of ``data`` enter the network, value ranges set from ``data``.

        ``covariates`` when given (it must have one kind per covariate of ``data``), else one
        free-lag history filter of ``n_input_lags`` lags per covariate; None without covariates.
        """
        if data.covariates is None:
            if self.covariates is not None:
                raise ArgumentValueError(
                    f"`covariates` describes {self.covariates.n_inputs} covariate(s), but the data "
                    "have none (from_neo(..., covariates=[names]) reads AnalogSignals)."
                )
            if self.stimulus_encoder is not None:
                raise ArgumentValueError(
                    "A `stimulus_encoder` encodes the trials' covariates (the stimulus), but the "
                    "data have none (SpikeData(covariates=...), or from_neo(..., covariates=[names]))."
                )
            return None
        n_inputs = len(data.covariate_names)
        if self.stimulus_encoder is not None and self.covariates is None:
            return None  # every covariate goes to the encoder
        if self.covariates is not None and self.n_input_lags not in (1, self.covariates.n_lags):
            raise ArgumentValueError(
                f"`covariates` has filters of {self.covariates.n_lags} lags, but `n_input_lags` "
                f"is {self.n_input_lags}: give the lags in the CovariateSpec only."
            )
        spec = self.covariates or CovariateSpec.legacy(n_inputs, self.n_input_lags)
        if spec.n_inputs != n_inputs:
            raise ArgumentValueError(
                f"`covariates` has {spec.n_inputs} kind(s) {list(spec.kinds)}, but the data have "
                f"{n_inputs} covariate(s) {list(data.covariate_names)}: give one kind per covariate."
            )
        return spec.with_value_ranges(data.covariates)

    def build(
        self,
        n_bins: int,
        bin_size: pq.Quantity,
        rate: torch.Tensor,
        seed: int,
        n_conditions: int = 1,
        covariates: CovariateSpec | None = None,
        n_inputs: int = 0,
    ) -> SpikingNetwork:
        """A network for trials of ``n_bins`` bins, biases at the given rates.

        Parameters
        ----------
        n_bins : int
            Bins per trial (the length of a stimulus-locked drive).
        bin_size : pq.Quantity
            Bin width (the default number of drive bumps: one per 40 ms).
        rate : torch.Tensor
            Shape (n_recorded,): each recorded neuron's mean count per bin; hidden neurons start
            at their mean.
        seed : int
            Seed of the initial coupling.
        n_conditions : int, optional
            Stimulus conditions: one stimulus-locked drive each.
        covariates : CovariateSpec, optional
            How the covariates enter, value ranges resolved (:meth:`covariate_spec`); None:
            no covariates, or all of them into the ``stimulus_encoder``.
        n_inputs : int, optional
            Number of covariates (the encoder's input width).

        Returns
        -------
        SpikingNetwork
            ``rate.shape[0]`` recorded and ``n_hidden`` hidden neurons, float32 on the CPU.
        """
        n_drive_basis = self.n_drive_basis
        if n_drive_basis is None and self.drive == "smooth":
            n_drive_basis = drive_bumps(n_bins, bin_size)
        model = SpikingNetwork(
            n_recorded=rate.shape[0],
            n_hidden=self.n_hidden,
            n_lags=self.n_lags,
            basis=self.basis,
            n_basis=self.n_basis,
            observation=self.observation_model(),
            n_bins=n_bins,
            drive=self.drive,
            n_drive_basis=n_drive_basis,
            self_coupling=self.self_coupling,
            exogenous_hidden=self.exogenous_hidden,
            dale=self.dale,
            n_conditions=n_conditions,
            covariates=covariates,
            n_inputs=n_inputs if covariates is None and self.stimulus_encoder is not None else 0,
            # a copy: the estimator's module stays as given, every fit starts from it
            stimulus_encoder=copy.deepcopy(self.stimulus_encoder),
            seed=seed,
        )
        rate = rate.clamp(1e-4, 0.9 if model.observation.binary else None)
        hidden = torch.full((self.n_hidden,), float(rate.mean()), dtype=rate.dtype)
        with torch.no_grad():
            rates = torch.cat([rate, hidden])
            model.bias.copy_(model.observation.inverse_mean(rates).to(model.bias.dtype))
        return model


@dataclass(frozen=True)
class TrainedOn:
    """The layout of the data a network was fitted to.

    Attributes
    ----------
    bin_size, t_start, t_stop : pq.Quantity
        Bin width and trial window (time quantities, in the units of the data).
    n_bins : int
        Bins per trial.
    unit_ids : tuple
        Ids of the recorded units, in the order of the network's recorded neurons, length
        n_recorded.
    unit_annotations : tuple of dict
        Their annotations.
    condition_labels : tuple
        The stimulus conditions, in the order of the network's drives (``(None,)``: one, unnamed).
    covariate_names : tuple of str
        The covariates, in the order of the network's inputs (empty: none).
    covariate_spec : CovariateSpec or None
        How they enter, with the value ranges of the tuning covariates seen in the data.

    Examples
    --------
    >>> import quantities as pq
    >>> import torch
    >>> from elephant_fit import SpikeData
    >>> from elephant_fit.fitting import TrainedOn
    >>> data = SpikeData(torch.zeros(3, 20, 2), 5 * pq.ms, unit_ids=["a", "b"])  # 3 trials
    >>> layout = TrainedOn.of(data)
    >>> layout.n_bins, layout.n_recorded, layout.n_conditions, layout.unit_ids
    (20, 2, 1, ('a', 'b'))
    >>> layout.t_stop  # n_bins * bin_size after t_start
    array(100.) * ms
    """

    bin_size: pq.Quantity
    t_start: pq.Quantity
    t_stop: pq.Quantity
    n_bins: int
    unit_ids: tuple
    unit_annotations: tuple
    condition_labels: tuple = (None,)
    covariate_names: tuple = ()
    covariate_spec: CovariateSpec | None = None

    @classmethod
    def of(cls, data: SpikeData, covariate_spec: CovariateSpec | None = None) -> TrainedOn:
        """The layout of ``data`` (its recorded units, conditions and covariates)."""
        return cls(
            bin_size=data.bin_size,
            t_start=data.t_start,
            t_stop=data.t_stop,
            n_bins=data.n_bins,
            unit_ids=tuple(data.unit_ids),
            unit_annotations=tuple(dict(a) for a in data.unit_annotations),
            condition_labels=tuple(data.condition_labels),
            covariate_names=tuple(data.covariate_names),
            covariate_spec=covariate_spec,
        )

    @property
    def n_recorded(self) -> int:
        """Number of recorded units."""
        return len(self.unit_ids)

    @property
    def n_conditions(self) -> int:
        """Number of stimulus conditions (1 without conditions)."""
        return len(self.condition_labels)

    @property
    def n_inputs(self) -> int:
        """Number of covariates."""
        return len(self.covariate_names)

    def condition_codes(self, labels: Sequence[Any] | None, n_trials: int) -> torch.Tensor | None:
        """Codes (index into ``condition_labels``) of each trial's condition, or None (one condition).

        Parameters
        ----------
        labels : sequence or None
            The condition label of each trial (None: every trial has the fitted data's only
            condition).
        n_trials : int
            Number of trials.

        Returns
        -------
        torch.Tensor or None
            torch.long, shape (n_trials,); None when the network has a single condition.
        """
        if self.n_conditions == 1:
            if labels is not None and any(label != self.condition_labels[0] for label in labels):
                unknown = sorted({str(label) for label in labels} - {str(self.condition_labels[0])})
                raise ArgumentValueError(
                    f"The network was fitted to one condition ({self.condition_labels[0]!r}), but "
                    f"got trials of conditions {unknown}."
                )
            return None
        if labels is None:
            raise ArgumentValueError(
                f"The network was fitted to {self.n_conditions} conditions "
                f"{list(self.condition_labels)}: give the condition of every trial."
            )
        position = {label: code for code, label in enumerate(self.condition_labels)}
        unknown = sorted({str(label) for label in labels if label not in position})
        if unknown:
            raise ArgumentValueError(
                f"Unknown conditions {unknown}: the network was fitted to "
                f"{list(self.condition_labels)}."
            )
        if len(labels) != n_trials:
            raise ArgumentValueError(
                f"Expected one condition per trial ({n_trials}), but got {len(labels)}."
            )
        return torch.tensor([position[label] for label in labels], dtype=torch.long)
