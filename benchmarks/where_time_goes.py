"""Where the time of a fit goes now that the recurrent loop is compiled (the figures of docs/benchmarks/speed.md).

1. One SM iteration at 20 + 20 neurons x 32 trials x 100 bins, per loop ("torch", "numba"): the
   whole iteration and the time inside the recurrent loops (forward and backward), and the part
   of the rest that is drawing the noise (the observation model's ``noise``).
2. The compiled loops' first use in a fresh process with an empty numba cache (compile), and in a
   second fresh process (load from the cache), plus numba's import.
3. The connectivity benchmark's seed 0 (``benchmarks/connectivity.py`` settings, one thread): one
   SM fit per loop and the held-out particle-filter likelihood (256 particles x 500 trials).
4. The report's binning of a simulated Block: Elephant's ``BinnedSpikeTrain`` per trial against
   ``evaluation.report._binned`` (the same counts, by Elephant's rules in one vectorised pass).

Run: python benchmarks/where_time_goes.py [--skip-connectivity]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import torch
from bench_fit import sm_iteration

from elephant_fit.network import loops as loops_module
from elephant_fit.network import observation as observation_module
from elephant_fit.network import recurrent


def _timed_calls(module, name, totals):
    """Wrap ``module.name`` so that its calls add their time to ``totals[name]``."""
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = original(*args, **kwargs)
        totals[name] = totals.get(name, 0.0) + time.perf_counter() - start
        return result

    setattr(module, name, wrapper)
    return original


def iteration_parts(repeats=20):
    print("1. SM iteration, 20+20 neurons x 32 trials x 100 bins (ms per iteration)")
    print(f"{'loop':<8}{'iteration':>11}{'loops fwd':>11}{'loops bwd':>11}{'noise':>9}")
    for loop in ("torch", "numba"):
        run = sm_iteration((20, 20, 32, 100, 3), torch.device("cpu"), loop)
        for _ in range(3):
            run()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        totals, patched = {}, []
        backward_name = "numba_backward" if loop == "numba" else "_backward_loop"
        for module, name in (
            (recurrent, "sample_loop"),
            (recurrent, backward_name),
            (observation_module.Bernoulli, "noise"),
        ):
            patched.append((module, name, _timed_calls(module, name, totals)))
        if loop == "numba":  # the compiled weight gradient belongs to the backward loop
            patched.append(
                (
                    recurrent,
                    "numba_weight_gradient",
                    _timed_calls(recurrent, "numba_weight_gradient", totals),
                )
            )
        for _ in range(repeats):
            run()
        for module, name, original in patched:
            setattr(module, name, original)
        backward = totals[backward_name] + totals.get("numba_weight_gradient", 0.0)
        print(
            f"{loop:<8}{1e3 * statistics.median(times):>11.2f}"
            f"{1e3 * totals['sample_loop'] / repeats:>11.2f}{1e3 * backward / repeats:>11.2f}"
            f"{1e3 * totals['noise'] / repeats:>9.2f}"
        )


FIRST_USE = """
import time
start = time.perf_counter()
from elephant_fit.network.loops import numba_available
numba_available()
loaded = time.perf_counter()
from elephant_fit.network import SpikingNetwork, simulate
from elephant_fit.network.loops import use_loop
model = SpikingNetwork(4, n_hidden=2, n_lags=3, seed=0)
with use_loop("numba"):
    run = simulate(model, 4, 20, seed=0, requires_grad=True)
    (run.u.sum() + run.spikes.sum()).backward()
print(f"{loaded - start:.2f} {time.perf_counter() - loaded:.2f}")
"""


def first_use():
    print("\n2. compiled loops in a fresh process (s): imports and load, first float32 SM pass")
    with tempfile.TemporaryDirectory() as cache:
        for label in ("empty cache", "cached"):
            result = subprocess.run(
                [sys.executable, "-c", FIRST_USE],
                env={**__import__("os").environ, "NUMBA_CACHE_DIR": cache},
                capture_output=True,
                text=True,
                check=True,
            )
            load, first_pass = result.stdout.split()
            print(
                f"  {label:<12} imports (torch, elephant_fit, numba) + load {load} s, first pass {first_pass} s"
            )


def connectivity_seed():
    import quantities as pq

    from elephant_fit.fitting.fitter import NetworkFitter
    from elephant_fit.network.likelihood import held_out_likelihood
    from elephant_fit.network.loops import use_loop
    from elephant_fit.network.synthetic import assembly_network, sample_spikedata

    print("\n3. connectivity benchmark, seed 0, one thread (s)")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    bin_size = 10 * pq.ms
    truth = assembly_network(seed=0)
    train = sample_spikedata(truth, 600, bin_size, seed=1000).recorded()
    test = sample_spikedata(truth, 500, bin_size, seed=2000).recorded()
    for loop in ("torch", "auto"):
        with use_loop(loop):
            start = time.perf_counter()
            fitter = NetworkFitter(
                bin_size=bin_size,
                n_lags=truth.n_lags,
                seed=0,
                device="cpu",
                progress=False,
                loss="sm",
                n_hidden=20,
                max_iterations=1500,
            ).fit(train)
            fitted = time.perf_counter() - start
            start = time.perf_counter()
            held_out_likelihood(fitter.model_, test.counts, n_particles=256, seed=0)
            scored = time.perf_counter() - start
        iterations = len(fitter.history_.train)
        print(
            f"  {loop:<6} SM fit {fitted:6.1f} ({iterations} iterations), particle filter {scored:6.1f}"
        )
    torch.set_num_threads(threads)


def report_binning(repeats=3):
    import quantities as pq
    from elephant.conversion import BinnedSpikeTrain

    from elephant_fit import to_neo
    from elephant_fit.evaluation.report import _binned
    from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata

    truth = hidden_input_network(seed=0)
    block = to_neo(sample_spikedata(truth, 160, 10 * pq.ms, seed=1).recorded())

    def per_trial():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [BinnedSpikeTrain(s.spiketrains, bin_size=10 * pq.ms) for s in block.segments]

    def report():
        return _binned(block, 10 * pq.ms)

    print("\n4. Binning a 160-trial x 20-unit Block (s)")
    for label, function in (("Elephant, per trial", per_trial), ("report._binned", report)):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
        print(f"  {label:<20}{statistics.median(times):8.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-connectivity", action="store_true")
    args = parser.parse_args()
    assert loops_module.numba_available(), "needs numba"
    iteration_parts()
    first_use()
    if not args.skip_connectivity:
        connectivity_seed()
    report_binning()


if __name__ == "__main__":
    main()
