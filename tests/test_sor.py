"""SOR, SSOR-PCG and relax against dense references and Young's theory."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from itersolve.theory import sor as theory

import itersolve
from itersolve import Status
from itersolve._sor._coloring import greedy_coloring, two_coloring
from itersolve.testing import assert_converges, assert_rate, problems, strategies
from itersolve.testing import rates as testing_rates

seeds = st.integers(0, 2**32 - 1)


def poisson(n_side):
    return problems.poisson_problem(shape=(n_side, n_side)).A


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


@pytest.mark.parametrize("solver", [itersolve.sor, itersolve.ssor_pcg])
def test_arrays_of_a_library_without_sparse_matrices_are_a_named_type_error(solver):
    xps = pytest.importorskip("array_api_strict")
    A, b = poisson(3), np.ones(9)
    with pytest.raises(TypeError, match="`A`, `b` and `x0` must be NumPy/SciPy or CuPy"):
        solver(A, xps.asarray(b))
    with pytest.raises(TypeError, match="array_api_strict has none"):
        solver(A.toarray(), b, xps.asarray(np.zeros(9)), backend="array-api")


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


# -- hardening (issue 12): memory safety, extreme scales, honest success ------------------

from tests.fuzz_support import run_isolated  # noqa: E402

_RELAX_SETUP = """
import numpy as np, scipy.sparse as sp
import itersolve
A = sp.csr_array(sp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(4, 4)))
x, b = np.zeros(4), np.ones(4)
def rejected(call):
    try:
        call()
    except (ValueError, TypeError) as exc:
        print("REJECTED", exc)
    else:
        print("ACCEPTED", x)
