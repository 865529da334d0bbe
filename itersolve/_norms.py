"""Euclidean norms that neither overflow nor underflow, as BLAS ``nrm2`` computes them.

``sqrt(sum(v**2))`` overflows once an entry passes about 1e154 and underflows to zero
below about 1e-162, so a residual at an extreme but finite scale would read as Inf (a
false NONFINITE) or as 0 (a false convergence). The fast path is the plain dot product;
only when its result is outside the safe range is the vector rescaled by its largest
entry, so the common case costs nothing extra. For NumPy arrays of the four BLAS dtypes
the plain dot product is BLAS ``dot`` itself (what ``np.dot`` calls): it neither checks
nor raises floating-point flags, so no ``np.errstate`` is needed on the fast path, whose
cost a solver pays at every iteration.
"""

from __future__ import annotations

import functools
import math

import array_api_compat
import numpy as np
from scipy.linalg import blas


@functools.cache
def _safe_range(dtype) -> tuple[float, float]:
    """Norms inside this range came out of the plain sum of squares intact: above it the
    sum may have overflowed, below it squares of the entries may have underflowed."""
    info = np.finfo(dtype)
    return math.sqrt(float(info.tiny) / float(info.eps)), math.sqrt(float(info.max)) / 4


# dot(v, v) by BLAS for the dtypes it has (conjugated for complex: the real sum of |v_i|^2).
_BLAS_DOTS = {
    np.dtype(np.float64): blas.ddot,
    np.dtype(np.float32): blas.sdot,
    np.dtype(np.complex128): blas.zdotc,
    np.dtype(np.complex64): blas.cdotc,
}
_BLAS_RANGES = {dtype: _safe_range(dtype) for dtype in _BLAS_DOTS}


def scaled_norm(v) -> float:
    """The 2-norm of ``v`` (any shape, real or complex, any array namespace) as a float.

    Returns NaN if ``v`` holds NaN and Inf if it holds Inf (but no NaN).
    """
    if type(v) is np.ndarray and v.size:
        dot = _BLAS_DOTS.get(v.dtype)
        if dot is not None:
            flat = v.reshape(-1)
            plain = math.sqrt(dot(flat, flat).real)  # NaN stays NaN, overflow is inf
            low, high = _BLAS_RANGES[v.dtype]
            if low < plain < high:
                return plain
            return _rescaled(flat)
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
        return _rescaled(flat)
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


def _rescaled(flat) -> float:
    """The 2-norm of the non-empty NumPy vector ``flat``, rescaled by its largest entry
    (the slow path: the plain sum of squares overflowed, underflowed or is NaN)."""
    # |z| of a complex entry may overflow, and entries far below the largest vanish
    # harmlessly in the quotient: neither is worth a warning.
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        magnitude = np.abs(flat)
        largest = float(np.max(magnitude))
        if not math.isfinite(largest):
            return math.nan if bool(np.isnan(flat).any()) else math.inf
        if largest == 0.0:
            return 0.0
        scaled = magnitude.astype(np.float64) / largest
        return largest * math.sqrt(float(np.dot(scaled, scaled)))
