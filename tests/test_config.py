"""FitConfig: one place for the optimisation defaults, validated settings, fit_model overrides."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import torch

from elephant_fit.errors import ArgumentTypeError, ArgumentValueError
from elephant_fit.fitting.config import FitConfig, resolve_device
from elephant_fit.fitting.fitter import NetworkFitter
from elephant_fit.fitting.loop import fit_model
from elephant_fit.fitting.losses import make_loss
from elephant_fit.network.model import SpikingNetwork


def test_network_fitter_defaults_are_the_fit_config_defaults():
    defaults = FitConfig()
    signature = inspect.signature(NetworkFitter.__init__).parameters
    shared = [name for name in FitConfig.names() if name in signature]
    assert {"max_iterations", "learning_rate", "batch_size", "seed", "surrogate"} <= set(shared)
    for name in shared:
        assert signature[name].default == getattr(defaults, name), name
    from_fitter = NetworkFitter().fit_config()
    for name in FitConfig.names():
        assert getattr(from_fitter, name) == getattr(defaults, name), name


def test_fit_config_follows_the_hyper_parameters():
    fitter = NetworkFitter(max_iterations=7, learning_rate=0.3, seed=5, patience=2)
    config = fitter.fit_config()
    assert (config.max_iterations, config.learning_rate, config.seed, config.patience) == (
        7,
        0.3,
        5,
        2,
    )
    assert fitter.set_params(batch_size=3).fit_config().batch_size == 3


BAD = [
    ("max_iterations", 0, ArgumentValueError),
    ("max_iterations", 2.0, ArgumentTypeError),
    ("learning_rate", 0.0, ArgumentValueError),
    ("learning_rate", float("nan"), ArgumentValueError),
    ("learning_rate", "0.1", ArgumentTypeError),
    ("batch_size", -1, ArgumentValueError),
    ("seed", -1, ArgumentValueError),
    ("surrogate", "magic", ArgumentValueError),
    ("clip_norm", -1.0, ArgumentValueError),
    ("eval_every", 0, ArgumentValueError),
    ("patience", -1, ArgumentValueError),
    ("patience", True, ArgumentTypeError),
]


@pytest.mark.parametrize(("name", "value", "error"), BAD, ids=[f"{b[0]}={b[1]!r}" for b in BAD])
def test_invalid_settings_are_refused_naming_the_field(name, value, error):
    with pytest.raises(error, match=f"`{name}`"):
        FitConfig(**{name: value})
    with pytest.raises(error, match=f"`{name}`"):
        FitConfig().replace(**{name: value})


def test_fit_config_is_frozen_and_replace_copies():
    config = FitConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 3
    changed = config.replace(seed=3, patience=4)
    assert (changed.seed, config.seed) == (3, 0)
    assert changed.replace(seed=0, patience=config.patience) == config


def _model_and_data():
    model = SpikingNetwork(2, n_lags=1, n_bins=10, drive=None, seed=0)
    data = (torch.rand(6, 10, 2, generator=torch.Generator().manual_seed(0)) < 0.2).float()
    return model, data


def test_fit_model_settings_replace_the_config():
    model, data = _model_and_data()
    config = FitConfig(max_iterations=5, progress=False)
    history = fit_model(model, data, None, make_loss("mle"), config, max_iterations=3)
    assert len(history.train) == 3


def test_fit_model_refuses_unknown_settings_and_bad_configs():
    model, data = _model_and_data()
    with pytest.raises(ArgumentTypeError, match="bogus"):
        fit_model(model, data, None, make_loss("mle"), bogus=1)
    with pytest.raises(ArgumentTypeError, match="`config`"):
        fit_model(model, data, None, make_loss("mle"), {"max_iterations": 3})
    with pytest.raises(ArgumentValueError, match="`learning_rate`"):
        fit_model(model, data, None, make_loss("mle"), learning_rate=-1.0)


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    with pytest.raises(ArgumentValueError, match="`device`"):
        resolve_device("abacus")


def test_patience_zero_is_refused_and_huge_seeds_name_seed():
    with pytest.raises(ValueError, match="`patience`"):
        FitConfig(patience=0)  # None turns early stopping off
    with pytest.raises(ValueError, match="`seed`"):
        FitConfig(seed=2**64 - 1)
