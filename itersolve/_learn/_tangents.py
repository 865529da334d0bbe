"""Residual histories of SOR and SSOR-PCG with their derivatives in ``omega`` (forward mode).

A history is ``e_0, e_1, ..., e_K``, the relative residuals of the solver's iterates, and
``de_k/domega`` beside it: what the iteration-count surrogate needs to learn ``omega``.
The iterates are those of :func:`itersolve.sor` and :func:`itersolve.ssor_pcg` (same
kernels, same operations), so ``K`` is the solver's ``nit`` for the same tolerance.
The derivatives are exact derivatives of the computed recurrences (tangent kernels in
:mod:`itersolve._learn._kernels`), not finite differences.

Divergence never raises: a non-finite residual ends the history and stays its last entry,
for the caller to report.
"""

from __future__ import annotations

import math

import numpy as np

from .._norms import scaled_norm
from .._sor import SWEEPS
from ._kernels import residual_tangent, sor_sweep_tangent, ssor_solve_tangent


def _check(sweep: str, tol, maxiter) -> tuple[float, int]:
    if sweep not in SWEEPS:
        raise ValueError(f"`sweep` must be one of {sorted(SWEEPS)}, got {sweep!r}")
    tol = float(tol)
    if not tol >= 0:
        raise ValueError(f"`tol` must be non-negative, got {tol!r}")
    if isinstance(maxiter, bool) or not isinstance(maxiter, int | np.integer) or maxiter < 0:
        raise ValueError(f"`maxiter` must be a non-negative integer, got {maxiter!r}")
    return tol, int(maxiter)


def _residual_and_derivative(system, x, dx) -> tuple[float, float]:
    """``(||b - A x||_2, d||b - A x||_2)`` for ``x`` with tangent ``dx``.

    The norm is the solver's own (``LinearSystem.residual_norm``, serial or parallel,
    rescaled where needed), so stopping decisions agree to the last bit; the tangent's
    ``r . A dx`` comes from one fused pass.
    """
    _, dot = residual_tangent(system.indptr, system.indices, system.data, x, dx, system.b)
    norm = system.residual_norm(x)
    # d||r|| = r . dr / ||r|| with dr = -A dx; at r = 0 the norm has no derivative: take 0
    derivative = -dot / norm if norm > 0 else 0.0
    return norm, derivative


def sor_history(
    system, x0, omega: float, *, sweep: str = "forward", tol: float, maxiter: int
) -> tuple[np.ndarray, np.ndarray]:
    """SOR's relative residuals and their derivatives in ``omega``.

    Parameters
    ----------
    system : itersolve._sor.LinearSystem
        The validated system ``A x = b`` (``norm_b > 0``).
    x0 : (n,) array_like or None
        Starting point (zeros when None); copied.
    omega : float
        Relaxation, in (0, 2) (checked by the caller).
    sweep : {"forward", "backward", "symmetric"}
        As :func:`itersolve.sor`; a symmetric sweep (forward then backward) is one step.
    tol : float
        Stop at the first ``e_k <= tol``: the test ``||b - A x_k|| <= tol ||b||`` of
        :func:`itersolve.sor` with ``rtol=tol, atol=0``.
    maxiter : int
        At most this many sweeps.

    Returns
    -------
    residuals, derivatives : (K + 1,) float64 arrays
        ``e_k = ||b - A x_k||_2 / ||b||_2`` for ``k = 0..K`` and
        ``de_k/domega = -(r_k . A dx_k) / (||r_k|| ||b||)`` with ``dx_k = dx_k/domega``
        (``dx_0 = 0``). ``K`` is :func:`itersolve.sor`'s ``nit`` when it converges or
        stops at ``maxiter``; when an iterate becomes non-finite the last entry is Inf or
        NaN (the solver's ``NONFINITE``) and the history ends there.
    """
    tol, maxiter = _check(sweep, tol, maxiter)
    x = system.start(x0)
    dx = np.zeros_like(x)
    n = system.n
    target = tol * system.norm_b  # the solver's max(rtol ||b||, atol) with atol = 0
    directions = [(n - 1, -1, -1) if backward else (0, n, 1) for backward in SWEEPS[sweep]]
    residuals = []
    derivatives = []
    with np.errstate(all="ignore"):  # divergence ends the history, never a warning
        norm, derivative = _residual_and_derivative(system, x, dx)
        while True:
            residuals.append(norm)
            derivatives.append(derivative)
            if not math.isfinite(norm) or norm <= target or len(residuals) > maxiter:
                break
            for start, stop, step in directions:
                sor_sweep_tangent(
                    system.indptr, system.indices, system.data, x, dx, system.b,
                    start, stop, step, omega,
                )  # fmt: skip
            norm, derivative = _residual_and_derivative(system, x, dx)
        return (
            np.asarray(residuals, dtype=np.float64) / system.norm_b,
            np.asarray(derivatives, dtype=np.float64) / system.norm_b,
        )


