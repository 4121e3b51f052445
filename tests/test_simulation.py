"""Free-running and teacher-forced passes: determinism, consistency, gradients, stability."""

from __future__ import annotations

import pytest
import torch

from elephant_fit.network.model import SpikingNetwork
from elephant_fit.network.simulation import make_generator, simulate, teacher_forced


def random_network(n_recorded=5, n_hidden=0, scale=0.4, **kwargs):
    model = SpikingNetwork(n_recorded, n_hidden=n_hidden, n_lags=4, **kwargs)
    with torch.no_grad():
        model.coupling_weights.normal_(0, scale, generator=torch.Generator().manual_seed(3))
        model.bias.fill_(-1.5)
    return model


def test_same_seed_same_spikes_and_generator_accepted():
    model = random_network()
    a = simulate(model, 6, 40, seed=11, requires_grad=False)
    b = simulate(model, 6, 40, seed=11, requires_grad=False)
    c = simulate(model, 6, 40, seed=12, requires_grad=False)
    assert torch.equal(a.spikes, b.spikes)
    assert not torch.equal(a.spikes, c.spikes)
    d = simulate(model, 6, 40, seed=make_generator(11, torch.device("cpu")), requires_grad=False)
    assert torch.equal(a.spikes, d.spikes)


@pytest.mark.parametrize("observation", ["bernoulli", "poisson"])
def test_grad_and_no_grad_paths_sample_the_same_spikes(observation):
    model = random_network(
        n_hidden=2, scale=0.1, observation=observation, n_bins=30, drive="smooth"
    )
    plain = simulate(model, 4, 30, seed=5, requires_grad=False)
    graph = simulate(model, 4, 30, seed=5, requires_grad=True)
    torch.testing.assert_close(plain.spikes, graph.spikes.detach())
    torch.testing.assert_close(plain.u, graph.u.detach())


def test_teacher_forcing_reproduces_the_free_run_pre_activations():
    model = random_network(n_inputs=2, n_input_lags=2)
    x = torch.randn(3, 25, 2)
    free = simulate(model, 3, 25, inputs=x, seed=1, requires_grad=False)
    forced = teacher_forced(model, free.spikes, inputs=x)
    torch.testing.assert_close(forced.u, free.u, rtol=1e-5, atol=1e-5)


def test_teacher_forcing_with_hidden_neurons_is_consistent_with_its_samples():
    model = random_network(n_recorded=3, n_hidden=2)
    free = simulate(model, 4, 30, seed=9, requires_grad=False)
    forced = teacher_forced(model, free.spikes[..., :3], seed=9)
    assert forced.spikes.shape == (4, 30, 5)
    assert torch.equal(forced.spikes[..., :3], free.spikes[..., :3])
    # the bin-by-bin pass equals the parallel formula applied to data + its sampled hidden spikes
    expected = model.static_input(30) + model.history(forced.spikes)
    torch.testing.assert_close(forced.u, expected, rtol=1e-5, atol=1e-5)
    assert torch.equal(forced.spikes, teacher_forced(model, free.spikes[..., :3], seed=9).spikes)
    assert not torch.equal(
        forced.spikes, teacher_forced(model, free.spikes[..., :3], seed=10).spikes
    )


def test_every_parameter_receives_a_gradient():
    model = random_network(n_recorded=3, n_hidden=2, n_bins=20, drive="smooth", n_inputs=1)
    with torch.no_grad():
        model.input_filters.normal_()
    x = torch.randn(4, 20, 1)
    free = simulate(model, 4, 20, inputs=x, seed=0)
    forced = teacher_forced(model, free.spikes[..., :3].detach(), inputs=x, seed=1)
    loss = (
        free.spikes.mean()
        + model.neg_log_likelihood(forced.u[..., :3], free.spikes[..., :3].detach()).mean()
    )
    loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert parameter.grad.abs().sum() > 0, name


def test_straight_through_gradient_of_a_spike_count():
    model = random_network(n_recorded=2)
    free = simulate(model, 1, 1, seed=0, surrogate="sigmoid")
    free.spikes.sum().backward()
    p = torch.sigmoid(model.bias.detach())
    torch.testing.assert_close(model.bias.grad, p * (1 - p))


def test_default_initialisation_is_stable():
    model = SpikingNetwork(50, n_hidden=50)
    spikes = simulate(model, 20, 500, seed=0, requires_grad=False).spikes
    late = spikes[:, -100:].mean()
    early = spikes[:, :100].mean()
    assert late < 3 * early + 0.01
    assert late < 0.2


def test_poisson_counts_have_the_right_mean():
    model = SpikingNetwork(3, observation="poisson")
    with torch.no_grad():
        model.coupling_weights.zero_()
        model.bias.fill_(0.5)
    counts = simulate(model, 400, 50, seed=0, requires_grad=False).spikes
    assert abs(counts.mean().item() - torch.exp(torch.tensor(0.5)).item()) < 0.03
    assert abs(counts.var().item() - torch.exp(torch.tensor(0.5)).item()) < 0.06
    assert counts.max() >= 4
    with torch.no_grad():
        model.bias.fill_(4.0)  # mean 54.6: normal approximation
    counts = simulate(model, 100, 50, seed=0, requires_grad=False).spikes
    assert abs(counts.mean().item() / torch.exp(torch.tensor(4.0)).item() - 1) < 0.01


