"""Saving and loading fitted estimators (``torch.save`` of plain data, loaded with ``weights_only``).

A model file holds the hyper-parameters, the fitted parameters, the metadata and the history, and
a SHA-256 checksum over all of them (:func:`checksum`). :func:`load_model` verifies the checksum,
that every tensor is finite and has the shape the hyper-parameters define, and rebuilds the
derivable buffers (coupling mask, Dale signs, bases) from the hyper-parameters instead of reading
them; any failure is one :class:`~elephant_fit.errors.ModelFileError`. Files are written
atomically (a temporary file in the same folder, flushed, then renamed over the target).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import quantities as pq
import torch

from .._io import atomic_path
from .._version import __version__
from ..errors import ArgumentTypeError, ModelFileError
from ..network.observation import Observation
from .config import resolve_device
from .fitter import NetworkFitter
from .loop import FitHistory

__all__ = ["FORMAT", "checksum", "load", "load_model", "save_model"]

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
        The file to write (conventionally ``.pt``). An existing file is replaced atomically: on
        any failure (full disk, file-size limit) it is left as it was.
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
        "history": _plain(dataclasses.asdict(fitter.history_)),
    }
    try:
        state["sha256"] = checksum(state)
    except TypeError as exc:
        raise ArgumentTypeError(f"The fitted estimator cannot be saved: {exc}") from exc
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        torch.save(state, handle)
        handle.flush()


def _canonical(value: Any, where: str) -> Any:
    """``value`` as JSON-ready data; a tensor as its dtype, shape and the SHA-256 of its bytes."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous().reshape(-1)
        raw = tensor.view(torch.uint8) if tensor.numel() else tensor.new_empty(0, dtype=torch.uint8)
        return {
            "tensor": str(value.dtype),
            "shape": list(value.shape),
            "sha256": hashlib.sha256(raw.numpy().tobytes()).hexdigest(),
        }
    if isinstance(value, dict):
        bad = next((k for k in value if not isinstance(k, str)), None)
        if bad is not None:
            raise TypeError(f"{where} has a key {bad!r} that is not a string")
        return {k: _canonical(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{where} holds a {type(value).__name__}, which a model file cannot hold")


def checksum(state: dict[str, Any]) -> str:
    """SHA-256 (hex) of a model file's contents, its ``sha256`` entry excluded.

    The contents are serialised canonically: JSON with sorted keys, every tensor replaced by its
    dtype, shape and the SHA-256 of its bytes. Floats keep their exact value (``repr``), NaN and
    infinities included; ints, floats and bools stay distinct.

    Parameters
    ----------
    state : dict
        The dict that :func:`save_model` writes (or :func:`torch.load` returns).

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    contents = {k: v for k, v in state.items() if k != "sha256"}
    text = json.dumps(
        _canonical(contents, "the model"), sort_keys=True, separators=(",", ":"), allow_nan=True
    )
    return hashlib.sha256(text.encode()).hexdigest()


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
        If the file is not an elephant-fit model, was written by an incompatible version, carries
        no checksum (files written before checksums: refit), is corrupt (checksum mismatch), holds
        NaN or inf, or is malformed (missing entries, wrong types or shapes).
    """
    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(
            f"Expected an elephant-fit model file, but {str(file)!r} does not exist."
        )
    name = repr(str(file))
    try:
        state = torch.load(file, weights_only=True, map_location="cpu")
    except Exception as exc:
        raise ModelFileError(
            f"{name} is not an elephant-fit model file, or is corrupt "
            f"({type(exc).__name__}: {_first_line(exc)})."
        ) from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ModelFileError(f"{name} is not an elephant-fit model file.")
    if str(state.get("version", "")).split(".")[:2] != __version__.split(".")[:2]:
        raise ModelFileError(
            f"{name} was written by elephant-fit {state.get('version')}; this is {__version__}, "
            "which cannot read it. Refit, or load it with the version that wrote it."
        )
    _verify_checksum(state, name)
    try:
        _check_finite(state, name)
        return _restore_fitter(state, name)
    except ModelFileError:
        raise
    except Exception as exc:
        raise ModelFileError(
            f"{name} is a malformed elephant-fit model file ({type(exc).__name__}: "
            f"{_first_line(exc)})."
        ) from exc


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message (error messages stay one line)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _verify_checksum(state: dict, name: str) -> None:
    """Refuse a file without checksum or whose contents no longer match it."""
    stored = state.get("sha256")
    if stored is None:
        raise ModelFileError(
            f"{name} has no checksum: it was written by an elephant-fit {__version__} from before "
            "checksums, and its contents cannot be verified. Refit the model and save it again."
        )
    try:
        actual = checksum(state)
    except TypeError as exc:
        raise ModelFileError(f"{name} is a malformed elephant-fit model file ({exc}).") from exc
    if stored != actual:
        raise ModelFileError(
            f"{name} is corrupt: its contents do not match its checksum (the file was changed "
            "after it was written). Refit, or use an intact copy."
        )


def _check_finite(state: dict, name: str) -> None:
    """Refuse NaN or inf in a parameter or in the time metadata."""
    tensors = state["state_dict"]
    if not isinstance(tensors, dict):
        raise ModelFileError(f"{name} is malformed: its state_dict is not a dict.")
    for key, value in tensors.items():
        if not isinstance(value, torch.Tensor):
            raise ModelFileError(f"{name} is malformed: {key!r} is not a tensor.")
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise ModelFileError(f"{name} holds NaN or inf in the parameter {key!r}; refit.")
    meta = state["meta"]
    for key in ("bin_size", "t_start", "t_stop"):
        value = meta[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise ModelFileError(f"{name} is malformed: meta {key!r} is {value!r}.")
    if meta["bin_size"] <= 0 or meta["t_stop"] <= meta["t_start"]:
        raise ModelFileError(f"{name} is malformed: its bin size or trial window is invalid.")


def _restore_fitter(state: dict, name: str = "the model file") -> NetworkFitter:
    """Rebuild a fitted NetworkFitter from a loaded (verified) state.

    The network is built from the hyper-parameters and the metadata; only its parameters are read
    from the file (each must have the shape the architecture defines). Its buffers (coupling mask,
    Dale signs, coupling and drive bases) are those the hyper-parameters define, whatever the file
    holds.
    """
    params = dict(state["params"])
    if "estimator" in params:  # written before the surrogates were named so
        params["surrogate"] = params.pop("estimator")
    if params["bin_size"] is not None:
        params["bin_size"] = pq.Quantity(params["bin_size"][0], params["bin_size"][1])
    dtype = getattr(torch, str(params["dtype"]), None)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ModelFileError(
            f"{name} is malformed: dtype {params['dtype']!r} is not a float dtype."
        )
    params["dtype"] = dtype
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
    fitter.n_bins_ = _positive_int(meta["n_bins"], "n_bins", name)
    fitter.n_recorded_ = _positive_int(meta["n_recorded"], "n_recorded", name)
    fitter.unit_ids_ = tuple(meta["unit_ids"])
    fitter.unit_annotations_ = tuple(dict(a) for a in meta["unit_annotations"])
    if (
        len(fitter.unit_ids_) != fitter.n_recorded_
        or len(fitter.unit_annotations_) != fitter.n_recorded_
    ):
        raise ModelFileError(
            f"{name} is malformed: {fitter.n_recorded_} recorded units but "
            f"{len(fitter.unit_ids_)} unit ids and {len(fitter.unit_annotations_)} annotations."
        )
    saved = state["state_dict"]
    # the biases are overwritten by the saved state: any rate builds the right architecture
    rate = torch.full((fitter.n_recorded_,), 0.1)
    weights = saved.get("drive_weights")
    if fitter.drive == "smooth" and weights is not None and weights.ndim == 2:
        fitter.n_drive_basis = int(weights.shape[0])  # the fitted number, whatever the default
    model = fitter._build_model(fitter.n_bins_, fitter.bin_size_, rate).to(dtype=fitter.dtype)
    expected = model.state_dict()
    if set(saved) != set(expected):
        missing, extra = sorted(set(expected) - set(saved)), sorted(set(saved) - set(expected))
        raise ModelFileError(
            f"{name} is malformed: its tensors do not match the architecture its hyper-parameters "
            f"define (missing {missing}, unexpected {extra})."
        )
    parameters = dict(model.named_parameters())
    for key, value in expected.items():
        if saved[key].shape != value.shape:
            raise ModelFileError(
                f"{name} is malformed: {key!r} has shape {tuple(saved[key].shape)}, the "
                f"hyper-parameters define {tuple(value.shape)}."
            )
        if key in parameters:
            if not saved[key].is_floating_point():
                raise ModelFileError(f"{name} is malformed: {key!r} is not a float tensor.")
            with torch.no_grad():
                parameters[key].copy_(saved[key])
    fitter.model_ = model.to(device=resolve_device(fitter.device), dtype=fitter.dtype)
    fitter.history_ = _history(state["history"])
    fitter.coupling_ = fitter.model_.coupling_array()
    return fitter


def _positive_int(value: Any, key: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ModelFileError(f"{name} is malformed: meta {key!r} is {value!r}.")
    return value


def _history(saved: dict) -> FitHistory:
    """The FitHistory of a file: the fields this version knows (the others are defaults)."""
    known = {field.name for field in dataclasses.fields(FitHistory)}
    return FitHistory(**{key: value for key, value in saved.items() if key in known})


def load(path: str | Path) -> NetworkFitter:
    """Deprecated name of :func:`load_model`."""
    warnings.warn(
        "elephant_fit.load is deprecated; use elephant_fit.load_model.",
        DeprecationWarning,
        stacklevel=2,
    )
    return load_model(path)
