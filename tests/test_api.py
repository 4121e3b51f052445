"""The public API: every `__all__` is the truth, the names users need are exported."""

from __future__ import annotations

import importlib
import pkgutil
import warnings

import pytest

import elephant_fit

SUBPACKAGES = ["data", "statistics", "compat", "network", "fitting", "evaluation", "cli"]


def _modules():
    for info in pkgutil.walk_packages(elephant_fit.__path__, prefix="elephant_fit."):
        yield importlib.import_module(info.name)


@pytest.mark.parametrize("module", list(_modules()), ids=lambda m: m.__name__)
def test_every_name_in_all_exists_once(module):
    names = getattr(module, "__all__", None)
    if names is None:
        assert module.__name__.rsplit(".", 1)[-1].startswith("_"), "public module without __all__"
        return
    assert len(names) == len(set(names)), "duplicates in __all__"
    missing = [name for name in names if not hasattr(module, name)]
    assert not missing


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_every_subpackage_has_a_docstring_and_all(name):
    package = importlib.import_module(f"elephant_fit.{name}")
    assert package.__doc__
    assert package.__all__


def test_the_top_level_exports_what_users_need():
    needed = {
        "NetworkFitter",
        "SpikeData",
        "from_neo",
        "to_neo",
        "read_block",
        "write_block",
        "load_retina",
        "load_place_cell",
        "load_reaching_unit",
        "load_model",
        "make_loss",
        "StatisticLoss",
        "FitConfig",
        "ElephantFitError",
        "NotFittedError",
        "NonFiniteLossError",
        "simulate",
        "SpikingNetwork",
    }
    assert needed <= set(elephant_fit.__all__)


def test_errors_share_one_base_and_the_builtin_kinds():
    from elephant_fit import errors

    assert issubclass(errors.ArgumentTypeError, TypeError)
    assert issubclass(errors.ArgumentValueError, ValueError)
    for name in errors.__all__:
        kind = getattr(errors, name)
        if not issubclass(kind, Warning):
            assert issubclass(kind, elephant_fit.ElephantFitError), name


def test_load_is_a_deprecated_alias_of_load_model(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(FileNotFoundError):
            elephant_fit.load(tmp_path / "missing.pt")
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
