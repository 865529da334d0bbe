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

On NumPy with real states a sweep is the step and one Numba kernel (:mod:`._kernels`) that
rewrites the window and advances it (:meth:`WindowSolver.step`); elsewhere the update runs
as array-API code (:mod:`itersolve.gpu._chain`) and :meth:`ChainSolver.step` advances the
window. Both do the same arithmetic (the kernels sum the norms of the test in float64).
"""

from __future__ import annotations

import numpy as np

from itersolve.gpu import _chain as generic

from ._base import ChainSolver
from ._base import kernels as _kernels

_arange, _int64 = np.arange, np.int64  # the kernel path's step indices (NumPy only)

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
        (G,) = inputs
        return (G if G.ndim == 2 else G.reshape(G.shape[0], problem.size),)

    def init(self, problem, X):
        state = super().init(problem, X)
        if self.kernels:
            # what every fused sweep passes unchanged, looked up once
            self.fused = (self.sweep_kernel(), self.options(problem))
            self.span = (
                problem.n_steps if self.window is None else min(self.window, problem.n_steps)
            )
            state.rows = X.reshape(X.shape[0], problem.size)  # the 2-D view the kernels take
        return state

    def step(self, problem, X, state):
        """One sweep; on the kernel path everything but the user's step runs compiled."""
        if not self.kernels or state.predictor_left > 0:
            return super().step(problem, X, state)
        state.sweeps += 1
        begin, end = state.begin, state.end
        inputs = self.evaluate(problem, _arange(begin, end, dtype=_int64), X[begin:end])
        kernel, options = self.fused
        outcome = kernel(
            state.rows,
            begin,
            end,
            *self.flatten(problem, inputs),
            *options,
            state.final_sweep,
            state.sweeps,
            self.span,
            self.start.fill_ahead,
        )
        self.record(state, begin, end, outcome)
        return X, state

    def sweep(self, problem, X, state):
        """The sweep as :meth:`ChainSolver.step` drives it: the generic path, and the kernel
        path before :meth:`step` took its bookkeeping over (kept as the tests' reference)."""
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


class Jacobi(WindowSolver):
    """``X[j+1] = g_j(X[j])`` for every ``j`` of the window at once."""

    generic = staticmethod(generic.jacobi_window)

    def kernel(self):
        return _kernels().jacobi_window

    def sweep_kernel(self):
        return _kernels().jacobi_sweep

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

    def sweep_kernel(self):
        return _kernels().picard_sweep

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
        return problem.step_and_jacobian(t, window, diagonal=self.diagonal)

    def flatten(self, problem, inputs):
        G, J = inputs
        m = G.shape[0]
        J = J.reshape(m, problem.size) if self.diagonal else J
        return G.reshape(m, problem.size), J

    def kernel(self):
        kernels = _kernels()
        return kernels.quasi_newton_window if self.diagonal else kernels.newton_window

    def sweep_kernel(self):
        kernels = _kernels()
        return kernels.quasi_newton_sweep if self.diagonal else kernels.newton_sweep

    def generic(self, *args):
        return generic.newton_window(*args, diagonal=self.diagonal)

    def options(self, problem):
        # the scan rounds like the step itself, relative to the state: a floor on rtol
        return max(self.rtol, ROUNDING_UNITS * problem.eps), self.atol, self.tol_scale

    def postprocess(self, problem, X, state):
        X, stats = super().postprocess(problem, X, state)
        return X, {**stats, "njev": problem.njev}  # Jacobian rows evaluated
