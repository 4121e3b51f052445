"""The options of an instantaneous-rate estimate, defined once (names, defaults, checks, docs).

Used by :func:`elephant_fit.statistics.instantaneous.instantaneous_rate`,
:func:`~elephant_fit.statistics.instantaneous.instantaneous_rate_from_counts` and the Elephant twin
:func:`elephant_fit.compat.statistics.instantaneous_rate` (whose signature stays Elephant's, with
these defaults).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from .._validation import check_number, describe
from ..errors import ArgumentTypeError

__all__ = ["DEFAULT_OPTIONS", "RATE_OPTIONS_DOC", "RateOptions", "with_rate_options_doc"]

_Function = TypeVar("_Function", bound=Callable[..., Any])

#: The numpydoc entries of the :class:`RateOptions`, shared by every instantaneous-rate front end
#: (put in place of a ``{rate_options}`` line by :func:`with_rate_options_doc`).
RATE_OPTIONS_DOC = """\
cutoff : float, optional
    Half width of the discretised kernel in units of sigma (raised to the kernel's minimum
    with a warning).
trim : bool, optional
    Keep only samples where the kernel fully overlaps the window ('valid' convolution).
center_kernel : bool, optional
    Centre the kernel's median (rather than its origin) on each spike.
border_correction : bool, optional
    Correct the loss of kernel mass near the window edges (Gaussian kernels only), then scale
    each train's estimate so that it integrates to the train's spike count.
pool_trials : bool, optional
    Average over the trials (dim -3 of a tensor, the trials of an ``elephant.trials.Trials``;
    no effect on a single trial).
pool_spike_trains : bool, optional
    Average over the spike trains of each trial.
"""


def with_rate_options_doc(function: _Function) -> _Function:
    """Replace the ``{rate_options}`` line of ``function``'s docstring by :data:`RATE_OPTIONS_DOC`."""
    lines = (function.__doc__ or "").splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.strip() == "{rate_options}":
            indent = line[: len(line) - len(line.lstrip())]
            fragment = "".join(indent + entry + "\n" for entry in RATE_OPTIONS_DOC.splitlines())
            lines[index] = fragment.replace(indent + "\n", "\n")
    function.__doc__ = "".join(lines)
    return function


@dataclass(frozen=True)
class RateOptions:
    """The options of an instantaneous-rate estimate besides the kernel and the window, checked.

    One definition (names, defaults, checks) for :func:`instantaneous_rate`,
    :func:`instantaneous_rate_from_counts` and the Elephant twin
    :func:`elephant_fit.compat.statistics.instantaneous_rate`, whose defaults are these.

    Parameters
    ----------
    {rate_options}

    Raises
    ------
    TypeError
        If ``cutoff`` is not a number or a flag is not a bool (the error names the argument).
    """

    cutoff: float = 5.0
    trim: bool = False
    center_kernel: bool = True
    border_correction: bool = False
    pool_trials: bool = False
    pool_spike_trains: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "cutoff", check_number(self.cutoff, "cutoff"))
        for name, value in asdict(self).items():
            if name != "cutoff" and not isinstance(value, bool):
                raise ArgumentTypeError(
                    f"Expected `{name}` to be a bool, but got {describe(value)}."
                )


with_rate_options_doc(RateOptions)
DEFAULT_OPTIONS = RateOptions()
