"""Covariate terms: history filters on a basis, value tuning on B-splines, the neuron mask."""

from __future__ import annotations

import math

import pytest
import torch
from torch.func import functional_call

from elephant_fit.fitting import fit_model
from elephant_fit.fitting.losses import make_loss
from elephant_fit.fitting.trials import TrialTensors
from elephant_fit.network import SpikingNetwork, log_likelihood, simulate, teacher_forced
from elephant_fit.network.bases import bspline_basis, raised_cosine_basis
from elephant_fit.network.covariates import CovariateInput, CovariateSpec, upgrade_state_dict

MIXED = CovariateSpec(
    ("tuning", "history", "history"),
    n_lags=6,
    basis="raised_cosine",
    n_basis=3,
    n_tuning=5,
    value_range=((-1.0, 2.0), None, None),
    mask=("all", "recorded", (True, False, True, True)),
)


def _randomise(module: CovariateInput, seed: int = 0) -> None:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator))


def _inputs(n_trials=2, n_bins=15, n_inputs=3, seed=1):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n_trials, n_bins, n_inputs, generator=generator, dtype=torch.float64) * 3 - 1


def test_mixed_terms_equal_the_formula_by_loops():
    module = CovariateInput(MIXED, n_recorded=3, n_hidden=1).double()
    _randomise(module)
    x = _inputs()
    out = module(x)
    assert out.shape == (2, 15, 4)
    basis = raised_cosine_basis(3, 6)  # (n_basis, n_lags), column l = lag l
    mask = module.mask.double()
    expected = torch.zeros_like(out)
    for t in range(15):
        for h, i in enumerate((1, 2)):
            for lag in range(min(6, t + 1)):
                weight = torch.einsum("b,bj->j", basis[:, lag], module.history_weights[:, h])
                expected[:, t] += x[:, t - lag, i : i + 1] * weight * mask[i]
    splines = bspline_basis(x[..., 0], module.knots[0])  # (n_trials, n_bins, n_tuning)
    centred = splines - module.spline_means[0]
    expected += torch.einsum("ktb,bj->ktj", centred, module.tuning_weights[:, 0]) * mask[0]
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)
    assert module.mask.tolist() == [
        [True, True, True, True],
        [True, True, True, False],
        [True, False, True, True],
    ]


def test_gradcheck_through_the_module():
    module = CovariateInput(MIXED, n_recorded=3, n_hidden=1).double()
    _randomise(module, seed=3)
    x = _inputs(n_trials=1, n_bins=7, seed=4).clamp(-0.9, 1.9).requires_grad_()  # in the range
    weights = {name: p.detach().clone().requires_grad_() for name, p in module.named_parameters()}

    def terms(inputs, history, tuning):
        state = {"history_weights": history, "tuning_weights": tuning}
        return functional_call(module, state, (inputs,))

    args = (x, weights["history_weights"], weights["tuning_weights"])
    assert torch.autograd.gradcheck(terms, args)


def test_legacy_arguments_are_free_lags_on_all_neurons():
    legacy = SpikingNetwork(3, n_inputs=2, n_input_lags=4)
    spec = SpikingNetwork(3, covariates=CovariateSpec.legacy(2, 4))
    assert legacy.covariate_input.spec == spec.covariate_input.spec
    assert [k for k in legacy.state_dict() if "covariate" in k] == [
        "covariate_input.history_weights"  # the spec's bases, knots and mask are not saved
    ]
    assert legacy.input_filters is legacy.covariate_input.history_weights
    assert legacy.input_filters.shape == (4, 2, 3)  # (n_input_lags, n_inputs, n_neurons)
    assert (legacy.n_inputs, legacy.n_input_lags) == (2, 4)
    old = {"bias": legacy.bias, "input_filters": legacy.input_filters}
    assert list(upgrade_state_dict(old)) == ["bias", "covariate_input.history_weights"]
    assert SpikingNetwork(3).covariate_input is None
    assert SpikingNetwork(3).input_filters is None


