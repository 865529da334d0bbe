"""SSOR-PCG on the CPU as one fused Numba kernel per iteration.

:class:`FusedSSORPCG` is :class:`~itersolve._sor._solvers.SSORPCG` (same options, states,
statuses, restarts and true-residual check) with its arithmetic moved into
:mod:`._pcg_kernels`: ``init`` is three kernel calls (the row-scaled matrix, the residual, the first
preconditioner solve), a restart two and ``step`` one; the vectors ``r, z, p, A p`` live in
buffers allocated once per solve and updated in place.
``SSORPCG`` itself stays the NumPy/array-API formulation that the GPU mirror
(:class:`itersolve.gpu._sor.ColoredSSORPCG`) inherits and the tests compare against.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._result import Status
from . import _pcg_kernels as kernels
from ._solvers import RESCALE, RESCALE_FLOAT32, SSORPCG, PCGState, _relative_power, _unit


@dataclasses.dataclass
class FusedState(PCGState):
    q: np.ndarray = None  # A p (same scale as p)
    target: float = 0.0  # max(rtol ||b||, atol), computed once
    args: tuple = ()  # the kernel's array arguments, gathered once per solve


class FusedSSORPCG(SSORPCG):
    """:class:`SSORPCG` on a :class:`~itersolve._sor._system.LinearSystem`, fused per iteration.

    Same iterates up to rounding (sums in index order in float64 instead of BLAS ``dot``),
    same stopping rules, ``nfev`` and ``stats``.
    """

    def _fresh(self, system, norm, unit, buffers, **extra):
        """CG state for the residual in ``buffers.r`` (true scale) of norm ``norm``; the
        vectors and kernel arguments of ``buffers`` (a state) are reused."""
        scale = _relative_power(norm, unit)
        r, z, p = buffers.r, buffers.z, buffers.p
        rz = kernels.pcg_restart(*buffers.args, r, z, p, self.omega, scale)
        band = RESCALE if system.dtype == np.float64 else RESCALE_FLOAT32
        return FusedState(
            residual=norm, r=r, z=z, p=p, q=buffers.q, rz=rz, scale=scale, unit=unit,
            band=band, target=buffers.target, args=buffers.args, **extra,
        )  # fmt: skip

    def init(self, system, x0):
        # every buffer of the solve, and the row-scaled matrix of the triangular solves
        r, z, p, q = np.empty((4, system.n), dtype=system.dtype)
        split = np.empty(system.n, dtype=np.int64)
        scaled = np.empty(system.data.size, dtype=np.float64)
        fast = kernels.pcg_prepare(
            system.indptr, system.indices, system.data, system.diagonal, self.omega, split,
            scaled,
        )  # fmt: skip
        args = (system.indptr, system.indices, system.data, system.diagonal, split, scaled)
        buffers = FusedState(
            residual=math.nan, r=r, z=z, p=p, q=q, target=self.target(system),
            args=args + (bool(fast),),
        )  # fmt: skip
        system.nfev += 1
        norm = kernels.pcg_residual(system.indptr, system.indices, system.data, x0, system.b, r)
        if norm <= buffers.target:  # the residual in A's dtype: check the true one
            norm = system.true_residual_norm(x0)
        return self._fresh(system, norm, _unit(system), buffers)

    def step(self, system, x, state):
        system.nfev += 1
        band = 2.0**state.band
        outcome, curvature, stored, factor, rz = kernels.pcg_step(
            *state.args, x, state.r, state.z, state.p, state.q,
            self.omega, state.scale, state.rz, state.target, 1.0 / band, band, state.unit,
        )  # fmt: skip
        if outcome == kernels.CONTINUE:
            # the state is the solver's own: updated in place, as its buffers are
            state.residual = stored * state.scale
            state.rz = rz
            state.scale *= factor
            return x, state
        if outcome == kernels.VERIFY:
            return x, self._verify(system, x, state)
        return x, self._stop(system, x, state, outcome, curvature)

    def _stop(self, system, x, state, outcome, curvature):
        """The non-finite, nothing-to-learn and indefinite exits of :meth:`SSORPCG.step`."""
        if outcome == kernels.NONFINITE:
            note = (
                f"CG's vectors became non-finite (p·Ap = {curvature:.3e}); the solution may "
                f"lie outside the range of {np.dtype(str(x.dtype)).name}"
            )
            return dataclasses.replace(state, residual=math.nan, note=note)
        if outcome == kernels.NOTHING_TO_LEARN:
            return self._stagnated(system, x, state, system.true_residual_norm(x))
        square = state.scale * state.scale  # a float product: Inf, never OverflowError
        note = (
            f"`A` is not positive definite (p·Ap = {curvature * square:.3e}, "
            f"r·M⁻¹r = {state.rz * square:.3e}); CG needs a symmetric positive "
            "definite matrix, SOR does not"
        )
        return dataclasses.replace(state, note=note, stop=Status.INVALID_INPUT)

    def _verify(self, system, x, state):
        """As :meth:`SSORPCG._verify`, restarting into the same buffers."""
        true = system.true_residual_norm(x)
        if true <= state.target:
            state.residual, state.true = true, True  # the solve ends: no copy needed
            return state
        if state.restarts and not true < 0.5 * state.restart_residual:
            return self._stagnated(system, x, state, true)
        system.nfev += 1
        stored = kernels.pcg_residual(
            system.indptr, system.indices, system.data, x, system.b, state.r
        )
        if not stored > 0:  # b - A x rounds to zero in A's dtype: nothing to restart
            return self._stagnated(system, x, state, true)
        restarts = state.restarts + 1
        return self._fresh(
            system, true, state.unit, state, restarts=restarts, restart_residual=true
        )
