"""The fitted network's parameters as Neo objects (coupling filters and stimulus drive)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import neo
import numpy as np

from .._version import __version__

if TYPE_CHECKING:
    from .fitter import NetworkFitter

__all__ = ["parameters_to_neo"]


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
