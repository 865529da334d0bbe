"""Tangent runs of Newton–SOR and of Newton: residual histories with their derivatives.

The *histories* run an iteration and carry, beside the iterate, its derivative with
respect to a parameter (forward mode): :func:`newton_sor_history` with respect to ``w``,
:func:`newton_history` with respect to coordinates of the starting point. They return the
residual norms ``e_k = ||F(x_k)||_2`` and their derivatives, what the iteration-count
surrogate needs. Both share their arithmetic with the solvers (the same triangular and LU
solves, the same norm), so their histories are the solvers' ``residuals``, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike
from scipy.linalg import lapack

from .._sor import check_omega
from .._validation import check_array, check_callable, check_int, check_real
from ._nonlinear import (
    DenseSystem,
    _start,
    lower_solve,
    norm,
    sor_newton_direction,
    sor_newton_matrix,
)

__all__ = ["jacobian_derivative", "newton_history", "newton_sor_history"]

# Central-difference step factor: eps^(1/3) balances the O(t^2) truncation error against
# the O(eps / t) rounding error of the difference.
DERIVATIVE_STEP = float(np.finfo(np.float64).eps ** (1 / 3))


def jacobian_derivative(
    jacobian: Callable[[np.ndarray], ArrayLike],
    x: ArrayLike,
    v: ArrayLike,
    *,
    step: float | None = None,
) -> np.ndarray:
    """The directional derivative ``J'(x)[v] = d/dt J(x + t v)`` at ``t = 0``, ``(n, n)``.

    Central differences ``(J(x + t v) - J(x - t v)) / (2 t)``, the displacement
    ``t ||v||`` being ``step``, by default ``eps^(1/3) max(1, ||x||)`` (about
    ``6e-6 max(1, ||x||)``), which balances the two errors: truncation,
    ``(t ||v||)^2 / 6`` times the third derivative of ``J`` along ``v / ||v||``
    (zero when ``J`` is affine or quadratic in ``x``), and rounding, about
    ``eps ||J|| / t`` in absolute terms. For an affine ``J`` (Robertson's kinetics) the
    result is exact up to that rounding, about ``1e-10`` relative on well-scaled data.
    ``v = 0`` gives zeros without calling ``jacobian``.
    """
    x = np.asarray(x, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    size = norm(v)
    if size == 0:
        return np.zeros((x.size, x.size))
    displacement = DERIVATIVE_STEP * max(1.0, norm(x)) if step is None else float(step)
    t = displacement / size
    plus, minus = (_dense(jacobian(x + sign * t * v)) for sign in (1.0, -1.0))
    return (plus - minus) / (2 * t)


def _dense(J) -> np.ndarray:
    return J.toarray() if scipy.sparse.issparse(J) else np.asarray(J, dtype=np.float64)


def _history_inputs(F, jacobian, x0, tol, maxiter) -> tuple[np.ndarray, float, int]:
    check_callable("F", F)
    check_callable("jacobian", jacobian)
    x = _start(x0)
    tol = check_real("tol", tol, low=0)
    maxiter = check_int("maxiter", maxiter, low=0)
    return x, tol, maxiter


def _slope(Fx: np.ndarray, residual: float, dF: np.ndarray) -> np.ndarray | float:
    """``d||F|| = F . dF / ||F||`` (0 at ``F = 0``, where the norm has no derivative)."""
    if residual == 0:
        return np.zeros(dF.shape[1:]) if dF.ndim > 1 else 0.0
    return (Fx @ dF) / residual


def newton_sor_history(
    F: Callable[[np.ndarray], ArrayLike],
    jacobian: Callable[[np.ndarray], ArrayLike],
    x0: ArrayLike,
    omega: float,
    *,
    tol: float,
    maxiter: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Residuals ``e_k = ||F(x_k)||_2`` of Newton–SOR and their derivatives ``de_k / dw``.

    The iteration is :func:`newton_sor`'s, from ``x0`` (which does not depend on ``w``),
    until ``e_k <= tol``, ``k = maxiter`` or a non-finite ``e_k``; it takes as many steps
    as ``newton_sor(F, x0, jacobian=jacobian, omega=omega, rtol=0, atol=tol,
    maxiter=maxiter).nit`` and its residuals are that result's. Forward mode carries
    ``dx_k = dx_k / dw``, including the dependence of ``J(x_k)`` on ``x_k``::

        (D + w L) d_k = F_k,                       x_{k+1} = x_k - w d_k
        (D + w L) dd_k = J_k dx_k - (dD + L + w dL) d_k
        dx_{k+1} = dx_k - d_k - w dd_k,            de_k = F_k . (J_k dx_k) / e_k

    with ``dD``, ``dL`` the diagonal and strictly lower parts of ``J'(x_k)[dx_k]``
    (:func:`jacobian_derivative`).

    Parameters
    ----------
    F, jacobian : callable
        As for :func:`newton_sor`.
    x0 : array_like, shape (n,)
        Starting point.
    omega : float in (0, 2)
        Relaxation factor.
    tol : float
        Absolute residual tolerance.
    maxiter : int
        Iteration limit.

    Returns
    -------
    residuals, derivatives : (K + 1,) float64 arrays
        ``K`` the iteration count. ``derivatives[0] = 0``. Where a step is undefined (zero
        diagonal entry, NaN or Inf in the Jacobian) or ``F`` is not finite, the last
        residual and derivative are NaN.
    """
    x, tol, maxiter = _history_inputs(F, jacobian, x0, tol, maxiter)
    omega = check_omega(omega)
    problem = DenseSystem(F, jacobian, x.size)
    dx = np.zeros(x.size)
    with np.errstate(all="ignore"):
        Fx = problem(x)
        residuals, derivatives = [norm(Fx)], []
        while True:
            if not math.isfinite(residuals[-1]):
                derivatives.append(math.nan)
                break
            J = problem.jacobian(x)
            derivatives.append(_slope(Fx, residuals[-1], J @ dx))
            if residuals[-1] <= tol or len(residuals) > maxiter:
                break
            d, why = sor_newton_direction(J, Fx, omega)
            if why:
                residuals.append(math.nan)
                derivatives.append(math.nan)
                break
            dJ = jacobian_derivative(problem.jacobian, x, dx)
            dM = np.diag(np.diagonal(dJ)) + np.tril(J, -1) + omega * np.tril(dJ, -1)
            dd, _ = lower_solve(sor_newton_matrix(J, omega), J @ dx - dM @ d)
            x = x - omega * d
            dx = dx - d - omega * dd
            Fx = problem(x)
            residuals.append(norm(Fx))
    return np.array(residuals), np.array(derivatives)


def _newton_step(J: np.ndarray, Fx: np.ndarray):
    """``(s, lu, pivots)`` with ``J s = F``, by LAPACK ``getrf``/``getrs`` as
    ``itersolve.newton`` solves; ``(None, None, None)`` where it declares the Jacobian
    singular (NaN or Inf in it, a zero pivot, a non-finite solution)."""
    if not np.isfinite(J).all():
        return None, None, None
    lu, pivots, info = lapack.dgetrf(J)
    if info != 0:
        return None, None, None
    s = lapack.dgetrs(lu, pivots, Fx)[0]
    if not np.isfinite(s).all():
        return None, None, None
    return s, lu, pivots


def newton_history(
    F: Callable[[np.ndarray], ArrayLike],
    jacobian: Callable[[np.ndarray], ArrayLike],
    x0: ArrayLike,
    directions: ArrayLike,
    *,
    tol: float,
    maxiter: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Residuals ``e_k`` of plain Newton and their gradients along moves of the start.

    Newton ``x_{k+1} = x_k - s_k``, ``J_k s_k = F_k``, from ``x0 + V c`` at ``c = 0``
    (``V = directions``); the tangent ``T_k = dx_k / dc`` (``T_0 = V``) follows from
    differentiating ``J_k s_k = F_k``: ``J'(x_k)[T_k] s_k + J_k dT s = J_k T_k``, so::

        T_{k+1} = T_k - ds_k = J_k^{-1} J'(x_k)[T_k] s_k = J_k^{-1} J'(x_k)[s_k] T_k,

    the last form by the symmetry of the second derivative of ``F`` (``J`` must be
    ``F``'s true Jacobian): one :func:`jacobian_derivative`, along ``s_k``, per step,
    whatever the number of directions. ``de_k / dc = F_k^T J_k T_k / e_k``.

    The steps are those of ``itersolve.newton(F, x0, jacobian=jacobian, rtol=0, atol=tol,
    maxiter=maxiter)`` (the same LU solve, the same norm); its stopping test with
    ``rtol=0`` is ``||F(x_k)|| <= atol``, as here. That solver's other stops do not exist
    here: it ends ``STAGNATED`` where the Newton step is exactly zero without reducing
    ``||F||`` or where ``||x||`` and ``||F||`` rise together for 10 steps, while this
    history goes on to ``tol`` or ``maxiter``; where the Jacobian is singular (zero pivot,
    NaN or Inf), this history ends with a NaN residual (``newton`` repeats the last one).

    Parameters
    ----------
    F, jacobian : callable
        ``F(x) -> (n,)``, ``jacobian(x) -> (n, n)``, real.
    x0 : array_like, shape (n,)
        Starting point.
    directions : array_like, shape (n, m)
        The columns along which the start moves.
    tol : float
        Absolute residual tolerance.
    maxiter : int
        Iteration limit.

    Returns
    -------
    residuals : (K + 1,) float64 array
    derivatives : (K + 1, m) float64 array
        ``derivatives[k, j] = de_k / dc_j``.
    """
    x, tol, maxiter = _history_inputs(F, jacobian, x0, tol, maxiter)
    T = np.array(check_array("directions", directions, ndim=2), dtype=np.float64, copy=True)
    if T.shape[0] != x.size:
        raise ValueError(f"`directions` must have {x.size} rows (one per unknown), got {T.shape}")
    problem = DenseSystem(F, jacobian, x.size)
    with np.errstate(all="ignore"):
        Fx = problem(x)
        residuals, derivatives = [norm(Fx)], []
        while True:
            if not math.isfinite(residuals[-1]):
                derivatives.append(np.full(T.shape[1], np.nan))
                break
            J = problem.jacobian(x)
            derivatives.append(_slope(Fx, residuals[-1], J @ T))
            if residuals[-1] <= tol or len(residuals) > maxiter:
                break
            s, lu, pivots = _newton_step(J, Fx)
            if s is None:
                residuals.append(math.nan)
                derivatives.append(np.full(T.shape[1], np.nan))
                break
            G = jacobian_derivative(problem.jacobian, x, s)
            T = lapack.dgetrs(lu, pivots, G @ T)[0]
            x = x + (-s)  # as itersolve.newton steps: x + t tau delta, delta = -s
            Fx = problem(x)
            residuals.append(norm(Fx))
    return np.array(residuals), np.array(derivatives).reshape(len(residuals), T.shape[1])
