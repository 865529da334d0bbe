"""Numba kernels on raw CSR arrays ``(indptr, indices, data)``, updating ``x`` in place.

The sweep ABI follows pyamg: ``(indptr, indices, data, x, b, row_start, row_stop,
row_step, omega)``, direction encoded as ``(0, n, 1)`` forward or ``(n-1, -1, -1)``
backward, and ω passed to every call — a symmetric sweep is a forward then a backward
sweep with the same ω (pyamg's symmetric SOR drops ω in its recursion).

Natural-order sweeps are sequential by nature (no ``prange``). Coloured sweeps update the
rows of one colour in parallel: rows of a colour share no edge, so their updates are
independent, and the result equals a sequential sweep in colour order.

Each ``prange`` kernel is compiled twice, serial and parallel, and the caller picks by
size: starting threads costs microseconds, and on a loaded machine a parallel region can
stall for milliseconds, far more than a small system's whole sweep.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .._jit import njit_kernel

PARALLEL_MIN_NNZ = 200_000


def _serial_and_parallel(function):
    serial, parallel = njit_kernel(function), njit_kernel(parallel=True)(function)

    def dispatch(indptr, *args):
        kernel = parallel if indptr[-1] >= PARALLEL_MIN_NNZ else serial
        return kernel(indptr, *args)

    dispatch.__doc__, dispatch.__name__ = function.__doc__, function.__name__
    dispatch.serial, dispatch.parallel = serial, parallel
    return dispatch


@njit_kernel(inline="always")
def _relax_row(indptr, indices, data, x, b, i, omega):
    """The SOR update of row ``i`` from the current ``x``."""
    off_diagonal = 0.0
    diagonal = 0.0
    row = np.uint64(i)
    # unsigned positions and columns (validated by the caller): no negative-index
    # wraparound is compiled into the loop (measured: the sweep runs about 15% faster)
    for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
        j = np.uint64(indices[k])
        if j == row:
            diagonal += data[k]
        else:
            off_diagonal += data[k] * x[j]
    # Each row of a sweep waits for the one before, so the sweep is bound by the latency
    # of that chain; omega / a_ii does not depend on x, so the division runs off the chain
    # (a third faster than dividing the residual, pyamg's order). Keep checks out of this
    # function: a zero-diagonal test here made the sweep half as fast again (measured).
    scale = omega / diagonal
    x[i] = (1.0 - omega) * x[i] + scale * (b[i] - off_diagonal)


@njit_kernel
def sor_sweep(indptr, indices, data, x, b, row_start, row_stop, row_step, omega):
    """One SOR sweep over rows ``range(row_start, row_stop, row_step)``."""
    for i in range(row_start, row_stop, row_step):
        _relax_row(indptr, indices, data, x, b, i, omega)


@_serial_and_parallel
def colored_sor_sweep(indptr, indices, data, x, b, order, color_ptr, omega, backward):
    """One SOR sweep colour by colour (reversed for ``backward``), each colour in parallel."""
    n_colors = color_ptr.size - 1
    for c in range(n_colors):
        color = n_colors - 1 - c if backward else c
        start, stop = color_ptr[color], color_ptr[color + 1]
        for position in numba.prange(start, stop):
            _relax_row(indptr, indices, data, x, b, order[position], omega)


@njit_kernel
def csr_in_bounds(indptr, indices, n_cols):
    """Whether ``indptr`` is non-decreasing inside ``[0, indices.size]`` and every column
    index lies in ``[0, n_cols)``: one branch-free pass (vectorised), so :func:`relax` can
    check a user's CSR arrays on every call for a few percent of a sweep. The caller has
    checked ``indptr.size``; reads stay inside both arrays whatever their contents.

    Checking inside the sweep instead (each index clamped into the arrays and flagged)
    measured slower: the flag adds work to every entry of the loop that
    :func:`_relax_row` keeps lean, while this pass streams the indices once.
    """
    nnz = indices.size
    bad = indptr[0] != 0
    for i in range(indptr.size - 1):
        bad |= (indptr[i + 1] < indptr[i]) | (indptr[i + 1] > nnz)
    limit = np.uint64(n_cols)
    for k in range(nnz):  # a negative index wraps to a huge unsigned one: a single compare
        bad |= np.uint64(indices[k]) >= limit
    return not bad


@njit_kernel
def csr_is_clean(indptr, indices, data, n_cols):
    """Whether CSR arrays are valid and canonical, in two passes: ``indptr`` non-decreasing
    from 0 to ``indices.size``, each row's columns strictly increasing inside
    ``[0, n_cols)``, every entry finite and non-zero. The caller has checked the sizes
    (``indptr.size >= 1``, ``data.size == indices.size``); a row's indices are read only
    after its range has been shown to lie inside the arrays. False sends the caller to
    the slow path, which names the problem or canonicalises.
    """
    nnz = indices.size
    if indptr[0] != 0:
        return False
    # flags instead of an early return per entry (measured 30% faster at n = 2401; a bad
    # matrix is the rare case): the entries in one vectorisable pass, then per row the
    # first and last column in range and the columns strictly increasing in between
    bad = False
    for k in range(nnz):
        value = data[k]
        bad |= (value == 0) | (value - value != 0)
    limit = np.uint64(n_cols)
    for i in range(indptr.size - 1):
        start, stop = indptr[i], indptr[i + 1]
        if stop < start or stop > nnz:
            return False
        if stop > start:  # a negative column wraps to a huge unsigned one
            bad |= np.uint64(indices[start]) >= limit
            for k in range(np.uint64(start) + 1, np.uint64(stop)):
                bad |= indices[k] <= indices[k - 1]
            bad |= np.uint64(indices[stop - 1]) >= limit
    if bad:
        return False
    return indptr[indptr.size - 1] == nnz


@njit_kernel
def csr_diagonal(indptr, indices, data, out):
    """``out = diag(A)`` of a canonical CSR matrix (sorted, unique columns; 0 where a row has
    no diagonal entry); returns whether every entry is positive. A scan to each row's
    diagonal position: no per-call set-up, unlike ``scipy.sparse``'s ``diagonal()``."""
    positive = True
    for i in range(indptr.size - 1):
        value = data.dtype.type(0)
        for k in range(indptr[i], indptr[i + 1]):
            if indices[k] >= i:
                if indices[k] == i:
                    value = data[k]
                break
        out[i] = value
        positive &= value > 0
    return positive


