"""Data-parallel fitting: 1 process against N processes (torch.distributed, gloo on CPU).

For each size, a sample-and-measure fit with hidden neurons (fixed iterations, no early stop) is
timed in one process (all cores, then one thread) and in N processes of one thread each
(started as torchrun starts them), side by side in one run; speed-ups are against the first; each rank times its collectives (the parameter-gradient all-reduce and the sums over trials
of the loss terms) to give the communication share. The parameters of the N-process fit are
compared with the one-process fit (they should agree to float32 rounding).

Then a memory / time model for 1k-10k neurons x 100-1000 trials: the memory of one iteration per
rank (:func:`elephant_fit._memory.fit_iteration_bytes`, the fitter's own estimate), the values
communicated per iteration, and the time per iteration extrapolated from the throughput measured
here (a large matrix product on this CPU) or from a throughput you give (``--flops``, e.g. a GPU's measured matmul rate).

Run: python benchmarks/bench_distributed.py [--processes 2] [--sizes small medium]
                                            [--iterations 30] [--dtype float64] [--flops 5e13]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import free_port, local_rank_environment

# name: (n_recorded, n_hidden, n_bins, n_lags, batch_size)
SIZES = {
    "small": (40, 10, 100, 5, 32),
    "medium": (160, 40, 100, 9, 64),
}


# ------------------------------------------------------------------ one rank (worker)
def _timed_collectives() -> dict[str, float]:
    """Wrap the collectives the fit uses so that their time is added up."""
    import torch.distributed as dist

    spent = {"seconds": 0.0, "calls": 0}
    for name in ("all_reduce", "all_gather", "broadcast"):
        original = getattr(dist, name)

        def timed(*args, _original=original, **kwargs):
            start = time.perf_counter()
            result = _original(*args, **kwargs)
            spent["seconds"] += time.perf_counter() - start
            spent["calls"] += 1
            return result

        setattr(dist, name, timed)
    return spent


def worker(size_name: str, iterations: int, dtype: str, out: str) -> None:
    """Fit once (inside the torchrun-like environment) and report the times as JSON."""
    from elephant_fit.distributed import is_main_process, process_group
    from elephant_fit.fitting.loop import fit_model
    from elephant_fit.fitting.losses import make_loss
    from elephant_fit.network import SpikingNetwork, simulate

    n_recorded, n_hidden, n_bins, n_lags, batch_size = SIZES[size_name]
    spent = _timed_collectives()
    with process_group("gloo"):
        truth = SpikingNetwork(n_recorded, n_lags=n_lags, n_bins=n_bins, seed=1)
        with torch.no_grad():
            truth.bias.fill_(-3.0)
        data = simulate(truth, 3 * batch_size, n_bins, seed=2, requires_grad=False).spikes
        model = SpikingNetwork(n_recorded, n_hidden=n_hidden, n_lags=n_lags, n_bins=n_bins, seed=5)
        model, data = model.to(getattr(torch, dtype)), data.to(getattr(torch, dtype))
        loss = make_loss("sm", max_lag=n_lags)
        settings = {"batch_size": batch_size, "patience": None, "progress": False}
        fit_model(model, data[:batch_size], None, loss, max_iterations=1, **settings)  # warm-up
        spent.update(seconds=0.0, calls=0)
        start = time.perf_counter()
        fit_model(
            model, data, None, loss, max_iterations=iterations, eval_every=iterations, **settings
        )
        elapsed = time.perf_counter() - start
        if is_main_process():
            state = {k: v.tolist() for k, v in model.state_dict().items() if v.is_floating_point()}
            record = {
                "seconds": elapsed,
                "communication": spent["seconds"],
                "calls": spent["calls"],
                "state": state,
            }
            Path(out).write_text(json.dumps(record))


# ------------------------------------------------------------------ launcher
def launch(n: int, size_name: str, iterations: int, threads: int, dtype: str) -> dict:
    """Run the worker in ``n`` processes of ``threads`` threads each; rank 0's record."""
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "record.json")
        port, processes = free_port(), []
        for index in range(n):
            env = local_rank_environment(index, n, port, threads)
            command = [sys.executable, __file__, "--worker", size_name, str(iterations), dtype, out]
            processes.append(subprocess.Popen(command, env=env))
        if any(process.wait() for process in processes):
            raise SystemExit(f"a rank failed ({size_name}, {n} processes)")
        return json.loads(Path(out).read_text())


def _differences(a: dict, b: dict) -> tuple[float, float]:
    """Largest relative difference of the parameter tensors: by norm, and by largest entry.

    ``|x - y| / |y|`` (Frobenius norms), and ``max |x - y| / max |y|``.
    """
    by_norm = by_entry = 0.0
    for key, value in a["state"].items():
        x = torch.tensor(value, dtype=torch.float64)
        y = torch.tensor(b["state"][key], dtype=torch.float64)
        by_norm = max(by_norm, float((x - y).norm()) / max(float(y.norm()), 1e-300))
        by_entry = max(by_entry, float((x - y).abs().max()) / max(float(y.abs().max()), 1e-300))
    return by_norm, by_entry


