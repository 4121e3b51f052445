"""The optimisation loop: Adam, gradient clipping, mini-batches of trials, best checkpoint."""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass
from typing import Any

import torch

from .._progress import progress
from .._validation import describe
from ..distributed import (
    all_reduce_gradients,
    broadcast_parameters,
    is_distributed,
    is_main_process,
    local_shard,
    world_size,
)
from ..errors import ArgumentTypeError, ArgumentValueError, NonFiniteLossError
from ..network.model import SpikingNetwork
from ..network.shard import Shard
from ..network.simulation import Simulation, make_generator, simulate, teacher_forced
from ..network.surrogates import Surrogate
from ._adam import Adam, Optimizer
from .checkpoints import Checkpoints
from .config import FitConfig
from .history import FitHistory, LoopState
from .losses import Batch, CombinedLoss
from .trials import TrialTensors, as_trials

__all__ = ["fit_model"]


def _evaluate(
    model: SpikingNetwork,
    data: TrialTensors,
    loss: CombinedLoss,
    seed: int,
    surrogate: str | Surrogate,
) -> dict[str, float]:
    """Loss on ``data`` without gradients, with fixed randomness (common random numbers).

    In a data-parallel fit each rank evaluates its share of ``data`` (all trials, on every rank)
    and the value is that of the whole.
    """
    shard = local_shard(data.n_trials)
    training = model.training
    model.eval()  # e.g. a stimulus encoder's dropout off, its running statistics untouched
    try:
        with torch.no_grad():
            batch = _batch(
                model, shard.take(data), loss, seed, surrogate, requires_grad=False, shard=shard
            )
            total, values = loss(model, batch)
    finally:
        model.train(training)
    return {"loss": float(total), **values}


