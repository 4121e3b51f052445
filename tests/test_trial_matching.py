"""Trial matching: population activity, the optimal pairing, the loss term in a fit."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from scipy import stats

from elephant_fit.errors import ArgumentValueError
from elephant_fit.fitting.loop import _batch
from elephant_fit.fitting.losses import Batch, TrialMatching, make_loss
from elephant_fit.fitting.trial_matching import (
    matched_distance,
    population_activity,
    sinkhorn_distance,
)
from elephant_fit.network import SpikingNetwork, simulate, use_loop
from elephant_fit.network.simulation import Simulation
from elephant_fit.network.synthetic import trial_state_network


def test_population_activity_is_the_groups_mean_over_a_sliding_window(rng):
    counts = rng.poisson(0.3, size=(4, 12, 5)).astype(float)
    groups = [[0, 2], [1, 3, 4]]
    expected = np.empty((4, 2, 12 - 3 + 1))
    for k, (g, group) in itertools.product(range(4), enumerate(groups)):
        mean = counts[k][:, group].mean(axis=1)
        expected[k, g] = [mean[t : t + 3].mean() for t in range(10)]
    result = population_activity(torch.from_numpy(counts), groups, window=3)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-12)


def test_the_matched_distance_is_the_best_pairing_of_all(rng):
    model = torch.from_numpy(rng.normal(size=(5, 3, 4)))
    data = torch.from_numpy(rng.normal(size=(5, 3, 4)))
    brute = min(
        np.mean([float((model[i] - data[j]).pow(2).mean()) for i, j in enumerate(order)])
        for order in itertools.permutations(range(5))
    )
    assert float(matched_distance(model, data)) == pytest.approx(brute, rel=1e-12)
    # more model trials than data trials: each data trial gets its nearest distinct partner
    far = torch.cat([data + 0.01, data + 100.0])
    assert float(matched_distance(far, data)) == pytest.approx(1e-4, rel=1e-9)


def test_the_gradient_flows_through_the_matched_pairs_only():
    model = torch.tensor([[0.0], [10.0], [50.0]], dtype=torch.float64, requires_grad=True)
    data = torch.tensor([[9.0], [1.0]], dtype=torch.float64)
    matched_distance(model, data).backward()
    # pairs 0 <-> 1 (0 - 1) and 1 <-> 0 (10 - 9); trial 2 is left unmatched
    torch.testing.assert_close(
        model.grad, torch.tensor([[-1.0], [1.0], [0.0]], dtype=torch.float64)
    )


def test_sinkhorn_tends_to_the_hungarian_distance_as_epsilon_shrinks(rng):
    model = torch.from_numpy(rng.normal(size=(12, 3, 4)))
    data = torch.from_numpy(rng.normal(size=(12, 3, 4)))
    hungarian = float(matched_distance(model, data))
    soft = [
        float(sinkhorn_distance(model, data, epsilon=e, n_iterations=2000))
        for e in (0.3, 0.03, 0.003)
    ]
    assert soft[0] > soft[1] > soft[2] >= hungarian - 1e-9
    assert soft[2] == pytest.approx(hungarian, rel=1e-3)


def _entropic_cost(model, data, epsilon):
    """The regularised transport value <P, C> + eps KL(P | a b) by a plain (not log-domain)
    Sinkhorn, written independently: its gradient in the costs is the plan P."""
    cost = (model.flatten(1)[:, None] - data.flatten(1)[None]).pow(2).mean(dim=2)
    eps = epsilon * float(cost.detach().mean())
    a = torch.full((cost.shape[0],), 1.0 / cost.shape[0], dtype=cost.dtype)
    b = torch.full((cost.shape[1],), 1.0 / cost.shape[1], dtype=cost.dtype)
    kernel, v = torch.exp(-cost / eps), torch.ones_like(b)
    for _ in range(3000):
        u = a / (kernel @ v)
        v = b / (kernel.T @ u)
    plan = u[:, None] * kernel * v[None, :]
    return (plan * cost).sum() + eps * (plan * (plan / (a[:, None] * b[None, :])).log()).sum()


def test_the_sinkhorn_gradient_is_that_of_the_entropic_transport_cost(rng):
    model = torch.from_numpy(rng.normal(size=(5, 2))).requires_grad_(True)
    data = torch.from_numpy(rng.normal(size=(4, 2)))  # unequal sizes: every trial carries mass
    (ours,) = torch.autograd.grad(sinkhorn_distance(model, data, 0.5, n_iterations=3000), model)
    (reference,) = torch.autograd.grad(_entropic_cost(model, data, 0.5), model)
    # eps is held fixed in the reference's gradient too (it is computed from a float)
    torch.testing.assert_close(ours, reference, rtol=1e-6, atol=1e-9)


def _batch_of(data, simulated, conditions=None):
    batch = Batch(data, conditions=conditions)
    batch.free = Simulation(simulated, torch.zeros_like(simulated))
    return batch


def test_the_term_matches_trials_not_indices(rng):
    model = SpikingNetwork(4, n_hidden=0, n_lags=2, seed=0)
    data = torch.from_numpy(rng.poisson(0.5, size=(6, 20, 4))).float()
    term = TrialMatching(window=4)
    shuffled = data[torch.tensor([3, 0, 5, 1, 2, 4])]
    assert float(term(model, _batch_of(data, shuffled))) == pytest.approx(0.0, abs=1e-10)
    assert float(term(model, _batch_of(data, data.flip(1)))) > 0.1
    # within conditions only: the same shuffle across conditions is no longer free
    conditions = torch.tensor([0, 0, 0, 1, 1, 1])
    assert float(term(model, _batch_of(data, shuffled, conditions))) > 0.1
    within = data[torch.tensor([2, 0, 1, 4, 5, 3])]
    assert float(term(model, _batch_of(data, within, conditions))) == pytest.approx(0.0, abs=1e-10)


def test_bad_settings_are_refused_by_name():
    with pytest.raises(ArgumentValueError, match="`window`"):
        TrialMatching(window=0)
    with pytest.raises(ArgumentValueError, match="`groups`"):
        TrialMatching(groups=[[]])
    with pytest.raises(ArgumentValueError, match=r"`matching`.*'soft'"):
        TrialMatching(matching="soft")
    with pytest.raises(ArgumentValueError, match="`epsilon`"):
        TrialMatching(matching="sinkhorn", epsilon=0.0)
    model = SpikingNetwork(3, n_lags=2, seed=0)
    data = torch.zeros(2, 10, 3)
    with pytest.raises(ArgumentValueError, match=r"`window` \(12 bins\).*10 bins"):
        TrialMatching(window=12)(model, _batch_of(data, data))
    with pytest.raises(ArgumentValueError, match=r"`groups`.*0\.\.2"):
        TrialMatching(groups=[[0, 5]])(model, _batch_of(data, data))


def _behaviour_batch(rng, model_follows_behaviour):
    """Per trial a behaviour (0 or 1); recorded trials are active when it is 1. The model's
    trials are active when it is 1 (follows) or 0 (anti): the same mix of active and quiet
    trials either way, so only the behaviour channel can tell the two models apart."""
    behaviour = torch.tensor([0.0, 1.0] * 20)  # 40 trials of 50 bins
    active = behaviour.view(-1, 1, 1).expand(40, 50, 4)
    data = torch.from_numpy(rng.binomial(1, (0.1 + 0.6 * active).numpy())).float()
    model_active = active if model_follows_behaviour else 1.0 - active
    simulated = torch.from_numpy(rng.binomial(1, (0.1 + 0.6 * model_active).numpy())).float()
    batch = _batch_of(data, simulated)
    batch.inputs = behaviour.view(-1, 1, 1).expand(40, 50, 2).clone()
    batch.inputs[..., 1] = torch.randn(40, 50, generator=torch.Generator().manual_seed(0))
    return batch


def test_behaviour_channels_pair_trials_that_behaved_alike(rng):
    model = SpikingNetwork(4, n_lags=2, seed=0)
    follows, anti = _behaviour_batch(rng, True), _behaviour_batch(rng, False)
    activity_only = TrialMatching(window=5)
    ratio = float(activity_only(model, anti)) / float(activity_only(model, follows))
    assert 0.8 < ratio < 1.25  # activity alone: both models look alike
    with_behaviour = TrialMatching(window=5, covariates=[0], covariate_weight=1.0)
    assert float(with_behaviour(model, anti)) > 3 * float(with_behaviour(model, follows))
    # the behaviour channels carry no gradient: the distance of the activity does
    simulated = anti.free.spikes.clone().requires_grad_(True)
    anti.free = Simulation(simulated, torch.zeros_like(simulated))
    with_behaviour(model, anti).backward()
    assert simulated.grad.abs().sum() > 0


def test_behaviour_channels_are_checked_by_name():
    model = SpikingNetwork(3, n_lags=2, seed=0)
    data = torch.zeros(2, 10, 3)
    with pytest.raises(ArgumentValueError, match="`covariates`"):
        TrialMatching(covariates=[])
    with pytest.raises(ArgumentValueError, match="`covariate_weight`"):
        TrialMatching(covariates=[0], covariate_weight=-1.0)
    with pytest.raises(ArgumentValueError, match="fit has none"):
        TrialMatching(covariates=[0])(model, _batch_of(data, data))
    batch = _batch_of(data, data)
    batch.inputs = torch.zeros(2, 10, 1)
    with pytest.raises(ArgumentValueError, match=r"`covariates` among the 1 covariate"):
        TrialMatching(covariates=[1])(model, batch)
    batch.inputs = torch.zeros(2, 30, 1)  # whole trials, but SM measured on 10-bin windows
    with pytest.raises(ArgumentValueError, match="sm_window=None"):
        TrialMatching(covariates=[0])(model, batch)


def test_trial_matching_in_a_loss_dict_trains_the_network():
    loss = make_loss({"nll": 1.0, "trial_matching": 1.0})
    assert loss.needs == {"free", "teacher"}
    model = SpikingNetwork(4, n_hidden=2, n_lags=2, n_bins=30, drive="smooth", seed=0)
    data = (torch.rand(8, 30, 4, generator=torch.Generator().manual_seed(1)) < 0.2).float()
    total, values = loss(model, _batch(model, data, loss, 0, "sigmoid"))
    total.backward()
    assert values["trial_matching"] > 0
    assert model.coupling_weights.grad.abs().sum() > 0  # through the simulated spikes


@pytest.mark.filterwarnings("ignore::elephant_fit.errors.NoImprovementWarning")  # 3 iterations
def test_a_fitter_takes_trial_matching_by_name():
    import quantities as pq

    from elephant_fit import NetworkFitter, SpikeData

    counts = (torch.rand(12, 30, 4, generator=torch.Generator().manual_seed(3)) < 0.2).float()
    fitter = NetworkFitter(
        n_hidden=2,
        n_lags=2,
        loss={"nll": 1.0, "trial_matching": 0.5},
        max_iterations=3,
        progress=False,
        seed=0,
    )
    fitter.fit(SpikeData(counts, 10 * pq.ms))
    assert "trial_matching" in fitter.history_.train[-1]


@pytest.mark.filterwarnings("ignore::elephant_fit.errors.NoImprovementWarning")  # 3 iterations
def test_a_fitter_takes_trial_matching_with_a_behavioural_channel():
    import quantities as pq

    from elephant_fit import NetworkFitter, SpikeData

    generator = torch.Generator().manual_seed(4)
    counts = (torch.rand(12, 30, 4, generator=generator) < 0.2).float()
    running = torch.rand(12, 30, 1, generator=generator)  # a covariate per trial and bin
    fitter = NetworkFitter(
        n_lags=2,
        loss={"nll": 1.0, "behaviour-matched": (0.5, TrialMatching(covariates=[0]))},
        max_iterations=3,
        progress=False,
        seed=0,
    )
    fitter.fit(SpikeData(counts, 10 * pq.ms, covariates=running))
    assert fitter.history_.train[-1]["behaviour-matched"] > 0


def _bimodality_coefficient(values):
    n = len(values)
    skew, kurtosis = stats.skew(values, bias=False), stats.kurtosis(values, bias=False)
    return (skew**2 + 1) / (kurtosis + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))


def test_trial_matching_tells_two_modes_from_one_where_psth_and_noise_covariance_cannot():
    # a hidden state on or off for whole trials, and its twin with 16 independent states: the
    # same mean and variance of the state input (same PSTH and noise covariance to second order)
    models = {
        "truth": trial_state_network(seed=0),
        "twin": trial_state_network(n_states=16, seed=0),
    }
    with use_loop("torch"):
        data = simulate(models["truth"], 400, 100, seed=1, requires_grad=False).spikes[..., :16]
        runs = {
            name: simulate(model, 400, 100, seed=2, requires_grad=False)
            for name, model in models.items()
        }
    rates = {name: run.spikes[..., :16].mean(dim=(1, 2)).numpy() for name, run in runs.items()}
    assert _bimodality_coefficient(rates["truth"]) > 0.7  # two modes of per-trial rate
    assert _bimodality_coefficient(rates["twin"]) < 5 / 9  # one broad mode
    loss = make_loss(
        {
            "psth": 1.0,
            "noise_covariance": 1.0,
            "trial_matching": 1.0,  # the default 5-bin window
            "wide": (1.0, TrialMatching(window=25)),
            "soft": (1.0, TrialMatching(window=25, matching="sinkhorn")),
        },
        max_lag=3,
    )
    values = {name: loss(models[name], Batch(data, free=run))[1] for name, run in runs.items()}
    ratio = {name: values["twin"][name] / values["truth"][name] for name in values["truth"]}
    # the trial-averaged terms barely tell the twin from the truth (measured 1.27 and 1.08)...
    assert ratio["psth"] < 1.5
    assert ratio["noise_covariance"] < 1.5
    # ...trial matching over 25 bins does (measured 3.6; the truth is at the sampling floor)
    assert ratio["wide"] > 2.5
    assert ratio["wide"] > 2 * max(ratio["psth"], ratio["noise_covariance"])
    assert ratio["trial_matching"] > 1.0  # the default 5-bin window, weakly (measured 1.26)
    assert ratio["soft"] > 2.5  # the Sinkhorn matching too (measured 3.1)
