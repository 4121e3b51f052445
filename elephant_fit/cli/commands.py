"""The ``elephant-fit`` command line: ``inspect``, ``fit``, ``simulate``, ``report`` and ``demo``.

Errors a user can cause (a missing file, an unreadable format, a malformed option, a model file from
another version, a bad ``--out``) print one line and exit with code 2; other failures (out of
memory, a torch RuntimeError, any unexpected exception) print one line and exit with code 1; a
fit whose loss becomes non-finite saves the last good parameters with a warning and exits with
code 3 (a fit in which no iteration beats the initial parameters, every loss finite, says so in
one line, keeps them, saves a normal model and exits 0). ``--debug`` shows the traceback. ``--out`` is checked before anything is loaded or fitted: it may not
name an input, and its folder must exist (``fit``, ``simulate``) and be writable.

Under ``torchrun`` (several processes), ``fit`` and ``simulate`` share their trials across the
ranks (:mod:`elephant_fit.distributed`; ``--backend``), ``report`` runs on rank 0, and rank 0
alone writes files and prints.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import quantities as pq

from .._validation import check_seed
from ..distributed import is_main_process, launched_by_torchrun, local, process_group
from ..errors import (
    ArgumentValueError,
    ElephantFitError,
    FitInterrupted,
    NonFiniteLossError,
)
from ..network.loops import use_loop
from ._output import check_output_file, check_output_folder
from .parser import DATASETS, build_parser

if TYPE_CHECKING:  # imported lazily at run time: `elephant-fit --help` stays fast
    import neo

    from ..data.spikedata import SpikeData
    from ..fitting.fitter import NetworkFitter
    from ..network.covariates import CovariateSpec

__all__ = ["build_parser", "main", "parse_bin_size", "parse_loss", "parse_penalty", "parse_window"]

_TIME_UNITS = {"us": pq.us, "ms": pq.ms, "s": pq.s}
#: Files that ``report`` writes into its --out folder.
REPORT_FILES = (
    "report.md",
    "report.json",
    "rasters.png",
    "psth.png",
    "noise_correlations.png",
    "coupling.png",
    "tuning.png",
)


class UsageError(ArgumentValueError):
    """A malformed command-line value."""


def parse_bin_size(text: str) -> pq.Quantity:
    """Parse a bin size such as '20ms', '0.02 s' or '500us' into a time quantity.

    Parameters
    ----------
    text : str
        Number and unit (us, ms or s).

    Returns
    -------
    pq.Quantity
        The bin size.
    """
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(us|ms|s)\s*", text)
    if match is None or float(match.group(1)) <= 0:
        raise UsageError(
            f"--bin-size: expected a positive duration such as 20ms or 0.02s, got {text!r}"
        )
    return float(match.group(1)) * _TIME_UNITS[match.group(2)]


def parse_loss(text: str) -> str | dict[str, float]:
    """Parse ``--loss``: a preset (mle, sm, paper) or weights such as 'nll=0.4,psth=0.1'.

    Parameters
    ----------
    text : str
        The option's value.

    Returns
    -------
    str or dict
        The preset name or the weights.
    """
    from ..fitting.losses import PRESETS, make_loss

    if text in PRESETS:
        return text
    weights: dict[str, float] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise UsageError(
                f"--loss: expected one of {sorted(PRESETS)} or weights like nll=0.4,psth=0.1, got {text!r}"
            )
    try:
        make_loss(weights)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--loss: {exc}") from exc
    return weights


_MEMORY_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1e3,
    "mb": 1e6,
    "gb": 1e9,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
}


def parse_memory(text: str | None) -> float | None:
    """Parse ``--max-memory``: bytes with an optional unit, e.g. '8GiB', '500MB', '2e9'.

    Parameters
    ----------
    text : str or None
        The option's value.

    Returns
    -------
    float or None
        Bytes (None: the default limit).
    """
    if text is None:
        return None
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([A-Za-z]*)\s*", text)
    unit = "" if match is None else match.group(2).lower()
    if match is None or unit not in _MEMORY_UNITS or float(match.group(1)) <= 0:
        raise UsageError(f"--max-memory: expected a size such as 8GiB or 500MB, got {text!r}")
    return float(match.group(1)) * _MEMORY_UNITS[unit]


def parse_penalty(text: str | None) -> tuple[str | None, float]:
    """Parse ``--penalty``: 'l1:1e-3' or 'l2:0.01' (norm and strength), or None.

    Parameters
    ----------
    text : str or None
        The option's value.

    Returns
    -------
    penalty, strength : str or None, float
        The norm ('l1' or 'l2') and the weight of the penalty in the loss.
    """
    if text is None:
        return None, 0.0
    name, sep, value = text.partition(":")
    try:
        strength = float(value)
    except ValueError:
        sep = ""
    from ..fitting.losses import PENALTIES

    if name not in PENALTIES or not sep or not (0 <= strength < float("inf")):
        raise UsageError(
            f"--penalty: expected l1:STRENGTH or l2:STRENGTH with a non-negative strength, got {text!r}"
        )
    return name, strength


def _input_files(*sources: str) -> list[str]:
    """The sources that name files (not bundled datasets): the files --out may not replace."""
    return [source for source in sources if source not in DATASETS]


def _check_seed(value: int | None, allow_none: bool = False) -> int | None:
    """``--seed``: a non-negative integer (None where the command draws a fresh seed)."""
    try:
        return check_seed(value, "--seed", allow_none=allow_none)
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None


def parse_window(text: str | None) -> tuple[pq.Quantity, pq.Quantity] | pq.Quantity | None:
    """Parse ``--window``: 'START,STOP' around events (e.g. '-200ms,1s') or one LENGTH ('2s').

    Parameters
    ----------
    text : str or None
        The option's value.

    Returns
    -------
    (pq.Quantity, pq.Quantity), pq.Quantity or None
        The window around each event, or the length of consecutive windows.
    """
    if text is None:
        return None
    parts = [part.strip() for part in text.split(",")]
    number = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(us|ms|s)"
    matches = [re.fullmatch(number, part) for part in parts]
    if len(parts) not in (1, 2) or any(match is None for match in matches):
        raise UsageError(
            f"--window: expected START,STOP such as -200ms,1s or a length such as 2s, got {text!r}"
        )
    times = [float(m.group(1)) * _TIME_UNITS[m.group(2)] for m in matches]
    if len(times) == 1:
        if times[0] <= 0:
            raise UsageError(f"--window: a length must be positive, got {text!r}")
        return times[0]
    if times[1] <= times[0]:
        raise UsageError(f"--window: STOP must come after START, got {text!r}")
    return times[0], times[1]


def _trial_options(args: argparse.Namespace) -> dict[str, Any]:
    """``from_neo``'s keywords of the session options (--trials, --window, ...)."""
    options: dict[str, Any] = {}
    if args.trials is not None:
        options["trials"] = args.trials
    window = parse_window(args.window)
    if window is not None:
        options["window"] = window
    if args.condition is not None:
        options["condition"] = args.condition
    if args.covariate:
        options["covariates"] = list(args.covariate)
    if args.drop:
        options["drop"] = [part.strip() for part in args.drop.split(",")]
    return options


