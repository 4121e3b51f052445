"""``elephant-fit demo``: MLE vs NLL + sample-and-measure on a ground truth with hidden neurons."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import neo
import numpy as np
import quantities as pq

from ..data.datasets import load_retina
from ..data.files import write_block
from ..data.neo_in import from_neo
from ..data.neo_out import to_neo
from ..data.spikedata import SpikeData
from ..errors import ArgumentValueError
from ..evaluation.figures import comparison_figures, coupling_figure
from ..evaluation.metrics import coupling_fit
from ..evaluation.report import block_statistics, model_row, n_simulated_trials, write_table
from ..fitting.fitter import NetworkFitter
from ..network.synthetic import hidden_input_network, sample_spikedata
from ._session import session_data, truth_recovery

__all__ = ["DEMO_DATA", "DemoSettings", "run_demo"]

#: What ``demo --data`` accepts.
DEMO_DATA = ("synthetic", "retina", "session")


@dataclass
class DemoSettings:
    """Sizes and model options of the demo on one dataset."""

    train_trials: int = 500
    test_trials: int = 500
    iterations_mle: int = 300
    iterations_sm: int = 1500
    n_hidden: int = 20
    n_lags: int = 3
    #: Particles of the held-out likelihood of models with hidden neurons.
    n_particles: int = 256

    @classmethod
    def for_data(cls, data: str, quick: bool = False) -> DemoSettings:
        """Settings of ``elephant-fit demo --data DATA [--quick]``."""
        particles = 64 if quick else 256  # the particle filter was 40 % of the quick demo
        if data == "retina":
            return cls(
                iterations_sm=80 if quick else 300,
                n_hidden=10,
                n_lags=5,
                n_particles=particles,
            )
        if data == "session":  # trials = train + held out, 80 % / 20 % by condition
            return cls(
                train_trials=100 if quick else 300,
                test_trials=0,
                iterations_mle=100 if quick else 300,
                iterations_sm=150 if quick else 600,
                n_hidden=0,
            )
        if quick:
            return cls(
                train_trials=150,
                test_trials=150,
                iterations_mle=100,
                iterations_sm=150,
                n_particles=particles,
            )
        return cls()


def run_demo(
    out: str | Path,
    file_format: str = "pickle",
    quick: bool = False,
    device: str = "auto",
    seed: int = 0,
    progress: bool = True,
    data: str = "synthetic",
) -> dict[str, dict[str, Any]]:
    """Fit NLL only and NLL + SM with hidden neurons, and compare them on held-out trials.

    Parameters
    ----------
    out : str or Path
        Output folder: the training recording, the table (Markdown, JSON) and figures.
    file_format : {'pickle', 'nix'}, optional
        Format of the written recording.
    quick : bool, optional
        Small sizes (seconds instead of minutes).
    device : str, optional
        'auto', 'cpu' or 'cuda'.
    seed : int, optional
        Seed of the ground truth, the data and the fits.
    progress : bool, optional
        Progress bars while fitting.
    data : {'synthetic', 'retina', 'session'}, optional
        A ground truth whose hidden neurons drive the recorded ones (10 ms bins; coupling
        recovery is reported), the bundled retina recording (20 ms bins; no ground truth), or a
        synthetic lab session (one continuous recording with ``stim_on`` events of two
        conditions and a running-speed covariate, written to a file, read back and cut into
        trials; recovery of the per-condition drive and the covariate filter is reported).

    Returns
    -------
    dict
        ``{model name: {metric: value}}``, as written to ``demo.md`` / ``demo.json``.
    """
    if data not in DEMO_DATA:
        raise ArgumentValueError(
            f"Expected `data` to be one of {', '.join(DEMO_DATA)}, but got {data!r}."
        )
    settings = DemoSettings.for_data(data, quick)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    suffix = ".nix" if file_format == "nix" else ".pkl"
    truth = None
    if data == "session":  # a continuous session file, cut around its events
        train, test, truth, bin_size, recording = session_data(
            settings.train_trials, seed, out, suffix
        )
        true_coupling, fit_input = None, train
    else:
        if data == "synthetic":
            train, test, true_coupling, bin_size = _synthetic(settings, seed)
        else:
            train, test, true_coupling, bin_size = _retina(quick, seed)
        # the fits take the Block that is written (as a notebook holds it); the file is for the
        # user's own runs (``elephant-fit fit recording.pkl``): reading it back rebuilt every
        # SpikeTrain through Neo's constructor (1-3 s) for the same counts
        fit_input = to_neo(train)
        recording = write_block(fit_input, out / f"recording{suffix}")
    n_simulated = n_simulated_trials(test.n_trials)
    print(
        f"{data}: {train.n_neurons} recorded neurons, {train.n_bins} bins of {bin_size}; "
        f"{train.n_trials} training trials written to {recording}, {test.n_trials} held out; "
        f"each model is simulated on {n_simulated} trials"
    )
    test_block = to_neo(test)
    statistics = {"data": block_statistics(test_block, bin_size)}  # once, for every comparison
    rows: dict[str, dict[str, Any]] = {}
    fits = {}
    sm_name = "NLL + SM, hidden" if settings.n_hidden else "NLL + SM"
    for name, params in (
        ("NLL only", {"n_hidden": 0, "loss": "mle", "max_iterations": settings.iterations_mle}),
        (
            sm_name,
            {
                "n_hidden": settings.n_hidden,
                "loss": "sm",
                "max_iterations": settings.iterations_sm,
            },
        ),
    ):
        fitter = NetworkFitter(
            bin_size=bin_size,
            n_lags=settings.n_lags,
            seed=seed,
            device=device,
            progress=progress,
            n_input_lags=3 if data == "session" else 1,
            **params,
        )
        rows[name], fits[name], statistics[name] = _fit_and_score(
            fitter, fit_input, test, statistics["data"], true_coupling, seed, settings.n_particles
        )
        if truth is not None:
            rows[name].update(truth_recovery(fitter, truth, test))
        print(f"fitted {name} in {rows[name]['fit time (s)']:.1f} s")
    markdown, _ = write_table(rows, out, name="demo")
    figures = _figures(out, test_block, fits, statistics, bin_size, true_coupling)
    print(markdown.read_text(), end="")
    print(
        f"table: {markdown} (and demo.json)"
        + (f"; figures: {', '.join(figures)}" if figures else "")
    )
    return rows


def _fit_and_score(
    fitter: NetworkFitter,
    recording: neo.Block | SpikeData,
    test: SpikeData,
    data_statistics: Any,
    true_coupling: np.ndarray | None,
    seed: int,
    n_particles: int = 256,
) -> tuple[dict[str, Any], tuple[NetworkFitter, neo.Block], Any]:
    """Fit, and score on the held-out trials.

    Returns the metric row (with coupling recovery against a known truth), the fitter with its
    simulated Block, and the statistics of the simulation.
    """
    start = time.perf_counter()
    fitter.fit(recording)
    elapsed = time.perf_counter() - start
    n_simulated = n_simulated_trials(test.n_trials)
    row, simulated, statistics = model_row(
        fitter, test, data_statistics, n_simulated, seed=seed + 3, n_particles=n_particles
    )
    if true_coupling is not None:
        n_rec = test.n_neurons
        fit = coupling_fit(fitter.coupling_[:n_rec, :n_rec], true_coupling[:n_rec, :n_rec])
        row["coupling r"], row["coupling R2"] = fit["r"], fit["r2"]
        row["coupling slope"] = fit["slope"]
    row["fit time (s)"] = elapsed
    return row, (fitter, simulated), statistics


def _figures(
    out: Path,
    test_block: neo.Block,
    fits: dict[str, tuple[NetworkFitter, neo.Block]],
    statistics: dict[str, Any],
    bin_size: pq.Quantity,
    true_coupling: np.ndarray | None,
) -> list[str]:
    """The comparison figures and the coupling figure (none without matplotlib): file names."""
    blocks = {"data": test_block, **{name: simulated for name, (_, simulated) in fits.items()}}
    figures = [
        path.name for path in comparison_figures(out, blocks, bin_size, statistics=statistics)
    ]
    n_rec = len(test_block.segments[0].spiketrains)
    couplings = {name: fitter.coupling_[:n_rec, :n_rec] for name, (fitter, _) in fits.items()}
    truth = None if true_coupling is None else true_coupling[:n_rec, :n_rec]
    if figures and (path := coupling_figure(out, couplings, truth)) is not None:
        figures.append(path.name)
    return figures


def _synthetic(settings: DemoSettings, seed: int) -> tuple:
    """Training and held-out trials of the ground-truth network, its coupling, the bin size."""
    bin_size = 10 * pq.ms
    truth = hidden_input_network(seed=seed)
    true_coupling = truth.coupling_array()
    train = sample_spikedata(truth, settings.train_trials, bin_size, seed=seed + 1).recorded()
    test = sample_spikedata(truth, settings.test_trials, bin_size, seed=seed + 2).recorded()
    return train, test, true_coupling, bin_size


def _retina(quick: bool, seed: int) -> tuple:
    """The bundled retina recording at 20 ms, split into training and held-out repeats."""
    bin_size = 20 * pq.ms
    t_stop = (3 if quick else 18) * pq.s
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # spikes exactly at 18 s / after a cropped window
        data = from_neo(load_retina(1), bin_size, t_start=0 * pq.s, t_stop=t_stop, binary=True)
    train, test = data.split(test_fraction=0.2, seed=seed)
    return train, test, None, bin_size
