"""The elephant-fit command line: --version and --help."""

from __future__ import annotations

import subprocess
import sys

import pytest

import elephant_fit
from elephant_fit.cli import main


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"elephant-fit {elephant_fit.__version__}"


def test_help_without_arguments(capsys):
    assert main([]) == 0
    assert "usage: elephant-fit" in capsys.readouterr().out


def test_unknown_option_exits_with_code_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--no-such-option"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_module_entry_point_runs():
    result = subprocess.run(
        [sys.executable, "-m", "elephant_fit.cli", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "--version" in result.stdout


def test_console_script_is_installed():
    import shutil

    script = shutil.which(
        "elephant-fit", path=str(__import__("pathlib").Path(sys.executable).parent)
    )
    assert script is not None, "the elephant-fit console script is not installed next to python"
    result = subprocess.run([script, "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert elephant_fit.__version__ in result.stdout
