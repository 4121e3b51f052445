"""Spike samplers with pluggable gradient estimators (straight-through and relaxations).

Every estimator maps a pre-activation ``u`` (the logit of the spike probability for Bernoulli
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

__all__ = [
    "GumbelSigmoid",
    "PseudoDerivative",
    "SigmoidStraightThrough",
    "SpikeEstimator",
    "get_estimator",
    "logistic_noise",
]


def logistic_noise(
    shape: tuple[int, ...],
    generator: torch.Generator | None,
    dtype: torch.dtype,
    device: torch.device,
) -> torch.Tensor:
    """Standard logistic noise ``log(U) - log(1 - U)``; ``u + L > 0`` is Bernoulli(sigmoid(u)).

    Parameters
    ----------
    shape : tuple of int
        Output shape.
    generator : torch.Generator or None
        Random generator (on ``device``).
    dtype, device
        Of the output.

    Returns
    -------
    torch.Tensor
        Noise of the given shape.
    """
    uniform = torch.rand(shape, generator=generator, dtype=dtype, device=device)
    tiny = torch.finfo(dtype).tiny
    return torch.log(uniform + tiny) - torch.log1p(-uniform + tiny)


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
        surrogate = ctx.gamma * torch.clamp(1.0 - u.abs(), min=0.0)
        return grad_output * surrogate, None, None


class _SigmoidStraightThroughFunction(torch.autograd.Function):
    """Heaviside forward, sigmoid-derivative backward (one autograd node instead of five)."""

    @staticmethod
    def forward(ctx: Any, u: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(u)
        return (u + noise > 0).to(u.dtype)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:
        (u,) = ctx.saved_tensors
        p = torch.sigmoid(u)
        return grad_output * p * (1.0 - p), None


class SpikeEstimator:
    """Base class: ``sample(u, noise)`` returns Bernoulli spikes with a surrogate gradient."""

    name = "base"

    def sample(self, u: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Spikes ``1[u + noise > 0]`` with this estimator's gradient.

        Parameters
        ----------
        u : torch.Tensor
            Logits, any shape.
        noise : torch.Tensor
            Standard logistic noise of the same shape (see :func:`logistic_noise`).

        Returns
        -------
        torch.Tensor
            Spikes in {0, 1}, same shape and dtype as ``u``.
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


class PseudoDerivative(SpikeEstimator):
    """The paper's pseudo-derivative ``gamma * max(0, 1 - |u|)`` (u = logit).

    Parameters
    ----------
    gamma : float, optional
        Dampening factor (0.3 in Bellec et al. 2021).
    """

    name = "pseudo"

    def __init__(self, gamma: float = 0.3) -> None:
        self.gamma = float(gamma)

    def sample(self, u: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return _PseudoDerivativeFunction.apply(u, noise, self.gamma)


class SigmoidStraightThrough(SpikeEstimator):
    """Straight-through estimator with the sigmoid's own derivative ``p (1 - p)``."""

    name = "sigmoid"

    def sample(self, u: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return _SigmoidStraightThroughFunction.apply(u, noise)


class GumbelSigmoid(SpikeEstimator):
    """Straight-through Gumbel-sigmoid relaxation.

    Parameters
    ----------
    tau : float, optional
        Temperature of the relaxation (smaller: closer to the hard sample, noisier gradients).
    """

    name = "gumbel"

    def __init__(self, tau: float = 1.0) -> None:
        if not (isinstance(tau, (int, float)) and math.isfinite(tau) and tau > 0):
            raise ValueError(f"Expected `tau` to be a positive number, but got {tau!r}.")
        self.tau = float(tau)

    def sample(self, u: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:  # noqa: D102
        soft = torch.sigmoid((u + noise) / self.tau)
        hard = (u + noise > 0).to(u.dtype)
        return hard + (soft - soft.detach())


_ESTIMATORS: dict[str, type[SpikeEstimator]] = {
    "pseudo": PseudoDerivative,
    "sigmoid": SigmoidStraightThrough,
    "gumbel": GumbelSigmoid,
}


def get_estimator(estimator: str | SpikeEstimator) -> SpikeEstimator:
    """Resolve an estimator name (``"pseudo"``, ``"sigmoid"``, ``"gumbel"``) or pass one through.

    Parameters
    ----------
    estimator : str or SpikeEstimator
        A name or an instance.

    Returns
    -------
    SpikeEstimator
        The estimator instance.
    """
    if isinstance(estimator, SpikeEstimator):
        return estimator
    if isinstance(estimator, str) and estimator in _ESTIMATORS:
        return _ESTIMATORS[estimator]()
    raise ValueError(
        f"Expected `estimator` to be one of {sorted(_ESTIMATORS)} or a SpikeEstimator, but got "
        f"{estimator!r}."
    )
