"""The fused SSOR-PCG kernels (itersolve/_sor/_pcg_kernels.py), the one-pass symmetry check
and the diagonal scan.

Run jitted and again under ``NUMBA_DISABLE_JIT=1`` (Makefile), so sizes stay small.

Oracles: the NumPy formulation :class:`~itersolve._sor._solvers.SSORPCG` (the code path the
fused solver replaces, on the same :class:`LinearSystem`), ``._kernels.ssor_solve`` (the
previous preconditioner kernel), dense solves and dense formulas.

Tolerances. The exact-division preconditioner (``fast=False``) and ``pcg_residual`` repeat
the previous kernels' operations in the same order: bit for bit. The row-scaled
preconditioner multiplies by ``w a_ij / a_ii`` instead of dividing by ``a_ii`` on the
solve's chain: it agrees with the dense ``M^{-1} r`` to ``1e-12`` relative to ``max |z|``.
The fused iteration sums its dot products in index order in float64 where the NumPy path
calls BLAS ``dot``: over ``min(n, 8)`` steps the residual norms agree to ``1e-9 ||r_0||``
and the iterates to ``1e-9 max |x*|`` (measured worst over 400 drawn systems: 3e-14); run
to a tolerance, both end with the same status and their iteration counts differ by at
most one (the recursive residual may cross the tolerance one step apart).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from itersolve import Status
from itersolve._driver import run
from itersolve._sor import _kernels, _pcg_kernels
from itersolve._sor._pcg import FusedSSORPCG
from itersolve._sor._solvers import SSORPCG
from itersolve._sor._system import LinearSystem, as_csr

seeds = st.integers(0, 2**32 - 1)
omegas = st.floats(0.05, 1.95)


def spd(seed, n, dtype=np.float64):
    """``R R^T + delta I`` with a sparse random ``R``: SPD, rarely diagonally dominant."""
    rng = np.random.default_rng(seed)
    R = sp.random_array((n, n), density=min(1.0, 4 / n), rng=rng, format="csr")
    R.data = rng.standard_normal(R.nnz)
    A = sp.csr_array(R @ R.T + rng.uniform(0.01, 1.0) * sp.eye_array(n))
    return as_csr(A.astype(dtype)), rng.standard_normal(n).astype(dtype)


def prepared(A, omega):
    split = np.empty(A.shape[0], dtype=np.int64)
    scaled = np.empty(A.nnz)
    diagonal = A.diagonal()
    with np.errstate(over="ignore"):  # as in run(): an overflow sends the solve to `fast=False`
        fast = _pcg_kernels.pcg_prepare(A.indptr, A.indices, A.data, diagonal, omega, split, scaled)
    return (A.indptr, A.indices, A.data, diagonal, split, scaled), bool(fast)


def dense_ssor_inverse(A, omega, r):
    dense = A.toarray().astype(np.float64)
    D = np.diag(np.diag(dense))
    L, U = np.tril(dense, -1), np.triu(dense, 1)
    M = (D + omega * U) @ np.linalg.solve(D, D + omega * L) / (omega * (2 - omega))
    return np.linalg.solve(M, r)


@settings(max_examples=30)
@given(seed=seeds, n=st.integers(1, 20), omega=omegas)
def test_preconditioners_equal_the_previous_kernel_and_the_dense_formula(seed, n, omega):
    A, r = spd(seed, n)
    args, fast = prepared(A, omega)
    assert fast
    reference = np.empty(n)
    _kernels.ssor_solve(A.indptr, A.indices, A.data, args[3], r, reference, omega)
    for use_fast in (False, True):
        z, p = np.empty(n), np.empty(n)
        rz = _pcg_kernels.pcg_restart(*args[:6], use_fast, r.copy(), z, p, omega, 1.0)
        if not use_fast:  # same operations in the same order
            np.testing.assert_array_equal(z, reference)
        scale = np.abs(reference).max()
        np.testing.assert_allclose(z, dense_ssor_inverse(A, omega, r), rtol=0, atol=1e-12 * scale)
        np.testing.assert_array_equal(p, z)
        assert rz == pytest.approx(float(r @ z), rel=1e-12)


@settings(max_examples=30)
@given(seed=seeds, n=st.integers(1, 20))
def test_residual_kernel_is_the_previous_product_bit_for_bit(seed, n):
    A, b = spd(seed, n)
    x = np.random.default_rng(seed).standard_normal(n)
    product = np.empty(n)
    _kernels.spmv(A.indptr, A.indices, A.data, x, product)
    r = np.empty(n)
    norm = _pcg_kernels.pcg_residual(A.indptr, A.indices, A.data, x, b, r)
    np.testing.assert_array_equal(r, b - product)
    assert norm == pytest.approx(np.linalg.norm(r), rel=1e-14)
    tiny = np.full(3, 1e-200)  # below the safe range: recomputed scaled, not underflowed to 0
    assert _pcg_kernels._finish_norm(tiny, float(tiny @ tiny)) == pytest.approx(np.sqrt(3) * 1e-200)


@settings(max_examples=40)
@given(seed=seeds, n=st.integers(1, 20), omega=omegas)
def test_fused_iteration_follows_the_numpy_code_path(seed, n, omega):
    A, b = spd(seed, n)
    x_star = np.linalg.solve(A.toarray(), b)
    steps = min(n, 8)  # rtol = atol = 0: no true-residual check, only CG's own steps
    fused = run(FusedSSORPCG(0.0, 0.0, omega), LinearSystem(A, b), np.zeros(n), maxiter=steps)
    numpy = run(SSORPCG(0.0, 0.0, omega), LinearSystem(A, b), np.zeros(n), maxiter=steps)
    assert fused.status == numpy.status and fused.nfev == numpy.nfev
    m = min(fused.residuals.size, numpy.residuals.size)
    assert m >= fused.residuals.size - 1
    np.testing.assert_allclose(
        fused.residuals[:m], numpy.residuals[:m], rtol=0, atol=1e-9 * numpy.residuals[0]
    )
    np.testing.assert_allclose(fused.x, numpy.x, rtol=0, atol=1e-9 * np.abs(x_star).max())


@settings(max_examples=30)
@given(seed=seeds, n=st.integers(1, 20), omega=omegas, single=st.booleans())
def test_fused_solve_ends_like_the_numpy_code_path_at_the_dense_solution(seed, n, omega, single):
    dtype = np.float32 if single else np.float64
    A, b = spd(seed, n, dtype)
    rtol = 1e-5 if single else 1e-10
    maxiter = 10 * n + 50
    fused = run(
        FusedSSORPCG(rtol, 0.0, omega), LinearSystem(A, b), np.zeros(n, dtype), maxiter=maxiter
    )
    numpy = run(SSORPCG(rtol, 0.0, omega), LinearSystem(A, b), np.zeros(n, dtype), maxiter=maxiter)
    assert fused.status == numpy.status
    assert abs(fused.nit - numpy.nit) <= 1
    assert fused.stats.keys() == numpy.stats.keys()
    if fused.success:  # success rests on the true residual of the returned point
        dense = A.toarray().astype(np.float64)
        true = np.linalg.norm(b - dense @ fused.x.astype(np.float64))
        assert true <= rtol * np.linalg.norm(b.astype(np.float64)) * (1 + 1e-6)
        assert fused.residuals[-1] == fused.stats["true_residual"]
        x_star = np.linalg.solve(dense, b.astype(np.float64))
        error = np.linalg.norm(fused.x - x_star) / np.linalg.norm(x_star)
        assert error <= 10 * rtol * np.linalg.cond(dense)


def test_extreme_diagonal_falls_back_to_exact_division():
    A = as_csr(np.array([[1e-300, 1e10], [1e10, 1.0]]))  # w a_12 / a_11 overflows
    _, fast = prepared(A, 1.0)
    assert not fast
    b = np.array([1.0, 1.0])
    fused = run(FusedSSORPCG(1e-8, 0.0, 1.0), LinearSystem(A, b), np.zeros(2), maxiter=20)
    numpy = run(SSORPCG(1e-8, 0.0, 1.0), LinearSystem(A, b), np.zeros(2), maxiter=20)
    assert fused.status == numpy.status != Status.CONVERGED


def test_indefinite_and_nonfinite_outcomes():
    A = as_csr(np.array([[1.0, 2.0], [2.0, 1.0]]))  # symmetric, positive diagonal, indefinite
    b = np.array([1.0, -1.0])
    fused = run(FusedSSORPCG(1e-8, 0.0, 1.0), LinearSystem(A, b), np.zeros(2), maxiter=20)
    numpy = run(SSORPCG(1e-8, 0.0, 1.0), LinearSystem(A, b), np.zeros(2), maxiter=20)
    assert fused.status == numpy.status == Status.INVALID_INPUT
    assert fused.message == numpy.message
    args, fast = prepared(A, 1.0)
    n = 2
    x, r, z, q = np.zeros(n), np.ones(n), np.ones(n), np.empty(n)
    p = np.array([np.inf, 1.0])
    with np.errstate(all="ignore"):  # as in run()
        outcome = _pcg_kernels.pcg_step(
            *args, fast, x, r, z, p, q, 1.0, 1.0, 1.0, 0.0, 0.5, 2.0, 1.0
        )[0]
    assert outcome == _pcg_kernels.NONFINITE
    np.testing.assert_array_equal(x, 0.0)  # nothing written


@settings(max_examples=40)
@given(seed=seeds, n=st.integers(1, 12), density=st.floats(0, 0.6), kind=st.integers(0, 2))
def test_asymmetry_and_scale_against_numpy(seed, n, density, kind):
    rng = np.random.default_rng(seed)
    R = sp.random_array((n, n), density=density, rng=rng, format="csr")
    if kind:  # symmetric pattern, symmetric values or one entry disturbed
        R = sp.csr_array(R + R.T)
        if kind == 2 and R.nnz:
            R.data[rng.integers(R.nnz)] += 0.5
    A = as_csr(R + sp.eye_array(n))
    dense = A.toarray()
    asymmetry, largest = _kernels.asymmetry_and_scale(A.indptr, A.indices, A.data)
    assert asymmetry == np.abs(dense - dense.T).max()
    assert largest == np.abs(dense).max()
    assert _kernels.largest_asymmetry(A.indptr, A.indices, A.data) == asymmetry


@settings(max_examples=30)
@given(seed=seeds, n=st.integers(1, 12), density=st.floats(0, 0.6), single=st.booleans())
def test_csr_diagonal_against_scipy(seed, n, density, single):
    rng = np.random.default_rng(seed)
    R = sp.random_array((n, n), density=density, rng=rng, format="csr")
    R.data = rng.standard_normal(R.nnz)
    A = as_csr(R + sp.eye_array(n)).astype(np.float32 if single else np.float64)
    out = np.empty(n, dtype=A.dtype)
    positive = _kernels.csr_diagonal(A.indptr, A.indices, A.data, out)
    np.testing.assert_array_equal(out, A.diagonal())
    assert positive == bool(np.all(A.diagonal() > 0))
