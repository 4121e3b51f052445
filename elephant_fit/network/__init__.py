"""The model: a recurrent stochastic spiking network, its observation models, simulation and ground truths."""

from .bases import (
    bspline_basis,
    bspline_knots,
    drive_bumps,
    exponential_basis,
    gaussian_bumps,
    raised_cosine_basis,
)
from .covariates import CovariateInput, CovariateSpec
from .likelihood import (
    HeldOutLikelihood,
    LogLikelihood,
    held_out_likelihood,
    log_likelihood,
    sample_hidden,
)
from .loops import LOOPS, get_loop, use_loop
from .model import SpikingNetwork
from .observation import OBSERVATIONS, Bernoulli, Observation, Poisson, get_observation
from .simulation import Simulation, make_generator, simulate, teacher_forced
from .surrogates import (
    GumbelSigmoid,
    PseudoDerivative,
    SigmoidStraightThrough,
    Surrogate,
    get_surrogate,
)

__all__ = [
    "LOOPS",
    "OBSERVATIONS",
    "Bernoulli",
    "CovariateInput",
    "CovariateSpec",
    "GumbelSigmoid",
    "HeldOutLikelihood",
    "LogLikelihood",
    "Observation",
    "Poisson",
    "PseudoDerivative",
    "SigmoidStraightThrough",
    "Simulation",
    "SpikingNetwork",
    "Surrogate",
    "bspline_basis",
    "bspline_knots",
    "drive_bumps",
    "exponential_basis",
    "gaussian_bumps",
    "get_loop",
    "get_observation",
    "get_surrogate",
    "held_out_likelihood",
    "log_likelihood",
    "make_generator",
    "raised_cosine_basis",
    "sample_hidden",
    "simulate",
    "teacher_forced",
    "use_loop",
]
