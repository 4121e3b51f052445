"""Bundled recordings, returned as Neo objects."""

from __future__ import annotations

from importlib import resources

import neo
import numpy as np

from .._validation import describe
from ..errors import ArgumentValueError

__all__ = ["RETINA_CITATION", "load_retina"]

RETINA_CITATION = (
    "Onken A, Liu JK, Karunasekara PPCR, Delis I, Gollisch T, Panzeri S (2016) Using Matrix and "
    "Tensor Factorizations for the Single-Trial Analysis of Population Spike Trains. PLoS Comput "
    "Biol 12(11): e1005189. doi:10.1371/journal.pcbi.1005189. Data: Dryad doi:10.5061/dryad.4ch10 (CC0)."
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
