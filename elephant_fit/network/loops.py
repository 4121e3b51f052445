"""Which implementation runs the recurrent sampling loop: torch, numba, or autograd (the reference).

The loop over bins of the free run and of the hidden neurons in the teacher-forced pass
(:mod:`elephant_fit.network.recurrent`) has three implementations with the same samples, and a
default that chooses between them:

* ``"numba"``: compiled with numba (:mod:`elephant_fit.network._numba_loops`), parallel over
  trials, forward and hand-written backward; CPU only. Small and mid-sized networks are
  dispatch-bound in torch (hundreds of small matrix products per iteration), and the compiled loop
  removes that cost; its forward also skips the silent neurons' weights.
* ``"torch"``: the fused torch loop (one ``addmm`` per bin, hand-written backward); any device.
* ``"autograd"``: the same loop recorded op by op by autograd; the reference of the tests.
* ``"auto"`` (default): on the CPU with numba installed, the compiled loops while the network
  is small enough for them to be faster (:func:`resolve_loop`; crossovers measured by
  ``benchmarks/bench_fit.py --crossover``: the backward loop up to 100,000 weights, the forward
  loop up to 2 million); torch otherwise.

Choose with :func:`use_loop` (a context manager, per thread and task) or the environment variable
``ELEPHANT_FIT_LOOP``; the command line takes ``--loop``.

Examples
--------
>>> from elephant_fit.network import SpikingNetwork, simulate, use_loop
>>> network = SpikingNetwork(n_recorded=3, n_hidden=2, n_lags=4, seed=0)
>>> with use_loop("torch"):
...     spikes = simulate(network, n_trials=10, n_bins=50, seed=1).spikes
>>> spikes.shape
torch.Size([10, 50, 5])
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
from collections.abc import Iterator
from typing import Any

import torch

from .._validation import check_choice
from ..errors import ArgumentValueError
from .observation import Bernoulli, Observation, Poisson, normal_quantiles

__all__ = ["LOOPS", "get_loop", "numba_available", "resolve_loop", "use_loop"]

#: Names of the recurrent loop's implementations (:func:`use_loop`, ``$ELEPHANT_FIT_LOOP``).
LOOPS = ("auto", "numba", "torch", "autograd")
#: Largest ``n_lags * n_sampled * n_neurons`` (the sampled neurons' weights) for which "auto" runs
#: the backward loop compiled: beyond it the weights leave the core's cache and torch's blocked
#: matrix products win (measured by ``benchmarks/bench_fit.py --crossover``, 2 cores).
NUMBA_BACKWARD_MAX_WEIGHTS = 100_000
#: The same for the forward loop, which reads only the spiking neurons' weights: faster up to
#: 200 + 100 neurons with 9 lags (810,000 weights), level with torch at 1000 neurons (9 million),
#: where "auto" keeps torch.
NUMBA_FORWARD_MAX_WEIGHTS = 2_000_000

_LOOP: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "elephant_fit_loop", default=None
)


def get_loop() -> str:
    """The loop chosen by :func:`use_loop`, else ``$ELEPHANT_FIT_LOOP``, else ``"auto"``.

    The innermost :func:`use_loop` block wins; outside any block the environment variable
    ``ELEPHANT_FIT_LOOP`` is read on every call.

    Returns
    -------
    str
        One of :data:`LOOPS`: ``"auto"``, ``"numba"``, ``"torch"`` or ``"autograd"``.

    Raises
    ------
    ArgumentValueError
        Outside a :func:`use_loop` block, when ``$ELEPHANT_FIT_LOOP`` is not one of
        :data:`LOOPS`.

    Examples
    --------
    >>> from elephant_fit.network import get_loop, use_loop
    >>> with use_loop("autograd"):
    ...     with use_loop("torch"):
    ...         inner = get_loop()
    ...     outer = get_loop()
    >>> inner, outer
    ('torch', 'autograd')
    """
    chosen = _LOOP.get()
    if chosen is None:
        chosen = check_choice(
            os.environ.get("ELEPHANT_FIT_LOOP", "auto"), "ELEPHANT_FIT_LOOP", LOOPS
        )
    return chosen


@contextlib.contextmanager
def use_loop(loop: str) -> Iterator[str]:
    """Run the recurrent loops of the enclosed code with ``loop`` (one of :data:`LOOPS`).

    Parameters
    ----------
    loop : str
        ``"auto"``, ``"numba"``, ``"torch"`` or ``"autograd"``. ``"numba"`` needs numba
        (``pip install numba``): it is refused at once without it, and a loop it cannot run
        (GPU tensors, another observation model or dtype) is refused when it starts.

    Yields
    ------
    str
        The loop, as :func:`get_loop` returns it inside the block.

    Raises
    ------
    ArgumentValueError
        When ``loop`` is not one of :data:`LOOPS`, or is ``"numba"`` and numba cannot be loaded.

    Examples
    --------
    The loops give the same spikes (here the torch loop and the autograd reference):

    >>> import torch
    >>> from elephant_fit.network import SpikingNetwork, simulate, use_loop
    >>> network = SpikingNetwork(n_recorded=2, n_hidden=1, n_lags=3, seed=0)
    >>> with use_loop("torch") as loop:
    ...     spikes = simulate(network, n_trials=2, n_bins=5, seed=0).spikes
    >>> loop, spikes.shape  # (n_trials, n_bins, n_neurons)
    ('torch', torch.Size([2, 5, 3]))
    >>> with use_loop("autograd"):
    ...     reference = simulate(network, n_trials=2, n_bins=5, seed=0).spikes
    >>> bool(torch.equal(spikes, reference))
    True
    """
    loop = check_choice(loop, "loop", LOOPS)
    if loop == "numba" and not numba_available():
        raise ArgumentValueError(
            f"Expected numba to be importable for `loop='numba'` (pip install numba), but "
            f"loading the compiled loops failed ({_numba_import_error()})."
        )
    token = _LOOP.set(loop)
    try:
        yield loop
    finally:
        _LOOP.reset(token)


@functools.cache
def _numba_import_error() -> str | None:
    """Why the compiled loops cannot be loaded (None when they can); tried once, on first use.

    numba may be missing or built for another numpy, and its on-disk cache needs a writable
    folder (next to the package or ``NUMBA_CACHE_DIR``): "auto" then runs the torch loop.
    """
    try:
        from . import _numba_loops  # noqa: F401
    except (ImportError, RuntimeError, OSError) as error:
        return f"{type(error).__name__}: {error}"
    return None


def numba_available() -> bool:
    """Whether the compiled loops can be loaded (numba is imported on the first call, not before)."""
    return _numba_import_error() is None


def resolve_loop(
    observation: Observation, weights: torch.Tensor, surrogate_closed_form: bool
) -> tuple[str, str]:
    """The loops that run now, forward and backward: the chosen one, or the faster for this size.

    Parameters
    ----------
    observation : Observation
        The observation model (numba runs Bernoulli and Poisson).
    weights : torch.Tensor
        The sampled neurons' outgoing weights, shape (n_lags * n_sampled, n_neurons).
    surrogate_closed_form : bool
        Whether the surrogate's derivative has a closed form (else only autograd can run).

    Returns
    -------
    forward, backward : str
        Each ``"numba"``, ``"torch"`` or ``"autograd"`` (then both).
    """
    loop = get_loop()
    if not surrogate_closed_form or loop == "autograd":
        return "autograd", "autograd"
    compilable = (
        weights.device.type == "cpu"
        and weights.dtype in (torch.float32, torch.float64)
        and type(observation) in (Bernoulli, Poisson)
    )
    if loop == "numba" and not compilable:
        raise ArgumentValueError(
            f"Expected float32 or float64 CPU tensors and a Bernoulli or Poisson observation for "
            f"`loop='numba'`, but got {weights.dtype} {weights.device} tensors and "
            f"{observation!r}."
        )
    if loop == "numba":
        return "numba", "numba"
    size = weights.numel()
    if loop == "torch" or not compilable or size > NUMBA_FORWARD_MAX_WEIGHTS:
        return "torch", "torch"
    if not numba_available():
        return "torch", "torch"
    return "numba", "numba" if size <= NUMBA_BACKWARD_MAX_WEIGHTS else "torch"


def _as_numpy(tensor: torch.Tensor) -> Any:
    """A numpy view of a contiguous CPU tensor (no copy, no autograd)."""
    return tensor.detach().numpy()


def _threads() -> None:
    """Numba uses as many threads as torch (at most what numba was started with)."""
    import numba

    numba.set_num_threads(max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS)))


def _numba_kind(observation: Observation) -> int:
    """What the compiled loops sample for ``observation`` (a constant of ``_numba_loops``).

    Returns
    -------
    int
        ``BERNOULLI``, ``POISSON_EXP`` or ``POISSON_SOFTPLUS``.
    """
    from . import _numba_loops

    if isinstance(observation, Bernoulli):
        return _numba_loops.BERNOULLI
    if observation.link == "softplus":
        return _numba_loops.POISSON_SOFTPLUS
    return _numba_loops.POISSON_EXP


def numba_forward(
    observation: Observation,
    u_known: torch.Tensor,
    weights: torch.Tensor,
    noise: torch.Tensor,
    first: int,
    n_lags: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The sampling loop compiled with numba (arguments and returns of :func:`~elephant_fit.network.recurrent.sample_loop`).

    Returns
    -------
    history, u : torch.Tensor
        Shapes (n_trials, n_lags + n_bins, n_sampled) and (n_trials, n_bins, n_neurons), both
        contiguous.
    """
    from . import _numba_loops

    _threads()
    n_trials, n_bins, n_neurons = u_known.shape
    like = {"dtype": weights.dtype, "device": weights.device}
    u = u_known.detach().to(**like, memory_format=torch.contiguous_format, copy=True)
    history = torch.zeros(n_trials, n_lags + n_bins, n_neurons - first, **like)
    arrays = (_as_numpy(u), _as_numpy(weights.detach().contiguous()))
    if isinstance(observation, Bernoulli):
        noise = observation.prepare_noise(noise.detach()).to(**like).contiguous()
        normal = noise
    else:
        noise = noise.detach().double().contiguous()
        normal = normal_quantiles(noise)
    _numba_loops.forward(
        *arrays,
        _as_numpy(noise),
        _as_numpy(normal),
        _as_numpy(history.view(n_trials, -1)),
        first,
        _numba_kind(observation),
    )
    return history, u