def _covariate_spec(args: argparse.Namespace) -> CovariateSpec | None:
    """The CovariateSpec of --covariate-kind / --covariate-basis (None: free-lag history filters)."""
    from ..network.covariates import CovariateSpec

    kinds, n_basis = args.covariate_kind, args.covariate_basis
    if kinds is None and n_basis is None:
        return None
    names = args.covariate or []
    if not names:
        raise UsageError("--covariate-kind and --covariate-basis need --covariate NAME")
    kinds = kinds or ["history"]
    if len(kinds) == 1:
        kinds = kinds * len(names)
    if len(kinds) != len(names):
        raise UsageError(
            f"--covariate-kind: give one kind for all covariates or one per --covariate "
            f"({len(names)}: {', '.join(names)}), got {len(kinds)}"
        )
    if n_basis is not None and n_basis < 1:
        raise UsageError(f"--covariate-basis: expected a positive number, got {n_basis}")
    if n_basis is not None and "tuning" in kinds and n_basis < 4:
        raise UsageError(
            f"--covariate-basis: a tuning needs at least 4 (cubic) B-splines, got {n_basis}"
        )
    history = {"basis": "raised_cosine", "n_basis": n_basis} if n_basis else {}
    tuning = {"n_tuning": n_basis} if n_basis else {}
    if "history" not in kinds:
        history = {}
    if "tuning" not in kinds:
        tuning = {}
    return CovariateSpec(tuple(kinds), n_lags=args.covariate_lags, **history, **tuning)


