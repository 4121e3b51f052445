"""NetworkFitter: fitting Neo data, Neo outputs Elephant consumes, scoring, persistence, errors."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import quantities as pq
import torch
from elephant.conversion import BinnedSpikeTrain
from elephant.spike_train_correlation import correlation_coefficient
from elephant.statistics import fanofactor, time_histogram
from neo.test.tools import assert_neo_object_is_compliant

from elephant_fit import SpikeData, from_neo, to_neo
from elephant_fit.errors import ElephantFitError, NoImprovementWarning, NotFittedError
from elephant_fit.fitting.fitter import NetworkFitter, _noise_covariance_lags
from elephant_fit.fitting.losses import CouplingPenalty, LossTerm
from elephant_fit.fitting.model_file import checksum
from elephant_fit.fitting.persistence import load_model as load
from elephant_fit.network.simulation import teacher_forced
from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata


@pytest.fixture(scope="module")
def recording():
    truth = hidden_input_network(n_recorded=6, n_hidden=4, n_bins=50, seed=0)
    return sample_spikedata(truth, 40, 10 * pq.ms, seed=1).recorded()


@pytest.fixture(scope="module")
def fitted(recording):
    block = to_neo(recording)
    return NetworkFitter(
        bin_size=10 * pq.ms, n_lags=3, max_iterations=40, progress=False, device="cpu"
    ).fit(block)


def test_fit_on_a_neo_block_sets_learned_attributes(fitted, recording):
    assert fitted.coupling_.shape == (6, 6, 3)
    weights = fitted.model_.lagged_coupling().detach().double()  # (lag, pre, post)
    for post, pre, lag in [(0, 1, 0), (2, 5, 2), (4, 4, 1)]:
        assert fitted.coupling_[post, pre, lag] == float(weights[lag, pre, post])
    assert fitted.unit_ids_ == recording.unit_ids
    assert 1 <= fitted.history_.best_iteration <= len(fitted.history_.train) <= 40
    assert fitted.n_bins_ == 50


def test_simulate_returns_a_block_elephant_consumes(fitted):
    block = fitted.simulate(8, seed=0)
    assert_neo_object_is_compliant(block)
    assert len(block.segments) == 8
    assert [g.annotations["unit_id"] for g in block.groups] == [f"r{j}" for j in range(6)]
    trains = block.segments[0].spiketrains
    assert trains[0].t_stop == 0.5 * pq.s
    histogram = time_histogram(trains, 10 * pq.ms)
    assert histogram.shape == (50, 1)
    matrix = correlation_coefficient(BinnedSpikeTrain(trains, bin_size=10 * pq.ms))
    assert matrix.shape == (6, 6)
    # the spikes are those of the same seeded simulation as a SpikeData
    same = fitted.simulate_spikedata(8, seed=0).recorded().counts
    assert torch.equal(from_neo(block, 10 * pq.ms).counts.float(), same.float())
    assert same.sum() > 0
    assert histogram.magnitude[:, 0].tolist() == same[0].sum(dim=1).tolist()
    assert np.isfinite(fanofactor([seg.spiketrains[0] for seg in block.segments]))
    hidden = NetworkFitter(n_hidden=2, bin_size=10 * pq.ms, max_iterations=2, progress=False).fit(
        to_neo(SpikeData(torch.ones(3, 20, 2), 10 * pq.ms))
    )
    with_hidden = hidden.simulate(2, seed=0, include_hidden=True)
    assert [g.annotations.get("hidden", False) for g in with_hidden.groups] == [
        False,
        False,
        True,
        True,
    ]


def test_simulate_is_seeded(fitted):
    a, b = fitted.simulate_spikedata(5, seed=3), fitted.simulate_spikedata(5, seed=3)
    assert a == b


def test_predict_rates_are_the_teacher_forced_spike_probabilities_per_second(recording):
    fitter = NetworkFitter(
        bin_size=10 * pq.ms, n_lags=3, max_iterations=5, dtype=torch.float64, progress=False
    ).fit(recording)
    block = fitter.predict_rates(recording)
    with torch.no_grad():
        u = teacher_forced(fitter.model_, recording.counts.double()).u  # no hidden neurons
    expected = (torch.sigmoid(u) / 0.010).numpy()  # spike probability per bin / bin size (s)
    assert len(block.segments) == recording.n_trials
    for trial, segment in enumerate(block.segments):
        (signal,) = segment.analogsignals
        assert signal.units == pq.Hz
        assert signal.sampling_period == 10 * pq.ms
        assert signal.t_start == recording.t_start
        assert list(signal.array_annotations["unit_id"]) == list(recording.unit_ids)
        np.testing.assert_allclose(signal.magnitude, expected[trial], rtol=1e-12, atol=0)


def test_score(fitted, recording):
    score = fitted.score(recording)
    assert np.isfinite(score)
    assert score > 0  # better than a homogeneous rate: the drive explains the PSTH


def test_mle_recovers_the_coupling_of_a_fully_observed_network():
    truth = hidden_input_network(n_recorded=8, n_hidden=0, n_bins=100, seed=3)
    with torch.no_grad():
        truth.coupling_weights.normal_(0, 1.0, generator=torch.Generator().manual_seed(4))
    data = sample_spikedata(truth, 300, 10 * pq.ms, seed=5)
    fitter = NetworkFitter(
        bin_size=10 * pq.ms,
        n_lags=3,
        max_iterations=300,
        learning_rate=0.05,
        batch_size=100,
        drive="free",
        progress=False,
        device="cpu",
    ).fit(data)
    true = truth.coupling_array()
    r = np.corrcoef(fitter.coupling_.ravel(), true.ravel())[0, 1]
    assert r > 0.9


def test_to_neo_exports_filters_and_drive(fitted):
    group = fitted.parameters_to_neo()
    filters = [s for s in group.analogsignals if s.name.startswith("coupling")]
    assert len(filters) == 6
    assert filters[2].shape == (3, 6)
    assert filters[2].annotations["target_unit"] == "r2"
    assert list(filters[2].array_annotations["source_unit"]) == [f"r{j}" for j in range(6)]
    np.testing.assert_allclose(filters[2].magnitude, fitted.coupling_[2].T)
    drive = next(s for s in group.analogsignals if s.name == "stimulus-locked drive")
    assert drive.shape == (50, 6)
    expected = fitted.model_.stimulus_drive()[0].detach().double().numpy()  # one condition
    np.testing.assert_array_equal(drive.magnitude, expected)
    assert group.annotations["n_lags"] == 3


def test_load_rejects_foreign_and_incompatible_files(fitted, tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    with pytest.raises(ValueError, match=r"not an elephant-fit model"):
        load(junk)
    other = tmp_path / "other.pt"
    torch.save({"format": "elephant-fit-model", "version": "99.0.0"}, other)
    with pytest.raises(ValueError, match=r"99\.0\.0"):
        load(other)


def test_bad_input(recording):
    with pytest.raises(ValueError, match="`n_hidden`"):
        NetworkFitter(n_hidden=-1).fit(recording)
    with pytest.raises(ValueError, match="binned with"):
        NetworkFitter(bin_size=20 * pq.ms).fit(recording)
    with pytest.raises(ValueError, match="at least 2 trials"):
        NetworkFitter(loss="sm", progress=False).fit(recording[0])
    with pytest.raises(NotFittedError, match="fit"):
        NetworkFitter().simulate(3)
    with pytest.raises(ValueError, match="`bin_size`"):
        NetworkFitter().fit(to_neo(recording))
    fitter = NetworkFitter(max_iterations=2, progress=False).fit(recording)
    with pytest.raises(ValueError, match="50 bins x 6 units"):
        fitter.score(recording.select_units(["r0", "r1"]))


def test_score_is_zero_for_a_homogeneous_poisson_model():
    counts = torch.poisson(
        torch.full((40, 30, 3), 3.0, dtype=torch.float64),
        generator=torch.Generator().manual_seed(0),
    )
    data = SpikeData(counts, 50 * pq.ms)
    fitter = NetworkFitter(observation="poisson", drive=None, max_iterations=1, progress=False).fit(
        data
    )
    with torch.no_grad():
        fitter.model_.coupling_weights.zero_()
        fitter.model_.bias.copy_(torch.log(counts.mean(dim=(0, 1))).float())
    assert abs(fitter.score(data)) < 1e-4


def test_a_failed_fit_leaves_a_usable_estimator(recording):
    from elephant_fit.errors import NonFiniteLossError
    from elephant_fit.fitting.losses import LossTerm

    class NaNAfter(LossTerm):
        needs = frozenset({"teacher"})

        def __init__(self):
            self.calls = 0

        def __call__(self, model, batch):
            self.calls += 1
            # call 1 evaluates the initial state, calls 2-4 are the first three steps
            return model.bias.sum() * (float("nan") if self.calls > 4 else 0.0)

    fitter = NetworkFitter(
        loss={"nll": 1.0, "bad": (1.0, NaNAfter())},
        max_iterations=10,
        optimizer="adam",
        progress=False,
    )
    with pytest.raises(NonFiniteLossError):
        fitter.fit(recording)
    assert len(fitter.history_.train) == 3
    assert fitter.simulate_spikedata(2, seed=0).n_trials == 2


def test_save_with_a_custom_loss_keeps_weights_only(recording, tmp_path):
    from elephant_fit.fitting.losses import StatisticLoss

    term = StatisticLoss(lambda counts: counts.mean(dim=0))
    fitter = NetworkFitter(
        loss={"nll": 1.0, "mean": (0.5, term)}, max_iterations=2, progress=False
    ).fit(recording)
    with pytest.warns(UserWarning, match="Custom loss terms"):
        fitter.save(tmp_path / "custom.pt")
    assert load(tmp_path / "custom.pt").loss == {"nll": 1.0, "mean": 0.5}


class PullBias(LossTerm):
    """Custom term: mean squared distance of the biases from ``target`` (no simulation needed)."""

    needs = frozenset()

    def __init__(self, target):
        self.target = target

    def __call__(self, model, batch):
        return (model.bias - self.target).pow(2).mean()


def test_a_custom_loss_term_is_evaluated_and_drives_the_fit(recording):
    def fit(loss):
        return NetworkFitter(
            n_lags=2, loss=loss, max_iterations=30, learning_rate=0.05, eval_every=5, progress=False
        ).fit(recording)

    pulled, free = fit({"nll": 1.0, "pull": (5.0, PullBias(3.0))}), fit("mle")
    history = pulled.history_
    assert all("pull" in row for row in history.train + history.validation)
    # the kept (best) parameters are those whose validation row is at best_iteration
    best = next(row for row in history.validation if row["iteration"] == history.best_iteration)
    bias = pulled.model_.bias.detach()
    assert best["pull"] == pytest.approx(float((bias - 3.0).pow(2).mean()), rel=1e-6)
    assert history.train[-1]["pull"] < history.train[0]["pull"]
    assert torch.all(bias > free.model_.bias.detach() + 0.1)  # pulled up towards 3


def test_scikit_learn_parameters_come_from_the_signature():
    names = [
        name for name in inspect.signature(NetworkFitter.__init__).parameters if name != "self"
    ]
    fitter = NetworkFitter(n_hidden=3, loss="sm")
    params = fitter.get_params(deep=True)
    assert list(params) == names
    assert params == fitter.get_params(deep=False)
    assert (params["n_hidden"], params["loss"]) == (3, "sm")
    defaults = inspect.signature(NetworkFitter.__init__).parameters
    for name in names:
        if name not in ("n_hidden", "loss"):
            assert params[name] == defaults[name].default, name
    assert vars(NetworkFitter()) == NetworkFitter().get_params()  # __init__ only stores them


def test_set_params_returns_self_and_refuses_unknown_names():
    fitter = NetworkFitter()
    assert fitter.set_params(n_lags=4, seed=2) is fitter
    assert (fitter.n_lags, fitter.get_params()["seed"]) == (4, 2)
    with pytest.raises(ValueError, match="bogus") as caught:
        fitter.set_params(n_lags=5, bogus=1)
    assert isinstance(caught.value, ElephantFitError)
    assert fitter.n_lags == 4  # nothing set on error
    assert not hasattr(fitter, "bogus")


def test_scikit_learn_clone(recording):
    base = pytest.importorskip("sklearn.base")
    fitter = NetworkFitter(n_hidden=3, loss="sm", bin_size=10 * pq.ms)
    copy = base.clone(fitter)
    assert copy is not fitter
    assert type(copy) is NetworkFitter
    assert copy.get_params() == fitter.get_params()
    small = NetworkFitter(n_lags=2, max_iterations=2, progress=False).fit(recording)
    unfitted = base.clone(small)  # a clone has the hyper-parameters, not the fit
    assert unfitted.get_params() == small.get_params()
    assert not hasattr(unfitted, "model_")
    assert hasattr(small, "model_")


def test_fit_returns_self_and_fitted_attributes_end_in_an_underscore(recording):
    fitter = NetworkFitter(n_lags=2, max_iterations=2, progress=False)
    params = set(fitter.get_params())
    assert fitter.fit(recording) is fitter
    fitted = set(vars(fitter)) - params
    assert {"model_", "coupling_", "history_", "n_bins_", "unit_ids_"} <= fitted
    assert all(name.endswith("_") and not name.startswith("_") for name in fitted), fitted
    assert fitter.get_params().keys() == params  # fitting changes no hyper-parameter


@pytest.mark.parametrize("name", ["coupling_", "model_", "history_", "unit_ids_"])
def test_fitted_attributes_before_fit_raise_not_fitted(name):
    fitter = NetworkFitter()
    with pytest.raises(NotFittedError, match=f"`{name}`.*fit") as caught:
        getattr(fitter, name)
    assert isinstance(caught.value, ElephantFitError)
    assert isinstance(caught.value, AttributeError)  # so that hasattr is False
    assert not hasattr(fitter, name)
    with pytest.raises(AttributeError, match="no attribute 'coupling'"):
        fitter.coupling  # noqa: B018 - no trailing underscore: a plain AttributeError
    assert isinstance(NotFittedError("not fitted"), ElephantFitError)


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"eval_every": 0}, ValueError, "`eval_every`"),
        ({"dtype": "float32"}, TypeError, "`dtype`"),
        ({"loss": {"nll": 0.0}}, ValueError, "positive loss weight"),
        ({"loss": {"nll": float("nan")}}, ValueError, "finite"),
    ],
)
def test_bad_hyper_parameters_are_caught_at_fit(recording, params, error, match):
    with pytest.raises(error, match=match):
        NetworkFitter(progress=False, **params).fit(recording)


def test_score_with_hidden_neurons_is_a_seeded_particle_filter_estimate(recording):
    fitter = NetworkFitter(n_hidden=2, max_iterations=5, progress=False, seed=4).fit(recording)
    estimate = fitter.log_likelihood(recording, n_particles=64)
    assert estimate.n_particles == 64
    assert estimate.standard_error > 0
    assert "particle filter, 64 particles" in str(estimate)
    assert fitter.score(recording, n_particles=64) == estimate.bits_per_spike  # seed: the fit's
    assert fitter.score(recording, n_particles=64, seed=5) != estimate.bits_per_spike
    with pytest.raises(ValueError, match="`n_particles`"):
        fitter.score(recording, n_particles=0)


def test_score_without_hidden_neurons_is_exact(fitted, recording):
    estimate = fitted.log_likelihood(recording)
    assert estimate.n_particles == 0
    assert estimate.standard_error == 0
    counts = recording.counts.float()
    with torch.no_grad():
        u = teacher_forced(fitted.model_, counts).u
        exact = -float(fitted.model_.neg_log_likelihood(u, counts).double().sum())
    assert estimate.log_likelihood == pytest.approx(exact, rel=1e-6)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_a_clear_error_and_cuda_models_load_on_cpu(
    fitted, recording, tmp_path
):
    with pytest.raises(ValueError, match=r"`device` is 'cuda'.*no CUDA device"):
        NetworkFitter(device="cuda", progress=False).fit(recording)
    path = tmp_path / "cuda.pt"
    fitted.save(path)
    state = torch.load(path, weights_only=True)
    state["params"]["device"] = "cuda"
    state["sha256"] = checksum(state)  # an edited file is corrupt unless sealed again
    torch.save(state, path)
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        restored = load(path)
    assert restored.model_.bias.device.type == "cpu"
    assert restored.simulate(2, seed=0).segments


@pytest.mark.gpu
def test_fit_simulate_score_save_load_on_cuda(recording, tmp_path):
    fitter = NetworkFitter(
        n_hidden=2, loss="sm", max_iterations=10, progress=False, device="cuda", seed=1
    ).fit(recording)
    assert fitter.model_.bias.is_cuda
    block = fitter.simulate(4, seed=0)
    assert len(block.segments) == 4
    assert np.isfinite(fitter.score(recording))
    fitter.save(tmp_path / "gpu.pt")
    restored = load(tmp_path / "gpu.pt")
    assert restored.model_.bias.is_cuda
    np.testing.assert_allclose(restored.coupling_, fitter.coupling_)


def test_default_drive_has_one_bump_per_40_ms(fitted, recording, tmp_path):
    assert fitted.n_drive_basis is None
    assert fitted.model_.drive_weights.shape[1] == 12  # 50 bins x 10 ms = 500 ms
    coarse = NetworkFitter(bin_size=20 * pq.ms, max_iterations=1, progress=False)
    coarse.fit(to_neo(recording))
    assert coarse.model_.drive_weights.shape[1] == 12  # same duration, other bin size
    fixed = NetworkFitter(n_drive_basis=7, max_iterations=1, progress=False).fit(recording)
    assert fixed.model_.drive_weights.shape[1] == 7
    fitted.save(tmp_path / "m.pt")
    assert load(tmp_path / "m.pt").model_.drive_weights.shape[1] == 12


def test_noise_covariance_lags_cover_the_coupling_by_default(recording):
    fitter = NetworkFitter(bin_size=10 * pq.ms, n_lags=4, loss="sm", n_hidden=1)
    assert _noise_covariance_lags(fitter, recording.n_bins) == 4
    assert _noise_covariance_lags(fitter, 3) == 2  # trials shorter than the coupling
    term = fitter._loss(recording.n_bins).terms["noise_covariance"][1]
    assert term.statistic(recording.counts.float()).shape == (5, 6, 6)  # lags 0..4
    short = NetworkFitter(
        bin_size=10 * pq.ms, n_lags=4, loss="sm", max_lag=2, max_iterations=1, progress=False
    )
    with pytest.warns(UserWarning, match=r"max_lag=2 is shorter than the coupling \(n_lags=4\)"):
        short.fit(recording)
    long_lags = NetworkFitter(n_lags=60, loss="sm", max_iterations=1, progress=False)
    long_lags.fit(recording)  # 50 bins: the default lags are capped, no error
    with pytest.raises(ValueError, match="`max_lag`"):
        NetworkFitter(max_lag=-1, progress=False).fit(recording)


def test_penalty_and_exogenous_hidden_are_fitted_and_saved(recording, tmp_path):
    fitter = NetworkFitter(
        bin_size=10 * pq.ms,
        n_lags=2,
        n_hidden=2,
        exogenous_hidden=True,
        penalty="l1",
        penalty_strength=0.05,
        max_iterations=6,
        progress=False,
        device="cpu",
    ).fit(recording)
    assert "l1" in fitter.history_.train[-1]
    coupling = fitter.model_.lagged_coupling().detach()
    assert torch.all(coupling[:, :6, 6:] == 0)  # recorded -> hidden
    assert torch.all(coupling[:, 6, 7] == 0)  # hidden -> other hidden
    assert torch.all(coupling[:, 7, 6] == 0)
    assert torch.any(coupling[:, 6:, :6] != 0)  # hidden -> recorded is free
    path = tmp_path / "model.pt"
    fitter.save(path)
    restored = load(path)
    assert restored.penalty == "l1"
    assert restored.penalty_strength == 0.05
    assert restored.exogenous_hidden
    torch.testing.assert_close(restored.model_.lagged_coupling(), fitter.model_.lagged_coupling())
    with pytest.raises(ValueError, match="`penalty`"):
        NetworkFitter(penalty="l3", progress=False).fit(recording)
    with pytest.raises(ValueError, match="`penalty_strength`"):
        NetworkFitter(penalty="l2", penalty_strength=-1.0, progress=False).fit(recording)


def test_a_penalty_on_recorded_pairs_leaves_the_hidden_couplings_free(recording, tmp_path):
    def fit(pairs):
        return NetworkFitter(
            bin_size=10 * pq.ms,
            n_lags=2,
            n_hidden=2,
            penalty="l1",
            penalty_strength=5.0,
            penalty_pairs=pairs,
            max_iterations=60,
            progress=False,
            device="cpu",
        ).fit(recording)

    recorded, every = fit("recorded"), fit("all")
    assert recorded._loss(50).terms["l1"][1] == CouplingPenalty("l1", pairs="recorded")
    off = ~np.eye(6, dtype=bool)

    def mean_size(fitter):
        """Mean summed |w| of the recorded pairs and of hidden -> recorded (post, pre, lags)."""
        coupling = np.abs(fitter.coupling_).sum(axis=2)
        return coupling[:6, :6][off].mean(), coupling[:6, 6:].mean()

    recorded_pairs, hidden_in = mean_size(recorded)
    assert hidden_in > 3 * mean_size(every)[1]  # penalised only with pairs="all"
    assert hidden_in > 3 * recorded_pairs
    path = tmp_path / "model.pt"
    recorded.save(path)
    assert load(path).penalty_pairs == "recorded"
    with pytest.raises(ValueError, match=r"`penalty_pairs`.*'hidden'"):
        NetworkFitter(penalty="l1", penalty_pairs="hidden", progress=False).fit(recording)
    with pytest.raises(ValueError, match="`penalty_pairs`"):  # refused without a penalty too
        NetworkFitter(penalty_pairs="hidden", progress=False).fit(recording)


def test_an_l2_penalty_shrinks_the_coupling(recording):
    def fit(strength):
        return NetworkFitter(
            bin_size=10 * pq.ms,
            n_lags=3,
            penalty="l2",
            penalty_strength=strength,
            max_iterations=150,
            progress=False,
            device="cpu",
        ).fit(recording)

    free, shrunk = fit(0.0), fit(1.0)
    off = ~np.eye(6, dtype=bool)
    assert np.abs(shrunk.coupling_[off]).sum() < 0.5 * np.abs(free.coupling_[off]).sum()


def test_scikit_learn_check_is_fitted_follows_fit(recording):
    validation = pytest.importorskip("sklearn.utils.validation")
    fitter = NetworkFitter(bin_size=10 * pq.ms, n_lags=2, max_iterations=2, progress=False)
    with pytest.raises(validation.NotFittedError):
        validation.check_is_fitted(fitter)
    validation.check_is_fitted(fitter.fit(recording))


def test_an_observation_object_is_saved_by_name_and_link(recording, tmp_path):
    from elephant_fit.network.observation import Poisson

    fitter = NetworkFitter(
        bin_size=10 * pq.ms,
        n_lags=2,
        max_iterations=2,
        observation=Poisson("softplus"),
        progress=False,
    ).fit(recording)
    fitter.save(tmp_path / "poisson.pt")
    restored = load(tmp_path / "poisson.pt")
    assert restored.model_.observation == Poisson("softplus")
    assert restored.get_params()["observation"] == "poisson"


def test_seeds_accept_numpy_integers_and_name_seed_otherwise():
    import numpy as np
    import torch

    from elephant_fit import NetworkFitter
    from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata

    truth = hidden_input_network(n_recorded=4, n_hidden=2, n_bins=20, seed=0)
    data = sample_spikedata(truth, 10, 10 * pq.ms, seed=np.int64(1)).recorded()
    options = {"n_lags": 2, "max_iterations": 5, "progress": False}
    numpy_seed = NetworkFitter(seed=np.int64(3), **options).fit(data)
    int_seed = NetworkFitter(seed=3, **options).fit(data)
    for name, value in int_seed.model_.state_dict().items():
        assert torch.equal(numpy_seed.model_.state_dict()[name], value), name
    for bad in (None, "abc", -1, 2.5):
        with pytest.raises((TypeError, ValueError), match="`seed`"):
            NetworkFitter(seed=bad, **options).fit(data)


def test_sm_windows_shorter_than_the_coupling_get_fewer_noise_covariance_lags():
    from elephant_fit import NetworkFitter
    from elephant_fit.network.synthetic import hidden_input_network, sample_spikedata

    truth = hidden_input_network(n_recorded=4, n_hidden=2, n_bins=30, seed=0)
    data = sample_spikedata(truth, 10, 10 * pq.ms, seed=1).recorded()
    fitter = NetworkFitter(
        loss="sm", n_hidden=2, n_lags=9, sm_window=8, max_iterations=3, progress=False
    )
    fitter.fit(data)  # max_lag 7, not 9: the window has 8 bins
    with pytest.raises(ValueError, match="`max_lag` below the 8 bins"):
        NetworkFitter(loss="sm", n_lags=9, max_lag=9, sm_window=8, progress=False).fit(data)


def test_conditions_and_covariates_flow_through_fit_simulate_score_and_files(tmp_path):
    from elephant_fit.network import SpikingNetwork, simulate

    truth = SpikingNetwork(4, n_lags=2, n_bins=30, drive="smooth", n_conditions=2, n_inputs=1)
    with torch.no_grad():
        truth.bias.fill_(-2.0)
        truth.drive_weights[0].fill_(1.0)  # "left" drives every neuron, "right" silences them
        truth.drive_weights[1].fill_(-1.0)
        truth.input_filters.fill_(0.8)
    codes = torch.arange(60) % 2
    covariates = torch.randn(60, 30, 1, generator=torch.Generator().manual_seed(0))
    spikes = simulate(truth, 60, 30, inputs=covariates, conditions=codes, seed=1).spikes
    labels = ["left" if code == 0 else "right" for code in codes]
    data = SpikeData(
        spikes.detach(),
        10 * pq.ms,
        conditions=labels,
        covariates=covariates,
        covariate_names=["speed"],
    )
    train, test = data[:40], data[40:]
    fitter = NetworkFitter(n_lags=2, max_iterations=40, progress=False).fit(train)
    assert fitter.trained_on_.condition_labels == ("left", "right")
    assert fitter.trained_on_.covariate_names == ("speed",)
    drive = fitter.model_.stimulus_drive().detach()
    assert float((drive[0] - drive[1]).mean()) > 0  # the fitted drives tell the conditions apart
    simulated = fitter.simulate_spikedata(6, seed=0, condition="right", covariates=covariates[:6])
    assert list(simulated.conditions) == ["right"] * 6
    assert simulated.covariate_names == ("speed",)
    with pytest.raises(ValueError, match="give the condition of every trial"):
        fitter.simulate(3, covariates=covariates[:3])
    with pytest.raises(ValueError, match=r"Unknown conditions \['up'\]"):
        fitter.simulate(3, condition="up", covariates=covariates[:3])
    with pytest.raises(ValueError, match="fitted with covariates \\['speed'\\]"):
        fitter.simulate(3, condition="left")
    assert np.isfinite(fitter.score(test))
    fitter.save(tmp_path / "m.pt")
    loaded = load(tmp_path / "m.pt")
    assert loaded.trained_on_ == fitter.trained_on_
    again = loaded.simulate_spikedata(6, seed=0, condition="right", covariates=covariates[:6])
    assert again == simulated
    drives = [s for s in fitter.parameters_to_neo().analogsignals if s.name.startswith("stimulus")]
    assert [s.annotations["condition"] for s in drives] == ["left", "right"]


def _place_field_data(n_trials=40, n_bins=100, seed=0):
    """A neuron whose rate is a bump over a covariate's value (a place field on position)."""
    generator = torch.Generator().manual_seed(seed)
    position = torch.rand(n_trials, 1, 1, generator=generator) * 100  # start of each run
    position = (position + torch.arange(n_bins).view(1, -1, 1)) % 100  # (trials, bins, 1), in cm
    probability = 0.01 + 0.5 * torch.exp(-(((position - 60) / 8) ** 2))
    spikes = torch.bernoulli(probability, generator=generator)
    return SpikeData(spikes, 10 * pq.ms, covariates=position, covariate_names=["position"])


