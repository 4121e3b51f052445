"""Early checks of ``--out`` (cli/_output.py): it never names an input, and a bad one fails first."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from helpers import one_error as _one_error

from elephant_fit import (
    NetworkFitter,
)
from elephant_fit.cli.commands import main


def _same_file_cases(files, tmp_path):
    recording, model = files["recording"], files["model"]
    alias = recording.parent / "sub" / ".." / recording.name
    hardlink = tmp_path / "hard.pkl"
    os.link(recording, hardlink)
    symlink = tmp_path / "link.pkl"
    symlink.symlink_to(recording)
    model_pkl = tmp_path / "model.pkl"  # a model file with a recording's suffix
    model_pkl.write_bytes(model.read_bytes())
    report_named = tmp_path / "report.json"  # a model where report writes its table
    report_named.write_bytes(model.read_bytes())
    return [
        ["fit", str(recording), "--out", str(recording)],
        ["fit", str(recording), "--out", str(alias)],
        ["fit", str(recording), "--out", str(hardlink)],
        ["fit", str(recording), "--out", str(symlink)],
        ["fit", str(tmp_path / "new.pkl"), "--out", str(tmp_path / "new.pkl")],  # not there yet
        ["simulate", str(model_pkl), "--trials", "2", "--out", str(model_pkl)],
        ["report", str(model), str(recording), "--out", str(model)],
        ["report", str(report_named), str(recording), "--out", str(tmp_path)],
    ]


def test_out_may_not_name_an_input(files, tmp_path, capsys, monkeypatch):
    import elephant_fit.data._collect as collect
    import elephant_fit.data.files as files_module

    def must_not_read(*args, **kwargs):
        raise AssertionError("the input was read before --out was checked")

    monkeypatch.setattr(files_module, "read_block", must_not_read)
    monkeypatch.setattr(collect, "read_block", must_not_read)
    before = {path: path.read_bytes() for path in (files["recording"], files["model"])}
    for argv in _same_file_cases(files, tmp_path):
        assert main(argv) == 2, argv
        _one_error(capsys, "would overwrite the input")
    assert {path: path.read_bytes() for path in before} == before


# ------------------------------------------------------------------ 3. a bad --out fails first
def _unwritable_folder(tmp_path) -> Path:
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir(mode=0o500)
        return folder
    # root writes anywhere chmod allows; sysfs refuses new files even to root
    folder = Path("/sys")
    try:
        (folder / "elephant-fit-probe").touch()
    except OSError:
        return folder
    pytest.skip("no unwritable folder here")  # pragma: no cover


@pytest.mark.parametrize("kind", ["missing folder", "under a file", "unwritable", "a folder"])
def test_a_bad_out_fails_in_one_line_before_any_work(files, tmp_path, capsys, monkeypatch, kind):
    import elephant_fit.data._collect as collect
    import elephant_fit.data.files as files_module
    import elephant_fit.fitting.persistence as persistence

    def must_not_run(*args, **kwargs):
        raise AssertionError("work started before --out was checked")

    monkeypatch.setattr(files_module, "read_block", must_not_run)
    monkeypatch.setattr(collect, "read_block", must_not_run)
    monkeypatch.setattr(persistence, "load_model", must_not_run)
    monkeypatch.setattr(NetworkFitter, "fit", must_not_run)
    target = {
        "missing folder": tmp_path / "no" / "such" / "folder" / "out.pkl",
        "under a file": files["recording"] / "out.pkl",
        "unwritable": _unwritable_folder(tmp_path) / "out.pkl",
        "a folder": tmp_path,
    }[kind]
    commands = [
        ["fit", str(files["recording"]), "--out", str(target)],
        ["simulate", str(files["model"]), "--trials", "2", "--out", str(target)],
    ]
    if kind in ("under a file", "unwritable"):  # folders are created with their parents
        commands += [
            ["report", str(files["model"]), str(files["recording"]), "--out", str(target)],
            ["demo", "--quick", "--out", str(target)],
        ]
    for argv in commands:
        start = time.perf_counter()
        assert main(argv) == 2, argv
        assert time.perf_counter() - start < 5
        _one_error(capsys, "--out")
