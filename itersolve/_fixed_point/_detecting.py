"""``fixed_point(..., detect_infeasibility=True)``: any fixed-point solver, watched."""

from __future__ import annotations

import dataclasses
from typing import Any

from .._driver import Solver
from .._result import Status
from ._certificate import DisplacementMonitor


@dataclasses.dataclass
class DetectingState:
    inner: Any
    monitor: DisplacementMonitor
    k: int
    note: str = ""

    @property
    def residual(self) -> float:
        return self.inner.residual


@dataclasses.dataclass(frozen=True)
class InfeasibilityDetecting(Solver):
    """Runs ``inner`` unchanged and ends with ``Status.INFEASIBLE`` once the monitor certifies.

    Convergence is tested first, so a solve that meets its tolerance is never reported
    infeasible.
    """

    inner: Solver  # a fixed-point solver: its states carry T(x) as `Tx`
    speed: float
    delta: float = 1e-2

    # the tolerances are the inner solver's (run normalises them through these setters)
    @property
    def rtol(self):
        return self.inner.rtol

    @rtol.setter
    def rtol(self, value):
        object.__setattr__(self.inner, "rtol", value)

    @property
    def atol(self):
        return self.inner.atol

    @atol.setter
    def atol(self, value):
        object.__setattr__(self.inner, "atol", value)

    def init(self, problem, x0):
        state = self.inner.init(problem, x0)
        monitor = DisplacementMonitor(problem.xp, problem.norm, self.speed, self.delta)
        monitor.observe(0, x0, state.Tx)
        return DetectingState(state, monitor, 0)

    def step(self, problem, x, state):
        x, inner = self.inner.step(problem, x, state.inner)
        state.monitor.observe(state.k + 1, x, inner.Tx)
        return x, DetectingState(inner, state.monitor, state.k + 1)

    def terminate(self, problem, x, state):
        done, status = self.inner.terminate(problem, x, state.inner)
        if done or not state.monitor.certified:
            return done, status
        monitor = state.monitor
        state.note = (
            f"T has no fixed point: the residual x - T(x) settled at a vector of norm "
            f"{monitor.candidate_norm:.3e} (the infimal displacement, in "
            f"stats['displacement']) that the oracle inequality confirms on the iterates seen"
        )
        return True, Status.INFEASIBLE

    def postprocess(self, problem, x, state):
        x, stats = self.inner.postprocess(problem, x, state.inner)
        monitor = state.monitor
        return x, {
            **stats,
            "displacement": monitor.displacement,
            "infeasibility": {"certified": monitor.certified, **monitor.details},
        }

    def snapshot(self, x):
        return self.inner.snapshot(x)

    def note(self, state) -> str:
        return state.note or self.inner.note(state.inner)
