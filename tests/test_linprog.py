"""``itersolve.linprog`` against HiGHS: optimal values, statuses and verified certificates.

The generators plant what the test checks: an optimum (a primal point inside the bounds and
a dual-feasible ``c``), a Farkas vector (rows combined into ``0 <= negative``) or a recession
ray along which ``c'x`` falls. Certificates are checked here independently of the package.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds
from scipy.optimize import linprog as highs_linprog

import itersolve
from itersolve import ConvergenceError, Status

EPS = 1e-8  # the certificate tolerance (PDLP's default and linprog's)


def _bounds(rng, n):
    """A mix of x >= 0, free, boxed [-1, 3] and x <= 2 variables."""
    lb, ub = np.zeros(n), np.full(n, np.inf)
    kind = rng.integers(4, size=n)
    lb[kind == 1] = -np.inf
    lb[kind == 2], ub[kind == 2] = -1.0, 3.0
    lb[kind == 3], ub[kind == 3] = -np.inf, 2.0
    return lb, ub


def _matrix(rng, m, n, density):
    if density >= 1:
        return rng.standard_normal((m, n))
    return sp.random(m, n, density=density, format="csr", rng=rng, data_rvs=rng.standard_normal)


def _dual_feasible_c(rng, K, m_eq, lb, ub):
    """``c = K'y + lambda`` with ``y`` and ``lambda`` of the right signs: the LP is bounded."""
    m, n = K.shape
    y = np.concatenate([rng.standard_normal(m_eq), -rng.random(m - m_eq)])
    lam = rng.random(n) * (rng.random(n) < 0.5)
    boxed = np.isfinite(lb) & np.isfinite(ub)
    lam = np.where(np.isfinite(lb), lam, np.where(np.isfinite(ub), -lam, 0.0))
    return K.T @ y + np.where(boxed, rng.standard_normal(n), lam)


def feasible_lp(seed, n, m_ub, m_eq, density=1.0):
    """A random LP with an optimum: ``(c, A_ub, b_ub, A_eq, b_eq, bounds)``."""
    rng = np.random.default_rng(seed)
    lb, ub = _bounds(rng, n)
    K = _matrix(rng, m_eq + m_ub, n, density)
    x = np.clip(rng.standard_normal(n), lb, ub)
    b = K @ x + np.concatenate([np.zeros(m_eq), rng.random(m_ub)])
    c = _dual_feasible_c(rng, K, m_eq, lb, ub)
    return c, K[m_eq:], b[m_eq:], K[:m_eq], b[:m_eq], list(zip(lb, ub))


def infeasible_lp(seed, n=20, m_ub=10, m_eq=5):
    """A dual-feasible LP made primal infeasible by a planted Farkas vector."""
    rng = np.random.default_rng(seed)
    lb, ub = _bounds(rng, n)
    K = rng.standard_normal((m_eq + m_ub, n))
    y = np.concatenate([rng.standard_normal(m_eq), -rng.random(m_ub) * (rng.random(m_ub) < 0.5)])
    lam = rng.random(n) * (rng.random(n) < 0.3)
    lam *= np.where(np.isfinite(lb), 1.0, np.where(np.isfinite(ub), -1.0, 0.0))
    last = m_eq - 1  # an equality row is rebuilt so that K'y = -lambda exactly
    K[last] = (-lam - (K.T @ y - K[last] * y[last])) / y[last]
    b = K @ np.clip(rng.standard_normal(n), lb, ub)
    b[m_eq:] += rng.random(m_ub)
    lb0, ub0 = np.where(np.isfinite(lb), lb, 0.0), np.where(np.isfinite(ub), ub, 0.0)
    bound_part = np.sum(np.where(lam > 0, lb0 * lam, ub0 * lam))
    b[last] += (1.0 - (b @ y + bound_part)) / y[last]  # the ray objective becomes 1 > 0
    c = _dual_feasible_c(rng, K, m_eq, lb, ub)
    return c, K[m_eq:], b[m_eq:], K[:m_eq], b[:m_eq], list(zip(lb, ub))


