"""The relative KKT error of a primal-dual pair, measured on the unscaled LP (float64).

For ``min c'x, l_c <= Kx <= u_c, lb <= x <= ub`` with duals ``y`` (``y_i >= 0`` acts on
``l_i``, ``y_i <= 0`` on ``u_i``) and reduced costs ``lambda = c - K'y``:

- primal residual ``||Kx - clip(Kx, l_c, u_c)||_2`` (``x`` lies in the box by construction);
- dual residual ``||lambda - proj(lambda)||_2``, ``proj`` keeping the part of ``lambda`` the
  finite bounds can carry (positive part at a finite ``lb``, negative part at a finite ``ub``);
- duality gap ``|c'x - (sum(l y+ - u y-) + lb'proj(lambda)+ - ub'proj(lambda)-)|``.

The relative error is the largest of the three divided by ``1 + ||b||_2``, ``1 + ||c||_2``
and ``1 + |c'x| + |dual objective|`` (``b`` the finite constraint bounds), as in PDLP and
cuPDLP's relative termination criteria.
"""

from __future__ import annotations

import math

__all__ = ["kkt_error"]


def kkt_error(lp, x, y, Kx, KTy) -> tuple[float, dict]:
    """Return ``(relative KKT error, components)`` for unscaled ``x, y`` with ``Kx, K'y``."""
    xp = lp.xp
    if lp.m:
        clipped = xp.minimum(xp.maximum(Kx, lp.l_c), lp.u_c)
        primal = float(xp.linalg.vector_norm(Kx - clipped))
        constraint_term = float(
            xp.sum(lp.l_c0 * xp.maximum(y, 0.0)) - xp.sum(lp.u_c0 * xp.maximum(-y, 0.0))
        )
    else:
        primal, constraint_term = 0.0, 0.0
    lam = lp.c - KTy
    lam_l = xp.where(lp.lb_finite, xp.maximum(lam, 0.0), 0.0)
    lam_u = xp.where(lp.ub_finite, xp.maximum(-lam, 0.0), 0.0)
    dual = float(xp.linalg.vector_norm(lam - lam_l + lam_u))
    primal_objective = float(xp.sum(lp.c * x))
    dual_objective = constraint_term + float(xp.sum(lp.lb0 * lam_l)) - float(xp.sum(lp.ub0 * lam_u))
    gap = abs(primal_objective - dual_objective)
    relative = max(
        primal / (1.0 + lp.b_norm),
        dual / (1.0 + lp.c_norm),
        gap / (1.0 + abs(primal_objective) + abs(dual_objective)),
    )
    if not all(map(math.isfinite, (primal, dual, gap))):
        relative = math.nan
    parts = {
        "primal_residual": primal,
        "dual_residual": dual,
        "gap": gap,
        "primal_objective": primal_objective,
        "dual_objective": dual_objective,
        "absolute": max(primal, dual, gap),
    }
    return relative, parts