def flops_per_iteration(
    n_recorded: int, n_hidden: int, n_bins: int, n_lags: int, n_trials: int
) -> float:
    """Multiply-adds x 2 of one SM iteration: the recurrent products forward and backward."""
    n = n_recorded + n_hidden
    per_bin = n_lags * n * n + n_lags * n_hidden * n  # free run + hidden loop, forward
    recorded_history = n_lags * n_recorded * n  # teacher-forced history of the recorded neurons
    forward = n_trials * n_bins * (per_bin + recorded_history)
    return 2.0 * 3.0 * forward  # backward: history gradient and weight gradient, same size


def comparison(processes: int, sizes: list[str], iterations: int, dtype: str) -> dict:
    """Print 1 vs N processes side by side; the one-process seconds per iteration of each size."""
    cores = os.cpu_count() or 1
    print(f"SM fit with hidden neurons, {iterations} iterations, {dtype}, {cores} CPU cores, gloo")
    print(
        f"{'size':<8}{'neurons':>9}{'batch x bins':>14}{'setup':>22}{'s/iteration':>13}"
        f"{'speed-up':>10}{'communication':>15}{'rel. diff':>11}{'max entry':>11}"
        f"{'collectives/it':>16}"
    )
    measured = {}
    for name in sizes:
        n_recorded, n_hidden, n_bins, _, batch = SIZES[name]
        threads = max(1, cores // processes)
        runs = {
            f"1 process x {cores} threads": launch(1, name, iterations, cores, dtype),
            "1 process x 1 thread": launch(1, name, iterations, 1, dtype),
            f"{processes} processes x {threads} thr.": launch(
                processes, name, iterations, threads, dtype
            ),
        }
        reference = None
        for label, record in runs.items():
            per_iteration = record["seconds"] / iterations
            if reference is None:
                reference, base = record, per_iteration
            share = record["communication"] / record["seconds"]
            by_norm, by_entry = _differences(record, reference)
            print(
                f"{name:<8}{f'{n_recorded}+{n_hidden}':>9}{f'{batch} x {n_bins}':>14}{label:>22}"
                f"{per_iteration:>13.4f}{base / per_iteration:>9.2f}x{share:>14.1%}"
                f"{by_norm:>11.1e}{by_entry:>11.1e}{record['calls'] / iterations:>16.1f}"
            )
        measured[name] = base
    return measured


def matmul_rate(threads: int) -> float:
    """Flop/s of a large float32 matrix product on this machine (the throughput of big fits)."""
    torch.set_num_threads(threads)
    a, b = torch.rand(6400, 9000), torch.rand(9000, 1000)
    a @ b  # warm-up
    start = time.perf_counter()
    for _ in range(3):
        a @ b
    return 3 * 2.0 * 6400 * 9000 * 1000 / (time.perf_counter() - start)


#: Memory of the GPU the model table compares with (an H200: about 139 GiB usable).
GPU_MEMORY = 139 * 2**30


def model_table(flops: float, label: str, itemsize: int = 4) -> None:
    """Memory and time per iteration for large fits, per rank, from the fitter's estimates."""
    from elephant_fit._memory import fit_iteration_bytes, format_bytes

    print(f"\nmodel: one SM iteration, 20% hidden, 100 bins, 9 lags, float32; {label}")
    print(
        "memory/rank: the fitter's own estimate; gradient values: all-reduced per iteration "
        "(x 4 bytes); loss sums: PSTH + noise covariance sums added per iteration;\n"
        "s/it (floor): the recurrent matrix products alone at that rate (measured fits take "
        "longer: see the model check above)"
    )
    print(
        f"{'neurons':>8}{'batch':>7}{'ranks':>7}{'memory/rank':>13}{'one H200':>10}"
        f"{'gradient values':>17}{'loss sums':>11}{'s/it (floor)':>14}"
    )
    for n_neurons in (1000, 3000, 10000):
        n_hidden = n_neurons // 5
        n_recorded = n_neurons - n_hidden
        for batch in (100, 1000):
            for ranks in (1, 8, 64):
                if ranks > batch:
                    continue
                share = -(-batch // ranks)
                memory = fit_iteration_bytes(share, 100, n_neurons, 9, itemsize)
                gradient = 9 * n_neurons * n_neurons  # the coupling dominates the parameters
                sums = 100 * n_recorded + 10 * n_recorded * n_recorded  # PSTH + NC lags 0..9
                seconds = flops_per_iteration(n_recorded, n_hidden, 100, 9, share) / flops
                fits = "yes" if memory <= GPU_MEMORY else "no"
                print(
                    f"{n_neurons:>8}{batch:>7}{ranks:>7}{format_bytes(memory):>13}{fits:>10}"
                    f"{gradient:>17.2e}{sums:>11.2e}{seconds:>14.3f}"
                )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument(
        "--flops", type=float, default=None, help="throughput for the model (default: measured)"
    )
    args = parser.parse_args()
    measured = comparison(args.processes, args.sizes, args.iterations, args.dtype)
    if args.flops is None:
        rate = matmul_rate(os.cpu_count() or 1)
        for name, seconds in measured.items():  # how far the model is from a measured fit
            n_recorded, n_hidden, n_bins, n_lags, batch = SIZES[name]
            predicted = flops_per_iteration(n_recorded, n_hidden, n_bins, n_lags, batch) / rate
            print(
                f"model check, {name}: predicted {predicted:.4f} s/iteration, measured {seconds:.4f}"
            )
        model_table(rate, f"time at {rate:.2e} flop/s (a large matrix product on this CPU)")
    else:
        model_table(args.flops, f"time at {args.flops:.2e} flop/s (given with --flops)")


if __name__ == "__main__":
    main()
