"""Shared fixtures: seeded randomness, automatic skipping of `gpu` tests without CUDA."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed_everything():
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002 - seed the legacy global state in case a dependency uses it
    torch.manual_seed(0)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A recording (pickle), a shorter one, and a model fitted to the first (seconds)."""
    from helpers import small_spikedata

    from elephant_fit import NetworkFitter, to_neo, write_block

    folder = tmp_path_factory.mktemp("recordings")
    data = small_spikedata()
    recording = write_block(to_neo(data), folder / "rec.pkl")
    short = write_block(to_neo(small_spikedata(n_bins=20)), folder / "short.pkl")
    fitter = NetworkFitter(max_iterations=3, n_lags=2, progress=False).fit(data)
    model = folder / "model.pt"
    fitter.save(model)
    return {"recording": recording, "short": short, "model": model, "fitter": fitter}