def unbounded_lp(seed, n=20, m_ub=10, m_eq=5):
    """A feasible LP with a planted ray ``d``: ``c'd = -1``, ``A_eq d = 0``, ``A_ub d <= 0``."""
    rng = np.random.default_rng(seed)
    lb, ub = _bounds(rng, n)
    d = rng.standard_normal(n) * (rng.random(n) < 0.5)
    d = np.where(np.isfinite(lb), np.abs(d), np.where(np.isfinite(ub), -np.abs(d), d))
    d[np.isfinite(lb) & np.isfinite(ub)] = 0.0
    if not np.any(d):
        j = np.flatnonzero(~(np.isfinite(lb) & np.isfinite(ub)))[0]
        d[j] = 1.0 if np.isfinite(lb[j]) else -1.0
    A_eq, A_ub = rng.standard_normal((m_eq, n)), rng.standard_normal((m_ub, n))
    A_eq -= np.outer(A_eq @ d, d) / (d @ d)
    push = np.maximum(A_ub @ d, 0.0) + rng.random(m_ub) * (rng.random(m_ub) < 0.5)
    A_ub -= np.outer(push, d) / (d @ d)
    c = rng.standard_normal(n)
    c -= ((c @ d + 1.0) / (d @ d)) * d
    x = np.clip(rng.standard_normal(n), lb, ub)
    return c, A_ub, A_ub @ x + rng.random(m_ub), A_eq, A_eq @ x, list(zip(lb, ub))


def _arrays(lp):
    c, A_ub, b_ub, A_eq, b_eq, bounds = lp
    K = sp.vstack([sp.csr_matrix(A_eq), sp.csr_matrix(A_ub)]).toarray()
    lb = np.array([-np.inf if lo is None else lo for lo, _ in bounds], dtype=float)
    ub = np.array([np.inf if hi is None else hi for _, hi in bounds], dtype=float)
    return np.asarray(c), K, np.asarray(b_eq), np.asarray(b_ub), lb, ub


def farkas_holds(lp, y):
    """Independent check: ``y`` proves that no x satisfies the constraints."""
    c, K, b_eq, b_ub, lb, ub = _arrays(lp)
    m_eq = b_eq.size
    assert y.shape == (K.shape[0],)
    assert np.all(y[m_eq:] <= 0), "multipliers of <= rows must be non-positive"
    lam = -(K.T @ y)  # must be absorbed by finite bounds
    violation = np.where(np.isinf(lb), np.maximum(lam, 0), 0) + np.where(
        np.isinf(ub), np.maximum(-lam, 0), 0
    )
    objective = (
        np.concatenate([b_eq, b_ub]) @ y
        + np.sum(np.where(np.isfinite(lb), lb, 0) * np.maximum(lam, 0))
        - np.sum(np.where(np.isfinite(ub), ub, 0) * np.maximum(-lam, 0))
    )
    return objective > 0 and violation.max() <= EPS * objective * (1 + 1e-6)


def ray_holds(lp, d):
    """Independent check: ``d`` is a recession direction along which ``c'x`` decreases."""
    c, K, b_eq, b_ub, lb, ub = _arrays(lp)
    m_eq = b_eq.size
    decrease = -(c @ d)
    Kd = K @ d
    return (
        decrease > 0
        and np.all(d[np.isfinite(lb)] >= 0)
        and np.all(d[np.isfinite(ub)] <= 0)
        and np.max(np.abs(Kd[:m_eq]), initial=0) <= EPS * decrease * (1 + 1e-6)
        and np.max(Kd[m_eq:], initial=0) <= EPS * decrease * (1 + 1e-6)
    )


def assert_feasible(lp, x, tol=1e-6):
    c, K, b_eq, b_ub, lb, ub = _arrays(lp)
    Kx, m_eq = K @ x, b_eq.size
    assert np.all(x >= lb) and np.all(x <= ub)
    np.testing.assert_allclose(Kx[:m_eq], b_eq, atol=tol * (1 + np.abs(b_eq).max(initial=0)))
    assert np.all(Kx[m_eq:] <= b_ub + tol * (1 + np.abs(b_ub).max(initial=0)))


