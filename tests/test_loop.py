"""The optimisation loop: descent, determinism, best checkpoint, early stopping, NaN handling."""

from __future__ import annotations

import pytest
import torch

from elephant_fit.errors import NonFiniteLossError
from elephant_fit.fitting.loop import fit_model
from elephant_fit.fitting.losses import Batch, LossTerm, make_loss
from elephant_fit.network.model import SpikingNetwork
from elephant_fit.network.simulation import simulate


def truth_and_data(n_trials=60):
    truth = SpikingNetwork(4, n_lags=2, n_bins=40, drive="smooth", seed=1)
    with torch.no_grad():
        truth.bias.fill_(-2.0)
        truth.coupling_weights.normal_(0, 0.8, generator=torch.Generator().manual_seed(2))
        truth.drive_weights.normal_(0, 1.0, generator=torch.Generator().manual_seed(3))
    data = simulate(truth, n_trials, 40, seed=4, requires_grad=False).spikes
    return truth, data


def fresh_model():
    return SpikingNetwork(4, n_lags=2, n_bins=40, drive="smooth", seed=0)


def test_nll_decreases_and_history_is_recorded():
    _, data = truth_and_data()
    model = fresh_model()
    history = fit_model(
        model,
        data[:40],
        data[40:],
        make_loss("mle"),
        max_iterations=60,
        learning_rate=0.05,
        progress=False,
    )
    assert len(history.train) == 60
    assert history.validation[-1]["loss"] < history.validation[0]["loss"]
    assert {"iteration", "loss", "nll"} <= set(history.train[0])
    assert 1 <= history.best_iteration <= 60


def test_same_seed_same_parameters():
    _, data = truth_and_data()
    fits = []
    for _ in range(2):
        model = fresh_model()
        fit_model(
            model,
            data[:40],
            data[40:],
            make_loss("sm"),
            max_iterations=8,
            learning_rate=0.05,
            seed=3,
            progress=False,
        )
        fits.append(model.state_dict())
    for name in fits[0]:
        assert torch.equal(fits[0][name], fits[1][name]), name


def test_best_checkpoint_is_kept():
    _, data = truth_and_data()
    model = fresh_model()
    history = fit_model(
        model,
        data[:40],
        data[40:],
        make_loss("mle"),
        max_iterations=40,
        learning_rate=0.5,
        eval_every=5,
        progress=False,
    )
    best = min(history.validation, key=lambda row: row["loss"])
    assert history.best_iteration == best["iteration"]


def test_early_stopping():
    _, data = truth_and_data()
    model = fresh_model()
    history = fit_model(
        model,
        data[:40],
        data[40:],
        make_loss("mle"),
        max_iterations=500,
        learning_rate=3.0,
        eval_every=2,
        patience=2,
        progress=False,
    )
    assert history.stopped_early
    assert len(history.train) < 500


class NaNAfter(LossTerm):
    needs = frozenset({"teacher"})

    def __init__(self, after):
        self.calls, self.after = 0, after

    def __call__(self, model, batch: Batch):
        self.calls += 1
        value = model.bias.sum() * 0 + 1.0
        return value * float("nan") if self.calls > self.after else value


def test_nan_loss_raises_and_keeps_the_last_good_parameters():
    _, data = truth_and_data()
    model = fresh_model()
    loss = make_loss({"nll": 1.0, "bad": (1.0, NaNAfter(after=3))})
    with pytest.raises(NonFiniteLossError, match="last good parameters"):
        fit_model(
            model,
            data[:40],
            None,
            loss,
            max_iterations=10,
            learning_rate=0.05,
            eval_every=100,
            progress=False,
        )
    assert all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.slow
def test_sm_needs_hidden_neurons_to_reproduce_noise_correlations_from_hidden_input():
    """With noise-covariance lags covering the coupling, recorded-only coupling cannot fake the
    hidden common input: SM without hidden neurons misses the zero-lag noise correlations, SM with
    hidden neurons reproduces them."""
    import quantities as pq

    from elephant_fit.evaluation import metrics
    from elephant_fit.fitting.fitter import NetworkFitter
    from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata

    truth = hidden_input_network(seed=0)
    train = sample_spikedata(truth, 500, 10 * pq.ms, seed=1).recorded()
    test = sample_spikedata(truth, 500, 10 * pq.ms, seed=2).recorded()

    def nc_r2(n_hidden):
        fitter = NetworkFitter(
            bin_size=10 * pq.ms,
            n_lags=3,
            n_hidden=n_hidden,
            loss="sm",
            max_iterations=1000,
            progress=False,
            device="cpu",
        ).fit(train)
        simulated = fitter.simulate_spikedata(500, seed=3).recorded().counts
        return metrics.noise_correlation_fit(simulated, test.counts)["r2"]

    without_hidden, with_hidden = nc_r2(0), nc_r2(20)
    assert without_hidden < 0.5
    assert with_hidden > 0.5
