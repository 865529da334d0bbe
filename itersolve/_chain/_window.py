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

On NumPy with real states the update runs as a Numba kernel (:mod:`._kernels`), elsewhere
as array-API code (:mod:`itersolve.gpu._chain`); both do the same arithmetic.
"""

from __future__ import annotations

import functools

from itersolve.gpu import _chain as generic

from ._base import ChainSolver

# Picard's prefix sum cannot reproduce the sequential loop bit for bit, so an update below
# this many units of rounding of the magnitudes summed into a state counts as no update.
ROUNDING_UNITS = 100


class WindowSolver(ChainSolver):
    """A sweep over the window ``[b, min(b + window, n_steps))`` with ParaDiGMS's advance."""

    def __init__(self, rtol, atol, tol_scale, start, *, window: int | None, kernels: bool):
        super().__init__(rtol, atol, tol_scale, start)
        self.window = window
        self.kernels = kernels

    def window_end(self, problem, begin):
        if self.window is None:
            return problem.n_steps
        return min(begin + self.window, problem.n_steps)

    def evaluate(self, problem, t, window):
        """What the update needs from the window: the step's outputs (and Jacobians)."""
        return (problem(t, window),)

    def flatten(self, problem, inputs):
        """The inputs as the kernels take them: one row of ``size`` entries per state."""
        return [a.reshape(a.shape[0], problem.size) for a in inputs]

    def sweep(self, problem, X, state):
        xp, begin, end = problem.xp, state.begin, state.end
        t = xp.arange(begin, end, dtype=xp.int64)
        inputs = self.evaluate(problem, t, X[begin:end, ...])
        if self.kernels:  # NumPy, real states: the fused Numba pass on 2-D views
            updates, first_open, first_nonfinite = self.kernel()(
                X.reshape(X.shape[0], problem.size),
                begin,
                end,
                *self.flatten(problem, inputs),
                *self.options(problem),
            )
        else:
            updates, first_open, first_nonfinite = self.generic(
                xp, X, begin, end, *inputs, *self.options(problem)
            )
        # the first state outside the accepted prefix is final as well
        new_begin = min(begin + 1 + int(first_open), end)
        new_end = self.window_end(problem, new_begin)
        if self.start.fill_ahead and new_end > end:
            X[end + 1 : new_end + 1, ...] = X[end, ...]
        return updates, new_begin, int(first_nonfinite)


@functools.cache
def _kernels():
    from . import _kernels

    return _kernels


class Jacobi(WindowSolver):
    """``X[j+1] = g_j(X[j])`` for every ``j`` of the window at once."""

    generic = staticmethod(generic.jacobi_window)

    def kernel(self):
        return _kernels().jacobi_window

    def options(self, problem):
        return self.rtol, self.atol, self.tol_scale


class Picard(WindowSolver):
    """``X[j+1] = X[b] + cumsum(g(X) - X)`` over the window: ParaDiGMS's Picard sweep.

    Besides the tolerance, an update below ``100 eps`` times the magnitude of the terms
    summed into that state (``||X[b]|| + sum ||drift||``) is accepted: summation order
    alone moves a state by that much, so asking for less would make every state wait
    for the window to pass it.
    """

    generic = staticmethod(generic.picard_window)

    def kernel(self):
        return _kernels().picard_window

    def options(self, problem):
        return self.rtol, self.atol, self.tol_scale, ROUNDING_UNITS * problem.eps


class Newton(WindowSolver):
    """DEER (``diagonal=False``) or quasi-DEER (``diagonal=True``):
    ``X[j+1] = g_j(X_old[j]) + J_j (X_new[j] - X_old[j])`` with ``J_j`` the step's Jacobian
    at ``X_old[j]`` (or its diagonal), an affine recursion in the new states.

    Full Jacobians converge quadratically near the solution and in one sweep on a linear
    chain; the diagonal costs ``O(size)`` per state instead of ``O(size^2)`` and converges
    linearly. Finite termination holds as for every ``Ã``.
    """

    def __init__(self, rtol, atol, tol_scale, start, *, window, kernels, diagonal: bool):
        super().__init__(rtol, atol, tol_scale, start, window=window, kernels=kernels)
        self.diagonal = diagonal

    def evaluate(self, problem, t, window):
        return problem(t, window), problem.jacobian(t, window, diagonal=self.diagonal)

    def flatten(self, problem, inputs):
        G, J = inputs
        m = G.shape[0]
        J = J.reshape(m, problem.size) if self.diagonal else J
        return G.reshape(m, problem.size), J

    def kernel(self):
        kernels = _kernels()
        return kernels.quasi_newton_window if self.diagonal else kernels.newton_window

    def generic(self, *args):
        return generic.newton_window(*args, diagonal=self.diagonal)

    def options(self, problem):
        # the scan rounds like the step itself, relative to the state: a floor on rtol
        return max(self.rtol, ROUNDING_UNITS * problem.eps), self.atol, self.tol_scale

    def postprocess(self, problem, X, state):
        X, stats = super().postprocess(problem, X, state)
        return X, {**stats, "njev": problem.njev}  # Jacobian rows evaluated