def _read_source(source: str, trust_pickle: bool = False) -> neo.Block:
    """The Block of a file neo.io reads (pickles with the allow-list), or of a bundled dataset."""
    from ..data import datasets
    from ..data.files import read_block

    if source == "place-cell":
        return datasets.load_place_cell()
    if source == "reaching":
        return datasets.load_reaching_unit()
    if source in DATASETS:
        return datasets.load_retina(2 if source == "retina2" else 1)
    if not Path(source).exists():
        raise FileNotFoundError(
            f"{source}: no such file (nor a bundled dataset: {', '.join(DATASETS)})"
        )
    return read_block(source, trust_pickle=trust_pickle)


def _load_input(
    source: str,
    bin_size: pq.Quantity,
    binary: bool,
    trust_pickle: bool = False,
    max_memory: float | None = None,
    options: dict[str, Any] | None = None,
) -> SpikeData:
    """SpikeData from a file neo.io reads (pickles with the allow-list), or a bundled dataset."""
    from ..data.neo_in import from_neo

    obj = _read_source(source, trust_pickle)
    data = from_neo(obj, bin_size, binary=binary, max_memory=max_memory, **(options or {}))
    if data.n_trials < 2:
        raise UsageError(
            f"{source}: needs at least 2 trials (one Segment per trial, or --trials NAME --window "
            f"START,STOP to cut a session; `elephant-fit inspect {source}` lists what it holds), "
            f"found {data.n_trials}"
        )
    return data


def _summary(fitter: NetworkFitter, test: SpikeData) -> dict[str, float]:
    """Held-out figures of a fitted model: the row ``report`` and ``demo`` print."""
    from ..data.neo_out import to_neo
    from ..evaluation.report import block_statistics, model_row, n_simulated_trials

    data_statistics = block_statistics(to_neo(test), fitter.bin_size_)
    n_trials = n_simulated_trials(test.n_trials)
    row, _, _ = model_row(fitter, test, data_statistics, n_trials, seed=fitter.seed + 1)
    return row


