"""Ground truths: structure of the assembly network and its confounded pairs."""

from __future__ import annotations

import quantities as pq
import torch

from elephant_fit.network.model import SpikingNetwork
from elephant_fit.network.synthetic import assembly_network, confounded_pairs, sample_spikedata


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
