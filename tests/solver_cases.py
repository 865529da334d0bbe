"""The solvers every contract test runs on, each with problems that exercise the contract.

A later solver family adds its cases to ``CASES``. Each case knows how to call its
solver on:

* ``converging(dtype, calls=None, **kw)``: a problem needing several iterations from its
  start; with a list ``calls``, every call of the user's functions is appended to it;
* ``exact_start(dtype, **kw)``: the same problem started at its solution;
* ``nonfinite(**kw)``: a problem whose iterates or residuals become NaN or Inf, or
  ``None`` where the solver computes in logs and no valid input can overflow; such a
  case gives ``far_start(**kw)`` instead, a start near overflow that must still converge.

``solution(dtype)`` is the answer of ``converging`` from an independent oracle (a dense
solve, a closed form, a planted root, HiGHS, a plain loop), never from itersolve.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import scipy.optimize

import itersolve
from itersolve.testing import problems


def _every_iteration(result):
    return range(result.nit + 1)


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
    # result -> the iterations whose residual `residuals` holds, in order
    measured_at: Callable = _every_iteration
    exact_start_nit: int = 0  # iterations a solve started at its solution still takes
    last_iteration: int | None = None  # every solve of `converging` ends by this iteration
    # False: the problem is data (a matrix, counts, an LP, polynomials), so there is no
    # function of the user's whose calls could be counted
    user_function: bool = True

    def __repr__(self):
        return self.name


def _counted(function, calls):
    """``function``, appending to ``calls`` at every call (unchanged when ``calls`` is None)."""
    if calls is None or function is None or isinstance(function, str):
        return function

    def counted(*args):
        calls.append(None)
        return function(*args)

    return counted


def _label(name, options):
    return name + "".join(f"-{k}={v}" for k, v in options.items())


def _affine_problem(dtype):
    """T x = M x + c with ||M||_2 = 0.6: a contraction with a known fixed point."""
    T, x_star, _ = problems.contraction(n=6, rate=0.6, dtype=np.dtype(dtype).name, seed=7)
    return T, x_star.astype(dtype)


def _nan_after_two():
    """A contraction whose evaluations turn to NaN after the second (a fresh one per call)."""
    calls = []

    def T(x):
        calls.append(None)
        return x / 2 + 1 if len(calls) < 3 else np.full_like(x, np.nan)

    return T


def _fixed_point_case(method, **options):
    def converging(dtype=np.float64, calls=None, **kw):
        T, _ = _affine_problem(dtype)
        T = _counted(T, calls)
        return itersolve.fixed_point(T, np.zeros(6, dtype), method=method, **options, **kw)

    def exact_start(dtype=np.float64, **kw):
        # T(x) = x* + (x - x*)/2 maps x* to itself exactly, in every dtype.
        x_star = np.arange(6).astype(dtype)
        T = lambda x: x_star + (x - x_star) / 2  # noqa: E731
        return itersolve.fixed_point(T, x_star.copy(), method=method, **options, **kw)

    def nonfinite(**kw):
        T = _nan_after_two()
        return itersolve.fixed_point(T, np.zeros(4), method=method, **options, **kw)

    def solution(dtype):
        return _affine_problem(dtype)[1]

    return SolverCase(
        f"fixed_point[{_label(method, options)}]",
        converging,
        exact_start,
        nonfinite,
        solution=solution,
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
    def converging(dtype=np.float64, calls=None, **kw):
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

    return SolverCase(
        _label(name, options),
        converging,
        exact_start,
        nonfinite,
        dtypes=(np.float32, np.float64),
        solution=lambda dtype: _linear_problem(dtype)[2],
        user_function=False,
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


def _bradley_terry_problem(prior):
    """``(data, scores)``: comparisons whose ML (``prior=None``) or MAP (``prior=A``) scores
    are exactly ``scores``.

    ML: a planted case of ``itersolve.testing`` (4 players, 40 games; Newman needs 10
    sweeps to rtol 1e-10, Zermelo 40). MAP, which the planted cases do not cover:
    fractional counts ``w_ij = 10 sigma(s_i - s_j) + (b_i - b_j) / n`` with ``b = A tanh(s /
    2)``: the expected-wins part of the gradient cancels, leaving ``sum_j (b_i - b_j) / n -
    A tanh(s_i / 2) = 0`` (``s`` symmetric, so ``sum_i b_i = 0``).
    """
    if prior is None:
        data, mle = problems.pairwise_problem(n_items=4, n_games=40, seed=1)
        return data, mle.scores
    s = np.array([-1.0, -0.5, 0.5, 1.0])
    counts = 10.0 / (1.0 + np.exp(s[None, :] - s[:, None]))
    b = prior * np.tanh(s / 2)
    counts = counts + (b[:, None] - b[None, :]) / s.size
    np.fill_diagonal(counts, 0.0)
    return counts, s


def _bradley_terry_case(**options):
    prior = options.get("prior")

    def converging(dtype=np.float64, calls=None, **kw):
        data, _ = _bradley_terry_problem(prior)
        return itersolve.bradley_terry(data, **options, **kw)

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
        return _bradley_terry_problem(prior)[1].astype(dtype)

    return SolverCase(
        _label("bradley_terry", options),
        converging,
        exact_start,
        None,
        dtypes=(np.float64,),
        solution=solution,
        far_start=far_start,
        user_function=False,
    )


CASES += [
    _bradley_terry_case(method="newman", update="async"),
    _bradley_terry_case(method="zermelo", update="sync"),
    _bradley_terry_case(method="newman", update="async", prior=1.0),
]


# --------------------------------------------------------------------------- chains and ODEs


def _sequential(step, x0, n_steps):
    """The oracle of every chain: the loop ``x_{t+1} = step(t, x_t)``, one state at a time."""
    states = [x0]
    for t in range(n_steps):
        states.append(step(np.array([t]), states[-1][None])[0])
    return np.array(states)


def _chain_problem(dtype):
    """Euler steps of y' = tanh(A y) + sin(t)/2 over 64 steps of 1/32, with the Jacobians
    of the steps, ``I + diag(1 - tanh^2) A / 32``."""
    A = np.random.default_rng(5).standard_normal((4, 4)).astype(dtype) / 2
    forcing = (np.sin(np.arange(64) / 32) / 2).astype(dtype)

    def step(t, X):
        return X + (np.tanh(X @ A.T) + forcing[t][:, None]) / 32

    def jacobian(t, X):
        slope = 1 - np.tanh(X @ A.T) ** 2
        return np.eye(4, dtype=dtype) + slope[:, :, None] * A / 32

    return step, np.ones(4, dtype), jacobian


def _diagonals(jacobian):
    """quasi-newton takes the diagonals of the Jacobians, shaped like the states."""
    return lambda t, X: np.diagonal(jacobian(t, X), axis1=1, axis2=2)


# what each Newton method of the chains takes of the Jacobians (the others take none)
_DERIVATIVE = {"newton": lambda jacobian: jacobian, "quasi-newton": _diagonals}


def _chain_case(method, **options):
    derivative = _DERIVATIVE.get(method)
    newton = derivative is not None

    def solve(dtype, n_steps, calls, kw):
        step, x0, jacobian = _chain_problem(dtype)
        if newton:
            kw["jacobian"] = _counted(derivative(jacobian), calls)
        step = _counted(step, calls)
        return itersolve.solve_chain(step, x0, n_steps, method=method, **options, **kw)

    def converging(dtype=np.float64, calls=None, **kw):
        return solve(dtype, 64, calls, kw)

    def exact_start(dtype=np.float64, **kw):  # a chain of no steps is solved by x0 alone
        return solve(dtype, 0, None, kw)

    def nonfinite(**kw):  # x <- x^2 + 1 overflows after about ten steps
        if newton:
            kw["jacobian"] = derivative(lambda t, X: 2 * X[:, :, None] * np.eye(2))
        with np.errstate(over="ignore", invalid="ignore"):
            return itersolve.solve_chain(
                lambda t, X: X * X + 1.0, np.ones(2), 30, method=method, **options, **kw
            )

    def solution(dtype):
        step, x0, _ = _chain_problem(dtype)
        return _sequential(step, x0, 64)

    return SolverCase(
        f"solve_chain[{_label(method, options)}]",
        converging,
        exact_start,
        nonfinite,
        solution=solution,
        initial_residual=False,
        needs_maxiter_or_tolerance=False,
        # Gauss–Seidel is the sequential loop itself: one sweep computes every state (each
        # enters as the value it computes, so that sweep's update is 0) and ends the solve.
        last_iteration=1 if method == "gauss-seidel" else None,
    )


CASES += [
    _chain_case("picard"),
    _chain_case("picard", window=8),
    _chain_case("jacobi", window=16),
    _chain_case("hybrid", block=4),
    _chain_case("gauss-seidel"),
    _chain_case("newton", window=16),
    _chain_case("quasi-newton"),
]

_GRID = np.arange(65) / 32  # picard_ode's time grid: 64 steps of 1/32


def _ode_problem(dtype):
    """y' = tanh(A y) + sin(t)/2 as ``f(t, Y)`` on many times at once, and its Jacobians."""
    A = np.random.default_rng(5).standard_normal((4, 4)).astype(dtype) / 2

    def f(t, Y):
        return np.tanh(Y @ A.T) + (np.sin(t) / 2).astype(dtype)[:, None]

    def jacobian(t, Y):
        return (1 - np.tanh(Y @ A.T) ** 2)[:, :, None] * A

    return f, np.ones(4, dtype), jacobian


