"""Newton–SOR on small dense systems, and the pieces its tangent runs share with it.

:func:`newton_sor` is the one-step SOR–Newton iteration of Ortega and Rheinboldt (the
"Newton–SOR" of the GBMS reference code, ``src/solvers/newton.py``)::

    x_{k+1} = x_k - w (D_k + w L_k)^{-1} F(x_k),

``D_k`` the diagonal and ``L_k`` the strictly lower triangle of ``J(x_k)``: one forward SOR
sweep on the Newton system ``J(x_k) s = F(x_k)`` from ``s = 0``. (GBMS writes
``L = -tril(J, -1)`` and ``D - w L``: the same matrix.) For an affine ``F(x) = A x - b`` it
is SOR itself.

The tangent runs of these iterations are in :mod:`._nonlinear_histories`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike
from scipy.linalg import lapack

from .._driver import Solver, check_run_options, run
from .._newton import check_jacobian, check_values
from .._norms import scaled_norm
from .._result import SolveResult, Status
from .._sor import check_omega
from .._validation import check_array, check_callable

__all__ = ["NewtonSOR", "newton_sor", "sor_newton_direction"]

FLOAT = np.dtype(np.float64)

norm = scaled_norm  # no overflow or underflow; the norm every itersolve solver decides on


class DenseSystem:
    """``F`` and its Jacobian for a real square system, each call counted and checked.

    ``F`` must return ``n`` real values, ``jacobian`` an ``(n, n)`` real array (a
    scipy.sparse matrix is made dense: these systems are small).
    """

    def __init__(self, F: Callable, jacobian: Callable, n: int):
        self.F = F
        self.jacobian_function = jacobian
        self.n = n
        self.nfev = 0
        self.njev = 0
        # (F(x0), J(x0)) where a front end evaluated them to check its input: init uses them
        self.first: tuple[np.ndarray, np.ndarray] | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.nfev += 1
        if not np.isfinite(x).all():  # an overflowed iterate: F is not called there
            return np.full(self.n, np.nan)
        return check_values(self.F(x), self.n, FLOAT)

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        self.njev += 1
        J = check_jacobian(self.jacobian_function(x), self.n, FLOAT)
        return J.toarray() if scipy.sparse.issparse(J) else J


def sor_newton_matrix(J: np.ndarray, omega: float) -> np.ndarray:
    """``D + w L``: the diagonal of ``J`` and ``w`` times its strictly lower triangle."""
    M = np.tril(J, -1) * omega
    np.fill_diagonal(M, np.diagonal(J))
    return M


def lower_solve(M: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, int]:
    """``(M^{-1} rhs, 0)`` for lower-triangular ``M``, or ``(_, i + 1)`` when ``M[i, i] == 0``
    (LAPACK ``trtrs``: no exception, no warning; NaN entries simply propagate)."""
    z, info = lapack.dtrtrs(M, rhs, lower=1)
    return z, int(info)


def sor_newton_direction(J: np.ndarray, Fx: np.ndarray, omega: float) -> tuple[np.ndarray, str]:
    """``(d, why)``: ``d = (D + w L)^{-1} F(x)``, or ``why`` non-empty where it is undefined
    (NaN or Inf in the Jacobian, a zero diagonal entry)."""
    if not np.isfinite(J).all():
        return Fx, "the Jacobian has NaN or Inf entries"
    d, info = lower_solve(sor_newton_matrix(J, omega), Fx)
    if info > 0:
        return Fx, f"the Jacobian's diagonal entry {info - 1} is zero"
    return d, ""


@dataclasses.dataclass
class NewtonSORState:
    Fx: np.ndarray
    residual: float  # ||F(x)||_2
    residual0: float  # ||F(x_0)||_2: rtol is relative to it
    jacobian: np.ndarray | None = None  # J(x), where the front end evaluated it already
    nit: int = 0
    note: str = ""


@dataclasses.dataclass(frozen=True)
class NewtonSOR(Solver):
    """``x <- x - w (D + w L)^{-1} F(x)``; converged when
    ``||F(x_k)||_2 <= max(rtol ||F(x_0)||_2, atol)``.

    A step that is undefined (a zero diagonal entry of ``J(x_k)``, NaN or Inf in it) leaves
    ``x`` where it is and records a NaN residual: the solve ends ``NONFINITE``, the message
    says why.
    """

    rtol: float
    atol: float
    omega: float = 1.0

    def init(self, problem: DenseSystem, x0):
        first, problem.first = problem.first, None
        Fx, J = first if first is not None else (problem(x0), None)
        residual = norm(Fx)
        return NewtonSORState(Fx=Fx, residual=residual, residual0=residual, jacobian=J)

    def step(self, problem: DenseSystem, x, state):
        k = state.nit + 1
        J = state.jacobian if state.jacobian is not None else problem.jacobian(x)
        d, why = sor_newton_direction(J, state.Fx, self.omega)
        if why:
            note = f"{why} at iteration {k - 1}, so the Newton–SOR step is undefined"
            return x, dataclasses.replace(state, residual=math.nan, jacobian=None, nit=k, note=note)
        y = x - self.omega * d
        Fy = problem(y)
        return y, dataclasses.replace(state, Fx=Fy, residual=norm(Fy), jacobian=None, nit=k)

    def terminate(self, problem, x, state):
        if state.residual <= max(self.rtol * state.residual0, self.atol):
            return True, Status.CONVERGED
        return False, Status.IN_PROGRESS

    def note(self, state) -> str:
        return state.note

    def postprocess(self, problem, x, state):
        return x, {"omega": self.omega, "jacobian_evaluations": problem.njev}


def _start(x0) -> np.ndarray:
    return np.array(check_array("x0", x0, ndim=1), dtype=np.float64, copy=True)


def newton_sor(
    F: Callable[[np.ndarray], ArrayLike],
    x0: ArrayLike,
    *,
    jacobian: Callable[[np.ndarray], ArrayLike],
    omega: float = 1.0,
    rtol: float = 0.0,
    atol: float = 1e-9,
    maxiter: int | None = 100,
    callback: Callable[[SolveResult], None] | None = None,
    throw: bool = False,
) -> SolveResult:
    """Solve the square system ``F(x) = 0`` by the one-step SOR–Newton iteration.

    Each iteration is one forward SOR sweep, from zero, on the Newton system:
    ``x_{k+1} = x_k - w (D_k + w L_k)^{-1} F(x_k)``, with ``D_k`` the diagonal and ``L_k``
    the strictly lower triangle of ``J(x_k)`` (Ortega & Rheinboldt's SOR–Newton; GBMS's
    ``NewtonSOR``). It converges locally, linearly, where SOR with ``w`` converges on
    ``J(x*)``.

    Parameters
    ----------
    F : callable
        ``F(x) -> array of shape (n,)``, real. Runs with NumPy's floating-point warnings
        silenced; exceptions it raises propagate unchanged.
    x0 : array_like, shape (n,)
        Finite real starting point; copied.
    jacobian : callable
        ``jacobian(x) -> (n, n)`` real array (or scipy.sparse matrix, made dense), with a
        non-zero diagonal.
    omega : float in (0, 2)
        Relaxation factor.
    rtol, atol : float
        Stop when ``||F(x_k)||_2 <= max(rtol ||F(x_0)||_2, atol)``. The defaults give GBMS's
        absolute test ``||F|| <= 1e-9``.
    maxiter : int or None
        Iteration limit (100 by default).
    callback : callable, optional
        ``callback(intermediate_result)`` at ``nit = 0`` and after every iteration;
        raising ``StopIteration`` stops with ``Status.CALLBACK``.
    throw : bool
        Raise :class:`~itersolve.ConvergenceError` when the solve does not converge.

    Returns
    -------
    SolveResult
        ``residuals[k] = ||F(x_k)||_2``; ``nfev`` counts ``F``, ``stats`` holds ``omega``,
        ``jacobian_evaluations`` and ``backend``.

    Raises
    ------
    TypeError, ValueError
        Before any iteration: ``x0`` not a finite real vector, ``omega`` outside (0, 2),
        ``F`` or ``jacobian`` not callable, ``F(x0)`` of the wrong shape or not finite,
        ``jacobian(x0)`` not a finite ``(n, n)`` array with a non-zero diagonal; bad
        tolerances, ``maxiter``, ``callback`` or ``throw``. Each names the argument.

    Notes
    -----
    Statuses: ``CONVERGED``; ``MAXITER``; ``NONFINITE`` when ``F(x_k)`` or the iterate
    has NaN or Inf, or when the step is undefined at a later iterate (a zero diagonal
    entry of ``J(x_k)``, NaN or Inf in it; the message says which); ``STAGNATED`` with
    ``maxiter=None`` when the residual stops improving; ``CALLBACK``.

    Examples
    --------
    >>> import numpy as np
    >>> F = lambda x: np.array([4 * x[0] - x[1] + x[0] ** 3 - 1, -x[0] + 4 * x[1] - 2])
    >>> J = lambda x: np.array([[4 + 3 * x[0] ** 2, -1.0], [-1.0, 4.0]])
    >>> result = newton_sor(F, np.zeros(2), jacobian=J, omega=1.1, atol=1e-12)
    >>> result.success, np.round(result.x, 8)
    (True, array([0.38480531, 0.59620133]))
    """
    check_callable("F", F)
    check_callable("jacobian", jacobian)
    omega = check_omega(omega)
    rtol, atol, maxiter = check_run_options(rtol, atol, maxiter, callback, throw)
    x = _start(x0)
    problem = DenseSystem(F, jacobian, x.size)
    with np.errstate(all="ignore"):  # non-finite values are reported below, not warned
        Fx = problem(x)
        if not np.isfinite(Fx).all():
            raise ValueError("`F(x0)` contains NaN or Inf")
        J = problem.jacobian(x)
    if not np.isfinite(J).all():
        raise ValueError("`jacobian(x0)` contains NaN or Inf")
    zeros = np.flatnonzero(np.diagonal(J) == 0)
    if zeros.size:
        raise ValueError(
            f"`jacobian(x0)` has a zero diagonal entry (index {int(zeros[0])}); Newton–SOR "
            "divides by the Jacobian's diagonal"
        )
    problem.first = (Fx, J)
    solver = NewtonSOR(rtol, atol, omega)
    stats = {"backend": "numpy"}
    return run(solver, problem, x, maxiter=maxiter, callback=callback, throw=throw, stats=stats)
