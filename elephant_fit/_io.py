"""Atomic file writes.

:func:`atomic_path` lets a writer write a temporary file next to the target, which replaces the
target (``os.replace``) only once it is complete and on disk: an interrupted or failed write (full
disk, file-size limit, exception in the writer) leaves the previous file intact and no temporary
file behind. Model files, checkpoints and recordings are written through it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "resolve_target"]


def resolve_target(path: str | os.PathLike) -> Path:
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
    target = resolve_target(path)
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
