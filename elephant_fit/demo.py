"""``elephant-fit demo``: MLE vs NLL + sample-and-measure on a ground truth with hidden neurons."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import quantities as pq

from .conversion import to_neo, write_block
from .estimator import NetworkFitter
from .metrics import coupling_recovery
from .report import compare_blocks, write_table
from .synthetic import hidden_input_network, sample_spikedata

__all__ = ["DemoSettings", "run_demo"]


@dataclass
class DemoSettings:
    """Sizes of the demo (``quick`` shrinks everything to run in seconds)."""

    train_trials: int = 500
    test_trials: int = 500
    iterations_mle: int = 300
    iterations_sm: int = 1500
    n_hidden: int = 20

    @classmethod
    def quick(cls) -> DemoSettings:
        """Settings for ``--quick``."""
        return cls(
            train_trials=150, test_trials=150, iterations_mle=100, iterations_sm=150, n_hidden=20
        )


def run_demo(
    out: str | Path,
    file_format: str = "pickle",
    quick: bool = False,
    device: str = "auto",
    seed: int = 0,
    progress: bool = True,
) -> dict[str, dict[str, Any]]:
    """Generate a ground truth, fit MLE and NLL + SM, and compare them on held-out trials.

    Parameters
    ----------
    out : str or Path
        Output folder: the recording, the table (Markdown, JSON) and figures (with matplotlib).
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

    Returns
    -------
    dict
        ``{model name: {metric: value}}``, as written to ``demo.md`` / ``demo.json``.
    """
    settings = DemoSettings.quick() if quick else DemoSettings()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    bin_size = 10 * pq.ms
    truth = hidden_input_network(seed=seed)
    true_coupling = truth.coupling().detach().permute(2, 1, 0).double().numpy()
    train = sample_spikedata(truth, settings.train_trials, bin_size, seed=seed + 1).recorded()
    test = sample_spikedata(truth, settings.test_trials, bin_size, seed=seed + 2).recorded()
    suffix = ".nix" if file_format == "nix" else ".pkl"
    recording = write_block(to_neo(train), out / f"recording{suffix}")
    print(
        f"ground truth: {truth.n_recorded} recorded + {truth.n_hidden} hidden neurons; "
        f"{train.n_trials} training trials written to {recording}"
    )
    test_block = to_neo(test)
    rows: dict[str, dict[str, Any]] = {}
    fits = {}
    for name, params in (
        ("NLL only", {"n_hidden": 0, "loss": "mle", "max_iterations": settings.iterations_mle}),
        (
            "NLL + SM, hidden",
            {"n_hidden": settings.n_hidden, "loss": "sm", "max_iterations": settings.iterations_sm},
        ),
    ):
        start = time.perf_counter()
        fitter = NetworkFitter(
            bin_size=bin_size, n_lags=3, seed=seed, device=device, progress=progress, **params
        ).fit(recording)
        elapsed = time.perf_counter() - start
        simulated = fitter.simulate(test.n_trials, seed=seed + 3)
        row: dict[str, Any] = {"held-out bits/spike": fitter.score(test)}
        row.update(compare_blocks(simulated, test_block, bin_size))
        n_rec = test.n_neurons
        row["coupling recovery r"] = coupling_recovery(
            fitter.coupling_[:n_rec, :n_rec], true_coupling[:n_rec, :n_rec]
        )
        row["fit time (s)"] = elapsed
        rows[name] = row
        fits[name] = (fitter, simulated)
        print(f"fitted {name} in {elapsed:.1f} s")
    markdown, _ = write_table(rows, out, name="demo")
    figures = _figures(out, fits, test_block, true_coupling, test.n_neurons, bin_size)
    print(markdown.read_text(), end="")
    print(
        f"table: {markdown} (and demo.json)"
        + (f"; figures: {', '.join(figures)}" if figures else "")
    )
    return rows


def _figures(
    out: Path, fits: dict, data: Any, true_coupling: np.ndarray, n_rec: int, bin_size: pq.Quantity
) -> list[str]:
    """PNG figures (rasters, PSTHs, noise correlations, coupling), if matplotlib is installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(install matplotlib, e.g. pip install 'elephant-fit[plot]', for figures)")
        return []
    from .report import _binned, _psths

    blocks = {"data": data, **{name: simulated for name, (_, simulated) in fits.items()}}
    fig, axes = plt.subplots(1, len(blocks), figsize=(4 * len(blocks), 3), sharey=True)
    for ax, (name, block) in zip(axes, blocks.items(), strict=True):
        for j, st in enumerate(block.segments[0].spiketrains):
            ax.plot(st.rescale("s").magnitude, np.full(len(st), j), "|", color="k", markersize=3)
        ax.set(xlabel="time (s)")
        ax.set_title(f"{name}: trial 0", fontsize=9)
    axes[0].set_ylabel("neuron")
    fig.tight_layout()
    fig.savefig(out / "rasters.png", dpi=120)
    plt.close(fig)

    fig, axes = plt.subplots(1, 3, figsize=(12, 3), sharey=True)
    for ax, unit in zip(axes, range(3), strict=True):
        for name, block in blocks.items():
            ax.plot(_psths(block, bin_size)[:, unit], label=name)
        ax.set(title=f"PSTH, neuron {unit}", xlabel="bin")
    axes[0].set_ylabel("rate (Hz)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "psth.png", dpi=120)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(blocks), figsize=(4 * len(blocks), 3.6))
    for ax, (name, block) in zip(axes, blocks.items(), strict=True):
        counts = _binned(block, bin_size)
        residuals = counts - counts.mean(axis=0, keepdims=True)
        matrix = np.corrcoef(residuals.transpose(1, 0, 2).reshape(counts.shape[1], -1))
        np.fill_diagonal(matrix, np.nan)
        image = ax.imshow(matrix, cmap="RdBu_r", vmin=-0.15, vmax=0.15)
        ax.set_title(f"noise corr.: {name}", fontsize=9)
    fig.colorbar(image, ax=axes, shrink=0.8)
    fig.savefig(out / "noise_correlations.png", dpi=120)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(fits), figsize=(4 * len(fits), 3.6))
    true_total = true_coupling[:n_rec, :n_rec].sum(axis=2)
    off = ~np.eye(n_rec, dtype=bool)
    for ax, (name, (fitter, _)) in zip(np.atleast_1d(axes), fits.items(), strict=True):
        fitted_total = fitter.coupling_[:n_rec, :n_rec].sum(axis=2)
        ax.scatter(true_total[off], fitted_total[off], s=6)
        ax.set(title=f"coupling: {name}", xlabel="true (sum over lags)", ylabel="fitted")
    fig.tight_layout()
    fig.savefig(out / "coupling.png", dpi=120)
    plt.close(fig)
    return ["rasters.png", "psth.png", "noise_correlations.png", "coupling.png"]
