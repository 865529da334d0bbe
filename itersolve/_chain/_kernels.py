"""Numba kernels for the Picard and Jacobi window updates on the CPU.

The same arithmetic as the array-API versions in :mod:`itersolve.gpu._chain` (same
summation order for the trajectory, so the states agree bit for bit), fused into one pass
over the window: on a short window of small states the separate NumPy passes cost several
times the user's step. ``X`` is the trajectory as a 2-D ``(n_steps + 1, size)`` view,
``G`` the step's outputs, real floating point only (complex states take the generic path).
An infinite update is never accepted, even against the infinite threshold that an
overflowed state's own norm would give.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import njit_kernel


@njit_kernel
def picard_window(X, begin, end, G, rtol, atol, scale, floor_units):
    m, size = end - begin, X.shape[1]
    updates = np.empty(m)
    anchor = X[begin].copy()
    old = X[begin].copy()  # X_old of the state whose drift comes next
    cumulative = np.zeros(size, dtype=X.dtype)
    summed = math.sqrt(np.sum(anchor.astype(np.float64) ** 2))
    first_open, first_nonfinite = m, m
    for j in range(m):
        update2, norm2, drift2 = 0.0, 0.0, 0.0
        finite = True
        for k in range(size):
            drift = G[j, k] - old[k]
            cumulative[k] += drift
            new = anchor[k] + cumulative[k]
            old[k] = X[begin + 1 + j, k]
            difference = new - old[k]
            update2 += difference * difference
            norm2 += new * new
            drift2 += drift * drift
            finite = finite and math.isfinite(new)
            X[begin + 1 + j, k] = new
        summed += math.sqrt(drift2)
        updates[j] = math.sqrt(update2)
        threshold = max(rtol * math.sqrt(norm2), atol * scale[begin + 1 + j], floor_units * summed)
        if first_open == m and not (updates[j] <= threshold and math.isfinite(updates[j])):
            first_open = j
        if first_nonfinite == m and not finite:
            first_nonfinite = j
    return updates, first_open, first_nonfinite


@njit_kernel
def jacobi_window(X, begin, end, G, rtol, atol, scale):
    m, size = end - begin, X.shape[1]
    updates = np.empty(m)
    first_open, first_nonfinite = m, m
    for j in range(m):
        update2, norm2 = 0.0, 0.0
        finite = True
        for k in range(size):
            new = G[j, k]
            difference = new - X[begin + 1 + j, k]
            update2 += difference * difference
            norm2 += new * new
            finite = finite and math.isfinite(new)
            X[begin + 1 + j, k] = new
        updates[j] = math.sqrt(update2)
        threshold = max(rtol * math.sqrt(norm2), atol * scale[begin + 1 + j])
        if first_open == m and not (updates[j] <= threshold and math.isfinite(updates[j])):
            first_open = j
        if first_nonfinite == m and not finite:
            first_nonfinite = j
    return updates, first_open, first_nonfinite
