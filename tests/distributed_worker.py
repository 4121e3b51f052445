"""One rank of the multi-process tests (tests/test_distributed.py starts it as torchrun would).

``python distributed_worker.py SCENARIO OUT [ARGS...]`` with RANK, WORLD_SIZE, MASTER_ADDR and
MASTER_PORT in the environment:

* ``api OUT``: the fits and the simulation of :func:`scenarios` in a process group; rank 0 saves
  the results to OUT (the test computes the same in one process and compares);
* ``api-cuda OUT``: :func:`cuda_scenarios` with NCCL, one GPU per rank;
* ``cli OUT ARGS``: ``elephant-fit ARGS``; every file replaced atomically is logged to OUT.rank;
* ``fail OUT ARGS``: rank 1 fails inside the process group before the command, rank 0 runs
  ``elephant-fit ARGS`` (it must exit non-zero, not wait forever).
"""

from __future__ import annotations

import os
import sys

import torch

SIZE = {"n_recorded": 5, "n_bins": 30, "n_lags": 2}


def _data(dtype: torch.dtype, device: str = "cpu") -> torch.Tensor:
    from elephant_fit.network import SpikingNetwork, simulate

    truth = SpikingNetwork(SIZE["n_recorded"], n_lags=2, n_bins=SIZE["n_bins"], seed=1)
    with torch.no_grad():
        truth.bias.fill_(-1.5)
    spikes = simulate(truth, 26, SIZE["n_bins"], seed=2, requires_grad=False).spikes
    return spikes.to(dtype=dtype, device=device)


def _fit(
    dtype: torch.dtype,
    n_hidden: int,
    loss: object,
    device: str = "cpu",
    side: bool = False,
    **settings: object,
) -> dict:
    """A short fit; ``side``: two conditions (a drive each) and one covariate per trial."""
    from elephant_fit.fitting.loop import fit_model
    from elephant_fit.fitting.losses import make_loss
    from elephant_fit.fitting.trials import TrialTensors
    from elephant_fit.network import SpikingNetwork

    data = _data(dtype, device)
    extra: dict = {}
    if side:
        codes = torch.tensor([0, 1, 1] * 9)[: data.shape[0]]
        inputs = torch.randn(*data.shape[:2], 1, generator=torch.Generator().manual_seed(6))
        data = TrialTensors(data, codes, inputs.to(dtype=dtype, device=device))
        extra = {"drive": "smooth", "n_conditions": 2, "n_inputs": 1, "n_input_lags": 2}
    model = SpikingNetwork(
        SIZE["n_recorded"], n_hidden=n_hidden, n_lags=2, n_bins=SIZE["n_bins"], seed=5, **extra
    ).to(dtype=dtype, device=device)
    history = fit_model(
        model,
        data[:18],
        data[18:],
        make_loss(loss, max_lag=2),
        max_iterations=12,
        eval_every=4,
        batch_size=7,
        seed=3,
        progress=False,
        patience=None,
        **settings,
    )
    state = {key: value.cpu() for key, value in model.state_dict().items()}
    return {"state": state, "train": history.train, "validation": history.validation}


def resumed(folder: str) -> dict:
    """An SM fit checkpointed at iteration 4, then resumed to 12 (rank 0 writes; all read it)."""
    import elephant_fit.fitting.checkpoints as checkpoints
    import elephant_fit.fitting.loop as loop
    from elephant_fit.fitting.losses import make_loss
    from elephant_fit.network import SpikingNetwork

    every, checkpoints.CHECKPOINT_EVERY = checkpoints.CHECKPOINT_EVERY, 4
    try:
        data, path = _data(torch.float64), os.path.join(folder, "fit.ckpt")
        settings = {"eval_every": 4, "batch_size": 7, "seed": 3, "progress": False}
        for iterations, resume in ((4, False), (12, True)):
            model = SpikingNetwork(SIZE["n_recorded"], n_hidden=2, n_lags=2, n_bins=30, seed=5)
            model = model.to(torch.float64)
            loop.fit_model(
                model,
                data[:18],
                data[18:],
                make_loss("sm", max_lag=2),
                max_iterations=iterations,
                patience=None,
                checkpoint=path,
                resume=resume,
                **settings,
            )
    finally:
        checkpoints.CHECKPOINT_EVERY = every
    return {"state": model.state_dict(), "train": [], "validation": []}