@njit_kernel
def asymmetry_and_scale(indptr, indices, data):
    """``(max |a_ij - a_ji|, max |a_ij|)`` of a canonical CSR matrix (sorted, unique columns
    per row), in one pass without the two sparse copies of ``A - A.T``.

    Rows are visited in order; an upper entry ``a_ij`` (``j > i``) finds its mirror at a
    cursor that walks row ``j``'s lower part, whose columns arrive in the same increasing
    order. Lower entries the cursor steps over, or never reaches, have no mirror. Every
    non-zero of ``A - A^T`` has a stored entry on one side, so all are seen (a binary
    search per entry, the previous method, measured 3x slower at n = 2401).
    """
    n = indptr.size - 1
    # unsigned positions and columns (canonical, checked CSR), as in _relax_row: 40% faster
    cursor = np.empty(n, dtype=np.uint64)  # the next unmatched lower entry of each row
    for i in range(n):
        cursor[i] = indptr[i]
    one = np.uint64(1)
    asymmetry = 0.0
    largest = 0.0
    for i in range(n):
        for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
            value = np.float64(data[k])
            largest = max(largest, abs(value))
            j = np.uint64(indices[k])
            if j <= i:
                continue  # a lower entry is matched from its mirror's row; a_ii is its own
            c = cursor[j]
            end = np.uint64(indptr[j + 1])
            while c < end and indices[c] < i:  # no (column, j) entry: no mirror
                asymmetry = max(asymmetry, abs(np.float64(data[c])))
                c += one
            mirror = 0.0
            if c < end and indices[c] == i:
                mirror = np.float64(data[c])
                c += one
            cursor[j] = c
            asymmetry = max(asymmetry, abs(value - mirror))
    for j in range(n):  # lower entries no upper entry reached
        for c in range(cursor[j], np.uint64(indptr[j + 1])):
            if indices[c] >= j:
                break
            asymmetry = max(asymmetry, abs(np.float64(data[c])))
    return asymmetry, largest


