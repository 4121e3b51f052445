"""The memory guard (_memory.py): binning, fitting and simulating refuse work estimated above the
limit before allocating, in one line on the command line.
"""

from __future__ import annotations

import time

import pytest
import quantities as pq
import torch

from elephant_fit import (
    NetworkFitter,
    SpikeData,
    from_neo,
)
from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata


def test_binning_refuses_a_huge_array_before_allocating():

    from elephant_fit.data.datasets import load_retina
    from elephant_fit.errors import MemoryLimitError

    start = time.perf_counter()
    with pytest.raises(
        MemoryLimitError, match=r"binning 30 trials x .* bins x 38 units needs about"
    ):
        from_neo(load_retina(1), 1e-9 * pq.s)
    assert time.perf_counter() - start < 10  # refused, not attempted


def test_max_memory_bounds_binning_fitting_and_simulating(tmp_path):
    from elephant_fit.errors import MemoryLimitError

    truth = hidden_input_network(n_recorded=4, n_hidden=2, n_bins=20, seed=0)
    data = sample_spikedata(truth, 10, 10 * pq.ms, seed=1).recorded()
    with pytest.raises(
        MemoryLimitError, match=r"fitting 4 neurons x 20 bins .* above the limit of"
    ):
        NetworkFitter(n_lags=2, max_memory=1000, progress=False).fit(data)
    fitter = NetworkFitter(n_lags=2, max_iterations=2, progress=False).fit(data)
    fitter.set_params(max_memory=10_000)
    with pytest.raises(MemoryLimitError, match="simulating 1000 trials"):
        fitter.simulate(1000)
    assert fitter.simulate(2).segments  # small enough


def test_the_cli_refuses_a_huge_binning_with_one_line(capsys):
    from elephant_fit.cli import main

    assert main(["fit", "retina", "--bin-size", "1e-9s", "--out", "/tmp/never.pt"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "needs about" in err[0]
    assert "--max-memory" in err[0]


def test_parse_memory():
    from elephant_fit.cli.commands import UsageError, parse_memory

    assert parse_memory("8GiB") == 8 * 2**30
    assert parse_memory("500MB") == 5e8
    assert parse_memory("2e9") == 2e9
    with pytest.raises(UsageError, match="--max-memory"):
        parse_memory("lots")


def test_an_all_zero_recording_is_refused_clearly():

    from elephant_fit import NetworkFitter

    silent = SpikeData(torch.zeros(6, 20, 3), 10 * pq.ms)
    for loss in ("mle", "sm"):
        with pytest.raises(ValueError, match="hold none: there is nothing to fit"):
            NetworkFitter(loss=loss, n_lags=2, progress=False).fit(silent)
