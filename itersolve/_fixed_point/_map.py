"""The user's map, guarded and counted, and what every fixed-point solver shares."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import array_api_compat
import numpy as np

from .._driver import Solver
from .._norms import scaled_norm
from .._result import Status
from .._validation import check_map_output


class FixedPointProblem:
    """``T`` wrapped so that every evaluation is counted and checked.

    ``T`` must return an array of the iterate's shape, dtype and library; a Python scalar
    is accepted for a 0-d iterate. Anything else is an error, raised at the first
    evaluation that shows it, rather than a silent conversion. An output of the same type,
    shape and dtype as one already accepted unchanged passes with that O(1) comparison
    (its values are the residual's business: NaN/Inf end the solve as NONFINITE).
    """

    def __init__(self, T, x0, *, scalar_output=False, name="T"):
        self.T = T
        self.name = name
        self.xp = array_api_compat.array_namespace(x0)
        self.scalar_output = scalar_output
        # The solve silences NumPy's floating-point warnings for its own arithmetic (a
        # diverging iterate ends with Status.NONFINITE instead); T runs under the user's.
        self.user_errstate = np.geterr()
        self.shape = tuple(x0.shape)
        self.dtype = x0.dtype
        self.nfev = 0
        self.start = None  # (residual, scale) at the first point evaluated, x0
        self._accepted_type = None  # the array type of an output accepted unchanged

    def __call__(self, x):
        with np.errstate(**self.user_errstate):
            y = self.T(x)
        self.nfev += 1
        if type(y) is self._accepted_type and y.shape == self.shape and y.dtype == self.dtype:
            return y
        checked = check_map_output(self.name, y, xp=self.xp, shape=self.shape, dtype=self.dtype)
        if checked is y:
            self._accepted_type = type(y)
        return checked

    def output(self, x):
        """The iterate as returned to the user: a NumPy scalar for scalar input."""
        return x[()] if self.scalar_output else x

    @staticmethod
    def norm(v) -> float:
        """2-norm over all entries that neither overflows nor underflows (BLAS ``nrm2``):
        a residual of 1e-170 must not read as 0, nor one of 1e+160 as Inf."""
        return scaled_norm(v)


@dataclasses.dataclass
class MapState:
    """What every fixed-point solver keeps: T at the current iterate and the residual."""

    Tx: Any
    residual: float  # ||x - T(x)||_2 over all entries
    scale: float  # ||T(x)||_2, the reference for rtol


def evaluate(problem: FixedPointProblem, x) -> MapState:
    Tx = problem(x)
    state = MapState(Tx=Tx, residual=problem.norm(x - Tx), scale=problem.norm(Tx))
    if problem.start is None:
        problem.start = (state.residual, state.scale)
    return state


class FixedPointSolver(Solver):
    """Base of the fixed-point solvers: the shared stopping test and bookkeeping.

    Stopping test: ``||x_k - T(x_k)||_2 <= max(rtol * ||T(x_k)||_2, atol)``, the 2-norm
    over all entries of the array.

    Methods that extrapolate (``extrapolates = True``: Anderson, Aitken) can meet the
    relative test by a jump rather than by a smaller residual: on a map without fixed
    point (``||x - T x|| >= ||v|| > 0`` everywhere) a long step to ``x ~ 1e8`` makes
    ``||v|| <= rtol ||T x||``, and one to ``x ~ 1e17`` rounds ``T x - x`` to zero. For them
    the relative test counts only when the residual, floored at the rounding level
    ``eps ||T x||`` of the evaluation, has fallen at least by the factor by which the scale
    grew since ``x_0``: ``max(r_k, eps s_k) / r_0 <= s_0 / s_k``. The absolute test
    ``atol`` always counts.
    """

    rtol: float
    atol: float
    extrapolates = False

    def init(self, problem, x0):
        return evaluate(problem, x0)

    def terminate(self, problem, x, state):
        residual, scale = state.residual, state.scale
        if residual <= self.atol:
            return True, Status.CONVERGED
        # A non-finite scale would make any residual look small.
        if math.isfinite(scale) and residual <= self.rtol * scale:
            if not self.extrapolates or self._not_a_jump(problem, residual, scale):
                return True, Status.CONVERGED
        return False, Status.IN_PROGRESS

    @staticmethod
    def _not_a_jump(problem, residual, scale) -> bool:
        first_residual, first_scale = problem.start
        floor = float(problem.xp.finfo(problem.dtype).eps) * scale
        return max(residual, floor) / first_residual <= first_scale / scale

    def postprocess(self, problem, x, state):
        return problem.output(x), self.stats(state)

    def stats(self, state) -> dict:
        return {}
