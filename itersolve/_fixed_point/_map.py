"""The user's map, guarded and counted, and what every fixed-point solver shares."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import array_api_compat
import numpy as np

from .._backend import as_array, resolve
from .._norms import scaled_norm
from .._result import Status
from .._validation import check_array, check_returned


def float_start(x0, backend, name="x0"):
    """``(backend, x)``: ``x0`` on its backend as a float copy (integers promoted to float64).

    ``x0`` must be a non-empty array of finite real or complex numbers: booleans, strings,
    objects, NaN and Inf are rejected before any evaluation of the map.
    """
    if _numpy_like(x0):
        check_array(name, x0, complex_ok=True)
    backend_, x = resolve(as_array(x0, name), backend=backend)
    xp = backend_.xp
    if not xp.isdtype(x.dtype, "numeric") or xp.isdtype(x.dtype, "bool"):
        raise TypeError(f"`{name}` must hold numbers, got dtype {x.dtype}")
    if not x.size:
        raise ValueError(f"`{name}` is empty")
    if xp.isdtype(x.dtype, "integral"):
        x = xp.astype(x, xp.float64)
    if not bool(xp.all(xp.isfinite(x))):
        raise ValueError(f"`{name}` contains NaN or Inf")
    return backend_, xp.asarray(x, copy=True)


def _numpy_like(value) -> bool:
    """Whether ``value`` is a NumPy array or something NumPy converts (scalars, lists);
    the shared checks read NumPy dtypes, so arrays of other libraries are checked here."""
    return isinstance(value, np.ndarray) or not array_api_compat.is_array_api_obj(value)


def check_map_output(name, y, *, xp, shape, dtype):
    """What the user's map ``name`` returned, checked against the iterate it was given.

    It must be an array of the iterate's shape, dtype and library (a Python scalar is
    accepted for a 0-d iterate). ``None``, strings, objects, another shape, another library
    or another dtype (complex for a real iterate included) are errors that name ``name``.
    """
    if isinstance(y, (int, float, complex)) and not isinstance(y, bool) and shape == ():
        if isinstance(y, complex) and not xp.isdtype(dtype, "complex floating"):
            raise TypeError(f"`{name}` returned a complex number for a real iterate")
        return xp.asarray(y, dtype=dtype)
    if not array_api_compat.is_array_api_obj(y) or isinstance(y, np.generic):
        if isinstance(y, np.generic) and shape == ():
            y = np.asarray(y)
        else:
            raise TypeError(f"`{name}` must return an array, got {type(y).__name__}")
    if array_api_compat.array_namespace(y) is not xp:
        raise TypeError(
            f"`{name}` returned a {type(y).__module__}.{type(y).__name__} for an iterate of "
            f"another array library; it must return arrays of the iterate's library"
        )
    if isinstance(y, np.ndarray):
        check_returned(name, y, shape=shape, complex_ok=xp.isdtype(dtype, "complex floating"))
    elif tuple(y.shape) != tuple(shape):
        raise ValueError(f"`{name}` returned an array of shape {tuple(y.shape)}; expected {shape}")
    if y.dtype != dtype:
        raise TypeError(
            f"`{name}` returned dtype {y.dtype} for an iterate of dtype {dtype}; "
            f"`{name}` must preserve the dtype (cast inside it, or pass x0 with the dtype it "
            "returns)"
        )
    return y


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


class FixedPointSolver:
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