def test_a_tuning_covariate_is_fitted_exported_saved_and_loaded(tmp_path):
    from elephant_fit.network.covariates import CovariateSpec

    data = _place_field_data()
    spec = CovariateSpec(("tuning",), n_tuning=10)
    fitter = NetworkFitter(n_lags=2, drive=None, covariates=spec, optimizer="lbfgs")
    fitter.set_params(max_iterations=100, progress=False, device="cpu").fit(data)
    low, high = fitter.trained_on_.covariate_spec.value_range[0]  # the range seen in the data
    assert low == float(data.covariates.min())
    assert high == float(data.covariates.max())
    assert fitter.tuning_curves_.shape == (1, 1, 100)  # (n_tuned, n_neurons, n_values)
    peak = fitter.tuning_values_[np.argmax(fitter.tuning_curves_[0, 0]), 0]
    assert 52 < peak < 68  # the field is at 60 cm
    assert fitter.covariate_filters_.shape == (1, 0, 1)  # no history covariate
    without = NetworkFitter(n_lags=2, drive=None, optimizer="lbfgs", max_iterations=100)
    without.set_params(progress=False, device="cpu").fit(data.without(covariates=True))
    held_out = _place_field_data(seed=1)
    assert fitter.score(held_out) > without.score(held_out.without(covariates=True)) + 0.3
    (curve,) = fitter.parameters_to_neo().irregularlysampledsignals
    assert curve.annotations["covariate"] == "position"
    np.testing.assert_allclose(curve.magnitude[:, 0], fitter.tuning_curves_[0, 0])
    fitter.save(tmp_path / "m.pt")
    loaded = load(tmp_path / "m.pt")
    assert loaded.get_params()["covariates"] == spec
    assert loaded.trained_on_.covariate_spec == fitter.trained_on_.covariate_spec
    np.testing.assert_array_equal(loaded.tuning_curves_, fitter.tuning_curves_)
    assert loaded.score(held_out) == pytest.approx(fitter.score(held_out), rel=1e-6)


