"""The sympy derivations behind itersolve.theory.newton, checked against direct computation."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from itersolve.theory import newton as theory

from itersolve._newton._alpha import ALPHA0, alpha_squared_below_alpha0


def test_derived_expressions_are_the_textbook_ones():
    d = theory.derivations()
    alpha, m, e0 = sp.symbols("alpha m e0", positive=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    assert sp.simplify(d["alpha0"] - (13 - 3 * sp.sqrt(17)) / 4) == 0
    assert sp.expand(d["alpha0_polynomial"] - (2 * alpha**2 - 13 * alpha + 2)) == 0
    assert sp.simplify(d["multiplicity_ratio"] - (m - 1) / m) == 0
    assert sp.simplify(d["approximate_zero"] - e0 * sp.Rational(1, 2) ** (2**k - 1)) == 0
    assert sp.simplify(d["deflation_tau"] - d["defcon_tau"]) == 0
    eta, edy = sp.symbols("eta Edy", real=True)
    assert sp.simplify(d["deflation_tau"] - 1 / (1 - edy / eta)) == 0
    assert sp.simplify(d["gamma_theorem_radius"] - (3 - sp.sqrt(7)) / 2) == 0


def test_numeric_functions():
    assert theory.alpha0() == pytest.approx(0.1576707807867546, rel=1e-15)
    assert theory.majorant_ratio(theory.alpha0()) == pytest.approx(0.5)
    np.testing.assert_allclose(
        theory.approximate_zero_bound(np.arange(4), 2.0), [2.0, 1.0, 0.25, 2.0 / 128]
    )
    np.testing.assert_allclose(theory.multiplicity_ratio([1, 2, 4]), [0.0, 0.5, 0.75])
    assert theory.gamma_theorem_radius() == pytest.approx(0.1771243444677046)
    assert theory.deflation_tau(2.0, 1.0) == pytest.approx(2.0)
    assert theory.SAME_ZERO_ALPHA == Fraction(3, 100)
    assert theory.SAME_ZERO_RADIUS_FACTOR == Fraction(1, 20)


@settings(max_examples=50)
@given(st.fractions(min_value=0, max_value=1))
def test_exact_threshold_test_matches_high_precision(a):
    # Near α₀² as well as across [0, 1].
    with mpmath.workdps(60):
        a0_squared = ((13 - 3 * mpmath.sqrt(17)) / 4) ** 2
        for value in (a, Fraction(mpmath.nstr(a0_squared, 40)) + a / 10**30):
            expected = mpmath.mpf(value.numerator) / value.denominator < a0_squared
            assert theory.alpha_squared_below_alpha0(value) == expected


def test_the_alpha_test_uses_the_derived_threshold():
    # The α-test carries α₀ as a number (nothing at run time imports the theory).
    assert ALPHA0 == theory.alpha0()


@settings(max_examples=50)
@given(st.fractions(min_value=0, max_value=1))
def test_the_alpha_tests_exact_threshold_is_the_theorys(a):
    with mpmath.workdps(60):  # 50 digits of α₀²: the values below fall on both sides of it
        near = Fraction(mpmath.nstr(((13 - 3 * mpmath.sqrt(17)) / 4) ** 2, 50))
    for value in (a, near + a / 10**45, near - a / 10**45, Fraction(theory.alpha0()) ** 2):
        assert alpha_squared_below_alpha0(value) == theory.alpha_squared_below_alpha0(value)


@pytest.mark.parametrize("alpha", [0.02, 0.1, 0.15, 0.1576707807867546])
def test_quoted_majorant_ratio_bounds_newton_on_the_majorant(alpha):
    """Newton on h(t) = β - t + γ t²/(1 - γ t) from 0: t* - t_k <= q^(2^k - 1) t*."""
    with mpmath.workdps(50):
        a = mpmath.mpf(alpha)  # units β = 1, γ = α

        def h(t):
            return 1 - t + a * t**2 / (1 - a * t)

        def dh(t):
            return -1 + a * t * (2 - a * t) / (1 - a * t) ** 2

        root = ((1 + a) - mpmath.sqrt((1 + a) ** 2 - 8 * a)) / (4 * a)
        q = theory.majorant_ratio(alpha)
        t = mpmath.mpf(0)
        for k in range(5):
            assert root - t <= q ** (2**k - 1) * root * (1 + 1e-12)
            t -= h(t) / dh(t)
    assert (q <= 0.5 + 1e-12) == (alpha <= theory.alpha0())


@pytest.mark.parametrize("m", [2, 3, 5])
def test_newton_at_a_multiple_root_contracts_by_m_minus_1_over_m(m):
    def f(x):
        return (x - 1) ** m * (x + 2)

    def df(x):
        return m * (x - 1) ** (m - 1) * (x + 2) + (x - 1) ** m

    x, errors = 1.5, []
    for _ in range(40):
        x -= f(x) / df(x)
        errors.append(abs(x - 1))
    assert errors[-1] / errors[-2] == pytest.approx(float(theory.multiplicity_ratio(m)), rel=1e-4)


def test_sherman_morrison_step_equals_the_dense_deflated_solve():
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = 4
        J = rng.standard_normal((n, n)) + 3 * np.eye(n)
        F, grad = rng.standard_normal(n), rng.standard_normal(n)
        eta = rng.uniform(0.5, 2.0)
        delta = -np.linalg.solve(J, F)
        dense = -np.linalg.solve(eta * J + np.outer(F, grad), eta * F)
        tau = theory.deflation_tau(eta, grad @ delta)
        np.testing.assert_allclose(dense, tau * delta, rtol=1e-9, atol=1e-12)
