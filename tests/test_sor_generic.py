"""The array-API SOR family (``itersolve.gpu._sor``) on NumPy + scipy.sparse.

Coloured SOR against the CPU Numba kernel ``colored_sor_sweep`` iterate by iterate and
both against dense forward/backward SOR on the colour-permuted matrix; SSOR-PCG in colour
order against the dense ``M^{-1} r``, a dense PCG and the CPU ``SSORPCG`` run on ``P A P^T``.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from itersolve.gpu._sor import ColoredSOR, ColoredSSORPCG, ColoredSystem

import itersolve
from itersolve._driver import run
from itersolve._result import Status
from itersolve._sor._coloring import greedy_coloring, two_coloring
from itersolve._sor._solvers import SOR, SSORPCG
from itersolve._sor._system import LinearSystem
from itersolve.testing import problems

SWEEPS = ("forward", "backward", "symmetric")


def random_matrix(seed, n, density, *, spd):
    """A sparse strictly diagonally dominant matrix (symmetric, hence SPD, with ``spd``)."""
    rng = np.random.default_rng(seed)
    off = sp.random_array((n, n), density=density, rng=rng, data_sampler=rng.standard_normal)
    off = sp.csr_array(off + off.T if spd else off)
    off.setdiag(0)
    off.eliminate_zeros()
    dominance = np.asarray(abs(off).sum(axis=1)).ravel()
    diagonal = dominance + rng.uniform(0.1, 2.0, n)
    A = sp.csr_array(off + sp.diags_array(diagonal))
    return A, rng.standard_normal(n), rng.standard_normal(n)


def poisson2d(m):
    return problems.poisson_problem(shape=(m, m)).A


def record(solver, system, x0, maxiter):
    iterates = []
    result = run(solver, system, x0, maxiter=maxiter, callback=lambda r: iterates.append(r.x))
    return result, iterates


def permuted(A, order):
    """Dense ``P A P^T`` split as ``(D, L, U)``."""
    dense = A.toarray()[np.ix_(order, order)]
    return np.diag(np.diag(dense)), np.tril(dense, -1), np.triu(dense, 1)


def dense_sweep(D, L, U, b, x, omega, backward):
    """A dense SOR half-sweep, permuted coordinates: ``(D/w + L)^{-1}(b - (U + (1 - 1/w) D) x)``."""
    if backward:
        L, U = U, L
    rhs = b - (U + (1 - 1 / omega) * D) @ x
    return sla.solve_triangular(D / omega + L, rhs, lower=not backward)


def dense_ssor_inverse(A, order, omega):
    """``r -> M^{-1} r`` in original coordinates, ``M`` the SSOR matrix of ``P A P^T``."""
    D, L, U = permuted(A, order)
    M = (D + omega * U) @ np.linalg.solve(D, D + omega * L) / (omega * (2 - omega))

    def apply(r):
        z = np.empty_like(r)
        z[order] = np.linalg.solve(M, r[order])
        return z

    return apply


def check_sor_parity(A, b, x0, coloring, ordering, omega, sweep, maxiter=4):
    system = LinearSystem(A, b)
    if ordering == "red-black":
        system.red_black = coloring
    else:
        system.colors = coloring
    colored = ColoredSystem(A, b, xp=np, sparse=sp, coloring=coloring, ordering=ordering)
    cpu, cpu_x = record(SOR(0.0, 0.0, omega, sweep, ordering), system, system.start(x0), maxiter)
    gen, gen_x = record(ColoredSOR(0.0, 0.0, omega, sweep), colored, colored.start(x0), maxiter)
    assert gen.nit == cpu.nit and gen.status == cpu.status and gen.nfev == cpu.nfev
    assert gen.stats == cpu.stats
    scale = np.linalg.norm(b) + np.abs(A).max() * max(np.linalg.norm(x) for x in cpu_x)
    np.testing.assert_allclose(gen.residuals, cpu.residuals, rtol=1e-12, atol=1e-13 * scale)

    order = coloring[0]
    D, L, U = permuted(A, order)
    x = np.asarray(x0, dtype=float)[order]
    for k, (xc, xg) in enumerate(zip(cpu_x, gen_x)):
        tol = 1e-12 * (1 + np.abs(x).max())
        np.testing.assert_allclose(xg, xc, rtol=1e-13, atol=1e-13 * (1 + np.abs(xc).max()))
        np.testing.assert_allclose(xg[order], x, rtol=1e-10, atol=tol, err_msg=f"iterate {k}")
        for backward in {"forward": (False,), "backward": (True,), "symmetric": (False, True)}[
            sweep
        ]:
            x = dense_sweep(D, L, U, b[order], x, omega, backward)


@given(
    sweep=st.sampled_from(SWEEPS),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 24),
    density=st.floats(0.05, 0.5),
    omega=st.floats(0.1, 1.9),
    spd=st.booleans(),
)
def test_multicolor_sor_matches_cpu_kernel_and_dense_reference(sweep, seed, n, density, omega, spd):
    A, b, x0 = random_matrix(seed, n, density, spd=spd)
    check_sor_parity(A, b, x0, greedy_coloring(A), "multicolor", omega, sweep)


@pytest.mark.parametrize("sweep", SWEEPS)
@pytest.mark.parametrize("m", [1, 2, 5, 8])
@pytest.mark.parametrize("omega", [0.7, 1.0, 1.6])
def test_red_black_sor_on_poisson_matches_cpu_kernel_and_dense_reference(sweep, m, omega):
    A = poisson2d(m)
    rng = np.random.default_rng(m)
    b, x0 = rng.standard_normal(m * m), rng.standard_normal(m * m)
    check_sor_parity(A, b, x0, two_coloring(A), "red-black", omega, sweep)
    check_sor_parity(A, b, x0, greedy_coloring(A), "multicolor", omega, sweep)


def test_symmetric_sweep_uses_omega_in_both_halves():
    """pyamg's pitfall (reference §9): a symmetric sweep must change with ω."""
    A = poisson2d(6)
    b = np.ones(36)
    colored = ColoredSystem(A, b, xp=np, sparse=sp, coloring=two_coloring(A))
    x1, x2 = colored.start(), colored.start()
    colored.sweep(x1, 1.0)
    colored.sweep(x1, 1.0, backward=True)
    colored.sweep(x2, 1.5)
    colored.sweep(x2, 1.5, backward=True)
    assert not np.allclose(x1, x2)
    D, L, U = permuted(A, two_coloring(A)[0])
    order = two_coloring(A)[0]
    x = dense_sweep(D, L, U, b[order], np.zeros(36), 1.5, False)
    np.testing.assert_allclose(x2[order], dense_sweep(D, L, U, b[order], x, 1.5, True), rtol=1e-12)


