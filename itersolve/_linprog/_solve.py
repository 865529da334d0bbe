"""The front end of ``itersolve.linprog``: check the arguments, scale the LP, run PDHG and
build the result once."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.optimize import Bounds

from .._backend import Backend, resolve, to_host
from .._driver import check_run_options, run
from .._result import ConvergenceError, SolveResult, Status
from .._validation import (
    check_array,
    check_choice,
    check_int,
    check_real,
)
from ._fused import FusedPDHG, run_blocks
from ._pdhg import DeviceLP, HalpernPDHG
from ._problem import LinearProgram, parse
from ._result import LinprogResult, box_conflict, build_result
from ._scaling import diagonal_scaling, diagonal_scaling_compiled

__all__ = ["linprog"]

Matrix = ArrayLike | sp.sparray | sp.spmatrix
Bound = tuple[float | None, float | None]  # (lower, upper); None is no bound


def linprog(
    c: ArrayLike,
    A_ub: Matrix | None = None,
    b_ub: ArrayLike | None = None,
    A_eq: Matrix | None = None,
    b_eq: ArrayLike | None = None,
    bounds: Bounds | Bound | Sequence[Bound] | None = None,
    *,
    method: str = "pdhg",
    x0: ArrayLike | None = None,
    rtol: float = 1e-8,
    atol: float = 0.0,
    maxiter: int | None = 100_000,
    callback: Callable[[SolveResult], None] | None = None,
    throw: bool = False,
    restart: int | str | None = "adaptive",
    accelerate: bool = True,
    eps_infeasible: float = 1e-8,
    backend: str | None = None,
) -> LinprogResult:
    """Minimise ``c'x`` subject to ``A_ub x <= b_ub``, ``A_eq x == b_eq``, ``lb <= x <= ub``.

    The arguments follow :func:`scipy.optimize.linprog`. The solver is restarted Halpern
    PDHG (Lu & Yang, arXiv 2407.16144) on the diagonally preconditioned problem (10 Ruiz
    passes, then Pock–Chambolle with ``alpha = 1``), with PDLP's primal weight; see
    ``docs/pages/linprog.md``.

    Parameters
    ----------
    c : array_like, shape (n,)
        Objective coefficients.
    A_ub, b_ub : array_like or scipy.sparse matrix, optional
        Inequality constraints ``A_ub @ x <= b_ub`` (sparse input stays sparse).
    A_eq, b_eq : array_like or scipy.sparse matrix, optional
        Equality constraints ``A_eq @ x == b_eq``.
    bounds : None, (lb, ub), sequence of n pairs, or scipy.optimize.Bounds
        ``None``: ``x >= 0`` (scipy's default); ``None`` inside a pair means no bound.
        A lower bound above its upper bound makes the problem infeasible (reported with a
        certificate, not raised).
    method : {"pdhg"}
        The only method.
    x0 : array_like, optional
        A primal warm start (projected onto the bounds); the duals start at 0.
    rtol, atol : float
        Stop when the relative KKT error (``docs/pages/linprog.md``: the largest of the
        primal residual over ``1 + ||b||``, the dual residual over ``1 + ||c||`` and the
        duality gap over ``1 + |c'x| + |dual objective|``, on the unscaled problem, in
        units that make it read the same at every scale of ``b``, ``c`` and ``A``; see
        ``itersolve._linprog._kkt``) is at most ``rtol``, or its unnormalised version at
        most ``atol``. Checked every 64 iterations, on the very ``x`` and duals that are
        returned, with products by the unscaled matrices: ``success`` means the returned
        point passed. The default ``1e-8`` gives objectives to about 1e-8 relative.
    maxiter : int or None
        Most PDHG iterations (each costs one product with ``K`` and one with ``K'``).
    callback, throw
        As everywhere in itersolve; the callback runs after every iteration and sees the
        unscaled primal iterate.
    restart : None, int or "adaptive"
        Halpern restarts: never, every ``restart`` iterations, or r2HPDHG's adaptive rule on
        the fixed-point residual (sufficient decay 0.2, necessary decay 0.8 with growth,
        artificial after 36 % of the iterations so far); each restart updates the primal
        weight. Ignored with ``accelerate=False``.
    accelerate : bool
        False runs plain PDHG ``z <- T(z)`` (no anchor, no restarts, fixed primal weight),
        the baseline for comparisons.
    eps_infeasible : float
        Tolerance of the certificate tests (PDLP's default 1e-8): a status other than
        CONVERGED/MAXITER is only declared when a certificate passes them.
    backend : {None, "numpy", "array-api", "cupy"}
        ``None``: CuPy when an input is a CuPy array, ``"array-api"`` when one is an array
        of another array-API library, else NumPy. ``"array-api"`` and ``"cupy"`` run the
        array-API code (``itersolve._linprog._pdhg``): CuPy with
        :mod:`cupyx.scipy.sparse`, the former with NumPy and :mod:`scipy.sparse` (PDHG
        needs sparse products, so another library's arrays are read on the host).
        ``"numpy"`` runs the same iteration in Numba kernels, with the same result bit
        for bit (the KKT errors in ``residuals`` up to rounding). Results come back to
        the host.

    Returns
    -------
    LinprogResult
        ``x``, ``fun`` (NaN unless optimal), ``slack``, ``con``, scipy-style ``ineqlin``,
        ``eqlin``, ``lower``, ``upper`` (residuals and marginals); ``status`` CONVERGED,
        INFEASIBLE (Farkas certificate in ``stats``), UNBOUNDED (primal ray in ``stats``),
        MAXITER, NONFINITE or CALLBACK; ``nit`` PDHG iterations; ``nfev`` products with
        ``K`` or ``K'`` (power iteration and certificate tests included); ``residuals`` the
        relative KKT error at each check (``stats["check_iterations"]`` says when).

    Raises
    ------
    ValueError, TypeError
        Bad input, before any iteration: shapes (both named), NaN or Inf outside
        ``bounds``, non-numeric, boolean or complex data (TypeError: the solver is real
        and never drops an imaginary part), an empty problem, an unknown method or backend.
    """
    check_choice("method", method, ("pdhg",))
    # checked here although `run` checks them too: a box conflict (lb > ub) is answered
    # without `run`, and `run` is called with throw=False so that a ConvergenceError
    # carries the LinprogResult
    rtol, atol, maxiter = check_run_options(rtol, atol, maxiter, callback, throw)
    chosen = resolve(backend, c=c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, x0=x0)
    if chosen.sparse is None:
        # another array-API library has no sparse matrices for PDHG's products: its
        # arrays are read on the host, as `parse` reads every input, and run there
        chosen = resolve("array-api")
    restart = _check_restart(restart)
    if not isinstance(accelerate, (bool, np.bool_)):
        raise TypeError(f"`accelerate` must be a bool, got {type(accelerate).__name__}")
    eps_infeasible = check_real(
        "eps_infeasible", eps_infeasible, low=0, high=1, low_open=True, high_open=True
    )
    if chosen.name == "cupy":  # the LP is parsed, scaled and certified on the host
        c, A_ub, b_ub, A_eq, b_eq, x0 = map(to_host, (c, A_ub, b_ub, A_eq, b_eq, x0))
    problem = parse(c, A_ub, b_ub, A_eq, b_eq, bounds)
    start = _start(x0, problem)
    conflict = np.flatnonzero(problem.lb > problem.ub)
    if conflict.size:
        result = box_conflict(problem, int(conflict[0]))
        if throw:
            raise ConvergenceError(result)
        return result
    # `run` holds its own error state; the scaling outside it overflows at extreme scales
    # too, which the KKT test then reports (NONFINITE) instead of a warning
    with np.errstate(all="ignore"):
        lp, scaled_start = _scaled(problem, start, chosen)
    # NumPy input runs the iteration in Numba kernels, with the same arithmetic (_fused)
    fused = chosen.name == "numpy"
    solver = (FusedPDHG if fused else HalpernPDHG)(
        rtol,
        atol,
        accelerate=bool(accelerate),
        restart=restart,
        eps_infeasible=float(eps_infeasible),
        col=lp.x_unit,
    )
    stats = {"method": method, "backend": chosen.name, "restart": restart}
    if fused and callback is None:  # no one sees the iterates: run from check to check
        base = run_blocks(solver, lp, scaled_start, maxiter=maxiter, stats=stats)
    else:
        base = run(
            solver, lp, scaled_start, maxiter=maxiter, callback=callback, throw=False, stats=stats
        )
    with np.errstate(all="ignore"):  # the fields (x - lb, ub - x) of an overflowed iterate
        result = build_result(base, problem, solver.check_every)
    if throw and not result.success and result.status != Status.CALLBACK:
        raise ConvergenceError(result)
    return result


def _check_restart(restart):
    if restart is None or isinstance(restart, str) and restart == "adaptive":
        return restart
    if isinstance(restart, str):
        raise ValueError(f"`restart` must be None, an integer or 'adaptive'; got {restart!r}")
    return check_int("restart", restart, low=1)


def _start(x0, problem: LinearProgram) -> np.ndarray:
    if x0 is None:
        return np.clip(np.zeros(problem.n), problem.lb, problem.ub)
    x0 = np.asarray(check_array("x0", x0, empty_ok=True), dtype=np.float64)
    if x0.shape != (problem.n,):
        raise ValueError(f"`x0` has shape {x0.shape}, but `c` has shape ({problem.n},)")
    # box conflicts (lb > ub) are reported later; clip lower first so they stay harmless
    return np.minimum(np.maximum(x0, problem.lb), np.maximum(problem.ub, problem.lb))


def _scaled(problem: LinearProgram, start: np.ndarray, backend: Backend):
    """The diagonally preconditioned LP on the backend's arrays, and ``start`` in its units."""
    scaling = backend.pick(numpy=diagonal_scaling_compiled, generic=diagonal_scaling)
    row, col = scaling(problem.K)
    lp = DeviceLP(problem, row, col, xp=backend.xp, sparse=backend.sparse)
    return lp, backend.xp.asarray(start / lp.beta / col)
