"""Drop-in twin of ``elephant.statistics.instantaneous_rate`` (Elephant 1.2.1).

Same signature, defaults, checks, errors, warnings and return values (``neo.AnalogSignal`` in Hz,
or a list of them for ``Trials`` without ``pool_trials``, with Elephant's ``kernel`` annotation).
The numbers come from :mod:`elephant_fit.statistics.instantaneous`; trials that share their window
and kernel are computed in one batched call.

Divergences from Elephant 1.2.1:

* ``sampling_period`` of 0 raises ``ValueError`` (Elephant fails later with a division error);
* ``border_correction=True`` with ``pool_spike_trains=True`` on a list of several spike trains
  corrects each train, then averages (Elephant raises ``IndexError``);
* a spike train with fewer than two distinct spike times and ``kernel='auto'`` raises
  ``ValueError`` with Elephant's "Unable to calculate optimal kernel width" message (Elephant's
  comes from numpy).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import neo
import numpy as np
import quantities as pq
import torch
from elephant.trials import Trials
from elephant.utils import check_neo_consistency, is_time_quantity

from ..errors import ArgumentTypeError, ArgumentValueError
from ..statistics import kernels as _k
from ..statistics._padding import pad_spike_times
from ..statistics._rate_options import DEFAULT_OPTIONS, RateOptions, with_rate_options_doc
from ..statistics.instantaneous import instantaneous_rate as _rate
from ..statistics.instantaneous import optimal_kernel_bandwidth
from . import kernels as _compat_kernels

__all__ = ["instantaneous_rate"]


@dataclass(frozen=True)
class _Call:
    """One checked Elephant-level call: trains, kernel and window, in the trains' units."""

    trains: list[neo.SpikeTrain]
    kernel: Any
    name: str
    units: pq.Quantity
    t_start: float
    t_stop: float
    n_bins: int
    sigma_bins: float

    def key(self) -> tuple:
        return (
            self.units.dimensionality.string,
            self.t_start,
            self.t_stop,
            self.n_bins,
            self.name,
            self.sigma_bins,
            bool(self.kernel.invert),
            len(self.trains),
        )


def _kernel_name(kernel: Any) -> str | None:
    """Kernel name of an Elephant or compat kernel object (by class, through its bases)."""
    if not isinstance(getattr(kernel, "sigma", None), pq.Quantity):
        return None
    for cls in type(kernel).__mro__:
        try:
            return _k.kernel_name(cls.__name__)
        except ValueError:
            continue
    return None


def _is_auto(kernel: Any) -> bool:
    return isinstance(kernel, str) and kernel == "auto"


def _optimal_kernel(train: neo.SpikeTrain) -> _compat_kernels.GaussianKernel:
    if len(train) == 0:
        raise ArgumentValueError(
            "Unable to calculate optimal kernel width for instantaneous rate from input data."
        )
    sigma = optimal_kernel_bandwidth(torch.as_tensor(np.asarray(train.magnitude, np.float64)))
    return _compat_kernels.GaussianKernel(sigma * train.units)


def _check(
    spiketrains: Any,
    sampling_period: Any,
    kernel: Any,
    cutoff: Any,
    t_start: Any,
    t_stop: Any,
    trim: Any,
    border_correction: bool,
) -> _Call:
    """Elephant's checks, in Elephant's order, for one SpikeTrain or list of them."""
    name = None if _is_auto(kernel) else _kernel_name(kernel)
    if border_correction and not (_is_auto(kernel) or name == "gaussian"):
        raise ArgumentValueError("The border correction is only implemented for Gaussian kernels.")
    if isinstance(spiketrains, neo.SpikeTrain):
        if _is_auto(kernel):
            kernel = _optimal_kernel(spiketrains)
        spiketrains = [spiketrains]
    if not all(isinstance(train, neo.SpikeTrain) for train in spiketrains):
        raise ArgumentTypeError(
            "'spiketrains' must be a list of neo.SpikeTrain's or a single neo.SpikeTrain. "
            f"Found: {type(spiketrains)}"
        )
    if not is_time_quantity(sampling_period):
        raise ArgumentTypeError(
            f"The 'sampling_period' must be a time Quantity.Found: {type(sampling_period)}"
        )
    if sampling_period.magnitude < 0:
        raise ArgumentValueError(f"The 'sampling_period' ({sampling_period}) must be non-negative.")
    if sampling_period.magnitude == 0:
        raise ArgumentValueError(f"The 'sampling_period' ({sampling_period}) must be positive.")
    if not (_is_auto(kernel) or _kernel_name(kernel) is not None):
        raise ArgumentTypeError(
            "'kernel' must be instance of class elephant.kernels.Kernel or string 'auto'. "
            f"Found: {type(kernel)}, value {kernel!s}"
        )
    if not isinstance(cutoff, (float, int)):
        raise ArgumentTypeError("'cutoff' must be float or integer")
    if not is_time_quantity(t_start, allow_none=True):
        raise ArgumentTypeError("'t_start' must be a time Quantity")
    if not is_time_quantity(t_stop, allow_none=True):
        raise ArgumentTypeError("'t_stop' must be a time Quantity")
    if not isinstance(trim, bool):
        raise ArgumentTypeError("'trim' must be bool")
    check_neo_consistency(spiketrains, object_type=neo.SpikeTrain, t_start=t_start, t_stop=t_stop)
    if _is_auto(kernel):
        if len(spiketrains) != 1:
            raise ArgumentValueError(
                "Cannot estimate a kernel for a list of spike trains. Please provide a kernel "
                "explicitly rather than 'auto'."
            )
        kernel = _optimal_kernel(spiketrains[0])
    return _window(list(spiketrains), sampling_period, kernel, t_start, t_stop)