def test_read_outs_are_float64_with_the_mask():
    model = SpikingNetwork(3, n_hidden=1, covariates=MIXED)
    _randomise(model.covariate_input)
    filters = model.covariate_input.history_filters()
    assert filters.dtype == torch.float64
    assert filters.shape == (4, 2, 6)
    assert torch.all(filters[3, 0] == 0)
    assert torch.all(filters[1, 1] == 0)
    lagged = model.covariate_input.lagged_filters()
    torch.testing.assert_close(filters, lagged.double().permute(2, 1, 0))
    grid = model.covariate_input.tuning_grid(7)
    assert grid.shape == (7, 1)
    assert grid[0, 0] == -1.0
    assert grid[-1, 0] == 2.0
    curves = model.covariate_input.tuning_curves()
    assert curves.shape == (1, 4, 100)
    assert curves.dtype == torch.float64
    # a curve is its term of the pre-activation: only covariate 0 varies
    x = torch.zeros(1, 7, 3)
    x[0, :, 0] = grid[:, 0].float()
    tuned = CovariateInput(MIXED, 3, 1)
    tuned.load_state_dict(model.covariate_input.state_dict())
    with torch.no_grad():
        tuned.history_weights.zero_()
    torch.testing.assert_close(
        tuned(x)[0].T.double(), model.covariate_input.tuning_curves(grid)[0], rtol=1e-5, atol=1e-5
    )
    # centred: mean zero over the range; outside it, the value at the edge
    fine = torch.linspace(-1.0, 2.0, 30001, dtype=torch.float64)
    mean = torch.trapezoid(model.covariate_input.tuning_curves(fine), fine) / 3.0
    torch.testing.assert_close(mean, torch.zeros_like(mean), rtol=0, atol=1e-8)
    edges = model.covariate_input.tuning_curves(torch.tensor([-5.0, -1.0, 2.0, 9.0]))
    assert torch.equal(edges[..., 0], edges[..., 1])
    assert torch.equal(edges[..., 2], edges[..., 3])


def test_groups_of_neurons_and_boolean_masks():
    spec = CovariateSpec(("history",) * 3, n_lags=2, mask=("recorded", "hidden", "all"))
    model = SpikingNetwork(2, n_hidden=2, covariates=spec)
    assert model.covariate_input.mask.int().tolist() == [[1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 1, 1]]
    array = torch.tensor([[1, 0], [0, 1], [1, 1]])
    assert CovariateSpec(("history",) * 3, mask=array).mask == (
        (True, False),
        (False, True),
        (True, True),
    )


def test_windows_simulation_and_likelihood_take_the_covariate_terms():
    model = SpikingNetwork(3, n_hidden=1, n_lags=2, covariates=MIXED).double()
    _randomise(model.covariate_input, seed=5)
    x = _inputs(n_trials=4, n_bins=20, seed=6)
    whole = model.static_input(20, x)
    window = model.static_input(8, x[:, :14], first_bin=6)  # the filters see the bins before
    torch.testing.assert_close(window, whole[:, 6:14], rtol=1e-12, atol=0)
    run = simulate(model, 4, 20, x, seed=2, requires_grad=False)
    score = log_likelihood(model, run.spikes[..., :3], inputs=x, n_particles=8, seed=0)
    assert bool(torch.isfinite(score.per_trial).all())
    observed = SpikingNetwork(4, n_lags=2, covariates=MIXED).double()  # no hidden neurons
    _randomise(observed.covariate_input, seed=5)
    run = simulate(observed, 4, 20, x, seed=2, requires_grad=False)
    teacher = teacher_forced(observed, run.spikes, x)
    torch.testing.assert_close(teacher.u, run.u, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"\(4, 20, 3\)"):
        model.static_input(20, x[..., :2])


def test_spec_checks_name_the_argument():
    with pytest.raises(ValueError, match="kinds"):
        CovariateSpec(("history", "place"))
    with pytest.raises(ValueError, match="kinds"):
        CovariateSpec(())
    with pytest.raises(ValueError, match="n_tuning"):
        CovariateSpec(("tuning",), n_tuning=3)  # cubic: at least 4
    with pytest.raises(ValueError, match="value_range"):
        CovariateSpec(("tuning",), value_range=((1.0, 1.0),))
    with pytest.raises(ValueError, match="value_range"):
        CovariateSpec(("tuning", "history"), value_range=((0.0, 1.0),))
    with pytest.raises(ValueError, match="mask"):
        CovariateSpec(("history",), mask=("some",))
    with pytest.raises(ValueError, match="one entry per neuron"):
        SpikingNetwork(2, covariates=CovariateSpec(("history",), mask=((True,),)))
    with pytest.raises(ValueError, match="with_value_ranges"):
        SpikingNetwork(2, covariates=CovariateSpec(("tuning",)))
    with pytest.raises(ValueError, match="n_inputs"):
        SpikingNetwork(2, n_inputs=2, covariates=CovariateSpec(("history",)))
    with pytest.raises(TypeError, match="CovariateSpec"):
        SpikingNetwork(2, covariates={"kinds": ("history",)})
    with pytest.raises(ValueError, match="no tuning"):
        SpikingNetwork(2, n_inputs=1).covariate_input.tuning_curves()


