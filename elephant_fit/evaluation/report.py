"""Compare recorded and simulated trials on the Neo objects, binned by Elephant's rules.

Everything here consumes Neo Blocks (one Segment per trial), as an Elephant user's analysis
would. The statistics are Elephant's definitions, computed from one binning per bin size and
the trains' spike counts: the counts are ``BinnedSpikeTrain(segment.spiketrains,
bin_size).to_array()`` of every Segment, the PSTH is ``time_histogram``'s rate, the mean rate
``mean_firing_rate``'s and the Fano factor ``fanofactor``'s (each tested equal to Elephant's
function). The binning is the package's Elephant-exact one (:mod:`elephant_fit.data._binning`,
that of ``from_neo``), in one vectorised pass over every spike of the Block: Elephant checks and
rescales every train through quantities, whose unit comparisons parse a unit string each time
(quantities 0.16), and that, not the arithmetic, was most of a report's time (one
``BinnedSpikeTrain`` of a 500-trial, 20-unit Block: 3.7 s).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import neo
import numpy as np
import quantities as pq
import torch

from .._quantities import rescaled_magnitude
from ..data._bin_trains import _Flat, _flatten, _scatter
from ..data._binning import ELEPHANT_TOLERANCE as _TOLERANCE
from ..data._binning import bin_spike_times, n_bins_for_window
from ..errors import ArgumentValueError
from ..statistics.correlation import noise_correlation
from .metrics import _condition_fano_factors, matrix_fit, r2_score

if TYPE_CHECKING:
    from ..data.spikedata import SpikeData
    from ..fitting.fitter import NetworkFitter

__all__ = [
    "MIN_SIMULATED_TRIALS",
    "BlockStatistics",
    "block_statistics",
    "compare_blocks",
    "compare_statistics",
    "model_row",
    "n_simulated_trials",
    "noise_correlation_matrix",
    "psths",
    "value_tuning",
    "write_table",
]

#: A model is simulated on at least this many trials when it is compared with data, so that its
#: PSTH and noise correlations carry little sampling noise (recordings often have few repeats).
MIN_SIMULATED_TRIALS = 100


def n_simulated_trials(n_data_trials: int) -> int:
    """Trials to simulate for a comparison with ``n_data_trials`` recorded trials.

    As many as the data has, and at least :data:`MIN_SIMULATED_TRIALS`.
    """
    return max(int(n_data_trials), MIN_SIMULATED_TRIALS)


def psths(block: neo.Block, bin_size: pq.Quantity) -> np.ndarray:
    """Trial-averaged rate (n_bins, n_units) in Hz: ``elephant.statistics.time_histogram``'s rate.

    Counts as ``BinnedSpikeTrain``'s (:func:`_bin`); the units in the order of each Segment's spike trains.
    """
    return _mean_rates(_binned(block, bin_size), bin_size)


def _mean_rates(counts: np.ndarray, bin_size: pq.Quantity) -> np.ndarray:
    """Trial mean of counts (n_trials, n_units, n_bins) in Hz, shape (n_bins, n_units).

    ``time_histogram(trains, bin_size, output="rate")``: the summed counts over the trains
    divided by their number and the bin size.
    """
    return counts.sum(axis=0).T / (len(counts) * _seconds(bin_size))


def _seconds(time: pq.Quantity) -> float:
    """A scalar time quantity in seconds (the unit conversion cached: quantities is slow)."""
    return float(rescaled_magnitude(time, pq.s))


def _binned(block: neo.Block, bin_size: pq.Quantity) -> np.ndarray:
    """Counts (n_trials, n_units, n_bins): ``BinnedSpikeTrain(segment.spiketrains, bin_size)`` of each Segment."""
    return _bin(_block_trains(block), bin_size)


@dataclass(frozen=True)
class _Trains:
    """Every spike train of a Block in one array (Segment order), collected once per Block."""

    flat: _Flat  # times (n_spikes,), lengths, t_starts and t_stops (n_trials * n_units,)
    n_trials: int
    n_units: int


def _block_trains(block: neo.Block) -> _Trains:
    """Collect the trains of every Segment; each Segment's trains must share their window."""
    trains = [list(segment.spiketrains) for segment in block.segments]
    n_units = {len(segment_trains) for segment_trains in trains}
    if not trains or len(n_units) != 1 or 0 in n_units:
        raise ArgumentValueError(
            "Expected a Block whose Segments (trials) hold the same number (> 0) of spike trains, "
            f"but got {len(trains)} Segments with {sorted(n_units)} trains."
        )
    flat = _flatten([train for segment_trains in trains for train in segment_trains])
    shape = (len(trains), n_units.pop())
    for name, edges in (("t_start", flat.t_starts), ("t_stop", flat.t_stops)):
        edges = edges.reshape(shape)
        differ = np.flatnonzero((np.abs(edges - edges[:, :1]) > _TOLERANCE).any(axis=1))
        if differ.size:  # BinnedSpikeTrain refuses such a Segment too
            raise ArgumentValueError(
                f"Expected the spike trains of each Segment to share {name}, but Segment "
                f"{differ[0]} has {sorted(set(edges[differ[0]].tolist()))} "
                f"({flat.units.dimensionality})."
            )
    return _Trains(flat, *shape)


