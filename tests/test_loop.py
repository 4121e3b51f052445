"""The optimisation loop: descent, determinism, best checkpoint, early stopping, NaN handling."""

from __future__ import annotations

import math

import pytest
import torch

from elephant_fit.errors import NonFiniteLossError
from elephant_fit.fitting.loop import fit_model
from elephant_fit.fitting.losses import Batch, LossTerm, NegativeLogLikelihood, make_loss
from elephant_fit.fitting.trials import TrialTensors
from elephant_fit.network.model import SpikingNetwork
from elephant_fit.network.simulation import simulate, teacher_forced


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
        optimizer="adam",
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
            optimizer="adam",
        )
        fits.append(model.state_dict())
    for name in fits[0]:
        assert torch.equal(fits[0][name], fits[1][name]), name


class Recorder(LossTerm):
    """A term of value 0 (no effect on the fit) that records the parameters it is evaluated at.

    Training steps run with gradients, validation evaluations without: ``steps`` and
    ``evaluations`` hold one snapshot per call of each kind, in order.
    """

    needs = frozenset()

    def __init__(self):
        self.steps, self.evaluations = [], []

    def __call__(self, model, batch: Batch):
        state = {name: p.detach().clone() for name, p in model.named_parameters()}
        (self.steps if torch.is_grad_enabled() else self.evaluations).append(state)
        return model.bias.sum() * 0.0


def assert_parameters_equal(model, state):
    for name, parameter in model.named_parameters():
        assert torch.equal(parameter.detach(), state[name]), name


def test_best_checkpoint_is_kept():
    _, data = truth_and_data()
    model = fresh_model()
    recorder = Recorder()
    history = fit_model(
        model,
        data[:40],
        data[40:],
        make_loss({"nll": 1.0, "record": (1.0, recorder)}),
        max_iterations=40,
        learning_rate=0.5,
        eval_every=5,
        progress=False,
        optimizer="adam",
    )
    rows = history.validation
    assert [row["iteration"] for row in rows] == [0, *range(5, 41, 5)]  # 0: the initial state
    assert len(recorder.evaluations) == len(rows)
    best = min(range(len(rows)), key=lambda i: rows[i]["loss"])
    assert history.best_iteration == rows[best]["iteration"]
    assert_parameters_equal(model, recorder.evaluations[best])  # the best ones are kept...
    assert history.best_iteration < 40  # ...and they are not the last ones
    assert not torch.equal(model.bias.detach(), recorder.evaluations[-1]["bias"])
    # and they give the best validation loss again (no hidden neurons: the NLL is deterministic)
    validation = data[40:]
    with torch.no_grad():
        teacher = teacher_forced(model, validation)
        nll = NegativeLogLikelihood()(model, Batch(validation, teacher=teacher))
    assert float(nll) == pytest.approx(rows[best]["loss"], rel=1e-6)
    assert float(nll) < rows[-1]["loss"]


class FailsAfter(Recorder):
    """Records like :class:`Recorder`; from training call ``after + 1`` on, makes the loss NaN
    (``where='loss'``) or keeps it finite with a NaN gradient (``where='gradient'``)."""

    def __init__(self, after, where):
        super().__init__()
        self.after, self.where = after, where

    def __call__(self, model, batch: Batch):
        zero = super().__call__(model, batch)
        if len(self.steps) <= self.after:
            return zero
        if self.where == "loss":
            return zero * float("nan")
        return (model.bias * 0.0).sqrt().sum()  # value 0, gradient 0.5 / sqrt(0) * 0 = NaN


@pytest.mark.parametrize("where", ["loss", "gradient"])
def test_nan_loss_raises_and_keeps_the_last_good_parameters(where):
    _, data = truth_and_data()
    model = fresh_model()
    term = FailsAfter(after=3, where=where)
    loss = make_loss({"nll": 1.0, "bad": (1.0, term)})
    with pytest.raises(NonFiniteLossError, match="last good parameters") as caught:
        fit_model(
            model,
            data[:40],
            None,
            loss,
            max_iterations=10,
            learning_rate=0.05,
            eval_every=100,
            progress=False,
            optimizer="adam",
        )
    assert len(caught.value.history.train) == 3
    assert len(term.steps) == 4  # three good steps, then the failing one
    last_good, failing = term.steps[-2], term.steps[-1]
    assert not torch.equal(last_good["bias"], failing["bias"])  # the third step moved them
    assert_parameters_equal(model, last_good)
    if where == "gradient":
        assert model.bias.grad is not None
        assert not torch.isfinite(model.bias.grad).all()


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


