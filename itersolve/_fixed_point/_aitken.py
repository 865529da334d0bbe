"""Componentwise Aitken Δ² (Steffensen) iteration, step for step as scipy's ``del2``.

From ``p0``, ``p1 = T(p0)`` and ``p2 = T(p1)`` each component moves to
``p0 - (p1 - p0)^2 / (p2 - 2 p1 + p0)``, or to ``p2`` where the denominator is zero. It
extrapolates each component on its own (it is not a vector extrapolation such as MPE or
RRE) and costs two evaluations per iteration; it is exact for scalar affine maps.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._jit import njit_kernel
from ._map import FixedPointSolver, evaluate


@njit_kernel
def _del2_kernel(p0, p1, p2, out):
    for i in range(p0.size):
        # p1 + p1 is exactly 2 p1 and keeps float32 in float32.
        d = p2[i] - (p1[i] + p1[i]) + p0[i]
        if d != 0:
            step = p1[i] - p0[i]
            # step * (step / d), not step**2 / d: the square under- or overflows at
            # extreme scales (1e-170, 1e+160) where the quotient does not.
            out[i] = p0[i] - step * (step / d)
        else:
            out[i] = p2[i]


def del2_numba(xp, p0, p1, p2):
    """Δ² on NumPy arrays in one fused pass (no temporaries); Numba has no float16."""
    if p0.dtype == np.float16:
        return del2_generic(xp, p0, p1, p2)
    out = np.empty_like(p0)
    _del2_kernel(p0.reshape(-1), p1.reshape(-1), p2.reshape(-1), out.reshape(-1))
    return out


def del2_generic(xp, p0, p1, p2):
    """Δ² against the array-API namespace ``xp`` (the GPU path)."""
    d = p2 - 2 * p1 + p0
    nonzero = d != 0
    safe = xp.where(nonzero, d, xp.ones_like(d))
    step = p1 - p0
    # As in the kernel: no square that could under- or overflow.
    return xp.where(nonzero, p0 - step * (step / safe), p2)


@dataclasses.dataclass(frozen=True)
class Aitken(FixedPointSolver):
    """Steffensen's method with scipy's ``del2`` step; two evaluations per iteration."""

    rtol: float
    atol: float
    extrapolates = True
    del2: object = del2_generic

    def step(self, problem, x, state):
        p2 = problem(state.Tx)
        x = self.del2(problem.xp, x, state.Tx, p2)
        return x, evaluate(problem, x)
