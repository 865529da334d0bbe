"""``method="auto"``: Newman's iteration, handing over to Newton's method when it crawls.

Newman's sweeps are cheap and, on well-connected comparison graphs, few: there the fit is
exactly ``method="newman"`` (same iterates, result and statistics). On sparse, league- or
ladder-shaped graphs their rate approaches 1 (it is set by the graph's algebraic
connectivity), and a handful of Newton steps (:mod:`._newton`) cost less than the sweeps
still to come. At sweeps 16, 32, 64, ... the observed rate over the second half of the
sweeps so far, ``rho = (r_k / r_{k/2})^(2/k)``, predicts ``log(tol / r_k) / log(rho)``
more sweeps; when that exceeds :data:`NEWTON_COST` (Newton's cost in sweeps, measured on
the football data and on leagues: about 40 to 80), the fit continues by Newton from the
current scores, home advantage and tie parameter.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

from ._newton import NewtonBradleyTerry
from ._solver import BradleyTerry

FIRST_CHECK = 16
NEWTON_COST = 100.0


@dataclasses.dataclass
class AutoState:
    inner: Any  # BTState while sweeping, NewtonState after the switch
    newton: bool = False
    sweeps: int = 0
    history: list = dataclasses.field(default_factory=list)  # residual after each sweep

    @property
    def residual(self) -> float:
        return self.inner.residual


def predicted_sweeps(history: list, tolerance: float) -> float:
    """Sweeps still needed at the rate observed over the second half of ``history``."""
    k = len(history) - 1
    now, before = history[k], history[k // 2]
    if not (now > tolerance and before > 0.0 and math.isfinite(now)):
        return 0.0
    rate = (now / before) ** (1.0 / (k - k // 2))
    if rate >= 1.0:
        return math.inf
    return math.log(tolerance / now) / math.log(rate)


@dataclasses.dataclass(frozen=True)
class AutoBradleyTerry(NewtonBradleyTerry):
    """Newman's sweeps, then Newton's steps if the sweeps' observed rate is poor."""

    method: str = "auto"

    @functools.cached_property
    def _mm(self) -> BradleyTerry:
        """The Newman solver this one runs first (built once: sweeps may take microseconds)."""
        options = {f.name: getattr(self, f.name) for f in dataclasses.fields(BradleyTerry)}
        return BradleyTerry(**{**options, "method": "newman"})

    def init(self, layout, x0):
        state = self._mm.init(layout, x0)
        return AutoState(state, history=[state.residual])

    def step(self, layout, x, state):
        if state.newton:
            x, inner = NewtonBradleyTerry.step(self, layout, x, state.inner)
            return x, dataclasses.replace(state, inner=inner)
        x, inner = self._mm.step(layout, x, state.inner)
        state.history.append(inner.residual)  # the driver keeps no old states
        state = AutoState(inner, False, state.sweeps + 1, state.history)
        k = state.sweeps
        if k >= FIRST_CHECK and not k & (k - 1):
            if predicted_sweeps(state.history, self._tolerance()) > NEWTON_COST:
                scores = inner.scores if inner.scores is not None else x
                newton = self.init_from(layout, scores.copy(), inner.theta, inner.nu)
                return newton.scores, AutoState(newton, True, k)
        return x, state

    def terminate(self, layout, x, state):
        if state.newton:
            return NewtonBradleyTerry.terminate(self, layout, x, state.inner)
        return self._mm.terminate(layout, x, state.inner)

    def postprocess(self, layout, x, state):
        if not state.newton:
            x, stats = self._mm.postprocess(layout, x, state.inner)
            return x, {**stats, "method_used": "newman"}
        evaluations = layout.nfev - state.sweeps
        x, stats = NewtonBradleyTerry.postprocess(self, layout, x, state.inner)
        return x, {
            **stats,
            "sweeps": state.sweeps,
            "gradient_evaluations": evaluations,
            "method_used": "newman+newton",
        }
