"""Drop-in twins of Elephant functions: same module names, signatures, defaults and return types.

Each compat function converts Neo/quantities input to tensors, calls the functional statistic of
:mod:`elephant_fit.statistics`, and converts the result back.
"""

from . import kernels, spike_train_correlation, spike_train_dissimilarity, statistics

__all__ = ["kernels", "spike_train_correlation", "spike_train_dissimilarity", "statistics"]
