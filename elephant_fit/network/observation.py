"""Observation models: how a neuron's spike count in a bin is drawn from its pre-activation ``u``.

* :class:`Bernoulli` (link ``"sigmoid"``): at most one spike per bin, ``p = sigmoid(u)``;
* :class:`Poisson` (link ``"exp"`` or ``"softplus"``): counts with mean ``exp(u)`` or
  ``softplus(u)`` per bin.

An observation object owns everything that depends on that choice: the mean and its inverse, the
negative log-likelihood, the noise and the sampler (with a straight-through gradient), how counts
are clipped to what the model can emit, and the homogeneous baseline used to express likelihoods
in bits per spike. The rest of the package calls these methods and never branches on the name.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .._validation import check_choice, describe
from ..errors import ArgumentTypeError, ArgumentValueError
from .surrogates import Surrogate

__all__ = ["OBSERVATIONS", "Bernoulli", "Observation", "Poisson", "get_observation"]

#: Smallest mean count (and distance of a Bernoulli mean from 1) used by :meth:`inverse_mean`.
MEAN_FLOOR = 1e-6


class Observation:
    """Base class of observation models (see the module docstring).

    Subclasses set ``name``, ``links`` (the first is the default) and ``binary``, and implement
    :meth:`mean`, :meth:`inverse_mean`, :meth:`neg_log_likelihood`, :meth:`noise`,
    :meth:`sample`, :meth:`sample_into` and :meth:`sample_derivative` (and
    :meth:`prepare_noise` when :meth:`sample_into` wants the noise in another form).

    Tensors are of any shape, typically (n_trials, n_bins, n_neurons); the pre-activation ``u``
    is dimensionless (the logit of the spike probability for Bernoulli, the log or inverse
    softplus of the mean count per bin for Poisson), counts are spikes per bin, and
    log-likelihoods are in nats.

    Parameters
    ----------
    link : str, optional
        One of ``links``; default the first.

    Attributes
    ----------
    name : str
        Short name (:data:`OBSERVATIONS`' key).
    links : tuple of str
        The links the model accepts, the default first.
    link : str
        The link of this instance.

    Examples
    --------
    The interface, on a Bernoulli model (every observation model has it):

    >>> import torch
    >>> from elephant_fit.network import Bernoulli, Observation
    >>> observation = Bernoulli()
    >>> isinstance(observation, Observation), observation.links, observation.binary
    (True, ('sigmoid',), True)
    >>> u = torch.zeros(2, 3, 4)  # (n_trials, n_bins, n_neurons), probability 0.5 per bin
    >>> generator = torch.Generator().manual_seed(0)
    >>> noise = observation.noise(tuple(u.shape), generator, u.dtype, u.device)
    >>> counts = observation.sample(u, noise)
    >>> counts.shape, bool(((counts == 0) | (counts == 1)).all())
    (torch.Size([2, 3, 4]), True)
    >>> nll = observation.neg_log_likelihood(u, counts)  # nats per bin: ln 2 at p = 0.5
    >>> nll.shape, round(float(nll.sum()), 4)
    (torch.Size([2, 3, 4]), 16.6355)
    """

    name: str = "base"
    links: tuple[str, ...] = ()
    #: Whether a bin holds at most one spike (counts above 1 are clipped to 1).
    binary: bool = False

    def __init__(self, link: str | None = None) -> None:
        self.link = self.links[0] if link is None else check_choice(link, "link", self.links)

    def mean(self, u: torch.Tensor) -> torch.Tensor:
        """Spike probability or mean count per bin (the inverse link), same shape as ``u``."""
        raise NotImplementedError

    def inverse_mean(self, mean: torch.Tensor) -> torch.Tensor:
        """Pre-activation whose mean is ``mean`` (clamped into the model's range), same shape.

        ``mean`` is a spike probability or a mean count per bin; the floor is
        ``MEAN_FLOOR``.
        """
        raise NotImplementedError

    def neg_log_likelihood(self, u: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
        """Per-bin negative log-likelihood (nats) of ``counts`` given ``u`` (broadcast together).

        Parameters
        ----------
        u : torch.Tensor
            Pre-activations, e.g. shape (n_trials, n_bins, n_neurons).
        counts : torch.Tensor
            Spike counts per bin, broadcastable with ``u``.

        Returns
        -------
        torch.Tensor
            The broadcast shape of ``u`` and ``counts``, in nats.
        """
        raise NotImplementedError

    def noise(
        self,
        shape: tuple[int, ...],
        generator: torch.Generator | None,
        dtype: torch.dtype,
        device: torch.device,
    ) -> torch.Tensor:
        """The randomness of one sample per entry of ``shape`` (consumed by :meth:`sample`).

        Parameters
        ----------
        shape : tuple of int
            Shape of the samples, e.g. (n_trials, n_bins, n_neurons).
        generator : torch.Generator or None
            Random stream (None: torch's global one).
        dtype : torch.dtype
            Floating dtype of the noise.
        device : torch.device
            Device of the noise.

        Returns
        -------
        torch.Tensor
            Shape ``shape``: standard logistic (Bernoulli) or uniform on (0, 1) (Poisson).
        """
        raise NotImplementedError

    def sample(
        self, u: torch.Tensor, noise: torch.Tensor, surrogate: Surrogate | None = None
    ) -> torch.Tensor:
        """Counts drawn at ``u`` with ``noise``, with a surrogate gradient with respect to ``u``.

        Parameters
        ----------
        u : torch.Tensor
            Pre-activations, any shape.
        noise : torch.Tensor
            From :meth:`noise`, same shape.
        surrogate : Surrogate, optional
            Gradient surrogate of binary samples (ignored by count models, whose samples pass the
            gradient of their mean).

        Returns
        -------
        torch.Tensor
            Counts, same shape and dtype as ``u``.
        """
        raise NotImplementedError

    def prepare_noise(self, noise: torch.Tensor) -> torch.Tensor:
        """``noise`` in the form :meth:`sample_into` takes (computed once for all bins)."""
        return noise

    def sample_into(self, u: torch.Tensor, prepared: torch.Tensor, out: torch.Tensor) -> None:
        """Like :meth:`sample` without gradient, written into ``out``.

        Parameters
        ----------
        u : torch.Tensor
            Pre-activations, any shape.
        prepared : torch.Tensor
            ``prepare_noise(noise)``, same shape.
        out : torch.Tensor
            Where the counts go (any float dtype; may be a strided view).
        """
        raise NotImplementedError

    def sample_derivative(
        self, u: torch.Tensor, noise: torch.Tensor, surrogate: Surrogate | None
    ) -> torch.Tensor:
        """The derivative ``dz/du`` that :meth:`sample` passes back, same shape as ``u``.

        Raises ``NotImplementedError`` when it cannot be given in closed form (a surrogate without
        :meth:`~elephant_fit.network.surrogates.Surrogate.derivative`): the caller then lets
        autograd differentiate :meth:`sample`.
        """
        raise NotImplementedError

    def clip_counts(self, counts: torch.Tensor) -> tuple[torch.Tensor, bool]:
        """Counts the model can emit (binary models: at most 1), and whether any was clipped.

        Parameters
        ----------
        counts : torch.Tensor
            Spike counts, any shape; not modified.

        Returns
        -------
        counts : torch.Tensor
            The clipped counts (``counts`` itself when nothing changes).
        clipped : bool
            Whether some count was above what the model can emit.
        """
        if self.binary and bool((counts > 1).any()):
            return counts.clamp(max=1), True
        return counts, False

    def baseline_neg_log_likelihood(self, counts: torch.Tensor) -> float:
        """Negative log-likelihood (nats, summed) of a homogeneous rate per neuron: its mean count.

        Parameters
        ----------
        counts : torch.Tensor
            Shape (n_trials, n_bins, n_neurons).

        Returns
        -------
        float
            The baseline of bits-per-spike scores.
        """
        counts = counts.double()
        u = self.inverse_mean(counts.mean(dim=(0, 1)))
        return float(self.neg_log_likelihood(u.expand_as(counts), counts).sum())

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.link == getattr(other, "link", None)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.link))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(link={self.link!r})"


class Bernoulli(Observation):
    """At most one spike per bin with probability ``sigmoid(u)``; noise is standard logistic.

    ``u`` is the logit of the spike probability of a bin (link ``"sigmoid"``, the only one); a
    sample is ``1[u + noise > 0]``, with the gradient of a
    :class:`~elephant_fit.network.surrogates.Surrogate`.

    Parameters
    ----------
    link : {'sigmoid'}, optional
        The link.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.network import Bernoulli
    >>> observation = Bernoulli()
    >>> u = torch.tensor([-2.0, 0.0, 2.0])  # logits
    >>> [round(p, 4) for p in observation.mean(u).tolist()]  # spike probability per bin
    [0.1192, 0.5, 0.8808]
    >>> observation.sample(u, torch.zeros(3)).tolist()  # noise 0: a spike where u > 0
    [0.0, 0.0, 1.0]
    >>> observation.clip_counts(torch.tensor([0.0, 1.0, 3.0]))  # at most one spike per bin
    (tensor([0., 1., 1.]), True)
    """

    name = "bernoulli"
    links = ("sigmoid",)
    binary = True

    def mean(self, u: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return torch.sigmoid(u)

    def inverse_mean(self, mean: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return torch.logit(mean.clamp(MEAN_FLOOR, 1 - MEAN_FLOOR))

    def neg_log_likelihood(self, u: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return F.softplus(u) - counts * u

    def noise(  # noqa: D102
        self,
        shape: tuple[int, ...],
        generator: torch.Generator | None,
        dtype: torch.dtype,
        device: torch.device,
    ) -> torch.Tensor:
        # logistic noise L = log(U) - log(1 - U): u + L > 0 is Bernoulli(sigmoid(u))
        uniform = torch.rand(shape, generator=generator, dtype=dtype, device=device)
        tiny = torch.finfo(dtype).tiny
        # log(U + tiny) - log1p(-U + tiny), the same operations in place (two buffers, not five)
        logistic = torch.add(uniform, tiny).log_()
        return logistic.sub_(uniform.neg_().add_(tiny).log1p_())

    def sample(  # noqa: D102
        self, u: torch.Tensor, noise: torch.Tensor, surrogate: Surrogate | None = None
    ) -> torch.Tensor:
        if surrogate is None:
            return (u + noise > 0).to(u.dtype)
        return surrogate.sample(u, noise)

    def prepare_noise(self, noise: torch.Tensor) -> torch.Tensor:
        """The firing threshold ``-noise``: ``u > -noise`` is exactly ``u + noise > 0``."""
        return -noise

    def sample_into(self, u: torch.Tensor, prepared: torch.Tensor, out: torch.Tensor) -> None:  # noqa: D102
        torch.gt(u, prepared, out=out)

    def sample_derivative(  # noqa: D102
        self, u: torch.Tensor, noise: torch.Tensor, surrogate: Surrogate | None
    ) -> torch.Tensor:
        if surrogate is None:  # a hard sample passes no gradient
            return torch.zeros_like(u)
        return surrogate.derivative(u, noise)


class Poisson(Observation):
    """Counts with mean ``exp(u)`` (link 'exp') or ``softplus(u)`` (link 'softplus') per bin.

    Sampled by the inverse CDF of uniform noise (means up to 20) or a rounded normal approximation
    (above); samples pass the gradient of their mean (straight through).

    Parameters
    ----------
    link : {'exp', 'softplus'}, optional
        How the pre-activation ``u`` gives the mean count per bin: ``exp(u)`` (default) or
        ``softplus(u)``.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.network import Poisson
    >>> observation = Poisson()  # link 'exp'
    >>> u = observation.inverse_mean(torch.tensor([0.5, 2.0, 30.0]))  # log mean counts
    >>> [round(m, 3) for m in observation.mean(u).tolist()]  # mean count per bin
    [0.5, 2.0, 30.0]
    >>> observation.sample(u, torch.full((3,), 0.5)).tolist()  # uniform 0.5: the medians
    [0.0, 2.0, 30.0]
    >>> Poisson("softplus")
    Poisson(link='softplus')
    """

    name = "poisson"
    links = ("exp", "softplus")

    def mean(self, u: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return torch.exp(u) if self.link == "exp" else F.softplus(u)

    def inverse_mean(self, mean: torch.Tensor) -> torch.Tensor:  # noqa: D102
        mean = mean.clamp(min=MEAN_FLOOR)
        return torch.log(mean) if self.link == "exp" else torch.log(torch.expm1(mean))

    def neg_log_likelihood(self, u: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:  # noqa: D102
        if self.link == "exp":
            return torch.exp(u) - counts * u + torch.lgamma(counts + 1)
        rate = F.softplus(u)
        return (
            rate
            - counts * torch.log(rate + torch.finfo(rate.dtype).tiny)
            + torch.lgamma(counts + 1)
        )

    def noise(  # noqa: D102
        self,
        shape: tuple[int, ...],
        generator: torch.Generator | None,
        dtype: torch.dtype,
        device: torch.device,
    ) -> torch.Tensor:
        return torch.rand(shape, generator=generator, dtype=dtype, device=device)

    def sample(  # noqa: D102
        self, u: torch.Tensor, noise: torch.Tensor, surrogate: Surrogate | None = None
    ) -> torch.Tensor:
        return poisson_counts(self.mean(u), noise)

    def sample_into(self, u: torch.Tensor, prepared: torch.Tensor, out: torch.Tensor) -> None:  # noqa: D102
        out.copy_(poisson_counts(self.mean(u), prepared))

    def sample_derivative(  # noqa: D102
        self, u: torch.Tensor, noise: torch.Tensor, surrogate: Surrogate | None
    ) -> torch.Tensor:
        # straight through: the gradient of the mean
        return torch.exp(u) if self.link == "exp" else torch.sigmoid(u)


def poisson_counts(mean: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """Poisson counts from given uniforms: inverse CDF for means up to 20, normal approximation above.

    Parameters
    ----------
    mean : torch.Tensor
        Mean counts, any shape.
    uniform : torch.Tensor
        Uniform(0, 1) samples, same shape.

    Returns
    -------
    torch.Tensor
        Counts with a straight-through gradient equal to that of the mean.
    """
    with torch.no_grad():
        lam = mean.detach().double().clamp(min=0.0)  # float64: the running CDF must reach 1
        uniform = uniform.double()
        small = lam.clamp(max=20.0)
        term = torch.exp(-small)
        cdf = term.clone()
        count = torch.zeros_like(lam)
        for k in range(1, 80):  # P(count >= 80 | mean 20) < 1e-20
            below = uniform > cdf
            if not bool(below.any()):
                break
            count += below.to(count.dtype)
            term = term * small / k
            cdf = cdf + term
        normal = normal_quantiles(uniform)
        large = torch.clamp(torch.round(lam + torch.sqrt(lam) * normal), min=0.0)
        count = torch.where(lam > 20.0, large, count).to(mean.dtype)
    return count + (mean - mean.detach())


def normal_quantiles(uniform: torch.Tensor) -> torch.Tensor:
    """Standard normal quantiles of uniforms, ``sqrt(2) erfinv(2 uniform - 1)``, in float64.

    The normal approximation of Poisson counts with large means (:func:`poisson_counts` and the
    compiled loops).

    Parameters
    ----------
    uniform : torch.Tensor
        Uniform(0, 1) samples, any shape.

    Returns
    -------
    torch.Tensor
        Same shape, float64.
    """
    return math.sqrt(2.0) * torch.erfinv(2 * uniform.double() - 1)


#: Observation model classes by name, the names :func:`get_observation` accepts.
OBSERVATIONS: dict[str, type[Observation]] = {"bernoulli": Bernoulli, "poisson": Poisson}


def get_observation(observation: str | Observation, link: str | None = None) -> Observation:
    """Resolve an observation name ('bernoulli', 'poisson') and link, or pass an instance through.

    Parameters
    ----------
    observation : str or Observation
        The model.
    link : str, optional
        Its link (default: the model's first link); must be None for an instance.

    Returns
    -------
    Observation
        The observation model.

    Examples
    --------
    >>> get_observation("poisson", link="softplus")
    Poisson(link='softplus')
    >>> get_observation("bernoulli").binary
    True
    """
    if isinstance(observation, Observation):
        if link is not None and link != observation.link:
            raise ArgumentValueError(
                f"Expected `link` to be None or {observation.link!r} with {observation!r}, but "
                f"got {describe(link)}."
            )
        return observation
    if not isinstance(observation, str):
        raise ArgumentTypeError(
            f"Expected `observation` to be one of {sorted(OBSERVATIONS)} or an Observation, but "
            f"got {describe(observation)}."
        )
    check_choice(observation, "observation", tuple(OBSERVATIONS))
    return OBSERVATIONS[observation](link)
