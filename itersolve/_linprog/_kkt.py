"""The relative KKT error of a primal-dual pair, measured on the unscaled LP (float64).

For ``min c'x, l_c <= Kx <= u_c, lb <= x <= ub`` with duals ``y`` (``y_i >= 0`` acts on
``l_i``, ``y_i <= 0`` on ``u_i``) and reduced costs ``lambda = c - K'y``:

- primal residual ``||Kx - clip(Kx, l_c, u_c)||_2`` (``x`` lies in the box by construction);
- dual residual ``||lambda - proj(lambda)||_2``, ``proj`` keeping the part of ``lambda`` the
  finite bounds can carry (positive part at a finite ``lb``, negative part at a finite ``ub``);
- duality gap ``|c'x - (sum(l y+ - u y-) + lb'proj(lambda)+ - ub'proj(lambda)-)|``.

The relative error is the largest of the three divided by ``1 + ||b||_2``, ``1 + ||c||_2``
and ``1 + |c'x| + |dual objective|`` (``b`` the finite constraint bounds), as in PDLP and
cuPDLP's relative termination criteria, but in the problem's own units (:func:`kkt_units`):
``x`` in units ``X``, ``y`` in ``Y``, rows of ``Kx`` in ``P = kX`` and columns of ``K'y`` in
``D = kY``, with ``k`` the power of two nearest ``||K||_F`` and ``X``, ``Y`` those nearest
the typical size of a variable and of a dual (:func:`kkt_units`). PDLP's ``1 +`` is an
absolute floor that accepts ``x = 0`` for any LP posed at 1e-170; in these units the test
reads the same at every scale of ``b``, ``c`` and ``K``, and at ordinary scales it differs
from PDLP's by a small factor. Powers of two divide without rounding, and every norm is
overflow- and underflow-safe
(:func:`itersolve._norms.scaled_norm`).
"""

from __future__ import annotations

import math

import numpy as np

from .._norms import scaled_norm

__all__ = ["iteration_units", "kkt_error", "kkt_units"]


def _power_of_two(size: float) -> float:
    """The power of two nearest ``size`` from below (1 for 0): exact to divide by."""
    if not (size > 0 and math.isfinite(size)):
        return 1.0
    return math.ldexp(1.0, math.frexp(size)[1] - 1)


def _finite_norm(v) -> float:
    return scaled_norm(v[np.isfinite(v)])


