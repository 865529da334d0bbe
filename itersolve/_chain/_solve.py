"""``solve_chain`` and ``sequential_chain``: a sequential computation as one system."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._backend import float_start, to_host
from .._driver import run
from .._result import SolveResult, Status
from .._validation import (
    check_array,
    check_callable,
    check_choice,
    check_int,
    check_tolerances,
)
from ._blocks import Blocks
from ._problem import ChainProblem
from ._start import ChainStart, remember
from ._window import Jacobi, Newton, Picard

__all__ = ["METHODS", "sequential_chain", "solve_chain"]

METHODS = ("picard", "jacobi", "gauss-seidel", "hybrid", "newton", "quasi-newton")
WINDOWED = ("picard", "jacobi", "newton", "quasi-newton")
# Picard cannot reproduce the sequential loop bit for bit, so it needs a tolerance; the
# other methods reach the sequential states exactly and test for equality by default.
DEFAULT_RTOL = {
    "picard": 1e-10,
    "jacobi": 0.0,
    "gauss-seidel": 0.0,
    "hybrid": 0.0,
    "newton": 1e-10,
    "quasi-newton": 1e-10,
}


def _checked_start(x0, n_steps, backend, name="x0"):
    n_steps = check_int("n_steps", n_steps, low=0)
    backend_, x = float_start(x0, backend, name)  # finite, numeric, non-empty
    size = max(1, math.prod(x.shape))
    if n_steps >= np.iinfo(np.intp).max // size:
        raise ValueError(
            f"`n_steps` = {n_steps} is too large: a trajectory of that many states of "
            f"{size} entries cannot be indexed"
        )
    return n_steps, backend_, x


def _optional_int(name, value, low):
    return None if value is None else check_int(name, value, low=low)


def _tol_scale(tol_scale, problem):
    if tol_scale is None:
        return np.full(problem.n_steps + 1, math.sqrt(problem.size))
    scale = check_array("tol_scale", to_host(tol_scale), empty_ok=True)
    scale = np.asarray(scale, dtype=np.float64)
    if scale.shape != (problem.n_steps + 1,):
        raise ValueError(
            f"`tol_scale` must have shape (n_steps + 1,) = ({problem.n_steps + 1},), "
            f"got {scale.shape}"
        )
    if np.any(scale < 0):
        raise ValueError("`tol_scale` must be non-negative")
    return scale


def solve_chain(
    step: Callable[[Any, Any], Any],
    x0: ArrayLike,
    n_steps: int,
    *,
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
    r"""Evaluate ``x_{t+1} = step(t, x_t)``, ``t = 0..n_steps-1``, by parallel sweeps.

    The chain is solved as one system whose unknowns are all the states at once; every
    sweep evaluates the step on many states in one batched call, and the result is the
    trajectory :func:`sequential_chain` computes (bit for bit with the exact methods,
    within the tolerance with Picard).

    Parameters
    ----------
    step : callable
        ``step(t, X) -> array``: ``t`` is an integer array of ``m`` step indices, ``X`` the
        ``m`` states (shape ``(m, *x0.shape)``); returns the ``m`` next states with the same
        shape, dtype and array library. Rows must not depend on each other: the methods
        batch arbitrary sets of steps. Noise of a stochastic chain (a diffusion sampler)
        must be drawn up front and looked up by ``t``, so that the chain is a fixed map.
    x0 : array_like
        The initial state, of any shape. Integers are promoted to float64; float32, float64
        and complex dtypes are kept. CuPy arrays run on the GPU.
    n_steps : int
        Number of steps ``T`` (0 returns ``x0`` alone).
    method : {"picard", "jacobi", "gauss-seidel", "hybrid", "newton", "quasi-newton"}
        ``"picard"`` (default): ``X[j+1] = X[b] + sum_{i=b}^{j} (step(i, X[i]) - X[i])`` over
        the window, ParaDiGMS's sweep; converges superlinearly for ``step = id + h f``.
        ``"jacobi"``: ``X[j+1] = step(j, X[j])`` for the whole window at once (Song et
        al.); contracts only where the steps do. ``"hybrid"``: Jacobi across blocks of
        ``block`` steps, sequential inside each block (Song et al.'s Jacobi-GS).
        ``"gauss-seidel"``: one block, i.e. the sequential loop in one sweep.
        ``"newton"`` (DEER): ``X[j+1] = step(j, X_old[j]) + J_j (X_new[j] - X_old[j])`` with
        the step's Jacobian ``J_j``, an affine recursion in the new states (a sequential
        scan on the CPU, an associative scan of depth ``log2`` of the window elsewhere);
        quadratic near the solution, one sweep on a linear chain. ``"quasi-newton"``
        (quasi-DEER): the same with the Jacobian's diagonal; linear convergence at
        ``O(size)`` cost per state.
    window : int, optional
        Picard, Jacobi and the Newton methods: the sliding window ``p`` of ParaDiGMS, the
        number of steps
        evaluated per sweep (``None``: the whole horizon). Smaller windows waste less work
        on states far from final, larger ones need fewer sweeps.
    block : int, optional
        ``"hybrid"``: steps per block; default ``ceil(sqrt(n_steps))``.
    rtol, atol : float
        State ``j`` is accepted when its update in a sweep satisfies ``||X_new[j] -
        X_old[j]||_2 <= max(rtol ||X_new[j]||_2, atol tol_scale[j])``. ``rtol`` defaults to
        1e-10 for Picard and the Newton methods and 0 for the others (Jacobi, hybrid,
        Gauss–Seidel), which then stop on exact equality and
        return the sequential states bit for bit. On a contractive chain the last bit of
        a state can keep changing from sweep to sweep, so the exact test may need all
        ``n_steps`` sweeps; ``rtol=1e-15`` stops once the states agree to rounding. Picard
        also accepts updates below 100 rounding units of the magnitudes summed into the
        state. An update that is not finite is never accepted.
    tol_scale : array_like, optional
        ``(n_steps + 1,)`` per-state scale of ``atol``; default ``sqrt(x0.size)``, so that
        ``atol`` bounds the root-mean-square update per entry. ParaDiGMS uses ``sqrt(D)
        sigma_t`` with the sampler's noise level ``sigma_t``.
    init : None, "previous", SolveResult or array_like
        The starting trajectory, shape ``(n_steps + 1, *x0.shape)`` (row 0 is replaced by
        ``x0``). ``None``: ``x0`` everywhere, and each state entering the window starts at
        the last state computed. ``"previous"``: the trajectory of the last converged
        chain solve in this thread (warm start for a sequence of related solves, the
        Real-Time Iteration idea); a ``SolveResult`` uses its ``x``.
    predictor : callable, optional
        ``predictor(t, X) -> guess``: a model of the solution, called on the states not
        yet final (``t`` = their indices, from the anchor to ``n_steps``; ``X`` their current
        values) and returning a guess of the same shape. Its guesses replace the states
        for the first ``predictor_sweeps`` sweeps (the anchor row is kept); after that the
        exact step takes over, so the answer is the same and at most ``predictor_sweeps
        + n_steps`` sweeps are run.
    predictor_sweeps : int, optional
        Sweeps that use ``predictor``; default 1 when a predictor is given.
    jacobian : callable, optional
        Needed by the Newton methods: ``jacobian(t, X)`` returns the step's Jacobians at the
        rows of ``X``, shape ``(m, x0.size, x0.size)`` (acting on flattened states) for
        ``"newton"``, or their diagonals, shaped like ``X``, for ``"quasi-newton"``.
    maxiter : int, optional
        Sweep limit. Every method finishes within ``n_steps + predictor_sweeps`` sweeps,
        the default.
    callback : callable, optional
        ``callback(intermediate_result)`` at sweep 0 and after every sweep; its ``x`` is a
        copy of the trajectory. Raising ``StopIteration`` ends with ``Status.CALLBACK``.
    throw : bool
        Raise :class:`~itersolve.ConvergenceError` when the solve does not converge.
    backend : {None, "numpy", "cupy", "array-api"}
        Force a backend; ``None`` follows ``x0``.

    Returns
    -------
    SolveResult
        ``x``: the trajectory, shape ``(n_steps + 1, *x0.shape)``. ``nit``: sweeps (the
        latency on a parallel device, counted in batched calls for Picard and Jacobi).
        ``nfev``: step evaluations (the work; the sequential loop needs ``n_steps``).
        ``residuals[k]``: the largest update ``||X_new[j] - X_old[j]||_2`` in sweep ``k``
        (``residuals[0] = 0``: no sweep yet). ``stats``: ``method``; ``window_trace``, one
        ``(begin, end, advanced)`` row per sweep; ``final_sweep[j]``, the sweep after which
        state ``j`` was final; ``converged_steps``, the last final state; ``calls``, the
        calls of ``step`` (a hybrid sweep makes ``block`` calls in sequence);
        ``predictor_calls``; ``reset_states``; ``njev`` (Jacobian rows evaluated, Newton
        methods).

    Raises
    ------
    TypeError, ValueError
        Bad arguments, before any work; a step that returns another shape (ValueError),
        dtype or array library (TypeError).
    ConvergenceError
        With ``throw=True``, when the solve ends without converging.

    Notes
    -----
    After ``k`` exact sweeps at least the first ``k + 1`` states are final, whatever the
    step: the finite-termination property of all these methods. Picard on ``step = id +
    h f`` with ``f`` ``L``-Lipschitz has error ``<= (L t_n)^k / k!`` times the initial error
    at time ``t_n`` after ``k`` sweeps (:mod:`itersolve.theory.chain`); Jacobi has no such
    contraction on ODE-like chains and needs ``n_steps`` sweeps in the worst case.

    The stopping test compares successive sweeps, as ParaDiGMS does: a tolerance larger
    than the change a single step makes can accept a state that is not final. A state
    accepted by the test has a defect ``||X[j+1] - step(j, X[j])||`` of at most ``(1 + L)``
    times its threshold; the distance to the sequential trajectory is these defects
    propagated by the chain (:func:`itersolve.theory.chain.perturbed_chain_error_bound`).

    Jacobi's states equal :func:`sequential_chain`'s bit for bit when ``step`` computes
    each row independently of the batch. BLAS matrix products are not batch-invariant
    (``X @ W.T`` may round differently for one row and for many), so such steps agree
    to rounding instead.

    Statuses: ``CONVERGED`` when every state is final; ``MAXITER``; ``NONFINITE`` when a
    state computed from final inputs is NaN or Inf (the chain itself overflows; the
    returned trajectory holds the states computed so far), while states not yet final
    that overflow are restarted from the anchor (``stats["reset_states"]``); ``CALLBACK``.

    References
    ----------
    Y. Song, C. Meng, R. Liao, S. Ermon, "Accelerating feedforward computation via parallel
    nonlinear equation solving", ICML 2021. A. Shih, S. Belkhale, S. Ermon, D. Sadigh,
    N. Anari, "Parallel sampling of diffusion models", NeurIPS 2023. Y. H. Lim et al.,
    "Parallelizing non-linear sequential models over the sequence length" (DEER), ICLR
    2024. X. Gonzalez et al., "Towards scalable and stable parallelization of nonlinear
    RNNs" (quasi-DEER, ELK), NeurIPS 2024.

    Examples
    --------
    >>> import numpy as np
    >>> import itersolve
    >>> step = lambda t, x: x + 0.01 * np.cos(x)           # Euler steps of y' = cos y
    >>> result = itersolve.solve_chain(step, np.zeros(1), 200)
    >>> reference = itersolve.sequential_chain(step, np.zeros(1), 200)
    >>> result.success, result.nit < 200, bool(np.allclose(result.x, reference, rtol=1e-9))
    (True, True, True)
    """
    check_callable("step", step)
    n_steps, backend_, x = _checked_start(x0, n_steps, backend)
    check_choice("method", method, METHODS)
    window = _optional_int("window", window, 1)
    block = _optional_int("block", block, 1)
    if window is not None and method not in WINDOWED:
        raise ValueError(f"`window` applies to the methods {WINDOWED}, not {method!r}")
    check_callable("jacobian", jacobian, optional=True)
    needs_jacobian = method in ("newton", "quasi-newton")
    if needs_jacobian and jacobian is None:
        raise ValueError(f"method={method!r} needs `jacobian`, the step's Jacobian")
    if jacobian is not None and not needs_jacobian:
        raise ValueError(f"`jacobian` applies to method='newton' or 'quasi-newton', not {method!r}")
    if block is not None and method != "hybrid":
        raise ValueError(f"`block` applies to method='hybrid', not {method!r}")
    rtol = DEFAULT_RTOL[method] if rtol is None else rtol
    check_callable("predictor", predictor, optional=True)
    if predictor_sweeps is not None and predictor is None:
        raise ValueError("`predictor_sweeps` needs a `predictor`")
    predictor_sweeps = _optional_int("predictor_sweeps", predictor_sweeps, 0)
    if predictor_sweeps is None:
        predictor_sweeps = 0 if predictor is None else 1
    # every method finishes within this many sweeps, so there is always a limit
    finite_termination = n_steps + predictor_sweeps
    maxiter = finite_termination if maxiter is None else maxiter
    # checked here, not only by run: the Numba kernels take rtol and atol as floats, and the
    # trajectory buffer must not be allocated for a bad tolerance
    rtol, atol, maxiter = check_tolerances(rtol, atol, maxiter)

    problem = ChainProblem(step, x, n_steps, jacobian=jacobian)
    scale = _tol_scale(tol_scale, problem)
    start = ChainStart(problem, init, predictor, predictor_sweeps)
    # the Numba kernels take float32 and float64; float16 and complex take the generic path
    kernels = backend_.name == "numpy" and x.dtype in (np.float32, np.float64)
    if method in ("picard", "jacobi"):
        kind = Picard if method == "picard" else Jacobi
        solver = kind(rtol, atol, scale, start, window=window, kernels=kernels)
    elif needs_jacobian:
        diagonal = method == "quasi-newton"
        solver = Newton(rtol, atol, scale, start, window=window, kernels=kernels, diagonal=diagonal)
    else:
        blocks = n_steps if method == "gauss-seidel" else block
        block = blocks or _default_block(n_steps)
        solver = Blocks(rtol, atol, scale, start, block=block, kernels=kernels)
    X = start.trajectory(problem, x)
    stats = {"method": method, "backend": backend_.name}
    result = run(solver, problem, X, maxiter=maxiter, callback=callback, throw=throw, stats=stats)
    if result.status == Status.CONVERGED:
        remember(result.x)
    return result


def _default_block(n_steps: int) -> int:
    return max(1, math.isqrt(max(n_steps - 1, 0)) + 1)


def sequential_chain(step: Callable[[Any, Any], Any], x0: ArrayLike, n_steps: int) -> Any:
    """The reference: ``x_{t+1} = step(t, x_t)`` one step at a time.

    ``step`` is called ``n_steps`` times with one index and one state (batches of one),
    under the same checks as :func:`solve_chain`. Returns the trajectory, an array of
    shape ``(n_steps + 1, *x0.shape)`` in ``x0``'s library.

    This is the reference evaluator the solvers are checked against, not an iterative
    solver: it runs exactly ``n_steps`` steps and returns the array itself rather than a
    :class:`~itersolve.SolveResult`, so it takes no tolerances, ``maxiter``, ``callback``
    or ``throw``.

    Examples
    --------
    >>> import numpy as np
    >>> from itersolve import sequential_chain
    >>> sequential_chain(lambda t, x: 2 * x + t, np.ones(1), 3)[:, 0]
    array([ 1.,  2.,  5., 12.])
    """
    check_callable("step", step)
    n_steps, _, x = _checked_start(x0, n_steps, None)
    # the loop runs under the caller's floating-point settings, so no per-call errstate
    problem = ChainProblem(step, x, n_steps, guard_errstate=False)
    xp = problem.xp
    X = xp.empty((n_steps + 1, *problem.state_shape), dtype=x.dtype)
    X[...] = x
    for t in range(n_steps):
        X[t + 1 : t + 2, ...] = problem(xp.asarray([t], dtype=xp.int64), X[t : t + 1, ...])
    return X
