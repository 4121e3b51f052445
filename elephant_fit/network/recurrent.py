"""The fused recurrent kernel: sampling bin by bin with a hand-written backward pass.

Both the free run and the teacher-forced pass with hidden neurons sample some neurons bin by bin,
each bin's input depending on the spikes of the last ``n_lags`` bins::

    u[:, t] = u_known[:, t] + window_t @ W,   window_t = (z[:, t - L], ..., z[:, t - 1])
    z[:, t] = sample(u[:, t, first:], noise[:, t])

Recorded by autograd, every bin adds a handful of small nodes to the graph, and at 100-1000 bins
that graph, not the arithmetic, is the cost. :class:`RecurrentSampler` is one autograd node:

* forward (no graph): one ``addmm`` per bin into preallocated buffers; it keeps the
  pre-activations ``u`` and the spikes;
* backward: the time loop in reverse, one ``addmm`` per bin for the gradient through the spike
  history, ``dL/dz[t] = dL/dz[t] (direct) + sum_l dL/du[t + l] @ W_l^T``, then
  ``dL/du[t, sampled] += dL/dz[t] * dz/du[t]`` with the surrogate derivative ``dz/du``; the weight
  gradient is one matrix product over all bins at the end, ``H^T @ dL/du`` with ``H`` the lagged
  spikes.

Its forward values are those of the autograd loop (:func:`recurrent_loop_autograd`, the reference,
also used for surrogates without a closed-form derivative); its gradients equal autograd's up to
rounding (tested in float64 and float32). The time loops of both passes run in torch (below) or
compiled by numba (:mod:`elephant_fit.network._numba_loops`), as
:func:`~elephant_fit.network.loops.resolve_loop` chooses; the compiled forward loop gives the same
spikes and adds the recurrent input in another order (the same ``u`` up to rounding).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.autograd.function import once_differentiable

from .loops import numba_backward, numba_forward, numba_weight_gradient, resolve_loop
from .observation import Observation
from .surrogates import Surrogate

__all__ = ["RecurrentSampler", "recurrent_loop_autograd", "recurrent_sample", "sample_loop"]


def recurrent_sample(
    observation: Observation,
    u_known: torch.Tensor,
    weights: torch.Tensor,
    noise: torch.Tensor,
    surrogate: Surrogate | None,
    first: int,
    n_lags: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample neurons ``first:`` bin by bin, adding their recurrent input to ``u_known``.

    The loop runs compiled (numba), fused (torch) or recorded by autograd, as
    :func:`~elephant_fit.network.loops.use_loop` chooses; all give the same spikes.

    Parameters
    ----------
    observation : Observation
        The observation model (sampler and its derivative).
    u_known : torch.Tensor
        Shape (n_trials, n_bins, n_neurons): the input that does not depend on the sampled
        neurons (an expanded view is fine).
    weights : torch.Tensor
        Shape (n_lags * n_sampled, n_neurons): the sampled neurons' outgoing weights, rows oldest
        lag first (:func:`elephant_fit.network.simulation.sampled_weights`).
    noise : torch.Tensor
        Shape (n_trials, n_bins, n_sampled), from ``observation.noise``.
    surrogate : Surrogate or None
        Gradient surrogate of binary samples.
    first : int
        Index of the first sampled neuron (0: all, the free run; n_recorded: the hidden ones).
    n_lags : int
        Length of the spike history.

    Returns
    -------
    spikes, u : torch.Tensor
        Shapes (n_trials, n_bins, n_sampled) and (n_trials, n_bins, n_neurons).
    """
    loops = resolve_loop(observation, weights, _has_closed_form(observation, surrogate))
    if loops[0] == "autograd":
        return recurrent_loop_autograd(
            observation, u_known, weights, noise, surrogate, first, n_lags
        )
    return RecurrentSampler.apply(
        u_known, weights, noise, observation, surrogate, first, n_lags, loops
    )


def _has_closed_form(observation: Observation, surrogate: Surrogate | None) -> bool:
    """Whether ``observation.sample_derivative`` answers for this surrogate."""
    probe = torch.zeros(1)
    try:
        observation.sample_derivative(probe, probe, surrogate)
    except NotImplementedError:
        return False
    return True


