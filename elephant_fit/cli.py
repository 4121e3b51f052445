"""The ``elephant-fit`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._version import __version__

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``elephant-fit`` command.

    Returns
    -------
    argparse.ArgumentParser
        The parser, with ``--version`` and one sub-parser per command.
    """
    parser = argparse.ArgumentParser(
        prog="elephant-fit",
        description=(
            "Fit recurrent stochastic spiking network models to Neo spike trains "
            "(maximum likelihood and sample-and-measure losses, Bellec et al. 2021)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"elephant-fit {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``elephant-fit`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name. Default: ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit code.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stdout)
        return 0
    return 0  # pragma: no cover - no sub-command exists yet


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