def _explicit_step(f, scheme):
    """One step of the scheme, written out from its Butcher tableau (the oracle)."""

    def step(k, y):
        t, h = _GRID[k][0], _GRID[k + 1][0] - _GRID[k][0]
        rate = lambda s, y: f(np.array([s]), y)  # noqa: E731
        k1 = rate(t, y)
        if scheme == "euler":
            return y + h * k1
        if scheme == "heun":
            return y + h / 2 * (k1 + rate(t + h, y + h * k1))
        k2 = rate(t + h / 2, y + h / 2 * k1)
        k3 = rate(t + h / 2, y + h / 2 * k2)
        return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + rate(t + h, y + h * k3))

    return step


def _ode_case(scheme, method, **options):
    derivative = _DERIVATIVE.get(method)

    def solve(dtype, t, calls, kw):
        f, y0, jacobian = _ode_problem(dtype)
        if derivative is not None:
            kw["jacobian"] = _counted(derivative(jacobian), calls)
        f = _counted(f, calls)
        return itersolve.picard_ode(f, y0, t, scheme=scheme, method=method, **options, **kw)

    def converging(dtype=np.float64, calls=None, **kw):
        return solve(dtype, _GRID, calls, kw)

    def exact_start(dtype=np.float64, **kw):  # one time point: y0 is the whole trajectory
        return solve(dtype, _GRID[:1], None, kw)

    def nonfinite(**kw):  # y' = y^2 + 1 with steps of 1: y overflows after about ten steps
        if derivative is not None:
            kw["jacobian"] = derivative(lambda t, Y: 2 * Y[:, :, None] * np.eye(2))
        with np.errstate(over="ignore", invalid="ignore"):
            return itersolve.picard_ode(
                lambda t, Y: Y * Y + 1.0,
                np.ones(2),
                np.arange(31.0),
                scheme=scheme,
                method=method,
                **options,
                **kw,
            )

    def solution(dtype):
        f, y0, _ = _ode_problem(dtype)
        return _sequential(_explicit_step(f, scheme), y0, _GRID.size - 1)

    return SolverCase(
        f"picard_ode[{_label(scheme + '-' + method, options)}]",
        converging,
        exact_start,
        nonfinite,
        solution=solution,
        initial_residual=False,  # a chain solve underneath: as solve_chain
        needs_maxiter_or_tolerance=False,
    )


