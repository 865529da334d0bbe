"""Learned warm starts for stationary iterations, derived with sympy.

A stationary iteration ``x_{j+1} = M x_j + N b`` consistent with ``A`` (``N A = I - M``,
so ``x* = A^{-1} b`` is its fixed point) has, after ``k`` steps from ``x0``,

    r_k(x0) = b - A x_k(x0) = r_k(0) - A M^k x0:

affine in the start (derived for generic 2 x 2 ``A``, ``N`` and ``k = 1, 2, 3``, and for
every ``k`` by the induction step ``x_{j+1}(x0) - x_{j+1}(0) = M (x_j(x0) - x_j(0))``).
Also ``r_k(0) = A M^k x*``, so ``r_k(x0) = R (x* - x0)`` with ``R = A M^k``.

A warm start ``x0 = W psi`` (``psi`` the task's features, with a constant) fitted on tasks
``i`` with weights ``c_i = 1 / ||b_i||^2`` and ridge ``lam`` minimises

    J(W) = sum_i c_i ||g_i - R_i W psi_i||^2 + lam ||W||_F^2,   g_i = r_k(0) of task i,

whose gradient vanishes exactly on the normal equations (``vec`` stacks columns)

    (sum_i c_i (psi_i psi_i^T kron R_i^T R_i) + lam I) vec W = sum_i c_i psi_i kron R_i^T g_i.

With one unknown (``n = 1``, ``psi = 1``) the minimiser is the weighted mean
``sum c_i R_i^2 x*_i / sum c_i R_i^2``: each task counts with what the solver leaves of it,
``R_i = a_i rho_i^k``. The solution objective ``sum_i ||W psi_i - x*_i||^2 + lam ||W||^2`` is
ridge regression, ``W = X* Psi^T (Psi Psi^T + lam I)^{-1}``.

**The counterexample** (the "arbitrary deterioration" of Arisaka & Li, ICML 2023). One
feature ``t ~ U(-1, 1)``, ``psi = (1, t)``, two unknowns, Jacobi:

* hard tasks ``|t| >= 1/2``: ``A = [[1, -s], [-s, 1]]``, ``s = 1 - 1/hardness``,
  ``x* = t (1, 1)``; Jacobi's ``M = s P`` (``P`` the swap, orthogonal, ``P A = A P``), so
  ``||A M^j e|| = s^j ||A e||`` for every error ``e``: the relative residual from any
  start is exactly ``s^j e_0`` and the count is ``ceil(ln(e_0 / tol) / ln(1/s))``;
* easy tasks ``|t| < 1/2``: ``A = I``, ``x* = 10 (1, 1)``: ``M = 0``, one sweep from anywhere.

For ``k >= 1`` the easy tasks have ``R = 0``: the residual objective ignores them and fits
the hard line exactly, ``x0 = t (1, 1)``: 0 sweeps on hard tasks, 1 on easy ones. Least
squares over all tasks gives ``x0 = (5 + 7 t / 8) (1, 1)`` (population minimiser), a
relative error ``|5 - t/8| / |t|`` in ``[4.875, 10.0625]`` on the hard tasks, hence
``ln(e_0 / tol) / ln(1/s) ~ hardness * ln(e_0 / tol)`` sweeps each: the gap grows without
bound with ``hardness``. ``derivations()["gap_per_hardness"]`` is the exact limit of the mean
count per hard task over ``hardness``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

# the family of itersolve/_learn/_experiments.py:deterioration_tasks (a test ties them)
EASY_HALF_WIDTH = sp.Rational(1, 2)
EASY_SOLUTION = sp.Integer(10)

_s, _tol, _hardness = sp.symbols("s tol hardness", positive=True)
_t = sp.Symbol("t", real=True)


def _generic(name: str, rows: int, cols: int = 1) -> sp.Matrix:
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i}{j}", real=True))


def iterate(M: sp.Matrix, N: sp.Matrix, b: sp.Matrix, x0: sp.Matrix, k: int) -> sp.Matrix:
    """``x_k`` of ``x_{j+1} = M x_j + N b`` from ``x0``."""
    x = x0
    for _ in range(k):
        x = M * x + N * b
    return x


def residual_normal_equations(
    features, responses, offsets, weights, ridge=0
) -> tuple[sp.Matrix, sp.Matrix]:
    """``(H, rhs)`` of the residual objective: ``H vec W = rhs`` (``vec`` stacks columns).

    ``features[i]`` is ``psi_i`` (q entries), ``responses[i]`` is ``R_i = A_i M_i^k U``
    (n x r), ``offsets[i]`` is ``g_i`` (n entries), ``weights[i]`` is ``c_i``.
    """
    q = len(features[0])
    r = sp.Matrix(responses[0]).shape[1]
    H = ridge * sp.eye(q * r)
    rhs = sp.zeros(q * r, 1)
    for psi, R, g, c in zip(features, responses, offsets, weights, strict=True):
        psi, R, g = sp.Matrix(psi), sp.Matrix(R), sp.Matrix(g)
        H += c * sp.kronecker_product(psi * psi.T, R.T * R)
        rhs += c * sp.kronecker_product(psi, R.T * g)
    return H, rhs


def residual_minimiser(features, responses, offsets, weights, ridge=0) -> sp.Matrix:
    """The exact ``W`` (r x q) minimising the residual objective."""
    H, rhs = residual_normal_equations(features, responses, offsets, weights, ridge)
    q = len(features[0])
    vec = H.LUsolve(rhs)
    return sp.Matrix(vec.shape[0] // q, q, lambda i, j: vec[j * (vec.shape[0] // q) + i])


def solution_minimiser(features, solutions, ridge=0) -> sp.Matrix:
    """Ridge regression ``W = X* Psi^T (Psi Psi^T + lam I)^{-1}`` (n x q)."""
    Psi = sp.Matrix([list(psi) for psi in features]).T  # q x m
    X = sp.Matrix([list(x) for x in solutions]).T  # n x m
    return X * Psi.T * (Psi * Psi.T + ridge * sp.eye(Psi.shape[0])).inv()


def counterexample_task(t, hardness) -> tuple[sp.Matrix, sp.Matrix, sp.Matrix, bool]:
    """``(A, b, x*, hard)`` of the task with feature ``t``, exactly (sympy)."""
    t, hardness = sp.nsimplify(t, rational=True), sp.nsimplify(hardness, rational=True)
    ones = sp.Matrix([1, 1])
    if abs(t) >= EASY_HALF_WIDTH:
        s = 1 - 1 / hardness
        A = sp.Matrix([[1, -s], [-s, 1]])
        solution, hard = t * ones, True
    else:
        A, solution, hard = sp.eye(2), EASY_SOLUTION * ones, False
    return A, A * solution, solution, hard


def _jacobi(A: sp.Matrix) -> tuple[sp.Matrix, sp.Matrix]:
    """``(M, N)`` of Jacobi: ``N = D^{-1}``, ``M = I - D^{-1} A``."""
    N = sp.diag(*[1 / A[i, i] for i in range(A.shape[0])])
    return sp.eye(A.shape[0]) - N * A, N


def counterexample_weights(hardness, features=None, iterations: int = 1) -> dict[str, sp.Matrix]:
    """Both minimisers ``W`` (2 x 2, acting on ``psi = (1, t)``), exactly, with no ridge.

    ``features`` the training ``t`` values; None gives the population minimisers
    (``t ~ U(-1, 1)``). ``iterations`` is the residual objective's ``k >= 1``.
    """
    if iterations < 1:
        raise ValueError("the counterexample needs at least one sweep in the residual objective")
    if features is None:
        return {"solution": _population()["solution"], "residual": _population()["residual"]}
    psis, responses, offsets, weights, solutions = [], [], [], [], []
    for t in np.ravel(features):
        A, b, solution, _ = counterexample_task(t, hardness)
        M, _ = _jacobi(A)
        R = A * M**iterations
        psis.append([1, sp.nsimplify(t, rational=True)])
        responses.append(R)
        offsets.append(R * solution)
        weights.append(1 / (b.T * b)[0])
        solutions.append(solution)
    return {
        "solution": solution_minimiser(psis, solutions),
        "residual": residual_minimiser(psis, responses, offsets, weights),
    }


def counterexample_iterations(t: float, start, hardness: float, rtol: float) -> int:
    """Jacobi sweeps to ``||b - A x|| <= rtol ||b||`` from ``start`` on task ``t`` (exact count)."""
    t, start = float(t), np.asarray(start, dtype=float)
    solution = np.full(2, t if abs(t) >= EASY_HALF_WIDTH else float(EASY_SOLUTION))
    error = solution - start
    if abs(t) < EASY_HALF_WIDTH:  # A = I: e_0 = ||error|| / ||x*||, then e_1 = 0
        return 0 if np.linalg.norm(error) <= rtol * np.linalg.norm(solution) else 1
    s = 1.0 - 1.0 / hardness
    A = np.array([[1.0, -s], [-s, 1.0]])
    initial = np.linalg.norm(A @ error) / np.linalg.norm(A @ solution)
    if initial <= rtol:
        return 0
    if s == 0.0:
        return 1
    return math.ceil(math.log(initial / rtol) / -math.log(s))


def counterexample_gap(hardness: float, rtol: float) -> float:
    """Mean sweeps per hard task of the population solution-objective start (no rounding up).

    The residual-objective start needs none; ``hardness * gap_per_hardness`` asymptotically.
    """
    return float(_population()["mean_sweeps"].subs({_hardness: hardness, _tol: rtol}))


def gap_per_hardness(rtol: float) -> float:
    """``lim counterexample_gap(hardness, rtol) / hardness``: ``-ln(rtol)`` + the mean log error."""
    return float(_population()["gap_per_hardness"].subs(_tol, rtol))


@functools.cache
def _population() -> dict[str, sp.Expr]:
    """Population minimisers and the mean count, ``t ~ U(-1, 1)`` (density 1/2)."""
    c = EASY_HALF_WIDTH
    psi = sp.Matrix([1, _t])
    hard_parts, easy_part = [(-1, -c), (c, 1)], (-c, c)

    def mean(expr, parts):
        integrals = [sp.integrate(expr, (_t, lo, hi)) for lo, hi in parts]
        return functools.reduce(lambda u, v: u + v, integrals) / 2

    # solution objective: E[(psi psi^T) kron I] vec W = E[psi kron x*]
    gram = mean(psi * psi.T, hard_parts) + mean(psi * psi.T, [easy_part])
    moment = mean(psi.T * _t, hard_parts) + mean(psi.T * EASY_SOLUTION, [easy_part])
    coefficients = (moment * gram.inv()).applyfunc(sp.cancel)  # one component
    solution = sp.Matrix([coefficients, coefficients])
    # residual objective, k = 1 (any k >= 1: the easy tasks have R = 0 either way)
    A = sp.Matrix([[1, -_s], [-_s, 1]])
    M, _ = _jacobi(A)
    R = A * M
    x_star = _t * sp.Matrix([1, 1])
    b = A * x_star
    weight = 1 / sp.factor((b.T * b)[0])
    H = mean(weight * sp.kronecker_product(psi * psi.T, R.T * R), hard_parts)
    rhs = mean(weight * sp.kronecker_product(psi, R.T * R * x_star), hard_parts)
    vec = H.LUsolve(rhs).applyfunc(sp.cancel)
    residual = sp.Matrix(2, 2, lambda i, j: vec[2 * j + i])
    # the solution start's relative error on the hard tasks, and the mean count there
    start = (solution * psi)[0]
    relative = sp.Abs(_t - start) / sp.Abs(_t)
    signed = sp.cancel((_t - start) / _t)  # one sign on each hard half
    numerator, denominator = sp.fraction(signed)
    mean_log = 0  # E over hard t: density 1 on the two halves
    for lo, hi in hard_parts:
        middle = sp.Rational(lo + hi, 2)
        # ln|p/q| = ln(+-p) - ln(+-q), each a logarithm of a linear function of t
        for part, sign in ((numerator, 1), (denominator, -1)):
            positive = part if part.subs(_t, middle) > 0 else -part
            mean_log += sign * sp.integrate(sp.log(positive), (_t, lo, hi))
    mean_log = sp.expand_log(sp.expand(mean_log - sp.log(_tol)), force=True)
    rate = 1 - 1 / _hardness
    return {
        "solution": solution,
        "residual": residual,
        "relative_error": relative,
        "mean_log_ratio": mean_log,
        "mean_sweeps": mean_log / -sp.log(rate),
        "gap_per_hardness": sp.limit(mean_log / (-sp.log(rate) * _hardness), _hardness, sp.oo),
    }


@functools.cache
def derivations() -> dict[str, sp.Expr]:
    """The symbolic results; each is derived here (asserted), none typed in."""
    n = 2
    A, N = _generic("a", n, n), _generic("n", n, n)
    M = sp.eye(n) - N * A  # consistency N A = I - M, by construction
    b, x0, x, y = (_generic(name, n) for name in ("b", "x0", "x", "y"))
    x_star = A.inv() * b
    fixed_point = (M * x_star + N * b - x_star).applyfunc(sp.simplify)
    assert fixed_point == sp.zeros(n, 1)
    affine = {}
    for k in (1, 2, 3):
        difference = (b - A * iterate(M, N, b, x0, k)) - (
            (b - A * iterate(M, N, b, sp.zeros(n, 1), k)) - A * M**k * x0
        )
        affine[k] = difference.applyfunc(sp.expand)
        assert affine[k] == sp.zeros(n, 1)
    # every k: the step is affine with linear part M, so differences of runs contract by M
    induction = ((M * x + N * b) - (M * y + N * b) - M * (x - y)).applyfunc(sp.expand)
    assert induction == sp.zeros(n, 1)
    # r_k(0) = A M^k x*: the offset is the response applied to the solution
    offset = (b - A * iterate(M, N, b, sp.zeros(n, 1), 2) - A * M**2 * x_star).applyfunc(
        sp.simplify
    )
    assert offset == sp.zeros(n, 1)

    # normal equations = zero gradient: two tasks, n = 2, q = 2 features, ridge lam
    lam = sp.Symbol("lam", nonnegative=True)
    W = _generic("w", n, 2)
    tasks = [
        (_generic(f"psi{i}", 2), _generic(f"R{i}", n, n), _generic(f"g{i}", n), sp.Symbol(f"c{i}"))
        for i in range(2)
    ]
    J = lam * sum(w**2 for w in W)
    for psi, R, g, c in tasks:
        r = g - R * W * psi
        J += c * (r.T * r)[0]
    vec = sp.Matrix([W[i, j] for j in range(2) for i in range(n)])
    gradient = sp.Matrix([sp.diff(J, w) for w in vec])
    H, rhs = residual_normal_equations(*zip(*tasks, strict=True), ridge=lam)
    normal = (gradient - 2 * (H * vec - rhs)).applyfunc(sp.expand)
    assert normal == sp.zeros(2 * n, 1)

    # closed form for n = 1, psi = 1, three tasks: the weighted mean
    w = sp.Symbol("w")
    a, rho, xs, c = (sp.symbols(f"{name}0:3", positive=True) for name in ("a", "rho", "x", "c"))
    kk = sp.Symbol("k", positive=True, integer=True)
    scalar_J = sum(c[i] * (a[i] * rho[i] ** kk * (xs[i] - w)) ** 2 for i in range(3))
    weighted_mean = sp.solve(sp.diff(scalar_J, w), w)[0]
    response = [a[i] * rho[i] ** kk for i in range(3)]
    via_normal = residual_minimiser(
        [[1]] * 3, [[[r]] for r in response], [[r * xs[i]] for i, r in enumerate(response)], c
    )[0]
    assert sp.simplify(weighted_mean - via_normal) == 0

    # the counterexample: Jacobi on a hard task contracts every relative residual by s
    A_hard = sp.Matrix([[1, -_s], [-_s, 1]])
    M_hard, _ = _jacobi(A_hard)
    swap = sp.Matrix([[0, 1], [1, 0]])
    assert M_hard == _s * swap and swap * A_hard == A_hard * swap and swap.T * swap == sp.eye(2)
    e = _generic("e", 2)
    for j in (1, 2, 3):
        contracted = (A_hard * M_hard**j * e).applyfunc(sp.expand)
        before = A_hard * e
        norms = sp.expand((contracted.T * contracted)[0] - _s ** (2 * j) * (before.T * before)[0])
        assert norms == 0
    population = _population()
    assert population["residual"] == sp.Matrix([[0, 1], [0, 1]])  # the hard line, exactly
    return {
        "fixed_point": fixed_point,
        "affine_residual_k1": affine[1],
        "affine_residual_k2": affine[2],
        "affine_residual_k3": affine[3],
        "induction_step": induction,
        "normal_equations_minus_gradient": normal,
        "weighted_mean": weighted_mean,
        "solution_population": population["solution"],
        "residual_population": population["residual"],
        "relative_error": population["relative_error"],
        "mean_log_ratio": population["mean_log_ratio"],
        "mean_sweeps": population["mean_sweeps"],
        "gap_per_hardness": population["gap_per_hardness"],
    }
