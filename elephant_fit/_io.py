"""Atomic file writes and early checks of output paths.

:func:`atomic_path` lets a writer write a temporary file next to the target, which replaces the
target (``os.replace``) only once it is complete and on disk: an interrupted or failed write (full
disk, file-size limit, exception in the writer) leaves the previous file intact and no temporary
file behind. :func:`check_output_file` and :func:`check_output_folder` find a bad output path (a
missing or unwritable directory, a path under a regular file, a path that is also an input) in
milliseconds, before any expensive work.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import ArgumentValueError

__all__ = [
    "atomic_path",
    "check_output_file",
    "check_output_folder",
    "same_file",
]


def _target(path: str | os.PathLike) -> Path:
    """The file to replace: the destination of a symbolic link, else ``path`` itself."""
    file = Path(path)
    return Path(os.path.realpath(file)) if file.is_symlink() else file


def _fsync(path: Path, directory: bool = False) -> None:
    """Flush ``path`` to disk (best effort for directories, which not every system can open)."""
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically.

    The temporary file is created empty (mode 0o666 minus the umask, like ``open``), carries the
    suffix of ``path`` (writers that look at it see the right one) and is flushed to disk
    (``fsync``) before ``os.replace``. On any exception it is removed and the exception propagates;
    ``path`` is then untouched. A symbolic link at ``path`` is followed: its destination is replaced.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.

    Yields
    ------
    Path
        The temporary file to write to (by name; it exists and is empty).
    """
    target = _target(path)
    folder = target.parent
    while True:
        temporary = folder / f".{target.name}.{secrets.token_hex(6)}.tmp{target.suffix}"
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # pragma: no cover - 48 random bits
            continue
        os.close(fd)
        break
    try:
        yield temporary
        _fsync(temporary)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync(folder, directory=True)


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
    folder = _target(file).parent
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
