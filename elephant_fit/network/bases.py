"""Temporal bases: coupling filters over lags, and the smooth stimulus-locked drive over a trial."""

from __future__ import annotations

import math

import quantities as pq
import torch

from .._validation import check_positive_int, describe
from ..errors import ArgumentValueError

__all__ = [
    "DRIVE_BUMP_SPACING",
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

    One bump per :data:`DRIVE_BUMP_SPACING` of the trial when ``bin_size`` is given, else one per
    :data:`DRIVE_BUMP_BINS` bins.

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
        Number of lags (1..n_lags bins).

    Returns
    -------
    torch.Tensor
        Shape (n_basis, n_lags), float64, each row peaking at a later lag, rows of unit max.
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
        Number of lags.

    Returns
    -------
    torch.Tensor
        Shape (n_basis, n_lags), float64, ``exp(-(l - 1) / tau_b)``.
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
        Shape (n_bins, n_basis), float64; bump width (standard deviation) = spacing of centres.
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
