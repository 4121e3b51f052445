"""Every script in examples/ runs to the end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        ("neo_roundtrip.py", ["--trials", "8"], "identical SpikeData"),
        ("fit_and_analyse.py", ["--quick"], "model {'peak population rate (Hz)'"),
        ("compat_dropin.py", ["--quick"], "same results"),
        ("custom_statistic_loss.py", ["--quick"], "likelihood + synchrony: model synchrony"),
        ("retina_hidden.py", ["--quick"], "NLL + SM, hidden: PSTH R2"),
        ("kramer_casestudies.py", ["--quick", "--folds", "2"], "one drive per direction -"),
    ],
)
def test_example_runs(tmp_path, script, args, expected):
    extra = ["--out", str(tmp_path)] if script == "neo_roundtrip.py" else []
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *extra, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