def assert_matches_highs(lp, result):
    reference = highs_linprog(*lp, method="highs")
    assert reference.status == 0 and result.status == Status.CONVERGED, result.message
    assert abs(result.fun - reference.fun) <= 1e-6 * max(1.0, abs(reference.fun))
    assert_feasible(lp, result.x)


@settings(max_examples=20)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 12),
    m_ub=st.integers(0, 8),
    m_eq=st.integers(0, 4),
)
def test_random_feasible_lps_match_highs(seed, n, m_ub, m_eq):
    lp = feasible_lp(seed, n, m_ub, m_eq)
    assert_matches_highs(lp, itersolve.linprog(*lp))


@pytest.mark.parametrize(("seed", "n"), [(1, 1500), (3, 3000)])
def test_sparse_lps_with_thousands_of_variables_match_highs(seed, n):
    # 5 nonzeros per row, 0.5 rows per variable; random sparse LPs like these can take PDHG
    # (PDLP as well) over 1e5 iterations to reach 1e-8, these two take about 3e4
    lp = feasible_lp(seed, n, int(0.35 * n), int(0.15 * n), density=10 / n)
    assert sp.issparse(lp[1])
    result = itersolve.linprog(*lp)
    assert_matches_highs(lp, result)
    assert result.nfev >= 2 * result.nit  # one product with K and one with K' per iteration


@pytest.mark.parametrize("seed", range(6))
def test_primal_infeasible_lps_come_with_a_farkas_certificate(seed):
    lp = infeasible_lp(seed)
    assert highs_linprog(*lp, method="highs").status == 2
    result = itersolve.linprog(*lp)
    assert result.status == Status.INFEASIBLE and not result.success, result.message
    assert result.stats["certificate_kind"] == "farkas"
    assert farkas_holds(lp, result.stats["certificate"])
    assert result.stats["ray_objective"] > 0
    assert result.stats["max_violation"] <= EPS * result.stats["ray_objective"]
    assert result.stats["detection_iteration"] == result.nit
    assert np.isnan(result.fun) and result.to_scipy().status == 2
    assert "primal infeasible" in result.message


@pytest.mark.parametrize("seed", range(6))
def test_unbounded_lps_come_with_a_ray(seed):
    lp = unbounded_lp(seed)
    assert highs_linprog(*lp, method="highs").status == 3
    result = itersolve.linprog(*lp)
    assert result.status == Status.UNBOUNDED, result.message
    assert result.stats["certificate_kind"] == "ray"
    assert ray_holds(lp, result.stats["certificate"])
    assert result.to_scipy().status == 3


@pytest.mark.parametrize("seed", range(6))
def test_weakly_infeasible_lps_are_detected_within_twenty_thousand_iterations(seed):
    # n = 200, 150 rows, distance to feasibility ~1 % of ||b||: the raw PDHG candidates reach
    # the 1e-8 violation ratio only after 1e5+ iterations on most seeds (PDLP's too); the
    # polished candidate (itersolve/_linprog/_polish.py) verified after 2.7e3-1.5e4 here
    lp = infeasible_lp(seed, n=200, m_ub=100, m_eq=50)
    result = itersolve.linprog(*lp, maxiter=20_000)
    assert result.status == Status.INFEASIBLE, result.message
    assert farkas_holds(lp, result.stats["certificate"])
    assert result.stats["max_violation"] <= EPS * result.stats["ray_objective"]


def test_accelerated_detection_needs_fewer_iterations_than_plain_pdhg():
    accelerated, plain = [], []
    for lp in [infeasible_lp(s) for s in (0, 3, 5)] + [unbounded_lp(s) for s in (0, 2, 4)]:
        fast = itersolve.linprog(*lp)
        slow = itersolve.linprog(*lp, accelerate=False, maxiter=60_000)
        assert fast.status in (Status.INFEASIBLE, Status.UNBOUNDED)
        assert slow.status == fast.status, slow.message
        accelerated.append(fast.nit)
        plain.append(slow.nit)
    assert np.mean(accelerated) <= np.mean(plain)


