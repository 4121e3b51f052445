"""Every tutorial in docs/tutorials/ runs to the end with --quick (as the documentation build runs it).

Marked slow (about a minute each on 2 cores): the docs build, which CI runs after the tests,
executes them too and fails on any error.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parent.parent / "docs" / "tutorials"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("lab_recording.py", "same held-out score after loading: True"),
        ("connectivity.py", "bits/spike (particle filter"),
    ],
)
def test_tutorial_runs(tmp_path, script, expected):
    result = subprocess.run(
        [sys.executable, str(TUTORIALS / script), "--quick"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
