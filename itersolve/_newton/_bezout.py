"""When a root search may stop: every isolated root of a square polynomial system known.

A square polynomial system ``F: C^n -> C^n`` with equations of degrees ``d_1, ..., d_n`` has
at most ``d_1 ... d_n`` isolated roots, counted with multiplicity (Bézout's theorem in its
refined form, which also holds when ``F`` has positive-dimensional solution sets besides;
Fulton, *Intersection Theory*, 1984, §8.4). Once that many roots are certified distinct
simple roots by Smale's α-test (:func:`._alpha.certify`), no root is left to find, and a
further deflated solve could only fail. Without this test every search ends with a solve
from each guess that runs to ``maxiter``: a deflated Newton iteration with every root
deflated wanders chaotically and cannot be told apart, early, from one that will still
converge (measured on three systems: converged deflated solves went up to 78 iterations
without a new best merit and up to 100 iterations in all).

The α-test here is the floating-point one (a numerical certificate, not a proof): a root
it certifies is simple, so counting certified roots can only under-count, and the search
can only stop late, never early, unless the arithmetic itself misleads the test.
"""

from __future__ import annotations

import math

import numpy as np

from .._backend import to_host
from ._alpha import certify
from ._polynomial import PolynomialSystem

__all__ = ["BezoutStop"]


class BezoutStop:
    """``reached(roots)``: the roots found are all the isolated roots ``F`` can have.

    For anything but a square :class:`PolynomialSystem` whose equations all have degree
    at least 1 (a callable, a system with a constant or zero equation), ``bound`` is
    ``None`` and ``reached`` is always False.
    """

    def __init__(self, F):
        self.system, self.bound = None, None
        if (
            isinstance(F, PolynomialSystem)
            and F.n_equations == F.n_variables
            and min(F.degrees) >= 1
        ):
            self.system, self.bound = F, math.prod(F.degrees)
        self._tested = 0  # how many roots the last α-test saw: each set is tested once

    def reached(self, roots) -> bool:
        if self.bound is None or len(roots) < self.bound or len(roots) == self._tested:
            return False
        self._tested = len(roots)
        points = np.stack([np.asarray(to_host(r)) for r in roots])
        return certify(self.system, points).n_distinct >= self.bound

    def message(self, found: int) -> str:
        return (
            f"Found {found} distinct roots, certified simple and distinct by the α-test: "
            f"all the isolated roots a square polynomial system of degrees {self.system.degrees} "
            f"can have (Bézout's bound {self.bound}), so the search stopped."
        )
