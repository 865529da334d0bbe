"""The solvers every contract test runs on, each with problems that exercise the contract.

A later solver family adds its cases to ``CASES``. Each case knows how to call its
solver on:

* ``converging(dtype, **kw)``: a problem needing several iterations from its start;
* ``exact_start(dtype, **kw)``: the same problem started at its solution;
* ``nonfinite(**kw)``: a problem whose iterates or residuals become NaN or Inf, or
  ``None`` where the solver computes in logs and no valid input can overflow; such a
  case gives ``far_start(**kw)`` instead, a start near overflow that must still converge.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

import itersolve


@dataclasses.dataclass(frozen=True)
class SolverCase:
    name: str
    converging: Callable
    exact_start: Callable
    nonfinite: Callable | None  # None: no valid input can leave the finite range
    dtypes: tuple = (np.float32, np.float64, np.complex128)
    solution: Callable = None  # dtype -> the exact solution of `converging`
    # Chains have no residual before their first sweep (residuals[0] = 0), and every chain
    # method ends within n_steps sweeps, so zero tolerances without maxiter are valid.
    initial_residual: bool = True
    needs_maxiter_or_tolerance: bool = True
    far_start: Callable = None  # for solvers without `nonfinite`: a start near overflow


    def __repr__(self):
        return self.name


def _affine_problem(dtype):
    """T x = M x + c with ||M||_2 = 0.6: a contraction with a known fixed point."""
    rng = np.random.default_rng(7)
    n = 6
    M = rng.standard_normal((n, n))
    M *= 0.6 / np.linalg.norm(M, 2)
    c = rng.standard_normal(n) + (1j * rng.standard_normal(n) if np.dtype(dtype).kind == "c" else 0)
    M, c = M.astype(dtype), c.astype(dtype)
    wide = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
    x_star = np.linalg.solve(np.eye(n) - M.astype(wide), c.astype(wide))
    return (lambda x: M @ x + c), x_star.astype(dtype)


def _fixed_point_case(method, **options):
    def converging(dtype=np.float64, **kw):
        T, _ = _affine_problem(dtype)
        return itersolve.fixed_point(T, np.zeros(6, dtype), method=method, **options, **kw)

    def exact_start(dtype=np.float64, **kw):
        # T(x) = x* + (x - x*)/2 maps x* to itself exactly, in every dtype.
        x_star = np.arange(6).astype(dtype)
        T = lambda x: x_star + (x - x_star) / 2  # noqa: E731
        return itersolve.fixed_point(T, x_star.copy(), method=method, **options, **kw)

    def nonfinite(**kw):
        calls = []

        def T(x):  # a contraction whose evaluations turn to NaN after the second
            calls.append(None)
            return x / 2 + 1 if len(calls) < 3 else np.full_like(x, np.nan)

        return itersolve.fixed_point(T, np.zeros(4), method=method, **options, **kw)

    def solution(dtype):
        return _affine_problem(dtype)[1]

    label = method + "".join(f"-{k}={v}" for k, v in options.items())
    return SolverCase(
        f"fixed_point[{label}]", converging, exact_start, nonfinite, solution=solution
    )


def _linear_problem(dtype):
    """A diagonally dominant integer matrix with a known solution; b = A x* is exact."""
    rng = np.random.default_rng(3)
    n = 6
    A = rng.integers(-2, 3, size=(n, n)).astype(float)
    A = (A + A.T) / 2
    np.fill_diagonal(A, np.abs(A).sum(axis=1) + 2)
    x_star = rng.integers(-5, 6, size=n).astype(float)
    return A.astype(dtype), (A @ x_star).astype(dtype), x_star.astype(dtype)


def _linear_case(name, solver, **options):
    def converging(dtype=np.float64, **kw):
        A, b, _ = _linear_problem(dtype)
        return solver(A, b, **options, **kw)

    def exact_start(dtype=np.float64, **kw):
        A, b, x_star = _linear_problem(dtype)
        return solver(A, b, x_star, **options, **kw)

    def nonfinite(**kw):
        if solver is itersolve.sor:  # huge coupling: each sweep multiplies x by about 1e150
            return solver(np.array([[1.0, 1e150], [1e150, 1.0]]), np.ones(2), **options, **kw)
        # the solution 1e600 overflows: a finite-scale b is no longer NONFINITE (scaled norms)
        return solver(np.diag([1e-300, 1.0]), np.array([1e300, 1.0]), **options, **kw)

    label = name + "".join(f"-{k}={v}" for k, v in options.items())
    return SolverCase(
        label,
        converging,
        exact_start,
        nonfinite,
        dtypes=(np.float32, np.float64),
        solution=lambda dtype: _linear_problem(dtype)[2],
    )


CASES = [
    _fixed_point_case("iterate"),
    _fixed_point_case("mann", relaxation=0.7),
    _fixed_point_case("halpern", restart="adaptive"),
    _fixed_point_case("anderson"),
    _fixed_point_case("anderson", safeguard=1.0, regularization=1e-10),
    _fixed_point_case("aitken"),
    _linear_case("sor", itersolve.sor, omega=1.2),
    _linear_case("sor", itersolve.sor, sweep="symmetric"),
    _linear_case("sor", itersolve.sor, ordering="multicolor", sweep="backward"),
    _linear_case("ssor_pcg", itersolve.ssor_pcg, omega=1.3),
]


# --------------------------------------------------------------------------- Bradley–Terry


def _bradley_terry_counts(prior):
    """Fractional win counts whose ML (``prior=None``) or MAP (``prior=A``) scores are
    exactly ``s`` (symmetric, so centred).

    ``w_ij = 10 sigma(s_i - s_j) + delta_ij`` with ``delta`` antisymmetric: the expected-wins
    part of the gradient cancels, leaving ``sum_j delta_ij`` for ML (so ``delta = 0``) and
    ``sum_j delta_ij - A tanh(s_i / 2)`` for MAP, zero for ``delta_ij = (b_i - b_j) / n``,
    ``b = A tanh(s / 2)`` (``sum_i b_i = 0``).
    """
    s = np.array([-1.0, -0.5, 0.5, 1.0])
    counts = 10.0 / (1.0 + np.exp(s[None, :] - s[:, None]))
    if prior is not None:
        b = prior * np.tanh(s / 2)
        counts = counts + (b[:, None] - b[None, :]) / s.size
    np.fill_diagonal(counts, 0.0)
    return counts, s


def _bradley_terry_case(**options):
    prior = options.get("prior")

    def converging(dtype=np.float64, **kw):
        counts, _ = _bradley_terry_counts(prior)
        return itersolve.bradley_terry(counts, **options, **kw)

    def exact_start(dtype=np.float64, **kw):
        # A balanced round robin: at x0 = 0 every gradient term (and the prior's) is exactly 0.
        counts = np.full((4, 4), 5.0)
        np.fill_diagonal(counts, 0.0)
        return itersolve.bradley_terry(counts, x0=np.zeros(4), **options, **kw)

    def far_start(**kw):
        # The fit works in logs where strengths would overflow, so no valid input leaves
        # the finite range: a start where exp(800) overflows must come back to the MLE (all
        # scores 0, since every player won and lost 3 of 6 games), not end NONFINITE.
        counts = np.array([[0, 2, 1], [1, 0, 2], [2, 1, 0]], dtype=float)
        return itersolve.bradley_terry(counts, x0=np.array([800.0, -800.0, 0.0]), **options, **kw)

    def solution(dtype):
        return _bradley_terry_counts(prior)[1].astype(dtype)

    label = "bradley_terry" + "".join(f"-{k}={v}" for k, v in options.items())
    return SolverCase(
        label, converging, exact_start, None, dtypes=(np.float64,), solution=solution,
        far_start=far_start,
    )


CASES += [
    _bradley_terry_case(method="newman", update="async"),
    _bradley_terry_case(method="zermelo", update="sync"),
    _bradley_terry_case(method="newman", update="async", prior=1.0),
]


def _chain_problem(dtype):
    """Euler steps of y' = tanh(A y) + sin(t)/2 over 64 steps of 1/32."""
    A = np.random.default_rng(5).standard_normal((4, 4)).astype(dtype) / 2
    forcing = (np.sin(np.arange(64) / 32) / 2).astype(dtype)

    def step(t, X):
        return X + (np.tanh(X @ A.T) + forcing[t][:, None]) / 32

    return step, np.ones(4, dtype)