def _bin(trains: _Trains, bin_size: pq.Quantity) -> np.ndarray:
    """Counts (n_trials, n_units, n_bins) of each trial on its own window, as ``BinnedSpikeTrain``.

    Elephant's rules (:mod:`elephant_fit.data._binning`, the binning of ``from_neo``, tested equal
    to ``BinnedSpikeTrain``) in one vectorised pass over all spikes: one Elephant call per bin
    size checks and rescales every train through quantities, whose unit comparisons parse unit
    strings (3.7 s for 10 000 trains against 0.1 s here). Spikes at or after the last bin's edge
    are dropped, as Elephant drops them (its warning is not repeated here).
    """
    flat, n_trials, n_units = trains.flat, trains.n_trials, trains.n_units
    step = float(rescaled_magnitude(bin_size, flat.units))
    windows = np.stack([flat.t_starts[::n_units], flat.t_stops[::n_units]], axis=1)
    distinct, window_of_trial = np.unique(windows, axis=0, return_inverse=True)
    n_bins = {n_bins_for_window(start, stop, step, _TOLERANCE) for start, stop in distinct}
    if len(n_bins) != 1 or min(n_bins) < 1:
        raise ArgumentValueError(
            f"Expected trials of one length of at least one bin of {bin_size}, but got "
            f"{sorted(n_bins)} bins."
        )
    n_bins_value = n_bins.pop()
    spikes_per_trial = flat.lengths.reshape(n_trials, n_units).sum(axis=1)
    window_of_spike = np.repeat(window_of_trial.reshape(-1), spikes_per_trial)
    # the spikes grouped by window (trials cut from a session have one window each)
    by_window = np.argsort(window_of_spike, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(window_of_spike, minlength=len(distinct)))])
    kept_parts, bin_parts = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for index, (start, stop) in enumerate(distinct):
            spikes = by_window[bounds[index] : bounds[index + 1]]
            kept, bins = bin_spike_times(
                flat.times[spikes], start, stop, step, n_bins_value, _TOLERANCE
            )
            kept_parts.append(spikes if kept is None else spikes[kept])
            bin_parts.append(bins)
    kept, bins = np.concatenate(kept_parts), np.concatenate(bin_parts)
    counts = _scatter(flat, kept, bins, n_trials, n_bins_value, n_units, torch.float64)
    return counts.numpy().transpose(0, 2, 1)  # (n_trials, n_units, n_bins), as Elephant's arrays


