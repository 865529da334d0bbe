"""``find_roots`` with ``workers`` or ``vectorized``: all starting guesses solve at once, in rounds.

The serial search runs one deflated solve after another, each deflating every root found
so far, so each solve waits for the last. With workers the search runs in rounds: every
guess still in play runs one deflated solve with the roots known at the start of the
round deflated, all in parallel; then, in the order of the guesses, each new root is
added. A guess is done when its solve fails or returns a root it had deflated (deflation
defeated); one whose root another guess found first in the same round stays in play and
solves again with it deflated. The roots, their order and every attempt depend only on
the guesses, never on how many workers ran them: ``workers=map`` is the same search,
serially. It is scipy's ``differential_evolution`` with ``workers``, which switches to
the deferred update for the same reason.
"""

from __future__ import annotations

import numpy as np

from .._backend import resolve
from .._driver import run
from .._workers import map_tasks
from ._jacobian import norm
from ._solve import newton_parts


def search_in_rounds(solve_round, starts, deflation, limit, distinct_tol, bezout):
    """``(roots, results, attempts, totals, complete)`` of the round-based search (module
    docstring); ``complete``: ``bezout`` (a :class:`._bezout.BezoutStop`) ended it.

    ``solve_round(starts)`` runs one deflated solve from each of ``starts`` with
    ``deflation``'s roots deflated and returns ``[(result, njev, nsolve), ...]`` in order
    (:func:`in_workers`, or one batch: :func:`._roots_batched.batched_solves`);
    ``deflation`` gains the roots after each round.
    """
    roots, results, attempts = [], [], []
    totals = {"nit": 0, "nfev": 0, "jacobian_evaluations": 0, "linear_solves": 0}
    active = list(range(len(starts)))
    complete = False
    while active and len(roots) < limit and not complete:
        known = len(roots)
        outcomes = solve_round([starts[i] for i in active])
        still_active = []
        for index, (result, njev, nsolve) in zip(active, outcomes, strict=True):
            attempts.append(result)
            totals["nit"] += result.nit
            totals["nfev"] += result.nfev
            totals["jacobian_evaluations"] += njev
            totals["linear_solves"] += nsolve
            if not result.success or _is_known(result.x, roots[:known], distinct_tol):
                continue  # nothing new from this guess with the known roots deflated
            still_active.append(index)
            if len(roots) < limit and not _is_known(result.x, roots[known:], distinct_tol):
                roots.append(result.x)
                results.append(result)
        for root in roots[known:]:
            deflation.add(root)
        active = still_active
        complete = len(roots) > known and bezout.reached(roots)
    return roots, results, attempts, totals, complete


def _is_known(x, roots, distinct_tol) -> bool:
    return any(norm(x - r) <= distinct_tol * max(1.0, norm(r)) for r in roots)


def in_workers(F, jacobian, deflation, options, workers):
    """``solve_round`` for :func:`search_in_rounds`: the solves spread over ``workers``."""

    def solve_round(starts):
        return map_tasks(_deflated_solve, starts, workers, F, jacobian, deflation, options)

    return solve_round


def _deflated_solve(start, F, jacobian, deflation, options):
    """One deflated Newton solve on the host: ``(result, njev, nsolve)``."""
    rtol, atol, linesearch, maxiter = options
    backend = resolve("numpy")
    solver, problem, x = newton_parts(
        F, jacobian, np.array(start, copy=True), None, backend, rtol, atol, linesearch, deflation
    )
    result = run(solver, problem, x, maxiter=maxiter, stats={"backend": backend.name})
    return result, problem.njev, problem.nsolve
