"""Covariate terms of the pre-activation: temporal filters on a basis, value tuning, a neuron mask.

Measured covariates ``x[k, t, i]`` (a stimulus, running speed, a lick train, the animal's
position) enter the pre-activation of neuron ``j`` in one of two ways, chosen per covariate:

* ``'history'``: a causal filter over the covariate's recent history (lags ``0 .. n_lags - 1``),
  free per lag or on a temporal basis ``phi_b(l)``::

      u[k, t, j] += sum_b C[b, i, j] sum_l phi_b(l) x[k, t - l, i]

* ``'tuning'``: a function of the covariate's current value on cubic B-splines ``B_b`` over a
  value range (a place field on position, a direction tuning)::

      u[k, t, j] += sum_b T[b, i, j] (B_b(x[k, t, i]) - mean_b)

  ``mean_b`` is the mean of ``B_b`` over the range (``centre_tuning``): each tuning curve then
  has mean zero over its range and the neuron's bias carries its mean, so the curve is
  identifiable. Values outside the range take the value at its edge.

A mask (n_inputs, n_neurons) says which neurons (recorded, hidden) receive which covariate.
:class:`CovariateSpec` (frozen, plain values: it goes into model files) configures
:class:`CovariateInput`, the module :class:`~elephant_fit.network.model.SpikingNetwork` holds as
``covariate_input``; its output is the network's ``filter_inputs``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_choice, check_positive_int, describe
from ..errors import ArgumentTypeError, ArgumentValueError
from .bases import bspline_basis, bspline_knots, temporal_basis

__all__ = [
    "KINDS",
    "LEGACY_STATE_KEYS",
    "CovariateInput",
    "CovariateSpec",
    "check_covariates",
    "covariate_spec",
    "upgrade_state_dict",
]

#: How a covariate enters the pre-activation.
KINDS = ("history", "tuning")
#: Neuron groups a mask row may name.
_GROUPS = ("all", "recorded", "hidden")
#: state_dict keys of networks written before :class:`CovariateInput`, and their new names.
LEGACY_STATE_KEYS = {"input_filters": "covariate_input.history_weights"}

Range = tuple[float, float]
MaskRow = str | tuple[bool, ...]


@dataclass(frozen=True)
class CovariateSpec:
    """How each covariate enters the network.

    Parameters
    ----------
    kinds : tuple of {'history', 'tuning'}
        One per covariate, in the order of the inputs' last axis (a single str: one covariate).
    n_lags : int, optional
        Length of the history filters in bins, lags ``0 .. n_lags - 1`` (lag 0: the current bin).
    basis : None, 'raised_cosine' or 'exponential', optional
        None: one free weight per lag; otherwise the filters are ``n_basis`` functions of
        ``temporal_basis`` over the ``n_lags`` lags (the
        coupling's bases; column ``l`` is lag ``l``).
    n_basis : int, optional
        Functions of a named history basis (default: ``max(2, n_lags // 2)``).
    n_tuning : int, optional
        B-splines per tuning covariate, at least ``tuning_order``.
    tuning_order : int, optional
        Order of the B-splines (4: cubic).
    value_range : tuple, optional
        One entry per covariate: ``(low, high)``, the range of a tuning covariate's B-splines in
        the covariate's own units, or None (history covariates; a tuning covariate's range from
        the data, see :meth:`with_value_ranges`). Default: all None.
    mask : optional
        Which neurons receive which covariate: None (all), or one row per covariate, each
        'all', 'recorded', 'hidden' or n_neurons booleans; or an array (n_inputs, n_neurons).
    centre_tuning : bool, optional
        Subtract each B-spline's mean over the range: tuning curves have mean zero there.

    Examples
    --------
    >>> spec = CovariateSpec(("history", "tuning"), n_lags=10, basis="raised_cosine",
    ...                      n_basis=4, value_range=(None, (0.0, 1.0)))
    >>> spec.n_inputs, spec.history_index, spec.tuning_index, spec.resolved
    (2, (0,), (1,), True)
    >>> CovariateSpec.from_dict(spec.to_dict()) == spec
    True
    """

    kinds: tuple[str, ...]
    n_lags: int = 1
    basis: str | None = None
    n_basis: int | None = None
    n_tuning: int = 8
    tuning_order: int = 4
    value_range: tuple[Range | None, ...] | None = None
    mask: tuple[MaskRow, ...] | None = None
    centre_tuning: bool = True

    def __post_init__(self) -> None:
        kinds = (self.kinds,) if isinstance(self.kinds, str) else self.kinds
        if not isinstance(kinds, Sequence) or len(kinds) == 0:
            raise ArgumentValueError(
                "Expected `kinds` to be a non-empty sequence of 'history' or 'tuning' (one per "
                f"covariate), but got {describe(self.kinds)}."
            )
        object.__setattr__(self, "kinds", tuple(check_choice(k, "kinds", KINDS) for k in kinds))
        check_positive_int(self.n_lags, "n_lags")
        check_choice(self.basis, "basis", (None, "raised_cosine", "exponential"))
        if self.n_basis is not None:
            check_positive_int(self.n_basis, "n_basis")
        order = check_positive_int(self.tuning_order, "tuning_order")
        if check_positive_int(self.n_tuning, "n_tuning") < order:
            raise ArgumentValueError(
                f"Expected `n_tuning` to be at least `tuning_order` ({order}), but got "
                f"{self.n_tuning}."
            )
        object.__setattr__(self, "value_range", self._check_ranges(self.value_range))
        object.__setattr__(self, "mask", _check_mask_rows(self.mask, self.n_inputs))
        object.__setattr__(self, "centre_tuning", bool(self.centre_tuning))

    def _check_ranges(self, ranges: Any) -> tuple[Range | None, ...]:
        """One (low, high) or None per covariate, as floats."""
        if ranges is None:
            return (None,) * self.n_inputs
        if not isinstance(ranges, Sequence) or len(ranges) != self.n_inputs:
            raise ArgumentValueError(
                f"Expected `value_range` to hold one (low, high) or None per covariate "
                f"({self.n_inputs}), but got {describe(ranges)}."
            )
        checked: list[Range | None] = []
        for kind, entry in zip(self.kinds, ranges, strict=True):
            if entry is None or kind == "history":
                checked.append(None)
                continue
            pair = tuple(float(v) for v in entry) if isinstance(entry, Sequence) else ()
            if len(pair) != 2 or not (np.isfinite(pair).all() and pair[0] < pair[1]):
                raise ArgumentValueError(
                    f"Expected each `value_range` entry to be finite (low, high) with low < "
                    f"high, but got {entry!r}."
                )
            checked.append((pair[0], pair[1]))
        return tuple(checked)

    # ------------------------------------------------------------------ layout
    @property
    def n_inputs(self) -> int:
        """Number of covariates."""
        return len(self.kinds)

    @property
    def history_index(self) -> tuple[int, ...]:
        """Indices of the history covariates among the inputs."""
        return tuple(i for i, kind in enumerate(self.kinds) if kind == "history")

    @property
    def tuning_index(self) -> tuple[int, ...]:
        """Indices of the tuning covariates among the inputs."""
        return tuple(i for i, kind in enumerate(self.kinds) if kind == "tuning")

    @property
    def resolved(self) -> bool:
        """Whether every tuning covariate has its value range."""
        assert self.value_range is not None
        return all(self.value_range[i] is not None for i in self.tuning_index)

    @classmethod
    def legacy(cls, n_inputs: int, n_lags: int) -> CovariateSpec:
        """Free-lag history filters on all neurons: ``SpikingNetwork(n_inputs=, n_input_lags=)``."""
        return cls(("history",) * check_positive_int(n_inputs, "n_inputs"), n_lags=n_lags)

    def with_value_ranges(self, inputs: torch.Tensor | np.ndarray) -> CovariateSpec:
        """The spec with the missing ranges of tuning covariates set to the values seen.

        Parameters
        ----------
        inputs : torch.Tensor or numpy.ndarray
            Covariates, shape (n_trials, n_bins, n_inputs) (e.g. ``SpikeData.covariates`` of the
            training trials). A constant covariate gets the range ``value +- 0.5``.

        Returns
        -------
        CovariateSpec
            A new spec; given ranges are kept.
        """
        values = torch.as_tensor(inputs).detach().to("cpu", torch.float64)
        if values.ndim != 3 or values.shape[2] != self.n_inputs:
            raise ArgumentValueError(
                f"Expected `inputs` of shape (n_trials, n_bins, {self.n_inputs}), but got "
                f"{describe(inputs)}."
            )
        assert self.value_range is not None
        ranges = list(self.value_range)
        for i in self.tuning_index:
            if ranges[i] is None:
                low, high = float(values[..., i].min()), float(values[..., i].max())
                ranges[i] = (low, high) if low < high else (low - 0.5, high + 0.5)
        return replace(self, value_range=tuple(ranges))

    def to_dict(self) -> dict[str, Any]:
        """Plain values (lists, floats, str) for a file; :meth:`from_dict` reads them back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> CovariateSpec:
        """The spec of :meth:`to_dict`'s values (lists become tuples)."""

        def tuples(v: Any) -> Any:
            return tuple(tuples(e) for e in v) if isinstance(v, list | tuple) else v

        return cls(**{k: tuples(v) for k, v in values.items()})


def _check_mask_rows(mask: Any, n_inputs: int) -> tuple[MaskRow, ...] | None:
    """None, or one row per covariate: a group name or a tuple of booleans."""
    if mask is None:
        return None
    if isinstance(mask, torch.Tensor | np.ndarray):
        mask = np.asarray(mask.detach().cpu() if isinstance(mask, torch.Tensor) else mask)
        if mask.ndim != 2 or mask.dtype.kind not in "biu" or not np.isin(mask, (0, 1)).all():
            raise ArgumentValueError(
                f"Expected a `mask` array of shape (n_inputs, n_neurons) of booleans, but got "
                f"{describe(mask)} of dtype {mask.dtype}."
            )
        mask = mask.astype(bool).tolist()
    if not isinstance(mask, Sequence) or isinstance(mask, str) or len(mask) != n_inputs:
        raise ArgumentValueError(
            f"Expected `mask` to hold one row per covariate ({n_inputs}), but got {describe(mask)}."
        )
    rows: list[MaskRow] = []
    for row in mask:
        if isinstance(row, str):
            rows.append(check_choice(row, "mask", _GROUPS))
        elif isinstance(row, Sequence) and all(isinstance(v, bool | np.bool_) for v in row):
            rows.append(tuple(bool(v) for v in row))
        else:
            raise ArgumentValueError(
                "Expected each `mask` row to be 'all', 'recorded', 'hidden' or a sequence of "
                f"booleans (one per neuron), but got {describe(row)}."
            )
    return tuple(rows)


def covariate_spec(
    covariates: CovariateSpec | None, n_inputs: int, n_input_lags: int
) -> CovariateSpec | None:
    """The spec of :class:`~elephant_fit.network.model.SpikingNetwork`'s covariate arguments.

    ``covariates`` wins; ``n_inputs`` must then be 0 or its number of covariates, and
    ``n_input_lags`` 1 or its ``n_lags``. Without it, ``n_inputs`` free-lag history filters of
    ``n_input_lags`` lags (None without covariates).
    """
    if covariates is None:
        return CovariateSpec.legacy(n_inputs, n_input_lags) if n_inputs else None
    if not isinstance(covariates, CovariateSpec):
        raise ArgumentTypeError(
            f"Expected `covariates` to be a CovariateSpec or None, but got {describe(covariates)}."
        )
    if n_inputs not in (0, covariates.n_inputs) or n_input_lags not in (1, covariates.n_lags):
        raise ArgumentValueError(
            f"`covariates` has {covariates.n_inputs} covariates of {covariates.n_lags} lags, but "
            f"`n_inputs`={n_inputs} and `n_input_lags`={n_input_lags} were given: pass one of "
            "them (or agreeing values)."
        )
    return covariates


def check_covariates(
    inputs: Any, n_inputs: int, n_trials: int | None, n_bins: int, like: torch.Tensor
) -> torch.Tensor:
    """Validate covariates of shape (n_trials, n_bins, n_inputs); return them like ``like``.

    Parameters
    ----------
    inputs : Any
        The received covariates.
    n_inputs : int
        The network's number of covariates (0: none are accepted).
    n_trials : int or None
        Expected number of trials (None: any).
    n_bins : int
        Expected number of bins.
    like : torch.Tensor
        A tensor of the network: the result has its device and dtype.

    Returns
    -------
    torch.Tensor
        Shape (n_trials, n_bins, n_inputs).
    """
    if n_inputs == 0:
        raise ArgumentValueError(
            "This network has no covariates (n_inputs=0), but `inputs` were given."
        )
    if not isinstance(inputs, torch.Tensor):
        raise ArgumentTypeError(
            f"Expected `inputs` to be a torch.Tensor, but got {describe(inputs)}."
        )
    expected = (n_trials if n_trials is not None else inputs.shape[0], n_bins, n_inputs)
    if inputs.ndim != 3 or tuple(inputs.shape) != expected:
        raise ArgumentValueError(
            f"Expected `inputs` of shape (n_trials, n_bins, n_inputs) = {expected}, but got "
            f"{tuple(inputs.shape)}."
        )
    return inputs.to(device=like.device, dtype=like.dtype)


def upgrade_state_dict(saved: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A state_dict of a network from before :class:`CovariateInput`, under today's keys.

    ``input_filters`` (n_input_lags, n_inputs, n_neurons) became
    ``covariate_input.history_weights`` (same shape and values); other keys are kept.
    """
    return {LEGACY_STATE_KEYS.get(key, key): value for key, value in saved.items()}


class CovariateInput(nn.Module):
    """The covariate terms of the pre-activation, (n_trials, n_bins, n_inputs) -> (n_trials, n_bins, n_neurons).

    Parameters
    ----------
    spec : CovariateSpec
        The covariates; every tuning covariate needs its ``value_range``
        (:meth:`CovariateSpec.with_value_ranges`).
    n_recorded, n_hidden : int
        The network's neurons (recorded first): the mask's columns.

    Attributes
    ----------
    history_weights : torch.nn.Parameter or None
        Shape (n_lags or n_basis, n_history, n_neurons): per lag (free) or per basis function,
        covariate and neuron; starts at zero. None without history covariates.
    tuning_weights : torch.nn.Parameter or None
        Shape (n_tuning, n_tuned, n_neurons): per B-spline, covariate and neuron; starts at
        zero. None without tuning covariates.
    mask : torch.Tensor
        Buffer, bool, shape (n_inputs, n_neurons). The bases, knots and spline means are buffers
        too; no buffer is in the state_dict (the spec defines them).

    Examples
    --------
    >>> spec = CovariateSpec(("history", "tuning"), n_lags=5, n_tuning=6,
    ...                      value_range=(None, (0.0, 1.0)), mask=("all", "recorded"))
    >>> module = CovariateInput(spec, n_recorded=3, n_hidden=1)
    >>> sorted(module.state_dict())
    ['history_weights', 'tuning_weights']
    >>> module(torch.rand(2, 20, 2)).shape  # (n_trials, n_bins, n_neurons)
    torch.Size([2, 20, 4])
    >>> module.history_filters().shape, module.tuning_curves(torch.linspace(0, 1, 7)).shape
    (torch.Size([4, 1, 5]), torch.Size([1, 4, 7]))
    """

    def __init__(self, spec: CovariateSpec, n_recorded: int, n_hidden: int = 0) -> None:
        super().__init__()
        if not isinstance(spec, CovariateSpec):
            raise ArgumentTypeError(
                f"Expected `spec` to be a CovariateSpec, but got {describe(spec)}."
            )
        if not spec.resolved:
            raise ArgumentValueError(
                "Expected a `value_range` for every tuning covariate, but covariates "
                f"{[i for i in spec.tuning_index if spec.value_range[i] is None]} have none: "  # type: ignore[index]
                "pass them, or CovariateSpec.with_value_ranges(inputs) to take the values seen."
            )
        self.spec = spec
        n = n_recorded + n_hidden
        mask = _mask_tensor(spec, n_recorded, n_hidden)
        self.register_buffer("mask", mask, persistent=False)
        self._full_mask = bool(mask.all())
        basis = temporal_basis(spec.basis, spec.n_basis, spec.n_lags)
        self.register_buffer("history_basis", basis, persistent=False)
        n_history, n_tuned = len(spec.history_index), len(spec.tuning_index)
        n_coef = spec.n_lags if basis is None else basis.shape[0]
        self.history_weights = (
            nn.Parameter(torch.zeros(n_coef, n_history, n)) if n_history else None
        )
        self.tuning_weights = (
            nn.Parameter(torch.zeros(spec.n_tuning, n_tuned, n)) if n_tuned else None
        )
        ranges = [spec.value_range[i] for i in spec.tuning_index]  # type: ignore[index]
        knots = [bspline_knots(spec.n_tuning, *r, order=spec.tuning_order) for r in ranges]  # type: ignore[misc]
        knots_tensor = torch.stack(knots) if knots else None
        self.register_buffer("knots", knots_tensor, persistent=False)
        self.register_buffer("spline_means", _spline_means(knots_tensor, spec), persistent=False)

    # ------------------------------------------------------------------ effective parameters
    def lagged_filters(self) -> torch.Tensor | None:
        """Effective history filters, lags first: shape (n_lags, n_history, n_neurons), or None.

        ``F[l, i, j]`` weighs history covariate ``i`` at lag ``l`` (lag 0: the current bin) on
        neuron ``j``; zero where the mask excludes the neuron.
        """
        weights = self.history_weights
        if weights is None:
            return None
        if self.history_basis is not None:
            basis = self.history_basis.to(weights.dtype)
            weights = torch.einsum("bl,bij->lij", basis, weights)
        if not self._full_mask:
            weights = weights * self.mask[list(self.spec.history_index)].to(weights.dtype)
        return weights

    def tuning_features(self, values: torch.Tensor) -> torch.Tensor:
        """B-splines of the tuning covariates' values: (..., n_tuned) -> (..., n_tuned, n_tuning).

        Centred (minus each spline's mean over the range) with ``centre_tuning``.
        """
        assert self.knots is not None
        assert self.spline_means is not None
        knots = self.knots.to(values.dtype)
        features = torch.stack(
            [
                bspline_basis(values[..., i], knots[i], self.spec.tuning_order)
                for i in range(len(knots))
            ],
            dim=-2,
        )
        return features - self.spline_means.to(values.dtype)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Covariate input of each neuron, (n_trials, n_bins, n_inputs) -> (n_trials, n_bins, n_neurons).

        Causal: bin ``t`` depends on the covariates of bins ``t - n_lags + 1 .. t`` only.
        """
        total = None
        filters = self.lagged_filters()
        if filters is not None:
            history = self.spec.history_index
            x = inputs if len(history) == inputs.shape[-1] else inputs[..., list(history)]
            padded = F.pad(x.transpose(1, 2), (self.spec.n_lags - 1, 0))
            kernel = filters.flip(0).permute(2, 1, 0)  # (n_post, n_history, n_lags)
            total = F.conv1d(padded, kernel).transpose(1, 2)
        if self.tuning_weights is not None:
            features = self.tuning_features(inputs[..., list(self.spec.tuning_index)])
            tuned = torch.einsum("ktib,bij->ktj", features, self._tuning_weights())
            total = tuned if total is None else total + tuned
        assert total is not None
        return total

    def _tuning_weights(self) -> torch.Tensor:
        """Tuning weights with the mask applied, (n_tuning, n_tuned, n_neurons)."""
        weights = self.tuning_weights
        assert weights is not None
        if self._full_mask:
            return weights
        return weights * self.mask[list(self.spec.tuning_index)].to(weights.dtype)

    # ------------------------------------------------------------------ read-outs
    @torch.no_grad()
    def history_filters(self) -> torch.Tensor:
        """Effective history filters, float64 on the CPU: shape (n_neurons, n_history, n_lags).

        ``[j, i, l]``: history covariate ``i`` (:attr:`CovariateSpec.history_index`) at lag
        ``l`` on neuron ``j``, the layout of the network's ``coupling_array``. Empty (size 0
        along n_history) without history covariates.
        """
        filters = self.lagged_filters()
        if filters is None:
            n = self.mask.shape[1]
            return torch.zeros(n, 0, self.spec.n_lags, dtype=torch.float64)
        return filters.detach().cpu().double().permute(2, 1, 0).contiguous()

    def tuning_grid(self, n_values: int = 100) -> torch.Tensor:
        """Equally spaced values over each tuning covariate's range: (n_values, n_tuned), float64."""
        n_values = check_positive_int(n_values, "n_values")
        ranges = [self.spec.value_range[i] for i in self.spec.tuning_index]  # type: ignore[index]
        columns = [torch.linspace(*r, n_values, dtype=torch.float64) for r in ranges]  # type: ignore[misc]
        return torch.stack(columns, dim=1) if columns else torch.zeros(n_values, 0).double()

    @torch.no_grad()
    def tuning_curves(self, values: torch.Tensor | None = None) -> torch.Tensor:
        """Tuning curves (added to the pre-activation), float64 on the CPU.

        Parameters
        ----------
        values : torch.Tensor, optional
            Covariate values, shape (n_values,) (the same for every tuning covariate) or
            (n_values, n_tuned) (a column each). Default: :meth:`tuning_grid`.

        Returns
        -------
        torch.Tensor
            Shape (n_tuned, n_neurons, n_values): curve of tuning covariate ``i``
            (:attr:`CovariateSpec.tuning_index`) for neuron ``j``; zero where masked out.
        """
        n_tuned = len(self.spec.tuning_index)
        if n_tuned == 0:
            raise ArgumentValueError("This network has no tuning covariates (kind 'tuning').")
        values = self.tuning_grid() if values is None else torch.as_tensor(values)
        values = values.detach().cpu().double()
        if values.ndim == 1:
            values = values.unsqueeze(1).expand(-1, n_tuned)
        if values.ndim != 2 or values.shape[1] != n_tuned:
            raise ArgumentValueError(
                f"Expected `values` of shape (n_values,) or (n_values, {n_tuned}), but got "
                f"{describe(values)}."
            )
        features = self.tuning_features(values.to(self.knots.device))  # type: ignore[union-attr]
        weights = self._tuning_weights().double()
        return torch.einsum("vib,bij->ijv", features.double(), weights).cpu()

    def extra_repr(self) -> str:
        """The spec's layout."""
        spec = self.spec
        return (
            f"kinds={spec.kinds}, n_lags={spec.n_lags}, basis={spec.basis!r}, "
            f"n_tuning={spec.n_tuning}, masked={not self._full_mask}"
        )


def _mask_tensor(spec: CovariateSpec, n_recorded: int, n_hidden: int) -> torch.Tensor:
    """The mask as a bool tensor (n_inputs, n_neurons)."""
    n = n_recorded + n_hidden
    if spec.mask is None:
        return torch.ones(spec.n_inputs, n, dtype=torch.bool)
    rows = []
    for row in spec.mask:
        if isinstance(row, str):
            flags = torch.ones(n, dtype=torch.bool)
            if row == "recorded":
                flags[n_recorded:] = False
            elif row == "hidden":
                flags[:n_recorded] = False
            rows.append(flags)
        elif len(row) != n:
            raise ArgumentValueError(
                f"Expected each `mask` row to have one entry per neuron ({n}: {n_recorded} "
                f"recorded, {n_hidden} hidden), but got {len(row)}."
            )
        else:
            rows.append(torch.tensor(row, dtype=torch.bool))
    return torch.stack(rows)


def _spline_means(knots: torch.Tensor | None, spec: CovariateSpec) -> torch.Tensor | None:
    """Mean of each B-spline over its range, (n_tuned, n_tuning) (zeros without centring).

    The integral of a B-spline of order k on knots t_b .. t_{b+k} is (t_{b+k} - t_b) / k.
    """
    if knots is None:
        return None
    k = spec.tuning_order
    width = knots[:, -1:] - knots[:, :1]
    means = (knots[:, k:] - knots[:, :-k]) / (k * width)
    return means if spec.centre_tuning else torch.zeros_like(means)
