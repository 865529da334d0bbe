"""``picard_ode``: an explicit Runge–Kutta scheme on a time grid, solved as a chain."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import array_api_compat
import numpy as np
from numpy.typing import ArrayLike

from .._backend import to_host
from .._result import SolveResult
from .._validation import check_callable, check_choice
from ._problem import checked_output
from ._solve import _checked_start, solve_chain

__all__ = ["SCHEMES", "picard_ode"]

# scheme -> evaluations of f per step
SCHEMES = {"euler": 1, "heun": 2, "rk4": 4}


def _time_grid(t):
    try:
        grid = np.asarray(to_host(t))
    except Exception as exc:
        raise TypeError(f"`t` must be a 1-D array of times, got {type(t).__name__}") from exc
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError(f"`t` must be a non-empty 1-D array of times, got shape {grid.shape}")
    if grid.dtype.kind not in "iuf":
        raise TypeError(f"`t` must hold real numbers, got dtype {grid.dtype}")
    grid = grid.astype(np.float64)
    if not np.all(np.isfinite(grid)):
        raise ValueError("`t` contains NaN or Inf")
    steps = np.diff(grid)
    if not (np.all(steps > 0) or np.all(steps < 0)):
        raise ValueError(
            "`t` must be strictly increasing or strictly decreasing (an inconsistent time "
            "grid: repeated or out-of-order times)"
        )
    return grid


class _Derivative:
    """``f`` with its output checked, so that a wrong return names ``f``, not the step."""

    def __init__(self, f, dtype, xp):
        self.f, self.dtype, self.xp = f, dtype, xp

    def __call__(self, t, Y):
        F = self.f(t, Y)
        rows = "one derivative per state"
        return checked_output(
            "f", F, array_type=type(Y), shape=Y.shape, dtype=self.dtype, xp=self.xp, rows=rows
        )


def _step(f, times, scheme, state_ndim):
    """``step(i, Y)``: one step of ``scheme`` from ``times[i]`` to ``times[i + 1]``."""
    xp = array_api_compat.array_namespace(times)
    steps = times[1:] - times[:-1]

    user_errstate = np.geterr()

    def column(values, i):  # per-row values broadcast against the states
        return xp.reshape(xp.take(values, i), (i.shape[0],) + (1,) * state_ndim)

    def derivative(t, Y):  # the user's f keeps the caller's floating-point settings
        with np.errstate(**user_errstate):
            return f(t, Y)

    def step(i, Y):
        # The scheme's own arithmetic may overflow at extreme scales; that ends the solve
        # with NONFINITE, so it must not warn (users run with -W error).
        with np.errstate(over="ignore", invalid="ignore"):
            t, h = xp.take(times, i), xp.take(steps, i)
            hc = column(steps, i)
            k1 = derivative(t, Y)
            if scheme == "euler":
                return Y + hc * k1
            if scheme == "heun":
                k2 = derivative(t + h, Y + hc * k1)
                return Y + (hc / 2) * (k1 + k2)
            k2 = derivative(t + h / 2, Y + (hc / 2) * k1)
            k3 = derivative(t + h / 2, Y + (hc / 2) * k2)
            k4 = derivative(t + h, Y + hc * k3)
            return Y + (hc / 6) * (k1 + 2 * k2 + 2 * k3 + k4)

    return step


class _DerivativeJacobian:
    """The user's ``jacobian(t, Y)`` of ``f``, checked (full ``(m, size, size)`` or diagonal)."""

    def __init__(self, jacobian, dtype, xp, size, diagonal):
        self.jacobian, self.dtype, self.xp = jacobian, dtype, xp
        self.size, self.diagonal = size, diagonal

    def __call__(self, t, Y):
        J = self.jacobian(t, Y)
        shape = tuple(Y.shape) if self.diagonal else (Y.shape[0], self.size, self.size)
        rows = "the Jacobian of f at each row"
        return checked_output(
            "jacobian", J, array_type=type(Y), shape=shape, dtype=self.dtype, xp=self.xp, rows=rows
        )


def _step_jacobian(f, jacobian, times, scheme, state_shape, diagonal):
    """``jacobian(i, Y)`` of the scheme's step, by the chain rule through its stages.

    Full: ``(m, size, size)`` on flattened states; diagonal: the product of the stages'
    diagonals, shaped like ``Y`` (exact when ``f`` acts entrywise, an approximation
    otherwise, which is all quasi-Newton asks for). The stage points are recomputed, so
    each row costs ``stages - 1`` more evaluations of ``f`` and ``stages`` of its Jacobian.
    """
    xp = array_api_compat.array_namespace(times)
    steps = times[1:] - times[:-1]
    size = math.prod(state_shape)

    def step_jacobian(i, Y):
        # overflow in the chain rule's own products ends the solve as NONFINITE: no warning
        with np.errstate(over="ignore", invalid="ignore"):
            return _chain_rule(i, Y)

    def _chain_rule(i, Y):
        m = i.shape[0]
        t, h = xp.take(times, i), xp.take(steps, i)
        hc = xp.reshape(h, (m,) + (1,) * len(state_shape))
        if diagonal:
            hm, one = hc, 1
            compose = lambda J, D: J * D  # noqa: E731
        else:
            hm = xp.reshape(h, (m, 1, 1))
            one = xp.eye(size, dtype=Y.dtype)
            compose = lambda J, D: J @ D  # noqa: E731
        J1 = jacobian(t, Y)
        if scheme == "euler":
            return one + hm * J1
        k1 = f(t, Y)
        if scheme == "heun":
            dk2 = compose(jacobian(t + h, Y + hc * k1), one + hm * J1)
            return one + (hm / 2) * (J1 + dk2)
        k2 = f(t + h / 2, Y + (hc / 2) * k1)
        k3 = f(t + h / 2, Y + (hc / 2) * k2)
        dk2 = compose(jacobian(t + h / 2, Y + (hc / 2) * k1), one + (hm / 2) * J1)
        dk3 = compose(jacobian(t + h / 2, Y + (hc / 2) * k2), one + (hm / 2) * dk2)
        dk4 = compose(jacobian(t + h, Y + hc * k3), one + hm * dk3)
        return one + (hm / 6) * (J1 + 2 * dk2 + 2 * dk3 + dk4)

    return step_jacobian