def test_a_covariate_spec_must_match_the_data():
    from elephant_fit.network.covariates import CovariateSpec

    data = _place_field_data(n_trials=6, n_bins=20)
    two = CovariateSpec(("tuning", "history"))
    with pytest.raises(
        ValueError, match=r"2 kind\(s\) \['tuning', 'history'\], but the data have 1"
    ):
        NetworkFitter(covariates=two, progress=False).fit(data)
    with pytest.raises(ValueError, match="the data have none"):
        NetworkFitter(covariates=two, progress=False).fit(data.without(covariates=True))
    with pytest.raises(TypeError, match="`covariates` to be a CovariateSpec"):
        NetworkFitter(covariates={"kinds": ["tuning"]}, progress=False).fit(data)


def test_a_simulation_that_overflows_is_refused_in_one_error():
    from elephant_fit.errors import SimulationDivergedError

    data = _place_field_data(n_trials=4, n_bins=30).without(covariates=True)
    fitter = NetworkFitter(n_lags=2, drive=None, observation="poisson", max_iterations=1)
    fitter.set_params(progress=False, device="cpu").fit(data)
    with torch.no_grad():
        fitter.model_.coupling_weights.fill_(50.0)  # every spike multiplies the rate by e^50
    with pytest.raises(SimulationDivergedError, match="excites itself without bound"):
        fitter.simulate(4, seed=0)


