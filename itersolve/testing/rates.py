"""The rates and bounds the theory predicts, in plain numpy.

Each function is a closed form from the literature, written here without sympy so that a
user's test suite needs nothing beyond numpy and scipy; the project's own tests check every
one against the symbolic derivations of :mod:`itersolve.theory`. All broadcast over array
arguments.

=============================  ==============================================================
function                       statement
=============================  ==============================================================
:func:`contraction`            ``||x_k - x*|| <= L^k ||x_0 - x*||`` (Banach)
:func:`krasnoselskii_mann`     ``||x_k - T x_k|| <= D / sqrt(lam (1-lam) (k+1))``
:func:`halpern`                ``||x_k - T x_k|| <= 2 D / (k+1)`` (Lieder 2021, tight)
:func:`young_omega`            SOR's optimal ``omega* = 2 / (1 + sqrt(1 - rho^2))``
:func:`sor`                    Young's ``rho(C_omega)`` (Gauss–Seidel: ``rho^2``)
:func:`poisson_jacobi`         ``(1/d) sum cos(pi / (n_i + 1))`` on a grid
:func:`conjugate_gradient`     ``||e_k||_A <= 2 q^k ||e_0||_A``, ``q = (√κ-1)/(√κ+1)``
:func:`newton_multiplicity`    ``(m - 1) / m``: Newton's ratio at a root of multiplicity m
:func:`picard`                 ``C(n-1, k) (hL)^k e_0``: Picard sweep ``k`` at step ``n``
=============================  ==============================================================

``D`` is the distance from the start to a fixed point, ``rho`` Jacobi's spectral radius of a
consistently ordered matrix (Young's theory), ``L`` a Lipschitz constant.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import betaln

__all__ = [
    "conjugate_gradient",
    "contraction",
    "halpern",
    "krasnoselskii_mann",
    "newton_multiplicity",
    "picard",
    "poisson_jacobi",
    "sor",
    "young_omega",
]


def _array(name, value, *, low=None, high=None, high_open=False, integer=False):
    if np.iscomplexobj(value):
        raise TypeError(f"{name} must be real, got a complex value")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be real numbers, got {type(value).__name__}") from None
    bad = ~np.isfinite(array)
    if low is not None:
        bad |= array < low
    if high is not None:
        bad |= array >= high if high_open else array > high
    if integer:
        bad |= array != np.floor(array)
    if np.any(bad):
        interval = f"[{low}, {high}{')' if high_open else ']'}" if high is not None else f">= {low}"
        kind = "integers" if integer else "values"
        raise ValueError(f"{name} must hold finite {kind} {interval}, got {value!r}")
    return array


def contraction(k, lipschitz, initial_error):
    """``L^k e_0``: the error of plain iteration on an ``L``-contraction after ``k`` steps."""
    k = _array("k", k, low=0, integer=True)
    lipschitz = _array("lipschitz", lipschitz, low=0, high=1)
    initial_error = _array("initial_error", initial_error, low=0)
    return lipschitz**k * initial_error


def krasnoselskii_mann(k, relaxation, distance):
    """``D / sqrt(lam (1 - lam) (k + 1))``: KM's residual bound for nonexpansive maps.

    ``x_{k+1} = (1 - lam) x_k + lam T x_k``; the residual is ``||x_k - T x_k||`` and ``D``
    is ``||x_0 - x*||`` for any fixed point ``x*``.
    """
    k = _array("k", k, low=0, integer=True)
    relaxation = _array("relaxation", relaxation, low=0, high=1)
    distance = _array("distance", distance, low=0)
    with np.errstate(divide="ignore"):
        return distance / np.sqrt(relaxation * (1 - relaxation) * (k + 1))


def halpern(k, distance):
    """``2 D / (k + 1)``: Halpern's residual bound with anchors ``1/(k+2)`` (tight)."""
    k = _array("k", k, low=0, integer=True)
    distance = _array("distance", distance, low=0)
    return 2 * distance / (k + 1)


def young_omega(rho_jacobi):
    """``2 / (1 + sqrt(1 - rho^2))``: SOR's optimal relaxation for a consistently ordered matrix."""
    rho = _array("rho_jacobi", rho_jacobi, low=0, high=1, high_open=True)
    return 2 / (1 + np.sqrt(1 - rho**2))