def numba_backward(
    grad_total: torch.Tensor,
    direct: torch.Tensor,
    slopes: torch.Tensor,
    backward_weights: torch.Tensor,
    first: int,
) -> None:
    """The backward time loop compiled with numba, in place on ``grad_total``.

    Parameters
    ----------
    grad_total : torch.Tensor
        Shape (n_trials, n_bins + n_lags, n_neurons), contiguous: dL/du, then ``n_lags`` zero
        bins; the gradient through the spikes is added in place.
    direct, slopes : torch.Tensor
        Shape (n_trials, n_bins, n_sampled): dL/dz from the loss and the surrogate dz/du.
    backward_weights : torch.Tensor
        Shape (n_lags * n_neurons, n_sampled): row ``(l - 1) * n_neurons + j`` holds the weights
        from the sampled neurons at lag ``l`` onto neuron ``j``.
    first : int
        Index of the first sampled neuron.
    """
    from . import _numba_loops

    _threads()
    n_trials, _, n_neurons = grad_total.shape
    dtype = grad_total.dtype
    _numba_loops.backward(
        _as_numpy(grad_total.view(n_trials, -1)),
        _as_numpy(direct.detach().to(dtype).contiguous()),
        _as_numpy(slopes.detach().to(dtype).contiguous()),
        _as_numpy(backward_weights.detach().contiguous()),
        first,
        n_neurons,
    )