def _cmd_fit(args: argparse.Namespace) -> int:
    from ..fitting.fitter import NetworkFitter

    bin_size = parse_bin_size(args.bin_size)
    loss = parse_loss(args.loss)
    penalty, strength = parse_penalty(args.penalty)
    _check_seed(args.seed)
    check_output_file(args.out, _input_files(args.input))
    if args.checkpoint is not None:  # written during the fit: never an input nor --out
        check_output_file(args.checkpoint, [*_input_files(args.input), args.out])
    max_memory = parse_memory(args.max_memory)
    data = _load_input(
        args.input,
        bin_size,
        binary=True,
        trust_pickle=args.trust_pickle,
        max_memory=max_memory,
        options=_trial_options(args),
    )
    train, test = data.split(args.test_fraction, seed=args.seed)
    fitter = NetworkFitter(
        n_hidden=args.hidden,
        bin_size=bin_size,
        n_lags=args.lags,
        n_drive_basis=args.drive_basis,
        drive=None if args.drive == "none" else args.drive,
        n_input_lags=args.covariate_lags,
        covariates=_covariate_spec(args),
        loss=loss,
        max_lag=args.max_lag,
        penalty=penalty,
        penalty_strength=strength,
        penalty_pairs=args.penalty_pairs,
        exogenous_hidden=args.exogenous_hidden,
        max_iterations=args.max_iterations,
        learning_rate=args.learning_rate,
        optimizer=args.optimizer,
        patience=None if args.patience == 0 else args.patience,
        seed=args.seed,
        device=args.device,
        max_memory=max_memory,
        progress=not args.quiet,
    )
    start = time.perf_counter()
    failure = None
    try:
        # a fit that never beats its initial parameters is no failure: NoImprovementWarning is
        # one line on stderr and the model is saved as usual
        fitter.fit(train, checkpoint=args.checkpoint, resume=args.resume)
    except NonFiniteLossError as error:
        failure = error  # the estimator holds the last good parameters
    elapsed = time.perf_counter() - start
    if not is_main_process():  # rank 0 alone saves, evaluates and prints
        return 0 if failure is None else 3
    with local():
        return _fit_outputs(args, fitter, data, train, test, elapsed, failure)


def _fit_outputs(
    args: argparse.Namespace,
    fitter: NetworkFitter,
    data: SpikeData,
    train: SpikeData,
    test: SpikeData,
    elapsed: float,
    failure: BaseException | None,
) -> int:
    """Save the fitted model and print the held-out summary (rank 0); the exit code."""
    bin_size = parse_bin_size(args.bin_size)
    fitter.save(args.out)
    if failure is not None:
        print(
            f"elephant-fit fit: warning: the fit failed ({failure}); the last good parameters "
            f"were saved to {args.out} for inspection only",
            file=sys.stderr,
        )
        return 3
    print(
        f"fitted {data.n_neurons} units x {data.n_bins} bins of {bin_size} on {train.n_trials} trials "
        f"({args.hidden} hidden, loss {args.loss}) in {elapsed:.1f} s -> {args.out}"
    )
    print(f"  on {test.n_trials} held-out trials (statistics by Elephant):")
    for key, value in _summary(fitter, test).items():
        digits = 4 if "s.e." in key else 3
        print(f"  {key:<22} {value:8.{digits}f}")
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from ..data.contents import describe_block

    print(describe_block(_read_source(args.input, trust_pickle=args.trust_pickle)))
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from ..data.files import _writer_for, write_block
    from ..fitting.persistence import load_model

    _check_seed(args.seed, allow_none=True)
    check_output_file(args.out, _input_files(args.model, *([args.like] if args.like else [])))
    _writer_for(args.out)
    fitter = load_model(args.model)
    fitter.max_memory = parse_memory(args.max_memory)
    # data parallel: each rank simulates its share, rank 0 writes all trials in order
    condition = args.condition
    if condition is not None and all(
        isinstance(c, int) for c in fitter.trained_on_.condition_labels
    ):
        condition = int(condition) if condition.lstrip("-").isdigit() else condition
    side = _like_trials(args, fitter) if args.like is not None else {"condition": condition}
    block = fitter.simulate(args.trials, seed=args.seed, include_hidden=args.include_hidden, **side)
    if is_main_process():
        write_block(block, args.out)
        print(f"simulated {args.trials} trials -> {args.out}")
    return 0