def value_tuning(
    block: neo.Block, bin_size: pq.Quantity, covariate: str, edges: np.ndarray
) -> np.ndarray:
    """Mean rate of each unit in the bins where a covariate's value falls in each interval.

    The empirical tuning curve of a covariate such as position: spikes binned with
    ``BinnedSpikeTrain``'s rules (:func:`_bin`), grouped by the value of the AnalogSignal ``covariate`` of the same
    Segment in each bin (one sample per bin, as :func:`~elephant_fit.to_neo` writes it).

    Parameters
    ----------
    block : neo.Block
        One Segment per trial, each with the AnalogSignal ``covariate``.
    bin_size : pq.Quantity
        The bins.
    covariate : str
        Name of the AnalogSignal.
    edges : np.ndarray
        Shape (n_values + 1,): increasing interval edges (values outside go to the edge ones).

    Returns
    -------
    np.ndarray
        Shape (n_values, n_units), in Hz; NaN for an interval no bin falls in.
    """
    counts = _binned(block, bin_size)  # (n_trials, n_units, n_bins)
    values = np.stack([_signal_per_bin(seg, covariate, counts.shape[2]) for seg in block.segments])
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    n_values, seconds = len(edges) - 1, float(bin_size.rescale("s").magnitude)
    totals = np.zeros((n_values, counts.shape[1]))
    np.add.at(totals, index.reshape(-1), counts.transpose(0, 2, 1).reshape(-1, counts.shape[1]))
    n_bins = np.bincount(index.reshape(-1), minlength=n_values).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return totals / (n_bins[:, None] * seconds)


def _signal_per_bin(segment: neo.Segment, name: str, n_bins: int) -> np.ndarray:
    """The one-channel AnalogSignal ``name`` of ``segment``, one sample per bin, shape (n_bins,)."""
    found = [signal for signal in segment.analogsignals if signal.name == name]
    if len(found) != 1 or found[0].shape[0] != n_bins:
        raise ArgumentValueError(
            f"Expected one AnalogSignal {name!r} with a sample per bin ({n_bins}) in each Segment, "
            f"but found {[tuple(signal.shape) for signal in found]}."
        )
    return np.asarray(found[0].magnitude[:, 0], dtype=np.float64)


def block_conditions(block: neo.Block) -> list | None:
    """The Segment annotation ``condition`` of every trial, or None when not every Segment has one."""
    labels = [segment.annotations.get("condition") for segment in block.segments]
    return None if any(label is None or label == "" for label in labels) else labels


def _condition_order(labels: list | None) -> tuple:
    """The distinct conditions in a fixed order (sorted by text): the same for model and data."""
    return (None,) if labels is None else tuple(sorted(set(labels), key=str))


def condition_psths(block: neo.Block, bin_size: pq.Quantity) -> tuple[tuple, np.ndarray]:
    """PSTH of each condition's trials: ``elephant.statistics.time_histogram``'s rate.

    Returns
    -------
    conditions : tuple
        The conditions (sorted by text; ``(None,)`` without conditions).
    psth : np.ndarray
        Shape (n_conditions, n_bins, n_units), Hz.
    """
    return _condition_psths(_binned(block, bin_size), block_conditions(block), bin_size)


def _condition_psths(
    counts: np.ndarray, labels: list | None, bin_size: pq.Quantity
) -> tuple[tuple, np.ndarray]:
    """Conditions and their PSTHs (n_conditions, n_bins, n_units) in Hz from counts (n_trials, n_units, n_bins)."""
    order = _condition_order(labels)
    parts = [_mean_rates(counts[_trials_of(labels, c, len(counts))], bin_size) for c in order]
    return order, np.stack(parts)


def _trials_of(labels: list | None, condition: Any, n_trials: int) -> np.ndarray:
    """Indices of the trials of one condition (all ``n_trials`` without conditions)."""
    if labels is None:
        return np.arange(n_trials)
    return np.array([k for k, label in enumerate(labels) if label == condition], dtype=int)


