"""The Newton solver object: plain or deflated steps, optional Armijo backtracking.

The rules and the words of its stops (the notes that go into the message) are shared with
the array-API mirror, :mod:`itersolve.gpu._newton`, which runs the same iteration on rows.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .._driver import Solver
from .._result import Status
from ._deflation import ShiftedDeflation
from ._jacobian import NewtonProblem, SingularJacobianError, norm

ARMIJO_C = 1e-4  # sufficient-decrease constant (Nocedal & Wright's usual choice)
MIN_STEP = 2.0**-30  # backtracking gives up below this fraction of the Newton step
# Divergence: over the last DIVERGENCE_WINDOW steps both ||x|| and ||F(x)|| rose at every
# step and ||x|| grew by DIVERGENCE_GROWTH overall. Converging Newton never does this: near
# a root (simple or multiple) ||F|| falls, and an overshoot is one step, not ten in a row.
DIVERGENCE_WINDOW = 10
DIVERGENCE_GROWTH = 100.0


def singular_note(k: int, why: str) -> str:
    return f"singular Jacobian at iteration {k} ({why})"


def tau_note(k: int, tau: float) -> str:
    return f"the deflated Jacobian is singular at iteration {k} (tau = {float(tau)})"


def line_search_note(k: int) -> str:
    return f"the line search found no decrease of the merit at iteration {k}"


def stuck_note(step_norm: float, residual: float, tolerance: float) -> str:
    return (
        f"stuck: the last step ({step_norm:.2e}) was below rtol * ||x|| and did "
        f"not reduce ||F|| = {residual:.3e}, which is above the tolerance "
        f"max(atol, rtol ||F(x0)||) = {tolerance:.3e}"
        " (the rounding floor of F is above it, or there is no root here)"
    )


def diverging_note(recent) -> str:
    """``recent``: the last ``DIVERGENCE_WINDOW + 1`` pairs ``(||x_k||, ||F(x_k)||)``."""
    (x_from, f_from), (x_to, f_to) = recent[0], recent[-1]
    return (
        f"diverging: over the last {DIVERGENCE_WINDOW} steps ||x|| grew from "
        f"{x_from:.3e} to {x_to:.3e} and ||F(x)|| from {f_from:.3e} to {f_to:.3e}, "
        "rising at every step"
    )


def deflated_root_note(i: int, distance: float) -> str:
    return f"the iterate converged to the deflated root {i} (distance {distance:.2e})"


def newton_stats(problem, step_norms, backtracks: int, taus, deflation) -> dict:
    """The ``stats`` of a Newton solve (see :func:`itersolve.newton`)."""
    steps = np.array(step_norms, dtype=np.float64)
    with np.errstate(all="ignore"):
        ratios = steps[1:] / steps[:-1] if steps.size > 1 else np.empty(0)
    stats = {
        "jacobian_evaluations": problem.njev,
        "linear_solves": problem.nsolve,
        "step_norms": steps,
        "step_ratios": ratios,
        "backtracks": int(backtracks),
    }
    if deflation is not None:
        stats["taus"] = np.array(taus, dtype=np.float64)
        stats["deflated_roots"] = len(deflation)
    return stats


@dataclasses.dataclass
class NewtonState:
    Fx: Any
    residual: float  # ||F(x)||_2, the undeflated residual
    xnorm: float
    residual0: float  # ||F(x_0)||_2: rtol is relative to it
    nit: int = 0
    previous_residual: float = math.inf
    step_norm: float = math.nan  # ||x_k - x_{k-1}|| of the last step
    stop: Status | None = None  # a stop decided in `step` (singular Jacobian, line search)
    note: str = ""
    step_norms: list = dataclasses.field(default_factory=list)
    # the last DIVERGENCE_WINDOW + 1 pairs (||x_k||, ||F(x_k)||)
    recent: list = dataclasses.field(default_factory=list)
    taus: list = dataclasses.field(default_factory=list)
    backtracks: int = 0


@dataclasses.dataclass(frozen=True)
class Newton(Solver):
    """Newton's method ``x <- x + t tau delta``, ``delta = -J(x)^{-1} F(x)``.

    ``deflation`` (a :class:`ShiftedDeflation`) turns it into Newton on ``G = eta F`` with
    the Sherman–Morrison factor ``tau``; otherwise ``tau = 1``. ``linesearch="armijo"``
    backtracks ``t = 1, 1/2, ...`` until ``||M(x + t s)||^2 <= (1 - 2 c t) ||M(x)||^2``
    with ``M = F`` (plain) or ``M = G`` (deflated), ``c = 1e-4``.

    Stopping test (on the undeflated residual ``||F||_2``, scaled norms): converged when
    ``||F(x_k)|| <= atol``, or when ``||F(x_k)|| <= rtol ||F(x_0)||`` at the rounding floor:
    the last step was small, ``||x_k - x_{k-1}|| <= rtol ||x_k||``. The residual test is
    what success means; the step test only keeps a relative residual from stopping a
    solve far from a root (``x0 = 1e150`` for ``x^2 - 2``). Stops without success: steps
    below ``rtol ||x_k||`` that no longer reduce ``||F||`` while it is above the tolerance
    (``STAGNATED``, "stuck"), and divergence, ``||x||`` and ``||F||`` rising together for
    :data:`DIVERGENCE_WINDOW` steps (``STAGNATED``, "diverging").
    """

    rtol: float
    atol: float
    linesearch: str | None = None
    deflation: ShiftedDeflation | None = None

    def _evaluate(self, problem: NewtonProblem, x) -> tuple[Any, float]:
        if not np.isfinite(x).all():
            # Do not call F on an overflowed iterate: the solve ends with NONFINITE.
            return problem.nonfinite(), math.nan
        Fx = problem(x)
        return Fx, norm(Fx)

    def init(self, problem, x0):
        Fx, residual = self._evaluate(problem, x0)
        xnorm = norm(x0)
        return NewtonState(
            Fx=Fx, residual=residual, xnorm=xnorm, residual0=residual, recent=[(xnorm, residual)]
        )

    def _merit(self, x, residual) -> float:
        if self.deflation is None or not len(self.deflation):
            return residual
        return self.deflation.eta(x) * residual  # Python floats: inf * 0 is NaN, no error

    def step(self, problem, x, state):
        k = state.nit + 1
        try:
            J = problem.jacobian(x, state.Fx)
            delta = -problem.solve(J, state.Fx)
        except SingularJacobianError as exc:
            note = singular_note(k, str(exc))
            return x, dataclasses.replace(state, stop=Status.STAGNATED, note=note)
        tau = 1.0
        if self.deflation is not None and len(self.deflation):
            tau = self.deflation.tau(x, delta)
            if not math.isfinite(tau):
                note = tau_note(k, tau)
                return x, dataclasses.replace(state, stop=Status.STAGNATED, note=note)
            state.taus.append(tau)
        direction = tau * delta
        t, backtracks = 1.0, 0
        merit = self._merit(x, state.residual) if self.linesearch else None
        while True:
            y = x + t * direction  # may overflow: run works under np.errstate(all="ignore")
            Fy, residual = self._evaluate(problem, y)
            if self.linesearch is None:
                break
            trial = self._merit(y, residual)
            # Compared as norms, not squares: Python floats raise on overflow.
            if math.isfinite(trial) and trial <= math.sqrt(1 - 2 * ARMIJO_C * t) * merit:
                break
            if t / 2 < MIN_STEP:
                note = line_search_note(k)
                return x, dataclasses.replace(state, stop=Status.STAGNATED, note=note)
            t, backtracks = t / 2, backtracks + 1
        # the state is the solver's own (never handed out), so it is updated in place
        state.step_norm = step_norm = norm(y - x)
        state.step_norms.append(step_norm)
        state.xnorm = norm(y)
        state.recent.append((state.xnorm, residual))
        if len(state.recent) > DIVERGENCE_WINDOW + 1:
            del state.recent[0]
        state.previous_residual, state.residual, state.Fx = state.residual, residual, Fy
        state.nit, state.backtracks = k, state.backtracks + backtracks
        return y, state

    def tolerance(self, state) -> float:
        """The residual a success must reach: ``atol``, or ``rtol ||F(x_0)||`` after a
        small step (the rounding floor of ``F``)."""
        small_step = state.step_norm <= self.rtol * state.xnorm
        return max(self.atol, self.rtol * state.residual0) if small_step else self.atol

    def terminate(self, problem, x, state):
        if state.stop is not None:
            return True, state.stop
        if state.residual > self.tolerance(state):
            return self._failure(state)
        if self.deflation is not None and len(self.deflation):
            # A root indistinguishable from a deflated one is no new root: deflation was
            # defeated (F vanishing faster than eta blows up, e.g. a multiple root, p = 1).
            # "Indistinguishable": closer than 100 last steps (the error of a linearly
            # converging iterate is a few steps) or than 1e-8 relative.
            step = state.step_norm if math.isfinite(state.step_norm) else 0.0
            for i, r in enumerate(self.deflation.roots):
                distance = norm(x - r)
                if distance <= max(100 * step, 1e-8 * max(1.0, norm(r))):
                    state.note = deflated_root_note(i, distance)
                    return True, Status.STAGNATED
        return True, Status.CONVERGED

    def _failure(self, state):
        """Not converged: decide whether the iteration is stuck or diverging."""
        if state.step_norm <= self.rtol * state.xnorm and state.residual >= state.previous_residual:
            tolerance = max(self.atol, self.rtol * state.residual0)
            state.note = stuck_note(state.step_norm, state.residual, tolerance)
            return True, Status.STAGNATED
        recent = state.recent
        if len(recent) > DIVERGENCE_WINDOW and all(
            b[0] > a[0] and b[1] > a[1] for a, b in zip(recent[:-1], recent[1:])
        ):
            if recent[-1][0] >= DIVERGENCE_GROWTH * max(1.0, recent[0][0]):
                state.note = diverging_note(recent)
                return True, Status.STAGNATED
        return False, Status.IN_PROGRESS

    def note(self, state) -> str:
        return state.note

    def postprocess(self, problem, x, state):
        stats = newton_stats(
            problem, state.step_norms, state.backtracks, state.taus, self.deflation
        )
        return x, stats
