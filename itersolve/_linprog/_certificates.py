"""Infeasibility and unboundedness certificates, verified on the unscaled data.

Written against the array-API namespace of the problem (``lp.xp``): the NumPy path and the
CuPy path run this same code. Every quantity is float64.

Primal infeasibility (Farkas). ``y`` is projected onto the dual cone of ``[l_c, u_c]``
(``y_i >= 0`` needs ``l_i`` finite, ``y_i <= 0`` needs ``u_i`` finite) and scaled to
``||y||_inf = 1``; ``lambda = -K'y`` is split into bound multipliers ``mu_l = lambda+`` where
``lb`` is finite and ``mu_u = lambda-`` where ``ub`` is finite. For any feasible ``x``,
``0 = y'Kx + lambda'x >= sum(l y+ - u y-) + lb'mu_l - ub'mu_u - sum_j viol_j |x_j|`` with
``viol = |lambda - mu_l + mu_u|`` (the parts of ``lambda`` no bound can absorb). So when
the *ray objective* ``sum(l y+ - u y-) + lb'mu_l - ub'mu_u`` is positive and
``max viol <= eps * ray objective``, no ``x`` with ``||x||_1 < 1/eps`` is feasible (with
``viol = 0``: none at all).

Dual infeasibility (a primal ray). ``d`` is projected onto the recession cone of the box
(``d_j >= 0`` where ``lb`` is finite, ``<= 0`` where ``ub`` is finite) and scaled to
``||d||_inf = 1``; the *ray objective* is ``-c'd`` and the violation is how far ``Kd``
leaves the recession cone of ``[l_c, u_c]`` (``(Kd)_i >= 0`` where ``l_i`` is finite,
``<= 0`` where ``u_i`` is finite). Positive objective with ``max viol <= eps * objective``
certifies that the dual is infeasible: from any feasible point the objective decreases
without bound along ``d`` (up to the stated violation).

Both tests also ask the ray objective to exceed ``1e-9`` of the sum of the magnitudes of
its terms, so that a cancellation of rounding errors cannot pose as a certificate.

PDLP's ratio compares quantities in different units (the violation scales with ``K``, the
objective with ``b`` or ``c``), so with ``c`` at 1e150 and ``K`` at 1 a rounding residue
passed as a ray, and with ``b_eq = 1e308`` a Farkas vector "proved" that no ``x`` of norm
below 1e308 is feasible while the solution has a variable of 1e308. The ratio must
therefore also hold in the problem's units (``_kkt.kkt_units``), with the *largest* size a
variable or a dual can take there: ``violation <= eps * objective / X_max`` (Farkas) and
``<= eps * objective / Y_max`` (ray). Both tests must pass.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["Certificate", "check_farkas", "check_ray"]

# the ray objective must not be a rounding residue of much larger terms
_CANCELLATION = 1e-9


@dataclasses.dataclass
class Certificate:
    """A candidate certificate and the figures of its verification (unscaled, float64)."""

    kind: str  # "farkas" (primal infeasible) or "ray" (dual infeasible)
    vector: Any  # y (one entry per constraint row) or d (one per variable)
    ray_objective: float
    max_violation: float
    verified: bool
    lower_multipliers: Any = None  # mu_l, Farkas only
    upper_multipliers: Any = None  # mu_u, Farkas only


def _allowed(eps, objective, unit):
    """The largest violation PDLP's ratio allows, in the user's and in the problem's units."""
    return eps * objective * min(1.0, 1.0 / unit)


def _pos(xp, v):
    return xp.maximum(v, 0.0)


def check_farkas(lp, y, eps: float) -> Certificate | None:
    """Verify a Farkas candidate ``y`` for ``lp`` (see the module docstring)."""
    xp = lp.xp
    y = xp.where(lp.l_c_finite, y, xp.minimum(y, 0.0))
    y = xp.where(lp.u_c_finite, y, xp.maximum(y, 0.0))
    scale = float(xp.max(xp.abs(y))) if y.shape[0] else 0.0
    if not scale > 0.0 or scale == float("inf"):
        return None
    y = y / scale
    lam = -(lp.KT @ y)
    lp.nfev += 1
    mu_l = xp.where(lp.lb_finite, _pos(xp, lam), 0.0)
    mu_u = xp.where(lp.ub_finite, _pos(xp, -lam), 0.0)
    violation = float(xp.max(xp.abs(lam - mu_l + mu_u)))
    terms = (
        lp.l_c0 * _pos(xp, y),
        -lp.u_c0 * _pos(xp, -y),
        lp.lb0 * mu_l,
        -lp.ub0 * mu_u,
    )
    objective = sum(float(xp.sum(t)) for t in terms)
    magnitude = sum(float(xp.sum(xp.abs(t))) for t in terms)
    verified = objective > _CANCELLATION * magnitude and violation <= _allowed(
        eps, objective, lp.units["X_max"]
    )
    return Certificate("farkas", y, objective, violation, verified, mu_l, mu_u)


def check_ray(lp, d, eps: float) -> Certificate | None:
    """Verify a primal-ray candidate ``d`` for ``lp`` (see the module docstring)."""
    xp = lp.xp
    d = xp.where(lp.lb_finite, _pos(xp, d), d)
    d = xp.where(lp.ub_finite, xp.minimum(d, 0.0), d)
    scale = float(xp.max(xp.abs(d)))
    if not scale > 0.0 or scale == float("inf"):
        return None
    d = d / scale
    terms = lp.c * d
    objective = -float(xp.sum(terms))
    magnitude = float(xp.sum(xp.abs(terms)))
    if lp.m:
        Kd = lp.K @ d
        lp.nfev += 1
        below = xp.where(lp.l_c_finite, _pos(xp, -Kd), 0.0)
        above = xp.where(lp.u_c_finite, _pos(xp, Kd), 0.0)
        violation = float(xp.max(xp.maximum(below, above)))
    else:
        violation = 0.0
    verified = objective > _CANCELLATION * magnitude and violation <= _allowed(
        eps, objective, lp.units["Y_max"]
    )
    return Certificate("ray", d, objective, violation, verified)
