"""Smale's α-test: certified roots, refused non-roots, float vs exact, distinct/same/real."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from itersolve.theory import newton as theory

from itersolve._newton._alpha import alpha_test, certify
from itersolve._newton._polynomial import PolynomialSystem

A_PLUS, A_MINUS = np.sqrt(2 + np.sqrt(3)), np.sqrt(2 - np.sqrt(3))
FOUR_ROOTS = np.array([[A_PLUS, 1 / A_PLUS], [-A_PLUS, -1 / A_PLUS],
                       [A_MINUS, 1 / A_MINUS], [-A_MINUS, -1 / A_MINUS]])  # fmt: skip


@pytest.fixture(scope="module")
def circle_hyperbola():
    return PolynomialSystem(["x**2 + y**2 - 4", "x*y - 1"], ["x", "y"])


def planted(seed: int, n: int):
    """A well-conditioned quadratic system with the exact rational root ``ξ``.

    ``f_j = (A (x - ξ))_j + Σ_{k<=l} b_jkl (x_k - ξ_k)(x_l - ξ_l)``, ``A = 2I + small``.
    """
    rng = np.random.default_rng(seed)
    xs = sp.symbols(f"x0:{n}")
    xi = [sp.Rational(int(v), 8) for v in rng.integers(-8, 9, n)]
    A = 16 * np.eye(n, dtype=int) + rng.integers(-4, 5, (n, n))
    u = [x - c for x, c in zip(xs, xi)]
    exprs = [
        sp.expand(
            sum(sp.Rational(int(A[j, k]), 8) * u[k] for k in range(n))
            + sum(
                sp.Rational(int(rng.integers(-4, 5)), 16) * u[k] * u[m]
                for k in range(n)
                for m in range(k, n)
            )
        )  # fmt: skip
        for j in range(n)
    ]
    return PolynomialSystem(exprs, xs), np.array([float(v) for v in xi])


def newton(F, x, steps):
    for _ in range(steps):
        x = x - np.linalg.solve(F.jacobian(x), F(x))
    return x


@settings(max_examples=15)
@given(seed=st.integers(0, 10**6), n=st.sampled_from([2, 3]))
def test_planted_roots_are_certified_and_shifted_points_refused(seed, n):
    F, xi = planted(seed, n)
    rng = np.random.default_rng(seed + 1)
    direction = rng.standard_normal(n)
    direction /= np.linalg.norm(direction)
    x = newton(F, xi + 0.05 * direction, 3)
    for exact in (False, True):
        cert = alpha_test(F, x, exact=exact)
        assert cert.certified and cert.rigorous == exact
        if exact:  # the zero lies within 2β, checked exactly: ||x - ξ||² <= 4β²
            gap2 = sum((Fraction(float(a)) - Fraction(float(b))) ** 2 for a, b in zip(x, xi))
            assert gap2 <= 4 * cert.squares[1]
        else:  # in floating point F(x) may round to 0 (β = 0): not a proof
            assert np.linalg.norm(x - xi) <= cert.radius + 1e-12
        assert cert.unique_radius > 0
        for shift in (0.1, 0.3, 1.0):
            assert not alpha_test(F, xi + shift * direction, exact=exact).certified


@settings(max_examples=10)
@given(seed=st.integers(0, 10**6))
def test_certified_start_converges_like_an_approximate_zero(seed):
    F, xi = planted(seed, 2)
    x = xi + 1e-3 * np.random.default_rng(seed).standard_normal(2)
    cert = alpha_test(F, x)
    assert cert.certified
    e0 = np.linalg.norm(x - xi)
    assert e0 <= 2 * cert.beta
    errors = [np.linalg.norm(newton(F, x, k) - xi) for k in range(4)]
    bound = theory.approximate_zero_bound(np.arange(4), e0)
    assert np.all(np.array(errors) <= bound + 1e-15)


@settings(max_examples=10)
@given(seed=st.integers(0, 10**6), n=st.sampled_from([2, 3]))
def test_float_alpha_agrees_with_exact(seed, n):
    F, xi = planted(seed, n)
    x = xi + 1e-3 * np.random.default_rng(seed).standard_normal(n)
    fl, ex = alpha_test(F, x), alpha_test(F, x, exact=True)
    a2, b2, g2 = ex.squares
    for value, square in ((fl.alpha, a2), (fl.beta, b2), (fl.gamma, g2)):
        assert value == pytest.approx(float(sp.sqrt(sp.Rational(square.numerator,
                                                                square.denominator))),
                                      rel=1e-10)  # fmt: skip
    assert fl.certified == ex.certified


def test_gamma_bound_dominates_a_lower_bound_of_gamma(circle_hyperbola):
    """γ ≥ ||DF⁻¹ D²F(u, u)/2|| for unit ``u``; both upper bounds must exceed it."""
    x = FOUR_ROOTS[0] + 1e-3
    cert = alpha_test(circle_hyperbola, x)
    Jinv = np.linalg.inv(circle_hyperbola.jacobian(x))
    hessians = np.array([[[2, 0], [0, 2]], [[0, 1], [1, 0]]], dtype=float)
    rng = np.random.default_rng(0)
    lower = 0.0
    for _ in range(200):
        u = rng.standard_normal(2)
        u /= np.linalg.norm(u)
        lower = max(lower, np.linalg.norm(Jinv @ (hessians @ u @ u) / 2))
    assert lower <= cert.gamma_direct <= cert.gamma


def test_threshold_is_the_theory_value():
    alpha0 = (13 - 3 * sp.sqrt(17)) / 4
    assert theory.alpha0() == float(alpha0)
    # The exact decision is a rational test: compare it with sympy's exact comparison.
    a0_squared = float(alpha0**2)
    for value in np.linspace(a0_squared * (1 - 1e-12), a0_squared * (1 + 1e-12), 7):
        rational = sp.Rational(value)
        assert theory.alpha_squared_below_alpha0(rational) == bool(rational < alpha0**2)


def test_circle_hyperbola_roots_distinct_and_real(circle_hyperbola):
    for exact in (False, True):
        result = certify(circle_hyperbola, FOUR_ROOTS, exact=exact)
        assert result.certified.all() and result.rigorous == exact
        off_diagonal = ~np.eye(4, dtype=bool)
        assert result.distinct[off_diagonal].all()
        assert result.real.all() and not result.not_real.any()
        assert result.n_distinct == 4 and result.duplicates == ()


def test_two_approximations_of_the_same_root(circle_hyperbola):
    roots = np.vstack([FOUR_ROOTS, FOUR_ROOTS[2] + 1e-7, FOUR_ROOTS[0] + 1e-4j])
    for exact in (False, True):
        result = certify(circle_hyperbola, roots, exact=exact)
        assert result.certified.all()
        assert result.same[2, 4] and result.same[0, 5]
        assert result.duplicates == ((0, 5), (2, 4))
        assert not result.distinct[2, 4] and not result.distinct[0, 5]
        assert result.n_distinct == 4
        assert result.real[5]  # a complex approximation of a real root is still certified real


def test_complex_root_of_a_real_system_is_not_real():
    F = PolynomialSystem(["x**2 + y**2 - 1", "x - 2"], ["x", "y"])
    root = np.array([2, 1j * np.sqrt(3)])
    for exact in (False, True):
        result = certify(F, [root, root.conj()], exact=exact)
        assert result.real_system and result.certified.all()
        assert not result.real.any() and result.not_real.all()
        assert result.distinct[0, 1] and result.n_distinct == 2


def test_complex_coefficients_are_never_certified_real():
    F = PolynomialSystem(["x**2 - 2*I*y", "y - 1"], ["x", "y"])
    x = np.sqrt(2j)
    result = certify(F, [[x, 1]], exact=True)
    assert result.certified[0] and not result.real_system and not result.real[0]


def test_singular_jacobian_is_not_certified():
    F = PolynomialSystem(["x**2", "y"], ["x", "y"])
    for exact in (False, True):
        cert = alpha_test(F, [0.0, 0.0], exact=exact)
        assert not cert.certified and cert.alpha == np.inf


def test_bad_input(circle_hyperbola):
    with pytest.raises(ValueError, match="2 equations in 3 variables"):
        alpha_test(PolynomialSystem(["x + y", "z"], ["x", "y", "z"]), [0, 0, 0])
    with pytest.raises(ValueError, match="`x` must have length 2"):
        alpha_test(circle_hyperbola, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="`x` contains NaN"):
        alpha_test(circle_hyperbola, [np.nan, 1.0])
    with pytest.raises(ValueError, match=r"`roots\[1\]` must have length 2"):
        certify(circle_hyperbola, [[1.0, 1.0], [1.0]])
    with pytest.raises(ValueError, match="`roots` must be a non-empty"):
        certify(circle_hyperbola, [])
    with pytest.raises(TypeError, match="`system` must be a PolynomialSystem"):
        alpha_test(lambda x: x, [1.0])
    # sympy input: the string parser takes no functions such as sqrt
    irrational = PolynomialSystem([sp.parse_expr("x**2 - sqrt(2)"), "y"], ["x", "y"])
    assert alpha_test(irrational, [2**0.25, 0.0]).certified
    with pytest.raises(ValueError, match="rational"):
        alpha_test(irrational, [2**0.25, 0.0], exact=True)


class _DuckSystem:
    variables = (sp.Symbol("x"),)
    exprs = (sp.sin(sp.Symbol("x")),)


def test_hostile_input_gives_a_clear_error_or_no_certificate(circle_hyperbola):
    """Issue 12: bad arguments are itersolve's own named errors; points where the values
    overflow (or DF is numerically singular) are simply not certified, with no warning
    (the suite runs with warnings as errors)."""
    with pytest.raises(TypeError, match="`exact`"):
        alpha_test(circle_hyperbola, [1.9, 0.5], exact="yes")
    with pytest.raises(TypeError, match="`exact`"):
        certify(circle_hyperbola, [[1.9, 0.5]], exact=None)
    with pytest.raises(TypeError, match="`x`"):
        alpha_test(circle_hyperbola, [True, False])
    with pytest.raises(TypeError, match="`x`"):
        alpha_test(circle_hyperbola, [[1.0], [1.0, 2.0]])
    with pytest.raises(TypeError, match="`roots`"):
        certify(circle_hyperbola, None)
    with pytest.raises(TypeError, match="`roots`"):
        certify(circle_hyperbola, "ab")
    with pytest.raises(ValueError, match="`system`: equation 0 is not a polynomial"):
        alpha_test(_DuckSystem(), [0.5])
    for x in ([1e200, 1e200], [1e300, 1.0], [1e-300, 1e-300]):
        for exact in (False, True):
            cert = alpha_test(circle_hyperbola, x, exact=exact)
            assert not cert.certified and cert.radius == np.inf
        assert not certify(circle_hyperbola, [x]).certified.any()


def test_complex_coefficients_at_a_real_point():
    """A real point of a system with complex coefficients is evaluated in complex
    arithmetic (no ComplexWarning, no dropped imaginary part): the root i of x - i is not
    an approximate zero from x = 0.5, but it is from 1e-9 + i, where β = |x - i|."""
    F = PolynomialSystem(["x - I"], ["x"])
    far = alpha_test(F, [0.5])
    assert not far.certified and far.beta == pytest.approx(abs(0.5 - 1j), rel=1e-12)
    near = alpha_test(F, [1e-9 + 1j])
    assert near.certified and near.beta == pytest.approx(1e-9, rel=1e-6)
