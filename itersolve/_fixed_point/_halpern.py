"""Halpern's anchored iteration ``x_{k+1} = x_0/(k+2) + (k+1)/(k+2) T(x_k)``, with restarts."""

from __future__ import annotations

import dataclasses
from typing import Any

from ._map import FixedPointSolver, MapState, evaluate

# Adaptive restart rule of restarted Halpern PDHG (Lu & Yang, arXiv 2407.16144): re-anchor
# after a sufficient decay of the residual, or after a necessary decay followed by growth.
SUFFICIENT_DECAY = 0.2
NECESSARY_DECAY = 0.8


def adaptive_restart_due(residual: float, reference: float, previous: float) -> bool:
    """Lu & Yang's rule: re-anchor once ``residual`` has fallen to ``SUFFICIENT_DECAY`` of
    its ``reference`` at the anchor, or to ``NECESSARY_DECAY`` of it and then grown since
    the ``previous`` iteration."""
    return residual <= SUFFICIENT_DECAY * reference or (
        residual <= NECESSARY_DECAY * reference and residual > previous
    )


@dataclasses.dataclass
class HalpernState(MapState):
    anchor: Any
    anchor_residual: float
    since_restart: int = 0
    restarts: int = 0


@dataclasses.dataclass(frozen=True)
class Halpern(FixedPointSolver):
    """Halpern iteration with ``lam_k = 1/(k+2)``, ``k`` counted from the last restart.

    For nonexpansive ``T`` the residual obeys the tight bound
    ``||x_k - T x_k|| <= 2 ||x_0 - x*|| / (k + 1)`` (Lieder 2021). That O(1/k) holds even
    where plain iteration converges linearly, so ``restart`` re-anchors ``x_0 <- x_k``:
    every ``restart`` iterations (an int), or adaptively (``"adaptive"``) when the residual
    has fallen to 0.2 of its value at the anchor, or to 0.8 of it and then grown.
    """

    rtol: float
    atol: float
    restart: int | str | None = None

    def init(self, problem, x0):
        state = evaluate(problem, x0)
        return HalpernState(**vars(state), anchor=x0, anchor_residual=state.residual)

    def step(self, problem, x, state):
        k = state.since_restart
        x = state.anchor / (k + 2) + ((k + 1) / (k + 2)) * state.Tx
        new = evaluate(problem, x)
        if self._should_restart(k + 1, new.residual, state):
            return x, HalpernState(
                **vars(new), anchor=x, anchor_residual=new.residual, restarts=state.restarts + 1
            )
        return x, HalpernState(
            **vars(new),
            anchor=state.anchor,
            anchor_residual=state.anchor_residual,
            since_restart=k + 1,
            restarts=state.restarts,
        )

    def _should_restart(self, since_restart, residual, previous) -> bool:
        if self.restart is None:
            return False
        if self.restart == "adaptive":
            return adaptive_restart_due(residual, previous.anchor_residual, previous.residual)
        return since_restart >= self.restart

    def stats(self, state):
        return {"restarts": state.restarts}
