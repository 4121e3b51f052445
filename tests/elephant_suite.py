"""Pytest plugin: run Elephant's own tests against elephant-fit's compat twins.

Load it with ``-p elephant_suite`` or ``PYTEST_PLUGINS=elephant_suite`` (with ``tests/`` on
``sys.path``, e.g. ``PYTHONPATH=tests``), then run one of Elephant's test modules::

    PYTHONPATH=tests python -m pytest -p elephant_suite -p no:cacheprovider \\
        --pyargs elephant.test.test_spike_train_dissimilarity

In ``pytest_configure``, before any of Elephant's test modules is imported, every public name of
``elephant_fit.compat.<module>`` (its ``__all__``) that also exists in ``elephant.<module>`` is
assigned onto ``elephant.<module>``, so Elephant's tests call our functions and classes. Compat
modules that do not exist yet are skipped. What was patched is printed in the terminal summary.

``ELEPHANT_SUITE_PATCH=0`` loads the plugin without patching (the reference run). When
``ELEPHANT_SUITE_RECORD`` names a file, the plugin writes there, at the end of the session, the
JSON ``{"patching": {module: {"status": "patched" | "missing" | "nothing to patch" |
"error: ...", "patched": [...], "not_in_elephant": [...]}}, "outcomes": {test: outcome}}``, with
one outcome per test ("passed", "failed", "skipped"; a failure in any phase or subtest wins).
"""

from __future__ import annotations

import importlib
import json
import os
from typing import Any

import pytest

#: (compat module, Elephant module) pairs whose shared public names are swapped.
MODULE_PAIRS = {
    "statistics": "statistics",
    "spike_train_correlation": "spike_train_correlation",
    "spike_train_dissimilarity": "spike_train_dissimilarity",
    "kernels": "kernels",
}

RECORD_VARIABLE = "ELEPHANT_SUITE_RECORD"
PATCH_VARIABLE = "ELEPHANT_SUITE_PATCH"

_record: dict[str, dict[str, Any]] = {}
_outcomes: dict[str, str] = {}
_PRIORITY = {"skipped": 0, "passed": 1, "failed": 2}


def _import_compat(name: str) -> tuple[Any, str]:
    """The compat module and its status: 'ok', 'missing' or 'error: <message>'."""
    full_name = f"elephant_fit.compat.{name}"
    try:
        return importlib.import_module(full_name), "ok"
    except ModuleNotFoundError as error:
        if error.name == full_name:
            return None, "missing"
        return None, f"error: {type(error).__name__}: {error}"
    except Exception as error:  # a half-written module must not break the whole session
        return None, f"error: {type(error).__name__}: {error}"


def patch_elephant() -> dict[str, dict[str, Any]]:
    """Assign the compat twins onto Elephant's modules; return what was done per module."""
    record: dict[str, dict[str, Any]] = {}
    for compat_name, elephant_name in MODULE_PAIRS.items():
        compat, status = _import_compat(compat_name)
        entry: dict[str, Any] = {"status": status, "patched": [], "not_in_elephant": []}
        record[compat_name] = entry
        if compat is None:
            continue
        target = importlib.import_module(f"elephant.{elephant_name}")
        for name in getattr(compat, "__all__", []):
            if hasattr(target, name):
                setattr(target, name, getattr(compat, name))
                entry["patched"].append(name)
            else:
                entry["not_in_elephant"].append(name)
        entry["status"] = "patched" if entry["patched"] else "nothing to patch"
    return record


def pytest_configure(config: pytest.Config) -> None:
    """Patch Elephant before collection imports its test modules."""
    _record.clear()
    _outcomes.clear()
    if os.environ.get(PATCH_VARIABLE, "1") != "0":
        _record.update(patch_elephant())


def node_name(nodeid: str) -> str:
    """A test's id without its file part (which depends on the root directory)."""
    return nodeid.split("::", 1)[-1]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Keep the worst outcome of each test over its phases and subtests."""
    if report.failed:
        outcome = "failed"
    elif report.skipped:
        outcome = "skipped"  # also expected failures
    elif report.when == "call":
        outcome = "passed"
    else:
        return
    name = node_name(report.nodeid)
    if _PRIORITY[outcome] >= _PRIORITY.get(_outcomes.get(name, "skipped"), 0):
        _outcomes[name] = outcome


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the patching record and the outcomes where ``ELEPHANT_SUITE_RECORD`` says."""
    path = os.environ.get(RECORD_VARIABLE)
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"patching": _record, "outcomes": _outcomes}, handle, indent=2)


def pytest_report_header(config: pytest.Config) -> str:
    """One header line saying whether Elephant runs with the compat twins."""
    if not _record:
        return "elephant-fit compat twins: not patched (reference run)"
    count = sum(len(entry["patched"]) for entry in _record.values())
    return f"elephant-fit compat twins patched into Elephant: {count} names"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List the patched names per module (and the modules skipped)."""
    if not _record:
        return
    terminalreporter.section("elephant-fit compat patching")
    for module, entry in _record.items():
        names = ", ".join(entry["patched"]) or "-"
        terminalreporter.write_line(
            f"elephant.{MODULE_PAIRS[module]}: {entry['status']}; patched: {names}"
        )
