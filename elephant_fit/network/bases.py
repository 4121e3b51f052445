"""Bases: over lags, over a trial, and over a covariate's value.

Temporal bases of the coupling and covariate filters (over lags) and of the smooth
stimulus-locked drive (over a trial); B-splines over a covariate's value (tuning curves).
"""

from __future__ import annotations

import math

import quantities as pq
import torch

from .._validation import check_positive_int, describe
from ..errors import ArgumentValueError

__all__ = [
    "DRIVE_BUMP_SPACING",
    "bspline_basis",
    "bspline_knots",
    "drive_bumps",
    "exponential_basis",
    "gaussian_bumps",
    "raised_cosine_basis",
    "temporal_basis",
]

#: Default spacing of the bumps of a smooth stimulus drive when the bin size is known:
#: stimulus-locked responses have a time scale in seconds, not in bins (measured: 40 ms follows
#: the retina's fast responses; the synthetic demo is unchanged from 50 ms).
DRIVE_BUMP_SPACING = 40 * pq.ms
#: Default bins per bump when the bin size is not known (:class:`SpikingNetwork` alone).
DRIVE_BUMP_BINS = 5


def drive_bumps(n_bins: int, bin_size: pq.Quantity | None = None) -> int:
    """Default number of bumps of a smooth drive over ``n_bins`` bins (at least 2).

    One bump per ``DRIVE_BUMP_SPACING`` of the trial when ``bin_size`` is given, else one per
    ``DRIVE_BUMP_BINS`` bins.

    Parameters
    ----------
    n_bins : int
        Number of bins of a trial.
    bin_size : quantities.Quantity, optional
        Width of a bin (a time, e.g. ``10 * pq.ms``); None: unknown.

    Returns
    -------
    int
        Number of bumps, between 2 and ``n_bins`` when ``bin_size`` is given.

    Examples
    --------
    >>> import quantities as pq
    >>> drive_bumps(100, 10 * pq.ms)  # a 1 s trial: one bump per 40 ms
    25
    >>> drive_bumps(100)
    20
    """
    if bin_size is None:
        return max(2, n_bins // DRIVE_BUMP_BINS)
    duration = n_bins * float(bin_size.rescale(pq.s).magnitude)
    spacing = float(DRIVE_BUMP_SPACING.rescale(pq.s).magnitude)
    return max(2, min(n_bins, round(duration / spacing)))


def raised_cosine_basis(n_basis: int, n_lags: int) -> torch.Tensor:
    """Raised-cosine bumps on a log-stretched lag axis (Pillow et al. 2008).

    Parameters
    ----------
    n_basis : int
        Number of basis functions.
    n_lags : int
        Number of lags, in bins: column ``l - 1`` is lag ``l`` (lags 1..n_lags).

    Returns
    -------
    torch.Tensor
        Shape (n_basis, n_lags), float64, dimensionless values in [0, 1]: each row a bump of
        height 1 at its centre on the log-stretched axis (which may fall between two lags), the
        centres equally spaced there from lag 1 to lag ``n_lags``.

    Examples
    --------
    >>> from elephant_fit.network import raised_cosine_basis
    >>> basis = raised_cosine_basis(3, 8)  # 3 bumps over lags 1..8 bins
    >>> basis.shape, basis.dtype
    (torch.Size([3, 8]), torch.float64)
    >>> basis.argmax(dim=1).tolist()  # column of each peak: lags 1, 3 and 8
    [0, 2, 7]
    >>> basis[:, 0].tolist()  # at lag 1
    [1.0, 0.5, 0.0]
    """
    lags = torch.arange(1, n_lags + 1, dtype=torch.float64)
    stretched = torch.log(lags + 1.0)
    centres = torch.linspace(
        float(stretched[0]), float(stretched[-1]), n_basis, dtype=torch.float64
    )
    width = (centres[1] - centres[0]) if n_basis > 1 else stretched[-1] - stretched[0] + 1.0
    width = width if float(width) > 0 else torch.tensor(1.0, dtype=torch.float64)
    phase = (stretched.unsqueeze(0) - centres.unsqueeze(1)) * math.pi / (2 * width)
    return torch.where(
        phase.abs() < math.pi, 0.5 * (1 + torch.cos(phase.clamp(-math.pi, math.pi))), 0.0
    )


def exponential_basis(n_basis: int, n_lags: int) -> torch.Tensor:
    """Exponential decays with time constants spaced geometrically from 1 bin to n_lags bins.

    Parameters
    ----------
    n_basis : int
        Number of basis functions.
    n_lags : int
        Number of lags, in bins: column ``l - 1`` is lag ``l`` (lags 1..n_lags).

    Returns
    -------
    torch.Tensor
        Shape (n_basis, n_lags), float64, dimensionless: row ``b`` is ``exp(-(l - 1) / tau_b)``,
        1 at lag 1, with ``tau_b`` in bins from 1 to ``n_lags``.

    Examples
    --------
    >>> from elephant_fit.network import exponential_basis
    >>> basis = exponential_basis(3, 8)  # time constants 1, sqrt(8) and 8 bins
    >>> basis.shape, basis.dtype
    (torch.Size([3, 8]), torch.float64)
    >>> basis[:, 0].tolist()  # every decay starts at 1 at lag 1
    [1.0, 1.0, 1.0]
    >>> [round(value, 3) for value in basis[:, 1].tolist()]  # at lag 2: exp(-1 / tau_b)
    [0.368, 0.702, 0.882]
    """
    lags = torch.arange(1, n_lags + 1, dtype=torch.float64)
    taus = torch.logspace(0, math.log10(max(n_lags, 1)), n_basis, dtype=torch.float64)
    return torch.exp(-(lags.unsqueeze(0) - 1) / taus.unsqueeze(1))


def gaussian_bumps(n_basis: int, n_bins: int) -> torch.Tensor:
    """Smooth temporal basis for the stimulus-locked drive: Gaussian bumps tiling the trial.

    Parameters
    ----------
    n_basis : int
        Number of bumps.
    n_bins : int
        Number of bins of a trial.

    Returns
    -------
    torch.Tensor
        Shape (n_bins, n_basis), float64, dimensionless values in (0, 1]: column ``b`` is a
        Gaussian of height 1 centred on a bin, the centres equally spaced from the first to the
        last bin; its standard deviation is the spacing of the centres (at least 1 bin).

    Examples
    --------
    >>> from elephant_fit.network import gaussian_bumps
    >>> bumps = gaussian_bumps(4, 10)  # 4 bumps over a trial of 10 bins
    >>> bumps.shape, bumps.dtype  # (n_bins, n_basis)
    (torch.Size([10, 4]), torch.float64)
    >>> bumps.argmax(dim=0).tolist()  # the bin of each centre
    [0, 3, 6, 9]
    >>> bumps.max(dim=0).values.tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    t = torch.arange(n_bins, dtype=torch.float64)
    centres = torch.linspace(0, n_bins - 1, n_basis, dtype=torch.float64)
    width = max((n_bins - 1) / max(n_basis - 1, 1), 1.0)
    return torch.exp(-0.5 * ((t.unsqueeze(1) - centres.unsqueeze(0)) / width) ** 2)


def temporal_basis(
    basis: str | torch.Tensor | None, n_basis: int | None, n_lags: int
) -> torch.Tensor | None:
    """Resolve the coupling basis argument into a (n_basis, n_lags) tensor, or None for free lags."""
    if basis is None:
        return None
    if isinstance(basis, torch.Tensor):
        if basis.ndim != 2 or basis.shape[1] != n_lags:
            raise ArgumentValueError(
                f"Expected `basis` to have shape (n_basis, n_lags={n_lags}), but got {tuple(basis.shape)}."
            )
        return basis.detach().to(torch.float64)
    builders = {"raised_cosine": raised_cosine_basis, "exponential": exponential_basis}
    if basis not in builders:
        raise ArgumentValueError(
            f"Expected `basis` to be None, 'raised_cosine', 'exponential' or a tensor, but got {describe(basis)}."
        )
    return builders[basis](check_positive_int(n_basis or max(2, n_lags // 2), "n_basis"), n_lags)


def bspline_knots(n_basis: int, low: float, high: float, order: int = 4) -> torch.Tensor:
    """Clamped knot vector of ``n_basis`` B-splines of ``order`` on ``[low, high]``.

    The boundary knots are repeated ``order`` times and the ``n_basis - order`` interior knots are
    equally spaced, so that the splines sum to one on the whole interval.

    Parameters
    ----------
    n_basis : int
        Number of B-splines, at least ``order``.
    low, high : float
        The interval, ``low < high``.
    order : int, optional
        Order (degree + 1); 4: cubic.

    Returns
    -------
    torch.Tensor
        Shape (n_basis + order,), float64, non-decreasing.

    Examples
    --------
    >>> bspline_knots(6, 0.0, 1.0, order=3).tolist()
    [0.0, 0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    """
    order = check_positive_int(order, "order")
    n_basis = check_positive_int(n_basis, "n_basis")
    if n_basis < order:
        raise ArgumentValueError(
            f"Expected `n_basis` to be at least the order ({order}), but got {n_basis}."
        )
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ArgumentValueError(
            f"Expected a finite interval with `low` < `high`, but got ({low!r}, {high!r})."
        )
    inner = torch.linspace(low, high, n_basis - order + 2, dtype=torch.float64)
    return torch.cat([inner[:1].repeat(order - 1), inner, inner[-1:].repeat(order - 1)])


def bspline_basis(values: torch.Tensor, knots: torch.Tensor, order: int = 4) -> torch.Tensor:
    """B-splines of ``order`` on ``knots`` evaluated at ``values`` (Cox-de Boor recursion).

    Values outside the knots' base interval ``[knots[order - 1], knots[-order]]`` are clamped to
    its edges (the curve is flat beyond the range). Vectorised over values; the recursion runs
    over the ``order - 1`` degrees only. Differentiable in anything multiplied with the result.

    Parameters
    ----------
    values : torch.Tensor
        Points, any shape ``(...)``.
    knots : torch.Tensor
        Non-decreasing knots, shape (n_basis + order,), e.g. :func:`bspline_knots`.
    order : int, optional
        Order (degree + 1); 4: cubic.

    Returns
    -------
    torch.Tensor
        Shape ``(..., n_basis)``, in the dtype of ``values``.

    Examples
    --------
    >>> knots = bspline_knots(6, 0.0, 1.0)
    >>> b = bspline_basis(torch.tensor([-1.0, 0.0, 0.3, 1.0, 2.0]), knots)
    >>> b.shape, torch.allclose(b.sum(-1), torch.ones(5))
    (torch.Size([5, 6]), True)
    >>> b[0, 0].item(), b[-1, -1].item()  # clamped to the edges
    (1.0, 1.0)
    """
    order = check_positive_int(order, "order")
    if not isinstance(knots, torch.Tensor) or knots.ndim != 1 or len(knots) < 2 * order:
        raise ArgumentValueError(
            f"Expected `knots` to be a 1-d tensor of at least {2 * order} knots (order "
            f"{order}), but got {describe(knots)}."
        )
    t = knots.to(device=values.device, dtype=values.dtype)
    n_basis = len(t) - order
    x = values.clamp(t[order - 1], t[n_basis]).unsqueeze(-1)
    # the interval t[i] <= x < t[i + 1] of each point; the right edge belongs to the last one
    interval = torch.searchsorted(t, x.detach(), right=True) - 1
    interval = interval.clamp(order - 1, n_basis - 1)
    splines = (torch.arange(len(t) - 1, device=t.device) == interval).to(values.dtype)
    for degree in range(1, order):
        left, right = t[: -degree - 1], t[degree:-1]  # t[i], t[i + degree]
        left_next, right_next = t[1:-degree], t[degree + 1 :]  # t[i + 1], t[i + degree + 1]
        up = _ratio(x - left, right - left) * splines[..., :-1]
        down = _ratio(right_next - x, right_next - left_next) * splines[..., 1:]
        splines = up + down
    return splines


def _ratio(numerator: torch.Tensor, denominator: torch.Tensor) -> torch.Tensor:
    """``numerator / denominator`` with 0 where the denominator is 0 (repeated knots)."""
    safe = torch.where(denominator > 0, denominator, torch.ones_like(denominator))
    return torch.where(denominator > 0, numerator / safe, torch.zeros_like(numerator))
