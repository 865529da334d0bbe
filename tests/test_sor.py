"""SOR, SSOR-PCG and relax against dense references and Young's theory."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from itersolve.theory import sor as theory

import itersolve
from itersolve import Status
from itersolve._sor._coloring import greedy_coloring, two_coloring

seeds = st.integers(0, 2**32 - 1)


def poisson(n_side):
    T = sp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(n_side, n_side))
    eye = sp.eye_array(n_side)
    return sp.csr_array(sp.kron(eye, T) + sp.kron(T, eye))


def random_matrix(seed, n, kind):
    """Sparse, diagonally dominant (``"dominant"``) or symmetric positive definite (``"spd"``)."""
    rng = np.random.default_rng(seed)
    R = sp.random_array((n, n), density=min(1.0, 4 / n), rng=rng, format="csr")
    R.data = rng.standard_normal(R.nnz)
    if kind == "spd":  # B B^T + delta I: positive definite, rarely diagonally dominant
        return sp.csr_array(R @ R.T + rng.uniform(0.01, 1.0) * sp.eye_array(n))
    diagonal = abs(R).sum(axis=1) + rng.uniform(0.1, 2.0, n)
    R.setdiag(0)
    return sp.csr_array(R + sp.diags_array(diagonal))


def dense_sweep(A, x, b, omega, backward=False):
    """x <- (D/w + L)^{-1} (b - (U + (1 - 1/w) D) x), or the same with L and U exchanged."""
    A = A.toarray() if sp.issparse(A) else A
    D = np.diag(np.diag(A))
    L, U = np.tril(A, -1), np.triu(A, 1)
    if backward:
        L, U = U, L
    return scipy.linalg.solve(D / omega + L, b - (U + (1 - 1 / omega) * D) @ x)


matrices = st.tuples(seeds, st.integers(1, 25), st.sampled_from(["dominant", "spd"]))
omegas = st.floats(0.05, 1.95)


@given(matrix=matrices, omega=omegas, sweep=st.sampled_from(["forward", "backward", "symmetric"]))
def test_every_sweep_equals_the_dense_reference(matrix, omega, sweep):
    A = random_matrix(*matrix)
    rng = np.random.default_rng(matrix[0] + 1)
    x, b = rng.standard_normal(A.shape[0]), rng.standard_normal(A.shape[0])
    expected = x.copy()
    if sweep in ("forward", "symmetric"):
        expected = dense_sweep(A, expected, b, omega)
    if sweep in ("backward", "symmetric"):
        expected = dense_sweep(A, expected, b, omega, backward=True)
    itersolve.relax(A, x, b, omega=omega, sweep=sweep)
    np.testing.assert_allclose(x, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())


@given(matrix=matrices, omega=omegas, sweep=st.sampled_from(["forward", "backward", "symmetric"]))
def test_coloured_sweeps_equal_the_dense_sweep_in_colour_order(matrix, omega, sweep):
    A = random_matrix(*matrix)
    order, _ = greedy_coloring(A)
    rng = np.random.default_rng(matrix[0] + 2)
    x, b = rng.standard_normal(A.shape[0]), rng.standard_normal(A.shape[0])
    P = A[order][:, order]
    expected = x[order]
    if sweep in ("forward", "symmetric"):
        expected = dense_sweep(P, expected, b[order], omega)
    if sweep in ("backward", "symmetric"):
        expected = dense_sweep(P, expected, b[order], omega, backward=True)
    itersolve.relax(A, x, b, omega=omega, sweep=sweep, ordering="multicolor")
    np.testing.assert_allclose(x[order], expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())


def test_colourings_leave_no_edge_inside_a_colour():
    for A in (poisson(7), random_matrix(3, 40, "dominant")):
        for order, color_ptr in [greedy_coloring(A)] + (
            [two_coloring(A)] if A.shape[0] == 49 else []
        ):
            assert sorted(order) == list(range(A.shape[0]))
            color = np.empty(A.shape[0], int)
            for c in range(color_ptr.size - 1):
                color[order[color_ptr[c] : color_ptr[c + 1]]] = c
            coo = sp.coo_array(A)
            off = coo.row != coo.col
            assert not np.any(color[coo.row[off]] == color[coo.col[off]])
    assert greedy_coloring(poisson(7))[1].size == 3  # a 5-point grid needs two colours


def test_symmetric_sweep_uses_omega_in_both_halves():
    """pyamg's symmetric SOR silently ignores omega; ours must not."""
    A = poisson(6)
    b = np.ones(36)
    results = {}
    for omega in (1.0, 1.5):
        x = np.zeros(36)
        itersolve.relax(A, x, b, omega=omega, sweep="symmetric")
        results[omega] = x
    assert not np.allclose(results[1.0], results[1.5])
    forward_then_backward = np.zeros(36)
    itersolve.relax(A, forward_then_backward, b, omega=1.5, sweep="forward")
    itersolve.relax(A, forward_then_backward, b, omega=1.5, sweep="backward")
    np.testing.assert_array_equal(results[1.5], forward_then_backward)