def _window(
    trains: list[neo.SpikeTrain],
    sampling_period: pq.Quantity,
    kernel: Any,
    t_start: pq.Quantity | None,
    t_stop: pq.Quantity | None,
) -> _Call:
    units = trains[0].units
    t_start = (trains[0].t_start if t_start is None else t_start).rescale(units)
    t_stop = (trains[0].t_stop if t_stop is None else t_stop).rescale(units)
    n_bins = int(((t_stop - t_start) / sampling_period).simplified)
    if n_bins < 1:
        raise ArgumentValueError(
            f"The window [{t_start}, {t_stop}] holds no whole 'sampling_period' "
            f"({sampling_period}): nothing to estimate."
        )
    sigma_bins = float((kernel.sigma / sampling_period).simplified.item())
    return _Call(
        trains,
        kernel,
        _kernel_name(kernel) or "",
        units,
        float(t_start.item()),
        float(t_stop.item()),
        n_bins,
        sigma_bins,
    )


def _compute(
    calls: list[_Call], sampling_period: pq.Quantity, options: RateOptions
) -> tuple[np.ndarray, pq.Quantity]:
    """Rates in Hz of calls sharing one key, shape (n_calls, n_samples, n_columns).

    The calls are stacked on a batch axis of their own: ``options.pool_trials`` is not applied
    here (the caller pools trials).
    """
    first = calls[0]
    grid = _k.kernel_grid(
        first.name,
        first.sigma_bins,
        options.cutoff,
        options.center_kernel,
        bool(first.kernel.invert),
        stacklevel=4,
    )
    magnitudes = [np.asarray(train.magnitude) for call in calls for train in call.trains]
    times, mask = pad_spike_times(magnitudes, sort=False)
    shape = (len(calls), len(first.trains), times.shape[-1])
    period = float(sampling_period.rescale(first.units).magnitude)
    result = _rate(
        times.reshape(shape),
        mask.reshape(shape),
        period,
        grid,
        t_start=first.t_start,
        t_stop=first.t_stop,
        n_bins=first.n_bins,
        **asdict(replace(options, pool_trials=False)),
    )
    to_hz = float(pq.Quantity(1.0, 1 / first.units).rescale(pq.Hz).magnitude)
    rate = result.rate.numpy()
    if to_hz != 1.0:
        rate = rate * to_hz
    return rate, pq.Quantity(result.t_start, first.units)


def _compute_all(
    calls: list[_Call], sampling_period: pq.Quantity, options: RateOptions
) -> list[tuple[np.ndarray, Any]]:
    """Rates of every call, batching the calls that share a window and a kernel."""
    groups: dict[tuple, list[int]] = {}
    for index, call in enumerate(calls):
        groups.setdefault(call.key(), []).append(index)
    results: list[tuple[np.ndarray, Any]] = [None] * len(calls)  # type: ignore[list-item]
    for indices in groups.values():
        rate, t_start = _compute([calls[i] for i in indices], sampling_period, options)
        for position, index in enumerate(indices):
            results[index] = (rate[position], t_start)
    return results


def _annotation(kernel: Any) -> dict[str, Any]:
    return {"type": type(kernel).__name__, "sigma": str(kernel.sigma), "invert": kernel.invert}


def _signal(
    rate: np.ndarray, t_start: pq.Quantity, sampling_period: pq.Quantity, kernel: Any
) -> neo.AnalogSignal:
    return neo.AnalogSignal(
        signal=rate, sampling_period=sampling_period, units=pq.Hz, t_start=t_start, kernel=kernel
    )


def _trial_groups(trials: Trials, pool_trials: bool) -> list[list[neo.SpikeTrain]]:
    """The trains of each trial, or with ``pool_trials`` each train's trials."""
    per_trial = [
        trials.get_spiketrains_from_trial_as_list(trial_id=k) for k in range(trials.n_trials)
    ]
    if pool_trials:
        return [[trial[i] for trial in per_trial] for i in range(len(per_trial[0]))]
    return per_trial


