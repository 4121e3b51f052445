"""Data parallelism over trials with ``torch.distributed`` (launched by ``torchrun``).

Every process (rank) holds the whole recording and the same model; each batch of trials is split
into contiguous shares, one per rank (:class:`Shard`). A rank simulates and measures its share
only, and the loss is assembled from **sums over trials** added across ranks (:class:`TrialReducer`):
the negative log-likelihood, the PSTH, the noise covariance and the rates are all functions of
such sums, so the loss, and with it the gradient, equals the one-process loss of the same global
batch. The random numbers of a batch are drawn for the whole batch on every rank and each rank
keeps its share (:meth:`Shard.take`), so the simulated spikes are those of one process too.

The sum across ranks is differentiable with an identity backward: every rank computes the same
loss from the same sums and back-propagates into its own share; adding the parameter gradients
across ranks (:func:`all_reduce_gradients`) then gives the gradient of the one-process loss.
Terms that do not depend on trials (coupling penalties) pass ``1 / world_size`` of their gradient
on every rank (:meth:`TrialReducer.shared`).

Without an initialised process group everything here is the identity: one process, one shard.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import os
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from ._validation import check_choice
from .errors import ArgumentValueError, ElephantFitError
from .network.shard import Shard

__all__ = [
    "BACKENDS",
    "Shard",
    "TrialReducer",
    "agree",
    "all_reduce_gradients",
    "broadcast_object",
    "broadcast_parameters",
    "common_seed",
    "gather_trials",
    "is_distributed",
    "is_main_process",
    "launched_by_torchrun",
    "local",
    "local_shard",
    "process_group",
    "raise_together",
    "rank",
    "world_size",
]

T = TypeVar("T")

#: Backends :func:`process_group` accepts ('auto': NCCL when every rank has a CUDA device, else
#: gloo).
BACKENDS = ("auto", "gloo", "nccl")

#: How long a rank waits for the others in a collective before giving up (seconds).
TIMEOUT_S = 600


#: Set by :func:`local`: this rank works alone for now (no collectives).
_LOCAL = False


def is_distributed() -> bool:
    """Whether work is shared with other ranks (a group of several ranks, outside :func:`local`).

    Returns
    -------
    bool
        True in an initialised process group of more than one rank, except inside
        :func:`local`; False in a single process.

    Examples
    --------
    >>> is_distributed()  # one process, no process group
    False
    """
    return (
        not _LOCAL and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
    )


def rank() -> int:
    """The rank of this process (0 without a process group; its rank inside :func:`local`).

    Returns
    -------
    int
        ``torch.distributed.get_rank()`` when a process group is initialised, else 0.

    Examples
    --------
    >>> rank()  # one process, no process group
    0
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return 0


@contextlib.contextmanager
def local() -> Iterator[None]:
    """Work on this rank alone: inside, fits and simulations use no collectives.

    For what rank 0 does by itself after a shared fit (the summary, the report, the figures).
    Contexts nest; the previous state is restored on exit, also when the body raises.

    Yields
    ------
    None
        Nothing: the body runs on this rank alone.

    Examples
    --------
    >>> with local():  # inside: no collectives, one shard of everything
    ...     is_distributed(), world_size(), local_shard(5)
    (False, 1, Shard(start=0, stop=5, total=5))
    """
    global _LOCAL
    previous, _LOCAL = _LOCAL, True
    try:
        yield
    finally:
        _LOCAL = previous


def world_size() -> int:
    """Number of processes (1 without a process group).

    Returns
    -------
    int
        ``torch.distributed.get_world_size()`` when :func:`is_distributed`, else 1 (also inside
        :func:`local`).

    Examples
    --------
    >>> world_size()  # one process, no process group
    1
    """
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """Whether this process writes files and prints (rank 0, or the only process).

    Returns
    -------
    bool
        True when :func:`rank` is 0.

    Examples
    --------
    >>> is_main_process()  # the only process
    True
    """
    return rank() == 0


def local_shard(total: int) -> Shard:
    """The share of a batch of ``total`` trials that this process runs (all of it in one process).

    Parameters
    ----------
    total : int
        Number of trials in the whole batch (over all ranks).

    Returns
    -------
    Shard
        This rank's contiguous share (:meth:`Shard.of`); the whole batch in one process or inside
        :func:`local`.

    Examples
    --------
    >>> local_shard(10)  # no process group
    Shard(start=0, stop=10, total=10)
    """
    if not is_distributed():
        return Shard.whole_batch(total)
    return Shard.of(total, rank(), world_size())


