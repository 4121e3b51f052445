"""The argument parser of the ``elephant-fit`` command: one function per command.

The parser knows nothing of what the commands do: each sub-parser sets ``command`` (its name),
and :func:`elephant_fit.cli.commands.main` runs the handler of that name.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from .._version import __version__
from ..distributed import BACKENDS
from ..fitting.config import FitConfig
from ..network.loops import LOOPS

__all__ = ["DATASETS", "build_parser"]

#: Bundled recordings the commands accept by name instead of a file.
DATASETS = ("retina", "retina1", "retina2", "place-cell", "reaching")

_TRUST_PICKLE_HELP = (
    "read a pickle recording with plain pickle, which runs any code the file names (only for "
    "files you trust; by default pickles may hold only neo, quantities, numpy and builtin objects)"
)


def _add_max_memory(parser: argparse.ArgumentParser) -> None:
    """The ``--max-memory`` option of the commands that bin, fit or simulate."""
    parser.add_argument(
        "--max-memory",
        default=None,
        help="refuse work estimated above this size, e.g. 8GiB (default: half the free memory)",
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``elephant-fit`` command.

    Returns
    -------
    argparse.ArgumentParser
        The parser, with ``--version`` and one sub-parser per command. Its namespaces hold
        ``command`` (the command's name, None without one) and the options; quantities stay
        strings as typed (``--bin-size 20ms`` gives ``'20ms'``), parsed by the commands.

    Examples
    --------
    >>> parser = build_parser()
    >>> args = parser.parse_args(["fit", "retina", "--bin-size", "20ms", "--hidden", "5"])
    >>> args.command, args.input, args.bin_size, args.hidden, args.out
    ('fit', 'retina', '20ms', 5, 'model.pt')
    >>> parser.parse_args([]).command is None  # no command: ``elephant-fit`` prints the help
    True
    >>> try:
    ...     parser.parse_args(["--version"])  # argparse prints the version, then exits
    ... except SystemExit as exit:
    ...     print("exit code", exit.code)
    elephant-fit ...
    exit code 0
    """
    parser = argparse.ArgumentParser(
        prog="elephant-fit",
        description=(
            "Fit recurrent stochastic spiking network models to Neo spike trains "
            "(maximum likelihood and sample-and-measure losses, Bellec et al. 2021)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"elephant-fit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument(
        "--backend",
        default="auto",
        choices=BACKENDS,
        help="under torchrun: the torch.distributed backend (auto: nccl for GPU tensors when "
        "every rank has a GPU, gloo otherwise)",
    )
    parser.add_argument(
        "--loop",
        default=os.environ.get("ELEPHANT_FIT_LOOP", "auto"),
        choices=LOOPS,
        help="the recurrent time loop: numba (compiled, CPU), torch, autograd (the reference), or "
        "auto: numba on the CPU where it is faster for the network's size (default: "
        "$ELEPHANT_FIT_LOOP or auto)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in (_add_demo, _add_inspect, _add_fit, _add_simulate, _add_report):
        add(commands)
    return parser


def _add_demo(commands: Any) -> None:
    """The ``demo`` command: MLE vs NLL + SM on a ground truth with hidden neurons."""
    demo = commands.add_parser("demo", help="MLE vs NLL + SM on a ground truth with hidden neurons")
    demo.add_argument(
        "--out", default="elephant-fit-demo", help="output folder (default ./elephant-fit-demo)"
    )
    demo.add_argument(
        "--format",
        choices=("pickle", "nix"),
        default="pickle",
        help="format of the written recording",
    )
    demo.add_argument(
        "--quick", action="store_true", help="small sizes: seconds instead of minutes"
    )
    demo.add_argument(
        "--data",
        default="synthetic",
        help="synthetic (default), retina (the bundled recording) or session (a synthetic lab "
        "session: events of two conditions and a covariate)",
    )
    demo.add_argument("--device", default="auto")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--quiet", action="store_true", help="no progress bars")


def _add_inspect(commands: Any) -> None:
    """The ``inspect`` command: what a file holds."""
    inspect = commands.add_parser(
        "inspect", help="list a file's segments, units, events, epochs and signals"
    )
    inspect.add_argument(
        "input",
        help=f"a file neo.io reads (NIX, NWB, pickle, Matlab) or one of {', '.join(DATASETS)}",
    )
    inspect.add_argument("--trust-pickle", action="store_true", help=_TRUST_PICKLE_HELP)


def _add_fit(commands: Any) -> None:
    """The ``fit`` command: fit a network to a recording."""
    fit = commands.add_parser("fit", help="fit a network to a recording")
    _add_model_options(fit)
    _add_trial_options(fit)
    _add_fit_run_options(fit)


def _add_trial_options(parser: argparse.ArgumentParser) -> None:
    """How trials, conditions and covariates are read from a session file (``fit``, ``report``)."""
    group = parser.add_argument_group(
        "trials of a session", "cut a continuous recording into trials (see `elephant-fit inspect`)"
    )
    group.add_argument(
        "--trials",
        default=None,
        metavar="NAME",
        help="an Event or Epoch of the file: one trial around each event (with --window)",
    )
    group.add_argument(
        "--window",
        default=None,
        help="START,STOP around each event, e.g. -200ms,1s; without --trials one LENGTH, e.g. 2s: "
        "consecutive windows of a continuous recording",
    )
    group.add_argument(
        "--condition",
        default=None,
        metavar="KEY",
        help="the trials' condition: 'labels' (the events' labels) or an annotation key",
    )
    group.add_argument(
        "--covariate",
        action="append",
        default=None,
        metavar="NAME",
        help="an AnalogSignal of the file averaged onto the bins (repeat for several)",
    )
    group.add_argument(
        "--drop",
        default=None,
        help="drop trials instead of refusing them: outside, overlapping, or outside,overlapping",
    )


def _add_model_options(fit: argparse.ArgumentParser) -> None:
    """``fit``'s input, binning, architecture and loss."""
    fit.add_argument(
        "input",
        help=f"a file neo.io reads (NIX, NWB, pickle, Matlab) or one of {', '.join(DATASETS)}",
    )
    fit.add_argument("--bin-size", default="10ms", help="bin width, e.g. 20ms (default 10ms)")
    fit.add_argument("--hidden", type=int, default=0, help="number of hidden neurons")
    fit.add_argument("--lags", type=int, default=9, help="coupling lags in bins (default 9)")
    fit.add_argument(
        "--drive-basis",
        type=int,
        default=None,
        help="bumps of the smooth stimulus drive (default one per 40 ms of the trial)",
    )
    fit.add_argument(
        "--loss",
        default="mle",
        help="mle, sm, paper, or weights like nll=0.4,psth=0.1,noise_covariance=50",
    )
    fit.add_argument(
        "--max-lag",
        type=int,
        default=None,
        help="lags 0..MAX_LAG of the noise-covariance term (default: --lags, the coupling length)",
    )
    fit.add_argument(
        "--penalty",
        default=None,
        help="coupling penalty, e.g. l1:1e-3 or l2:1e-2 (norm:strength; default none)",
    )
    fit.add_argument(
        "--penalty-pairs",
        choices=("all", "recorded"),
        default="all",
        help="pairs the coupling penalty covers: all, or between recorded neurons only (hidden "
        "neurons then explain shared input at no cost)",
    )
    fit.add_argument(
        "--drive",
        choices=("smooth", "free", "none"),
        default="smooth",
        help="stimulus-locked drive, one per condition (none: spontaneous activity)",
    )
    fit.add_argument(
        "--covariate-lags",
        type=int,
        default=1,
        help="bins of the covariates' filters (default 1: their present value)",
    )
    fit.add_argument(
        "--covariate-kind",
        action="append",
        choices=("history", "tuning"),
        default=None,
        help="how each --covariate enters (once for all, or once per covariate): history, a "
        "filter over its last --covariate-lags bins; tuning, a function of its value (B-splines "
        "over the range seen, e.g. a place field)",
    )
    fit.add_argument(
        "--covariate-basis",
        type=int,
        default=None,
        metavar="N",
        help="N functions per covariate: raised cosines over the lags (history) or B-splines "
        "over the values (tuning, default 8); default for history: one weight per lag",
    )
    fit.add_argument(
        "--exogenous-hidden",
        action="store_true",
        help="hidden neurons get no recurrent input (independent sources of common input)",
    )


def _add_fit_run_options(fit: argparse.ArgumentParser) -> None:
    """``fit``'s optimisation, output, checkpoint and resource options."""
    fit.add_argument("--max-iterations", type=int, default=FitConfig.max_iterations)
    fit.add_argument("--learning-rate", type=float, default=FitConfig.learning_rate)
    fit.add_argument(
        "--optimizer",
        choices=("adam", "lbfgs"),
        default=FitConfig.optimizer,
        help="adam (default) or lbfgs (full batch; the likelihood without hidden neurons only)",
    )
    fit.add_argument(
        "--patience",
        type=int,
        default=FitConfig.patience,
        help="early stopping after this many validations without improvement (0: off; "
        f"default {FitConfig.patience})",
    )
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--device", default="auto", help="auto, cpu or cuda")
    fit.add_argument("--test-fraction", type=float, default=0.2)
    fit.add_argument("--out", default="model.pt", help="model file (default model.pt)")
    fit.add_argument("--quiet", action="store_true", help="no progress bar")
    fit.add_argument(
        "--checkpoint",
        default=None,
        help="save the fit state here every 100 iterations and on Ctrl-C / SIGTERM",
    )
    fit.add_argument("--resume", action="store_true", help="continue the fit saved in --checkpoint")
    _add_max_memory(fit)
    fit.add_argument("--trust-pickle", action="store_true", help=_TRUST_PICKLE_HELP)


def _add_simulate(commands: Any) -> None:
    """The ``simulate`` command: simulate trials of a fitted model."""
    simulate = commands.add_parser("simulate", help="simulate trials of a fitted model")
    simulate.add_argument("model", help="a model file written by `elephant-fit fit`")
    simulate.add_argument("--trials", type=int, required=True)
    simulate.add_argument("--seed", type=int, default=None)
    simulate.add_argument("--include-hidden", action="store_true")
    simulate.add_argument(
        "--condition",
        default=None,
        help="the stimulus condition of every simulated trial (one of the fitted data's)",
    )
    simulate.add_argument(
        "--out", required=True, help="output file; format from the suffix (.pkl, .nix, .mat, .nwb)"
    )
    like = simulate.add_argument_group(
        "trials like a recording's",
        "simulate with the conditions and covariates of a recording's trials (cycled), read as "
        "`fit` reads them: needed for a model fitted with covariates",
    )
    like.add_argument("--like", default=None, metavar="FILE", help="the recording")
    like.add_argument("--like-trials", default=None, metavar="NAME", help="as fit's --trials")
    like.add_argument("--like-window", default=None, metavar="WINDOW", help="as fit's --window")
    like.add_argument("--like-condition", default=None, metavar="KEY", help="as fit's --condition")
    like.add_argument(
        "--like-covariate",
        action="append",
        default=None,
        metavar="NAME",
        help="as fit's --covariate",
    )
    like.add_argument("--trust-pickle", action="store_true", help=_TRUST_PICKLE_HELP)
    _add_max_memory(simulate)


def _add_report(commands: Any) -> None:
    """The ``report`` command: compare a model with a recording (Elephant's statistics)."""
    report = commands.add_parser(
        "report", help="compare a model with a recording (Elephant's statistics)"
    )
    report.add_argument("model")
    report.add_argument("input")
    report.add_argument("--out", default="elephant-fit-report", help="output folder")
    report.add_argument("--seed", type=int, default=0)
    report.add_argument(
        "--simulated-trials",
        type=int,
        default=None,
        help="simulated trials (default: as many as the recording has, at least 100)",
    )
    report.add_argument("--no-figures", action="store_true", help="write the table only")
    _add_trial_options(report)
    _add_max_memory(report)
    report.add_argument("--trust-pickle", action="store_true", help=_TRUST_PICKLE_HELP)