def test_lower_bound_above_upper_bound_is_infeasible_with_a_bound_certificate():
    result = itersolve.linprog(
        [1.0, 1.0, 1.0], A_ub=[[1, 1, 1]], b_ub=[5], bounds=[(0, 1), (2, 1), (0, None)]
    )
    assert result.status == Status.INFEASIBLE and result.nit == 0
    assert "Variable 1" in result.message
    mu_l, mu_u = result.stats["lower_multipliers"], result.stats["upper_multipliers"]
    # K'y + mu_l - mu_u = 0 with y = 0, and lb'mu_l - ub'mu_u = 2 - 1 > 0
    assert np.all(result.stats["certificate"] == 0) and np.array_equal(mu_l, mu_u)
    assert np.array([0, 2, 0]) @ mu_l - np.array([1, 1, 0]) @ mu_u > 0
    with pytest.raises(ConvergenceError):
        itersolve.linprog([1.0, 1.0], bounds=[(0, 1), (2, 1)], throw=True)


BAD_INPUT = [
    (dict(c=[]), ValueError, "no variables"),
    (dict(c=[[1, 2]]), ValueError, "`c` must be 1-D"),
    (dict(c="abc"), TypeError, "`c` must be a numeric array"),
    (dict(c=[1, np.nan]), ValueError, "`c` contains NaN"),
    (dict(c=[1, 2], A_ub=[[1, 2, 3]], b_ub=[1]), ValueError, r"`A_ub` has shape \(1, 3\).*\(2,\)"),
    (dict(c=[1, 2], A_ub=[[1, 2]], b_ub=[1, 2]), ValueError, r"`b_ub` has shape \(2,\).*\(1, 2\)"),
    (dict(c=[1, 2], A_eq=[[1, np.inf]], b_eq=[1]), ValueError, "`A_eq` contains NaN or Inf"),
    (dict(c=[1, 2], A_eq=[[1, 2]], b_eq=[np.nan]), ValueError, "`b_eq` contains NaN"),
    (dict(c=[1, 2], A_ub=[[1, 2]]), ValueError, "`A_ub` is given but `b_ub` is not"),
    (dict(c=[1, 2], A_ub=[["a", 2]], b_ub=[1]), TypeError, "`A_ub` must hold numbers"),
    (dict(c=[1, 2], bounds=[(0, 1)] * 3), ValueError, "one \\(min, max\\) pair or 2"),
    (dict(c=[1, 2], bounds=[(0, 1), 5]), ValueError, r"`bounds\[1\]` must be a \(min, max\) pair"),
    (dict(c=[1, 2], bounds=[(0, "x"), (0, 1)]), TypeError, "`bounds` entries must be real"),
    (dict(c=[1, 2], bounds=(np.nan, 1)), ValueError, "`bounds` contains NaN"),
    (dict(c=[1, 2], method="simplex"), ValueError, "`method` must be one of 'pdhg'"),
    (dict(c=[1, 2], backend="torch"), ValueError, "`backend` must be one of"),
    (dict(c=[1, 2], restart="sometimes"), ValueError, "`restart` must be None"),
    (dict(c=[1, 2], restart=0), ValueError, "`restart` must be at least 1"),
    (dict(c=[1, 2], rtol=-1), ValueError, "`rtol` must be finite"),
    (dict(c=[1, 2], x0=[1, 2, 3]), ValueError, r"`x0` has shape \(3,\)"),
    (dict(c=[1, 2], callback=5), TypeError, "`callback` must be callable"),
]


@pytest.mark.parametrize(("kwargs", "error", "match"), BAD_INPUT)
def test_bad_input_is_rejected_before_any_work(kwargs, error, match):
    with pytest.raises(error, match=match):
        itersolve.linprog(**kwargs)


def test_bounds_forms_follow_scipy():
    c = np.array([1.0, -1.0])
    A_ub, b_ub = [[1.0, 1.0]], [4.0]
    for bounds in ([(-1, 3), (-1, 3)], (-1, 3), [(-1, 3)], Bounds([-1, -1], [3, 3])):
        result = itersolve.linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds)
        assert result.success and abs(result.fun - (-4.0)) < 1e-7
    free = itersolve.linprog(c, A_eq=[[1, 1]], b_eq=[1], bounds=(None, None))
    assert free.status == Status.UNBOUNDED  # x = (t, 1 - t), t -> -inf


