"""Where a chain solve starts: the initial trajectory, a predictor, and warm starts.

None of these can change the answer, only the number of sweeps: the exact map takes over
after ``predictor_sweeps`` sweeps and finite termination holds from any starting
trajectory.
"""

from __future__ import annotations

import threading

import array_api_compat
import numpy as np

from .._result import SolveResult

# The last trajectory a chain solve completed in this thread, for init="previous".
_previous = threading.local()


def remember(X) -> None:
    """Keep a copy of ``X``: the caller may change the returned trajectory in place."""
    _previous.trajectory = array_api_compat.array_namespace(X).asarray(X, copy=True)


def forget() -> None:
    """Drop the remembered trajectory (the next ``init="previous"`` is an error)."""
    _previous.trajectory = None


def _recall(problem):
    X = getattr(_previous, "trajectory", None)
    if X is None:
        raise ValueError(
            "init='previous' needs an earlier solve_chain or picard_ode call that converged "
            "in this thread; there is none (pass init=None for the first solve)"
        )
    expected = (problem.n_steps + 1, *problem.state_shape)
    if tuple(X.shape) != expected:
        raise ValueError(
            f"init='previous': the previous trajectory has shape {tuple(X.shape)}, this "
            f"solve needs {expected}"
        )
    return X


def _as_trajectory(init, problem):
    xp = problem.xp
    if isinstance(init, SolveResult):
        init = init.x
    if not array_api_compat.is_array_api_obj(init):
        try:
            init = xp.asarray(init)
        except Exception as exc:
            raise TypeError(
                f"`init` must be None, 'previous', a SolveResult or an array; got "
                f"{type(init).__name__}"
            ) from exc
    if array_api_compat.array_namespace(init) is not xp:
        raise TypeError(
            f"`init` is a {type(init).__module__}.{type(init).__name__}; it must be an array "
            "of x0's library"
        )
    expected = (problem.n_steps + 1, *problem.state_shape)
    if tuple(init.shape) != expected:
        raise ValueError(
            f"`init` must have shape (n_steps + 1, *x0.shape) = {expected}, got {tuple(init.shape)}"
        )
    if not xp.isdtype(init.dtype, ("integral", "real floating", "complex floating")):
        raise TypeError(f"`init` must hold numbers, got dtype {init.dtype}")
    if xp.isdtype(init.dtype, "complex floating") and not xp.isdtype(
        problem.dtype, "complex floating"
    ):
        raise TypeError(f"`init` is complex ({init.dtype}) but the states are {problem.dtype}")
    if not bool(xp.all(xp.isfinite(init))):
        raise ValueError("`init` contains NaN or Inf")
    return init


class ChainStart:
    """The initial trajectory and the predictor sweeps of one solve.

    ``init`` is None (every state starts at ``x0``; ParaDiGMS then fills each new window
    slot with the last computed state), ``"previous"`` (a copy of the trajectory of the
    last converged chain solve in this thread, kept until the next one converges), a
    :class:`~itersolve.SolveResult` or an array of shape ``(n_steps + 1, *x0.shape)``.
    Row 0 is always replaced by ``x0``.
    """

    def __init__(self, problem, init, predictor, predictor_sweeps: int):
        if isinstance(init, str):
            if init != "previous":
                raise ValueError(f"`init` must be None, 'previous' or an array; got {init!r}")
            init = _recall(problem)
        self.guess = None if init is None else _as_trajectory(init, problem)
        self.predictor = predictor
        self.predictor_sweeps = predictor_sweeps
        # Without a guess the slots ahead of the window hold nothing better than x0, so
        # the last computed state is the better placeholder; a guess is kept as given.
        self.fill_ahead = self.guess is None and (predictor is None or predictor_sweeps == 0)

    def trajectory(self, problem, x0):
        """The starting trajectory as a fresh buffer of shape ``(n_steps + 1, *x0.shape)``."""
        xp = problem.xp
        shape = (problem.n_steps + 1, *problem.state_shape)
        # C order, whatever the layout of x0 or the guess: each state a contiguous row
        X = xp.empty(shape, dtype=problem.dtype)
        X[...] = x0 if self.guess is None else xp.astype(self.guess, problem.dtype)
        X[0, ...] = x0
        return X

    def predict(self, problem, X, begin: int) -> float:
        """Replace ``X[begin+1:]`` by the predictor's guess; return the largest change."""
        xp = problem.xp
        t = xp.arange(begin, problem.n_steps + 1, dtype=xp.int64)
        window = X[begin:, ...]
        guess = self.predictor(t, window)
        rows = "a guess for every state it receives"
        guess = problem.checked("predictor", guess, window.shape, rows=rows)
        change = problem.state_norms(guess[1:, ...] - window[1:, ...])
        X[begin + 1 :, ...] = guess[1:, ...]
        return float(np.max(change)) if change.shape[0] else 0.0