def _typical(ratios) -> float:
    """The lower median of the finite positive ``ratios`` (0 if none): a size that one
    outsized entry cannot inflate (a bound of 5e19 that never binds must not make the
    units so large that a violated row of size 1 reads as nothing)."""
    ratios = np.sort(ratios[np.isfinite(ratios) & (ratios > 0)])
    return float(ratios[(ratios.size - 1) // 2]) if ratios.size else 0.0


def kkt_units(problem) -> dict:
    """``X, Y, P, D``: the units of ``x``, ``y``, ``Kx`` and ``K'y`` (powers of two).

    A variable is about ``|b_i| / ||K_i||``, ``||b|| / ||K||_F`` or a finite nonzero bound
    of its own (typical over all of these; 1 when there is none), a dual about
    ``|c_j| / ||K^j||`` or ``||c|| / ||K||_F`` (without constraints, ``|c_j|``). The
    certificates use the largest of these sizes instead of the typical one.
    """
    K = problem.K
    b = np.concatenate([problem.l_c[: problem.m_eq], problem.u_c[problem.m_eq :]])
    k = _power_of_two(scaled_norm(K.data)) if K.nnz else 1.0
    sizes = [np.abs(problem.lb), np.abs(problem.ub)]  # what the variables may reach
    duals = np.abs(problem.c)
    if K.nnz:
        # row by row and as a whole (a column of K may be empty, a row's bound 0)
        norm_K = scaled_norm(K.data)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            sizes += [np.abs(b) / _norms_along(K, axis=1), [_finite_norm(b) / norm_K]]
            duals = np.concatenate(
                [np.abs(problem.c) / _norms_along(K, axis=0), [scaled_norm(problem.c) / norm_K]]
            )
    Y = _typical(duals)
    Y_largest = float(duals[np.isfinite(duals)].max(initial=0.0))
    sizes = np.concatenate(sizes)
    largest = sizes[np.isfinite(sizes)].max(initial=0.0)
    X, Y = _power_of_two(_typical(sizes)), _power_of_two(Y)
    return {
        "X": X,
        "Y": Y,
        "P": k * X,
        "D": k * Y,
        # the largest sizes, for the certificates: a ray must not be an artefact of one
        # variable that has to be as large as its outsized bound or row
        "X_max": _power_of_two(largest),
        "Y_max": _power_of_two(Y_largest),
    }


def _norms_along(K, axis):
    """The 2-norms of the rows (``axis=1``) or columns of ``K``, overflow-safe."""
    absK = abs(K)
    largest = np.asarray(absK.max(axis=axis).todense()).ravel()
    safe = np.where(largest > 0, largest, 1.0)
    scaled = absK.multiply(1.0 / (safe[:, None] if axis == 1 else safe[None, :]))
    return largest * np.sqrt(np.asarray(scaled.multiply(scaled).sum(axis=axis)).ravel())


def iteration_units(problem, row, col) -> tuple[float, float]:
    """``(beta, gamma)``: powers of two near the sizes of the preconditioned right-hand
    sides (else variable bounds) and objective, so the PDHG iterates are of order 1."""
    b = np.concatenate([problem.l_c[: problem.m_eq], problem.u_c[problem.m_eq :]]) * row
    size = _finite_norm(b)
    if size == 0.0:
        size = _finite_norm(np.concatenate([problem.lb / col, problem.ub / col]))
    return _power_of_two(size), _power_of_two(scaled_norm(problem.c * col))


def kkt_error(lp, x, y, Kx, KTy) -> tuple[float, dict]:
    """Return ``(relative KKT error, components)`` for unscaled ``x, y`` with ``Kx, K'y``.

    ``lp`` carries the data divided by its units (``c_n = c / D``, ``l_c_n = l_c / P``,
    ``lb0_n = lb / X``, ...); the components are reported in the user's units.
    """
    xp, units = lp.xp, lp.units
    X, Y, P, D = units["X"], units["Y"], units["P"], units["D"]
    x, Kx, y, KTy = x / X, Kx / P, y / Y, KTy / D
    if lp.m:
        clipped = xp.minimum(xp.maximum(Kx, lp.l_c_n), lp.u_c_n)
        primal = scaled_norm(Kx - clipped)
        constraint_term = float(
            xp.sum(lp.l_c0_n * xp.maximum(y, 0.0)) - xp.sum(lp.u_c0_n * xp.maximum(-y, 0.0))
        )
    else:
        primal, constraint_term = 0.0, 0.0
    lam = lp.c_n - KTy
    lam_l = xp.where(lp.lb_finite, xp.maximum(lam, 0.0), 0.0)
    lam_u = xp.where(lp.ub_finite, xp.maximum(-lam, 0.0), 0.0)
    dual = scaled_norm(lam - lam_l + lam_u)
    primal_objective = float(xp.sum(lp.c_n * x))
    dual_objective = (
        constraint_term + float(xp.sum(lp.lb0_n * lam_l)) - float(xp.sum(lp.ub0_n * lam_u))
    )
    gap = abs(primal_objective - dual_objective)
    unit = D * X  # of the objectives (= P * Y)
    objectives = abs(primal_objective) + abs(dual_objective)
    relative = max(
        primal / (1.0 + lp.b_norm), dual / (1.0 + lp.c_norm), gap / (1.0 + objectives)
    )
    if not all(map(math.isfinite, (primal, dual, gap))):
        relative = math.nan
    parts = {
        "primal_residual": primal * P,
        "dual_residual": dual * D,
        "gap": gap * unit,
        "primal_objective": primal_objective * unit,
        "dual_objective": dual_objective * unit,
    }
    parts["absolute"] = max(parts["primal_residual"], parts["dual_residual"], parts["gap"])
    return relative, parts
