"""The front ends ``infimal_displacement`` and ``feasibility``: check the arguments, run the
iteration, build the result once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._backend import float_start
from .._driver import check_run_options, run
from .._fixed_point import METHOD_DEFAULT, FixedPointProblem, check_restart, fixed_point
from .._result import ConvergenceError, SolveResult, Status
from .._validation import check_callable, check_choice, check_real
from ._estimator import DisplacementEstimator
from ._verification import conclude


def infimal_displacement(
    T: Callable[[Any], Any],
    x0: ArrayLike,
    *,
    method: str = "halpern",
    restart: int | str | None = METHOD_DEFAULT,
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
    if restart is METHOD_DEFAULT:
        restart = "adaptive" if method == "halpern" else None
    restart = check_restart(restart)
    if restart is not None and method != "halpern":
        raise ValueError("`restart` applies to method='halpern' only")
    relaxation = check_real("relaxation", relaxation, low=0, high=1, low_open=True, high_open=True)
    backend_, x = float_start(x0, backend)
    solver = DisplacementEstimator(rtol, atol, method, restart, relaxation)
    problem = FixedPointProblem(T, x)
    stats = {"backend": backend_.name}
    return run(solver, problem, x, maxiter=maxiter, callback=callback, throw=throw, stats=stats)


def feasibility(
    project_a: Callable[[Any], Any],
    project_b: Callable[[Any], Any],
    x0: ArrayLike,
    *,
    method: str = "douglas-rachford",
    accelerate: bool = True,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    maxiter: int | None = 100_000,
    callback: Callable[[SolveResult], None] | None = None,
    throw: bool = False,
    backend: str | None = None,
) -> SolveResult:
    r"""Find a point in the intersection of two closed convex sets, or prove there is none.

    Parameters
    ----------
    project_a, project_b : callable
        The Euclidean projections onto closed convex sets ``A`` and ``B``.
    x0 : array_like
        Starting point.
    method : {"douglas-rachford", "alternating"}
        ``"douglas-rachford"``: iterate ``T x = x - P_A x + P_B(2 P_A x - x)``, whose
        shadow ``P_A x`` converges to a point of ``A ∩ B``; when the sets are disjoint
        ``T`` has no fixed point and its infimal displacement vector is the gap
        ``a - b`` between nearest points (detected as in
        ``fixed_point(detect_infeasibility=True)``). ``"alternating"``: iterate
        ``P_A P_B``, which has fixed points either way (nearest points of ``A`` to ``B``).
    accelerate : bool
        Douglas–Rachford: Halpern's anchored iteration with adaptive restarts (whose
        displacement estimate is the accelerated one when the sets are disjoint) instead
        of the plain iteration. Alternating projections: Anderson acceleration (memory 5,
        safeguarded), safe there because ``P_A P_B`` always has fixed points; Halpern is
        stuck at ``O(1/k)`` on this map (measured: 6 to 17 times more iterations than
        plain alternating projections on box-versus-subspace problems).
    rtol, atol : float
        Stopping test of the fixed-point iteration, ``||x - T x|| <= max(rtol ||T x||,
        atol)``. For alternating projections, nearest points closer than
        ``10 max(rtol ||x||, atol)`` count as meeting.
    maxiter, callback, throw, backend
        As in :func:`itersolve.fixed_point` (the callback sees the fixed-point iteration;
        ``maxiter`` bounds it and, separately, the polishing of a gap).

    Returns
    -------
    SolveResult
        ``CONVERGED`` (``success``) only after the returned ``x`` was checked: its
        distances ``||x - P_A(x)||`` and ``||x - P_B(x)||`` (``stats["distance_to_a"]``,
        ``stats["distance_to_b"]``), computed with the given projections at ``x``, are at
        most ``10 max(rtol ||x||, atol)``, and both projections are idempotent there
        (``P(P(x)) = P(x)`` to that tolerance); a point that met the iteration's test but
        not the distances ends ``STAGNATED``. A map that fails the idempotence check
        is not a projection: the solve ends ``INVALID_INPUT`` with a message naming it
        (also when the nearest points of a gap fail it). ``INFEASIBLE``: the sets
        are disjoint; ``stats["gap"] = a - b`` for nearest points ``a`` of ``A`` and ``b`` of ``B``
        (``stats["points"]``), ``stats["distance"] = ||a - b||``, and ``x = a``. The gap is
        verified: ``a = P_A(b)`` and ``b = P_B(a)`` hold to ``stats["pair_residual"]``,
        which makes ``(a, b)`` a pair of nearest points of the two convex sets.

    Examples
    --------
    >>> import numpy as np
    >>> import itersolve
    >>> box = lambda x: np.clip(x, 0.0, 1.0)
    >>> ball = lambda x: x if np.linalg.norm(x - 3) <= 1 else 3 + (x - 3) / np.linalg.norm(x - 3)
    >>> result = itersolve.feasibility(box, ball, np.zeros(2))
    >>> result.status.name, np.round(result.stats["gap"], 6)
    ('INFEASIBLE', array([-1.292893, -1.292893]))
    """
    check_callable("project_a", project_a)
    check_callable("project_b", project_b)
    check_choice("method", method, ("douglas-rachford", "alternating"))
    if not isinstance(accelerate, bool):
        raise TypeError(f"`accelerate` must be True or False, got {type(accelerate).__name__}")
    # checked here, not only by `run`: the verification of the answer computes its tolerance
    # from rtol and atol, and `throw` applies to the verified answer (the fixed-point solve
    # underneath never throws: INFEASIBLE is an answer, not a failure)
    rtol, atol, maxiter = check_run_options(rtol, atol, maxiter, callback, throw)
    _, start = float_start(x0, backend)  # x0 is checked before any projection runs
    # the projections with their outputs checked (shape, dtype, library) and named in errors
    project_a = FixedPointProblem(project_a, start, name="project_a")
    project_b = FixedPointProblem(project_b, start, name="project_b")
    options = dict(rtol=rtol, atol=atol, maxiter=maxiter, callback=callback, backend=backend)
    if method == "douglas-rachford":

        def douglas_rachford(x):
            # fixed_point runs the map under the user's errstate; this arithmetic is
            # itersolve's own, and an overflow here ends the solve as NONFINITE.
            a = project_a(x)
            with np.errstate(all="ignore"):
                reflected = 2 * a - x
            b = project_b(reflected)
            with np.errstate(all="ignore"):
                return x - a + b

        iteration = (
            {"method": "halpern", "restart": "adaptive"} if accelerate else {"method": "iterate"}
        )
        solve = fixed_point(douglas_rachford, x0, detect_infeasibility=True, **iteration, **options)
        shadow = project_a(solve.x)
    else:
        iteration = {"method": "anderson", "m": 5} if accelerate else {"method": "iterate"}
        solve = fixed_point(lambda x: project_a(project_b(x)), x0, **iteration, **options)
        shadow = solve.x
    with np.errstate(all="ignore"):  # the verification's arithmetic, as in the solve
        result = conclude(solve, shadow, method, project_a, project_b, rtol, atol, maxiter, backend)
    # as in `run`: a callback's stop is the caller's decision, not a failure to raise
    if throw and not result.success and result.status != Status.CALLBACK:
        raise ConvergenceError(result)
    return result
