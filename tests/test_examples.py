"""Every script in examples/ runs to the end (the documentation gallery runs them too)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# (script, arguments, a line it must print); "{tmp}" stands for the test's folder
CASES = [
    ("neo_roundtrip.py", ["--out", "{tmp}", "--trials", "8"], "identical SpikeData"),
    ("neo_roundtrip.py", ["--quick"], "identical SpikeData"),
    ("compat_dropin.py", ["--quick"], "same results"),
    # the ones below take 8 s to a minute each: slow here, and run by every docs build (CI's too)
    pytest.param(
        "fit_and_analyse.py",
        ["--quick"],
        "model {'peak population rate (Hz)'",
        marks=pytest.mark.slow,
    ),
    pytest.param(
        "custom_statistic_loss.py",
        ["--quick"],
        "likelihood + synchrony: model synchrony",
        marks=pytest.mark.slow,
    ),
    pytest.param(
        "retina_hidden.py", ["--quick"], "NLL + SM, hidden: PSTH R2", marks=pytest.mark.slow
    ),
    pytest.param(
        "kramer_casestudies.py",
        ["--quick", "--folds", "2"],
        "one drive per direction -",
        marks=pytest.mark.slow,
    ),
    pytest.param(
        "hidden_connectivity.py",
        ["--quick"],
        "NLL + SM, 20 hidden: coupling r",
        marks=pytest.mark.slow,
    ),
    pytest.param(
        "data_parallel.py",
        ["--quick"],
        "2 processes vs 1 process: the same fit",
        marks=pytest.mark.slow,
    ),
]


@pytest.mark.parametrize(("script", "args", "expected"), CASES)
def test_example_runs(tmp_path, script, args, expected):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *(a.format(tmp=tmp_path) for a in args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    if "--out" not in args:  # the gallery runs the scripts in examples/: nothing may stay there
        assert list(tmp_path.iterdir()) == []


def test_every_example_is_run_and_is_a_gallery_page():
    scripts = sorted(path.name for path in EXAMPLES.glob("*.py"))
    listed = {case.values[0] if hasattr(case, "values") else case[0] for case in CASES}
    assert scripts == sorted(listed)
    assert (EXAMPLES / "README.rst").is_file()  # the gallery's header
    for script in scripts:
        text = (EXAMPLES / script).read_text()
        docstring = ast.get_docstring(ast.parse(text))
        assert docstring is not None, script
        title, underline = docstring.splitlines()[:2]
        assert underline == "=" * len(title), f"{script}: the title must be underlined with ="
        assert "--quick" in text, f"{script}: the gallery runs every script with --quick"