CASES += [
    _ode_case("euler", "picard"),
    _ode_case("heun", "newton", window=16),
    _ode_case("rk4", "quasi-newton"),
]


# --------------------------------------------------------------------------- Newton family


def _cubic_problem(dtype):
    """F(x) = A x + x^3/8 - c with the planted root x* (c = A x* + x*^3/8 from integers, so
    F(x*) = 0 exactly), and its Jacobian ``A + diag(3 x^2 / 8)``."""
    A, _, x_star = _linear_problem(dtype)
    if np.dtype(dtype).kind == "c":
        x_star = x_star + 1j * np.arange(6)[::-1]
    c = A @ x_star + x_star**3 / 8
    return (
        lambda x: A @ x + x**3 / 8 - c,
        lambda x: A + np.diag(3 * x**2 / 8),
        np.zeros(6, dtype),
        x_star,
        {},
    )


def _deflation_problem(dtype):
    """F = ((x - 1)(x - 3), y - x^2): two roots, (1, 1) and (3, 9). Newton from (1/2, 0)
    finds (1, 1); with it deflated the only root left is (3, 9)."""
    F = lambda v: np.array([(v[0] - 1) * (v[0] - 3), v[1] - v[0] ** 2])  # noqa: E731
    J = lambda v: np.array([[2 * v[0] - 4, 0], [-2 * v[0], 1]])  # noqa: E731
    start, roots = np.array([0.5, 0.0], dtype), np.array([[1.0, 1.0]], dtype)
    return F, J, start, np.array([3.0, 9.0], dtype), {"roots": roots}