def test_lbfgs_reaches_the_converged_likelihood_in_few_iterations():
    """Full-batch L-BFGS on the convex MLE: in 200 steps, the training NLL of 1500 Adam steps."""
    _, data = truth_and_data()
    train = data[:40]
    nll = NegativeLogLikelihood()

    def training_nll(model):
        with torch.no_grad():
            return float(nll(model, Batch(train, teacher=teacher_forced(model, train))))

    adam = fresh_model()
    fit_model(
        adam,
        train,
        None,
        make_loss("mle"),
        max_iterations=1500,
        learning_rate=0.05,
        batch_size=40,
        patience=None,
        progress=False,
        optimizer="adam",
    )
    lbfgs = fresh_model()
    history = fit_model(
        lbfgs,
        train,
        None,
        make_loss("mle"),
        optimizer="lbfgs",
        max_iterations=200,
        eval_every=5,
        patience=None,
        progress=False,
    )
    assert len(history.train) == 200
    assert training_nll(lbfgs) <= training_nll(adam) + 1e-5
    assert training_nll(lbfgs) < training_nll(fresh_model()) - 0.01


def test_lbfgs_refuses_a_stochastic_loss():
    _, data = truth_and_data()
    with pytest.raises(ValueError, match="deterministic"):
        fit_model(
            fresh_model(), data[:40], None, make_loss("sm"), optimizer="lbfgs", progress=False
        )
    hidden = SpikingNetwork(4, n_hidden=2, n_lags=2, n_bins=40, drive="smooth", seed=0)
    with pytest.raises(ValueError, match="n_hidden=2"):
        fit_model(hidden, data[:40], None, make_loss("mle"), optimizer="lbfgs", progress=False)


def test_patience_counts_evaluations_without_a_relative_improvement():
    _, data = truth_and_data()
    history = fit_model(
        fresh_model(),
        data[:40],
        data[40:],
        make_loss("mle"),
        max_iterations=2000,
        learning_rate=0.05,
        eval_every=10,
        patience=3,
        tolerance=0.5,
        progress=False,
        optimizer="adam",
    )
    # a 50 % relative improvement never comes after the first evaluations: stops after 3 more
    assert history.stopped_early
    assert len(history.validation) <= 5


def test_the_initial_state_is_the_first_checkpoint():
    _, data = truth_and_data()
    model = fresh_model()
    initial = {name: value.clone() for name, value in model.state_dict().items()}
    history = fit_model(
        model,
        data[:40],
        data[40:],
        make_loss("mle"),
        max_iterations=5,
        learning_rate=1e6,
        eval_every=1,
        optimizer="adam",
        progress=False,
    )
    assert history.validation[0]["iteration"] == 0
    assert not history.improved  # a learning rate of 1e6 never beats the initial parameters
    for name, value in model.state_dict().items():
        assert torch.equal(value, initial[name]), name


def test_lbfgs_stops_cleanly_on_a_non_finite_line_search():
    class InfBeyond(LossTerm):
        """inf as soon as a bias leaves [-10, 10]: a long L-BFGS step meets it."""

        needs = frozenset({"teacher"})

        def __call__(self, model, batch):
            far = (model.bias.abs() > 10).any()
            return model.bias.pow(2).sum() * 0 + (float("inf") if far else 0.0) - model.bias.sum()

    _, data = truth_and_data()
    model = fresh_model()
    with pytest.raises(NonFiniteLossError, match="L-BFGS line search") as error:
        fit_model(
            model,
            data[:40],
            None,
            make_loss({"nll": 1.0, "pull": (1.0, InfBeyond())}),
            optimizer="lbfgs",
            max_iterations=50,
            progress=False,
        )
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert (model.bias.abs() <= 10).all()  # the last good parameters
    assert error.value.history is not None


def test_a_nan_initial_loss_does_not_stop_an_improving_fit():
    class NaNFirst(LossTerm):
        needs = frozenset({"teacher"})

        def __init__(self):
            self.calls = 0

        def __call__(self, model, batch):
            self.calls += 1
            return model.bias.sum() * (float("nan") if self.calls == 1 else 0.0)

    _, data = truth_and_data()
    history = fit_model(
        fresh_model(),
        data[:40],
        data[40:],
        make_loss({"nll": 1.0, "odd": (1.0, NaNFirst())}),
        max_iterations=40,
        eval_every=5,
        patience=1,
        optimizer="adam",
        progress=False,
    )
    assert history.validation[0]["loss"] != history.validation[0]["loss"]  # NaN at iteration 0
    assert len(history.validation) >= 3  # the first finite evaluation counted as an improvement


