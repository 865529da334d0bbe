"""``itersolve.linprog``: linear programs by restarted Halpern PDHG, with certificates."""

from __future__ import annotations

import array_api_compat
import numpy as np

from .._backend import BACKENDS
from .._driver import run
from .._result import ConvergenceError, Status
from .._validation import (
    check_array,
    check_callable,
    check_choice,
    check_int,
    check_real,
    check_tolerances,
)
from ._problem import LinearProgram, parse
from ._result import LinprogResult, box_conflict, build_result
from ._scaling import diagonal_scaling

__all__ = ["LinearProgram", "LinprogResult", "linprog"]


def _host(value):
    """CuPy arrays (dense or cupyx sparse) come to the host for parsing; the rest as given."""
    if array_api_compat.is_cupy_array(value) or hasattr(value, "get") and hasattr(value, "nnz"):
        return value.get()
    return value


def _check_restart(restart):
    if restart is None or isinstance(restart, str) and restart == "adaptive":
        return restart
    if isinstance(restart, str):
        raise ValueError(f"`restart` must be None, an integer or 'adaptive'; got {restart!r}")
    return check_int("restart", restart, low=1)


def _namespace(backend):
    if backend == "cupy":
        from itersolve.gpu import require_cupy

        cupy = require_cupy()
        import cupyx.scipy.sparse as sparse

        return cupy, sparse
    import scipy.sparse as sparse

    if backend == "array-api":
        return array_api_compat.array_namespace(np.empty(0)), sparse
    return np, sparse


def linprog(
    c,
    A_ub=None,
    b_ub=None,
    A_eq=None,
    b_eq=None,
    bounds=None,
    *,
    method: str = "pdhg",
    x0=None,
    rtol: float = 1e-8,
    atol: float = 0.0,
    maxiter: int | None = 100_000,
    callback=None,
    throw: bool = False,
    restart: int | str | None = "adaptive",
    accelerate: bool = True,
    eps_infeasible: float = 1e-8,
    backend: str | None = None,
):
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
        ``None``: CuPy when ``c`` is a CuPy array, else NumPy. All three run the same code
        (``itersolve.gpu._pdhg``) on their namespace; results come back to the host.

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
    rtol, atol, maxiter = check_tolerances(rtol, atol, maxiter)
    check_callable("callback", callback, optional=True)
    check_choice("backend", backend, (None, *BACKENDS))
    restart = _check_restart(restart)
    if not isinstance(accelerate, (bool, np.bool_)):
        raise TypeError(f"`accelerate` must be a bool, got {type(accelerate).__name__}")
    eps_infeasible = check_real(
        "eps_infeasible", eps_infeasible, low=0, high=1, low_open=True, high_open=True
    )
    if backend is None:
        backend = "cupy" if array_api_compat.is_cupy_array(c) else "numpy"
    problem = parse(*map(_host, (c, A_ub, b_ub, A_eq, b_eq)), bounds)
    start = _start(_host(x0), problem)
    conflict = np.flatnonzero(problem.lb > problem.ub)
    if conflict.size:
        result = box_conflict(problem, int(conflict[0]))
        if throw:
            raise ConvergenceError(result)
        return result
    xp, sparse = _namespace(backend)
    from itersolve.gpu._pdhg import DeviceLP, HalpernPDHG

    labels = {"method": method, "backend": backend, "restart": restart}
    with np.errstate(all="ignore"):  # overflow shows as a non-finite KKT error: NONFINITE
        row, col = diagonal_scaling(problem.K)
        lp = DeviceLP(problem, row, col, xp=xp, sparse=sparse)
        solver = HalpernPDHG(
            rtol,
            atol,
            accelerate=bool(accelerate),
            restart=restart,
            eps_infeasible=float(eps_infeasible),
            col=lp.x_unit,
        )
        base = run(
            solver,
            lp,
            xp.asarray(start / lp.beta / col),
            maxiter=maxiter,
            callback=callback,
            throw=False,
            stats=labels,
        )
        result = build_result(base, problem, solver.check_every)
    if throw and not result.success and result.status != Status.CALLBACK:
        raise ConvergenceError(result)
    return result


def _start(x0, problem: LinearProgram) -> np.ndarray:
    if x0 is None:
        return np.clip(np.zeros(problem.n), problem.lb, problem.ub)
    x0 = np.asarray(check_array("x0", x0, empty_ok=True), dtype=np.float64)
    if x0.shape != (problem.n,):
        raise ValueError(f"`x0` has shape {x0.shape}, but `c` has shape ({problem.n},)")
    # box conflicts (lb > ub) are reported later; clip lower first so they stay harmless
    return np.minimum(np.maximum(x0, problem.lb), np.maximum(problem.ub, problem.lb))
