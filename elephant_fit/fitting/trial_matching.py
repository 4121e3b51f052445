"""Trial matching: pair simulated with recorded trials one to one and penalise the paired distance.

Trial-averaged statistics (PSTH, noise covariance) cannot tell a model whose trials fall into
two modes (a hidden state that flips from trial to trial, hit and miss) from one whose trials all
look like their average. Sourmpis, Petersen, Gerstner & Bellec (NeurIPS 2023, "Trial matching")
compare the trials themselves: a per-trial statistic of each simulated and each recorded trial,
an optimal one-to-one assignment between them (the Hungarian algorithm on their distances; no
gradient through the assignment), and the mean distance of the matched pairs, back-propagated
through the simulated spikes.

The maths lives here; the loss term is :class:`elephant_fit.fitting.losses.TrialMatching`. The
per-trial statistic is the population activity of groups of recorded neurons (default:
one group of all of them), averaged over a sliding window of ``window`` bins, z-scored by the
data's mean per group and bin and its standard deviation per group (so that the distance has the
same scale at any rate and bin size). Trials are matched within their condition. Optional
*behavioural channels* add covariates of the trials (running speed, reaction time...), averaged
over the same windows and z-scored by the data: a simulated trial was run under the covariates of
its recorded trial, so these channels make the assignment prefer pairs that behaved alike (they
carry no gradient; the activity channels do).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from .._validation import describe
from ..errors import ArgumentValueError

__all__ = [
    "behaviour_channels",
    "check_channels",
    "check_groups",
    "matched_by_condition",
    "matched_distance",
    "pair_costs",
    "population_activity",
    "sinkhorn_distance",
    "zscore_by_data",
]

#: Smallest standard deviation of the data's activity used to z-score (silent groups).
MIN_SCALE = 1e-6


def population_activity(
    counts: torch.Tensor, groups: Sequence[Sequence[int]], window: int
) -> torch.Tensor:
    """Mean count of each group of neurons, averaged over a sliding window of bins.

    Parameters
    ----------
    counts : torch.Tensor
        Shape (n_trials, n_bins, n_neurons).
    groups : sequence of sequences of int
        Indices of the neurons of each group.
    window : int
        Bins averaged (a moving average; ``n_bins - window + 1`` windows).

    Returns
    -------
    torch.Tensor
        Shape (n_trials, n_groups, n_bins - window + 1).

    Examples
    --------
    >>> counts = torch.tensor([[[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]]])  # 1 trial, 3 bins, 2 neurons
    >>> population_activity(counts, [[0, 1]], window=2)
    tensor([[[0.2500, 0.5000]]])
    """
    membership = torch.zeros(counts.shape[2], len(groups), dtype=counts.dtype, device=counts.device)
    for g, group in enumerate(groups):
        membership[list(group), g] = 1.0 / len(group)
    activity = (counts @ membership).transpose(1, 2)  # (n_trials, n_groups, n_bins)
    return F.avg_pool1d(activity, window, stride=1)


def zscore_by_data(model: torch.Tensor, data: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Model and data channels z-scored by the data: its mean per channel and window, its standard deviation per channel (over trials and windows).

    Parameters
    ----------
    model, data : torch.Tensor
        Per-trial channels, shapes (n_model, n_channels, n_windows) and (n_data, n_channels,
        n_windows).

    Returns
    -------
    tuple of torch.Tensor
        ``(model_z, data_z)``, the same shapes (a silent channel is divided by ``MIN_SCALE``).

    Examples
    --------
    >>> data = torch.tensor([[[0.0, 4.0]], [[2.0, 6.0]]])  # 2 trials, 1 channel, 2 windows
    >>> model_z, data_z = zscore_by_data(data + 1.0, data)  # data std over all values: 2.58
    >>> data_z.flatten()
    tensor([-0.3873, -0.3873,  0.3873,  0.3873])
    >>> model_z.flatten()
    tensor([0.0000, 0.0000, 0.7746, 0.7746])
    """
    mean = data.mean(dim=0, keepdim=True)
    scale = data.std(dim=(0, 2), keepdim=True).clamp(min=MIN_SCALE).nan_to_num(1.0)
    return (model - mean) / scale, (data - mean) / scale


