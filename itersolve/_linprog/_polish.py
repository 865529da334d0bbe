"""Polishing a Farkas candidate by a minimum-norm correction on its identified support.

Why: on primal-infeasible LPs the PDHG candidates (differences of iterates, the iterate
itself) converge to the Farkas direction only as fast as the primal iterate converges to
the least-infeasible point, which can take 1e5+ iterations to reach the violation ratio
1e-8 that ``check_farkas`` asks for — while the *pattern* of the certificate (which rows
carry it, which columns must see ``K'y = 0`` or a definite sign) is right thousands of
iterations earlier. Given that pattern, the exact certificate is one linear solve away:

    min ||dy||_2  s.t.  (K~'(y + dy))_j = 0  for j in V,   dy_i = 0  for i outside S,

with ``S`` the rows allowed to move (equality rows and the support of ``y``) and ``V`` the
columns whose bounds cannot absorb ``lambda = -K'y`` (free columns, and one-sided columns
where ``lambda`` has the wrong sign). It is solved matrix-free by CG on the normal
equations of the second kind (``dy = A'w``, ``A A' w = b``; Craig's method), in the scaled
space: ``y = D_r y~`` and ``K'y = D_c^{-1} K~'y~``, so the column conditions and the signs
are the same and ``K~`` is the better-conditioned matrix. A few active-set rounds add the
columns whose sign the correction flipped and drop the rows it pushed out of the dual cone.

The result is only a *candidate*: the caller declares nothing unless ``check_farkas``
verifies it on the unscaled data, so a wrong pattern costs products, never correctness.
"""

from __future__ import annotations

import math

__all__ = ["polish_farkas"]

ROUNDS = 3  # active-set rounds
CG_STEPS = 150  # CG iterations per round (two products each); it usually stops earlier
CG_RTOL = 1e-12  # relative residual at which CG stops


def _dual_cone(lp, y):
    xp = lp.xp
    y = xp.where(lp.l_c_finite, y, xp.minimum(y, 0.0))
    return xp.where(lp.u_c_finite, y, xp.maximum(y, 0.0))


def polish_farkas(lp, y):
    """Return a corrected scaled Farkas candidate ``y~`` (the caller verifies it)."""
    xp = lp.xp
    zero_n = xp.zeros(lp.n, dtype=xp.float64)
    zero_m = xp.zeros(lp.m, dtype=xp.float64)
    free = ~lp.lb_finite & ~lp.ub_finite
    lower_only = lp.lb_finite & ~lp.ub_finite
    upper_only = lp.ub_finite & ~lp.lb_finite
    equality = lp.l_c_finite & lp.u_c_finite
    y = _dual_cone(lp, y)
    cols = free  # grows: a column once corrected stays pinned at K~'y = 0
    for _ in range(ROUNDS):
        size = float(xp.max(xp.abs(y)))
        if not 0.0 < size < math.inf:
            return y
        y = y / size
        rows = equality | (xp.abs(y) > 1e-9)
        lam = -(lp.KsT @ y)
        lp.nfev += 1
        cols = cols | (lower_only & (lam < 0.0)) | (upper_only & (lam > 0.0))
        b = xp.where(cols, lam, zero_n)  # we need K~'dy = -K~'y = lam on cols
        y = _dual_cone(lp, y + _min_norm_solve(lp, rows, cols, b, zero_n, zero_m))
    return y


def _min_norm_solve(lp, rows, cols, b, zero_n, zero_m):
    """``A'w`` with ``A A' w = b`` by CG, ``A = P_cols K~' P_rows`` (Craig's method)."""
    xp = lp.xp

    def A_T(w):  # column space -> row space
        return xp.where(rows, lp.Ks @ xp.where(cols, w, zero_n), zero_m)

    def A(u):  # row space -> column space
        return xp.where(cols, lp.KsT @ u, zero_n)

    w, r = zero_n, b
    p = r
    rr = float(xp.sum(r * r))
    target = CG_RTOL**2 * rr
    for _ in range(CG_STEPS):
        if rr <= target or rr == 0.0:
            break
        ATp = A_T(p)
        q = A(ATp)
        lp.nfev += 2
        pq = float(xp.sum(p * q))
        if not pq > 0.0:
            break
        alpha = rr / pq
        w = w + alpha * p
        r = r - alpha * q
        rr_new = float(xp.sum(r * r))
        p = r + (rr_new / rr) * p
        rr = rr_new
    lp.nfev += 1
    return A_T(w)
