"""The model file: ``torch.save`` of plain data, read back with ``weights_only`` and verified.

A model file holds the hyper-parameters, the fitted parameters, the layout of the data
(:class:`~elephant_fit.fitting.spec.TrainedOn`) and the history, and a SHA-256 checksum over all
of them (:func:`checksum`). :func:`read_model_file` verifies the checksum, that every tensor is
finite, and the metadata; :func:`restore_network` rebuilds the network from its
:class:`~elephant_fit.fitting.spec.ModelSpec` (so the derivable buffers, coupling mask, Dale signs
and bases, come from the hyper-parameters, never from the file) and copies in the parameters,
each of the shape the architecture defines. Any failure is one
:class:`~elephant_fit.errors.ModelFileError`. Files are written atomically (a temporary file in
the same folder, flushed, then renamed over the target). The estimator itself is built by
:func:`elephant_fit.fitting.persistence.load_model`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import quantities as pq
import torch

from .._io import atomic_path
from .._version import __version__
from ..errors import ArgumentTypeError, ModelFileError
from ..network.covariates import CovariateSpec, upgrade_state_dict
from ..network.model import SpikingNetwork
from ..network.observation import Observation
from .history import FitHistory
from .spec import ModelSpec, TrainedOn

__all__ = [
    "FORMAT",
    "ModelFile",
    "checksum",
    "malformed",
    "read_model_file",
    "restore_network",
    "write_model_file",
]

#: The ``format`` entry of a model file.
FORMAT = "elephant-fit-model"


@dataclass(frozen=True)
class ModelFile:
    """The verified contents of a model file.

    Attributes
    ----------
    params : dict
        The estimator's hyper-parameters (``bin_size`` a quantity, ``dtype`` a torch dtype,
        ``device`` the CPU when the file's CUDA device is absent).
    state_dict : dict of str to torch.Tensor
        The network's tensors, on the CPU.
    trained_on : TrainedOn
        The layout of the training data.
    history : FitHistory
        The losses recorded during the fit.
    """

    params: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    trained_on: TrainedOn
    history: FitHistory


def _saveable_params(params: dict[str, Any]) -> dict[str, Any]:
    """Hyper-parameters as plain data; custom loss terms and surrogate objects by name (warned)."""
    params = dict(params)
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
                stacklevel=4,
            )
        params["loss"] = plain
    if not isinstance(params["surrogate"], str):
        params["surrogate"] = getattr(params["surrogate"], "name", str(params["surrogate"]))
    if isinstance(params.get("covariates"), CovariateSpec):
        params["covariates"] = params["covariates"].to_dict()
    if params.get("stimulus_encoder") is not None:  # its class by name, its weights in state_dict
        params["stimulus_encoder"] = encoder_name(params["stimulus_encoder"])
    if isinstance(params["observation"], Observation):  # by name and link
        params["observation"], params["link"] = (
            params["observation"].name,
            params["observation"].link,
        )
    return params


def write_model_file(
    path: str | Path,
    params: dict[str, Any],
    model: SpikingNetwork,
    trained_on: TrainedOn,
    history: FitHistory,
) -> None:
    """Write a model file (hyper-parameters, weights, data layout, history) to ``path``.

    Parameters
    ----------
    path : str or Path
        The file to write (conventionally ``.pt``). An existing file is replaced atomically: on
        any failure (full disk, file-size limit) it is left as it was.
    params : dict
        The estimator's hyper-parameters (``get_params()``); custom loss terms are kept by name
        and weight only (warned).
    model : SpikingNetwork
        The fitted network.
    trained_on : TrainedOn
        The layout of its training data.
    history : FitHistory
        The fit's history.
    """
    bin_size, dtype = params["bin_size"], params["dtype"]
    params = _plain(_saveable_params(params))
    params["bin_size"] = (
        None if bin_size is None else [float(bin_size.magnitude), bin_size.dimensionality.string]
    )
    params["dtype"] = str(dtype).replace("torch.", "")
    state = {
        "format": FORMAT,
        "version": __version__,
        "params": params,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "meta": _meta(trained_on),
        "history": _plain(dataclasses.asdict(history)),
    }
    try:
        state["sha256"] = checksum(state)
    except TypeError as exc:
        raise ArgumentTypeError(f"The fitted estimator cannot be saved: {exc}") from exc
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        torch.save(state, handle)
        handle.flush()


def _meta(trained_on: TrainedOn) -> dict[str, Any]:
    """The ``meta`` entry of a model file: the data layout as plain data."""
    spec = trained_on.covariate_spec
    return {
        "bin_size": float(trained_on.bin_size.magnitude),
        "t_start": float(trained_on.t_start.magnitude),
        "t_stop": float(trained_on.t_stop.magnitude),
        "units": trained_on.bin_size.dimensionality.string,
        "n_bins": trained_on.n_bins,
        "unit_ids": _plain(list(trained_on.unit_ids)),
        "unit_annotations": _plain([dict(a) for a in trained_on.unit_annotations]),
        "n_recorded": trained_on.n_recorded,
        "condition_labels": _plain(list(trained_on.condition_labels)),
        "covariate_names": list(trained_on.covariate_names),
        "covariate_spec": None if spec is None else _plain(spec.to_dict()),
    }


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


def read_model_file(path: str | Path) -> ModelFile:
    """Read and verify a model file written by :func:`write_model_file` (``weights_only=True``).

    Parameters
    ----------
    path : str or Path
        The model file.

    Returns
    -------
    ModelFile
        Its verified contents.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ModelFileError
        If the file is not an elephant-fit model, was written by an incompatible version, carries
        no checksum (files written before checksums: refit), is corrupt (checksum mismatch), holds
        NaN or inf, or is malformed (missing entries, wrong types).
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
    with malformed(name):
        _check_finite(state, name)
        params = _params(state, name)
        return ModelFile(
            params=params,
            state_dict=dict(state["state_dict"]),
            trained_on=_trained_on(state["meta"], name, params),
            history=_history(state["history"]),
        )