def noise_correlation_matrix(block: neo.Block, bin_size: pq.Quantity) -> np.ndarray:
    """Zero-lag noise-correlation matrix (n_units, n_units) of Elephant-binned trials.

    Counts as ``BinnedSpikeTrain``'s (:func:`_bin`); the correlation is :func:`elephant_fit.statistics.noise_correlation`
    (Elephant has no noise correlation), the noise of each trial about its condition's PSTH
    (Segment annotation ``condition``; all trials one condition without it). Silent units give
    NaN rows.
    """
    return _noise_correlations(_binned(block, bin_size), block_conditions(block))


def _noise_correlations(counts: np.ndarray, labels: list | None) -> np.ndarray:
    """Noise correlations (n_units, n_units) of counts (n_trials, n_units, n_bins)."""
    counts = torch.from_numpy(counts.transpose(0, 2, 1)).double()
    order, codes = _condition_codes(labels)
    if codes is None:
        return noise_correlation(counts, max_lag=0)[0].numpy()
    return noise_correlation(counts, 0, conditions=codes, n_conditions=len(order))[0].numpy()


def _condition_codes(labels: list | None) -> tuple[tuple, torch.Tensor | None]:
    """The conditions in order and each trial's index into them, shape (n_trials,) (None without)."""
    order = _condition_order(labels)
    if labels is None:
        return order, None
    return order, torch.tensor([order.index(label) for label in labels])


def _spike_counts(trains: _Trains) -> np.ndarray:
    """Spikes of every train, (n_trials, n_units): ``len`` of each SpikeTrain, as Elephant counts."""
    return trains.flat.lengths.reshape(trains.n_trials, trains.n_units).astype(np.float64)


def _fano_factors(labels: list | None, spike_counts: np.ndarray) -> np.ndarray:
    """Fano factor of whole-trial counts of each condition's trials, per unit.

    ``elephant.statistics.fanofactor`` (``var / mean`` of the trains' spike counts, ``ddof=0``)
    over the trials of one condition at a time (a response that differs between conditions is
    not variability): shape (n_conditions, n_units), the conditions in the order of
    :func:`condition_psths`; NaN for a unit silent in a condition.
    """
    order, codes = _condition_codes(labels)
    per_trial = torch.from_numpy(spike_counts)[:, None]  # (n_trials, 1 bin, n_units)
    return _condition_fano_factors(per_trial, codes, len(order)).numpy()


def _rates(trains: _Trains, spike_counts: np.ndarray) -> np.ndarray:
    """Mean rate per unit over trials, Hz: ``mean_firing_rate`` of each train (spikes / duration)."""
    flat = trains.flat
    durations = (flat.t_stops - flat.t_starts) * _seconds(flat.units)
    return (spike_counts / durations.reshape(spike_counts.shape)).mean(axis=0)


@dataclass(frozen=True)
class BlockStatistics:
    """What :func:`compare_statistics` compares, computed once per Block (binned by Elephant's rules).

    Attributes
    ----------
    psth : np.ndarray
        Shape (n_conditions, n_bins, n_units), Hz, at the fitting bin: each condition's PSTH.
    conditions : tuple
        The conditions of ``psth`` (sorted by text; ``(None,)`` without conditions).
    noise_correlations : dict of {str: np.ndarray}
        ``{"10 ms": matrix, ...}``, each (n_units, n_units), dimensionless, at the fitting and
        the coarse bin (keys: the bin sizes in ms).
    rates : np.ndarray
        Shape (n_units,): mean rate (Hz).
    fano_factors : np.ndarray
        Shape (n_conditions, n_units): Fano factor (dimensionless) of whole-trial counts of each
        condition.

    Examples
    --------
    >>> import quantities as pq
    >>> from elephant_fit import to_neo
    >>> from elephant_fit.evaluation import BlockStatistics, block_statistics
    >>> from elephant_fit.network import use_loop
    >>> from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata
    >>> truth = hidden_input_network(n_recorded=3, n_hidden=2, n_bins=20, seed=0)
    >>> with use_loop("torch"):
    ...     block = to_neo(sample_spikedata(truth, n_trials=8, seed=1).recorded())
    >>> statistics = block_statistics(block, 10 * pq.ms)
    >>> isinstance(statistics, BlockStatistics), statistics.conditions
    (True, (None,))
    >>> statistics.psth.shape, statistics.rates.shape, statistics.fano_factors.shape
    ((1, 20, 3), (3,), (1, 3))
    >>> {label: matrix.shape for label, matrix in statistics.noise_correlations.items()}
    {'10 ms': (3, 3), '50 ms': (3, 3)}
    """

    psth: np.ndarray
    conditions: tuple
    noise_correlations: dict[str, np.ndarray]
    rates: np.ndarray
    fano_factors: np.ndarray


