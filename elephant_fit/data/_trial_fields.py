"""Per-trial fields of :class:`~elephant_fit.data.spikedata.SpikeData`: conditions and covariates.

:class:`TrialFields` holds the condition label of every trial and the covariates (measured inputs,
shape (n_trials, n_bins, n_inputs)), validates them once, and selects, moves, compares and joins
them with the trials; :func:`stratified_split` splits trial positions within each condition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._validation import describe
from ..errors import ArgumentTypeError, ArgumentValueError

__all__ = ["TrialFields", "TrialFieldsMixin", "check_condition_label", "stratified_split"]


def check_condition_label(value: Any, where: str) -> str | int:
    """A condition label as a Python str or int (numpy scalars converted); ``where`` names it."""
    if isinstance(value, (np.str_, np.integer)):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ArgumentTypeError(
            f"Expected the condition of {where} to be a str or an int, but got {describe(value)}."
        )
    return value


def _check_conditions(conditions: Any, n_trials: int) -> tuple | None:
    """Validate ``conditions``: None or one str/int label per trial."""
    if conditions is None:
        return None
    if isinstance(conditions, torch.Tensor):
        conditions = conditions.detach().cpu().numpy()
    if isinstance(conditions, (str, bytes)) or not isinstance(conditions, (Sequence, np.ndarray)):
        raise ArgumentTypeError(
            f"Expected `conditions` to be a sequence of {n_trials} labels (str or int), but got "
            f"{describe(conditions)}."
        )
    items = list(np.asarray(conditions, dtype=object).reshape(-1)) if np.ndim(conditions) else []
    if np.ndim(conditions) != 1 or len(items) != n_trials:
        raise ArgumentValueError(
            f"Expected `conditions` to have shape ({n_trials},) (one label per trial), but got "
            f"{describe(conditions)}."
        )
    return tuple(check_condition_label(c, f"trial {k}") for k, c in enumerate(items))


def _check_covariates(
    covariates: Any, names: Sequence[str] | None, n_trials: int, n_bins: int
) -> tuple[torch.Tensor | None, tuple]:
    """Validate covariates of shape (n_trials, n_bins, n_inputs) and their names (float64 copy)."""
    if covariates is None:
        if names is not None:
            raise ArgumentValueError(
                f"Expected `covariate_names` only with `covariates`, but got {describe(names)}."
            )
        return None, ()
    if not isinstance(covariates, (torch.Tensor, np.ndarray)):
        raise ArgumentTypeError(
            "Expected `covariates` to be a torch.Tensor or numpy array of shape "
            f"(n_trials, n_bins, n_inputs), but got {describe(covariates)}."
        )
    tensor = torch.as_tensor(covariates).detach()
    if tensor.ndim != 3 or tuple(tensor.shape[:2]) != (n_trials, n_bins) or tensor.shape[2] == 0:
        raise ArgumentValueError(
            f"Expected `covariates` to have shape ({n_trials}, {n_bins}, n_inputs) with "
            f"n_inputs >= 1, but got shape {tuple(tensor.shape)}."
        )
    if tensor.is_complex() or tensor.dtype == torch.bool:
        raise ArgumentTypeError(f"Expected `covariates` to be real, but got dtype {tensor.dtype}.")
    tensor = tensor.to(torch.float64, copy=True)
    n_inputs = tensor.shape[2]
    names = tuple(f"covariate {i}" for i in range(n_inputs)) if names is None else tuple(names)
    if len(names) != n_inputs or not all(isinstance(n, str) for n in names):
        raise ArgumentValueError(
            f"Expected `covariate_names` to be {n_inputs} str (one per input), but got {names!r}."
        )
    if len(set(names)) != n_inputs:
        raise ArgumentValueError(f"Expected `covariate_names` to be unique, but got {names!r}.")
    bad = ~torch.isfinite(tensor)
    if bool(bad.any()):
        k, b, i = (int(v) for v in torch.nonzero(bad)[0])
        raise ArgumentValueError(
            f"Expected `covariates` to be finite, but covariate {names[i]!r} is "
            f"{float(tensor[k, b, i])} in trial {k}, bin {b}."
        )
    return tensor, names


@dataclass(frozen=True, eq=False)
class TrialFields:
    """Condition labels (tuple of n_trials str/int, or None) and covariates of the trials.

    ``covariates`` is None or a float64 tensor of shape (n_trials, n_bins, n_inputs), named by
    ``covariate_names``. Instances are immutable; every method returns a new one.
    """

    conditions: tuple | None = None
    covariates: torch.Tensor | None = None
    covariate_names: tuple = ()

    @classmethod
    def check(
        cls, conditions: Any, covariates: Any, names: Any, n_trials: int, n_bins: int
    ) -> TrialFields:
        """Validated fields for ``n_trials`` trials of ``n_bins`` bins."""
        tensor, names = _check_covariates(covariates, names, n_trials, n_bins)
        return cls(_check_conditions(conditions, n_trials), tensor, names)

    def annotate(self, trial_annotations: tuple, strict: bool = True) -> tuple:
        """Trial annotations (fresh dicts) with each trial's condition under ``condition``.

        ``strict``: a different ``condition`` already there is an error (else replaced).
        """
        if self.conditions is None:
            return trial_annotations
        pairs = zip(trial_annotations, self.conditions, strict=True)
        for k, (annotation, label) in enumerate(pairs):
            if strict and "condition" in annotation and annotation["condition"] != label:
                raise ArgumentValueError(
                    f"Expected the trial annotation 'condition' to equal `conditions`, but trial "
                    f"{k} has {annotation['condition']!r} and condition {label!r}."
                )
            annotation["condition"] = label
        return trial_annotations

    @property
    def labels(self) -> tuple:
        """The distinct condition labels in order of first appearance; ``(None,)`` without."""
        return (None,) if self.conditions is None else tuple(dict.fromkeys(self.conditions))

    def codes(self, n_trials: int) -> torch.Tensor:
        """Index of every trial's condition into :attr:`labels`, torch.long of shape (n_trials,)."""
        if self.conditions is None:
            return torch.zeros(n_trials, dtype=torch.long)
        lookup = {label: i for i, label in enumerate(self.labels)}
        return torch.tensor([lookup[c] for c in self.conditions], dtype=torch.long)

    def select(self, positions: np.ndarray) -> TrialFields:
        """The fields of the trials at ``positions`` (int64 array, in that order)."""
        conditions = (
            None if self.conditions is None else tuple(self.conditions[i] for i in positions)
        )
        covariates = None
        if self.covariates is not None:
            covariates = self.covariates[torch.as_tensor(positions, device=self.covariates.device)]
        return TrialFields(conditions, covariates, self.covariate_names)

    def to(self, device: torch.device | str | None) -> TrialFields:
        """The same fields with the covariates on ``device`` (they stay float64)."""
        if self.covariates is None or device is None:
            return self
        return TrialFields(self.conditions, self.covariates.to(device), self.covariate_names)

    def equals(self, other: TrialFields) -> bool:
        """Same conditions, covariate names and covariate values."""
        if self.conditions != other.conditions or self.covariate_names != other.covariate_names:
            return False
        if self.covariates is None or other.covariates is None:
            return self.covariates is None and other.covariates is None
        return torch.equal(self.covariates.cpu(), other.covariates.cpu())

    @staticmethod
    def concatenate(fields: Sequence[TrialFields], n_trials: Sequence[int]) -> TrialFields:
        """Join the fields of several data sets (all with or all without each field)."""
        with_conditions = [f.conditions is not None for f in fields]
        if any(with_conditions) and not all(with_conditions):
            lacking = [i for i, w in enumerate(with_conditions) if not w]
            raise ArgumentValueError(
                "Expected all data sets to concatenate to have conditions or none to, but "
                f"data sets {lacking} have none."
            )
        names = {f.covariate_names for f in fields}
        if len(names) > 1:
            raise ArgumentValueError(
                "Expected all data sets to concatenate to have the same covariates, but got "
                f"covariate_names {sorted(names)}."
            )
        conditions = None
        if all(with_conditions):
            conditions = tuple(c for f in fields for c in f.conditions)
        covariates = None
        if fields[0].covariates is not None:
            device = fields[0].covariates.device
            covariates = torch.cat([f.covariates.to(device) for f in fields])
        del n_trials  # the shapes were checked by the caller
        return TrialFields(conditions, covariates, fields[0].covariate_names)

    def describe(self) -> str:
        """Short text for ``repr``: the number of conditions and the covariate names."""
        parts = []
        if self.conditions is not None:
            parts.append(f"n_conditions={len(self.labels)}")
        if self.covariates is not None:
            parts.append(f"covariates={list(self.covariate_names)}")
        return "".join(", " + p for p in parts)


