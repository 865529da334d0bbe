"""The result every solver returns, its status codes, and the error ``throw=True`` raises."""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["ConvergenceError", "SolveResult", "Status", "observed_rate"]


class Status(enum.IntEnum):
    """How a solve ended.

    The codes follow scipy's elementwise iterative methods (``0`` converged, ``1`` in
    progress, ``-2`` iteration limit, ``-3`` non-finite values, ``-4`` stopped by the
    callback, ``-5`` invalid input); ``-6`` to ``-8`` are itersolve's additions.
    ``Status.X.advice`` is the paragraph that goes into ``SolveResult.message``.
    """

    CONVERGED = 0
    IN_PROGRESS = 1
    MAXITER = -2
    NONFINITE = -3
    CALLBACK = -4
    INVALID_INPUT = -5
    STAGNATED = -6
    INFEASIBLE = -7
    UNBOUNDED = -8

    @property
    def advice(self) -> str:
        return _ADVICE[self]


_ADVICE = {
    Status.CONVERGED: "The residual met the requested tolerance.",
    Status.IN_PROGRESS: "The solve is still running (this is an intermediate result).",
    Status.MAXITER: (
        "The iteration limit was reached before the residual met the tolerance. "
        "Increase `maxiter`, loosen `rtol`/`atol`, or choose a faster method or parameter "
        "(an accelerated fixed-point method such as method='anderson', a better `omega` "
        "for SOR). For a fixed-point map, a residual that stalls at a positive level while "
        "the iterates keep growing suggests the map has no fixed point."
    ),
    Status.NONFINITE: (
        "NaN or Inf appeared in the iterate or its residual, so the iteration diverged "
        "or the map produced invalid values. Check the map at the reported iterate, "
        "start closer to the solution, or use damping (`relaxation` < 1, method='mann')."
    ),
    Status.CALLBACK: "The callback raised StopIteration, so the solve stopped where it was.",
    Status.INVALID_INPUT: "The input was invalid; see the message for the argument at fault.",
    Status.STAGNATED: (
        "The iteration stopped making progress before meeting the tolerance. "
        "Loosen the tolerance, or try another method or memory size."
    ),
    Status.INFEASIBLE: (
        "The problem has no solution; a verified certificate of infeasibility is in `stats`."
    ),
    Status.UNBOUNDED: (
        "The objective is unbounded below on the feasible set (the dual problem is "
        "infeasible); a verified ray along which it decreases is in `stats`."
    ),
}


@dataclasses.dataclass(frozen=True, repr=False)
class SolveResult:
    """The outcome of an itersolve solve, with scipy's field names.

    Attributes
    ----------
    x : array or scalar
        The final iterate, on the same device and with the same dtype as the input.
    success : bool
        True when ``status`` is ``Status.CONVERGED``.
    status : Status
        How the solve ended.
    message : str
        What happened and what to try next.
    nit : int
        Iterations taken; ``nit == 0`` when the starting point already satisfied the
        stopping test.
    nfev : int
        Evaluations of the user's map (or step function).
    residuals : numpy.ndarray
        1-D float64 history of the residual norm: ``residuals[0]`` is the residual at the
        starting point and ``residuals[k]`` the residual after iteration ``k``. Each
        solver's documentation states which residual and which norm.
    rate : float
        Observed asymptotic rate, the geometric mean of the per-iteration residual ratio
        over the tail of ``residuals`` (see :func:`observed_rate`); NaN when it cannot be
        measured, and always NaN in the intermediate results a callback receives.
    stats : dict
        Solver-specific figures (restarts, safeguard rejections, memory in use, ...).
    """

    x: Any
    success: bool
    status: Status
    message: str
    nit: int
    nfev: int
    residuals: np.ndarray
    rate: float = math.nan
    stats: dict = dataclasses.field(default_factory=dict)

    def __repr__(self) -> str:
        final = self.residuals[-1] if len(self.residuals) else math.nan
        return (
            f"{type(self).__name__}(success={self.success}, status={self.status.name}, "
            f"nit={self.nit}, nfev={self.nfev}, residual={final:.3e}, rate={self.rate:.4g})"
        )

    def to_scipy(self):
        """Return the fields as a ``scipy.optimize.OptimizeResult`` (status as a plain int)."""
        from scipy.optimize import OptimizeResult

        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["status"] = int(self.status)
        return OptimizeResult(fields)


class ConvergenceError(RuntimeError):
    """Raised by ``throw=True`` when a solve does not converge; ``.result`` holds its result.

    It subclasses ``RuntimeError`` so that code written for ``scipy.optimize.fixed_point``
    (which raises ``RuntimeError``) keeps working.
    """

    def __init__(self, result: SolveResult):
        super().__init__(result.message)
        self.result = result


def observed_rate(residuals: ArrayLike, *, tail: float = 0.5, min_points: int = 4) -> float:
    """Estimate the asymptotic convergence rate from a residual history.

    Fits ``log r_k = a + k log(rate)`` by least squares over the last ``tail`` fraction of
    the history (at least ``min_points`` points), after dropping zeros and non-finite
    values, and returns ``rate``. A rate below 1 means linear convergence with that
    factor per iteration; a value near 1 means sublinear convergence or stagnation.

    Returns NaN when fewer than ``min_points`` usable points remain.
    """
    try:
        r = np.asarray(residuals, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError(
            f"`residuals` must be a sequence of real numbers, got {type(residuals).__name__}"
        ) from None
    k = np.arange(r.size)
    usable = np.isfinite(r) & (r > 0)
    r, k = r[usable], k[usable]
    count = max(min_points, math.ceil(tail * r.size))
    if r.size < min_points:
        return math.nan
    # the least-squares slope in closed form (np.polyfit's SVD costs ~40 us per solve)
    y, k = np.log(r[-count:]), k[-count:].astype(np.float64)
    k = k - k.mean()
    slope = float(k @ (y - y.mean())) / float(k @ k)
    return float(math.exp(slope))