def test_wikipedia_worked_example_iterate_by_iterate():
    """https://en.wikipedia.org/wiki/Successive_over-relaxation#Example (omega = 0.5)."""
    A = sp.csr_array(np.array([[4, -1, -6, 0], [-5, -4, 10, 8], [0, 9, 4, -2], [1, 0, -7, 5.0]]))
    b = np.array([2, 21, -12, -6.0])
    expected = {
        1: [0.25, -2.78125, 1.6289062, 0.5152344],
        2: [1.2490234, -2.2448974, 1.9687712, 0.9108547],
        3: [2.070478, -1.6696789, 1.5904881, 0.76172125],
        38: [3.0, -2.0, 2.0, 1.0],
    }
    for iterations, values in expected.items():
        x = np.zeros(4)
        itersolve.relax(A, x, b, omega=0.5, iterations=iterations)
        np.testing.assert_allclose(x, values, rtol=1e-6)


@pytest.mark.parametrize("ordering", ["natural", "red-black"])
@pytest.mark.parametrize("omega", [0.8, 1.0, 1.2, 1.4, 1.5, 1.7, 1.8, 1.9])
def test_observed_rate_on_poisson_matches_youngs_theory(omega, ordering):
    n_side = 10
    beta = theory.poisson_beta(n_side)
    predicted = float(theory.sor_rate(omega, beta))
    b = np.random.default_rng(0).standard_normal(n_side**2)
    result = itersolve.sor(
        poisson(n_side), b, omega=omega, ordering=ordering, rtol=1e-13, maxiter=5000
    )
    assert result.success
    assert result.rate == pytest.approx(predicted, rel=0.02)


def test_youngs_formulas_match_dense_eigenvalues():
    A = poisson(10).toarray()
    D, L, U = np.diag(np.diag(A)), np.tril(A, -1), np.triu(A, 1)
    beta = np.max(np.abs(np.linalg.eigvals(np.eye(100) - A / np.diag(A)[:, None])))
    assert beta == pytest.approx(theory.poisson_beta(10), rel=1e-12)
    for omega in (0.5, 1.0, 1.3, float(theory.optimal_omega(beta)), 1.7, 1.9):
        C = np.eye(100) - np.linalg.solve(D / omega + L, A)
        spectral_radius = np.max(np.abs(np.linalg.eigvals(C)))
        # at the optimum the iteration matrix is defective, so eigvals lose digits
        assert spectral_radius == pytest.approx(float(theory.sor_rate(omega, beta)), rel=1e-3)
    assert float(theory.optimal_omega(beta)) == pytest.approx(1.5603879, rel=1e-7)
    assert U is not None


@given(seed=seeds, n=st.integers(1, 40), omega=st.floats(0.01, 1.99))
def test_ssor_pcg_converges_for_every_omega_on_spd_input(seed, n, omega):
    A = random_matrix(seed, n, "spd")
    b = np.random.default_rng(seed).standard_normal(n)
    result = itersolve.ssor_pcg(A, b, omega=omega, rtol=1e-10, maxiter=10 * n + 50)
    assert result.success, result.message
    assert result.stats["true_residual"] <= 1e-8 * np.linalg.norm(b)


def test_ssor_preconditioner_equals_the_dense_formula():
    from itersolve._sor._kernels import ssor_solve

    A = random_matrix(4, 12, "spd")
    dense = A.toarray()
    D, L, U = np.diag(np.diag(dense)), np.tril(dense, -1), np.triu(dense, 1)
    r = np.random.default_rng(1).standard_normal(12)
    for omega in (0.3, 1.0, 1.7):
        M = (D + omega * U) @ np.linalg.inv(D) @ (D + omega * L) / (omega * (2 - omega))
        z = np.empty(12)
        ssor_solve(A.indptr, A.indices, A.data, np.diag(dense).copy(), r, z, omega)
        np.testing.assert_allclose(z, np.linalg.solve(M, r), rtol=1e-10)


def test_ssor_pcg_reports_an_indefinite_matrix_with_a_status():
    A = sp.csr_array(np.array([[2.0, 3.0], [3.0, 2.0]]))  # symmetric, positive diagonal, indefinite
    result = itersolve.ssor_pcg(A, np.array([1.0, -1.0]))
    assert result.status == Status.INVALID_INPUT and not result.success
    assert "not positive definite" in result.message