def _label(size: pq.Quantity) -> str:
    return f"{float(size.rescale('ms').magnitude):g} ms"


def block_statistics(
    block: neo.Block, bin_size: pq.Quantity, coarse_bin_size: pq.Quantity = 50 * pq.ms
) -> BlockStatistics:
    """PSTH, noise correlations (two bins), rates and Fano factors of one Block.

    Each bin size is binned once, by ``BinnedSpikeTrain``'s rules; the PSTH, mean rates and
    Fano factors are ``time_histogram``'s, ``mean_firing_rate``'s and ``fanofactor``'s
    definitions (see the module's notes).

    Parameters
    ----------
    block : neo.Block
        Trials (one Segment per trial), n_units spike trains each.
    bin_size, coarse_bin_size : pq.Quantity
        The fitting bin and a coarser bin for the noise correlations (time quantities).

    Returns
    -------
    BlockStatistics
        The PSTH of each condition (n_conditions, n_bins, n_units) in Hz, the noise-correlation
        matrices (n_units, n_units) at both bins, the mean rates (n_units,) in Hz and the Fano
        factors (n_conditions, n_units).

    Examples
    --------
    >>> import quantities as pq
    >>> from elephant_fit import to_neo
    >>> from elephant_fit.evaluation import block_statistics
    >>> from elephant_fit.network import use_loop
    >>> from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata
    >>> truth = hidden_input_network(n_recorded=3, n_hidden=2, n_bins=20, seed=0)
    >>> with use_loop("torch"):
    ...     block = to_neo(sample_spikedata(truth, n_trials=8, seed=1).recorded())
    >>> statistics = block_statistics(block, 10 * pq.ms, coarse_bin_size=50 * pq.ms)
    >>> statistics.psth.shape  # (n_conditions, n_bins, n_units), Hz
    (1, 20, 3)
    >>> sorted(statistics.noise_correlations)
    ['10 ms', '50 ms']
    """
    labels = block_conditions(block)
    trains = _block_trains(block)
    counts = _bin(trains, bin_size)  # one binning per bin size
    conditions, psth = _condition_psths(counts, labels, bin_size)
    coarse = _bin(trains, coarse_bin_size)
    spike_counts = _spike_counts(trains)
    return BlockStatistics(
        psth=psth,
        conditions=conditions,
        noise_correlations={
            _label(bin_size): _noise_correlations(counts, labels),
            _label(coarse_bin_size): _noise_correlations(coarse, labels),
        },
        rates=_rates(trains, spike_counts),
        fano_factors=_fano_factors(labels, spike_counts),
    )


