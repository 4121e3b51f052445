"""Speed of fitting: the compiled (numba) and fused (torch) recurrent loops against autograd and the floor.

For each size, one sample-and-measure iteration (the "sm" loss: teacher-forced NLL with hidden
neurons sampled bin by bin, a free-running simulation, PSTH and noise-covariance terms; forward
and backward, no optimizer step) is timed with each loop (elephant_fit.network.loops: autograd,
torch, numba, auto), side by side in one run. The floor is the time of the matrix products the
iteration cannot avoid, timed alone: per bin, the free run's and the hidden loop's history
products forward and backward, and the weight gradients as single products over all bins.

Run: python benchmarks/bench_fit.py [--device cuda] [--sizes ...] [--threads N]
     python benchmarks/bench_fit.py --crossover   # numba vs torch loops alone, by size
     python benchmarks/bench_fit.py --whole   # also the demo's whole-command times (minutes)
     python benchmarks/bench_fit.py --commands-only   # only those
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import torch

from elephant_fit.fitting.loop import _batch
from elephant_fit.fitting.losses import make_loss
from elephant_fit.network import SpikingNetwork
from elephant_fit.network.loops import numba_available, use_loop
from elephant_fit.network.simulation import make_generator, teacher_forced

# name: (n_recorded, n_hidden, n_trials, n_bins, n_lags)
SIZES = {
    "demo": (20, 20, 20, 100, 3),  # the demo: 20 recorded + 20 hidden, batch of 20 trials
    "20+20": (20, 20, 32, 100, 3),  # the sizes of the speed issue, batches of 32 or 64 trials
    "50+50": (50, 50, 32, 100, 5),
    "200+100": (200, 100, 64, 100, 9),
    "1000": (800, 200, 64, 100, 9),
    "retina": (38, 10, 20, 900, 5),  # demo --data retina: 38 recorded + 10 hidden, 18 s of 20 ms
}
#: SM iterations of the whole fits timed by --fits, per size (the largest are slow on 2 cores).
FIT_ITERATIONS = {"demo": 100, "20+20": 100, "50+50": 50, "200+100": 10, "1000": 3, "retina": 20}


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def _timed(function, device, repeats):
    function()  # warm-up
    times = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        function()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sm_iteration(size, device, loop):
    """A closure running one SM iteration (forward + backward) of a network of ``size``."""
    n_recorded, n_hidden, n_trials, n_bins, n_lags = size
    model = SpikingNetwork(
        n_recorded, n_hidden=n_hidden, n_lags=n_lags, n_bins=n_bins, drive="smooth", seed=0
    ).to(device)
    with torch.no_grad():
        model.bias.fill_(-3.0)
    data = (torch.rand(n_trials, n_bins, n_recorded, device=device) < 0.05).float()
    loss = make_loss("sm", max_lag=n_lags)
    generator = make_generator(0, device)

    def run():
        with use_loop(loop):
            model.zero_grad(set_to_none=True)
            total, _ = loss(model, _batch(model, data, loss, generator, "sigmoid"))
            total.backward()

    return run


def matmul_floor(size, device):
    """A closure running only the matrix products of one SM iteration."""
    n_recorded, n_hidden, n_trials, n_bins, n_lags = size
    n = n_recorded + n_hidden
    options = {"device": device}
    w_all = torch.randn(n_lags * n, n, **options) * 0.01
    w_hidden = torch.randn(n_lags * n_hidden, n, **options) * 0.01
    w_hidden_back = torch.randn(n_lags * n, n_hidden, **options)
    free = torch.rand(n_trials, n_lags * n, **options)
    hidden = torch.rand(n_trials, n_lags * n_hidden, **options)
    grads = torch.rand(n_trials, n_lags * n, **options)
    lagged_all = torch.rand(n_trials * n_bins, n_lags * n, **options)
    lagged_hidden = torch.rand(n_trials * n_bins, n_lags * n_hidden, **options)
    lagged_recorded = torch.rand(n_trials * n_bins, n_lags * n_recorded, **options)
    w_recorded = torch.randn(n_lags * n_recorded, n, **options)
    grad_u = torch.rand(n_trials * n_bins, n, **options)

    def run():
        for _ in range(n_bins):
            free @ w_all  # free run forward
            hidden @ w_hidden  # hidden loop forward
            grads @ w_all  # free run backward (history; same shapes as forward)
            grads @ w_hidden_back  # hidden loop backward (history)
        lagged_recorded @ w_recorded  # recorded history of the teacher-forced pass
        lagged_all.T @ grad_u  # weight gradient, free run
        lagged_hidden.T @ grad_u  # weight gradient, hidden loop
        lagged_recorded.T @ grad_u  # weight gradient, recorded history

    return run


def bench_iterations(sizes, device, repeats):
    print(f"SM iteration, forward + backward, {device}, {torch.get_num_threads()} threads")
    loops = ["autograd", "torch"] + (["numba", "auto"] if device.type == "cpu" else [])
    header = f"{'size':<8}{'neurons':>9}{'trials x bins':>15}"
    header += "".join(f"{name + ' s':>11}" for name in loops)
    header += f"{'floor s':>10}{'autograd/auto':>15}{'auto/floor':>12}"
    print(header)
    for name in sizes:
        size = SIZES[name]
        n_recorded, n_hidden, n_trials, n_bins, _ = size
        times = {loop: _timed(sm_iteration(size, device, loop), device, repeats) for loop in loops}
        best = times.get("auto", times["torch"])
        floor = _timed(matmul_floor(size, device), device, repeats)
        row = f"{name:<8}{f'{n_recorded}+{n_hidden}':>9}{f'{n_trials} x {n_bins}':>15}"
        row += "".join(f"{times[loop]:>11.4f}" for loop in loops)
        row += f"{floor:>10.4f}{times['autograd'] / best:>14.1f}x{best / floor:>11.1f}x"
        print(row)


def _loop_times(n, n_lags, loop, repeats):
    """Forward and backward time of the free-run loop alone (32 trials x 100 bins, n neurons)."""
    from elephant_fit.network.observation import Bernoulli
    from elephant_fit.network.recurrent import RecurrentSampler

    generator = torch.Generator().manual_seed(0)
    weights = torch.randn(n_lags * n, n, generator=generator) * 0.3 / (n / 40) ** 0.5
    u_known = torch.full((32, 100, n), -3.0, requires_grad=True)
    noise = Bernoulli().noise((32, 100, n), generator, torch.float32, "cpu")

    def forward():
        return RecurrentSampler.apply(
            u_known, weights, noise, Bernoulli(), None, 0, n_lags, (loop, loop)
        )

    _, u = forward()
    grad = torch.randn_like(u)

    def backward():
        torch.autograd.grad(u, (u_known,), grad, retain_graph=True)

    cpu = torch.device("cpu")
    return _timed(forward, cpu, repeats), _timed(backward, cpu, repeats), weights.numel()


def bench_crossover(repeats):
    """The recurrent loops alone (free run, forward + backward), numba against torch, by size."""
    print(f"\nfree-run loop alone, 32 trials x 100 bins, cpu, {torch.get_num_threads()} threads")
    print(
        f"{'neurons':>8}{'lags':>6}{'weights':>10}{'torch fwd':>11}{'numba fwd':>11}"
        f"{'torch bwd':>11}{'numba bwd':>11}"
    )
    for n, n_lags in ((20, 3), (40, 3), (40, 9), (60, 9), (80, 5), (120, 5), (200, 9)):
        torch_forward, torch_backward, numel = _loop_times(n, n_lags, "torch", repeats)
        numba_forward, numba_backward, _ = _loop_times(n, n_lags, "numba", repeats)
        print(
            f"{n:>8}{n_lags:>6}{numel:>10}{torch_forward:>11.4f}{numba_forward:>11.4f}"
            f"{torch_backward:>11.4f}{numba_backward:>11.4f}"
        )


def whole_fit(size, device, loop, n_iterations):
    """Seconds of one SM fit (NetworkFitter, n_iterations, no early stop) of synthetic data."""
    import quantities as pq

    from elephant_fit import NetworkFitter
    from elephant_fit.data.spikedata import SpikeData

    n_recorded, n_hidden, n_trials, n_bins, n_lags = size
    generator = torch.Generator().manual_seed(0)
    counts = (torch.rand(2 * n_trials, n_bins, n_recorded, generator=generator) < 0.05).float()
    fitter = NetworkFitter(
        n_hidden=n_hidden,
        n_lags=n_lags,
        loss="sm",
        batch_size=n_trials,
        max_iterations=n_iterations,
        patience=None,
        seed=0,
        device=str(device),
        progress=False,
    )
    with use_loop(loop):
        start = time.perf_counter()
        fitter.fit(SpikeData(counts, 10 * pq.ms))
        return time.perf_counter() - start


def bench_fits(sizes, device):
    loops = ["torch"] + (["numba", "auto"] if device.type == "cpu" else [])
    print(
        f"\nwhole SM fits (NetworkFitter, no early stop), {device}, {torch.get_num_threads()} threads"
    )
    print(
        f"{'size':<9}{'iterations':>11}"
        + "".join(f"{loop + ' s':>10}" for loop in loops)
        + f"{'torch/auto':>12}"
    )
    whole_fit(SIZES["demo"], device, "auto", 2)  # warm-up: imports, compiled code
    for name in sizes:
        n_iterations = FIT_ITERATIONS[name]
        times = {loop: whole_fit(SIZES[name], device, loop, n_iterations) for loop in loops}
        best = times.get("auto", times["torch"])
        print(
            f"{name:<9}{n_iterations:>11}"
            + "".join(f"{times[loop]:>10.2f}" for loop in loops)
            + f"{times['torch'] / best:>11.1f}x"
        )


def bench_mle(device, repeats):
    """MLE without hidden neurons (80 neurons x 150 trials x 100 bins, 5 lags): time and held-out LL."""
    import quantities as pq
    from _truths import sparse_driven_spikes

    from elephant_fit import NetworkFitter
    from elephant_fit.data.spikedata import SpikeData

    spikes = sparse_driven_spikes()  # sparse coupling, a stimulus drive, about 9 Hz
    train = SpikeData(spikes[:150], 10 * pq.ms)
    test = SpikeData(spikes[150:], 10 * pq.ms)
    print(f"\nMLE, 80 neurons x 150 trials x 100 bins, 5 lags, {device}")
    print(f"{'optimizer':<40}{'fit s':>8}{'iterations':>12}{'held-out LL/bin':>17}")
    runs = (
        ("Adam, 1000 iterations, no early stop", {"patience": None}),
        ("Adam, early stopping (default)", {}),
        ("L-BFGS, early stopping", {"optimizer": "lbfgs"}),
    )
    for label, options in runs:
        times = []
        for _ in range(repeats):
            fitter = NetworkFitter(
                n_lags=5, n_drive_basis=10, device=str(device), progress=False, **options
            )
            start = time.perf_counter()
            fitter.fit(train)
            times.append(time.perf_counter() - start)
        counts = fitter._held_out(test)[1].counts
        with torch.no_grad():
            u = teacher_forced(fitter.model_, counts).u
            per_bin = -float(fitter.model_.neg_log_likelihood(u, counts).mean())
        iterations = len(fitter.history_.train)
        print(f"{label:<40}{statistics.median(times):>8.2f}{iterations:>12}{per_bin:>17.5f}")


def bench_whole(device):
    """The demo commands, wall clock, under the torch loop and under auto (numba on the CPU)."""
    loops = ["torch", "auto"]
    print(f"\nwhole commands (seconds, wall clock, one process, {device})")
    print(f"  {'command':<36}" + "".join(f"{loop:>8}" for loop in loops))
    for label, argv in (
        ("elephant-fit demo --quick", ["demo", "--quick"]),
        ("elephant-fit demo", ["demo"]),
        ("elephant-fit demo --data retina", ["demo", "--data", "retina"]),
    ):
        times = []
        for loop in loops:
            start = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "elephant_fit.cli",
                    "--loop",
                    loop,
                    *argv,
                    "--quiet",
                    "--out",
                    f"/tmp/bench-fit-{argv[-1]}-{loop}",
                    "--device",
                    str(device),
                ],
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - start)
        print(f"  {label:<36}" + "".join(f"{seconds:8.1f}" for seconds in times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--whole", action="store_true", help="also time the demo commands")
    parser.add_argument(
        "--commands-only", action="store_true", help="only the demo commands (as --whole)"
    )
    parser.add_argument(
        "--crossover", action="store_true", help="only the loops alone: numba vs torch by size"
    )
    parser.add_argument("--fits", action="store_true", help="also time whole SM fits per size")
    parser.add_argument("--no-mle", action="store_true", help="skip the MLE optimizer comparison")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.commands_only:
        bench_whole(device)
        return
    if args.crossover:
        if not numba_available():
            raise SystemExit("--crossover needs numba")
        bench_crossover(args.repeats)
        return
    bench_iterations(args.sizes, device, args.repeats)
    if args.fits:
        bench_fits(args.sizes, device)
    if not args.no_mle:
        bench_mle(device, max(1, args.repeats - 2))
    if args.whole:
        bench_whole(device)


if __name__ == "__main__":
    main()