def _trials_rate(
    calls: list[_Call], sampling_period: pq.Quantity, options: RateOptions
) -> neo.AnalogSignal | list[neo.AnalogSignal]:
    """Elephant's output for ``Trials``: one signal (pooled trials) or one per trial."""
    if options.pool_trials:  # each call holds one train's trials: pool them
        results = _compute_all(calls, sampling_period, replace(options, pool_spike_trains=True))
        columns = np.stack([rate[:, 0] for rate, _ in results], axis=1)
        if options.pool_spike_trains:
            columns = columns.mean(axis=1)
        annotation = {"kernel": _annotation(calls[0].kernel)}
        return _signal(columns, results[0][1], sampling_period, annotation)
    results = _compute_all(calls, sampling_period, options)
    if options.pool_spike_trains:
        return [
            _signal(rate, t_start, sampling_period, {"kernel": _annotation(call.kernel)})
            for (rate, t_start), call in zip(results, calls, strict=True)
        ]
    return [
        _signal(rate, t_start, sampling_period, _annotation(call.kernel))
        for (rate, t_start), call in zip(results, calls, strict=True)
    ]


@with_rate_options_doc
def instantaneous_rate(
    spiketrains: neo.SpikeTrain | list[neo.SpikeTrain] | Trials,
    sampling_period: pq.Quantity,
    kernel: Any = "auto",
    cutoff: float = DEFAULT_OPTIONS.cutoff,
    t_start: pq.Quantity | None = None,
    t_stop: pq.Quantity | None = None,
    trim: bool = DEFAULT_OPTIONS.trim,
    center_kernel: bool = DEFAULT_OPTIONS.center_kernel,
    border_correction: bool = DEFAULT_OPTIONS.border_correction,
    pool_trials: bool = DEFAULT_OPTIONS.pool_trials,
    pool_spike_trains: bool = DEFAULT_OPTIONS.pool_spike_trains,
) -> neo.AnalogSignal | list[neo.AnalogSignal]:
    """Instantaneous firing rate by kernel convolution (twin of Elephant's).

    Drop-in twin of ``elephant.statistics.instantaneous_rate``: the spike trains are convolved
    with ``kernel`` on a grid of step ``sampling_period``.

    Parameters
    ----------
    spiketrains : neo.SpikeTrain, list of neo.SpikeTrain or elephant.trials.Trials
        Input spike train(s); a list must share units, ``t_start`` and ``t_stop``.
    sampling_period : pq.Quantity
        Time resolution of the estimate (and of the discretised kernel), a positive scalar time
        quantity (e.g. ``1 * pq.ms``).
    kernel : 'auto' or kernel object, optional
        A kernel of :mod:`elephant_fit.compat.kernels` or ``elephant.kernels``; ``'auto'``: a
        Gaussian with the optimal bandwidth of Shimazaki & Shinomoto (one spike train only).
    t_start, t_stop : pq.Quantity, optional
        Window, scalar time quantities; default the first spike train's.
    {rate_options}

    Returns
    -------
    neo.AnalogSignal or list of neo.AnalogSignal
        Rates in Hz, shape (n_samples, n_estimates), annotated with the kernel; a list (one per
        trial) for ``Trials`` without ``pool_trials``.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        For a negative ``sampling_period``, ``'auto'`` with several spike trains or an
        unresolvable bandwidth, a border correction with a non-Gaussian kernel, inconsistent
        spike trains, or ``trim`` with a kernel longer than the window.

    Warns
    -----
    UserWarning
        If ``cutoff`` is below the kernel's minimum (the minimum is used).

    See Also
    --------
    elephant.statistics.instantaneous_rate : The Elephant function this twins.
    elephant_fit.statistics.instantaneous_rate : The differentiable estimate on tensors.

    Examples
    --------
    >>> import neo
    >>> import numpy as np
    >>> import quantities as pq
    >>> import elephant.kernels
    >>> import elephant.statistics
    >>> from elephant_fit.compat import kernels, statistics
    >>> st = neo.SpikeTrain([0.1, 0.4, 0.7] * pq.s, t_stop=1 * pq.s)
    >>> rate = statistics.instantaneous_rate(
    ...     st, sampling_period=100 * pq.ms, kernel=kernels.GaussianKernel(100 * pq.ms)
    ... )
    >>> rate.shape, rate.dimensionality.string
    ((10, 1), 'Hz')
    >>> theirs = elephant.statistics.instantaneous_rate(
    ...     st, sampling_period=100 * pq.ms, kernel=elephant.kernels.GaussianKernel(100 * pq.ms)
    ... )
    >>> bool(np.allclose(rate.magnitude, theirs.magnitude))
    True
    """
    checks = {
        "kernel": kernel,
        "cutoff": cutoff,
        "t_start": t_start,
        "t_stop": t_stop,
        "trim": trim,
        "border_correction": border_correction,
    }
    trials = isinstance(spiketrains, Trials)
    groups = _trial_groups(spiketrains, pool_trials) if trials else [spiketrains]
    calls = [_check(group, sampling_period, **checks) for group in groups]  # Elephant's checks
    options = RateOptions(
        float(cutoff), trim, center_kernel, border_correction, pool_trials, pool_spike_trains
    )
    if trials:
        return _trials_rate(calls, sampling_period, options)
    ((rate, rate_start),) = _compute_all(calls, sampling_period, options)
    return _signal(rate, rate_start, sampling_period, _annotation(calls[0].kernel))
