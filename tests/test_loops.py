"""Choosing the recurrent loop, and the compiled (numba) loop against the torch loop."""

from __future__ import annotations

import pytest
import quantities as pq
import torch

from elephant_fit import NetworkFitter
from elephant_fit.errors import ArgumentValueError
from elephant_fit.network import SpikingNetwork, simulate
from elephant_fit.network import loops as loops_module
from elephant_fit.network.loops import (
    NUMBA_BACKWARD_MAX_WEIGHTS,
    NUMBA_FORWARD_MAX_WEIGHTS,
    get_loop,
    numba_available,
    numba_weight_gradient,
    resolve_loop,
    use_loop,
)
from elephant_fit.network.observation import Bernoulli, Observation, Poisson
from elephant_fit.network.recurrent import sample_loop
from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata

pytestmark = pytest.mark.skipif(not numba_available(), reason="numba is not importable")


def test_use_loop_sets_the_loop_for_the_block_only(monkeypatch):
    monkeypatch.delenv("ELEPHANT_FIT_LOOP", raising=False)
    assert get_loop() == "auto"
    with use_loop("torch") as chosen:
        assert chosen == "torch"
        assert get_loop() == "torch"
        with use_loop("numba"):
            assert get_loop() == "numba"
        assert get_loop() == "torch"
    assert get_loop() == "auto"


def test_the_environment_variable_chooses_the_loop(monkeypatch):
    monkeypatch.setenv("ELEPHANT_FIT_LOOP", "torch")
    assert get_loop() == "torch"
    monkeypatch.setenv("ELEPHANT_FIT_LOOP", "fast")
    with pytest.raises(ArgumentValueError, match=r"ELEPHANT_FIT_LOOP.*'fast'"):
        get_loop()


def test_bad_loops_are_refused_by_name():
    with pytest.raises(ArgumentValueError, match=r"`loop`.*'compiled'"), use_loop("compiled"):
        pass


def test_auto_compiles_the_loops_of_small_networks_only():
    small = torch.zeros(3 * 20, 20)
    assert resolve_loop(Bernoulli(), small, True) == ("numba", "numba")
    assert resolve_loop(Poisson(), small, True) == ("numba", "numba")
    larger = torch.zeros(NUMBA_BACKWARD_MAX_WEIGHTS + 1, 1)
    assert resolve_loop(Bernoulli(), larger, True) == ("numba", "torch")
    largest = torch.zeros(NUMBA_FORWARD_MAX_WEIGHTS + 1, 1)
    assert resolve_loop(Bernoulli(), largest, True) == ("torch", "torch")
    with use_loop("numba"):  # forced: numba at any size
        assert resolve_loop(Bernoulli(), largest, True) == ("numba", "numba")
    with use_loop("torch"):
        assert resolve_loop(Bernoulli(), small, True) == ("torch", "torch")
    # a surrogate without a closed-form derivative: only autograd can differentiate it
    assert resolve_loop(Bernoulli(), small, False) == ("autograd", "autograd")


def test_tensors_off_the_cpu_run_the_torch_loop():
    off_cpu = torch.zeros(4, 2, device="meta")  # any device but the CPU (CUDA alike)
    assert resolve_loop(Bernoulli(), off_cpu, True) == ("torch", "torch")
    with use_loop("numba"), pytest.raises(ArgumentValueError, match="meta"):
        resolve_loop(Bernoulli(), off_cpu, True)


def test_auto_falls_back_to_torch_without_numba(monkeypatch):
    monkeypatch.setattr(loops_module, "numba_available", lambda: False)
    monkeypatch.setattr(loops_module, "_numba_import_error", lambda: "ImportError: no numba")
    assert resolve_loop(Bernoulli(), torch.zeros(4, 2), True) == ("torch", "torch")
    with (
        pytest.raises(ArgumentValueError, match=r"numba.*ImportError: no numba"),
        use_loop("numba"),
    ):
        pass


