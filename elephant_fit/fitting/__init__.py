"""Fitting: losses (likelihood and sample-and-measure), the optimisation loop, NetworkFitter, model files."""

from ..errors import NonFiniteLossError, NotFittedError
from .config import FitConfig
from .export import parameters_to_neo
from .fitter import NetworkFitter
from .history import FitHistory
from .loop import fit_model
from .losses import (
    PRESETS,
    Batch,
    CombinedLoss,
    CouplingPenalty,
    HiddenRateLoss,
    LossTerm,
    NegativeLogLikelihood,
    PosteriorNegativeLogLikelihood,
    StatisticLoss,
    TrialMatching,
    make_loss,
)
from .persistence import load_model, save_model
from .spec import ModelSpec, TrainedOn
from .trials import TrialTensors

__all__ = [
    "PRESETS",
    "Batch",
    "CombinedLoss",
    "CouplingPenalty",
    "FitConfig",
    "FitHistory",
    "HiddenRateLoss",
    "LossTerm",
    "ModelSpec",
    "NegativeLogLikelihood",
    "NetworkFitter",
    "NonFiniteLossError",
    "NotFittedError",
    "PosteriorNegativeLogLikelihood",
    "StatisticLoss",
    "TrainedOn",
    "TrialMatching",
    "TrialTensors",
    "fit_model",
    "load_model",
    "make_loss",
    "parameters_to_neo",
    "save_model",
]
