"""Drop-in twins of ``elephant.kernels``: same classes, constructor, methods, return types.

The maths lives in :mod:`elephant_fit.statistics.kernels`; these classes hold a ``sigma`` quantity and an
``invert`` flag (plain, mutable attributes as in Elephant), check arguments like Elephant, convert
quantities to float64 tensors and back.

Known divergences from Elephant 1.2.1 (both are Elephant bugs):

* a ``sigma`` array of odd size > 1 is rejected with ``TypeError`` (Elephant silently keeps its first
  element because of an operator-precedence slip in its size check);
* far in the negative tail (``-t / tau > ~709``) the alpha kernel's density is 0, not NaN.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import quantities as pq
import torch

from ..errors import ArgumentTypeError, ArgumentValueError
from ..statistics import kernels as _k

__all__ = [
    "AlphaKernel",
    "EpanechnikovLikeKernel",
    "ExponentialKernel",
    "GaussianKernel",
    "Kernel",
    "LaplacianKernel",
    "RectangularKernel",
    "SymmetricKernel",
    "TriangularKernel",
]

_ABSTRACT_MESSAGE = (
    "The Kernel class should not be used directly, instead the subclasses for the single kernels."
)


def _tensor(values: Any) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.float64))


def _as_numpy(values: torch.Tensor) -> np.ndarray | np.float64:
    array = values.detach().cpu().numpy()
    return np.float64(array) if array.ndim == 0 else array


class Kernel:
    r"""Base class of the smoothing kernels (Elephant's ``elephant.kernels.Kernel``).

    A kernel here is a probability density in time: non-negative, normalised to one, with
    standard deviation ``sigma``. Abstract: instantiate a subclass such as
    :class:`GaussianKernel`; they share the methods below (evaluation in ``1 / t.units``,
    ``cdf``, ``icdf``, ``boundary_enclosing_area_fraction``, ``median_index``).

    Parameters
    ----------
    sigma : pq.Quantity
        Standard deviation of the kernel, a non-negative quantity (a time such as ``10 * pq.ms``
        for rate estimation): a scalar, or an array of one element.
    invert : bool, optional
        If True, asymmetric kernels (exponential, alpha) are mirrored in time. Default: False.

    Raises
    ------
    TypeError
        If ``sigma`` is not a ``pq.Quantity`` or has more than one element.
    ValueError
        If ``sigma`` is negative, or ``invert`` is not a bool.

    See Also
    --------
    elephant.kernels.Kernel : The Elephant class this twins.

    Examples
    --------
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.kernels
    >>> from elephant_fit.compat import kernels
    >>> kernel = kernels.GaussianKernel(sigma=0.1 * pq.s)
    >>> isinstance(kernel, kernels.Kernel), float(kernel.cdf(0 * pq.s))
    (True, 0.5)
    >>> bound = kernel.boundary_enclosing_area_fraction(0.95)  # [-b, b] holds 95 % of the area
    >>> theirs = elephant.kernels.GaussianKernel(sigma=0.1 * pq.s)
    >>> round(float(bound.rescale("s")), 4)
    0.196
    >>> bool(np.isclose(bound.magnitude, theirs.boundary_enclosing_area_fraction(0.95).magnitude))
    True
    """

    #: Name of the kernel in :mod:`elephant_fit.statistics.kernels`; None for the abstract bases.
    _name: ClassVar[str | None] = None

    def __init__(self, sigma: pq.Quantity, invert: bool = False) -> None:
        if not isinstance(sigma, pq.Quantity):
            raise ArgumentTypeError("'sigma' must be a quantity")
        if sigma.ndim > 0:
            if sigma.size != 1:
                raise ArgumentTypeError("'sigma' cannot be multidimensional")
            sigma = sigma.reshape(-1)[0]
        if sigma.magnitude < 0:
            raise ArgumentValueError("'sigma' cannot be negative")
        if not isinstance(invert, bool):
            raise ArgumentValueError("'invert' must be bool")
        self.sigma = sigma
        self.invert = invert

    def __repr__(self) -> str:
        return f"{type(self).__name__}(sigma={self.sigma}, invert={self.invert})"

    # --------------------------------------------------------------------------- checks
    def _require_name(self) -> str:
        if self._name is None:
            raise NotImplementedError(_ABSTRACT_MESSAGE)
        return self._name

    def _check_time_input(self, t: Any) -> None:
        if not isinstance(t, pq.Quantity):
            raise ArgumentTypeError(
                "The argument 't' of the kernel callable must be of type Quantity"
            )
        if t.dimensionality.simplified != self.sigma.dimensionality.simplified:
            raise ArgumentTypeError(
                "The dimensionality of sigma and the input array to the callable kernel object "
                "must be the same. Otherwise a normalization to 1 of the kernel cannot be "
                "performed."
            )

    def _check_fraction(self, fraction: Any) -> None:
        """Check that ``fraction`` is a number in ``[0, 1)`` (``[0, 1]`` for compact kernels)."""
        if not isinstance(fraction, (float, int)):
            raise ArgumentTypeError("`fraction` must be float or integer")
        closed = self._name is not None and _k.fraction_upper_bound_included(self._name)
        valid = 0 <= fraction <= 1 if closed else 0 <= fraction < 1
        if not valid:
            raise ArgumentValueError(
                f"`fraction` must be in the interval [0, 1{']' if closed else ')'}"
            )

    def _sigma_in(self, units: Any) -> float:
        return float(self.sigma.rescale(units).magnitude)

    # --------------------------------------------------------------------------- maths
    def __call__(self, times: pq.Quantity) -> pq.Quantity:
        """Evaluate the kernel density at every point of ``times``.

        Parameters
        ----------
        times : pq.Quantity
            Time points, with the same dimensionality as ``sigma``.

        Returns
        -------
        pq.Quantity
            Densities, same shape as ``times``, in ``1 / times.units``.

        Raises
        ------
        TypeError
            If ``times`` is not a quantity, or its dimensionality differs from ``sigma``'s.
        """
        self._check_time_input(times)
        return self._evaluate(times)

    def _evaluate(self, times: pq.Quantity) -> pq.Quantity:
        """Kernel density at ``times`` (no argument checks)."""
        name = self._require_name()
        values = _k.kernel_pdf(
            name, _tensor(times.magnitude), self._sigma_in(times.units), self.invert
        )
        return pq.Quantity(values.numpy(), units=1 / times.units)

    def cdf(self, time: pq.Quantity) -> np.float64 | np.ndarray:
        """Cumulative distribution function at ``time``.

        Parameters
        ----------
        time : pq.Quantity
            Time scalar (or array), with the dimensionality of ``sigma``.

        Returns
        -------
        float or np.ndarray
            The cdf: a float for a scalar input, else an array of the input's shape.
        """
        name = self._require_name()
        self._check_time_input(time)
        values = _k.kernel_cdf(
            name, _tensor(time.magnitude), self._sigma_in(time.units), self.invert
        )
        return _as_numpy(values)

    def icdf(self, fraction: float) -> pq.Quantity:
        """Inverse cumulative distribution function (quantile).

        Parameters
        ----------
        fraction : float
            Probability in ``[0, 1)`` (``[0, 1]`` for the rectangular and triangular kernels).

        Returns
        -------
        pq.Quantity
            The time ``t`` with ``cdf(t) = fraction``, in the units of ``sigma``.
        """
        name = self._require_name()
        self._check_fraction(fraction)
        value = _k.kernel_icdf(name, float(fraction), float(self.sigma.magnitude), self.invert)
        return pq.Quantity(value.numpy(), units=self.sigma.units)

    def boundary_enclosing_area_fraction(self, fraction: float) -> pq.Quantity:
        """Boundary ``b`` such that ``[-b, b]`` encloses ``fraction`` of the kernel's area.

        Non-negative by definition, and independent of ``invert``.

        Parameters
        ----------
        fraction : float
            Fraction of the whole area to enclose, in ``[0, 1)`` (``[0, 1]`` for the
            rectangular and triangular kernels).

        Returns
        -------
        pq.Quantity
            The boundary, in the units of ``sigma``.

        Raises
        ------
        TypeError
            If ``fraction`` is not a float or an int.
        ValueError
            If ``fraction`` is outside the allowed interval.
        """
        name = self._require_name()
        self._check_fraction(fraction)
        value = _k.boundary_enclosing_area_fraction(
            name, float(fraction), float(self.sigma.magnitude)
        )
        return pq.Quantity(value.numpy(), units=self.sigma.units)

    def median_index(self, times: pq.Quantity) -> int:
        r"""Index of the kernel's median in a sorted time array.

        The median index is the first ``i`` with
        :math:`t_i \geq \text{ICDF}((\text{CDF}(t_0) + \text{CDF}(t_{N-1})) / 2)`.

        Parameters
        ----------
        times : pq.Quantity
            Sorted (ascending) time points, with the dimensionality of ``sigma``.

        Returns
        -------
        int
            Index of the estimated kernel median (0 for at most two points).

        Raises
        ------
        TypeError
            If ``times`` is not a time quantity of ``sigma``'s dimensionality.
        ValueError
            If ``times`` is empty or not sorted.
        """
        name = self._require_name()
        self._check_time_input(times)
        return _k.median_index(
            name, _tensor(times.magnitude), self._sigma_in(times.units), self.invert
        )

    def is_symmetric(self) -> bool:
        """True for symmetric kernels (``pdf(-t) == pdf(t)``), False otherwise."""
        return isinstance(self, SymmetricKernel)

    @property
    def min_cutoff(self) -> float:
        """Smallest allowed cutoff (half width in units of sigma) of this kernel type."""
        name = self._require_name()
        value = _k.min_cutoff(name)
        return value if value == 3.0 else np.float64(value)


class SymmetricKernel(Kernel):
    """Base class of the symmetric kernels (``invert`` has no effect on them).

    Twin of ``elephant.kernels.SymmetricKernel``: abstract, like :class:`Kernel`; its subclasses
    have ``pdf(-t) == pdf(t)`` and their ``is_symmetric()`` returns True.

    Parameters
    ----------
    sigma : pq.Quantity
        Standard deviation of the kernel, a non-negative scalar quantity (a time such as
        ``10 * pq.ms`` for rate estimation).
    invert : bool, optional
        No effect on this symmetric kernel (kept for Elephant's signature). Default: False.

    See Also
    --------
    elephant.kernels.SymmetricKernel : The Elephant class this twins.

    Examples
    --------
    >>> import quantities as pq
    >>> import elephant.kernels
    >>> from elephant_fit.compat import kernels
    >>> isinstance(kernels.GaussianKernel(0.1 * pq.s), kernels.SymmetricKernel)
    True
    >>> [kernels.GaussianKernel(0.1 * pq.s).is_symmetric(),
    ...  kernels.ExponentialKernel(0.1 * pq.s).is_symmetric()]
    [True, False]
    >>> [elephant.kernels.GaussianKernel(0.1 * pq.s).is_symmetric(),
    ...  elephant.kernels.ExponentialKernel(0.1 * pq.s).is_symmetric()]
    [True, False]
    """


class RectangularKernel(SymmetricKernel):
    r"""Rectangular kernel: :math:`K(t) = 1/(2\tau)` for :math:`|t| < \tau`, else 0.

    With :math:`\tau = \sqrt{3}\sigma` the half width. ``invert`` has no effect.

    Twin of ``elephant.kernels.RectangularKernel``. Calling an instance on a time quantity ``t``
    returns the density at ``t`` as a ``pq.Quantity`` of the same shape in ``1 / t.units``.

    Parameters
    ----------
    sigma : pq.Quantity
        Standard deviation of the kernel, a non-negative scalar quantity (a time such as
        ``10 * pq.ms`` for rate estimation).
    invert : bool, optional
        No effect on this symmetric kernel (kept for Elephant's signature). Default: False.

    See Also
    --------
    elephant.kernels.RectangularKernel : The Elephant class this twins.

    Examples
    --------
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.kernels
    >>> from elephant_fit.compat import kernels
    >>> times = [-0.1, 0.0, 0.1] * pq.s
    >>> density = kernels.RectangularKernel(sigma=0.1 * pq.s)(times)
    >>> np.round(density.magnitude, 4).tolist(), density.dimensionality.string
    ([2.8868, 2.8868, 2.8868], '1/s')
    >>> theirs = elephant.kernels.RectangularKernel(sigma=0.1 * pq.s)(times)
    >>> bool(np.allclose(density.magnitude, theirs.magnitude))
    True
    """

    _name = "rectangular"


class TriangularKernel(SymmetricKernel):
    r"""Triangular kernel: :math:`K(t) = (1 - |t|/\tau)/\tau` for :math:`|t| < \tau`, else 0.

    With :math:`\tau = \sqrt{6}\sigma` the half width. ``invert`` has no effect.

    Twin of ``elephant.kernels.TriangularKernel``. Calling an instance on a time quantity ``t``
    returns the density at ``t`` as a ``pq.Quantity`` of the same shape in ``1 / t.units``.

    Parameters
    ----------
    sigma : pq.Quantity
        Standard deviation of the kernel, a non-negative scalar quantity (a time such as
        ``10 * pq.ms`` for rate estimation).
    invert : bool, optional
        No effect on this symmetric kernel (kept for Elephant's signature). Default: False.

    See Also
    --------
    elephant.kernels.TriangularKernel : The Elephant class this twins.

    Examples
    --------
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.kernels
    >>> from elephant_fit.compat import kernels
    >>> times = [-0.1, 0.0, 0.1] * pq.s
    >>> density = kernels.TriangularKernel(sigma=0.1 * pq.s)(times)
    >>> np.round(density.magnitude, 4).tolist(), density.dimensionality.string
    ([2.4158, 4.0825, 2.4158], '1/s')
    >>> theirs = elephant.kernels.TriangularKernel(sigma=0.1 * pq.s)(times)
    >>> bool(np.allclose(density.magnitude, theirs.magnitude))
    True
    """

    _name = "triangular"


class EpanechnikovLikeKernel(SymmetricKernel):
    r"""Epanechnikov-like kernel: :math:`K(t) = \frac{3}{4d}(1 - (t/d)^2)` for :math:`|t| < d`.

    With :math:`d = \sqrt{5}\sigma` the half width. ``invert`` has no effect.

    Twin of ``elephant.kernels.EpanechnikovLikeKernel``. Calling an instance on a time quantity
    ``t`` returns the density at ``t`` as a ``pq.Quantity`` of the same shape in ``1 / t.units``.

    Parameters
    ----------
    sigma : pq.Quantity
        Standard deviation of the kernel, a non-negative scalar quantity (a time such as
        ``10 * pq.ms`` for rate estimation).
    invert : bool, optional
        No effect on this symmetric kernel (kept for Elephant's signature). Default: False.

    See Also
    --------
    elephant.kernels.EpanechnikovLikeKernel : The Elephant class this twins.

    Examples
    --------
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.kernels
    >>> from elephant_fit.compat import kernels
    >>> times = [-0.1, 0.0, 0.1] * pq.s
    >>> density = kernels.EpanechnikovLikeKernel(sigma=0.1 * pq.s)(times)
    >>> np.round(density.magnitude, 4).tolist(), density.dimensionality.string
    ([2.6833, 3.3541, 2.6833], '1/s')
    >>> theirs = elephant.kernels.EpanechnikovLikeKernel(sigma=0.1 * pq.s)(times)
    >>> bool(np.allclose(density.magnitude, theirs.magnitude))
    True
    """

    _name = "epanechnikovlike"


class GaussianKernel(SymmetricKernel):
    r"""Gaussian kernel: :math:`K(t) = \exp(-t^2 / (2\sigma^2)) / (\sigma\sqrt{2\pi})`.

    ``invert`` has no effect.

    Twin of ``elephant.kernels.GaussianKernel``. Calling an instance on a time quantity ``t``
    returns the density at ``t`` as a ``pq.Quantity`` of the same shape in ``1 / t.units``.

    Parameters
    ----------
    sigma : pq.Quantity
        Standard deviation of the kernel, a non-negative scalar quantity (a time such as
        ``10 * pq.ms`` for rate estimation).
    invert : bool, optional
        No effect on this symmetric kernel (kept for Elephant's signature). Default: False.

    See Also
    --------
    elephant.kernels.GaussianKernel : The Elephant class this twins.

    Examples
    --------
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.kernels
    >>> from elephant_fit.compat import kernels
    >>> times = [-0.1, 0.0, 0.1] * pq.s
    >>> density = kernels.GaussianKernel(sigma=0.1 * pq.s)(times)
    >>> np.round(density.magnitude, 4).tolist(), density.dimensionality.string
    ([2.4197, 3.9894, 2.4197], '1/s')
    >>> theirs = elephant.kernels.GaussianKernel(sigma=0.1 * pq.s)(times)
    >>> bool(np.allclose(density.magnitude, theirs.magnitude))
    True
    """

    _name = "gaussian"


class LaplacianKernel(SymmetricKernel):
    r"""Laplacian kernel: :math:`K(t) = \exp(-|t/\tau|) / (2\tau)`, :math:`\tau = \sigma/\sqrt{2}`.

    ``invert`` has no effect.

    Twin of ``elephant.kernels.LaplacianKernel``. Calling an instance on a time quantity ``t``
    returns the density at ``t`` as a ``pq.Quantity`` of the same shape in ``1 / t.units``.

    Parameters
    ----------
    sigma : pq.Quantity
        Standard deviation of the kernel, a non-negative scalar quantity (a time such as
        ``10 * pq.ms`` for rate estimation).
    invert : bool, optional
        No effect on this symmetric kernel (kept for Elephant's signature). Default: False.

    See Also
    --------
    elephant.kernels.LaplacianKernel : The Elephant class this twins.

    Examples
    --------
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.kernels
    >>> from elephant_fit.compat import kernels
    >>> times = [-0.1, 0.0, 0.1] * pq.s
    >>> density = kernels.LaplacianKernel(sigma=0.1 * pq.s)(times)
    >>> np.round(density.magnitude, 4).tolist(), density.dimensionality.string
    ([1.7191, 7.0711, 1.7191], '1/s')
    >>> theirs = elephant.kernels.LaplacianKernel(sigma=0.1 * pq.s)(times)
    >>> bool(np.allclose(density.magnitude, theirs.magnitude))
    True
    """

    _name = "laplacian"


class ExponentialKernel(Kernel):
    r"""Exponential kernel: :math:`K(t) = \exp(-t/\tau)/\tau` for :math:`t \geq 0`, else 0.

    With :math:`\tau = \sigma`; ``invert=True`` mirrors it to :math:`t \leq 0`.

    Twin of ``elephant.kernels.ExponentialKernel``. Calling an instance on a time quantity ``t``
    returns the density at ``t`` as a ``pq.Quantity`` of the same shape in ``1 / t.units``.

    Parameters
    ----------
    sigma : pq.Quantity
        Standard deviation of the kernel, a non-negative scalar quantity (a time such as
        ``10 * pq.ms`` for rate estimation).
    invert : bool, optional
        If True, mirror the kernel in time (non-zero before 0 instead of after). Default: False.

    See Also
    --------
    elephant.kernels.ExponentialKernel : The Elephant class this twins.

    Examples
    --------
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.kernels
    >>> from elephant_fit.compat import kernels
    >>> times = [-0.1, 0.0, 0.1] * pq.s
    >>> density = kernels.ExponentialKernel(sigma=0.1 * pq.s)(times)
    >>> np.round(density.magnitude, 4).tolist(), density.dimensionality.string
    ([0.0, 10.0, 3.6788], '1/s')
    >>> theirs = elephant.kernels.ExponentialKernel(sigma=0.1 * pq.s)(times)
    >>> bool(np.allclose(density.magnitude, theirs.magnitude))
    True
    """

    _name = "exponential"


class AlphaKernel(Kernel):
    r"""Alpha kernel: :math:`K(t) = t\exp(-t/\tau)/\tau^2` for :math:`t > 0`, else 0.

    With :math:`\tau = \sigma/\sqrt{2}`; ``invert=True`` mirrors it to :math:`t < 0`.

    Twin of ``elephant.kernels.AlphaKernel``. Calling an instance on a time quantity ``t`` returns
    the density at ``t`` as a ``pq.Quantity`` of the same shape in ``1 / t.units``.

    Parameters
    ----------
    sigma : pq.Quantity
        Standard deviation of the kernel, a non-negative scalar quantity (a time such as
        ``10 * pq.ms`` for rate estimation).
    invert : bool, optional
        If True, mirror the kernel in time (non-zero before 0 instead of after). Default: False.

    See Also
    --------
    elephant.kernels.AlphaKernel : The Elephant class this twins.

    Examples
    --------
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.kernels
    >>> from elephant_fit.compat import kernels
    >>> times = [-0.1, 0.0, 0.1] * pq.s
    >>> density = kernels.AlphaKernel(sigma=0.1 * pq.s)(times)
    >>> np.round(density.magnitude, 4).tolist(), density.dimensionality.string
    ([0.0, 0.0, 4.8623], '1/s')
    >>> theirs = elephant.kernels.AlphaKernel(sigma=0.1 * pq.s)(times)
    >>> bool(np.allclose(density.magnitude, theirs.magnitude))
    True
    """

    _name = "alpha"