#: Trials are summed in this many chunks in parallel by :func:`numba_weight_gradient`.
WEIGHT_GRADIENT_CHUNKS = 8


def numba_weight_gradient(history: torch.Tensor, grad_u: torch.Tensor, n_lags: int) -> torch.Tensor:
    """The weight gradient ``sum_{k, t} window_t^T dL/du[t]`` compiled, reading only the spikes.

    Parameters
    ----------
    history : torch.Tensor
        Shape (n_trials, n_lags + n_bins, n_sampled), contiguous: empty bins, then the spikes.
    grad_u : torch.Tensor
        Shape (n_trials, n_bins, n_neurons): dL/du.
    n_lags : int
        Length of the spike history.

    Returns
    -------
    torch.Tensor
        Shape (n_lags * n_sampled, n_neurons), rows oldest lag first (as the weights).
    """
    from . import _numba_loops

    _threads()
    n_trials, _, n_sampled = history.shape
    n_chunks = min(n_trials, WEIGHT_GRADIENT_CHUNKS)
    partial = torch.zeros(
        n_chunks, n_lags * n_sampled, grad_u.shape[2], dtype=grad_u.dtype, device=grad_u.device
    )
    _numba_loops.weight_gradient(
        _as_numpy(history.view(n_trials, -1)),
        _as_numpy(grad_u.contiguous()),
        n_lags,
        _as_numpy(partial),
    )
    return partial.sum(0)
