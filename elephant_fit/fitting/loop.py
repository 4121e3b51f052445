"""The optimisation loop: Adam, gradient clipping, mini-batches of trials, best checkpoint."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import hashlib
import math
import os
import pickle
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from .._io import atomic_path
from .._validation import describe
from ..distributed import (
    agree,
    all_reduce_gradients,
    broadcast_object,
    broadcast_parameters,
    is_distributed,
    is_main_process,
    local_shard,
    world_size,
)
from ..errors import ArgumentTypeError, ArgumentValueError, FitInterrupted, NonFiniteLossError
from ..network.model import SpikingNetwork
from ..network.shard import Shard
from ..network.simulation import Simulation, make_generator, simulate, teacher_forced
from ..network.surrogates import Surrogate
from .config import FitConfig
from .losses import Batch, CombinedLoss

__all__ = ["FitHistory", "fit_model"]


@dataclass
class FitHistory:
    """Losses recorded during a fit.

    Attributes
    ----------
    train : list of dict
        Per iteration: the total and each term's value on the training batch.
    validation : list of dict
        Per evaluation: the iteration, the total and each term on the validation trials.
    best_iteration : int
        Iteration of the kept (best validation) parameters; 0: no iteration improved on the
        initial state (see :attr:`improved`).
    stopped_early : bool
        Whether early stopping ended the fit.
    """

    @property
    def improved(self) -> bool:
        """Whether some iteration beat the initial parameters on the validation loss."""
        return self.best_iteration > 0

    train: list[dict[str, float]] = field(default_factory=list)
    validation: list[dict[str, float]] = field(default_factory=list)
    best_iteration: int = 0
    stopped_early: bool = False


def _evaluate(
    model: SpikingNetwork,
    data: torch.Tensor,
    loss: CombinedLoss,
    seed: int,
    surrogate: str | Surrogate,
) -> dict[str, float]:
    """Loss on ``data`` without gradients, with fixed randomness (common random numbers).

    In a data-parallel fit each rank evaluates its share of ``data`` (all trials, on every rank)
    and the value is that of the whole.
    """
    shard = local_shard(data.shape[0])
    with torch.no_grad():
        batch = _batch(
            model, shard.take(data), loss, seed, surrogate, requires_grad=False, shard=shard
        )
        total, values = loss(model, batch)
    return {"loss": float(total), **values}


def _batch(
    model: SpikingNetwork,
    data: torch.Tensor,
    loss: CombinedLoss,
    seed: int | torch.Generator,
    surrogate: str | Surrogate,
    requires_grad: bool = True,
    window: tuple[int, int] | None = None,
    shard: Shard | None = None,
) -> Batch:
    """Run the passes the loss needs on one batch of trials.

    ``window = (size, burn_in)``: the free run covers a random window of ``size`` bins (after up
    to ``burn_in`` unmeasured bins), compared with the same window of ``data``. ``shard``: in a
    data-parallel fit, ``data`` is this rank's share of the batch (the random numbers are those
    of the whole batch).
    """
    generator = make_generator(seed, model.bias.device)
    shard = None if shard is None or shard.whole else shard
    batch = Batch(data, shard=shard)
    if "teacher" in loss.needs:
        batch.teacher = teacher_forced(
            model, data, seed=generator, surrogate=surrogate, shard=shard
        )
    if "free" not in loss.needs:
        return batch
    n_trials, n_bins, _ = data.shape
    start, size, first = 0, n_bins, 0
    if window is not None and window[0] < n_bins:
        size = window[0]
        offsets = torch.randint(
            n_bins - size + 1, (1,), generator=generator, device=generator.device
        )
        start = int(offsets)
        first = max(0, start - window[1])
    run = simulate(
        model,
        n_trials if shard is None else shard.total,
        start + size - first,
        seed=generator,
        surrogate=surrogate,
        requires_grad=requires_grad,
        first_bin=first,
        shard=shard,
    )
    if size == n_bins:
        batch.free = run
    else:
        skip = start - first
        batch.free = Simulation(run.spikes[:, skip:], run.u[:, skip:])
        batch.measured = data[:, start : start + size]
    return batch


def fit_model(
    model: SpikingNetwork,
    train: torch.Tensor,
    validation: torch.Tensor | None,
    loss: CombinedLoss,
    config: FitConfig | None = None,
    *,
    checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
    **settings: Any,
) -> FitHistory:
    """Fit ``model`` in place and return the loss history.

    Parameters
    ----------
    model : SpikingNetwork
        The network (its parameters are updated; at the end it holds the best parameters).
    train : torch.Tensor
        Training counts, shape (n_trials, n_bins, n_recorded), on the model's device and dtype.
    validation : torch.Tensor or None
        Validation counts, shape (n_val_trials, n_bins, n_recorded); None: the training loss on a
        fixed batch selects the checkpoint.
    loss : CombinedLoss
        The loss.
    config : FitConfig, optional
        Optimisation settings (default: ``FitConfig()``).
    checkpoint : path, optional
        Save the whole loop state (parameters, optimizer, random generators, iteration, history,
        best checkpoint) there every :data:`CHECKPOINT_EVERY` iterations and on SIGINT/SIGTERM,
        which then end the fit with :class:`~elephant_fit.errors.FitInterrupted`.
    resume : bool, optional
        Continue from ``checkpoint``: with the same data, model and settings, the result is
        bit-identical to an uninterrupted fit (on the same device).
    **settings
        Settings that replace those of ``config`` (names of :class:`FitConfig`).

    Returns
    -------
    FitHistory
        The recorded losses.

    Raises
    ------
    NonFiniteLossError
        If the loss or a gradient becomes NaN or inf; the model keeps the last good parameters.
    """
    config = _resolve_config(config, settings)
    if model.n_inputs:
        raise ArgumentValueError(
            "fit_model does not take covariates yet: fit a network with n_inputs=0."
        )
    _check_parallel(loss, train, validation, config)
    broadcast_parameters(model)  # data parallel: every rank starts from rank 0's parameters
    lbfgs = _uses_lbfgs(model, loss, config.optimizer)
    step = _lbfgs_step if lbfgs else _step
    eval_every = 1 if lbfgs else config.eval_every  # an L-BFGS iteration is a full-batch update
    optimizer = _optimizer(model, config, lbfgs)
    order = torch.Generator().manual_seed(config.seed)
    sampler = make_generator(config.seed + 1, model.bias.device)
    held_out = validation if validation is not None else train[: config.batch_size]
    if validation is None and lbfgs:
        held_out = train  # full batch: the checkpoint follows the training objective
    history = FitHistory()
    # the initial state is the first checkpoint: a fit that never beats it is reported as such
    initial = _evaluate(model, held_out, loss, config.seed + 2, config.surrogate)
    history.validation.append({"iteration": 0, **initial})
    loop = {
        "iteration": 0,
        "best": initial["loss"] if math.isfinite(initial["loss"]) else math.inf,
        "best_state": copy.deepcopy(model.state_dict()),
        "waited": 0,
        "last_good": {},
    }
    data = (train, held_out, loss)
    keeper = _Checkpoints(checkpoint, model, optimizer, order, sampler, history, loop, data, config)
    if resume:
        keeper.load()
    surrogate = config.surrogate
    window = None if config.sm_window is None else (config.sm_window, config.sm_burn_in)
    iterations = range(loop["iteration"] + 1, config.max_iterations + 1)
    bar = tqdm(
        iterations, disable=not (config.progress and is_main_process()), desc="fitting", leave=False
    )
    with keeper.catching_signals():
        for iteration in bar:
            index = torch.randperm(train.shape[0], generator=order)[: config.batch_size]
            batch = train if lbfgs else train[index.to(train.device)]
            shard = local_shard(batch.shape[0])  # this rank's trials of the batch
            try:
                values = step(
                    model,
                    optimizer,
                    shard.take(batch),
                    loss,
                    sampler,
                    surrogate,
                    config.clip_norm,
                    loop["last_good"],
                    window,
                    shard,
                )
            except NonFiniteLossError as error:
                bar.close()
                error.history = history
                raise
            history.train.append({"iteration": iteration, **values})
            bar.set_postfix({k: f"{v:.4g}" for k, v in values.items()}, refresh=False)
            loop["iteration"] = iteration
            if not (iteration % eval_every and iteration != config.max_iterations):
                evaluation = _evaluate(model, held_out, loss, config.seed + 2, surrogate)
                history.validation.append({"iteration": iteration, **evaluation})
                if _early_stop(loop, evaluation["loss"], iteration, model, history, config):
                    history.stopped_early = True
                    break
            keeper.after(iteration, bar)
    bar.close()
    model.load_state_dict(loop["best_state"])
    return history


def _early_stop(
    loop: dict[str, Any],
    value: float,
    iteration: int,
    model: SpikingNetwork,
    history: FitHistory,
    config: FitConfig,
) -> bool:
    """Keep the best parameters; whether the patience is spent.

    Patience counts evaluations without a relative improvement of at least ``tolerance``.
    """
    best = loop["best"]
    threshold = best - config.tolerance * abs(best) if math.isfinite(best) else math.inf
    loop["waited"] = 0 if value < threshold else loop["waited"] + 1
    if value < best:
        loop["best"] = value
        loop["best_state"] = copy.deepcopy(model.state_dict())
        history.best_iteration = iteration
    return config.patience is not None and loop["waited"] >= config.patience


#: Iterations between two checkpoints of :func:`fit_model` (and at every interruption).
CHECKPOINT_EVERY = 100


class _Checkpoints:
    """Saving, loading and signal handling for :func:`fit_model`'s ``checkpoint``."""

    def __init__(
        self,
        path: str | os.PathLike | None,
        model: SpikingNetwork,
        optimizer: torch.optim.Optimizer,
        order: torch.Generator,
        sampler: torch.Generator,
        history: FitHistory,
        loop: dict[str, Any],
        data: tuple[torch.Tensor, torch.Tensor, CombinedLoss],
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
            "loop": self.loop,
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
            history, loop = dict(state["history"]), dict(state["loop"])
            device = self.model.bias.device
            loop["best_state"] = {k: v.to(device) for k, v in loop["best_state"].items()}
            loop["last_good"] = {k: v.to(device) for k, v in loop["last_good"].items()}
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.order.set_state(state["order"])
            self.sampler.set_state(state["sampler"])
        for name, value in history.items():
            setattr(self.history, name, value)
        self.loop.update(loop)

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
    """Put back the signal handlers :meth:`_Checkpoints.catching_signals` replaced."""
    for number, old in previous.items():
        signal.signal(number, signal.SIG_DFL if old is None else old)
    previous.clear()


def _fingerprint(
    train: torch.Tensor,
    held_out: torch.Tensor,
    loss: CombinedLoss,
    config: FitConfig,
    model: SpikingNetwork,
) -> str:
    """What a checkpoint must match to be resumed: data, loss, settings, architecture, dtype."""
    digest = hashlib.sha256()
    for tensor in (train, held_out):
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


def _uses_lbfgs(model: SpikingNetwork, loss: CombinedLoss, optimizer: str) -> bool:
    """Whether to run L-BFGS (asked for; the loss must then be deterministic).

    Deterministic: the likelihood of a network without hidden neurons (and penalties), which
    samples nothing; L-BFGS needs it (a line search compares losses of the same function).
    """
    deterministic = not model.n_hidden and not loss.needs - {"teacher"}
    if optimizer == "lbfgs" and not deterministic:
        raise ArgumentValueError(
            "optimizer='lbfgs' needs a deterministic loss: the likelihood of a network without "
            f"hidden neurons (got n_hidden={model.n_hidden}, terms {sorted(loss.weights)}); use "
            "optimizer='adam'."
        )
    return optimizer == "lbfgs"


def _optimizer(model: SpikingNetwork, config: FitConfig, lbfgs: bool) -> torch.optim.Optimizer:
    """Adam, or full-batch L-BFGS (one update per iteration, strong-Wolfe line search)."""
    if not lbfgs:
        return torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    return torch.optim.LBFGS(
        model.parameters(),
        lr=1.0,
        max_iter=1,
        max_eval=LBFGS_MAX_EVALUATIONS,
        history_size=LBFGS_HISTORY,
        line_search_fn="strong_wolfe",
    )


#: L-BFGS: curvature pairs kept, and loss evaluations allowed per line search.
LBFGS_HISTORY = 20
LBFGS_MAX_EVALUATIONS = 25


def _lbfgs_step(
    model: SpikingNetwork,
    optimizer: torch.optim.Optimizer,
    data: torch.Tensor,
    loss: CombinedLoss,
    sampler: torch.Generator,
    surrogate: str | Surrogate,
    clip_norm: float,
    last_good: dict,
    window: tuple[int, int] | None = None,
    shard: Shard | None = None,
) -> dict[str, float]:
    """One L-BFGS update on all training trials (the loss is deterministic: no sampling)."""
    last_good.clear()
    last_good.update({name: p.detach().clone() for name, p in model.named_parameters()})

    def closure() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        total, _ = loss(model, _batch(model, data, loss, sampler, surrogate, shard=shard))
        if not torch.isfinite(total):  # a line search cannot go on from here
            raise _NonFiniteTrial(float(total.detach()))
        total.backward()
        all_reduce_gradients(model.parameters())
        return total

    try:
        optimizer.step(closure)
    except _NonFiniteTrial as trial:
        _restore(model, last_good)
        optimizer.state.clear()  # the curvature pairs led here: start afresh next time
        raise NonFiniteLossError(
            f"The loss became {trial.value} during an L-BFGS line search; the model keeps its "
            "last good parameters."
        ) from None
    # the loss at the accepted point (the line search's last trial may not be)
    with torch.no_grad():
        total, terms = loss(
            model, _batch(model, data, loss, sampler, surrogate, False, shard=shard)
        )
    return {"loss": float(total), **terms}


class _NonFiniteTrial(ArithmeticError):
    """A non-finite loss met inside an L-BFGS line search."""

    def __init__(self, value: float) -> None:
        super().__init__(value)
        self.value = value


def _resolve_config(config: FitConfig | None, settings: dict[str, Any]) -> FitConfig:
    """``config`` (default ``FitConfig()``) with ``settings`` replaced; unknown names refused."""
    if config is not None and not isinstance(config, FitConfig):
        raise ArgumentTypeError(
            f"Expected `config` to be a FitConfig or None, but got {describe(config)}."
        )
    unknown = sorted(set(settings) - set(FitConfig.names()))
    if unknown:
        raise ArgumentTypeError(
            f"fit_model got unknown settings {unknown}; FitConfig has {list(FitConfig.names())}."
        )
    return (config or FitConfig()).replace(**settings)


def _step(
    model: SpikingNetwork,
    optimizer: torch.optim.Optimizer,
    data: torch.Tensor,
    loss: CombinedLoss,
    sampler: torch.Generator,
    surrogate: str | Surrogate,
    clip_norm: float,
    last_good: dict,
    window: tuple[int, int] | None = None,
    shard: Shard | None = None,
) -> dict[str, float]:
    """One optimisation step (``window``, ``shard``: see :func:`_batch`).

    ``last_good`` holds the parameters that last gave a finite loss and gradient; on a non-finite
    loss or gradient they are restored and :class:`NonFiniteLossError` is raised. In a
    data-parallel fit the gradients are added across ranks before clipping, so every rank takes
    the same step.
    """
    optimizer.zero_grad(set_to_none=True)
    batch = _batch(model, data, loss, sampler, surrogate, window=window, shard=shard)
    total, values = loss(model, batch)
    if not torch.isfinite(total):
        _restore(model, last_good)
        raise NonFiniteLossError(
            f"The loss became {float(total.detach())} (terms: {values}); the model keeps its last good "
            "parameters. Try a smaller learning_rate or check the data."
        )
    total.backward()
    all_reduce_gradients(model.parameters())
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
    if not torch.isfinite(norm):
        _restore(model, last_good)
        raise NonFiniteLossError(
            "A gradient became NaN or inf; the model keeps its last good parameters."
        )
    last_good.clear()
    last_good.update({name: p.detach().clone() for name, p in model.named_parameters()})
    optimizer.step()
    return {"loss": float(total.detach()), **values}


def _check_parallel(
    loss: CombinedLoss, train: torch.Tensor, validation: torch.Tensor | None, config: FitConfig
) -> None:
    """In a data-parallel fit: every rank needs trials, every term must combine them across ranks."""
    if not is_distributed():
        return
    lbfgs = config.optimizer == "lbfgs"  # full batch: all training trials per iteration
    smallest = train.shape[0] if lbfgs else min(config.batch_size, train.shape[0])
    if validation is not None:
        smallest = min(smallest, validation.shape[0])
    if smallest < world_size():
        raise ArgumentValueError(
            f"Expected at least one trial per rank in every batch ({world_size()} ranks), but the "
            f"smallest batch has {smallest} trials: raise batch_size or use fewer processes."
        )
    unsafe = [
        name for name, (weight, term) in loss.terms.items() if weight and not term.parallel_safe
    ]
    if unsafe:
        raise ArgumentValueError(
            f"Loss terms {unsafe} do not combine their trials across ranks (LossTerm.parallel_safe "
            "is False): in a data-parallel fit add their sums over trials with "
            "batch.reducer.sum and set parallel_safe = True, or fit in one process."
        )


def _restore(model: SpikingNetwork, state: dict) -> None:
    """Copy saved parameter values back into the model (nothing saved: leave it as it is)."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name in state:
                parameter.copy_(state[name])