def test_sm_terms_on_windows_compare_the_same_bins_of_data_and_simulation():
    from elephant_fit.fitting.loop import _batch

    _, data = truth_and_data()  # 40 bins
    model = fresh_model()
    loss = make_loss("sm", max_lag=2)
    batch = _batch(model, data[:8], loss, 0, "sigmoid", window=(10, 5))
    assert batch.free.spikes.shape == (8, 10, 4)
    assert batch.measured.shape == (8, 10, 4)
    # the measured data are a window of the trials
    starts = [s for s in range(31) if torch.equal(data[:8, s : s + 10], batch.measured)]
    assert starts
    # and the simulation's stimulus drive is the same window of the drive
    start = starts[0]
    first = max(0, start - 5)
    static = model.static_input(40)[0]
    window_static = model.static_input(start + 10 - first, first_bin=first)[0]
    assert torch.equal(window_static, static[first : start + 10])
    total, values = loss(model, batch)
    assert torch.isfinite(total)
    assert set(values) == {"nll", "psth", "noise_covariance", "hidden_rate"}


def test_a_fit_with_sm_windows_runs_and_validates_on_whole_trials():
    _, data = truth_and_data()
    history = fit_model(
        fresh_model(),
        data[:40],
        data[40:],
        make_loss("sm", max_lag=2),
        max_iterations=20,
        eval_every=10,
        sm_window=10,
        sm_burn_in=5,
        progress=False,
    )
    assert len(history.train) == 20
    assert all(torch.isfinite(torch.tensor(row["loss"])) for row in history.validation)


def test_data_parallel_fit_refuses_unsafe_terms_and_empty_shares(monkeypatch):
    """Checked before any collective: a custom term that is not parallel-safe, a rank without trials."""
    import elephant_fit.fitting.loop as loop

    class Custom(LossTerm):
        needs = frozenset({"teacher"})

        def __call__(self, model, batch):
            return batch.teacher.u.mean()

    monkeypatch.setattr(loop, "is_distributed", lambda: True)
    monkeypatch.setattr(loop, "world_size", lambda: 4)
    model = SpikingNetwork(3, n_lags=2, n_bins=10, seed=0)
    data = (torch.rand(12, 10, 3) < 0.2).float()
    with pytest.raises(ValueError, match="parallel_safe"):
        fit_model(model, data, None, make_loss({"nll": 1.0, "mine": (1.0, Custom())}))
    with pytest.raises(ValueError, match="one trial per rank"):
        fit_model(model, data, None, make_loss("mle"), batch_size=3)


# ---------------------------------------------------------------- conditions and covariates
def _two_condition_truth():
    truth = SpikingNetwork(4, n_lags=2, n_bins=30, drive="smooth", n_conditions=2, seed=1)
    with torch.no_grad():
        truth.bias.fill_(-2.0)
        truth.coupling_weights.normal_(0, 0.5, generator=torch.Generator().manual_seed(2))
        truth.drive_weights.normal_(0, 1.2, generator=torch.Generator().manual_seed(3))
    codes = torch.arange(80) % 2
    data = simulate(truth, 80, 30, seed=4, requires_grad=False, conditions=codes).spikes
    return truth, TrialTensors(data, conditions=codes)


def test_a_fit_with_conditions_learns_a_drive_per_condition():
    truth, trials = _two_condition_truth()
    model = SpikingNetwork(4, n_lags=2, n_bins=30, drive="smooth", n_conditions=2, seed=0)
    loss = make_loss({"nll": 1.0, "psth": 1.0, "noise_covariance": 1.0})
    fit_model(
        model,
        trials[:60],
        trials[60:],
        loss,
        max_iterations=80,
        learning_rate=0.05,
        progress=False,
        patience=None,
    )
    fitted, true = model.stimulus_drive().detach(), truth.stimulus_drive()
    difference = torch.stack([(fitted[1] - fitted[0]).flatten(), (true[1] - true[0]).flatten()])
    assert torch.corrcoef(difference)[0, 1] > 0.6


def test_mini_batches_take_counts_conditions_and_inputs_alike():
    counts = torch.arange(5.0).view(5, 1, 1).expand(5, 3, 2)
    trials = TrialTensors(counts, torch.tensor([0, 1, 2, 0, 1]), counts[..., :1] * 10)
    part = trials[torch.tensor([4, 0])]
    assert part.counts[:, 0, 0].tolist() == [4.0, 0.0]
    assert part.conditions.tolist() == [1, 0]
    assert part.inputs[:, 0, 0].tolist() == [40.0, 0.0]
    from elephant_fit.network.shard import Shard

    share = Shard.of(5, 1, 2).take(trials)
    assert share.conditions.tolist() == [0, 1]
    assert share.n_trials == 2


