"""One mistake, one exception: every public statistic rejects the same bad input the same way.

A wrong type (not a tensor, a non-floating dtype, a float or string where an int or a number is
expected) raises ``ArgumentTypeError`` (a ``TypeError``); the right type with a wrong value or shape
(too few dimensions, negative, zero, NaN, out of range) raises ``ArgumentValueError`` (a
``ValueError``). Every message names the argument.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

import elephant_fit.statistics as fs
from elephant_fit.errors import ArgumentTypeError, ArgumentValueError
from elephant_fit.statistics.kernels import SmoothingKernel

TYPE, VALUE = ArgumentTypeError, ArgumentValueError


def _counts(*shape):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


TIMES = torch.tensor([[0.1, 0.2, 0.5], [0.3, 0.4, 0.6]], dtype=torch.float64)
MASK = torch.ones(2, 3, dtype=torch.bool)
INTERVAL_MASK = torch.ones(2, 4, dtype=torch.bool)
KERNEL = SmoothingKernel("gaussian", 0.01)
CONDITIONS = torch.tensor([0, 1, 0, 1])

#: Public function -> (valid keyword arguments, {tensor argument: minimal number of dimensions}).
GOOD = {
    "correlation_coefficient": ({"counts": _counts(10, 3)}, {"counts": 2}),
    "covariance": ({"counts": _counts(10, 3)}, {"counts": 2}),
    "cross_correlation_histogram": (
        {"counts_i": _counts(5), "counts_j": _counts(5)},
        {"counts_i": 1, "counts_j": 1},
    ),
    "noise_covariance": ({"counts": _counts(3, 10, 2)}, {"counts": 3}),
    "noise_correlation": ({"counts": _counts(3, 10, 2)}, {"counts": 3}),
    "spike_time_tiling_coefficient": (
        {
            "times_i": TIMES[0],
            "mask_i": MASK[0],
            "times_j": TIMES[1],
            "mask_j": MASK[1],
            "dt": 0.05,
            "t_start": 0.0,
            "t_stop": 1.0,
        },
        {"times_i": 1, "times_j": 1},
    ),
    "spike_train_timescale": (
        {"counts": _counts(20, 1), "bin_size": 0.001, "max_tau": 0.005},
        {"counts": 2},
    ),
    "van_rossum_distance": ({"times": TIMES, "mask": MASK, "time_constant": 0.1}, {"times": 2}),
    "victor_purpura_distance": ({"times": TIMES, "mask": MASK, "cost_factor": 1.0}, {"times": 2}),
    "instantaneous_rate": (
        {
            "times": TIMES,
            "mask": MASK,
            "sampling_period": 0.01,
            "kernel": KERNEL,
            "t_start": 0.0,
            "t_stop": 1.0,
        },
        {"times": 2},
    ),
    "instantaneous_rate_from_counts": (
        {"counts": _counts(50, 2), "sampling_period": 0.01, "kernel": KERNEL},
        {"counts": 2},
    ),
    "mean_firing_rate": ({"counts": _counts(10, 3), "bin_size": 0.01}, {"counts": 2}),
    "mean_firing_rate_from_times": (
        {"times": TIMES, "mask": MASK, "t_start": 0.0, "t_stop": 1.0},
        {"times": 1},
    ),
    "psth": ({"counts": _counts(4, 10, 3), "bin_size": 0.01}, {"counts": 3}),
    "time_histogram": ({"counts": _counts(10, 3), "bin_size": 0.01}, {"counts": 2}),
    "isi": ({"times": TIMES, "mask": MASK}, {"times": 1}),
    "cv": ({"intervals": _counts(2, 4), "mask": INTERVAL_MASK}, {"intervals": 1}),
    "cv2": ({"intervals": _counts(2, 4), "mask": INTERVAL_MASK}, {"intervals": 1}),
    "lv": ({"intervals": _counts(2, 4), "mask": INTERVAL_MASK}, {"intervals": 1}),
    "lvr": ({"intervals": _counts(2, 4), "mask": INTERVAL_MASK}, {"intervals": 1}),
    "fanofactor": ({"spike_counts": _counts(5, 3)}, {"spike_counts": 1}),
    "fanofactor_windows": ({"counts": _counts(4, 10, 3), "window": 2}, {"counts": 3}),
    "unpad_spike_times": ({"times": TIMES, "mask": MASK}, {"times": 2}),
    "psth_sums": ({"counts": _counts(4, 10, 3)}, {"counts": 3}),
    "psth_finish": ({"sums": (_counts(10, 3),), "n_trials": 4, "bin_size": 0.01}, {}),
    "psth_by_condition": (
        {"counts": _counts(4, 10, 3), "conditions": CONDITIONS, "n_conditions": 2},
        {"counts": 3},
    ),
    "psth_by_condition_sums": (
        {"counts": _counts(4, 10, 3), "conditions": CONDITIONS, "n_conditions": 2},
        {"counts": 3},
    ),
    "psth_by_condition_finish": ({"sums": (_counts(2, 10, 3), _counts(2)), "bin_size": 0.01}, {}),
    "condition_indicators": (
        {"conditions": CONDITIONS, "n_conditions": 2, "like": _counts(4, 10, 3)},
        {},
    ),
    "fanofactor_windows_sums": ({"counts": _counts(4, 10, 3), "window": 2}, {"counts": 3}),
    "fanofactor_windows_finish": ({"sums": (_counts(5, 3), _counts(5, 3)), "n_trials": 4}, {}),
    "noise_covariance_sums": ({"counts": _counts(3, 10, 2)}, {"counts": 3}),
    "noise_covariance_finish": (
        {"sums": fs.noise_covariance_sums(_counts(3, 10, 2)), "n_trials": 3},
        {},
    ),
    "pad_spike_times": ({"trains": [np.array([0.1, 0.2]), np.array([0.3])]}, {}),
}

#: Scalar arguments: (function, argument, kind of bad input, bad value, expected error).
SCALARS = [
    ("cross_correlation_histogram", "window", "float where int", (0.5, 2), TYPE),
    ("cross_correlation_histogram", "window", "int where pair", 3, TYPE),
    ("cross_correlation_histogram", "window", "unknown name", "same", VALUE),
    ("cross_correlation_histogram", "window", "reversed", (2, -2), VALUE),
    ("cross_correlation_histogram", "window", "out of range", (-10, 10), VALUE),
    ("noise_covariance", "max_lag", "negative", -1, VALUE),
    ("noise_covariance", "max_lag", "float where int", 1.0, TYPE),
    ("noise_covariance", "max_lag", "out of range", 10, VALUE),
    ("noise_covariance", "ddof", "float where int", 0.5, TYPE),
    ("noise_covariance", "ddof", "out of range", 3, VALUE),
    ("noise_correlation", "max_lag", "negative", -1, VALUE),
    ("noise_correlation", "eps", "negative", -1.0, VALUE),
    ("noise_correlation", "eps", "NaN", math.nan, VALUE),
    ("noise_correlation", "eps", "string", "1", TYPE),
    ("spike_time_tiling_coefficient", "dt", "negative", -1.0, VALUE),
    ("spike_time_tiling_coefficient", "dt", "zero", 0.0, VALUE),
    ("spike_time_tiling_coefficient", "dt", "NaN", math.nan, VALUE),
    ("spike_time_tiling_coefficient", "dt", "string", "1", TYPE),
    ("spike_time_tiling_coefficient", "t_start", "string", "0", TYPE),
    ("spike_train_timescale", "bin_size", "negative", -1.0, VALUE),
    ("spike_train_timescale", "bin_size", "zero", 0.0, VALUE),
    ("spike_train_timescale", "bin_size", "NaN", math.nan, VALUE),
    ("spike_train_timescale", "bin_size", "string", "1", TYPE),
    ("spike_train_timescale", "max_tau", "negative", -1.0, VALUE),
    ("van_rossum_distance", "time_constant", "negative", -1.0, VALUE),
    ("van_rossum_distance", "time_constant", "zero", 0.0, VALUE),
    ("van_rossum_distance", "time_constant", "NaN", math.nan, VALUE),
    ("van_rossum_distance", "time_constant", "string", "1", TYPE),
    ("victor_purpura_distance", "cost_factor", "negative", -1.0, VALUE),
    ("victor_purpura_distance", "cost_factor", "NaN", math.nan, VALUE),
    ("victor_purpura_distance", "cost_factor", "inf", math.inf, VALUE),
    ("victor_purpura_distance", "cost_factor", "string", "1", TYPE),
    ("instantaneous_rate", "sampling_period", "negative", -1.0, VALUE),
    ("instantaneous_rate", "sampling_period", "zero", 0.0, VALUE),
    ("instantaneous_rate", "sampling_period", "NaN", math.nan, VALUE),
    ("instantaneous_rate", "sampling_period", "string", "1", TYPE),
    ("instantaneous_rate", "n_bins", "negative", -1, VALUE),
    ("instantaneous_rate", "n_bins", "float where int", 2.0, TYPE),
    ("instantaneous_rate", "cutoff", "NaN", math.nan, VALUE),
    ("instantaneous_rate", "cutoff", "string", "5", TYPE),
    ("instantaneous_rate", "t_start", "NaN", math.nan, VALUE),
    ("instantaneous_rate", "t_stop", "string", "1", TYPE),
    ("instantaneous_rate", "trim", "int where bool", 1, TYPE),
    ("instantaneous_rate_from_counts", "sampling_period", "zero", 0.0, VALUE),
    ("instantaneous_rate_from_counts", "sampling_period", "string", "1", TYPE),
    ("instantaneous_rate_from_counts", "t_start", "string", "0", TYPE),
    ("mean_firing_rate", "bin_size", "negative", -1.0, VALUE),
    ("mean_firing_rate", "bin_size", "zero", 0.0, VALUE),
    ("mean_firing_rate", "bin_size", "NaN", math.nan, VALUE),
    ("mean_firing_rate", "bin_size", "string", "1", TYPE),
    ("mean_firing_rate_from_times", "t_start", "string", "0", TYPE),
    ("psth", "bin_size", "negative", -1.0, VALUE),
    ("psth", "bin_size", "string", "1", TYPE),
    ("psth", "kernel", "list where tensor", [0.5, 0.5, 0.5], TYPE),
    ("psth", "kernel", "even length", torch.ones(4, dtype=torch.float64), VALUE),
    ("time_histogram", "bin_size", "zero", 0.0, VALUE),
    ("time_histogram", "output", "unknown name", "Hz", VALUE),
    ("cv", "ddof", "float where int", 0.5, TYPE),
    ("lvr", "R", "negative", -1.0, VALUE),
    ("lvr", "R", "NaN", math.nan, VALUE),
    ("lvr", "R", "string", "5", TYPE),
    ("fanofactor", "dim", "float where int", 0.0, TYPE),
    ("fanofactor", "dim", "out of range", 2, VALUE),
    ("fanofactor_windows", "window", "negative", -1, VALUE),
    ("fanofactor_windows", "window", "zero", 0, VALUE),
    ("fanofactor_windows", "window", "float where int", 2.0, TYPE),
    ("psth_finish", "n_trials", "zero", 0, VALUE),
    ("psth_finish", "n_trials", "float where int", 4.0, TYPE),
    ("psth_finish", "sums", "tensor where tuple", _counts(10, 3), TYPE),
    ("psth_finish", "bin_size", "negative", -1.0, VALUE),
    ("psth_by_condition_finish", "sums", "one where a pair", (_counts(2, 10, 3),), TYPE),
    ("psth_by_condition_finish", "sums", "wrong trials", (_counts(2, 10, 3), _counts(3)), VALUE),
    ("psth_by_condition_finish", "bin_size", "negative", -1.0, VALUE),
    ("psth_by_condition", "conditions", "list", [0, 1, 0, 1], TYPE),
    ("psth_by_condition", "conditions", "float codes", CONDITIONS.double(), TYPE),
    ("psth_by_condition", "conditions", "wrong length", CONDITIONS[:3], VALUE),
    ("psth_by_condition", "conditions", "out of range", torch.tensor([0, 1, 2, 1]), VALUE),
    ("psth_by_condition", "n_conditions", "zero", 0, VALUE),
    ("psth_by_condition", "n_conditions", "float where int", 2.0, TYPE),
    ("psth_by_condition_sums", "conditions", "2-D", CONDITIONS[None], VALUE),
    ("psth_by_condition_sums", "n_conditions", "too few", 1, VALUE),
    ("condition_indicators", "conditions", "bool codes", CONDITIONS.bool(), TYPE),
    ("condition_indicators", "n_conditions", "string", "2", TYPE),
    ("fanofactor_windows_sums", "window", "zero", 0, VALUE),
    ("fanofactor_windows_finish", "n_trials", "zero", 0, VALUE),
    ("fanofactor_windows_finish", "sums", "tensor where tuple", _counts(5, 3), TYPE),
    ("noise_covariance_sums", "max_lag", "negative", -1, VALUE),
    ("noise_covariance_sums", "conditions", "without n_conditions", CONDITIONS[:3], VALUE),
    ("noise_covariance_finish", "ddof", "out of range", 3, VALUE),
    ("noise_covariance_finish", "sums", "numbers", (1, 2), TYPE),
    ("pad_spike_times", "trains", "int where sequence", 3, TYPE),
    ("pad_spike_times", "trains", "numbers where arrays", [0.1, 0.2], TYPE),
    ("pad_spike_times", "trains", "2-D element", [np.ones((2, 2))], VALUE),
    ("pad_spike_times", "dtype", "integer dtype", torch.int64, TYPE),
]

#: The masks of spike-time statistics, and the tensor each belongs to.
MASKS = {
    "spike_time_tiling_coefficient": ("mask_i", "times_i"),
    "van_rossum_distance": ("mask", "times"),
    "victor_purpura_distance": ("mask", "times"),
    "instantaneous_rate": ("mask", "times"),
    "mean_firing_rate_from_times": ("mask", "times"),
    "isi": ("mask", "times"),
    "cv": ("mask", "intervals"),
    "cv2": ("mask", "intervals"),
    "lv": ("mask", "intervals"),
    "lvr": ("mask", "intervals"),
    "unpad_spike_times": ("mask", "times"),
}


def _tensor_cases():
    """The same five mistakes for every tensor argument."""
    for name, (good, tensors) in GOOD.items():
        for arg, min_ndim in tensors.items():
            tensor = good[arg]
            yield name, arg, "list", tensor.tolist(), TYPE
            yield name, arg, "numpy array", tensor.numpy(), TYPE
            yield name, arg, "integer dtype", tensor.to(torch.int64), TYPE
            yield name, arg, "0-d tensor", tensor.reshape(-1)[0], VALUE
            if min_ndim > 1:
                yield name, arg, "too few dims", tensor.reshape(-1), VALUE


def _mask_cases():
    for name, (arg, like) in MASKS.items():
        mask = GOOD[name][0].get(arg, torch.ones_like(GOOD[name][0][like], dtype=torch.bool))
        yield name, arg, "float mask", mask.to(torch.float64), TYPE
        yield name, arg, "list mask", mask.tolist(), TYPE
        yield name, arg, "wrong shape", mask[..., :-1], VALUE


CASES = [*_tensor_cases(), *_mask_cases(), *SCALARS]


@pytest.mark.parametrize(
    ("name", "arg", "kind", "value", "expected"),
    CASES,
    ids=[f"{name}-{arg}-{kind}" for name, arg, kind, _, _ in CASES],
)
def test_bad_input_raises_one_kind_of_error(name, arg, kind, value, expected):
    good, _ = GOOD[name]
    function = getattr(fs, name)
    function(**good)  # the valid call works, so the error below is caused by `value`
    with pytest.raises(expected) as caught:
        function(**{**good, arg: value})
    other = ValueError if expected is TYPE else TypeError
    assert not isinstance(caught.value, other), f"{kind}: also a {other.__name__}"
    named = re.search(rf"`{arg}(`|\[\d+\]`)", str(caught.value))  # `sums[0]` names `sums`
    assert named, f"{kind}: the message does not name `{arg}`"


def test_every_public_statistic_is_probed():
    probed = {name for name, *_ in CASES}
    assert probed == set(fs.__all__)
