"""The documentation covers every public name, and every public docstring has a running example.

The Sphinx build itself (``sphinx-build -W``: broken cross-references fail) runs in CI after the
tests; these checks are the fast part that keeps the reference complete as names are added.
"""

from __future__ import annotations

import importlib
import inspect
import re
import zlib
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
MODULES = [
    "elephant_fit",
    "elephant_fit.data",
    "elephant_fit.statistics",
    "elephant_fit.network",
    "elephant_fit.network.synthetic",
    "elephant_fit.fitting",
    "elephant_fit.fitting.trial_matching",
    "elephant_fit.evaluation",
    "elephant_fit.distributed",
    "elephant_fit.errors",
    "elephant_fit.cli",
    "elephant_fit.compat.statistics",
    "elephant_fit.compat.spike_train_correlation",
    "elephant_fit.compat.spike_train_dissimilarity",
    "elephant_fit.compat.kernels",
]


def _public(module_name: str) -> list[tuple[str, object]]:
    module = importlib.import_module(module_name)
    return [
        (name, getattr(module, name))
        for name in module.__all__
        if not inspect.ismodule(getattr(module, name))
    ]


def _api_text() -> str:
    return "\n".join(path.read_text() for path in sorted((DOCS / "api").glob("*.rst")))


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_name_is_in_the_api_reference(module_name):
    text = _api_text()
    missing = [
        name
        for name, _ in _public(module_name)
        if not re.search(rf"(^|[\s.`]){re.escape(name)}($|[\s`])", text, flags=re.MULTILINE)
    ]
    assert missing == [], f"{module_name}: not in docs/api/*.rst: {missing}"


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_docstring_has_an_example(module_name):
    missing = [
        name
        for name, obj in _public(module_name)
        if (inspect.isclass(obj) or inspect.isfunction(obj))
        and ">>>" not in (inspect.getdoc(obj) or "")
    ]
    assert missing == [], f"{module_name}: no Examples section with a doctest: {missing}"


def test_a_name_missing_from_the_reference_is_caught():
    text = _api_text()
    assert re.search(r"(^|[\s.`])psth_sums($|[\s`])", text, flags=re.MULTILINE)
    assert not re.search(r"(^|[\s.`])no_such_function($|[\s`])", text, flags=re.MULTILINE)


@pytest.mark.parametrize("project", ["python", "numpy", "torch", "neo", "elephant", "quantities"])
def test_shipped_inventories_are_readable(project):
    data = (DOCS / "_inventories" / f"{project}.inv").read_bytes()
    header, _, compressed = data.partition(b"zlib.\n")
    assert header.startswith(b"# Sphinx inventory version 2")
    lines = zlib.decompress(compressed).decode().splitlines()
    assert len(lines) > 20
    assert all(len(line.split(" ")) >= 5 for line in lines)
