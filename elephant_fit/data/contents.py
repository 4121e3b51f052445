"""What a Neo Block holds, in words: what ``elephant-fit inspect`` prints.

Segments and their durations, units, Events and Epochs with the count of each label, and
AnalogSignals with their channels, rates and units: what a user needs to know to type
``--trials``, ``--condition`` and ``--covariate``.
"""

from __future__ import annotations

from collections import Counter

import neo
import numpy as np

from .._validation import describe
from ..errors import ArgumentTypeError

__all__ = ["describe_block"]

#: Labels listed per Event or Epoch (the rest are counted).
MAX_LABELS = 12


def describe_block(block: neo.Block) -> str:
    """A few lines describing what ``block`` holds.

    Parameters
    ----------
    block : neo.Block
        E.g. from :func:`elephant_fit.read_block`.

    Returns
    -------
    str
        One line per Segment (duration, spike trains), then its Events, Epochs and
        AnalogSignals.

    Examples
    --------
    >>> import neo, quantities as pq
    >>> segment = neo.Segment()
    >>> segment.spiketrains.append(neo.SpikeTrain([0.5, 1.5] * pq.s, t_stop=2 * pq.s, name="u1"))
    >>> segment.events.append(neo.Event([0.2, 1.2] * pq.s, labels=["a", "b"], name="stim_on"))
    >>> block = neo.Block()
    >>> block.segments.append(segment)
    >>> print(describe_block(block))
    Block: 1 segment(s), 1 unit(s)
    segment 0: 0 s .. 2 s (2 s), 1 spike train(s) (2 spikes): u1
      Event 'stim_on': 2 events, labels a (1), b (1)
    """
    if not isinstance(block, neo.Block):
        raise ArgumentTypeError(f"Expected `block` to be a neo.Block, but got {describe(block)}.")
    n_units = max((len(s.spiketrains) for s in block.segments), default=0)
    lines = [f"Block: {len(block.segments)} segment(s), {n_units} unit(s)"]
    for k, segment in enumerate(block.segments):
        lines.append(_segment_line(k, segment))
        lines += [f"  Event {e.name!r}: {len(e)} events, {_labels(e)}" for e in segment.events]
        lines += [f"  Epoch {e.name!r}: {len(e)} epochs, {_labels(e)}" for e in segment.epochs]
        lines += [_signal_line(signal) for signal in segment.analogsignals]
    return "\n".join(lines)


def _segment_line(index: int, segment: neo.Segment) -> str:
    """Duration and spike trains of one Segment."""
    trains = segment.spiketrains
    if trains:
        start = min(float(t.t_start.rescale("s").magnitude) for t in trains)
        stop = max(float(t.t_stop.rescale("s").magnitude) for t in trains)
    else:
        start = (
            float(segment.t_start.rescale("s").magnitude) if segment.t_start is not None else 0.0
        )
        stop = float(segment.t_stop.rescale("s").magnitude) if segment.t_stop is not None else 0.0
    names = [str(t.annotations.get("unit_id", t.name)) for t in trains]
    shown = ", ".join(names[:MAX_LABELS]) + (", ..." if len(names) > MAX_LABELS else "")
    n_spikes = sum(len(t) for t in trains)
    return (
        f"segment {index}: {start:g} s .. {stop:g} s ({stop - start:g} s), {len(trains)} spike "
        f"train(s) ({n_spikes} spikes)" + (f": {shown}" if names else "")
    )


def _labels(marks: neo.Event | neo.Epoch) -> str:
    """The distinct labels of an Event or Epoch with their counts."""
    labels = np.asarray(marks.labels)
    if labels.size == 0 or all(str(label) == "" for label in labels):
        return "no labels"
    counts = Counter(str(label) for label in labels)
    shown = [f"{label} ({count})" for label, count in list(counts.items())[:MAX_LABELS]]
    more = len(counts) - MAX_LABELS
    return "labels " + ", ".join(shown) + (f", ... ({more} more)" if more > 0 else "")


def _signal_line(signal: neo.AnalogSignal) -> str:
    """Name, channels, rate, units and extent of an AnalogSignal."""
    rate = float(signal.sampling_rate.rescale("Hz").magnitude)
    start = float(signal.t_start.rescale("s").magnitude)
    stop = float(signal.t_stop.rescale("s").magnitude)
    return (
        f"  AnalogSignal {signal.name!r}: {signal.shape[1]} channel(s), {rate:g} Hz, "
        f"{signal.dimensionality.string}, {start:g} s .. {stop:g} s"
    )