def _batch(
    model: SpikingNetwork,
    data: TrialTensors | torch.Tensor,
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
    of the whole batch). Each trial runs under its own condition and covariates.
    """
    generator = make_generator(seed, model.bias.device)
    shard = None if shard is None or shard.whole else shard
    data = as_trials(data, "data")
    counts, conditions, inputs = data.counts, data.conditions, data.inputs
    batch = Batch(counts, shard=shard, conditions=conditions, inputs=inputs)
    if "teacher" in loss.needs:
        batch.teacher = teacher_forced(
            model,
            counts,
            inputs,
            seed=generator,
            surrogate=surrogate,
            shard=shard,
            conditions=conditions,
        )
    if "free" not in loss.needs:
        return batch
    n_trials, n_bins, _ = counts.shape
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
        None if inputs is None else inputs[:, : start + size],  # from the trial's first bin
        seed=generator,
        surrogate=surrogate,
        requires_grad=requires_grad,
        first_bin=first,
        shard=shard,
        conditions=conditions,
    )
    if size == n_bins:
        batch.free = run
    else:
        skip = start - first
        batch.free = Simulation(run.spikes[:, skip:], run.u[:, skip:])
        batch.measured = counts[:, start : start + size]
    return batch


def fit_model(
    model: SpikingNetwork,
    train: torch.Tensor | TrialTensors,
    validation: torch.Tensor | TrialTensors | None,
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
    train : torch.Tensor or TrialTensors
        Training counts, shape (n_trials, n_bins, n_recorded), on the model's device and dtype;
        or :class:`~elephant_fit.fitting.trials.TrialTensors` with each trial's condition (the
        network's ``n_conditions`` drives) and covariates (its ``n_inputs`` filters). Mini-batches
        take all three alike; the free run of the SM terms simulates each trial under its own
        condition and covariates.
    validation : torch.Tensor, TrialTensors or None
        Validation trials, shape (n_val_trials, n_bins, n_recorded) (as ``train``); None: the
        training loss on a fixed batch selects the checkpoint.
    loss : CombinedLoss
        The loss.
    config : FitConfig, optional
        Optimisation settings (default: ``FitConfig()``).
    checkpoint : path, optional
        Save the whole loop state (parameters, optimizer, random generators, iteration, history,
        best checkpoint) there every ``CHECKPOINT_EVERY`` iterations and on SIGINT/SIGTERM,
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

    Examples
    --------
    >>> from elephant_fit.fitting import fit_model, make_loss
    >>> from elephant_fit.network import SpikingNetwork, use_loop
    >>> from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata
    >>> truth = hidden_input_network(n_recorded=4, n_hidden=2, n_bins=20, seed=0)
    >>> with use_loop("torch"):
    ...     counts = sample_spikedata(truth, n_trials=10, seed=1).recorded().counts
    >>> counts.shape, counts.dtype  # (n_trials, n_bins, n_recorded), the model's dtype
    (torch.Size([10, 20, 4]), torch.float32)
    >>> model = SpikingNetwork(n_recorded=4, n_lags=3, n_bins=20, drive="free", seed=0)
    >>> with use_loop("torch"):
    ...     history = fit_model(
    ...         model, counts[:8], counts[8:], make_loss("mle"), max_iterations=10, eval_every=5,
    ...         progress=False,
    ...     )
    >>> len(history.train), [record["iteration"] for record in history.validation]
    (10, [0, 5, 10])
    >>> model.coupling_array().shape  # fitted in place: (n_post, n_pre, n_lags)
    (4, 4, 3)
    """
    config = _resolve_config(config, settings)
    train = as_trials(train, "train").for_model(model, "train")
    validation = as_trials(validation, "validation")
    validation = None if validation is None else validation.for_model(model, "validation")
    _check_parallel(loss, train, validation, config)
    broadcast_parameters(model)  # data parallel: every rank starts from rank 0's parameters
    lbfgs = _uses_lbfgs(model, loss, config.optimizer)
    step = _Step(
        model=model,
        optimizer=_optimizer(model, config, lbfgs),
        loss=loss,
        sampler=make_generator(config.seed + 1, model.bias.device),
        surrogate=config.surrogate,
        clip_norm=config.clip_norm,
        window=None if config.sm_window is None else (config.sm_window, config.sm_burn_in),
    )
    order = torch.Generator().manual_seed(config.seed)
    held_out = _held_out(train, validation, config.batch_size, lbfgs)
    history = FitHistory()
    # the initial state is the first checkpoint: a fit that never beats it is reported as such
    initial = _evaluate(model, held_out, loss, config.seed + 2, config.surrogate)
    history.validation.append({"iteration": 0, **initial})
    state = LoopState.start(model, initial["loss"])
    data = (train, held_out, loss)
    keeper = Checkpoints(
        checkpoint, model, step.optimizer, order, step.sampler, history, state, data, config
    )
    if resume:
        keeper.load()
    iterations = range(state.iteration + 1, config.max_iterations + 1)
    bar = progress(iterations, "fitting", config.progress and is_main_process())
    model.train()
    with keeper.catching_signals():
        for iteration in bar:
            index = torch.randperm(train.n_trials, generator=order)[: config.batch_size]
            batch = train if lbfgs else train[index.to(train.device)]
            shard = local_shard(batch.n_trials)  # this rank's trials of the batch
            try:
                values = (step.lbfgs if lbfgs else step.adam)(shard.take(batch), state, shard)
            except NonFiniteLossError as error:
                bar.close()
                error.history = history
                raise
            history.train.append({"iteration": iteration, **values})
            bar.set_postfix({k: f"{v:.4g}" for k, v in values.items()}, refresh=False)
            state.iteration = iteration
            evaluate = lbfgs or not iteration % config.eval_every  # L-BFGS: full-batch updates
            if evaluate or iteration == config.max_iterations:
                evaluation = _evaluate(model, held_out, loss, config.seed + 2, step.surrogate)
                history.validation.append({"iteration": iteration, **evaluation})
                if _early_stop(state, evaluation["loss"], iteration, model, history, config):
                    history.stopped_early = True
                    break
            keeper.after(iteration, bar)
    bar.close()
    model.load_state_dict(state.best_state)
    model.eval()  # fitted: evaluated, scored and simulated in evaluation mode
    return history


def _held_out(
    train: TrialTensors, validation: TrialTensors | None, batch_size: int, lbfgs: bool
) -> TrialTensors:
    """The trials that select the checkpoint: the validation trials, else a fixed training batch.

    Without validation trials, L-BFGS (full batch) follows the training objective itself.
    """
    if validation is not None:
        return validation
    return train if lbfgs else train[:batch_size]


def _early_stop(
    state: LoopState,
    value: float,
    iteration: int,
    model: SpikingNetwork,
    history: FitHistory,
    config: FitConfig,
) -> bool:
    """Keep the best parameters; whether the patience is spent.

    Patience counts evaluations without a relative improvement of at least ``tolerance``.
    """
    best = state.best
    threshold = best - config.tolerance * abs(best) if math.isfinite(best) else math.inf
    state.waited = 0 if value < threshold else state.waited + 1
    if value < best:
        state.best = value
        state.best_state = copy.deepcopy(model.state_dict())
        history.best_iteration = iteration
    return config.patience is not None and state.waited >= config.patience


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


