"""Linearised rates of the Bradley–Terry iterations (itersolve.theory.bradley_terry).

The maps are re-implemented here in plain NumPy, straight from bradley_terry.md §3–4, so
the Jacobians and the predicted rates are checked against independent code.
"""

from __future__ import annotations

import functools
import types

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.csgraph
import sympy as sp
from itersolve.theory import bradley_terry as _theory

from itersolve.testing.problems import pairwise_problem

# These tests model the plain Jacobi and Gauss-Seidel maps with their own numpy sweeps, so
# they read the theory without the fitter's damping of sync Newman (tested in
# tests/test_bradley_terry.py against the fitter itself).
theory = types.SimpleNamespace(
    **{name: getattr(_theory, name) for name in dir(_theory) if not name.startswith("__")}
)
for _name in ("jacobian", "iteration_matrix", "linear_rate"):
    setattr(theory, _name, functools.partial(getattr(_theory, _name), damped=False))

# --------------------------------------------------------------------------------------------
# Reference implementation


def random_counts(seed, n=20, m=300, sigma=1.0):
    """``m`` games between random pairs; outcomes from BT with N(0, sigma) true scores."""
    rng = np.random.default_rng(seed)
    s = rng.normal(0.0, sigma, n)
    i = rng.integers(0, n, m)
    j = (i + rng.integers(1, n, m)) % n
    i_won = rng.random(m) < 1 / (1 + np.exp(s[j] - s[i]))
    w = np.zeros((n, n))
    np.add.at(w, (np.where(i_won, i, j), np.where(i_won, j, i)), 1.0)
    return w


def ladder_counts(seed, n=20, reach=3, games=6, sigma=1.0):
    """Player i plays i+1..i+reach, ``games`` times each: a long-diameter comparison graph."""
    rng = np.random.default_rng(seed)
    s = rng.normal(0.0, sigma, n)
    w = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, min(n, i + reach + 1)):
            k = rng.binomial(games, 1 / (1 + np.exp(s[j] - s[i])))
            w[i, j], w[j, i] = k, games - k
    return w


def strongly_connected(w):
    graph = scipy.sparse.csr_array(w > 0)
    return scipy.sparse.csgraph.connected_components(graph, connection="strong")[0] == 1


def connected_counts(seed, **kw):
    """The first strongly connected sample from ``seed`` on."""
    while not strongly_connected(w := random_counts(seed, **kw)):
        seed += 1000
    return w


def update_row(w, s, i, method, A):
    """New ``s_i`` from the current ``s`` (one player's update, bradley_terry.md §3–4)."""
    p = np.exp(s)
    if method == "zermelo":
        denominator = np.sum((w[i] + w[:, i]) / (p[i] + p)) + 2 * A / (p[i] + 1)
        return np.log(w[i].sum() + A) - np.log(denominator)
    numerator = np.sum(w[i] * p / (p[i] + p)) + A / (p[i] + 1)
    denominator = np.sum(w[:, i] / (p[i] + p)) + A / (p[i] + 1)
    return np.log(numerator) - np.log(denominator)


def raw_sweep(w, s, method, update, A):
    """One sweep, before normalisation: Jacobi (``sync``) or in-place Gauss–Seidel (``async``)."""
    new = s.copy()
    for i in range(len(s)):
        new[i] = update_row(w, new if update == "async" else s, i, method, A)
    return new


def scale_correction(s):
    """Bradley–Terry §4: Newton on n = 2 sum sigma(s + u); returns s + u."""
    u = 0.0
    for _ in range(50):
        q = 1 / (1 + np.exp(-(s + u)))
        du = (len(s) - 2 * q.sum()) / (2 * np.sum(q * (1 - q)))
        u += du
        if abs(du) < 1e-14:
            break
    return s + u


def sweep(w, s, method, update, A, scale_fix):
    s = raw_sweep(w, s, method, update, A)
    if A == 0:
        return s - s.mean()
    return scale_correction(s) if scale_fix else s


