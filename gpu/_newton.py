"""Newton's method on the array-API namespace: the CuPy and ``backend="array-api"`` path.

:class:`BatchedNewton` advances ``B`` starting points together, the rows of ``X``: stacked
Jacobians ``(B, n, n)``, one batched ``xp.linalg.solve`` per iteration, a status per row.
:func:`itersolve.newton`, :func:`~itersolve.deflated_newton` and
:func:`~itersolve.find_roots` run it on one row (``B = 1``) through
:func:`itersolve._driver.run`, which gives their results every field of the NumPy path's;
:func:`batched_newton` runs many rows at once (basins of attraction, root sampling), where
``run``'s one residual per iteration does not fit. It is the iteration of
:class:`itersolve._newton._newton.Newton` row by row: the same stopping test, line search,
deflation factor and stops, with the same words.

The arithmetic on the rows (``F``, the Jacobian, the solve, the update; see
:mod:`._newton_rows`) stays on the device; the per-row bookkeeping (norms, statuses, the
stopping test) is ``B`` host numbers per iteration. CuPy enters only through the arrays;
CI runs the same code on NumPy and ``array_api_strict`` (``tests/test_newton.py``,
``tests/test_deflation.py``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import array_api_compat
import numpy as np

from itersolve._backend import to_host
from itersolve._driver import Solver
from itersolve._newton import (
    ARMIJO_C,
    DIVERGENCE_GROWTH,
    DIVERGENCE_WINDOW,
    MIN_STEP,
    SINGULAR_REASONS,
    ShiftedDeflation,
    deflated_root_note,
    diverging_note,
    line_search_note,
    newton_stats,
    singular_note,
    stuck_note,
    tau_note,
)
from itersolve._result import Status
from itersolve._validation import check_int, check_tolerances

from ._newton_rows import RowsProblem, finite_rows, row_norms

__all__ = ["BatchedNewton", "BatchedNewtonResult", "RowsProblem", "batched_newton"]

IN_PROGRESS = int(Status.IN_PROGRESS)


@dataclasses.dataclass
class RowsState:
    """Where each row stands; host arrays of ``B`` entries unless noted."""

    FX: Any  # F at the rows, (B, n) on the device
    residuals: np.ndarray  # ||F(x)||_2, the undeflated residual
    xnorms: np.ndarray
    residual0: np.ndarray  # ||F(x_0)||_2: rtol is relative to it
    previous: np.ndarray  # the residual before the last step
    step_norms: np.ndarray  # ||x_k - x_{k-1}|| of the last step (NaN before the first)
    status: np.ndarray  # Status codes; IN_PROGRESS while the row runs
    nit: np.ndarray
    notes: list  # why each row stopped, when it decided so itself
    recent: list  # the last DIVERGENCE_WINDOW + 1 pairs (||x||, ||F(x)||) of arrays
    backtracks: np.ndarray
    roots: Any = None  # the deflated roots (k, n) on the device, or None
    weight: Any = None  # the deflation's norm weights and their square roots, on the device
    root_weight: Any = None
    moves: list = dataclasses.field(default_factory=list)  # per step: (moved, step norms)
    taus: list = dataclasses.field(default_factory=list)  # per step: (computed, tau)

    @property
    def residual(self) -> float:
        """What :func:`~itersolve._driver.run` records: the largest row residual (NaN if
        one is NaN), the row's own for the one row the front ends run."""
        return float(np.max(self.residuals))


