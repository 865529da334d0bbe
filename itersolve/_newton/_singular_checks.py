"""What both singular solvers (LVZ and MMS) share: the problem they iterate on, the test
of a root by the user's system itself (the true residual), and the watch that tells a
least-squares point or divergence from slow convergence (see ``_lvz``, "When to stop").
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._norms import scaled_norm
from ._multiplicity import scaled_residuals
from ._sparse import SparsePolynomials

# Divergence: ||x|| beyond this multiple of its starting scale, reached by repeated
# doubling within _DIVERGENCE_WINDOW iterations without a better residual.
_DIVERGENCE_GROWTH = 1e3
_DIVERGENCE_WINDOW = 12
# A residual level to this relative change for this many iterations is a plateau.
_FLAT = 1e-8
_FLAT_STEPS = 5


def true_residual(polys, x, atol, rtol):
    """``(ok, r)``: whether the user's system meets the tolerance at x, and its residual.

    ``r`` is the 2-norm (overflow-safe) of the scaled residuals of :func:`scaled_residuals`
    (each equation divided by its largest Taylor coefficient at x, so a root of ``x`` at
    1e-13 and of ``1e20 x`` read alike). ``ok`` when every equation is within
    ``atol + rtol ||x||`` plus the rounding level of evaluating it.
    """
    r, floor = scaled_residuals(polys, x)
    bound = atol + rtol * scaled_norm(x) + floor
    return bool(np.all(r <= bound)), scaled_norm(r)


def least_squares_note(r):
    return (
        f"the scaled residual of the system stalled at {r:.3e} while the steps shrank to "
        "nothing: x is (near) a least-squares point, a local minimum of ||F||, not a root; "
        "the system may be inconsistent"
    )


@dataclasses.dataclass
class Divergence:
    """Watches ``||x||`` for divergence: growth by orders of magnitude, by repeated
    doubling, while the residual does not improve. Slow but real convergence (linear
    toward a singular root) improves the residual, so it is never cut."""

    scale: float
    best: float = math.inf
    best_at: int = 0
    records: list = dataclasses.field(default_factory=list)  # iterations of ||x|| records
    largest: float = 0.0
    k: int = 0
    previous: float = math.nan
    flat: int = 0  # consecutive iterations whose residual changed by < _FLAT relative

    def plateau(self) -> bool:
        """Whether the residual has stayed level (to _FLAT relative) for _FLAT_STEPS
        iterations: Gauss–Newton settling on a least-squares point, where the residual
        changes only to second order in the (linearly shrinking) steps. Toward a root it
        falls by a factor of at least 2 per step instead."""
        return self.flat >= _FLAT_STEPS

    def update(self, x, residual, step) -> str:
        """Record one iteration; return a note when the iterates diverge, else ""."""
        self.k += 1
        size = scaled_norm(x)
        level = 0 < residual and abs(residual - self.previous) <= _FLAT * residual
        self.flat, self.previous = (self.flat + 1 if level else 0), residual
        if self.k == 1:
            self.scale = max(self.scale, step)
        if residual < self.best:
            self.best, self.best_at = residual, self.k
        if size > 2 * self.largest:
            self.largest = size
            self.records.append(self.k)
        recent = [k for k in self.records if k > self.k - _DIVERGENCE_WINDOW]
        if (
            size > _DIVERGENCE_GROWTH * self.scale
            and len(recent) >= 3
            and self.best_at <= self.k - _DIVERGENCE_WINDOW
        ):
            return (
                f"the iterates diverged: ||x|| grew from {self.scale:.3e} to {size:.3e}, "
                f"doubling {len(recent)} times in the last {_DIVERGENCE_WINDOW} iterations, "
                f"while the residual stayed above its best {self.best:.3e} "
                f"(iteration {self.best_at}); start closer to a root"
            )
        return ""

    def reset_residual(self):
        """A deflation stage changes what the residual measures."""
        self.best, self.best_at = math.inf, self.k
        self.previous, self.flat = math.nan, 0


class SingularProblem:
    """The user's system, with its evaluations counted for ``SolveResult.nfev``."""

    def __init__(self, system, complex_mode: bool):
        self.system = system
        self.n = len(tuple(system.variables))
        self.complex_mode = complex_mode
        self.nfev = 0
        self.base = None  # the system as SparsePolynomials, set by start()

    def start(self, x0) -> tuple[SparsePolynomials, float]:
        """The user's system in x0's dtype (kept as ``base``) and its residual norm at x0."""
        self.nfev += 1
        self.base = SparsePolynomials.from_system(self.system, x0.dtype)
        return self.base, scaled_norm(self.base(x0))
