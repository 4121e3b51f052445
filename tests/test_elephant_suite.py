"""Elephant's own test suite as our test: every Elephant test that passes must pass on our twins.

For each of four Elephant test modules, pytest runs twice in subprocesses (in parallel, in a
temporary directory, without our configuration): once plain (the reference: Elephant's own
functions) and once with the ``elephant_suite`` plugin, which swaps Elephant's public names for
elephant-fit's compat twins (see ``tests/elephant_suite.py``). Every test that passes plain must
pass patched, except the documented DIVERGENCES. Tests that fail plain (e.g. they download data,
and there is no network) are reported, not asserted.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from elephant_suite import MODULE_PAIRS, PATCH_VARIABLE, RECORD_VARIABLE, node_name, patch_elephant

TESTS_DIR = Path(__file__).resolve().parent
TIMEOUT_S = 300

#: Elephant test module -> compat module it exercises.
SUITES = {
    "test_kernels": "kernels",
    "test_spike_train_dissimilarity": "spike_train_dissimilarity",
    "test_spike_train_correlation": "spike_train_correlation",
    "test_statistics": "statistics",
}

#: "<Elephant test module>::<Class>::<test>" -> why Elephant is wrong, and where our behaviour
#: is tested instead.
DIVERGENCES: dict[str, str] = {
    "test_spike_train_dissimilarity::TimeScaleDependSpikeTrainDissimMeasuresTestCase::"
    "test_van_rossum_distance_regression_small_negative_values": (
        "The test asserts that van_rossum_distance([st, st]) warns about 'very small negative "
        "values': an artefact of Elephant's rounding, which makes the squared distance of two "
        "identical trains slightly negative. Our sums for identical trains are identical, so "
        "the distance is exactly 0 and there is nothing to warn about (the test's other "
        "assertions, result 0 and no NaN, hold). Tested in tests/test_statistics_dissimilarity.py"
        "::test_identical_trains_are_exactly_zero_without_warning; the warning itself, when a "
        "square is negative, in ::test_negative_squares_warn_and_clip."
    ),
}


def regressions(plain: dict[str, str], patched: dict[str, str]) -> list[str]:
    """Tests that pass plain but not patched (missing counts as not passing)."""
    return sorted(
        name
        for name, outcome in plain.items()
        if outcome == "passed" and patched.get(name) != "passed"
    )


def counts(outcomes: dict[str, str]) -> str:
    tally = dict.fromkeys(("passed", "skipped", "failed"), 0)
    for outcome in outcomes.values():
        tally[outcome] += 1
    return ", ".join(f"{value} {key}" for key, value in tally.items())


def _command(module: str, workdir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "elephant_suite",
        "-p",
        "no:cacheprovider",
        "-c",
        str(workdir / "pytest.ini"),
        "--rootdir",
        str(workdir),
        "-q",
        "--pyargs",
        f"elephant.test.{module}",
    ]


def _start(module: str, patched: bool, workdir: Path) -> tuple[subprocess.Popen, Path]:
    record = workdir / f"{'patched' if patched else 'plain'}.json"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS_DIR), env.get("PYTHONPATH")]))
    env[PATCH_VARIABLE] = "1" if patched else "0"
    env[RECORD_VARIABLE] = str(record)
    env.pop("PYTEST_ADDOPTS", None)
    process = subprocess.Popen(
        _command(module, workdir),
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, record


def run_both(module: str, workdir: Path) -> tuple[dict, dict]:
    """Run Elephant's ``module`` plain and patched at once; return both records."""
    (workdir / "pytest.ini").write_text("[pytest]\n")
    runs = [_start(module, patched, workdir) for patched in (False, True)]
    records = []
    for process, record in runs:
        try:
            output, _ = process.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            for other, _ in runs:
                other.kill()
            pytest.fail(f"elephant.test.{module} did not finish within {TIMEOUT_S} s")
        assert record.exists(), f"no record from elephant.test.{module}:\n{output[-3000:]}"
        records.append(json.loads(record.read_text()))
    return records[0], records[1]


def _compat_exists(name: str) -> bool:
    return importlib.util.find_spec(f"elephant_fit.compat.{name}") is not None


@pytest.mark.parametrize(
    "module",
    [
        "test_kernels",
        "test_spike_train_dissimilarity",
        "test_spike_train_correlation",
        "test_statistics",
    ],
)
def test_elephant_suite_passes_on_compat(module, tmp_path):
    plain, patched = run_both(module, tmp_path)
    compat = SUITES[module]
    entry = patched["patching"][compat]
    if _compat_exists(compat):
        assert entry["status"] == "patched", f"compat.{compat}: {entry['status']}"
    else:
        pytest.skip(f"elephant_fit.compat.{compat} does not exist yet")
    plain_outcomes = {f"{module}::{k}": v for k, v in plain["outcomes"].items()}
    patched_outcomes = {f"{module}::{k}": v for k, v in patched["outcomes"].items()}
    print(f"\nelephant.test.{module}: plain: {counts(plain_outcomes)}")
    print(
        f"elephant.test.{module}: patched ({len(entry['patched'])} names): {counts(patched_outcomes)}"
    )
    for name in sorted(n for n, o in plain_outcomes.items() if o == "failed"):
        print(f"  fails plain too (not asserted): {name}")
    lost = regressions(plain_outcomes, patched_outcomes)
    unexplained = [name for name in lost if name not in DIVERGENCES]
    for name in lost:
        print(f"  {'divergence' if name in DIVERGENCES else 'REGRESSION'}: {name}")
    assert not unexplained, f"Elephant tests that pass plain but fail on our twins: {unexplained}"
    stale = [
        name
        for name in DIVERGENCES
        if name.startswith(f"{module}::") and patched_outcomes.get(name) == "passed"
    ]
    assert not stale, f"documented divergences that now pass (remove them): {stale}"


# --------------------------------------------------------------------------------------------
# The machinery itself
# --------------------------------------------------------------------------------------------


def test_regressions_are_detected():
    plain = {"a": "passed", "b": "passed", "c": "failed", "d": "skipped", "e": "passed"}
    patched = {"a": "passed", "b": "failed", "c": "failed", "d": "passed"}
    assert regressions(plain, patched) == ["b", "e"]
    assert counts(plain) == "3 passed, 1 skipped, 1 failed"


def test_patching_skips_missing_modules_and_records_names(monkeypatch):
    import elephant.spike_train_dissimilarity as eds

    import elephant_fit.compat.spike_train_dissimilarity as cds

    monkeypatch.setattr(eds, "van_rossum_distance", eds.van_rossum_distance)
    monkeypatch.setattr(eds, "victor_purpura_distance", eds.victor_purpura_distance)
    pairs = {"spike_train_dissimilarity": MODULE_PAIRS["spike_train_dissimilarity"]}
    monkeypatch.setattr(
        "elephant_suite.MODULE_PAIRS", {**pairs, "no_such_module_yet": "statistics"}
    )
    record = patch_elephant()
    assert record["no_such_module_yet"]["status"] == "missing"
    assert record["spike_train_dissimilarity"]["patched"] == [
        "van_rossum_distance",
        "victor_purpura_distance",
    ]
    assert eds.van_rossum_distance is cds.van_rossum_distance


def test_node_names_drop_the_file_part():
    assert node_name("::Case::test_x") == "Case::test_x"
    assert node_name("elephant/test/test_kernels.py::Case::test_x[1]") == "Case::test_x[1]"
