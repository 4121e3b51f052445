"""Spike-train dissimilarity measures on padded spike times: van Rossum and Victor–Purpura.

Differentiable twins of :mod:`elephant.spike_train_dissimilarity`. Spike trains are given as a
padded tensor ``times`` of shape (..., n_trains, max_spikes) with a boolean ``mask`` of the same
shape (see :mod:`elephant_fit.statistics._padding`); all times are in one unit, and the time
constant or cost factor is expressed in that unit (or its inverse).

Both measures follow Elephant's normalisation exactly:

* van Rossum: ``D(a, b)**2 = K(a, a) + K(b, b) - 2 K(a, b)`` with
  ``K(a, b) = sum_ij exp(-|a_i - b_j| / tau)``, so that an empty train and a train with one spike
  are at distance 1 (divide by ``sqrt(2)`` for the normalisation of van Rossum's paper).
* Victor–Purpura: the minimal total cost of turning one train into the other with insertions
  and deletions (cost 1 each) and shifts (cost ``q |dt|`` by default).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .._validation import (
    check_bool_mask,
    check_float_tensor,
    check_number_or_tensor,
    describe,
)
from ..errors import ArgumentValueError
from ._safe import clipped_sqrt

__all__ = [
    "kernel_shift_cost",
    "van_rossum_distance",
    "van_rossum_squared_distance",
    "victor_purpura_distance",
    "victor_purpura_pairs",
]

ShiftCost = Callable[[torch.Tensor], torch.Tensor]

# Elements of the largest temporary tensor built at once; larger problems are cut into blocks.
# On CPU small blocks stay in cache (measured: 1 MiB blocks are ~3x faster than 64 MiB ones);
# on CUDA large blocks amortise kernel launches.
_CHUNK_ELEMENTS = {"cpu": 1 << 17, "cuda": 1 << 24}
# The Victor–Purpura programme pays Python overhead per row and block: larger blocks there.
_DP_CHUNK_ELEMENTS = {"cpu": 1 << 20, "cuda": 1 << 23}


def _chunk_elements(device: torch.device, table: dict[str, int] = _CHUNK_ELEMENTS) -> int:
    return table.get(device.type, table["cuda"])


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _check_padded(
    times: object, mask: object, name: str = "times", mask_name: str = "mask", min_ndim: int = 1
) -> None:
    """Check a padded spike-time tensor (at least ``min_ndim`` dimensions) and its mask."""
    shape = "(..., n_trains, max_spikes)" if min_ndim >= 2 else "(..., max_spikes)"
    check_float_tensor(times, name, min_ndim, shape)
    check_bool_mask(mask, mask_name, times, name)


def _check_trains(times: object, mask: object) -> None:
    """Check a (..., n_trains, max_spikes) padded tensor and its mask."""
    _check_padded(times, mask, min_ndim=2)


def _check_scalar(
    value: float | torch.Tensor, name: str, like: torch.Tensor, *, allow_zero: bool
) -> torch.Tensor:
    """Return ``value`` as a tensor on ``like``'s device and dtype; check Python numbers."""
    value = check_number_or_tensor(value, name)
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ArgumentValueError(
                f"Expected `{name}` to be a scalar, but got {describe(value)}."
            )
        return value.reshape(()).to(device=like.device, dtype=like.dtype)
    bound = "non-negative" if allow_zero else "positive"
    if not (value > 0 or (value == 0 and allow_zero)):  # NaN fails too
        raise ArgumentValueError(f"Expected `{name}` to be {bound}, but got {describe(value)}.")
    return torch.tensor(value, device=like.device, dtype=like.dtype)


# --------------------------------------------------------------------------------------------
# van Rossum
# --------------------------------------------------------------------------------------------