def compare_statistics(model: BlockStatistics, data: BlockStatistics) -> dict[str, float]:
    """The comparison row of :func:`compare_blocks`, from statistics computed once per Block.

    Parameters
    ----------
    model, data : BlockStatistics
        Statistics (:func:`block_statistics`) of simulated and recorded trials: the same units,
        conditions and bin sizes.

    Returns
    -------
    dict of str to float
        ``"PSTH R2"`` (all conditions' PSTHs), ``"NC R2 (<bin>)"`` and ``"NC r (<bin>)"`` of the
        off-diagonal noise correlations at each bin, ``"mean-rate error (Hz)"`` and
        ``"Fano-factor error"`` (mean absolute differences over units; dimensionless R^2, r and
        Fano factors).

    Raises
    ------
    ArgumentValueError
        If the two have different conditions.

    Examples
    --------
    >>> import quantities as pq
    >>> from elephant_fit import to_neo
    >>> from elephant_fit.evaluation import block_statistics, compare_statistics
    >>> from elephant_fit.network import use_loop
    >>> from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata
    >>> truth = hidden_input_network(n_recorded=3, n_hidden=2, n_bins=20, seed=0)
    >>> with use_loop("torch"):
    ...     block = to_neo(sample_spikedata(truth, n_trials=8, seed=1).recorded())
    >>> statistics = block_statistics(block, 10 * pq.ms)
    >>> row = compare_statistics(statistics, statistics)  # the data against themselves
    >>> row["PSTH R2"], row["mean-rate error (Hz)"], row["Fano-factor error"]
    (1.0, 0.0, 0.0)
    """
    if model.conditions != data.conditions:
        raise ArgumentValueError(
            f"Expected simulated trials of the recorded conditions {list(data.conditions)}, but "
            f"got {list(model.conditions)}."
        )
    row = {"PSTH R2": r2_score(data.psth, model.psth)}  # every condition's PSTH
    for label, matrix in data.noise_correlations.items():
        fit = matrix_fit(model.noise_correlations[label], matrix)
        row[f"NC R2 ({label})"], row[f"NC r ({label})"] = fit["r2"], fit["r"]
    row["mean-rate error (Hz)"] = float(np.mean(np.abs(model.rates - data.rates)))
    fano = np.abs(model.fano_factors - data.fano_factors)
    row["Fano-factor error"] = float(np.nanmean(fano)) if np.isfinite(fano).any() else float("nan")
    return row


def compare_blocks(
    model: neo.Block,
    data: neo.Block,
    bin_size: pq.Quantity,
    coarse_bin_size: pq.Quantity = 50 * pq.ms,
) -> dict[str, float]:
    """Statistics of simulated vs recorded trials, computed with Elephant's definitions on the Neo objects.

    Parameters
    ----------
    model, data : neo.Block
        Simulated and recorded trials (one Segment per trial, the same units).
    bin_size : pq.Quantity
        The fitting bin.
    coarse_bin_size : pq.Quantity, optional
        A coarser bin for the noise correlations.

    Returns
    -------
    dict of str to float
        PSTH R^2, noise-correlation R^2 and r at both bins (off-diagonal pairs), mean-rate error
        (Hz) and Fano-factor error (mean absolute differences over units): see
        :func:`compare_statistics`.

    Examples
    --------
    >>> import quantities as pq
    >>> from elephant_fit import to_neo
    >>> from elephant_fit.evaluation import compare_blocks
    >>> from elephant_fit.network import use_loop
    >>> from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata
    >>> truth = hidden_input_network(n_recorded=3, n_hidden=2, n_bins=20, seed=0)
    >>> with use_loop("torch"):
    ...     data = to_neo(sample_spikedata(truth, n_trials=8, seed=1).recorded())
    ...     model = to_neo(sample_spikedata(truth, n_trials=8, seed=2).recorded())
    >>> row = compare_blocks(model, data, 10 * pq.ms)
    >>> list(row)
    ['PSTH R2', 'NC R2 (10 ms)', 'NC r (10 ms)', 'NC R2 (50 ms)', 'NC r (50 ms)',
     'mean-rate error (Hz)', 'Fano-factor error']
    >>> row["mean-rate error (Hz)"] >= 0
    True
    """
    return compare_statistics(
        block_statistics(model, bin_size, coarse_bin_size),
        block_statistics(data, bin_size, coarse_bin_size),
    )