def test_sm_without_a_stimulus_drive_leaves_out_the_psth_term():
    from elephant_fit.fitting.losses import PRESETS

    spontaneous = NetworkFitter(loss="sm", drive=None, n_lags=3)._loss(n_bins=50)
    assert spontaneous.weights == PRESETS["sm_spontaneous"]
    assert "psth" not in spontaneous.weights
    assert "psth" in NetworkFitter(loss="sm", n_lags=3)._loss(n_bins=50).weights
    weights = {"nll": 1.0, "psth": 1.0}  # asked for explicitly: kept
    assert NetworkFitter(loss=weights, drive=None)._loss(n_bins=50).weights == weights


def _encoded_trials(truth, n_trials, seed):
    """Trials of ``truth`` (driven through its encoder) to new random stimuli."""
    from elephant_fit.network import simulate

    stimulus = torch.randn(n_trials, 40, 2, generator=torch.Generator().manual_seed(seed))
    spikes = simulate(truth, n_trials, 40, inputs=stimulus, seed=seed, requires_grad=False)
    return SpikeData(
        spikes.spikes.detach(), 10 * pq.ms, covariates=stimulus, covariate_names=["a", "b"]
    )


@pytest.mark.filterwarnings("ignore::elephant_fit.errors.NoImprovementWarning")  # the drive
def test_a_stimulus_encoder_predicts_new_stimuli_and_is_saved_with_its_weights(tmp_path):
    from elephant_fit.network import SpikingNetwork

    truth = SpikingNetwork(3, n_lags=2, n_inputs=2, stimulus_encoder=torch.nn.Linear(2, 3))
    with torch.no_grad():
        truth.bias.fill_(-1.5)
        truth.stimulus_encoder.weight.copy_(torch.tensor([[2.0, 0.0], [0.0, 2.0], [1.5, -1.5]]))
    train, new_stimuli = _encoded_trials(truth, 40, 0), _encoded_trials(truth, 20, 1)
    given = torch.nn.Linear(2, 3)
    before = given.weight.detach().clone()
    options = {"n_lags": 2, "max_iterations": 150, "learning_rate": 0.05, "progress": False}
    fitter = NetworkFitter(drive=None, stimulus_encoder=given, device="cpu", **options).fit(train)
    assert torch.equal(given.weight, before)  # the fit trains a copy
    drive = NetworkFitter(drive="smooth", device="cpu", **options).fit(
        train.without(covariates=True)
    )
    assert fitter.score(new_stimuli) > drive.score(new_stimuli.without(covariates=True)) + 0.1
    fitter.save(tmp_path / "m.pt")
    loaded = load(tmp_path / "m.pt", stimulus_encoder=torch.nn.Linear(2, 3))
    assert loaded.score(new_stimuli) == pytest.approx(fitter.score(new_stimuli), rel=1e-6)
    with pytest.raises(ValueError, match=r"fitted with a stimulus encoder \(torch.nn.*Linear\)"):
        load(tmp_path / "m.pt")
    with pytest.raises(ValueError, match=r"of class torch\.nn\.modules\.linear\.Linear, but"):
        load(tmp_path / "m.pt", stimulus_encoder=torch.nn.Sequential(torch.nn.Linear(2, 3)))
    with pytest.raises(ValueError, match="the data have none"):
        NetworkFitter(drive=None, stimulus_encoder=given, **options).fit(
            train.without(covariates=True)
        )


