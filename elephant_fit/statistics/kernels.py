"""Smoothing kernels with Elephant's definitions, as differentiable torch functions.

The seven kernels of ``elephant.kernels`` (Elephant 1.2.1), named here by lower-case strings:

============================ ==================== ==============================================
name                         Elephant class       density (``sigma`` = standard deviation)
============================ ==================== ==============================================
``"rectangular"``            RectangularKernel    ``1/(2 tau)`` for ``|t| < tau``, ``tau = sqrt(3) sigma``
``"triangular"``             TriangularKernel     ``(1 - |t|/tau)/tau``, ``tau = sqrt(6) sigma``
``"epanechnikovlike"``       EpanechnikovLikeKernel ``3/(4 d) (1 - (t/d)^2)``, ``d = sqrt(5) sigma``
``"gaussian"``               GaussianKernel       ``exp(-t^2 / (2 sigma^2)) / (sqrt(2 pi) sigma)``
``"laplacian"``              LaplacianKernel      ``exp(-|t|/tau) / (2 tau)``, ``tau = sigma/sqrt(2)``
``"exponential"``            ExponentialKernel    ``exp(-t/tau)/tau`` for ``t >= 0``, ``tau = sigma``
``"alpha"``                  AlphaKernel          ``t exp(-t/tau)/tau^2`` for ``t >= 0``, ``tau = sigma/sqrt(2)``
============================ ==================== ==============================================

``invert=True`` mirrors the two asymmetric kernels (exponential, alpha) in time; it has no effect on
the symmetric ones. Every function takes ``times``/``fraction`` and ``sigma`` as floats or tensors
(broadcast together, any float dtype and device) and is differentiable with respect to both.
:func:`kernel_grid` discretises a kernel on a bin grid exactly like
``elephant.statistics.instantaneous_rate``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch

from .._validation import describe
from ..errors import ArgumentTypeError, ArgumentValueError
from ._safe import safe_divide

__all__ = [
    "KERNEL_NAMES",
    "KernelGrid",
    "SmoothingKernel",
    "boundary_enclosing_area_fraction",
    "fraction_upper_bound_included",
    "is_symmetric",
    "kernel_cdf",
    "kernel_grid",
    "kernel_icdf",
    "kernel_name",
    "kernel_pdf",
    "median_index",
    "min_cutoff",
]

#: Names of the kernels, in the order of ``elephant.kernels``.
KERNEL_NAMES: tuple[str, ...] = (
    "rectangular",
    "triangular",
    "epanechnikovlike",
    "gaussian",
    "laplacian",
    "exponential",
    "alpha",
)

#: Elephant's class name of each kernel.
ELEPHANT_CLASS_NAMES: dict[str, str] = {
    "rectangular": "RectangularKernel",
    "triangular": "TriangularKernel",
    "epanechnikovlike": "EpanechnikovLikeKernel",
    "gaussian": "GaussianKernel",
    "laplacian": "LaplacianKernel",
    "exponential": "ExponentialKernel",
    "alpha": "AlphaKernel",
}
_BY_CLASS_NAME = {value.lower(): key for key, value in ELEPHANT_CLASS_NAMES.items()}

_SQRT2 = math.sqrt(2.0)
_SQRT3 = math.sqrt(3.0)
_SQRT5 = math.sqrt(5.0)
_SQRT6 = math.sqrt(6.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
#: Minimal cutoff (half width in units of sigma) of each kernel, as in Elephant.
_MIN_CUTOFF = {
    "rectangular": _SQRT3,
    "triangular": _SQRT6,
    "epanechnikovlike": _SQRT5,
    "gaussian": 3.0,
    "laplacian": 3.0,
    "exponential": 3.0,
    "alpha": 3.0,
}
#: Beyond this many time constants the alpha kernel's tail is exactly 0 in float64.
_ALPHA_TAIL = 1.0e4
_CUTOFF_WARNING = "The width of the kernel was adjusted to a minimally allowed width."

Number = float | int
TensorLike = torch.Tensor | Number


# ------------------------------------------------------------------------------------- names
def kernel_name(kernel: Any) -> str:
    """Canonical kernel name of a name, an Elephant class name, or a kernel object.

    Parameters
    ----------
    kernel : str or object
        ``"gaussian"``, ``"GaussianKernel"``, a :class:`SmoothingKernel`, or an instance of any
        class named like an Elephant kernel (``elephant.kernels.GaussianKernel`` or our compat
        twin).

    Returns
    -------
    str
        One of :data:`KERNEL_NAMES`.

    Raises
    ------
    ValueError
        If the name is not one of the seven kernels.
    """
    if isinstance(kernel, SmoothingKernel):
        return kernel.name
    text = kernel if isinstance(kernel, str) else type(kernel).__name__
    key = text.lower()
    if key in KERNEL_NAMES:
        return key
    if key in _BY_CLASS_NAME:
        return _BY_CLASS_NAME[key]
    raise ArgumentValueError(
        f"Expected `kernel` to be one of {', '.join(KERNEL_NAMES)} (or an Elephant kernel), "
        f"but got {describe(kernel)}."
    )


def min_cutoff(name: str) -> float:
    """Smallest allowed cutoff (half width of the discretised kernel, in units of sigma).

    Parameters
    ----------
    name : str
        Kernel name.

    Returns
    -------
    float
        ``sqrt(3)``, ``sqrt(6)``, ``sqrt(5)`` for the rectangular, triangular and
        Epanechnikov-like kernels, 3 for the others.
    """
    return _MIN_CUTOFF[kernel_name(name)]


def is_symmetric(name: str) -> bool:
    """Whether the kernel density is symmetric in time (``pdf(-t) == pdf(t)``).

    Parameters
    ----------
    name : str
        Kernel name.

    Returns
    -------
    bool
        False for the exponential and alpha kernels, True otherwise.
    """
    return kernel_name(name) not in ("exponential", "alpha")


def fraction_upper_bound_included(name: str) -> bool:
    """Whether ``fraction = 1`` is a valid argument of icdf / boundary (compact support).

    Parameters
    ----------
    name : str
        Kernel name.

    Returns
    -------
    bool
        True for the rectangular and triangular kernels (Elephant allows ``[0, 1]``), False for
        the others (``[0, 1)``).
    """
    return kernel_name(name) in ("rectangular", "triangular")


# ------------------------------------------------------------------------------------- helpers
def _tensors(first: TensorLike, sigma: TensorLike) -> tuple[torch.Tensor, torch.Tensor]:
    """Both arguments as tensors of a common floating dtype and device (no copy when possible)."""
    reference = first if isinstance(first, torch.Tensor) else sigma
    if isinstance(reference, torch.Tensor):
        dtype = reference.dtype if reference.is_floating_point() else torch.float64
        if isinstance(first, torch.Tensor) and isinstance(sigma, torch.Tensor):
            dtype = torch.promote_types(first.dtype, sigma.dtype)
            if not dtype.is_floating_point:
                dtype = torch.float64
        device = reference.device
    else:
        dtype, device = torch.float64, torch.device("cpu")
    return (
        torch.as_tensor(first, dtype=dtype, device=device),
        torch.as_tensor(sigma, dtype=dtype, device=device),
    )


def _mirror(times: torch.Tensor, name: str, invert: bool) -> torch.Tensor:
    """Time axis of the un-inverted kernel (asymmetric kernels only)."""
    return -times if invert and not is_symmetric(name) else times


# ------------------------------------------------------------------------------------- density
def kernel_pdf(
    name: str, times: TensorLike, sigma: TensorLike, invert: bool = False
) -> torch.Tensor:
    """Kernel density at ``times``.

    Parameters
    ----------
    name : str
        Kernel name (see :data:`KERNEL_NAMES`).
    times : torch.Tensor or float
        Time points, any shape, in the unit of ``sigma``.
    sigma : torch.Tensor or float
        Standard deviation(s), broadcastable with ``times``; positive.
    invert : bool, optional
        Mirror asymmetric kernels in time.

    Returns
    -------
    torch.Tensor
        Densities in ``1 / unit of times``, broadcast shape of ``times`` and ``sigma``.
    """
    name = kernel_name(name)
    t, s = _tensors(times, sigma)
    t = _mirror(t, name, invert)
    zero = torch.zeros((), dtype=t.dtype, device=t.device)
    if name == "rectangular":
        tau = _SQRT3 * s
        return torch.where(t.abs() < tau, 1 / (2 * tau), zero)
    if name == "triangular":
        tau = _SQRT6 * s
        return torch.clamp(1 - t.abs() / tau, min=0) / tau
    if name == "epanechnikovlike":
        tau = _SQRT5 * s
        u = torch.clamp(t / tau, -1, 1)
        return 3.0 / (4.0 * tau) * torch.clamp(1 - u**2, min=0)
    if name == "gaussian":
        return torch.exp(-0.5 * (t / s) ** 2) / (_SQRT_2PI * s)
    if name == "laplacian":
        tau = s / _SQRT2
        return torch.exp(-t.abs() / tau) / (2 * tau)
    positive = t >= 0
    safe = torch.where(positive, t, zero)
    if name == "exponential":
        return torch.where(positive, torch.exp(-safe / s) / s, zero)
    tau = s / _SQRT2  # alpha: t exp(-t/tau) / tau^2 = y exp(-y) / tau, y = t/tau
    y = torch.clamp(safe / tau, max=_ALPHA_TAIL)
    return torch.where(positive, y * torch.exp(-y) / tau, zero)


def kernel_cdf(
    name: str, times: TensorLike, sigma: TensorLike, invert: bool = False
) -> torch.Tensor:
    """Cumulative distribution function of the kernel.

    Parameters
    ----------
    name : str
        Kernel name.
    times : torch.Tensor or float
        Time points, any shape, in the unit of ``sigma`` (``-inf`` and ``inf`` allowed).
    sigma : torch.Tensor or float
        Standard deviation(s), broadcastable with ``times``.
    invert : bool, optional
        Mirror asymmetric kernels in time.

    Returns
    -------
    torch.Tensor
        Values in ``[0, 1]``, broadcast shape of ``times`` and ``sigma``.
    """
    name = kernel_name(name)
    t, s = _tensors(times, sigma)
    if name == "rectangular":
        tau = _SQRT3 * s
        return (torch.minimum(torch.maximum(t, -tau), tau) + tau) / (2 * tau)
    if name == "triangular":
        u = torch.clamp(t / (_SQRT6 * s), -1, 1)
        return torch.where(u < 0, 0.5 * (1 + u) ** 2, 1 - 0.5 * (1 - u) ** 2)
    if name == "epanechnikovlike":
        u = torch.clamp(t / (_SQRT5 * s), -1, 1)
        return 0.75 * (u - u**3 / 3.0) + 0.5
    if name == "gaussian":
        return 0.5 * torch.special.erfc(-(t / s) / _SQRT2)  # accurate in the lower tail
    if name == "laplacian":
        x = t / (s / _SQRT2)
        tail = 0.5 * torch.exp(-x.abs())
        return torch.where(x > 0, 1 - tail, tail)
    if name == "exponential":
        if invert:
            return torch.exp(torch.clamp(t, max=0) / s)
        return 1 - torch.exp(-torch.clamp(t, min=0) / s)
    tau = s / _SQRT2  # alpha
    if invert:
        y = torch.clamp(-torch.clamp(t, max=0) / tau, max=_ALPHA_TAIL)
        return torch.exp(-y) * (1 + y)
    y = torch.clamp(torch.clamp(t, min=0) / tau, max=_ALPHA_TAIL)
    return 1 - torch.exp(-y) * (1 + y)


def _alpha_quantile(upper_tail: torch.Tensor) -> torch.Tensor:
    """Solve ``exp(-y) (1 + y) = upper_tail`` for ``y >= 0`` (in time constants).

    Newton's method on ``g(y) = y - log(1 + y) + log(upper_tail)`` (convex, increasing) from a
    starting point right of the root converges monotonically; one last step with autograd on
    gives the implicit-function gradient with respect to ``upper_tail``.
    """
    c = -torch.log(upper_tail.detach())
    c_finite = torch.where(torch.isfinite(c), c, torch.zeros_like(c))
    y = c_finite + 2 * torch.sqrt(c_finite) + torch.log1p(c_finite)
    with torch.no_grad():
        for _ in range(100):
            step = (y - torch.log1p(y) - c_finite) * (1 + y) / torch.clamp(y, min=1e-300)
            step = torch.where(y > 0, step, torch.zeros_like(step))
            y = y - step
            if bool((step.abs() <= 4e-16 * y.abs()).all()):
                break
    slope = y / (1 + y)
    residual = y - torch.log1p(y) + torch.log(upper_tail)
    correction = safe_divide(residual, slope, slope > 0, fill=0.0)
    y = y - (correction - correction.detach())
    return torch.where(torch.isfinite(c), y, torch.full_like(y, math.inf))


def kernel_icdf(
    name: str, fraction: TensorLike, sigma: TensorLike, invert: bool = False
) -> torch.Tensor:
    """Quantile function (inverse cdf) of the kernel.

    Parameters
    ----------
    name : str
        Kernel name.
    fraction : torch.Tensor or float
        Probabilities in ``[0, 1]`` (``[0, 1)`` for kernels with infinite support), any shape.
    sigma : torch.Tensor or float
        Standard deviation(s), broadcastable with ``fraction``.
    invert : bool, optional
        Mirror asymmetric kernels in time.

    Returns
    -------
    torch.Tensor
        Times ``t`` with ``cdf(t) = fraction``, in the unit of ``sigma`` (``-inf`` where the
        quantile is unbounded, e.g. a Gaussian's at 0).
    """
    name = kernel_name(name)
    q, s = _tensors(fraction, sigma)
    if name == "rectangular":
        return _SQRT3 * s * (2 * q - 1)
    if name == "triangular":
        tau = _SQRT6 * s
        x = torch.where(q < 0.5, torch.sqrt(0.5 * q), 1 - torch.sqrt(0.5 * (1 - q)))
        return -tau + 2 * tau * x
    if name == "epanechnikovlike":
        return _SQRT5 * s * 2 * torch.sin(torch.asin(2 * q - 1) / 3)
    if name == "gaussian":
        return s * torch.special.ndtri(q)
    if name == "laplacian":
        tau = s / _SQRT2
        return tau * torch.where(q > 0.5, -torch.log(2 * (1 - q)), torch.log(2 * q))
    if name == "exponential":
        return s * torch.log(q) if invert else -s * torch.log(1 - q)
    tau = s / _SQRT2  # alpha
    if invert:
        return -tau * _alpha_quantile(q)
    return tau * _alpha_quantile(1 - q)


def boundary_enclosing_area_fraction(
    name: str, fraction: TensorLike, sigma: TensorLike
) -> torch.Tensor:
    """Boundary ``b`` such that ``[-b, b]`` holds ``fraction`` of the kernel's mass.

    For the asymmetric kernels this is the quantile of the un-inverted kernel (it does not depend
    on ``invert``), as in Elephant.

    Parameters
    ----------
    name : str
        Kernel name.
    fraction : torch.Tensor or float
        Fractions in ``[0, 1]`` (``[0, 1)`` for kernels with infinite support), any shape.
    sigma : torch.Tensor or float
        Standard deviation(s), broadcastable with ``fraction``.

    Returns
    -------
    torch.Tensor
        Non-negative boundaries in the unit of ``sigma``.
    """
    name = kernel_name(name)
    f, s = _tensors(fraction, sigma)
    if name == "rectangular":
        return _SQRT3 * s * f
    if name == "triangular":
        return _SQRT6 * s * (1 - torch.sqrt(1 - f))
    if name == "epanechnikovlike":
        # root in [0, 1] of u^3 - 3 u + 2 f = 0, b = sqrt(5) sigma u
        return _SQRT5 * s * 2 * torch.sin(torch.asin(f) / 3)
    if name == "gaussian":
        return s * _SQRT2 * torch.erfinv(f)
    if name == "laplacian":
        return -s * torch.log(1 - f) / _SQRT2
    return kernel_icdf(name, f, s, invert=False)


def median_index(name: str, times: torch.Tensor, sigma: TensorLike, invert: bool = False) -> int:
    """Index of the kernel's median in a sorted time grid (Elephant's ``Kernel.median_index``).

    The median index is the first ``i`` with ``times[i] >= icdf((cdf(times[0]) +
    cdf(times[-1])) / 2)``; 0 for grids of at most two points; ``len(times) // 2`` when the grid
    holds none of the kernel's mass on its left (cdf 0 at both ends).

    Parameters
    ----------
    name : str
        Kernel name.
    times : torch.Tensor
        Sorted time grid, shape (n_times,), in the unit of ``sigma``.
    sigma : torch.Tensor or float
        Standard deviation (scalar).
    invert : bool, optional
        Mirror asymmetric kernels in time.

    Returns
    -------
    int
        The index.

    Raises
    ------
    ValueError
        If ``times`` is empty or not sorted, or if the grid lies entirely right of the support of
        a kernel with infinite support (the mean cdf is 1, whose quantile is infinite).
    """
    name = kernel_name(name)
    times = torch.as_tensor(times).detach().reshape(-1)
    if times.numel() == 0:
        raise ArgumentValueError("The input time array is empty.")
    if times.numel() <= 2:
        return 0
    if not bool((torch.diff(times) >= 0).all()):
        raise ArgumentValueError("The input time array must be sorted (in ascending order).")
    sigma = sigma.detach() if isinstance(sigma, torch.Tensor) else sigma
    ends = kernel_cdf(name, times[[0, -1]], sigma, invert)
    cdf_mean = 0.5 * (ends[0] + ends[1])
    if float(cdf_mean) == 0.0:
        return times.numel() // 2
    if float(cdf_mean) >= 1.0 and not fraction_upper_bound_included(name):
        raise ArgumentValueError("`fraction` must be in the interval [0, 1)")
    quantile = kernel_icdf(name, cdf_mean, sigma, invert).to(times.dtype)
    above = torch.nonzero(times >= quantile)
    return int(above[0, 0]) if above.numel() else times.numel() - 1


# ------------------------------------------------------------------------------------- grids
class KernelGrid(NamedTuple):
    """A kernel discretised on a bin grid (see :func:`kernel_grid`).

    Attributes
    ----------
    name : str
        Kernel name.
    sigma : torch.Tensor
        Standard deviation in units of bins, 0-d.
    invert : bool
        Whether asymmetric kernels are mirrored.
    cutoff : float
        Cutoff actually used (at least the kernel's :func:`min_cutoff`).
    times : torch.Tensor
        Grid points in units of bins, shape (n_taps,), ``n_taps = 2 ceil(cutoff sigma) + 1``.
    weights : torch.Tensor
        Kernel density at ``times`` in ``1 / bin``, shape (n_taps,). Convolving counts with it
        ('same' mode) gives a rate in spikes per bin.
    """

    name: str
    sigma: torch.Tensor
    invert: bool
    cutoff: float
    times: torch.Tensor
    weights: torch.Tensor


def _linspace(start: torch.Tensor, stop: torch.Tensor, num: int) -> torch.Tensor:
    """``numpy.linspace(start, stop, num)`` with numpy's arithmetic, differentiable in the ends."""
    if num == 1:
        return start.reshape(1)
    index = torch.arange(num - 1, dtype=start.dtype, device=start.device)
    inner = index * ((stop - start) / (num - 1)) + start
    return torch.cat([inner, stop.reshape(1)])


def kernel_grid(
    name: str,
    sigma: TensorLike,
    cutoff: float = 5.0,
    center_kernel: bool = True,
    invert: bool = False,
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
    stacklevel: int = 2,
) -> KernelGrid:
    """Discretise a kernel on a grid of bins, as ``elephant.statistics.instantaneous_rate`` does.

    The grid has ``n_taps = 2 ceil(cutoff sigma) + 1`` points spread evenly (numpy ``linspace``)
    over ``[-cutoff sigma, cutoff sigma]``, shifted by the kernel's median when
    ``center_kernel``; its middle point sits on the spike. A cutoff below the kernel's
    :func:`min_cutoff` is raised to it with Elephant's warning.

    Parameters
    ----------
    name : str
        Kernel name.
    sigma : torch.Tensor or float
        Standard deviation in units of bins (``sigma / bin_size``), scalar; positive. The
        weights are differentiable with respect to it (the number of taps is not).
    cutoff : float, optional
        Half width of the grid in units of sigma.
    center_kernel : bool, optional
        Put the kernel's median (rather than its origin) on the middle tap.
    invert : bool, optional
        Mirror asymmetric kernels in time.
    dtype : torch.dtype, optional
        Dtype of the grid when ``sigma`` is a float (default float64).
    device : torch.device or str, optional
        Device of the grid when ``sigma`` is a float (default CPU).
    stacklevel : int, optional
        Stack level of the cutoff warning, counted from the caller.

    Returns
    -------
    KernelGrid
        Grid points (bins) and weights (1/bin), each of shape (n_taps,).

    Warns
    -----
    UserWarning
        "The width of the kernel was adjusted to a minimally allowed width." when ``cutoff`` is
        below the kernel's minimum.
    """
    name = kernel_name(name)
    if isinstance(sigma, torch.Tensor):
        sigma_t = sigma if sigma.is_floating_point() else sigma.to(torch.float64)
    else:
        sigma_t = torch.tensor(float(sigma), dtype=dtype or torch.float64, device=device)
    sigma_t = sigma_t.reshape(())
    if cutoff < _MIN_CUTOFF[name]:
        cutoff = _MIN_CUTOFF[name]
        warnings.warn(_CUTOFF_WARNING, UserWarning, stacklevel=stacklevel + 1)
    half = math.ceil(cutoff * float(sigma_t.detach()))
    cutoff_sigma = cutoff * sigma_t
    median = kernel_icdf(name, 0.5, sigma_t, invert) if center_kernel else torch.zeros_like(sigma_t)
    times = _linspace(-cutoff_sigma + median, cutoff_sigma + median, 2 * half + 1)
    weights = kernel_pdf(name, times, sigma_t, invert)
    return KernelGrid(name, sigma_t, invert, float(cutoff), times, weights)


# ------------------------------------------------------------------------------------- objects
@dataclass(frozen=True)
class SmoothingKernel:
    """A kernel shape with its width: a light object over the functions of this module.

    Parameters
    ----------
    name : str
        Kernel name (see :data:`KERNEL_NAMES`; Elephant class names are accepted too).
    sigma : float or torch.Tensor
        Standard deviation, in the time unit of the data it is used with; a tensor keeps
        gradients.
    invert : bool, optional
        Mirror asymmetric kernels in time.
    """

    name: str
    sigma: float | torch.Tensor
    invert: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", kernel_name(self.name))
        if not isinstance(self.invert, bool):
            raise ArgumentTypeError(
                f"Expected `invert` to be a bool, but got {describe(self.invert)}."
            )
        if isinstance(self.sigma, torch.Tensor):
            if self.sigma.numel() != 1:
                raise ArgumentValueError(
                    f"Expected `sigma` to be a scalar, but got {describe(self.sigma)}."
                )
            value = float(self.sigma.detach())
        elif isinstance(self.sigma, (int, float)) and not isinstance(self.sigma, bool):
            value = float(self.sigma)
        else:
            raise ArgumentTypeError(
                f"Expected `sigma` to be a float or a tensor, but got {describe(self.sigma)}."
            )
        if not value > 0 or not math.isfinite(value):
            raise ArgumentValueError(
                f"Expected `sigma` to be positive and finite, but got {describe(self.sigma)}."
            )

    @property
    def min_cutoff(self) -> float:
        """Smallest allowed cutoff in units of sigma."""
        return min_cutoff(self.name)

    @property
    def is_symmetric(self) -> bool:
        """Whether the density is symmetric in time."""
        return is_symmetric(self.name)

    def pdf(self, times: TensorLike) -> torch.Tensor:
        """Density at ``times`` (see :func:`kernel_pdf`)."""
        return kernel_pdf(self.name, times, self.sigma, self.invert)

    __call__ = pdf

    def cdf(self, times: TensorLike) -> torch.Tensor:
        """Cumulative distribution at ``times`` (see :func:`kernel_cdf`)."""
        return kernel_cdf(self.name, times, self.sigma, self.invert)

    def icdf(self, fraction: TensorLike) -> torch.Tensor:
        """Quantile at ``fraction`` (see :func:`kernel_icdf`)."""
        return kernel_icdf(self.name, fraction, self.sigma, self.invert)

    def boundary_enclosing_area_fraction(self, fraction: TensorLike) -> torch.Tensor:
        """Symmetric boundary holding ``fraction`` of the mass."""
        return boundary_enclosing_area_fraction(self.name, fraction, self.sigma)

    def median_index(self, times: torch.Tensor) -> int:
        """Index of the median in a sorted grid (see :func:`median_index`)."""
        return median_index(self.name, times, self.sigma, self.invert)

    def grid(self, bin_size: float, cutoff: float = 5.0, center_kernel: bool = True) -> KernelGrid:
        """Discretise on bins of ``bin_size`` (same unit as sigma), see :func:`kernel_grid`.

        Parameters
        ----------
        bin_size : float
            Bin width in the unit of ``sigma``.
        cutoff : float, optional
            Half width in units of sigma.
        center_kernel : bool, optional
            Put the median on the middle tap.

        Returns
        -------
        KernelGrid
            Grid in bins, weights in 1/bin.
        """
        return kernel_grid(
            self.name, self.sigma / bin_size, cutoff, center_kernel, self.invert, stacklevel=3
        )
