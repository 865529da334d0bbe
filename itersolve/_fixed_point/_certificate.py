"""Certifying that a nonexpansive map has no fixed point from the iterates of a solve.

``v``, the minimum-norm element of the closure of ``ran(I - T)`` (the infimal displacement
vector), is zero exactly when ``T`` has (approximate) fixed points. For every ``x``,
``<x - T x, v> >= ||v||^2``: ``v`` is the projection of 0 onto that closed convex set
(Park & Ryu, ICML 2023, Thm 10 as encoded in PEPit). The residuals ``x_k - T x_k`` of an
averaged or anchored iteration tend to ``v`` and the iterates drift like ``-c k v``.

For an abstract ``T`` nothing short of ``v`` itself proves inconsistency: the rate bounds
hold with the unknown ``||x_0 - x*||``. :class:`DisplacementMonitor` therefore follows the
specification's rule and certifies ``v_hat != 0`` only when, over a window ``(k/2, k]``
(``k >= 32``),

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
WINDOWS_PER_DOUBLING = 4  # a window opens every 2**(1/4) iterations: detection lags <= 19 %


@dataclasses.dataclass
class _Window:
    start: int
    x: Any
    candidate: Any  # v_hat = r_start
    size: float  # ||v_hat||
    worst_ratio: float = math.inf  # min <r_i, v_hat> / ||v_hat||^2 over the window


@dataclasses.dataclass
class DisplacementMonitor:
    """Watches ``(x_k, T x_k)`` pairs; ``certified`` once a window passes the three tests.

    Windows ``(s, 2s]`` overlap: one opens at iteration 16 and then every ``2**(1/4)``
    iterations, and each is judged when it closes. ``displacement`` is the certified
    ``v_hat`` or, before that, the latest candidate (a suspicion, not a certificate).
    """

    xp: Any
    norm: Any  # the problem's 2-norm
    speed: float  # drift per iteration of the method (see the module docstring)
    delta: float = 1e-2
    windows: list = dataclasses.field(default_factory=list)
    checkpoints: list = dataclasses.field(default_factory=list)  # residuals of closed windows
    next_open: int = MIN_WINDOW
    certified: bool = False
    displacement: Any = None
    candidate_norm: float = math.nan
    details: dict = dataclasses.field(default_factory=dict)

    def observe(self, k: int, x, Tx) -> bool:
        """Take the pair of iteration ``k``; return whether inconsistency is now certified."""
        if self.certified:
            return True
        residual = self._wide(x) - self._wide(Tx)
        for window in self.windows:
            window.worst_ratio = min(window.worst_ratio, self._ratio(residual, window))
        while self.windows and k >= 2 * self.windows[0].start:
            window = self.windows.pop(0)
            if self._passes(window, k, x, residual):
                self.certified = True
                self.displacement, self.candidate_norm = window.candidate, window.size
                return True
            self.checkpoints.append(window.candidate)
        if k >= self.next_open:
            size = self.norm(residual)
            self.windows.append(_Window(k, self._wide(x), residual, size))
            self.displacement, self.candidate_norm = residual, size
            self.next_open = max(k + 1, math.ceil(k * 2 ** (1 / WINDOWS_PER_DOUBLING)))
        return False

    def _wide(self, a):
        """``a`` in double precision: the iterates drift like ``k ||v||``, so single
        precision would bury ``x - T x`` under a rounding floor of ``eps k ||v||``."""
        xp = self.xp
        if a.dtype == xp.float32:
            return xp.astype(a, xp.float64)
        if a.dtype == xp.complex64:
            return xp.astype(a, xp.complex128)
        return a

    def _ratio(self, residual, window) -> float:
        if not window.size > 0:
            return -math.inf
        xp = self.xp
        # <v_hat, r> / ||v_hat||^2 with both factors divided by ||v_hat|| first: the plain
        # inner product overflows at 1e+155 and underflows at 1e-160.
        size = window.size
        return float(xp.real(xp.sum(xp.conj(window.candidate / size) * (residual / size))))

    def _passes(self, window, k, x, residual) -> bool:
        size = window.size
        oracle = min([window.worst_ratio] + [self._ratio(r, window) for r in self.checkpoints])
        drift = self.norm(self._wide(x) - window.x) / (k - window.start)
        self.details = {
            "stability": self.norm(residual - window.candidate) / size if size > 0 else math.inf,
            "oracle_ratio": oracle,
            "drift_per_iteration": drift,
            "window": (window.start, k),
        }
        return bool(
            size > 0
            and math.isfinite(size)
            and self.details["stability"] <= self.delta
            and oracle >= 1 - self.delta
            and drift >= 0.25 * self.speed * size
        )
