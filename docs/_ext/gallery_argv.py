"""Command-line arguments the documentation galleries give to every script.

sphinx-gallery imports this by name (a function defined in conf.py could not be cached).
"""

from __future__ import annotations

import os
from typing import Any


def full_build() -> bool:
    """Whether ``ELEPHANT_FIT_DOCS_FULL`` asks for full-size galleries (set, and not ``0``)."""
    return os.environ.get("ELEPHANT_FIT_DOCS_FULL", "") not in ("", "0")


def reset_argv(gallery_conf: dict[str, Any], script_vars: dict[str, Any]) -> list[str]:
    """Return ``["--quick"]`` (each script's small mode) unless a full-size build is asked.

    Parameters
    ----------
    gallery_conf : dict
        sphinx-gallery's configuration (unused).
    script_vars : dict
        The script being run (unused).

    Returns
    -------
    list of str
        ``[]`` when the environment variable ``ELEPHANT_FIT_DOCS_FULL`` is set to a non-empty
        value other than ``0``, else ``["--quick"]``.
    """
    return [] if full_build() else ["--quick"]
