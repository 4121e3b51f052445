"""The particle filter's loop over bins compiled with numba, parallel over filters (no gradients).

Imported only when the compiled filter runs (never by ``import elephant_fit``); the machine code
is cached on disk like that of :mod:`elephant_fit.network._numba_loops`.

:func:`run_bins` computes, filter by filter (``prange``), what the torch loop of
:func:`elephant_fit.network.likelihood._filter` computes: per bin, each particle's input (adding
only the weight rows of hidden neurons that spiked), its weight from the recorded spikes, the
running ``log mean(weights)``, systematic resampling, and the hidden spikes of the bin (from the
look-ahead proposal of :func:`elephant_fit.network.likelihood._guided_sample` for Bernoulli
networks, from the model otherwise). The random numbers are drawn by the caller, in the torch
loop's order, so both loops filter with the same numbers.

Arrays are numpy views of torch tensors; every argument's layout is stated below.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._numba_loops import _FASTMATH, _SOFTPLUS_THRESHOLD, BERNOULLI, POISSON_EXP, _mean
from ._numba_loops import _poisson_count as _poisson_sample

#: Products of at most this many softplus factors (each in [1, 2], or ratios in [1/2, 2]) stay
#: within float64's range, so they take one logarithm.
_FACTORS_PER_LOG = 1000
#: Above this ``a``, ``exp(-a)`` is taken as ``exp(-_EXP_CUT)`` (4.2e-18, below float64's
#: resolution of 1: ``1 + exp(-a)`` is 1 either way).
_EXP_CUT = 40.0
#: Taylor coefficients of exp, highest order first (degree 13 on [-40/128, 0]).
_C13, _C12, _C11, _C10, _C9, _C8, _C7 = (1 / math.factorial(k) for k in range(13, 6, -1))
_C6, _C5, _C4, _C3, _C2, _C1, _C0 = (1 / math.factorial(k) for k in range(6, -1, -1))


@njit(inline="always", fastmath=_FASTMATH)
def _exp_neg(a: float) -> float:  # pragma: no cover - compiled
    """``exp(-a)`` for ``a >= 0``, in arithmetic only, so that loops over it vectorise.

    ``exp(-a) = exp(-a / 128) ** 128``: a Taylor polynomial of degree 13 on ``[-0.3125, 0]``,
    squared seven times (relative error below 2e-14 against ``math.exp``; ``a`` is cut at
    :data:`_EXP_CUT`). ``math.exp`` is a scalar library call (5 ns) that LLVM cannot vectorise
    without a vector math library, which llvmlite's wheels lack.
    """
    y = -min(a, _EXP_CUT) * (1.0 / 128.0)
    p = _C13 * y + _C12
    p = p * y + _C11
    p = p * y + _C10
    p = p * y + _C9
    p = p * y + _C8
    p = p * y + _C7
    p = p * y + _C6
    p = p * y + _C5
    p = p * y + _C4
    p = p * y + _C3
    p = p * y + _C2
    p = p * y + _C1
    p = p * y + _C0
    for _ in range(7):
        p = p * p
    return p


@njit(inline="always", fastmath=_FASTMATH)
def _sigmoid_from(x: float, e: float) -> float:  # pragma: no cover - compiled
    """``sigmoid(x)`` given ``e = exp(-|x|)``."""
    return (1.0 if x >= 0 else e) / (1.0 + e)


@njit(inline="always", fastmath=_FASTMATH)
def _softplus_factor(x: float, e: float) -> float:  # pragma: no cover - compiled
    """``exp(softplus(x) - max(x, 0))`` given ``e = exp(-|x|)``: 1 above torch's threshold."""
    return 1.0 if x > _SOFTPLUS_THRESHOLD else 1.0 + e


@njit(cache=True)
def _neg_log_likelihood(
    u: float, count: float, kind: int, tiny: float
) -> float:  # pragma: no cover
    """One neuron's Poisson negative log-likelihood in one bin (as :class:`~elephant_fit.network.Poisson`)."""
    if kind == POISSON_EXP:
        return math.exp(u) - count * u + math.lgamma(count + 1.0)
    rate = max(u, 0.0) + math.log(_softplus_factor(u, math.exp(-abs(u))))
    return rate - count * math.log(rate + tiny) + math.lgamma(count + 1.0)


@njit(cache=True, fastmath=_FASTMATH)
def _recorded_nll(
    u: np.ndarray, counts: np.ndarray, kind: int, tiny: float
) -> float:  # pragma: no cover
    """Negative log-likelihood of one bin's recorded counts, summed over neurons.

    Bernoulli: ``sum softplus(u) - counts * u`` as ``sum max(u, 0) - counts * u`` plus the
    logarithm of the product of the factors ``1 + exp(-|u|)`` (one logarithm per
    :data:`_FACTORS_PER_LOG` neurons).
    """
    total = 0.0
    n = u.shape[0]
    if kind != BERNOULLI:
        for r in range(n):
            total += _neg_log_likelihood(u[r], counts[r], kind, tiny)
        return total
    for start in range(0, n, _FACTORS_PER_LOG):
        product = 1.0
        for r in range(start, min(start + _FACTORS_PER_LOG, n)):
            x = u[r]
            total += max(x, 0.0) - counts[r] * x
            product *= _softplus_factor(x, _exp_neg(abs(x)))
        total += math.log(product)
    return total