BAD = [
    (lambda m: simulate(m, 0, 10), ValueError, "`n_trials`"),
    (lambda m: simulate(m, 2, 10, seed="x"), TypeError, "`seed`"),
    (lambda m: teacher_forced(m, torch.zeros(2, 10, 4)), ValueError, "`recorded`"),
    (lambda m: simulate(m, 2, 10, surrogate="nope"), ValueError, "`surrogate`"),
]


@pytest.mark.parametrize(("call", "error", "match"), BAD)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call(random_network())


@pytest.mark.gpu
def test_cuda_matches_cpu_forward():
    model = random_network(n_hidden=2)
    cpu = simulate(model, 4, 30, seed=0, requires_grad=False)
    cuda_model = random_network(n_hidden=2).cuda()
    on_gpu = teacher_forced(cuda_model, cpu.spikes[..., :5].cuda(), seed=0)
    assert on_gpu.u.is_cuda
    forced = teacher_forced(model, cpu.spikes[..., :5], seed=0)
    torch.testing.assert_close(on_gpu.u[..., :5].cpu(), forced.u[..., :5], rtol=1e-4, atol=1e-4)


def test_poisson_sampler_has_no_outliers_at_the_largest_uniform():
    from elephant_fit.network.observation import poisson_counts

    mean = torch.full((4,), 3.0)
    uniform = torch.full((4,), 1 - 2**-24)
    assert poisson_counts(mean, uniform).max() < 20


@pytest.mark.parametrize("observation", ["bernoulli", "poisson"])
@pytest.mark.parametrize("grad", [False, True])
def test_a_shard_of_a_run_is_those_trials_of_the_whole_run(observation, grad):
    from elephant_fit.distributed import Shard

    network = SpikingNetwork(4, n_hidden=2, n_lags=3, n_bins=30, observation=observation, seed=0)
    whole = simulate(network, 7, 30, seed=5, requires_grad=grad)
    for index in range(3):
        shard = Shard.of(7, index, 3)
        part = simulate(network, 7, 30, seed=5, requires_grad=grad, shard=shard)
        assert torch.equal(part.spikes, whole.spikes[shard.start : shard.stop])
        torch.testing.assert_close(part.u, whole.u[shard.start : shard.stop], rtol=0, atol=1e-6)


def test_teacher_forcing_of_a_shard_samples_the_hidden_neurons_of_those_trials():
    from elephant_fit.distributed import Shard

    network = SpikingNetwork(4, n_hidden=3, n_lags=2, n_bins=25, seed=0)
    recorded = (torch.rand(6, 25, 4) < 0.2).float()
    whole = teacher_forced(network, recorded, seed=2)
    shard = Shard.of(6, 1, 2)
    part = teacher_forced(network, shard.take(recorded), seed=2, shard=shard)
    assert torch.equal(part.spikes, whole.spikes[3:])


def test_a_shard_must_match_the_trials():
    from elephant_fit.distributed import Shard
    from elephant_fit.errors import ArgumentValueError

    network = SpikingNetwork(3, n_lags=2, n_bins=10, seed=0)
    with pytest.raises(ArgumentValueError, match="shard"):
        simulate(network, 5, 10, seed=0, shard=Shard(0, 2, 6))
    with pytest.raises(ArgumentValueError, match="shard"):
        teacher_forced(network, torch.zeros(3, 10, 3), seed=0, shard=Shard(0, 2, 6))


def test_each_trial_runs_under_its_condition():
    network = random_network(n_recorded=3, n_bins=20, drive="free", n_conditions=2)
    with torch.no_grad():
        network.drive_weights[1] += 4.0  # condition 1 fires much more
    conditions = torch.tensor([0, 1, 0, 1])
    run = simulate(network, 4, 20, seed=1, requires_grad=False, conditions=conditions)
    rates = run.spikes.mean(dim=(1, 2))
    assert rates[1::2].min() > rates[0::2].max()
    # the pre-activations are those of the teacher-forced pass on the same spikes and codes
    forced = teacher_forced(network, run.spikes, conditions=conditions)
    expected = network.static_input(20, conditions=conditions) + network.history(run.spikes)
    torch.testing.assert_close(forced.u[..., :3], expected[..., :3], rtol=0, atol=1e-5)
    torch.testing.assert_close(run.u, expected, rtol=0, atol=1e-5)


def test_a_shard_takes_its_conditions_and_inputs():
    from elephant_fit.distributed import Shard

    network = random_network(
        n_recorded=3, n_hidden=1, n_bins=15, drive="smooth", n_conditions=3, n_inputs=1
    )
    with torch.no_grad():
        network.drive_weights.normal_(generator=torch.Generator().manual_seed(0))
        network.input_filters.normal_(generator=torch.Generator().manual_seed(1))
    conditions = torch.tensor([2, 0, 1, 1, 0, 2, 2])
    inputs = torch.randn(7, 15, 1, generator=torch.Generator().manual_seed(2))
    whole = simulate(network, 7, 15, inputs, seed=5, conditions=conditions)
    shard = Shard.of(7, 1, 3)
    for given in ((inputs, conditions), (shard.take(inputs), shard.take(conditions))):
        part = simulate(network, 7, 15, given[0], seed=5, shard=shard, conditions=given[1])
        assert torch.equal(part.spikes, whole.spikes[shard.start : shard.stop])
