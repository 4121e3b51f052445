"""The elephant-fit command line: --version and --help."""

from __future__ import annotations

import subprocess
import sys

import pytest

import elephant_fit
from elephant_fit.cli.commands import main


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


# ------------------------------------------------------------------ fit -> simulate -> report
import importlib.util  # noqa: E402
import json  # noqa: E402
import warnings  # noqa: E402

import neo  # noqa: E402
import numpy as np  # noqa: E402
import quantities as pq  # noqa: E402
import torch  # noqa: E402
from helpers import one_error as _one_error  # noqa: E402
from helpers import small_spikedata as _data  # noqa: E402

from elephant_fit import SpikeData, from_neo, to_neo  # noqa: E402
from elephant_fit.cli.commands import parse_bin_size, parse_loss  # noqa: E402
from elephant_fit.data.files import read_block, write_block  # noqa: E402
from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata  # noqa: E402


@pytest.fixture(scope="module")
def recording_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recording")
    truth = hidden_input_network(n_recorded=5, n_hidden=3, n_bins=40, seed=2)
    block = to_neo(sample_spikedata(truth, 12, 10 * pq.ms, seed=3).recorded())
    files = {}
    for suffix in ("pkl", "nix", "nwb"):
        if suffix == "nwb" and importlib.util.find_spec("pynwb") is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NWB drops annotations (tested in test_files)
            files[suffix] = write_block(block, folder / f"rec.{suffix}")
    return files


