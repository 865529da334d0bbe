"""Numba kernels of the fused SSOR-PCG iteration (:class:`~itersolve._sor._pcg.FusedSSORPCG`).

One call of :func:`pcg_step` is one CG iteration: ``q = A p`` and ``p·q`` in one pass over
``A``, the updates of ``x`` and ``r`` with ``||r||`` in one pass over the vectors, the SSOR
solve (backward sweep, diagonal scaling and forward sweep fused into two passes over ``A``),
then ``r·z`` and ``p = z + beta p``. The vectors live in buffers allocated once per solve;
nothing is allocated per iteration. The Python step that :mod:`itersolve._driver` calls is
one kernel call, where the NumPy formulation (:class:`~itersolve._sor._solvers.SSORPCG`)
made ten NumPy and BLAS calls with their temporaries.

Arithmetic. The triangular solves run on the matrix scaled row by row by ``w / a_ii``
(:func:`_ssor_scaled`): the ``M^{-1} r`` of :func:`._kernels.ssor_solve` up to rounding.
Where a scaled entry would overflow (extreme diagonal scales), :func:`_ssor` repeats
``ssor_solve``'s operations in the same order, bit for bit. Dot products and norms are sums
in index order accumulated in float64 (also for float32 vectors), where the NumPy path used
BLAS ``dot`` (blocked sums, in the vectors' dtype). So the iterates agree with the NumPy
path to rounding, not bit for bit (tests/test_kernels_sor.py states the tolerance).

The callers (:mod:`._pcg`) pass CSR arrays that :class:`._system.LinearSystem` checked and
buffers of length ``n``: every read is in bounds. Positions and columns are read as unsigned
integers, so no negative-index wraparound is compiled into the loops (as in ``._kernels``;
measured: the product ``A p`` runs twice as fast, the triangular solves 20% faster).
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import njit_kernel

# BLAS nrm2's thresholds for float64 sums of squares (as in ._kernels and .._norms): outside
# (SAFE_LOW, SAFE_HIGH) the plain sum may have underflowed or overflowed.
SAFE_LOW = math.sqrt(np.finfo(np.float64).tiny / np.finfo(np.float64).eps)
SAFE_HIGH = math.sqrt(np.finfo(np.float64).max) / 4

# pcg_step's outcomes
CONTINUE, VERIFY, NONFINITE, NOTHING_TO_LEARN, INDEFINITE = 0, 1, 2, 3, 4


@njit_kernel(inline="always")
def _finish_norm(v, squares):
    """``||v||_2`` from the plain float64 sum of squares ``squares``; outside the safe range
    recomputed scaled by the largest entry (NaN if an entry is NaN, Inf if one is Inf)."""
    plain = math.sqrt(squares)
    if SAFE_LOW < plain < SAFE_HIGH:
        return plain
    largest = 0.0
    for i in range(v.size):
        value = np.float64(v[i])
        if value != value:
            return math.nan
        largest = max(largest, abs(value))
    if largest == 0.0 or not math.isfinite(largest):
        return largest
    total = 0.0
    for i in range(v.size):
        scaled = np.float64(v[i]) / largest
        total += scaled * scaled
    return largest * math.sqrt(total)


@njit_kernel(inline="always")
def _ssor(indptr, indices, data, diagonal, r, z, omega):
    """``z = M^{-1} r`` (SSOR, natural order) with the operations of ``._kernels.ssor_solve``
    in the same order (bit for bit); returns ``r·z``. Used where :func:`pcg_prepare` found
    the row-scaled matrix not finite (extreme diagonal scales)."""
    n = r.size
    for i in range(n - 1, -1, -1):  # (D + wU) y = r
        upper = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            if j > i:
                upper += data[k] * z[j]
        z[i] = (r[i] - omega * upper) / diagonal[i]
    for i in range(n):  # (D + wL) z = D y, D y formed row by row
        z[i] *= diagonal[i]
        lower = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            if j < i:
                lower += data[k] * z[j]
        z[i] = (z[i] - omega * lower) / diagonal[i]
    scale = omega * (2.0 - omega)
    rz = 0.0
    for i in range(n):
        z[i] *= scale
        rz += np.float64(r[i]) * np.float64(z[i])
    return rz


@njit_kernel(inline="always")
def _ssor_scaled(indptr, indices, diagonal, split, scaled, r, z, omega):
    """``z = M^{-1} r`` on the row-scaled matrix ``scaled[k] = w a_ij / a_ii`` with
    ``split[i]`` the position of ``a_ii`` in its (sorted) row; returns ``r·z``.

    Each row of a triangular solve waits for the row before it, so the solve is bound by
    the latency of that chain; here the chain is one multiply-subtract per stored entry:
    the divisions by ``a_ii`` and by ``w (2 - w)`` moved into ``scaled`` and into the
    right-hand side, which no row waits for (measured at n = 2401: 15 us against 39 us for
    :func:`_ssor`). The same ``M^{-1} r`` up to rounding.
    """
    n = r.size
    factor = omega * (2.0 - omega)
    for i in range(n - 1, -1, -1):  # (I + w D^{-1} U) y = w (2 - w) D^{-1} r
        total = factor * (np.float64(r[i]) / diagonal[i])
        last = indptr[i + 1] - 1
        # the row backwards, so that the entry of the row just solved comes last
        for offset in range(last - split[i]):
            k = np.uint64(last - offset)
            total -= scaled[k] * z[np.uint64(indices[k])]
        z[i] = total
    rz = 0.0
    for i in range(n):  # (I + w D^{-1} L) z = y
        total = np.float64(z[i])
        for k in range(np.uint64(indptr[i]), np.uint64(split[i])):
            total -= scaled[k] * z[np.uint64(indices[k])]
        z[i] = total
        rz += np.float64(r[i]) * np.float64(z[i])
    return rz


@njit_kernel(inline="always")
def _precondition(indptr, indices, data, diagonal, split, scaled, r, z, omega, fast):
    if fast:
        return _ssor_scaled(indptr, indices, diagonal, split, scaled, r, z, omega)
    return _ssor(indptr, indices, data, diagonal, r, z, omega)


@njit_kernel
def pcg_prepare(indptr, indices, data, diagonal, omega, split, scaled):
    """Fill ``split`` (the position of each row's diagonal entry, in a canonical CSR matrix
    with the whole diagonal stored) and ``scaled = (w / a_ii) a_ij``; return whether every
    scaled entry (and ``w / a_ii``) is finite, else the callers use the exact-division solve."""
    finite = True
    for i in range(indptr.size - 1):
        position = indptr[i]
        while position < indptr[i + 1] and indices[position] < i:
            position += 1
        split[i] = position
        row = omega / np.float64(diagonal[i])  # one division per row, not per entry
        finite &= math.isfinite(row)
        for k in range(indptr[i], indptr[i + 1]):
            scaled[k] = row * np.float64(data[k])
            finite &= math.isfinite(scaled[k])
    return finite


@njit_kernel
def pcg_residual(indptr, indices, data, x, b, r):
    """``r = b - A x`` (the product accumulated in float64 and rounded to ``r``'s dtype, as
    ``._kernels.spmv`` does, then subtracted in that dtype); returns ``||r||_2``."""
    squares = 0.0
    for i in range(x.size):
        total = 0.0
        for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
            total += data[k] * x[np.uint64(indices[k])]
        r[i] = total  # rounded to r's dtype first, as spmv's output is
        r[i] = b[i] - r[i]
        squares += np.float64(r[i]) * np.float64(r[i])
    return _finish_norm(r, squares)


@njit_kernel
def pcg_restart(indptr, indices, data, diagonal, split, scaled, fast, r, z, p, omega, divisor):
    """``r /= divisor`` (a power of two: exact), ``z = M^{-1} r``, ``p = z``; returns ``r·z``."""
    for i in range(r.size):
        r[i] /= divisor
    rz = _precondition(indptr, indices, data, diagonal, split, scaled, r, z, omega, fast)
    for i in range(r.size):
        p[i] = z[i]
    return rz


@njit_kernel
def pcg_step(
    indptr, indices, data, diagonal, split, scaled, fast,
    x, r, z, p, q, omega, scale, rz, target, low, high, unit,
):  # fmt: skip
    """One CG iteration on the stored (divided by ``scale``) vectors; see the module docstring.

    Returns ``(outcome, curvature, stored, factor, rz_new)``: ``curvature = p·Ap``; for
    ``NONFINITE``, ``NOTHING_TO_LEARN`` and ``INDEFINITE`` only ``q`` has been written
    (``outcome`` tells :class:`._pcg.FusedSSORPCG` what to report). Otherwise ``x`` and
    ``r`` are updated and ``stored = ||r||``; for ``VERIFY`` (``stored * scale <= target``)
    the step ends there. For ``CONTINUE`` the stored residual is divided by ``factor``
    (a power of two, 1 unless ``stored / unit`` left ``[low, high]``), ``z = M^{-1} r``,
    ``rz_new = r·z`` and ``p = z + factor (rz_new / rz) p``.
    """
    n = x.size
    curvature = 0.0
    for i in range(n):  # q = A p and p·q in one pass
        total = 0.0
        for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
            total += data[k] * p[np.uint64(indices[k])]
        q[i] = total
        curvature += np.float64(p[i]) * np.float64(q[i])
    if not (math.isfinite(curvature) and math.isfinite(rz)):
        return NONFINITE, curvature, math.nan, 1.0, rz
    if curvature == 0.0 and rz == 0.0:
        return NOTHING_TO_LEARN, curvature, math.nan, 1.0, rz
    if not curvature > 0.0 or not rz > 0.0:
        return INDEFINITE, curvature, math.nan, 1.0, rz
    alpha = rz / curvature
    step = alpha * scale
    squares = 0.0
    for i in range(n):
        x[i] += step * p[i]
        r[i] -= alpha * q[i]
        squares += np.float64(r[i]) * np.float64(r[i])
    stored = _finish_norm(r, squares)
    if stored * scale <= target:
        return VERIFY, curvature, stored, 1.0, rz
    factor = 1.0
    ratio = stored / unit
    if not low <= ratio <= high:
        factor = _relative_power(stored, unit)
        for i in range(n):
            r[i] /= factor
    rz_new = _precondition(indptr, indices, data, diagonal, split, scaled, r, z, omega, fast)
    beta = factor * (rz_new / rz)
    for i in range(n):
        p[i] = z[i] + beta * p[i]
    return CONTINUE, curvature, stored, factor, rz_new


@njit_kernel(inline="always")
def _relative_power(norm, unit):
    """``._solvers._relative_power``: the power of two that brings ``norm`` near ``unit``."""
    if not (norm > 0.0 and math.isfinite(norm)):
        return 1.0
    exponent = math.frexp(norm)[1] - (math.frexp(unit)[1] - 1)
    return math.ldexp(1.0, min(max(exponent, -1022), 1023))