def picard_ode(
    f: Callable[[Any, Any], Any],
    y0: ArrayLike,
    t: ArrayLike,
    *,
    scheme: str = "euler",
    method: str = "picard",
    window: int | None = None,
    block: int | None = None,
    rtol: float | None = None,
    atol: float = 0.0,
    tol_scale: ArrayLike | None = None,
    init: Any = None,
    predictor: Callable[[Any, Any], Any] | None = None,
    predictor_sweeps: int | None = None,
    jacobian: Callable[[Any, Any], Any] | None = None,
    maxiter: int | None = None,
    callback: Callable[[SolveResult], None] | None = None,
    throw: bool = False,
    backend: str | None = None,
) -> SolveResult:
    r"""Integrate ``y' = f(t, y)`` on the grid ``t`` with an explicit scheme, by sweeps.

    The answer is the trajectory the same scheme computes step by step on the same grid
    (``method="gauss-seidel"`` runs exactly that loop); Picard sweeps reach it in far fewer
    sequential rounds, each evaluating ``f`` on many times at once.

    Parameters
    ----------
    f : callable
        ``f(t, Y) -> array``: ``t`` a 1-D array of ``m`` times, ``Y`` the ``m`` states
        (leading axis = time, shape ``(m, *y0.shape)``); returns the ``m`` derivatives with
        ``Y``'s shape, dtype and library.
    y0 : array_like
        The state at ``t[0]``.
    t : array_like
        Time grid, strictly increasing or strictly decreasing, at least one point; the
        steps may vary.
    scheme : {"euler", "heun", "rk4"}
        Explicit Euler, Heun's (explicit trapezoidal) method, or classical Runge–Kutta.
    jacobian : callable, optional
        For ``method="newton"``: ``jacobian(t, Y)``, the Jacobians of ``f`` in ``y`` at the
        rows of ``Y``, shape ``(m, y0.size, y0.size)``; for ``"quasi-newton"`` their
        diagonals, shaped like ``Y``. The step's Jacobian is built from them by the chain
        rule through the scheme's stages.
    method, window, block, rtol, atol, tol_scale, init, predictor, predictor_sweeps, maxiter, \
callback, throw, backend
        As in :func:`solve_chain`.

    Returns
    -------
    SolveResult
        ``x`` the states at every time of ``t`` (shape ``(len(t), *y0.shape)``); ``nfev``
        counts steps evaluated (``stats["f_evals"]``, evaluations of ``f``: 1, 2 or 4 per
        step); the rest as in :func:`solve_chain`, with ``stats["scheme"]``.

    Notes
    -----
    With ``f`` ``L``-Lipschitz in ``y``, Picard's error after ``k`` sweeps is at most
    ``(L' t_n)^k / k!`` times the initial error, where ``L'`` is the Lipschitz constant of
    the scheme's increment (``L`` for Euler; see
    :func:`itersolve.theory.chain.increment_lipschitz`). An implicit scheme would lose the
    finite termination of the sweeps, so none is offered.

    Examples
    --------
    >>> import numpy as np
    >>> import itersolve
    >>> t = np.linspace(0.0, 1.0, 101)
    >>> result = itersolve.picard_ode(lambda t, y: -y, np.ones(1), t, scheme="rk4")
    >>> result.success, round(float(result.x[-1, 0]), 6)
    (True, 0.367879)
    """
    check_callable("f", f)
    check_choice("scheme", scheme, tuple(SCHEMES))
    grid = _time_grid(t)
    _, backend_, y = _checked_start(y0, grid.size - 1, backend, "y0")
    xp = backend_.xp
    real = xp.float32 if y.dtype in (xp.float32, xp.complex64) else xp.float64
    times = xp.asarray(grid, dtype=real)
    derivative = _Derivative(f, y.dtype, xp)
    step = _step(derivative, times, scheme, len(y.shape))
    step_jacobian = None
    if jacobian is not None:
        check_callable("jacobian", jacobian)
        diagonal = method == "quasi-newton"
        size = math.prod(y.shape)
        checked = _DerivativeJacobian(jacobian, y.dtype, xp, size, diagonal)
        step_jacobian = _step_jacobian(derivative, checked, times, scheme, y.shape, diagonal)
    result = solve_chain(
        step,
        y,
        grid.size - 1,
        method=method,
        window=window,
        block=block,
        rtol=rtol,
        atol=atol,
        tol_scale=tol_scale,
        init=init,
        predictor=predictor,
        predictor_sweeps=predictor_sweeps,
        jacobian=step_jacobian,
        maxiter=maxiter,
        callback=callback,
        throw=throw,
        backend=backend,
    )
    stages = SCHEMES[scheme]
    njev = result.stats.get("njev", 0)  # rows of the step's Jacobian
    f_evals = result.nfev * stages + njev * (stages - 1)
    stats = {**result.stats, "scheme": scheme, "f_evals": f_evals}
    if njev:
        stats["jacobian_evals"] = njev * stages
    return dataclasses.replace(result, stats=stats)
