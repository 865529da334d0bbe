"""Certifying that a nonexpansive map has no fixed point from the iterates of a solve.

``v``, the minimum-norm element of the closure of ``ran(I - T)`` (the infimal displacement
vector), is zero exactly when ``T`` has (approximate) fixed points. For every ``x``,
``<x - T x, v> >= ||v||^2``: ``v`` is the projection of 0 onto that closed convex set
(Park & Ryu, ICML 2023, Thm 10 as encoded in PEPit). The residuals ``x_k - T x_k`` of an
averaged or anchored iteration tend to ``v`` and the iterates drift like ``-c k v``.

For an abstract ``T`` nothing short of ``v`` itself proves inconsistency: the rate bounds
hold with the unknown ``||x_0 - x*||``. :class:`DisplacementMonitor` therefore follows the
specification's rule and certifies ``v_hat != 0`` only when, over a window ``(k/2, k]`` of
at least 16 iterations,

1. the residual is stable: ``||r_k - v_hat|| <= delta ||v_hat||``, ``v_hat = r_{k/2}``;
2. the oracle inequality holds on every residual seen in the window and at the earlier
   checkpoints: ``<r_i, v_hat> >= (1 - delta) ||v_hat||^2``;
3. the iterates drift as an inconsistent map makes them: ``||x_k - x_{k/2}|| >=
   (k/2) speed ||v_hat|| / 4``, where ``speed`` is the method's drift per iteration
   (1 for plain iteration, the relaxation for Krasnosel'skii–Mann, 1/2 for Halpern).

A consistent but slowly converging iteration fails 3 (Fejér monotone iterates stay within
``2 ||x_0 - x*||`` of where they started) or 2 once its residual shrinks by ``delta``.
It remains a numerical certificate, not a proof; problems with structure (sets,
linear programs) verify a problem-level certificate on top.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

MIN_WINDOW = 16


@dataclasses.dataclass
class DisplacementMonitor:
    """Watches ``(x_k, T x_k)`` pairs; ``certified`` once the three tests above pass.

    Windows double: the first opens at iteration 16 with ``v_hat = r_16``, is judged at 32,
    the next runs from 32 to 64, and so on. ``displacement`` is the certified ``v_hat``
    or, before that, the latest candidate (a suspicion, not a certificate).
    """

    xp: Any
    norm: Any  # the problem's 2-norm
    speed: float  # drift per iteration of the method (see the module docstring)
    delta: float = 1e-2
    candidate: Any = None
    candidate_norm: float = math.nan
    window_start: int = 0
    window_x: Any = None
    worst_ratio: float = math.inf  # min <r_i, v_hat> / ||v_hat||^2 over the window
    checkpoints: list = dataclasses.field(default_factory=list)  # earlier candidates
    certified: bool = False
    details: dict = dataclasses.field(default_factory=dict)

    @property
    def displacement(self):
        return self.candidate

    def observe(self, k: int, x, Tx) -> bool:
        """Take the pair of iteration ``k``; return whether inconsistency is now certified."""
        if self.certified:
            return True
        residual = x - Tx
        if self.candidate is None:
            if k >= MIN_WINDOW:
                self._open_window(k, x, residual)
            return False
        self.worst_ratio = min(self.worst_ratio, self._ratio(residual))
        if k < 2 * self.window_start:
            return False
        self.certified = self._passes(k, x, residual)
        if not self.certified:
            self._open_window(k, x, residual)
        return self.certified

    def _ratio(self, residual) -> float:
        xp = self.xp
        inner = float(xp.real(xp.sum(xp.conj(self.candidate) * residual)))
        return inner / self.candidate_norm**2 if self.candidate_norm > 0 else -math.inf

    def _passes(self, k, x, residual) -> bool:
        size = self.candidate_norm
        oracle = min([self.worst_ratio] + [self._ratio(r) for r in self.checkpoints])
        drift = self.norm(x - self.window_x) / (k - self.window_start)
        self.details = {
            "stability": self.norm(residual - self.candidate) / size if size > 0 else math.inf,
            "oracle_ratio": oracle,
            "drift_per_iteration": drift,
            "window": (self.window_start, k),
        }
        return bool(
            size > 0
            and math.isfinite(size)
            and self.details["stability"] <= self.delta
            and oracle >= 1 - self.delta
            and drift >= 0.25 * self.speed * size
        )

    def _open_window(self, k, x, residual):
        if self.candidate is not None:
            self.checkpoints.append(self.candidate)
        self.candidate = residual
        self.candidate_norm = self.norm(residual)
        self.window_start = k
        self.window_x = x
        self.worst_ratio = math.inf
