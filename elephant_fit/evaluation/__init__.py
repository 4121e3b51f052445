"""Evaluation: held-out likelihood (particle filter), fit metrics, Elephant-computed reports, figures."""

from ..network.likelihood import (
    HeldOutLikelihood,
    LogLikelihood,
    held_out_likelihood,
    log_likelihood,
)
from .report import (
    BlockStatistics,
    block_statistics,
    compare_blocks,
    compare_statistics,
    write_table,
)

__all__ = [
    "BlockStatistics",
    "HeldOutLikelihood",
    "LogLikelihood",
    "block_statistics",
    "compare_blocks",
    "compare_statistics",
    "held_out_likelihood",
    "log_likelihood",
    "write_table",
]