class _SumAcrossRanks(torch.autograd.Function):
    """All-reduce (sum) forward, identity backward (every rank computes the same loss)."""

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor) -> torch.Tensor:
        total = tensor.clone()
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        return total

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return grad


class _GatherTrials(torch.autograd.Function):
    """All-gather of every rank's share along trials; backward keeps this rank's rows."""

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor, shard: Shard) -> torch.Tensor:
        ctx.shard = shard
        return _all_gather(tensor.detach(), shard)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad[ctx.shard.start : ctx.shard.stop], None


class _Combined(torch.autograd.Function):
    """``combined`` (``tensor`` combined across ranks, computed already), gradient to ``tensor``.

    The backward passes all of the gradient for a sum, this rank's rows for a gather.
    """

    @staticmethod
    def forward(
        ctx: Any, tensor: torch.Tensor, combined: torch.Tensor, rows: Shard | None
    ) -> torch.Tensor:
        ctx.rows = rows
        return combined.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        rows = ctx.rows
        return (grad if rows is None else grad[rows.start : rows.stop]), None, None


def _all_gather(tensor: torch.Tensor, shard: Shard) -> torch.Tensor:
    """Shares of every rank, padded to the largest for ``all_gather`` and concatenated in order."""
    size = world_size()
    shares = [Shard.of(shard.total, index, size) for index in range(size)]
    largest = max(s.n_trials for s in shares)
    padded = tensor.new_zeros((largest, *tensor.shape[1:]))
    padded[: tensor.shape[0]] = tensor
    parts = [torch.empty_like(padded) for _ in range(size)]
    dist.all_gather(parts, padded.contiguous())
    return torch.cat([part[: s.n_trials] for part, s in zip(parts, shares, strict=True)])


def gather_trials(tensor: torch.Tensor, shard: Shard) -> torch.Tensor:
    """Every rank's share of a batch, in trial order (gradients flow back to this rank's rows).

    Parameters
    ----------
    tensor : torch.Tensor
        This rank's share, shape (shard.n_trials, ...).
    shard : Shard
        Which share it is.

    Returns
    -------
    torch.Tensor
        Shape (shard.total, ...), the same on every rank; ``tensor`` itself in one process.

    Examples
    --------
    >>> import torch
    >>> shard = local_shard(4)  # one process: all 4 trials
    >>> spikes = torch.zeros(4, 100, 3)  # (n_trials, n_bins, n_neurons)
    >>> gathered = gather_trials(spikes, shard)
    >>> gathered.shape, gathered is spikes
    (torch.Size([4, 100, 3]), True)
    """
    if shard.whole:
        return tensor
    return _GatherTrials.apply(tensor, shard)