def _chain_jacobian(dtype):
    """The Jacobians of ``_chain_problem``'s steps: ``I + diag(1 - tanh^2) A / 32``."""
    A = np.random.default_rng(5).standard_normal((4, 4)).astype(dtype) / 2

    def jacobian(t, X):
        slope = 1 - np.tanh(X @ A.T) ** 2
        return np.eye(4, dtype=dtype) + slope[:, :, None] * A / 32

    return jacobian


def _chain_case(method, **options):
    newton = method == "newton"

    def converging(dtype=np.float64, **kw):
        step, x0 = _chain_problem(dtype)
        if newton:
            kw["jacobian"] = _chain_jacobian(dtype)
        return itersolve.solve_chain(step, x0, 64, method=method, **options, **kw)

    def exact_start(dtype=np.float64, **kw):  # a chain of no steps is solved by x0 alone
        step, x0 = _chain_problem(dtype)
        if newton:
            kw["jacobian"] = _chain_jacobian(dtype)
        return itersolve.solve_chain(step, x0, 0, method=method, **options, **kw)

    def nonfinite(**kw):  # x <- x^2 + 1 overflows after about ten steps
        if newton:
            kw["jacobian"] = lambda t, X: 2 * X[:, :, None] * np.eye(2)
        with np.errstate(over="ignore", invalid="ignore"):
            return itersolve.solve_chain(
                lambda t, X: X * X + 1.0, np.ones(2), 30, method=method, **options, **kw
            )

    def solution(dtype):
        return itersolve.sequential_chain(*_chain_problem(dtype), 64)

    label = f"solve_chain[{method}" + "".join(f"-{k}={v}" for k, v in options.items()) + "]"
    return SolverCase(
        label,
        converging,
        exact_start,
        nonfinite,
        solution=solution,
        initial_residual=False,
        needs_maxiter_or_tolerance=False,
    )


CASES += [
    _chain_case("picard"),
    _chain_case("picard", window=8),
    _chain_case("jacobi", window=16),
    _chain_case("hybrid", block=4),
    _chain_case("newton", window=16),
]