@njit(cache=True, fastmath=_FASTMATH)
def _add_spiking_rows(
    out: np.ndarray, window: np.ndarray, weights: np.ndarray, columns: int
) -> None:  # pragma: no cover - compiled
    """``out[:columns] += window @ weights[:, :columns]``, reading only the rows where ``window != 0``."""
    for i in range(window.shape[0]):
        z = window[i]
        if z != 0:
            for j in range(columns):
                out[j] += z * weights[i, j]


@njit(cache=True)
def _resample(
    log_w: np.ndarray, start: float, cumulative: np.ndarray, ancestors: np.ndarray
) -> float:  # pragma: no cover - compiled
    """Systematic resampling: fill ``ancestors``; return ``log mean(exp(log_w))``.

    Points ``(start + k) / K`` on the normalised cumulative weights (the last set to 1); particle
    ``k``'s ancestor is the first index whose cumulative weight exceeds point ``k``.
    """
    n_particles = log_w.shape[0]
    top = log_w.max()
    total = 0.0
    for k in range(n_particles):
        cumulative[k] = math.exp(log_w[k] - top)
        total += cumulative[k]
    running = 0.0
    for k in range(n_particles):
        running += cumulative[k] / total
        cumulative[k] = running
    cumulative[n_particles - 1] = 1.0
    i = 0
    for k in range(n_particles):
        point = start / n_particles + k / n_particles
        while i < n_particles - 1 and cumulative[i] <= point:
            i += 1
        ancestors[k] = i
    return top + math.log(total) - math.log(n_particles)


@njit(cache=True, fastmath=_FASTMATH)
def _guided(
    u_hidden: np.ndarray,
    older: np.ndarray,
    r_next: np.ndarray,
    lag1: np.ndarray,
    lag1_t: np.ndarray,
    lookahead: float,
    noise: np.ndarray,
    spikes: np.ndarray,
    scratch: np.ndarray,
) -> float:  # pragma: no cover - compiled
    """One particle's hidden spikes from the look-ahead proposal; return the log-weight correction.

    ``u_hidden`` (n_hidden,): prior logits; ``older`` (n_rec,): the recorded neurons' next input
    without this bin's hidden spikes (overwritten); ``r_next`` (n_rec,); ``lag1`` (3, n_hidden,
    n_rec): the lag-1 weights from hidden to recorded neurons, their squares and cubes, float64,
    and ``lag1_t`` the same transposed (3, n_rec, n_hidden); ``noise`` (n_hidden,): logistic
    noise; ``spikes`` (n_hidden,): out; ``scratch`` (8, max(n_rec, n_hidden)), float64. The expansion is that of
    :func:`elephant_fit.network.likelihood._lookahead_gain`.
    """
    n_hidden, n_rec = lag1.shape[1], lag1.shape[2]
    p, e_prior = scratch[0, :n_hidden], scratch[1, :n_hidden]
    for h in range(n_hidden):
        e_prior[h] = _exp_neg(abs(u_hidden[h]))
        p[h] = _sigmoid_from(u_hidden[h], e_prior[h])
    mean_input = older
    for h in range(n_hidden):
        ph, weight = p[h], lag1[0, h]
        for r in range(n_rec):
            mean_input[r] += ph * weight[r]
    residual, slope, third = scratch[2, :n_rec], scratch[3, :n_rec], scratch[4, :n_rec]
    for r in range(n_rec):
        x = mean_input[r]
        rate = _sigmoid_from(x, _exp_neg(abs(x)))
        residual[r] = r_next[r] - rate
        slope[r] = rate * (1.0 - rate)
        third[r] = slope[r] * (1.0 - 2.0 * rate)
    # the three expansion terms of every hidden neuron, one pass over the recorded neurons
    first, second, cubed = scratch[5, :n_hidden], scratch[6, :n_hidden], scratch[7, :n_hidden]
    first[:] = 0.0
    second[:] = 0.0
    cubed[:] = 0.0
    for r in range(n_rec):
        c1, c2, c3 = residual[r], slope[r], third[r]
        w1, w2, w3 = lag1_t[0, r], lag1_t[1, r], lag1_t[2, r]
        for h in range(n_hidden):
            first[h] += c1 * w1[h]
            second[h] += c2 * w2[h]
            cubed[h] += c3 * w3[h]
    # log prior - log proposal of the sampled spikes = sum_h [softplus(proposal) - s proposal
    # - softplus(prior) + s prior]: the linear parts summed, the logarithms gathered in ratios
    correction = 0.0
    for start in range(0, n_hidden, _FACTORS_PER_LOG):
        ratio = 1.0
        for h in range(start, min(start + _FACTORS_PER_LOG, n_hidden)):
            ph = p[h]
            cubic = 1.0 - 3.0 * ph * (1.0 - ph)
            gain = first[h] - (1.0 - 2.0 * ph) * second[h] / 2.0 - cubic * cubed[h] / 6.0
            prior = u_hidden[h]
            proposal = prior + lookahead * gain
            spike = 1.0 if proposal + noise[h] > 0 else 0.0
            spikes[h] = spike
            correction += max(proposal, 0.0) - spike * proposal - max(prior, 0.0) + spike * prior
            ratio *= _softplus_factor(proposal, _exp_neg(abs(proposal))) / _softplus_factor(
                prior, e_prior[h]
            )
        correction += math.log(ratio)
    return correction