def test_problems_without_constraints():
    box = itersolve.linprog([1.0, -2.0, 0.5], bounds=[(-1, 1), (0, 4), (2, None)])
    assert box.success and abs(box.fun - (-1 - 8 + 1)) < 1e-8
    assert box.slack.shape == (0,) and box.con.shape == (0,)
    assert itersolve.linprog([-1.0, 1.0]).status == Status.UNBOUNDED


def test_result_fields_and_scipy_view():
    lp = feasible_lp(3, 8, 5, 2)
    result = itersolve.linprog(*lp)
    reference = highs_linprog(*lp, method="highs")
    c, A_ub, b_ub, A_eq, b_eq, _ = lp
    # slack and con are b - Ax to rounding: the sums may run in another order here, so
    # the tolerance is a few units of rounding of the terms summed (an active row's slack
    # is ~0, where a relative test with atol=0 would compare rounding errors)
    for field, A, b in ((result.slack, A_ub, b_ub), (result.con, A_eq, b_eq)):
        terms = np.abs(b) + np.abs(A) @ np.abs(result.x)
        assert np.all(np.abs(field - (b - A @ result.x)) <= 8 * np.finfo(float).eps * terms)
    assert result.ineqlin.marginals.shape == (5,) and np.all(result.ineqlin.marginals <= 0)
    assert np.all(result.lower.marginals >= 0) and np.all(result.upper.marginals <= 0)
    # strong duality with the returned duals (the optimal duals may not be unique)
    dual = b_ub @ result.ineqlin.marginals + b_eq @ result.eqlin.marginals
    lb = np.array([lo for lo, _ in lp[5]])
    ub = np.array([hi for _, hi in lp[5]])
    dual += np.sum(np.where(np.isfinite(lb), lb, 0) * result.lower.marginals)
    dual += np.sum(np.where(np.isfinite(ub), ub, 0) * result.upper.marginals)
    assert abs(dual - reference.fun) <= 1e-6 * max(1, abs(reference.fun))
    view = result.to_scipy()
    assert view.status == 0 and view.itersolve_status == 0 and view.success
    for field in ("x", "fun", "slack", "con", "nit", "message", "ineqlin", "eqlin"):
        assert field in view
    assert result.residuals.size == result.stats["check_iterations"].size
    assert result.residuals[-1] <= 1e-8 and result.nfev > 2 * result.nit
    assert repr(result).startswith("LinprogResult(success=True")


def test_maxiter_callback_throw_and_warm_start():
    lp = feasible_lp(4, 10, 6, 3)
    short = itersolve.linprog(*lp, maxiter=50)
    assert short.status == Status.MAXITER and short.nit == 50 and np.isnan(short.fun)
    assert short.to_scipy().status == 1
    with pytest.raises(ConvergenceError) as info:
        itersolve.linprog(*lp, maxiter=50, throw=True)
    assert info.value.result.status == Status.MAXITER
    seen = []

    def stop_at_ten(intermediate):
        seen.append(intermediate.nit)
        assert intermediate.x.shape == (10,)
        if intermediate.nit == 10:
            raise StopIteration

    stopped = itersolve.linprog(*lp, callback=stop_at_ten, throw=True)
    assert stopped.status == Status.CALLBACK and seen == list(range(11))
    full = itersolve.linprog(*lp)
    warm = itersolve.linprog(*lp, x0=full.x)
    assert warm.success and abs(warm.fun - full.fun) <= 1e-6 * max(1, abs(full.fun))


def test_restart_options_and_plain_pdhg_reach_the_same_optimum():
    lp = feasible_lp(5, 10, 6, 3)
    reference = highs_linprog(*lp, method="highs").fun
    for options in (dict(restart=128), dict(accelerate=False)):
        result = itersolve.linprog(*lp, maxiter=200_000, **options)
        assert result.success, (options, result.message)
        assert abs(result.fun - reference) <= 1e-6 * max(1, abs(reference))
    # without restarts Halpern converges at O(1/k) only: fine for a loose tolerance
    loose = itersolve.linprog(*lp, restart=None, rtol=1e-4)
    assert loose.success and loose.stats["restarts"] == 0
    assert abs(loose.fun - reference) <= 1e-2 * max(1, abs(reference))


