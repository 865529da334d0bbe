"""The compiled screen of PDHG's periodic check (``FusedPDHG._screen``, ``backend="numpy"``).

:func:`check_screen` computes, in one kernel, what ``HalpernPDHG._check`` decides on at
``T(z)``: the returned point, the KKT figures of ``_kkt.kkt_error`` from the products the
iteration carries, and the figures of the six certificate candidates of
``_certificates.check_farkas`` and ``check_ray`` (three ``K'`` and three ``K`` products,
each triple in one pass). Elementwise values, products and maxima are ``_check``'s to the
bit; its sums run in another order than NumPy's, so :func:`_settle` only vouches for a
check where no decision is within the rounding of that order. Kept apart from
``_kernels`` (the iteration) to keep each module readable; a kernel and the jitted helpers
it calls share one module, for Numba's cache, hence this module's own ``_clip``.
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


# Rows of the packed vectors ``cols`` (length n) and ``rows`` (length m) that check_screen
# reads; FusedPDHG.init packs them from the DeviceLP once.
C_X_UNIT, C_LB, C_UB, C_C_N, C_LB0_N, C_UB0_N, C_COL, C_C, C_LB0, C_UB0, C_LBF, C_UBF = range(12)
R_Y_UNIT, R_L_N, R_U_N, R_L0_N, R_U0_N, R_ROW, R_L0, R_U0, R_LF, R_UF = range(10)


@njit_kernel(inline="always")
def _plus(v):
    """``np.maximum(v, 0.0)`` for one entry, NaN in NaN out."""
    return 0.0 if v <= 0.0 else v


@njit_kernel(inline="always")
def _larger(largest, v):
    """The running ``np.max``: a NaN, once met, stays."""
    return v if not v <= largest else largest


@njit_kernel
def check_screen(
    k_indptr, k_indices, k_data, kt_indptr, kt_indices, kt_data, cols, rows, units,
    xT, yT, KxT, KTyT, x_prev, y_prev, x0, y0, x_out, y_out, kkt, farkas, rays, tests,
):  # fmt: skip
    """The figures ``HalpernPDHG._check`` decides on at ``T(z)``, summed in one order.

    Writes the point ``_check`` would return (``x_out = clip(xT x_unit, lb, ub)``,
    ``y_out = yT y_unit``, exactly), the KKT figures of ``_kkt.kkt_error`` from the carried
    products (``kkt = [sum of squares of the primal residual, of the dual residual, primal
    objective, dual objective, sum of |terms| of each objective]``, in the test's units),
    and for each certificate candidate (rows of ``farkas`` and ``rays``: one step, since
    the anchor, the iterate) ``[valid, ray objective, magnitude, max violation]``.
    Elementwise values, products and maxima are ``_check``'s to the bit; the sums may
    differ from NumPy's by the rounding of a different order, which the caller
    (``_fused``) bounds from the magnitudes and trusts only away from every threshold.
    ``units = [X, Y, P, D, beta, gamma]``. Returns :func:`_settle`'s verdict, with
    ``tests`` its thresholds.
    """
    n, m = xT.size, yT.size
    X, Y, P, D, beta, gamma = units[0], units[1], units[2], units[3], units[4], units[5]
    sq_p = s1 = s2 = a12 = 0.0
    for i in range(m):
        y_out[i] = yT[i] * rows[R_Y_UNIT, i]
        Kx = KxT[i] / rows[R_ROW, i] * beta / P
        d = Kx - _clip(Kx, rows[R_L_N, i], rows[R_U_N, i])
        sq_p += d * d
        yy = y_out[i] / Y
        t1, t2 = rows[R_L0_N, i] * _plus(yy), rows[R_U0_N, i] * _plus(-yy)
        s1 += t1
        s2 += t2
        a12 += abs(t1) + abs(t2)
    sq_d = s3 = a3 = s4 = s5 = a45 = 0.0
    for j in range(n):
        x_out[j] = _clip(xT[j] * cols[C_X_UNIT, j], cols[C_LB, j], cols[C_UB, j])
        lam = cols[C_C_N, j] - KTyT[j] / cols[C_COL, j] * gamma / D
        lam_l = _plus(lam) if cols[C_LBF, j] != 0.0 else 0.0
        lam_u = _plus(-lam) if cols[C_UBF, j] != 0.0 else 0.0
        d = lam - lam_l + lam_u
        sq_d += d * d
        t3 = cols[C_C_N, j] * (x_out[j] / X)
        t4, t5 = cols[C_LB0_N, j] * lam_l, cols[C_UB0_N, j] * lam_u
        s3 += t3
        s4 += t4
        s5 += t5
        a3 += abs(t3)
        a45 += abs(t4) + abs(t5)
    kkt[0], kkt[1], kkt[2], kkt[3] = sq_p, sq_d, s3, (s1 - s2) + s4 - s5
    kkt[4], kkt[5] = a3, a12 + a45
    # Farkas candidates y = (yT - y_prev, yT - y0, yT) * row on the dual cone, / max|y|
    sizes = np.ones(3)
    for c in range(3):
        size = 0.0
        for i in range(m):
            size = _larger(size, abs(_farkas_entry(yT, y_prev, y0, rows, c, i)))
        # an invalid candidate (check_farkas returns None) is divided by 1, harmlessly
        farkas[c, 0] = 1.0 if (m > 0 and size > 0.0 and size < np.inf) else 0.0
        sizes[c] = size if farkas[c, 0] != 0.0 else 1.0
    for c in range(3):
        farkas[c, 1] = farkas[c, 2] = farkas[c, 3] = 0.0
        for i in range(m):
            v = _farkas_entry(yT, y_prev, y0, rows, c, i) / sizes[c]
            ta, tb = rows[R_L0, i] * _plus(v), -rows[R_U0, i] * _plus(-v)
            farkas[c, 1] += ta + tb
            farkas[c, 2] += abs(ta) + abs(tb)
    if m > 0:
        for j in range(n):  # lambda = -(K'y) by the unscaled K', all three at once
            l0 = l1 = l2 = 0.0
            for p in range(np.uint64(kt_indptr[j]), np.uint64(kt_indptr[j + 1])):
                i = np.uint64(kt_indices[p])  # validated: no wraparound code
                l0 += kt_data[p] * (_farkas_entry(yT, y_prev, y0, rows, 0, i) / sizes[0])
                l1 += kt_data[p] * (_farkas_entry(yT, y_prev, y0, rows, 1, i) / sizes[1])
                l2 += kt_data[p] * (_farkas_entry(yT, y_prev, y0, rows, 2, i) / sizes[2])
            for c in range(3):
                lam = -(l0 if c == 0 else l1 if c == 1 else l2)
                mu_l = _plus(lam) if cols[C_LBF, j] != 0.0 else 0.0
                mu_u = _plus(-lam) if cols[C_UBF, j] != 0.0 else 0.0
                farkas[c, 3] = _larger(farkas[c, 3], abs(lam - mu_l + mu_u))
                ta, tb = cols[C_LB0, j] * mu_l, -cols[C_UB0, j] * mu_u
                farkas[c, 1] += ta + tb
                farkas[c, 2] += abs(ta) + abs(tb)
    # ray candidates d = (xT - x_prev, xT - x0, xT) * col on the recession cone, / max|d|
    for c in range(3):
        size = 0.0
        for j in range(n):
            size = _larger(size, abs(_ray_entry(xT, x_prev, x0, cols, c, j)))
        rays[c, 0] = 1.0 if (size > 0.0 and size < np.inf) else 0.0
        sizes[c] = size if rays[c, 0] != 0.0 else 1.0
    for c in range(3):
        total = size = 0.0
        for j in range(n):
            t = cols[C_C, j] * (_ray_entry(xT, x_prev, x0, cols, c, j) / sizes[c])
            total += t
            size += abs(t)
        rays[c, 1], rays[c, 2], rays[c, 3] = -total, size, 0.0
    for i in range(m):  # K d by the unscaled K, all three at once
        k0 = k1 = k2 = 0.0
        for p in range(np.uint64(k_indptr[i]), np.uint64(k_indptr[i + 1])):
            j = np.uint64(k_indices[p])
            k0 += k_data[p] * (_ray_entry(xT, x_prev, x0, cols, 0, j) / sizes[0])
            k1 += k_data[p] * (_ray_entry(xT, x_prev, x0, cols, 1, j) / sizes[1])
            k2 += k_data[p] * (_ray_entry(xT, x_prev, x0, cols, 2, j) / sizes[2])
        for c in range(3):
            Kd = k0 if c == 0 else k1 if c == 1 else k2
            below = _plus(-Kd) if rows[R_LF, i] != 0.0 else 0.0
            above = _plus(Kd) if rows[R_UF, i] != 0.0 else 0.0
            larger = below if below >= above else above
            if below != below or above != above:  # np.maximum keeps a NaN
                larger = np.nan
            rays[c, 3] = _larger(rays[c, 3], larger)
    return _settle(n, m, kkt, farkas, rays, tests)


@njit_kernel
def _settle(n, m, kkt, farkas, rays, tests):
    """Whether ``_check`` would decide nothing at these figures whatever order NumPy sums
    in: no KKT error near ``rtol``/``atol`` (so no second measurement), no certificate
    near verification, no Farkas candidate near the polishing gate.

    Each sum of ``k`` terms added in two orders differs by at most ``2 (k-1) u`` times
    the sum of their magnitudes (``u`` the unit roundoff; the classical bound for
    recursive summation, which NumPy's pairwise sum also obeys): ``guard`` covers that
    with room to spare, every comparison is made against the worst case, and a
    non-finite figure or a norm where ``scaled_norm`` would rescale settles nothing.
    ``tests = [rtol, atol, eps_infeasible, 1 + ||b||, 1 + ||c||, X_max, Y_max,
    polish gate, cancellation, P, D, X, norm range low, norm range high]``.
    """
    rtol, atol, eps_inf, b1, c1 = tests[0], tests[1], tests[2], tests[3], tests[4]
    x_max, y_max, gate, cancellation = tests[5], tests[6], tests[7], tests[8]
    P, D, X, low, high = tests[9], tests[10], tests[11], tests[12], tests[13]
    guard = 4.0 * (n + m + 8) * 2.220446049250313e-16
    shrink = 1.0 - 1e-12
    for v in kkt:
        if not np.isfinite(v):
            return False
    for table in (farkas, rays):
        for c in range(3):
            if table[c, 0] != 0.0:
                for k in range(1, 4):
                    if not np.isfinite(table[c, k]):
                        return False
    primal, dual = np.sqrt(kkt[0]), np.sqrt(kkt[1])
    for norm in (primal, dual):
        if norm != 0.0 and not (low < norm < high):
            return False
    err = guard * (kkt[4] + kkt[5])
    gap_low = max(0.0, abs(kkt[2] - kkt[3]) - err)
    rel_low = shrink * max(
        primal * (1 - guard) / b1,
        max(dual * (1 - guard) / c1, gap_low / (1.0 + abs(kkt[2]) + abs(kkt[3]) + err)),
    )
    abs_low = shrink * max(primal * (1 - guard) * P, max(dual * (1 - guard) * D, gap_low * D * X))
    if rel_low <= rtol or abs_low <= atol:
        return False
    for kind in range(2):
        table = farkas if kind == 0 else rays
        size = x_max if kind == 0 else y_max
        for c in range(3):
            if table[c, 0] == 0.0:
                continue
            objective, magnitude, violation = table[c, 1], table[c, 2], table[c, 3] * shrink
            high = objective + guard * magnitude
            unverified = high <= cancellation * magnitude * (1 - guard) * shrink or (
                violation > eps_inf * high * min(1.0, 1.0 / size)
            )
            dull = kind == 1 or high <= 0.0 or violation > gate * high
            if not (unverified and dull):
                return False
    return True


@njit_kernel(inline="always")
def _farkas_entry(yT, y_prev, y0, rows, c, i):
    """Entry ``i`` of Farkas candidate ``c``, unscaled and projected on the dual cone."""
    t = yT[i] - y_prev[i] if c == 0 else yT[i] - y0[i] if c == 1 else yT[i]
    v = t * rows[R_ROW, i]
    if rows[R_LF, i] == 0.0 and v > 0.0:  # np.minimum(v, 0.0): NaN stays
        v = 0.0
    if rows[R_UF, i] == 0.0 and v < 0.0:
        v = 0.0
    return v


@njit_kernel(inline="always")
def _ray_entry(xT, x_prev, x0, cols, c, j):
    """Entry ``j`` of ray candidate ``c``, unscaled and projected on the recession cone."""
    t = xT[j] - x_prev[j] if c == 0 else xT[j] - x0[j] if c == 1 else xT[j]
    v = t * cols[C_COL, j]
    if cols[C_LBF, j] != 0.0 and v < 0.0:
        v = 0.0
    if cols[C_UBF, j] != 0.0 and v > 0.0:
        v = 0.0
    return v
