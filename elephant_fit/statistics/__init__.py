"""Differentiable twins of Elephant's spike-train statistics.

Pure torch functions, tensor in -> tensor out, batched over trials, float32/float64, CPU and CUDA.
Binned inputs follow the (n_trials, n_bins, n_neurons) convention; spike-time inputs use padded
tensors with a mask (see :mod:`elephant_fit.statistics._padding`).
"""
