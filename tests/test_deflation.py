"""Shifted deflation: the Sherman–Morrison step, all roots of known systems, failure modes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from itersolve._newton import (
    PolynomialSystem,
    RootsResult,
    ShiftedDeflation,
    deflated_newton,
    find_roots,
)
from itersolve._result import ConvergenceError, Status
from itersolve.testing import strategies


def circle_hyperbola(x):
    return np.array([x[0] ** 2 + x[1] ** 2 - 4, x[0] * x[1] - 1])


def circle_hyperbola_jac(x):
    return np.array([[2 * x[0], 2 * x[1]], [x[1], x[0]]])


def exact_four_roots():
    """(a, 1/a) with a^2 = 2 +- sqrt(3), and their negatives: signs equal within a root."""
    roots = []
    for a in (math.sqrt(2 + math.sqrt(3)), math.sqrt(2 - math.sqrt(3))):
        roots += [(a, 1 / a), (-a, -1 / a)]
    return np.array(roots)


def assert_same_root_set(found, exact, tol):
    assert len(found) == len(exact)
    for root in exact:
        assert np.min(np.linalg.norm(found - root, axis=1)) <= tol


@pytest.mark.parametrize(
    "F", [circle_hyperbola, PolynomialSystem(["x**2 + y**2 - 4", "x*y - 1"], ["x", "y"])]
)
def test_four_roots_from_one_guess(F):
    found = find_roots(
        F, [3.0, 0.5], jacobian=None if isinstance(F, PolynomialSystem) else circle_hyperbola_jac
    )
    assert_same_root_set(found.roots, exact_four_roots(), 1e-12)
    if isinstance(F, PolynomialSystem):
        # Bezout's bound 2 * 2 = 4 is reached and certified: no fifth, futile solve
        assert found.success and found.reason == "bezout"
        assert len(found.attempts) == 4 and "Bézout's bound 4" in found.message
    else:
        assert found.success and found.reason == "exhausted"
        # The fifth solve, with all four roots deflated, fails and says why the search ended.
        assert len(found.attempts) == 5 and not found.attempts[-1].success
        assert "normal end" in found.message
    assert all(r.success and r.nit <= 15 for r in found.results)
    assert found.nit == sum(a.nit for a in found.attempts)
    assert found.linear_solves == found.jacobian_evaluations == found.nit


def test_max_roots_and_several_starts():
    found = find_roots(circle_hyperbola, [3.0, 0.5], jacobian=circle_hyperbola_jac, max_roots=2)
    assert len(found.roots) == 2 and found.reason == "max_roots"
    starts = np.array([[3.0, 0.5], [-3.0, -0.5], [0.5, 3.0]])
    several = find_roots(circle_hyperbola, starts, jacobian=circle_hyperbola_jac)
    assert_same_root_set(several.roots, exact_four_roots(), 1e-12)


def test_complex_cube_roots_of_unity():
    found = find_roots(PolynomialSystem(["z**3 - 1"], ["z"]), [0.5 + 0.5j])
    exact = np.exp(2j * np.pi * np.arange(3) / 3)[:, None]
    assert found.roots.dtype == np.complex128
    assert_same_root_set(found.roots, exact, 1e-12)


# --- the deflation operator ----------------------------------------------------------------


def dense_deflated_newton_step(F, J, deflation, u):
    """-G'(u)^{-1} G(u) with G' = eta J + F grad_eta^T formed and solved densely."""
    eta, grad = deflation.eta(u), deflation.grad_eta(u)
    G_prime = eta * J(u) + np.outer(F(u), grad)
    return -np.linalg.solve(G_prime, eta * F(u))


@given(
    seed=st.integers(0, 2**32 - 1),
    power=st.sampled_from([1.0, 2.0, 3.0]),
    shift=st.sampled_from([0.0, 0.01, 1.0]),
    n_roots=st.integers(1, 3),
)
def test_sherman_morrison_step_equals_dense_solve(seed, power, shift, n_roots):
    rng = np.random.default_rng(seed)
    n = 4
    A = rng.standard_normal((n, n)) + 3 * np.eye(n)

    def F(u):
        return A @ u + u**3 - 1

    def J(u):
        return A + np.diag(3 * u**2)

    weight = rng.uniform(0.5, 2.0, n)
    deflation = ShiftedDeflation(rng.standard_normal((n_roots, n)), power, shift, weight=weight)
    u = rng.standard_normal(n)
    delta = -np.linalg.solve(J(u), F(u))
    tau = deflation.tau(u, delta)
    np.testing.assert_allclose(
        tau * delta, dense_deflated_newton_step(F, J, deflation, u), rtol=1e-7, atol=1e-10
    )
    # grad_eta itself against central differences of eta.
    h = 1e-6
    fd = [(deflation.eta(u + h * e) - deflation.eta(u - h * e)) / (2 * h) for e in np.eye(n)]
    np.testing.assert_allclose(deflation.grad_eta(u), fd, rtol=1e-5, atol=1e-8)


def test_shifted_deflation_values_and_input():
    d = ShiftedDeflation([[1.0, 0.0], [0.0, 2.0]], power=2, shift=1.0)
    # (1/1 + 1) * (1/4 + 1)
    assert d.eta(np.zeros(2)) == pytest.approx(2.5)
    assert d.eta(np.array([1.0, 0.0])) == math.inf
    with pytest.raises(ValueError, match="power"):
        ShiftedDeflation(power=0)
    with pytest.raises(ValueError, match="shift"):
        ShiftedDeflation(shift=-1)
    with pytest.raises(ValueError, match="root"):
        d.add([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="NaN"):
        d.add([np.nan, 0.0])
    with pytest.raises(ValueError, match="roots"):
        deflated_newton(circle_hyperbola, [3.0, 0.5], roots=[[1.0, 2.0, 3.0]])


def test_never_converges_to_a_deflated_root():
    # A double root at 0 with power 1: G = (1/|x| + 1) x^2 -> 0, so Newton on G goes to
    # the deflated root. That is not a success.
    result = deflated_newton(
        lambda x: x**2, [0.5], jacobian=lambda x: np.diag(2 * x), roots=[[0.0]], power=1
    )
    assert not result.success and result.status == Status.STAGNATED
    assert "deflated root 0" in result.message
    # With every root of the 2x2 system deflated, no solve succeeds, from many starts.
    deflation = ShiftedDeflation(exact_four_roots())
    rng = np.random.default_rng(1)
    for x0 in rng.uniform(-3, 3, (10, 2)):
        result = deflated_newton(
            circle_hyperbola, x0, jacobian=circle_hyperbola_jac, roots=deflation, maxiter=50
        )
        assert not result.success
        assert result.status in (Status.MAXITER, Status.NONFINITE, Status.STAGNATED)


# --- Bratu ---------------------------------------------------------------------------------


def bratu(N, lam=2.0):
    """-u'' = lam e^u on (0, 1), u(0) = u(1) = 0, second-order differences, N intervals."""
    m, h = N - 1, 1.0 / N
    A = sp.diags_array([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)], offsets=[-1, 0, 1])
    A = sp.csc_array(A / h**2)

    def F(u):
        return A @ u - lam * np.exp(u)

    def J(u):
        return sp.csc_array(A - sp.diags_array(lam * np.exp(u)))

    return F, J


def bratu_exact_midpoints(lam=2.0):
    """u(1/2) = 2 ln cosh(theta/4) with theta = sqrt(2 lam) cosh(theta/4), both branches."""

    def g(t):
        return t - math.sqrt(2 * lam) * math.cosh(t / 4)

    thetas = [scipy.optimize.brentq(g, 0.1, 4.0), scipy.optimize.brentq(g, 4.0, 12.0)]
    return np.array([2 * math.log(math.cosh(t / 4)) for t in thetas])


def test_bratu_both_branches_and_second_order_mesh_convergence():
    exact = bratu_exact_midpoints()
    np.testing.assert_allclose(exact, [0.3289524, 2.8955313], atol=1e-7)
    errors = []
    for N in (50, 100, 200, 400):
        F, J = bratu(N)
        # weight = h: the deflation's norm is the L2 norm of the mesh function (defcon's).
        found = find_roots(F, np.zeros(N - 1), jacobian=J, weight=1.0 / N)
        assert len(found.roots) == 2 and found.reason == "exhausted"
        # The solve after both roots are deflated diverges: a status, not an exception.
        assert found.attempts[-1].status in (Status.NONFINITE, Status.MAXITER)
        midpoints = np.sort(found.roots[:, N // 2 - 1])
        errors.append(np.abs(midpoints - exact))
    errors = np.array(errors)
    assert np.all(errors[-1] < 1e-5)
    ratios = errors[:-1] / errors[1:]
    assert np.all((ratios > 3.5) & (ratios < 4.5)), ratios


# --- hardening: bounded searches, honest successes, named errors ---------------------------


def test_find_roots_on_sin_ends_with_a_bounded_number_of_true_roots():
    # sin has infinitely many roots: with max_roots=None (and maxiter=None) the search
    # stops at its limit with a reason and a message instead of running forever.
    found = find_roots(np.sin, [1.0], maxiter=None)
    assert found.reason == "root_limit" and len(found.roots) == 100
    assert "max_roots" in found.message
    # Every root is a multiple of pi (closed form), distinct.
    multiples = found.roots[:, 0] / math.pi
    np.testing.assert_allclose(multiples, np.round(multiples), atol=1e-9)
    assert np.unique(np.round(multiples)).size == 100


def test_deflated_success_is_a_root_of_the_undeflated_F():
    # arctan(1e20 (x - 1)) + 2 has no root; the step test used to accept x = 1 (residual 2).
    def F(x):
        return np.arctan(1e20 * (x - 1)) + 2

    def jac(x):
        return np.diag(1e20 / (1 + (1e20 * (x - 1)) ** 2))

    result = deflated_newton(F, [1.0], jacobian=jac, roots=[[3.0]])
    assert not result.success and "stuck" in result.message
    found = find_roots(F, [1.0], jacobian=jac)
    assert len(found.roots) == 0 and not found.success
    # Where it succeeds, the undeflated residual meets the tolerance.
    for root in exact_four_roots():
        result = deflated_newton(circle_hyperbola, [3.0, 0.5], roots=[root])
        assert result.success
        assert np.linalg.norm(circle_hyperbola(result.x)) <= 1e-12 + 1e-10 * np.linalg.norm(
            circle_hyperbola([3.0, 0.5])
        )
        assert np.linalg.norm(result.x - root) > 0.1


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        ({"roots": "a"}, TypeError, "`roots`"),
        ({"roots": 5}, ValueError, "`roots`"),
        ({"roots": [[np.nan, 1.0]]}, ValueError, "`roots`"),
        ({"roots": [[1.0, 2.0, 3.0]]}, ValueError, "`roots`"),
        ({"roots": [1.0, 2.0]}, ValueError, "`roots`"),
        ({"roots": [[1j, 1.0]]}, TypeError, "`roots`"),
        ({"weight": "a"}, TypeError, "`weight`"),
        ({"weight": [1.0, 2.0, 3.0]}, ValueError, "`weight`"),
        ({"weight": 1j}, TypeError, "`weight`"),
        ({"weight": -1.0}, ValueError, "`weight`"),
        ({"power": "2"}, TypeError, "`power`"),
        ({"shift": -1.0}, ValueError, "`shift`"),
    ],
)
def test_deflation_arguments_are_named_errors(kwargs, error, name):
    call = {"roots": [[1.0, 1.0]], **kwargs}
    with pytest.raises(error, match=name):
        deflated_newton(circle_hyperbola, [3.0, 0.5], **call)


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        ({"x0": [[1.0, 2.0], [3.0]]}, TypeError, "`x0`"),
        ({"x0": np.zeros((0, 2))}, ValueError, "`x0`"),
        ({"x0": "ab"}, TypeError, "`x0`"),
        ({"max_roots": 2.0}, TypeError, "`max_roots`"),
        ({"max_roots": 0}, ValueError, "`max_roots`"),
        ({"weight": [1.0, 2.0, 3.0]}, ValueError, "`weight`"),
        ({"distinct_tol": math.inf}, ValueError, "`distinct_tol`"),
    ],
)
def test_find_roots_arguments_are_named_errors(kwargs, error, name):
    call = {"x0": [3.0, 0.5], **kwargs}
    with pytest.raises(error, match=name):
        find_roots(circle_hyperbola, call.pop("x0"), **call)


def test_shifted_deflation_rejects_bad_roots_by_name():
    with pytest.raises(TypeError, match="`roots`"):
        ShiftedDeflation(roots="ab")
    with pytest.raises(TypeError, match="`root`"):
        ShiftedDeflation().add(object())
    # A singular deflated Jacobian is tau = inf, without a warning.
    assert ShiftedDeflation([[0.0]], power=2, shift=0.0).tau(np.array([1.0]), [-0.5]) == math.inf


# --- find_roots: callback and throw ----------------------------------------------------------


def test_find_roots_callback_sees_every_iteration_of_every_deflated_solve():
    calls = []
    found = find_roots(circle_hyperbola, [3.0, 0.5], callback=calls.append)
    # Each deflated solve calls back at nit = 0, 1, ..., its nit (as deflated_newton does).
    expected = [k for attempt in found.attempts for k in range(attempt.nit + 1)]
    assert [c.nit for c in calls] == expected
    assert found.status == Status.CONVERGED and found.reason == "exhausted"
    # The last call of a converged solve carries the root it found.
    finals = [c for c in calls if c.status == Status.CONVERGED]
    np.testing.assert_array_equal(np.array([c.x for c in finals]), found.roots)


def test_find_roots_callback_stops_the_search_with_the_roots_so_far():
    full = find_roots(circle_hyperbola, [3.0, 0.5])

    def stop_at_the_second_root(intermediate):
        if intermediate.success and intermediate.x[0] == full.roots[1][0]:
            raise StopIteration  # at the last call of a converged solve: the root is kept

    found = find_roots(circle_hyperbola, [3.0, 0.5], callback=stop_at_the_second_root)
    assert found.status == Status.CALLBACK and found.reason == "callback"
    assert found.success and len(found.attempts) == 2
    np.testing.assert_array_equal(found.roots, full.roots[:2])
    for root in found.roots:  # checked against F itself, not the solver's residuals
        assert np.linalg.norm(circle_hyperbola(root)) <= 1e-12

    def stop_at_once(intermediate):
        if intermediate.nit == 1:
            raise StopIteration

    # Stopped inside the first solve: no root, CALLBACK, and no ConvergenceError.
    found = find_roots(circle_hyperbola, [3.0, 0.5], callback=stop_at_once, throw=True)
    assert found.status == Status.CALLBACK and not found.success and len(found.roots) == 0
    assert found.attempts[0].status == Status.CALLBACK and found.nit == 1


def test_find_roots_throws_when_it_finds_no_root():
    # x^2 + 1 has no real root: every solve fails, so the search fails as `success` says.
    no_root = find_roots(lambda x: x**2 + 1, [0.5], maxiter=30)
    assert not no_root.success and len(no_root.roots) == 0
    with pytest.raises(ConvergenceError) as info:
        find_roots(lambda x: x**2 + 1, [0.5], maxiter=30, throw=True)
    assert isinstance(info.value.result, RootsResult) and not info.value.result.success
    # A search that finds roots does not raise, even when its last solve fails.
    found = find_roots(circle_hyperbola, [3.0, 0.5], throw=True)
    assert found.success and not found.attempts[-1].success
    with pytest.raises(TypeError, match="`throw`"):
        find_roots(circle_hyperbola, [3.0, 0.5], throw="yes")
    with pytest.raises(TypeError, match="`callback`"):
        find_roots(circle_hyperbola, [3.0, 0.5], callback=3)


# --- the array-API backend -------------------------------------------------------------------


@pytest.mark.parametrize("linesearch", [None, "armijo"])
def test_array_api_backend_deflates_as_the_numpy_backend(linesearch):
    first = deflated_newton(circle_hyperbola, [3.0, 0.5])
    runs = [
        deflated_newton(
            circle_hyperbola, [3.0, 0.5], roots=[first.x], linesearch=linesearch, backend=backend
        )
        for backend in ("numpy", "array-api")
    ]
    cpu, generic = runs
    assert (generic.status, generic.nit, generic.message) == (cpu.status, cpu.nit, cpu.message)
    np.testing.assert_allclose(generic.x, cpu.x, rtol=1e-13)
    np.testing.assert_allclose(generic.stats["taus"], cpu.stats["taus"], rtol=1e-12)
    assert generic.stats["backtracks"] == cpu.stats["backtracks"]

    cpu = find_roots(circle_hyperbola, [3.0, 0.5], linesearch=linesearch)
    generic = find_roots(circle_hyperbola, [3.0, 0.5], linesearch=linesearch, backend="array-api")
    assert [a.status for a in generic.attempts] == [a.status for a in cpu.attempts]
    assert generic.nit == cpu.nit and generic.reason == cpu.reason
    np.testing.assert_allclose(generic.roots, cpu.roots, rtol=1e-13)
    # A deflated root the iterate converges to anyway is refused, with the same words.
    cpu, generic = (
        deflated_newton(
            lambda x: x**2,
            [0.5],
            jacobian=lambda x: np.diag(2 * x),
            roots=[[0.0]],
            power=1,
            backend=backend,
        )
        for backend in ("numpy", "array-api")
    )
    assert generic.status == cpu.status == Status.STAGNATED
    assert generic.message == cpu.message and "deflated root 0" in cpu.message


@pytest.mark.parametrize("n_vars", [1, 2, 3])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_find_roots_returns_only_planted_roots_each_once(n_vars, data):
    """Regular planted systems have 2^n known roots (case.roots). Deflation promises no
    completeness, but every root it returns must be one of them, found once."""
    case = data.draw(strategies.planted_roots(n_vars=n_vars, multiplicity=1, breadth=0))
    system, root, _ = case
    guesses = root + 0.1 * np.eye(n_vars)[: min(n_vars, 2)]
    found = find_roots(system, guesses, jacobian=system.jacobian, max_roots=len(case.roots))
    assert len(found.roots) >= 1
    distances = np.linalg.norm(found.roots[:, None, :] - case.roots[None, :, :], axis=2)
    nearest = np.argmin(distances, axis=1)
    assert np.all(
        distances[np.arange(len(nearest)), nearest] <= 1e-9 * (1 + np.abs(case.roots).max())
    )
    assert len(set(nearest.tolist())) == len(nearest)  # distinct