def observed_rate(w, star, method, update, A=0.0, scale_fix=True, seed=0, maxiter=4000):
    """Mean error ratio ``||s_k - s*||`` over the tail of a run started 1e-3 from ``s*``.

    The tail is the second half of the errors between 1e-4 (linear regime) and 1e-12
    (above the round-off floor), so transients from the other eigenvalues have decayed.
    """
    start = np.random.default_rng(seed).normal(size=len(star))
    s = star + 1e-3 * start / np.linalg.norm(start)
    if A == 0:
        s -= s.mean()
    errors = []
    for _ in range(maxiter):
        s = sweep(w, s, method, update, A, scale_fix)
        errors.append(np.linalg.norm(s - star))
        if errors[-1] < 1e-12:
            break
    errors = np.array(errors)
    window = np.flatnonzero((errors < 1e-4) & (errors > 1e-12))
    if len(window) < 4:  # no convergence (or too fast): the last 40 sweeps
        window = np.arange(max(0, len(errors) - 40), len(errors))
    first, last = window[len(window) // 2], window[-1]
    return (errors[last] / errors[first]) ** (1 / (last - first))


def numeric_jacobian(f, s, h=1e-6):
    return np.column_stack([(f(s + h * e) - f(s - h * e)) / (2 * h) for e in np.eye(len(s))])


COMBOS = [(m, u) for m in ("zermelo", "newman") for u in ("sync", "async")]

# --------------------------------------------------------------------------------------------
# Symbolic identities


def test_derivations_identities():
    d = theory.derivations()
    pi, pj = sp.symbols("pi_i pi_j", positive=True)
    wij, wji, A = sp.symbols("w_ij w_ji A", nonnegative=True)
    M = sp.Symbol("M", positive=True)
    # Same fixed points: the stationarity pair term, from both maps.
    assert sp.simplify(d["gradient_pair"] - (wij * pj - wji * pi) / (pi + pj)) == 0
    assert sp.simplify(d["newman_num_pair"] - pi * d["newman_den_pair"] - d["gradient_pair"]) == 0
    assert sp.simplify(wij - pi * d["zermelo_pair"] - d["gradient_pair"]) == 0
    # Newman's diagonal at a fixed point, and its off-diagonal n_ij pi_j / ((pi_i+pi_j)^2 M).
    expected = (wji * pi - wij * pj) / ((pi + pj) ** 2 * M)
    assert sp.simplify(d["newman_diag_pair_fixed"] - expected) == 0
    assert sp.simplify(d["newman_diag_prior_fixed"] - A * (pi - 1) / ((pi + 1) ** 2 * M)) == 0
    assert sp.simplify(d["newman_offdiag_fixed"] - (wij + wji) * pj / ((pi + pj) ** 2 * M)) == 0
    # Two-player closed forms.
    a, b = sp.symbols("a b", positive=True)
    assert d["two_player_eigenvalue_zermelo_sync"] == 0
    assert sp.simplify(d["two_player_eigenvalue_zermelo_async"] - a * b / (a + b) ** 2) == 0
    assert d["two_player_eigenvalue_newman_sync"] == -1
    assert d["two_player_eigenvalue_newman_async"] == 0
    assert sp.simplify(d["two_player_map_rate_newman_sync"] - a / (a + A)) == 0
    assert sp.simplify(d["two_player_map_rate_zermelo_sync_scale_fix"] - A / (2 * (a + A))) == 0


# --------------------------------------------------------------------------------------------
# Jacobians


@pytest.mark.parametrize("prior", [None, 1.0, 2.5])
@pytest.mark.parametrize("method", ["zermelo", "newman"])
def test_sync_jacobian_matches_finite_differences_anywhere(method, prior):
    w = connected_counts(1, n=12, m=120)
    A = prior or 0.0
    s = np.random.default_rng(2).normal(size=12)
    J = theory.jacobian(w, s, method=method, update="sync", prior=prior)
    fd = numeric_jacobian(lambda x: raw_sweep(w, x, method, "sync", A), s)
    np.testing.assert_allclose(J, fd, atol=1e-8)


@pytest.mark.parametrize("prior", [None, 1.0])
@pytest.mark.parametrize("method,update", COMBOS)
def test_jacobian_matches_finite_differences_at_the_fixed_point(method, update, prior):
    w = connected_counts(3, n=12, m=150, sigma=1.5)
    A = prior or 0.0
    star = theory.fixed_point_scores(w, prior=prior)
    J = theory.jacobian(scipy.sparse.csr_array(w), star, method=method, update=update, prior=prior)
    fd = numeric_jacobian(lambda x: raw_sweep(w, x, method, update, A), star)
    np.testing.assert_allclose(J, fd, atol=1e-8)
    if prior is not None:  # the scale correction: compare the full sweep's derivative
        matrix = theory.iteration_matrix(w, star, method=method, update=update, prior=prior)
        fd = numeric_jacobian(lambda x: sweep(w, x, method, update, A, True), star)
        np.testing.assert_allclose(matrix, fd, atol=1e-7)


@pytest.mark.parametrize("method,update", COMBOS)
def test_ml_scale_mode(method, update):
    """J 1 = 1; centring removes exactly that eigenvalue; P J = P J P."""
    w = connected_counts(4, n=15, m=200)
    star = theory.fixed_point_scores(w)
    J = theory.jacobian(w, star + 3.0, method=method, update=update)  # any additive constant
    ones = np.ones(15)
    np.testing.assert_allclose(J @ ones, ones, atol=1e-12)
    P = np.eye(15) - np.outer(ones, ones) / 15
    matrix = theory.iteration_matrix(w, star, method=method, update=update)
    np.testing.assert_allclose(matrix, P @ J, atol=1e-12)
    np.testing.assert_allclose(matrix, P @ J @ P, atol=1e-12)
    full = np.linalg.eigvals(J)
    reduced = np.linalg.eigvals(matrix)
    # spec(J) = {1} ∪ spec(PJ) with 1's eigenvalue 0 in PJ.
    drop = np.argmin(abs(full - 1))
    kept = np.sort_complex(np.round(np.delete(full, drop), 8))
    drop0 = np.argmin(abs(reduced))
    np.testing.assert_allclose(kept, np.sort_complex(np.round(np.delete(reduced, drop0), 8)))


@pytest.mark.parametrize("prior", [None, 1.0])
@pytest.mark.parametrize("method", ["zermelo", "newman"])
def test_preconditioned_gradient_form(method, prior):
    """At the fixed point J = I - G^{-1} H, G = diag(W + A) (Zermelo) or diag(N_i) (Newman)."""
    w = connected_counts(5, n=15, m=200, sigma=1.5)
    A = prior or 0.0
    star = theory.fixed_point_scores(w, prior=prior)
    p = np.exp(star)
    P = p[:, None] / (p[:, None] + p[None, :])
    q = p / (1 + p)
    H = -(w + w.T) * P * P.T
    np.fill_diagonal(H, 0.0)
    H[np.diag_indices(15)] = -H.sum(axis=1) + 2 * A * q * (1 - q)
    if method == "zermelo":
        G = w.sum(axis=1) + A
    else:
        G = np.sum(w * p[None, :] / (p[:, None] + p[None, :]), axis=1) + A / (p + 1)
    J = theory.jacobian(w, star, method=method, prior=prior)
    np.testing.assert_allclose(J, np.eye(15) - H / G[:, None], atol=1e-12)
    lower = np.tril(H, -1)
    gauss_seidel = np.eye(15) - np.linalg.solve(np.diag(G) + lower, H)
    np.testing.assert_allclose(
        theory.jacobian(w, star, method=method, update="async", prior=prior),
        gauss_seidel,
        atol=1e-12,
    )
    if method == "zermelo":  # 0 <= H <= G: a real sync spectrum in [0, 1]
        values = np.linalg.eigvals(J)
        assert np.all(abs(values.imag) < 1e-10)
        assert np.all((values.real > -1e-12) & (values.real < 1 + 1e-12))


# --------------------------------------------------------------------------------------------
# Predicted vs observed rates


# Very fast rates (~0.1) leave only a few sweeps between the linear regime and round-off,
# too few for the transient of the other eigenvalues to die out, so the data are chosen
# with rates above ~0.3 and a gap below the leading eigenvalue.
DATASETS = {
    "random": lambda: connected_counts(6, n=15, m=300, sigma=1.5),
    "ladder": lambda: ladder_counts(0),
}


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize("method,update", COMBOS)
def test_predicted_ml_rate_matches_observed(method, update, data):
    w = DATASETS[data]()
    star = theory.fixed_point_scores(w)
    predicted = theory.linear_rate(w, star, method=method, update=update)
    assert 0.05 < predicted < 0.99
    observed = observed_rate(w, star, method, update)
    assert observed == pytest.approx(predicted, rel=0.1)


@pytest.mark.parametrize("scale_fix", [True, False])
@pytest.mark.parametrize("method,update", COMBOS)
def test_predicted_map_rate_matches_observed(method, update, scale_fix):
    # A ladder: slow, well-separated leading eigenvalues (random MAP data give near-equal
    # leading moduli at rates ~0.4, too fast to separate before round-off).
    w = ladder_counts(0)
    star = theory.fixed_point_scores(w, prior="logistic")
    predicted = theory.linear_rate(
        w, star, method=method, update=update, prior="logistic", scale_fix=scale_fix
    )
    assert 0.05 < predicted < 0.99
    observed = observed_rate(w, star, method, update, A=1.0, scale_fix=scale_fix)
    assert observed == pytest.approx(predicted, rel=0.1)


def test_scale_fix_helps_map():
    w = random_counts(8, n=20, m=300)
    star = theory.fixed_point_scores(w, prior=1.0)
    for method, update in COMBOS:
        fixed = theory.linear_rate(w, star, method=method, update=update, prior=1.0)
        plain = theory.linear_rate(
            w, star, method=method, update=update, prior=1.0, scale_fix=False
        )
        assert fixed < plain


# --------------------------------------------------------------------------------------------
# Newman vs Zermelo


def test_newman_vs_zermelo():
    """Checked on these seeds; not a theorem.

    Proved (module docstring): G_Newman <= G_Zermelo, so Newman's largest sync eigenvalue
    (its slowest non-oscillating mode) is never above Zermelo's. Newman's sync spectrum can
    however reach below -1: on sparse or very heterogeneous data sync Newman oscillates or
    diverges locally (see test_sync_newman_can_diverge). Async Newman <= async Zermelo held
    on every sample we tried.
    """
    for seed in range(10):
        w = connected_counts(seed, n=20, m=300)
        star = theory.fixed_point_scores(w)
        rates = {(m, u): theory.linear_rate(w, star, method=m, update=u) for m, u in COMBOS}
        for update in ("sync", "async"):
            assert rates["newman", update] <= rates["zermelo", update]
        top = {
            m: np.max(np.linalg.eigvals(theory.iteration_matrix(w, star, method=m)).real)
            for m in ("zermelo", "newman")
        }
        assert top["newman"] <= top["zermelo"] + 1e-12


def test_sync_newman_can_diverge():
    """A strongly connected sample where sync Newman is locally unstable; async is fine."""
    w = random_counts(22, n=10, m=60)
    assert strongly_connected(w)
    star = theory.fixed_point_scores(w)
    predicted = theory.linear_rate(w, star, method="newman", update="sync")
    assert predicted > 1
    assert predicted > theory.linear_rate(w, star, method="zermelo", update="sync")
    assert theory.linear_rate(w, star, method="newman", update="async") < 1
    observed = observed_rate(w, star, "newman", "sync", maxiter=150)
    assert observed == pytest.approx(predicted, rel=0.02)
    # The reason: 2G - H is indefinite (sync converges locally iff it is positive definite).
    p = np.exp(star)
    P = p[:, None] / (p[:, None] + p[None, :])
    H = -(w + w.T) * P * P.T
    np.fill_diagonal(H, 0.0)
    H[np.diag_indices(len(p))] = -H.sum(axis=1)
    G = np.sum(w * P.T, axis=1)  # N_i = sum_j w_ij pi_j / (pi_i + pi_j)
    assert np.linalg.eigvalsh(2 * np.diag(G) - H).min() < 0


# --------------------------------------------------------------------------------------------
# Two players


@pytest.mark.parametrize("a,b", [(3.0, 1.0), (2.0, 5.0), (1.0, 1.0)])
def test_two_players_ml(a, b):
    w = np.array([[0.0, a], [b, 0.0]])
    star = theory.fixed_point_scores(w)
    np.testing.assert_allclose(star, np.log([a, b]) - np.log(a * b) / 2, atol=1e-12)
    rate = {(m, u): theory.linear_rate(w, star, method=m, update=u) for m, u in COMBOS}
    assert rate["zermelo", "sync"] == pytest.approx(0.0, abs=1e-12)
    assert rate["zermelo", "async"] == pytest.approx(a * b / (a + b) ** 2)
    assert rate["newman", "sync"] == pytest.approx(1.0)
    assert rate["newman", "async"] == pytest.approx(0.0, abs=1e-12)
    # Sync Newman ML oscillates with period 2; the other three land in one sweep (or ab/(a+b)^2).
    s = star + np.array([0.1, -0.1])
    once = sweep(w, s, "newman", "sync", 0, False)
    twice = sweep(w, once, "newman", "sync", 0, False)
    np.testing.assert_allclose(once - star, -(s - star), atol=1e-12)
    np.testing.assert_allclose(twice, s, atol=1e-12)
    for method, update in [("zermelo", "sync"), ("newman", "async")]:
        np.testing.assert_allclose(sweep(w, s, method, update, 0, False), star, atol=1e-12)


@pytest.mark.parametrize("a,A", [(3.0, 1.0), (1.0, 2.0)])
def test_two_players_map(a, A):
    w = np.array([[0.0, a], [a, 0.0]])
    star = theory.fixed_point_scores(w, prior=A)
    np.testing.assert_allclose(star, 0.0, atol=1e-12)
    d = theory.derivations()
    for method, update in COMBOS:
        for fix in (True, False):
            name = f"two_player_map_rate_{method}_{update}" + ("_scale_fix" if fix else "")
            symbols = {str(x): x for x in d[name].free_symbols}
            expected = float(d[name].subs({symbols["a"]: a, symbols["A"]: A}))
            got = theory.linear_rate(w, star, method=method, update=update, prior=A, scale_fix=fix)
            assert got == pytest.approx(expected), name


# --------------------------------------------------------------------------------------------
# Fixed points and input checks


def test_fixed_point_scores():
    w = connected_counts(9, n=25, m=400, sigma=2.0)  # scores spread over ~10
    star = theory.fixed_point_scores(w)
    assert abs(star.mean()) < 1e-12
    for method in ("zermelo", "newman"):  # a fixed point of both maps
        np.testing.assert_allclose(raw_sweep(w, star, method, "sync", 0.0) - star, 0.0, atol=1e-11)
    # and the exact MLE where it is known: a planted case of itersolve.testing
    case = pairwise_problem(n_items=25, n_games=400, seed=3)
    w = np.zeros((25, 25))
    np.add.at(w, (case.winners, case.losers), 1.0)
    np.testing.assert_allclose(theory.fixed_point_scores(w), case.mle.scores, rtol=0, atol=1e-12)
    # MAP = ML on the data plus one win and one loss against a dummy of strength 1.
    w = random_counts(10, n=15, m=40)
    assert not strongly_connected(w)
    with pytest.raises(ValueError, match="strongly connected"):
        theory.fixed_point_scores(w)
    augmented = np.zeros((16, 16))
    augmented[:15, :15], augmented[:15, 15], augmented[15, :15] = w, 1.0, 1.0
    ml = theory.fixed_point_scores(augmented)
    np.testing.assert_allclose(theory.fixed_point_scores(w, prior="logistic"), ml[:15] - ml[15])


def test_input_validation():
    w = np.array([[0.0, 1.0], [1.0, 0.0]])
    s = np.zeros(2)
    with pytest.raises(ValueError, match="method"):
        theory.jacobian(w, s, method="hunter")
    with pytest.raises(ValueError, match="update"):
        theory.linear_rate(w, s, update="jacobi")
    with pytest.raises(ValueError, match="prior"):
        theory.jacobian(w, s, prior=-1.0)
    with pytest.raises(ValueError, match="diagonal"):
        theory.jacobian(np.eye(2), s)
    with pytest.raises(ValueError, match="shape"):
        theory.jacobian(w, np.zeros(3))


def test_damping_makes_sync_newman_locally_convergent():
    """The fitter's damping turns the diverging counterexamples into convergent sweeps."""
    for counts in ([[0, 2], [1, 0]], [[0, 3, 0, 0], [0, 0, 1, 0], [2, 4, 0, 7], [8, 3, 0, 0]]):
        w = np.array(counts, dtype=float)
        star = _theory.fixed_point_scores(w)
        assert theory.linear_rate(w, star, method="newman", update="sync") >= 1 - 1e-9
        assert _theory.linear_rate(w, star, method="newman", update="sync") < 1


@pytest.mark.parametrize("a, b", [(3.0, 1.0), (5.0, 2.0)])
def test_the_fitters_damping_margin_is_the_theorys(a, b):
    """The kernel's sync Newman sweep contracts the two-player mode by (m - 1)/(m + 1), m the
    margin the theory states on its own (a changed kernel constant fails here).

    Written from the damping rule: at the fixed point pi ∝ (a, b) each player's Newman
    numerator equals its Hessian diagonal, so both log-steps are scaled by 1/(1 + m) and the
    undamped eigenvalue -1 of the centred mode becomes 1 - 2/(1 + m).
    """
    from itersolve import bradley_terry

    m = _theory.SYNC_NEWMAN_DAMPING_MARGIN
    assert m == 0.25  # the documented design value
    expected = 1 - 2 / (1 + m)
    derived = _theory.derivations()["two_player_eigenvalue_newman_sync_damped"]
    assert float(derived.subs(sp.Symbol("m", positive=True), m)) == pytest.approx(expected)
    seen = []
    bradley_terry(
        np.array([[0.0, a], [b, 0.0]]),
        method="newman",
        update="sync",
        rtol=1e-15,
        maxiter=30,
        callback=lambda r: seen.append(np.array(r.x)),
    )
    errors = np.array([x[0] - x[1] for x in seen]) - np.log(a / b)
    ratios = errors[19:29] / errors[18:28]  # linear regime (errors ~1e-5), far above rounding
    np.testing.assert_allclose(ratios, expected, rtol=2e-3)
    w = np.array([[0.0, a], [b, 0.0]])
    star = np.log([a, b])
    assert _theory.linear_rate(w, star, method="newman", update="sync") == pytest.approx(
        abs(expected), rel=1e-9
    )


def test_the_kernels_damping_margin_is_the_theorys():
    """The theory states the margin on its own; the kernels' constant must equal it."""
    from itersolve._ranking import MARGIN

    assert MARGIN == _theory.SYNC_NEWMAN_DAMPING_MARGIN