def model_row(
    fitter: NetworkFitter,
    data: SpikeData,
    data_statistics: BlockStatistics,
    n_trials: int,
    seed: int,
    n_particles: int = 256,
) -> tuple[dict[str, float], neo.Block, BlockStatistics]:
    """The one comparison of a fitted model with recorded trials, printed by ``fit``, ``report`` and ``demo``.

    Parameters
    ----------
    fitter : NetworkFitter
        A fitted estimator.
    data : SpikeData
        The recorded trials (held out from the fit, for an honest comparison).
    data_statistics : BlockStatistics
        ``block_statistics(to_neo(data), fitter.bin_size_)``, computed once for all models.
    n_trials : int
        Trials to simulate (:func:`n_simulated_trials`).
    seed : int
        Seed of the simulation.
    n_particles : int, optional
        Particles of the held-out likelihood of a model with hidden neurons.

    Returns
    -------
    row : dict
        ``bits/spike`` and its ``s.e.`` (:meth:`NetworkFitter.log_likelihood` on ``data``), then
        the rows of :func:`compare_statistics`.
    simulated : neo.Block
        The simulated trials.
    statistics : BlockStatistics
        Their statistics.
    """
    # the recorded trials' own conditions and covariates, cycled to n_trials
    which = np.arange(n_trials) % data.n_trials
    conditions = None if data.conditions is None else [data.conditions[k] for k in which]
    covariates = None if data.covariates is None else data.covariates[torch.from_numpy(which)]
    simulated = fitter.simulate(n_trials, seed=seed, conditions=conditions, covariates=covariates)
    statistics = block_statistics(simulated, fitter.bin_size_)
    likelihood = fitter.log_likelihood(data, n_particles=n_particles)
    row = {
        "bits/spike": likelihood.bits_per_spike,
        "bits/spike s.e.": likelihood.standard_error,
        **compare_statistics(statistics, data_statistics),
    }
    return row, simulated, statistics


def write_table(
    rows: dict[str, dict[str, Any]], out: str | Path, name: str = "report"
) -> tuple[Path, Path]:
    """Write ``{column: {metric: value}}`` as Markdown and JSON.

    Parameters
    ----------
    rows : dict of str to dict
        ``{column: {metric: value}}``, e.g. one :func:`compare_blocks` row per model; a metric
        missing from a column gives an empty cell. Floats are shown with 3 decimals (4 for
        metrics whose name has ``s.e.``); the JSON keeps them whole.
    out : str or Path
        The folder to write into (created if missing).
    name : str, optional
        Stem of the file names.

    Returns
    -------
    markdown : Path
        The Markdown table, ``out / f"{name}.md"``: one row per metric, one column per key of
        ``rows``.
    json : Path
        The same values as JSON, ``out / f"{name}.json"``.

    Examples
    --------
    >>> import tempfile
    >>> from elephant_fit.evaluation import write_table
    >>> rows = {"model": {"PSTH R2": 0.81234, "bits/spike s.e.": 0.00123}, "data": {"PSTH R2": 1.0}}
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     markdown, as_json = write_table(rows, folder, name="table")
    ...     print(markdown.name, as_json.name)
    ...     print(markdown.read_text(), end="")
    table.md table.json
    | metric | model | data |
    |---|---|---|
    | PSTH R2 | 0.812 | 1.000 |
    | bits/spike s.e. | 0.0012 |  |
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    columns = list(rows)
    metrics = list(dict.fromkeys(key for row in rows.values() for key in row))
    lines = ["| metric | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for metric in metrics:
        cells = [_format(rows[column].get(metric), _digits(metric)) for column in columns]
        lines.append(f"| {metric} | " + " | ".join(cells) + " |")
    markdown = out / f"{name}.md"
    markdown.write_text("\n".join(lines) + "\n")
    as_json = out / f"{name}.json"
    as_json.write_text(json.dumps(rows, indent=2, default=float))
    return markdown, as_json


def _digits(metric: str) -> int:
    """Decimals shown for a metric: 4 for standard errors (often below 0.001), else 3."""
    return 4 if "s.e." in metric else 3


def _format(value: Any, digits: int = 3) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)
