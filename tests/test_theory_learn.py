"""The sympy derivations of itersolve.theory.learn against direct numeric computation.

The oracles are written here from the reference note (learned_acceleration.md §2, §5):
SOR and Jacobi sweeps as row loops, the normal equations with ``numpy.kron``, least squares
with ``numpy.linalg.lstsq``, quadrature on a fine grid.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from itersolve.theory import learn as theory


def test_derivations_hold():
    d = theory.derivations()  # asserts each step; here the results themselves
    zero2 = sp.zeros(2, 1)
    for key in ("fixed_point", "affine_residual_k1", "affine_residual_k2", "affine_residual_k3"):
        assert d[key] == zero2
    assert d["induction_step"] == zero2
    assert d["normal_equations_minus_gradient"] == sp.zeros(4, 1)
    a, rho, x, c = (sp.symbols(f"{name}0:3", positive=True) for name in ("a", "rho", "x", "c"))
    k = sp.Symbol("k", positive=True, integer=True)
    weight = [c[i] * a[i] ** 2 * rho[i] ** (2 * k) for i in range(3)]
    expected = sum(w * x[i] for i, w in enumerate(weight)) / sum(weight)
    assert sp.simplify(d["weighted_mean"] - expected) == 0
    assert d["solution_population"] == sp.Matrix([[5, sp.Rational(7, 8)]] * 2)
    assert d["residual_population"] == sp.Matrix([[0, 1]] * 2)
    tol = sp.Symbol("tol", positive=True)
    assert sp.simplify(d["gap_per_hardness"] - d["mean_log_ratio"]) == 0
    assert sp.diff(d["mean_log_ratio"], tol) == -1 / tol


def _sor_sweep(A, x, b, omega):
    """One forward SOR sweep, row by row (the textbook loop)."""
    x = x.copy()
    for i in range(len(b)):
        sigma = A[i] @ x - A[i, i] * x[i]
        x[i] = (1 - omega) * x[i] + omega * (b[i] - sigma) / A[i, i]
    return x


@settings(max_examples=25)
@given(seed=st.integers(0, 2**32 - 1), omega=st.floats(0.2, 1.8), k=st.integers(0, 6))
def test_residual_after_k_sor_sweeps_is_affine_in_the_start(seed, omega, k):
    rng = np.random.default_rng(seed)
    n = 5
    B = rng.standard_normal((n, n))
    A = B @ B.T + n * np.eye(n)  # SPD: SOR converges for 0 < omega < 2
    b, x0 = rng.standard_normal(n), rng.standard_normal(n)

    def run(start, rhs):
        x = start
        for _ in range(k):
            x = _sor_sweep(A, x, rhs, omega)
        return x

    residual = b - A @ run(x0, b)
    # the paper's responses: the solver's own sweeps on x0 with b = 0, times A
    response = A @ run(x0, np.zeros(n))
    np.testing.assert_allclose(residual, (b - A @ run(np.zeros(n), b)) - response, atol=1e-10)
    D, L = np.diag(np.diag(A)), np.tril(A, -1)
    M = np.eye(n) - omega * np.linalg.solve(D + omega * L, A)  # SOR's iteration matrix
    np.testing.assert_allclose(response, A @ np.linalg.matrix_power(M, k) @ x0, atol=1e-10)


def _random_tasks(rng, m, n, q):
    psis = rng.integers(-3, 4, size=(m, q))
    psis[:, 0] = 1
    responses = rng.integers(-3, 4, size=(m, n, n))
    offsets = rng.integers(-3, 4, size=(m, n))
    weights = rng.integers(1, 4, size=m)
    return psis, responses, offsets, weights


def _numeric_minimiser(psis, responses, offsets, weights, ridge):
    q, n = psis.shape[1], responses.shape[2]
    H = ridge * np.eye(q * n)
    rhs = np.zeros(q * n)
    for psi, R, g, c in zip(psis, responses, offsets, weights, strict=True):
        H += c * np.kron(np.outer(psi, psi), R.T @ R)
        rhs += c * np.kron(psi, R.T @ g)
    return np.linalg.solve(H, rhs).reshape(q, n).T  # vec stacks columns


def _objective(W, psis, responses, offsets, weights, ridge):
    return ridge * np.sum(W**2) + sum(
        c * np.sum((g - R @ W @ psi) ** 2)
        for psi, R, g, c in zip(psis, responses, offsets, weights, strict=True)
    )


@pytest.mark.parametrize("ridge", [0, sp.Rational(1, 10)])
def test_normal_equations_numeric_equal_exact(ridge):
    rng = np.random.default_rng(3)
    tasks = _random_tasks(rng, m=6, n=2, q=3)
    exact = theory.residual_minimiser(*(t.tolist() for t in tasks), ridge=ridge)
    numeric = _numeric_minimiser(*tasks, ridge=float(ridge))
    np.testing.assert_allclose(np.array(exact, dtype=float), numeric, rtol=1e-12)


@settings(max_examples=30)
@given(seed=st.integers(0, 2**32 - 1), ridge=st.sampled_from([0.0, 1e-3, 1.0]))
def test_perturbing_the_minimiser_never_lowers_the_objective(seed, ridge):
    rng = np.random.default_rng(seed)
    tasks = _random_tasks(rng, m=7, n=3, q=2)
    H_exact, _ = theory.residual_normal_equations(
        *(t.tolist() for t in tasks), ridge=sp.nsimplify(ridge)
    )
    if H_exact.det() == 0:  # a flat direction: no unique minimiser to test
        return
    W = _numeric_minimiser(*tasks, ridge=ridge)
    best = _objective(W, *tasks, ridge)
    for _ in range(5):
        step = rng.standard_normal(W.shape) * 10.0 ** rng.integers(-4, 1)
        assert _objective(W + step, *tasks, ridge) >= best - 1e-9 * (1 + abs(best))


def test_solution_minimiser_is_least_squares():
    rng = np.random.default_rng(5)
    psis = np.column_stack([np.ones(8), rng.integers(-4, 5, size=(8, 2))])
    solutions = rng.integers(-4, 5, size=(8, 3))
    exact = np.array(theory.solution_minimiser(psis.tolist(), solutions.tolist()), dtype=float)
    coefficients, *_ = np.linalg.lstsq(psis.astype(float), solutions.astype(float), rcond=None)
    np.testing.assert_allclose(exact, coefficients.T, rtol=1e-12)


# --- the counterexample ---------------------------------------------------------------


def test_population_minimisers_by_quadrature():
    t = np.linspace(-1, 1, 400_001)
    t = (t[1:] + t[:-1]) / 2  # midpoints: density 1/2 on (-1, 1)
    hard = np.abs(t) >= 0.5
    solution = np.where(hard, t, 10.0)
    design = np.column_stack([np.ones_like(t), t])
    coefficients, *_ = np.linalg.lstsq(design, solution, rcond=None)
    np.testing.assert_allclose(coefficients, [5, 7 / 8], rtol=1e-6)
    # residual objective: weight 0 on easy tasks (one sweep solves them), exact on the hard line
    weight = np.where(hard, 1 / t**2, 0.0)
    sqrt_w = np.sqrt(weight)[:, None]
    coefficients, *_ = np.linalg.lstsq(design * sqrt_w, solution * sqrt_w[:, 0], rcond=None)
    np.testing.assert_allclose(coefficients, [0, 1], atol=1e-12)
    expected = theory.derivations()
    np.testing.assert_array_equal(np.array(expected["solution_population"], float)[0], [5, 7 / 8])


def _jacobi_count(A, b, x0, rtol, maxiter=100_000):
    """Sweeps of x <- D^{-1} (b - (A - D) x) until ||b - A x|| <= rtol ||b||."""
    d = np.diag(A)
    x = np.array(x0, dtype=float)
    for count in range(maxiter):
        if np.linalg.norm(b - A @ x) <= rtol * np.linalg.norm(b):
            return count
        x = (b - (A @ x - d * x)) / d
    raise AssertionError("no convergence")


@settings(max_examples=40)
@given(
    t=st.floats(-1, 1).filter(lambda t: abs(t) > 1e-3),
    start=st.tuples(st.floats(-12, 12), st.floats(-12, 12)),
    hardness=st.sampled_from([1.0, 2.0, 7.5, 30.0]),
    rtol=st.sampled_from([1e-4, 1e-8]),
)
def test_counts_equal_jacobi_runs(t, start, hardness, rtol):
    A, b, _, _ = theory.counterexample_task(t, hardness)
    A, b = np.array(A, dtype=float), np.array(b, dtype=float).ravel()
    predicted = theory.counterexample_iterations(t, start, hardness, rtol)
    observed = _jacobi_count(A, b, start, rtol)
    assert abs(predicted - observed) <= 1  # a ceil at a rounding boundary
    if abs(t) >= 0.5 and hardness > 1:
        # the rate: every sweep multiplies the relative residual by exactly s
        s = 1 - 1 / hardness
        e0 = np.linalg.norm(b - A @ np.asarray(start)) / np.linalg.norm(b)
        if e0 > rtol:
            assert predicted == math.ceil(math.log(e0 / rtol) / -math.log(s))


def test_sample_minimisers():
    rng = np.random.default_rng(11)
    t = np.concatenate([rng.uniform(0.5, 1, 5) * rng.choice([-1, 1], 5), rng.uniform(-0.5, 0.5, 5)])
    weights = theory.counterexample_weights(16, t, iterations=2)
    assert weights["residual"] == sp.Matrix([[0, 1]] * 2)  # exact: the hard line
    solution = np.where(np.abs(t) >= 0.5, t, 10.0)
    coefficients, *_ = np.linalg.lstsq(np.column_stack([np.ones(10), t]), solution, rcond=None)
    np.testing.assert_allclose(np.array(weights["solution"], float), [coefficients] * 2, rtol=1e-12)
    with pytest.raises(ValueError, match="sweep"):
        theory.counterexample_weights(16, t, iterations=0)


def test_the_gap_grows_without_bound():
    rtol = 1e-8
    per_hardness = theory.gap_per_hardness(rtol)
    # -ln(rtol) plus the mean log relative error, which lies in [ln 4.875, ln 10.0625]
    assert math.log(4.875) < per_hardness + math.log(rtol) < math.log(10.0625)
    gaps = [theory.counterexample_gap(h, rtol) for h in (2, 8, 32, 128, 512)]
    assert all(later > 3.9 * earlier for earlier, later in zip(gaps, gaps[1:], strict=False))
    assert gaps[-1] / 512 == pytest.approx(per_hardness, rel=2e-3)
    # the mean of the exact counts (rounded up) over hard tasks, by quadrature
    hardness = 32
    t = np.concatenate([np.linspace(0.5, 1, 2001), -np.linspace(0.5, 1, 2001)])
    counts = [theory.counterexample_iterations(v, [5 + 7 * v / 8] * 2, hardness, rtol) for v in t]
    assert np.mean(counts) == pytest.approx(gaps[2] + 0.5, abs=0.6)
    residual_counts = [theory.counterexample_iterations(v, [v, v], hardness, rtol) for v in t]
    assert max(residual_counts) == 0
