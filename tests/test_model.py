"""SpikingNetwork: parameters, effective coupling, history convolution, observation models."""

from __future__ import annotations

import pytest
import torch

from elephant_fit.network.covariates import CovariateSpec
from elephant_fit.network.model import SpikingNetwork


def naive_history(spikes, coupling):
    """sum_l spikes[t - l] @ W[l - 1], by explicit loops."""
    n_trials, n_bins, _ = spikes.shape
    n_lags, _, n_post = coupling.shape
    out = torch.zeros(n_trials, n_bins, n_post, dtype=spikes.dtype)
    for t in range(n_bins):
        for lag in range(1, n_lags + 1):
            if t - lag >= 0:
                out[:, t] += spikes[:, t - lag] @ coupling[lag - 1]
    return out


@pytest.mark.parametrize("basis", [None, "raised_cosine", "exponential"])
def test_history_equals_the_naive_loop(basis):
    model = SpikingNetwork(4, n_hidden=2, n_lags=5, basis=basis, n_basis=3).double()
    with torch.no_grad():
        model.coupling_weights.normal_()
    spikes = (torch.rand(3, 17, 6, dtype=torch.float64) < 0.3).double()
    torch.testing.assert_close(
        model.history(spikes), naive_history(spikes, model.lagged_coupling())
    )


def test_no_self_coupling_and_dale():
    model = SpikingNetwork(5, n_hidden=5, self_coupling=False, dale=True, excitatory_fraction=0.6)
    with torch.no_grad():
        model.coupling_weights.normal_()
    w = model.lagged_coupling()
    assert torch.all(torch.diagonal(w, dim1=1, dim2=2) == 0)
    signs = model.dale_sign
    assert signs.tolist() == [1, 1, 1, -1, -1, 1, 1, 1, -1, -1]
    assert torch.all(w * signs.view(1, -1, 1) >= 0)  # outgoing weights share the neuron's sign


def test_drive_is_smooth_or_free():
    smooth = SpikingNetwork(3, n_bins=40, drive="smooth", n_drive_basis=4)
    assert smooth.drive_weights.shape == (1, 4, 3)  # (n_conditions, n_basis, n_neurons)
    assert smooth.stimulus_drive().shape == (1, 40, 3)  # (n_conditions, n_bins, n_neurons)
    free = SpikingNetwork(3, n_bins=40, drive="free")
    assert free.drive_weights.shape == (1, 40, 3)
    assert SpikingNetwork(3).stimulus_drive() is None
    with pytest.raises(ValueError, match="bins"):
        smooth.static_input(41)


def test_covariate_filters_are_causal():
    model = SpikingNetwork(2, n_inputs=1, n_input_lags=3).double()
    with torch.no_grad():
        model.input_filters.copy_(torch.tensor([[[1.0, 0.0]], [[0.5, 0.0]], [[0.25, 0.0]]]))
    x = torch.zeros(1, 8, 1, dtype=torch.float64)
    x[0, 2, 0] = 1.0
    out = model.filter_inputs(x)[0, :, 0]
    assert out.tolist() == [0, 0, 1.0, 0.5, 0.25, 0, 0, 0]


def test_negative_log_likelihoods_match_torch_distributions():
    u = torch.randn(50, dtype=torch.float64)
    z = (torch.rand(50, dtype=torch.float64) < 0.4).double()
    bern = SpikingNetwork(1).double()
    expected = -torch.distributions.Bernoulli(logits=u).log_prob(z)
    torch.testing.assert_close(bern.neg_log_likelihood(u, z), expected)
    counts = torch.poisson(torch.full((50,), 1.5, dtype=torch.float64))
    pois = SpikingNetwork(1, observation="poisson")
    expected = -torch.distributions.Poisson(torch.exp(u)).log_prob(counts)
    torch.testing.assert_close(pois.neg_log_likelihood(u, counts), expected)
    soft = SpikingNetwork(1, observation="poisson", link="softplus")
    rate = torch.nn.functional.softplus(u)
    expected = -torch.distributions.Poisson(rate).log_prob(counts)
    torch.testing.assert_close(soft.neg_log_likelihood(u, counts), expected)


