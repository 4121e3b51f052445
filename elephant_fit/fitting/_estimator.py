"""The scikit-learn estimator protocol, for estimators whose hyper-parameters are ``__init__``'s arguments."""

from __future__ import annotations

import inspect
from typing import Any

from ..errors import ArgumentValueError, NotFittedError

__all__ = ["Estimator"]


class Estimator:
    """``get_params``/``set_params``, ``repr`` of the changed hyper-parameters, fitted attributes.

    A subclass's ``__init__`` stores each argument under its own name (:meth:`_store_params`)
    and validates nothing (scikit-learn's convention: validation happens in ``fit``); fitted
    attributes end with an underscore and are set by ``fit``. ``__sklearn_is_fitted__`` looks
    for ``model_``.
    """

    @classmethod
    def _param_names(cls) -> list[str]:
        """Names of the hyper-parameters: the arguments of ``__init__``."""
        signature = inspect.signature(cls.__init__)
        return [name for name in signature.parameters if name != "self"]

    def _store_params(self, arguments: dict[str, Any]) -> None:
        """Store ``__init__``'s arguments (its ``locals()``) as attributes of the same names."""
        for name in self._param_names():
            setattr(self, name, arguments[name])

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyper-parameters given to ``__init__`` (``deep`` is accepted for scikit-learn).

        Returns
        -------
        dict
            ``{name: value}`` for every argument of ``__init__``.
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Any:
        """Set hyper-parameters (validated at the next ``fit``, as in scikit-learn).

        Returns
        -------
        Estimator
            ``self``.
        """
        names = self._param_names()
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise ArgumentValueError(
                f"Invalid parameters {unknown} for {type(self).__name__}; valid parameters are "
                f"{names}."
            )
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __getattr__(self, name: str) -> Any:
        # only called for missing attributes: fitted ones (trailing underscore) before fit
        if name.endswith("_") and not name.startswith("_"):
            raise NotFittedError(
                f"`{name}` is a fitted attribute: this {type(self).__name__} is not fitted yet, "
                "call fit(data) first."
            )
        raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")

    def __repr__(self) -> str:
        defaults = {
            name: parameter.default
            for name, parameter in inspect.signature(type(self).__init__).parameters.items()
        }
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_params().items()
            if not _same(value, defaults.get(name))
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_is_fitted__(self) -> bool:
        """Whether ``fit`` has run (scikit-learn's ``check_is_fitted``)."""
        return "model_" in self.__dict__

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's estimator tags (called by scikit-learn only, which is then installed)."""
        from sklearn.utils import Tags, TargetTags

        # no labels: fit(data) models the spike trains themselves; stochastic simulation
        return Tags(
            estimator_type=None, target_tags=TargetTags(required=False), non_deterministic=True
        )

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet: call fit(data) first."
            )


def _same(value: Any, default: Any) -> bool:
    """Whether a hyper-parameter equals its default (for ``repr``; arrays and quantities never do)."""
    try:
        return bool(value is default or (type(value) is type(default) and value == default))
    except (TypeError, ValueError):
        return False
