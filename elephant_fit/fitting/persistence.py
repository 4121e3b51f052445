"""Saving and loading fitted estimators (``torch.save`` of plain data, loaded with ``weights_only``)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import quantities as pq
import torch

from .._version import __version__
from ..errors import ModelFileError
from ..network.observation import Observation
from .config import resolve_device
from .fitter import NetworkFitter
from .loop import FitHistory

__all__ = ["FORMAT", "load", "load_model", "save_model"]

#: The ``format`` entry of a model file.
FORMAT = "elephant-fit-model"


def _saveable_params(fitter: NetworkFitter) -> dict[str, Any]:
    """Hyper-parameters as plain data; custom loss terms and surrogate objects by name (warned)."""
    params = fitter.get_params()
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
    if not isinstance(params["surrogate"], str):
        params["surrogate"] = getattr(params["surrogate"], "name", str(params["surrogate"]))
    if isinstance(params["observation"], Observation):  # by name and link
        params["observation"], params["link"] = (
            params["observation"].name,
            params["observation"].link,
        )
    return params


def save_model(fitter: NetworkFitter, path: str | Path) -> None:
    """Save a fitted estimator (hyper-parameters, weights, metadata, history) to ``path``.

    Parameters
    ----------
    fitter : NetworkFitter
        A fitted estimator.
    path : str or Path
        The file to write (conventionally ``.pt``).
    """
    fitter._check_fitted()
    params = _plain(_saveable_params(fitter))
    params["bin_size"] = (
        None
        if fitter.bin_size is None
        else [float(fitter.bin_size.magnitude), fitter.bin_size.dimensionality.string]
    )
    params["dtype"] = str(fitter.dtype).replace("torch.", "")
    state = {
        "format": FORMAT,
        "version": __version__,
        "params": params,
        "state_dict": {k: v.detach().cpu() for k, v in fitter.model_.state_dict().items()},
        "meta": {
            "bin_size": float(fitter.bin_size_.magnitude),
            "t_start": float(fitter.t_start_.magnitude),
            "t_stop": float(fitter.t_stop_.magnitude),
            "units": fitter.bin_size_.dimensionality.string,
            "n_bins": fitter.n_bins_,
            "unit_ids": _plain(list(fitter.unit_ids_)),
            "unit_annotations": _plain([dict(a) for a in fitter.unit_annotations_]),
            "n_recorded": fitter.n_recorded_,
        },
        "history": {
            "train": fitter.history_.train,
            "validation": fitter.history_.validation,
            "best_iteration": fitter.history_.best_iteration,
            "stopped_early": fitter.history_.stopped_early,
        },
    }
    torch.save(state, Path(path))


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


def load_model(path: str | Path) -> NetworkFitter:
    """Load a NetworkFitter saved with :meth:`NetworkFitter.save` (safe: ``weights_only=True``).

    Parameters
    ----------
    path : str or Path
        The model file.

    Returns
    -------
    NetworkFitter
        The fitted estimator, on its device (the CPU when it was fitted on an absent GPU).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ModelFileError
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
        raise ModelFileError(
            f"{str(file)!r} is not an elephant-fit model file ({type(exc).__name__}: {exc})."
        ) from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ModelFileError(f"{str(file)!r} is not an elephant-fit model file.")
    if str(state.get("version", "")).split(".")[:2] != __version__.split(".")[:2]:
        raise ModelFileError(
            f"{str(file)!r} was written by elephant-fit {state.get('version')}; this is {__version__}, "
            "which cannot read it. Refit, or load it with the version that wrote it."
        )
    return _restore_fitter(state)


def _restore_fitter(state: dict) -> NetworkFitter:
    """Rebuild a fitted NetworkFitter from a loaded state."""
    params = dict(state["params"])
    if "estimator" in params:  # written before the surrogates were named so
        params["surrogate"] = params.pop("estimator")
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


def load(path: str | Path) -> NetworkFitter:
    """Deprecated name of :func:`load_model`."""
    warnings.warn(
        "elephant_fit.load is deprecated; use elephant_fit.load_model.",
        DeprecationWarning,
        stacklevel=2,
    )
    return load_model(path)