def _like_trials(args: argparse.Namespace, fitter: NetworkFitter) -> dict[str, Any]:
    """``simulate``'s conditions and covariates: a recording's trials' (--like), cycled."""
    import numpy as np
    import torch

    if args.condition is not None:
        raise UsageError("--condition and --like: give one (--like takes each trial's condition)")
    names = {"trials": args.like_trials, "window": args.like_window}
    names.update(condition=args.like_condition, covariate=args.like_covariate, drop=None)
    options = _trial_options(argparse.Namespace(**names))
    data = _load_input(
        args.like, fitter.bin_size_, binary=True, trust_pickle=args.trust_pickle, options=options
    )
    _check_same_shape(args.like, data, fitter)
    which = np.arange(args.trials) % data.n_trials
    conditions = None if data.conditions is None else [data.conditions[k] for k in which]
    covariates = None if data.covariates is None else data.covariates[torch.from_numpy(which)]
    return {"conditions": conditions, "covariates": covariates}


def _cmd_report(args: argparse.Namespace) -> int:
    if not is_main_process():  # the report is rank 0's (Elephant on Neo objects, one process)
        return 0
    with local():
        return _report(args)


def _report(args: argparse.Namespace) -> int:
    from ..data.neo_out import to_neo
    from ..evaluation.figures import comparison_figures, coupling_figure, tuning_figure
    from ..evaluation.report import block_statistics, model_row, n_simulated_trials, write_table
    from ..fitting.persistence import load_model

    _check_seed(args.seed)
    check_output_folder(args.out, _input_files(args.model, args.input), REPORT_FILES)
    fitter = load_model(args.model)
    fitter.max_memory = parse_memory(args.max_memory)
    # binned as for the fit: a Bernoulli model sees at most one spike per bin
    data = _load_input(
        args.input,
        fitter.bin_size_,
        binary=fitter.model_.observation.binary,
        trust_pickle=args.trust_pickle,
        max_memory=fitter.max_memory,
        options=_trial_options(args),
    )
    _check_same_shape(args.input, data, fitter)
    n_trials = (
        n_simulated_trials(data.n_trials)
        if args.simulated_trials is None
        else args.simulated_trials
    )
    data_block = to_neo(data)
    data_statistics = block_statistics(data_block, fitter.bin_size_)
    row, model_block, model_statistics = model_row(
        fitter, data, data_statistics, n_trials, seed=args.seed
    )
    blocks = {"data": data_block, "model": model_block}
    statistics = {"data": data_statistics, "model": model_statistics}
    markdown, as_json = write_table({"model vs data": row}, args.out)
    print(markdown.read_text(), end="")
    written = [markdown.name, as_json.name]
    if not args.no_figures:
        figures = comparison_figures(args.out, blocks, fitter.bin_size_, statistics=statistics)
        written += [path.name for path in figures]
        n_rec = fitter.n_recorded_
        coupling = coupling_figure(args.out, {"model": fitter.coupling_[:n_rec, :n_rec]})
        written += [] if coupling is None else [coupling.name]
        tuned = _tuning_covariates(fitter)
        tuning = tuning_figure(args.out, blocks, fitter.bin_size_, tuned) if tuned else None
        written += [] if tuning is None else [tuning.name]
    print(f"written to {args.out}: {', '.join(written)}")
    return 0


def _tuning_covariates(fitter: NetworkFitter) -> list[str]:
    """Names of the covariates the model is tuned to (kind 'tuning')."""
    spec = fitter.trained_on_.covariate_spec
    names = fitter.trained_on_.covariate_names
    return [] if spec is None else [names[i] for i in spec.tuning_index]