@pytest.mark.parametrize("ordering", ["red-black", "multicolor"])
@pytest.mark.parametrize("sweep", SWEEPS)
def test_colored_sor_converges_with_cpu_statuses_and_stats(ordering, sweep):
    A = poisson2d(10)
    b = np.ones(100)
    system = LinearSystem(A, b)
    colored = ColoredSystem.from_linear_system(system, xp=np, sparse=sp, ordering=ordering)
    x0 = colored.start()
    gen = run(ColoredSOR(1e-8, 0.0, 1.5, sweep), colored, x0, maxiter=1000)
    cpu = run(SOR(1e-8, 0.0, 1.5, sweep, ordering), system, system.start(None), maxiter=1000)
    assert gen.success and gen.status == Status.CONVERGED and gen.nit == cpu.nit
    assert gen.x is x0  # updated in place
    assert gen.nfev == cpu.nfev == gen.nit + 1
    assert gen.stats == cpu.stats == {"omega": 1.5, "sweep": sweep, "ordering": ordering}
    np.testing.assert_allclose(gen.x, cpu.x, rtol=1e-12)
    short = run(ColoredSOR(1e-8, 0.0, 1.5, sweep), colored, colored.start(), maxiter=3)
    assert short.status == Status.MAXITER and short.nit == 3


def test_callback_sees_copies_and_dtype_is_kept():
    A = poisson2d(4).astype(np.float32)
    b = np.ones(16, dtype=np.float32)
    colored = ColoredSystem(A, b, xp=np, sparse=sp, coloring=two_coloring(A), ordering="red-black")
    seen = []
    result = run(
        ColoredSOR(1e-5, 0.0, 1.2),
        colored,
        colored.start(),
        maxiter=200,
        callback=lambda r: seen.append(r.x),
    )
    assert result.success and result.x.dtype == np.float32
    assert len({id(x) for x in seen}) == len(seen) and not np.array_equal(seen[1], seen[2])
    system = LinearSystem(A, b)
    cpu = run(SOR(1e-5, 0.0, 1.2, "forward", "red-black"), system, system.start(None), maxiter=200)
    assert abs(cpu.nit - result.nit) <= 1
    np.testing.assert_allclose(result.x, cpu.x, rtol=1e-4)