BAD = [
    ({"n_recorded": 0}, ValueError, "`n_recorded`"),
    ({"n_recorded": 3, "n_hidden": -1}, ValueError, "`n_hidden`"),
    ({"n_recorded": 3, "n_lags": 0}, ValueError, "`n_lags`"),
    ({"n_recorded": 3, "observation": "gauss"}, ValueError, "`observation`"),
    ({"n_recorded": 3, "link": "exp"}, ValueError, "`link`"),
    ({"n_recorded": 3, "drive": "smooth"}, ValueError, "n_bins"),
    ({"n_recorded": 3, "drive": "wiggly", "n_bins": 5}, ValueError, "`drive`"),
    ({"n_recorded": 3, "drive": "smooth", "n_bins": 5, "n_drive_basis": 0}, ValueError, "`n_drive"),
    ({"n_recorded": 3, "basis": "splines"}, ValueError, "`basis`"),
    ({"n_recorded": 3, "basis": torch.ones(2, 4)}, ValueError, "`basis`"),
    (
        {"n_recorded": 3, "dale": True, "excitatory_fraction": 2.0},
        ValueError,
        "excitatory_fraction",
    ),
]


@pytest.mark.parametrize(("kwargs", "error", "match"), BAD)
def test_bad_hyper_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        SpikingNetwork(**kwargs)


def test_bad_covariates():
    model = SpikingNetwork(2, n_inputs=2)
    with pytest.raises(ValueError, match="`inputs`"):
        model.static_input(10, torch.zeros(3, 10, 1))
    with pytest.raises(TypeError, match="`inputs`"):
        model.static_input(10, [[0.0]])
    with pytest.raises(ValueError, match="no covariates"):
        SpikingNetwork(2).static_input(10, torch.zeros(3, 10, 1))


def test_exogenous_hidden_neurons_receive_no_recurrent_input():
    model = SpikingNetwork(3, n_hidden=2, n_lags=2, exogenous_hidden=True)
    coupling = model.lagged_coupling().detach()  # [lag, pre, post]
    assert torch.all(coupling[:, :, 3:][:, [0, 1, 2, 4], 0] == 0)  # into hidden 3: self only
    assert torch.all(coupling[:, [0, 1, 2, 3], 4] == 0)
    assert torch.all(coupling[:, 3, 3] != 0)  # self-history kept
    assert torch.any(coupling[:, 3:, :3] != 0)  # hidden -> recorded free
    no_self = SpikingNetwork(3, n_hidden=2, n_lags=2, exogenous_hidden=True, self_coupling=False)
    assert torch.all(no_self.lagged_coupling().detach()[:, :, 3:] == 0)


def test_a_drive_per_condition():
    model = SpikingNetwork(3, n_bins=20, drive="smooth", n_drive_basis=4, n_conditions=2).double()
    assert model.drive_weights.shape == (2, 4, 3)
    with torch.no_grad():
        model.drive_weights.normal_(generator=torch.Generator().manual_seed(0))
    drive = model.stimulus_drive()
    assert drive.shape == (2, 20, 3)
    for c in range(2):  # each condition's drive is the basis times its weights
        expected = model.drive_basis.double() @ model.drive_weights[c]
        torch.testing.assert_close(drive[c], expected, rtol=1e-12, atol=0)
    conditions = torch.tensor([1, 0, 1])
    static = model.static_input(20, conditions=conditions)
    assert static.shape == (3, 20, 3)
    torch.testing.assert_close(static[0], model.bias + drive[1], rtol=0, atol=0)
    torch.testing.assert_close(static[1], model.bias + drive[0], rtol=0, atol=0)
    window = model.static_input(5, first_bin=10, conditions=conditions)
    torch.testing.assert_close(window, static[:, 10:15], rtol=0, atol=0)
    assert "n_conditions=2" in repr(model)


