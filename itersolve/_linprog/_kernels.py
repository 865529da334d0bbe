"""Numba kernels for restarted Halpern PDHG on the CPU (``backend="numpy"``).

One PDHG iteration needs ``K~ x`` before the dual step and ``K~' y`` after it, so it
takes two passes over the matrix at least; :func:`pdhg_block` takes those two (CSR of
``K~`` and of its transpose) and three elementwise loops: the dual step
``yT = sigma (clip(w, l, u) - w)`` with ``w = 2 K~xT - K~x - y / sigma`` with the Halpern
update of ``y`` and ``K~x``; the Halpern update of ``x`` and ``K~'y``; the next primal step
``xT = clip(x - tau (c - K~'y), lb, ub)``. The elementwise loops vectorise; fused into the
products' loops they did not, and the iteration was a quarter slower (measured). The
products (:func:`_products`) run four rows side by side, each summed in its own order, and
index with unsigned integers (no negative-index wraparound code): together about 2.5 times
faster than one row at a time on the benchmark's sparse LPs (n = 3000) and 3 times on
dense rows, and faster than scipy's ``csr_matvec``, whose bits they reproduce.

A whole block of iterations without restart test, fixed-point residual or KKT check runs
in one call; the Python side (``_fused.FusedPDHG``) takes over for the iterations that
need those, with the very NumPy code of the array-API path, fed by :func:`fixed_point_sums`
(the restart test's three ``np.sum``, in NumPy's pairwise order: :func:`_pairwise`) and
:func:`halpern_update`. :func:`ruiz_pock_chambolle` is ``_scaling.diagonal_scaling`` in one
kernel. The periodic check has a kernel of its own (``_check_kernel``).

Every operation is the array-API path's (``_pdhg.HalpernPDHG.step``) in the same order:
CSR products summed left to right as scipy's ``csr_matvec`` sums them, the same
elementwise expressions, NaN propagated by ``clip`` as ``np.maximum``/``np.minimum`` do.
Compiled without fastmath nothing is contracted or reassociated, so the iterates are the
array-API path's bit for bit (``tests/test_linprog_kernels_property.py``). The caller
validates the CSR arrays (``indptr`` monotone from 0 to ``nnz``, ``indices`` in range).
"""

from __future__ import annotations

import numpy as np

from .._jit import njit_kernel


@njit_kernel(inline="always")
def _clip(v, low, high):
    """``np.minimum(np.maximum(v, low), high)`` for one entry, NaN in NaN out."""
    # without short-circuit branches, so that the compiler emits selects: which bound is
    # active varies from entry to entry, and mispredicted branches cost more than the rest
    keep = (v >= low) | (v != v)  # np.maximum keeps a NaN v, and gives NaN for a NaN low
    v = v if keep else low
    keep = (v <= high) | (v != v)
    return v if keep else high


@njit_kernel
def primal_step(x, KTy, cs, lbs, ubs, tau, xT):
    """``xT = clip(x - tau (c~ - K~'y), lb~, ub~)``, in place into ``xT``."""
    for j in range(x.size):
        xT[j] = _clip(x[j] - tau * (cs[j] - KTy[j]), lbs[j], ubs[j])


@njit_kernel(inline="always")
def _dot(indptr, indices, data, v, i):
    """Row ``i`` of the CSR matrix times ``v``, summed left to right (scipy's order)."""
    total = 0.0
    # unsigned positions and columns (validated by the caller): no negative-index
    # wraparound is compiled into the loop
    for p in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
        total += data[p] * v[np.uint64(indices[p])]
    return total