@pytest.mark.parametrize("suffix", ["pkl", "nix", "nwb"])
def test_fit_simulate_report_from_the_command_line(recording_files, tmp_path, capsys, suffix):
    if suffix not in recording_files:
        pytest.skip("pynwb is not installed")
    source = str(recording_files[suffix])
    model = tmp_path / "model.pt"
    code = main(
        [
            "fit",
            source,
            "--bin-size",
            "10ms",
            "--max-iterations",
            "5",
            "--lags",
            "3",
            "--drive-basis",
            "8",
            "--penalty",
            "l1:1e-3",
            "--penalty-pairs",
            "recorded",
            "--quiet",
            "--out",
            str(model),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "fitted 5 units x 40 bins" in out
    assert "bits/spike" in out
    params = torch.load(model, weights_only=True)["params"]
    assert (params["n_lags"], params["n_drive_basis"]) == (3, 8)
    assert (params["penalty"], params["penalty_pairs"]) == ("l1", "recorded")
    simulated = tmp_path / f"sim.{suffix}"
    assert (
        main(["simulate", str(model), "--trials", "4", "--seed", "1", "--out", str(simulated)]) == 0
    )
    data = from_neo(simulated, 10 * pq.ms)
    assert data.counts.shape == (4, 40, 5)
    report = tmp_path / "report"
    assert main(["report", str(model), source, "--out", str(report)]) == 0
    table = json.loads((report / "report.json").read_text())["model vs data"]
    assert {
        "PSTH R2",
        "NC R2 (10 ms)",
        "NC r (50 ms)",
        "mean-rate error (Hz)",
        "bits/spike",
    } <= set(table)
    assert "| PSTH R2 |" in (report / "report.md").read_text()
    for figure in ("rasters.png", "psth.png", "noise_correlations.png", "coupling.png"):
        assert (report / figure).stat().st_size > 1000
    assert "coupling.png" in capsys.readouterr().out


def test_parsers():
    assert parse_bin_size("20ms") == 20 * pq.ms
    assert parse_bin_size("0.5 s") == 0.5 * pq.s
    assert parse_loss("sm") == "sm"
    assert parse_loss("nll=0.4,psth=0.1,noise_covariance=50") == {
        "nll": 0.4,
        "psth": 0.1,
        "noise_covariance": 50.0,
    }
    assert parse_loss("nll=1,trial_matching=0.5") == {"nll": 1.0, "trial_matching": 0.5}
    assert parse_loss("nll_posterior=1,psth=2") == {"nll_posterior": 1.0, "psth": 2.0}


def one_trial_file(tmp_path):
    segment = neo.Segment()
    segment.spiketrains.append(neo.SpikeTrain([0.1, 0.2], t_stop=1.0, units="s"))
    block = neo.Block()
    block.segments.append(segment)
    return write_block(block, tmp_path / "one.pkl")


def foreign_model(tmp_path):
    path = tmp_path / "old.pt"
    torch.save({"format": "elephant-fit-model", "version": "99.0.0"}, path)
    return path


ERRORS = [
    ("missing file", lambda tmp: ["fit", str(tmp / "nope.nix")], "no such file"),
    (
        "unreadable format",
        lambda tmp: ["fit", str((tmp / "x.xyz123").write_text("x") and tmp / "x.xyz123")],
        "no reader",
    ),
    ("one trial", lambda tmp: ["fit", str(one_trial_file(tmp))], "at least 2 trials"),
    ("bad bin size", lambda tmp: ["fit", "retina", "--bin-size", "20 parsecs"], "--bin-size"),
    ("bad loss", lambda tmp: ["fit", "retina", "--loss", "nll=abc"], "--loss"),
    ("unknown loss term", lambda tmp: ["fit", "retina", "--loss", "psth2=1"], "psth2"),
    ("no lags", lambda tmp: ["fit", "retina", "--lags", "0"], "n_lags"),
    ("negative hidden", lambda tmp: ["fit", "retina", "--hidden", "-1"], "n_hidden"),
    (
        "model from another version",
        lambda tmp: [
            "simulate",
            str(foreign_model(tmp)),
            "--trials",
            "2",
            "--out",
            str(tmp / "s.pkl"),
        ],
        "99.0.0",
    ),
]


@pytest.mark.parametrize(("label", "argv", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_print_one_line_and_exit_2(tmp_path, capsys, label, argv, message):
    assert main(argv(tmp_path)) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert all(line.startswith("elephant-fit") for line in lines)  # warnings: one line each
    errors = [line for line in lines if ": error: " in line]
    assert len(errors) == 1
    assert message in errors[0]


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_one_line(capsys):
    assert main(["fit", "retina", "--device", "cuda", "--max-iterations", "1"]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("elephant-fit fit: error: `device` is 'cuda'")
    assert "no CUDA device" in last


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(FileNotFoundError):
        main(["--debug", "fit", str(tmp_path / "nope.nix")])


def test_warnings_are_one_line_on_stderr(monkeypatch, capsys):
    import elephant_fit.cli.commands as cli

    def warn(args):
        warnings.warn("something to know", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(cli, "_cmd_simulate", warn)
    assert main(["simulate", "m.pt", "--trials", "1", "--out", "x.pkl"]) == 0
    assert capsys.readouterr().err == "elephant-fit: warning: something to know\n"


def test_loop_option_runs_the_command_under_that_loop(monkeypatch, capsys):
    import elephant_fit.cli.commands as cli
    from elephant_fit.network.loops import get_loop

    seen = []

    def record(args):
        seen.append(get_loop())
        return 0

    monkeypatch.setattr(cli, "_cmd_simulate", record)
    monkeypatch.delenv("ELEPHANT_FIT_LOOP", raising=False)
    argv = ["simulate", "m.pt", "--trials", "1", "--out", "x.pkl"]
    assert main(["--loop", "torch", *argv]) == 0
    assert main(argv) == 0
    assert seen == ["torch", "auto"]
    with pytest.raises(SystemExit) as exit_info:
        main(["--loop", "fast", *argv])
    assert exit_info.value.code == 2
    assert "--loop: invalid choice: 'fast'" in capsys.readouterr().err


def test_parse_penalty():
    from elephant_fit.cli.commands import UsageError, parse_penalty

    assert parse_penalty("l1:1e-3") == ("l1", 1e-3)
    assert parse_penalty(None) == (None, 0.0)
    for bad in ("l3:1", "l1", "l1:x", "l2:-1"):
        with pytest.raises(UsageError, match="--penalty"):
            parse_penalty(bad)


def test_trust_pickle_is_an_explicit_opt_in(recording_files, tmp_path, capsys):
    import fractions

    from elephant_fit import read_block

    block = read_block(recording_files["pkl"])
    block.annotate(ratio=fractions.Fraction(1, 3))  # a class outside the pickle allow-list
    path = tmp_path / "trusted.pkl"
    neo.io.PickleIO(str(path)).write_block(block)
    argv = ["fit", str(path), "--max-iterations", "20", "--lags", "2", "--drive-basis", "4"]
    argv += ["--quiet", "--out", str(tmp_path / "m.pt")]
    assert main(argv) == 2
    assert "fractions.Fraction" in capsys.readouterr().err
    assert main([*argv, "--trust-pickle"]) == 0
    assert (tmp_path / "m.pt").exists()


def test_a_diverged_fit_is_saved_with_a_warning_and_exit_3(
    recording_files, tmp_path, capsys, monkeypatch
):
    from elephant_fit.fitting.losses import NegativeLogLikelihood

    likelihood = NegativeLogLikelihood.__call__
    calls = []

    def diverging(self, model, batch):  # finite for the initial evaluation and one step
        calls.append(1)
        value = likelihood(self, model, batch)
        return value if len(calls) <= 2 else value * float("nan")

    monkeypatch.setattr(NegativeLogLikelihood, "__call__", diverging)
    out = tmp_path / "diverged.pt"
    argv = ["fit", str(recording_files["pkl"]), "--lags", "2", "--drive-basis", "4", "--quiet"]
    assert main([*argv, "--max-iterations", "5", "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "the fit failed" in err
    assert "for inspection only" in err
    assert out.exists()  # the initial (last good) parameters, kept for inspection


def test_a_fit_that_never_beats_its_initial_parameters_exits_0_with_one_line(tmp_path, capsys):
    # a homogeneous Poisson population: the initial biases (the mean rates) are already the best
    from elephant_fit import load_model

    rng = np.random.default_rng(0)
    block = neo.Block()
    for _ in range(40):
        segment = neo.Segment()
        for j in range(8):
            times = np.sort(rng.uniform(0, 1, rng.poisson(5)))
            segment.spiketrains.append(neo.SpikeTrain(times * pq.s, t_stop=1 * pq.s, name=f"u{j}"))
        block.segments.append(segment)
    recording = write_block(block, tmp_path / "flat.pkl")
    out = tmp_path / "flat.pt"
    argv = ["fit", str(recording), "--bin-size", "10ms", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert "No iteration improved the validation loss of the initial parameters" in lines[0]
    assert load_model(out).history_.best_iteration == 0  # a normal model file, initial parameters


def test_report_with_a_recording_of_another_length_is_one_line(files, tmp_path, capsys):
    argv = ["report", str(files["model"]), str(files["short"]), "--out", str(tmp_path / "r")]
    assert main(argv) == 2
    _one_error(capsys, "30 bins", "20 bins", "4 units")
    assert not (tmp_path / "r").exists()


def test_report_warns_when_the_unit_ids_differ(files, tmp_path, capsys):
    data = _data()
    renamed = SpikeData(data.counts, data.bin_size, unit_ids=["a", "b", "c", "d"])
    recording = write_block(to_neo(renamed), tmp_path / "renamed.pkl")
    argv = ["report", str(files["model"]), str(recording), "--out", str(tmp_path / "r")]
    assert main([*argv, "--no-figures", "--simulated-trials", "4"]) == 0
    err = capsys.readouterr().err
    assert "elephant-fit: warning:" in err
    model_ids = list(files["fitter"].unit_ids_)
    assert f"unit ids ['a', 'b', 'c', 'd'] differ from the model's {model_ids}" in err


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (MemoryError(), 1, "out of memory"),
        ("numpy", 1, "Unable to allocate"),
        (RuntimeError("CUDA error: an illegal memory access\nmore lines"), 1, "RuntimeError: CUDA"),
        (KeyError("surprise"), 1, "KeyError"),
        (ValueError("bad value\nsecond line"), 2, "bad value"),
    ],
    ids=["MemoryError", "numpy MemoryError", "RuntimeError", "KeyError", "ValueError"],
)
def test_unexpected_errors_are_one_line(monkeypatch, capsys, error, code, message):
    import elephant_fit.cli.commands as cli

    def fail(args):
        if error == "numpy":
            np.empty(10**15)  # numpy's MemoryError, raised before allocating
        raise error

    monkeypatch.setattr(cli, "_cmd_simulate", fail)
    argv = ["simulate", "m.pt", "--trials", "1", "--out", "x.pkl"]
    assert main(argv) == code
    line = _one_error(capsys, message)
    assert ("--debug" in line) == (code == 1)
    with pytest.raises(MemoryError if error == "numpy" else type(error)):
        main(["--debug", *argv])


def test_seeds_are_checked_by_the_command_line(files, tmp_path, capsys):
    assert main(["fit", str(files["recording"]), "--seed", "-1", "--out", str(tmp_path / "m")]) == 2
    _one_error(capsys, "--seed", "-1")
    argv = ["simulate", str(files["model"]), "--trials", "1", "--seed", "-2", "--out", "x.pkl"]
    assert main(argv) == 2
    _one_error(capsys, "--seed")


def test_a_session_file_is_inspected_cut_fitted_and_reported(tmp_path, capsys):
    from elephant_fit import load_model
    from elephant_fit.network.sessions import synthetic_session

    session = write_block(synthetic_session(60).block, tmp_path / "session.pkl")
    assert main(["inspect", str(session)]) == 0
    listing = capsys.readouterr().out
    assert "Event 'stim_on': 60 events, labels grating_0 (30), grating_90 (30)" in listing
    assert "AnalogSignal 'running_speed': 1 channel(s), 1000 Hz" in listing
    cut = ["--trials", "stim_on", "--window", "-200ms,1s", "--condition", "labels"]
    cut += ["--covariate", "running_speed"]
    model = tmp_path / "m.pt"
    argv = ["fit", str(session), *cut, "--covariate-lags", "3", "--max-iterations", "30"]
    assert main([*argv, "--quiet", "--lags", "2", "--out", str(model)]) == 0
    assert "fitted 12 units x 120 bins" in capsys.readouterr().out
    fitter = load_model(model)
    assert fitter.trained_on_.condition_labels == ("grating_0", "grating_90")
    assert fitter.trained_on_.covariate_names == ("running_speed",)
    report = [
        "report",
        str(model),
        str(session),
        *cut,
        "--no-figures",
        "--out",
        str(tmp_path / "r"),
    ]
    assert main([*report, "--simulated-trials", "20"]) == 0
    assert "PSTH R2" in capsys.readouterr().out
    simulate = ["simulate", str(model), "--trials", "2", "--condition", "grating_0"]
    assert main([*simulate, "--out", str(tmp_path / "s.pkl")]) == 2  # needs the covariates
    assert "fitted with covariates ['running_speed']" in capsys.readouterr().err
    like = ["--like", str(session), "--like-trials", "stim_on", "--like-window", "-200ms,1s"]
    like += ["--like-condition", "labels", "--like-covariate", "running_speed"]
    simulated = tmp_path / "s.pkl"
    assert main(["simulate", str(model), "--trials", "5", *like, "--out", str(simulated)]) == 0
    block = read_block(simulated)
    labels = [segment.annotations["condition"] for segment in block.segments]
    assert labels == ["grating_0", "grating_90", "grating_0", "grating_90", "grating_0"]
    speed = [segment.analogsignals[0].name for segment in block.segments]
    assert speed == ["running_speed"] * 5  # each trial's own covariate, written with it


def test_the_place_cell_is_fitted_with_a_position_tuning_and_reported(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from elephant_fit import load_model

    model = tmp_path / "m.pt"
    read = ["--bin-size", "50ms", "--window", "5s", "--covariate", "position"]
    tuning = ["--covariate-kind", "tuning", "--covariate-basis", "6", "--drive", "none"]
    argv = ["fit", "place-cell", *read, *tuning, "--lags", "2", "--max-iterations", "20"]
    assert main([*argv, "--quiet", "--out", str(model)]) == 0
    capsys.readouterr()
    spec = load_model(model).trained_on_.covariate_spec
    assert spec.kinds == ("tuning",)
    assert spec.n_tuning == 6
    report = ["report", str(model), "place-cell", *read[2:], "--simulated-trials", "10"]
    assert main([*report, "--out", str(tmp_path / "r")]) == 0
    assert "tuning.png" in capsys.readouterr().out
    assert (tmp_path / "r" / "tuning.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--covariate-kind", "tuning"], "need --covariate NAME"),
        (["--covariate", "position", *["--covariate-kind", "tuning"] * 2], "one kind for all"),
        (["--covariate", "position", "--covariate-basis", "0"], "expected a positive number"),
        (
            ["--covariate", "position", "--covariate-kind", "tuning", "--covariate-basis", "3"],
            "at least 4 (cubic) B-splines",
        ),
    ],
)
def test_bad_covariate_options_fail_in_one_line(tmp_path, capsys, options, expected):
    argv = ["fit", "place-cell", "--window", "5s", *options, "--out", str(tmp_path / "m.pt")]
    assert main(argv) == 2
    assert expected in capsys.readouterr().err


def test_inspect_lists_a_bundled_session_and_names_a_missing_file(tmp_path, capsys):
    assert main(["inspect", "reaching"]) == 0
    assert "Event 'go': 50 events, labels left (25), right (25)" in capsys.readouterr().out
    assert main(["inspect", str(tmp_path / "none.nix")]) == 2
    assert "no such file (nor a bundled dataset" in capsys.readouterr().err


def test_a_single_segment_without_trial_options_says_how_to_cut_it(tmp_path, capsys):
    from elephant_fit.network.sessions import synthetic_session

    session = write_block(synthetic_session(4).block, tmp_path / "session.pkl")
    assert main(["fit", str(session), "--out", str(tmp_path / "m.pt")]) == 2
    err = capsys.readouterr().err
    assert "--trials NAME --window START,STOP" in err
    assert "elephant-fit inspect" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [("-200ms,1s", (-0.2, 1.0)), ("2s", 2.0), (" 0.5 s , 1500ms ", (0.5, 1.5))],
)
def test_parse_window(text, expected):
    from elephant_fit.cli.commands import parse_window

    window = parse_window(text)
    if isinstance(expected, tuple):
        assert [float(t.rescale("s").magnitude) for t in window] == pytest.approx(list(expected))
    else:
        assert float(window.rescale("s").magnitude) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["1s,-1s", "0s", "abc", "1s,2s,3s"])
def test_parse_window_refuses_bad_windows(text):
    from elephant_fit.cli.commands import UsageError, parse_window

    with pytest.raises(UsageError, match="--window"):
        parse_window(text)
