"""Euclidean norms that neither overflow nor underflow, as BLAS ``nrm2`` computes them.

``sqrt(sum(v**2))`` overflows once an entry passes about 1e154 and underflows to zero
below about 1e-162, so a residual at an extreme but finite scale would read as Inf (a
false NONFINITE) or as 0 (a false convergence). The fast path is the plain dot product;
only when its result is outside the safe range is the vector rescaled by its largest
entry, so the common case costs nothing extra.
"""

from __future__ import annotations

import functools
import math

import array_api_compat
import numpy as np


@functools.cache
def _safe_range(dtype) -> tuple[float, float]:
    """Norms inside this range came out of the plain sum of squares intact: above it the
    sum may have overflowed, below it squares of the entries may have underflowed."""
    info = np.finfo(dtype)
    return math.sqrt(float(info.tiny) / float(info.eps)), math.sqrt(float(info.max)) / 4


def scaled_norm(v) -> float:
    """The 2-norm of ``v`` (any shape, real or complex, any array namespace) as a float.

    Returns NaN if ``v`` holds NaN and Inf if it holds Inf (but no NaN).
    """
    if isinstance(v, np.ndarray) or np.isscalar(v):
        v = np.asarray(v)
        if v.dtype.kind not in "fc":
            v = v.astype(np.float64)
        flat = v.reshape(-1)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            square = np.vdot(flat, flat).real if flat.size else 0.0
        plain = math.sqrt(float(square))
        low, high = _safe_range(v.dtype)
        if low < plain < high:
            return plain
        if flat.size == 0:
            return 0.0
        largest = float(np.max(np.abs(flat)))
    else:
        xp = array_api_compat.array_namespace(v)
        magnitude = xp.abs(xp.reshape(v, (-1,)))
        if magnitude.shape[0] == 0:
            return 0.0
        largest = float(xp.max(magnitude))
        if not math.isfinite(largest):
            return math.nan if bool(xp.any(xp.isnan(magnitude))) else math.inf
        if largest == 0.0:
            return 0.0
        scaled = magnitude / largest
        return largest * math.sqrt(float(xp.sum(scaled * scaled)))
    if not math.isfinite(largest):
        return math.nan if bool(np.isnan(flat).any()) else math.inf
    if largest == 0.0:
        return 0.0
    scaled = np.abs(flat).astype(np.float64) / largest
    return largest * math.sqrt(float(np.dot(scaled, scaled)))