@njit_kernel
def _products(indptr, indices, data, v, out):
    """``out = K v`` for the CSR matrix ``K``, four rows at a time.

    Each row's sum is a chain of dependent additions, so one row at a time runs at the
    latency of an addition per entry; four chains side by side keep the adder busy on
    long (dense) rows, and every row is still summed in its own left-to-right order,
    scipy's (the same bits as :func:`_dot`). Called, not inlined: its six call sites
    would triple the kernels' compile time for nothing (one call per pass).
    """
    rows = out.size
    for i in range(0, rows - 3, 4):
        # unsigned positions and columns, as in _dot
        p0, p1 = np.uint64(indptr[i]), np.uint64(indptr[i + 1])
        p2, p3, e3 = np.uint64(indptr[i + 2]), np.uint64(indptr[i + 3]), np.uint64(indptr[i + 4])
        common = min(min(p1 - p0, p2 - p1), min(p3 - p2, e3 - p3))
        t0 = t1 = t2 = t3 = 0.0
        for q in range(common):
            t0 += data[p0 + q] * v[np.uint64(indices[p0 + q])]
            t1 += data[p1 + q] * v[np.uint64(indices[p1 + q])]
            t2 += data[p2 + q] * v[np.uint64(indices[p2 + q])]
            t3 += data[p3 + q] * v[np.uint64(indices[p3 + q])]
        for p in range(p0 + common, p1):
            t0 += data[p] * v[np.uint64(indices[p])]
        for p in range(p1 + common, p2):
            t1 += data[p] * v[np.uint64(indices[p])]
        for p in range(p2 + common, p3):
            t2 += data[p] * v[np.uint64(indices[p])]
        for p in range(p3 + common, e3):
            t3 += data[p] * v[np.uint64(indices[p])]
        out[i], out[i + 1], out[i + 2], out[i + 3] = t0, t1, t2, t3
    for i in range(rows - rows % 4, rows):
        out[i] = _dot(indptr, indices, data, v, i)


@njit_kernel
def normal_product(indptr, indices, data, t_indptr, t_indices, t_data, v, middle, out):
    """``out = K~'(K~ v)`` with ``middle = K~ v``, both products in scipy's order."""
    _products(indptr, indices, data, v, middle)
    _products(t_indptr, t_indices, t_data, middle, out)


@njit_kernel(inline="always")
def _dual_entry(total, i, Kx, y, lcs, ucs, sigma, KxT, yT):
    """Store ``(K~ xT)_i = total`` and the dual step's ``yT_i``."""
    KxT[i] = total
    w = 2.0 * total - Kx[i] - y[i] / sigma
    yT[i] = sigma * (_clip(w, lcs[i], ucs[i]) - w)


@njit_kernel
def pdhg_block(
    indptr, indices, data, t_indptr, t_indices, t_data,
    cs, lbs, ubs, lcs, ucs,
    x, y, Kx, KTy, xT, yT, KxT, KTyT, x0, y0, Kx0, KTy0,
    tau, sigma, since_restart, count, rho, mode,
):  # fmt: skip
    """Run ``count`` PDHG iterations from ``z = (x, y)`` with ``xT`` already its primal step.

    ``mode`` 0: Halpern steps ``z <- (k+1)/(k+2) ((1+rho) T z - rho z) + z0/(k+2)`` with
    ``k = since_restart, since_restart + 1, ...`` (anchor ``x0, y0, Kx0, KTy0``); 1: plain
    PDHG ``z <- T z``; 2: one iteration that only computes ``T z`` into ``xT, yT, KxT,
    KTyT`` and leaves ``z`` alone (the caller decides what follows). On return ``xT, yT,
    KxT, KTyT`` hold ``T`` of the iterate before the last step, as after
    ``HalpernPDHG.step``; ``xT`` is *not* the primal step of the new ``z``. Each mode has
    loops of its own (a mode test inside them made the kernel twice as slow), and the
    elementwise work runs in loops apart from the products, where it vectorises (a
    quarter faster than fused into the products' loops; measured on the benchmark's LPs).
    """
    m, n = lcs.size, cs.size
    if mode == 2:
        _products(indptr, indices, data, xT, KxT)
        for i in range(m):
            _dual_entry(KxT[i], i, Kx, y, lcs, ucs, sigma, KxT, yT)
        _products(t_indptr, t_indices, t_data, yT, KTyT)
        return
    scale = 1.0 + rho
    for step in range(count):
        k = since_restart + step
        a, b = (k + 1) / (k + 2), 1.0 / (k + 2)
        if mode == 0:
            _products(indptr, indices, data, xT, KxT)
            for i in range(m):  # elementwise loops apart from the products: they vectorise
                total = KxT[i]
                _dual_entry(total, i, Kx, y, lcs, ucs, sigma, KxT, yT)
                y[i] = a * (scale * yT[i] - rho * y[i]) + b * y0[i]
                Kx[i] = a * (scale * total - rho * Kx[i]) + b * Kx0[i]
            _products(t_indptr, t_indices, t_data, yT, KTyT)
            for j in range(n):
                x[j] = a * (scale * xT[j] - rho * x[j]) + b * x0[j]
                KTy[j] = a * (scale * KTyT[j] - rho * KTy[j]) + b * KTy0[j]
        else:
            _products(indptr, indices, data, xT, KxT)
            for i in range(m):
                _dual_entry(KxT[i], i, Kx, y, lcs, ucs, sigma, KxT, yT)
                y[i] = yT[i]
                Kx[i] = KxT[i]
            _products(t_indptr, t_indices, t_data, yT, KTyT)
            for j in range(n):
                x[j] = xT[j]
                KTy[j] = KTyT[j]
        if step < count - 1:  # the next primal step (xT of the last step stays T z)
            for j in range(n):
                xT[j] = _clip(x[j] - tau * (cs[j] - KTy[j]), lbs[j], ubs[j])