def test_diverging_sor_ends_with_a_status():
    A = sp.csr_array(np.array([[1.0, 3.0], [3.0, 1.0]]))
    result = itersolve.sor(A, np.ones(2), omega=1.9, maxiter=2000)
    assert result.status in (Status.NONFINITE, Status.MAXITER) and not result.success
    assert result.residuals[-1] > result.residuals[0] or not np.isfinite(result.residuals[-1])


def test_jacobi_spectral_radius_without_a_dense_eigensolve():
    assert itersolve.jacobi_spectral_radius(poisson(20), rng=0) == pytest.approx(
        theory.poisson_beta(20), rel=1e-8
    )
    A = random_matrix(5, 30, "dominant")  # non-symmetric: Arnoldi
    dense = np.eye(30) - A.toarray() / A.diagonal()[:, None]
    assert itersolve.jacobi_spectral_radius(A, rng=0) == pytest.approx(
        np.max(np.abs(np.linalg.eigvals(dense))), rel=1e-6
    )


def test_omega_auto_takes_youngs_optimum():
    result = itersolve.sor(poisson(10), np.ones(100), omega="auto", rng=0)
    assert result.stats["beta"] == pytest.approx(theory.poisson_beta(10), rel=1e-8)
    assert result.stats["omega"] == pytest.approx(1.5603879, rel=1e-6)
    fixed = [itersolve.sor(poisson(10), np.ones(100), omega=w).nit for w in (1.0, 1.3, 1.8, 1.9)]
    assert result.nit < min(fixed)
    with pytest.raises(ValueError, match="Jacobi spectral radius below 1"):
        itersolve.sor(np.array([[1.0, 2.0], [2.0, 1.0]]), np.ones(2), omega="auto")


def test_callback_sees_copies_of_the_in_place_iterate():
    seen = []
    result = itersolve.sor(poisson(4), np.ones(16), callback=lambda r: seen.append(r.x))
    assert len(seen) == result.nit + 1
    assert not np.array_equal(seen[0], seen[-1])
    np.testing.assert_array_equal(seen[-1], result.x)


def test_inputs_are_converted_and_never_modified():
    A = poisson(5)
    b = np.arange(25)  # integers
    x0 = np.zeros(25)
    reference = itersolve.sor(A, b.astype(float), x0)
    for converted in (A.toarray(), sp.coo_array(A), sp.csc_array(A), A.toarray().astype(np.int64)):
        result = itersolve.sor(converted, b, x0)
        np.testing.assert_array_equal(result.x, reference.x)
    assert np.all(x0 == 0)
    assert (
        itersolve.sor(A.astype(np.float32), b.astype(np.float32), rtol=1e-5).x.dtype == np.float32
    )


@pytest.mark.parametrize("solver", [itersolve.sor, itersolve.ssor_pcg])
@pytest.mark.parametrize(
    "A, b, kwargs, error, match",
    [
        (np.array([[1.0, 0.0], [0.0, 0.0]]), np.ones(2), {}, ValueError, "diagonal entry in row 1"),
        (
            np.array([[1.0, 0.0], [0.0, -2.0]]),
            np.ones(2),
            {},
            ValueError,
            "non-positive diagonal entry in row 1",
        ),
        (np.ones((2, 3)), np.ones(2), {}, ValueError, "`A` must be square"),
        (np.eye(3), np.ones(2), {}, ValueError, r"`b` must have shape \(3,\)"),
        (np.eye(2), np.ones(2), {"x0": np.ones(3)}, ValueError, r"`x0` must have shape \(2,\)"),
        (np.eye(2), np.ones(2), {"omega": 2.0}, ValueError, r"`omega` must lie in \(0, 2\)"),
        (np.eye(2), np.ones(2), {"omega": 0.0}, ValueError, "`omega`"),
        (
            np.array([[1.0, np.nan], [0.0, 1.0]]),
            np.ones(2),
            {},
            ValueError,
            "`A` contains NaN or Inf",
        ),
        (np.eye(2), np.array([1.0, np.inf]), {}, ValueError, "`b` contains NaN or Inf"),
        (np.eye(2), np.ones(2), {"rtol": -1.0}, ValueError, "`rtol`"),
        (np.eye(2, dtype=complex), np.ones(2), {}, TypeError, "`A` is complex"),
    ],
)
def test_bad_input_is_named_before_any_iteration(solver, A, b, kwargs, error, match):
    with pytest.raises(error, match=match):
        solver(A, b, **kwargs)


def test_sor_specific_bad_input():
    with pytest.raises(ValueError, match="`sweep` must be one of"):
        itersolve.sor(np.eye(2), np.ones(2), sweep="sideways")
    with pytest.raises(ValueError, match="`ordering` must be one of"):
        itersolve.sor(np.eye(2), np.ones(2), ordering="random")
    triangle = np.array([[2.0, -1, -1], [-1, 2, -1], [-1, -1, 2]])
    with pytest.raises(ValueError, match="odd cycle"):
        itersolve.sor(triangle, np.ones(3), ordering="red-black")
    with pytest.raises(ValueError, match="must be symmetric"):
        itersolve.ssor_pcg(np.array([[2.0, 1.0], [0.0, 2.0]]), np.ones(2))


