"""itersolve.testing.rates: each plain-numpy rate against the sympy derivations of the theory.

The rates module is what users' suites import (no sympy); the theory module derives the
same statements symbolically. Where the theory has no counterpart (Poisson grids beyond
2-D, CG), a dense eigenvalue computation or Chebyshev's closed form is the oracle.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from itersolve.theory import chain as chain_theory
from itersolve.theory import fixed_point as fixed_point_theory
from itersolve.theory import newton as newton_theory
from itersolve.theory import sor as sor_theory

from itersolve.testing import rates

unit = st.floats(1e-3, 0.999)  # the theory's lambdified optimum is 0/0 at rho = 0


@given(omega=st.floats(0.01, 1.99), rho=unit)
def test_sor_is_youngs_rate(omega, rho):
    assert rates.sor(omega, rho) == pytest.approx(float(sor_theory.sor_rate(omega, rho)), rel=1e-12)


@given(rho=unit)
def test_young_omega_and_gauss_seidel(rho):
    # the theory's lambdified form 2 (1 - sqrt(1 - rho^2)) / rho^2 cancels: eps / rho^2
    theory_error = 4 * np.finfo(float).eps / rho**2
    omega = rates.young_omega(rho)
    assert omega == pytest.approx(float(sor_theory.optimal_omega(rho)), rel=theory_error + 1e-15)
    assert rates.sor(1.0, rho) == pytest.approx(rho**2, rel=1e-12, abs=1e-300)
    # rho(C_omega) has a square-root corner at omega*: a rounding of omega moves it by ~sqrt(eps)
    assert rates.sor(omega, rho) == pytest.approx(omega - 1, rel=0, abs=1e-7)


@given(k=st.integers(0, 500), q=unit, e0=st.floats(0.0, 1e6))
def test_contraction_bound(k, q, e0):
    expected = float(fixed_point_theory.contraction_error_bound(k, q, e0))
    assert rates.contraction(k, q, e0) == pytest.approx(expected, rel=1e-12, abs=1e-300)


@given(k=st.integers(0, 10**6), lam=st.floats(0.01, 0.99), distance=st.floats(0.0, 1e6))
def test_krasnoselskii_mann_and_halpern_bounds(k, lam, distance):
    km = float(fixed_point_theory.km_residual_bound(k, lam, distance))
    assert rates.krasnoselskii_mann(k, lam, distance) == pytest.approx(km, rel=1e-13)
    halpern = float(fixed_point_theory.halpern_residual_bound(k, distance))
    assert rates.halpern(k, distance) == pytest.approx(halpern, rel=1e-13)


@pytest.mark.parametrize("m", [1, 2, 3, 7, 40])
def test_newton_multiplicity(m):
    assert rates.newton_multiplicity(m) == pytest.approx(float(newton_theory.multiplicity_ratio(m)))


@given(
    k=st.integers(0, 300),
    n=st.integers(0, 2000),
    h=st.floats(1e-4, 1.0),
    lipschitz=st.floats(0.0, 50.0),
    e0=st.floats(0.0, 10.0),
)
def test_picard_binomial_bound(k, n, h, lipschitz, e0):
    expected = float(chain_theory.picard_error_bound(k, n, h, lipschitz, e0))
    assert rates.picard(k, n, h, lipschitz, e0) == pytest.approx(expected, rel=1e-11, abs=1e-300)


@pytest.mark.parametrize(
    "k, n, h", [(500, 10**6, 1e-4), (3000, 10**5, 1e-2), (5, 10**9, 1e-9), (100, 10**5 + 7, 0.5)]
)
def test_picard_far_outside_the_float_range_of_its_factors(k, n, h):
    expected = float(chain_theory.picard_error_bound(k, n, h, 1.0, 1.0))
    assert rates.picard(k, n, h, 1.0, 1.0) == pytest.approx(expected, rel=1e-8)


def test_picard_vectorises_and_terminates_finitely():
    k = np.arange(6)
    bound = rates.picard(k, 5, 0.1, 2.0, 1.0)
    assert bound.shape == (6,) and np.all(bound[5:] == 0) and bound[4] > 0  # exact for n <= k
    expected = chain_theory.picard_error_bound(k, 5, 0.1, 2.0, 1.0)
    np.testing.assert_allclose(bound, expected, rtol=1e-13)


@pytest.mark.parametrize("shape", [(1,), (7,), (3, 5), (4, 4), (2, 3, 4)])
def test_poisson_jacobi_against_a_dense_eigenvalue_solve(shape):
    """The Jacobi matrix of the Kronecker-sum Laplacian, built here independently."""
    A = sp.csr_array((1, 1))
    for axis, size in enumerate(shape):
        T = sp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(size, size))
        A = (
            T
            if axis == 0
            else sp.kron(A, sp.eye_array(size)) + sp.kron(sp.eye_array(A.shape[0]), T)
        )
    dense = A.toarray()
    jacobi = np.eye(dense.shape[0]) - dense / np.diag(dense)[:, None]
    assert rates.poisson_jacobi(shape) == pytest.approx(max(abs(np.linalg.eigvals(jacobi))))
    if len(shape) == 2 and shape[0] == shape[1]:
        assert rates.poisson_jacobi(shape) == pytest.approx(sor_theory.poisson_beta(shape[0]))


@given(k=st.integers(0, 200), kappa=st.floats(1.0, 1e8))
def test_conjugate_gradient_bound_dominates_chebyshev(k, kappa):
    """``1 / T_k((kappa + 1)/(kappa - 1))`` is CG's worst case; the bound is ``2 q^k`` above it."""
    bound = rates.conjugate_gradient(k, kappa)
    if kappa == 1.0:
        assert bound == (1.0 if k == 0 else 0.0)
        return
    x = k * math.acosh((kappa + 1) / (kappa - 1))
    chebyshev = 2 * math.exp(-x) / (1 + math.exp(-2 * x))  # 1 / cosh x, without overflow
    assert chebyshev <= bound * (1 + 1e-12) and bound <= 1.0


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: rates.sor(2.0, 0.5), "omega"),
        (lambda: rates.sor(1.0, 1.0), "rho_jacobi"),
        (lambda: rates.young_omega(-0.1), "rho_jacobi"),
        (lambda: rates.contraction(1.5, 0.5, 1.0), "k"),
        (lambda: rates.contraction(1, 1.5, 1.0), "lipschitz"),
        (lambda: rates.krasnoselskii_mann(3, 1.5, 1.0), "relaxation"),
        (lambda: rates.halpern(3, np.nan), "distance"),
        (lambda: rates.newton_multiplicity(0), "m"),
        (lambda: rates.picard(1, 5, -1.0, 1.0, 1.0), "h"),
        (lambda: rates.conjugate_gradient(3, 0.5), "condition"),
    ],
)
def test_bad_arguments_name_themselves(call, name):
    with pytest.raises(ValueError, match=name):
        call()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: rates.halpern("a", 1.0), "k must be real numbers"),
        (lambda: rates.halpern(3, 1j), "distance must be real"),
        (lambda: rates.sor(object(), 0.5), "omega must be real numbers"),
    ],
)
def test_non_numeric_arguments_are_type_errors_naming_them(call, match):
    with pytest.raises(TypeError, match=match):
        call()
