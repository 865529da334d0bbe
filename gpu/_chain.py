"""Picard and Jacobi window updates on the array-API namespace: the GPU mirror of ``_chain``.

CuPy trajectories flow through the user's ``step`` and these updates unchanged; CI runs the
same functions with NumPy (``backend="array-api"``) and compares them with the Numba
kernels of :mod:`itersolve._chain._kernels`, which do the same arithmetic in one pass.

Each update rewrites ``X[begin+1 .. end]`` in place from ``G``, the step's outputs on
``X[begin .. end-1]``, and returns the host arrays and indices the window advance needs:
``(updates, first_open, first_nonfinite)``, where ``updates[j] = ||X_new - X_old||_2`` of
state ``begin+1+j``, ``first_open`` is the first ``j`` that failed the tolerance
(``end - begin`` when none did) and ``first_nonfinite`` the first ``j`` whose new state
holds NaN or Inf (``end - begin`` when none does).
"""

from __future__ import annotations

import numpy as np

from itersolve._backend import to_host

__all__ = [
    "assess",
    "first_false",
    "jacobi_window",
    "newton_window",
    "picard_window",
    "row_norms",
]


def _rows(xp, V):
    return xp.reshape(V, (V.shape[0], -1))


def row_norms(xp, V):
    """The 2-norm of each row of ``V`` (host float64), safe from underflow and overflow.

    The plain norms are used where they lie inside the range in which the sum of squares
    is intact; the other rows are recomputed scaled by their largest entry (BLAS
    ``nrm2``'s idea), so that states near 1e-170 or 1e160 have the updates they have.
    """
    rows = _rows(xp, V)
    plain = to_host(xp.linalg.vector_norm(rows, axis=1)).astype(np.float64)
    low, high = _safe_range(xp, rows.dtype)
    suspect = ~((plain > low) & (plain < high))
    if not suspect.any():
        return plain
    magnitude = xp.abs(rows)
    largest = xp.max(magnitude, axis=1) if rows.shape[1] else xp.zeros(rows.shape[0])
    largest_host = to_host(largest).astype(np.float64)
    usable = (largest_host > 0) & np.isfinite(largest_host)
    divisor = xp.where(largest > 0, largest, xp.ones_like(largest))
    divisor = xp.where(xp.isfinite(divisor), divisor, xp.ones_like(divisor))
    rescaled = to_host(xp.linalg.vector_norm(magnitude / xp.reshape(divisor, (-1, 1)), axis=1))
    fixed = np.where(usable, largest_host * rescaled.astype(np.float64), largest_host)
    nan = to_host(xp.any(xp.isnan(rows), axis=1))
    fixed = np.where(nan, np.nan, fixed)
    return np.where(suspect, fixed, plain)


def _safe_range(xp, dtype):
    """Norms inside this range came out of the plain sum of squares intact."""
    info = xp.finfo(dtype)
    return float(np.sqrt(float(info.smallest_normal) / float(info.eps))), float(
        np.sqrt(float(info.max))
    ) / 4


def first_false(flags: np.ndarray) -> int:
    """Index of the first False in a host boolean array (its length when there is none)."""
    failed = np.flatnonzero(~flags)
    return int(failed[0]) if failed.size else flags.size


def assess(xp, new, old, rtol, atol, scale, floor=None):
    """Compare ``new`` with ``old`` state by state: ``(updates, accepted, first_nonfinite)``.

    ``updates[j] = ||new[j] - old[j]||_2``; state ``j`` is accepted when its update is at
    most ``max(rtol ||new[j]||_2, atol scale[j], floor[j])`` (host arrays ``scale`` and
    ``floor``); ``first_nonfinite`` is the first state holding NaN or Inf.
    """
    updates = row_norms(xp, new - old)
    norms = row_norms(xp, new)
    threshold = np.maximum(rtol * norms, atol * scale)
    if floor is not None:
        threshold = np.maximum(threshold, floor)
    finite = to_host(xp.all(xp.isfinite(_rows(xp, new)), axis=1))
    # an overflowed state has an infinite norm, hence threshold: never accept it
    return updates, (updates <= threshold) & np.isfinite(updates), first_false(finite)


def picard_window(xp, X, begin, end, G, rtol, atol, scale, floor_units):
    """``X[j+1] = X[begin] + sum_{i=begin}^{j} (G[i] - X[i])`` for the window.

    The acceptance floor is ``floor_units (||X[begin]|| + sum ||drift||)``: the rounding
    that the prefix sum alone makes.
    """
    old = X[begin:end, ...]
    drift = G - old
    new = X[begin, ...] + xp.cumulative_sum(drift, axis=0)
    summed = row_norms(xp, X[begin : begin + 1, ...])[0] + np.cumsum(row_norms(xp, drift))
    updates, accepted, first_nonfinite = assess(
        xp,
        new,
        X[begin + 1 : end + 1, ...],
        rtol,
        atol,
        scale[begin + 1 : end + 1],
        floor_units * summed,
    )
    X[begin + 1 : end + 1, ...] = new
    return updates, first_false(accepted), first_nonfinite


def jacobi_window(xp, X, begin, end, G, rtol, atol, scale):
    """``X[j+1] = G[j]`` for the window."""
    updates, accepted, first_nonfinite = assess(
        xp, G, X[begin + 1 : end + 1, ...], rtol, atol, scale[begin + 1 : end + 1]
    )
    X[begin + 1 : end + 1, ...] = G
    return updates, first_false(accepted), first_nonfinite


def newton_window(xp, X, begin, end, G, J, rtol, atol, scale, *, diagonal):
    """DEER's sweep (``J`` full, ``(m, size, size)``) or, with ``diagonal``, quasi-DEER's
    (``J`` the diagonals, shaped like the states): ``X[j+1] = G[j] + J[j] (X_new[j] -
    X_old[j])``.

    With ``delta_j = X_new[j] - X_old[j]`` (0 at the anchor) the sweep is the affine
    recursion ``delta_{j+1} = J_j delta_j + (G_j - X_old[j+1])``, evaluated here as a
    Hillis–Steele associative scan over the maps ``(J_j, c_j)``: ``log2 m`` rounds of
    batched products, the depth a GPU needs, instead of ``m`` steps in sequence.
    """
    m = end - begin
    old = X[begin + 1 : end + 1, ...]
    c = _rows(xp, G - old)
    A = _rows(xp, J) if diagonal else J
    shift = 1
    while shift < m:
        if diagonal:
            c_tail = A[shift:, ...] * c[:-shift, ...] + c[shift:, ...]
            A_tail = A[shift:, ...] * A[:-shift, ...]
        else:
            c_tail = (A[shift:, ...] @ c[:-shift, ..., None])[..., 0] + c[shift:, ...]
            A_tail = A[shift:, ...] @ A[:-shift, ...]
        c = xp.concat([c[:shift, ...], c_tail], axis=0)
        A = xp.concat([A[:shift, ...], A_tail], axis=0)
        shift *= 2
    new = old + xp.reshape(c, old.shape)
    updates, accepted, first_nonfinite = assess(
        xp, new, old, rtol, atol, scale[begin + 1 : end + 1]
    )
    X[begin + 1 : end + 1, ...] = new
    return updates, first_false(accepted), first_nonfinite