def test_an_encoder_with_running_statistics_is_evaluated_and_saved_as_fitted(tmp_path):
    from elephant_fit.network import SpikingNetwork

    truth = SpikingNetwork(3, n_lags=2, n_inputs=2, stimulus_encoder=torch.nn.Linear(2, 3))
    train = _encoded_trials(truth, 20, 0)

    def encoder():
        return torch.nn.Sequential(torch.nn.BatchNorm1d(40), torch.nn.Linear(2, 3))

    fitter = NetworkFitter(drive=None, stimulus_encoder=encoder(), n_lags=2, max_iterations=5)
    fitter.set_params(progress=False, device="cpu").fit(train)
    assert not fitter.model_.training  # scored and simulated in evaluation mode
    score = fitter.score(train)
    assert fitter.score(train) == score  # scoring changes nothing (no batch statistics)
    fitter.save(tmp_path / "m.pt")
    loaded = load(tmp_path / "m.pt", stimulus_encoder=encoder())
    fitted_mean = fitter.model_.stimulus_encoder[0].running_mean
    assert torch.equal(loaded.model_.stimulus_encoder[0].running_mean, fitted_mean)
    assert loaded.score(train) == pytest.approx(score, rel=1e-6)
    wider = torch.nn.Sequential(torch.nn.BatchNorm1d(40), torch.nn.Linear(2, 4))
    with pytest.raises(ValueError, match="`stimulus_encoder` to hold the tensors of the fitted"):
        load(tmp_path / "m.pt", stimulus_encoder=wider)
    with pytest.raises(TypeError, match=r"`stimulus_encoder` to be a torch\.nn\.Module"):
        load(tmp_path / "m.pt", stimulus_encoder="Sequential")


