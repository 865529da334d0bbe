"""Infimal displacement vectors, infeasibility certificates and convex feasibility."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._driver import run
from .._fixed_point import _UNSET, _check_option
from .._fixed_point._map import FixedPointProblem, float_start
from .._result import SolveResult
from .._validation import check_callable, check_choice, check_real, check_tolerances
from ._estimator import DisplacementEstimator
from ._feasibility import feasibility

__all__ = ["feasibility", "infimal_displacement"]


def infimal_displacement(
    T: Callable[[Any], Any],
    x0,
    *,
    method: str = "halpern",
    restart: int | str | None = _UNSET,
    relaxation: float = 0.5,
    rtol: float = 1e-6,
    atol: float = 0.0,
    maxiter: int | None = 10_000,
    callback: Callable[[SolveResult], None] | None = None,
    throw: bool = False,
    backend: str | None = None,
) -> SolveResult:
    r"""Estimate the infimal displacement vector ``v`` of a nonexpansive map ``T``.

    ``v`` is the minimum-norm element of the closure of the range of ``I - T``: zero when
    ``T`` has a fixed point, and otherwise the direction and speed at which every
    averaged or anchored iteration of ``T`` drifts off (its iterates grow like ``-c k v``
    while ``x_k - T x_k -> v``). For the map of a splitting method on an infeasible
    problem its parts are infeasibility certificates (Park & Ryu, ICML 2023).

    Parameters
    ----------
    T : callable
        A nonexpansive map ``T(x) -> array`` of ``x``'s shape, dtype and library.
    x0 : array_like
        Starting point.
    method : {"halpern", "mann"}
        ``"halpern"``: ``x_{k+1} = x_0/(k+2) + (k+1)/(k+2) T(x_k)``, the accelerated
        iteration (squared error ``O(log k / k^2)`` on the residual, optimal up to the
        log); ``"mann"``: ``x_{k+1} = (1 - lam) x_k + lam T(x_k)``.
    restart : None, int or "adaptive"
        Halpern only: re-anchor every ``restart`` iterations or adaptively, as in
        :func:`itersolve.fixed_point`. Default ``"adaptive"`` for Halpern: on every
        problem family of ``benchmarks/bench_infeasibility.py`` and on translated
        rotations it took no more iterations than the unrestarted iteration, and far fewer
        where the plain iteration converges linearly (polyhedral problems: 257 against
        more than 10,000 on a box and an affine subspace in 30 dimensions). ``None`` keeps
        the ``O(log k / k^2)`` guarantee of the unrestarted iteration.
    relaxation : float
        ``lam`` in (0, 1) for ``method="mann"``.
    rtol, atol : float
        Stop when the two estimators (residual and normalised iterate) agree on two
        consecutive iterations: ``||r_k - n_k|| <= max(rtol ||v_hat||, atol)`` (2-norms
        that neither over- nor underflow). With ``v = 0`` (``T`` has a fixed point) only
        ``atol`` can stop the solve, unless the iteration reaches a fixed point exactly.
        This is a numerical estimate, not a certificate: for an abstract ``T`` no finite
        set of evaluations bounds ``||v_hat - v||`` (the rate bounds hold with the unknown
        ``||x_0 - x*||``).
    maxiter, callback, throw, backend
        As in :func:`itersolve.fixed_point`; the callback's intermediate results carry
        the iterate ``x_k`` (not the estimate), from which either estimator follows.

    Returns
    -------
    SolveResult
        ``x`` is the estimate ``v_hat``: Halpern's residual ``x_k - T(x_k)``, or KM's
        normalised iterate ``(x_0 - x_k)/(lam k)``. ``residuals`` holds the estimators'
        disagreement (``||x_0 - T x_0||`` at ``k = 0``). ``stats``: ``iterate`` (the
        last ``x_k``), ``displacement_norm``, ``residual_norm`` (``||x_k - T x_k||``),
        ``restarts``, and the histories of both estimators at the iterations
        ``history_iterations`` (every iteration up to 10, then 20 per decade, and the
        last): ``residual_estimates`` and ``normalised_estimates``, one row each (the
        normalised one is NaN at ``k = 0``).

    Examples
    --------
    >>> import numpy as np
    >>> import itersolve
    >>> shift = np.array([0.3, -0.4])
    >>> result = itersolve.infimal_displacement(lambda x: x - shift, np.zeros(2))
    >>> np.round(result.x, 12)
    array([ 0.3, -0.4])
    """
    check_callable("T", T)
    check_choice("method", method, ("halpern", "mann"))
    rtol, atol, maxiter = check_tolerances(rtol, atol, maxiter)
    check_callable("callback", callback, optional=True)
    if restart is _UNSET:
        restart = "adaptive" if method == "halpern" else None
    restart = _check_option("restart", restart)
    if restart is not None and method != "halpern":
        raise ValueError("`restart` applies to method='halpern' only")
    relaxation = check_real("relaxation", relaxation, low=0, high=1, low_open=True, high_open=True)
    backend_, x = float_start(x0, backend)
    solver = DisplacementEstimator(rtol, atol, method, restart, relaxation)
    problem = FixedPointProblem(T, x)
    with np.errstate(all="ignore"):
        return run(
            solver,
            problem,
            x,
            maxiter=maxiter,
            callback=callback,
            throw=throw,
            stats={"backend": backend_.name},
        )
