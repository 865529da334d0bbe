"""Picard and Jacobi sweeps over a sliding window of the trajectory (ParaDiGMS's rule).

A sweep evaluates the step on the window ``[b, e)`` in one batched call and rewrites
``X[b+1..e]`` in place:

* Jacobi: ``X[j+1] = g_j(X[j])`` (Song et al.; with a window shorter than the horizon
  this is their GS-Jacobi);
* Picard: ``X[j+1] = X[b] + sum_{i=b}^{j} (g_i(X[i]) - X[i])``, the prefix sum that
  ParaDiGMS calls the cumulative drift.

The states ``b+1, ..., b+a`` whose update met the tolerance form the accepted prefix. The
state just after it was computed from accepted inputs, so it is final as well and becomes
the new anchor: ``b <- min(b + 1 + a, e)``. The anchor moves by at least one state per
sweep, so every method here finishes within ``n_steps`` sweeps, whatever the step.
"""

from __future__ import annotations

import numpy as np

from .._backend import to_host
from ._base import ChainSolver

# Picard's prefix sum cannot reproduce the sequential loop bit for bit, so an update below
# this many units of rounding of the magnitudes it summed counts as no update.
ROUNDING_UNITS = 100


class WindowSolver(ChainSolver):
    """A sweep over the window ``[b, min(b + window, n_steps))`` with ParaDiGMS's advance."""

    def __init__(self, rtol, atol, tol_scale, start, *, window: int | None):
        super().__init__(rtol, atol, tol_scale, start)
        self.window = window

    def window_end(self, problem, begin):
        if self.window is None:
            return problem.n_steps
        return min(begin + self.window, problem.n_steps)

    def sweep(self, problem, X, state):
        begin, end = state.begin, state.end
        updates, accepted = self.update(problem, X, begin, end)
        # accepted states form a prefix; the first one outside it is final as well
        open_ = np.flatnonzero(~accepted)
        new_begin = min(begin + 1 + (open_[0] if open_.size else accepted.size), end)
        new_end = self.window_end(problem, new_begin)
        if self.start.fill_ahead and new_end > end:
            X[end + 1 : new_end + 1, ...] = X[end, ...]
        return updates, int(new_begin)


class Jacobi(WindowSolver):
    """``X[j+1] = g_j(X[j])`` for every ``j`` of the window at once."""

    name = "jacobi"

    def update(self, problem, X, begin, end):
        xp = problem.xp
        t = xp.arange(begin, end, dtype=xp.int64)
        new = problem(t, X[begin:end, ...])
        updates = problem.state_norms(new - X[begin + 1 : end + 1, ...])
        X[begin + 1 : end + 1, ...] = new
        return self.accept(problem, new, updates, begin + 1)


class Picard(WindowSolver):
    """``X[j+1] = X[b] + cumsum(g(X) - X)`` over the window: ParaDiGMS's Picard sweep.

    Besides the tolerance, an update below ``100 eps`` times the magnitude of the terms
    summed into that state (``||X[b]|| + sum ||drift||``) is accepted: summation order
    alone moves a state by that much, so asking for less would make every state wait
    for the window to pass it.
    """

    name = "picard"

    def update(self, problem, X, begin, end):
        xp = problem.xp
        t = xp.arange(begin, end, dtype=xp.int64)
        old = X[begin:end, ...]
        drift = problem(t, old) - old
        new = X[begin, ...] + xp.cumulative_sum(drift, axis=0)
        updates = problem.state_norms(new - X[begin + 1 : end + 1, ...])
        summed = float(to_host(problem.state_norms(X[begin : begin + 1, ...]))[0])
        summed = summed + np.cumsum(to_host(problem.state_norms(drift)))
        X[begin + 1 : end + 1, ...] = new
        floor = ROUNDING_UNITS * problem.eps * summed
        return self.accept(problem, new, updates, begin + 1, floor=floor)
