"""``newton`` and ``deflated_newton``: validate, wrap ``F``, build the solver, run it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from .._driver import run
from .._result import SolveResult
from .._validation import check_array, check_callable, check_choice, check_tolerances
from ._deflation import ShiftedDeflation
from ._jacobian import FD_METHODS, NewtonProblem, start_vector
from ._newton import Newton
from ._polynomial import PolynomialSystem

__all__ = ["deflated_newton", "newton"]

LINESEARCHES = (None, "armijo")


def check_throw(throw) -> bool:
    if not isinstance(throw, (bool, np.bool_)):
        raise TypeError(f"`throw` must be True or False, got {type(throw).__name__}")
    return bool(throw)


def deflation_for(roots, x, power, shift, weight) -> ShiftedDeflation:
    """The deflation of ``roots`` (a sequence of vectors or a ready ShiftedDeflation),
    checked against the iterate ``x`` before any work."""
    if isinstance(roots, ShiftedDeflation):
        deflation = roots
    else:
        deflation = ShiftedDeflation(power=power, shift=shift, weight=weight)
        rows = check_array("roots", roots, ndim=(1, 2), complex_ok=True, empty_ok=True)
        rows = np.asarray(rows)
        if rows.ndim == 1:
            if rows.size and x.size != 1:
                raise ValueError(
                    f"`roots` must have shape (k, {x.size}) (one root per row), got {rows.shape}"
                )
            rows = rows.reshape(-1, x.size)
        for root in rows:
            deflation._add(root, "roots")
    deflation.check_size(x.size)
    if x.dtype.kind != "c" and any(np.iscomplexobj(r) for r in deflation.roots):
        raise TypeError("`roots` are complex but `x0` is real; pass a complex `x0`")
    return deflation


def prepare(F, x0, jac, linesearch, rtol, atol, maxiter, callback):
    """Validate the shared arguments; return ``(problem, x, rtol, atol, maxiter)``."""
    if isinstance(F, PolynomialSystem):
        if F.n_equations != F.n_variables:
            raise ValueError(
                f"`F` has {F.n_equations} equations in {F.n_variables} unknowns; Newton's "
                "method needs a square system"
            )
        if jac is None:
            jac = F.jacobian
    else:
        check_callable("F", F)
    if jac is None:
        jac = "2-point"
    elif isinstance(jac, str):
        check_choice("jac", jac, FD_METHODS)
    else:
        check_callable("jac", jac)
    check_choice("linesearch", linesearch, LINESEARCHES)
    rtol, atol, maxiter = check_tolerances(rtol, atol, maxiter)
    check_callable("callback", callback, optional=True)
    x = start_vector(x0)
    if isinstance(F, PolynomialSystem):
        if x.shape[0] != F.n_variables:
            raise ValueError(f"`x0` has {x.shape[0]} entries for {F.n_variables} unknowns")
        if F.is_complex and x.dtype.kind != "c":
            raise TypeError("`F` has complex coefficients but `x0` is real; pass a complex `x0`")
    return NewtonProblem(F, jac, x), x, rtol, atol, maxiter


def newton(
    F: Callable | PolynomialSystem,
    x0: ArrayLike,
    *,
    jac: Callable | str | None = None,
    linesearch: str | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    maxiter: int | None = 100,
    callback: Callable[[SolveResult], None] | None = None,
    throw: bool = False,
) -> SolveResult:
    r"""Solve the square system ``F(x) = 0`` by Newton's method.

    Parameters
    ----------
    F : callable or PolynomialSystem
        ``F(x) -> array of shape (n,)`` for ``x`` of shape ``(n,)``. A
        :class:`PolynomialSystem` brings its exact Jacobian. It runs with NumPy's
        floating-point warnings silenced (an overflow ends the solve with
        ``Status.NONFINITE``); exceptions it raises propagate unchanged.
    x0 : array_like, shape (n,)
        Starting point (a scalar is shape ``(1,)``), finite. Integers and floats become
        float64; a complex ``x0`` solves over the complex numbers (complex128 throughout),
        the only way to get complex arithmetic: complex values from ``F`` or ``jac`` at a
        real ``x0`` are a TypeError, never cast. Booleans, strings and objects are a
        TypeError.
    jac : callable, {"2-point", "3-point"} or None
        ``jac(x)``: the Jacobian as a dense ``(n, n)`` array or a scipy.sparse matrix
        (solved with ``scipy.sparse.linalg.spsolve``). ``None`` (default): the system's
        exact Jacobian for a :class:`PolynomialSystem`, forward differences otherwise;
        ``"3-point"``: central differences. Difference steps are real, also for complex
        ``x`` (exact in the limit for holomorphic ``F``), ``h_j = c max(1, |x_j|)`` with
        ``c = sqrt(eps)`` or ``eps^(1/3)``; they cost ``n`` or ``2n`` evaluations of ``F``.
    linesearch : {None, "armijo"}
        ``"armijo"``: backtrack ``t = 1, 1/2, ...`` until
        ``||F(x + t s)||^2 <= (1 - 2e-4 t) ||F(x)||^2`` (sufficient decrease of
        ``||F||^2 / 2``); the solve ends with ``Status.STAGNATED`` below ``t = 2^-30``.
    rtol, atol : float
        Success means the residual at the returned point meets the tolerance:
        ``||F(x_k)||_2 <= atol``, or ``||F(x_k)||_2 <= rtol ||F(x_0)||_2`` once the last
        step was small, ``||x_k - x_{k-1}||_2 <= rtol ||x_k||_2`` (the rounding floor of a
        badly scaled ``F``: then ``x_k`` is an exact root of ``F - F(x_k)``, a change of
        ``F`` below ``rtol ||F(x_0)||``). A small step alone never counts (a huge Jacobian
        makes small steps far from a root). ``rtol=0`` makes the test purely absolute.
        Norms are scaled (no overflow or underflow at extreme magnitudes).
    maxiter : int or None
        Iteration limit (Jacobian solves).
    callback : callable, optional
        ``callback(intermediate_result)`` at ``nit = 0`` and after every iteration;
        raising ``StopIteration`` ends the solve with ``Status.CALLBACK``.
    throw : bool
        Raise :class:`~itersolve.ConvergenceError` when the solve does not converge.

    Returns
    -------
    SolveResult
        ``residuals[k] = ||F(x_k)||_2``. ``nfev`` counts evaluations of ``F`` (finite
        differences included). ``stats``: ``jacobian_evaluations``, ``linear_solves``,
        ``step_norms`` (``||x_k - x_{k-1}||``), ``step_ratios`` (consecutive quotients of
        those: ``-> 0`` at a simple root, ``-> (m-1)/m`` at a univariate root of
        multiplicity ``m``), ``backtracks``.

    Raises
    ------
    TypeError, ValueError
        Bad arguments (raised before any work: ``x0`` not a finite real or complex
        vector, booleans included; a real ``x0`` for a :class:`PolynomialSystem` with
        complex coefficients), or ``F``/``jac`` returning anything but a numeric array of
        the right shape (``None``, strings, objects, a non-square system; complex values
        for a real ``x0``), each naming the argument.
    ConvergenceError
        With ``throw=True``, when the solve does not converge.

    Notes
    -----
    Statuses: ``CONVERGED``; ``MAXITER``; ``NONFINITE`` (NaN or Inf in ``F(x)`` or in the
    iterate); ``STAGNATED`` when the Jacobian is singular (an exactly zero pivot in its LU
    factorisation, or a NaN/Inf solution; the message says "singular Jacobian at iteration
    k"), the line search fails, the iteration is stuck (a step below ``rtol ||x||`` that
    does not reduce ``||F||`` while it is above the tolerance), it diverges (``||x||`` and
    ``||F||`` rising at each of 10 steps, ``||x||`` by a factor 100 overall; the message
    gives both), or, with ``maxiter=None``, the residual stops improving (checked from
    iteration 1024 on); ``CALLBACK``. Slow convergence, such as the linear rate
    ``(m-1)/m`` at a root of multiplicity ``m``, is none of these: ``||F||`` falls. A
    singular Jacobian is not replaced by a least-squares step: near a singular root Newton
    still converges (linearly) with the nearly singular but invertible Jacobians, and an
    exactly singular one means the iterate is at a point Newton cannot leave.

    Examples
    --------
    >>> import numpy as np
    >>> from itersolve._newton import newton
    >>> F = lambda x: np.array([x[0]**2 + x[1]**2 - 4, x[0] * x[1] - 1])
    >>> result = newton(F, [3.0, 0.5])
    >>> result.success, np.round(result.x, 8)
    (True, array([1.93185165, 0.51763809]))
    """
    problem, x, rtol, atol, maxiter = prepare(F, x0, jac, linesearch, rtol, atol, maxiter, callback)
    throw = check_throw(throw)
    solver = Newton(rtol, atol, linesearch=linesearch)
    with np.errstate(all="ignore"):
        return run(solver, problem, x, maxiter=maxiter, callback=callback, throw=throw)


def deflated_newton(
    F: Callable | PolynomialSystem,
    x0: ArrayLike,
    *,
    jac: Callable | str | None = None,
    roots=(),
    power: float = 2.0,
    shift: float = 1.0,
    weight=1.0,
    linesearch: str | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    maxiter: int | None = 100,
    callback: Callable[[SolveResult], None] | None = None,
    throw: bool = False,
) -> SolveResult:
    r"""Newton's method on ``G(x) = eta(x) F(x)``, which has every root of ``F`` but ``roots``.

    ``eta`` is the shifted deflation ``prod_i (||x - r_i||^{-power} + shift)``
    (Farrell, Birkisson & Funke 2015). Each step costs one undeflated solve:
    ``delta = -J^{-1} F``, then ``x <- x + tau delta`` with the Sherman–Morrison factor
    ``tau = 1 / (1 - grad_eta^T delta / eta)``, which makes ``tau delta`` the exact
    Newton step for ``G``.

    Parameters
    ----------
    F, x0, jac, rtol, atol, maxiter, callback, throw
        As in :func:`newton`. The stopping test and ``residuals`` use the undeflated
        ``||F(x)||_2``: a success is a root of ``F`` to :func:`newton`'s tolerance.
    roots : array_like, shape (k, n), or ShiftedDeflation
        The roots to deflate, one per row (shape ``(k,)`` when ``n = 1``; finite; complex
        only with a complex ``x0``), or a ready :class:`ShiftedDeflation`, whose
        ``power``, ``shift`` and ``weight`` then apply.
    power, shift : float
        ``p > 0`` and ``sigma >= 0`` of the deflation; defcon's defaults 2 and 1.
    weight : float or array_like
        Diagonal weights of the deflation's norm (:class:`ShiftedDeflation`); for a
        discretised PDE the mesh size, which makes it defcon's L² norm.
    linesearch : {None, "armijo"}
        Armijo backtracking on ``||G||^2 / 2`` (see :func:`newton`).

    Returns
    -------
    SolveResult
        As :func:`newton`, with ``stats["taus"]`` (the factor of every step) and
        ``stats["deflated_roots"]``.

    Notes
    -----
    Converging to a point indistinguishable from a deflated root (closer than
    ``max(100 ||last step||, 1e-8 max(1, ||r_i||))``, as can happen at a multiple root
    with a small ``power``) is not a success: the solve ends with ``Status.STAGNATED`` and
    says so. Once every root is deflated the iteration wanders or diverges and ends with
    ``MAXITER``, ``NONFINITE`` or ``STAGNATED``, never an exception.

    Examples
    --------
    >>> import numpy as np
    >>> from itersolve._newton import deflated_newton, newton
    >>> F = lambda x: np.array([x[0]**2 + x[1]**2 - 4, x[0] * x[1] - 1])
    >>> first = newton(F, [3.0, 0.5])
    >>> second = deflated_newton(F, [3.0, 0.5], roots=[first.x])
    >>> second.success, bool(np.linalg.norm(second.x - first.x) > 0.1)
    (True, True)
    """
    problem, x, rtol, atol, maxiter = prepare(F, x0, jac, linesearch, rtol, atol, maxiter, callback)
    throw = check_throw(throw)
    deflation = deflation_for(roots, x, power, shift, weight)
    solver = Newton(rtol, atol, linesearch=linesearch, deflation=deflation)
    with np.errstate(all="ignore"):
        return run(solver, problem, x, maxiter=maxiter, callback=callback, throw=throw)
