"""What a fitted network gives back as Neo objects: its parameters, simulated trials, predicted rates."""

from __future__ import annotations

from typing import Any

import neo
import numpy as np
import torch

from .._version import __version__
from ..data.spikedata import SpikeData
from ..network.model import SpikingNetwork
from .spec import TrainedOn

__all__ = ["parameters_to_neo", "rates_to_neo", "simulated_spikedata"]


def _neuron_ids(trained_on: TrainedOn, n_neurons: int) -> list[str]:
    """Ids of all neurons: the recorded units', then ``hidden-0``, ``hidden-1``, ..."""
    n_hidden = n_neurons - trained_on.n_recorded
    return [str(u) for u in trained_on.unit_ids] + [f"hidden-{j}" for j in range(n_hidden)]


def parameters_to_neo(
    model: SpikingNetwork, trained_on: TrainedOn, params: dict[str, Any] | None = None
) -> neo.Group:
    """A fitted network's parameters as Neo objects (:meth:`NetworkFitter.parameters_to_neo`).

    Parameters
    ----------
    model : SpikingNetwork
        The fitted network.
    trained_on : TrainedOn
        The layout of its training data (unit ids, bin size, trial window).
    params : dict, optional
        Hyper-parameters to annotate the Group with (e.g. an estimator's ``get_params()``).

    Returns
    -------
    neo.Group
        ``analogsignals``: one coupling-filter AnalogSignal per target neuron, shape
        (n_lags, n_neurons) (time axis = lag, from one ``bin_size`` on; channels = source
        neurons, array annotations ``source_unit``; annotation ``target_unit``), and the
        stimulus-locked drive (if any) as an AnalogSignal over the trial, shape
        (n_bins, n_neurons), one per stimulus condition (annotation ``condition``); with
        covariates, each history covariate's filter as an AnalogSignal over lags (from lag
        0, channels = neurons) and each tuning covariate's curve as an IrregularlySampledSignal
        over its values (annotation ``covariate``). All values are dimensionless contributions
        to the pre-activation. Hyper-parameters are in the Group's annotations.

    Examples
    --------
    >>> import quantities as pq
    >>> import torch
    >>> from elephant_fit import SpikeData
    >>> from elephant_fit.fitting import TrainedOn, parameters_to_neo
    >>> from elephant_fit.network import SpikingNetwork
    >>> network = SpikingNetwork(n_recorded=2, n_hidden=1, n_lags=3, seed=0)
    >>> data = SpikeData(torch.zeros(4, 20, 2), 5 * pq.ms, unit_ids=["a", "b"])
    >>> group = parameters_to_neo(network, TrainedOn.of(data))
    >>> [signal.name for signal in group.analogsignals]
    ['coupling to a', 'coupling to b', 'coupling to hidden-0']
    >>> signal = group.analogsignals[0]
    >>> signal.shape, signal.times  # (n_lags, n_neurons), lags 1..3 bins
    ((3, 3), array([ 5., 10., 15.]) * ms)
    >>> signal.array_annotations["source_unit"].tolist()
    ['a', 'b', 'hidden-0']
    """
    ids = _neuron_ids(trained_on, model.n_neurons)
    group = neo.Group(
        name="elephant-fit model",
        allowed_types=[neo.AnalogSignal, neo.IrregularlySampledSignal],
    )
    plain = {
        k: (v if isinstance(v, (int, float, str, bool)) else str(v))
        for k, v in (params or {}).items()
    }
    group.annotate(
        elephant_fit_version=__version__, **{k: v for k, v in plain.items() if v is not None}
    )
    coupling = model.coupling_array()  # (post, pre, lag)
    for post, target in enumerate(ids):
        signal = neo.AnalogSignal(
            coupling[post].T,  # (lag, pre)
            units="dimensionless",
            t_start=trained_on.bin_size,
            sampling_period=trained_on.bin_size,
            name=f"coupling to {target}",
            target_unit=target,
        )
        signal.array_annotate(source_unit=np.array(ids))
        group.add(signal)
    drive = model.stimulus_drive()  # (n_conditions, n_bins, n_neurons) or None
    for code, condition in enumerate(() if drive is None else trained_on.condition_labels):
        name = "stimulus-locked drive"
        signal = neo.AnalogSignal(
            drive[code].detach().cpu().double().numpy(),
            units="dimensionless",
            t_start=trained_on.t_start,
            sampling_period=trained_on.bin_size,
            name=name if condition is None else f"{name}, {condition}",
            condition=condition if condition is not None else "",
        )
        signal.array_annotate(unit=np.array(ids))
        group.add(signal)
    for signal in _covariate_signals(model, trained_on, ids):
        group.add(signal)
    return group