def _check_same_shape(source: str, data: SpikeData, fitter: NetworkFitter) -> None:
    """``report`` compares trials of the fitted length and units: refuse others in one line."""
    if (data.n_bins, data.n_neurons) != (fitter.n_bins_, fitter.n_recorded_):
        raise UsageError(
            f"{source}: the model was fitted on trials of {fitter.n_bins_} bins of "
            f"{fitter.bin_size_} with {fitter.n_recorded_} units, but the recording has "
            f"{data.n_bins} bins and {data.n_neurons} units; report needs a recording of the "
            "same trial length and units"
        )
    if tuple(data.unit_ids) != tuple(fitter.unit_ids_):
        warnings.warn(
            f"{source}: the recording's unit ids {list(data.unit_ids)[:5]} differ from the "
            f"model's {list(fitter.unit_ids_)[:5]}; units are compared by position",
            UserWarning,
            stacklevel=2,
        )


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import DEMO_DATA, run_demo

    if args.data not in DEMO_DATA:
        raise UsageError(f"--data: expected {', '.join(DEMO_DATA)}, got {args.data!r}")
    if launched_by_torchrun():
        raise UsageError("demo runs in one process: start it without torchrun")
    _check_seed(args.seed)
    check_output_folder(args.out)
    run_demo(
        args.out,
        file_format=args.format,
        quick=args.quick,
        device=args.device,
        seed=args.seed,
        progress=not args.quiet,
        data=args.data,
    )
    return 0


def _show_warning(
    message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any
) -> None:
    """Warnings on the command line: one line on stderr, without the source line."""
    print(f"elephant-fit: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``elephant-fit`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name. Default: ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit code: 0 on success, 2 for a usage or input error (bad option, unreadable or
        unsafe file, bad ``--out``, model file error), 1 for any other failure (out of memory, a
        torch RuntimeError, an unexpected exception). Each error is one line on stderr;
        ``--debug`` raises it instead (with its traceback).

    Examples
    --------
    An input error is one line on stderr and exit code 2:

    >>> from elephant_fit.cli import main
    >>> main(["inspect", "no-such-recording.nix"])
    2
    """
    parser = build_parser()
    args = parser.parse_args(_join_negative_windows(sys.argv[1:] if argv is None else list(argv)))
    if args.command is None:
        parser.print_help(sys.stdout)
        return 0
    handler = globals()[f"_cmd_{args.command}"]  # looked up now: tests may replace a handler
    try:
        with (
            warnings.catch_warnings(),
            process_group(args.backend),
            _quiet_unless_main(),
            use_loop(args.loop),
        ):
            warnings.showwarning = _show_warning
            return handler(args)
    except KeyboardInterrupt as error:  # Ctrl-C; with --checkpoint, FitInterrupted says where
        if args.debug:
            raise
        where = _one_line(error) if isinstance(error, FitInterrupted) else "no checkpoint saved"
        print(f"elephant-fit {args.command}: interrupted: {where}", file=sys.stderr)
        return 128 + getattr(error, "signal_number", 2)  # 130 for SIGINT, 143 for SIGTERM
    except (ElephantFitError, OSError, ValueError, TypeError, ArithmeticError) as error:
        if args.debug:
            raise
        print(f"elephant-fit {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except Exception as error:  # out of memory, torch RuntimeError, anything unexpected
        if args.debug:
            raise
        what = "out of memory" if isinstance(error, MemoryError) else type(error).__name__
        message = _one_line(error)
        detail = f"{what}: {message}" if message != type(error).__name__ else what
        print(
            f"elephant-fit {args.command}: error: {detail} (--debug shows the traceback)",
            file=sys.stderr,
        )
        return 1


@contextlib.contextmanager
def _quiet_unless_main() -> Iterator[None]:
    """Ranks other than 0 of a torchrun launch print nothing on stdout and no warnings.

    Errors still reach stderr (a failing rank says why).
    """
    if is_main_process():
        yield
        return
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        warnings.simplefilter("ignore")
        yield


def _join_negative_windows(argv: list[str]) -> list[str]:
    """``--window -200ms,1s`` as ``--window=-200ms,1s`` (argparse takes '-200ms,1s' for an option).

    The same for ``--like-window``.
    """
    joined: list[str] = []
    for arg in argv:
        if joined and joined[-1] in ("--window", "--like-window") and arg.startswith("-"):
            joined[-1] = f"{joined[-1]}={arg}"
        else:
            joined.append(arg)
    return joined


def _one_line(error: BaseException) -> str:
    """An exception's message on one line (the first non-empty line; its type when empty)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