def test_overflow_ends_nonfinite_instead_of_hanging():
    result = itersolve.linprog(
        [1e308, -1e308], A_eq=[[1e308, 1e308]], b_eq=[1e308], bounds=(None, None)
    )
    assert result.status == Status.NONFINITE and "Non-finite" in result.message


# ----- the PDHG iteration against the paper's formula --------------------------------------

TINY_LP = dict(
    c=np.array([-1.0, -2.0, 0.5]),
    A_ub=np.array([[1.0, 1.0, 1.0], [1.0, -1.0, 2.0]]),
    b_ub=np.array([4.0, 2.0]),
    bounds=[(0.0, None), (-1.0, 3.0), (-2.0, None)],
)
# a start away from 0, so that the anchor terms z_0 / (k + 2) weigh in from the first step
TINY_START = np.array([1.0, 0.5, -1.0])


def reference_halpern_pdhg(c, K, u, lb, ub, x0, eta, iterations, restart):
    """Restarted reflected Halpern PDHG for ``min c'x, Kx <= u, lb <= x <= ub`` written
    from Lu & Yang (r2HPDHG, arXiv 2407.16144) and PDLP (arXiv 2102.04592), independently
    of the package: returns the iterates ``(x_k, y_k)``, ``k = 0..iterations``.

    PDHG map ``T`` with ``tau = eta / omega``, ``sigma = eta * omega``:
    ``x+ = P_X(x - tau (c - K'y))``; ``y+ = y - sigma (K xbar - P_[-inf,u](K xbar - y /
    sigma))``, ``xbar = 2 x+ - x`` (the dual step of the saddle problem
    ``min_x max_y c'x - y'Kx + ...`` with ``y <= 0`` on ``<=`` rows, Moreau's identity).
    Halpern with reflection ``rho = 1``: ``z_{k+1} = (k+1)/(k+2) (2 T z_k - z_k) + z_0/(k+2)``,
    ``k`` counted from the anchor ``z_0``. Every ``restart`` steps the step instead sets
    ``z = T z``, re-anchors there, and updates the primal weight as PDLP does:
    ``log omega <- 0.5 log(||dy|| / ||dx||) + 0.5 log omega`` (``dx, dy`` the moves since the
    anchor). Initial weight ``||c|| / ||u||``; the duals start at 0.
    """
    x, y = x0, np.zeros(K.shape[0])
    omega = np.linalg.norm(c) / np.linalg.norm(u)
    anchor, k = (x, y), 0
    iterates = [(x, y)]
    for _ in range(iterations):
        tau, sigma = eta / omega, eta * omega
        xT = np.clip(x - tau * (c - K.T @ y), lb, ub)
        Kxbar = K @ (2 * xT - x)
        yT = y - sigma * (Kxbar - np.minimum(Kxbar - y / sigma, u))
        if restart is not None and k + 1 >= restart:
            dx, dy = np.linalg.norm(xT - anchor[0]), np.linalg.norm(yT - anchor[1])
            omega = np.exp(0.5 * np.log(dy / dx) + 0.5 * np.log(omega))
            x, y = xT, yT
            anchor, k = (x, y), 0
        else:
            weight = (k + 1) / (k + 2)
            x = weight * (2 * xT - x) + anchor[0] / (k + 2)
            y = weight * (2 * yT - y) + anchor[1] / (k + 2)
            k += 1
        iterates.append((x, y))
    return iterates