def test_a_refit_leaves_no_attribute_of_the_former_fit():
    from elephant_fit.network.covariates import CovariateSpec

    data = _place_field_data(n_trials=8, n_bins=30)
    fitter = NetworkFitter(n_lags=2, drive=None, covariates=CovariateSpec(("tuning",)))
    fitter.set_params(max_iterations=2, progress=False, device="cpu").fit(data)
    assert hasattr(fitter, "tuning_curves_")
    fitter.set_params(covariates=None).fit(data.without(covariates=True))
    assert not hasattr(fitter, "tuning_curves_")
    assert not hasattr(fitter, "covariate_filters_")
    with pytest.raises(ValueError, match="`n_input_lags` is 3"):
        NetworkFitter(covariates=CovariateSpec(("tuning",)), n_input_lags=3).fit(data)


def test_sm_keeps_the_psth_term_when_covariates_can_lock_the_response():
    fitter = NetworkFitter(loss="sm", drive=None, n_lags=3)
    assert "psth" in fitter._loss(n_bins=50, has_inputs=True).weights
    assert "psth" not in fitter._loss(n_bins=50, has_inputs=False).weights


def test_finite_but_impossible_rates_are_refused_too():
    from elephant_fit.errors import SimulationDivergedError
    from elephant_fit.fitting.fitted import _check_not_diverged

    _check_not_diverged(torch.ones(2, 3, 1), bin_seconds=1e-5)  # one spike per bin is a neuron
    _check_not_diverged(torch.full((2, 3, 1), 50.0), bin_seconds=0.01)  # 5 kHz
    with pytest.raises(SimulationDivergedError, match="exceeded 10000 Hz"):
        _check_not_diverged(torch.full((2, 3, 1), 1e6), bin_seconds=0.01)


def test_warm_start_continues_from_the_previous_fit(recording):
    settings = {"n_lags": 2, "max_iterations": 30, "device": "cpu", "progress": False, "seed": 0}
    first = NetworkFitter(**settings, warm_start=True).fit(recording)
    tiny = {"learning_rate": 1e-12, "max_iterations": 5, "patience": None}
    again = first.coupling_.copy()
    with pytest.warns(NoImprovementWarning, match="previous fit's"):
        first.set_params(**tiny).fit(recording)  # starts where the first fit ended
    np.testing.assert_allclose(first.coupling_, again, atol=1e-8)
    with pytest.warns(NoImprovementWarning, match="mean rates"):
        cold = NetworkFitter(**settings).set_params(**tiny).fit(recording)
    assert np.abs(cold.coupling_ - again).max() > 1e-3  # from the initialisation of the seed
    with pytest.raises(ValueError, match=r"`warm_start`.*same architecture"):
        first.set_params(n_lags=3).fit(recording)
