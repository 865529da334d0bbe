"""Estimating the infimal displacement vector ``v`` of a nonexpansive map.

Two estimators come with every iteration (Park & Ryu, ICML 2023):

* the residual ``x_k - T x_k``;
* the normalised iterate: ``(x_0 - x_k) / (lam k)`` for Krasnosel'skii–Mann and
  ``2 (x_0 - x_k) / k`` for Halpern (both exact on a translation ``T x = x - v``;
  :mod:`itersolve.theory.infeasibility` derives the factors), counted from the last
  restart's anchor.

Squared errors: Halpern's residual ``O(log k / k^2)`` (the explicit bound is
:func:`itersolve.theory.infeasibility.halpern_displacement_bound`), its normalised iterate
``O(1/k^2)``; KM's normalised iterate ``O(1/k^2)``, its residual only ``O(1/k)``. The
estimate returned is the better one of each method: Halpern's residual, KM's normalised
iterate. The solve stops when the two estimators agree,
``||residual - normalised|| <= max(rtol ||estimate||, atol)``; both tend to ``v``, so
their distance measures the error of the slower one, conservatively.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .._driver import Solver
from .._fixed_point import adaptive_restart_due
from .._result import Status

GROWTH = 10 ** (1 / 20)  # history checkpoints: every iteration to 10, then 20 per decade


@dataclasses.dataclass
class EstimatorState:
    Tx: Any
    residual: float  # ||residual estimate - normalised estimate|| (||x0 - T x0|| at k = 0)
    anchor: Any
    since_anchor: int
    k: int
    fixed_residual: float  # ||x - T x||
    anchor_residual: float  # the disagreement one step after the anchor
    restarts: int
    estimate: Any
    other: Any  # the estimator not returned
    history: dict
    previous: float = float("inf")  # the disagreement one iteration earlier


@dataclasses.dataclass(frozen=True)
class DisplacementEstimator(Solver):
    """Halpern's or Krasnosel'skii–Mann's iteration, with both estimators of ``v`` and
    the stopping test on their agreement; returns the better estimate of the method."""

    rtol: float
    atol: float
    method: str = "halpern"
    restart: int | str | None = None
    relaxation: float = 0.5

    def init(self, problem, x0):
        Tx = problem(x0)
        residual = x0 - Tx
        history = {"iterations": [0], "residual": [residual], "normalised": [None]}
        size = problem.norm(residual)
        # No normalised estimate yet: the first disagreement is the residual's own size.
        return EstimatorState(Tx, size, x0, 0, 0, size, size, 0, residual, None, history)

    def step(self, problem, x, state):
        j = state.since_anchor
        if self.method == "halpern":
            x = state.anchor / (j + 2) + ((j + 1) / (j + 2)) * state.Tx
        else:
            x = x + self.relaxation * (state.Tx - x)
        Tx = problem(x)
        residual, j, k = x - Tx, j + 1, state.k + 1
        scale = 2.0 / j if self.method == "halpern" else 1.0 / (self.relaxation * j)
        normalised = scale * (state.anchor - x)
        size = problem.norm(residual)
        estimate, other = (
            (residual, normalised) if self.method == "halpern" else (normalised, residual)
        )
        history = state.history
        if k <= 10 or k >= history["iterations"][-1] * GROWTH:
            history["iterations"].append(k)
            history["residual"].append(residual)
            history["normalised"].append(normalised)
        disagreement = problem.norm(estimate - other)
        anchor, restarts = state.anchor, state.restarts
        reference = disagreement if j == 1 else state.anchor_residual
        if self._should_restart(j, disagreement, reference, state.residual):
            anchor, j, restarts = x, 0, restarts + 1
        return x, EstimatorState(
            Tx,
            disagreement,
            anchor,
            j,
            k,
            size,
            reference,
            restarts,
            estimate,
            other,
            history,
            previous=state.residual if state.k > 0 else float("inf"),
        )

    def _should_restart(self, since, disagreement, reference, previous) -> bool:
        """Every ``restart`` iterations, or Lu & Yang's adaptive rule applied to the
        estimators' disagreement (measured from the first step after the anchor).

        The residual itself tends to ``v``, not to 0, so it cannot say when a restart
        pays; the disagreement behaves like the residual of the consistent map
        ``T + v`` that Halpern is implicitly solving.
        """
        if self.method != "halpern" or self.restart is None:
            return False
        if self.restart == "adaptive":
            return since >= 2 and adaptive_restart_due(disagreement, reference, previous)
        return since >= self.restart

    def terminate(self, problem, x, state):
        # Agreement on two consecutive iterations: on a map that rotates, the two
        # estimators cross each other once per turn, and one crossing proves nothing. An
        # exact estimate (a translation) agrees at once and needs no second look.
        tolerance = max(self.rtol * problem.norm(state.estimate), self.atol)
        if state.k > 0 and state.residual <= tolerance and (
            state.residual == 0 or state.previous <= tolerance
        ):
            return True, Status.CONVERGED
        return False, Status.IN_PROGRESS

    def postprocess(self, problem, x, state):
        xp = problem.xp
        history = state.history
        if history["iterations"][-1] != state.k:
            history["iterations"].append(state.k)
            history["residual"].append(state.estimate if self.method == "halpern" else state.other)
            history["normalised"].append(
                state.other if self.method == "halpern" else state.estimate
            )
        normalised = history["normalised"]
        normalised[0] = xp.full_like(history["residual"][0], xp.nan)  # undefined at k = 0
        stats = {
            "method": self.method,
            "iterate": x,
            "displacement_norm": problem.norm(state.estimate),
            "residual_norm": state.fixed_residual,
            "restarts": state.restarts,
            "history_iterations": xp.asarray(history["iterations"]),
            "residual_estimates": xp.stack(history["residual"]),
            "normalised_estimates": xp.stack(normalised),
        }
        return state.estimate, stats
