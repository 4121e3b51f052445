"""Data parallelism over trials: shares, sums across ranks, and 2-process runs (gloo, CPU).

The multi-process tests start two ranks as torchrun does (RANK, WORLD_SIZE, MASTER_ADDR,
MASTER_PORT in the environment) and compare with the same work done in this one process.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import distributed_worker
import pytest
import quantities as pq
import torch
from helpers import free_port, local_rank_environment

from elephant_fit import read_block, to_neo, write_block
from elephant_fit.distributed import (
    Shard,
    TrialReducer,
    all_reduce_gradients,
    common_seed,
    gather_trials,
    is_distributed,
    is_main_process,
    local,
    process_group,
    world_size,
)
from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata

WORKER = Path(distributed_worker.__file__)
TIMEOUT_S = 120


# ---------------------------------------------------------------- one process
@pytest.mark.parametrize(("total", "size"), [(10, 3), (7, 2), (4, 4), (5, 1), (64, 8)])
def test_shards_are_contiguous_and_cover_the_batch(total, size):
    shards = [Shard.of(total, index, size) for index in range(size)]
    assert shards[0].start == 0
    assert shards[-1].stop == total
    assert all(a.stop == b.start for a, b in itertools.pairwise(shards))
    sizes = [s.n_trials for s in shards]
    assert max(sizes) - min(sizes) <= 1
    assert sorted(sizes, reverse=True) == sizes


def test_one_process_is_the_identity():
    assert not is_distributed()
    assert world_size() == 1
    assert is_main_process()
    shard = Shard.of(6)
    assert shard == Shard(0, 6, 6)
    assert shard.whole
    tensor = torch.arange(6.0)
    assert shard.take(tensor) is tensor
    assert gather_trials(tensor, shard) is tensor
    reducer = TrialReducer.single(6)
    assert not reducer.parallel
    assert reducer.n_trials == 6
    assert reducer.sum(tensor) is tensor
    assert reducer.shared(tensor) is tensor
    assert common_seed(None) is None
    assert common_seed(3) == 3
    parameter = torch.nn.Parameter(torch.ones(2))
    parameter.grad = torch.full((2,), 2.0)
    all_reduce_gradients([parameter])
    assert parameter.grad.tolist() == [2.0, 2.0]


def test_a_part_of_a_reducer_keeps_its_batch_s_mode_and_cannot_gather():
    single = TrialReducer.single(6).part(Shard.whole_batch(3))
    assert (single.n_trials, single.parallel) == (3, False)
    tensor = torch.arange(3.0)
    assert single.sum(tensor) is tensor
    assert single.gather(tensor) is tensor
    shared = TrialReducer(Shard(0, 3, 6))  # rank 0 of two
    part = shared.part(Shard(0, 3, 3))  # all of a subset on this rank: still a shared batch
    assert part.parallel
    assert part.n_trials == 3
    with pytest.raises(ValueError, match="reducer of the whole batch to gather"):
        part.gather(tensor)


def test_process_group_outside_torchrun_does_nothing(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with process_group() as started:
        assert not started
        assert not is_distributed()
    with local():
        assert not is_distributed()


def test_bad_backend_is_refused(monkeypatch):
    from elephant_fit.errors import ArgumentValueError

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(ArgumentValueError, match="backend"), process_group("mpi"):
        pass
    if not torch.cuda.is_available():
        with pytest.raises(ArgumentValueError, match="CUDA"), process_group("nccl"):
            pass


# ---------------------------------------------------------------- two processes
def _launch(*args: str, n: int = 2, cwd: Path | None = None) -> list[tuple[int, str, str]]:
    """Start ``n`` ranks of the worker; their (exit code, stdout, stderr), killed after TIMEOUT_S."""
    port = free_port()
    processes = []
    for index in range(n):
        env = local_rank_environment(index, n, port)
        processes.append(
            subprocess.Popen(
                [sys.executable, str(WORKER), *args],
                env=env,
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    results = []
    for process in processes:
        try:
            out, err = process.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            for other in processes:
                other.kill()
            pytest.fail(f"a rank did not finish within {TIMEOUT_S} s")
        results.append((process.returncode, out, err))
    return results


def _relative(a: torch.Tensor, b: torch.Tensor) -> float:
    scale = max(float(b.abs().max()), 1e-30)
    return float((a - b).abs().max()) / scale


def test_two_processes_fit_and_simulate_as_one(tmp_path):
    elsewhere = tmp_path / "rank1"  # rank 1's folder: no checkpoint there
    elsewhere.mkdir()
    results = _launch("api", str(tmp_path / "results.pt"), str(elsewhere))
    assert [code for code, _, _ in results] == [0, 0], results
    assert list(elsewhere.iterdir()) == []
    parallel = torch.load(tmp_path / "results.pt", weights_only=False)
    single = distributed_worker.scenarios()  # the same work in this process
    single["resumed"] = _uninterrupted_sm_fit()
    _assert_same(parallel, single)


def _uninterrupted_sm_fit() -> dict:
    """What the worker's checkpointed and resumed fit must equal: 12 iterations in one go."""
    from elephant_fit.fitting.loop import fit_model
    from elephant_fit.fitting.losses import make_loss
    from elephant_fit.network import SpikingNetwork

    data = distributed_worker._data(torch.float64)
    model = SpikingNetwork(5, n_hidden=2, n_lags=2, n_bins=30, seed=5).to(torch.float64)
    settings = {"eval_every": 4, "batch_size": 7, "seed": 3, "progress": False}
    fit_model(
        model,
        data[:18],
        data[18:],
        make_loss("sm", max_lag=2),
        max_iterations=12,
        patience=None,
        **settings,
    )
    return {"state": model.state_dict(), "train": [], "validation": []}