def test_one_condition_codes_give_the_fit_without_them_bit_for_bit():
    _, data = truth_and_data(30)
    fits = []
    for train in (data[:20], TrialTensors(data[:20], conditions=torch.zeros(20, dtype=torch.long))):
        model = SpikingNetwork(4, n_hidden=2, n_lags=2, n_bins=40, drive="smooth", seed=0)
        history = fit_model(
            model,
            train,
            data[20:],
            make_loss("sm"),
            max_iterations=6,
            learning_rate=0.05,
            progress=False,
            eval_every=3,
        )
        fits.append((history.train, model.state_dict()))
    assert fits[0][0] == fits[1][0]
    assert all(torch.equal(fits[0][1][k], fits[1][1][k]) for k in fits[0][1])


def _covariate_truth(n_trials=120, n_bins=60):
    truth = SpikingNetwork(3, n_lags=2, n_inputs=1, n_input_lags=4, seed=1).double()
    with torch.no_grad():
        truth.bias.fill_(-2.0)
        truth.coupling_weights.normal_(0, 0.3, generator=torch.Generator().manual_seed(2))
        truth.input_filters.copy_(
            torch.tensor([1.2, 0.6, -0.4, 0.2], dtype=torch.float64).view(4, 1, 1)
            * torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64)
        )
    inputs = torch.randn(n_trials, n_bins, 1, generator=torch.Generator().manual_seed(5)).double()
    data = simulate(truth, n_trials, n_bins, inputs, seed=4, requires_grad=False).spikes
    return truth, TrialTensors(data, inputs=inputs)


def test_covariate_filters_are_fitted_by_mle_and_by_sm():
    truth, trials = _covariate_truth()
    model = SpikingNetwork(3, n_lags=2, n_inputs=1, n_input_lags=4, seed=0).double()
    fit_model(
        model,
        trials[:100],
        trials[100:],
        make_loss("mle"),
        optimizer="lbfgs",
        max_iterations=30,
        progress=False,
    )
    fitted, true = model.input_filters.detach().flatten(), truth.input_filters.flatten()
    assert torch.corrcoef(torch.stack([fitted, true]))[0, 1] > 0.95
    sm = SpikingNetwork(3, n_hidden=1, n_lags=2, n_inputs=1, n_input_lags=4, seed=0).double()
    history = fit_model(
        sm,
        trials[:100],
        trials[100:],
        make_loss("sm"),
        max_iterations=4,
        progress=False,
        sm_window=20,
        sm_burn_in=5,
        eval_every=2,
    )
    assert all(math.isfinite(row["loss"]) for row in history.train)


def test_side_information_is_required_and_checked():
    counts = torch.zeros(6, 10, 2)
    with pytest.raises(ValueError, match="has no inputs"):
        fit_model(SpikingNetwork(2, n_inputs=1), counts, None, make_loss("mle"), progress=False)
    with pytest.raises(ValueError, match="has no conditions"):
        fit_model(
            SpikingNetwork(2, n_bins=10, drive="free", n_conditions=2),
            counts,
            None,
            make_loss("mle"),
            progress=False,
        )
    with pytest.raises(ValueError, match=r"0\.\.1"):
        fit_model(
            SpikingNetwork(2, n_bins=10, drive="free", n_conditions=2),
            TrialTensors(counts, conditions=torch.tensor([0, 1, 2, 0, 1, 0])),
            None,
            make_loss("mle"),
            progress=False,
        )
    with pytest.raises(ValueError, match="inputs"):
        TrialTensors(counts, inputs=torch.zeros(6, 9, 1))
    with pytest.raises(TypeError, match="TrialTensors"):
        fit_model(SpikingNetwork(2), counts.numpy(), None, make_loss("mle"), progress=False)


def test_checkpoints_fingerprint_the_conditions(tmp_path):
    _, trials = _two_condition_truth()
    path = tmp_path / "fit.ckpt"

    def fit(codes, resume):
        model = SpikingNetwork(4, n_lags=2, n_bins=30, drive="smooth", n_conditions=2, seed=0)
        data = TrialTensors(trials.counts[:20], conditions=codes)
        return fit_model(
            model,
            data,
            None,
            make_loss("mle"),
            max_iterations=100,  # a checkpoint is written every 100 iterations
            patience=None,
            progress=False,
            checkpoint=path,
            resume=resume,
        )

    codes = trials.conditions[:20]
    fit(codes, False)
    fit(codes, True)  # the same trials: resumed
    with pytest.raises(ValueError, match="other data"):
        fit(1 - codes, True)