@dataclasses.dataclass(frozen=True)
class BatchedNewton(Solver):
    """Newton's method on each row of ``X``, the rows advancing together.

    The iteration, stopping test and stops of :func:`itersolve.newton` (``linesearch``,
    ``deflation``: those of :func:`~itersolve.deflated_newton`), row by row. A row that
    stops is frozen (identity Jacobian, zero step), so every batched solve is well posed.
    Under :func:`~itersolve._driver.run` it drives one row and reports it: ``snapshot``,
    ``note`` and ``postprocess`` give the row's vector, stop and ``stats``.
    """

    rtol: float
    atol: float
    linesearch: str | None = None
    deflation: ShiftedDeflation | None = None

    def init(self, problem: RowsProblem, X) -> RowsState:
        xp, rows = problem.xp, X.shape[0]
        roots = weight = root_weight = None
        if self.deflation is not None and len(self.deflation):
            device = problem.device
            roots = xp.astype(
                xp.asarray(np.stack(self.deflation.roots), device=device), problem.dtype
            )
            weight = xp.asarray(self.deflation.weight, device=device)
            root_weight = xp.asarray(np.sqrt(self.deflation.weight), device=device)
        FX = problem(X)
        residuals, xnorms = row_norms(xp, FX), row_norms(xp, X)
        return RowsState(
            FX=FX,
            residuals=residuals,
            xnorms=xnorms,
            residual0=residuals,
            previous=np.full(rows, np.inf),
            step_norms=np.full(rows, np.nan),
            status=np.full(rows, IN_PROGRESS),
            nit=np.zeros(rows, dtype=np.int64),
            notes=[""] * rows,
            recent=[(xnorms, residuals)],
            backtracks=np.zeros(rows, dtype=np.int64),
            roots=roots,
            weight=weight,
            root_weight=root_weight,
        )

    # -- deflation: eta, and tau from the gradient of log eta (ShiftedDeflation's formulas)

    def _distances(self, xp, X, state, weighted: bool) -> np.ndarray:
        """``||x_b - r_i||`` (B, k), in the deflation's weighted norm or the plain one."""
        differences = X[:, None, :] - state.roots[None, :, :]
        if weighted:
            differences = state.root_weight * differences
        return row_norms(xp, differences)

    def _merit(self, xp, X, residuals, state) -> np.ndarray:
        """``eta(x) ||F(x)||`` per row (``||F(x)||`` without deflation)."""
        if state.roots is None:
            return residuals
        d = self._distances(xp, X, state, weighted=True)
        eta = np.prod(d**-self.deflation.power + self.deflation.shift, axis=1)
        return eta * residuals

    def _tau(self, xp, X, delta, state) -> np.ndarray:
        """ShiftedDeflation.tau per row: ``1 / (1 - Re(grad log eta^H delta))``."""
        p, sigma = self.deflation.power, self.deflation.shift
        d = self._distances(xp, X, state, weighted=True)
        gradient = xp.zeros_like(X)
        for i in range(state.roots.shape[0]):
            scale = xp.asarray(d[:, i] ** 2 * (1 + sigma * d[:, i] ** p), device=X.device)
            w = X - state.roots[i, :]
            gradient = gradient - p * state.weight * w / scale[:, None]
        if xp.isdtype(X.dtype, "complex floating"):
            gradient = xp.conj(gradient)
        s = np.real(to_host(xp.sum(gradient * delta, axis=1))).astype(np.float64)
        return 1.0 / (1.0 - s)  # s = 1: tau = inf, a stop

    def _evaluate(self, problem, Y, rows):
        """``(F(Y), ||F(Y)||)`` for the host mask ``rows``: NaN at a row whose ``Y`` is
        not finite, and F not called when no row of ``rows`` is (as Newton skips F at an
        overflowed iterate)."""
        xp = problem.xp
        finite = finite_rows(xp, Y) & rows
        residuals = np.full(Y.shape[0], np.nan)
        FY = xp.full(Y.shape, float("nan"), dtype=Y.dtype, device=problem.device)
        if finite.any():
            values = problem(Y)
            residuals = np.where(finite, row_norms(xp, values), np.nan)
            FY = xp.where(xp.asarray(finite, device=problem.device)[:, None], values, FY)
        return FY, residuals

    def step(self, problem, X, state):
        xp, device = problem.xp, problem.device
        active = state.status == IN_PROGRESS
        k = state.nit + 1
        status, notes = state.status.copy(), list(state.notes)

        def stop(rows, note):
            for b in np.flatnonzero(rows):
                status[b], notes[b] = int(Status.STAGNATED), note(b)

        on = xp.asarray(active, device=device)
        J = problem.jacobian(X, state.FX)
        nonfinite_J = ~finite_rows(xp, J)
        J = xp.where(on[:, None, None], J, xp.eye(problem.n, dtype=X.dtype, device=device))
        rhs = xp.where(on[:, None], state.FX, xp.zeros_like(state.FX))
        Z, zero_pivot = problem.solve(J, rhs)
        delta = -Z
        solved = finite_rows(xp, delta)
        why = np.where(nonfinite_J, "nonfinite", np.where(zero_pivot, "pivot", "solution"))
        stop(active & ~solved, lambda b: singular_note(k[b], SINGULAR_REASONS[why[b]]))
        moving = active & solved
        direction = delta
        taus = state.taus
        if state.roots is not None:
            tau = self._tau(xp, X, delta, state)
            stop(moving & ~np.isfinite(tau), lambda b: tau_note(k[b], tau[b]))
            taus = taus + [(moving & np.isfinite(tau), tau)]
            moving = moving & np.isfinite(tau)
            direction = xp.asarray(np.where(moving, tau, 0.0), device=device)[:, None] * delta
        still = xp.asarray(moving, device=device)[:, None]
        direction = xp.where(still, direction, xp.zeros_like(delta))

        # Backtracking t = 1, 1/2, ... row by row; without a line search t = 1 is taken.
        t = np.ones(X.shape[0])
        halvings = np.zeros(X.shape[0], dtype=np.int64)
        pending, accepted = moving.copy(), np.zeros_like(moving)
        merit = self._merit(xp, X, state.residuals, state) if self.linesearch else None
        Xnew, FXnew, residuals = X, state.FX, state.residuals
        while pending.any():
            Y = X + xp.asarray(t, device=device)[:, None] * direction
            FY, trial_residuals = self._evaluate(problem, Y, pending)
            if self.linesearch is None:
                take = pending
            else:
                trial = self._merit(xp, Y, trial_residuals, state)
                bound = np.sqrt(1 - 2 * ARMIJO_C * t) * merit
                take = pending & np.isfinite(trial) & (trial <= bound)
            chosen = xp.asarray(take, device=device)[:, None]
            Xnew, FXnew = xp.where(chosen, Y, Xnew), xp.where(chosen, FY, FXnew)
            residuals = np.where(take, trial_residuals, residuals)
            accepted, pending = accepted | take, pending & ~take
            give_up = pending & (t / 2 < MIN_STEP)
            stop(give_up, lambda b: line_search_note(k[b]))
            pending = pending & ~give_up
            t = np.where(pending, t / 2, t)
            halvings = halvings + pending

        steps = np.where(accepted, row_norms(xp, Xnew - X), state.step_norms)
        xnorms = np.where(accepted, row_norms(xp, Xnew), state.xnorms)
        recent = (state.recent + [(xnorms, residuals)])[-(DIVERGENCE_WINDOW + 1) :]
        return Xnew, dataclasses.replace(
            state,
            FX=FXnew,
            residuals=residuals,
            xnorms=xnorms,
            previous=np.where(accepted, state.residuals, state.previous),
            step_norms=steps,
            status=status,
            nit=state.nit + active,  # a failed solve counts as an iteration, as in run
            notes=notes,
            recent=recent,
            backtracks=state.backtracks + np.where(accepted, halvings, 0),  # as Newton counts
            moves=state.moves + [(accepted, steps)],
            taus=taus,
        )

    def terminate(self, problem, X, state):
        status, notes = state.status, state.notes  # run reads the stop from them
        active = status == IN_PROGRESS
        finite = np.isfinite(state.residuals)
        status[active & ~finite] = int(Status.NONFINITE)
        rows = active & finite
        small = state.step_norms <= self.rtol * state.xnorms
        floor = np.maximum(self.atol, self.rtol * state.residual0)
        converged = rows & (state.residuals <= np.where(small, floor, self.atol))
        stuck = rows & ~converged & small & (state.residuals >= state.previous)
        for b in np.flatnonzero(stuck):
            notes[b] = stuck_note(state.step_norms[b], state.residuals[b], floor[b])
        diverging = np.zeros_like(stuck)
        recent = state.recent
        if len(recent) > DIVERGENCE_WINDOW:
            rising = np.ones_like(stuck)
            for (x_a, f_a), (x_b, f_b) in zip(recent[:-1], recent[1:]):
                rising &= (x_b > x_a) & (f_b > f_a)
            growth = recent[-1][0] >= DIVERGENCE_GROWTH * np.maximum(1.0, recent[0][0])
            diverging = rows & ~converged & ~stuck & rising & growth
            for b in np.flatnonzero(diverging):
                notes[b] = diverging_note([(x[b], f[b]) for x, f in recent])
        status[stuck | diverging] = int(Status.STAGNATED)
        if state.roots is not None and converged.any():
            # A root indistinguishable from a deflated one is no new root (see Newton).
            xp = problem.xp
            distances = self._distances(xp, X, state, weighted=False)
            root_norms = row_norms(xp, state.roots)
            step = np.where(np.isfinite(state.step_norms), state.step_norms, 0.0)
            near = distances <= np.maximum(
                100 * step[:, None], 1e-8 * np.maximum(1.0, root_norms)[None, :]
            )
            for b in np.flatnonzero(converged & near.any(axis=1)):
                i = int(np.argmax(near[b]))
                converged[b], status[b] = False, int(Status.STAGNATED)
                notes[b] = deflated_root_note(i, distances[b, i])
        status[converged] = int(Status.CONVERGED)
        done = not (status == IN_PROGRESS).any()
        if not done:
            return False, Status.IN_PROGRESS
        # The batch's status: the first row's that did not converge (the row's own for one).
        failed = np.flatnonzero(status != int(Status.CONVERGED))
        return True, Status(int(status[failed[0]])) if failed.size else Status.CONVERGED

    # -- what run reports: the one row the front ends run

    def snapshot(self, X):
        return X[0, ...]

    def note(self, state) -> str:
        return state.notes[0]

    def postprocess(self, problem, X, state):
        steps = [norms[0] for moved, norms in state.moves if moved[0]]
        taus = [tau[0] for computed, tau in state.taus if computed[0]]
        stats = newton_stats(problem, steps, state.backtracks[0], taus, self.deflation)
        return X[0, ...], stats