"""


@pytest.mark.parametrize(
    "call",
    [
        # the issue's segfault: rows far outside the matrix
        "itersolve.relax(A, x, b, omega=1.0, ordering=(np.arange(4) + 1000, np.array([0, 4])))",
        # silently wrong sweeps before: a repeated row, a negative row
        "itersolve.relax(A, x, b, omega=1.0, ordering=(np.array([0, 0, 1, 2]), np.array([0, 4])))",
        "itersolve.relax(A, x, b, omega=1.0, ordering=(np.array([-1, 0, 1, 2]), np.array([0, 4])))",
        "itersolve.relax(A, x, b, omega=1.0, ordering=(np.arange(4), np.array([0, 100, 4])))",
        "itersolve.relax(A, x, b, omega=1.0, ordering=(np.arange(4), np.array([0, 3, 2, 4])))",
        "itersolve.relax(A, x, b, omega=1.0, ordering=(np.arange(4.0), np.array([0, 4])))",
        # hand-built CSR arrays: a column outside the matrix, indptr past nnz or decreasing
        "itersolve.relax(sp.csr_array((A.data, A.indices + 100, A.indptr), shape=(4, 4)), x, b,"
        " omega=1.0)",
        "B = A.copy(); B.indptr = B.indptr.copy(); B.indptr[-1] = 1000\n"
        "rejected(lambda: itersolve.relax(B, x, b, omega=1.0))",
        "B = A.copy(); B.indptr = np.array([0, 5, 3, 7, 10], B.indptr.dtype)\n"
        "rejected(lambda: itersolve.relax(B, x, b, omega=1.0))",
        # relax checks the contents inside its kernels: every direction, colourings, a
        # negative int32 column (it wraps to a huge unsigned one), the column n itself,
        # and iterations=0 (no sweep to check them)
        "B = A.copy(); B.indices = B.indices.astype(np.int32); B.indices[2] = -3\n"
        "rejected(lambda: itersolve.relax(B, x, b, omega=1.0, sweep='backward'))",
        "B = A.copy(); B.indices = B.indices.copy(); B.indices[-1] = 4\n"
        "rejected(lambda: itersolve.relax(B, x, b, omega=1.0, sweep='symmetric', iterations=3))",
        "itersolve.relax(sp.csr_array((A.data, A.indices - 10**9, A.indptr), shape=(4, 4)), x, b,"
        " omega=1.0, ordering=(np.arange(4), np.array([0, 2, 4])))",
        "B = A.copy(); B.indptr = np.array([0, 5, 3, 7, 10], B.indptr.dtype)\n"
        "rejected(lambda: itersolve.relax(B, x, b, omega=1.0, ordering='multicolor'))",
        "itersolve.relax(sp.csr_array((A.data, A.indices + 100, A.indptr), shape=(4, 4)), x, b,"
        " omega=1.0, iterations=0)",
        "B = A.copy(); B.indices = B.indices.copy(); B.indices[3] = -7\n"
        "rejected(lambda: itersolve.sor(B, b))",
        "B = A.tocoo(); B.coords = (B.coords[0] + 50, B.coords[1])\n"
        "rejected(lambda: itersolve.sor(B, b))",
        "B = A.tocsc(); B.indices = B.indices.copy(); B.indices[0] = 99\n"
        "rejected(lambda: itersolve.ssor_pcg(B, b))",
        "B = A.tocsc(); B.indices = B.indices.copy(); B.indices[0] = 99\n"
        "rejected(lambda: itersolve.coloring(B))",
    ],
)
def test_hostile_indices_are_rejected_in_a_subprocess(call):
    if "rejected(" not in call:
        call = f"rejected(lambda: {call})"
    process = run_isolated(_RELAX_SETUP + call)
    assert process.returncode == 0, process.stderr
    assert process.stdout.startswith("REJECTED `"), process.stdout  # names the argument


def test_relax_zero_diagonal_is_a_named_error():
    A = sp.csr_array(np.array([[2.0, -1.0, 0.0], [-1.0, 0.0, -1.0], [0.0, -1.0, 2.0]]))
    x = np.zeros(3)
    with pytest.raises(ValueError, match="zero diagonal entry in row 1"):
        itersolve.relax(A, x, np.ones(3), omega=1.0)


def test_relax_accepts_a_valid_user_colouring_in_any_permutation():
    A, b = poisson(4), np.random.default_rng(5).standard_normal(16)
    order, color_ptr = itersolve.coloring(A, "red-black")
    x_list, x_ref = np.zeros(16), np.zeros(16)
    itersolve.relax(A, x_list, b, omega=1.1, ordering=[order.tolist(), color_ptr.tolist()])
    # the reference: rows in colour order, one Gauss-Seidel-like update each (dense)
    dense, x = A.toarray(), x_ref
    for i in order:
        x[i] = (1 - 1.1) * x[i] + 1.1 * (b[i] - dense[i] @ x + dense[i, i] * x[i]) / dense[i, i]
    np.testing.assert_allclose(x_list, x_ref, rtol=1e-13)


@pytest.mark.parametrize("scale", [1e-307, 1e-300, 1e-170, 1e-160, 1e150, 1e154, 1e300])
@pytest.mark.parametrize("solver", ["sor", "ssor_pcg"])
def test_extreme_scales_are_solved_not_misreported(scale, solver):
    A = poisson(10)
    b = np.random.default_rng(8).uniform(0.5, 1.5, 100) * scale
    result = getattr(itersolve, solver)(A, b, omega=1.5)
    reference = np.linalg.solve(A.toarray(), b / scale) * scale  # the solution scales with b
    assert result.success, result.message
    np.testing.assert_allclose(result.x, reference, rtol=1e-6)
    true = np.linalg.norm((b / scale) - A @ (result.x / scale)) * scale
    assert true <= 1e-8 * np.linalg.norm(b / scale) * scale * 1.001


def test_the_issues_one_by_one_tiny_system():
    result = itersolve.sor(np.array([[2.0]]), np.array([1e-170]))
    assert result.success and result.x[0] == pytest.approx(5e-171, rel=1e-15)
    result = itersolve.sor(np.array([[2.0]]), np.array([1e-170]), x0=np.array([0.0]))
    assert result.residuals[0] == pytest.approx(1e-170, rel=1e-15)  # not 0: no underflow


def test_ssor_pcg_tiny_rhs_is_not_called_indefinite():
    A = poisson(10)
    b = np.random.default_rng(0).standard_normal(100) * 1e-160
    result = itersolve.ssor_pcg(A, b)
    assert result.status == Status.CONVERGED, result.message
    reference = np.linalg.solve(A.toarray(), b)
    assert np.linalg.norm(result.x - reference) <= 1e-6 * np.linalg.norm(reference)


def _true_residual(A, x, b):
    A = A.toarray() if sp.issparse(A) else np.asarray(A)
    return np.linalg.norm(b.astype(np.float64) - A.astype(np.float64) @ x.astype(np.float64))


@pytest.mark.parametrize("case", ["float32", "rtol=1e-14"])
def test_ssor_pcg_success_only_on_the_true_residual(case):
    rng = np.random.default_rng(0)
    M = rng.standard_normal((50, 50))
    A, b = M @ M.T + 1e-3 * np.eye(50), rng.standard_normal(50)  # cond ~ 1e7
    rtol = 1e-6 if case == "float32" else 1e-14
    if case == "float32":
        A, b = A.astype(np.float32), b.astype(np.float32)
    result = itersolve.ssor_pcg(A, b, rtol=rtol, maxiter=100_000)
    true = _true_residual(A, result.x, b)
    target = rtol * np.linalg.norm(b.astype(np.float64))
    # before the fix: CONVERGED with the true residual 100x above the target
    assert true > target and not result.success
    assert result.status == Status.STAGNATED and "attainable accuracy" in result.message
    assert result.stats["restarts"] >= 1
    assert result.stats["true_residual"] == pytest.approx(true, rel=1e-6)


def test_ssor_pcg_with_maxiter_none_ends_at_the_attainable_accuracy():
    A, b = poisson(10).astype(np.float32), np.ones(100, np.float32)
    result = itersolve.ssor_pcg(A, b, rtol=1e-14, maxiter=None)
    assert result.status == Status.STAGNATED and not result.success


def test_sor_float32_residual_is_the_true_one():
    A, b = poisson(6).astype(np.float32), np.ones(36, np.float32)
    result = itersolve.sor(A, b, rtol=1e-9, maxiter=2000)
    true = _true_residual(A, result.x, b)
    assert result.residuals[-1] == pytest.approx(true, rel=1e-6)
    assert result.success == (true <= 1e-9 * 6.0)


@pytest.mark.parametrize("solver", [itersolve.sor, itersolve.ssor_pcg])
@pytest.mark.parametrize("where", ["A", "b", "x0"])
def test_complex_input_is_a_type_error_never_a_silent_cast(solver, where):
    A, b, x0 = poisson(3).toarray(), np.ones(9), np.zeros(9)
    args = {"A": A, "b": b, "x0": x0}
    args[where] = args[where] * (1 + 1j)
    with pytest.raises(TypeError, match=f"`{where}` is complex"):
        solver(args["A"], args["b"], args["x0"])


def test_jacobi_spectral_radius_rejects_nan_without_printing(capfd):
    A = np.where(np.eye(5) == 1, np.nan, np.eye(5, k=1)) + 2 * np.eye(5)
    with pytest.raises(ValueError, match="`A` contains NaN"):
        itersolve.jacobi_spectral_radius(A)
    with pytest.raises(TypeError, match="`rng`"):
        itersolve.jacobi_spectral_radius(poisson(3), rng="x")
    with pytest.raises(TypeError, match="`rng`"):
        itersolve.sor(poisson(3), np.ones(9), omega="auto", rng="x")
    assert capfd.readouterr().out == ""


def test_jacobi_spectral_radius_of_a_rotation_where_arnoldi_struggles():
    # Jacobi matrix = a cyclic shift times 0.5: every eigenvalue has modulus 0.5
    n = 12
    A = np.eye(n) - 0.5 * np.roll(np.eye(n), 1, axis=1)
    assert itersolve.jacobi_spectral_radius(A, rng=0) == pytest.approx(0.5, rel=1e-8)


def test_omega_auto_on_a_diagonal_matrix_takes_omega_one():
    # beta = 0: the cancelling form gave NaN; Young's optimum is Gauss-Seidel's omega = 1
    result = itersolve.sor(np.diag([2.0, 3.0, 4.0]), np.ones(3), omega="auto")
    assert result.success and result.stats["omega"] == 1.0
    np.testing.assert_allclose(result.x, [0.5, 1 / 3, 0.25], rtol=1e-15)


def test_runtime_code_does_not_import_sympy():
    process = run_isolated(
        """
        import sys, numpy as np, itersolve
        itersolve.sor(np.diag([2.0, 3.0, 4.0]), np.ones(3), omega="auto")
        itersolve.ssor_pcg(np.diag([2.0, 3.0, 4.0]), np.ones(3))
        print(sorted(m for m in ("sympy", "itersolve.theory") if m in sys.modules))
        """
    )
    assert process.stdout.strip() == "[]", process.stdout + process.stderr


@pytest.mark.parametrize("omega", [1.0, 1.99])
def test_maxiter_none_on_a_non_convergent_setting_ends_with_a_status(omega):
    # non-symmetric: SOR with omega = 1.99 neither converges nor overflows; the rotation
    # [[1, 2], [-2, 1]] makes Gauss-Seidel diverge geometrically
    rng = np.random.default_rng(1)
    A = sp.csr_array(poisson(10) + sp.diags_array(rng.uniform(-1, 1, 99), offsets=1))
    for matrix, b in ((A, np.ones(100)), (np.array([[1.0, 2.0], [-2.0, 1.0]]), np.ones(2))):
        result = itersolve.sor(matrix, b, omega=omega, maxiter=None)
        dense = matrix.toarray() if sp.issparse(matrix) else matrix
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged x near 1e308
            true = np.linalg.norm(b - dense @ result.x)
        assert result.success == (true <= 1e-8 * np.linalg.norm(b) * (1 + 1e-9))
        if not result.success:
            assert result.status in (Status.STAGNATED, Status.NONFINITE), result.message


consistently_ordered = (
    strategies.diagonally_dominant(n=(2, 30), margin=(0.5, 0.97))
    | strategies.spd_matrices(n=(2, 30), condition=(2.0, 500.0))
    | strategies.poisson(st.tuples(st.integers(2, 9), st.integers(1, 9)))
)


@settings(max_examples=40)
@given(case=consistently_ordered)
def test_gauss_seidel_and_optimal_sor_follow_young_on_drawn_systems(case):
    """Young's theory on every drawn system: Gauss-Seidel at rho^2, SOR at omega* faster."""
    A, b, x_star, rho, omega = case
    gauss_seidel = itersolve.sor(A, b, omega=1.0, rtol=1e-12, maxiter=20_000)
    assert_converges(gauss_seidel, to=x_star, rtol=1e-10 * case.condition)
    optimal = itersolve.sor(A, b, omega=omega, rtol=1e-12, maxiter=20_000)
    assert_converges(optimal, to=x_star, rtol=1e-10 * case.condition)
    if rho >= 0.3:  # faster rates leave too few residuals above rounding to fit
        assert_rate(gauss_seidel, testing_rates.sor(1.0, rho), rtol=0.1)
        assert optimal.nit <= gauss_seidel.nit


