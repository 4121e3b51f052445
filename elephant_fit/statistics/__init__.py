"""Differentiable twins of Elephant's spike-train statistics.

Pure torch functions, tensor in -> tensor out, batched over trials, float32/float64, CPU and CUDA.
Binned inputs follow the (n_trials, n_bins, n_neurons) convention; spike-time inputs use padded
tensors with a mask (see :func:`pad_spike_times`).
"""

from ._padding import pad_spike_times, unpad_spike_times
from .correlation import (
    correlation_coefficient,
    covariance,
    cross_correlation_histogram,
    spike_time_tiling_coefficient,
    spike_train_timescale,
)
from .dissimilarity import van_rossum_distance, victor_purpura_distance
from .instantaneous import instantaneous_rate, instantaneous_rate_from_counts
from .noise import (
    noise_correlation,
    noise_covariance,
    noise_covariance_finish,
    noise_covariance_sums,
)
from .rates import (
    condition_indicators,
    mean_firing_rate,
    mean_firing_rate_from_times,
    psth,
    psth_by_condition,
    psth_by_condition_finish,
    psth_by_condition_sums,
    psth_finish,
    psth_sums,
    time_histogram,
)
from .variability import (
    cv,
    cv2,
    fanofactor,
    fanofactor_windows,
    fanofactor_windows_finish,
    fanofactor_windows_sums,
    isi,
    lv,
    lvr,
)

__all__ = [
    "condition_indicators",
    "correlation_coefficient",
    "covariance",
    "cross_correlation_histogram",
    "cv",
    "cv2",
    "fanofactor",
    "fanofactor_windows",
    "fanofactor_windows_finish",
    "fanofactor_windows_sums",
    "instantaneous_rate",
    "instantaneous_rate_from_counts",
    "isi",
    "lv",
    "lvr",
    "mean_firing_rate",
    "mean_firing_rate_from_times",
    "noise_correlation",
    "noise_covariance",
    "noise_covariance_finish",
    "noise_covariance_sums",
    "pad_spike_times",
    "psth",
    "psth_by_condition",
    "psth_by_condition_finish",
    "psth_by_condition_sums",
    "psth_finish",
    "psth_sums",
    "spike_time_tiling_coefficient",
    "spike_train_timescale",
    "time_histogram",
    "unpad_spike_times",
    "van_rossum_distance",
    "victor_purpura_distance",
]
