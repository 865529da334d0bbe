"""Halpern PDHG on the CPU with the iteration in Numba kernels (``backend="numpy"``).

:class:`FusedPDHG` is :class:`~._pdhg.HalpernPDHG` with its iterate kept in fixed NumPy
buffers that the kernels of :mod:`._kernels` update in place. Iterations come in two kinds:

- *plain* ones, which need no scalar of the iterate: they run in blocks, a whole stretch
  between two Python visits in one kernel call (:func:`._kernels.pdhg_block`);
- *visited* ones: a KKT check (every ``check_every`` iterations), the first iteration
  after a (re)start (whose fixed-point residual is the anchor's), and a fixed restart
  that falls due. There the kernel computes ``T(z)`` only, and the array-API path's own
  Python code (fixed-point residual, restart rule, primal-weight update, KKT check and
  certificates) decides, on the same arrays.

So the arithmetic is the array-API path's, operation for operation, and a solve gives its
iterates, ``nit``, ``nfev``, status and returned point bit for bit; only the KKT errors
recorded at checks the compiled screen settles (:meth:`FusedPDHG._screen`) may differ,
by rounding (``tests/test_linprog_kernels_property.py``).
With a callback the driver steps one iteration at a time (:meth:`FusedPDHG.step`);
without one :func:`run_blocks` runs from visit to visit, so Python runs about twice per
``check_every`` iterations instead of at every one.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._driver import _History, _message, check_run_options, stalled_note
from .._result import SolveResult, Status, observed_rate
from ._certificates import _CANCELLATION
from ._pdhg import POLISH_GATE, HalpernPDHG

__all__ = ["FusedPDHG", "run_blocks"]

PLAIN, HALPERN, TRANSFORM = 1, 0, 2  # pdhg_block's modes
EPS = float(np.finfo(np.float64).eps)
# where _norms.scaled_norm returns the plain sqrt of the dot product, with room to spare
NORM_RANGE = (
    4 * math.sqrt(float(np.finfo(np.float64).tiny) / EPS),
    math.sqrt(float(np.finfo(np.float64).max)) / 16,
)


@dataclasses.dataclass(frozen=True)
class FusedPDHG(HalpernPDHG):
    """:class:`HalpernPDHG` whose iterations run in Numba kernels (same arithmetic)."""

    def init(self, lp, x0):
        from ._kernels import check_csr

        for matrix, rows, cols in ((lp.Ks, lp.m, lp.n), (lp.KsT, lp.n, lp.m)):
            check_csr(matrix.indptr, matrix.indices, matrix.data, rows, cols)
        s = super().init(lp, x0)

        def own(v):  # a buffer of its own: the kernels write in place, nothing may alias
            return np.array(v, dtype=np.float64, copy=True, order="C")

        s.x, s.y, s.Kx, s.KTy = map(own, (s.x, s.y, s.Kx, s.KTy))
        s.xT, s.yT, s.KxT, s.KTyT = map(own, (s.xT, s.yT, s.KxT, s.KTyT))
        s.anchor = tuple(map(own, s.anchor))
        s.packed = _pack(self, lp)
        return s

    def _normal_product(self, lp):
        # scipy's two products, to the bit, without their per-call overhead (60 of each
        # per solve: a few percent of a small LP's time)
        from ._kernels import normal_product

        Ks, KsT, middle = lp.Ks, lp.KsT, np.empty(lp.m)

        def normal(v):
            out = np.empty(lp.n)
            normal_product(
                Ks.indptr, Ks.indices, Ks.data, KsT.indptr, KsT.indices, KsT.data, v, middle, out
            )
            return out

        return normal

    def step(self, lp, x, state):
        """One iteration (the driver's interface, used when a callback sees every iterate)."""
        self.advance(lp, state, 1)
        return state.xT, state

    def until_visit(self, s) -> int:
        """How many iterations from now the next visited one is (1: the very next)."""
        due = self.check_every - s.it % self.check_every
        if self.accelerate:
            if s.since_restart == 0:
                return 1
            if isinstance(self.restart, int) and not isinstance(self.restart, bool):
                due = min(due, max(1, self.restart - s.since_restart))
        return due

    def advance(self, lp, s, limit: int | None) -> int:
        """Run the plain iterations up to the next visited one and that one, but at most
        ``limit`` iterations in all; return how many ran."""
        due = self.until_visit(s)
        plain = due - 1 if limit is None else min(due - 1, limit)
        if plain > 0:
            self._block(lp, s, plain, HALPERN if self.accelerate else PLAIN)
        if plain == limit:
            return plain
        self._visit(lp, s)
        return plain + 1

    def _block(self, lp, s, count, mode):
        from ._kernels import pdhg_block, primal_step

        tau, sigma = s.eta / s.omega, s.eta * s.omega
        primal_step(s.x, s.KTy, lp.cs, lp.lbs, lp.ubs, tau, s.xT)
        Ks, KsT = lp.Ks, lp.KsT
        pdhg_block(
            Ks.indptr, Ks.indices, Ks.data, KsT.indptr, KsT.indices, KsT.data,
            lp.cs, lp.lbs, lp.ubs, lp.lcs, lp.ucs,
            s.x, s.y, s.Kx, s.KTy, s.xT, s.yT, s.KxT, s.KTyT, *s.anchor,
            tau, sigma, s.since_restart, count, self.reflection, mode,
        )  # fmt: skip
        lp.nfev += 2 * count
        s.it += count
        if mode == HALPERN:
            s.since_restart += count

    def _visit(self, lp, s):
        """One iteration as ``HalpernPDHG.step`` takes it, with ``T(z)`` from the kernel."""
        tau, sigma = s.eta / s.omega, s.eta * s.omega
        check = (s.it + 1) % self.check_every == 0
        previous = (s.x.copy(), s.y.copy()) if check else None
        self._block(lp, s, 1, TRANSFORM)
        self._follow(lp, s, check, tau, sigma)
        if check:
            self._check(lp, s, previous)

    # the iterate lives in buffers the kernels write in place: copy into them, never alias

    def _take(self, s):
        for z, t in zip((s.x, s.y, s.Kx, s.KTy), (s.xT, s.yT, s.KxT, s.KTyT)):
            np.copyto(z, t)

    def _combine(self, s, a, b, rho):
        from ._kernels import halpern_update

        new = (s.xT, s.yT, s.KxT, s.KTyT)
        old = (s.x, s.y, s.Kx, s.KTy)
        halpern_update(*(v for triple in zip(old, new, s.anchor) for v in triple), a, b, rho)

    def _fixed_point_residual(self, lp, s, tau, sigma):
        # HalpernPDHG's formula with its three np.sum figures from one kernel, bit for bit
        from ._kernels import fixed_point_sums

        scratch = s.packed[-1]
        xx, yy, yk = fixed_point_sums(s.x, s.xT, s.y, s.yT, s.Kx, s.KxT, scratch)
        square = float(xx) / tau + float(yy) / sigma + 2.0 * float(yk)
        return math.sqrt(max(square, 0.0))

    def _check(self, lp, s, previous):
        # the compiled screen settles the common check (no decision near its threshold);
        # the array-API path's _check takes every other one, and the first and last
        if previous is None or not self._screen(lp, s, previous):
            super()._check(lp, s, previous)

    def _screen(self, lp, s, previous) -> bool:
        """Settle the check at ``T(z)`` with :func:`._check_kernel.check_screen` when none of
        ``_check``'s decisions is within rounding of its threshold (then ``_check`` would
        only record figures); return False, having changed nothing, otherwise.

        Settled here, the check records the kernel's figures: its KKT error (in
        ``residuals``) may differ from the array-API path's in the last bits, since it
        sums in another order; the iterates, the returned point and every decision are
        the same.
        """
        from ._check_kernel import check_screen

        K, KT, cols, rows, units, tests, _ = s.packed
        x_out, y_out = np.empty(lp.n), np.empty(lp.m)
        kkt, farkas, rays = np.empty(6), np.empty((3, 4)), np.empty((3, 4))
        settled = check_screen(
            K.indptr, K.indices, K.data, KT.indptr, KT.indices, KT.data, cols, rows, units,
            s.xT, s.yT, s.KxT, s.KTyT, previous[0], previous[1], s.anchor[0], s.anchor[1],
            x_out, y_out, kkt, farkas, rays, tests,
        )  # fmt: skip
        if not settled:
            return False
        if lp.m:  # the products check_farkas and check_ray would have spent
            lp.nfev += int(np.count_nonzero(farkas[:, 0]) + np.count_nonzero(rays[:, 0]))
        primal, dual = math.sqrt(kkt[0]), math.sqrt(kkt[1])
        p_obj, d_obj = float(kkt[2]), float(kkt[3])
        gap = abs(p_obj - d_obj)
        U = lp.units
        P, D, unit = U["P"], U["D"], U["D"] * U["X"]
        relative = max(primal / (1.0 + lp.b_norm), dual / (1.0 + lp.c_norm),
                       gap / (1.0 + abs(p_obj) + abs(d_obj)))  # fmt: skip
        parts = {
            "primal_residual": primal * P,
            "dual_residual": dual * D,
            "gap": gap * unit,
            "primal_objective": p_obj * unit,
            "dual_objective": d_obj * unit,
        }
        parts["absolute"] = max(parts["primal_residual"], parts["dual_residual"], parts["gap"])
        s.output, s.residual, s.kkt = (x_out, y_out, None), relative, parts
        s.checks.append((s.it, relative))
        return True

    def _restart(self, lp, s):
        # as HalpernPDHG._restart, the anchor copied into its own buffers too
        self._rebalance(lp, s)
        self._take(s)
        for z0, t in zip(s.anchor, (s.xT, s.yT, s.KxT, s.KTyT)):
            np.copyto(z0, t)
        s.since_restart = 0
        s.restarts += 1


def _pack(solver, lp):
    """The unscaled data of the check as check_screen reads it (``_check_kernel.C_*, R_*``)."""
    from ._kernels import check_csr

    K, KT = lp.K, lp.KT
    check_csr(K.indptr, K.indices, K.data, lp.m, lp.n)
    check_csr(KT.indptr, KT.indices, KT.data, lp.n, lp.m)
    cols = np.stack([
        lp.x_unit, lp.lb, lp.ub, lp.c_n, lp.lb0_n, lp.ub0_n, lp.col, lp.c, lp.lb0, lp.ub0,
        lp.lb_finite, lp.ub_finite,
    ]).astype(np.float64)  # fmt: skip
    rows = np.stack([
        lp.y_unit, lp.l_c_n, lp.u_c_n, lp.l_c0_n, lp.u_c0_n, lp.row, lp.l_c0, lp.u_c0,
        lp.l_c_finite, lp.u_c_finite,
    ]).astype(np.float64)  # fmt: skip
    U = lp.units
    units = np.array([U["X"], U["Y"], U["P"], U["D"], lp.beta, lp.gamma], dtype=np.float64)
    tests = np.array([
        solver.rtol, solver.atol, solver.eps_infeasible, 1.0 + lp.b_norm, 1.0 + lp.c_norm,
        U["X_max"], U["Y_max"], POLISH_GATE, _CANCELLATION, U["P"], U["D"], U["X"], *NORM_RANGE,
    ], dtype=np.float64)  # fmt: skip
    return K, KT, cols, rows, units, tests, np.empty(max(lp.n, lp.m))


def run_blocks(solver: FusedPDHG, lp, x0, *, maxiter, stats=None) -> SolveResult:
    """``_driver.run(solver, lp, x0, maxiter=maxiter, throw=False, stats=stats)`` without a
    callback, iterating from visit to visit: the same result, field for field.

    Between visits nothing the driver looks at changes (the residual and the status are
    set by the KKT check only), so testing them after each block instead of after each
    iteration stops at the same iteration; with ``maxiter=None`` blocks also end where the
    driver's stall rule looks (powers of two from 1024 on).
    """
    rtol, atol, maxiter = check_run_options(solver.rtol, solver.atol, maxiter, None, False)
    for name, value in (("rtol", rtol), ("atol", atol)):
        if type(getattr(solver, name)) is not float:
            object.__setattr__(solver, name, value)
    with np.errstate(all="ignore"):
        return _loop(solver, lp, x0, maxiter, stats)


def _loop(solver, lp, x0, maxiter, stats):
    state = solver.init(lp, x0)
    history = _History(state.residual)
    nit, stall_note = 0, ""
    while True:
        if math.isfinite(state.residual):
            done, status = solver.terminate(lp, None, state)
        else:
            done, status = True, Status.NONFINITE
        if done:
            break
        if maxiter is not None and nit >= maxiter:
            status = Status.MAXITER
            break
        if maxiter is not None:
            limit = maxiter - nit
        else:  # the next iteration count at which the driver's stall rule looks
            limit = max(1024, 1 << nit.bit_length()) - nit
        before = state.residual
        ran = solver.advance(lp, state, limit)
        history.extend(before, ran - 1)
        history.append(state.residual)
        nit += ran
        if maxiter is None and history.stalled():
            status = Status.STAGNATED
            stall_note = stalled_note(nit)
            break
    x, solver_stats = solver.postprocess(lp, state.xT, state)
    residuals = history.copy()
    return SolveResult(
        x=x,
        success=status == Status.CONVERGED,
        status=status,
        message=_message(status, nit, state.residual, stall_note or solver.note(state)),
        nit=nit,
        nfev=lp.nfev,
        residuals=residuals,
        rate=observed_rate(residuals),
        stats={**(stats or {}), **solver_stats},
    )
