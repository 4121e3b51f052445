"""Model files: the checksum covers every part, saving is atomic, loading verifies (issue 12)."""

from __future__ import annotations

import copy
import os
import stat

import numpy as np
import pytest
import quantities as pq
import torch

from elephant_fit import NetworkFitter, load_model
from elephant_fit.fitting.model_file import checksum
from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    truth = hidden_input_network(n_recorded=3, n_hidden=1, n_bins=20, seed=1)
    data = sample_spikedata(truth, 6, 10 * pq.ms, seed=2).recorded()
    fitter = NetworkFitter(n_hidden=1, n_lags=2, max_iterations=2, progress=False).fit(data)
    path = tmp_path_factory.mktemp("persistence") / "model.pt"
    fitter.save(path)
    return fitter, path


def test_the_stored_checksum_is_that_of_the_contents(saved):
    _, path = saved
    state = torch.load(path, weights_only=True)
    assert len(state["sha256"]) == 64
    assert checksum(state) == state["sha256"]


def _changes(state):
    """Each function changes one thing of a state; every one must change the checksum."""

    def tensor(edit):
        def change(s):
            s["state_dict"]["bias"] = edit(s["state_dict"]["bias"])

        return change

    def set_in(part, key, value):
        def change(s):
            s[part][key] = value

        return change

    return {
        "one bit of a tensor": tensor(
            lambda t: t.view(torch.int32).bitwise_xor(1).view(torch.float32)
        ),
        "a tensor's dtype": tensor(lambda t: t.double()),
        "a tensor's shape": tensor(lambda t: t.reshape(1, -1)),
        "a tensor's name": lambda s: s["state_dict"].__setitem__(
            "bias2", s["state_dict"].pop("bias")
        ),
        "a hyper-parameter": set_in("params", "n_lags", state["params"]["n_lags"] + 1),
        "an int for an equal float": set_in("meta", "bin_size", int(state["meta"]["bin_size"])),
        "a unit id": set_in("meta", "unit_ids", ["x", *state["meta"]["unit_ids"][1:]]),
        "the history": set_in("history", "best_iteration", state["history"]["best_iteration"] + 1),
        "a new entry": set_in("meta", "note", "hello"),
        "the version": lambda s: s.__setitem__("version", "0.1.99"),
    }


def test_the_checksum_covers_tensors_metadata_and_history(saved):
    _, path = saved
    state = torch.load(path, weights_only=True)
    assert state["meta"]["bin_size"] == 10.0
    reference = checksum(state)
    for label, change in _changes(state).items():
        edited = copy.deepcopy(state)
        change(edited)
        assert checksum(edited) != reference, label


def test_saving_twice_gives_the_same_file_contents_and_no_temporary(saved, tmp_path):
    fitter, path = saved
    again = tmp_path / "again.pt"
    fitter.save(again)
    fitter.save(again)  # over an existing file
    assert (
        torch.load(again, weights_only=True)["sha256"]
        == torch.load(path, weights_only=True)["sha256"]
    )
    assert [p.name for p in tmp_path.iterdir()] == ["again.pt"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(again.stat().st_mode) == 0o666 & ~umask


def test_a_loaded_model_equals_the_saved_one(saved):
    fitter, path = saved
    loaded = load_model(path)
    for name, value in fitter.model_.state_dict().items():
        assert torch.equal(loaded.model_.state_dict()[name], value), name
    assert loaded.history_ == fitter.history_
    assert loaded.unit_ids_ == fitter.unit_ids_
    assert loaded.get_params()["bin_size"] == fitter.get_params()["bin_size"]
    assert loaded.simulate_spikedata(4, seed=1) == fitter.simulate_spikedata(4, seed=1)
    np.testing.assert_array_equal(loaded.coupling_, fitter.coupling_)
