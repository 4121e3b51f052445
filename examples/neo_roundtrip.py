"""Neo Block -> SpikeData -> Neo Block, checked against Elephant.

A synthetic repeated-trial experiment (stimulus-locked Poisson units) is built as a neo.Block, binned
with elephant_fit.from_neo, compared bin for bin with elephant.conversion.BinnedSpikeTrain, turned
back into a neo.Block with to_neo, written to disk with neo.io and read back.

Run: python examples/neo_roundtrip.py [--out DIR] [--trials N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import neo
import numpy as np
import quantities as pq
from elephant.conversion import BinnedSpikeTrain
from elephant.statistics import time_histogram

import elephant_fit as ef


def make_block(n_trials: int, n_units: int, seed: int = 0) -> neo.Block:
    """Repeated trials of stimulus-locked inhomogeneous Poisson units, one Group per unit."""
    rng = np.random.default_rng(seed)
    duration, dt = 2.0, 1e-4
    grid = np.arange(0.0, duration, dt)
    phases = rng.uniform(0, 2 * np.pi, n_units)
    rates = 5.0 + 15.0 * (1 + np.sin(2 * np.pi * 1.5 * grid[:, None] + phases))  # Hz
    block = neo.Block(name="synthetic experiment", experimenter="elephant-fit example")
    groups = [neo.Group(name=f"unit {j}", unit_id=j, area="V1") for j in range(n_units)]
    for k in range(n_trials):
        segment = neo.Segment(name=f"trial {k}", stimulus="grating")
        spikes = rng.random((grid.size, n_units)) < rates * dt
        for j in range(n_units):
            train = neo.SpikeTrain(grid[spikes[:, j]] * 1000, t_stop=duration * 1000, units="ms")
            segment.spiketrains.append(train)
            groups[j].add(train)
        block.segments.append(segment)
    block.groups.extend(groups)
    block.check_relationships()
    return block


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("elephant-fit-example"))
    parser.add_argument("--trials", type=int, default=50)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    block = make_block(args.trials, n_units=12)
    start = time.perf_counter()
    data = ef.from_neo(block, bin_size=10 * pq.ms)
    elapsed = time.perf_counter() - start
    print(f"from_neo: {data}  ({elapsed * 1000:.1f} ms)")

    reference = np.stack(
        [
            BinnedSpikeTrain(seg.spiketrains, bin_size=10 * pq.ms).to_array().T
            for seg in block.segments
        ]
    )
    assert np.array_equal(data.counts.numpy(), reference), "counts differ from BinnedSpikeTrain"
    print("counts equal elephant.conversion.BinnedSpikeTrain for every trial: yes")

    psth = data.counts.mean(dim=0) / data.bin_size.rescale("s").item()  # (n_bins, n_neurons), Hz
    print(f"PSTH peak rates (Hz): {np.round(psth.max(dim=0).values.numpy(), 1).tolist()}")

    train, test = data.split(test_fraction=0.2, seed=0)
    print(f"split: {train.n_trials} training trials, {test.n_trials} test trials")

    out_block = ef.to_neo(data)
    histogram = time_histogram(out_block.segments[0].spiketrains, bin_size=10 * pq.ms)
    assert np.array_equal(histogram.magnitude[:, 0], data.counts[0].sum(dim=1).numpy())
    print("elephant.statistics.time_histogram consumes the to_neo output unchanged: yes")

    path = args.out / "roundtrip.pkl"
    neo.io.PickleIO(str(path)).write_block(out_block)
    again = ef.from_neo(path, bin_size=10 * pq.ms)
    assert again == data, "round trip through a neo file changed the data"
    print(f"wrote {path} and read it back: identical SpikeData")


if __name__ == "__main__":
    main()