@njit(parallel=True, nogil=True, cache=True, fastmath=_FASTMATH)
def run_bins(
    u_known: np.ndarray,
    recorded: np.ndarray,
    weights: np.ndarray,
    starts: np.ndarray,
    noise: np.ndarray,
    normal: np.ndarray,
    first_bin: int,
    n_replicates: int,
    kind: int,
    lag1: np.ndarray,
    lag1_t: np.ndarray,
    lookahead: float,
    tiny: float,
    window: np.ndarray,
    correction: np.ndarray,
    log_z: np.ndarray,
    trace_ancestors: np.ndarray,
    trace_spikes: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Filter bins ``first_bin .. first_bin + len(starts) - 1``, updating the filters' state in place.

    ``u_known`` (n_trials, n_bins, n): inputs without the hidden neurons'; ``recorded``
    (n_trials, n_bins, n_rec); ``weights`` (n_lags * n_hidden, n): the hidden neurons' outgoing
    weights, oldest lag first; ``starts`` (block, F): each filter's resampling uniform per bin;
    ``noise`` (block, F, K, n_hidden): logistic noise (Bernoulli) or uniforms (Poisson, with
    their normal quantiles in ``normal``; else unused); filter ``f`` follows trial
    ``f // n_replicates``; ``lag1`` (3, n_hidden, n_rec): the lag-1 weights from hidden to
    recorded neurons, their squares and cubes, float64, and ``lag1_t`` the same transposed
    (3, n_rec, n_hidden); ``lookahead`` > 0: guided proposal
    (Bernoulli only), 0: bootstrap.
    State: ``window`` (F, K, n_lags * n_hidden), hidden spikes of the last bins, oldest first;
    ``correction`` (F, K), prior-to-proposal log-ratios of the last sample; ``log_z`` (F,).
    ``trace_ancestors`` (block, F, K) and ``trace_spikes`` (block, F, K, n_hidden) receive the
    genealogy when their first axis is not empty.
    """
    n_bins, n = u_known.shape[1], u_known.shape[2]
    n_rec = recorded.shape[2]
    block, n_filters, n_particles, n_hidden = noise.shape
    width = window.shape[2]
    keep = trace_ancestors.shape[0] > 0
    for f in prange(n_filters):
        trial = f // n_replicates
        u = np.empty((n_particles, n), dtype=u_known.dtype)
        log_w = np.empty(n_particles, dtype=np.float64)
        cumulative = np.empty(n_particles, dtype=np.float64)
        ancestors = np.empty(n_particles, dtype=np.int64)
        resampled = np.empty((n_particles, width), dtype=window.dtype)
        older = np.empty(n_rec, dtype=np.float64)
        scratch = np.empty((8, max(n_rec, n_hidden)), dtype=np.float64)
        spikes = np.empty(n_hidden, dtype=np.float64)
        for b in range(block):
            t = first_bin + b
            for k in range(n_particles):
                u[k, :] = u_known[trial, t]
                _add_spiking_rows(u[k], window[f, k], weights, n)
                log_w[k] = correction[f, k] - _recorded_nll(
                    u[k, :n_rec], recorded[trial, t], kind, tiny
                )
            log_z[f] += _resample(log_w, starts[b, f], cumulative, ancestors)
            guided = lookahead > 0 and t + 1 < n_bins
            for k in range(n_particles):
                resampled[k, :] = window[f, ancestors[k]]
            for k in range(n_particles):
                a = ancestors[k]
                hidden = u[a, n_rec:]
                if guided:
                    for r in range(n_rec):
                        older[r] = u_known[trial, t + 1, r]
                    _add_spiking_rows(older, resampled[k, n_hidden:], weights, n_rec)
                    correction[f, k] = _guided(
                        hidden,
                        older,
                        recorded[trial, t + 1],
                        lag1,
                        lag1_t,
                        lookahead,
                        noise[b, f, k],
                        spikes,
                        scratch,
                    )
                elif kind == BERNOULLI:
                    for h in range(n_hidden):
                        spikes[h] = 1.0 if hidden[h] + noise[b, f, k, h] > 0 else 0.0
                else:
                    for h in range(n_hidden):
                        mean = _mean(hidden[h], kind)
                        spikes[h] = _poisson_sample(mean, noise[b, f, k, h], normal[b, f, k, h])
                window[f, k, : width - n_hidden] = resampled[k, n_hidden:]
                window[f, k, width - n_hidden :] = spikes
                if keep:
                    trace_ancestors[b, f, k] = a
                    trace_spikes[b, f, k] = spikes
