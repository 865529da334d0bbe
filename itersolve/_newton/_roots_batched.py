"""One round of the deflated search with every starting guess in one batch.

``find_roots(..., vectorized=True)`` runs the round-based search of :mod:`._roots_rounds`
with each round's deflated solves as the rows of one :class:`itersolve.gpu._newton.
BatchedNewton` iteration (the array-API mirror, on NumPy or a GPU): one call of ``F`` and
of the Jacobian on all rows, one stacked solve, per iteration, instead of a Python loop
over the guesses. Each row is an ordinary deflated Newton solve (the same test, stops and
words), reported as its own :class:`~itersolve.SolveResult`.
"""

from __future__ import annotations

import types

import numpy as np

from .._driver import _message
from .._result import SolveResult, Status, observed_rate
from ._newton import newton_stats
from ._polynomial import PolynomialSystem

IN_PROGRESS = int(Status.IN_PROGRESS)


def rows_functions(F, jacobian):
    """``(F, jacobian)`` on rows ``(B, n)``. A :class:`PolynomialSystem` is evaluated row
    by row (its functions take one point); a user's ``F`` is vectorized already."""
    if not isinstance(F, PolynomialSystem):
        return F, jacobian

    def values(X):
        return np.stack([F(x) for x in X])

    def jacobians(X):
        return np.stack([F.jacobian(x) for x in X])

    return values, jacobians if jacobian == F.jacobian else jacobian


def batched_solves(F, jacobian, starts, deflation, options, backend):
    """Deflated Newton from every row of ``starts``: ``[(result, njev, nsolve), ...]``.

    ``options`` is ``(rtol, atol, linesearch, maxiter)`` with an integer ``maxiter``.
    """
    from itersolve.gpu._newton import BatchedNewton, RowsProblem  # the mirror, on first use

    rtol, atol, linesearch, maxiter = options
    xp = backend.xp
    X = xp.asarray(np.stack(starts))
    problem = RowsProblem(F, jacobian, X, one_vector=False)
    solver = BatchedNewton(rtol, atol, linesearch=linesearch, deflation=deflation)
    with np.errstate(all="ignore"):  # overflow ends a row with NONFINITE, not a warning
        state = solver.init(problem, X)
        history, iterations = [state.residuals], 0
        while not solver.terminate(problem, X, state)[0]:
            if iterations == maxiter:
                state.status[state.status == IN_PROGRESS] = int(Status.MAXITER)
                break
            X, state = solver.step(problem, X, state)
            history.append(state.residuals)
            iterations += 1
    history = np.stack(history)
    outcomes = []
    for b in range(X.shape[0]):
        nit = int(state.nit[b])
        residuals = history[: nit + 1, b].copy()
        status = Status(int(state.status[b]))
        steps = [norms[b] for moved, norms in state.moves if moved[b]]
        taus = [tau[b] for computed, tau in state.taus if computed[b]]
        # the row's share of the batch's work: one Jacobian and one solve per step, and F
        # at the start, at each step and at each halving of its line search
        counts = types.SimpleNamespace(njev=nit, nsolve=nit)
        stats = newton_stats(counts, steps, state.backtracks[b], taus, deflation)
        result = SolveResult(
            x=xp.asarray(X[b, ...], copy=True),
            success=status == Status.CONVERGED,
            status=status,
            message=_message(status, nit, float(residuals[-1]), state.notes[b]),
            nit=nit,
            nfev=1 + nit + int(state.backtracks[b]),
            residuals=residuals,
            rate=observed_rate(residuals),
            stats={"backend": backend.name, "batch_rows": X.shape[0], **stats},
        )
        outcomes.append((result, nit, nit))
    return outcomes
