"""What a fitted estimator gives back as Neo objects: its parameters, simulated trials, predicted rates."""

from __future__ import annotations

from typing import TYPE_CHECKING

import neo
import numpy as np
import torch

from .._version import __version__
from ..data.spikedata import SpikeData

if TYPE_CHECKING:
    from .fitter import NetworkFitter

__all__ = ["parameters_to_neo", "rates_to_neo", "simulated_spikedata"]


def parameters_to_neo(fitter: NetworkFitter) -> neo.Group:
    """The fitted model's parameters as Neo objects.

    Parameters
    ----------
    fitter : NetworkFitter
        A fitted estimator.

    Returns
    -------
    neo.Group
        ``analogsignals``: one coupling-filter AnalogSignal per target neuron (time axis = lag,
        channels = source neurons, array annotations ``source_unit``; annotation
        ``target_unit``), and the stimulus-locked drive (if any) as an AnalogSignal over the
        trial (channels = neurons). Hyper-parameters are in the Group's annotations.
    """
    fitter._check_fitted()
    n = fitter.model_.n_neurons
    ids = [str(u) for u in fitter.unit_ids_] + [
        f"hidden-{j}" for j in range(n - fitter.n_recorded_)
    ]
    group = neo.Group(name="elephant-fit model", allowed_types=[neo.AnalogSignal])
    params = {
        k: (v if isinstance(v, (int, float, str, bool)) else str(v))
        for k, v in fitter.get_params().items()
    }
    group.annotate(
        elephant_fit_version=__version__, **{k: v for k, v in params.items() if v is not None}
    )
    for post in range(n):
        signal = neo.AnalogSignal(
            fitter.coupling_[post].T,  # (lag, pre)
            units="dimensionless",
            t_start=fitter.bin_size_,
            sampling_period=fitter.bin_size_,
            name=f"coupling to {ids[post]}",
            target_unit=ids[post],
        )
        signal.array_annotate(source_unit=np.array(ids))
        group.add(signal)
    drive = fitter.model_.stimulus_drive()
    if drive is not None:
        signal = neo.AnalogSignal(
            drive.detach().cpu().double().numpy(),
            units="dimensionless",
            t_start=fitter.t_start_,
            sampling_period=fitter.bin_size_,
            name="stimulus-locked drive",
        )
        signal.array_annotate(unit=np.array(ids))
        group.add(signal)
    return group


def simulated_spikedata(fitter: NetworkFitter, counts: torch.Tensor) -> SpikeData:
    """Simulated counts with the fitted time axis and unit metadata (hidden neurons flagged).

    Parameters
    ----------
    fitter : NetworkFitter
        A fitted estimator.
    counts : torch.Tensor
        Shape (n_trials, n_bins, n_neurons): recorded neurons first, then hidden ones.

    Returns
    -------
    SpikeData
        Unit ids of the fitted data, then ``hidden-0``, ``hidden-1``, ...
    """
    n_hidden = counts.shape[2] - fitter.n_recorded_
    ids = list(fitter.unit_ids_) + [f"hidden-{j}" for j in range(n_hidden)]
    annotations = list(fitter.unit_annotations_) + [{} for _ in range(n_hidden)]
    hidden = np.array([False] * fitter.n_recorded_ + [True] * n_hidden)
    return SpikeData(
        counts,
        fitter.bin_size_,
        t_start=fitter.t_start_,
        t_stop=fitter.t_stop_,
        unit_ids=ids,
        unit_annotations=annotations,
        hidden=hidden,
        annotations={"source": "elephant-fit simulation", "elephant_fit_version": __version__},
    )


def rates_to_neo(fitter: NetworkFitter, trials: SpikeData, rates: np.ndarray) -> neo.Block:
    """Predicted rates as a Block: one Segment per trial, one AnalogSignal of all recorded units.

    Parameters
    ----------
    fitter : NetworkFitter
        A fitted estimator.
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
            t_start=fitter.t_start_,
            sampling_period=fitter.bin_size_,
            name="predicted rate",
        )
        signal.array_annotate(unit_id=np.array([str(u) for u in fitter.unit_ids_]))
        segment.analogsignals.append(signal)
        block.segments.append(segment)
    block.check_relationships()
    return block
