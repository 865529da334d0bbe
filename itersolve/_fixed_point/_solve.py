"""``fixed_point``: the front end that checks its arguments, builds a solver and runs it."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._backend import Backend, float_start
from .._driver import Solver, run
from .._result import SolveResult
from .._validation import check_callable, check_choice
from ._aitken import Aitken, del2_generic, del2_numba
from ._anderson import Anderson
from ._detecting import InfeasibilityDetecting
from ._halpern import Halpern
from ._mann import Mann
from ._map import FixedPointProblem
from ._options import METHOD_DEFAULT, METHODS, method_options


def _build_solver(method: str, rtol: float, atol: float, options: dict, backend: Backend) -> Solver:
    """The solver object of ``method`` with its checked ``options``."""
    if method in ("iterate", "mann"):
        return Mann(rtol, atol, relaxation=options.get("relaxation", 1.0))
    if method == "halpern":
        return Halpern(rtol, atol, **options)
    if method == "anderson":
        return Anderson(rtol, atol, **options)
    return Aitken(rtol, atol, del2=backend.pick(numpy=del2_numba, generic=del2_generic))


def _drift_speed(method: str, options: dict) -> float:
    """How far an iteration moves per step along ``-v`` when ``T`` has no fixed point."""
    if method == "halpern":
        return 0.5  # x_k = x_0 - (k/2) v on a translation, restarts or not
    if method == "mann":
        return options["relaxation"]
    if method == "anderson":
        return options["damping"]
    return 1.0


def fixed_point(
    T: Callable[[Any], Any],
    x0: ArrayLike,
    *,
    method: str = "anderson",
    rtol: float = 1e-8,
    atol: float = 0.0,
    maxiter: int | None = 1000,
    callback: Callable[[SolveResult], None] | None = None,
    throw: bool = False,
    backend: str | None = None,
    relaxation: float = METHOD_DEFAULT,
    restart: int | str | None = METHOD_DEFAULT,
    m: int = METHOD_DEFAULT,
    regularization: float = METHOD_DEFAULT,
    damping: float = METHOD_DEFAULT,
    safeguard: float | None = METHOD_DEFAULT,
    detect_infeasibility: bool = False,
) -> SolveResult:
    r"""Find a fixed point ``x = T(x)``.

    Parameters
    ----------
    T : callable
        ``T(x) -> array`` of the same shape, dtype and array library as ``x``. It receives
        arrays of ``x0``'s shape (0-d arrays for scalar ``x0``) and may return a Python
        scalar for 0-d input. Exceptions it raises propagate unchanged.
    x0 : array_like or scalar
        Starting point, of any shape, non-empty and finite. Integer input is promoted to
        float64; float16, float32, float64, complex64 and complex128 are preserved
        (Anderson solves its small least-squares problems of a float16 iteration in
        float32). Booleans, strings and objects are a TypeError. CuPy arrays run on the
        GPU.
    method : {"anderson", "iterate", "mann", "halpern", "aitken"}
        ``"iterate"``: plain iteration ``x <- T(x)``.
        ``"mann"``: Krasnosel'skii–Mann averaging ``x <- (1 - relaxation) x + relaxation T(x)``.
        ``"halpern"``: anchored iteration ``x_{k+1} = x_0/(k+2) + (k+1)/(k+2) T(x_k)``.
        ``"anderson"`` (default): type-II Anderson acceleration (Walker & Ni).
        ``"aitken"``: componentwise Aitken Δ² (Steffensen), as scipy's ``del2``.
    rtol, atol : float
        Stop when ``||x_k - T(x_k)||_2 <= max(rtol * ||T(x_k)||_2, atol)``, both norms
        computed without over- or underflow (residuals of 1e-170 or 1e+160 are measured,
        not read as 0 or Inf) from a fresh evaluation of ``T`` at the returned ``x``. With
        a fixed point at 0 the relative test cannot succeed: give ``atol``.
    maxiter : int or None
        Iteration limit (``None``: none, which needs a positive tolerance).
    callback : callable, optional
        ``callback(intermediate_result)`` with a :class:`~itersolve.SolveResult`, at
        ``nit = 0`` and after every iteration; raising ``StopIteration`` ends the solve
        with ``Status.CALLBACK``.
    throw : bool
        Raise :class:`~itersolve.ConvergenceError` (with ``.result``) when the solve does
        not converge, instead of returning an unsuccessful result.
    backend : {None, "numpy", "cupy", "array-api"}
        Force a backend; ``None`` follows ``x0``.
    relaxation : float, method="mann"
        λ in (0, 2); default 0.5. The KM theorem for nonexpansive ``T`` needs λ < 1.
    restart : None, int or "adaptive", method="halpern"
        Re-anchor every ``restart`` iterations, or adaptively (see Notes); default None.
    m : int, method="anderson"
        Memory, default 10 (as SCS). With 5 (scipy's default) Anderson needed 3.4x fewer
        evaluations than plain iteration on a symmetric linear contraction of spectrum
        [-0.99, 0.99]; with 10 it needed 8x fewer (``benchmarks/bench_fixed_point.py``).
    regularization : float, method="anderson"
        Tikhonov parameter relative to ``||ΔF||_F^2``; default 0 (exact least squares).
        A least-squares solution with ``||γ|| > 1e10`` clears the memory (SCS's rule):
        on a map without fixed point ``ΔF -> 0`` and the extrapolation would otherwise
        jump to where ``T(x) - x`` rounds to zero.
    damping : float, method="anderson"
        β in (0, 1]; default 1.
    safeguard : float or None, method="anderson"
        ζ ≥ 1: reject an accelerated point whose residual exceeds ζ times the current
        residual and take the plain damped step instead (one more evaluation). Default
        1: for nonexpansive ``T`` the residual history is then non-increasing. ``None``
        turns it off, which gives plain type-II Anderson (scipy's ``anderson`` with
        ``alpha=1, w0=0, line_search=None``, and GMRES on linear maps).
    detect_infeasibility : bool
        Watch for a map without fixed point (nonexpansive ``T``): end with
        ``Status.INFEASIBLE`` when the residual settles at a non-zero vector ``v_hat``
        (stable over a doubling window of iterations), the oracle inequality
        ``<x - T x, v_hat> >= 0.99 ||v_hat||^2`` holds on the iterates seen and the
        iterates drift as an inconsistent map makes them (see
        :func:`itersolve.infimal_displacement`). ``stats["displacement"]`` holds ``v_hat``
        (or, unless certified, the latest candidate) and ``stats["infeasibility"]`` the
        tests' figures. It is a numerical certificate for an abstract ``T``, not a proof;
        plain iteration (``method="iterate"``) needs an averaged ``T``.

    Returns
    -------
    SolveResult
        ``x`` is the last iterate (the one whose residual met the test, when converged).
        ``residuals[k] = ||x_k - T(x_k)||_2``, the 2-norm over all entries of the plain
        fixed-point residual, whatever the method. ``nfev`` counts evaluations of ``T``:
        one per iteration plus one at ``x0``; Aitken takes two per iteration and
        Anderson's safeguard one more per rejection. ``stats`` holds ``method`` and the
        method's figures (``restarts``; ``memory``, ``safeguard_rejections``,
        ``dropped_differences``, ``memory_resets``; ``relaxation``).

    Raises
    ------
    TypeError, ValueError
        Bad arguments, raised before any work; a ``T`` that changes the shape (ValueError)
        or the dtype or array library (TypeError) of the iterate.
    ConvergenceError
        With ``throw=True``, when the solve ends without converging (except when a
        callback stopped it).

    Notes
    -----
    Statuses: ``CONVERGED``; ``MAXITER``; ``NONFINITE`` when the residual is NaN or Inf;
    ``CALLBACK``; ``STAGNATED`` with ``maxiter=None`` when the best residual stops
    improving (a map without fixed point; KM's and Halpern's slow but steady decrease is
    not cut); ``INFEASIBLE`` (only with ``detect_infeasibility=True``).

    Halpern's adaptive restart re-anchors when the residual falls to 0.2 of its value at
    the anchor, or to 0.8 of it and then grows (Lu & Yang's rule for restarted Halpern
    PDHG). Anderson drops its oldest differences while their triangular factor is worse
    conditioned than 1e12.

    References
    ----------
    H. F. Walker and P. Ni, "Anderson acceleration for fixed-point iterations",
    SIAM J. Numer. Anal. 49(4), 2011. F. Lieder, "On the convergence rate of the Halpern
    iteration", Optim. Lett. 15, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> import itersolve
    >>> result = itersolve.fixed_point(np.cos, 1.0)
    >>> result.success, round(float(result.x), 8)
    (True, 0.73908513)
    """
    check_callable("T", T)
    check_choice("method", method, tuple(METHODS))
    if not isinstance(detect_infeasibility, bool):
        kind = type(detect_infeasibility).__name__
        raise TypeError(f"`detect_infeasibility` must be True or False, got {kind}")
    options = method_options(
        method,
        {
            "relaxation": relaxation,
            "restart": restart,
            "m": m,
            "regularization": regularization,
            "damping": damping,
            "safeguard": safeguard,
        },
    )

    scalar_input = isinstance(x0, (numbers.Number, np.generic))
    backend_, x = float_start(x0, backend)

    solver = _build_solver(method, rtol, atol, options, backend_)
    if detect_infeasibility:
        solver = InfeasibilityDetecting(solver, speed=_drift_speed(method, options))
    problem = FixedPointProblem(T, x, scalar_output=scalar_input and backend_.name == "numpy")
    stats = {"method": method, "backend": backend_.name}
    return run(solver, problem, x, maxiter=maxiter, callback=callback, throw=throw, stats=stats)