def test_invalid_colorings_are_rejected():
    A = poisson2d(3)
    order, color_ptr = two_coloring(A)
    with pytest.raises(ValueError, match="couples them"):
        ColoredSystem(A, np.ones(9), xp=np, sparse=sp, coloring=(np.arange(9), np.array([0, 9])))
    with pytest.raises(ValueError, match="permutation"):
        ColoredSystem(A, np.ones(9), xp=np, sparse=sp, coloring=(order[::-1] * 0, color_ptr))
    with pytest.raises(ValueError, match="ordering"):
        ColoredSystem(
            A, np.ones(9), xp=np, sparse=sp, coloring=(order, color_ptr), ordering="natural"
        )
    with pytest.raises(ValueError, match="sweep"):
        ColoredSOR(1e-8, 0.0, 1.0, "sideways")


# -- SSOR-PCG ----------------------------------------------------------------------------


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 24),
    density=st.floats(0.05, 0.5),
    omega=st.floats(0.05, 1.95),
)
def test_ssor_preconditioner_equals_dense_inverse_and_cpu_kernel(seed, n, density, omega):
    from itersolve._sor._kernels import ssor_solve

    A, r, _ = random_matrix(seed, n, density, spd=True)
    order, color_ptr = greedy_coloring(A)
    colored = ColoredSystem(A, r, xp=np, sparse=sp, coloring=(order, color_ptr))
    z = colored.ssor_solve(r, omega)
    dense = dense_ssor_inverse(A, order, omega)(r)
    np.testing.assert_allclose(z, dense, rtol=1e-9, atol=1e-12 * np.abs(dense).max())
    # The CPU kernel in natural order on P A P^T is the same preconditioner.
    Ap = sp.csr_array(A[order][:, order])
    Ap.sort_indices()
    z_cpu = np.empty(n)
    ssor_solve(Ap.indptr, Ap.indices, Ap.data, Ap.diagonal(), r[order], z_cpu, omega)
    np.testing.assert_allclose(z[order], z_cpu, rtol=1e-12, atol=1e-14 * np.abs(z_cpu).max())


def dense_pcg(A, b, x0, apply_minv, iterations):
    """Textbook PCG with the CPU's recurrences; iterates and recursive residual norms."""
    A = A.toarray()
    x = x0.copy()
    r = b - A @ x
    z = apply_minv(r)
    p, rz = z.copy(), r @ z
    xs, norms = [x.copy()], [np.linalg.norm(r)]
    for _ in range(iterations):
        q = A @ p
        alpha = rz / (p @ q)
        x = x + alpha * p
        r = r - alpha * q
        z = apply_minv(r)
        rz, rz_old = r @ z, rz
        p = z + (rz / rz_old) * p
        xs.append(x.copy())
        norms.append(np.linalg.norm(r))
    return xs, np.array(norms)


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 24),
    density=st.floats(0.05, 0.5),
    omega=st.floats(0.1, 1.9),
)
def test_colored_pcg_matches_dense_pcg_and_cpu_pcg_on_permuted_matrix(seed, n, density, omega):
    A, b, x0 = random_matrix(seed, n, density, spd=True)
    order, color_ptr = greedy_coloring(A)
    colored = ColoredSystem(A, b, xp=np, sparse=sp, coloring=(order, color_ptr))
    steps = 3
    gen, gen_x = record(ColoredSSORPCG(0.0, 0.0, omega), colored, colored.start(x0), steps)
    permuted_system = LinearSystem(A[order][:, order], b[order])
    cpu, cpu_x = record(SSORPCG(0.0, 0.0, omega), permuted_system, x0[order], steps)
    assert cpu.nit == gen.nit and cpu.nfev == gen.nfev and cpu.status == gen.status
    with np.errstate(all="ignore"):  # small systems converge exactly, then CG divides 0 by 0
        xs, norms = dense_pcg(A, b, x0, dense_ssor_inverse(A, order, omega), steps)
    # compare while the residual is well above rounding (CG's later steps amplify it)
    live = np.flatnonzero(gen.residuals < 1e-6 * gen.residuals[0])
    k = gen.residuals.size if live.size == 0 else live[0] + 1
    scale = np.linalg.norm(b) + np.abs(A).max() * np.linalg.norm(x0)
    np.testing.assert_allclose(gen.residuals[:k], norms[:k], rtol=1e-7, atol=1e-9 * scale)
    np.testing.assert_allclose(gen.residuals[:k], cpu.residuals[:k], rtol=1e-9, atol=1e-11 * scale)
    for xg, xd, xc in list(zip(gen_x, xs, cpu_x))[:k]:
        np.testing.assert_allclose(xg, xd, rtol=1e-7, atol=1e-9 * (1 + np.abs(xd).max()))
        np.testing.assert_allclose(xg[order], xc, rtol=1e-9, atol=1e-11 * (1 + np.abs(xc).max()))


