"""read_block, write_block: NIX/NWB round trips, bad files, annotation checks, unsafe pickles."""

from __future__ import annotations

import datetime
import warnings

import neo
import numpy as np
import pytest
import quantities as pq
import torch
from helpers import poisson_block
from neo.test.tools import assert_neo_object_is_compliant

import elephant_fit as ef
from elephant_fit import SpikeData, from_neo, to_neo


# ------------------------------------------------------------------------ round trips
def test_nix_round_trip_loses_nothing(tmp_path, rng):
    counts = rng.poisson(0.7, (3, 40, 4)).astype(np.float32)
    data = SpikeData(
        counts,
        5 * pq.ms,
        t_start=0.25 * pq.s,
        unit_ids=["a", 7, "c", "d"],
        unit_annotations=[{"area": "V1"}, {"depth": 3.5}, {}, {"quality": "good"}],
        trial_annotations=[{"stimulus": f"s{k}"} for k in range(3)],
        hidden=[False, False, True, False],
        annotations={"session": "2026-11-28"},
    )
    path = tmp_path / "model.nix"
    with neo.io.NixIO(str(path), mode="ow") as io:
        io.write_block(to_neo(data, include_hidden=True))
    assert from_neo(path, data.bin_size) == data
    block = ef.read_block(path)
    assert_neo_object_is_compliant(block)
    assert block.segments[0].spiketrains[1].annotations["depth"] == 3.5


def test_nwb_round_trip_keeps_counts_ids_and_window(tmp_path, rng):
    pytest.importorskip("pynwb")
    counts = rng.poisson(0.7, (3, 40, 4)).astype(np.float32)
    data = SpikeData(
        counts,
        5 * pq.ms,
        t_start=0.25 * pq.s,
        unit_ids=["a", "b", "c", "d"],
        trial_annotations=[{"stimulus": f"s{k}"} for k in range(3)],
    )
    block = to_neo(data)
    block.segments[1].name = None
    with pytest.warns(UserWarning, match="NWB writer does not store.*Segment 'stimulus'"):
        path = ef.write_block(block, tmp_path / "rec.nwb")
    assert block.segments[1].name is None  # the caller's Block is not modified
    back = from_neo(path, data.bin_size)
    assert torch.equal(back.counts, data.counts)
    assert back.unit_ids == data.unit_ids
    assert back.t_start == data.t_start
    assert back.t_stop == data.t_stop
    assert back.trial_annotations == ({}, {}, {})  # what NWB drops, as warned
    start = datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    block.rec_datetime = start
    with pytest.warns(UserWarning, match="NWB writer"):
        ef.write_block(block, path)
    assert ef.read_block(path).annotations["session_start_time"] == start


# ------------------------------------------------------------------------ bad files
def test_unreadable_and_unknown_files(tmp_path):
    unknown = tmp_path / "notes.xyz123"
    unknown.write_text("hello")
    with pytest.raises(ValueError, match="no reader"):
        from_neo(unknown, 1 * pq.ms)
    corrupt = tmp_path / "broken.nix"
    corrupt.write_bytes(b"this is not an HDF5 file")
    with pytest.raises(ValueError, match="could not read"):
        from_neo(corrupt, 1 * pq.ms)


def test_write_block_rejects_unknown_suffixes(tmp_path):
    from elephant_fit.data.files import write_block

    with pytest.raises(ValueError, match="ending in one of"):
        write_block(neo.Block(), tmp_path / "x.txt")


# ------------------------------------------------------------------------ issue 12: files
def test_nix_warns_about_annotations_it_changes_and_refuses_none(tmp_path, rng):
    from elephant_fit.data.files import write_block

    block = poisson_block(rng)
    block.annotate(config={"a": 1, "b": {"c": 2}}, ok=[1, 2])
    block.annotations["tags"] = {"x"}  # annotate() refuses sets; the dict does not
    block.segments[0].annotate(pairs=[[1, 2], [3, 4]])
    block.groups[0].annotate(matrix=np.eye(2))
    path = tmp_path / "rec.nix"
    with pytest.warns(UserWarning, match="NIX does not store") as caught:
        write_block(block, path)
    message = str(caught[0].message)
    for name in (
        "Block 'config' (a dict)",
        "Block 'tags' (a set)",
        "Segment 'pairs' (a nested container)",
        "Group 'matrix' (a multidimensional array)",
    ):
        assert name in message
    assert "'ok'" not in message
    assert "'session'" not in message
    assert ef.read_block(path).annotations["config"] != {"a": 1, "b": {"c": 2}}  # what NIX did
    block = poisson_block(rng)
    block.segments[1].annotate(stimulus=None)
    with pytest.raises(ValueError, match=r"None annotations: Segment 'stimulus'"):
        write_block(block, tmp_path / "none.nix")
    assert not (tmp_path / "none.nix").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_block(poisson_block(rng), tmp_path / "plain.nix")  # nothing to warn about


def test_read_block_refuses_a_pickle_that_names_a_function(tmp_path):
    from elephant_fit.errors import UnsafeFileError

    path = tmp_path / "evil.pkl"
    path.write_bytes(b"cbuiltins\nprint\n(S'pwned'\ntR.")
    with pytest.raises(UnsafeFileError, match=r"builtins\.print"):
        ef.read_block(path)
