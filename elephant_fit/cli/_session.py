"""The ``demo --data session`` recording: a synthetic lab session read back and cut as a lab would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import quantities as pq
import torch

from ..data.files import read_block, write_block
from ..data.neo_in import from_neo
from ..data.spikedata import SpikeData
from ..evaluation.metrics import r2_score
from ..fitting.fitter import NetworkFitter
from ..network.model import SpikingNetwork
from ..network.sessions import synthetic_session

__all__ = ["session_data", "truth_recovery"]

#: The window cut around each ``stim_on`` event.
WINDOW = (-200 * pq.ms, 1 * pq.s)


def session_data(
    n_trials: int, seed: int, out: Path, suffix: str
) -> tuple[SpikeData, SpikeData, SpikingNetwork, pq.Quantity, Path]:
    """Write a synthetic session, read it back, cut trials around ``stim_on``, split them.

    Returns
    -------
    train, test : SpikeData
        80 % / 20 % of the trials, stratified by condition, with conditions and the covariate.
    truth : SpikingNetwork
        The network that produced the session.
    bin_size : pq.Quantity
        10 ms.
    recording : Path
        The session file.
    """
    bin_size = 10 * pq.ms
    session = synthetic_session(n_trials, seed=seed + 1)
    recording = write_block(session.block, out / f"session{suffix}")
    data = from_neo(
        read_block(recording),
        bin_size,
        trials="stim_on",
        window=WINDOW,
        condition="labels",
        covariates=["running_speed"],
        binary=True,
    )
    train, test = data.split(test_fraction=0.2, seed=seed)
    return train, test, session.network, bin_size, recording


def truth_recovery(fitter: NetworkFitter, truth: SpikingNetwork, test: SpikeData) -> dict[str, Any]:
    """R^2 of the fitted per-condition stimulus input and covariate terms against the truth.

    The stimulus input is bias + drive of each condition, (n_conditions, n_bins, n_neurons),
    compared after removing each neuron's mean (a constant moves freely between the bias and a
    drive, and the covariate's mean input adds to both). The covariate filter is compared lag by
    lag (over lags, inputs and neurons); the running speed is smooth over about 20 bins, so its
    lags are nearly collinear and only their combination is identifiable: the covariate input
    (the filtered covariate of the held-out trials ``test``, minus each neuron's mean) is the
    identifiable comparison.
    """
    order = [fitter.trained_on_.condition_labels.index(c) for c in ("grating_0", "grating_90")]
    fitted = _stimulus_input(fitter.model_)[order]
    true = _stimulus_input(truth)
    filters = fitter.model_.input_filters.detach().double()
    return {
        "drive R2": r2_score(_centred(true), _centred(fitted)),
        "covariate filter R2": r2_score(truth.input_filters.detach().double(), filters),
        "covariate input R2": r2_score(_input(truth, test), _input(fitter.model_, test)),
    }


def _input(model: SpikingNetwork, test: SpikeData) -> np.ndarray:
    """The covariate term of ``test``'s trials minus each neuron's mean, float64 (trials, bins, n)."""
    with torch.no_grad():
        inputs = test.covariates.to(model.bias.dtype)
        term = model.filter_inputs(inputs).double()[..., : test.n_neurons]
    return (term - term.mean(dim=(0, 1), keepdim=True)).numpy()


def _stimulus_input(model: SpikingNetwork) -> torch.Tensor:
    """Bias + stimulus drive, (n_conditions, n_bins, n_neurons), float64."""
    drive = model.stimulus_drive().detach().double()
    return drive + model.bias.detach().double()


def _centred(values: torch.Tensor) -> np.ndarray:
    """``values`` minus each neuron's mean over conditions and bins."""
    return (values - values.mean(dim=(0, 1), keepdim=True)).numpy()