def library_iterates(iterations, restart):
    """The Halpern iterates of ``itersolve._linprog._pdhg.HalpernPDHG`` driven by hand through
    ``init``/``step`` on ``TINY_LP`` without diagonal preconditioning, in the user's units."""
    from itersolve._linprog._pdhg import DeviceLP, HalpernPDHG
    from itersolve._linprog._problem import parse

    lp_data = TINY_LP
    problem = parse(lp_data["c"], lp_data["A_ub"], lp_data["b_ub"], None, None, lp_data["bounds"])
    ones_m, ones_n = np.ones(problem.m), np.ones(problem.n)
    lp = DeviceLP(problem, ones_m, ones_n, xp=np, sparse=sp)
    solver = HalpernPDHG(1e-30, 0.0, restart=restart, col=lp.x_unit)
    start = TINY_START / lp.beta
    state = solver.init(lp, start)
    iterates = [(state.x * lp.x_unit, state.y * lp.y_unit)]
    x = start
    for _ in range(iterations):
        x, state = solver.step(lp, x, state)
        iterates.append((state.x * lp.x_unit, state.y * lp.y_unit))
    return iterates, state


@pytest.mark.parametrize("restart", ["adaptive", 6])
def test_halpern_pdhg_iterates_follow_the_papers_formula(restart):
    # 20 iterations: no adaptive restart can fire before the first check at 64, while
    # restart=6 re-anchors and updates the primal weight three times
    library, state = library_iterates(20, restart)
    K, u = TINY_LP["A_ub"], TINY_LP["b_ub"]
    lb = np.array([lo if lo is not None else -np.inf for lo, _ in TINY_LP["bounds"]])
    ub = np.array([hi if hi is not None else np.inf for _, hi in TINY_LP["bounds"]])
    # the step size is PDLP's 0.998 / ||K||_2 up to the power iteration's accuracy; the
    # reference takes the library's value so that the iterates agree to rounding
    exact_eta = 0.998 / np.linalg.norm(K, 2)
    assert state.eta == pytest.approx(exact_eta, rel=1e-6)
    reference = reference_halpern_pdhg(
        TINY_LP["c"], K, u, lb, ub, TINY_START, state.eta, 20,
        None if restart == "adaptive" else restart,
    )
    assert state.restarts == (0 if restart == "adaptive" else 3)
    for k, ((x, y), (x_ref, y_ref)) in enumerate(zip(library, reference)):
        np.testing.assert_allclose(x, x_ref, rtol=1e-12, atol=1e-12, err_msg=f"x at k={k}")
        np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12, err_msg=f"y at k={k}")


# ----- hardening (issue 12) ------------------------------------------------------------


@pytest.mark.parametrize(
    "argument", ["c", "A_ub", "b_ub", "A_eq", "b_eq", "bounds", "x0", "sparse A_eq"]
)
def test_complex_input_is_a_type_error_naming_the_argument(argument):
    # a real solver must not drop an imaginary part silently (it used to, with a
    # ComplexWarning at most)
    lp = dict(
        c=np.array([1.0, 2.0]), A_ub=np.ones((1, 2)), b_ub=np.ones(1), A_eq=np.ones((1, 2)),
        b_eq=np.ones(1), bounds=Bounds(np.zeros(2), np.full(2, 5.0)), x0=np.zeros(2),
    )
    name = argument.split()[-1]
    if argument == "sparse A_eq":
        lp[name] = sp.csr_matrix(lp[name] * (1 + 1j))
    elif argument == "bounds":
        lp[name] = Bounds(np.zeros(2) + 1j, np.full(2, 5.0))
    else:
        lp[name] = lp[name] * (1 + 1j)
    with pytest.raises(TypeError, match=f"`{name}"):
        itersolve.linprog(**lp)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(c=np.array([True, False])), TypeError, "`c`"),
        (dict(c=["1", "2"]), TypeError, "`c`"),
        (dict(c=[10**400, 1]), TypeError, "`c`"),
        (dict(c=[1, 2], A_ub=np.array([[True, False]]), b_ub=[1]), TypeError, "`A_ub`"),
        (dict(c=[1, 2], A_ub=np.ones((1, 2)), b_ub=sp.csr_matrix([[1.0]])), TypeError, "`b_ub`"),
        (dict(c=[1, 2], A_ub=sp.coo_array([[np.nan, 1.0]]), b_ub=[1]), ValueError, "`A_ub`"),
        (dict(c=[1, 2], bounds=Bounds(["a", 0], [1, 1])), TypeError, "`bounds.lb`"),
        (dict(c=[1, 2], bounds=[(0, 10**400), (0, 1)]), ValueError, "`bounds`"),
        (dict(c=[1, 2], x0=np.array([True, False])), TypeError, "`x0`"),
        (dict(c=[1, 2], eps_infeasible=True), TypeError, "`eps_infeasible`"),
    ],
)
def test_hostile_input_is_rejected_by_name(kwargs, error, match):
    with pytest.raises(error, match=match):
        itersolve.linprog(**kwargs)