@pytest.mark.parametrize("omega", [0.05, 0.3, 0.7, 1.0, 1.3, 1.7, 1.95])
@pytest.mark.parametrize("case", ["poisson-red-black", "poisson-multicolor", "random-spd"])
def test_colored_pcg_converges_for_every_omega_on_spd_input(omega, case):
    if case == "random-spd":
        rng = np.random.default_rng(7)  # SPD but not diagonally dominant
        R = sp.random_array((60, 60), density=0.05, rng=rng, data_sampler=rng.standard_normal)
        A, b = sp.csr_array(R.T @ R + 0.05 * sp.eye_array(60)), rng.standard_normal(60)
        coloring, ordering = greedy_coloring(A), "multicolor"
    else:
        A, b = poisson2d(12), np.ones(144)
        ordering = case.split("-", 1)[1]
        coloring = two_coloring(A) if ordering == "red-black" else greedy_coloring(A)
    assert np.linalg.eigvalsh(A.toarray()).min() > 0
    colored = ColoredSystem(A, b, xp=np, sparse=sp, coloring=coloring, ordering=ordering)
    result = run(
        ColoredSSORPCG(1e-8, 0.0, omega), colored, colored.start(), maxiter=10 * A.shape[0]
    )
    assert result.success, result.message
    # a product per step, one for r0 and one for the true-residual check before success
    assert result.nfev == result.nit + 2 and result.stats["restarts"] == 0
    assert result.stats["omega"] == omega and result.stats["ordering"] == ordering
    assert result.stats["true_residual"] <= 1e-6 * np.linalg.norm(b)


def test_colored_pcg_reports_indefinite_matrix_as_the_cpu_does():
    A = sp.csr_array(np.array([[1.0, 2.0], [2.0, 1.0]]))  # eigenvalues 3 and -1
    b = np.array([1.0, -1.0])
    colored = ColoredSystem(A, b, xp=np, sparse=sp, coloring=greedy_coloring(A))
    gen = run(ColoredSSORPCG(1e-8, 0.0, 1.0), colored, colored.start(), maxiter=50)
    system = LinearSystem(A, b)  # one colour per row in natural order: the same iteration
    cpu = run(SSORPCG(1e-8, 0.0, 1.0), system, system.start(None), maxiter=50)
    assert gen.status == cpu.status == Status.INVALID_INPUT
    assert "not positive definite" in gen.message and gen.nit == cpu.nit
    np.testing.assert_allclose(gen.residuals, cpu.residuals, rtol=1e-14)


@pytest.mark.parametrize("solver", ["sor", "ssor_pcg"])
@pytest.mark.parametrize("rtol", [1e-5, 1e-9])
def test_float32_success_rests_on_the_float64_true_residual(solver, rtol):
    # a float32 residual b - A x rounds to about 1e-7 ||b||: below that it can read as
    # converged while the true residual of the returned x is not
    A = poisson2d(8).astype(np.float32)
    b = np.random.default_rng(0).standard_normal(64).astype(np.float32)
    result = getattr(itersolve, solver)(A, b, rtol=rtol, backend="array-api", maxiter=3000)
    true = np.linalg.norm(b.astype(np.float64) - A.toarray().astype(np.float64) @ result.x)
    target = rtol * np.linalg.norm(b.astype(np.float64))
    assert result.success == (true <= target)
    assert result.success == (rtol == 1e-5)  # 1e-9 is below float32's attainable accuracy
    if result.success:  # the residual that decided is the true one
        assert result.residuals[-1] == pytest.approx(true, rel=1e-6)
