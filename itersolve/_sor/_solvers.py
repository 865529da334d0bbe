"""SOR and SSOR-preconditioned CG as solver objects for the shared driver loop.

The solvers work on any system object with the methods of
:class:`~itersolve._sor._system.LinearSystem` (the Numba kernels) or of
:class:`itersolve.gpu._sor.ColoredSystem` (the array-API mirror): ``residual_norm``,
``true_residual_norm``, ``matvec``, ``ssor_solve``, ``b``, ``norm_b``, ``nfev``.

Success is decided on the true residual ``||b - A x||_2`` of the returned iterate,
computed without overflow or underflow and accumulated in float64: SOR computes it every
sweep; CG's recursive residual only triggers that check (see :class:`SSORPCG`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._driver import Solver
from .._norms import scaled_norm
from .._result import Status
from ._kernels import colored_sor_sweep, sor_sweep

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
    note: str = ""  # why the solver stopped by itself, with `stop`
    stop: Status | None = None


class LinearSolver(Solver):
    """Shared stopping test ``||b - A x||_2 <= max(rtol ||b||_2, atol)``; the base of the SOR
    and SSOR-PCG solvers here and of their coloured twins in :mod:`itersolve.gpu._sor`."""

    rtol: float
    atol: float

    def target(self, system) -> float:
        return max(self.rtol * system.norm_b, self.atol)

    def terminate(self, system, x, state):
        if state.stop is not None:
            return True, state.stop
        if state.residual <= self.target(system):
            return True, Status.CONVERGED
        return False, Status.IN_PROGRESS

    def checked(self, system, x, residual: float) -> float:
        """``residual``, or, where it meets the target but was not computed as the true
        residual (float32 on the array-API path), the true one: success rests on it."""
        if residual <= self.target(system) and not system.residual_is_true:
            return system.true_residual_norm(x)
        return residual

    def snapshot(self, x):
        return x.copy()  # x is updated in place; a callback keeps what it saw

    def note(self, state) -> str:
        return state.note


@dataclasses.dataclass(frozen=True)
class SOR(LinearSolver):
    """One iteration = one sweep (forward, backward or symmetric) followed by ``||b - A x||_2``."""

    rtol: float
    atol: float
    omega: float = 1.0
    sweep: str = "forward"
    ordering: str = "natural"

    def init(self, system, x0):
        return LinearState(residual=self.checked(system, x0, system.residual_norm(x0)))

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


def power_of_two(value: float) -> float:
    """The power of two nearest above ``value`` (1 for 0, Inf or NaN): dividing by it is exact."""
    if not (value > 0 and math.isfinite(value)):
        return 1.0
    return math.ldexp(1.0, math.frexp(value)[1])


# CG's vectors are stored divided by a power of two `scale`, chosen so that the stored
# residual has a norm near `unit`, the power of two nearest sqrt(max |a_ii|): then
# M^{-1} r ~ r / |A| ~ 1/unit and A p ~ unit, so r·z and p·Ap are of order one, whatever
# the scales of A and b, and can neither underflow (a false "not positive definite") nor
# overflow. They are renormalised when the stored residual leaves
# unit * [2**-RESCALE, 2**RESCALE] (float64; float32's range allows 2**-20 .. 2**20).
RESCALE = 100
RESCALE_FLOAT32 = 20


def _relative_power(norm: float, unit: float) -> float:
    """The power of two that brings ``norm`` near ``unit`` (a power of two), kept inside the
    float range: where it would leave it, the solution is beyond the range anyway and the
    iteration ends NONFINITE."""
    if not (norm > 0 and math.isfinite(norm)):
        return 1.0
    exponent = math.frexp(norm)[1] - (math.frexp(unit)[1] - 1)
    return math.ldexp(1.0, min(max(exponent, -1022), 1023))


def _unit(system) -> float:
    """The power of two nearest ``sqrt(max |a_ii|)`` (exact in every product)."""
    largest = float(abs(system.diagonal).max())
    return math.ldexp(1.0, math.frexp(largest)[1] // 2) if largest > 0 else 1.0


@dataclasses.dataclass
class PCGState(LinearState):
    r: np.ndarray = None  # the residual, divided by `scale`
    z: np.ndarray = None  # M^{-1} r (same scale)
    p: np.ndarray = None  # the search direction (same scale)
    rz: float = 0.0
    scale: float = 1.0
    unit: float = 1.0  # the stored residual's target norm (see RESCALE)
    band: int = 100  # RESCALE for the dtype
    restarts: int = 0
    restart_residual: float = math.inf  # the true residual at the last restart
    true: bool = False  # `residual` is the true ||b - A x|| of the current x


@dataclasses.dataclass(frozen=True)
class SSORPCG(LinearSolver):
    """Conjugate gradients preconditioned by SSOR(ω), for symmetric positive definite ``A``.

    ``residuals`` holds CG's recursively updated residual norms. When that recursive norm
    meets the tolerance, the true ``||b - A x||_2`` is computed: if it meets the tolerance
    too, the solve has converged (and the last entry of ``residuals`` is the true norm);
    otherwise CG restarts from the true residual (``stats["restarts"]``). A restart that
    did not halve the true residual of the previous one means the attainable accuracy is
    reached (rounding in ``A p``): the solve stops with ``Status.STAGNATED``.
    ``stats["true_residual"]`` is ``||b - A x||_2`` at the end.
    """

    rtol: float
    atol: float
    omega: float = 1.0

    def _fresh(self, system, r, norm, unit, **extra):
        """CG state for the residual ``r`` (true scale) of norm ``norm``."""
        scale = _relative_power(norm, unit)
        r = r / scale  # exact: a power of two
        z = system.ssor_solve(r, self.omega)
        # p may share z's memory: every update builds a new array
        band = RESCALE if np.dtype(str(r.dtype)) == np.float64 else RESCALE_FLOAT32
        return PCGState(
            residual=norm, r=r, z=z, p=z, rz=float(r @ z), scale=scale, unit=unit, band=band,
            **extra,
        )

    def init(self, system, x0):
        r = system.b - system.matvec(x0)
        norm = scaled_norm(r)
        if norm <= self.target(system):  # the residual in A's dtype: check the true one
            norm = system.true_residual_norm(x0)
        return self._fresh(system, r, norm, _unit(system))

    def step(self, system, x, state):
        q = system.matvec(state.p)
        curvature = float(state.p @ q)
        if not (math.isfinite(curvature) and math.isfinite(state.rz)):
            # overflow in x, p or A p: the solution is beyond the floating-point range
            note = (
                f"CG's vectors became non-finite (p·Ap = {curvature:.3e}); the solution may "
                f"lie outside the range of {np.dtype(str(x.dtype)).name}"
            )
            return x, dataclasses.replace(state, residual=math.nan, note=note)
        if curvature == 0 and state.rz == 0:  # M^{-1} r rounded to zero: nothing to learn
            return x, self._stagnated(system, x, state, system.true_residual_norm(x))
        if not curvature > 0 or not state.rz > 0:
            square = state.scale * state.scale  # a float product: Inf, never OverflowError
            note = (
                f"`A` is not positive definite (p·Ap = {curvature * square:.3e}, "
                f"r·M⁻¹r = {state.rz * square:.3e}); CG needs a symmetric positive "
                "definite matrix, SOR does not"
            )
            return x, dataclasses.replace(state, note=note, stop=Status.INVALID_INPUT)
        alpha = state.rz / curvature
        x += (alpha * state.scale) * state.p
        r = state.r - alpha * q
        stored = scaled_norm(r)
        residual = stored * state.scale
        if residual <= self.target(system):
            return x, self._verify(system, x, state)
        factor = 1.0
        if not 2.0**-state.band <= stored / state.unit <= 2.0**state.band:
            factor = _relative_power(stored, state.unit)
            r = r / factor
        z = system.ssor_solve(r, self.omega)
        rz = float(r @ z)
        # beta = rz_new / rz_old in true scale; p is stored at the old scale
        p = z + (factor * (rz / state.rz)) * state.p
        return x, dataclasses.replace(
            state, residual=residual, r=r, z=z, p=p, rz=rz, scale=state.scale * factor
        )

    def _verify(self, system, x, state):
        """The recursive residual met the target: accept, restart, or give up honestly."""
        true = system.true_residual_norm(x)
        if true <= self.target(system):
            return dataclasses.replace(state, residual=true, true=True)
        if state.restarts and not true < 0.5 * state.restart_residual:
            return self._stagnated(system, x, state, true)
        r = system.b - system.matvec(x)
        if not scaled_norm(r) > 0:  # b - A x rounds to zero in A's dtype: nothing to restart
            return self._stagnated(system, x, state, true)
        return self._fresh(
            system, r, true, state.unit, restarts=state.restarts + 1, restart_residual=true
        )

    def _stagnated(self, system, x, state, true):
        """Stop: CG cannot reduce the true residual further in this precision."""
        note = (
            f"the true residual ||b - Ax|| = {true:.3e} stays above the target "
            f"{self.target(system):.3e} and CG cannot reduce it further (its recursive "
            f"residual met the tolerance or vanished; {state.restarts} restart(s)): the "
            f"attainable accuracy in {np.dtype(str(x.dtype)).name} is reached; loosen "
            "`rtol`/`atol`"
        )
        return dataclasses.replace(
            state, residual=true, note=note, stop=Status.STAGNATED, true=True
        )

    def postprocess(self, system, x, state):
        # the last residual is the true one after a check; otherwise compute it (uncounted)
        true = state.residual
        if not state.true:
            nfev = system.nfev
            true = system.true_residual_norm(x)
            system.nfev = nfev
        return x, {"omega": self.omega, "true_residual": true, "restarts": state.restarts}
