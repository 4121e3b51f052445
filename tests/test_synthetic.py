"""Ground truths: structure of the assembly network and its confounded pairs."""

from __future__ import annotations

import pytest
import quantities as pq
import torch

from elephant_fit.errors import ArgumentValueError
from elephant_fit.network.model import SpikingNetwork
from elephant_fit.network.synthetic import (
    assembly_network,
    confounded_pairs,
    sample_spikedata,
    trial_state_network,
)


def test_confounded_pairs_finds_shared_inputs_and_relays():
    model = SpikingNetwork(4, n_hidden=2, n_lags=2)
    with torch.no_grad():
        model.coupling_weights.zero_()
        model.coupling_weights[0, 4, 0] = 1.0  # hidden 4 -> 0
        model.coupling_weights[1, 4, 1] = 1.0  # hidden 4 -> 1 (later)
        model.coupling_weights[0, 2, 5] = 1.0  # 2 -> hidden 5
        model.coupling_weights[0, 5, 3] = 1.0  # hidden 5 -> 3
    pairs = confounded_pairs(model)  # [post, pre]
    expected = torch.zeros(4, 4, dtype=torch.bool)
    expected[0, 1] = expected[1, 0] = True  # shared hidden input
    expected[3, 2] = True  # relay 2 -> 5 -> 3
    assert torch.equal(pairs, expected)


def test_assembly_network_has_the_structure_mle_cannot_explain():
    truth = assembly_network(seed=1)
    assert truth.n_hidden > truth.n_recorded
    coupling = truth.lagged_coupling().detach()  # [lag, pre, post]
    n_rec = truth.n_recorded
    to_recorded = coupling[:, n_rec:, :n_rec]
    delays = {int(lag) for lag in torch.nonzero(to_recorded)[:, 0]}
    assert len(delays) > 1  # targets hit at different delays
    assert bool((coupling[:, :n_rec, n_rec:] > 0).any())  # recorded -> hidden (loops)
    assert int(confounded_pairs(truth).sum()) > 20
    data = sample_spikedata(truth, 50, 10 * pq.ms, seed=0)
    rates = data.counts.mean(dim=(0, 1))
    assert 0.005 < float(rates[:n_rec].mean()) < 0.2  # neither silent nor saturated
    assert float(rates.max()) < 0.5


def test_assembly_network_strength_options_scale_the_hidden_input():
    default = assembly_network(seed=2)
    assert torch.equal(
        default.coupling_weights, assembly_network(seed=2, projection_weight=0.6).coupling_weights
    )
    strong = assembly_network(seed=2, projection_weight=1.2, assembly_weight=0.5, n_targets=8)
    n_rec = default.n_recorded
    to_recorded = strong.lagged_coupling().detach()[:, n_rec:, :n_rec]
    assert torch.allclose(to_recorded[to_recorded != 0], torch.tensor(1.2))
    assert int((to_recorded != 0).any(dim=0).any(dim=0).sum()) > 4  # more recorded targets
    within = strong.lagged_coupling().detach()[0, n_rec : n_rec + 10, n_rec : n_rec + 10]
    assert float(within[0, 1]) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("n_targets", 0),
        ("n_targets", 21),
        ("projection_weight", -1.0),
        ("assembly_weight", float("nan")),
    ],
)
def test_assembly_network_refuses_bad_arguments_by_name(argument, value):
    with pytest.raises(ArgumentValueError, match=argument):
        assembly_network(**{argument: value})


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("switch_probability", 0.0),
        ("switch_probability", 0.5),
        ("n_states", 0),
        ("recorded_rate", 1.0),
    ],
)
def test_trial_state_network_refuses_bad_arguments_by_name(argument, value):
    with pytest.raises(ArgumentValueError, match=argument):
        trial_state_network(**{argument: value})


def test_trial_state_network_twins_share_the_mean_and_variance_of_the_state_input():
    one, twin = trial_state_network(seed=3), trial_state_network(n_states=9, seed=3)
    n = one.n_recorded
    gains_one = one.lagged_coupling()[0, n:, :n].detach()  # (n_states, n_recorded)
    gains_twin = twin.lagged_coupling()[0, n:, :n].detach()
    # a state is on with probability 1/2: mean input sum(a)/2, variance sum(a^2)/4
    mean_one = one.bias[:n].detach() + gains_one.sum(0) / 2
    mean_twin = twin.bias[:n].detach() + gains_twin.sum(0) / 2
    torch.testing.assert_close(mean_twin, mean_one)
    torch.testing.assert_close((gains_twin**2).sum(0), (gains_one**2).sum(0))
