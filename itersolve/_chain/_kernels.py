"""Numba kernels for the chain sweeps on the CPU: the window updates (Picard, Jacobi, the
Newton scans), the hybrid's test, and the advance and figures of a whole sweep.

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


# -- whole sweeps: the update, the window advance and the sweep's figures in one call -------
#
# ``ChainSolver.step`` does the bookkeeping of a sweep with a few NumPy passes over the
# update norms (their maximum, the largest still-open one, the final-sweep record, the
# reset of overflowed states); on a short window each pass costs more than the update.
# The ``*_sweep`` kernels run the update and :func:`_advance` in one call and return only
# scalars, so the Python of a sweep is the user's step and O(1) work.


@njit_kernel
def picard_sweep(X, begin, end, G, rtol, atol, scale, floor_units, final_sweep, sweep, span, fill):
    updates, first_open, first_nonfinite = picard_window(
        X, begin, end, G, rtol, atol, scale, floor_units
    )
    return _advance(
        X, begin, end, updates, first_open, first_nonfinite, final_sweep, sweep, span, fill
    )


@njit_kernel
def jacobi_sweep(X, begin, end, G, rtol, atol, scale, final_sweep, sweep, span, fill):
    updates, first_open, first_nonfinite = jacobi_window(X, begin, end, G, rtol, atol, scale)
    return _advance(
        X, begin, end, updates, first_open, first_nonfinite, final_sweep, sweep, span, fill
    )


@njit_kernel
def newton_sweep(X, begin, end, G, J, rtol, atol, scale, final_sweep, sweep, span, fill):
    updates, first_open, first_nonfinite = newton_window(X, begin, end, G, J, rtol, atol, scale)
    return _advance(
        X, begin, end, updates, first_open, first_nonfinite, final_sweep, sweep, span, fill
    )


@njit_kernel
def quasi_newton_sweep(X, begin, end, G, J, rtol, atol, scale, final_sweep, sweep, span, fill):
    updates, first_open, first_nonfinite = quasi_newton_window(
        X, begin, end, G, J, rtol, atol, scale
    )
    return _advance(
        X, begin, end, updates, first_open, first_nonfinite, final_sweep, sweep, span, fill
    )


@njit_kernel
def _advance(X, begin, end, updates, first_open, first_nonfinite, final_sweep, sweep, span, fill):
    """ParaDiGMS's advance after a sweep of the window ``[begin, end)``, as the generic path
    computes it in ``WindowSolver.sweep`` and ``ChainSolver.step``.

    Returns ``(new_begin, new_end, largest, residual, nonfinite, resets)``: the new window
    (``span`` states wide, ``n_steps`` for the whole horizon), the largest update (NaN if
    any is, as ``np.max``), the largest finite update among the states still open (NaN
    when a state computed from final inputs is not finite; then ``nonfinite`` is its
    offset, else -1) and how many open states were restarted from the anchor. States
    ``begin + 1 .. new_begin`` are marked final after sweep ``sweep`` in ``final_sweep``;
    with ``fill`` the states entering the window start from the last one computed.
    """
    m, n_steps = end - begin, X.shape[0] - 1
    new_begin = min(begin + 1 + first_open, end)
    new_end = min(new_begin + span, n_steps)
    if fill and new_end > end:
        for row in range(end + 1, new_end + 1):
            X[row, :] = X[end, :]
    largest = 0.0
    for j in range(m):
        if math.isnan(updates[j]):
            largest = updates[j]
            break
        largest = max(largest, updates[j])
    residual, nonfinite, resets = 0.0, -1, 0
    if first_nonfinite < new_begin - begin:
        # a state computed from final inputs is NaN or Inf: the chain itself blows up, and
        # the states before it are final and finite
        residual, nonfinite = math.nan, first_nonfinite
        new_begin = begin + first_nonfinite
        new_end = min(new_begin + span, n_steps)
    else:
        for j in range(new_begin - begin, m):
            if math.isfinite(updates[j]):
                residual = max(residual, updates[j])
        if first_nonfinite < m:
            resets = _reset(X, new_begin, end)
    for row in range(begin + 1, new_begin + 1):
        final_sweep[row] = sweep
    return new_begin, new_end, largest, residual, nonfinite, resets


@njit_kernel
def _reset(X, anchor, end):
    """Restart the states ``anchor + 1 .. end`` holding NaN or Inf from the anchor (as
    ``ChainSolver.reset``); return how many were."""
    resets = 0
    for row in range(anchor + 1, end + 1):
        finite = True
        for k in range(X.shape[1]):
            finite = finite and math.isfinite(X[row, k])
        if not finite:
            X[row, :] = X[anchor, :]
            resets += 1
    return resets


@njit_kernel
def blocks_sweep(X, begin, old, rtol, atol, scale, block, final_sweep, sweep):
    """The hybrid's test after a sweep of its blocks, and the advance (:func:`_advance`).

    ``old`` holds the states ``begin + 1 ..`` before the sweep. The new anchor is the first
    block start after the first block (offsets ``block - 1, 2 block - 1, ..`` short of the
    last state) whose update failed the tolerance, as ``Blocks.sweep`` finds it with
    :func:`itersolve.gpu._chain.assess`; the norms are summed in float64 as in the window
    kernels.
    """
    n_steps = X.shape[0] - 1
    m = n_steps - begin
    updates = np.empty(m)
    first_open, first_nonfinite = m, m
    for j in range(m):
        row = begin + 1 + j
        update2, norm2 = 0.0, 0.0
        finite = True
        for k in range(X.shape[1]):
            new = np.float64(X[row, k])
            difference = new - np.float64(old[j, k])
            update2 += difference * difference
            norm2 += new * new
            finite = finite and math.isfinite(new)
        updates[j] = _norm(update2, X[row], old[j], True)
        threshold = max(rtol * _norm(norm2, X[row], X[row], False), atol * scale[row])
        accepted = updates[j] <= threshold and math.isfinite(updates[j])
        if first_open == m and j % block == block - 1 and j < m - 1 and not accepted:
            first_open = j
        if first_nonfinite == m and not finite:
            first_nonfinite = j
    return _advance(
        X, begin, n_steps, updates, first_open, first_nonfinite, final_sweep, sweep, n_steps, False
    )
