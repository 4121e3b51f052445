"""Exceptions of elephant-fit: one base class, one class per kind of mistake.

Every error the package raises on purpose derives from :class:`ElephantFitError`, so that
``except ElephantFitError`` catches them all (the command line turns them into one line and exit
code 2). Each also derives from the built-in exception that Python code expects for that kind of
mistake (``TypeError``, ``ValueError``, ...), so code written against Elephant, which raises the
built-ins, keeps working.
"""

from __future__ import annotations

__all__ = [
    "ArgumentTypeError",
    "ArgumentValueError",
    "ElephantFitError",
    "FitInterrupted",
    "MemoryLimitError",
    "ModelFileError",
    "NoImprovementWarning",
    "NonFiniteLossError",
    "NotFittedError",
    "SimulationDivergedError",
    "UnsafeFileError",
]


class ElephantFitError(Exception):
    """Base class of every error elephant-fit raises on purpose."""


class ArgumentTypeError(ElephantFitError, TypeError):
    """An argument of the wrong type (a list where a tensor is expected, a float for an int...)."""


class ArgumentValueError(ElephantFitError, ValueError):
    """An argument of the right type but a wrong value (out of range, wrong shape, unknown name)."""


class NotFittedError(ElephantFitError, ValueError, AttributeError):
    """A fitted attribute or method of an estimator is used before ``fit``."""


class ModelFileError(ElephantFitError, ValueError):
    """A file is not an elephant-fit model, is corrupt, or was written by an incompatible version."""


class UnsafeFileError(ElephantFitError, ValueError):
    """A file would run code when read (a pickle naming a function or class outside the allow-list).

    Raised before anything of the file is executed. Read files you trust with
    ``read_block(path, trust_pickle=True)`` (command line: ``--trust-pickle``).
    """


class NonFiniteLossError(ElephantFitError, FloatingPointError):
    """The loss or a gradient became NaN or inf; the model keeps its last good parameters.

    Attributes
    ----------
    history : elephant_fit.fitting.FitHistory
        The losses recorded up to the failure (set by :func:`elephant_fit.fitting.fit_model`;
        typed loosely here so that the exceptions import nothing of the package).
    """

    history: object


class SimulationDivergedError(ElephantFitError, FloatingPointError):
    """A simulation's rates overflowed: the fitted network excites itself without bound."""


class FitInterrupted(ElephantFitError, KeyboardInterrupt):
    """SIGINT or SIGTERM ended a fit that writes checkpoints; the message says where to resume.

    Attributes
    ----------
    signal_number : int
        The signal (2: SIGINT, 15: SIGTERM).
    """

    signal_number: int = 2


class MemoryLimitError(ElephantFitError, MemoryError):
    """An operation would allocate more memory than the limit (checked before allocating)."""


class NoImprovementWarning(UserWarning):
    """A fit ended without any iteration beating the initial parameters on the validation loss."""
