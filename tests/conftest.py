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