def behaviour_channels(
    inputs: torch.Tensor | None, channels: Sequence[int], window: int, n_bins: int
) -> torch.Tensor:
    """Covariate channels of each trial, averaged over sliding windows of ``window`` bins.

    Parameters
    ----------
    inputs : torch.Tensor or None
        Covariates of the trials, shape (n_trials, n_bins, n_inputs).
    channels : sequence of int
        Which covariates.
    window : int
        Bins of the moving average.
    n_bins : int
        Bins of the trials compared (the covariates must cover exactly these bins).

    Returns
    -------
    torch.Tensor
        Shape (n_trials, len(channels), n_bins - window + 1).

    Raises
    ------
    ArgumentValueError
        If there are no covariates, a channel does not exist, or the covariates do not cover the
        compared bins (sample-and-measure windows: ``sm_window`` must be None).

    Examples
    --------
    >>> inputs = torch.arange(6.0).view(1, 3, 2)  # 1 trial, 3 bins, 2 covariates
    >>> behaviour_channels(inputs, [1], window=2, n_bins=3)
    tensor([[[2., 4.]]])
    """
    if inputs is None:
        raise ArgumentValueError(
            "Expected covariates for the trial-matching `covariates` channels, but the fit has "
            "none: pass covariates to the fitter, or covariates=None."
        )
    if inputs.shape[1] != n_bins:
        raise ArgumentValueError(
            f"Expected the covariates to cover the {n_bins} compared bins, but they have "
            f"{inputs.shape[1]}: trial matching with `covariates` needs whole trials "
            "(sm_window=None)."
        )
    if max(channels) >= inputs.shape[2]:
        raise ArgumentValueError(
            f"Expected trial-matching `covariates` among the {inputs.shape[2]} covariate "
            f"channels (0..{inputs.shape[2] - 1}), but got {list(channels)}."
        )
    return F.avg_pool1d(inputs[..., list(channels)].transpose(1, 2), window, stride=1)