def largest_asymmetry(indptr, indices, data):
    """``max |a_ij - a_ji|`` of a canonical CSR matrix (see :func:`asymmetry_and_scale`)."""
    return asymmetry_and_scale(indptr, indices, data)[0]


@_serial_and_parallel
def _residual_squares(indptr, indices, data, x, b, divisor):
    """``sum_i ((b - A x)_i / divisor)^2``, each residual entry accumulated in float64.

    float64 makes the residual of a float32 system the true one of its iterate (a float32
    residual can round to zero while the true one is 1e-7 ||b||), and squares of float32
    entries can neither overflow nor underflow. The slow path divides by the largest entry
    rather than multiplying by its reciprocal, which overflows when that entry is subnormal.
    """
    total = 0.0
    for i in numba.prange(x.size):
        r = np.float64(b[i])
        for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):  # see _relax_row
            r -= np.float64(data[k]) * np.float64(x[np.uint64(indices[k])])
        if divisor != 1.0:
            r /= divisor
        total += r * r
    return total


@_serial_and_parallel
def _residual_largest(indptr, indices, data, x, b):
    """``max_i |(b - A x)_i|`` (NaN when an entry is NaN), the scale of the slow path."""
    largest = 0.0
    for i in numba.prange(x.size):
        r = np.float64(b[i])
        for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):  # see _relax_row
            r -= np.float64(data[k]) * np.float64(x[np.uint64(indices[k])])
        largest = max(largest, abs(r) if r == r else math.inf)  # max() would drop a NaN
    return largest


# Outside (SAFE_LOW, SAFE_HIGH) the plain sum of squares may have underflowed or overflowed
# (BLAS nrm2's thresholds): a residual of 1e-170 would read as 0, one of 1e155 as Inf.
SAFE_LOW = math.sqrt(np.finfo(np.float64).tiny / np.finfo(np.float64).eps)
SAFE_HIGH = math.sqrt(np.finfo(np.float64).max) / 4


def residual_norm(indptr, indices, data, x, b):
    """``||b - A x||_2`` without allocating the residual; neither overflows nor underflows.

    One pass in the common case; only a result outside the safe range is recomputed,
    scaled by the largest entry (two more passes).
    """
    plain = math.sqrt(_residual_squares(indptr, indices, data, x, b, 1.0))
    if SAFE_LOW < plain < SAFE_HIGH:
        return plain
    largest = _residual_largest(indptr, indices, data, x, b)
    if largest == 0.0 or not math.isfinite(largest):  # a NaN entry reads as Inf
        return largest
    return largest * math.sqrt(_residual_squares(indptr, indices, data, x, b, largest))


@njit_kernel
def ssor_solve(indptr, indices, data, diagonal, r, z, omega):
    """``z = M^{-1} r`` for the SSOR preconditioner ``M = (D + wU) D^{-1} (D + wL) / (w (2 - w))``.

    The backward solve with ``D + wU`` comes first, then the scaling by ``D`` and the forward
    solve with ``D + wL`` (the ordering of the reference code's MATLAB ``pcg`` call).
    """
    n = r.size
    for i in range(n - 1, -1, -1):  # (D + wU) y = r
        upper = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            if j > i:
                upper += data[k] * z[j]
        z[i] = (r[i] - omega * upper) / diagonal[i]
    for i in range(n):  # y <- D y
        z[i] *= diagonal[i]
    for i in range(n):  # (D + wL) z = D y
        lower = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            if j < i:
                lower += data[k] * z[j]
        z[i] = (z[i] - omega * lower) / diagonal[i]
    scale = omega * (2.0 - omega)
    for i in range(n):
        z[i] *= scale


@_serial_and_parallel
def spmv(indptr, indices, data, x, out):
    """``out = A x``."""
    for i in numba.prange(x.size):
        total = 0.0
        for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):  # see _relax_row
            total += data[k] * x[np.uint64(indices[k])]
        out[i] = total