def test_numba_refuses_what_it_cannot_compile():
    class Custom(Bernoulli):
        pass

    with (
        use_loop("numba"),
        pytest.raises(ArgumentValueError, match=r"Bernoulli or Poisson.*Custom"),
    ):
        resolve_loop(Custom(), torch.zeros(4, 2), True)
    half = torch.zeros(4, 2, dtype=torch.float16)
    with use_loop("numba"), pytest.raises(ArgumentValueError, match=r"torch.float16"):
        resolve_loop(Bernoulli(), half, True)
    assert resolve_loop(Bernoulli(), half, True) == ("torch", "torch")  # auto
    assert resolve_loop(Custom(), torch.zeros(4, 2), True) == ("torch", "torch")  # auto
    assert isinstance(Custom(), Observation)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize(
    ("observation", "link"), [("bernoulli", None), ("poisson", "exp"), ("poisson", "softplus")]
)
@pytest.mark.parametrize("first", [0, 3])
def test_the_free_run_without_gradients_gives_the_torch_loops_samples(
    observation, link, first, dtype
):
    model = SpikingNetwork(5, n_hidden=2, n_lags=3, observation=observation, link=link, seed=0).to(
        dtype
    )
    generator = torch.Generator().manual_seed(1)
    u_known = torch.randn(4, 60, 7, dtype=dtype, generator=generator) - 1.0
    if observation == "poisson":  # means above 20 take the normal approximation
        u_known[:, ::7, first] = 25.0 if link == "softplus" else 3.5
    scale = 0.5 if observation == "bernoulli" else 0.01  # counts: weaker coupling
    weights = torch.randn(3 * (7 - first), 7, dtype=dtype, generator=generator) * scale
    noise = model.observation.noise((4, 60, 7 - first), generator, dtype, "cpu")
    expected = sample_loop(model.observation, u_known, weights, noise, first, 3, "torch")
    history, u = sample_loop(model.observation, u_known, weights, noise, first, 3, "numba")
    assert torch.equal(history, expected[0])
    assert history[:, 3:].sum() > 20
    atol = 1e-12 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(u, expected[1], rtol=0.0, atol=atol * u.abs().max())


def test_simulate_without_gradients_is_the_same_with_either_loop():
    model = SpikingNetwork(6, n_hidden=3, n_lags=4, seed=2)
    with use_loop("torch"):
        expected = simulate(model, 8, 80, seed=5, requires_grad=False)
    with use_loop("numba"):
        run = simulate(model, 8, 80, seed=5, requires_grad=False)
    assert torch.equal(run.spikes, expected.spikes)


def test_the_weight_gradient_reads_the_spikes_like_the_dense_product():
    generator = torch.Generator().manual_seed(3)
    n_trials, n_bins, n_sampled, n_neurons, n_lags = 11, 40, 5, 8, 3  # 11: uneven chunks
    history = (torch.rand(n_trials, n_lags + n_bins, n_sampled, generator=generator) < 0.2).double()
    history[:, :n_lags] = 0
    grad_u = torch.randn(n_trials, n_bins, n_neurons, dtype=torch.float64, generator=generator)
    lagged = history.unfold(1, n_lags, 1)[:, :n_bins].permute(0, 1, 3, 2)
    dense = lagged.reshape(n_trials * n_bins, -1).T @ grad_u.reshape(n_trials * n_bins, -1)
    torch.testing.assert_close(numba_weight_gradient(history, grad_u, n_lags), dense)


def test_a_fit_with_the_compiled_loop_matches_the_torch_loop():
    """The same data, seeds and settings: the held-out likelihood agrees within rounding noise."""
    truth = hidden_input_network(n_recorded=6, n_hidden=4, n_bins=50, seed=0)
    recording = sample_spikedata(truth, 60, 10 * pq.ms, seed=1).recorded()
    train, test = recording[:40], recording[40:]
    scores, improved = {}, {}
    for loop in ("torch", "numba"):
        with use_loop(loop):
            fitter = NetworkFitter(
                n_hidden=2, n_lags=3, loss="sm", max_iterations=40, seed=0, progress=False
            )
            fitter.fit(train)
            scores[loop] = fitter.score(test, n_particles=64, seed=1)
            improved[loop] = fitter.history_.best_iteration > 0
    assert improved == {"torch": True, "numba": True}
    assert scores["torch"] > 0.01  # the fit learned something beyond the mean rates
    assert abs(scores["numba"] - scores["torch"]) < 0.01
