"""What a feasibility solve concludes: a verified point of A ∩ B, or a verified gap.

:func:`feasibility` runs a fixed-point iteration on the two projections; this module turns
its result into the answer, checked with the user's projections at the returned point:
distances to both sets and idempotence (a map that is not a projection is named), or, for
disjoint sets, nearest points ``a = P_A(b)``, ``b = P_B(a)`` found by polishing.
"""

from __future__ import annotations

import dataclasses

from .._fixed_point import fixed_point
from .._norms import scaled_norm
from .._result import SolveResult, Status

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
    stats = {
        **stats,
        "distance_to_a": _norm(x - project_a(x)),
        "distance_to_b": _norm(x - project_b(x)),
    }
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


def conclude(
    solve: SolveResult,
    shadow,
    method: str,
    project_a,
    project_b,
    rtol: float,
    atol: float,
    maxiter: int | None,
    backend: str | None,
) -> SolveResult:
    """The result: a point of both sets, or a verified gap, from the fixed-point solve.

    A converged Douglas–Rachford solve means the sets meet (its fixed points shadow into
    ``A ∩ B``); a converged alternating-projections solve gives nearest points, which
    meet or not according to their distance.
    """
    tolerance = 10 * max(rtol * _norm(shadow), atol)
    distance = _norm(shadow - project_b(shadow))
    stats = {**solve.stats, "distance_to_b": distance}
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
    stats = {
        **stats,
        "gap": gap,
        "distance": size,
        "points": (a, b),
        "pair_residual": pair_residual,
    }
    if not_projection:
        message = f"{not_projection}. {Status.INVALID_INPUT.advice}"
        return dataclasses.replace(
            solve, x=a, success=False, status=Status.INVALID_INPUT, message=message, stats=stats
        )
    verified = polish.success and size > tolerance and pair_residual <= 1e-6 * size
    stats = {**stats, "polish_iterations": polish.nit}
    if not verified:
        note = (
            f"the sets may be disjoint (gap {size:.3e}) but the nearest points did not verify "
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
