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
    """Base class of every error elephant-fit raises on purpose.

    Examples
    --------
    One ``except`` clause catches every deliberate error of the package:

    >>> from elephant_fit import load_retina
    >>> try:
    ...     load_retina(recording=3)  # there are recordings 1 and 2
    ... except ElephantFitError as error:
    ...     print(type(error).__name__)
    ArgumentValueError
    """


class ArgumentTypeError(ElephantFitError, TypeError):
    """An argument of the wrong type (a list where a tensor is expected, a float for an int...).

    Examples
    --------
    >>> import neo, quantities as pq
    >>> from elephant_fit import from_neo
    >>> train = neo.SpikeTrain([1, 5] * pq.ms, t_stop=10 * pq.ms)
    >>> try:
    ...     from_neo([train], bin_size=10)  # a number, not a time quantity
    ... except TypeError as error:  # also an ElephantFitError
    ...     print(type(error).__name__)
    ArgumentTypeError
    """


class ArgumentValueError(ElephantFitError, ValueError):
    """An argument of the right type but a wrong value (out of range, wrong shape, unknown name).

    Examples
    --------
    >>> import neo, quantities as pq
    >>> from elephant_fit import from_neo
    >>> train = neo.SpikeTrain([1, 5] * pq.ms, t_stop=10 * pq.ms)
    >>> try:
    ...     from_neo([train], bin_size=-1 * pq.ms)  # a time quantity, but not positive
    ... except ValueError as error:  # also an ElephantFitError
    ...     print(type(error).__name__)
    ArgumentValueError
    """


class NotFittedError(ElephantFitError, ValueError, AttributeError):
    """A fitted attribute or method of an estimator is used before ``fit``.

    Examples
    --------
    >>> from elephant_fit import NetworkFitter
    >>> fitter = NetworkFitter()
    >>> try:
    ...     fitter.model_
    ... except NotFittedError as error:
    ...     print(type(error).__name__)
    NotFittedError

    Being an ``AttributeError`` too, it makes ``hasattr`` answer False before ``fit``:

    >>> hasattr(fitter, "model_")
    False
    """


class ModelFileError(ElephantFitError, ValueError):
    """A file is not an elephant-fit model, is corrupt, or was written by an incompatible version.

    Examples
    --------
    >>> import os, tempfile
    >>> from elephant_fit import load_model
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "model.pt")
    ...     with open(path, "wb") as file:
    ...         _ = file.write(b"not a model")
    ...     try:
    ...         load_model(path)
    ...     except ModelFileError as error:
    ...         print(type(error).__name__)
    ModelFileError
    """


class UnsafeFileError(ElephantFitError, ValueError):
    """A file would run code when read (a pickle naming a function or class outside the allow-list).

    Raised before anything of the file is executed. Read files you trust with
    ``read_block(path, trust_pickle=True)`` (command line: ``--trust-pickle``).

    Examples
    --------
    A pickle that names a function (here ``print``) instead of Neo objects:

    >>> import os, pickle, tempfile
    >>> from elephant_fit import read_block
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "recording.pkl")
    ...     with open(path, "wb") as file:
    ...         pickle.dump(print, file)
    ...     try:
    ...         read_block(path)
    ...     except UnsafeFileError as error:
    ...         print(type(error).__name__)
    UnsafeFileError
    """


class NonFiniteLossError(ElephantFitError, FloatingPointError):
    """The loss or a gradient became NaN or inf; the model keeps its last good parameters.

    Attributes
    ----------
    history : elephant_fit.fitting.FitHistory
        The losses recorded up to the failure (set by :func:`elephant_fit.fitting.fit_model`;
        typed loosely here so that the exceptions import nothing of the package).

    Examples
    --------
    Raised by ``fit``; code that expects the built-in ``FloatingPointError`` catches it too:

    >>> try:
    ...     raise NonFiniteLossError("The loss became nan at iteration 3.")
    ... except FloatingPointError as error:
    ...     print(type(error).__name__, isinstance(error, ElephantFitError))
    NonFiniteLossError True
    """

    history: object


class SimulationDivergedError(ElephantFitError, FloatingPointError):
    """A simulation's rates overflowed: the fitted network excites itself without bound.

    Examples
    --------
    Raised by the ``simulate`` method of a fitted estimator; catch it as any error of the
    package:

    >>> try:
    ...     raise SimulationDivergedError("The simulated rates overflowed.")
    ... except ElephantFitError as error:
    ...     print(type(error).__name__, isinstance(error, FloatingPointError))
    SimulationDivergedError True
    """


class FitInterrupted(ElephantFitError, KeyboardInterrupt):
    """SIGINT or SIGTERM ended a fit that writes checkpoints; the message says where to resume.

    Attributes
    ----------
    signal_number : int
        The signal (2: SIGINT, 15: SIGTERM).

    Examples
    --------
    Being a ``KeyboardInterrupt``, it is not caught by ``except Exception``:

    >>> try:
    ...     raise FitInterrupted("SIGINT at iteration 40: resume with resume=True.")
    ... except KeyboardInterrupt as error:
    ...     print(type(error).__name__, error.signal_number)
    FitInterrupted 2
    """

    signal_number: int = 2


class MemoryLimitError(ElephantFitError, MemoryError):
    """An operation would allocate more memory than the limit (checked before allocating).

    Examples
    --------
    >>> import neo, quantities as pq
    >>> from elephant_fit import from_neo
    >>> train = neo.SpikeTrain([1, 5] * pq.ms, t_stop=10 * pq.ms)
    >>> try:
    ...     from_neo([train], 1 * pq.ms, max_memory=1)  # a limit of 1 byte
    ... except MemoryError as error:  # also an ElephantFitError
    ...     print(type(error).__name__)
    MemoryLimitError
    """


class NoImprovementWarning(UserWarning):
    """A fit ended without any iteration beating the initial parameters on the validation loss.

    Examples
    --------
    Issued by ``NetworkFitter.fit``; silence it (or turn it into an error) with the
    :mod:`warnings` filters:

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("No iteration improved the validation loss.", NoImprovementWarning)
    >>> [warning.category.__name__ for warning in caught]
    ['NoImprovementWarning']
    """
