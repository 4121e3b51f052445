"""Safe reading of pickles: an allow-list of the globals a pickle may name.

:func:`safe_pickle_load` reads a pickle with an allow-list: only Neo, quantities, numpy,
``datetime`` and builtin container classes (and the reconstruction helpers of numpy, quantities
and neo) may be named by the file, so reading it never runs code of the file's choosing.
:func:`elephant_fit.data.files.read_block` reads pickles with it.
"""

from __future__ import annotations

import _compat_pickle
import importlib
import inspect
import os
import pickle
import sys
from pathlib import Path
from typing import Any

from ..errors import UnsafeFileError

__all__ = ["SAFE_PICKLE_GLOBALS", "safe_pickle_load"]

#: Globals that a pickle may name, besides the classes of neo.core and quantities (see
#: :func:`_resolve`): builtin containers and scalars, datetime, and numpy's reconstruction helpers.
#: ``numpy.core.*`` (numpy 1 pickles) is read as ``numpy._core.*``.
SAFE_PICKLE_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    [
        *(
            ("builtins", name)
            for name in (
                "bool",
                "bytearray",
                "bytes",
                "complex",
                "dict",
                "float",
                "frozenset",
                "int",
                "list",
                "object",
                "range",
                "set",
                "slice",
                "str",
                "tuple",
            )
        ),
        ("copyreg", "_reconstructor"),  # base.__new__(cls): both names checked here too
        ("copyreg", "__newobj__"),
        ("copyreg", "__newobj_ex__"),
        ("_codecs", "encode"),  # bytes in protocol 2 pickles
        ("collections", "OrderedDict"),
        *(("datetime", name) for name in ("date", "datetime", "time", "timedelta", "timezone")),
        ("numpy", "dtype"),
        ("numpy", "ndarray"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy._core.numeric", "_frombuffer"),
    ]
)
#: Reconstruction functions of neo.core and quantities (the classes are allowed by kind).
_NEO_FUNCTIONS = frozenset(
    {
        "_new_AnalogSignalArray",
        "_new_IrregularlySampledSignal",
        "_new_epoch",
        "_new_event",
        "_new_spiketrain",
        "_normalize_array_annotations",
    }
)
_QUANTITIES_FUNCTIONS = frozenset({"_reconstruct_quantity"})


def _resolve(module: str, name: str) -> Any | None:
    """The object a pickle names, if the allow-list admits it; None otherwise (nothing imported).

    Allowed: :data:`SAFE_PICKLE_GLOBALS`; classes defined in ``neo.core`` and neo's ``_new_*``
    reconstruction functions; subclasses of ``quantities.Quantity`` and ``Dimensionality`` defined
    in ``quantities`` and ``_reconstruct_quantity``. Only modules that are already imported (by
    neo, quantities or numpy themselves) are looked at, and only plain names (no dots).
    """
    if not name.isidentifier():  # "Block.__init__.__globals__" and the like
        return None
    # Python 2 names, which protocols 0-2 write (as pickle.Unpickler's fix_imports maps them)
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    elif module in _compat_pickle.IMPORT_MAPPING:
        module = _compat_pickle.IMPORT_MAPPING[module]
    if module.startswith("numpy.core."):  # numpy 1 pickles
        module = "numpy._core." + module[len("numpy.core.") :]
    if (module, name) in SAFE_PICKLE_GLOBALS:
        return getattr(importlib.import_module(module), name, None)
    loaded = sys.modules.get(module)
    if loaded is None:
        return None
    value = getattr(loaded, name, None)
    if value is None:
        return None
    owner = getattr(value, "__module__", "") or ""
    if module == "neo.core" or module.startswith("neo.core."):
        if not owner.startswith("neo.core"):
            return None
        if inspect.isclass(value) or (inspect.isfunction(value) and name in _NEO_FUNCTIONS):
            return value
        return None
    if module == "quantities" or module.startswith("quantities."):
        import quantities as pq
        from quantities.dimensionality import Dimensionality

        if not owner.startswith("quantities"):
            return None
        if inspect.isclass(value) and issubclass(value, (pq.Quantity, Dimensionality)):
            return value
        if inspect.isfunction(value) and name in _QUANTITIES_FUNCTIONS:
            return value
    return None


class _SafeUnpickler(pickle.Unpickler):
    """An Unpickler that refuses every global outside the allow-list (see :func:`_resolve`)."""

    def __init__(self, file: Any, path: Path) -> None:
        super().__init__(file)
        self._path = path

    def find_class(self, module: str, name: str) -> Any:
        value = _resolve(module, name)
        if value is None:
            raise UnsafeFileError(
                f"{str(self._path)!r} is a pickle that asks for {module}.{name}, which elephant-fit "
                "refuses to load: reading it could run code. Pickles may hold only neo, quantities, "
                "numpy, datetime and builtin objects; if you trust the file, read it with "
                "read_block(path, trust_pickle=True) (command line: --trust-pickle)."
            )
        return value

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafeFileError(
            f"{str(self._path)!r} is a pickle with persistent ids, which elephant-fit refuses to load."
        )


def safe_pickle_load(path: str | os.PathLike) -> Any:
    """Load a pickle whose globals are all on the allow-list; never runs code named by the file.

    Parameters
    ----------
    path : str or os.PathLike
        The pickle file.

    Returns
    -------
    Any
        The unpickled object (e.g. the ``neo.Block`` that ``neo.io.PickleIO`` wrote).

    Raises
    ------
    UnsafeFileError
        When the file names a global outside the allow-list; the message names the file and the
        global, and nothing of the file has been executed.
    """
    file = Path(path)
    with open(file, "rb") as handle:
        return _SafeUnpickler(handle, file).load()
