"""Solver objects and the one loop that drives them all.

A solver is a small object holding its options (tolerances, method parameters) with four
methods, in the shape of optimistix:

``init(problem, x0) -> state``
    Prepare the iteration; ``state.residual`` is the residual norm at ``x0``.
``step(problem, x, state) -> (x, state)``
    One iteration; the new ``state.residual`` belongs to the new ``x``.
``terminate(problem, x, state) -> (done, status)``
    The stopping test.
``postprocess(problem, x, state) -> (x, stats)``
    The returned iterate and the solver's extra figures.

Two parts are optional, with defaults in :class:`Solver`: ``snapshot(x)`` copies an
iterate that ``step`` updates in place (so the intermediate results a callback keeps stay
as they were), and ``note(state)`` explains a stop the solver decided on (it goes into the
message). The problem counts the evaluations of the user's function in ``problem.nfev``
(:class:`Problem`).

:func:`run` is the only loop: it checks finiteness, calls the stopping test and the
callback, enforces ``maxiter`` and builds the :class:`~itersolve.SolveResult`. Public
functions validate their input, build a solver and call :func:`run`; callers who want to
drive an iteration by hand can call ``init`` and ``step`` themselves.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np

from ._result import ConvergenceError, SolveResult, Status, observed_rate
from ._validation import check_callable, check_tolerances


class Problem(Protocol):
    """What :func:`run` reads of a problem: how often the user's function was evaluated."""

    nfev: int


class Solver:
    """The base of every solver: four required methods and two optional ones.

    Subclasses set ``rtol`` and ``atol`` (checked by :func:`run`) and implement ``init``,
    ``step``, ``terminate`` and ``postprocess``; they override ``snapshot`` when ``step``
    updates the iterate in place, and ``note`` when the solver can stop for a reason of
    its own.
    """

    rtol: float
    atol: float

    def init(self, problem, x0) -> Any:
        raise NotImplementedError

    def step(self, problem, x, state) -> tuple[Any, Any]:
        raise NotImplementedError

    def terminate(self, problem, x, state) -> tuple[bool, Status]:
        raise NotImplementedError

    def postprocess(self, problem, x, state) -> tuple[Any, dict]:
        raise NotImplementedError

    def snapshot(self, x):
        """A copy of ``x`` that later steps leave alone (``x`` itself if steps never write)."""
        return x

    def note(self, state) -> str:
        """Why the solver stopped, when it decided so itself; empty otherwise."""
        return ""


class _History:
    """Residual norms in a growing float64 buffer, so a callback's snapshot costs O(1)."""

    def __init__(self, first: float):
        self._buffer = np.empty(64)
        self._buffer[0] = first
        self.size = 1

    def append(self, value: float) -> None:
        if self.size == self._buffer.size:
            self._buffer = np.concatenate([self._buffer, np.empty(self._buffer.size)])
        self._buffer[self.size] = value
        self.size += 1

    def extend(self, value: float, count: int) -> None:
        """Append ``value`` ``count`` times (iterations run in one block, whose residual
        is only measured at its end)."""
        while self.size + count > self._buffer.size:
            self._buffer = np.concatenate([self._buffer, np.empty(self._buffer.size)])
        self._buffer[self.size : self.size + count] = value
        self.size += count

    def view(self) -> np.ndarray:
        view = self._buffer[: self.size]
        view.flags.writeable = False
        return view

    def copy(self) -> np.ndarray:
        return self._buffer[: self.size].copy()

    def stalled(self) -> bool:
        """Whether the second half of the history failed to improve on the first half's
        best residual by :data:`STALL_FACTOR`; checked only when the length is a power of
        two from :data:`STALL_MIN_ITERATIONS` on, so the check costs O(1) amortised."""
        k = self.size - 1
        if k < STALL_MIN_ITERATIONS or k & (k - 1):
            return False
        half = self.size // 2
        first, second = self._buffer[:half].min(), self._buffer[half : self.size].min()
        # a ratio, not second > 0.9 * first: at subnormal residuals 0.9 * first rounds
        # back to first and the test could never fire
        return bool(first == 0.0 or second / first > STALL_FACTOR)


# Without `maxiter` a solve that cannot converge would never stop. Methods that converge,
# even sublinearly (KM's o(1/sqrt k), Halpern's O(1/k)), improve their best residual by a
# factor of at least 2**-0.5 ≈ 0.71 each time k doubles; a solve whose best residual has
# not improved by 10 % over its last k/2 iterations is taken to have stagnated.
STALL_MIN_ITERATIONS = 1024
STALL_FACTOR = 0.9


def stalled_note(nit: int) -> str:
    """Why a solve with ``maxiter=None`` was stopped at iteration ``nit`` (the stall rule)."""
    return (
        f"with maxiter=None, the best residual over iterations {nit // 2} to {nit} "
        f"was not 10% below the best before them, so the solve was stopped"
    )


