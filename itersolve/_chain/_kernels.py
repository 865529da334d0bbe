"""Numba kernels for the Picard and Jacobi window updates on the CPU.

The same arithmetic as the array-API versions in :mod:`itersolve.gpu._chain` (same
summation order for the trajectory, so the states agree bit for bit), fused into one pass
over the window: on a short window of small states the separate NumPy passes cost several
times the user's step. ``X`` is the trajectory as a 2-D ``(n_steps + 1, size)`` view,
``G`` the step's outputs, real floating point only (complex states take the generic path).
An infinite update is never accepted, even against the infinite threshold that an
overflowed state's own norm would give.

Norms decide acceptance, so they must not underflow (states near 1e-170 would show an
update of 0 and be accepted before they are final) or overflow. The fused pass sums
squares in float64; a sum outside :data:`_LOW2`, :data:`_HIGH2` is recomputed from the row
scaled by its largest entry, as BLAS ``nrm2`` does (the helpers live here because Numba
caches per source file).
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import njit_kernel

_INFO = np.finfo(np.float64)
# squared norms inside (_LOW2, _HIGH2) came out of the plain float64 sum intact
_LOW2 = float(_INFO.tiny) / float(_INFO.eps)
_HIGH2 = float(_INFO.max) / 16.0


@njit_kernel
def _norm(sum2, a, b, subtract):
    """``||a - b||`` (``subtract``) or ``||a||`` given the plain sum of squares ``sum2``."""
    if _LOW2 < sum2 < _HIGH2:
        return math.sqrt(sum2)
    largest = 0.0
    for k in range(a.size):
        v = abs(np.float64(a[k]) - np.float64(b[k])) if subtract else abs(np.float64(a[k]))
        if math.isnan(v):
            return v
        largest = max(largest, v)
    if largest == 0.0 or not math.isfinite(largest):
        return largest
    total = 0.0
    for k in range(a.size):
        v = (np.float64(a[k]) - np.float64(b[k]) if subtract else np.float64(a[k])) / largest
        total += v * v
    return largest * math.sqrt(total)


@njit_kernel
def picard_window(X, begin, end, G, rtol, atol, scale, floor_units):
    m, size = end - begin, X.shape[1]
    updates = np.empty(m)
    anchor = X[begin].copy()
    old = X[begin].copy()  # X_old of the state whose drift comes next
    drifts = np.empty(size, dtype=X.dtype)
    cumulative = np.zeros(size, dtype=X.dtype)
    summed = _norm(np.sum(anchor.astype(np.float64) ** 2), anchor, anchor, False)
    first_open, first_nonfinite = m, m
    for j in range(m):
        update2, norm2, drift2 = 0.0, 0.0, 0.0
        finite = True
        row = begin + 1 + j
        for k in range(size):
            drift = G[j, k] - old[k]
            drifts[k] = drift
            cumulative[k] += drift
            new = anchor[k] + cumulative[k]
            old[k] = X[row, k]
            difference = np.float64(new) - np.float64(old[k])
            update2 += difference * difference
            norm2 += np.float64(new) * np.float64(new)
            drift2 += np.float64(drift) * np.float64(drift)
            finite = finite and math.isfinite(new)
            X[row, k] = new
        summed += _norm(drift2, drifts, drifts, False)
        updates[j] = _norm(update2, X[row], old, True)
        threshold = max(
            rtol * _norm(norm2, X[row], old, False),
            atol * scale[row],
            floor_units * summed,
        )
        first_open, first_nonfinite = _verdict(
            j, updates[j], threshold, finite, first_open, first_nonfinite, m
        )
    return updates, first_open, first_nonfinite


@njit_kernel
def jacobi_window(X, begin, end, G, rtol, atol, scale):
    m, size = end - begin, X.shape[1]
    updates = np.empty(m)
    previous = np.empty(size, dtype=X.dtype)
    first_open, first_nonfinite = m, m
    for j in range(m):
        update2, norm2 = 0.0, 0.0
        finite = True
        row = begin + 1 + j
        for k in range(size):
            new = G[j, k]
            previous[k] = X[row, k]
            difference = np.float64(new) - np.float64(previous[k])
            update2 += difference * difference
            norm2 += np.float64(new) * np.float64(new)
            finite = finite and math.isfinite(new)
            X[row, k] = new
        updates[j] = _norm(update2, X[row], previous, True)
        threshold = max(rtol * _norm(norm2, X[row], previous, False), atol * scale[row])
        first_open, first_nonfinite = _verdict(
            j, updates[j], threshold, finite, first_open, first_nonfinite, m
        )
    return updates, first_open, first_nonfinite


@njit_kernel
def newton_window(X, begin, end, G, J, rtol, atol, scale):
    """DEER's sweep: ``X[j+1] = G[j] + J[j] (X_new[j] - X_old[j])``, scanned in order.

    ``J`` holds full Jacobians ``(m, size, size)``; the sequential scan is the CPU's
    version of the associative scan that :func:`itersolve.gpu._chain.newton_window` runs.
    """
    m, size = end - begin, X.shape[1]
    updates = np.empty(m)
    delta = np.zeros(size, dtype=X.dtype)  # X_new - X_old of the state the step reads
    new = np.empty(size, dtype=X.dtype)
    first_open, first_nonfinite = m, m
    for j in range(m):
        for k in range(size):
            value = G[j, k]
            for col in range(size):
                value += J[j, k, col] * delta[col]
            new[k] = value
        update2, norm2, finite = _store(X, begin + 1 + j, new, delta)
        updates[j] = _norm(update2, delta, delta, False)
        threshold = max(rtol * _norm(norm2, new, new, False), atol * scale[begin + 1 + j])
        first_open, first_nonfinite = _verdict(
            j, updates[j], threshold, finite, first_open, first_nonfinite, m
        )
    return updates, first_open, first_nonfinite


@njit_kernel
def quasi_newton_window(X, begin, end, G, J, rtol, atol, scale):
    """The diagonal (quasi-DEER) sweep: ``X[j+1] = G[j] + diag(J[j]) (X_new[j] - X_old[j])``."""
    m, size = end - begin, X.shape[1]
    updates = np.empty(m)
    delta = np.zeros(size, dtype=X.dtype)
    new = np.empty(size, dtype=X.dtype)
    first_open, first_nonfinite = m, m
    for j in range(m):
        for k in range(size):
            new[k] = G[j, k] + J[j, k] * delta[k]
        update2, norm2, finite = _store(X, begin + 1 + j, new, delta)
        updates[j] = _norm(update2, delta, delta, False)
        threshold = max(rtol * _norm(norm2, new, new, False), atol * scale[begin + 1 + j])
        first_open, first_nonfinite = _verdict(
            j, updates[j], threshold, finite, first_open, first_nonfinite, m
        )
    return updates, first_open, first_nonfinite


@njit_kernel
def _verdict(j, update, threshold, finite, first_open, first_nonfinite, m):
    """Record state ``j`` as the first open (not accepted) or first non-finite one."""
    if first_open == m and not (update <= threshold and math.isfinite(update)):
        first_open = j
    if first_nonfinite == m and not finite:
        first_nonfinite = j
    return first_open, first_nonfinite


@njit_kernel
def _store(X, row, new, delta):
    """Write ``new`` into ``X[row]``, leave ``new - X_old[row]`` in ``delta``; return the
    squared update, the squared norm and whether ``new`` is finite."""
    update2, norm2 = 0.0, 0.0
    finite = True
    for k in range(new.size):
        delta[k] = new[k] - X[row, k]
        update2 += np.float64(delta[k]) * np.float64(delta[k])
        norm2 += np.float64(new[k]) * np.float64(new[k])
        finite = finite and math.isfinite(new[k])
        X[row, k] = new[k]
    return update2, norm2, finite
