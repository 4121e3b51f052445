"""Pickled recordings never run code: the allow-list of the safe unpickler (data/_pickle.py).

Malicious pickles are refused before anything of them runs, at the top level or inside an
annotation; genuine neo pickles of every protocol are read; ``trust_pickle`` reads other classes.
"""

from __future__ import annotations

import builtins
import datetime
import fractions
import os
import pickle
import subprocess
import sys
from pathlib import Path

import neo
import numpy as np
import pytest
import quantities as pq
from helpers import one_error as _one_error
from helpers import small_spikedata as _data

from elephant_fit import (
    from_neo,
    read_block,
    to_neo,
    write_block,
)
from elephant_fit.cli.commands import main
from elephant_fit.errors import UnsafeFileError


class _Reduce:
    """Pickles as ``function(*args)``: what a malicious pickle runs on load."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def _payloads(marker: Path):
    touch = f"open({str(marker)!r}, 'w').close()"
    return {
        "os.system": _Reduce(os.system, f"touch {marker}"),  # pickled as posix.system
        "builtins.eval": _Reduce(builtins.eval, touch),
        "builtins.exec": _Reduce(builtins.exec, touch),
        "subprocess.call": _Reduce(subprocess.call, ["touch", str(marker)]),
    }


@pytest.mark.parametrize(
    "refused", ["os.system", "builtins.eval", "builtins.exec", "subprocess.call"]
)
@pytest.mark.parametrize("where", ["top", "annotation"])
def test_a_malicious_pickle_is_refused_and_never_runs(tmp_path, refused, where):
    marker = tmp_path / "pwned"
    payload = _payloads(marker)[refused]
    if where == "annotation":  # hidden inside a genuine Block
        block = to_neo(_data())
        block.segments[0].annotations["condition"] = payload
        payload = block
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(payload))
    for read in (read_block, lambda p: from_neo(p, 10 * pq.ms)):
        named = f"{os.system.__module__}.system" if refused == "os.system" else refused
        with pytest.raises(UnsafeFileError, match=named.replace(".", r"\.")) as info:
            read(path)
        assert str(path) in str(info.value)
        assert "trust_pickle=True" in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("raw", "refused"),
    [
        (b"cnumpy\nload\n(S'x.npy'\ntR.", "numpy.load"),  # a module we allow, a function we do not
        (b"cneo.core.spiketrain\nnp\n.", "neo.core.spiketrain.np"),  # a module, not a class
        (b"cneo.core.baseneo\nmerge_annotations\n.", "merge_annotations"),
        (b"\x80\x04\x8c\x0eneo.core.block\x8c\x1aBlock.__init__.__globals__\x93.", "__globals__"),
        (b"cantigravity\nfly\n.", "antigravity.fly"),  # never imported
    ],
    ids=["numpy.load", "module attribute", "neo function", "dotted name", "unknown module"],
)
def test_the_allow_list_is_narrow(tmp_path, raw, refused):
    path = tmp_path / "evil.pkl"
    path.write_bytes(raw)
    with pytest.raises(UnsafeFileError, match=refused.replace(".", r"\.")):
        read_block(path)
    assert "antigravity" not in sys.modules


def _rich_block() -> neo.Block:
    """A Block with the objects and annotation types Neo users put in pickles."""
    block = to_neo(_data())
    block.rec_datetime = datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.timezone.utc)
    block.annotate(date=datetime.date(2024, 5, 1), nested={"a": [1, 2.5, "x"]}, flag=True)
    segment = block.segments[0]
    segment.annotate(contrast=np.float64(0.5), n=np.int64(3), kind=np.str_("on"))
    segment.analogsignals.append(
        neo.AnalogSignal(
            np.zeros((5, 2)),
            units="mV",
            sampling_rate=1 * pq.kHz,
            array_annotations={"channel": np.array(["a", "b"])},
            ids=np.arange(3),
        )
    )
    segment.events.append(neo.Event(np.array([0.1, 0.2]) * pq.s, labels=np.array(["go", "stop"])))
    segment.epochs.append(
        neo.Epoch(np.array([0.0]) * pq.s, durations=[0.1] * pq.s, labels=np.array(["stim"]))
    )
    segment.irregularlysampledsignals.append(
        neo.IrregularlySampledSignal([0.0, 0.1] * pq.s, [1.0, 2.0] * pq.nA)
    )
    return block


@pytest.mark.parametrize("protocol", [2, pickle.DEFAULT_PROTOCOL, pickle.HIGHEST_PROTOCOL])
def test_genuine_neo_pickles_are_read(tmp_path, protocol):
    block = _rich_block()
    path = tmp_path / "rec.pkl"
    if protocol == pickle.DEFAULT_PROTOCOL:
        neo.io.PickleIO(str(path)).write_block(block)  # what neo writes
    else:
        path.write_bytes(pickle.dumps(block, protocol=protocol))
    read = read_block(path)
    assert read.annotations == block.annotations
    assert read.rec_datetime == block.rec_datetime
    segment = read.segments[0]
    assert segment.annotations["kind"] == "on"
    np.testing.assert_array_equal(segment.analogsignals[0].annotations["ids"], np.arange(3))
    assert list(segment.analogsignals[0].array_annotations["channel"]) == ["a", "b"]
    assert list(segment.events[0].labels) == ["go", "stop"]
    assert segment.irregularlysampledsignals[0].units == pq.nA
    assert len(read.groups) == len(block.groups)
    assert from_neo(path, 10 * pq.ms) == from_neo(block, 10 * pq.ms)


def test_pickles_written_by_write_block_are_read(tmp_path):
    data = _data()
    path = write_block(to_neo(data), tmp_path / "rec.pickle")
    assert from_neo(path, 10 * pq.ms) == data


def test_trust_pickle_reads_other_classes(tmp_path):
    block = to_neo(_data())
    block.annotate(ratio=fractions.Fraction(1, 3))
    path = tmp_path / "rec.pkl"
    neo.io.PickleIO(str(path)).write_block(block)
    with pytest.raises(UnsafeFileError, match=r"fractions\.Fraction"):
        read_block(path)
    assert read_block(path, trust_pickle=True).annotations["ratio"] == fractions.Fraction(1, 3)
    with pytest.raises(TypeError, match="trust_pickle"):
        read_block(path, trust_pickle="yes")


def test_the_command_line_refuses_a_malicious_pickle(files, tmp_path, capsys):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps(_payloads(marker)["os.system"]))
    assert main(["fit", str(evil), "--out", str(tmp_path / "m.pt"), "--quiet"]) == 2
    _one_error(capsys, f"{os.system.__module__}.system", str(evil), "--trust-pickle")
    assert main(["report", str(files["model"]), str(evil), "--out", str(tmp_path / "r")]) == 2
    _one_error(capsys, f"{os.system.__module__}.system")
    assert not marker.exists()
    assert not (tmp_path / "m.pt").exists()