def _root_case(solve, problem, jacobian, **options):
    """``solve`` (newton or deflated_newton) on ``problem`` with ``jacobian`` "exact" (a
    callable), None (forward differences) or "3-point"."""

    def call(dtype, start_at_root, calls, kw):
        F, J, x0, x_star, fixed = problem(dtype)
        J = _counted(J, calls) if jacobian == "exact" else jacobian
        x0 = x_star if start_at_root else x0
        return solve(_counted(F, calls), x0.copy(), jacobian=J, **fixed, **options, **kw)

    def converging(dtype=np.float64, calls=None, **kw):
        return call(dtype, False, calls, kw)

    def exact_start(dtype=np.float64, **kw):
        return call(dtype, True, None, kw)

    def nonfinite(**kw):
        # A full Newton step for sqrt(x) = 0 goes from 1 to -1, where sqrt is NaN. Armijo's
        # backtracking rejects a NaN trial point (t = 1/2 lands on the root 0), so with a
        # line search the NaN comes from the start instead.
        x0 = np.array([-1.0 if options.get("linesearch") else 1.0])
        J = (lambda x: np.diag(0.5 / np.sqrt(x))) if jacobian == "exact" else jacobian
        if solve is itersolve.deflated_newton:
            kw["roots"] = [[4.0]]
        with np.errstate(invalid="ignore", divide="ignore"):
            return solve(np.sqrt, x0, jacobian=J, **options, **kw)

    return SolverCase(
        f"{solve.__name__}[{_label(f'jacobian={jacobian}', options)}]",
        converging,
        exact_start,
        nonfinite,
        # Newton computes in float64 or complex128 (a float32 or integer start becomes
        # float64, as documented), so float32 is no dtype it keeps.
        dtypes=(np.float64, np.complex128),
        solution=lambda dtype: problem(dtype)[3],
    )


_SINGULAR = ["(x - 1)**2 - (y - 2)**3", "(x - 1)*(y - 2)"]  # root (1, 2), multiplicity 5