class TrialReducer:
    """How loss terms turn this rank's sums over trials into sums over the whole batch.

    :meth:`sum` and :meth:`gather` are differentiable (identity backward into this rank's
    share). Inside :meth:`evaluate`, all the sums of one loss evaluation travel in one all-reduce
    (and each gather once) instead of one collective per call.

    Parameters
    ----------
    shard : Shard
        This rank's trials of the batch.

    Examples
    --------
    One process holds the whole batch: sums and gathers return their input.

    >>> import torch
    >>> reducer = TrialReducer.single(3)
    >>> reducer, reducer.n_trials, reducer.parallel
    (TrialReducer(Shard(start=0, stop=3, total=3)), 3, False)
    >>> counts = torch.ones(3, 10, 2)  # (n_trials, n_bins, n_neurons)
    >>> psth_sum = reducer.sum(counts.sum(dim=0))  # sum over trials: (n_bins, n_neurons)
    >>> psth_sum.shape, reducer.gather(counts).shape
    (torch.Size([10, 2]), torch.Size([3, 10, 2]))
    >>> reducer.evaluate(lambda: reducer.sum(counts.sum()).item())
    60.0
    """

    def __init__(self, shard: Shard) -> None:
        self.shard = shard
        self._mode = "direct"  # or "collect" / "replay" inside evaluate
        self._groups: list[tuple[torch.Tensor, ...]] = []  # local sums, with their graph
        self._combined: list[torch.Tensor] = []
        self._gathers: list[torch.Tensor] = []
        self._position = [0, 0]
        self._subset_of_parallel: bool | None = None  # a part's: whether the batch is shared

    @classmethod
    def single(cls, n_trials: int) -> TrialReducer:
        """The reducer of one process holding all ``n_trials``."""
        return cls(Shard(0, n_trials, n_trials))

    def __repr__(self) -> str:
        return f"TrialReducer({self.shard!r})"

    @property
    def n_trials(self) -> int:
        """Trials in the whole batch (over all ranks)."""
        return self.shard.total

    @property
    def parallel(self) -> bool:
        """Whether other ranks hold part of the batch."""
        if self._subset_of_parallel is not None:
            return self._subset_of_parallel
        return not self.shard.whole

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` (a sum over this rank's trials) added over ranks; differentiable."""
        return self.sums(lambda: (tensor,))[0]

    def sums(self, compute: Callable[[], tuple[torch.Tensor, ...]]) -> tuple[torch.Tensor, ...]:
        """The tensors ``compute()`` returns (sums over this rank's trials) added over ranks.

        Inside :meth:`evaluate`'s second pass ``compute`` is not called again: the first pass's
        tensors (and their graph) are reused. Differentiable, identity backward.
        """
        if not self.parallel:
            return compute()
        if self._mode == "collect":
            parts = tuple(compute())
            self._groups.append(parts)
            return parts
        if self._mode == "replay":
            parts = self._groups[self._position[0]]
            self._position[0] += 1
            combined = self._combined[: len(parts)]
            del self._combined[: len(parts)]
            return tuple(
                _Combined.apply(part, total, None)
                for part, total in zip(parts, combined, strict=True)
            )
        return tuple(_SumAcrossRanks.apply(part) for part in compute())

    def part(self, shard: Shard) -> TrialReducer:
        """The reducer of a subset of the batch's trials (for :meth:`sum` and :meth:`sums`).

        Parameters
        ----------
        shard : Shard
            This rank's trials of the subset, numbered within the subset (``total``: the
            subset's trials over all ranks).

        Returns
        -------
        TrialReducer
            A view whose sums travel with this reducer's (inside :meth:`evaluate` too); it
            cannot :meth:`gather` (the other ranks' shares of a subset are not known).
        """
        view = copy.copy(self)  # shares the lists of collected sums and positions
        view.shard = shard
        view._subset_of_parallel = self.parallel  # a rank may hold all of a subset
        return view

    def gather(self, tensor: torch.Tensor) -> torch.Tensor:
        """The whole batch of a per-trial tensor (trials first): :func:`gather_trials`."""
        if self._subset_of_parallel is not None and self.parallel:
            raise ArgumentValueError(
                "Expected a reducer of the whole batch to gather trials, but got one of a subset "
                "of it (TrialReducer.part): measure a TrialStatistic from sums instead."
            )
        if not self.parallel:
            return tensor
        if self._mode == "collect":
            gathered = _all_gather(tensor.detach(), self.shard)
            self._gathers.append(gathered)
            return gathered
        if self._mode == "replay":
            gathered = self._gathers[self._position[1]]
            self._position[1] += 1
            return _Combined.apply(tensor, gathered, self.shard)
        return gather_trials(tensor, self.shard)

    def shared(self, value: torch.Tensor) -> torch.Tensor:
        """``value`` (the same on every rank) with ``1 / world_size`` of its gradient on each rank."""
        if not self.parallel:
            return value
        return value.detach() + (value - value.detach()) / world_size()

    def evaluate(self, function: Callable[[], T]) -> T:
        """``function()`` with all its sums across ranks in one all-reduce.

        In a data-parallel batch ``function`` runs twice: first to collect the local sums (its
        result is dropped), then, after one all-reduce of all of them, with each :meth:`sums`
        answering the added values without computing them again (and each :meth:`gather` the
        gathered trials). ``function`` must make the same calls in the same order both times
        (loss terms do). One process: a single call.
        """
        if not self.parallel:
            return function()
        self._mode, self._groups, self._gathers = "collect", [], []
        try:
            function()
            local = [part.detach() for group in self._groups for part in group]
            self._combined = _sum_all(local)
            self._mode, self._position = "replay", [0, 0]
            result = function()
            if self._position != [len(self._groups), len(self._gathers)]:
                raise RuntimeError(
                    "A loss term combined other sums across ranks in its second evaluation than "
                    "in its first: terms must call batch.reducer the same way every time (and "
                    "never branch on the values of the first pass, which are this rank's own)."
                )
            return result
        finally:
            self._mode, self._groups, self._combined, self._gathers = "direct", [], [], []


def _sum_all(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """Each tensor added over ranks, in one all-reduce per dtype (in a fixed order)."""
    results: list[torch.Tensor] = list(tensors)
    for dtype in sorted({tensor.dtype for tensor in tensors}, key=str):
        indices = [i for i, tensor in enumerate(tensors) if tensor.dtype == dtype]
        flat = torch.cat([tensors[i].reshape(-1) for i in indices])
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        offset = 0
        for i in indices:
            results[i] = flat[offset : offset + tensors[i].numel()].view_as(tensors[i])
            offset += tensors[i].numel()
    return results


def all_reduce_gradients(parameters: Any) -> None:
    """Add the gradients of ``parameters`` over ranks (one flat all-reduce); no-op in one process.

    Parameters
    ----------
    parameters : iterable of torch.Tensor
        E.g. ``module.parameters()``. Each ``.grad`` (same shape as its tensor) is replaced in
        place by its sum over ranks; tensors without a gradient are skipped.

    Examples
    --------
    >>> import torch
    >>> layer = torch.nn.Linear(2, 1)
    >>> layer(torch.ones(1, 2)).sum().backward()
    >>> all_reduce_gradients(layer.parameters())  # one process: the gradients stay as they are
    >>> layer.weight.grad.tolist(), layer.bias.grad.tolist()
    ([[1.0, 1.0]], [1.0])
    """
    if not is_distributed():
        return
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    offset = 0
    for grad in grads:
        grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
        offset += grad.numel()


def broadcast_object(payload: list[Any]) -> None:
    """Replace ``payload``'s items on every rank by rank 0's (picklable objects); no-op alone.

    Parameters
    ----------
    payload : list
        Picklable objects, the same number on every rank; replaced in place on the other ranks.

    Examples
    --------
    >>> payload = [{"seed": 7}, "report.html"]
    >>> broadcast_object(payload)  # one process: payload unchanged
    >>> payload
    [{'seed': 7}, 'report.html']
    """
    if is_distributed():
        dist.broadcast_object_list(payload, src=0)


def broadcast_parameters(module: torch.nn.Module) -> None:
    """Make every rank start from rank 0's parameters and buffers; no-op in one process.

    Parameters
    ----------
    module : torch.nn.Module
        Its parameters and buffers are overwritten in place with rank 0's (same shapes on every
        rank).

    Examples
    --------
    >>> import torch
    >>> layer = torch.nn.Linear(2, 1)
    >>> before = [tensor.detach().clone() for tensor in layer.parameters()]
    >>> broadcast_parameters(layer)  # one process: nothing to do
    >>> all(torch.equal(old, new) for old, new in zip(before, layer.parameters()))
    True
    """
    if not is_distributed():
        return
    with torch.no_grad():
        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.data, src=0)


def agree(value: float) -> float:
    """The maximum of a number over ranks, e.g. a flag any rank may raise.

    Parameters
    ----------
    value : float
        This rank's number (e.g. 1.0 for "stop", 0.0 for "go on").

    Returns
    -------
    float
        The largest ``value`` of all ranks, the same on every rank; ``value`` itself in one
        process.

    Examples
    --------
    >>> agree(0.0), agree(1.0)  # one process: the value itself
    (0.0, 1.0)
    """
    if not is_distributed():
        return value
    tensor = torch.tensor([float(value)], dtype=torch.float64, device=_collective_device())
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return float(tensor.item())


def raise_together(check: Callable[[], None]) -> None:
    """Run ``check`` on every rank; if it raises an ElephantFitError on any, raise on all.

    For checks whose answer can differ between ranks (free memory of each GPU): a rank that
    raised alone would leave the others waiting in their next collective.

    Parameters
    ----------
    check : callable
        Called without arguments; refuses by raising an
        :class:`~elephant_fit.errors.ElephantFitError` (other exceptions propagate at once, on
        that rank only).

    Raises
    ------
    ElephantFitError
        ``check``'s own error on a rank where it raised; on the others, an ElephantFitError saying
        that another rank refused.

    Examples
    --------
    >>> from elephant_fit.errors import MemoryLimitError
    >>> def check():
    ...     raise MemoryLimitError("this GPU has too little free memory")
    >>> try:
    ...     raise_together(check)  # one process: check's own error
    ... except MemoryLimitError as error:
    ...     print(error)
    this GPU has too little free memory
    >>> raise_together(lambda: None)  # no rank refuses: nothing happens
    """
    failure: ElephantFitError | None = None
    try:
        check()
    except ElephantFitError as error:
        failure = error
    if agree(1.0 if failure is not None else 0.0) and failure is None:
        raise ElephantFitError("Another rank refused this work (see its message); stopping.")
    if failure is not None:
        raise failure


def common_seed(seed: int | None) -> int | None:
    """``seed``, or where it is None in a multi-process run, one random seed drawn by rank 0.

    Ranks simulating shares of one run need the same random numbers.

    Parameters
    ----------
    seed : int or None
        The seed asked for (None: a fresh random one).

    Returns
    -------
    int or None
        ``seed`` when it is an int or in one process; else the seed rank 0 drew, the same on
        every rank.

    Examples
    --------
    >>> common_seed(7)
    7
    >>> common_seed(None) is None  # one process: no need to agree on a seed
    True
    """
    if seed is not None or not is_distributed():
        return seed
    drawn = torch.randint(0, 2**62, (1,), dtype=torch.int64).to(_collective_device())
    dist.broadcast(drawn, src=0)
    return int(drawn.item())


def _collective_device() -> torch.device:
    """Where small collective tensors live: the current CUDA device under NCCL, else the CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def launched_by_torchrun() -> bool:
    """Whether the environment describes a multi-process launch (``torchrun``, ``srun`` + env).

    Returns
    -------
    bool
        True when the environment variable ``WORLD_SIZE`` is above 1 and ``RANK`` is set.

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"WORLD_SIZE": "2", "RANK": "0"}):  # as torchrun sets
    ...     launched_by_torchrun()
    True
    >>> with mock.patch.dict(os.environ, {"WORLD_SIZE": "1", "RANK": "0"}):  # one process
    ...     launched_by_torchrun()
    False
    """
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def _choose_backend(backend: str) -> str:
    """'auto' -> gloo for CPU tensors and NCCL for CUDA tensors when GPUs cover the local ranks."""
    backend = check_choice(backend, "backend", BACKENDS)
    local_size = int(os.environ.get("LOCAL_WORLD_SIZE", os.environ.get("WORLD_SIZE", "1")))
    cuda = torch.cuda.is_available() and torch.cuda.device_count() >= local_size
    if backend == "auto":
        return "cpu:gloo,cuda:nccl" if cuda else "gloo"
    if backend == "nccl" and not cuda:
        raise ArgumentValueError(
            f"Expected a CUDA device for each of the {local_size} local ranks with backend='nccl', "
            f"but this machine has {torch.cuda.device_count() if torch.cuda.is_available() else 0}."
        )
    return backend


@contextlib.contextmanager
def process_group(backend: str = "auto") -> Iterator[bool]:
    """Initialise the process group described by the torchrun environment, and tear it down.

    Does nothing (and yields False) outside a multi-process launch or when a group is already
    initialised by the caller. Where CUDA is available each rank's current device is
    ``LOCAL_RANK`` (modulo the device count), so ``device='cuda'`` spreads the ranks. On a normal
    exit the ranks wait for each other (on a gloo group, for up to ``FINAL_WAIT_S``: rank 0
    may still be writing), then destroy the group; when the body raises, the group is destroyed
    at once (with gloo the other ranks then fail in their next collective; NCCL ranks wait for
    their timeout, ``TIMEOUT_S``, unless torchrun stops them first, as it does).

    Parameters
    ----------
    backend : {'auto', 'gloo', 'nccl'}
        'auto': when every local rank has a CUDA device, NCCL for CUDA tensors and gloo for CPU
        tensors (a model fitted on the CPU works too); else gloo.

    Yields
    ------
    bool
        Whether this call initialised a group.

    Examples
    --------
    >>> with process_group() as started:  # a plain Python process, not launched by torchrun
    ...     started, is_distributed(), world_size()
    (False, False, 1)
    """
    if not launched_by_torchrun() or (dist.is_available() and dist.is_initialized()):
        yield False
        return
    chosen = _choose_backend(backend)
    if torch.cuda.is_available():
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local_rank % torch.cuda.device_count())
    timeout = datetime.timedelta(seconds=TIMEOUT_S)
    dist.init_process_group(chosen, timeout=timeout)
    try:
        # the last wait may be long (rank 0 alone writing a report): a gloo group of its own
        final = dist.new_group(backend="gloo", timeout=datetime.timedelta(seconds=FINAL_WAIT_S))
        yield True
    except BaseException:
        dist.destroy_process_group()  # at once: the other ranks fail in their next collective
        raise
    try:
        dist.monitored_barrier(group=final, timeout=datetime.timedelta(seconds=FINAL_WAIT_S))
    finally:
        dist.destroy_process_group()


#: How long the other ranks wait at the end for rank 0's own work (summary, report).
FINAL_WAIT_S = 24 * 3600
