"""TrialTensors: the trials :func:`~elephant_fit.fitting.fit_model` fits, with their side information.

Counts, and optionally each trial's stimulus condition and its covariates, indexed alike: a
mini-batch, a validation slice or a data-parallel share (:meth:`Shard.take
<elephant_fit.network.shard.Shard.take>` slices it like a tensor) keeps the three together.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from .._validation import describe
from ..errors import ArgumentTypeError, ArgumentValueError
from ..network.model import SpikingNetwork

__all__ = ["TrialTensors", "as_trials"]


@dataclass(frozen=True)
class TrialTensors:
    """Recorded trials with their conditions and covariates.

    Parameters
    ----------
    counts : torch.Tensor
        Recorded counts, shape (n_trials, n_bins, n_recorded).
    conditions : torch.Tensor, optional
        Condition code of each trial, integers, shape (n_trials,) (e.g.
        ``SpikeData.condition_codes``).
    inputs : torch.Tensor, optional
        Covariates, shape (n_trials, n_bins, n_inputs) (e.g. ``SpikeData.covariates``).

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.fitting import TrialTensors
    >>> trials = TrialTensors(torch.zeros(4, 10, 2), conditions=torch.tensor([0, 1, 0, 1]))
    >>> trials[1:3].conditions.tolist(), trials[1:3].counts.shape
    ([1, 0], torch.Size([2, 10, 2]))
    """

    counts: torch.Tensor
    conditions: torch.Tensor | None = None
    inputs: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.counts, torch.Tensor) or self.counts.ndim != 3:
            raise ArgumentTypeError(
                "Expected `counts` to be a torch.Tensor of shape (n_trials, n_bins, n_recorded), "
                f"but got {describe(self.counts)}."
            )
        n_trials, n_bins, _ = self.counts.shape
        if self.conditions is not None and (
            not isinstance(self.conditions, torch.Tensor)
            or tuple(self.conditions.shape) != (n_trials,)
            or self.conditions.dtype.is_floating_point
            or self.conditions.dtype == torch.bool
        ):
            raise ArgumentValueError(
                f"Expected `conditions` to be an integer tensor of shape ({n_trials},), but got "
                f"{describe(self.conditions)}."
            )
        if self.inputs is not None and (
            not isinstance(self.inputs, torch.Tensor)
            or self.inputs.ndim != 3
            or tuple(self.inputs.shape[:2]) != (n_trials, n_bins)
        ):
            raise ArgumentValueError(
                f"Expected `inputs` of shape (n_trials, n_bins, n_inputs) = ({n_trials}, {n_bins}, "
                f"n_inputs), but got {describe(self.inputs)}."
            )

    @property
    def n_trials(self) -> int:
        """Number of trials."""
        return self.counts.shape[0]

    @property
    def device(self) -> torch.device:
        """Device of the counts."""
        return self.counts.device

    def __len__(self) -> int:
        return self.n_trials

    def __getitem__(self, index: slice | torch.Tensor) -> TrialTensors:
        """The trials ``index`` (a slice or an index tensor) of all three alike."""
        return TrialTensors(
            self.counts[index],
            None if self.conditions is None else self.conditions[_on(index, self.conditions)],
            None if self.inputs is None else self.inputs[_on(index, self.inputs)],
        )

    def tensors(self) -> Iterator[torch.Tensor]:
        """The counts, then the conditions and the covariates when present."""
        yield self.counts
        for tensor in (self.conditions, self.inputs):
            if tensor is not None:
                yield tensor

    def for_model(self, model: SpikingNetwork, name: str) -> TrialTensors:
        """Checked against ``model`` (codes and covariates it can use), on its device and dtype.

        The counts are kept as given (on the model's device and dtype, as ``fit_model`` asks).
        """
        if model.n_inputs and self.inputs is None:
            raise ArgumentValueError(
                f"This network has {model.n_inputs} covariates (n_inputs), but `{name}` has no "
                "inputs: pass TrialTensors(counts, inputs=...)."
            )
        if model.n_conditions > 1 and self.conditions is None:
            raise ArgumentValueError(
                f"This network has a drive per condition (n_conditions={model.n_conditions}), "
                f"but `{name}` has no conditions: pass TrialTensors(counts, conditions=...)."
            )
        conditions, inputs = self.conditions, self.inputs
        if conditions is not None:
            conditions = model.check_conditions(conditions, self.n_trials)
        if inputs is not None:
            inputs = model.check_inputs(inputs, self.n_trials, self.counts.shape[1])
        return TrialTensors(self.counts, conditions, inputs)


def _on(index: slice | torch.Tensor, tensor: torch.Tensor) -> slice | torch.Tensor:
    """``index`` usable on ``tensor`` (an index tensor moved to its device)."""
    return index.to(tensor.device) if isinstance(index, torch.Tensor) else index


def as_trials(value: torch.Tensor | TrialTensors | None, name: str) -> TrialTensors | None:
    """A counts tensor or TrialTensors (or None) as TrialTensors (or None)."""
    if value is None or isinstance(value, TrialTensors):
        return value
    if isinstance(value, torch.Tensor):
        return TrialTensors(value)
    raise ArgumentTypeError(
        f"Expected `{name}` to be a counts tensor or a TrialTensors, but got {describe(value)}."
    )
