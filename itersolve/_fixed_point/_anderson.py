"""Type-II Anderson acceleration (Walker & Ni 2011) with a residual safeguard.

With ``f_k = T(x_k) - x_k`` and the last ``m`` differences ``dX``, ``dF`` of iterates and
residuals, each step solves the least-squares problem ``gamma = argmin ||f_k - dF gamma||``
and moves to ``x_{k+1} = x_k + beta f_k - (dX + beta dF) gamma``. Without truncation and on
a linear map this reproduces GMRES (``x_{k+1} = T(x_k^GMRES)``).
"""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import Any

from ._map import FixedPointSolver, MapState, evaluate


@dataclasses.dataclass
class AndersonState(MapState):
    dX: deque  # differences of iterates, oldest first, flattened
    dF: deque  # differences of residuals f = T(x) - x, flattened
    rejections: int = 0
    dropped: int = 0


@dataclasses.dataclass(frozen=True)
class Anderson(FixedPointSolver):
    """Anderson type-II acceleration.

    Parameters
    ----------
    m
        Memory: the number of past differences used.
    regularization
        Tikhonov parameter, relative to ``||dF||_F^2``, added to the least-squares problem;
        0 solves it exactly (the scipy / GMRES-equivalent form).
    damping
        ``beta`` in the update; 1 is undamped.
    safeguard
        ``zeta``: when the accelerated point's residual exceeds ``zeta`` times the current
        one, it is rejected and the plain damped step ``x_k + beta f_k`` is taken instead
        (one extra evaluation). ``None`` disables the safeguard.
    max_condition
        Oldest differences are dropped while the triangular factor of ``dF`` is worse
        conditioned than this, so the least-squares solve stays meaningful.
    """

    rtol: float
    atol: float
    m: int = 10
    regularization: float = 0.0
    damping: float = 1.0
    safeguard: float | None = 1.0
    max_condition: float = 1e12

    def init(self, problem, x0):
        return AndersonState(**vars(evaluate(problem, x0)), dX=deque(), dF=deque())

    def step(self, problem, x, state):
        xp = problem.xp
        beta = self.damping
        f = state.Tx - x
        plain = x + beta * f
        accelerated = plain
        if state.dF:
            solved = self._coefficients(xp, state, xp.reshape(f, (-1,)))
            if solved is not None:
                gamma, dF = solved
                dX = xp.stack(list(state.dX), axis=1)
                correction = (dX + beta * dF) @ gamma
                accelerated = plain - xp.reshape(correction, x.shape)
        new = evaluate(problem, accelerated)
        rejections = state.rejections
        if (
            accelerated is not plain
            and self.safeguard is not None
            and new.residual > self.safeguard * state.residual
        ):
            accelerated, new = plain, evaluate(problem, plain)
            rejections += 1
        f_new = new.Tx - accelerated
        state.dX.append(xp.reshape(accelerated - x, (-1,)))
        state.dF.append(xp.reshape(f_new - f, (-1,)))
        # More differences than unknowns are linearly dependent: keep at most x.size.
        while len(state.dF) > min(self.m, f_new.size):
            state.dX.popleft()
            state.dF.popleft()
        return accelerated, AndersonState(
            **vars(new), dX=state.dX, dF=state.dF, rejections=rejections, dropped=state.dropped
        )

    def _coefficients(self, xp, state, f) -> tuple[Any, Any] | None:
        """Solve ``min ||f - dF gamma||`` by QR, dropping the oldest columns if ill-conditioned.

        Returns ``(gamma, dF)`` with the differences kept, or None when none is left.
        """
        while state.dF:
            dF = xp.stack(list(state.dF), axis=1)
            Q, R = xp.linalg.qr(dF)
            diagonal = xp.abs(xp.linalg.diagonal(R))
            smallest, largest = float(xp.min(diagonal)), float(xp.max(diagonal))
            if smallest > 0 and largest <= self.max_condition * smallest:
                break
            state.dX.popleft()
            state.dF.popleft()
            state.dropped += 1
        else:
            return None
        rhs = xp.conj(Q).T @ f
        if self.regularization > 0:
            RH = xp.conj(R).T
            gram = RH @ R
            shift = self.regularization * float(xp.sum(xp.abs(R) ** 2))
            identity = xp.eye(gram.shape[0], dtype=gram.dtype)
            return xp.linalg.solve(gram + shift * identity, RH @ rhs), dF
        return xp.linalg.solve(R, rhs), dF

    def stats(self, state):
        return {
            "memory": len(state.dF),
            "safeguard_rejections": state.rejections,
            "dropped_differences": state.dropped,
        }