def recurrent_loop_autograd(
    observation: Observation,
    u_known: torch.Tensor,
    weights: torch.Tensor,
    noise: torch.Tensor,
    surrogate: Surrogate | None,
    first: int,
    n_lags: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The reference: the same loop recorded op by op by autograd (arguments of :func:`recurrent_sample`)."""
    n_trials, n_bins, n_neurons = u_known.shape
    zero = torch.zeros(n_trials, n_neurons - first, dtype=u_known.dtype, device=u_known.device)
    recent = [zero] * n_lags
    spikes, us = [], []
    for t in range(n_bins):
        u_t = torch.addmm(u_known[:, t], torch.cat(recent, dim=1), weights)
        z_t = observation.sample(u_t[:, first:], noise[:, t], surrogate)
        recent = [*recent[1:], z_t]
        spikes.append(z_t)
        us.append(u_t)
    return torch.stack(spikes, dim=1), torch.stack(us, dim=1)


def sample_loop(
    observation: Observation,
    u_known: torch.Tensor,
    weights: torch.Tensor,
    noise: torch.Tensor,
    first: int,
    n_lags: int,
    loop: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The sampling loop without autograd: one addmm per bin into preallocated buffers.

    The forward pass of :class:`RecurrentSampler` and the free run without gradients
    (arguments of :func:`recurrent_sample`); nothing is allocated per bin. ``loop`` "numba"
    runs the compiled loop instead (default: as :func:`~elephant_fit.network.loops.resolve_loop`
    chooses).

    Returns
    -------
    history, u : torch.Tensor
        Shapes (n_trials, n_lags + n_bins, n_sampled): ``n_lags`` empty bins, then the sampled
        spikes; and (n_trials, n_bins, n_neurons) (a transposed view of a time-first buffer).
    """
    if loop is None:
        loop = resolve_loop(observation, weights, surrogate_closed_form=True)[0]
    if loop == "numba":
        history, u = numba_forward(observation, u_known, weights, noise, first, n_lags)
        return history, u
    n_trials, n_bins, n_neurons = u_known.shape
    n_sampled = n_neurons - first
    like = {"dtype": weights.dtype, "device": weights.device}
    history = torch.zeros(n_trials, n_lags + n_bins, n_sampled, **like)
    u = torch.empty(n_bins, n_trials, n_neurons, **like)  # time first: u[t] is contiguous
    u.copy_(u_known.transpose(0, 1))  # then each bin adds its recurrent input in place
    # per-bin views made once (indexing in the loop costs more than the arithmetic)
    windows = _windows(history, n_bins, n_lags)  # spikes of bins t - L .. t - 1
    u_bins = u.unbind(0)
    sampled = u_bins if first == 0 else u[..., first:].unbind(0)
    noise_bins = observation.prepare_noise(noise).unbind(1)
    spikes = history[:, n_lags:].unbind(1)
    sample_into = observation.sample_into
    for t in range(n_bins):
        u_bins[t].addmm_(windows[t], weights)
        sample_into(sampled[t], noise_bins[t], spikes[t])
    return history, u.transpose(0, 1)


class RecurrentSampler(torch.autograd.Function):
    """One autograd node for the recurrent sampling loop (see the module docstring).

    ``apply(u_known, weights, noise, observation, surrogate, first, n_lags, loops) -> (spikes, u)``
    with the arguments of :func:`recurrent_sample` and ``loops`` = (forward, backward), each
    "torch" or "numba" (:func:`~elephant_fit.network.loops.resolve_loop`). Gradients flow to ``u_known`` and ``weights``.
    """

    @staticmethod
    def forward(  # noqa: D102
        ctx: Any,
        u_known: torch.Tensor,
        weights: torch.Tensor,
        noise: torch.Tensor,
        observation: Observation,
        surrogate: Surrogate | None,
        first: int,
        n_lags: int,
        loops: tuple[str, str],
    ) -> tuple[torch.Tensor, torch.Tensor]:
        history, u = sample_loop(observation, u_known, weights, noise, first, n_lags, loops[0])
        ctx.save_for_backward(u, history, weights, noise)
        ctx.observation, ctx.surrogate = observation, surrogate
        ctx.first, ctx.n_lags, ctx.backward_loop = first, n_lags, loops[1]
        return history[:, n_lags:].clone(), u

    @staticmethod
    @once_differentiable
    def backward(  # noqa: D102
        ctx: Any, grad_spikes: torch.Tensor | None, grad_u: torch.Tensor | None
    ) -> tuple[Any, ...]:
        u, history, weights, noise = ctx.saved_tensors
        first, n_lags = ctx.first, ctx.n_lags
        n_trials, n_bins, n_neurons = u.shape
        n_sampled = n_neurons - first
        # dL/du for every bin, padded with n_lags zero bins at the end (no future beyond the trial)
        grad_total = torch.zeros(
            n_trials, n_bins + n_lags, n_neurons, dtype=u.dtype, device=u.device
        )
        if grad_u is not None:
            grad_total[:, :n_bins] = grad_u
        if grad_spikes is None:
            grad_spikes = torch.zeros(n_trials, n_bins, n_sampled, dtype=u.dtype, device=u.device)
        derivative = ctx.observation.sample_derivative(u[..., first:], noise, ctx.surrogate)
        # rows (lag 1, neuron n), (lag 2, n), ...: the window of the next n_lags bins' dL/du
        backward_weights = (
            weights.view(n_lags, n_sampled, n_neurons)
            .flip(0)
            .transpose(1, 2)
            .reshape(n_lags * n_neurons, n_sampled)
        )
        grad_u_all = grad_total[:, :n_bins]
        if ctx.backward_loop == "numba":
            numba_backward(grad_total, grad_spikes, derivative, backward_weights, first)
            grad_weights = numba_weight_gradient(history, grad_u_all, n_lags)
            return grad_u_all, grad_weights, None, None, None, None, None, None
        _backward_loop(grad_total, grad_spikes, derivative, backward_weights, first)
        # weight gradient: lagged spikes (n_trials * n_bins, n_lags * n_sampled), oldest lag first,
        # in one product. (One product per lag is faster at 200 neurons, but it rounds float32
        # differently: every fit's trajectory, and the published tables, would change.)
        lagged = history.unfold(1, n_lags, 1)[:, :n_bins]  # (K, T, S, L)
        lagged = lagged.permute(0, 1, 3, 2).reshape(n_trials * n_bins, n_lags * n_sampled)
        grad_weights = lagged.T @ grad_u_all.reshape(n_trials * n_bins, n_neurons)
        return grad_u_all, grad_weights, None, None, None, None, None, None


def _backward_loop(
    grad_total: torch.Tensor,
    grad_spikes: torch.Tensor,
    derivative: torch.Tensor,
    backward_weights: torch.Tensor,
    first: int,
) -> None:
    """The backward time loop in torch, in place on ``grad_total`` (arguments of :func:`~elephant_fit.network.loops.numba_backward`)."""
    n_bins = grad_spikes.shape[1]
    n_lags = grad_total.shape[1] - n_bins
    futures = _windows(grad_total[:, 1:], n_bins, n_lags)  # dL/du of bins t + 1 .. t + L
    direct, slopes = grad_spikes.unbind(1), derivative.unbind(1)
    targets = grad_total[:, :n_bins, first:].unbind(1)
    for t in range(n_bins - 1, -1, -1):
        # futures[t] lists bins t + 1 .. t + L in time order: lag 1 first, as backward_weights
        targets[t].addcmul_(torch.addmm(direct[t], futures[t], backward_weights), slopes[t])


def _windows(buffer: torch.Tensor, n_windows: int, length: int) -> tuple[torch.Tensor, ...]:
    """Views of ``buffer[:, t : t + length]`` flattened to (n_trials, length * n), for every t.

    Parameters
    ----------
    buffer : torch.Tensor
        Shape (n_trials, >= n_windows - 1 + length, n), each trial's (time, n) block contiguous.

    Returns
    -------
    tuple of torch.Tensor
        ``n_windows`` views of shape (n_trials, length * n); nothing is copied.
    """
    n_trials, _, n = buffer.shape
    assert buffer.stride(2) == 1, "each bin contiguous"
    assert buffer.stride(1) == n, "consecutive bins adjacent"
    strided = buffer.as_strided(
        (n_windows, n_trials, length * n),
        (n, buffer.stride(0), 1),
        buffer.storage_offset(),
    )
    return strided.unbind(0)
