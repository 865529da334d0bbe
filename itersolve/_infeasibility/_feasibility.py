"""``feasibility``: a point of A ∩ B from the two projections, or the gap between A and B."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from .._fixed_point._map import check_map_output, float_start
from .._norms import scaled_norm
from .._result import SolveResult, Status
from .._validation import check_callable, check_choice, check_tolerances


def feasibility(
    project_a: Callable[[Any], Any],
    project_b: Callable[[Any], Any],
    x0,
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
    from .._fixed_point import fixed_point

    check_callable("project_a", project_a)
    check_callable("project_b", project_b)
    check_choice("method", method, ("douglas-rachford", "alternating"))
    if not isinstance(accelerate, bool):
        raise TypeError(f"`accelerate` must be True or False, got {type(accelerate).__name__}")
    rtol, atol, maxiter = check_tolerances(rtol, atol, maxiter)
    _, start = float_start(x0, backend)  # x0 is checked before any projection runs
    project_a = _checked(project_a, "project_a", start)
    project_b = _checked(project_b, "project_b", start)
    iteration = (
        {"method": "halpern", "restart": "adaptive"} if accelerate else {"method": "iterate"}
    )
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

        if accelerate:
            iteration = {"method": "halpern", "restart": "adaptive"}
        solve = fixed_point(douglas_rachford, x0, detect_infeasibility=True, **iteration, **options)
        shadow = project_a(solve.x)
    else:
        if accelerate:
            iteration = {"method": "anderson", "m": 5}
        solve = fixed_point(lambda x: project_a(project_b(x)), x0, **iteration, **options)
        shadow = solve.x
    with np.errstate(all="ignore"):
        result = _conclude(
            solve, shadow, method, project_a, project_b, rtol, atol, maxiter, backend
        )
    if throw and not result.success:
        from .._result import ConvergenceError

        raise ConvergenceError(result)
    return result


def _checked(project, name, start):
    """``project`` with its output checked (shape, dtype, library) and named in errors."""
    import array_api_compat

    xp = array_api_compat.array_namespace(start)
    user_errstate = np.geterr()  # the projections run under the caller's settings

    def checked(x):
        with np.errstate(**user_errstate):
            y = project(x)
        # An output of the iterate's type, shape and dtype passes with that O(1) test (its
        # values are the residual's business); anything else gets the full, named check.
        if type(y) is type(x) and y.shape == x.shape and y.dtype == x.dtype:
            return y
        return check_map_output(name, y, xp=xp, shape=tuple(x.shape), dtype=x.dtype)

    return checked


_norm = scaled_norm


def _not_projection(name, project, point, tolerance):
    """Why ``project`` is not a projection at ``point`` (idempotence), or ``""``."""
    image = project(point)
    slip = _norm(project(image) - image)
    if not slip <= tolerance:
        return (
            f"`{name}` is not a projection: applied twice at the returned point it moved "
            f"by {slip:.3e} (a projection is idempotent, P(P(x)) = P(x))"
        )
    return ""


def _verify_point(solve, x, project_a, project_b, tolerance, stats):
    """``solve`` as a success only if ``x`` is, by the user's projections, in both sets."""
    stats["distance_to_a"] = _norm(x - project_a(x))
    stats["distance_to_b"] = _norm(x - project_b(x))
    problems = [
        note
        for note in (
            _not_projection("project_a", project_a, x, tolerance),
            _not_projection("project_b", project_b, x, tolerance),
        )
        if note
    ]
    if problems:
        message = f"{'; '.join(problems)}. {Status.INVALID_INPUT.advice}"
        return dataclasses.replace(
            solve, x=x, success=False, status=Status.INVALID_INPUT, message=message, stats=stats
        )
    far = max(stats["distance_to_a"], stats["distance_to_b"])
    if not far <= tolerance:
        message = (
            f"The iteration met its tolerance, but the returned point is {far:.3e} from "
            f"one of the sets (more than {tolerance:.3e}). {Status.STAGNATED.advice}"
        )
        return dataclasses.replace(
            solve, x=x, success=False, status=Status.STAGNATED, message=message, stats=stats
        )
    return dataclasses.replace(solve, x=x, stats=stats)


def _conclude(solve, shadow, method, project_a, project_b, rtol, atol, maxiter, backend):
    """The result: a point of both sets, or a verified gap, from the fixed-point solve.

    A converged Douglas–Rachford solve means the sets meet (its fixed points shadow into
    ``A ∩ B``); a converged alternating-projections solve gives nearest points, which
    meet or not according to their distance.
    """
    from .._fixed_point import fixed_point

    stats = dict(solve.stats)
    tolerance = 10 * max(rtol * _norm(shadow), atol)
    distance = _norm(shadow - project_b(shadow))
    stats["distance_to_b"] = distance
    converged = solve.status == Status.CONVERGED
    if converged and (method == "douglas-rachford" or distance <= tolerance):
        return _verify_point(solve, shadow, project_a, project_b, tolerance, stats)
    if not converged and solve.status != Status.INFEASIBLE:
        return dataclasses.replace(solve, x=shadow, stats=stats)
    # Disjoint (or a converged shadow outside B): nearest points by alternating
    # projections from the shadow, then the pair conditions a = P_A(b), b = P_B(a).
    polish = fixed_point(
        lambda x: project_a(project_b(x)),
        shadow,
        method="anderson",
        m=5,
        rtol=rtol,
        atol=atol,
        maxiter=maxiter,
        backend=backend,
    )
    a = polish.x
    b = project_b(a)
    gap = a - b
    pair_residual = max(_norm(project_a(b) - a), polish.residuals[-1])
    size = _norm(gap)
    not_projection = _not_projection("project_a", project_a, a, tolerance) or _not_projection(
        "project_b", project_b, b, tolerance
    )
    if not_projection:
        stats.update(gap=gap, distance=size, points=(a, b), pair_residual=pair_residual)
        message = f"{not_projection}. {Status.INVALID_INPUT.advice}"
        return dataclasses.replace(
            solve, x=a, success=False, status=Status.INVALID_INPUT, message=message, stats=stats
        )
    verified = polish.success and size > tolerance and pair_residual <= max(1e-6 * size, tolerance)
    stats.update(
        gap=gap,
        distance=size,
        points=(a, b),
        pair_residual=pair_residual,
        polish_iterations=polish.nit,
    )
    if not verified:
        note = (
            f"the sets look disjoint (gap {size:.3e}) but the nearest points did not verify "
            f"(pair residual {pair_residual:.3e}); raise maxiter or loosen rtol"
        )
        return dataclasses.replace(
            solve, x=a, success=False, status=Status.MAXITER, message=note, stats=stats
        )
    message = (
        f"The sets are disjoint: distance {size:.6e}, gap a - b in stats['gap'] (nearest "
        f"points verified to {pair_residual:.1e}). {Status.INFEASIBLE.advice}"
    )
    return dataclasses.replace(
        solve, x=a, success=False, status=Status.INFEASIBLE, message=message, stats=stats
    )