FAMILIES = {
    "spd": strategies.spd_matrices(n=(2, 25), condition=(2.0, 200.0), dtype=("float32", "float64")),
    "dominant": strategies.diagonally_dominant(n=(2, 25), margin=(0.3, 0.95)),
    "poisson": strategies.poisson(st.tuples(st.integers(2, 7), st.integers(2, 7))),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("sweep", ["forward", "backward", "symmetric"])
@pytest.mark.parametrize("ordering", ["natural", "red-black", "multicolor"])
@settings(max_examples=10)
@given(data=st.data())
def test_every_sweep_and_ordering_reaches_the_certified_solution(family, sweep, ordering, data):
    """SOR at Young's omega* in every sweep and ordering converges to the drawn x*.

    A red-black ordering needs a two-colourable matrix: every family here is one (the
    two-block matrices and the 5-point Laplacian), so it is never refused.
    """
    A, b, x_star, rho, omega = data.draw(FAMILIES[family])
    rtol = 1e-5 if b.dtype == np.float32 else 1e-12
    result = itersolve.sor(
        A, b, omega=omega, sweep=sweep, ordering=ordering, rtol=rtol, maxiter=20_000
    )
    assert result.x.dtype == b.dtype
    # the relative error is at most cond(A) times the relative residual
    conditioning = np.linalg.cond(A.toarray().astype(np.float64))
    assert_converges(result, to=x_star, rtol=10 * rtol * conditioning)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@settings(max_examples=10)
@given(data=st.data())
def test_ssor_pcg_reaches_the_certified_solution_within_n_steps(family, data):
    A, b, x_star, rho, omega = data.draw(FAMILIES[family])
    if family == "dominant":  # nonsymmetric: SSOR-PCG needs a Hermitian positive definite A
        A = sp.csr_array(A + A.T.conj()) / 2 + sp.eye_array(A.shape[0]) * abs(A).sum()
        x_star = np.linalg.solve(A.toarray(), b)
    rtol = 1e-5 if b.dtype == np.float32 else 1e-12
    result = itersolve.ssor_pcg(A, b, omega=omega, rtol=rtol, maxiter=10 * A.shape[0] + 50)
    conditioning = np.linalg.cond(A.toarray().astype(np.float64))
    assert_converges(result, to=x_star, rtol=10 * rtol * conditioning)
