"""Drop-in twins of ``elephant.statistics``.

``from elephant_fit.compat import statistics`` in place of ``from elephant import statistics``:
the same names, signatures, defaults, return types, errors and warnings, computed by the
functional layer :mod:`elephant_fit.statistics`.
"""

from ._instantaneous import instantaneous_rate
from ._rates import mean_firing_rate, time_histogram
from ._variability import cv, cv2, fanofactor, isi, lv, lvr

__all__ = [
    "cv",
    "cv2",
    "fanofactor",
    "instantaneous_rate",
    "isi",
    "lv",
    "lvr",
    "mean_firing_rate",
    "time_histogram",
]