def _singular_case(method):
    def converging(dtype=np.float64, calls=None, **kw):
        system = itersolve.PolynomialSystem(_SINGULAR, ["x", "y"])
        return itersolve.singular_newton(
            system, np.array([1.1, 1.95], dtype), method=method, rng=0, **kw
        )

    def exact_start(dtype=np.float64, **kw):
        # Separable, so that MMS's extended system, too, vanishes exactly at the root.
        system = itersolve.PolynomialSystem(["(x - 1)**2", "(y - 2)**3"], ["x", "y"])
        return itersolve.singular_newton(system, np.array([1.0, 2.0], dtype), method=method, **kw)

    def nonfinite(**kw):  # x^2 overflows at the start
        system = itersolve.PolynomialSystem(["x**2 - 2"], ["x"])
        return itersolve.singular_newton(system, [1e200], method=method, **kw)

    return SolverCase(
        f"singular_newton[{method}]",
        converging,
        exact_start,
        nonfinite,
        dtypes=(np.float64, np.complex128),  # computes in float64 like newton
        solution=lambda dtype: np.array([1.0, 2.0], dtype),
        # MMS declares success only on its square extended system, which it reaches in two
        # passes (plain Newton, then Gauss–Newton on the extended system), even from the root.
        exact_start_nit=2 if method == "mms" else 0,
        user_function=False,  # a PolynomialSystem, evaluated from its coefficients
    )


CASES += [
    _root_case(itersolve.newton, _cubic_problem, "exact"),
    _root_case(itersolve.newton, _cubic_problem, None, linesearch="armijo"),
    _root_case(itersolve.newton, _cubic_problem, "3-point"),
    _root_case(itersolve.deflated_newton, _deflation_problem, "exact"),
    _root_case(itersolve.deflated_newton, _deflation_problem, None, linesearch="armijo"),
    _singular_case("lvz"),
    _singular_case("mms"),
]


# --------------------------------------------------------------------------- infeasibility


def _drifting_problem(dtype):
    """T x = S x + b, S symmetric with eigenvalues (1, 1, 1/2, -0.3, 0.2, 0): nonexpansive
    without a fixed point; v = -P b, P the projection onto S's eigenvalue-1 space."""
    rng = np.random.default_rng(11)
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    S = Q @ np.diag([1.0, 1.0, 0.5, -0.3, 0.2, 0.0]) @ Q.T
    b = rng.standard_normal(6) + (1j * rng.standard_normal(6) if np.dtype(dtype).kind == "c" else 0)
    v = -Q[:, :2] @ (Q[:, :2].T @ b)
    S, b = S.astype(dtype), b.astype(dtype)
    return (lambda x: S @ x + b), v.astype(dtype)


def _displacement_case(**options):
    def converging(dtype=np.float64, calls=None, **kw):
        T = _counted(_drifting_problem(dtype)[0], calls)
        return itersolve.infimal_displacement(T, np.zeros(6, dtype), **options, **kw)

    def exact_start(dtype=np.float64, **kw):  # x* is a fixed point, so v = 0 = x* - T x*
        x_star = np.arange(6).astype(dtype)
        T = lambda x: x_star + (x - x_star) / 2  # noqa: E731
        return itersolve.infimal_displacement(T, x_star.copy(), **options, **kw)

    def nonfinite(**kw):
        return itersolve.infimal_displacement(_nan_after_two(), np.zeros(4), **options, **kw)

    return SolverCase(
        _label("infimal_displacement-method=halpern", options),
        converging,
        exact_start,
        nonfinite,
        solution=lambda dtype: _drifting_problem(dtype)[1],
        # The stopping test compares two estimators, and the normalised one is defined
        # from iteration 1 on: even at a fixed point the solve takes that one iteration.
        exact_start_nit=1,
    )


