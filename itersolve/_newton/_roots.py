"""``find_roots``: solve, record the root, deflate it, solve again from the same guess."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._backend import resolve, to_host
from .._driver import check_run_options, run
from .._result import ConvergenceError, SolveResult, Status
from .._validation import check_array, check_int, check_real
from .._workers import check_workers
from ._bezout import BezoutStop
from ._deflation import ShiftedDeflation
from ._jacobian import norm, start_vector
from ._polynomial import PolynomialSystem
from ._roots_batched import batched_solves, rows_functions
from ._roots_rounds import in_workers, search_in_rounds
from ._solve import newton_parts, on_backend, prepare

__all__ = ["RootsResult", "find_roots"]


@dataclasses.dataclass(frozen=True, repr=False)
class RootsResult:
    """The distinct roots :func:`find_roots` found, and how the search ended.

    Attributes
    ----------
    roots : array, shape (k, n)
        One row per distinct root, in the order found, in the backend's array library
        (a NumPy array on the NumPy backend).
    results : tuple of SolveResult
        The converged deflated solve that found each root (``results[i].x == roots[i]``).
    attempts : tuple of SolveResult
        Every deflated solve, converged or not, in the order run.
    success : bool
        At least one root was found.
    status : Status
        ``CALLBACK`` when the callback stopped the search, else ``CONVERGED`` when a root
        was found, else the status of the last attempt.
    reason : {"max_roots", "root_limit", "bezout", "exhausted", "callback"}
        ``"max_roots"``: the requested number of roots was found. ``"root_limit"``:
        ``max_roots=None`` and the search stopped at its built-in limit of
        ``DEFAULT_ROOT_LIMIT = 100`` roots (``F`` may have infinitely many). ``"exhausted"``:
        the last deflated solve from every starting guess failed to find a new root, the
        normal end of a deflation search (it cannot prove that no root is left).
        ``"bezout"``: ``F`` is a square :class:`PolynomialSystem` and as many roots as
        Bézout's bound (the product of the degrees) were found and certified simple and
        distinct by the α-test, so no isolated root is left (:mod:`._bezout`).
        ``"callback"``: the callback raised ``StopIteration``.
    message : str
    nit, nfev, jacobian_evaluations, linear_solves : int
        Totals over all attempts.
    """

    roots: Any
    results: tuple
    attempts: tuple
    success: bool
    status: Status
    reason: str
    message: str
    nit: int
    nfev: int
    jacobian_evaluations: int
    linear_solves: int

    def __repr__(self) -> str:
        return (
            f"RootsResult(roots={len(self.roots)}, reason={self.reason!r}, "
            f"attempts={len(self.attempts)}, nit={self.nit}, linear_solves={self.linear_solves})"
        )


# With max_roots=None the search stops here: F may have infinitely many roots (sin), and
# each further deflated solve costs more (eta has one factor per known root).
DEFAULT_ROOT_LIMIT = 100


def _starts(x0, n):
    starts = np.asarray(check_array("x0", x0, ndim=(0, 1, 2), complex_ok=True, empty_ok=True))
    if starts.ndim == 2:
        if not starts.shape[0]:
            raise ValueError("`x0` has no starting guess")
        rows = [start_vector(row) for row in starts]
    else:
        rows = [start_vector(starts)]
    if n is not None and rows[0].shape[0] != n:
        raise ValueError(f"`x0` rows have {rows[0].shape[0]} entries for {n} unknowns")
    return rows


def find_roots(
    F: Callable | PolynomialSystem,
    x0: ArrayLike,
    *,
    jacobian: Callable | str | None = None,
    max_roots: int | None = None,
    power: float = 2.0,
    shift: float = 1.0,
    weight: float | ArrayLike = 1.0,
    linesearch: str | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    maxiter: int | None = 100,
    distinct_tol: float = 1e-6,
    callback: Callable[[SolveResult], None] | None = None,
    throw: bool = False,
    backend: str | None = None,
    workers: int | Callable = 1,
    vectorized: bool = False,
) -> RootsResult:
    r"""Find several roots of ``F`` by repeated deflation from the same starting guess.

    From each starting guess: run :func:`deflated_newton` with every root found so far
    deflated; a converged solve adds its root and the search repeats from the same guess;
    a failed one moves on to the next guess. The search ends when ``max_roots`` roots are
    known, when a polynomial system's roots reach Bézout's bound (below), or when every
    guess is exhausted.

    Parameters
    ----------
    F, jacobian, linesearch, rtol, atol, maxiter, backend
        As in :func:`newton` (``maxiter`` per deflated solve).
    x0 : array_like, shape (n,) or (k, n)
        One starting guess, or ``k`` guesses as rows (tried in order).
    max_roots : int or None
        Stop after this many distinct roots. ``None``: until the guesses are exhausted,
        but at most 100 roots (``reason="root_limit"``), so that a function with
        infinitely many roots (``sin``) still ends.
    power, shift, weight
        The shifted deflation's ``p``, ``sigma`` and norm weights
        (:class:`ShiftedDeflation`); for a discretised PDE pass ``weight=h``.
    distinct_tol : float
        A converged point within ``distinct_tol * max(1, ||r||)`` of a known root ``r``
        is the same root (possible only when deflation is defeated); it is not added.
    callback : callable, optional
        Passed to every deflated solve: ``callback(intermediate_result)`` receives the
        :class:`~itersolve.SolveResult` of each iteration of the solve under way, as in
        :func:`deflated_newton` (``nit`` counts that solve's iterations; the last call of
        a converged solve carries the root it found). Raising ``StopIteration`` ends the
        search: the roots found so far are returned with ``status=Status.CALLBACK`` and
        ``reason="callback"`` (a root whose solve had just converged is kept).
    throw : bool
        Raise :class:`~itersolve.ConvergenceError` (its ``result`` is the
        :class:`RootsResult`) when the search finds no root, the failure ``success``
        reports; not when the callback stopped it.
    workers : int or map-like callable
        As scipy's ``workers``. ``1`` (default): the serial search above. Anything else
        runs the guesses in rounds (:mod:`._roots_rounds`): each round, every guess still
        in play runs one deflated solve with the roots known at the round's start
        deflated, in parallel; ``k > 1`` uses ``k`` processes through joblib, ``-1`` all
        cores (the cluster's under ``joblib.parallel_config(backend="dask")``); a callable
        ``workers(func, iterable)`` returning results in order (``map`` runs the same
        rounds serially; a Dask client's map-and-gather runs them on the cluster). The
        roots and attempts are the same for every such ``workers``; they can differ from
        the serial search's, which deflates each root as soon as it is found. Needs the
        NumPy backend and no ``callback``; ``F`` and ``jacobian`` must be picklable (joblib
        and Dask use cloudpickle: lambdas are fine).
    vectorized : bool
        ``True``: ``F(X)`` takes the guesses as the rows of ``X`` ``(B, n)`` and returns
        ``(B, n)``, and a callable ``jacobian(X)`` returns ``(B, n, n)`` (finite
        differences work on rows too); the search runs in the rounds described under
        ``workers``, each round one batched Newton iteration over all its guesses (one
        call of ``F``, one of the Jacobian and one stacked solve per iteration; the
        array-API code of :mod:`itersolve.gpu`, so CuPy rows run on the GPU). The same
        roots and attempts as ``workers=map``, to rounding. A :class:`PolynomialSystem` is
        evaluated row by row. Needs an integer ``maxiter``, no ``callback`` and
        ``workers=1``.

    Returns
    -------
    RootsResult
        ``roots`` (one row per distinct root), the per-root ``results``, every attempt,
        and the totals.

    Examples
    --------
    >>> import numpy as np
    >>> from itersolve._newton import find_roots
    >>> F = lambda x: np.array([x[0]**2 + x[1]**2 - 4, x[0] * x[1] - 1])
    >>> found = find_roots(F, [3.0, 0.5])
    >>> len(found.roots), found.reason
    (4, 'exhausted')
    >>> np.allclose(np.sort(found.roots[:, 0] * found.roots[:, 1]), 1.0)
    True
    """
    limit = DEFAULT_ROOT_LIMIT if max_roots is None else check_int("max_roots", max_roots, low=1)
    distinct_tol = check_real("distinct_tol", distinct_tol, low=0)
    # Checked here, not only by run: run sees the relay below, and raises nothing itself.
    rtol, atol, maxiter = check_run_options(rtol, atol, maxiter, callback, throw)
    chosen = resolve(backend, x0=x0)
    workers = check_workers(workers)
    if workers != 1 and (callback is not None or chosen.name != "numpy"):
        raise ValueError(
            "`workers` runs the deflated solves away from the caller: it needs the NumPy "
            f"backend (got {chosen.name!r}) and no `callback`"
        )
    if not isinstance(vectorized, (bool, np.bool_)):
        raise TypeError(f"`vectorized` must be True or False, got {type(vectorized).__name__}")
    if vectorized and (callback is not None or maxiter is None or workers != 1):
        raise ValueError(
            "`vectorized=True` runs every guess of a round in one batch: it needs an integer "
            "`maxiter`, no `callback` and `workers=1`"
        )
    n = F.n_variables if isinstance(F, PolynomialSystem) else None
    starts = _starts(to_host(x0), n)
    jacobian, _ = prepare(F, starts[0], jacobian, linesearch, chosen)

    deflation = ShiftedDeflation(power=power, shift=shift, weight=weight)
    deflation.check_size(starts[0].size)
    roots, results, attempts = [], [], []
    totals = {"nit": 0, "nfev": 0, "jacobian_evaluations": 0, "linear_solves": 0}
    stopped = False  # the callback raised StopIteration

    def relay(intermediate: SolveResult) -> None:
        nonlocal stopped
        try:
            callback(intermediate)
        except StopIteration:
            stopped = True  # also at a solve's last call, where run itself ignores it
            raise

    bezout = BezoutStop(F)
    complete = False  # every isolated root of a polynomial system is known (BezoutStop)

    def done():
        return stopped or complete or len(roots) >= limit

    if workers != 1 or vectorized:
        options = (rtol, atol, linesearch, maxiter)
        if vectorized:
            F_rows, jacobian_rows = rows_functions(F, jacobian)

            def solve_round(guesses):
                return batched_solves(F_rows, jacobian_rows, guesses, deflation, options, chosen)
        else:
            solve_round = in_workers(F, jacobian, deflation, options, workers)
        roots, results, attempts, totals, complete = search_in_rounds(
            solve_round, starts, deflation, limit, distinct_tol, bezout
        )
    else:
        for start in starts:
            while not done():
                solver, problem, x = newton_parts(
                    F, jacobian, start.copy(), x0, chosen, rtol, atol, linesearch, deflation
                )
                result = run(
                    solver,
                    problem,
                    x,
                    maxiter=maxiter,
                    callback=None if callback is None else relay,
                    stats={"backend": chosen.name},
                )
                attempts.append(result)
                totals["nit"] += result.nit
                totals["nfev"] += result.nfev
                totals["jacobian_evaluations"] += problem.njev
                totals["linear_solves"] += problem.nsolve
                if not result.success:
                    break
                if any(norm(result.x - r) <= distinct_tol * max(1.0, norm(r)) for r in roots):
                    break
                roots.append(result.x)
                results.append(result)
                deflation.add(to_host(result.x))
                complete = bezout.reached(roots)
            if done():
                break

    if stopped:
        reason = "callback"
    elif len(roots) >= limit:
        reason = "max_roots" if max_roots else "root_limit"
    else:
        reason = "bezout" if complete else "exhausted"
    if reason == "bezout":
        message = bezout.message(len(roots))
    elif reason == "callback":
        message = (
            f"Found {len(roots)} distinct roots; the callback raised StopIteration during "
            f"deflated solve {len(attempts)}, which ended the search."
        )
    elif reason == "max_roots":
        message = f"Found the requested {len(roots)} distinct roots."
    elif reason == "root_limit":
        message = (
            f"Stopped at {len(roots)} distinct roots, the limit with max_roots=None; the "
            "deflated solves were still finding new ones (F may have infinitely many roots). "
            "Pass `max_roots` to search further."
        )
    else:
        last = attempts[-1]
        message = (
            f"Found {len(roots)} distinct roots; then the deflated solve from every starting "
            f"guess ended without a new root (last: {last.status.name}, {last.nit} "
            "iterations). This is the normal end of a deflation search, not a proof that no "
            "other root exists."
        )
    if stopped:
        status = Status.CALLBACK
    else:
        status = Status.CONVERGED if roots else attempts[-1].status
    n_cols = starts[0].shape[0]
    empty = np.empty((0, n_cols), dtype=starts[0].dtype)
    found = RootsResult(
        roots=chosen.xp.stack(roots) if roots else on_backend(chosen, empty, x0),
        results=tuple(results),
        attempts=tuple(attempts),
        success=bool(roots),
        status=status,
        reason=reason,
        message=message,
        **totals,
    )
    if throw and not found.success and not stopped:
        raise ConvergenceError(found)
    return found
