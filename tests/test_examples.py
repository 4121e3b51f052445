"""Every script in examples/ runs to the end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize(
    ("script", "args"),
    [("neo_roundtrip.py", ["--trials", "8"])],
)
def test_example_runs(tmp_path, script, args):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--out", str(tmp_path), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "identical SpikeData" in result.stdout
