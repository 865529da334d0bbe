"""Batched Newton over many starting points, written once against the array-API namespace.

GPU mirror of :func:`itersolve._newton.newton` for the many-starts use (basins of
attraction, root sampling): ``B`` starting points advance together, with stacked
Jacobians ``(B, n, n)`` and one batched ``xp.linalg.solve`` per iteration. CuPy enters only
through the arrays; CI runs the same code on NumPy (``tests/test_newton.py``), where each
row reproduces :func:`~itersolve._newton.newton` from that start (same stopping test, no
line search), iterate for iterate.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import array_api_compat

__all__ = ["BatchedNewtonResult", "batched_newton"]

# Per-row status codes, the values of itersolve.Status.
CONVERGED, IN_PROGRESS, MAXITER, NONFINITE, STAGNATED = 0, 1, -2, -3, -6
# The divergence test of itersolve._newton._newton (same window and growth).
DIVERGENCE_WINDOW, DIVERGENCE_GROWTH = 10, 100.0


@dataclasses.dataclass(frozen=True)
class BatchedNewtonResult:
    """Per-row outcome of :func:`batched_newton` (arrays on the input's device).

    ``x`` (B, n); ``status`` (B,) integer codes of :class:`itersolve.Status` (0 converged,
    -2 iteration limit, -3 non-finite, -6 singular Jacobian, stuck or diverging); ``nit``
    (B,) iterations of each row; ``residual`` (B,) ``||F(x)||_2`` at the returned rows;
    ``iterations``: batch iterations run (the largest ``nit``).
    """

    x: Any
    status: Any
    nit: Any
    residual: Any
    iterations: int

    @property
    def converged(self):
        return self.status == CONVERGED


def _solve(xp, J, rhs):
    """Batched ``J^{-1} rhs``; rows with a singular ``J`` come back as NaN."""
    try:
        return xp.linalg.solve(J, rhs[..., None])[..., 0]
    except Exception:  # NumPy raises for the whole batch when one matrix is singular
        rows = []
        for b in range(J.shape[0]):
            try:
                rows.append(xp.linalg.solve(J[b, ...], rhs[b, ...]))
            except Exception:
                rows.append(xp.full(rhs.shape[1:], float("nan"), dtype=rhs.dtype))
        return xp.stack(rows)


def batched_newton(F, jac, X0, *, rtol=1e-10, atol=1e-12, maxiter=100) -> BatchedNewtonResult:
    r"""Newton's method from every row of ``X0`` at once.

    Parameters
    ----------
    F : callable
        ``F(X) -> (B, n)`` for ``X`` of shape ``(B, n)``: the system, row by row.
    jac : callable
        ``jac(X) -> (B, n, n)``: the stacked Jacobians.
    X0 : array, shape (B, n)
        Starting points (real or complex floating; NumPy, CuPy, any array-API library).
    rtol, atol : float
        :func:`itersolve._newton.newton`'s test, per row: ``||F(x_k)|| <= atol``, or
        ``||F(x_k)|| <= rtol ||F(x_0)||`` after a step ``||x_k - x_{k-1}|| <= rtol ||x_k||``;
        and its stops: stuck (a step that small not reducing ``||F||``) and diverging
        (``||x||`` and ``||F||`` rising for 10 steps, ``||x||`` by 100 times), both -6.
    maxiter : int
        Iteration limit per row.

    Returns
    -------
    BatchedNewtonResult

    Notes
    -----
    Finished rows are frozen (their Jacobian is replaced by the identity and their step
    by 0), so every batch solve is well posed; ``F`` and ``jac`` are still evaluated on
    all rows. A row whose solve or step is not finite stops with status -6 (singular
    Jacobian) and keeps its last iterate.

    Examples
    --------
    >>> import numpy as np
    >>> from itersolve.gpu._newton import batched_newton
    >>> F = lambda X: np.stack([X[:, 0]**2 + X[:, 1]**2 - 4, X[:, 0] * X[:, 1] - 1], axis=1)
    >>> J = lambda X: np.stack([np.stack([2 * X[:, 0], 2 * X[:, 1]], -1),
    ...                         np.stack([X[:, 1], X[:, 0]], -1)], axis=1)
    >>> out = batched_newton(F, J, np.array([[3.0, 0.5], [-3.0, -0.5]]))
    >>> out.converged.tolist(), np.round(out.x[:, 0], 6).tolist()
    ([True, True], [1.931852, -1.931852])
    """
    xp = array_api_compat.array_namespace(X0)
    X = xp.asarray(X0, copy=True)
    B, n = X.shape
    eye = xp.eye(n, dtype=X.dtype)
    status = xp.full((B,), IN_PROGRESS, dtype=xp.int32)
    nit = xp.zeros((B,), dtype=xp.int32)
    Fx = F(X)
    residual = xp.linalg.vector_norm(Fx, axis=1)
    residual0 = residual
    previous = xp.full((B,), float("inf"), dtype=residual.dtype)
    step = xp.full((B,), float("nan"), dtype=residual.dtype)
    recent = []  # (||x||, ||F||) of the last DIVERGENCE_WINDOW + 1 iterations
    iterations = 0
    for k in range(maxiter + 1):
        active = status == IN_PROGRESS
        finite = xp.isfinite(residual)
        xnorm = xp.linalg.vector_norm(X, axis=1)
        recent = (recent + [(xnorm, residual)])[-(DIVERGENCE_WINDOW + 1) :]
        small = step <= rtol * xnorm
        done = (residual <= atol) | (small & (residual <= rtol * residual0))
        stuck = ~done & small & (residual >= previous)
        if len(recent) > DIVERGENCE_WINDOW:
            rising = xp.ones((B,), dtype=xp.bool)
            for (x_a, f_a), (x_b, f_b) in zip(recent[:-1], recent[1:]):
                rising = rising & (x_b > x_a) & (f_b > f_a)
            floor = xp.where(recent[0][0] > 1.0, recent[0][0], xp.ones_like(xnorm))
            stuck = stuck | (~done & rising & (xnorm >= DIVERGENCE_GROWTH * floor))
        status = xp.where(active & ~finite, NONFINITE, status)
        status = xp.where(active & finite & done, CONVERGED, status)
        status = xp.where(active & finite & stuck, STAGNATED, status)
        active = status == IN_PROGRESS
        if not bool(xp.any(active)):
            break
        if k == maxiter:
            status = xp.where(active, MAXITER, status)
            break
        J = xp.where(active[:, None, None], jac(X), eye)
        rhs = xp.where(active[:, None], Fx, xp.zeros_like(Fx))
        delta = -_solve(xp, J, rhs)
        bad = active & ~xp.all(xp.isfinite(delta), axis=1)
        status = xp.where(bad, STAGNATED, status)
        # A failed solve counts as an iteration, as in the scalar driver.
        nit = nit + xp.astype(active, xp.int32)
        active = active & ~bad
        delta = xp.where(active[:, None], delta, xp.zeros_like(delta))
        X = X + delta
        Fnew = F(X)
        previous = xp.where(active, residual, previous)
        residual = xp.where(active, xp.linalg.vector_norm(Fnew, axis=1), residual)
        Fx = xp.where(active[:, None], Fnew, Fx)
        step = xp.where(active, xp.linalg.vector_norm(delta, axis=1), step)
        iterations = k + 1
    return BatchedNewtonResult(
        x=X, status=status, nit=nit, residual=residual, iterations=iterations
    )
