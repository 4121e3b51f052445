"""Checkpoints of :func:`~elephant_fit.fitting.fit_model`: the whole loop state, saved and resumed.

A checkpoint holds the parameters, the optimizer, both random generators, the loop state and the
history, and a fingerprint of what it must match to be resumed (data, loss, settings,
architecture, dtype, device). SIGINT or SIGTERM during a fit with a checkpoint ends the current
iteration, saves, and raises :class:`~elephant_fit.errors.FitInterrupted`; a second signal stops
at once. A signal this process ignores (e.g. SIGINT in a background job of a non-interactive
shell) stays ignored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import os
import pickle
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from .._io import atomic_path
from ..distributed import agree, broadcast_object, is_distributed, is_main_process
from ..errors import ArgumentValueError, FitInterrupted
from ..network.model import SpikingNetwork
from ._adam import Optimizer
from .config import FitConfig
from .history import FitHistory, LoopState
from .losses import CombinedLoss
from .trials import TrialTensors

__all__ = ["CHECKPOINT_EVERY", "Checkpoints"]


#: Iterations between two checkpoints of :func:`fit_model` (and at every interruption).
CHECKPOINT_EVERY = 100


class Checkpoints:
    """Saving, loading and signal handling for :func:`fit_model`'s ``checkpoint``."""

    def __init__(
        self,
        path: str | os.PathLike | None,
        model: SpikingNetwork,
        optimizer: Optimizer,
        order: torch.Generator,
        sampler: torch.Generator,
        history: FitHistory,
        loop: LoopState,
        data: tuple[TrialTensors, TrialTensors, CombinedLoss],
        config: FitConfig,
    ) -> None:
        self.path = None if path is None else Path(path)
        self.model, self.optimizer, self.order, self.sampler = model, optimizer, order, sampler
        self.history, self.loop = history, loop
        # what a checkpoint must match (only computed when checkpoints are written)
        self.fingerprint = "" if path is None else _fingerprint(*data, config, model)
        self.interrupted: int | None = None

    def after(self, iteration: int, bar: Any) -> None:
        """Save every CHECKPOINT_EVERY iterations; on a caught signal, save and stop.

        In a data-parallel fit the ranks agree on a signal any of them caught (so that all stop
        at the same iteration) and rank 0 alone writes.
        """
        if self.path is None:
            return
        caught = int(agree(self.interrupted or 0))  # a signal caught meanwhile stays caught
        if caught and self.interrupted is None:
            self.interrupted = caught
        if self.interrupted is not None or iteration % CHECKPOINT_EVERY == 0:
            self.save()
        if self.interrupted is not None:
            bar.close()
            name = signal.Signals(self.interrupted).name
            error = FitInterrupted(
                f"{name} at iteration {iteration}: the fit state is saved in {self.path}; "
                "resume with resume=True (--resume)."
            )
            error.signal_number = self.interrupted
            raise error

    def save(self) -> None:
        """Write the loop state atomically."""
        assert self.path is not None
        if not is_main_process():
            return
        state = {
            "fingerprint": self.fingerprint,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "order": self.order.get_state(),
            "sampler": self.sampler.get_state(),
            "history": dataclasses.asdict(self.history),
            "loop": self.loop.as_dict(),
        }
        with atomic_path(self.path) as temporary:
            torch.save(state, temporary)

    def load(self) -> None:
        """Restore the loop state from the checkpoint file.

        In a data-parallel fit rank 0 reads the file and sends the state to the others (the
        ranks may not share a file system), and every rank raises the same error if it fails.
        """
        if not is_distributed():
            self._restore(self._read())
            return
        payload: list[Any] = [None]
        if is_main_process():
            try:
                payload = [("state", self._read())]
            except ArgumentValueError as error:
                payload = [("error", str(error))]
        broadcast_object(payload)
        kind, value = payload[0]
        if kind == "error":
            raise ArgumentValueError(value)
        self._restore(value)

    def _read(self) -> dict[str, Any]:
        """The checkpoint's contents (on the CPU), checked against this fit's fingerprint."""
        if self.path is None or not self.path.exists():
            raise ArgumentValueError(
                f"resume=True needs an existing `checkpoint` file, but got {self.path}."
            )
        with self._usable():
            state = torch.load(self.path, weights_only=True, map_location="cpu")
            if state["fingerprint"] != self.fingerprint:
                raise ArgumentValueError(
                    f"The checkpoint {self.path} was written for other data, loss, model or "
                    "settings: resume with the same ones, or start afresh."
                )
        return state

    def _restore(self, state: dict[str, Any]) -> None:
        """Put a checkpoint's state into the model, optimizer, generators, history and loop."""
        with self._usable():
            history = dict(state["history"])
            loop = LoopState(**state["loop"])  # every entry, or an unusable checkpoint
            loop.update_from(state["loop"], self.model.bias.device)
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.order.set_state(state["order"])
            self.sampler.set_state(state["sampler"])
        for name, value in history.items():
            setattr(self.history, name, value)
        self.loop.update_from(loop.as_dict(), self.model.bias.device)

    @contextlib.contextmanager
    def _usable(self) -> Iterator[None]:
        """Whatever goes wrong reading or applying a checkpoint is one ArgumentValueError."""
        try:
            yield
        except (
            KeyError,
            TypeError,
            ValueError,
            IndexError,
            EOFError,
            RuntimeError,
            pickle.UnpicklingError,
        ) as error:
            if isinstance(error, ArgumentValueError):
                raise
            raise ArgumentValueError(
                f"{self.path} is not a usable fit checkpoint ({type(error).__name__}: {error})."
            ) from error

    @contextlib.contextmanager
    def catching_signals(self) -> Iterator[None]:
        """With a checkpoint: SIGINT/SIGTERM end the current iteration, then save and stop."""
        if self.path is None or threading.current_thread() is not threading.main_thread():
            yield
            return

        previous: dict[int, Any] = {}

        def handler(number: int, frame: Any) -> None:
            if self.interrupted is not None:  # a second signal: stop now, without saving
                _restore_handlers(previous)
                raise KeyboardInterrupt
            self.interrupted = number

        for number in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(number) is not signal.SIG_IGN:  # an ignored signal stays ignored
                previous[number] = signal.signal(number, handler)
        try:
            yield
        finally:
            _restore_handlers(previous)


