"""``LinprogResult``: the driver's result plus scipy's LP fields, on the host."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy.optimize import OptimizeResult

from .._backend import to_host
from .._result import SolveResult, Status, observed_rate

__all__ = ["SCIPY_STATUS", "LinprogResult", "box_conflict", "build_result"]

# scipy.optimize.linprog: 0 optimal, 1 iteration limit, 2 infeasible, 3 unbounded, 4 numerical
SCIPY_STATUS = {
    Status.CONVERGED: 0,
    Status.MAXITER: 1,
    Status.CALLBACK: 1,
    Status.INFEASIBLE: 2,
    Status.UNBOUNDED: 3,
    Status.NONFINITE: 4,
}


@dataclasses.dataclass(frozen=True, repr=False)
class LinprogResult(SolveResult):
    """A :class:`~itersolve.SolveResult` with :func:`scipy.optimize.linprog`'s fields.

    Attributes
    ----------
    fun : float
        ``c @ x`` when optimal (``status == CONVERGED``), NaN otherwise.
    slack : numpy.ndarray
        ``b_ub - A_ub @ x`` (empty without inequality constraints).
    con : numpy.ndarray
        ``b_eq - A_eq @ x`` (empty without equality constraints).
    ineqlin, eqlin, lower, upper : scipy.optimize.OptimizeResult
        As HiGHS in scipy: ``residual`` and ``marginals`` (the duals, i.e. sensitivities of
        ``fun`` to ``b_ub``, ``b_eq``, the lower and the upper bounds: ``ineqlin`` and
        ``upper`` marginals are <= 0, ``lower`` >= 0). Meaningful when optimal.
    """

    fun: float = math.nan
    slack: np.ndarray = None
    con: np.ndarray = None
    ineqlin: OptimizeResult = None
    eqlin: OptimizeResult = None
    lower: OptimizeResult = None
    upper: OptimizeResult = None

    def to_scipy(self):
        """scipy's ``OptimizeResult``, with scipy's status codes (see ``SCIPY_STATUS``).

        ``status`` is 0 optimal, 1 iteration limit or callback stop, 2 infeasible,
        3 unbounded, 4 numerical trouble; itersolve's own code is in ``itersolve_status``.
        """
        result = super().to_scipy()
        result["itersolve_status"] = int(self.status)
        result["status"] = SCIPY_STATUS.get(self.status, 4)
        return result


def _fields(problem, x, y, reduced, status):
    Kx = problem.K @ x
    m_eq = problem.m_eq
    slack, con = problem.u_c[m_eq:] - Kx[m_eq:], problem.u_c[:m_eq] - Kx[:m_eq]
    lower = np.where(np.isfinite(problem.lb), np.maximum(reduced, 0.0), 0.0)
    upper = np.where(np.isfinite(problem.ub), np.minimum(reduced, 0.0), 0.0)
    return {
        "fun": float(problem.c @ x) if status == Status.CONVERGED else math.nan,
        "slack": slack,
        "con": con,
        "ineqlin": OptimizeResult(residual=slack, marginals=y[m_eq:]),
        "eqlin": OptimizeResult(residual=con, marginals=y[:m_eq]),
        "lower": OptimizeResult(residual=x - problem.lb, marginals=lower),
        "upper": OptimizeResult(residual=problem.ub - x, marginals=upper),
    }


def build_result(base: SolveResult, problem, check_every: int) -> LinprogResult:
    """Turn the driver's result into a :class:`LinprogResult` (arrays moved to the host).

    ``base.stats`` is left as it is: the result's stats are a new dict, with the solver's
    ``Certificate`` (if any) spelled out as host arrays and figures.
    """
    certificate = base.stats.get("certificate")
    stats = {
        **{key: value for key, value in base.stats.items() if key != "certificate"},
        "y": to_host(base.stats["y"]),
        "reduced_costs": to_host(base.stats["reduced_costs"]),
        **_certificate_stats(certificate),
    }
    x = to_host(base.x)
    residuals = stats["kkt_errors"]
    rate = observed_rate(residuals)
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(SolveResult)}
    fields.update(
        x=x, stats=stats, residuals=residuals, rate=rate ** (1.0 / check_every) if rate else rate
    )
    return LinprogResult(
        **fields, **_fields(problem, x, stats["y"], stats["reduced_costs"], base.status)
    )


def _certificate_stats(certificate) -> dict:
    """The figures of a verified certificate, on the host (empty without one)."""
    if certificate is None:
        return {}
    figures = {
        "certificate": to_host(certificate.vector),
        "certificate_kind": certificate.kind,
        "ray_objective": certificate.ray_objective,
        "max_violation": certificate.max_violation,
    }
    if certificate.kind == "farkas":
        figures["lower_multipliers"] = to_host(certificate.lower_multipliers)
        figures["upper_multipliers"] = to_host(certificate.upper_multipliers)
    return figures


def box_conflict(problem, j: int) -> LinprogResult:
    """The result for ``lb_j > ub_j``: infeasible, certified by the two bound multipliers.

    With ``y = 0``, ``mu_l = mu_u = e_j``: ``K'y + mu_l - mu_u = 0`` and the ray objective
    ``lb'mu_l - ub'mu_u = lb_j - ub_j > 0``, the Farkas test of ``_certificates``.
    """
    n, m = problem.n, problem.m
    unit = np.zeros(n)
    unit[j] = 1.0
    x = np.clip(np.zeros(n), problem.lb, problem.ub)
    lb, ub = problem.lb[j], problem.ub[j]
    stats = {
        "method": "pdhg",
        "certificate": np.zeros(m),
        "certificate_kind": "bounds",
        "lower_multipliers": unit,
        "upper_multipliers": unit.copy(),
        "ray_objective": float(lb - ub),
        "max_violation": 0.0,
        "detection_iteration": 0,
        "conflicting_variable": j,
        "y": np.zeros(m),
        "reduced_costs": np.zeros(n),
    }
    message = (
        f"Variable {j} has lower bound {float(lb)!r} above its upper bound {float(ub)!r}: no x "
        f"satisfies the bounds. {Status.INFEASIBLE.advice}"
    )
    return LinprogResult(
        x=x,
        success=False,
        status=Status.INFEASIBLE,
        message=message,
        nit=0,
        nfev=0,
        residuals=np.empty(0),
        stats=stats,
        **_fields(problem, x, np.zeros(m), np.zeros(n), Status.INFEASIBLE),
    )