def _rescaled(lp, sc, sb, sa):
    """``lp`` with ``c * sc``, ``b * sb``, ``A * sa`` and bounds ``* sb / sa``: its optimum
    is ``x* sb / sa`` with value ``fun* sc sb / sa``."""
    c, A_ub, b_ub, A_eq, b_eq, bounds = lp
    s = sb / sa
    return (
        np.asarray(c) * sc, A_ub * sa, np.asarray(b_ub) * sb, A_eq * sa, np.asarray(b_eq) * sb,
        [(lo * s, hi * s) for lo, hi in bounds],
    )


@pytest.mark.parametrize(
    ("sc", "sb", "sa"),
    [(1e-170, 1.0, 1.0), (1.0, 1e-170, 1.0), (1.0, 1.0, 1e-170), (1e150, 1e150, 1.0),
     (1.0, 1e150, 1e-150), (1e-160, 1e140, 1e-5)],
)
def test_extreme_scales_give_the_scaled_optimum(sc, sb, sa):
    # at 1e-170 the old criterion (1 + ||b|| etc.) accepted x = 0 at iteration 0
    lp = feasible_lp(7, 6, 4, 2)
    reference = highs_linprog(*lp, method="highs")
    result = itersolve.linprog(*_rescaled(lp, sc, sb, sa))
    assert result.success, result.message
    scale = sb / sa
    np.testing.assert_allclose(result.x / scale, reference.x, rtol=1e-5, atol=1e-5)
    assert abs(result.fun / (sc * scale) - reference.fun) <= 1e-6 * max(1, abs(reference.fun))


def test_success_is_checked_on_the_returned_point():
    # the KKT error the solve reports at its last check is that of the returned x and duals
    lp = feasible_lp(2, 8, 5, 3)
    result = itersolve.linprog(*lp)
    c, K, b_eq, b_ub, lb, ub = _arrays(lp)
    y = np.concatenate([result.eqlin.marginals, result.ineqlin.marginals])
    Kx = K @ result.x
    violation = np.concatenate([Kx[: b_eq.size] - b_eq, np.maximum(Kx[b_eq.size :] - b_ub, 0)])
    assert result.stats["kkt"]["primal_residual"] == pytest.approx(
        np.linalg.norm(violation), rel=1e-6, abs=1e-14
    )
    reduced = c - K.T @ y
    np.testing.assert_allclose(result.stats["reduced_costs"], reduced, rtol=1e-12, atol=1e-12)
    assert result.residuals[-1] <= 1e-8


@pytest.mark.parametrize(
    "lp",
    [
        pytest.param(dict(rtol=1e-17), id="unreachable-rtol"),
        pytest.param(dict(eps_infeasible=1e-300), id="uncertifiable-infeasible"),
    ],
)
def test_maxiter_none_ends_with_a_status(lp):
    options = dict(lp)
    problem = infeasible_lp(1) if "eps_infeasible" in options else feasible_lp(1, 10, 5, 2)
    result = itersolve.linprog(*problem, maxiter=None, **options)
    assert result.status == Status.STAGNATED and not result.success
    assert "maxiter=None" in result.message


def test_a_primal_weight_driven_out_of_range_ends_with_a_status_not_an_exception():
    # restarting every 7 iterations on an infeasible LP rebalances the primal weight towards
    # 1e308, where tau = eta/omega underflowed to 0 and the residual divided by it
    result = itersolve.linprog(*infeasible_lp(1), restart=7, maxiter=2000)
    assert not result.success
    assert result.status in (Status.INFEASIBLE, Status.MAXITER, Status.NONFINITE)
    assert math.isfinite(result.stats["primal_weight"]) and result.stats["primal_weight"] > 0
    assert result.message
