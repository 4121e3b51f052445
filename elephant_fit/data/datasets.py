"""Bundled recordings, returned as Neo objects."""

from __future__ import annotations

from importlib import resources

import neo
import numpy as np
import quantities as pq

from .._validation import describe
from ..errors import ArgumentValueError

__all__ = [
    "KRAMER_CITATION",
    "RETINA_CITATION",
    "load_place_cell",
    "load_reaching_unit",
    "load_retina",
]

#: How to cite the salamander retina recordings of :func:`load_retina` (Onken et al. 2016;
#: data CC0 on Dryad). The loaded Block repeats it in its ``citation`` annotation.
RETINA_CITATION = (
    "Onken A, Liu JK, Karunasekara PPCR, Delis I, Gollisch T, Panzeri S (2016) Using Matrix and "
    "Tensor Factorizations for the Single-Trial Analysis of Population Spike Trains. PLoS Comput "
    "Biol 12(11): e1005189. doi:10.1371/journal.pcbi.1005189. Data: Dryad doi:10.5061/dryad.4ch10 (CC0)."
)
#: How to cite the recordings of :func:`load_place_cell` and :func:`load_reaching_unit`
#: (Kramer & Eden 2016; data MIT licence). The loaded Blocks repeat it in their ``citation``
#: annotation.
KRAMER_CITATION = (
    "Kramer MA, Eden UT (2016) Case Studies in Neural Data Analysis: A Guide for the Practicing "
    "Neuroscientist. MIT Press. Data: github.com/Mark-Kramer/Case-Studies-Python, matfiles/ "
    "(MIT licence, Copyright (c) 2023 Mark Kramer)."
)
_RETINA_FILES = {1: "Movie1Exp1.mat", 2: "Movie1Exp2.mat"}
_MOVIE_DURATION_MS = 18000.0


def load_retina(recording: int = 1) -> neo.Block:
    """Salamander retinal ganglion cells, 30 repeats of an 18 s natural movie (Onken et al. 2016).

    Parameters
    ----------
    recording : {1, 2}, optional
        Recording 1 (38 neurons, ~27,000 spikes) or 2 (49 neurons, ~77,000 spikes).

    Returns
    -------
    neo.Block
        One Segment per repeat (``trial`` annotation), one SpikeTrain per neuron in ms on
        [0, 18000] ms after stimulus onset (annotated ``unit_id``), one ``neo.Group`` per neuron
        linking its trains, and the source and citation in the Block's annotations.

    Raises
    ------
    ArgumentValueError
        If ``recording`` is neither 1 nor 2.

    Examples
    --------
    >>> block = load_retina()  # reads a bundled .mat file, about a second
    >>> len(block.segments), len(block.groups)  # 30 repeats, 38 neurons
    (30, 38)
    >>> train = block.segments[0].spiketrains[0]
    >>> train.units.dimensionality.string, float(train.t_stop), train.annotations["unit_id"]
    ('ms', 18000.0, 0)
    >>> block.annotations["citation"] == RETINA_CITATION
    True
    """
    from scipy.io import loadmat  # scipy comes with elephant

    if isinstance(recording, bool) or recording not in _RETINA_FILES:
        raise ArgumentValueError(
            f"Expected `recording` to be 1 or 2, but got {describe(recording)}."
        )
    name = _RETINA_FILES[recording]
    with resources.as_file(
        resources.files("elephant_fit") / "data" / "retina_onken2016" / name
    ) as path:
        spikes = loadmat(str(path))["Spikes"]  # object array (n_neurons, n_trials)
    n_neurons, n_trials = spikes.shape
    block = neo.Block(
        name=f"salamander retina, natural movie, recording {recording}",
        source="Onken et al. 2016, Dryad doi:10.5061/dryad.4ch10",
        citation=RETINA_CITATION,
        licence="CC0",
        file=name,
    )
    groups = [neo.Group(name=f"cell {j}", unit_id=j) for j in range(n_neurons)]
    for k in range(n_trials):
        segment = neo.Segment(name=f"repeat {k}", trial=k)
        for j in range(n_neurons):
            times = np.sort(np.asarray(spikes[j, k], dtype=np.float64).reshape(-1))
            train = neo.SpikeTrain(
                times,
                t_start=0.0,
                t_stop=_MOVIE_DURATION_MS,
                units="ms",
                name=f"cell {j}",
                unit_id=j,
            )
            segment.spiketrains.append(train)
            groups[j].add(train)
        block.segments.append(segment)
    block.groups.extend(groups)
    block.check_relationships()
    return block


def _load_kramer(name: str) -> dict:
    """The variables of one bundled Kramer & Eden .mat file."""
    from scipy.io import loadmat

    folder = resources.files("elephant_fit") / "data" / "kramer_casestudies"
    with resources.as_file(folder / name) as path:
        return loadmat(str(path))