def trial_variance(activity: torch.Tensor) -> torch.Tensor:
    """A statistic that is not a TrialStatistic: the ranks gather the trials to measure it."""
    return activity.var(dim=0)


def scenarios() -> dict[str, dict]:
    """The fits and simulation compared between one and several processes."""
    from elephant_fit.fitting.losses import StatisticLoss, make_loss
    from elephant_fit.fitting.trial_statistics import FanoFactors, MeanCount, NoiseCovariance, Psth

    f64, f32 = torch.float64, torch.float32
    custom = make_loss({"nll": 1.0, "psth": 1.0, "rate": 0.5, "fano": 0.2, "l2": 0.1})
    gathered = make_loss({"nll": 1.0, "variance": (1.0, StatisticLoss(trial_variance))})
    unbiased = make_loss(
        {
            "nll": 1.0,
            "psth": (1.0, StatisticLoss(Psth(), model_side="mean", unbiased=True)),
            "rate": (0.5, StatisticLoss(MeanCount(), unbiased=True)),
            "noise_covariance": (1.0, StatisticLoss(NoiseCovariance(2), unbiased=True)),
            "fano": (0.2, StatisticLoss(FanoFactors(4), unbiased=True)),
        }
    )
    results = {
        "mle float64": _fit(f64, 0, "mle"),
        "mle float32": _fit(f32, 0, "mle"),
        "lbfgs float64": _fit(f64, 0, "mle", optimizer="lbfgs"),
        "sm hidden float64": _fit(f64, 3, "sm"),
        "sm hidden float32": _fit(f32, 3, "sm"),
        "windows, fano, rate, l2 float64": _fit(f64, 2, custom, sm_window=12, sm_burn_in=4),
        "gathered statistic float64": _fit(f64, 2, gathered),
        "conditions, covariates, windows float64": _fit(
            f64, 2, "sm", side=True, sm_window=12, sm_burn_in=4
        ),
        "unbiased terms, conditions float64": _fit(f64, 2, unbiased, side=True),
    }
    results["simulation"] = _simulation()
    return results


def cuda_scenarios(device: str) -> dict[str, dict]:
    """The fits compared between one and several processes on CUDA (NCCL)."""
    return {
        "mle float64": _fit(torch.float64, 0, "mle", device),
        "sm hidden float64": _fit(torch.float64, 3, "sm", device),
    }


def _simulation() -> dict:
    import quantities as pq

    from elephant_fit import NetworkFitter
    from elephant_fit.data.spikedata import SpikeData

    fitter = NetworkFitter(
        n_hidden=2, n_lags=2, max_iterations=3, dtype=torch.float64, progress=False
    )
    fitter.fit(SpikeData(_data(torch.float64), 10 * pq.ms))
    return {"spikes": fitter.simulate_spikedata(11, seed=4).counts}


def _log_replacements(log: str) -> None:
    """Record every file this rank replaces atomically (all of the package's file writes)."""
    replace = os.replace

    def logged(source: str, destination: str) -> None:
        with open(f"{log}.{os.environ['RANK']}", "a") as handle:
            handle.write(f"{destination}\n")
        replace(source, destination)

    os.replace = logged


def main() -> int:
    scenario, out, *argv = sys.argv[1:]
    from elephant_fit.cli.commands import main as command
    from elephant_fit.distributed import is_main_process, process_group

    if scenario == "api":
        with process_group("gloo"):
            results = scenarios()
            # a different folder per rank: rank 1 must receive the checkpoint from rank 0
            results["resumed"] = resumed(os.path.dirname(out) if is_main_process() else argv[0])
            if is_main_process():
                torch.save(results, out)
        return 0
    if scenario == "api-cuda":
        with process_group("nccl"):
            results = cuda_scenarios(f"cuda:{os.environ['LOCAL_RANK']}")
            if is_main_process():
                torch.save(results, out)
        return 0
    if scenario == "cli":
        _log_replacements(out)
        return command(argv)
    if scenario == "fail" and os.environ["RANK"] == "1":
        with process_group("gloo"):
            raise SystemExit(5)
    return command(argv)


if __name__ == "__main__":
    sys.exit(main())