@contextlib.contextmanager
def malformed(name: str) -> Iterator[None]:
    """Whatever fails inside (other than a ModelFileError) is one ModelFileError naming the file."""
    try:
        yield
    except ModelFileError:
        raise
    except Exception as exc:
        raise ModelFileError(
            f"{name} is a malformed elephant-fit model file ({type(exc).__name__}: "
            f"{_first_line(exc)})."
        ) from exc


def _params(state: dict, name: str) -> dict[str, Any]:
    """The hyper-parameters of a file, as the estimator takes them."""
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
    if params.get("covariates") is not None:
        params["covariates"] = CovariateSpec.from_dict(params["covariates"])
    if str(params["device"]).startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(
            f"The model was fitted with device={params['device']!r}; no CUDA device here, "
            "so it is loaded on the CPU.",
            UserWarning,
            stacklevel=4,
        )
        params["device"] = "cpu"
    weights = state["state_dict"].get("drive_weights")
    if params.get("drive") == "smooth" and weights is not None and weights.ndim in (2, 3):
        # the fitted number, whatever the default: (n_conditions, n_basis, n), or (n_basis, n)
        # in files written before conditions
        params["n_drive_basis"] = int(weights.shape[-2])
    return params


def encoder_name(module: Any) -> str:
    """How a model file names a stimulus encoder: its class (module path and name)."""
    kind = type(module)
    return f"{kind.__module__}.{kind.__qualname__}"


def _covariate_spec(meta: dict, params: dict[str, Any]) -> CovariateSpec | None:
    """The resolved covariate spec of ``meta``; files written before it: free-lag history filters."""
    if meta.get("covariate_spec") is not None:
        return CovariateSpec.from_dict(meta["covariate_spec"])
    n_inputs = len(meta.get("covariate_names", []))
    if not n_inputs or params.get("stimulus_encoder") is not None:  # all into the encoder
        return None
    return CovariateSpec.legacy(n_inputs, int(params.get("n_input_lags", 1)))


def _trained_on(meta: dict, name: str, params: dict[str, Any] | None = None) -> TrainedOn:
    """The data layout of a file's ``meta`` entry (checked), with the file's ``params``."""
    units = pq.Quantity(1.0, meta["units"]).units
    n_recorded = _positive_int(meta["n_recorded"], "n_recorded", name)
    trained_on = TrainedOn(
        bin_size=pq.Quantity(meta["bin_size"], units),
        t_start=pq.Quantity(meta["t_start"], units),
        t_stop=pq.Quantity(meta["t_stop"], units),
        n_bins=_positive_int(meta["n_bins"], "n_bins", name),
        unit_ids=tuple(meta["unit_ids"]),
        unit_annotations=tuple(dict(a) for a in meta["unit_annotations"]),
        condition_labels=tuple(meta.get("condition_labels", [None])),  # older files: one
        covariate_names=tuple(str(name) for name in meta.get("covariate_names", [])),
        covariate_spec=_covariate_spec(meta, params or {}),
    )
    if trained_on.n_recorded != n_recorded or len(trained_on.unit_annotations) != n_recorded:
        raise ModelFileError(
            f"{name} is malformed: {n_recorded} recorded units but "
            f"{trained_on.n_recorded} unit ids and {len(trained_on.unit_annotations)} annotations."
        )
    return trained_on


def restore_network(
    spec: ModelSpec,
    trained_on: TrainedOn,
    saved: dict[str, torch.Tensor],
    seed: int,
    dtype: torch.dtype,
    name: str = "the model file",
) -> SpikingNetwork:
    """The network of ``spec`` for the data of ``trained_on``, with the saved parameters.

    Only the parameters are read from ``saved`` (each must have the shape the architecture
    defines); the buffers (coupling mask, Dale signs, coupling and drive bases) are those the
    hyper-parameters define, whatever the file holds.

    Returns
    -------
    SpikingNetwork
        On the CPU, in ``dtype``.
    """
    # the biases are overwritten by the saved state: any rate builds the right architecture
    rate = torch.full((trained_on.n_recorded,), 0.1)
    model = spec.build(
        trained_on.n_bins,
        trained_on.bin_size,
        rate,
        seed,
        n_conditions=trained_on.n_conditions,
        covariates=trained_on.covariate_spec,
        n_inputs=trained_on.n_inputs,
    ).to(dtype=dtype)
    expected = model.state_dict()
    saved = upgrade_state_dict(saved)  # covariate filters under their former key
    drive = saved.get("drive_weights")
    if drive is not None and drive.ndim == 2:  # written before conditions: one condition
        saved = {**saved, "drive_weights": drive.unsqueeze(0)}
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
        elif key.startswith("stimulus_encoder."):  # its buffers (running statistics) are state
            with torch.no_grad():
                model.get_buffer(key).copy_(saved[key])
    return model.eval()


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


def _positive_int(value: Any, key: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ModelFileError(f"{name} is malformed: meta {key!r} is {value!r}.")
    return value


def _history(saved: dict) -> FitHistory:
    """The FitHistory of a file: the fields this version knows (the others are defaults)."""
    known = {field.name for field in dataclasses.fields(FitHistory)}
    return FitHistory(**{key: value for key, value in saved.items() if key in known})
