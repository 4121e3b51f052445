"""SpikingNetwork: a recurrent stochastic spiking network (coupled GLM) with hidden neurons.

For neurons ``j`` (recorded first, then hidden), trials ``k`` and bins ``t``::

    u[k,t,j] = b[j] + d[t,j] + sum_i sum_{l=1..L} W[l,i,j] z[k,t-l,i] + sum_{m,c} V[m,c,j] x[k,t-m,c]

``b`` bias, ``d`` stimulus-locked drive shared by all trials (optional; smooth in time or free),
``W`` coupling and self-history (free lags or a temporal basis), ``x`` optional covariates with
causal filters ``V`` (lags 0..M-1). Observation models: Bernoulli ``p = sigmoid(u)``; Poisson with
mean count per bin ``exp(u)`` or ``softplus(u)``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._validation import check_positive_int, describe

__all__ = ["SpikingNetwork", "exponential_basis", "gaussian_bumps", "raised_cosine_basis"]

OBSERVATIONS = {"bernoulli": ("sigmoid",), "poisson": ("exp", "softplus")}


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


def _temporal_basis(
    basis: str | torch.Tensor | None, n_basis: int | None, n_lags: int
) -> torch.Tensor | None:
    """Resolve the coupling basis argument into a (n_basis, n_lags) tensor, or None for free lags."""
    if basis is None:
        return None
    if isinstance(basis, torch.Tensor):
        if basis.ndim != 2 or basis.shape[1] != n_lags:
            raise ValueError(
                f"Expected `basis` to have shape (n_basis, n_lags={n_lags}), but got {tuple(basis.shape)}."
            )
        return basis.detach().to(torch.float64)
    builders = {"raised_cosine": raised_cosine_basis, "exponential": exponential_basis}
    if basis not in builders:
        raise ValueError(
            f"Expected `basis` to be None, 'raised_cosine', 'exponential' or a tensor, but got {describe(basis)}."
        )
    return builders[basis](check_positive_int(n_basis or max(2, n_lags // 2), "n_basis"), n_lags)


class SpikingNetwork(nn.Module):
    """Recurrent stochastic spiking network with recorded and hidden neurons.

    Parameters
    ----------
    n_recorded : int
        Number of recorded neurons (first in every tensor).
    n_hidden : int, optional
        Number of hidden (unrecorded) neurons, after the recorded ones.
    n_lags : int, optional
        Length of the coupling/self-history filters in bins (the paper: 9 lags).
    basis : None, 'raised_cosine', 'exponential' or torch.Tensor, optional
        None: free weights per lag (the paper's default). Otherwise W[l] = sum_b C[b] phi_b(l).
    n_basis : int, optional
        Number of basis functions for a named basis.
    observation : {'bernoulli', 'poisson'}, optional
        Observation model.
    link : str, optional
        'sigmoid' (Bernoulli); 'exp' or 'softplus' (Poisson, mean count per bin). Default: the
        first of these for the observation model.
    n_bins : int, optional
        Bins per trial; required for a stimulus-locked drive.
    drive : None, 'smooth' or 'free', optional
        Stimulus-locked drive shared by all trials: 'smooth' = ``n_drive_basis`` Gaussian bumps in
        time (cannot memorise the PSTH bin by bin), 'free' = one value per bin and neuron.
    n_drive_basis : int, optional
        Number of bumps of a smooth drive. Default: one per 5 bins (at least 2).
    n_inputs : int, optional
        Number of external covariates.
    n_input_lags : int, optional
        Length of the causal covariate filters (lag 0 included).
    self_coupling : bool, optional
        Allow self-history filters W[l, j, j]; False zeroes them.
    exogenous_hidden : bool, optional
        Hidden neurons receive no recurrent input (no recorded -> hidden and no hidden -> hidden
        weights; their own self-history is kept when ``self_coupling``): they are independent
        sources of common input, driven by their bias and the stimulus-locked drive.
    dale : bool, optional
        Dale's law: all outgoing weights of a neuron share its sign (``dale_sign``).
    excitatory_fraction : float, optional
        With ``dale``, the fraction of excitatory neurons (the first ones of each group).
    coupling_scale : float, optional
        Standard deviation of the initial coupling weights, divided by sqrt(n_neurons * n_lags):
        small enough that the initial network is stable.
    seed : int, optional
        Seed of the initialisation.
    """

    def __init__(
        self,
        n_recorded: int,
        n_hidden: int = 0,
        n_lags: int = 9,
        basis: str | torch.Tensor | None = None,
        n_basis: int | None = None,
        observation: str = "bernoulli",
        link: str | None = None,
        n_bins: int | None = None,
        drive: str | None = None,
        n_drive_basis: int | None = None,
        n_inputs: int = 0,
        n_input_lags: int = 1,
        self_coupling: bool = True,
        exogenous_hidden: bool = False,
        dale: bool = False,
        excitatory_fraction: float = 0.8,
        coupling_scale: float = 0.5,
        seed: int | None = 0,
    ) -> None:
        super().__init__()
        self.n_recorded = check_positive_int(n_recorded, "n_recorded")
        if isinstance(n_hidden, bool) or not isinstance(n_hidden, int) or n_hidden < 0:
            raise ValueError(
                f"Expected `n_hidden` to be a non-negative integer, but got {describe(n_hidden)}."
            )
        self.n_hidden = n_hidden
        self.n_lags = check_positive_int(n_lags, "n_lags")
        self.observation, self.link = _check_observation(observation, link)
        self.drive_kind = _check_drive(drive, n_bins)
        self.n_bins = n_bins
        self.n_inputs = n_inputs
        self.n_input_lags = check_positive_int(n_input_lags, "n_input_lags")
        self.self_coupling = bool(self_coupling)
        self.exogenous_hidden = bool(exogenous_hidden)
        self.dale = bool(dale)
        generator = torch.Generator().manual_seed(0 if seed is None else int(seed))
        n = self.n_neurons
        self.bias = nn.Parameter(torch.full((n,), -3.0))
        basis_tensor = _temporal_basis(basis, n_basis, self.n_lags)
        self.register_buffer("basis", None if basis_tensor is None else basis_tensor.float())
        n_coef = self.n_lags if basis_tensor is None else basis_tensor.shape[0]
        scale = coupling_scale / math.sqrt(n * self.n_lags)
        self.coupling_weights = nn.Parameter(torch.randn(n_coef, n, n, generator=generator) * scale)
        mask = torch.ones(n, n)  # [pre, post]
        if self.exogenous_hidden:
            mask[:, self.n_recorded :] = 0.0
            mask.diagonal().fill_(1.0)
        if not self.self_coupling:
            mask.fill_diagonal_(0.0)
        self.register_buffer("coupling_mask", mask)
        self.register_buffer(
            "dale_sign", _dale_signs(self.n_recorded, n_hidden, excitatory_fraction)
        )
        self._init_drive(n_drive_basis)
        self.input_filters = (
            nn.Parameter(torch.zeros(self.n_input_lags, n_inputs, n)) if n_inputs else None
        )

    def _init_drive(self, n_drive_basis: int | None) -> None:
        """Create the drive parameters (and the smooth basis buffer)."""
        n = self.n_neurons
        if self.drive_kind is None:
            self.register_buffer("drive_basis", None)
            self.drive_weights = None
            return
        assert self.n_bins is not None
        if self.drive_kind == "free":
            self.register_buffer("drive_basis", None)
            self.drive_weights = nn.Parameter(torch.zeros(self.n_bins, n))
            return
        n_basis = (
            max(2, self.n_bins // 5)
            if n_drive_basis is None
            else check_positive_int(n_drive_basis, "n_drive_basis")
        )
        self.register_buffer("drive_basis", gaussian_bumps(n_basis, self.n_bins).float())
        self.drive_weights = nn.Parameter(torch.zeros(n_basis, n))

    # ------------------------------------------------------------------ sizes
    @property
    def n_neurons(self) -> int:
        """Number of neurons, recorded and hidden."""
        return self.n_recorded + self.n_hidden

    # ------------------------------------------------------------------ effective parameters
    def coupling(self) -> torch.Tensor:
        """Effective coupling, shape (n_lags, n_pre, n_post): W[l-1, i, j] acts from i to j at lag l."""
        weights = self.coupling_weights
        if self.basis is not None:
            weights = torch.einsum("bl,bij->lij", self.basis.to(weights.dtype), weights)
        if self.dale:
            weights = weights.abs() * self.dale_sign.to(weights.dtype).view(1, -1, 1)
        return weights * self.coupling_mask.to(weights.dtype)

    def coupling_array(self) -> np.ndarray:
        """Effective coupling as a float64 numpy array of shape (n_post, n_pre, n_lags)."""
        return self.coupling().detach().cpu().double().permute(2, 1, 0).numpy()

    def drive(self) -> torch.Tensor | None:
        """Stimulus-locked drive, shape (n_bins, n_neurons), or None."""
        if self.drive_weights is None:
            return None
        if self.drive_basis is None:
            return self.drive_weights
        return self.drive_basis.to(self.drive_weights.dtype) @ self.drive_weights

    def static_input(self, n_bins: int, inputs: torch.Tensor | None = None) -> torch.Tensor:
        """Everything but the recurrent term: bias + drive + filtered covariates.

        Parameters
        ----------
        n_bins : int
            Number of bins.
        inputs : torch.Tensor, optional
            Covariates, shape (n_trials, n_bins, n_inputs).

        Returns
        -------
        torch.Tensor
            Shape (1, n_bins, n_neurons) without covariates, else (n_trials, n_bins, n_neurons).
        """
        if self.drive_weights is not None and n_bins != self.n_bins:
            raise ValueError(
                f"This network has a stimulus-locked drive of {self.n_bins} bins, but {n_bins} bins were requested."
            )
        total = self.bias.view(1, 1, -1).expand(1, n_bins, -1)
        drive = self.drive()
        if drive is not None:
            total = total + drive.unsqueeze(0)
        if inputs is not None:
            total = total + self.filter_inputs(self.check_inputs(inputs, None, n_bins))
        return total

    def check_inputs(self, inputs: torch.Tensor, n_trials: int | None, n_bins: int) -> torch.Tensor:
        """Validate covariates of shape (n_trials, n_bins, n_inputs) and return them in the model's dtype."""
        if self.n_inputs == 0:
            raise ValueError(
                "This network has no covariates (n_inputs=0), but `inputs` were given."
            )
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(f"Expected `inputs` to be a torch.Tensor, but got {describe(inputs)}.")
        expected = (n_trials if n_trials is not None else inputs.shape[0], n_bins, self.n_inputs)
        if inputs.ndim != 3 or tuple(inputs.shape) != expected:
            raise ValueError(
                f"Expected `inputs` of shape (n_trials, n_bins, n_inputs) = {expected}, but got {tuple(inputs.shape)}."
            )
        return inputs.to(device=self.bias.device, dtype=self.bias.dtype)

    def filter_inputs(self, inputs: torch.Tensor) -> torch.Tensor:
        """Causal filtering of covariates, (n_trials, n_bins, n_inputs) -> (n_trials, n_bins, n_neurons)."""
        assert self.input_filters is not None
        lags = self.n_input_lags
        padded = F.pad(inputs.transpose(1, 2), (lags - 1, 0))
        weight = self.input_filters.flip(0).permute(2, 1, 0)  # (n_post, n_inputs, lags)
        return F.conv1d(padded, weight).transpose(1, 2)

    def history(self, spikes: torch.Tensor, coupling: torch.Tensor | None = None) -> torch.Tensor:
        """Recurrent input of given spike trains, for all bins at once (no loop over time).

        Parameters
        ----------
        spikes : torch.Tensor
            Shape (n_trials, n_bins, n_pre) with n_pre = n_neurons (or the rows of ``coupling``).
        coupling : torch.Tensor, optional
            Shape (n_lags, n_pre, n_neurons); default: :meth:`coupling`.

        Returns
        -------
        torch.Tensor
            Shape (n_trials, n_bins, n_neurons): sum over lags l >= 1 of spikes[t - l] @ W[l].
        """
        weights = self.coupling() if coupling is None else coupling
        padded = F.pad(spikes.transpose(1, 2), (self.n_lags, 0))  # (K, n_pre, L + T)
        kernel = weights.flip(0).permute(2, 1, 0)  # (n_post, n_pre, L): index k <-> lag L - k
        return F.conv1d(padded, kernel)[..., :-1].transpose(1, 2)

    # ------------------------------------------------------------------ observation model
    def mean(self, u: torch.Tensor) -> torch.Tensor:
        """Spike probability (Bernoulli) or mean count per bin (Poisson) from pre-activations."""
        if self.observation == "bernoulli":
            return torch.sigmoid(u)
        return torch.exp(u) if self.link == "exp" else F.softplus(u)

    def neg_log_likelihood(self, u: torch.Tensor, spikes: torch.Tensor) -> torch.Tensor:
        """Per-bin negative log-likelihood of ``spikes`` given pre-activations ``u`` (same shape)."""
        if self.observation == "bernoulli":
            return F.softplus(u) - spikes * u
        if self.link == "exp":
            return torch.exp(u) - spikes * u + torch.lgamma(spikes + 1)
        rate = F.softplus(u)
        return (
            rate
            - spikes * torch.log(rate + torch.finfo(rate.dtype).tiny)
            + torch.lgamma(spikes + 1)
        )

    def extra_repr(self) -> str:
        """Hyper-parameters shown by ``repr``."""
        return (
            f"n_recorded={self.n_recorded}, n_hidden={self.n_hidden}, n_lags={self.n_lags}, "
            f"observation={self.observation!r}, link={self.link!r}, drive={self.drive_kind!r}, "
            f"n_inputs={self.n_inputs}, self_coupling={self.self_coupling}, "
            f"exogenous_hidden={self.exogenous_hidden}, dale={self.dale}"
        )


def _check_observation(observation: str, link: str | None) -> tuple[str, str]:
    """Validate the observation model and its link."""
    if observation not in OBSERVATIONS:
        raise ValueError(
            f"Expected `observation` to be one of {sorted(OBSERVATIONS)}, but got {describe(observation)}."
        )
    links = OBSERVATIONS[observation]
    link = links[0] if link is None else link
    if link not in links:
        raise ValueError(
            f"Expected `link` for a {observation} model to be one of {links}, but got {describe(link)}."
        )
    return observation, link


def _check_drive(drive: str | None, n_bins: int | None) -> str | None:
    """Validate the drive option."""
    if drive is None:
        return None
    if drive not in ("smooth", "free"):
        raise ValueError(
            f"Expected `drive` to be None, 'smooth' or 'free', but got {describe(drive)}."
        )
    if n_bins is None:
        raise ValueError(
            "A stimulus-locked `drive` needs `n_bins` (the number of bins of a trial)."
        )
    check_positive_int(n_bins, "n_bins")
    return drive


def _dale_signs(n_recorded: int, n_hidden: int, excitatory_fraction: float) -> torch.Tensor:
    """+1 for excitatory, -1 for inhibitory: the first fraction of recorded and of hidden neurons."""
    if not 0.0 <= excitatory_fraction <= 1.0:
        raise ValueError(
            f"Expected `excitatory_fraction` in [0, 1], but got {excitatory_fraction!r}."
        )
    signs = []
    for count in (n_recorded, n_hidden):
        n_exc = round(excitatory_fraction * count)
        signs.append(torch.cat([torch.ones(n_exc), -torch.ones(count - n_exc)]))
    return torch.cat(signs)