def _message(status: Status, nit: int, residual: float, note: str = "") -> str:
    if note:
        detail = f"Stopped at iteration {nit}: {note}."
    elif status == Status.CONVERGED:
        detail = f"Converged after {nit} iterations (residual {residual:.3e})."
    elif status == Status.MAXITER:
        detail = f"Stopped after {nit} iterations with residual {residual:.3e}."
    elif status == Status.NONFINITE:
        detail = f"Non-finite residual at iteration {nit}."
    elif status == Status.CALLBACK:
        detail = f"`callback` raised `StopIteration` at iteration {nit}."
    else:
        detail = f"Stopped at iteration {nit} with residual {residual:.3e}."
    return f"{detail} {status.advice}"


def check_run_options(rtol, atol, maxiter, callback, throw) -> tuple[float, float, int | None]:
    """The checks :func:`run` makes; returns ``(rtol, atol, maxiter)`` normalised.

    A front end calls this itself only when it needs the values before it can build its
    solver (arithmetic on a tolerance) or before costly set-up that must not run on bad
    input; :func:`run` repeats the checks, which cost about a microsecond.
    """
    rtol, atol, maxiter = check_tolerances(rtol, atol, maxiter)
    check_callable("callback", callback, optional=True)
    if not isinstance(throw, (bool, np.bool_)):
        raise TypeError(f"`throw` must be True or False, got {type(throw).__name__}")
    return rtol, atol, maxiter


def run(
    solver: Solver,
    problem: Problem,
    x0,
    *,
    maxiter: int | None,
    callback=None,
    throw: bool = False,
    stats: dict | None = None,
) -> SolveResult:
    """Drive ``solver`` from ``x0`` until it stops; return a :class:`SolveResult`.

    Each pass: check that the residual is finite, apply the solver's stopping test, call
    ``callback`` with an intermediate result (at ``nit = 0`` and after every iteration,
    so it runs ``nit + 1`` times), check ``maxiter``, then step. A callback that raises
    ``StopIteration`` ends the solve with ``Status.CALLBACK`` unless the solve had
    already finished. Exceptions raised by the user's map propagate unchanged. ``stats``
    are the front-end's figures, merged under the solver's own. With ``maxiter=None`` a
    solve whose best residual stops improving ends with ``Status.STAGNATED`` (see
    :meth:`_History.stalled`) instead of running forever.

    ``solver.rtol``, ``solver.atol``, ``maxiter``, ``callback`` and ``throw`` are checked
    before ``init``; a bad one is a ValueError or TypeError naming it. Tolerances that are
    not Python floats (NumPy scalars, integers) are replaced on the solver by their float.
    """
    rtol, atol, maxiter = check_run_options(solver.rtol, solver.atol, maxiter, callback, throw)
    # Solvers compute with their tolerances, so they hold them as Python floats: an
    # np.float32 rtol times a scale of 1e100 would overflow to inf in float32 and pass any
    # test. object.__setattr__ reaches frozen dataclasses too; a solver that already holds
    # floats (the usual case) is left alone.
    for name, value in (("rtol", rtol), ("atol", atol)):
        if type(getattr(solver, name)) is not float:
            object.__setattr__(solver, name, value)
    with np.errstate(all="ignore"):  # divergence ends with Status.NONFINITE, not a warning
        return _loop(solver, problem, x0, maxiter, callback, bool(throw), stats)


def _loop(solver: Solver, problem: Problem, x0, maxiter, callback, throw, stats) -> SolveResult:
    x, state = x0, solver.init(problem, x0)
    history = _History(state.residual)
    nit = 0
    stall_note = ""
    while True:
        if math.isfinite(state.residual):
            done, status = solver.terminate(problem, x, state)
        else:
            done, status = True, Status.NONFINITE
        if callback is not None:
            snapshot = SolveResult(
                x=solver.snapshot(x),
                success=status == Status.CONVERGED and done,
                status=status if done else Status.IN_PROGRESS,
                message=_message(status, nit, state.residual, solver.note(state))
                if done
                else Status.IN_PROGRESS.advice,
                nit=nit,
                nfev=problem.nfev,
                residuals=history.view(),
            )
            try:
                callback(snapshot)
            except StopIteration:
                if not done:
                    done, status = True, Status.CALLBACK
        if done:
            break
        if maxiter is not None and nit >= maxiter:
            status = Status.MAXITER
            break
        x, state = solver.step(problem, x, state)
        nit += 1
        history.append(state.residual)
        if maxiter is None and history.stalled():
            status = Status.STAGNATED
            stall_note = stalled_note(nit)
            break

    x, solver_stats = solver.postprocess(problem, x, state)
    stats = {**(stats or {}), **solver_stats}
    residuals = history.copy()
    result = SolveResult(
        x=x,
        success=status == Status.CONVERGED,
        status=status,
        message=_message(status, nit, state.residual, stall_note or solver.note(state)),
        nit=nit,
        nfev=problem.nfev,
        residuals=residuals,
        rate=observed_rate(residuals),
        stats=stats,
    )
    if throw and not result.success and status != Status.CALLBACK:
        raise ConvergenceError(result)
    return result
