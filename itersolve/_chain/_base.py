"""What every chain method shares: the sweep state, the predictor sweeps, the handling of
non-finite states, the stopping test and the figures a solve reports.

A method's ``sweep(problem, X, state)`` rewrites part of the trajectory ``X`` in place and
returns the per-state updates, the new anchor and the first non-finite state; everything
else lives here. On NumPy with real states the methods skip that hand-over: one kernel
runs the update and this bookkeeping (``_kernels._advance``) and :meth:`ChainSolver.record`
keeps its scalars, so a sweep does no NumPy pass of its own. The anchor ``b`` is the last
state known to be final (states ``0..b`` are), and the solve has converged when ``b``
reaches ``n_steps``.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import array_api_compat
import numpy as np

from .._backend import to_host
from .._driver import Solver
from .._result import Status
from ._start import ChainStart


@functools.cache
def kernels():
    """The Numba kernels, imported on first use (``import itersolve`` imports no Numba)."""
    from . import _kernels

    return _kernels


@dataclasses.dataclass
class SweepState:
    """What a chain solver carries between sweeps.

    ``begin`` is the anchor ``b``; ``end`` the end of the current window; ``residual`` the
    largest update ``||X_new[j] - X_old[j]||_2`` of the last sweep among the states still
    not final (0 before the first sweep and once all are final; NaN when a state became
    non-finite); ``max_update`` the largest update of each sweep, final states included;
    ``trace`` one ``(begin, end, advanced)`` row per sweep; ``final_sweep[j]`` the sweep
    after which state ``j`` was accepted as final (-1 while it is not).
    """

    begin: int
    end: int
    residual: float
    sweeps: int
    predictor_left: int
    trace: list
    final_sweep: np.ndarray
    max_update: list = dataclasses.field(default_factory=list)
    note: str = ""
    reset_states: int = 0
    predictor_calls: int = 0
    rows: object = None  # the trajectory as the kernels' 2-D view (kernel path only)


class ChainSolver(Solver):
    """Base of the chain methods.

    State ``j`` is accepted when ``||X_new[j] - X_old[j]||_2 <= max(rtol * ||X_new[j]||_2,
    atol * tol_scale[j])``; ``tol_scale`` is a host array of ``n_steps + 1`` scales.
    """

    def __init__(self, rtol: float, atol: float, tol_scale, start: ChainStart):
        self.rtol = rtol
        self.atol = atol
        self.tol_scale = tol_scale
        self.start = start

    def window_end(self, problem, begin: int) -> int:
        return problem.n_steps

    def init(self, problem, X):
        final_sweep = np.full(problem.n_steps + 1, -1, dtype=np.int64)
        final_sweep[0] = 0
        return SweepState(
            begin=0,
            end=self.window_end(problem, 0),
            residual=0.0,
            sweeps=0,
            predictor_left=self.start.predictor_sweeps,
            trace=[],
            final_sweep=final_sweep,
        )

    def sweep(self, problem, X, state):
        """Rewrite part of ``X``; return ``(updates, new_begin, first_nonfinite)``.

        ``updates`` (host) are the update norms of the states ``begin + 1, ...`` that the
        sweep rewrote and ``first_nonfinite`` the index among them of the first NaN or Inf
        state (``len(updates)`` when none).
        """
        raise NotImplementedError

    def step(self, problem, X, state):
        state.sweeps += 1
        if state.predictor_left > 0:
            state.residual = self.start.predict(problem, X, state.begin)
            if not math.isfinite(state.residual):
                state.note = "`predictor` returned a guess holding NaN or Inf"
            state.max_update.append(state.residual)
            state.predictor_left -= 1
            state.predictor_calls += 1
            state.trace.append((state.begin, problem.n_steps, 0))
            return X, state
        begin, end = state.begin, state.end
        updates, new_begin, first_nonfinite = self.sweep(problem, X, state)
        state.max_update.append(float(np.max(updates)) if updates.size else 0.0)
        if first_nonfinite < new_begin - begin:
            # a state computed from final inputs is NaN or Inf: the chain itself blows up
            state.residual = math.nan
            state.note = (
                f"state {begin + 1 + first_nonfinite} is NaN or Inf although its input was "
                "final: the sequential chain itself overflows there"
            )
            new_begin = begin + first_nonfinite  # the states before it are final and finite
        else:
            still_open = updates[new_begin - begin :]
            still_open = still_open[np.isfinite(still_open)]
            state.residual = float(np.max(still_open)) if still_open.size else 0.0
            if first_nonfinite < updates.size:
                state.reset_states += self.reset(problem, X, new_begin, begin + updates.size)
        state.final_sweep[begin + 1 : new_begin + 1] = state.sweeps
        state.trace.append((begin, end, new_begin - begin))
        state.begin = new_begin
        state.end = self.window_end(problem, new_begin)
        return X, state

    def record(self, state, begin: int, end: int, outcome) -> None:
        """Take over the outcome of a whole-sweep kernel (``_kernels._advance``): the same
        figures :meth:`step` computes from the updates of a sweep, as scalars."""
        new_begin, new_end, largest, residual, nonfinite, resets = outcome
        state.max_update.append(largest)
        state.residual = residual
        if nonfinite >= 0:
            state.note = (
                f"state {begin + 1 + nonfinite} is NaN or Inf although its input was "
                "final: the sequential chain itself overflows there"
            )
        state.reset_states += resets
        state.trace.append((begin, end, new_begin - begin))
        state.begin, state.end = new_begin, new_end

    def reset(self, problem, X, anchor: int, end: int) -> int:
        """Restart the non-finite states in ``X[anchor+1 : end+1]`` from the anchor.

        States not yet final can overflow (Picard extrapolating a stiff or chaotic chain
        over a long window) while the final ones are sound; starting them again from the
        last final state keeps the sweeps going. Returns how many were reset.
        """
        xp = problem.xp
        region = X[anchor + 1 : end + 1, ...]
        flat = xp.reshape(region, (region.shape[0], problem.size))
        finite = xp.all(xp.isfinite(flat), axis=1)
        finite = xp.reshape(finite, (region.shape[0],) + (1,) * len(problem.state_shape))
        X[anchor + 1 : end + 1, ...] = xp.where(finite, region, X[anchor, ...])
        return int(to_host(xp.sum(xp.astype(~finite, xp.int64))))

    def terminate(self, problem, X, state):
        if state.begin >= problem.n_steps:
            return True, Status.CONVERGED
        return False, Status.IN_PROGRESS

    def snapshot(self, X):
        return array_api_compat.array_namespace(X).asarray(X, copy=True)

    def note(self, state):
        return state.note

    def postprocess(self, problem, X, state):
        return X, {
            "window_trace": np.asarray(state.trace, dtype=np.int64).reshape(-1, 3),
            "final_sweep": state.final_sweep,
            "max_update": np.asarray(state.max_update, dtype=np.float64),
            "converged_steps": state.begin,
            "calls": problem.calls,
            "predictor_calls": state.predictor_calls,
            "reset_states": state.reset_states,
        }
