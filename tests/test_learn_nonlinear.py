"""Newton–SOR, tangent runs of Newton and Newton–SOR, and Robertson's implicit Euler tasks.

Oracles: a dense Newton–SOR written from the formula, a Gauss–Seidel sweep written row by
row, central finite differences of the residual histories, closed-form Jacobian
derivatives, GBMS's ``compute_F``/``compute_J`` transcribed, scipy's root finder.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import scipy.optimize
from hypothesis import given
from hypothesis import strategies as st

from itersolve._learn._nonlinear import newton_sor
from itersolve._learn._nonlinear_histories import (
    jacobian_derivative,
    newton_history,
    newton_sor_history,
)
from itersolve._learn._robertson import (
    RobertsonJacobian,
    RobertsonResidual,
    robertson_step_sizes,
    robertson_tasks,
    rounding_floor,
)
from itersolve._newton import newton
from itersolve._result import Status


class CubicSystem:
    """``F(x) = A x + c x^3 - b``: a diagonally dominant ``A`` plus a mild nonlinearity."""

    def __init__(self, n: int, seed: int, c: float = 0.3):
        rng = np.random.default_rng(seed)
        A = rng.uniform(-1, 1, (n, n))
        A += np.diag(np.abs(A).sum(axis=1) + 1.0)
        self.A, self.b, self.c = A, rng.uniform(-2, 2, n), c

    def F(self, x):
        return self.A @ x + self.c * x**3 - self.b

    def J(self, x):
        return self.A + np.diag(3 * self.c * x**2)

    def dJ(self, x, v):  # the closed-form J'(x)[v]
        return np.diag(6 * self.c * x * v)


def reference_newton_sor(F, J, x0, omega, tol, maxiter):
    """Newton–SOR straight from the formula, with a dense general solve."""
    x = np.array(x0, dtype=float)
    xs, residuals = [x], [np.linalg.norm(F(x))]
    while residuals[-1] > tol and len(residuals) <= maxiter:
        Jx = J(x)
        M = np.diag(np.diag(Jx)) + omega * np.tril(Jx, -1)
        x = x - omega * np.linalg.solve(M, F(x))
        xs.append(x)
        residuals.append(np.linalg.norm(F(x)))
    return np.array(xs), np.array(residuals)


def iterates(F, x0, **kwargs):
    seen = []
    result = newton_sor(F, x0, callback=lambda r: seen.append(np.array(r.x)), **kwargs)
    return result, np.array(seen)


# --- newton_sor against its oracles -------------------------------------------------------


@pytest.mark.parametrize("omega", [0.7, 1.0, 1.2, 1.4])
def test_newton_sor_matches_the_formula(omega):
    system = CubicSystem(8, seed=1)
    result, xs = iterates(system.F, np.zeros(8), jacobian=system.J, omega=omega, atol=1e-11)
    ref_xs, ref_residuals = reference_newton_sor(system.F, system.J, np.zeros(8), omega, 1e-11, 100)
    assert result.success and result.nit == len(ref_residuals) - 1
    np.testing.assert_allclose(xs, ref_xs, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(result.residuals, ref_residuals, rtol=1e-8, atol=1e-13)
    assert np.linalg.norm(system.F(result.x)) <= 1e-11
    assert result.nfev == result.nit + 1 and result.stats["jacobian_evaluations"] == result.nit
    assert result.stats["omega"] == omega


@given(
    n=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    omega=st.floats(0.3, 1.7),
)
def test_newton_sor_matches_the_formula_property(n, seed, omega):
    system = CubicSystem(n, seed)
    x0 = np.random.default_rng(seed + 1).uniform(-1, 1, n)
    result, xs = iterates(system.F, x0, jacobian=system.J, omega=omega, atol=1e-10, maxiter=30)
    ref_xs, _ = reference_newton_sor(system.F, system.J, x0, omega, 1e-10, 30)
    count = min(len(xs), len(ref_xs))
    np.testing.assert_allclose(xs[:count], ref_xs[:count], rtol=1e-9, atol=1e-10)


def test_on_an_affine_system_with_omega_one_a_step_is_a_gauss_seidel_sweep():
    system = CubicSystem(7, seed=3, c=0.0)
    A, b = system.A, system.b
    x = np.random.default_rng(4).uniform(-1, 1, 7)
    swept = x.copy()
    for i in range(7):  # Gauss–Seidel, row by row
        swept[i] = (b[i] - A[i, :i] @ swept[:i] - A[i, i + 1 :] @ swept[i + 1 :]) / A[i, i]
    result = newton_sor(system.F, x, jacobian=system.J, omega=1.0, maxiter=1)
    np.testing.assert_allclose(result.x, swept, rtol=1e-13, atol=1e-14)
    # and with omega: the SOR sweep
    omega, relaxed = 1.4, x.copy()
    for i in range(7):
        gs = (b[i] - A[i, :i] @ relaxed[:i] - A[i, i + 1 :] @ relaxed[i + 1 :]) / A[i, i]
        relaxed[i] = (1 - omega) * relaxed[i] + omega * gs
    result = newton_sor(system.F, x, jacobian=system.J, omega=omega, maxiter=1)
    np.testing.assert_allclose(result.x, relaxed, rtol=1e-13, atol=1e-14)


def test_rtol_is_relative_to_the_first_residual_and_x0_is_not_modified():
    system = CubicSystem(5, seed=5)
    x0 = np.ones(5)
    result = newton_sor(system.F, x0, jacobian=system.J, rtol=1e-6, atol=0.0)
    assert result.success
    assert result.residuals[-1] <= 1e-6 * result.residuals[0] < result.residuals[-2]
    np.testing.assert_array_equal(x0, np.ones(5))


def test_maxiter_and_throw():
    system = CubicSystem(5, seed=6)
    result = newton_sor(system.F, np.zeros(5), jacobian=system.J, atol=1e-14, maxiter=2)
    assert result.status == Status.MAXITER and result.nit == 2 and not result.success
    with pytest.raises(Exception, match="iteration limit"):
        newton_sor(system.F, np.zeros(5), jacobian=system.J, atol=1e-14, maxiter=2, throw=True)


# --- bad input and the NONFINITE path -----------------------------------------------------


def _F(x):
    return x - 1.0


def _J(x):
    return np.eye(x.size)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"x0": [1.0, np.nan]}, ValueError, "x0"),
        ({"x0": np.ones((2, 2))}, ValueError, "x0"),
        ({"x0": [1j, 0]}, TypeError, "x0"),
        ({"x0": ["a", "b"]}, TypeError, "x0"),
        ({"omega": 0.0}, ValueError, "omega"),
        ({"omega": 2.0}, ValueError, "omega"),
        ({"omega": "fast"}, TypeError, "omega"),
        ({"omega": True}, TypeError, "omega"),
        ({"F": "F"}, TypeError, "`F`"),
        ({"jacobian": None}, TypeError, "jacobian"),
        ({"F": lambda x: np.ones(3)}, ValueError, "`F`"),
        ({"F": lambda x: x * np.nan}, ValueError, "F\\(x0\\)"),
        ({"jacobian": lambda x: np.eye(3)}, ValueError, "jacobian"),
        ({"jacobian": lambda x: np.full((2, 2), np.inf)}, ValueError, "jacobian\\(x0\\)"),
        ({"jacobian": lambda x: np.array([[1.0, 0], [1, 0]])}, ValueError, "zero diagonal"),
        ({"atol": -1.0}, ValueError, "atol"),
        ({"maxiter": 1.5}, TypeError, "maxiter"),
        ({"callback": 3}, TypeError, "callback"),
    ],
)
def test_bad_input_is_reported_by_name_before_iterating(kwargs, error, match):
    args = {"F": _F, "x0": np.zeros(2), "jacobian": _J} | kwargs
    F, x0 = args.pop("F"), args.pop("x0")
    with pytest.raises(error, match=match):
        newton_sor(F, x0, **args)


def test_a_zero_diagonal_met_later_ends_nonfinite_with_a_message():
    def jacobian(x):  # the diagonal vanishes once the iterate leaves 0
        return np.array([[1.0 if x[0] == 0 else 0.0]])

    result = newton_sor(_F, [0.0], jacobian=jacobian, omega=0.5)
    assert result.status == Status.NONFINITE and not result.success
    assert "diagonal entry 0 is zero at iteration 1" in result.message
    assert result.x[0] == 0.5 and result.nit == 2 and math.isnan(result.residuals[-1])
    residuals, derivatives = newton_sor_history(_F, jacobian, [0.0], 0.5, tol=1e-9, maxiter=50)
    assert len(residuals) == result.nit + 1 and math.isnan(residuals[-1])
    assert math.isnan(derivatives[-1])


def test_nan_from_F_and_from_the_jacobian_end_nonfinite_without_warnings():
    def F(x):  # undefined (NaN) left of 0; the first step overshoots there
        return np.where(x > 0, x - 1.0, np.nan)

    result = newton_sor(F, [3.0], jacobian=lambda x: np.array([[0.5]]))
    assert result.status == Status.NONFINITE and result.nit == 1

    def jacobian(x):
        return np.array([[1.0 if x[0] == 3.0 else np.nan]])

    result = newton_sor(_F, [3.0], jacobian=jacobian, omega=0.5)
    assert result.status == Status.NONFINITE and "NaN or Inf" in result.message


# --- tangents against finite differences --------------------------------------------------


def _compare(derivatives, fd, residuals, floor):
    """Relative error where the residual and its derivative stand well above rounding (the
    differences' rounding noise, about eps |F| / delta, swamps derivatives near it)."""
    keep = (residuals > floor) & (np.abs(fd) > 1e-4 * np.abs(fd).max())
    assert keep.sum() >= 3
    error = np.abs(derivatives[keep] - fd[keep]) / np.abs(fd[keep])
    assert error.max() < 1e-5, error


@pytest.mark.parametrize("omega", [0.8, 1.2, 1.5])
def test_newton_sor_tangent_matches_finite_differences_in_omega(omega):
    system = CubicSystem(6, seed=8, c=0.5)
    x0 = np.full(6, 0.5)
    residuals, derivatives = newton_sor_history(
        system.F, system.J, x0, omega, tol=1e-12, maxiter=200
    )
    K, delta = len(residuals) - 1, 1e-5
    plus, _ = newton_sor_history(system.F, system.J, x0, omega + delta, tol=0.0, maxiter=K)
    minus, _ = newton_sor_history(system.F, system.J, x0, omega - delta, tol=0.0, maxiter=K)
    assert derivatives[0] == 0.0
    _compare(derivatives, (plus - minus) / (2 * delta), residuals, 1e-7)


def test_newton_sor_tangent_on_a_robertson_step():
    _, problems, _ = robertson_tasks(1, steps=30, rates="standard")
    F, J, y_old = problems[20]
    residuals, derivatives = newton_sor_history(F, J, y_old, 1.3, tol=1e-13, maxiter=500)
    K, delta = len(residuals) - 1, 1e-5
    plus, _ = newton_sor_history(F, J, y_old, 1.3 + delta, tol=0.0, maxiter=K)
    minus, _ = newton_sor_history(F, J, y_old, 1.3 - delta, tol=0.0, maxiter=K)
    _compare(derivatives, (plus - minus) / (2 * delta), residuals, 1e-9)


def test_history_counts_and_residuals_are_the_solvers():
    system = CubicSystem(6, seed=9)
    for omega in (0.9, 1.3):
        residuals, _ = newton_sor_history(
            system.F, system.J, np.zeros(6), omega, tol=1e-10, maxiter=100
        )
        result = newton_sor(system.F, np.zeros(6), jacobian=system.J, omega=omega, atol=1e-10)
        assert len(residuals) - 1 == result.nit
        np.testing.assert_array_equal(residuals, result.residuals)
    _, problems, _ = robertson_tasks(1, steps=20, rng=11)
    for F, J, y_old in problems[::4]:
        residuals, _ = newton_sor_history(F, J, y_old, 1.37, tol=1e-9, maxiter=2000)
        result = newton_sor(F, y_old, jacobian=J, omega=1.37, atol=1e-9, maxiter=2000)
        np.testing.assert_array_equal(residuals, result.residuals)
        residuals, _ = newton_history(F, J, y_old, np.eye(3), tol=1e-12, maxiter=50)
        result = newton(F, y_old, jacobian=J, rtol=0.0, atol=1e-12, maxiter=50)
        np.testing.assert_array_equal(residuals, result.residuals)


def test_maxiter_zero_and_a_converged_start():
    system = CubicSystem(3, seed=10)
    residuals, derivatives = newton_sor_history(
        system.F, system.J, np.zeros(3), 1.2, tol=0, maxiter=0
    )
    assert residuals.shape == derivatives.shape == (1,) and derivatives[0] == 0
    residuals, derivatives = newton_history(
        system.F, system.J, np.zeros(3), np.eye(3, 2), tol=1e3, maxiter=9
    )
    assert residuals.shape == (1,) and derivatives.shape == (1, 2)


def test_newton_tangent_matches_finite_differences_along_directions():
    system = CubicSystem(5, seed=12, c=1.0)
    x0 = np.full(5, 1.5)
    directions = np.random.default_rng(13).standard_normal((5, 3))
    residuals, derivatives = newton_history(
        system.F, system.J, x0, directions, tol=1e-13, maxiter=50
    )
    K = len(residuals) - 1
    result = newton(system.F, x0, jacobian=system.J, rtol=0.0, atol=1e-13)
    assert K == result.nit and derivatives.shape == (K + 1, 3)
    delta = 1e-5
    for j in range(3):
        plus, _ = newton_history(
            system.F, system.J, x0 + delta * directions[:, j], directions, tol=0.0, maxiter=K
        )
        minus, _ = newton_history(
            system.F, system.J, x0 - delta * directions[:, j], directions, tol=0.0, maxiter=K
        )
        _compare(derivatives[:, j], (plus - minus) / (2 * delta), residuals, 1e-6)
    # e_0 moves with x0: its gradient is F0 . J0 V / e0
    F0 = system.F(x0)
    np.testing.assert_allclose(derivatives[0], F0 @ system.J(x0) @ directions / np.linalg.norm(F0))


def test_newton_history_bad_directions():
    with pytest.raises(ValueError, match="directions"):
        newton_history(_F, _J, np.zeros(2), np.ones((3, 1)), tol=1e-9, maxiter=5)
    with pytest.raises(ValueError, match="directions"):
        newton_history(_F, _J, np.zeros(2), np.ones(2), tol=1e-9, maxiter=5)
    with pytest.raises(ValueError, match="tol"):
        newton_sor_history(_F, _J, np.zeros(2), 1.0, tol=-1.0, maxiter=5)
    with pytest.raises(ValueError, match="omega"):
        newton_sor_history(_F, _J, np.zeros(2), 2.5, tol=1e-9, maxiter=5)


# --- jacobian_derivative ------------------------------------------------------------------


def test_jacobian_derivative_is_exact_for_an_affine_jacobian():
    system = CubicSystem(4, seed=14)
    rng = np.random.default_rng(15)
    B = rng.standard_normal((4, 4, 4))  # J(x) = A + sum_i x_i B_i

    def jacobian(x):
        return system.A + np.tensordot(x, B, axes=1)

    for _ in range(5):
        x, v = rng.standard_normal(4) * 3, rng.standard_normal(4)
        exact = np.tensordot(v, B, axes=1)
        np.testing.assert_allclose(jacobian_derivative(jacobian, x, v), exact, rtol=0, atol=1e-9)
    assert not jacobian_derivative(jacobian, x, np.zeros(4)).any()


def test_jacobian_derivative_error_is_second_order_in_the_step():
    system = CubicSystem(3, seed=16)

    def jacobian(x):  # J = A + diag(sin x): J''' along v is -cos(x) v^3, not zero
        return system.A + np.diag(np.sin(x))

    x, v = np.array([0.3, -1.2, 2.0]), np.array([1.0, 0.5, -0.7])
    exact = np.diag(np.cos(x) * v)
    errors = [
        np.abs(jacobian_derivative(jacobian, x, v, step=h) - exact).max() for h in (1e-2, 5e-3)
    ]
    assert 3.6 < errors[0] / errors[1] < 4.4
    default = np.abs(jacobian_derivative(jacobian, x, v) - exact).max()
    assert default < 1e-9
    np.testing.assert_allclose(
        jacobian_derivative(system.J, x, v), system.dJ(x, v), rtol=1e-7, atol=1e-9
    )


# --- Robertson ----------------------------------------------------------------------------


def gbms_compute_F(y, y_old, h, k1, k2, k3):  # src/solvers/newton.py, one row
    return np.array(
        [
            y_old[0] + h * (-k1 * y[0] + k3 * y[1] * y[2]) - y[0],
            y_old[1] + h * (k1 * y[0] - (k2 * y[1] ** 2) - (k3 * y[1] * y[2])) - y[1],
            y_old[2] + h * (k2 * y[1] ** 2) - y[2],
        ]
    )


@pytest.fixture(scope="module")
def random_tasks():
    return robertson_tasks(3, steps=60, rng=2024)


def test_robertson_steps_are_solved_and_chain(random_tasks):
    features, problems, solutions = random_tasks
    assert features.shape == (180, 7) and solutions.shape == (180, 3) and len(problems) == 180
    for (F, _, y_old), y, phi in zip(problems, solutions, features):
        assert np.linalg.norm(F(y)) <= max(1e-14, rounding_floor(F, y))
        np.testing.assert_array_equal(phi[:3], y_old)
        np.testing.assert_allclose(
            F(y), gbms_compute_F(y, y_old, F.h, F.k1, F.k2, F.k3), atol=1e-15
        )
        np.testing.assert_allclose(10 ** phi[3:], [F.h, F.k1, F.k2, F.k3], rtol=1e-12)
    for t in range(3):
        rows = slice(60 * t, 60 * (t + 1))
        np.testing.assert_array_equal(features[rows][1:, :3], solutions[rows][:-1])
        np.testing.assert_array_equal(features[rows][0, :3], [1.0, 0.0, 0.0])
        assert np.ptp(features[rows][:, 4:], axis=0).max() == 0  # one rate triple per trajectory
        # implicit Euler conserves the linear invariant y1 + y2 + y3
        np.testing.assert_allclose(solutions[rows].sum(axis=1), 1.0, rtol=0, atol=1e-11)
    logs = features[::60, 4:]
    assert (logs >= [-4, 5, 2]).all() and (logs <= [0, 9, 6]).all()


def test_robertson_step_sizes_are_gbms():
    times = np.geomspace(1e-6, 1e4, 101) - 1e-6
    np.testing.assert_array_equal(robertson_step_sizes(100), times[1:] - times[:-1])
    features, _, _ = robertson_tasks(1, steps=100, rates="standard")
    np.testing.assert_allclose(10 ** features[:, 3], times[1:] - times[:-1], rtol=1e-13)
    np.testing.assert_allclose(10 ** features[0, 4:], [0.04, 3e7, 1e4], rtol=1e-14)


def test_robertson_jacobian_is_the_derivative_of_F(random_tasks):
    _, problems, solutions = random_tasks
    for (F, J, _), y in list(zip(problems, solutions))[::7]:
        step = 1e-7 * np.maximum(np.abs(y), 1e-3)
        fd = np.column_stack(
            [
                (F(y + np.eye(3)[j] * step[j]) - F(y - np.eye(3)[j] * step[j])) / (2 * step[j])
                for j in range(3)
            ]
        )
        np.testing.assert_allclose(J(y), fd, rtol=1e-6, atol=1e-6 * np.abs(J(y)).max())


def test_robertson_solutions_agree_with_scipy_root(random_tasks):
    _, problems, solutions = random_tasks
    for (F, J, y_old), y in list(zip(problems, solutions))[::11]:
        found = scipy.optimize.root(F, y_old, jac=J, method="hybr", tol=1e-14)
        np.testing.assert_allclose(found.x, y, rtol=1e-8, atol=1e-14)


def test_robertson_tasks_are_reproducible_and_picklable():
    a = robertson_tasks(2, steps=5, rng=3)
    b = robertson_tasks(2, steps=5, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[2], b[2])
    F, J, y_old = pickle.loads(pickle.dumps(a[1][3]))
    assert isinstance(F, RobertsonResidual) and isinstance(J, RobertsonJacobian)
    np.testing.assert_array_equal(F(a[2][3]), a[1][3][0](a[2][3]))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_trajectories": 0}, ValueError, "n_trajectories"),
        ({"n_trajectories": 1.5}, TypeError, "n_trajectories"),
        ({"steps": 0}, ValueError, "steps"),
        ({"rates": "fast"}, ValueError, "rates"),
        ({"rng": "seed"}, TypeError, "rng"),
    ],
)
def test_robertson_bad_input(kwargs, error, match):
    args = {"n_trajectories": 1} | kwargs
    with pytest.raises(error, match=match):
        robertson_tasks(args.pop("n_trajectories"), **args)
