"""``find_roots``: the batched rounds (``vectorized=True``) and the Bézout stop.

Oracles: the round-based search run one solve at a time (``workers=map``, the NumPy
Newton), the closed-form roots of the circle and hyperbola, and Bézout's bound worked out
by hand for each system.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itersolve._newton import PolynomialSystem, find_roots
from itersolve._result import Status


def circle_hyperbola(x):
    return np.array([x[0] ** 2 + x[1] ** 2 - 4, x[0] * x[1] - 1])


def circle_hyperbola_jac(x):
    return np.array([[2 * x[0], 2 * x[1]], [x[1], x[0]]])


def circle_hyperbola_rows(X):
    return np.stack([X[:, 0] ** 2 + X[:, 1] ** 2 - 4, X[:, 0] * X[:, 1] - 1], axis=1)


def circle_hyperbola_jac_rows(X):
    return np.stack(
        [np.stack([2 * X[:, 0], 2 * X[:, 1]], -1), np.stack([X[:, 1], X[:, 0]], -1)], axis=1
    )


def cubics(x):  # eight real roots near (+-1, +-1, +-1)
    return np.array(
        [x[0] ** 2 - 1 + 0.1 * x[1], x[1] ** 2 - 1 + 0.1 * x[2], x[2] ** 2 - 1 + 0.1 * x[0]]
    )


def cubics_rows(X):
    return np.stack([cubics(x) for x in X])


CIRCLE_HYPERBOLA = PolynomialSystem(["x**2 + y**2 - 4", "x*y - 1"], ["x", "y"])


def exact_four_roots():
    roots = []
    for a in (math.sqrt(2 + math.sqrt(3)), math.sqrt(2 - math.sqrt(3))):
        roots += [(a, 1 / a), (-a, -1 / a)]
    return np.array(roots)


def assert_same_search(batched, one_by_one, *, rtol):
    """The same attempts (status and iterations exactly, points to ``rtol``) and roots."""
    assert batched.reason == one_by_one.reason
    assert [(a.status, a.nit) for a in batched.attempts] == [
        (a.status, a.nit) for a in one_by_one.attempts
    ]
    np.testing.assert_allclose(batched.roots, one_by_one.roots, rtol=rtol, atol=rtol)
    for a, b in zip(batched.attempts, one_by_one.attempts, strict=True):
        assert a.residuals.shape == b.residuals.shape
        if a.success:
            np.testing.assert_allclose(a.x, b.x, rtol=rtol, atol=rtol)
    assert (batched.nit, batched.linear_solves) == (one_by_one.nit, one_by_one.linear_solves)


# --- vectorized=True: every guess of a round in one batch --------------------------------


def test_vectorized_search_is_the_rounds_search_on_a_hundred_guesses():
    # One data set, the same search: every attempt's status and iteration count, and the
    # points to rounding (the rows compute norms scaled per row, so the last bits differ).
    starts = np.random.default_rng(0).uniform(-3, 3, (100, 2))
    batched = find_roots(
        circle_hyperbola_rows, starts, jacobian=circle_hyperbola_jac_rows, vectorized=True
    )
    one_by_one = find_roots(circle_hyperbola, starts, jacobian=circle_hyperbola_jac, workers=map)
    assert_same_search(batched, one_by_one, rtol=1e-12)
    assert len(batched.attempts) == 200


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 12), armijo=st.booleans())
def test_vectorized_rows_follow_newton_to_rounding(seed, count, armijo):
    # A row is the NumPy Newton iteration to rounding. A deflated solve that wanders
    # chaotically for tens of iterations amplifies that rounding, and so does a line search
    # that gives up on merits equal to rounding, so only attempts of the first round that
    # converged within 25 iterations are compared step for step; every root found is one of
    # the four exact roots either way.
    starts = np.random.default_rng(seed).uniform(-3, 3, (count, 2))
    linesearch = "armijo" if armijo else None
    batched = find_roots(
        circle_hyperbola_rows,
        starts,
        jacobian=circle_hyperbola_jac_rows,
        vectorized=True,
        linesearch=linesearch,
    )
    one_by_one = find_roots(
        circle_hyperbola, starts, jacobian=circle_hyperbola_jac, workers=map, linesearch=linesearch
    )
    for a, b in zip(batched.attempts[:count], one_by_one.attempts[:count], strict=True):
        if b.success and b.nit <= 25:
            assert (a.status, a.nit) == (b.status, b.nit)
            np.testing.assert_allclose(a.x, b.x, rtol=1e-12, atol=1e-12)
    exact = exact_four_roots()
    for found in (batched, one_by_one):
        for root in found.roots:
            assert np.min(np.linalg.norm(exact - root, axis=1)) <= 1e-12


def test_vectorized_rounds_with_finite_differences_in_three_unknowns():
    starts = np.random.default_rng(3).uniform(-2, 2, (10, 3))
    batched = find_roots(cubics_rows, starts, jacobian="2-point", vectorized=True, maxiter=60)
    one_by_one = find_roots(cubics, starts, jacobian="2-point", workers=map, maxiter=60)
    assert len(batched.roots) == 8  # the oracle: all eight, each a root of F
    assert np.abs(np.stack([cubics(r) for r in batched.roots])).max() <= 1e-10
    # forward differences amplify the rounding of F by 1/h ~ 1e8: iterates agree to ~1e-7
    assert [a.status for a in batched.attempts] == [a.status for a in one_by_one.attempts]
    np.testing.assert_allclose(
        np.sort(batched.roots, axis=0), np.sort(one_by_one.roots, axis=0), atol=1e-9
    )


def test_vectorized_attempts_are_ordinary_results():
    starts = np.array([[3.0, 0.5], [-3.0, -0.5], [0.1, 0.1]])
    found = find_roots(
        circle_hyperbola_rows, starts, jacobian=circle_hyperbola_jac_rows, vectorized=True
    )
    first = found.attempts[0]
    assert first.success and first.status == Status.CONVERGED
    assert first.residuals[0] == pytest.approx(np.linalg.norm(circle_hyperbola(starts[0])))
    assert first.residuals[-1] <= 1e-12 and len(first.residuals) == first.nit + 1
    assert first.stats["backend"] == "numpy" and first.stats["batch_rows"] == 3
    assert len(first.stats["step_norms"]) == first.nit
    assert "Converged after" in first.message
    failed = [a for a in found.attempts if not a.success]
    assert {a.status for a in failed} == {Status.MAXITER, Status.STAGNATED}
    for a in failed:  # the NumPy path's words
        assert ("Stopped after 100 iterations" in a.message) == (a.status == Status.MAXITER)
    assert found.nit == sum(a.nit for a in found.attempts)


def test_vectorized_polynomial_system_is_evaluated_row_by_row():
    starts = np.random.default_rng(1).uniform(-3, 3, (6, 2))
    found = find_roots(CIRCLE_HYPERBOLA, starts, vectorized=True)
    assert found.reason == "bezout"
    for root in exact_four_roots():
        assert np.min(np.linalg.norm(found.roots - root, axis=1)) <= 1e-12


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        ({"vectorized": 1}, TypeError, "`vectorized` must be True or False"),
        ({"vectorized": True, "maxiter": None}, ValueError, "integer `maxiter`"),
        ({"vectorized": True, "workers": 2}, ValueError, "`workers=1`"),
        ({"vectorized": True, "callback": print}, ValueError, "no `callback`"),
    ],
)
def test_vectorized_refuses_what_a_batch_cannot_do(options, error, words):
    with pytest.raises(error, match=words):
        find_roots(
            circle_hyperbola_rows, [[3.0, 0.5]], jacobian=circle_hyperbola_jac_rows, **options
        )


# --- the Bézout stop --------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, map])
def test_search_stops_once_bezouts_bound_is_certified(workers):
    # 2 * 2 = 4 roots at most, and four found: no fifth solve that could only fail
    found = find_roots(CIRCLE_HYPERBOLA, [[3.0, 0.5], [-3.0, 0.2]], workers=workers)
    assert found.reason == "bezout" and found.success
    assert all(a.success for a in found.attempts)
    for root in exact_four_roots():
        assert np.min(np.linalg.norm(found.roots - root, axis=1)) <= 1e-12


def test_bezout_stop_needs_the_roots_a_real_search_cannot_reach():
    # x^2 + 1 = 0, y^2 - 1 = 0: Bezout's bound 4, all four roots complex. Real starts find
    # none; complex starts find all four and stop on the bound.
    system = PolynomialSystem(["x**2 + 1", "y**2 - 1"], ["x", "y"])
    real = find_roots(system, [0.5, 0.5])
    assert real.reason == "exhausted" and not real.success
    complex_ = find_roots(system, [0.3 + 0.4j, 0.5 + 0.1j])
    assert complex_.reason == "bezout" and len(complex_.roots) == 4
    expected = {(sx * 1j, sy * 1.0) for sx in (1, -1) for sy in (1, -1)}
    got = {(complex(round(r[0].real, 9), round(r[0].imag, 9)), complex(round(r[1].real, 9)))
           for r in complex_.roots}  # fmt: skip
    assert got == {(complex(a), complex(b)) for a, b in expected}


def test_bezout_stop_never_counts_a_singular_root():
    # x^2 - y = 0, x^2 - 2y = 0: one root, (0, 0), of multiplicity 4 = Bezout's bound. It is
    # not simple, the alpha-test cannot certify it, so the search ends as before: exhausted.
    system = PolynomialSystem(["x**2 - y", "x**2 - 2*y"], ["x", "y"])
    found = find_roots(system, [0.7, 0.4], maxiter=200)
    assert found.reason == "exhausted"


def test_bezout_stop_ignores_what_is_not_a_square_system_of_positive_degrees():
    # a callable F: no degrees known; the search runs to its failing fifth solve
    found = find_roots(circle_hyperbola, [3.0, 0.5], jacobian=circle_hyperbola_jac)
    assert found.reason == "exhausted" and len(found.attempts) == 5
    # max_roots below the bound still ends the search first
    capped = find_roots(CIRCLE_HYPERBOLA, [3.0, 0.5], max_roots=3)
    assert capped.reason == "max_roots" and len(capped.roots) == 3
    # x^2 - 1 = 0 and y^3 - y = 0: bound 2 * 3 = 6, six simple roots
    six = find_roots(PolynomialSystem(["x**2 - 1", "y**3 - y"], ["x", "y"]), [0.4, 0.3])
    assert six.reason == "bezout" and len(six.roots) == 6