@dataclasses.dataclass(frozen=True)
class BatchedNewtonResult:
    """Per-row outcome of :func:`batched_newton` (arrays in ``X0``'s library and device).

    ``x`` (B, n); ``status`` (B,) the rows' :class:`itersolve.Status` codes (int32);
    ``nit`` (B,) iterations of each row; ``residual`` (B,) ``||F(x)||_2`` at the returned
    rows; ``iterations``: batch iterations run (the largest ``nit``).
    """

    x: Any
    status: Any
    nit: Any
    residual: Any
    iterations: int

    @property
    def converged(self):
        return self.status == int(Status.CONVERGED)


def batched_newton(
    F, jacobian, X0, *, rtol: float = 1e-10, atol: float = 1e-12, maxiter: int = 100
) -> BatchedNewtonResult:
    r"""Newton's method from every row of ``X0`` at once (:class:`BatchedNewton`, no line
    search, no deflation).

    Parameters
    ----------
    F : callable
        ``F(X) -> (B, n)`` for ``X`` of shape ``(B, n)``: the system, row by row.
    jacobian : callable or {"2-point", "3-point"}
        ``jacobian(X) -> (B, n, n)``: the stacked Jacobians; or differences on the rows.
    X0 : array, shape (B, n)
        Starting points (real or complex floating; NumPy, CuPy, any array-API library).
    rtol, atol : float
        :func:`itersolve.newton`'s test and stops, per row.
    maxiter : int
        Iteration limit per row.

    Returns
    -------
    BatchedNewtonResult

    Notes
    -----
    ``F`` and ``jacobian`` are evaluated on all rows, finished ones included. Each row
    follows :func:`itersolve.newton` from its start (to rounding: the norms here are
    scaled per row), status and iteration count included.

    Examples
    --------
    >>> import numpy as np
    >>> from itersolve.gpu._newton import batched_newton
    >>> F = lambda X: np.stack([X[:, 0]**2 + X[:, 1]**2 - 4, X[:, 0] * X[:, 1] - 1], axis=1)
    >>> J = lambda X: np.stack([np.stack([2 * X[:, 0], 2 * X[:, 1]], -1),
    ...                         np.stack([X[:, 1], X[:, 0]], -1)], axis=1)
    >>> out = batched_newton(F, J, np.array([[3.0, 0.5], [-3.0, -0.5]]))
    >>> out.converged.tolist(), np.round(out.x[:, 0], 6).tolist()
    ([True, True], [1.931852, -1.931852])
    """
    check_tolerances(rtol, atol, maxiter)
    maxiter = check_int("maxiter", maxiter, low=0)
    xp = array_api_compat.array_namespace(X0)
    X = xp.asarray(X0, copy=True)
    problem = RowsProblem(F, jacobian, X, one_vector=False)
    solver = BatchedNewton(rtol, atol)
    state = solver.init(problem, X)
    iterations = 0
    with np.errstate(all="ignore"):  # overflow ends a row with NONFINITE, not a warning
        while not solver.terminate(problem, X, state)[0]:
            if iterations == maxiter:
                state.status[state.status == IN_PROGRESS] = int(Status.MAXITER)
                break
            X, state = solver.step(problem, X, state)
            iterations += 1

    def device(a):
        return xp.asarray(a, device=problem.device)

    return BatchedNewtonResult(
        x=X,
        status=device(state.status.astype(np.int32)),
        nit=device(state.nit.astype(np.int32)),
        residual=device(state.residuals),
        iterations=iterations,
    )