def test_condition_codes_are_checked():
    model = SpikingNetwork(2, n_bins=10, drive="free", n_conditions=2)
    with pytest.raises(ValueError, match="pass `conditions`"):
        model.static_input(10)
    with pytest.raises(ValueError, match=r"0\.\.1"):
        model.static_input(10, conditions=torch.tensor([0, 2]))
    with pytest.raises(TypeError, match="integer"):
        model.static_input(10, conditions=torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="n_conditions"):
        SpikingNetwork(2, n_conditions=0)


def test_one_condition_ignores_its_codes():
    model = SpikingNetwork(2, n_bins=10, drive="smooth")
    with torch.no_grad():
        model.drive_weights.normal_(generator=torch.Generator().manual_seed(1))
    shared = model.static_input(10)
    assert shared.shape == (1, 10, 2)
    coded = model.static_input(10, conditions=torch.zeros(4, dtype=torch.long))
    assert torch.equal(coded.expand(4, -1, -1), shared.expand(4, -1, -1))


def test_covariates_of_a_window_see_the_bins_before_it():
    model = SpikingNetwork(2, n_inputs=1, n_input_lags=3).double()
    with torch.no_grad():
        model.input_filters.normal_(generator=torch.Generator().manual_seed(2))
    x = torch.randn(2, 12, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    whole = model.static_input(12, x)
    window = model.static_input(5, x[:, :9], first_bin=4)  # covariates from the first bin
    torch.testing.assert_close(window, whole[:, 4:9], rtol=1e-12, atol=0)


def test_covariates_come_from_a_spec_or_the_legacy_arguments():
    spec = CovariateSpec(("history", "tuning"), n_lags=3, value_range=(None, (0.0, 1.0)))
    model = SpikingNetwork(2, n_hidden=1, n_inputs=2, n_input_lags=3, covariates=spec)
    assert (model.n_inputs, model.n_input_lags) == (2, 3)
    assert model.input_filters.shape == (3, 1, 3)  # the history covariate alone
    assert model.covariate_input.tuning_weights.shape == (8, 1, 3)  # (n_tuning, n_tuned, n)
    assert "CovariateInput(kinds=('history', 'tuning')" in repr(model)
    assert model.filter_inputs(torch.rand(4, 6, 2)).shape == (4, 6, 3)
    with pytest.raises(ValueError, match="n_input_lags"):
        SpikingNetwork(2, n_input_lags=4, covariates=spec)


def test_a_stimulus_encoder_adds_its_drive_to_the_pre_activation():
    encoder = torch.nn.Linear(3, 4).double()
    model = SpikingNetwork(2, n_hidden=2, n_inputs=3, stimulus_encoder=encoder).double()
    assert model.covariate_input is None  # every covariate goes to the encoder
    inputs = torch.randn(5, 7, 3, dtype=torch.float64)
    expected = model.bias + encoder(inputs)
    torch.testing.assert_close(model.static_input(7, inputs=inputs), expected)
    names = {name for name, _ in model.named_parameters()}
    assert {"stimulus_encoder.weight", "stimulus_encoder.bias"} <= names  # trained with it
    both = SpikingNetwork(
        2, stimulus_encoder=torch.nn.Linear(1, 2), covariates=CovariateSpec("history")
    )
    assert both.covariate_input is not None


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"stimulus_encoder": "cnn", "n_inputs": 1}, TypeError, "torch.nn.Module"),
        ({"stimulus_encoder": torch.nn.Linear(1, 2)}, ValueError, "needs covariates"),
    ],
)
def test_a_bad_stimulus_encoder_is_refused(options, error, match):
    with pytest.raises(error, match=match):
        SpikingNetwork(2, **options)


def test_an_encoder_of_the_wrong_output_shape_is_named():
    model = SpikingNetwork(2, n_inputs=3, stimulus_encoder=torch.nn.Linear(3, 5))
    with pytest.raises(
        ValueError,
        match=r"a drive of shape \(4, 6, 2\).*torch.Size\(\[4, 6, 5\]\)|shape \(4, 6, 5\)",
    ):
        model.static_input(6, inputs=torch.randn(4, 6, 3))