@njit_kernel
def halpern_update(x, xT, x0, y, yT, y0, Kx, KxT, Kx0, KTy, KTyT, KTy0, a, b, rho):
    """``z <- a ((1 + rho) T z - rho z) + b z0`` in place, for all four vectors of ``z``."""
    scale = 1.0 + rho
    for j in range(x.size):
        x[j] = a * (scale * xT[j] - rho * x[j]) + b * x0[j]
        KTy[j] = a * (scale * KTyT[j] - rho * KTy[j]) + b * KTy0[j]
    for i in range(y.size):
        y[i] = a * (scale * yT[i] - rho * y[i]) + b * y0[i]
        Kx[i] = a * (scale * KxT[i] - rho * Kx[i]) + b * Kx0[i]


@njit_kernel(inline="always")
def _pairwise_leaf(a, start, count):
    """NumPy's pairwise sum of at most 128 entries: 8 interleaved lanes, then the rest."""
    if count < 8:
        total = 0.0
        for i in range(start, start + count):
            total += a[i]
        return total
    r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
    r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
    i = 8
    while i < count - count % 8:
        p = start + i
        r0 += a[p]
        r1 += a[p + 1]
        r2 += a[p + 2]
        r3 += a[p + 3]
        r4 += a[p + 4]
        r5 += a[p + 5]
        r6 += a[p + 6]
        r7 += a[p + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < count:
        total += a[start + i]
        i += 1
    return total


@njit_kernel
def _pairwise(a, start, count):
    """``np.sum(a[start:start + count])`` for float64, in NumPy's pairwise order to the
    bit: above 128 entries the halves (split at a multiple of 8) are summed and added.
    NumPy recurses; this walks the same tree with an explicit stack (a recursive kernel
    loaded from Numba's on-disk cache crashed the interpreter)."""
    if count <= 128:
        return _pairwise_leaf(a, start, count)
    starts, counts = np.empty(128, np.int64), np.empty(128, np.int64)
    stages, values = np.zeros(128, np.int64), np.empty(128)
    starts[0], counts[0], stages[0] = start, count, 0
    top, filled = 0, 0
    while top >= 0:
        first, size = starts[top], counts[top]
        half = size // 2
        half -= half % 8
        if size <= 128:
            values[filled] = _pairwise_leaf(a, first, size)
            filled += 1
            top -= 1
        elif stages[top] == 0:
            stages[top] = 1
            top += 1
            starts[top], counts[top], stages[top] = first, half, 0
        elif stages[top] == 1:
            stages[top] = 2
            top += 1
            starts[top], counts[top], stages[top] = first + half, size - half, 0
        else:
            filled -= 1
            values[filled - 1] = values[filled - 1] + values[filled]
            top -= 1
    return values[0]


@njit_kernel
def fixed_point_sums(x, xT, y, yT, Kx, KxT, scratch):
    """``(sum dx^2, sum dy^2, sum dy dKx)`` for ``d = z - T z``, each as ``np.sum`` of the
    elementwise products returns it (``HalpernPDHG._fixed_point_residual``'s figures).
    ``scratch`` holds at least ``max(n, m)`` entries."""
    n, m = x.size, y.size
    for j in range(n):
        d = x[j] - xT[j]
        scratch[j] = d * d
    xx = _pairwise(scratch, 0, n)
    for i in range(m):
        d = y[i] - yT[i]
        scratch[i] = d * d
    yy = _pairwise(scratch, 0, m)
    for i in range(m):
        scratch[i] = (y[i] - yT[i]) * (Kx[i] - KxT[i])
    return xx, yy, _pairwise(scratch, 0, m)


def check_csr(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, rows: int, cols: int):
    """Raise ValueError unless ``(indptr, indices, data)`` is a CSR matrix the kernels can
    read without leaving any array (they do no bounds checks)."""
    if indptr.shape != (rows + 1,) or indices.shape != data.shape or indptr[0] != 0:
        raise ValueError("malformed CSR structure")
    if indptr[-1] != data.size or np.any(np.diff(indptr) < 0):
        raise ValueError("malformed CSR row pointers")
    if indices.size and (indices.min() < 0 or indices.max() >= cols):
        raise ValueError("CSR column index out of range")


# ----- diagonal preconditioning ----------------------------------------------------------


@njit_kernel(inline="always")
def _inverse_sqrt(v):
    """``_scaling._safe_inverse_sqrt`` for one entry: ``1 / sqrt(v)``, 1 where ``v <= 0``."""
    return 1.0 / np.sqrt(v) if v > 0.0 else 1.0


@njit_kernel
def ruiz_pock_chambolle(indptr, indices, data, passes, row, col, values):
    """``_scaling.diagonal_scaling`` of the CSR matrix ``K`` into ``row`` and ``col`` (ones
    on entry), to the bit: the entries of ``diag(row) |K| diag(col)`` are formed as scipy's
    products form them, ``(row_i |K_ij|) col_j``; maxima are exact; a row sum is scipy's
    ``np.add.reduceat`` (first entry plus the pairwise sum of the rest, stored nonzeros
    only, as the sparse product keeps them) and a column sum adds rows in order, as
    ``ones @ K`` does. ``values`` holds at least ``nnz`` entries."""
    m, n = row.size, col.size
    largest_row, largest_col = np.zeros(m), np.zeros(n)
    for _ in range(passes):
        largest_row[:] = 0.0
        largest_col[:] = 0.0
        for i in range(m):
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                v = row[i] * abs(data[p]) * col[j]
                if v > largest_row[i]:
                    largest_row[i] = v
                if v > largest_col[j]:
                    largest_col[j] = v
        for i in range(m):
            row[i] *= _inverse_sqrt(largest_row[i])
        for j in range(n):
            col[j] *= _inverse_sqrt(largest_col[j])
    sums_col = np.zeros(n)
    for i in range(m):
        count = 0
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            v = row[i] * abs(data[p]) * col[j]
            if v != 0.0:
                values[indptr[i] + count] = v
                count += 1
                sums_col[j] += v
        start = indptr[i]
        total = values[start] + _pairwise(values, start + 1, count - 1) if count else 0.0
        largest_row[i] = total
    for i in range(m):
        row[i] *= _inverse_sqrt(largest_row[i])
    for j in range(n):
        col[j] *= _inverse_sqrt(sums_col[j])
