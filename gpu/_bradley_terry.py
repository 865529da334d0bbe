"""Bradley–Terry's synchronous sweep on the array-API namespace: the GPU mirror of ``_ranking``.

Every game group contributes to both of its players at once, so a Jacobi (sync) sweep is
a gather of the two strengths per group followed by scatter-adds into the players, done
here as products with the sparse ``player x group`` incidence matrices of the first and
the second player. It runs on ``numpy`` + :mod:`scipy.sparse` (how CI tests it) and on
``cupy`` + :mod:`cupyx.scipy.sparse`; the asynchronous (Gauss–Seidel) sweep is sequential
and stays on the CPU. Plain Bradley–Terry only (ties as half wins included); Davidson
ties and home advantage run on the CPU.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from itersolve._backend import Backend
from itersolve._ranking import MARGIN, BradleyTerry, BTState, map_scale

__all__ = ["GroupLayout", "SyncBradleyTerry"]


class GroupLayout:
    """The game groups of a :class:`~itersolve.PairwiseData` on ``backend`` (ties folded in
    halves)."""

    def __init__(self, data, backend: Backend, *, ties=None):
        self.xp = xp = backend.xp
        sparse = backend.sparse
        half = 0.5 * data.ties if ties == "half" else 0.0
        n, size = data.n_items, data.n_groups
        self.n = n
        self.first = xp.asarray(data.first)
        self.second = xp.asarray(data.second)
        self.first_wins = xp.asarray(data.first_wins + half)
        self.second_wins = xp.asarray(data.second_wins + half)
        columns = np.arange(size)
        ones = np.ones(size)

        def incidence(players):
            return sparse.csr_matrix(
                (xp.asarray(ones), (xp.asarray(players), xp.asarray(columns))), shape=(n, size)
            )

        self.F = incidence(data.first)
        self.S = incidence(data.second)
        self.nfev = 0


@dataclasses.dataclass(frozen=True)
class SyncBradleyTerry(BradleyTerry):
    """:class:`~itersolve._ranking.BradleyTerry` with ``update="sync"`` on ``xp``."""

    update: str = "sync"

    def init(self, layout, x0):
        xp = layout.xp
        x0 = xp.asarray(x0)
        pi = xp.exp(x0 - xp.mean(x0))
        residual = self._gradient(layout, pi, 1.0, 0.0)
        return BTState(pi, 1.0, 0.0, residual, in_sweep=residual)

    def gradient_vector(self, layout, pi, theta, nu, *, nuisance=False):
        xp = layout.xp
        pi_f, pi_s = xp.take(pi, layout.first), xp.take(pi, layout.second)
        flow = (layout.first_wins * pi_s - layout.second_wins * pi_f) / (pi_f + pi_s)
        out = layout.F @ flow - layout.S @ flow
        if self.prior > 0:
            out = out + self.prior * (1.0 - pi) / (1.0 + pi)
        return out

    def _gradient(self, layout, pi, theta, nu) -> float:
        return float(layout.xp.max(layout.xp.abs(self.gradient_vector(layout, pi, theta, nu))))

    def step(self, layout, x, state):
        xp = layout.xp
        pi = state.pi
        pi_f, pi_s = xp.take(pi, layout.first), xp.take(pi, layout.second)
        inverse = 1.0 / (pi_f + pi_s)
        a, b = layout.first_wins, layout.second_wins
        if self.method == "newman":
            numerator = layout.F @ (a * pi_s * inverse) + layout.S @ (b * pi_f * inverse)
            denominator = layout.F @ (b * inverse) + layout.S @ (a * inverse)
            pair_curvature = (a + b) * pi_f * pi_s * inverse * inverse
            curvature = layout.F @ pair_curvature + layout.S @ pair_curvature
        else:
            numerator = layout.F @ a + layout.S @ b
            games = (a + b) * inverse
            denominator = layout.F @ games + layout.S @ games
        if self.prior > 0:
            dummy = self.prior / (pi + 1.0)
            numerator = numerator + (dummy if self.method == "newman" else self.prior)
            denominator = denominator + (dummy if self.method == "newman" else 2.0 * dummy)
            if self.method == "newman":
                curvature = curvature + 2.0 * pi * dummy / (pi + 1.0)
        in_sweep = float(xp.max(xp.abs(numerator - pi * denominator)))  # gradient at pi
        value = numerator / denominator
        if self.method == "newman":  # the per-player damping of the CPU kernel's sync sweep
            limit = (1.0 + MARGIN) * curvature
            beta = xp.where(numerator < limit, numerator / limit, xp.ones_like(numerator))
            value = pi * (value / pi) ** beta
        layout.nfev += 1
        new = self._rescale_xp(xp, value)
        scores = xp.log(new)
        step = float(xp.max(xp.abs(scores - xp.log(pi))))
        return scores, self._next_state(layout, new, 1.0, 0.0, step, in_sweep, state.in_sweep)

    def _rescale_xp(self, xp, pi):
        """As :meth:`BradleyTerry._rescale_scores`, on ``xp``: geometric mean 1 (ML), or the
        MAP scale."""
        scores = xp.log(pi)
        shift = -float(xp.mean(scores)) if self.prior == 0.0 else map_scale(scores, xp)
        return xp.exp(scores + shift)

    def postprocess(self, layout, x, state):
        xp = layout.xp
        offset = float(xp.mean(x))
        stats = {
            "gradient_norm": state.residual,
            "step_norm": state.step,
            "sweeps": layout.nfev,
            "score_offset": offset,
        }
        return x - offset, stats
