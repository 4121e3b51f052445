"""Progress of long loops: a tqdm bar in a terminal, a few plain lines in a log.

In a terminal, tqdm redraws one line in place. Written to a file or a pipe (a log, CI, a batch
job), each redraw would be a line of its own (the full demo's log held ~200 of them): there,
progress is one line at the start, one about every 10 %, and one at the end.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from tqdm.auto import tqdm

__all__ = ["LogLines", "progress"]


def progress(iterable: Iterable[int], desc: str, enabled: bool = True) -> Any:
    """Iterate over ``iterable`` showing progress on stderr.

    Parameters
    ----------
    iterable : iterable of int
        What the loop runs over (its length is the total, e.g. a ``range``).
    desc : str
        What the loop does ("fitting").
    enabled : bool, optional
        False: show nothing.

    Returns
    -------
    tqdm or LogLines
        Iterate over it; ``set_postfix(values, refresh=False)`` attaches the latest values;
        ``close()`` ends the display (also after a ``break``).
    """
    stream = sys.stderr
    if enabled and not _is_terminal(stream):
        return LogLines(iterable, desc, stream)
    return tqdm(iterable, disable=not enabled, desc=desc, leave=False, file=stream)


def _is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


class LogLines:
    """Progress as plain lines: the start, every tenth of the total, the end.

    Examples
    --------
    >>> import io
    >>> stream = io.StringIO()
    >>> bar = LogLines(range(20), "fitting", stream)
    >>> for i in bar:
    ...     bar.set_postfix({"loss": f"{1 / (i + 1):.3g}"}, refresh=False)
    >>> bar.close()
    >>> print(stream.getvalue().splitlines()[0])
    fitting: 0/20
    >>> len(stream.getvalue().splitlines())  # start, 10 steps of 10 %
    11
    """

    def __init__(self, iterable: Iterable[int], desc: str, stream: TextIO) -> None:
        self.items = list(iterable)
        self.desc, self.stream = desc, stream
        self.postfix: dict[str, Any] = {}
        self.done = 0
        self.closed = False

    def __iter__(self) -> Iterator[int]:
        total = len(self.items)
        self._line(f"{self.done}/{total}")
        for item in self.items:
            yield item
            self.done += 1
            if self.done == total or (10 * self.done) // total > (10 * (self.done - 1)) // total:
                self._line(f"{self.done}/{total} ({100 * self.done // total} %)")

    def set_postfix(self, values: dict[str, Any], refresh: bool = False) -> None:
        """Keep ``values`` for the next line (``refresh`` is accepted for tqdm's signature)."""
        self.postfix = dict(values)

    def close(self) -> None:
        """Say where the loop stopped, if it stopped early (once)."""
        if self.closed:
            return
        self.closed = True
        if self.done < len(self.items):
            self._line(f"stopped at {self.done}/{len(self.items)}")

    def _line(self, where: str) -> None:
        values = ", ".join(f"{k}={v}" for k, v in self.postfix.items())
        suffix = f" [{values}]" if values else ""
        print(f"{self.desc}: {where}{suffix}", file=self.stream, flush=True)
