"""Numba kernels for Newton's method on the Bradley–Terry log-likelihood (:mod:`._newton`).

The unknowns are ``x = (s_0 .. s_{n-1}, tau, u)``: the scores, ``tau = log theta`` (home
advantage) and ``u = log nu`` (Davidson's tie parameter). A game group ``g`` (first player
``f``, second ``s``, home flag ``h``; ``a`` wins of ``f``, ``b`` of ``s``, ``t`` ties) sees
``z = (s_f - s_s + h tau) / 2`` and, dividing ``lam_f``, ``lam_s`` and ``2 nu sqrt(lam_f
lam_s)`` by ``sqrt(lam_f lam_s)``, the three outcome probabilities

    P_f = e^z / Z,   P_s = e^-z / Z,   P_t = e^(log 2 + u) / Z,   Z = e^z + e^-z + 2 e^u

(``nu = 0``: plain Bradley–Terry, ``P_f = sigma(2 z)``). The log-likelihood
``a z - b z + t (log 2 + u) - N log Z`` (``N = a + b + t``) is concave in ``(z, u)``,
hence in ``x``: a multinomial logit, whose negative Hessian is ``N`` times the covariance
of the features ``(1, -1, 0)`` (in ``z``) and ``(0, 0, 1)`` (in ``u``) under ``P``:

    var_z = P_f + P_s - (P_f - P_s)^2,   cov = -(P_f - P_s) P_t,   var_u = P_t (1 - P_t).

With ``dz/dx = (e_f - e_s + h e_tau) / 2`` the information matrix restricted to the scores
is the graph Laplacian with edge weights ``N var_z / 4`` (``N p (1 - p)`` without ties),
bordered by the two nuisance rows. The prior's ``prior`` won and ``prior`` lost games
against a player of score 0 add ``prior (log sigma(s_i) + log sigma(-s_i))``: a diagonal
``2 prior sigma (1 - sigma)``.

Everything is evaluated from score differences through log-sum-exp, so no strength
``e^s`` is ever formed and nothing overflows, however far apart the scores are.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import njit_kernel

LOG2 = math.log(2.0)


@njit_kernel
def _log_sigmoid(x):
    if x >= 0.0:
        return -math.log1p(math.exp(-x))
    return x - math.log1p(math.exp(x))


@njit_kernel
def group_terms(first, second, home, a, b, t, x, prior, davidson, gradient, var_z, cov, var_u):
    """Log-likelihood, gradient and per-group curvature at ``x`` (length ``n + 2``).

    Writes the ascent gradient into ``gradient`` (length ``n + 2``) and, per group,
    ``N var_z``, ``N cov``, ``N var_u`` into ``var_z``, ``cov``, ``var_u``. Returns the
    log-likelihood (log-posterior with the prior). Without ``davidson`` ties must be
    zero (folded in as halves, or absent) and the ``u`` entries stay zero.
    """
    n = x.size - 2
    tau = x[n]
    log_tie = LOG2 + x[n + 1] if davidson else -math.inf
    for i in range(x.size):
        gradient[i] = 0.0
    total = 0.0
    for g in range(first.size):
        f = first[g]
        s = second[g]
        z = 0.5 * (x[f] - x[s] + (tau if home[g] else 0.0))
        top = max(abs(z), log_tie)
        e_f = math.exp(z - top)
        e_s = math.exp(-z - top)
        e_t = math.exp(log_tie - top) if davidson else 0.0
        norm = e_f + e_s + e_t
        p_f = e_f / norm
        p_s = e_s / norm
        p_t = e_t / norm
        games = a[g] + b[g] + t[g]
        total += (a[g] - b[g]) * z - games * (top + math.log(norm))
        if davidson and t[g] > 0.0:
            total += t[g] * log_tie
        margin = p_f - p_s
        half = 0.5 * (a[g] - b[g] - games * margin)
        gradient[f] += half
        gradient[s] -= half
        if home[g]:
            gradient[n] += half
        var_z[g] = games * (p_f + p_s - margin * margin)
        if davidson:
            gradient[n + 1] += t[g] - games * p_t
            cov[g] = -games * margin * p_t
            var_u[g] = games * p_t * (1.0 - p_t)
        else:
            cov[g] = 0.0
            var_u[g] = 0.0
    if prior > 0.0:
        for i in range(n):
            # prior (log sigma(s) + log sigma(-s)); its derivative prior (1 - 2 sigma(s))
            total += prior * (_log_sigmoid(x[i]) + _log_sigmoid(-x[i]))
            gradient[i] += -prior * math.tanh(0.5 * x[i])
    return total


@njit_kernel
def prior_diagonal(x, prior, out):
    """``out[i] = 2 prior sigma(s_i) (1 - sigma(s_i))`` for the scores (the first ``n``)."""
    for i in range(out.size):
        c = math.tanh(0.5 * x[i])
        out[i] = 0.5 * prior * (1.0 - c * c)


@njit_kernel
def information_product(first, second, home, var_z, cov, var_u, diagonal, v, out):
    """``out = F v``: the negative Hessian (information) times ``v``, plus ``diagonal * v``.

    ``diagonal`` (length ``n + 2``) holds the prior's curvature on the scores and 1 on a
    nuisance parameter that is not fitted (its row is then the identity).
    """
    n = v.size - 2
    for i in range(v.size):
        out[i] = diagonal[i] * v[i]
    v_tau = v[n]
    v_u = v[n + 1]
    tie_z = 0.0
    for g in range(first.size):
        f = first[g]
        s = second[g]
        dz = 0.5 * (v[f] - v[s] + (v_tau if home[g] else 0.0))
        along_z = 0.5 * (var_z[g] * dz + cov[g] * v_u)  # (N C (dz, du))_z / 2
        out[f] += along_z
        out[s] -= along_z
        if home[g]:
            out[n] += along_z
        tie_z += cov[g] * dz + var_u[g] * v_u
    out[n + 1] += tie_z


@njit_kernel
def tree_weights(pair_of_group, var_z, pair_weight):
    """Per unordered pair of players, the Laplacian weight ``sum N var_z / 4``."""
    for p in range(pair_weight.size):
        pair_weight[p] = 0.0
    for g in range(pair_of_group.size):
        pair_weight[pair_of_group[g]] += 0.25 * var_z[g]


@njit_kernel
def tree_factor(order, parent, edge_pair, pair_weight, diagonal, pivot):
    """Pivots of ``T + diag`` (``T`` the spanning forest's Laplacian), leaves first.

    ``order`` lists the nodes so that every parent comes before its children (roots, with
    ``parent < 0``, first in their tree), ``edge_pair[i]`` is the pair index of the edge
    from ``i`` to its parent. Exact, O(n): a tree has no fill. A root's pivot is 0 (to
    rounding) when ``diag`` is, as in maximum likelihood, which grounds the root instead.
    """
    for k in range(order.size):
        pivot[k] = diagonal[k]
    for k in range(order.size):
        i = order[k]
        if parent[i] >= 0:
            w = pair_weight[edge_pair[i]]
            pivot[i] += w
            pivot[parent[i]] += w
    for k in range(order.size - 1, -1, -1):
        i = order[k]
        if parent[i] >= 0:
            w = pair_weight[edge_pair[i]]
            pivot[parent[i]] -= w * w / pivot[i]


@njit_kernel
def tree_solve(order, parent, edge_pair, pair_weight, pivot, grounded, r, out):
    """``out = (T + diag)^-1 r`` from :func:`tree_factor`'s pivots; ``grounded``: every
    root's value is 0 (ML: a solution of the singular system, up to a constant).
    ``r`` is overwritten."""
    for k in range(order.size - 1, -1, -1):
        i = order[k]
        if parent[i] >= 0:
            r[parent[i]] += pair_weight[edge_pair[i]] * r[i] / pivot[i]
    for k in range(order.size):
        i = order[k]
        if parent[i] < 0:
            out[i] = 0.0 if grounded else r[i] / pivot[i]
        else:
            out[i] = (r[i] + pair_weight[edge_pair[i]] * out[parent[i]]) / pivot[i]


@njit_kernel
def dense_information(first, second, home, var_z, cov, var_u, diagonal, matrix):
    """The information matrix ``F`` (plus ``diag(diagonal)``) assembled densely in place.

    ``matrix`` is ``(n + 2, n + 2)`` and zero on entry; each group adds
    ``N J C J^T`` with ``J = ((e_f - e_s + h e_tau) / 2, e_u)``.
    """
    m = matrix.shape[0]
    n = m - 2
    for i in range(m):
        matrix[i, i] = diagonal[i]
    for g in range(first.size):
        f = first[g]
        s = second[g]
        w = 0.25 * var_z[g]
        c = 0.5 * cov[g]
        matrix[f, f] += w
        matrix[s, s] += w
        matrix[f, s] -= w
        matrix[s, f] -= w
        matrix[f, n + 1] += c
        matrix[n + 1, f] += c
        matrix[s, n + 1] -= c
        matrix[n + 1, s] -= c
        if home[g]:
            matrix[f, n] += w
            matrix[n, f] += w
            matrix[s, n] -= w
            matrix[n, s] -= w
            matrix[n, n] += w
            matrix[n, n + 1] += c
            matrix[n + 1, n] += c
        matrix[n + 1, n + 1] += var_u[g]


@njit_kernel
def banded_information(first, second, home, var_z, cov, var_u, diagonal, position, band, border):
    """``F`` in banded form after the ordering ``position`` (a player's row), for LAPACK.

    ``band[d, j]`` holds the score block's entry ``(j + d, j)`` (lower form, ``d`` up to
    the bandwidth); ``border`` is ``(n, 2)``: the columns of ``log theta`` and ``log nu``.
    The corner (their own 2 x 2 block) is returned as ``(c_tt, c_tu, c_uu)`` without the
    ``diagonal`` entries. Both zero on entry.
    """
    n = band.shape[1]
    for i in range(n):
        band[0, position[i]] += diagonal[i]
    c_tt = 0.0
    c_tu = 0.0
    c_uu = 0.0
    for g in range(first.size):
        f = position[first[g]]
        s = position[second[g]]
        w = 0.25 * var_z[g]
        c = 0.5 * cov[g]
        band[0, f] += w
        band[0, s] += w
        if f > s:
            band[f - s, s] -= w
        else:
            band[s - f, f] -= w
        border[f, 1] += c
        border[s, 1] -= c
        if home[g]:
            border[f, 0] += w
            border[s, 0] -= w
            c_tt += w
            c_tu += c
        c_uu += var_u[g]
    return c_tt, c_tu, c_uu


@njit_kernel
def _precondition(r, tree, order, parent, edge_pair, pair_weight, pivot, inverse, nuisance,
                  grounded, scratch, out):  # fmt: skip
    """``out = M^-1 r``: the tree solve (or Jacobi's ``inverse``) on the scores, the
    nuisance rows by their diagonal; ML projects out the constant (the null space)."""
    n = r.size - 2
    if tree:
        for i in range(n):
            scratch[i] = r[i]
        tree_solve(order, parent, edge_pair, pair_weight, pivot, grounded, scratch, out)
    else:
        for i in range(n):
            out[i] = r[i] * inverse[i]
    out[n] = r[n] / nuisance[0]
    out[n + 1] = r[n + 1] / nuisance[1]
    if grounded:
        mean = 0.0
        for i in range(n):
            mean += out[i]
        mean /= n
        for i in range(n):
            out[i] -= mean


@njit_kernel
def pcg(first, second, home, var_z, cov, var_u, diagonal, g, tree, order, parent, edge_pair,
        pair_weight, pivot, inverse, nuisance, grounded, target, maxiter, x):  # fmt: skip
    """Preconditioned CG on ``F x = g`` from ``x = 0``, until ``||r||_2 <= target``.

    One compiled loop: the product (:func:`information_product`), the preconditioner
    (:func:`tree_solve` or Jacobi) and the vector updates, no temporaries per iteration.
    Returns the iterations taken. ``g`` must sum to zero over the scores for ML.
    """
    size = g.size
    r = g.copy()
    z = np.empty(size)
    p = np.empty(size)
    product = np.empty(size)
    scratch = np.empty(size - 2)
    for i in range(size):
        x[i] = 0.0
    _precondition(r, tree, order, parent, edge_pair, pair_weight, pivot, inverse, nuisance,
                  grounded, scratch, z)  # fmt: skip
    rz = 0.0
    norm = 0.0
    for i in range(size):
        p[i] = z[i]
        rz += r[i] * z[i]
        norm += r[i] * r[i]
    iterations = 0
    while math.sqrt(norm) > target and iterations < maxiter and rz > 0.0:
        information_product(first, second, home, var_z, cov, var_u, diagonal, p, product)
        curvature = 0.0
        for i in range(size):
            curvature += p[i] * product[i]
        if not curvature > 0.0:
            break
        step = rz / curvature
        for i in range(size):
            x[i] += step * p[i]
            r[i] -= step * product[i]
        _precondition(r, tree, order, parent, edge_pair, pair_weight, pivot, inverse,
                      nuisance, grounded, scratch, z)  # fmt: skip
        previous = rz
        rz = 0.0
        norm = 0.0
        for i in range(size):
            rz += r[i] * z[i]
            norm += r[i] * r[i]
        beta = rz / previous
        for i in range(size):
            p[i] = z[i] + beta * p[i]
        iterations += 1
    if iterations == 0:  # at worst a preconditioned gradient step: still an ascent
        _precondition(g, tree, order, parent, edge_pair, pair_weight, pivot, inverse, nuisance,
                      grounded, scratch, x)  # fmt: skip
    return iterations
