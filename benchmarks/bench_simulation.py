"""Simulation speed against the matrix-product floor, measured side by side in one run.

(a) Free-running simulation, 64 trials, 9 lags, n = 200 and n = 1000 neurons: time per bin without
    and with autograd (forward only; the backward pass is reported separately), against the floor =
    the same per-bin product (64 x 9n) @ (9n x n) alone in a loop.
(b) Teacher-forced NLL, forward + backward, against its single matrix product
    (n_trials * n_bins, 9n) @ (9n, n) (forward floor) and the three products of forward + backward.

Run: python benchmarks/bench_simulation.py [--bins 200] [--device cpu|cuda] [--threads N]
"""

from __future__ import annotations

import argparse
import time

import torch

from elephant_fit.network.model import SpikingNetwork
from elephant_fit.network.simulation import simulate, teacher_forced


def timed(func, device, repeats=3):
    """Best wall time of ``repeats`` calls (synchronising CUDA)."""
    best = float("inf")
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        func()
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def floor_loop(n_trials, n, lags, n_bins, device, dtype):
    """The per-bin matrix product alone, in a loop over bins, into a preallocated output."""
    history = torch.rand(n_trials, lags * n, device=device, dtype=dtype)
    weights = torch.randn(lags * n, n, device=device, dtype=dtype)
    out = torch.empty(n_trials, n, device=device, dtype=dtype)

    def run():
        for _ in range(n_bins):
            torch.mm(history, weights, out=out)

    return run


def free_running(args, device, dtype):
    print(
        f"(a) free-running simulation, {args.trials} trials, {args.lags} lags, {args.bins} bins, {device}"
    )
    print(
        f"{'n':>6} {'floor ms/bin':>13} {'no-grad ms/bin':>15} {'ratio':>6} {'autograd ms/bin':>16} {'ratio':>6} {'backward ms/bin':>16}"
    )
    for n in args.neurons:
        model = SpikingNetwork(n, n_lags=args.lags).to(device=device, dtype=dtype)
        floor = (
            timed(floor_loop(args.trials, n, args.lags, args.bins, device, dtype), device)
            / args.bins
        )
        plain = (
            timed(
                lambda m=model: simulate(m, args.trials, args.bins, seed=0, requires_grad=False),
                device,
            )
            / args.bins
        )
        graph, backward = autograd_times(model, args, device)
        print(
            f"{n:>6} {floor * 1e3:13.3f} {plain * 1e3:15.3f} {plain / floor:6.2f} "
            f"{graph * 1e3:16.3f} {graph / floor:6.2f} {backward * 1e3:16.3f}"
        )


def autograd_times(model, args, device):
    """Per-bin time of the free run with autograd (forward) and of its backward pass."""
    holder = {}

    def forward():
        holder["sim"] = simulate(model, args.trials, args.bins, seed=0, requires_grad=True)

    graph = timed(forward, device, repeats=2) / args.bins
    backward = timed(
        lambda: holder["sim"].spikes.sum().backward(retain_graph=True), device, repeats=1
    )
    return graph, backward / args.bins


def matmul_floors(n, args, device, dtype):
    """Time of the teacher-forced forward product, and of the three products of forward + backward."""
    features = torch.rand(args.trials * args.bins, args.lags * n, device=device, dtype=dtype)
    weights = torch.randn(args.lags * n, n, device=device, dtype=dtype)
    grad_out = torch.randn(args.trials * args.bins, n, device=device, dtype=dtype)
    one = timed(lambda: features @ weights, device)
    three = timed(lambda: (features @ weights, grad_out @ weights.T, features.T @ grad_out), device)
    return one, three


def teacher(args, device, dtype):
    print(
        f"(b) teacher-forced NLL forward + backward, {args.trials} trials x {args.bins} bins, {args.lags} lags"
    )
    print(
        f"{'n':>6} {'1 matmul ms':>12} {'3 matmuls ms':>13} {'NLL fwd+bwd ms':>15} {'vs 1':>6} {'vs 3':>6}"
    )
    for n in args.neurons:
        model = SpikingNetwork(n, n_lags=args.lags).to(device=device, dtype=dtype)
        spikes = (torch.rand(args.trials, args.bins, n, device=device, dtype=dtype) < 0.05).to(
            dtype
        )
        one, three = matmul_floors(n, args, device, dtype)

        def step(m=model, s=spikes):
            m.zero_grad(set_to_none=True)
            u = teacher_forced(m, s).u
            m.neg_log_likelihood(u, s).mean().backward()

        full = timed(step, device)
        print(
            f"{n:>6} {one * 1e3:12.2f} {three * 1e3:13.2f} {full * 1e3:15.2f} {full / one:6.2f} {full / three:6.2f}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=64)
    parser.add_argument("--bins", type=int, default=200)
    parser.add_argument("--lags", type=int, default=9)
    parser.add_argument("--neurons", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    free_running(args, device, torch.float32)
    teacher(args, device, torch.float32)


if __name__ == "__main__":
    main()
