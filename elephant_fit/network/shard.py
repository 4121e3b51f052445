"""Shard: a contiguous share of a batch of trials.

The simulation and the teacher-forced pass can run a share ``start:stop`` of a batch of ``total``
trials with the random numbers of the whole batch. One process is the share of everything
(``Shard.whole_batch(total)``); which share a process of a data-parallel fit takes is decided by
:func:`elephant_fit.distributed.local_shard`, so that the network knows nothing of processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

__all__ = ["Shard"]

#: A tensor, or a record of tensors sliced by trials alike.
T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    """The share ``start:stop`` of a batch of ``total`` trials.

    Examples
    --------
    >>> Shard.of(10, index=1, size=3)  # 10 trials in 3 shares: 4, 3, 3
    Shard(start=4, stop=7, total=10)
    >>> Shard.of(10) == Shard.whole_batch(10)  # one share: everything
    True
    """

    start: int
    stop: int
    total: int

    @classmethod
    def whole_batch(cls, total: int) -> Shard:
        """The share of all ``total`` trials."""
        return cls(0, total, total)

    @classmethod
    def of(cls, total: int, index: int = 0, size: int = 1) -> Shard:
        """Share ``index`` of ``size`` contiguous shares of ``total`` trials.

        The first ``total % size`` shares take one trial more than the others.
        """
        base, extra = divmod(total, size)
        start = index * base + min(index, extra)
        return cls(start, start + base + (index < extra), total)

    @property
    def n_trials(self) -> int:
        """Number of trials in the share."""
        return self.stop - self.start

    @property
    def whole(self) -> bool:
        """Whether the share is the whole batch."""
        return self.start == 0 and self.stop == self.total

    def take(self, tensor: T) -> T:
        """The share's trials of a whole batch (trials first); the batch itself when whole.

        ``tensor``: a tensor, or anything sliced by trials (e.g.
        :class:`~elephant_fit.fitting.trials.TrialTensors`: counts, conditions and covariates).
        """
        return tensor if self.whole else tensor[self.start : self.stop]