def _optimizer(model: SpikingNetwork, config: FitConfig, lbfgs: bool) -> Optimizer:
    """Adam, or full-batch L-BFGS (one update per iteration, strong-Wolfe line search).

    Adam is :class:`~elephant_fit.fitting._adam.Adam` (``torch.optim.Adam``'s update bit for bit,
    without the 1.4 s import of ``torch._dynamo`` that any ``torch.optim`` optimizer costs).
    """
    if not lbfgs:
        return Adam(model.parameters(), lr=config.learning_rate)
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


@dataclass
class _Step:
    """One optimisation update of ``model`` on a batch: Adam (:meth:`adam`) or L-BFGS (:meth:`lbfgs`).

    ``window = (size, burn_in)``: sample-and-measure terms on a random window (see
    :func:`_batch`). In a data-parallel fit each rank passes its share of the batch and the
    gradients are added across ranks before clipping, so every rank takes the same step.
    """

    model: SpikingNetwork
    optimizer: Optimizer
    loss: CombinedLoss
    sampler: torch.Generator
    surrogate: str | Surrogate
    clip_norm: float
    window: tuple[int, int] | None

    def _passes(self, data: TrialTensors, shard: Shard | None, requires_grad: bool = True) -> Batch:
        return _batch(
            self.model,
            data,
            self.loss,
            self.sampler,
            self.surrogate,
            requires_grad=requires_grad,
            window=self.window,
            shard=shard,
        )

    def adam(self, data: TrialTensors, state: LoopState, shard: Shard | None) -> dict[str, float]:
        """One Adam step with gradient-norm clipping.

        On a non-finite loss or gradient the parameters of ``state.last_good`` are restored and
        :class:`NonFiniteLossError` is raised.
        """
        model = self.model
        self.optimizer.zero_grad(set_to_none=True)
        total, values = self.loss(model, self._passes(data, shard))
        if not torch.isfinite(total):
            _restore(model, state.last_good)
            raise NonFiniteLossError(
                f"The loss became {float(total.detach())} (terms: {values}); the model keeps its "
                "last good parameters. Try a smaller learning_rate or check the data."
            )
        total.backward()
        all_reduce_gradients(model.parameters())
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), self.clip_norm)
        if not torch.isfinite(norm):
            _restore(model, state.last_good)
            raise NonFiniteLossError(
                "A gradient became NaN or inf; the model keeps its last good parameters."
            )
        state.keep_last_good(model)
        self.optimizer.step()
        return {"loss": float(total.detach()), **values}

    def lbfgs(self, data: TrialTensors, state: LoopState, shard: Shard | None) -> dict[str, float]:
        """One L-BFGS update on all training trials (the loss is deterministic: no sampling)."""
        model = self.model
        state.keep_last_good(model)

        def closure() -> torch.Tensor:
            self.optimizer.zero_grad(set_to_none=True)
            total, _ = self.loss(model, self._passes(data, shard))
            if not torch.isfinite(total):  # a line search cannot go on from here
                raise _NonFiniteTrial(float(total.detach()))
            total.backward()
            all_reduce_gradients(model.parameters())
            return total

        try:
            self.optimizer.step(closure)
        except _NonFiniteTrial as trial:
            _restore(model, state.last_good)
            self.optimizer.state.clear()  # the curvature pairs led here: start afresh next time
            raise NonFiniteLossError(
                f"The loss became {trial.value} during an L-BFGS line search; the model keeps its "
                "last good parameters."
            ) from None
        # the loss at the accepted point (the line search's last trial may not be)
        with torch.no_grad():
            total, terms = self.loss(model, self._passes(data, shard, requires_grad=False))
        return {"loss": float(total), **terms}


def _check_parallel(
    loss: CombinedLoss, train: TrialTensors, validation: TrialTensors | None, config: FitConfig
) -> None:
    """In a data-parallel fit: every rank needs trials, every term must combine them across ranks."""
    if not is_distributed():
        return
    lbfgs = config.optimizer == "lbfgs"  # full batch: all training trials per iteration
    smallest = train.n_trials if lbfgs else min(config.batch_size, train.n_trials)
    if validation is not None:
        smallest = min(smallest, validation.n_trials)
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