def _stable(value: Any) -> str:
    """A description of a loss term that is the same in every process (no memory addresses).

    Dataclass terms (the built-in ones) are described by their fields; other terms by their type
    (their own state, e.g. counters, is not part of what a checkpoint must match).
    """
    if isinstance(value, (int, float, str, bool, type(None))):
        return repr(value)
    if isinstance(value, functools.partial):
        keywords = sorted((k, _stable(v)) for k, v in value.keywords.items())
        return f"partial({_stable(value.func)}, {keywords})"
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    fields = []
    if dataclasses.is_dataclass(value):
        fields = [(f.name, _stable(getattr(value, f.name))) for f in dataclasses.fields(value)]
    return f"{type(value).__qualname__}({fields})"


def _restore_handlers(previous: dict[int, Any]) -> None:
    """Put back the signal handlers :meth:`Checkpoints.catching_signals` replaced."""
    for number, old in previous.items():
        signal.signal(number, signal.SIG_DFL if old is None else old)
    previous.clear()


def _fingerprint(
    train: TrialTensors,
    held_out: TrialTensors,
    loss: CombinedLoss,
    config: FitConfig,
    model: SpikingNetwork,
) -> str:
    """What a checkpoint must match to be resumed: data, loss, settings, architecture, dtype.

    The data are the counts, conditions and covariates of the training and held-out trials.
    """
    digest = hashlib.sha256()
    for trials in (train, held_out):
        for tensor in trials.tensors():  # counts alone: the fingerprint of before conditions
            digest.update(repr((tuple(tensor.shape), tensor.dtype)).encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    terms = [(name, weight, _stable(term)) for name, (weight, term) in loss.terms.items()]
    digest.update(repr(terms).encode())
    settings = dataclasses.asdict(config)
    for free in ("progress", "max_iterations"):  # may change on resume (e.g. to fit longer)
        settings.pop(free)
    digest.update(repr(sorted(settings.items())).encode())
    digest.update(repr(model).encode())
    parameters = [(k, tuple(v.shape), str(v.dtype)) for k, v in model.state_dict().items()]
    digest.update(repr((parameters, model.bias.device.type)).encode())
    return digest.hexdigest()
