"""Spike samplers with pluggable gradient surrogates (straight-through and relaxations).

Every surrogate maps a pre-activation ``u`` (the logit of the spike probability for Bernoulli
neurons) and a noise sample to spikes whose *forward* value is an exact sample of the model, and
whose *backward* value defines a surrogate derivative ``dz/du``:

* :class:`PseudoDerivative` (Bellec et al. 2021): ``dz/du = gamma * max(0, 1 - |u|)``;
  ``u`` here is the logit, the paper's ``v = (u - theta) / theta``. Zero when ``p < 0.27`` or
  ``p > 0.73``.
* :class:`SigmoidStraightThrough`: ``dz/du = p (1 - p)``, the derivative of the mean, never zero.
* :class:`GumbelSigmoid`: straight-through Gumbel-sigmoid (binary Concrete) relaxation with
  temperature ``tau``: the gradient is that of ``sigmoid((u + L) / tau)`` at the logistic noise
  ``L`` that produced the sample.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ..errors import ArgumentValueError

__all__ = [
    "GumbelSigmoid",
    "PseudoDerivative",
    "SigmoidStraightThrough",
    "Surrogate",
    "get_surrogate",
]


def _pseudo_derivative(u: torch.Tensor, gamma: float) -> torch.Tensor:
    """``gamma * max(0, 1 - |u|)``."""
    return gamma * torch.clamp(1.0 - u.abs(), min=0.0)


def _sigmoid_derivative(u: torch.Tensor) -> torch.Tensor:
    """``sigmoid(u) (1 - sigmoid(u))``."""
    p = torch.sigmoid(u)
    return p * (1.0 - p)


class _PseudoDerivativeFunction(torch.autograd.Function):
    """Heaviside forward, triangular pseudo-derivative backward."""

    @staticmethod
    def forward(ctx: Any, u: torch.Tensor, noise: torch.Tensor, gamma: float) -> torch.Tensor:
        ctx.save_for_backward(u)
        ctx.gamma = gamma
        return (u + noise > 0).to(u.dtype)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        (u,) = ctx.saved_tensors
        return grad_output * _pseudo_derivative(u, ctx.gamma), None, None


class _SigmoidStraightThroughFunction(torch.autograd.Function):
    """Heaviside forward, sigmoid-derivative backward (one autograd node instead of five)."""

    @staticmethod
    def forward(ctx: Any, u: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(u)
        return (u + noise > 0).to(u.dtype)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:
        (u,) = ctx.saved_tensors
        return grad_output * _sigmoid_derivative(u), None


class Surrogate:
    """Base class: ``sample(u, noise)`` returns Bernoulli spikes with a surrogate gradient.

    A subclass sets ``name`` and implements :meth:`sample` (the spikes, with the surrogate
    gradient through autograd) and, for the fused recurrent loop, :meth:`derivative`. Pass an
    instance wherever a ``surrogate`` is taken (:func:`get_surrogate`).

    Attributes
    ----------
    name : str
        Short name (``"pseudo"``, ``"sigmoid"``, ``"gumbel"`` for the built-in surrogates).

    Examples
    --------
    A box-car surrogate, ``dz/du = 1`` where ``|u| < 1``:

    >>> import torch
    >>> from elephant_fit.network import Surrogate
    >>> class Box(Surrogate):
    ...     name = "box"
    ...     def derivative(self, u, noise):
    ...         return (u.abs() < 1).to(u.dtype)
    ...     def sample(self, u, noise):
    ...         hard = (u + noise > 0).to(u.dtype)
    ...         return hard + self.derivative(u, noise) * (u - u.detach())
    >>> u = torch.tensor([-2.0, -0.5, 0.5, 2.0], requires_grad=True)  # logits
    >>> spikes = Box().sample(u, torch.zeros(4))  # noise 0: a spike where u > 0
    >>> spikes.sum().backward()
    >>> spikes.tolist(), u.grad.tolist()
    ([0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0])
    """

    name = "base"

    def sample(self, u: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Spikes ``1[u + noise > 0]`` with this surrogate's gradient.

        Parameters
        ----------
        u : torch.Tensor
            Logits of the spike probability (dimensionless), any shape, e.g.
            (n_trials, n_neurons) for one bin.
        noise : torch.Tensor
            Standard logistic noise of the same shape
            (:meth:`elephant_fit.network.observation.Bernoulli.noise`).

        Returns
        -------
        torch.Tensor
            Spikes in {0, 1} (spikes per bin), same shape and dtype as ``u``.
        """
        raise NotImplementedError

    def derivative(self, u: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """The surrogate ``dz/du`` at ``u`` and ``noise`` (same shape), used by the fused kernel.

        A subclass that does not implement it is still differentiated by autograd through
        :meth:`sample`, on the slower unfused path.

        Parameters
        ----------
        u : torch.Tensor
            Logits, any shape.
        noise : torch.Tensor
            Standard logistic noise, same shape.

        Returns
        -------
        torch.Tensor
            ``dz/du`` (per unit of logit), same shape and dtype as ``u``.
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


class PseudoDerivative(Surrogate):
    """The paper's pseudo-derivative ``gamma * max(0, 1 - |u|)`` (u = logit).

    Parameters
    ----------
    gamma : float, optional
        Dampening factor (0.3 in Bellec et al. 2021): the derivative's height at ``u = 0``.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.network import PseudoDerivative
    >>> surrogate = PseudoDerivative(gamma=0.3)
    >>> u = torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0], requires_grad=True)  # logits
    >>> spikes = surrogate.sample(u, torch.zeros(5))  # noise 0: a spike where u > 0
    >>> spikes.tolist()
    [0.0, 0.0, 0.0, 1.0, 1.0]
    >>> spikes.sum().backward()
    >>> [round(g, 4) for g in u.grad.tolist()]  # 0.3 * max(0, 1 - |u|)
    [0.0, 0.15, 0.3, 0.15, 0.0]
    """

    name = "pseudo"

    def __init__(self, gamma: float = 0.3) -> None:
        self.gamma = float(gamma)

    def sample(self, u: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return _PseudoDerivativeFunction.apply(u, noise, self.gamma)

    def derivative(self, u: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return _pseudo_derivative(u, self.gamma)


class SigmoidStraightThrough(Surrogate):
    """Straight-through surrogate with the sigmoid's own derivative ``p (1 - p)``.

    ``p = sigmoid(u)`` is the spike probability of the bin: the gradient is that of the mean
    spike count, never zero.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.network import SigmoidStraightThrough
    >>> u = torch.tensor([-2.0, 0.0, 2.0], requires_grad=True)  # logits
    >>> spikes = SigmoidStraightThrough().sample(u, torch.zeros(3))
    >>> spikes.sum().backward()
    >>> spikes.tolist(), [round(g, 4) for g in u.grad.tolist()]
    ([0.0, 0.0, 1.0], [0.105, 0.25, 0.105])
    """

    name = "sigmoid"

    def sample(self, u: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return _SigmoidStraightThroughFunction.apply(u, noise)

    def derivative(self, u: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return _sigmoid_derivative(u)


class GumbelSigmoid(Surrogate):
    """Straight-through Gumbel-sigmoid relaxation.

    Parameters
    ----------
    tau : float, optional
        Temperature of the relaxation, in units of logit (smaller: closer to the hard sample,
        noisier gradients).

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.network import GumbelSigmoid
    >>> surrogate = GumbelSigmoid(tau=0.5)
    >>> u = torch.tensor([-1.0, 0.0, 1.0], requires_grad=True)  # logits
    >>> noise = torch.tensor([0.5, 0.5, -0.5])  # logistic noise of the samples
    >>> spikes = surrogate.sample(u, noise)
    >>> spikes.tolist()  # the hard samples: u + noise > 0
    [0.0, 1.0, 1.0]
    >>> spikes.sum().backward()
    >>> [round(g, 4) for g in u.grad.tolist()]  # sigmoid'((u + noise) / tau) / tau
    [0.3932, 0.3932, 0.3932]
    >>> bool(torch.allclose(u.grad, surrogate.derivative(u, noise)))
    True
    """

    name = "gumbel"

    def __init__(self, tau: float = 1.0) -> None:
        if not (isinstance(tau, (int, float)) and math.isfinite(tau) and tau > 0):
            raise ArgumentValueError(f"Expected `tau` to be a positive number, but got {tau!r}.")
        self.tau = float(tau)

    def sample(self, u: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:  # noqa: D102
        soft = torch.sigmoid((u + noise) / self.tau)
        hard = (u + noise > 0).to(u.dtype)
        return hard + (soft - soft.detach())

    def derivative(self, u: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return _sigmoid_derivative((u + noise) / self.tau) / self.tau


_SURROGATES: dict[str, type[Surrogate]] = {
    "pseudo": PseudoDerivative,
    "sigmoid": SigmoidStraightThrough,
    "gumbel": GumbelSigmoid,
}


def get_surrogate(surrogate: str | Surrogate) -> Surrogate:
    """Resolve a surrogate name (``"pseudo"``, ``"sigmoid"``, ``"gumbel"``) or pass one through.

    Parameters
    ----------
    surrogate : str or Surrogate
        A name or an instance.

    Returns
    -------
    Surrogate
        The surrogate instance (a new one, with default parameters, for a name).

    Raises
    ------
    ArgumentValueError
        When ``surrogate`` is neither a known name nor a :class:`Surrogate`.

    Examples
    --------
    >>> from elephant_fit.network import GumbelSigmoid, get_surrogate
    >>> get_surrogate("pseudo")
    PseudoDerivative(gamma=0.3)
    >>> get_surrogate("sigmoid").name
    'sigmoid'
    >>> get_surrogate(GumbelSigmoid(tau=0.5))
    GumbelSigmoid(tau=0.5)
    """
    if isinstance(surrogate, Surrogate):
        return surrogate
    if isinstance(surrogate, str) and surrogate in _SURROGATES:
        return _SURROGATES[surrogate]()
    raise ArgumentValueError(
        f"Expected `surrogate` to be one of {sorted(_SURROGATES)} or a Surrogate, but got "
        f"{surrogate!r}."
    )
