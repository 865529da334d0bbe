"""SOR and SSOR-preconditioned CG as solver objects for the shared driver loop."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._result import Status
from ._kernels import colored_sor_sweep, sor_sweep, spmv, ssor_solve

SWEEPS = {"forward": (False,), "backward": (True,), "symmetric": (False, True)}
ORDERINGS = ("natural", "red-black", "multicolor")


def apply_sweeps(indptr, indices, data, x, b, omega, sweep, coloring=None, iterations=1):
    """``iterations`` SOR sweeps on ``x`` in place; a symmetric sweep is forward then backward.

    ``coloring`` is ``(order, color_ptr)`` for a coloured sweep, or None for natural order.
    """
    n = x.size
    for _ in range(iterations):
        for backward in SWEEPS[sweep]:
            if coloring is None:
                start, stop, step = (n - 1, -1, -1) if backward else (0, n, 1)
                sor_sweep(indptr, indices, data, x, b, start, stop, step, omega)
            else:
                colored_sor_sweep(indptr, indices, data, x, b, *coloring, omega, backward)


@dataclasses.dataclass
class LinearState:
    residual: float  # ||b - A x||_2 (true residual for SOR, CG's recursive one for PCG)
    note: str = ""


class _LinearSolver:
    """Shared stopping test ``||b - A x||_2 <= max(rtol ||b||_2, atol)``."""

    rtol: float
    atol: float

    def terminate(self, system, x, state):
        if state.note:
            return True, Status.INVALID_INPUT
        if state.residual <= max(self.rtol * system.norm_b, self.atol):
            return True, Status.CONVERGED
        return False, Status.IN_PROGRESS

    def snapshot(self, x):
        return x.copy()  # x is updated in place; a callback keeps what it saw


@dataclasses.dataclass(frozen=True)
class SOR(_LinearSolver):
    """One iteration = one sweep (forward, backward or symmetric) followed by ``||b - A x||_2``."""

    rtol: float
    atol: float
    omega: float = 1.0
    sweep: str = "forward"
    ordering: str = "natural"

    def init(self, system, x0):
        return LinearState(residual=system.residual_norm(x0))

    def step(self, system, x, state):
        apply_sweeps(
            system.indptr,
            system.indices,
            system.data,
            x,
            system.b,
            self.omega,
            self.sweep,
            system.coloring(self.ordering),
        )
        return x, LinearState(residual=system.residual_norm(x))

    def postprocess(self, system, x, state):
        return x, {"omega": self.omega, "sweep": self.sweep, "ordering": self.ordering}


@dataclasses.dataclass
class PCGState(LinearState):
    r: np.ndarray = None
    z: np.ndarray = None
    p: np.ndarray = None
    rz: float = 0.0


@dataclasses.dataclass(frozen=True)
class SSORPCG(_LinearSolver):
    """Conjugate gradients preconditioned by SSOR(ω), for symmetric positive definite ``A``.

    ``residuals`` holds CG's recursively updated residual norms; ``stats["true_residual"]``
    is ``||b - A x||_2`` recomputed at the end.
    """

    rtol: float
    atol: float
    omega: float = 1.0

    def _precondition(self, system, r):
        z = np.empty_like(r)
        ssor_solve(system.indptr, system.indices, system.data, system.diagonal, r, z, self.omega)
        return z

    def init(self, system, x0):
        r = np.empty_like(x0)
        spmv(system.indptr, system.indices, system.data, x0, r)
        system.nfev += 1
        r = system.b - r
        z = self._precondition(system, r)
        return PCGState(residual=float(np.linalg.norm(r)), r=r, z=z, p=z.copy(), rz=float(r @ z))

    def step(self, system, x, state):
        q = np.empty_like(x)
        spmv(system.indptr, system.indices, system.data, state.p, q)
        system.nfev += 1
        curvature = float(state.p @ q)
        if not curvature > 0 or not state.rz > 0:
            note = (
                f"`A` is not positive definite (p·Ap = {curvature:.3e}, r·M⁻¹r = {state.rz:.3e}); "
                "CG needs a symmetric positive definite matrix"
            )
            return x, dataclasses.replace(state, note=note)
        alpha = state.rz / curvature
        x += alpha * state.p
        r = state.r - alpha * q
        z = self._precondition(system, r)
        rz = float(r @ z)
        p = z + (rz / state.rz) * state.p
        return x, PCGState(residual=float(np.linalg.norm(r)), r=r, z=z, p=p, rz=rz)

    def postprocess(self, system, x, state):
        from ._kernels import residual_norm

        true = float(residual_norm(system.indptr, system.indices, system.data, x, system.b))
        return x, {"omega": self.omega, "true_residual": true}
