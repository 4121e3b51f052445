"""Early checks of the command line's output paths.

:func:`check_output_file` and :func:`check_output_folder` find a bad ``--out`` (a missing or
unwritable directory, a path under a regular file, a path that is also an input) in milliseconds,
before anything is loaded or fitted.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from .._io import resolve_target
from ..errors import ArgumentValueError

__all__ = ["check_output_file", "check_output_folder", "same_file"]


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name the same file: same inode when both exist, else same resolved path."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _check_inputs(out: Path, written: Iterable[Path], inputs: Iterable[str | os.PathLike]) -> None:
    """Refuse an output that would replace an input."""
    for source in inputs:
        for file in (out, *written):
            if same_file(file, source):
                raise ArgumentValueError(
                    f"--out {str(out)!r} would overwrite the input {str(source)!r}; "
                    "choose another output path."
                )


def _probe(folder: Path, out: Path) -> None:
    """Refuse a folder in which no file can be created (checked by creating and removing one)."""
    probe = folder / f".elephant-fit-probe.{secrets.token_hex(6)}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ArgumentValueError(
            f"--out {str(out)!r}: cannot write to the folder {str(folder)!r} ({reason})."
        ) from None
    os.close(fd)
    os.unlink(probe)


def check_output_file(out: str | os.PathLike, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Check, before any work, that a file can be written at ``out`` without replacing an input.

    Parameters
    ----------
    out : str or os.PathLike
        The output file (it may exist: it will be replaced).
    inputs : iterable of paths
        Files the command reads; ``out`` must name none of them (same inode or same resolved path).

    Returns
    -------
    Path
        ``out`` as a Path.

    Raises
    ------
    ArgumentValueError
        One line: ``out`` names an input, is a folder, lies in a missing folder or under a regular
        file, or its folder is not writable.
    """
    file = Path(out)
    _check_inputs(file, (), inputs)
    if file.is_dir():
        raise ArgumentValueError(f"--out {str(file)!r} is a folder; expected a file name.")
    folder = resolve_target(file).parent
    if not folder.exists():
        above = _existing_ancestor(folder)
        if above is not None and not above.is_dir():
            raise ArgumentValueError(
                f"--out {str(file)!r}: {str(above)!r} is a file, not a folder."
            )
        raise ArgumentValueError(f"--out {str(file)!r}: the folder {str(folder)!r} does not exist.")
    if not folder.is_dir():
        raise ArgumentValueError(f"--out {str(file)!r}: {str(folder)!r} is a file, not a folder.")
    _probe(folder, file)
    return file


def check_output_folder(
    out: str | os.PathLike,
    inputs: Iterable[str | os.PathLike] = (),
    written: Iterable[str] = (),
) -> Path:
    """Check, before any work, that the folder ``out`` can be created or written into.

    Parameters
    ----------
    out : str or os.PathLike
        The output folder; it may exist, or be created with its missing parents.
    inputs : iterable of paths
        Files the command reads: neither ``out`` nor any file it will hold may name one.
    written : iterable of str
        Names of the files the command writes into ``out``.

    Returns
    -------
    Path
        ``out`` as a Path.

    Raises
    ------
    ArgumentValueError
        One line: ``out`` or one of its files names an input, ``out`` is a regular file or lies
        under one, or the first existing folder on its path is not writable.
    """
    folder = Path(out)
    _check_inputs(folder, [folder / name for name in written], inputs)
    above = _existing_ancestor(folder)
    if above is None:  # pragma: no cover - the root always exists
        raise ArgumentValueError(f"--out {str(folder)!r}: no existing folder on its path.")
    if not above.is_dir():
        where = "is a file" if above == folder else f"lies under the file {str(above)!r}"
        raise ArgumentValueError(f"--out {str(folder)!r} {where}; expected a folder.")
    _probe(above, folder)
    return folder


def _existing_ancestor(path: Path) -> Path | None:
    """``path`` or its nearest existing parent (None if none exists)."""
    for candidate in (path, *path.absolute().parents):
        if candidate.exists():
            return candidate
    return None