def sor(omega, rho_jacobi):
    """Young's spectral radius of SOR at ``omega`` (``omega = 1``: Gauss–Seidel's ``rho^2``).

    ``((omega rho + sqrt(omega^2 rho^2 - 4 (omega - 1))) / 2)^2`` up to ``omega*``, and
    ``omega - 1`` beyond, for a consistently ordered matrix whose Jacobi matrix has real
    eigenvalues of radius ``rho < 1``.
    """
    omega = _array("omega", omega, low=0, high=2, high_open=True)
    rho = _array("rho_jacobi", rho_jacobi, low=0, high=1, high_open=True)
    omega, rho = np.broadcast_arrays(omega, rho)
    discriminant = np.maximum(omega**2 * rho**2 - 4 * (omega - 1), 0.0)
    left = ((omega * rho + np.sqrt(discriminant)) / 2) ** 2
    return np.where(omega <= young_omega(rho), left, omega - 1)


def poisson_jacobi(shape):
    """Jacobi's radius ``(1/d) sum_i cos(pi / (n_i + 1))`` for the Laplacian on a grid ``shape``."""
    sizes = _array("shape", np.atleast_1d(shape), low=1, integer=True)
    return float(np.mean(_grid_cosines(sizes)))


def _grid_cosines(sizes: np.ndarray) -> np.ndarray:
    """``cos(pi / (n_i + 1))`` per axis: the largest Jacobi eigenvalue of each 1-D factor."""
    # cos(pi/2) rounds to 6e-17: a one-point axis contributes exactly 0
    return np.where(sizes == 1, 0.0, np.cos(np.pi / (sizes + 1.0)))


def conjugate_gradient(k, condition):
    """``2 ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^k``: CG's bound on ``||e_k||_A / ||e_0||_A``."""
    k = _array("k", k, low=0, integer=True)
    root = np.sqrt(_array("condition", condition, low=1))
    return np.minimum(1.0, 2 * ((root - 1) / (root + 1)) ** k)


def newton_multiplicity(m):
    """``(m - 1) / m``: plain Newton's limiting error ratio at a root of multiplicity ``m``."""
    m = _array("m", m, low=1, integer=True)
    return (m - 1) / m


def picard(k, n, h, lipschitz, initial_error):
    """``C(n-1, k) (h L)^k e_0``: Picard sweep ``k``'s error at position ``n`` of a chain.

    For explicit one-step maps ``g_j = id + h phi_j`` with ``phi_j`` ``L``-Lipschitz and the
    initial guess's largest error ``e_0``; zero for ``n <= k`` (the first ``k`` states are
    exact after ``k`` sweeps). The binomial is an exact integer up to ``n = 10^5`` and the
    product is formed directly where its factors are normal floats, in log space elsewhere,
    so the bound is correctly rounded to a few ulps and neither overflows nor underflows
    before the result does (beyond ``n = 10^5`` ``log C`` comes from ``betaln``, relative
    error about ``1e-9``).
    """
    k = _array("k", k, low=0, integer=True)
    n = _array("n", n, low=0, integer=True)
    h = _array("h", h, low=0)
    lipschitz = _array("lipschitz", lipschitz, low=0)
    initial_error = _array("initial_error", initial_error, low=0)
    k, n, h, lipschitz, initial_error = np.broadcast_arrays(k, n, h, lipschitz, initial_error)
    bound = np.zeros(k.shape)
    live = (n > k) & (initial_error > 0)
    for index in np.argwhere(live):
        index = tuple(index)
        bound[index] = _picard_one(int(k[index]), int(n[index]), h[index] * lipschitz[index])
    return (bound * initial_error)[()]


def _picard_one(k: int, n: int, base: float) -> float:
    if n - 1 <= _EXACT_UP_TO:
        binomial = math.comb(n - 1, k)
        log_binomial = math.log(binomial)
        direct = float(binomial) if binomial < 2**1023 else math.inf
    else:
        log_binomial = float(-math.log(n) - betaln(k + 1, n - k))
        direct = math.inf
    if base == 0:
        return float(k == 0)
    with np.errstate(over="ignore", under="ignore"):
        power = float(np.float64(base) ** k)
        if math.isfinite(direct) and _TINY <= power < math.inf and math.isfinite(direct * power):
            return direct * power
        return float(np.exp(log_binomial + k * math.log(base)))


_EXACT_UP_TO = 100_000
_TINY = np.finfo(float).tiny