@pytest.mark.gpu
def test_two_gpus_fit_as_one_with_nccl(tmp_path):
    if torch.cuda.device_count() < 2:
        pytest.skip("needs two CUDA devices (one per NCCL rank)")
    results = _launch("api-cuda", str(tmp_path / "results.pt"))
    assert [code for code, _, _ in results] == [0, 0], results
    parallel = torch.load(tmp_path / "results.pt", weights_only=False)
    _assert_same(parallel, distributed_worker.cuda_scenarios("cuda:0"))


def _assert_same(parallel: dict, single: dict) -> None:
    """Fits of several processes against one: parameters and every history value."""
    assert parallel.keys() == single.keys()
    for name in single:
        if name == "simulation":
            assert torch.equal(parallel[name]["spikes"], single[name]["spikes"])
            continue
        tolerance = 1e-5 if "float32" in name else 1e-10
        for key, value in single[name]["state"].items():
            if value.is_floating_point():
                assert _relative(parallel[name]["state"][key], value) < tolerance, (name, key)
        for rows in ("train", "validation"):
            for got, expected in zip(parallel[name][rows], single[name][rows], strict=True):
                for term, number in expected.items():
                    assert got[term] == pytest.approx(number, rel=tolerance, abs=1e-12)


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recording")
    truth = hidden_input_network(n_recorded=5, n_hidden=2, n_bins=40, seed=0)
    data = sample_spikedata(truth, n_trials=30, bin_size=10 * pq.ms, seed=1).recorded()
    write_block(to_neo(data), folder / "recording.pkl")
    return folder


def _written(log: Path) -> dict[int, list[str]]:
    files = {}
    for index in (0, 1):
        path = Path(f"{log}.{index}")
        files[index] = path.read_text().split() if path.exists() else []
    return files


@pytest.mark.slow  # the launcher around the command line; the fit itself: the test above
def test_command_line_fit_and_simulate_under_torchrun(recording):
    fit = ["fit", "recording.pkl", "--lags", "2", "--loss", "mle"]
    fit += ["--max-iterations", "100", "--patience", "0", "--quiet", "--checkpoint", "state.ckpt"]
    log = recording / "fit.log"
    results = _launch("cli", str(log), *fit, "--out", "two.pt", cwd=recording)
    assert [code for code, _, _ in results] == [0, 0], results
    assert "fitted 5 units" in results[0][1]
    assert results[1][1] == ""  # rank 1 prints nothing
    written = _written(log)
    assert written[1] == []  # rank 0 alone writes: the checkpoint, then the model
    assert [Path(p).name for p in written[0]].count("two.pt") == 1
    assert "state.ckpt" in [Path(p).name for p in written[0]]

    simulate = ["simulate", "two.pt", "--trials", "7", "--seed", "3"]
    results = _launch(
        "cli", str(recording / "simulate.log"), *simulate, "--out", "s2.pkl", cwd=recording
    )
    assert [code for code, _, _ in results] == [0, 0], results
    assert _written(recording / "simulate.log")[1] == []
    from elephant_fit.cli.commands import main

    old = Path.cwd()
    os.chdir(recording)
    try:
        assert main([*simulate, "--out", "s1.pkl"]) == 0
    finally:
        os.chdir(old)
    one, two = read_block(recording / "s1.pkl"), read_block(recording / "s2.pkl")
    assert len(one.segments) == 7
    assert len(two.segments) == 7
    for a, b in zip(one.segments, two.segments, strict=True):
        for x, y in zip(a.spiketrains, b.spiketrains, strict=True):
            assert x.annotations.get("unit_id") == y.annotations.get("unit_id")
            assert (x.magnitude == y.magnitude).all()


def test_a_failing_rank_stops_every_rank(recording):
    fit = ["fit", "recording.pkl", "--hidden", "2", "--loss", "sm", "--max-iterations", "50"]
    results = _launch(
        "fail", str(recording / "fail.log"), *fit, "--quiet", "--out", "x.pt", cwd=recording
    )
    codes = [code for code, _, _ in results]
    assert all(code != 0 for code in codes), results
    assert "error" in results[0][2]  # rank 0 says why in one line
    assert not (recording / "x.pt").exists()
