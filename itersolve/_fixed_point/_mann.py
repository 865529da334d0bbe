"""Plain (Picard) and Krasnosel'skii–Mann iteration: ``x <- (1 - lam) x + lam T(x)``."""

from __future__ import annotations

import dataclasses

from ._map import FixedPointSolver, evaluate


@dataclasses.dataclass(frozen=True)
class Mann(FixedPointSolver):
    """Krasnosel'skii–Mann averaging with relaxation ``lam``; ``lam = 1`` is plain iteration.

    For nonexpansive ``T`` and ``0 < lam < 1`` the residual obeys
    ``||x_k - T x_k||^2 <= ||x_0 - x*||^2 / (lam (1 - lam) (k + 1))``
    (:func:`itersolve.theory.fixed_point.km_residual_bound`).
    """

    rtol: float
    atol: float
    relaxation: float = 1.0

    def step(self, problem, x, state):
        lam = self.relaxation
        # lam == 1 takes T(x) itself, so plain iteration is exactly x <- T(x).
        x = state.Tx if lam == 1.0 else x + lam * (state.Tx - x)
        return x, evaluate(problem, x)

    def stats(self, state):
        return {"relaxation": self.relaxation}
