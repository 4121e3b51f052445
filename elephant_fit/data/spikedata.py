"""SpikeData: binned spike counts of repeated trials, their conditions, covariates and metadata."""

from __future__ import annotations

import copy
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import quantities as pq
import torch

from .._validation import check_fraction
from ._axis import TimeAxis
from ._checks import (
    check_concatenable,
    check_counts,
    check_dtype,
    check_hidden,
    check_unit_ids,
    check_window,
    copy_annotations,
    resolve_index,
    split_positions,
    unit_positions,
)
from ._trial_fields import TrialFields, TrialFieldsMixin, stratified_split

__all__ = ["SpikeData"]

TrialIndex = int | slice | Sequence[int] | Sequence[bool] | np.ndarray | torch.Tensor


class SpikeData(TimeAxis, TrialFieldsMixin):
    """Binned spike counts of repeated trials, with their conditions and covariates.

    Parameters
    ----------
    counts : torch.Tensor or np.ndarray
        Spike counts, shape (n_trials, n_bins, n_neurons), whole non-negative numbers. A tensor is
        kept as it is (never written to); an array is converted with ``torch.as_tensor``.
    bin_size : pq.Quantity
        Width of one bin (time quantity).
    t_start : pq.Quantity, optional
        Left edge of the first bin. Default: 0 in the units of ``bin_size``.
    t_stop : pq.Quantity, optional
        End of the trial window; may exceed the last bin edge by less than one bin (as in
        ``elephant.conversion.BinnedSpikeTrain``). Default: ``t_start + n_bins * bin_size``.
    unit_ids : sequence of hashable, optional
        One unique id per neuron. Default: ``0 .. n_neurons - 1``.
    unit_annotations : sequence of dict, optional
        One dict per neuron. Default: empty dicts.
    trial_annotations : sequence of dict, optional
        One dict per trial. Default: empty dicts.
    hidden : sequence of bool, optional
        Per neuron, whether it is a hidden (unrecorded, model-only) neuron. Default: all False.
    annotations : dict, optional
        Annotations of the whole data set (those of the Neo Block).
    tolerance : float or None, optional
        Rounding tolerance (in bins) of the rule that gives the number of bins from the window.
    conditions : sequence of str or int, shape (n_trials,), optional
        The condition (stimulus, task variant) of every trial, also kept as the trial
        annotation ``condition`` (a different one given there is an error). Default None: one
        condition.
    covariates : torch.Tensor or np.ndarray, optional
        Measured inputs of shape (n_trials, n_bins, n_inputs), finite; kept as a float64 copy.
    covariate_names : sequence of str, optional
        One name per input. Default: ``"covariate 0"``, ``"covariate 1"``, ...

    Notes
    -----
    ``bin_size``, ``t_start`` and ``t_stop`` are stored in one time unit: that of ``t_start`` if
    given, else that of ``bin_size``. Annotations are deep-copied; inputs are never modified.

    Examples
    --------
    >>> import quantities as pq, torch
    >>> data = SpikeData(torch.zeros(4, 3, 2), 10 * pq.ms, conditions=["a", "b", "a", "b"])
    >>> data.condition_labels, data.condition_codes.tolist()
    (('a', 'b'), [0, 1, 0, 1])
    """

    def __init__(
        self,
        counts: torch.Tensor | np.ndarray,
        bin_size: pq.Quantity,
        t_start: pq.Quantity | None = None,
        t_stop: pq.Quantity | None = None,
        unit_ids: Sequence[Hashable] | None = None,
        unit_annotations: Sequence[Mapping[str, Any]] | None = None,
        trial_annotations: Sequence[Mapping[str, Any]] | None = None,
        hidden: Sequence[bool] | np.ndarray | None = None,
        annotations: Mapping[str, Any] | None = None,
        tolerance: float | None = 1e-8,
        conditions: Sequence[str | int] | np.ndarray | None = None,
        covariates: torch.Tensor | np.ndarray | None = None,
        covariate_names: Sequence[str] | None = None,
    ) -> None:
        tensor = check_counts(counts)
        n_trials, n_bins, n_neurons = tensor.shape
        window = check_window(bin_size, t_start, t_stop, n_bins, tolerance)
        fields = TrialFields.check(conditions, covariates, covariate_names, n_trials, n_bins)
        self._init(
            tensor,
            window,
            check_unit_ids(unit_ids, n_neurons),
            copy_annotations(unit_annotations, n_neurons, "unit_annotations"),
            fields.annotate(copy_annotations(trial_annotations, n_trials, "trial_annotations")),
            check_hidden(hidden, n_neurons),
            copy.deepcopy(dict(annotations or {})),
            fields,
        )

    def _init(
        self,
        counts: torch.Tensor,
        window: tuple[float, float, float, pq.Quantity],
        unit_ids: tuple,
        unit_annotations: tuple,
        trial_annotations: tuple,
        hidden: np.ndarray,
        annotations: dict,
        trial_fields: TrialFields | None = None,
    ) -> None:
        """Set the attributes of an already validated instance."""
        self.counts = counts
        self._bin_size, self._t_start, self._t_stop, self._units = window
        self.unit_ids = unit_ids
        self.unit_annotations = unit_annotations
        self.trial_annotations = trial_annotations
        hidden = np.array(hidden, dtype=bool)
        hidden.setflags(write=False)
        self.hidden = hidden
        self.annotations = annotations
        self._fields = TrialFields() if trial_fields is None else trial_fields

    @classmethod
    def _from_validated(cls, counts: torch.Tensor, **fields: Any) -> SpikeData:
        """Build an instance from fields that are already checked (internal fast path)."""
        obj = cls.__new__(cls)
        obj._init(counts, **fields)  # window, unit_ids, unit_annotations, ..., annotations
        return obj

    def _replace(self, **changes: Any) -> SpikeData:
        """Return a copy with some fields replaced (annotations shared, never mutated)."""
        fields = {
            "window": (self._bin_size, self._t_start, self._t_stop, self._units),
            "unit_ids": self.unit_ids,
            "unit_annotations": self.unit_annotations,
            "trial_annotations": self.trial_annotations,
            "hidden": self.hidden,
            "annotations": self.annotations,
            "trial_fields": self._fields,
        }
        counts = changes.pop("counts", self.counts)
        fields.update(changes)
        return SpikeData._from_validated(counts, **fields)

    # ------------------------------------------------------------------ conversions
    def to(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> SpikeData:
        """Return the data with ``counts`` on another device and/or in another dtype.

        Parameters
        ----------
        device : torch.device or str, optional
            Target device (unchanged if None).
        dtype : torch.dtype, optional
            Target dtype (unchanged if None).

        Returns
        -------
        SpikeData
            A new object; ``self`` is unchanged. Covariates move with the counts (and stay
            float64).
        """
        check_dtype(dtype)
        counts = self.counts.to(device=device, dtype=dtype)
        return self._replace(counts=counts, trial_fields=self._fields.to(device))

    # ------------------------------------------------------------------ selection
    def __getitem__(self, index: TrialIndex) -> SpikeData:
        """Select trials; see :meth:`select_trials`."""
        return self.select_trials(index)

    def __len__(self) -> int:
        """Number of trials."""
        return self.n_trials

    def select_trials(self, index: TrialIndex) -> SpikeData:
        """Return a subset of trials (the trial axis is kept, also for an integer index).

        Parameters
        ----------
        index : int, slice, sequence of int, or boolean mask of shape (n_trials,)
            Trials to keep, in the order given.

        Returns
        -------
        SpikeData
            Counts of shape (n_selected, n_bins, n_neurons) and the matching trial annotations,
            conditions and covariates.
        """
        positions = resolve_index(index, self.n_trials, "index")
        counts = self.counts[torch.as_tensor(positions, device=self.counts.device)]
        trial_annotations = tuple(self.trial_annotations[i] for i in positions)
        return self._replace(
            counts=counts,
            trial_annotations=trial_annotations,
            trial_fields=self._fields.select(positions),
        )

    def select_units(self, units: Sequence[Hashable] | np.ndarray | torch.Tensor) -> SpikeData:
        """Return a subset of neurons.

        Parameters
        ----------
        units : sequence of unit ids, or boolean mask of shape (n_neurons,)
            Unit ids to keep, in the order given, or a mask over neurons.

        Returns
        -------
        SpikeData
            Counts of shape (n_trials, n_bins, n_selected) and the matching unit metadata.
        """
        positions = unit_positions(units, self.unit_ids, self.n_neurons)
        counts = self.counts[..., torch.as_tensor(positions, device=self.counts.device)]
        return self._replace(
            counts=counts,
            unit_ids=tuple(self.unit_ids[i] for i in positions),
            unit_annotations=tuple(self.unit_annotations[i] for i in positions),
            hidden=self.hidden[positions],
        )

    def recorded(self) -> SpikeData:
        """Return the recorded (not hidden) neurons only."""
        return self.select_units(~self.hidden)

    def split(
        self, test_fraction: float = 0.2, seed: int | np.random.Generator | None = None
    ) -> tuple[SpikeData, SpikeData]:
        """Split trials at random into a training and a test set, stratified by condition.

        Parameters
        ----------
        test_fraction : float, optional
            Fraction of trials in the test set, in (0, 1); at least one trial goes to each set,
            and with conditions, at least one of every condition to each set.
        seed : int or np.random.Generator, optional
            Seed of the random permutation; the same seed gives the same split.

        Returns
        -------
        train, test : SpikeData
            Disjoint trial subsets that together hold every trial, each in recording order.
            Without conditions, a random permutation of all trials; with conditions, each
            condition is split on its own (``round(test_fraction * n)`` of its ``n`` trials to
            the test set), so both sets hold every condition in the same proportion.
        """
        if self._fields.conditions is None:
            train, test = split_positions(self.n_trials, test_fraction, seed)
        else:
            check_fraction(test_fraction, "test_fraction")
            rng = np.random.default_rng(seed)
            train, test = stratified_split(self._fields.conditions, test_fraction, rng)
        return self.select_trials(train), self.select_trials(test)

    @classmethod
    def concatenate(cls, datasets: Sequence[SpikeData]) -> SpikeData:
        """Join the trials of several data sets with the same bins and units.

        Parameters
        ----------
        datasets : sequence of SpikeData
            At least one; all with the same ``n_bins``, ``bin_size``, ``t_start``, ``t_stop``,
            unit ids and hidden flags, and all with (or all without) conditions and the same
            covariates.

        Returns
        -------
        SpikeData
            Counts of shape (sum of n_trials, n_bins, n_neurons) on the first one's device and
            dtype; unit and data-set annotations of the first.

        Examples
        --------
        >>> import quantities as pq, torch
        >>> a = SpikeData(torch.ones(2, 5, 3), 1 * pq.ms, conditions=["x", "x"])
        >>> b = SpikeData(torch.zeros(1, 5, 3), 1 * pq.ms, conditions=["y"])
        >>> SpikeData.concatenate([a, b]).condition_labels
        ('x', 'y')
        """
        items = check_concatenable(datasets, SpikeData)
        first = items[0]
        counts = torch.cat([d.counts.to(first.device, first.dtype) for d in items])
        fields = TrialFields.concatenate([d._fields for d in items], [d.n_trials for d in items])
        annotations = tuple(a for d in items for a in d.trial_annotations)
        return first._replace(counts=counts, trial_annotations=annotations, trial_fields=fields)

    # ------------------------------------------------------------------ comparison
    def __eq__(self, other: object) -> bool:
        """Equal counts (values and shape), time axis and metadata."""
        if not isinstance(other, SpikeData):
            return NotImplemented
        return bool(
            self.same_time_axis(other)
            and self.counts.shape == other.counts.shape
            and torch.equal(self.counts.cpu().double(), other.counts.cpu().double())
            and self.unit_ids == other.unit_ids
            and self.unit_annotations == other.unit_annotations
            and self.trial_annotations == other.trial_annotations
            and np.array_equal(self.hidden, other.hidden)
            and self.annotations == other.annotations
            and self._fields.equals(other._fields)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        unit = self._units.dimensionality.string
        return (
            f"SpikeData(n_trials={self.n_trials}, n_bins={self.n_bins}, "
            f"n_neurons={self.n_neurons} ({self.n_hidden} hidden), "
            f"bin_size={self._bin_size} {unit}, t_start={self._t_start} {unit}, "
            f"t_stop={self._t_stop} {unit}{self._fields.describe()}, dtype={self.dtype}, "
            f"device={self.device})"
        )
