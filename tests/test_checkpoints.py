"""Checkpoints (fitting/checkpoints.py): interrupted fits resume bit for bit, signals are caught
only while a fit with a checkpoint runs (and an ignored signal stays ignored), a checkpoint of
other settings is refused.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import quantities as pq
import torch

from elephant_fit import (
    NetworkFitter,
)
from elephant_fit.cli.commands import main
from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata


class _SignalAt:
    """A zero loss term that sends SIGINT to this process at one training call."""

    needs = frozenset({"teacher"})

    def __init__(self, at):
        self.calls, self.at = 0, at

    def __call__(self, model, batch):
        import signal

        self.calls += 1
        if self.calls == self.at:
            os.kill(os.getpid(), signal.SIGINT)
        return model.bias.sum() * 0.0


def _fit_with(term, tmp_path, resume=False):

    truth = hidden_input_network(n_recorded=6, n_hidden=3, n_bins=40, seed=0)
    data = sample_spikedata(truth, 150, 10 * pq.ms, seed=1).recorded()
    fitter = NetworkFitter(
        n_hidden=2,
        n_lags=2,
        loss={"nll": 1.0, "psth": 1.0, "signal": (1.0, term)},
        max_iterations=230,
        eval_every=10,
        patience=None,
        progress=False,
    )
    return fitter.fit(data, checkpoint=tmp_path / "fit.ckpt", resume=resume)


@pytest.fixture
def sigint_handled():
    """SIGINT handled as in a terminal for the test, whatever this process inherited.

    A process started in the background by a non-interactive shell (``pytest ... &`` in a script,
    some CI runners) inherits SIGINT *ignored*; the fit then, by design, leaves it ignored, and a
    test that interrupts itself with SIGINT could never see ``FitInterrupted``.
    """
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _default_signals():
    """In a child process: SIGINT and SIGTERM back to their default actions (not inherited)."""
    import signal

    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)


def test_an_interrupted_fit_resumes_bit_identically(tmp_path, sigint_handled):
    from elephant_fit.errors import FitInterrupted

    (tmp_path / "ref").mkdir()
    reference = _fit_with(_SignalAt(at=-1), tmp_path / "ref")  # never interrupted
    (tmp_path / "run").mkdir()
    with pytest.raises(FitInterrupted, match=r"SIGINT at iteration \d+: the fit state is saved"):
        _fit_with(_SignalAt(at=150), tmp_path / "run")  # calls: 1 initial evaluation, then steps
    resumed = _fit_with(_SignalAt(at=-1), tmp_path / "run", resume=True)
    assert reference.history_.best_iteration > 150  # the kept parameters come after the resume
    for name, value in reference.model_.state_dict().items():
        assert torch.equal(resumed.model_.state_dict()[name], value), name
    assert resumed.history_.train == reference.history_.train
    assert resumed.history_.validation == reference.history_.validation


def test_an_ignored_sigint_stays_ignored_and_the_fit_runs_to_the_end(tmp_path):
    # the cause of a once-flaky resume test: `pytest &` from a script inherits SIGINT ignored
    import signal

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        term = _SignalAt(at=150)
        fitter = _fit_with(term, tmp_path)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
    assert term.calls > 150  # the signal was sent, and ignored
    assert len(fitter.history_.train) == 230


@pytest.mark.filterwarnings("ignore:No iteration improved")
def test_resume_refuses_a_checkpoint_of_other_settings(tmp_path):

    truth = hidden_input_network(n_recorded=4, n_hidden=2, n_bins=20, seed=0)
    data = sample_spikedata(truth, 12, 10 * pq.ms, seed=1).recorded()
    path = tmp_path / "fit.ckpt"
    NetworkFitter(n_lags=2, max_iterations=100, patience=None, progress=False).fit(
        data, checkpoint=path
    )
    assert path.exists()
    with pytest.raises(ValueError, match="other data, loss, model or settings"):
        NetworkFitter(n_lags=3, max_iterations=100, progress=False).fit(
            data, checkpoint=path, resume=True
        )
    with pytest.raises(ValueError, match="needs an existing `checkpoint`"):
        NetworkFitter(n_lags=2, progress=False).fit(data, checkpoint=tmp_path / "no", resume=True)


@pytest.mark.parametrize(
    "name",
    ["SIGINT", pytest.param("SIGTERM", marks=pytest.mark.slow)],  # one handler for both
)
def test_ctrl_c_on_the_command_line_saves_the_checkpoint_and_prints_one_line(tmp_path, name):
    import signal

    script = Path(sys.executable).parent / "elephant-fit"
    checkpoint = tmp_path / "fit.ckpt"
    argv = [str(script), "fit", "retina", "--bin-size", "20ms", "--lags", "2", "--quiet"]
    argv += ["--max-iterations", "100000", "--patience", "0", "--out", str(tmp_path / "m.pt")]
    argv += ["--checkpoint", str(checkpoint)]
    process = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, preexec_fn=_default_signals)
    try:
        deadline = time.monotonic() + 120
        while not checkpoint.exists() and time.monotonic() < deadline:  # first save: 100 iterations
            time.sleep(0.2)
        process.send_signal(getattr(signal, name))
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()  # never leave a 100000-iteration fit behind
    assert process.returncode == 128 + getattr(signal, name)
    lines = [line for line in err.strip().splitlines() if "warning" not in line]
    assert lines == [lines[0]]
    assert f"interrupted: {name} at iteration" in lines[0]
    assert str(checkpoint) in lines[0]
    assert "Traceback" not in err


@pytest.mark.filterwarnings("ignore:No iteration improved")
def test_a_resumed_fit_may_run_longer_and_show_progress(tmp_path):

    truth = hidden_input_network(n_recorded=4, n_hidden=2, n_bins=20, seed=0)
    data = sample_spikedata(truth, 12, 10 * pq.ms, seed=1).recorded()
    path = tmp_path / "fit.ckpt"
    options = {"n_lags": 2, "patience": None}
    NetworkFitter(max_iterations=100, progress=False, **options).fit(data, checkpoint=path)
    longer = NetworkFitter(max_iterations=120, progress=True, **options)
    longer.fit(data, checkpoint=path, resume=True)
    assert len(longer.history_.train) == 120


def test_a_checkpoint_resumes_in_another_process_and_is_checked_up_front(files, tmp_path):
    checkpoint, out = tmp_path / "fit.ckpt", tmp_path / "m.pt"
    recording = str(files["recording"])  # small: the test is about the fingerprint, not the fit
    argv = [sys.executable, "-m", "elephant_fit.cli", "fit", recording, "--bin-size", "10ms"]
    argv += ["--lags", "2", "--hidden", "2", "--loss", "sm", "--quiet", "--patience", "0"]
    argv += ["--out", str(out), "--checkpoint", str(checkpoint)]
    first = subprocess.run([*argv, "--max-iterations", "100"], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert checkpoint.exists()
    resumed = subprocess.run(
        [*argv, "--max-iterations", "110", "--resume"], capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr  # same fingerprint in a new process


def test_a_checkpoint_at_the_output_path_is_refused(files, tmp_path, capsys):
    out = str(tmp_path / "m.pt")
    argv = ["fit", str(files["recording"]), "--bin-size", "10ms", "--lags", "2", "--quiet"]
    assert main([*argv, "--out", out, "--checkpoint", out, "--max-iterations", "5"]) == 2
    stderr = capsys.readouterr().err
    assert "--out" in stderr or "checkpoint" in stderr or "same file" in stderr