def stratified_split(
    conditions: tuple, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Train/test trial positions with ``test_fraction`` of every condition in the test set.

    Each condition is split on its own (at least one trial to each side), with one generator
    for all conditions in order of first appearance; each set is returned in recording order.
    """
    labels = tuple(dict.fromkeys(conditions))
    codes = np.array([labels.index(c) for c in conditions])
    members = [np.flatnonzero(codes == i) for i in range(len(labels))]
    small = [
        f"{labels[i]!r} ({m.size} trial{'s' * (m.size != 1)})"
        for i, m in enumerate(members)
        if m.size < 2
    ]
    if small:
        raise ArgumentValueError(
            "Expected at least 2 trials of every condition to split into train and test (the "
            f"split is stratified by condition), but condition {', '.join(small)} has fewer."
        )
    train, test = [], []
    for positions in members:
        n_test = min(max(round(test_fraction * positions.size), 1), positions.size - 1)
        order = rng.permutation(positions.size)
        test.append(positions[order[:n_test]])
        train.append(positions[order[n_test:]])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


class TrialFieldsMixin:
    """The conditions and covariates of :class:`SpikeData`, read from its ``_fields``."""

    _fields: TrialFields
    counts: torch.Tensor
    n_trials: int

    @property
    def conditions(self) -> np.ndarray | None:
        """Condition label of every trial (read-only object array, shape (n_trials,)) or None."""
        if self._fields.conditions is None:
            return None
        labels = np.empty(self.n_trials, dtype=object)
        labels[:] = self._fields.conditions
        labels.setflags(write=False)
        return labels

    @property
    def condition_labels(self) -> tuple:
        """Distinct conditions in order of first appearance; ``(None,)`` without conditions."""
        return self._fields.labels

    @property
    def condition_codes(self) -> torch.Tensor:
        """Index of each trial's condition into ``condition_labels``, torch.long (n_trials,)."""
        return self._fields.codes(self.n_trials).to(self.counts.device)

    @property
    def n_conditions(self) -> int:
        """Number of distinct conditions (1 without conditions)."""
        return len(self._fields.labels)

    @property
    def covariates(self) -> torch.Tensor | None:
        """Measured inputs, float64 of shape (n_trials, n_bins, n_inputs), or None."""
        return self._fields.covariates

    @property
    def covariate_names(self) -> tuple:
        """One name per covariate input (empty without covariates)."""
        return self._fields.covariate_names

    def without(self, conditions: bool = False, covariates: bool = False) -> Any:
        """The same trials without their conditions and/or covariates (to fit without them).

        Parameters
        ----------
        conditions, covariates : bool, optional
            Drop the conditions (every trial then has the one unnamed condition, and the trial
            annotation ``condition`` goes too, so that ``to_neo`` writes none) / the covariates.

        Returns
        -------
        SpikeData
            A new instance sharing the counts (never modified).
        """
        fields = self._fields
        fields = TrialFields(
            None if conditions else fields.conditions,
            None if covariates else fields.covariates,
            () if covariates else fields.covariate_names,
        )
        annotations = self.trial_annotations  # type: ignore[attr-defined]
        if conditions:
            annotations = tuple(
                {k: v for k, v in a.items() if k != "condition"} for a in annotations
            )
        return self._replace(  # type: ignore[attr-defined]
            trial_fields=fields, trial_annotations=annotations
        )
