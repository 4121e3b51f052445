"""SpikingNetwork: a recurrent stochastic spiking network (coupled GLM) with hidden neurons.

For neurons ``j`` (recorded first, then hidden), trials ``k`` and bins ``t``::

    u[k,t,j] = b[j] + d[c(k),t,j] + sum_i sum_{l=1..L} W[l,i,j] z[k,t-l,i] + sum_{m,c} V[m,c,j] x[k,t-m,c]

``b`` bias, ``d`` stimulus-locked drive, one per condition ``c(k)`` of trial ``k`` (optional;
smooth in time or free; one condition: shared by all trials),
``W`` coupling and self-history (free lags or a temporal basis), ``x`` optional covariates with
causal filters ``V`` (lags 0..M-1; or on a basis, or value tuning curves and a neuron mask:
``elephant_fit.network.covariates``). Observation models: Bernoulli ``p = sigmoid(u)``; Poisson with
mean count per bin ``exp(u)`` or ``softplus(u)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._validation import (
    check_choice,
    check_non_negative_int,
    check_number,
    check_positive_int,
    describe,
)
from ..errors import ArgumentTypeError, ArgumentValueError
from .bases import drive_bumps, gaussian_bumps, temporal_basis
from .covariates import CovariateInput, CovariateSpec, check_covariates, covariate_spec
from .observation import Observation, get_observation

__all__ = ["SpikingNetwork"]


class SpikingNetwork(nn.Module):
    """Recurrent stochastic spiking network with recorded and hidden neurons.

    Time is in bins throughout: lags, trial lengths and filters count bins, spikes are counts per
    bin, and the pre-activation ``u`` (shape (n_trials, n_bins, n_neurons), recorded neurons
    first) is dimensionless: the logit of the spike probability (Bernoulli) or the log, or
    inverse softplus, of the mean count per bin (Poisson). Every term of ``u`` (bias, drive,
    coupling, covariates) is in these units.

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
    observation : {'bernoulli', 'poisson'} or Observation, optional
        Observation model (``elephant_fit.network.observation``); the attribute holds the
        :class:`~elephant_fit.network.observation.Observation` object.
    link : str, optional
        'sigmoid' (Bernoulli); 'exp' or 'softplus' (Poisson, mean count per bin). Default: the
        first of these for the observation model.
    n_bins : int, optional
        Bins per trial; required for a stimulus-locked drive.
    drive : None, 'smooth' or 'free', optional
        Stimulus-locked drive, one per condition: 'smooth' = ``n_drive_basis`` Gaussian bumps in
        time (cannot memorise the PSTH bin by bin), 'free' = one value per bin and neuron.
    n_drive_basis : int, optional
        Number of bumps of a smooth drive. Default: :func:`~elephant_fit.network.bases.drive_bumps`
        without a bin size (one per 5 bins, at least 2); :class:`~elephant_fit.NetworkFitter`
        passes one per 40 ms of the trial.
    n_conditions : int, optional
        Number of stimulus conditions: trials of condition ``c`` (codes ``0 .. n_conditions - 1``,
        passed as ``conditions`` to :meth:`static_input` and the simulations) get the drive
        ``d[c]``. One condition: every trial gets the same drive (no codes needed).
    n_inputs, n_input_lags : int, optional
        Covariates, each through a free causal filter of ``n_input_lags`` lags (lag 0 included).
    covariates : CovariateSpec, optional
        Instead: history filters on a basis, value tuning, a neuron mask (``covariate_input``).
    stimulus_encoder : torch.nn.Module, optional
        A module mapping the covariates (n_trials, n_bins, n_inputs), e.g. a stimulus's pixels
        or features, to a drive of every neuron (n_trials, n_bins, n_neurons), trained with the
        network (``stimulus_encoder``; the seed paper used a CNN with per-neuron read-outs).
        Without ``covariates`` it takes all ``n_inputs`` covariates and no filters are made;
        with them, both terms are added. Unlike the stimulus-locked drive, it predicts the
        response to a stimulus it was not fitted on.
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
        Standard deviation of the initial coupling weights (units of ``u`` per spike), divided by
        sqrt(n_neurons * n_lags): small enough that the initial network is stable.
    seed : int, optional
        Seed of the initialisation.

    Attributes
    ----------
    bias : torch.nn.Parameter
        Shape (n_neurons,): baseline pre-activation, initially -3 (units of ``u``).
    coupling_weights : torch.nn.Parameter
        Shape (n_lags or n_basis, n_pre, n_post) with n_pre = n_post = n_neurons: free weights
        per lag, or coefficients of the basis functions (units of ``u`` per spike); the
        effective coupling is :meth:`lagged_coupling`.
    basis : torch.Tensor or None
        Buffer of shape (n_basis, n_lags), the coupling's temporal basis; None for free lags.
    drive_weights : torch.nn.Parameter or None
        Shape (n_conditions, n_drive_basis, n_neurons) for a smooth drive or
        (n_conditions, n_bins, n_neurons) for a free one; None without a drive.
    observation : Observation
        The observation model.
    covariate_input : CovariateInput or None
        The covariate terms (``elephant_fit.network.covariates``); None without covariates.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.network import SpikingNetwork
    >>> network = SpikingNetwork(n_recorded=3, n_hidden=1, n_lags=4, seed=0)
    >>> network.n_neurons, network.lagged_coupling().shape  # (n_lags, n_pre, n_post)
    (4, torch.Size([4, 4, 4]))
    >>> network.coupling_array().shape  # float64 numpy, (n_post, n_pre, n_lags)
    (4, 4, 4)

    The pre-activation of given spike trains (the recorded and hidden neurons' spikes):

    >>> spikes = torch.zeros(2, 10, 4)  # (n_trials, n_bins, n_neurons)
    >>> spikes[:, 3, 0] = 1.0  # neuron 0 fires in bin 3
    >>> u = network.static_input(10) + network.history(spikes)
    >>> u.shape
    torch.Size([2, 10, 4])
    >>> bool(torch.equal(u[:, :4], network.static_input(4).expand(2, 4, 4)))  # causal
    True

    A smooth stimulus-locked drive per condition:

    >>> driven = SpikingNetwork(n_recorded=2, n_bins=20, drive="smooth", n_conditions=3)
    >>> driven.stimulus_drive().shape  # (n_conditions, n_bins, n_neurons)
    torch.Size([3, 20, 2])
    """

    def __init__(
        self,
        n_recorded: int,
        n_hidden: int = 0,
        n_lags: int = 9,
        basis: str | torch.Tensor | None = None,
        n_basis: int | None = None,
        observation: str | Observation = "bernoulli",
        link: str | None = None,
        n_bins: int | None = None,
        drive: str | None = None,
        n_drive_basis: int | None = None,
        n_conditions: int = 1,
        n_inputs: int = 0,
        n_input_lags: int = 1,
        covariates: CovariateSpec | None = None,
        stimulus_encoder: nn.Module | None = None,
        self_coupling: bool = True,
        exogenous_hidden: bool = False,
        dale: bool = False,
        excitatory_fraction: float = 0.8,
        coupling_scale: float = 0.5,
        seed: int | None = 0,
    ) -> None:
        super().__init__()
        self.n_recorded = check_positive_int(n_recorded, "n_recorded")
        self.n_hidden = check_non_negative_int(n_hidden, "n_hidden")
        self.n_lags = check_positive_int(n_lags, "n_lags")
        self.observation = get_observation(observation, link)
        self.drive = _check_drive(drive, n_bins)
        self.n_bins = n_bins
        self.n_conditions = check_positive_int(n_conditions, "n_conditions")
        n_inputs = check_non_negative_int(n_inputs, "n_inputs")
        check_positive_int(n_input_lags, "n_input_lags")
        self.stimulus_encoder = _check_encoder(stimulus_encoder, n_inputs, covariates)
        if self.stimulus_encoder is not None and covariates is None:
            spec = None  # every covariate goes to the encoder
        else:
            spec = covariate_spec(covariates, n_inputs, n_input_lags)
        self.n_inputs = n_inputs if spec is None else spec.n_inputs
        self.n_input_lags = n_input_lags if spec is None else spec.n_lags
        self.self_coupling = bool(self_coupling)
        self.exogenous_hidden = bool(exogenous_hidden)
        self.dale = bool(dale)
        generator = torch.Generator().manual_seed(0 if seed is None else int(seed))
        n = self.n_neurons
        self.bias = nn.Parameter(torch.full((n,), -3.0))
        basis_tensor = temporal_basis(basis, n_basis, self.n_lags)
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
        basis, weights = _drive_parameters(self.drive, n_bins, self.n_conditions, n, n_drive_basis)
        self.register_buffer("drive_basis", basis)
        self.drive_weights = None if weights is None else nn.Parameter(weights)
        self.covariate_input = None if spec is None else CovariateInput(spec, n_recorded, n_hidden)

    # ------------------------------------------------------------------ sizes
    @property
    def n_neurons(self) -> int:
        """Number of neurons, recorded and hidden."""
        return self.n_recorded + self.n_hidden

    # ------------------------------------------------------------------ effective parameters
    def lagged_coupling(self) -> torch.Tensor:
        """Effective coupling, lags first: shape (n_lags, n_pre, n_post).

        ``W[l-1, i, j]`` acts from neuron i on neuron j at lag l: the layout of the history
        product. :meth:`coupling_array` (and a fitter's ``coupling_``) is post-first instead,
        (n_post, n_pre, n_lags).
        """
        weights = self.coupling_weights
        if self.basis is not None:
            weights = torch.einsum("bl,bij->lij", self.basis.to(weights.dtype), weights)
        if self.dale:
            weights = weights.abs() * self.dale_sign.to(weights.dtype).view(1, -1, 1)
        return weights * self.coupling_mask.to(weights.dtype)

    def coupling_array(self) -> np.ndarray:
        """Effective coupling as a float64 numpy array of shape (n_post, n_pre, n_lags)."""
        return self.lagged_coupling().detach().cpu().double().permute(2, 1, 0).numpy()

    def stimulus_drive(self) -> torch.Tensor | None:
        """Stimulus-locked drive of each condition, shape (n_conditions, n_bins, n_neurons), or None."""
        weights = self.drive_weights
        if weights is None or self.drive_basis is None:
            return weights
        n_conditions, n_basis, n = weights.shape
        # one product for all conditions; with one condition exactly ``basis @ weights[0]``
        flat = weights.transpose(0, 1).reshape(n_basis, n_conditions * n)
        drive = self.drive_basis.to(weights.dtype) @ flat
        return drive.view(-1, n_conditions, n).transpose(0, 1)

    def static_input(
        self,
        n_bins: int,
        inputs: torch.Tensor | None = None,
        first_bin: int = 0,
        conditions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Everything but the recurrent term: bias + the trial's condition's drive + filtered covariates.

        Parameters
        ----------
        n_bins : int
            Number of bins.
        inputs : torch.Tensor, optional
            Covariates from the trial's first bin, shape (n_trials, first_bin + n_bins, n_inputs):
            their filters see the bins before ``first_bin`` too.
        first_bin : int, optional
            The trial bin the first of them is: a window ``first_bin .. first_bin + n_bins - 1`` of
            the trial.
        conditions : torch.Tensor, optional
            Condition code of each trial, shape (n_trials,), integers in ``0 .. n_conditions - 1``
            (:meth:`check_conditions`); required when the network has a drive per condition.

        Returns
        -------
        torch.Tensor
            Shape (1, n_bins, n_neurons) when every trial gets the same input (no covariates, one
            drive), else (n_trials, n_bins, n_neurons).
        """
        if self.drive_weights is not None and (first_bin < 0 or first_bin + n_bins > self.n_bins):
            raise ArgumentValueError(
                f"This network has a stimulus-locked drive of {self.n_bins} bins, but bins "
                f"{first_bin}..{first_bin + n_bins - 1} were requested."
            )
        total = self.bias.view(1, 1, -1).expand(1, n_bins, -1)
        n_trials = None if conditions is None else len(conditions)
        if conditions is not None:
            conditions = self.check_conditions(conditions, n_trials)
        drive = self.stimulus_drive()
        if drive is not None:
            drive = drive[:, first_bin : first_bin + n_bins]
            if self.n_conditions > 1:
                if conditions is None:
                    raise ArgumentValueError(
                        f"This network has a drive per condition (n_conditions="
                        f"{self.n_conditions}): pass `conditions`, the code of each trial."
                    )
                drive = drive.index_select(0, conditions)
            total = total + drive
        if inputs is not None:
            filtered = self.filter_inputs(self.check_inputs(inputs, n_trials, first_bin + n_bins))
            total = total + filtered[:, first_bin:]
        return total

    def check_conditions(self, conditions: torch.Tensor, n_trials: int | None) -> torch.Tensor:
        """Validate condition codes of shape (n_trials,); return them as int64 on the model's device."""
        return _check_conditions(conditions, n_trials, self.n_conditions, self.bias.device)

    def check_inputs(self, inputs: torch.Tensor, n_trials: int | None, n_bins: int) -> torch.Tensor:
        """Validate covariates of shape (n_trials, n_bins, n_inputs) and return them in the model's dtype."""
        return check_covariates(inputs, self.n_inputs, n_trials, n_bins, self.bias)

    def filter_inputs(self, inputs: torch.Tensor) -> torch.Tensor:
        """Covariate terms, (n_trials, n_bins, n_inputs) -> (n_trials, n_bins, n_neurons).

        ``covariate_input`` (filters, tuning) plus the ``stimulus_encoder``'s drive.
        """
        total = None if self.covariate_input is None else self.covariate_input(inputs)
        if self.stimulus_encoder is not None:
            encoded = _encode(self.stimulus_encoder, inputs, self.n_neurons)
            total = encoded if total is None else total + encoded
        assert total is not None
        return total

    @property
    def input_filters(self) -> nn.Parameter | None:
        """History weights ``covariate_input.history_weights``, (n_input_lags or n_basis, n_history, n)."""
        return None if self.covariate_input is None else self.covariate_input.history_weights

    def history(self, spikes: torch.Tensor, coupling: torch.Tensor | None = None) -> torch.Tensor:
        """Recurrent input of given spike trains, for all bins at once (no loop over time).

        Parameters
        ----------
        spikes : torch.Tensor
            Shape (n_trials, n_bins, n_pre) with n_pre = n_neurons (or the rows of ``coupling``).
        coupling : torch.Tensor, optional
            Shape (n_lags, n_pre, n_neurons); default: :meth:`lagged_coupling`.

        Returns
        -------
        torch.Tensor
            Shape (n_trials, n_bins, n_neurons): sum over lags l >= 1 of spikes[t - l] @ W[l].
        """
        weights = self.lagged_coupling() if coupling is None else coupling
        padded = F.pad(spikes.transpose(1, 2), (self.n_lags, 0))  # (K, n_pre, L + T)
        kernel = weights.flip(0).permute(2, 1, 0)  # (n_post, n_pre, L): index k <-> lag L - k
        return F.conv1d(padded, kernel)[..., :-1].transpose(1, 2)

    # ------------------------------------------------------------------ observation model
    @property
    def link(self) -> str:
        """Link of the observation model ('sigmoid', 'exp' or 'softplus')."""
        return self.observation.link

    def expected_count(self, u: torch.Tensor) -> torch.Tensor:
        """Expected count per bin from pre-activations (the inverse link), same shape as ``u``.

        The spike probability for Bernoulli, the mean count for Poisson: ``observation.mean(u)``.
        """
        return self.observation.mean(u)

    def neg_log_likelihood(self, u: torch.Tensor, spikes: torch.Tensor) -> torch.Tensor:
        """Per-bin negative log-likelihood of ``spikes`` given pre-activations ``u`` (same shape)."""
        return self.observation.neg_log_likelihood(u, spikes)

    def extra_repr(self) -> str:
        """Hyper-parameters shown by ``repr``."""
        # one condition: the repr of before conditions (checkpoint fingerprints include it)
        conditions = f"n_conditions={self.n_conditions}, " if self.n_conditions > 1 else ""
        return (
            f"n_recorded={self.n_recorded}, n_hidden={self.n_hidden}, n_lags={self.n_lags}, "
            f"observation={self.observation!r}, drive={self.drive!r}, {conditions}"
            f"n_inputs={self.n_inputs}, self_coupling={self.self_coupling}, "
            f"exogenous_hidden={self.exogenous_hidden}, dale={self.dale}"
        )


def _check_drive(drive: str | None, n_bins: int | None) -> str | None:
    """Validate the drive option."""
    if drive is None:
        return None
    check_choice(drive, "drive", (None, "smooth", "free"))
    if n_bins is None:
        raise ArgumentValueError(
            "A stimulus-locked `drive` needs `n_bins` (the number of bins of a trial)."
        )
    check_positive_int(n_bins, "n_bins")
    return drive


def _drive_parameters(
    drive: str | None, n_bins: int | None, n_conditions: int, n: int, n_drive_basis: int | None
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The smooth drive's basis (n_basis, n_bins) and the initial drive weights.

    Weights of shape (n_conditions, n_basis or n_bins, n), zero; (None, None) without a drive.
    """
    if drive is None:
        return None, None
    assert n_bins is not None
    if drive == "free":
        return None, torch.zeros(n_conditions, n_bins, n)
    n_basis = (
        drive_bumps(n_bins)
        if n_drive_basis is None
        else check_positive_int(n_drive_basis, "n_drive_basis")
    )
    return gaussian_bumps(n_basis, n_bins).float(), torch.zeros(n_conditions, n_basis, n)


def _encode(encoder: nn.Module, inputs: torch.Tensor, n_neurons: int) -> torch.Tensor:
    """The encoder's drive of ``inputs`` (n_trials, n_bins, n_inputs), checked: (.., n_neurons)."""
    encoded = encoder(inputs)
    expected = (*inputs.shape[:2], n_neurons)
    if not isinstance(encoded, torch.Tensor) or tuple(encoded.shape) != expected:
        raise ArgumentValueError(
            f"Expected `stimulus_encoder` to map covariates of shape {tuple(inputs.shape)} to a "
            f"drive of shape {expected} (n_trials, n_bins, n_neurons), but it returned "
            f"{describe(encoded)}."
        )
    return encoded


def _check_encoder(
    encoder: Any, n_inputs: int, covariates: CovariateSpec | None
) -> nn.Module | None:
    """The stimulus encoder (a torch.nn.Module taking ``n_inputs`` covariates) or None."""
    if encoder is None:
        return None
    if not isinstance(encoder, nn.Module):
        raise ArgumentTypeError(
            f"Expected `stimulus_encoder` to be a torch.nn.Module, but got {describe(encoder)}."
        )
    if n_inputs == 0 and covariates is None:
        raise ArgumentValueError(
            "A `stimulus_encoder` needs covariates to encode: give `n_inputs` (their number)."
        )
    return encoder


def _check_conditions(
    conditions: torch.Tensor, n_trials: int | None, n_conditions: int, device: torch.device
) -> torch.Tensor:
    """Condition codes (n_trials,) in ``0 .. n_conditions - 1``, as int64 on ``device``."""
    if (
        not isinstance(conditions, torch.Tensor)
        or conditions.ndim != 1
        or conditions.dtype.is_floating_point
        or conditions.dtype.is_complex
        or conditions.dtype == torch.bool
    ):
        raise ArgumentTypeError(
            "Expected `conditions` to be a 1-d integer torch.Tensor (one code per trial), but "
            f"got {describe(conditions)}."
        )
    if n_trials is not None and len(conditions) != n_trials:
        raise ArgumentValueError(
            f"Expected `conditions` of shape (n_trials,) = ({n_trials},), but got "
            f"{tuple(conditions.shape)}."
        )
    if len(conditions) and (int(conditions.min()) < 0 or int(conditions.max()) >= n_conditions):
        raise ArgumentValueError(
            f"Expected `conditions` in 0..{n_conditions - 1} (n_conditions={n_conditions}), but "
            f"got values {int(conditions.min())}..{int(conditions.max())}."
        )
    return conditions.to(device=device, dtype=torch.long)


def _dale_signs(n_recorded: int, n_hidden: int, excitatory_fraction: float) -> torch.Tensor:
    """+1 for excitatory, -1 for inhibitory: the first fraction of recorded and of hidden neurons."""
    if not 0.0 <= check_number(excitatory_fraction, "excitatory_fraction") <= 1.0:
        raise ArgumentValueError(
            f"Expected `excitatory_fraction` in [0, 1], but got {excitatory_fraction!r}."
        )
    signs = []
    for count in (n_recorded, n_hidden):
        n_exc = round(excitatory_fraction * count)
        signs.append(torch.cat([torch.ones(n_exc), -torch.ones(count - n_exc)]))
    return torch.cat(signs)
