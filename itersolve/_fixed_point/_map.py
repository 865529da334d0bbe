"""The user's map, guarded and counted, and what every fixed-point solver shares."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import array_api_compat
import numpy as np

from .._backend import as_array, resolve
from .._result import Status


def float_start(x0, backend):
    """``(backend, x)``: ``x0`` on its backend as a float copy (integers promoted to float64)."""
    backend_, x = resolve(as_array(x0, "x0"), backend=backend)
    xp = backend_.xp
    if xp.isdtype(x.dtype, ("bool", "integral")):
        x = xp.astype(x, xp.float64)
    elif not xp.isdtype(x.dtype, ("real floating", "complex floating")):
        raise TypeError(f"`x0` must hold real or complex numbers, got dtype {x.dtype}")
    return backend_, xp.asarray(x, copy=True)


class FixedPointProblem:
    """``T`` wrapped so that every evaluation is counted and checked.

    ``T`` must return an array of the iterate's shape, dtype and library; a Python scalar
    is accepted for a 0-d iterate. Anything else is an error, raised at the first
    evaluation that shows it, rather than a silent conversion.
    """

    def __init__(self, T, x0, *, scalar_output=False):
        self.T = T
        self.xp = array_api_compat.array_namespace(x0)
        self.scalar_output = scalar_output
        # The solve silences NumPy's floating-point warnings for its own arithmetic (a
        # diverging iterate ends with Status.NONFINITE instead); T runs under the user's.
        self.user_errstate = np.geterr()
        self.shape = tuple(x0.shape)
        self.dtype = x0.dtype
        self.nfev = 0

    def __call__(self, x):
        with np.errstate(**self.user_errstate):
            y = self.T(x)
        self.nfev += 1
        if isinstance(y, (int, float, complex)) and self.shape == ():
            return self.xp.asarray(y, dtype=self.dtype)
        if not array_api_compat.is_array_api_obj(y):
            raise TypeError(f"`T` must return an array, got {type(y).__name__}")
        if array_api_compat.array_namespace(y) is not self.xp:
            raise TypeError(
                f"`T` returned a {type(y).__module__}.{type(y).__name__} for an iterate of "
                f"another array library; it must return arrays of the iterate's library"
            )
        if tuple(y.shape) != self.shape:
            raise ValueError(
                f"`T` returned shape {tuple(y.shape)} for an iterate of shape {self.shape}; "
                "T must map the iterate's shape to itself"
            )
        if y.dtype != self.dtype:
            raise TypeError(
                f"`T` returned dtype {y.dtype} for an iterate of dtype {self.dtype}; "
                "T must preserve the dtype (cast inside T, or pass x0 with the dtype T returns)"
            )
        return y

    def output(self, x):
        """The iterate as returned to the user: a NumPy scalar for scalar input."""
        return x[()] if self.scalar_output else x

    def norm(self, v) -> float:
        """2-norm over all entries, rescaled where squaring would overflow."""
        xp = self.xp
        value = float(xp.linalg.vector_norm(v))
        if value == math.inf:
            largest = float(xp.max(xp.abs(v)))
            if math.isfinite(largest):
                value = largest * float(xp.linalg.vector_norm(v / largest))
        return value


@dataclasses.dataclass
class MapState:
    """What every fixed-point solver keeps: T at the current iterate and the residual."""

    Tx: Any
    residual: float  # ||x - T(x)||_2 over all entries
    scale: float  # ||T(x)||_2, the reference for rtol


def evaluate(problem: FixedPointProblem, x) -> MapState:
    Tx = problem(x)
    return MapState(Tx=Tx, residual=problem.norm(x - Tx), scale=problem.norm(Tx))


class FixedPointSolver:
    """Base of the fixed-point solvers: the shared stopping test and bookkeeping.

    Stopping test: ``||x_k - T(x_k)||_2 <= max(rtol * ||T(x_k)||_2, atol)``, the 2-norm
    over all entries of the array.
    """

    rtol: float
    atol: float

    def init(self, problem, x0):
        return evaluate(problem, x0)

    def terminate(self, problem, x, state):
        # A non-finite scale would make any residual look small.
        if math.isfinite(state.scale) and state.residual <= max(self.rtol * state.scale, self.atol):
            return True, Status.CONVERGED
        return False, Status.IN_PROGRESS

    def postprocess(self, problem, x, state):
        return problem.output(x), self.stats(state)

    def stats(self, state) -> dict:
        return {}
