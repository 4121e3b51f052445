"""FFT helpers shared by the statistics."""

from __future__ import annotations

__all__ = ["fast_fft_length"]


def fast_fft_length(n: int) -> int:
    """Smallest 5-smooth integer (``2^a 3^b 5^c``) not below ``n``: a fast FFT size.

    Parameters
    ----------
    n : int
        Minimal length.

    Returns
    -------
    int
        The FFT length.
    """
    best = 1 << max(n - 1, 0).bit_length()
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            candidate = power35
            while candidate < n:
                candidate *= 2
            best = min(best, candidate)
            power35 *= 3
        power5 *= 5
    return best
