"""Saving and loading fitted estimators.

The file format (checksum, verification, rebuilding the network) is
:mod:`elephant_fit.fitting.model_file`; this module turns a file into a fitted
:class:`~elephant_fit.NetworkFitter` and back. Files are written atomically and read with
``weights_only=True`` (no code runs when a model file is read).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from .._validation import check_seed, describe
from ..errors import ArgumentTypeError, ArgumentValueError
from .config import resolve_device
from .fitter import NetworkFitter
from .model_file import encoder_name, malformed, read_model_file, restore_network

__all__ = ["load", "load_model", "save_model"]


def save_model(fitter: NetworkFitter, path: str | Path) -> None:
    """Save a fitted estimator (hyper-parameters, weights, metadata, history) to ``path``.

    Parameters
    ----------
    fitter : NetworkFitter
        A fitted estimator.
    path : str or Path
        The file to write (conventionally ``.pt``). An existing file is replaced atomically: on
        any failure (full disk, file-size limit) it is left as it was.

    Raises
    ------
    NotFittedError
        If ``fitter`` is not fitted.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from elephant_fit import NetworkFitter
    >>> from elephant_fit.fitting import load_model, save_model
    >>> from elephant_fit.network import use_loop
    >>> from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata
    >>> truth = hidden_input_network(n_recorded=3, n_hidden=2, n_bins=30, seed=0)
    >>> with use_loop("torch"):
    ...     data = sample_spikedata(truth, n_trials=20, seed=1).recorded()
    ...     fitter = NetworkFitter(n_lags=2, max_iterations=10, device="cpu", progress=False)
    ...     _ = fitter.fit(data)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "model.pt"
    ...     save_model(fitter, path)
    ...     loaded = load_model(path)
    >>> type(loaded).__name__, loaded.coupling_.shape  # (n_post, n_pre, n_lags)
    ('NetworkFitter', (3, 3, 2))
    >>> bool((loaded.coupling_ == fitter.coupling_).all()), loaded.unit_ids_
    (True, ('r0', 'r1', 'r2'))
    """
    fitter.save(path)


def load_model(path: str | Path, stimulus_encoder: torch.nn.Module | None = None) -> NetworkFitter:
    """Load a NetworkFitter saved with :meth:`NetworkFitter.save` (safe: ``weights_only=True``).

    Parameters
    ----------
    path : str or Path
        The model file.
    stimulus_encoder : torch.nn.Module, optional
        For a model fitted with a ``stimulus_encoder``: a module of the same class and
        architecture (the file holds its weights, not its code, which is never run from a file).

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

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from elephant_fit import NetworkFitter
    >>> from elephant_fit.fitting import load_model
    >>> from elephant_fit.network import use_loop
    >>> from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata
    >>> truth = hidden_input_network(n_recorded=3, n_hidden=2, n_bins=30, seed=0)
    >>> with use_loop("torch"):
    ...     data = sample_spikedata(truth, n_trials=20, seed=1).recorded()
    ...     fitter = NetworkFitter(n_lags=2, max_iterations=10, device="cpu", progress=False)
    ...     _ = fitter.fit(data)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     fitter.save(Path(folder) / "model.pt")
    ...     loaded = load_model(Path(folder) / "model.pt")
    >>> loaded.n_lags, loaded.max_iterations, loaded.bin_size_  # hyper-parameters, data layout
    (2, 10, array(10.) * ms)
    >>> len(loaded.history_.train)  # the fit's history comes along
    10
    """
    contents = read_model_file(path)
    name = repr(str(Path(path)))
    encoder = _encoder(contents.params, stimulus_encoder, name, contents.state_dict)
    params = {**contents.params, "stimulus_encoder": encoder}
    with malformed(name):
        fitter = NetworkFitter(**params)
        model = restore_network(
            fitter.model_spec(),
            contents.trained_on,
            contents.state_dict,
            check_seed(fitter.seed),
            fitter.dtype,
            name,
        )
        model = model.to(device=resolve_device(fitter.device), dtype=fitter.dtype)
        fitter._set_fitted(model, contents.history, contents.trained_on)
    return fitter


def _encoder(
    params: dict, given: torch.nn.Module | None, name: str, saved: dict[str, torch.Tensor]
) -> torch.nn.Module | None:
    """The module for the file's stimulus encoder (checked: its class, tensor names and shapes)."""
    saved_class = params.get("stimulus_encoder")
    if saved_class is None:
        if given is not None:
            raise ArgumentValueError(
                f"{name} was fitted without a stimulus encoder, but `stimulus_encoder` was given."
            )
        return None
    if given is None:
        raise ArgumentValueError(
            f"{name} was fitted with a stimulus encoder ({saved_class}): pass a module of that "
            "class, load_model(path, stimulus_encoder=...) (the file holds its weights, not its "
            "code)."
        )
    if not isinstance(given, torch.nn.Module):
        raise ArgumentTypeError(
            f"Expected `stimulus_encoder` to be a torch.nn.Module, but got {describe(given)}."
        )
    if encoder_name(given) != saved_class:
        raise ArgumentValueError(
            f"{name} was fitted with a stimulus encoder of class {saved_class}, but "
            f"`stimulus_encoder` is a {encoder_name(given)}."
        )
    prefix = "stimulus_encoder."
    in_file = {k[len(prefix) :]: tuple(v.shape) for k, v in saved.items() if k.startswith(prefix)}
    shapes = {k: tuple(v.shape) for k, v in given.state_dict().items()}
    if in_file != shapes:
        raise ArgumentValueError(
            f"Expected `stimulus_encoder` to hold the tensors of the fitted one in {name} "
            f"({in_file}), but it holds {shapes}: build it with the same architecture."
        )
    return given


def load(path: str | Path) -> NetworkFitter:
    """Deprecated name of :func:`load_model`."""
    warnings.warn(
        "elephant_fit.load is deprecated; use elephant_fit.load_model.",
        DeprecationWarning,
        stacklevel=2,
    )
    return load_model(path)