def _markage(times: torch.Tensor, time_constant: torch.Tensor) -> torch.Tensor:
    """Exponentially weighted count of each spike's predecessors in its own train.

    ``markage[..., j] = sum_{k < j} exp(-(t_j - t_k) / tau)``, computed from the recurrence
    ``m_j = exp(-(t_j - t_{j-1}) / tau) (m_{j-1} + 1)`` (Houghton & Kreuz 2012): every factor is
    a decay of a gap between consecutive sorted spikes, at most 1, so nothing overflows however
    long the train or small ``tau``. The affine recurrence is evaluated by a Hillis–Steele scan,
    ``ceil(log2(max_spikes))`` vectorised steps instead of a loop over spikes.

    Parameters
    ----------
    times : torch.Tensor
        Shape (B, n_trains, max_spikes), each row sorted.
    time_constant : torch.Tensor
        Shape (B, 1, 1).

    Returns
    -------
    torch.Tensor
        Shape (B, n_trains, max_spikes). Values on padding are meaningless.
    """
    decay = torch.exp((times[..., :-1] - times[..., 1:]) / time_constant)
    scale = torch.cat([torch.zeros_like(times[..., :1]), decay], dim=-1)
    offset = scale
    step = 1
    while step < times.shape[-1]:
        offset = torch.cat(
            [offset[..., :step], scale[..., step:] * offset[..., :-step] + offset[..., step:]],
            dim=-1,
        )
        scale = torch.cat([scale[..., :step], scale[..., step:] * scale[..., :-step]], dim=-1)
        step *= 2
    return offset


