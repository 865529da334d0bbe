"""The user's step function, guarded and counted, over a trajectory held in one buffer."""

from __future__ import annotations

import contextlib
import math

import array_api_compat
import numpy as np

from .._validation import check_map_output


def checked_output(name: str, Y, *, array_type: type, shape, dtype, xp, rows: str):
    """``Y``, returned by the user's ``name``, checked to be an ``array_type`` (the states'
    array type) of this ``shape`` and ``dtype``; ``rows`` says what each row should be.

    The first test is the path every batched call takes. Not an array, or another
    library's: the core's :func:`~itersolve._validation.check_map_output` names it. Shape
    and dtype are compared here, in that order and for every library alike, so that the
    message speaks of states and step indices (the core's NumPy path would report a
    complex or object return before a wrong shape, and as ``name(...)``).
    """
    shape = tuple(shape)
    if type(Y) is array_type and tuple(Y.shape) == shape and Y.dtype == dtype:
        return Y
    if type(Y) is not array_type:
        return check_map_output(name, Y, xp=xp, shape=shape, dtype=dtype)
    if tuple(Y.shape) != shape:
        raise ValueError(
            f"`{name}` returned shape {tuple(Y.shape)} for states of shape {shape}; it must "
            f"return {rows} (leading axis = step index)"
        )
    if Y.dtype != dtype:
        raise TypeError(
            f"`{name}` returned dtype {Y.dtype} for states of dtype {dtype}; it must "
            "preserve the dtype (cast inside it, or start from states of the dtype it returns)"
        )
    return Y


class ChainProblem:
    """``step`` wrapped so that every evaluation is counted and its output checked.

    ``step(t, X)`` receives an integer array ``t`` of step indices (shape ``(m,)``) and the
    states ``X`` (shape ``(m, *state_shape)``) and must return the ``m`` next states with
    the same shape, dtype and array library. Anything else is an error, raised at the
    first call that shows it rather than converted silently.

    ``nfev`` counts step evaluations (one per state, the work); ``calls`` counts calls of
    ``step`` (batched evaluations in sequence, the latency of a sequential device).
    """

    def __init__(self, step, x0, n_steps: int, *, guard_errstate: bool = True, jacobian=None):
        self.step = step
        self.jacobian_function = jacobian
        self.xp = array_api_compat.array_namespace(x0)
        self.state_shape = tuple(x0.shape)
        self.dtype = x0.dtype
        self.array_type = type(x0)
        self.n_steps = n_steps
        self.size = math.prod(self.state_shape)
        self.eps = float(self.xp.finfo(self.dtype).eps)
        # Our own arithmetic runs with floating-point warnings silenced (a diverging chain
        # ends with Status.NONFINITE); the step runs under the caller's settings.
        self.user_errstate = np.geterr() if guard_errstate else None
        self.nfev = 0
        self.calls = 0
        self.njev = 0

    def __call__(self, t, X):
        if self.user_errstate is None:
            return self.evaluate(t, X)
        with np.errstate(**self.user_errstate):
            return self.evaluate(t, X)

    def user_settings(self):
        """A context with the caller's floating-point settings, for a run of :meth:`evaluate`
        calls with no arithmetic of ours in between (one switch instead of one per call)."""
        if self.user_errstate is None:
            return contextlib.nullcontext()
        return np.errstate(**self.user_errstate)

    def evaluate(self, t, X):
        """``step(t, X)``, counted and checked, under whatever settings are in force."""
        Y = self.step(t, X)
        self.nfev += int(X.shape[0])
        self.calls += 1
        return self.checked("step", Y, X.shape, rows="one next state per row")

    def step_and_jacobian(self, t, X, *, diagonal: bool):
        """``self(t, X)`` and the user's ``jacobian(t, X)``, checked: ``(m, size, size)`` full
        Jacobians of the step at the rows of ``X``, or with ``diagonal`` their diagonals
        shaped like ``X``. One switch of the floating-point settings for both (it costs a
        microsecond); the step's output is checked before the Jacobian is asked for."""
        if self.user_errstate is None:
            return self.evaluate(t, X), self._jacobian(t, X, diagonal)
        with np.errstate(**self.user_errstate):
            return self.evaluate(t, X), self._jacobian(t, X, diagonal)

    def _jacobian(self, t, X, diagonal):
        J = self.jacobian_function(t, X)
        self.njev += int(X.shape[0])
        shape = tuple(X.shape) if diagonal else (X.shape[0], self.size, self.size)
        rows = "the diagonal of each step's Jacobian" if diagonal else "one Jacobian per row"
        return self.checked("jacobian", J, shape, rows=rows)

    def checked(self, name: str, Y, shape, *, rows: str):
        """``Y``, returned by the user's ``name``, checked to be an array of the states'
        library and dtype with this ``shape`` (:func:`checked_output`)."""
        return checked_output(
            name,
            Y,
            array_type=self.array_type,
            shape=shape,
            dtype=self.dtype,
            xp=self.xp,
            rows=rows,
        )

    def state_norms(self, V):
        """2-norm of each state (row) of ``V``, a host float64 array, safe from underflow
        and overflow."""
        from itersolve.gpu._chain import row_norms

        return row_norms(self.xp, V)
