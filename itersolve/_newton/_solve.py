"""``newton`` and ``deflated_newton``: validate, wrap ``F``, build the solver, run it.

On the NumPy backend the solver is :class:`~._newton.Newton` on a vector; on ``"cupy"`` and
``"array-api"`` it is the array-API mirror, :class:`itersolve.gpu._newton.BatchedNewton`,
on a batch of one row, driven by the same :func:`~itersolve._driver.run`: the same
iteration, stopping test, statuses, notes and result fields.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import array_api_compat
import numpy as np
from numpy.typing import ArrayLike

from .._backend import Backend, resolve, to_host
from .._driver import run
from .._result import SolveResult
from .._validation import check_array, check_callable, check_choice
from ._deflation import ShiftedDeflation
from ._jacobian import FD_METHODS, NewtonProblem, start_vector
from ._newton import Newton
from ._polynomial import PolynomialSystem

__all__ = ["deflated_newton", "newton"]

LINESEARCHES = (None, "armijo")


def on_backend(backend: Backend, x: np.ndarray, like):
    """The checked host array ``x`` on ``backend``, on the device of ``like`` (the user's
    ``x0``) where it is an array."""
    if backend.name == "numpy":
        return x
    if array_api_compat.is_array_api_obj(like):
        return backend.xp.asarray(x, device=array_api_compat.device(like))
    return backend.xp.asarray(x)


def deflation_for(roots, x, power, shift, weight) -> ShiftedDeflation:
    """The deflation of ``roots`` (a sequence of vectors or a ready ShiftedDeflation),
    checked against the (host) start ``x`` before any work."""
    if isinstance(roots, ShiftedDeflation):
        deflation = roots
    else:
        if isinstance(roots, (list, tuple)):
            roots = [to_host(r) for r in roots]
        rows = check_array("roots", to_host(roots), ndim=(1, 2), complex_ok=True, empty_ok=True)
        rows = np.asarray(rows)
        if rows.ndim == 1:
            if rows.size and x.size != 1:
                raise ValueError(
                    f"`roots` must have shape (k, {x.size}) (one root per row), got {rows.shape}"
                )
            rows = rows.reshape(-1, x.size)
        deflation = ShiftedDeflation(rows, power=power, shift=shift, weight=weight)
    deflation.check_size(x.size)
    if x.dtype.kind != "c" and any(np.iscomplexobj(r) for r in deflation.roots):
        raise TypeError("`roots` are complex but `x0` is real; pass a complex `x0`")
    return deflation


def checked_jacobian(F, jacobian):
    """``jacobian`` checked: a callable or one of :data:`FD_METHODS`; ``None`` is the exact
    Jacobian of a :class:`PolynomialSystem`, forward differences otherwise."""
    if isinstance(F, PolynomialSystem):
        if F.n_equations != F.n_variables:
            raise ValueError(
                f"`F` has {F.n_equations} equations in {F.n_variables} unknowns; Newton's "
                "method needs a square system"
            )
        if jacobian is None:
            jacobian = F.jacobian
    else:
        check_callable("F", F)
    if jacobian is None:
        return "2-point"
    if isinstance(jacobian, str):
        return check_choice("jacobian", jacobian, FD_METHODS)
    check_callable("jacobian", jacobian)
    return jacobian


def check_start(F, x: np.ndarray, backend: Backend) -> None:
    """The (host) start ``x`` against ``F``: sizes and dtypes a PolynomialSystem needs."""
    if not isinstance(F, PolynomialSystem):
        return
    if x.shape[0] != F.n_variables:
        raise ValueError(f"`x0` has {x.shape[0]} entries for {F.n_variables} unknowns")
    if F.is_complex and x.dtype.kind != "c":
        raise TypeError("`F` has complex coefficients but `x0` is real; pass a complex `x0`")
    if backend.name != "numpy" and not array_api_compat.is_numpy_namespace(backend.xp):
        raise TypeError(
            "a PolynomialSystem `F` evaluates with NumPy; it runs on NumPy arrays only "
            f"(backend {backend.name!r} with {backend.xp.__name__} arrays)"
        )


def newton_parts(F, jacobian, x, like, backend: Backend, rtol, atol, linesearch, deflation=None):
    """``(solver, problem, x)`` for :func:`run` on ``backend`` from the checked host start
    ``x``: the vector solver on NumPy, the array-API mirror on one row elsewhere."""
    if backend.name == "numpy":
        solver = Newton(rtol, atol, linesearch=linesearch, deflation=deflation)
        return solver, NewtonProblem(F, jacobian, x), x
    from itersolve.gpu._newton import BatchedNewton, RowsProblem  # the mirror, on first use

    rows = backend.xp.reshape(on_backend(backend, x, like), (1, -1))
    solver = BatchedNewton(rtol, atol, linesearch=linesearch, deflation=deflation)
    return solver, RowsProblem(F, jacobian, rows, one_vector=True), rows


def prepare(F, x0, jacobian, linesearch, backend: Backend):
    """Validate what every Newton front end shares; ``(jacobian, x)`` with the start ``x``
    checked on the host."""
    jacobian = checked_jacobian(F, jacobian)
    check_choice("linesearch", linesearch, LINESEARCHES)
    x = start_vector(to_host(x0))
    check_start(F, x, backend)
    return jacobian, x


def newton(
    F: Callable | PolynomialSystem,
    x0: ArrayLike,
    *,
    jacobian: Callable | str | None = None,
    linesearch: str | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    maxiter: int | None = 100,
    callback: Callable[[SolveResult], None] | None = None,
    throw: bool = False,
    backend: str | None = None,
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
        the only way to get complex arithmetic: complex values from ``F`` or ``jacobian``
        at a real ``x0`` are a TypeError, never cast. Booleans, strings and objects are a
        TypeError.
    jacobian : callable, {"2-point", "3-point"} or None
        ``jacobian(x)``: the Jacobian as a dense ``(n, n)`` array or a scipy.sparse matrix
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
    backend : {None, "numpy", "cupy", "array-api"}
        Force a backend; ``None`` follows ``x0`` (a CuPy ``x0`` runs on the device). Off
        NumPy the same iteration runs as array-API code (:mod:`itersolve.gpu`): ``F`` and
        ``jacobian`` receive and return arrays of ``x0``'s library (``result.x`` stays
        there), the Jacobian must be dense, and a :class:`PolynomialSystem` runs on NumPy
        arrays only. The norms there are scaled by each vector's largest entry, so
        residuals agree with the NumPy backend's to rounding, not bit for bit.

    Returns
    -------
    SolveResult
        ``residuals[k] = ||F(x_k)||_2``. ``nfev`` counts evaluations of ``F`` (finite
        differences included). ``stats``: ``jacobian_evaluations``, ``linear_solves``,
        ``step_norms`` (``||x_k - x_{k-1}||``), ``step_ratios`` (consecutive quotients of
        those: ``-> 0`` at a simple root, ``-> (m-1)/m`` at a univariate root of
        multiplicity ``m``), ``backtracks``, ``backend``.

    Raises
    ------
    TypeError, ValueError
        Bad arguments (raised before any work: ``x0`` not a finite real or complex
        vector, booleans included; a real ``x0`` for a :class:`PolynomialSystem` with
        complex coefficients), or ``F``/``jacobian`` returning anything but a numeric array
        of the right shape (``None``, strings, objects, a non-square system; complex values
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
    chosen = resolve(backend, x0=x0)
    jacobian, x = prepare(F, x0, jacobian, linesearch, chosen)
    solver, problem, x = newton_parts(F, jacobian, x, x0, chosen, rtol, atol, linesearch)
    stats = {"backend": chosen.name}
    return run(solver, problem, x, maxiter=maxiter, callback=callback, throw=throw, stats=stats)


def deflated_newton(
    F: Callable | PolynomialSystem,
    x0: ArrayLike,
    *,
    jacobian: Callable | str | None = None,
    roots: ArrayLike | Sequence[ArrayLike] | ShiftedDeflation = (),
    power: float = 2.0,
    shift: float = 1.0,
    weight: float | ArrayLike = 1.0,
    linesearch: str | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    maxiter: int | None = 100,
    callback: Callable[[SolveResult], None] | None = None,
    throw: bool = False,
    backend: str | None = None,
) -> SolveResult:
    r"""Newton's method on ``G(x) = eta(x) F(x)``, which has every root of ``F`` but ``roots``.

    ``eta`` is the shifted deflation ``prod_i (||x - r_i||^{-power} + shift)``
    (Farrell, Birkisson & Funke 2015). Each step costs one undeflated solve:
    ``delta = -J^{-1} F``, then ``x <- x + tau delta`` with the Sherman–Morrison factor
    ``tau = 1 / (1 - grad_eta^T delta / eta)``, which makes ``tau delta`` the exact
    Newton step for ``G``.

    Parameters
    ----------
    F, x0, jacobian, rtol, atol, maxiter, callback, throw, backend
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
    chosen = resolve(backend, x0=x0)
    jacobian, x = prepare(F, x0, jacobian, linesearch, chosen)
    deflation = deflation_for(roots, x, power, shift, weight)
    solver, problem, x = newton_parts(
        F, jacobian, x, x0, chosen, rtol, atol, linesearch, deflation=deflation
    )
    stats = {"backend": chosen.name}
    return run(solver, problem, x, maxiter=maxiter, callback=callback, throw=throw, stats=stats)
