"""The recurrent sampling loop compiled with numba: forward and backward, parallel over trials.

Imported only when a compiled loop is used (never by ``import elephant_fit``): importing numba
and compiling the float32 Bernoulli loops take about 5 s on 2 cores
(``benchmarks/where_time_goes.py``), and the machine code is cached on disk (``cache=True``:
next to this file, or in numba's user-wide cache when the package folder is not writable), so
a later process's first pass takes about 0.2 s.

The loops compute what :func:`elephant_fit.network.recurrent.sample_loop` and the backward pass of
:class:`~elephant_fit.network.recurrent.RecurrentSampler` compute, trial by trial (``prange``):

* :func:`forward`, per trial and bin: the recurrent input of the last ``n_lags`` bins' spikes,
  adding only the weight rows of neurons that spiked (spikes are sparse: at 5 % of bins this is
  a twentieth of the dense product), then the sample of neurons ``first:``;
* :func:`backward`, per trial and bin in reverse: ``dL/du[t, sampled] += (dL/dz[t] + sum_l
  dL/du[t + l] @ W_l^T) * dz/du[t]``, accumulated four weight rows at a time and vectorised
  over the sampled neurons;
* :func:`weight_gradient`: ``sum_{k, t} window_t^T dL/du[t]``, reading only the spikes.

Arrays are numpy views of torch tensors (no copies); every argument's layout is stated below.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

#: Reassociation lets LLVM vectorise the dot products; no NaN/infinity assumptions are made.
_FASTMATH = {"reassoc", "contract", "nsz"}
#: torch's softplus threshold: above it softplus(x) is x.
_SOFTPLUS_THRESHOLD = 20.0
#: Poisson means above this are sampled by the normal approximation (as ``poisson_counts``).
_POISSON_SMALL = 20.0
#: Terms of the Poisson inverse CDF (as ``poisson_counts``).
_POISSON_TERMS = 80


@njit(cache=True, fastmath=_FASTMATH)
def _recurrent_input(
    u_row: np.ndarray, window: np.ndarray, weights: np.ndarray, total: np.ndarray
) -> None:  # pragma: no cover - compiled
    """Add the recurrent input of one trial's last ``n_lags`` bins to ``u_row`` (one bin).

    ``window`` (n_lags * n_sampled,): the spikes of bins ``t - n_lags .. t - 1``, oldest first;
    ``weights`` (n_lags * n_sampled, n); ``total`` (n,): scratch. Only the rows of neurons that
    spiked are read; the sum is formed first and then added, as ``addmm`` does.
    """
    n = u_row.shape[0]
    for j in range(n):
        total[j] = 0
    for i in range(window.shape[0]):
        z = window[i]
        if z != 0:
            for j in range(n):
                total[j] += z * weights[i, j]
    for j in range(n):
        u_row[j] += total[j]


#: What :func:`forward` samples: Bernoulli, or Poisson counts with the exp or softplus link.
BERNOULLI, POISSON_EXP, POISSON_SOFTPLUS = 0, 1, 2


@njit(parallel=True, nogil=True, cache=True, fastmath=_FASTMATH)
def forward(
    u: np.ndarray,
    weights: np.ndarray,
    noise: np.ndarray,
    normal: np.ndarray,
    history: np.ndarray,
    first: int,
    kind: int,
) -> None:  # pragma: no cover - compiled
    """The free run in place.

    ``u`` (n_trials, n_bins, n): the known input, completed in place; ``weights``
    (n_lags * n_sampled, n); ``noise`` (n_trials, n_bins, n_sampled): Bernoulli thresholds
    ``-noise`` in ``u``'s dtype, or Poisson uniforms in float64 with ``normal``, their normal
    quantiles ``sqrt(2) erfinv(2 uniform - 1)`` (unused for Bernoulli); ``history``
    (n_trials, (n_lags + n_bins) * n_sampled), zeros, filled from bin ``n_lags`` on; ``kind``:
    :data:`BERNOULLI`, :data:`POISSON_EXP` or :data:`POISSON_SOFTPLUS`.
    """
    n_trials, n_bins, n = u.shape
    n_sampled = noise.shape[2]
    width = weights.shape[0]
    for k in prange(n_trials):
        total = np.empty(n, dtype=u.dtype)
        spikes = history[k]
        for t in range(n_bins):
            row = u[k, t]
            _recurrent_input(row, spikes[t * n_sampled : t * n_sampled + width], weights, total)
            out = t * n_sampled + width
            for s in range(n_sampled):
                x = row[first + s]
                if kind == BERNOULLI:
                    spikes[out + s] = 1 if x > noise[k, t, s] else 0
                else:
                    spikes[out + s] = _poisson_count(
                        _mean(x, kind), noise[k, t, s], normal[k, t, s]
                    )


@njit(cache=True)
def _mean(x: float, kind: int) -> float:  # pragma: no cover - compiled
    """The Poisson mean count of pre-activation ``x`` (in ``x``'s dtype), as float64."""
    if kind == POISSON_EXP:
        mean = math.exp(x)
    elif x > _SOFTPLUS_THRESHOLD:  # torch's softplus threshold
        mean = x
    else:
        mean = math.log1p(math.exp(x))
    return np.float64(mean)


@njit(cache=True)
def _poisson_count(mean: float, uniform: float, normal: float) -> float:  # pragma: no cover
    """One Poisson count: inverse CDF for means up to 20, rounded normal approximation above."""
    lam = max(mean, 0.0)
    if lam > _POISSON_SMALL:
        return max(np.rint(lam + math.sqrt(lam) * normal), 0.0)
    term = math.exp(-lam)
    cdf = term
    count = 0.0
    for k in range(1, _POISSON_TERMS):
        if not uniform > cdf:
            break
        count += 1.0
        term = term * lam / k
        cdf = cdf + term
    return count


@njit(cache=True, fastmath=_FASTMATH)
def _pull_back(
    future: np.ndarray, direct: np.ndarray, backward_weights: np.ndarray, total: np.ndarray
) -> None:  # pragma: no cover - compiled
    """``total = direct + future @ backward_weights`` (one trial and bin), four rows at a time.

    ``future`` (n_lags * n,): dL/du of the next ``n_lags`` bins, lag 1 first; ``direct``
    (n_sampled,); ``backward_weights`` (n_lags * n, n_sampled); ``total`` (n_sampled,).
    """
    n_sampled = total.shape[0]
    width = future.shape[0]
    for s in range(n_sampled):
        total[s] = direct[s]
    stop = width - width % 4
    for i in range(0, stop, 4):
        g0, g1, g2, g3 = future[i], future[i + 1], future[i + 2], future[i + 3]
        for s in range(n_sampled):
            total[s] += (
                g0 * backward_weights[i, s]
                + g1 * backward_weights[i + 1, s]
                + g2 * backward_weights[i + 2, s]
                + g3 * backward_weights[i + 3, s]
            )
    for i in range(stop, width):
        g = future[i]
        for s in range(n_sampled):
            total[s] += g * backward_weights[i, s]


@njit(parallel=True, nogil=True, cache=True, fastmath=_FASTMATH)
def backward(
    grad_total: np.ndarray,
    direct: np.ndarray,
    slopes: np.ndarray,
    backward_weights: np.ndarray,
    first: int,
    n: int,
) -> None:  # pragma: no cover - compiled
    """The time loop of the backward pass, in place.

    ``grad_total`` (n_trials, (n_bins + n_lags) * n): dL/du from the loss, then ``n_lags`` zero
    bins; completed in place with the gradient through the spikes. ``direct`` and ``slopes``
    (n_trials, n_bins, n_sampled): dL/dz from the loss and the surrogate dz/du;
    ``backward_weights`` (n_lags * n, n_sampled): row ``(l - 1) * n + j`` holds the weights from
    the sampled neurons at lag ``l`` onto neuron ``j``.
    """
    n_trials, n_bins, n_sampled = direct.shape
    width = backward_weights.shape[0]
    for k in prange(n_trials):
        total = np.empty(n_sampled, dtype=grad_total.dtype)
        grads = grad_total[k]
        for t in range(n_bins - 1, -1, -1):
            future = grads[(t + 1) * n : (t + 1) * n + width]
            _pull_back(future, direct[k, t], backward_weights, total)
            target = t * n + first
            for s in range(n_sampled):
                grads[target + s] += total[s] * slopes[k, t, s]


@njit(parallel=True, nogil=True, cache=True, fastmath=_FASTMATH)
def weight_gradient(
    history: np.ndarray, grad_u: np.ndarray, n_lags: int, partial: np.ndarray
) -> None:  # pragma: no cover - compiled
    """Partial sums of ``dL/dW = sum_{k, t} window_t^T dL/du[t]``, reading only the spikes.

    ``history`` (n_trials, (n_lags + n_bins) * n_sampled); ``grad_u`` (n_trials, n_bins, n);
    ``partial`` (n_chunks, n_lags * n_sampled, n), zeros: chunk ``c`` sums the trials
    ``c, c + n_chunks, ...`` (the caller adds the chunks).
    """
    n_trials, n_bins, n = grad_u.shape
    n_chunks, width, _ = partial.shape
    n_sampled = width // n_lags
    for c in prange(n_chunks):
        total = partial[c]
        for k in range(c, n_trials, n_chunks):
            spikes = history[k]
            for t in range(n_bins):
                window = spikes[t * n_sampled : t * n_sampled + width]
                grad = grad_u[k, t]
                for i in range(width):
                    z = window[i]
                    if z != 0:
                        for j in range(n):
                            total[i, j] += z * grad[j]
