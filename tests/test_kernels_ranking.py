"""The Newton kernels of Bradley–Terry (``_ranking/_newton_kernels``) against NumPy oracles.

Small sizes: this file runs again under ``NUMBA_DISABLE_JIT=1`` (Makefile). Oracles: the
Davidson/home log-likelihood written directly in the strengths, its gradient and Hessian
by central differences (tolerances from the difference step: 1e-6 relative), dense linear
algebra for the tree and band solves (1e-10).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from itersolve._ranking import _newton_kernels as K

N = 7


def _groups(seed, davidson, home, m=25):
    rng = np.random.default_rng(seed)
    first = rng.integers(0, N, m)
    second = (first + rng.integers(1, N, m)) % N
    a, b = rng.integers(0, 4, m).astype(float), rng.integers(0, 4, m).astype(float)
    t = rng.integers(0, 3, m).astype(float) if davidson else np.zeros(m)
    a[a + b + t == 0] = 1.0
    flags = rng.random(m) < 0.5 if home else np.zeros(m, bool)
    return first, second, flags, a, b, t


def _loglik(groups, x, prior, davidson):
    """The log-likelihood in the strengths (Davidson's D, theta on the home side)."""
    first, second, home, a, b, t = groups
    s, theta, nu = x[:N], math.exp(x[N]), math.exp(x[N + 1]) if davidson else 0.0
    lam_f = np.exp(s[first]) * np.where(home, theta, 1.0)
    lam_s = np.exp(s[second])
    r = np.sqrt(lam_f * lam_s)
    d = lam_f + lam_s + 2 * nu * r
    total = np.sum(a * np.log(lam_f / d) + b * np.log(lam_s / d))
    if davidson:
        total += np.sum(t * np.log(2 * nu * r / d))
    sig = 1 / (1 + np.exp(-s))
    return total + prior * np.sum(np.log(sig) + np.log(1 - sig))


def _terms(groups, x, prior, davidson):
    gradient = np.empty(N + 2)
    curvature = [np.empty(groups[0].size) for _ in range(3)]
    value = K.group_terms(*groups, x, prior, davidson, gradient, *curvature)
    return value, gradient, curvature


def _dense(groups, curvature, diagonal):
    matrix = np.zeros((N + 2, N + 2))
    K.dense_information(groups[0], groups[1], groups[2], *curvature, diagonal, matrix)
    return matrix


@pytest.mark.parametrize("davidson", [False, True])
@pytest.mark.parametrize("home", [False, True])
@pytest.mark.parametrize("prior", [0.0, 0.7])
def test_value_gradient_and_information_match_finite_differences(davidson, home, prior):
    groups = _groups(1 + 2 * davidson + home, davidson, home)
    rng = np.random.default_rng(5)
    x = rng.normal(0.0, 1.0, N + 2)
    if not home:
        x[N] = 0.0
    if not davidson:
        x[N + 1] = 0.0
    value, gradient, curvature = _terms(groups, x, prior, davidson)
    assert value == pytest.approx(_loglik(groups, x, prior, davidson), rel=1e-12)
    h = 1e-5
    numeric = np.zeros(N + 2)
    hessian = np.zeros((N + 2, N + 2))
    for k in range(N + 2):
        e = np.zeros(N + 2)
        e[k] = h
        numeric[k] = (
            _loglik(groups, x + e, prior, davidson) - _loglik(groups, x - e, prior, davidson)
        ) / (2 * h)
        hessian[:, k] = -(
            _terms(groups, x + e, prior, davidson)[1] - _terms(groups, x - e, prior, davidson)[1]
        ) / (2 * h)
    if not davidson:  # u is not a variable there: the kernels leave its row empty
        numeric[N + 1] = 0.0
        hessian[N + 1, :] = hessian[:, N + 1] = 0.0
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-6)
    diagonal = np.zeros(N + 2)
    K.prior_diagonal(x, prior, diagonal[:N])
    matrix = _dense(groups, curvature, diagonal)
    np.testing.assert_allclose(matrix, hessian, rtol=1e-6, atol=1e-6)
    v = rng.normal(size=N + 2)
    product = np.empty(N + 2)
    K.information_product(groups[0], groups[1], groups[2], *curvature, diagonal, v, product)
    np.testing.assert_allclose(product, matrix @ v, rtol=1e-12, atol=1e-12)


def test_group_terms_never_overflow_far_apart_scores():
    groups = _groups(9, True, True)
    x = np.zeros(N + 2)
    x[:N] = np.linspace(-2000.0, 2000.0, N)
    value, gradient, curvature = _terms(groups, x, 1.0, True)
    assert math.isfinite(value) and np.all(np.isfinite(gradient))
    assert all(np.all(np.isfinite(c)) for c in curvature)