def test_spec_takes_ranges_from_the_data_and_round_trips():
    x = torch.stack([torch.linspace(-3, 5, 10), torch.full((10,), 2.0)], dim=-1).view(1, 10, 2)
    spec = CovariateSpec(("tuning", "tuning"), value_range=(None, None)).with_value_ranges(x)
    assert spec.resolved
    assert spec.value_range == ((-3.0, 5.0), (1.5, 2.5))
    given = CovariateSpec(("tuning", "history"), value_range=((0.0, 1.0), None))
    assert given.with_value_ranges(torch.zeros(1, 3, 2)) == given
    assert CovariateSpec.from_dict(MIXED.to_dict()) == MIXED
    with pytest.raises(ValueError, match="inputs"):
        spec.with_value_ranges(torch.zeros(1, 3, 3))


def test_a_history_filter_and_a_place_field_are_recovered_by_mle():
    """No coupling; stimulus history on all neurons, a Gaussian place field per neuron.

    Measured (seeds 0-3): R^2 of the filters 0.997-0.998, of the tuning curves 0.981-0.984.
    """
    n_rec, n_lags, n_trials, n_bins = 3, 10, 100, 200
    lags = torch.arange(n_lags, dtype=torch.float64)
    true_filter = 1.5 * torch.exp(-lags / 2.5) * torch.cos(lags / 2.0)
    gains = torch.tensor([1.0, -0.8, 0.5], dtype=torch.float64)
    centres = torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64)

    def place_fields(x):  # (...) -> (..., n_rec)
        return 2.5 * torch.exp(-0.5 * ((x.unsqueeze(-1) - centres) / 0.08) ** 2)

    generator = torch.Generator().manual_seed(0)
    stimulus = torch.randn(n_trials, n_bins, generator=generator, dtype=torch.float64)
    phase = 2 * math.pi * torch.rand(n_trials, 1, generator=generator, dtype=torch.float64)
    period = 40 + 30 * torch.rand(n_trials, 1, generator=generator, dtype=torch.float64)
    position = 0.5 + 0.5 * torch.sin(phase + 2 * math.pi / period * torch.arange(n_bins))
    # the truth: place field j enters as a lag-0 input of neuron j alone (the mask)
    mask = torch.cat([torch.ones(1, n_rec, dtype=torch.bool), torch.eye(n_rec, dtype=torch.bool)])
    truth_spec = CovariateSpec(("history",) * (1 + n_rec), n_lags=n_lags, mask=mask)
    truth = SpikingNetwork(n_rec, n_lags=1, covariates=truth_spec).double()
    with torch.no_grad():
        truth.bias.fill_(-2.5)
        truth.coupling_weights.zero_()
        truth.covariate_input.history_weights[:, 0] = true_filter.view(-1, 1) * gains
        truth.covariate_input.history_weights[0, 1:] = torch.eye(n_rec)
    truth_inputs = torch.cat([stimulus.unsqueeze(-1), place_fields(position)], dim=-1)
    counts = simulate(truth, n_trials, n_bins, truth_inputs, seed=1, requires_grad=False).spikes
    covariates = torch.stack([stimulus, position], dim=-1)
    spec = CovariateSpec(
        ("history", "tuning"), n_lags=n_lags, basis="raised_cosine", n_basis=6, n_tuning=12
    ).with_value_ranges(covariates)
    model = SpikingNetwork(n_rec, n_lags=1, covariates=spec).double()
    trials = TrialTensors(counts, inputs=covariates)
    fit_model(
        model, trials, None, make_loss("mle"), optimizer="lbfgs", max_iterations=30, progress=False
    )

    def r2(fitted, true):
        return float(1 - ((fitted - true) ** 2).sum() / ((true - true.mean()) ** 2).sum())

    fitted_filters = model.covariate_input.history_filters()[:, 0]  # (n_rec, n_lags)
    assert r2(fitted_filters, gains.view(-1, 1) * true_filter) > 0.95
    grid = model.covariate_input.tuning_grid(200)
    true_curves = place_fields(grid[:, 0]).T  # (n_rec, n_values), centred like the fit's
    true_curves = true_curves - true_curves.mean(1, keepdim=True)
    assert r2(model.covariate_input.tuning_curves(grid)[0], true_curves) > 0.93