def _subspaces(dtype):
    """Two affine subspaces {M1 x = M1 x*} and {M2 x = M2 x*}, [M1; M2] an invertible
    integer matrix, which meet only at x*; projections ``x - M^+ (M x - c)``."""
    rng = np.random.default_rng(2)
    M = rng.integers(-3, 4, size=(6, 6)).astype(dtype)
    x_star = rng.integers(-5, 6, size=6).astype(dtype)
    if np.dtype(dtype).kind == "c":
        x_star = x_star + 1j * np.arange(6)

    def projection(rows):
        pinv, c = np.linalg.pinv(rows), rows @ x_star
        return lambda x: x - pinv @ (rows @ x - c)

    return projection(M[:3]), projection(M[3:]), x_star


def _feasibility_case(**options):
    def converging(dtype=np.float64, calls=None, **kw):
        project_a, project_b, _ = _subspaces(dtype)
        project_a, project_b = _counted(project_a, calls), _counted(project_b, calls)
        return itersolve.feasibility(project_a, project_b, np.zeros(6, dtype), **options, **kw)

    def exact_start(dtype=np.float64, **kw):  # M x* - c = 0 exactly: both maps fix x*
        project_a, project_b, x_star = _subspaces(dtype)
        return itersolve.feasibility(project_a, project_b, x_star.copy(), **options, **kw)

    def nonfinite(**kw):  # the iteration ends NONFINITE before any check of the maps
        project_b = _subspaces(np.float64)[1]
        return itersolve.feasibility(_nan_after_two(), project_b, np.ones(6), **options, **kw)

    return SolverCase(
        _label("feasibility", options),
        converging,
        exact_start,
        nonfinite,
        solution=lambda dtype: _subspaces(dtype)[2],
    )


CASES += [
    _displacement_case(),  # restart="adaptive"
    _displacement_case(restart=50),
    # Not method="mann": KM's normalised estimate (x0 - x_k)/(lam k) converges at O(1/k)
    # only, so the estimators cannot agree to the contract's rtol=1e-10 in any practical
    # number of iterations (test_infeasibility.py checks its rates instead).
    _feasibility_case(),
    _feasibility_case(accelerate=False),
    _feasibility_case(method="alternating"),
]


# --------------------------------------------------------------------------- linprog

# max x1 + 2 x2 - x3/2 on a box and two inequalities: the unique optimum is (1, 3, 0)
_LP = dict(
    c=[-1.0, -2.0, 0.5],
    A_ub=[[1.0, 1.0, 1.0], [1.0, -1.0, 2.0]],
    b_ub=[4.0, 2.0],
    bounds=[(0, 3), (0, 3), (0, None)],
)


def _linprog_case(**options):
    def converging(dtype=np.float64, calls=None, **kw):
        return itersolve.linprog(**_LP, **options, **kw)

    def exact_start(dtype=np.float64, **kw):
        # The duals start at 0, so a start is exact only where y = 0 is optimal: with
        # c >= 0, x = 0 (the lower bounds) and y = 0 have a KKT error of exactly 0.
        return itersolve.linprog([1.0, 2.0], [[1.0, 1.0]], [3.0], x0=[0.0, 0.0], **options, **kw)

    def nonfinite(**kw):  # an unbounded LP at the largest floats: the ray overflows
        return itersolve.linprog(
            [1e308, -1e308], [[1e308, -1e308]], [1e308], bounds=(None, None), **options, **kw
        )

    return SolverCase(
        _label("linprog", options),
        converging,
        exact_start,
        nonfinite,
        # Real float64 only: float32 data are solved in float64 (as scipy does), complex
        # data are a TypeError (the solver is real and never drops an imaginary part).
        dtypes=(np.float64,),
        solution=lambda dtype: scipy.optimize.linprog(**_LP, method="highs").x,
        # The KKT error is measured every 64 iterations and at the last.
        measured_at=lambda result: result.stats["check_iterations"],
        user_function=False,
    )


CASES += [_linprog_case(), _linprog_case(restart=128)]
