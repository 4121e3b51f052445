"""Model files (fitting/model_file.py): corrupt or malformed files are refused in one line and never
loaded with changed parameters; buffers are rebuilt from the hyper-parameters, not read.
"""

from __future__ import annotations

import re
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import quantities as pq
import torch
from helpers import one_error as _one_error

from elephant_fit import (
    NetworkFitter,
    load_model,
)
from elephant_fit.cli.commands import main
from elephant_fit.errors import ModelFileError
from elephant_fit.fitting.model_file import checksum
from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata


def _parameters(fitter) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in fitter.model_.named_parameters()}


@pytest.fixture(scope="module")
def large_model(tmp_path_factory):
    """A model whose parameters are most of its file (16 neurons, 8 lags, free drive)."""
    truth = hidden_input_network(n_recorded=16, n_hidden=0, n_bins=30, seed=4)
    data = sample_spikedata(truth, 6, 10 * pq.ms, seed=5)
    fitter = NetworkFitter(n_lags=8, drive="free", max_iterations=1, progress=False).fit(data)
    path = tmp_path_factory.mktemp("large") / "model.pt"
    fitter.save(path)
    return fitter, path


def test_flipped_bytes_never_load_changed_parameters(large_model, tmp_path):
    fitter, model = large_model
    original = model.read_bytes()
    expected = _parameters(fitter)
    outcomes = {"refused": 0, "equal": 0}
    messages: list[str] = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        damaged = bytearray(original)
        for position in rng.choice(len(damaged), size=5, replace=False):
            damaged[position] ^= int(rng.integers(1, 256))
        path = tmp_path / f"damaged{seed}.pt"
        path.write_bytes(bytes(damaged))
        try:
            loaded = _parameters(load_model(path))
        except ModelFileError as error:
            messages.append(str(error))
            outcomes["refused"] += 1
            continue
        assert loaded.keys() == expected.keys()
        for name, value in expected.items():
            assert torch.equal(loaded[name], value), (seed, name)
        outcomes["equal"] += 1
    assert outcomes["refused"] >= 30, outcomes  # most flips hit the data
    assert not [message for message in messages if "\n" in message]


def test_a_flipped_bit_in_any_parameter_is_refused(large_model, tmp_path):
    fitter, model = large_model
    original = model.read_bytes()
    state = torch.load(model, weights_only=True)
    archive = zipfile.ZipFile(model)
    for name in dict(fitter.model_.named_parameters()):
        storage = state["state_dict"][name].untyped_storage()
        record = next(
            info
            for info in archive.infolist()
            if info.file_size == storage.nbytes()
            and archive.read(info) == bytes(storage.cpu().tolist())
        )
        header = record.header_offset
        name_length, extra_length = struct.unpack("<HH", original[header + 26 : header + 30])
        start = header + 30 + name_length + extra_length
        damaged = bytearray(original)
        damaged[start + record.file_size // 2] ^= 0x01  # one low mantissa bit, still finite
        path = tmp_path / f"{name}.pt"
        path.write_bytes(bytes(damaged))
        with pytest.raises(ModelFileError, match="checksum"):
            load_model(path)


def _edited(files, tmp_path, edit, seal=True) -> Path:
    state = torch.load(files["model"], weights_only=True)
    edit(state)
    if seal:
        state["sha256"] = checksum(state)
    path = tmp_path / "edited.pt"
    torch.save(state, path)
    return path


def _set(tensor_name, index, value):
    def edit(state):
        state["state_dict"][tensor_name].view(-1)[index] = value

    return edit


EDITS = {
    "NaN bias": (_set("bias", 0, float("nan")), True, "NaN or inf in the parameter 'bias'"),
    "inf weight": (_set("coupling_weights", 3, float("inf")), True, "'coupling_weights'"),
    "unsealed edit": (_set("bias", 0, 1.0), False, "checksum"),
    "no checksum": (lambda s: s.pop("sha256"), False, "no checksum"),
    "missing meta": (lambda s: s["meta"].pop("n_bins"), True, "n_bins"),
    "missing tensor": (lambda s: s["state_dict"].pop("bias"), True, "missing ['bias']"),
    "wrong shape": (
        lambda s: s["state_dict"].__setitem__("bias", torch.zeros(7)),
        True,
        "shape (7,)",
    ),
    "wrong type": (lambda s: s["params"].__setitem__("n_lags", "two"), True, "n_lags"),
    "not a dict": (lambda s: s.__setitem__("state_dict", [1, 2]), True, "malformed"),
    "bad window": (lambda s: s["meta"].__setitem__("bin_size", -1.0), True, "bin size"),
    "bad dtype": (lambda s: s["params"].__setitem__("dtype", "int64"), True, "dtype"),
}


@pytest.mark.parametrize("label", list(EDITS))
def test_malformed_model_files_are_one_line_errors(files, tmp_path, capsys, label):
    edit, seal, message = EDITS[label]
    path = _edited(files, tmp_path, edit, seal)
    with pytest.raises(ModelFileError, match=re.escape(message)):
        load_model(path)
    argv = ["simulate", str(path), "--trials", "2", "--out", str(tmp_path / "s.pkl")]
    assert main(argv) == 2
    _one_error(capsys, "simulate")


def test_buffers_are_rebuilt_not_read(files, tmp_path):
    def zero_mask(state):
        state["state_dict"]["coupling_mask"].zero_()

    fitter = load_model(_edited(files, tmp_path, zero_mask))
    assert torch.equal(fitter.model_.coupling_mask, files["fitter"].model_.coupling_mask)
    np.testing.assert_array_equal(fitter.coupling_, files["fitter"].coupling_)