def test_relax_is_strict_about_its_in_place_arguments():
    A = poisson(3)
    b = np.ones(9)
    with pytest.raises(TypeError, match="C-contiguous"):
        itersolve.relax(A, np.zeros(18)[::2], b, omega=1.0)
    with pytest.raises(TypeError, match="`x` has dtype float32"):
        itersolve.relax(A, np.zeros(9, np.float32), b, omega=1.0)
    with pytest.raises(TypeError, match="`x` must be a NumPy array"):
        itersolve.relax(A, [0.0] * 9, b, omega=1.0)
    with pytest.warns(sp.SparseEfficiencyWarning):
        itersolve.relax(sp.csc_array(A), np.zeros(9), b, omega=1.0)
    x = np.zeros((9, 1))
    itersolve.relax(A, x, b, omega=1.0, iterations=3)
    assert np.all(x != 0)


def test_parallel_kernels_agree_with_their_serial_twins():
    from itersolve._sor import _kernels

    A = poisson(12)
    order, color_ptr = greedy_coloring(A)
    rng = np.random.default_rng(2)
    b = rng.standard_normal(144)
    x_serial, x_parallel = np.zeros(144), np.zeros(144)
    for backward in (False, True):
        args = (A.indptr, A.indices, A.data)
        _kernels.colored_sor_sweep.serial(*args, x_serial, b, order, color_ptr, 1.3, backward)
        _kernels.colored_sor_sweep.parallel(*args, x_parallel, b, order, color_ptr, 1.3, backward)
    np.testing.assert_array_equal(x_serial, x_parallel)
    squares = _kernels._residual_squares
    serial = squares.serial(A.indptr, A.indices, A.data, x_serial, b, 1.0)
    parallel = squares.parallel(A.indptr, A.indices, A.data, x_serial, b, 1.0)
    assert serial == pytest.approx(parallel, rel=1e-12)
    out_serial, out_parallel = np.empty(144), np.empty(144)
    _kernels.spmv.serial(A.indptr, A.indices, A.data, b, out_serial)
    _kernels.spmv.parallel(A.indptr, A.indices, A.data, b, out_parallel)
    np.testing.assert_array_equal(out_serial, out_parallel)


@pytest.mark.parametrize("ordering", ["red-black", "multicolor"])
@pytest.mark.parametrize("sweep", ["forward", "symmetric"])
def test_the_gpu_code_on_numpy_matches_the_numba_kernels(ordering, sweep):
    A, b = poisson(9), np.random.default_rng(3).standard_normal(81)
    numba_result = itersolve.sor(A, b, omega=1.4, sweep=sweep, ordering=ordering)
    generic = itersolve.sor(A, b, omega=1.4, sweep=sweep, ordering=ordering, backend="array-api")
    assert generic.stats["backend"] == "array-api" and numba_result.stats["backend"] == "numpy"
    assert generic.nit == numba_result.nit and generic.success
    np.testing.assert_allclose(generic.residuals, numba_result.residuals, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(generic.x, numba_result.x, rtol=1e-12)


def test_ssor_pcg_in_colour_order_and_backend_errors():
    A, b = poisson(9), np.ones(81)
    for ordering in ("red-black", "multicolor"):
        result = itersolve.ssor_pcg(A, b, omega=1.2, ordering=ordering)
        assert result.success and result.stats["ordering"] == ordering
        assert result.stats["true_residual"] <= 1e-8 * np.linalg.norm(b)
    with pytest.raises(ValueError, match="ordering='natural' is sequential"):
        itersolve.sor(A, b, ordering="natural", backend="array-api")
    with pytest.raises(ValueError, match="`backend` must be one of"):
        itersolve.sor(A, b, backend="gpu")
    assert itersolve.sor(A, b, backend="array-api").stats["ordering"] == "multicolor"


def test_relax_reuses_a_precomputed_colouring():
    A, b = poisson(8), np.random.default_rng(4).standard_normal(64)
    colours = itersolve.coloring(A, "red-black")
    x_reused, x_fresh = np.zeros(64), np.zeros(64)
    for _ in range(3):
        itersolve.relax(A, x_reused, b, omega=1.2, ordering=colours)
        itersolve.relax(A, x_fresh, b, omega=1.2, ordering="red-black")
    np.testing.assert_array_equal(x_reused, x_fresh)
    with pytest.raises(ValueError, match="does not fit a matrix with 64 rows"):
        itersolve.relax(A, x_reused, b, omega=1.2, ordering=itersolve.coloring(poisson(3)))
