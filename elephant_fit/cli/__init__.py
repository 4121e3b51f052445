"""The ``elephant-fit`` command line (``fit``, ``simulate``, ``report``, ``demo``)."""

from .commands import build_parser, main

__all__ = ["build_parser", "main"]