def _sorted_spikes(times: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """All spikes of each batch element in ascending order, after a sentinel.

    Parameters
    ----------
    times, mask : torch.Tensor
        Shape (B, n_trains, max_spikes).

    Returns
    -------
    values : torch.Tensor
        Shape (B, 1 + n_trains * max_spikes), detached: ``-inf``, the sorted spike times, then
        ``+inf`` for each padding entry.
    labels : torch.Tensor
        Same shape, int64: the train of each entry, -1 for the sentinel and padding.
    """
    n_batch, n_trains, width = times.shape
    flat_mask = mask.reshape(n_batch, n_trains * width)
    values = times.detach().reshape(n_batch, n_trains * width)
    values = torch.where(flat_mask, values, torch.full_like(values, torch.inf))
    values, order = torch.sort(values, dim=-1, stable=True)
    labels = torch.arange(n_trains, device=times.device).repeat_interleave(width)
    labels = torch.where(flat_mask, labels.expand_as(flat_mask), -1).gather(-1, order)
    values = torch.cat([torch.full_like(values[:, :1], -torch.inf), values], dim=-1)
    labels = torch.cat([torch.full_like(labels[:, :1], -1), labels], dim=-1)
    return values, labels


def _summed_kernel_matrix(
    times: torch.Tensor, mask: torch.Tensor, time_constant: torch.Tensor
) -> torch.Tensor:
    """``K[u, v] = sum_ij exp(-|u_i - v_j| / tau)`` for all pairs of trains.

    ``K[u, v] = H[u, v] + H[v, u] - T[u, v]``, where ``H[v, u]`` sums over the pairs with
    ``v_k <= u_i`` and ``T`` counts tied pairs (counted in both halves). For a query spike
    ``u_i`` the number ``c`` of spikes of ``v`` at or before it is read from running counts along
    the sorted spikes of all trains (no binary search per pair), and the sum over those spikes
    is ``exp((v_c - u_i) / tau) * (1 + markage[v, c])`` (Houghton & Kreuz 2012): only
    non-positive exponents appear. ``c = 0`` reads a sentinel column of weight 0, as do padding
    queries. Trains are processed in blocks to bound memory.

    Parameters
    ----------
    times, mask : torch.Tensor
        Shape (B, n_trains, max_spikes); rows sorted.
    time_constant : torch.Tensor
        Shape (B, 1, 1).

    Returns
    -------
    torch.Tensor
        Shape (B, n_trains, n_trains), symmetric.
    """
    n_batch, n_trains, width = times.shape
    if width == 0 or n_trains == 0:
        return times.new_zeros((n_batch, n_trains, n_trains))
    n_queries = n_trains * width
    weight = 1.0 + _markage(times, time_constant)
    floor = times.detach().amin(dim=(-2, -1), keepdim=True).expand(n_batch, n_trains, 1)
    sentinel_times = torch.cat([floor, times], dim=-1)
    sentinel_weight = torch.cat([torch.zeros_like(floor), weight], dim=-1)
    values, labels = _sorted_spikes(times, mask)
    queries = times.reshape(n_batch, n_queries)
    flat_mask = mask.reshape(n_batch, n_queries)
    last = torch.searchsorted(values, queries.detach().contiguous(), right=True) - 1
    last = torch.where(flat_mask, last, 0)
    tied = bool((values[:, 1:] == values[:, :-1])[:, 1:][torch.isfinite(values[:, 2:])].any())
    if tied:
        first = torch.searchsorted(values, queries.detach().contiguous(), right=False) - 1
        first = torch.where(flat_mask, first, 0)
    chunk = max(1, _chunk_elements(times.device) // (n_batch * n_queries))
    half_blocks, tie_blocks = [], []
    for start in range(0, n_trains, chunk):
        block = torch.arange(start, min(start + chunk, n_trains), device=times.device)
        running = (labels.unsqueeze(1) == block.view(1, -1, 1)).cumsum(dim=-1)
        shape = (n_batch, block.numel(), n_queries)
        count = running.gather(-1, last.unsqueeze(1).expand(shape))
        exponent = (sentinel_times[:, block].gather(-1, count) - queries.unsqueeze(1)) / (
            time_constant
        )
        term = torch.exp(exponent) * sentinel_weight[:, block].gather(-1, count)
        half_blocks.append(term.reshape(n_batch, -1, n_trains, width).sum(-1))
        if tied:
            ties = count - running.gather(-1, first.unsqueeze(1).expand(shape))
            tie_blocks.append(ties.reshape(n_batch, -1, n_trains, width).sum(-1))
    half = torch.cat(half_blocks, dim=1)
    if tied:
        ties = torch.cat(tie_blocks, dim=1).to(times.dtype)
    else:
        ties = torch.diag_embed(mask.sum(-1).to(times.dtype))
    return half + half.mT - ties


def van_rossum_squared_distance(
    times: torch.Tensor, mask: torch.Tensor, time_constant: float | torch.Tensor
) -> torch.Tensor:
    """Squared van Rossum distances between all pairs of spike trains, before clipping.

    ``D2[a, b] = K(a, a) + K(b, b) - K(a, b) - K(b, a)`` with
    ``K(a, b) = sum_ij exp(-|a_i - b_j| / tau)``: the exact closed form of the squared L2
    distance of the trains filtered by a causal exponential (times ``2 / tau``). Rounding can make
    the result very slightly negative when two trains are nearly identical;
    :func:`van_rossum_distance` clips it to zero.

    The cost is O(n_trains**2 * max_spikes): each spike is located in every other train from
    running counts along all spikes sorted once, and the sum over the earlier spikes of a train
    comes from a per-train recurrence with decays ``exp(-gap / tau) <= 1`` (Houghton & Kreuz
    2012), so nothing overflows however long the trains or small ``tau``. Differentiable with
    respect to ``times`` and ``time_constant``.

    Parameters
    ----------
    times : torch.Tensor
        Shape (..., n_trains, max_spikes), floating; each train's spikes sorted ascending.
    mask : torch.Tensor
        Shape (..., n_trains, max_spikes), bool, True on real spikes.
    time_constant : float or torch.Tensor
        The filter's time constant ``tau`` (same unit as ``times``), positive; ``inf`` measures
        spike-count differences only. A tensor may have shape () or a shape broadcastable to
        the batch shape (...); its values are not checked.

    Returns
    -------
    torch.Tensor
        Shape (..., n_trains, n_trains), symmetric, zero on the diagonal.
    """
    _check_trains(times, mask)
    tau = _time_constant_tensor(time_constant, times)
    batch_shape = times.shape[:-2]
    n_trains, width = times.shape[-2:]
    n_batch = math.prod(batch_shape)
    flat_times = times.reshape(n_batch, n_trains, width)
    flat_mask = mask.reshape(n_batch, n_trains, width)
    flat_tau = torch.broadcast_to(tau, batch_shape).reshape(n_batch, 1, 1)
    summed = _summed_kernel_matrix(flat_times, flat_mask, flat_tau)
    self_terms = torch.diagonal(summed, dim1=-2, dim2=-1)
    squared = self_terms.unsqueeze(-1) + self_terms.unsqueeze(-2) - summed - summed.mT
    return squared.reshape(*batch_shape, n_trains, n_trains)


def _time_constant_tensor(time_constant: float | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    if isinstance(time_constant, torch.Tensor):
        batch_shape = like.shape[:-2]
        try:
            fits = torch.broadcast_shapes(time_constant.shape, batch_shape) == batch_shape
        except RuntimeError:
            fits = False
        if not fits:
            raise ArgumentValueError(
                "Expected `time_constant` to be a scalar or broadcastable to the batch shape "
                f"{tuple(batch_shape)}, but got shape {tuple(time_constant.shape)}."
            )
        return time_constant.to(device=like.device, dtype=like.dtype)
    return _check_scalar(time_constant, "time_constant", like, allow_zero=False)


def van_rossum_distance(
    times: torch.Tensor, mask: torch.Tensor, time_constant: float | torch.Tensor
) -> torch.Tensor:
    """Van Rossum distances between all pairs of spike trains (Elephant's normalisation).

    The Euclidean distance of the trains convolved with a causal exponential of time constant
    ``tau``, normalised so that an empty train and a one-spike train are at distance 1
    (``elephant.spike_train_dissimilarity.van_rossum_distance``; divide by ``sqrt(2)`` for the
    normalisation of van Rossum 2001). Exact closed form, no time grid; see
    ``van_rossum_squared_distance``. Small negative squared distances from rounding are
    clipped to zero; the gradient of a zero distance is zero.

    Parameters
    ----------
    times : torch.Tensor
        Shape (..., n_trains, max_spikes), floating; each train's spikes sorted ascending.
    mask : torch.Tensor
        Shape (..., n_trains, max_spikes), bool, True on real spikes.
    time_constant : float or torch.Tensor
        ``tau`` in the unit of ``times``, positive (``inf`` allowed); a tensor of shape () or
        broadcastable to the batch shape (...).

    Returns
    -------
    torch.Tensor
        Shape (..., n_trains, n_trains), dimensionless, symmetric, zero on the diagonal.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import van_rossum_distance
    >>> times = torch.tensor([[0.010, 0.020, 0.030], [0.012, 0.024, 0.030]], dtype=torch.float64)
    >>> mask = torch.ones_like(times, dtype=torch.bool)  # 2 trains of 3 spikes, in seconds
    >>> distances = van_rossum_distance(times, mask, 0.010)  # tau = 10 ms
    >>> distances.shape  # (n_trains, n_trains)
    torch.Size([2, 2])
    >>> round(distances[0, 1].item(), 4)
    0.984
    """
    return clipped_sqrt(van_rossum_squared_distance(times, mask, time_constant))


# --------------------------------------------------------------------------------------------
# Victor–Purpura
# --------------------------------------------------------------------------------------------


def kernel_shift_cost(scaled_kernel: ShiftCost) -> ShiftCost:
    """Shift cost of Elephant's kernel generalisation of the Victor–Purpura distance.

    Elephant replaces the shift cost ``q |dt|`` by ``2 (1 - sqrt(6) sigma K(dt))`` for a kernel
    ``K`` of standard deviation ``sigma``; the triangular kernel of half width ``2 / q`` gives back
    ``min(q |dt|, 2)``, i.e. the classic distance.

    Parameters
    ----------
    scaled_kernel : callable
        Maps time differences ``dt`` (a tensor of any shape) to ``sqrt(6) * sigma * K(dt)``
        (dimensionless, same shape).

    Returns
    -------
    callable
        Maps ``dt`` to the shift cost, same shape.
    """

    def cost(dt: torch.Tensor) -> torch.Tensor:
        return 1.0 - 2.0 * scaled_kernel(dt) + 1.0

    return cost


def _edit_distance(
    times_a: torch.Tensor,
    counts_a: torch.Tensor,
    times_b: torch.Tensor,
    counts_b: torch.Tensor,
    shift_cost: ShiftCost,
) -> torch.Tensor:
    """Victor–Purpura dynamic programme for P pairs at once.

    ``G[i, j]`` is the cost of matching the first ``i`` spikes of ``a`` with the first ``j`` of
    ``b``: ``G[i, j] = min(G[i-1, j] + 1, G[i, j-1] + 1, G[i-1, j-1] + s(a_i - b_j))``. Row ``i``
    depends on row ``i - 1`` only through the first and third terms; the chain of insertions
    along the row, ``y_j = min(y_{j-1} + 1, x_j)``, is ``j + cummin_k(x_k - k)``, so one row is a
    handful of vectorised operations on all pairs and columns. The loop over rows (spike index of
    ``a``) remains: each row needs the previous one (an anti-diagonal sweep would need twice as
    many steps). Padding is harmless because ``G[i, j]`` depends only on ``G[:i+1, :j+1]``.

    Parameters
    ----------
    times_a : torch.Tensor
        Shape (P, n), padded.
    counts_a : torch.Tensor
        Shape (P,), int64, real spikes per row of ``times_a``.
    times_b : torch.Tensor
        Shape (P, m), padded.
    counts_b : torch.Tensor
        Shape (P,), int64.
    shift_cost : callable
        Maps differences ``a_i - b_j`` of shape (P, m) to shift costs of the same shape.

    Returns
    -------
    torch.Tensor
        Shape (P,), ``G[counts_a, counts_b]``.
    """
    n_rows = int(counts_a.max()) if counts_a.numel() else 0
    n_cols = int(counts_b.max()) if counts_b.numel() else 0
    if n_rows == 0 or n_cols == 0:
        return (counts_a + counts_b).to(times_a.dtype)
    times_b = times_b[:, :n_cols]
    columns = torch.arange(n_cols + 1, device=times_a.device, dtype=times_a.dtype)
    row = columns.expand(times_a.shape[0], n_cols + 1)
    result = counts_b.to(times_a.dtype)
    target = counts_b.unsqueeze(-1)
    for i in range(1, n_rows + 1):
        shift = row[:, :-1] + shift_cost(times_a[:, i - 1 : i] - times_b)
        step = torch.minimum(row[:, 1:] + 1.0, shift)
        first = torch.full_like(row[:, :1], float(i))
        candidates = torch.cat([first, step], dim=-1) - columns
        row = torch.cummin(candidates, dim=-1).values + columns
        result = torch.where(counts_a == i, row.gather(-1, target).squeeze(-1), result)
    return result


def victor_purpura_pairs(
    times_a: torch.Tensor,
    mask_a: torch.Tensor,
    times_b: torch.Tensor,
    mask_b: torch.Tensor,
    cost_factor: float | torch.Tensor = 1.0,
    *,
    shift_cost: ShiftCost | None = None,
) -> torch.Tensor:
    """Victor–Purpura distance between paired spike trains ``a[...]`` and ``b[...]``.

    The minimal total cost of turning train ``a`` into train ``b`` by deleting or inserting
    spikes (cost 1 each) and shifting spikes (cost ``shift_cost(a_i - b_j)``, by default
    ``cost_factor * |a_i - b_j|``). Spikes are matched in the order given, so trains should be
    sorted. Exact dynamic programme (see :func:`victor_purpura_distance` for its cost). The
    result is piecewise linear in the spike times; its (sub)gradient flows through the optimal
    alignment.

    Parameters
    ----------
    times_a : torch.Tensor
        Shape (..., max_spikes_a), floating.
    mask_a : torch.Tensor
        Shape (..., max_spikes_a), bool, True on real spikes (a prefix of each row).
    times_b : torch.Tensor
        Shape (..., max_spikes_b); leading dimensions broadcast with those of ``times_a``.
    mask_b : torch.Tensor
        Shape (..., max_spikes_b), bool.
    cost_factor : float or torch.Tensor, optional
        ``q``, the cost per unit time of a shift (inverse unit of the times), finite and
        non-negative; a 0-dim tensor may require grad. Ignored when ``shift_cost`` is given.
    shift_cost : callable, optional
        Maps a tensor of differences ``a_i - b_j`` to shift costs of the same shape, e.g.
        :func:`kernel_shift_cost`.

    Returns
    -------
    torch.Tensor
        Shape (...), the distances.
    """
    _check_padded(times_a, mask_a, "times_a", "mask_a")
    _check_padded(times_b, mask_b, "times_b", "mask_b")
    try:
        batch_shape = torch.broadcast_shapes(times_a.shape[:-1], times_b.shape[:-1])
    except RuntimeError:
        raise ArgumentValueError(
            "Expected the leading dimensions of `times_a` and `times_b` to broadcast, but got "
            f"shapes {tuple(times_a.shape)} and {tuple(times_b.shape)}."
        ) from None
    dtype = torch.promote_types(times_a.dtype, times_b.dtype)
    n_pairs = math.prod(batch_shape)
    cost = shift_cost if shift_cost is not None else _linear_cost(cost_factor, times_a, dtype)
    flat = [
        x.to(dtype).expand(*batch_shape, x.shape[-1]).reshape(n_pairs, x.shape[-1])
        for x in (times_a, times_b)
    ]
    counts = [
        m.expand(*batch_shape, m.shape[-1]).reshape(n_pairs, m.shape[-1]).sum(-1)
        for m in (mask_a, mask_b)
    ]
    per_pair = max(1, flat[1].shape[-1] + 1)
    if torch.is_grad_enabled() and any(
        isinstance(x, torch.Tensor) and x.requires_grad for x in (times_a, times_b, cost_factor)
    ):
        per_pair *= max(1, flat[0].shape[-1])  # the autograd graph keeps every row
    chunk = max(1, _chunk_elements(times_a.device, _DP_CHUNK_ELEMENTS) // per_pair)
    pieces = [
        _edit_distance(
            flat[0][start : start + chunk],
            counts[0][start : start + chunk],
            flat[1][start : start + chunk],
            counts[1][start : start + chunk],
            cost,
        )
        for start in range(0, n_pairs, chunk)
    ]
    result = torch.cat(pieces) if pieces else flat[0].new_zeros(0)
    return result.reshape(batch_shape)


def _linear_cost(
    cost_factor: float | torch.Tensor, like: torch.Tensor, dtype: torch.dtype
) -> ShiftCost:
    factor = _check_scalar(cost_factor, "cost_factor", like.to(dtype), allow_zero=True)
    if not isinstance(cost_factor, torch.Tensor) and not torch.isfinite(factor):
        raise ArgumentValueError(
            f"Expected `cost_factor` to be finite, but got {describe(cost_factor)}."
        )

    def cost(dt: torch.Tensor) -> torch.Tensor:
        return factor * torch.abs(dt)

    return cost


def victor_purpura_distance(
    times: torch.Tensor,
    mask: torch.Tensor,
    cost_factor: float | torch.Tensor = 1.0,
    *,
    shift_cost: ShiftCost | None = None,
) -> torch.Tensor:
    """Victor–Purpura distances between all pairs of spike trains.

    ``D[a, b]`` is the minimal total cost of turning train ``a`` into train ``b`` by deleting or
    inserting spikes (cost 1 each) and shifting spikes (cost ``q |dt|``, or ``shift_cost(dt)``)
    (Victor & Purpura 1996; ``elephant.spike_train_dissimilarity.victor_purpura_distance``).

    Exact dynamic programme, vectorised over all ``n_trains * (n_trains - 1) / 2`` pairs and all
    columns at once; one Python step per spike of the longest train remains, because row ``i``
    of the programme needs row ``i - 1`` (see ``_edit_distance``). Cost
    O(n_trains**2 * max_spikes**2) operations in ``max_spikes`` vectorised steps; pairs are
    processed in chunks to bound memory. Piecewise linear in the spike times, with a subgradient
    through the optimal alignment.

    Parameters
    ----------
    times : torch.Tensor
        Shape (..., n_trains, max_spikes), floating; spikes matched in the order given (sort
        them for the usual distance).
    mask : torch.Tensor
        Shape (..., n_trains, max_spikes), bool, True on real spikes.
    cost_factor : float or torch.Tensor, optional
        ``q`` (inverse unit of ``times``), finite and non-negative; a 0-dim tensor may require
        grad. Ignored when ``shift_cost`` is given.
    shift_cost : callable, optional
        Maps differences ``a_i - b_j`` (a tensor) to shift costs; it must be even
        (``s(-dt) == s(dt)``) since only one triangle of the matrix is computed. For an uneven
        cost call ``victor_purpura_pairs`` on the ordered pairs wanted.

    Returns
    -------
    torch.Tensor
        Shape (..., n_trains, n_trains), symmetric, zero on the diagonal: a cost, dimensionless
        (deletions and insertions count 1; ``q |dt|`` is unitless).

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.statistics import victor_purpura_distance
    >>> times = torch.tensor([[10.0, 20.0, 30.0], [12.0, 24.0, 30.0]], dtype=torch.float64)
    >>> mask = torch.ones_like(times, dtype=torch.bool)  # 2 trains of 3 spikes, in ms
    >>> distances = victor_purpura_distance(times, mask, 0.1)  # q = 0.1 / ms
    >>> distances.shape  # (n_trains, n_trains)
    torch.Size([2, 2])
    >>> round(distances[0, 1].item(), 4)  # shifts by 2 ms and 4 ms, at 0.1 per ms
    0.6
    """
    _check_trains(times, mask)
    n_trains = times.shape[-2]
    rows, cols = torch.triu_indices(n_trains, n_trains, offset=1, device=times.device)
    upper = victor_purpura_pairs(
        times[..., rows, :],
        mask[..., rows, :],
        times[..., cols, :],
        mask[..., cols, :],
        cost_factor,
        shift_cost=shift_cost,
    )
    matrix = times.new_zeros((*times.shape[:-2], n_trains, n_trains), dtype=upper.dtype)
    matrix[..., rows, cols] = upper
    matrix[..., cols, rows] = upper
    return matrix
