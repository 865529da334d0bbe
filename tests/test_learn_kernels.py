"""The learn family's kernels and tangent histories against dense formulas, finite
differences and the solvers' own runs (itersolve.sor, itersolve.ssor_pcg)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

import itersolve
from itersolve._learn._kernels import (
    sor_sweep_block,
    sor_sweep_tangent,
    ssor_solve_tangent,
)
from itersolve._learn._tangents import pcg_history, sor_history
from itersolve._sor import LinearSystem
from itersolve._sor._kernels import sor_sweep, ssor_solve
from itersolve.testing import problems

FORWARD = "forward"
BACKWARD = "backward"


def rows(n, direction):
    return (0, n, 1) if direction == FORWARD else (n - 1, -1, -1)


def dominant_with_duplicates(n, seed, *, symmetric=False, dominance=1.0):
    """A random sparse CSR matrix, diagonally dominant for ``dominance >= 1``, whose rows
    hold duplicate entries (a stored pair that sums to one coefficient), left unsummed."""
    rng = np.random.default_rng(seed)
    dense = sp.random_array((n, n), density=0.3, rng=rng).toarray()
    dense -= 0.5 * (dense != 0)
    if symmetric:
        dense = dense + dense.T
    np.fill_diagonal(dense, 0.0)
    np.fill_diagonal(dense, dominance * np.abs(dense).sum(axis=1) + 0.1 + rng.random(n))
    coo = sp.coo_array(dense)
    # split every entry into two stored halves: duplicates in every row, diagonal included
    rows_, cols = np.concatenate([coo.row, coo.row]), np.concatenate([coo.col, coo.col])
    values = np.concatenate([0.25 * coo.data, 0.75 * coo.data])
    order = rng.permutation(rows_.size)
    rows_, cols, values = rows_[order], cols[order], values[order]
    by_row = np.argsort(rows_, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows_, minlength=n))])
    matrix = sp.csr_array((values[by_row], cols[by_row], indptr), shape=(n, n))
    assert not matrix.has_canonical_format
    return matrix, dense


def laplacian_2d(size, shift=0.0):
    A = problems.poisson_problem(shape=(size, size)).A
    return sp.csr_array(A + shift * sp.eye_array(size**2))


def dense_sweep(dense, x, b, omega, direction):
    """``x+ = (D/w + L)^{-1} (b - (U + (1 - 1/w) D) x)`` and its derivative in ``w`` for
    ``x`` with tangent ``dx`` (backward: L and U swapped); returns a function of dx."""
    D = np.diag(np.diag(dense))
    L, U = np.tril(dense, -1), np.triu(dense, 1)
    if direction == BACKWARD:
        L, U = U, L
    P = D / omega + L
    Q = U + (1.0 - 1.0 / omega) * D
    x_new = np.linalg.solve(P, b - Q @ x)

    def tangent(dx):
        # P x+ = b - Q x  =>  P dx+ = -dP x+ - dQ x - Q dx, dP = -D/w^2, dQ = D/w^2
        return np.linalg.solve(P, D @ x_new / omega**2 - D @ x / omega**2 - Q @ dx)

    return x_new, tangent


# ------------------------------------------------------------------------- block sweep


@pytest.mark.parametrize("direction", [FORWARD, BACKWARD])
@pytest.mark.parametrize("m", [1, 2, 5, 17])
def test_block_sweep_equals_separate_sweeps_and_the_dense_formula(m, direction):
    n, omega = 23, 1.3
    matrix, dense = dominant_with_duplicates(n, seed=m)
    rng = np.random.default_rng(100 + m)
    X, B = rng.standard_normal((n, m)), rng.standard_normal((n, m))
    if m == 2:
        B[:] = 0.0  # the basis responses M^j U use b = 0
    start = X.copy()
    sor_sweep_block(matrix.indptr, matrix.indices, matrix.data, X, B, *rows(n, direction), omega)
    for c in range(m):
        column = start[:, c].copy()
        sor_sweep(
            matrix.indptr, matrix.indices, matrix.data, column, B[:, c].copy(),
            *rows(n, direction), omega,
        )  # fmt: skip
        np.testing.assert_array_equal(X[:, c], column)  # bit for bit
        expected, _ = dense_sweep(dense, start[:, c], B[:, c], omega, direction)
        np.testing.assert_allclose(X[:, c], expected, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------- tangent sweep


def tangent_run(matrix, x, b, omega, directions):
    x, dx = x.copy(), np.zeros_like(x)
    for direction in directions:
        sor_sweep_tangent(
            matrix.indptr, matrix.indices, matrix.data, x, dx, b, *rows(x.size, direction), omega
        )
    return x, dx


def plain_run(matrix, x, b, omega, directions):
    x = x.copy()
    for direction in directions:
        sor_sweep(matrix.indptr, matrix.indices, matrix.data, x, b, *rows(x.size, direction), omega)
    return x


def central_difference(matrix, x, b, omega, directions, h=1e-5):
    plus = plain_run(matrix, x, b, omega + h, directions)
    minus = plain_run(matrix, x, b, omega - h, directions)
    return (plus - minus) / (2 * h)


def relative_error(actual, expected):
    return np.linalg.norm(actual - expected) / np.linalg.norm(expected)


@pytest.mark.parametrize("direction", [FORWARD, BACKWARD])
@pytest.mark.parametrize("omega", [0.7, 1.0, 1.6])
@pytest.mark.parametrize("sweeps", [1, 10])
def test_tangent_sweep_equals_finite_differences_and_the_dense_derivative(direction, omega, sweeps):
    n = 19
    # weakly coupled rows would converge in 10 sweeps and leave dx at rounding level
    matrix, dense = dominant_with_duplicates(n, seed=7, dominance=0.6)
    rng = np.random.default_rng(8)
    x0, b = rng.standard_normal(n), rng.standard_normal(n)
    directions = [direction] * sweeps
    x, dx = tangent_run(matrix, x0, b, omega, directions)
    np.testing.assert_array_equal(x, plain_run(matrix, x0, b, omega, directions))
    assert relative_error(dx, central_difference(matrix, x0, b, omega, directions)) < 1e-6
    dense_x, dense_dx = x0, np.zeros(n)
    for _ in range(sweeps):
        dense_x, tangent = dense_sweep(dense, dense_x, b, omega, direction)
        dense_dx = tangent(dense_dx)
    np.testing.assert_allclose(x, dense_x, rtol=1e-10, atol=1e-12)
    assert relative_error(dx, dense_dx) < 1e-10


@given(
    size=st.integers(2, 6),
    shift=st.floats(0.0, 2.0),
    omega=st.floats(0.2, 1.9),
    seed=st.integers(0, 2**32 - 1),
    symmetric=st.booleans(),
)
def test_tangent_sweep_property_on_shifted_laplacians(size, shift, omega, seed, symmetric):
    matrix = laplacian_2d(size, shift)
    rng = np.random.default_rng(seed)
    x0, b = rng.standard_normal(size**2), rng.standard_normal(size**2)
    directions = [FORWARD, BACKWARD] if symmetric else [FORWARD]
    _, dx = tangent_run(matrix, x0, b, omega, directions)
    expected = central_difference(matrix, x0, b, omega, directions)
    # a difference quotient carries rounding noise of about eps ||x|| / h = 1e-11 ||x||
    noise = 1e-9 * (np.linalg.norm(x0) + np.linalg.norm(b))
    assert np.linalg.norm(dx - expected) <= 1e-6 * np.linalg.norm(expected) + noise


# ------------------------------------------------------------------------ SSOR tangent


def dense_ssor(dense, omega):
    """``M(w) = (D + wU) D^{-1} (D + wL) / (w (2 - w))`` and ``dM/dw``."""
    D = np.diag(np.diag(dense))
    L, U = np.tril(dense, -1), np.triu(dense, 1)
    inverse_d = np.diag(1.0 / np.diag(dense))
    product = (D + omega * U) @ inverse_d @ (D + omega * L)
    d_product = U @ inverse_d @ (D + omega * L) + (D + omega * U) @ inverse_d @ L
    scale, d_scale = omega * (2 - omega), 2 - 2 * omega
    return product / scale, d_product / scale - product * d_scale / scale**2


@pytest.mark.parametrize("omega", [0.4, 1.0, 1.7])
def test_ssor_tangent_matches_ssor_solve_finite_differences_and_the_dense_derivative(omega):
    n = 21
    matrix, dense = dominant_with_duplicates(n, seed=3, symmetric=True)
    diagonal = matrix.diagonal()  # duplicates summed, as LinearSystem's diagonal
    arrays = (matrix.indptr, matrix.indices, matrix.data, diagonal)
    rng = np.random.default_rng(4)
    r, dr = rng.standard_normal(n), rng.standard_normal(n)
    z, dz = np.empty(n), np.empty(n)
    ssor_solve_tangent(*arrays, r, dr, z, dz, omega)
    reference = np.empty(n)
    ssor_solve(*arrays, r, reference, omega)
    np.testing.assert_array_equal(z, reference)

    h = 1e-5
    plus, minus = np.empty(n), np.empty(n)
    ssor_solve(*arrays, r + h * dr, plus, omega + h)
    ssor_solve(*arrays, r - h * dr, minus, omega - h)
    assert relative_error(dz, (plus - minus) / (2 * h)) < 1e-6

    M, dM = dense_ssor(dense, omega)
    np.testing.assert_allclose(z, np.linalg.solve(M, r), rtol=1e-10, atol=1e-12)
    dense_dz = np.linalg.solve(M, dr - dM @ np.linalg.solve(M, r))
    assert relative_error(dz, dense_dz) < 1e-10


# --------------------------------------------------------------------------- histories


def shifted_problem(size=8, shift=0.05, seed=0):
    matrix = laplacian_2d(size, shift)
    b = np.random.default_rng(seed).standard_normal(size**2)
    return matrix, b


def history_difference(history, h=1e-5, **options):
    """Central differences of a history in omega over the iterations both sides reach."""
    omega = options.pop("omega")
    plus, _ = history(omega=omega + h, **options)
    minus, _ = history(omega=omega - h, **options)
    k = min(plus.size, minus.size)
    return (plus[:k] - minus[:k]) / (2 * h)


@pytest.mark.parametrize("sweep", ["forward", "backward", "symmetric"])
@pytest.mark.parametrize("omega", [1.0, 1.5, 1.85])
def test_sor_history_reproduces_sor_and_its_derivatives_are_finite_differences(sweep, omega):
    matrix, b = shifted_problem()
    x0 = np.linspace(-1.0, 1.0, b.size)
    system = LinearSystem(matrix, b)
    residuals, derivatives = sor_history(system, x0, omega, sweep=sweep, tol=1e-8, maxiter=5000)
    result = itersolve.sor(matrix, b, x0, omega=omega, sweep=sweep, rtol=1e-8, atol=0)
    assert result.success and residuals.size == derivatives.size == result.nit + 1
    np.testing.assert_array_equal(residuals, result.residuals / system.norm_b)
    assert derivatives[0] == 0.0  # x0 does not depend on omega

    def history(omega, maxiter):
        return sor_history(system, x0, omega, sweep=sweep, tol=0.0, maxiter=maxiter)

    fd = history_difference(history, omega=omega, maxiter=result.nit)
    # late residuals carry rounding noise of order eps ||A|| ||x|| / h: compare where the
    # residual is well above it
    kept = residuals[: fd.size] > 1e-6
    np.testing.assert_allclose(derivatives[kept], fd[kept], rtol=1e-4, atol=1e-9)


@pytest.mark.parametrize("omega", [0.5, 1.0, 1.6])
def test_pcg_history_reproduces_ssor_pcg_and_its_derivatives_are_finite_differences(omega):
    matrix, b = shifted_problem(size=9, shift=0.3, seed=1)
    system = LinearSystem(matrix, b)
    residuals, derivatives = pcg_history(system, None, omega, tol=1e-9, maxiter=500)
    result = itersolve.ssor_pcg(matrix, b, omega=omega, rtol=1e-9, atol=0)
    assert result.success and result.stats["restarts"] == 0
    assert residuals.size == derivatives.size == result.nit + 1
    # the solver's last entry is the true residual that confirmed its recursive one
    np.testing.assert_allclose(residuals[:-1], result.residuals[:-1] / system.norm_b, rtol=1e-12)
    np.testing.assert_allclose(residuals[-1], result.residuals[-1] / system.norm_b, rtol=1e-5)

    def history(omega, maxiter):
        return pcg_history(system, None, omega, tol=0.0, maxiter=maxiter)

    fd = history_difference(history, omega=omega, maxiter=result.nit)
    assert fd.size == residuals.size
    np.testing.assert_allclose(derivatives, fd, rtol=1e-5, atol=1e-9)


def test_sor_history_stops_at_maxiter_like_the_solver():
    matrix, b = shifted_problem()
    system = LinearSystem(matrix, b)
    residuals, _ = sor_history(system, None, 1.2, tol=1e-12, maxiter=7)
    result = itersolve.sor(matrix, b, omega=1.2, rtol=1e-12, atol=0, maxiter=7)
    assert residuals.size == result.nit + 1 == 8
    np.testing.assert_array_equal(residuals, result.residuals / system.norm_b)


def test_divergent_histories_end_non_finite_without_raising():
    rng = np.random.default_rng(2)
    n = 12
    dense = rng.standard_normal((n, n))  # not SPD, not diagonally dominant
    np.fill_diagonal(dense, 1.0)
    b = rng.standard_normal(n)
    system = LinearSystem(dense, b)
    residuals, derivatives = sor_history(system, None, 1.9, tol=1e-8, maxiter=100_000)
    result = itersolve.sor(dense, b, omega=1.9, rtol=1e-8, atol=0, maxiter=100_000)
    assert result.status == itersolve.Status.NONFINITE
    assert residuals.size == result.nit + 1 < 100_000
    assert not np.isfinite(residuals[-1]) and np.all(np.isfinite(residuals[:-1]))
    assert derivatives.size == residuals.size

    # CG on a symmetric indefinite matrix: p.Ap <= 0 ends the history with NaN
    indefinite = dense + dense.T
    np.fill_diagonal(indefinite, 1.0)
    residuals, derivatives = pcg_history(
        LinearSystem(indefinite, b), None, 1.9, tol=1e-8, maxiter=1000
    )
    assert np.isnan(residuals[-1]) and np.isnan(derivatives[-1]) and residuals.size < 1000


def test_history_options_are_checked():
    matrix, b = shifted_problem(size=3)
    system = LinearSystem(matrix, b)
    with pytest.raises(ValueError, match="sweep"):
        sor_history(system, None, 1.0, sweep="sideways", tol=1e-6, maxiter=10)
    with pytest.raises(ValueError, match="maxiter"):
        sor_history(system, None, 1.0, tol=1e-6, maxiter=-1)
    with pytest.raises(ValueError, match="tol"):
        pcg_history(system, None, 1.0, tol=-1.0, maxiter=10)