def _covariate_signals(
    model: SpikingNetwork, trained_on: TrainedOn, ids: list[str]
) -> list[neo.AnalogSignal | neo.IrregularlySampledSignal]:
    """The covariate terms as Neo signals, one per covariate.

    An AnalogSignal over lags per history covariate, an IrregularlySampledSignal over values
    (dimensionless: the model keeps no units) per tuning covariate.
    """
    covariates = model.covariate_input
    if covariates is None:
        return []
    spec, names = covariates.spec, trained_on.covariate_names
    signals = []
    filters = covariates.history_filters()  # (n_neurons, n_history, n_lags)
    for position, i in enumerate(spec.history_index):
        signal = neo.AnalogSignal(
            filters[:, position, :].T.numpy(),  # (lag, neuron); lag 0 = the current bin
            units="dimensionless",
            t_start=0 * trained_on.bin_size,
            sampling_period=trained_on.bin_size,
            name=f"covariate filter, {names[i]}",
            covariate=names[i],
        )
        signal.array_annotate(unit=np.array(ids))
        signals.append(signal)
    if spec.tuning_index:
        values = covariates.tuning_grid()  # (n_values, n_tuned)
        curves = covariates.tuning_curves(values)  # (n_tuned, n_neurons, n_values)
        for position, i in enumerate(spec.tuning_index):
            grid = values[:, position]
            signal = neo.IrregularlySampledSignal(
                grid.numpy(),  # the covariate's value takes the place of time
                curves[position].T.numpy(),
                units="dimensionless",
                time_units="dimensionless",
                name=f"tuning curve, {names[i]}",
                covariate=names[i],
            )
            signal.array_annotate(unit=np.array(ids))
            signals.append(signal)
    return signals


def simulated_spikedata(
    trained_on: TrainedOn,
    counts: torch.Tensor,
    conditions: torch.Tensor | None = None,
    covariates: torch.Tensor | None = None,
) -> SpikeData:
    """Simulated counts with the fitted time axis and unit metadata (hidden neurons flagged).

    Parameters
    ----------
    trained_on : TrainedOn
        The layout of the training data.
    counts : torch.Tensor
        Shape (n_trials, n_bins, n_neurons): recorded neurons first, then hidden ones.
    conditions : torch.Tensor, optional
        Condition code of each trial, shape (n_trials,) (None: the fitted data's one condition).
    covariates : torch.Tensor, optional
        The covariates the trials were simulated with, shape (n_trials, n_bins, n_inputs).

    Returns
    -------
    SpikeData
        Unit ids of the fitted data, then ``hidden-0``, ``hidden-1``, ...
    """
    n_hidden = counts.shape[2] - trained_on.n_recorded
    ids = list(trained_on.unit_ids) + [f"hidden-{j}" for j in range(n_hidden)]
    annotations = list(trained_on.unit_annotations) + [{} for _ in range(n_hidden)]
    hidden = np.array([False] * trained_on.n_recorded + [True] * n_hidden)
    return SpikeData(
        counts,
        trained_on.bin_size,
        t_start=trained_on.t_start,
        t_stop=trained_on.t_stop,
        unit_ids=ids,
        unit_annotations=annotations,
        hidden=hidden,
        annotations={"source": "elephant-fit simulation", "elephant_fit_version": __version__},
        conditions=_labels(trained_on, conditions, counts.shape[0]),
        covariates=None if covariates is None else covariates.detach().cpu().double(),
        covariate_names=trained_on.covariate_names if covariates is not None else None,
    )


def _labels(trained_on: TrainedOn, codes: torch.Tensor | None, n_trials: int) -> list | None:
    """The condition label of each trial from its code (None: no named condition)."""
    if codes is None:
        only = trained_on.condition_labels[0]
        return None if only is None else [only] * n_trials
    return [trained_on.condition_labels[int(code)] for code in codes]


def rates_to_neo(trained_on: TrainedOn, trials: SpikeData, rates: np.ndarray) -> neo.Block:
    """Predicted rates as a Block: one Segment per trial, one AnalogSignal of all recorded units.

    Parameters
    ----------
    trained_on : TrainedOn
        The layout of the training data.
    trials : SpikeData
        The trials the rates were predicted for (their annotations are kept).
    rates : np.ndarray
        Shape (n_trials, n_bins, n_recorded), in Hz.

    Returns
    -------
    neo.Block
        Signals in Hz on the fitted time axis, array-annotated with ``unit_id``.
    """
    block = neo.Block(name="elephant-fit predicted rates")
    for k in range(trials.n_trials):
        segment = neo.Segment(name=f"trial {k}")
        segment.annotate(**trials.trial_annotations[k])
        signal = neo.AnalogSignal(
            rates[k],
            units="Hz",
            t_start=trained_on.t_start,
            sampling_period=trained_on.bin_size,
            name="predicted rate",
        )
        signal.array_annotate(unit_id=np.array([str(u) for u in trained_on.unit_ids]))
        segment.analogsignals.append(signal)
        block.segments.append(segment)
    block.check_relationships()
    return block