def pair_costs(model: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of every (model trial, data trial) pair.

    Parameters
    ----------
    model, data : torch.Tensor
        Per-trial statistics, shapes (n_model, ...) and (n_data, ...), the same trailing shape.

    Returns
    -------
    torch.Tensor
        Shape (n_model, n_data).

    Examples
    --------
    >>> pair_costs(torch.tensor([[0.0], [10.0]]), torch.tensor([[9.0], [1.0]]))
    tensor([[81.,  1.],
            [ 1., 81.]])
    """
    flat_model, flat_data = model.flatten(1), data.flatten(1)
    return (flat_model[:, None, :] - flat_data[None, :, :]).pow(2).mean(dim=2)


def matched_distance(model: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
    """Mean squared distance of the optimal one-to-one pairs of model and data trials.

    Parameters
    ----------
    model, data : torch.Tensor
        Per-trial statistics, shapes (n_model, ...) and (n_data, ...) with the same trailing
        shape; ``min(n_model, n_data)`` pairs are formed.

    Returns
    -------
    torch.Tensor
        Scalar: the mean over matched pairs of the mean squared difference (differentiable with
        respect to both; the assignment itself is not differentiated).

    Examples
    --------
    >>> model = torch.tensor([[0.0], [10.0]])
    >>> data = torch.tensor([[9.0], [1.0]])  # paired 0 <-> 1 and 1 <-> 0
    >>> matched_distance(model, data)
    tensor(1.)
    """
    from scipy.optimize import linear_sum_assignment

    cost = pair_costs(model, data)
    rows, columns = linear_sum_assignment(cost.detach().cpu().double().numpy())
    rows = torch.as_tensor(rows, device=cost.device)
    columns = torch.as_tensor(columns, device=cost.device)
    return cost[rows, columns].mean()


def sinkhorn_distance(
    model: torch.Tensor, data: torch.Tensor, epsilon: float = 0.01, n_iterations: int = 100
) -> torch.Tensor:
    """Entropy-regularised transport distance of model and data trials (a soft trial matching).

    Every model trial sends mass ``1 / n_model`` and every data trial receives ``1 / n_data``;
    the plan ``P`` minimises ``<P, C> - eps H(P)`` on the pair costs ``C``
    (:func:`pair_costs`), found by log-domain Sinkhorn iterations with ``eps = epsilon *
    mean(C)`` (scale-free). The result is ``<P, C>``, with ``P`` held fixed in the gradient as the
    Hungarian assignment is (at the optimum it is the gradient of the transport cost). As
    ``epsilon`` -> 0 and ``n_model = n_data`` it tends to :func:`matched_distance`.

    Parameters
    ----------
    model, data : torch.Tensor
        Per-trial statistics, shapes (n_model, ...) and (n_data, ...), the same trailing shape.
    epsilon : float, optional
        Entropic regularisation, relative to the mean pair cost.
    n_iterations : int, optional
        Sinkhorn iterations (each updates both potentials).

    Returns
    -------
    torch.Tensor
        Scalar, differentiable with respect to ``model`` and ``data``.

    Examples
    --------
    >>> model = torch.tensor([[0.0], [10.0]])
    >>> data = torch.tensor([[9.0], [1.0]])
    >>> round(float(sinkhorn_distance(model, data, epsilon=0.01)), 3)  # the Hungarian pairs: 1
    1.0
    """
    cost = pair_costs(model, data)
    n_model, n_data = cost.shape
    frozen = cost.detach()
    eps = epsilon * frozen.mean().clamp(min=MIN_SCALE)
    log_a = torch.full((n_model,), -math.log(n_model), dtype=cost.dtype, device=cost.device)
    log_b = torch.full((n_data,), -math.log(n_data), dtype=cost.dtype, device=cost.device)
    f, g = torch.zeros_like(log_a), torch.zeros_like(log_b)
    for _ in range(n_iterations):
        f = -eps * torch.logsumexp((g[None, :] - frozen) / eps + log_b[None, :], dim=1)
        g = -eps * torch.logsumexp((f[:, None] - frozen) / eps + log_a[:, None], dim=0)
    plan = torch.exp((f[:, None] + g[None, :] - frozen) / eps + log_a[:, None] + log_b[None, :])
    return (plan * cost).sum() / plan.sum()


def matched_by_condition(
    model: torch.Tensor,
    data: torch.Tensor,
    conditions: torch.Tensor | None,
    distance: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = matched_distance,
) -> torch.Tensor:
    """A trial-matching ``distance`` within each condition, averaged over trials.

    Parameters
    ----------
    model, data : torch.Tensor
        Per-trial statistics, shape (n_trials, ...) each: model trial ``k`` has the condition of
        data trial ``k`` (the free run simulates each data trial's condition).
    conditions : torch.Tensor or None
        Condition code of each trial, shape (n_trials,); None: one condition.
    distance : callable, optional
        :func:`matched_distance` (Hungarian) or e.g. :func:`sinkhorn_distance`.

    Returns
    -------
    torch.Tensor
        Scalar.

    Examples
    --------
    >>> model = torch.tensor([[0.0], [10.0], [5.0], [6.0]])
    >>> data = torch.tensor([[9.0], [1.0], [6.0], [5.0]])
    >>> matched_by_condition(model, data, torch.tensor([0, 0, 1, 1]))  # pairs within conditions
    tensor(0.5000)
    """
    if conditions is None:
        return distance(model, data)
    total = torch.zeros((), dtype=model.dtype, device=model.device)
    for code in torch.unique(conditions):
        members = conditions == code
        total = total + distance(model[members], data[members]) * members.sum()
    return total / len(conditions)


def check_channels(channels: Sequence[int]) -> list[int]:
    """Covariate channels as a non-empty list of non-negative ints.

    Parameters
    ----------
    channels : sequence of int
        Covariate indices.

    Returns
    -------
    list of int

    Raises
    ------
    ArgumentValueError
        If there is none, or an index is negative or not an integer.

    Examples
    --------
    >>> check_channels((0, 2))
    [0, 2]
    """
    try:
        checked = [int(index) for index in channels]
    except (TypeError, ValueError):
        checked = []
    if not checked or min(checked) < 0:
        raise ArgumentValueError(
            f"Expected trial-matching `covariates` to be a non-empty list of covariate indices, "
            f"but got {describe(channels)}."
        )
    return checked


def check_groups(groups: Sequence[Sequence[int]]) -> list[list[int]]:
    """Groups as lists of non-negative ints, each non-empty.

    Parameters
    ----------
    groups : sequence of sequences of int
        Recorded neuron indices of each group.

    Returns
    -------
    list of list of int

    Raises
    ------
    ArgumentValueError
        If a group is empty or an index is negative or not an integer.

    Examples
    --------
    >>> check_groups([(0, 1), [2]])
    [[0, 1], [2]]
    """
    try:
        checked = [[int(index) for index in group] for group in groups]
    except (TypeError, ValueError):
        checked = []
    if not checked or any(not group or min(group) < 0 for group in checked):
        raise ArgumentValueError(
            f"Expected trial-matching `groups` to be non-empty lists of recorded neuron indices, "
            f"but got {describe(groups)}."
        )
    return checked