def _kramer_block(name: str, file: str) -> neo.Block:
    """An empty Block annotated with the source, citation and licence of a Kramer file."""
    return neo.Block(
        name=name,
        source="Kramer & Eden 2016, Case-Studies-Python matfiles",
        citation=KRAMER_CITATION,
        licence="MIT",
        file=file,
    )


def load_place_cell() -> neo.Block:
    """A rat hippocampal place cell on a linear track, with the animal's position (Kramer & Eden).

    Returns
    -------
    neo.Block
        One continuous Segment of 177.761 s: a SpikeTrain ``"place cell"`` (220 spikes, in s,
        annotated ``unit_id``) and an AnalogSignal ``"position"`` (cm, shape (177761, 1), sampled
        at 1 kHz from t = 1 ms, as in the file). The train spans the signal's samples
        ``[t_start, t_stop)``; cite :data:`KRAMER_CITATION`.

    Examples
    --------
    >>> import quantities as pq
    >>> from elephant_fit.data import from_neo
    >>> block = load_place_cell()
    >>> data = from_neo(block, 100 * pq.ms, window=10 * pq.s, covariates=["position"])
    ... # doctest: +SKIP
    """
    mat = _load_kramer("spikes-1.mat")
    times = np.asarray(mat["t"], dtype=np.float64).reshape(-1)
    position = np.asarray(mat["X"], dtype=np.float64).reshape(-1, 1)
    spikes = np.sort(np.asarray(mat["spiketimes"], dtype=np.float64).reshape(-1))
    signal = neo.AnalogSignal(
        position, units="cm", sampling_rate=1 * pq.kHz, t_start=times[0] * pq.s, name="position"
    )
    train = neo.SpikeTrain(
        spikes,
        units="s",
        t_start=signal.t_start,
        t_stop=signal.t_stop,
        name="place cell",
        unit_id="place cell",
    )
    block = _kramer_block("rat hippocampal place cell, linear track", "spikes-1.mat")
    segment = neo.Segment(name="session")
    segment.spiketrains.append(train)
    segment.analogsignals.append(signal)
    block.segments.append(segment)
    block.check_relationships()
    return block


#: Length of one trial of the reaching task (the file's 2000 bins of 1 ms), in ms.
_REACH_TRIAL_MS = 2000
_DIRECTIONS = ("left", "right")


def load_reaching_unit() -> neo.Block:
    """A human subthalamic-nucleus unit in a left/right joystick task, as one continuous session.

    The file holds 50 trials already cut (1 ms bins, -1 s .. +1 s around the GO cue, 25 per
    direction). They are laid end to end as a lab would store the session: trial ``k`` spans
    ``[2 k, 2 k + 2)`` s, its GO cue at ``2 k + 1`` s, and a spike in bin ``b`` of trial ``k`` is
    at ``2000 k + b`` ms (the bin's left edge).

    Returns
    -------
    neo.Block
        One Segment with a SpikeTrain ``"STN unit"`` (ms, 0 .. 100000 ms, annotated
        ``unit_id``) and an Event ``"go"`` at each GO cue with labels ``"left"``/``"right"``
        and array annotations ``direction`` (0 = left, 1 = right) and ``trial``. Cite
        :data:`KRAMER_CITATION`.

    Examples
    --------
    >>> import quantities as pq
    >>> from elephant_fit.data import from_neo
    >>> data = from_neo(load_reaching_unit(), 10 * pq.ms, trials="go",
    ...                 window=(-1 * pq.s, 1 * pq.s), condition="labels")
    >>> data.counts.shape, data.condition_labels
    (torch.Size([50, 200, 1]), ('left', 'right'))
    """
    mat = _load_kramer("10_spikes-1.mat")
    train = np.asarray(mat["train"], dtype=np.int64)  # (50, 2000), 0/1 per 1 ms bin
    direction = np.asarray(mat["direction"], dtype=np.int64).reshape(-1)
    n_trials, n_bins = train.shape
    trial, spike_bin = np.nonzero(train)
    times = np.repeat(trial * _REACH_TRIAL_MS + spike_bin, train[trial, spike_bin])
    segment = neo.Segment(name="session")
    segment.spiketrains.append(
        neo.SpikeTrain(
            times.astype(np.float64),
            units="ms",
            t_start=0.0,
            t_stop=float(n_trials * _REACH_TRIAL_MS),
            name="STN unit",
            unit_id="STN unit",
        )
    )
    go = neo.Event(
        (np.arange(n_trials) * _REACH_TRIAL_MS + n_bins // 2).astype(np.float64) * pq.ms,
        labels=np.array([_DIRECTIONS[d] for d in direction]),
        name="go",
    )
    go.array_annotate(direction=direction, trial=np.arange(n_trials))
    segment.events.append(go)
    block = _kramer_block("human STN unit, joystick task", "10_spikes-1.mat")
    block.segments.append(segment)
    block.check_relationships()
    return block