def pcg_history(
    system, x0, omega: float, *, tol: float, maxiter: int
) -> tuple[np.ndarray, np.ndarray]:
    """SSOR-PCG's relative (recursive) residuals and their derivatives in ``omega``.

    Conjugate gradients preconditioned by SSOR(ω) in natural order, the recurrence of
    :class:`itersolve._sor._solvers.SSORPCG` without its power-of-two scaling (which only
    multiplies the vectors by exact powers of two, so the residuals are the same) and
    without its restarts. The scalars ``alpha``, ``beta`` and the vectors ``r``, ``z``,
    ``p`` carry tangents, ``z`` through :func:`ssor_solve_tangent`.

    Parameters
    ----------
    system : itersolve._sor.LinearSystem
        A symmetric positive definite system (``norm_b > 0``).
    x0 : (n,) array_like or None
        Starting point (zeros when None).
    omega : float
        SSOR relaxation in (0, 2).
    tol : float
        Stop at the first recursive ``||r_k|| <= tol ||b||``.
    maxiter : int
        At most this many CG steps.

    Returns
    -------
    residuals, derivatives : (K + 1,) float64 arrays
        CG's recursive ``||r_k||_2 / ||b||_2`` and their derivatives in ``omega``.
        :func:`itersolve.ssor_pcg` checks the true residual at the end and restarts when
        it misses the tolerance (only at the limit of attainable accuracy); here the
        history simply ends. A non-finite value, or ``p·Ap <= 0`` / ``r·z <= 0`` (``A``
        not positive definite: the solver's ``INVALID_INPUT``), ends the history with NaN.
    """
    tol, maxiter = _check("forward", tol, maxiter)
    kernel_arrays = (system.indptr, system.indices, system.data)
    x = system.start(x0)
    target = tol * system.norm_b
    with np.errstate(all="ignore"):
        r = system.b - system.matvec(x)
        dr = np.zeros_like(r)
        z, dz = np.empty_like(r), np.empty_like(r)
        ssor_solve_tangent(*kernel_arrays, system.diagonal, r, dr, z, dz, omega)
        p, dp = z, dz  # every update below builds new arrays
        rz, drz = float(r @ z), float(r @ dz)  # dr = 0
        norm, derivative = scaled_norm(r), 0.0
        residuals, derivatives = [norm], [derivative]
        while math.isfinite(norm) and norm > target and len(residuals) <= maxiter:
            q, dq = system.matvec(p), system.matvec(dp)
            curvature = float(p @ q)
            if not (math.isfinite(curvature) and math.isfinite(rz)) or not (
                curvature > 0 and rz > 0
            ):
                residuals.append(math.nan)  # overflow, or A not positive definite
                derivatives.append(math.nan)
                break
            dcurvature = float(dp @ q) + float(p @ dq)
            alpha = rz / curvature
            dalpha = (drz - alpha * dcurvature) / curvature
            r = r - alpha * q
            dr = dr - (dalpha * q + alpha * dq)
            norm = scaled_norm(r)
            derivative = float(r @ dr) / norm if norm > 0 else 0.0
            residuals.append(norm)
            derivatives.append(derivative)
            if not math.isfinite(norm) or norm <= target:
                break
            z, dz = np.empty_like(r), np.empty_like(r)
            ssor_solve_tangent(*kernel_arrays, system.diagonal, r, dr, z, dz, omega)
            rz_new = float(r @ z)
            drz_new = float(dr @ z) + float(r @ dz)
            beta = rz_new / rz
            dbeta = (drz_new - beta * drz) / rz
            p, dp = z + beta * p, dz + (dbeta * p + beta * dp)
            rz, drz = rz_new, drz_new
        return (
            np.asarray(residuals, dtype=np.float64) / system.norm_b,
            np.asarray(derivatives, dtype=np.float64) / system.norm_b,
        )