def test_banded_assembly_is_the_dense_matrix_reordered():
    groups = _groups(3, True, True)
    x = np.random.default_rng(2).normal(size=N + 2)
    _, _, curvature = _terms(groups, x, 0.3, True)
    diagonal = np.r_[np.linspace(0.1, 0.7, N), 0.0, 0.0]
    dense = _dense(groups, curvature, diagonal)
    position = np.random.default_rng(4).permutation(N)
    band = np.zeros((N, N))  # full bandwidth: every entry has a place
    border = np.zeros((N, 2))
    c_tt, c_tu, c_uu = K.banded_information(
        groups[0], groups[1], groups[2], *curvature, diagonal, position, band, border
    )
    rebuilt = np.zeros((N, N))
    for d in range(N):
        for j in range(N - d):
            rebuilt[j + d, j] = rebuilt[j, j + d] = band[d, j]
    order = np.argsort(position)
    np.testing.assert_allclose(rebuilt, dense[:N, :N][np.ix_(order, order)], atol=1e-14)
    np.testing.assert_allclose(border, dense[:N, N:][order], atol=1e-14)
    np.testing.assert_allclose(
        [c_tt, c_tu, c_uu], [dense[N, N], dense[N, N + 1], dense[N + 1, N + 1]]
    )


def _tree_system(grounded):
    """A forest on 9 nodes (two trees; node order parents first) and its matrix."""
    parent = np.array([-1, 0, 0, 1, 1, 2, -1, 6, 7])
    order = np.arange(9)
    edge_pair = np.arange(9)
    weight = np.linspace(0.5, 2.0, 9)
    diagonal = np.zeros(9) if grounded else np.linspace(0.1, 0.3, 9)
    matrix = np.diag(diagonal)
    for i in range(9):
        if parent[i] >= 0:
            w, p = weight[edge_pair[i]], parent[i]
            matrix[i, i] += w
            matrix[p, p] += w
            matrix[i, p] -= w
            matrix[p, i] -= w
    return order, parent, edge_pair, weight, diagonal, matrix


@pytest.mark.parametrize("grounded", [False, True])
def test_tree_solve_is_exact(grounded):
    order, parent, edge_pair, weight, diagonal, matrix = _tree_system(grounded)
    pivot = np.empty(9)
    K.tree_factor(order, parent, edge_pair, weight, diagonal, pivot)
    rhs = np.random.default_rng(0).normal(size=9)
    if grounded:  # consistent: zero sum on each tree
        rhs[:6] -= rhs[:6].mean()
        rhs[6:] -= rhs[6:].mean()
    out = np.empty(9)
    K.tree_solve(order, parent, edge_pair, weight, pivot, grounded, rhs.copy(), out)
    np.testing.assert_allclose(matrix @ out, rhs, atol=1e-10)
    if grounded:
        assert out[0] == 0.0 and out[6] == 0.0


def test_tree_weights_sum_groups_of_a_pair():
    pair_of_group = np.array([0, 1, 0, 2, 1])
    var_z = np.array([4.0, 8.0, 12.0, 16.0, 20.0])
    out = np.full(3, np.nan)
    K.tree_weights(pair_of_group, var_z, out)
    np.testing.assert_allclose(out, [4.0, 7.0, 4.0])


@pytest.mark.parametrize("tree", [False, True])
@pytest.mark.parametrize("prior", [0.0, 0.5])
def test_pcg_solves_the_bordered_newton_system(tree, prior):
    """CG with the tree or Jacobi preconditioner against a dense solve (ML: the solution
    with mean-zero scores; the system is singular along the constant)."""
    star = (np.zeros(N - 1, np.int64), np.arange(1, N), np.zeros(N - 1, bool))
    star += (np.ones(N - 1), np.ones(N - 1), np.ones(N - 1))  # 0 meets everyone
    groups = tuple(np.r_[a, b] for a, b in zip(_groups(8, True, True, m=40), star, strict=True))
    x = np.random.default_rng(1).normal(size=N + 2)
    _, gradient, curvature = _terms(groups, x, prior, True)
    diagonal = np.zeros(N + 2)
    K.prior_diagonal(x, prior, diagonal[:N])
    matrix = _dense(groups, curvature, diagonal)
    grounded = prior == 0.0
    if grounded:
        gradient[:N] -= gradient[:N].mean()
    # a spanning tree of the complete graph on the players: the star around player 0
    first, second = groups[0], groups[1]
    low, high = np.minimum(first, second), np.maximum(first, second)
    keys, pair_of_group = np.unique(low * N + high, return_inverse=True)
    pair_weight = np.empty(keys.size)
    K.tree_weights(pair_of_group, curvature[0], pair_weight)
    order = np.arange(N)
    parent = np.r_[-1, np.zeros(N - 1, dtype=np.int64)]
    edge_pair = np.r_[-1, np.searchsorted(keys, np.arange(1, N))]
    assert np.all(keys[edge_pair[1:]] == np.arange(1, N))  # every star edge was played
    pivot = np.empty(N)
    K.tree_factor(order, parent, edge_pair, pair_weight, diagonal, pivot)
    degree = np.diag(matrix)[:N].copy()
    nuisance = np.array([matrix[N, N], matrix[N + 1, N + 1]])
    out = np.empty(N + 2)
    iterations = K.pcg(
        groups[0], groups[1], groups[2], *curvature, diagonal, gradient, tree, order, parent,
        edge_pair, pair_weight, pivot, 1.0 / degree, nuisance, grounded, 1e-13, 100, out,
    )  # fmt: skip
    assert 0 < iterations <= 3 * (N + 2)
    np.testing.assert_allclose(matrix @ out, gradient, atol=1e-10)
    if grounded:
        assert abs(out[:N].mean()) < 1e-12
