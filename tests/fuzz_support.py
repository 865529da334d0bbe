"""What every fuzz test asserts, and the hostile inputs they draw.

The contract (issue 12): given any input, a public entry point either

* raises ``ValueError`` or ``TypeError`` *from itersolve's own code* (the innermost frame
  of the traceback lies in the ``itersolve`` package, not in Numba, NumPy, SciPy or
  SymPy), with a message that names the argument at fault; or
* returns a result whose ``success`` is backed by an independent check of the returned
  point; a non-success status is always acceptable.

Code that a kernel runs on user-supplied indices is exercised in a subprocess
(:func:`run_isolated`), so a segmentation fault fails one test instead of the whole run.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
import traceback

import numpy as np
from hypothesis import strategies as st

import itersolve

# the directories of itersolve's code: the package and the sources of .gpu and .theory
_OWN_DIRS = tuple(
    os.path.dirname(os.path.abspath(module.__file__)) + os.sep
    for module in (itersolve, itersolve.gpu, itersolve.theory)
)


class UserError(Exception):
    """Raised by the hostile callables: a user's own exception, which may propagate."""


def innermost_frame(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return frames[-1].filename if frames else ""


def raised_by_itersolve(exc: BaseException) -> bool:
    return os.path.abspath(innermost_frame(exc)).startswith(_OWN_DIRS)


def check_rejection(exc: BaseException, names=()) -> None:
    """Assert ``exc`` is itersolve's own ValueError/TypeError naming one of ``names``."""
    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    assert isinstance(exc, (ValueError, TypeError)), f"not a ValueError/TypeError:\n{detail}"
    assert raised_by_itersolve(exc), f"raised outside itersolve:\n{detail}"
    if names:
        assert any(name in str(exc) for name in names), (
            f"the message names none of {names}: {exc}"
        )


def outcome(call, *, names=(), honest=None):
    """Run ``call()``; check it obeys the contract; return the result or the exception.

    ``honest(result)`` is the independent check a success must pass (it asserts).
    """
    try:
        result = call()
    except UserError as exc:
        return exc
    except itersolve.ConvergenceError as exc:
        return exc
    except (ValueError, TypeError) as exc:
        check_rejection(exc, names)
        return exc
    except Exception as exc:
        detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        raise AssertionError(f"unexpected {type(exc).__name__}:\n{detail}") from None
    if honest is not None and getattr(result, "success", False):
        honest(result)
    return result


def run_isolated(code: str, *, timeout: float = 120, env=None, cwd=None):
    """Run ``code`` in a fresh interpreter; fail (not crash) on a signal or a time-out.

    Returns the ``subprocess.CompletedProcess``; ``env`` and ``cwd`` as for ``subprocess``.
    """
    process = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
    )
    assert process.returncode >= 0, (
        f"the interpreter died with signal {-process.returncode}:\n{process.stderr}"
    )
    return process


# ----- hostile inputs -----------------------------------------------------------------

EXTREME_SCALES = (1e-300, 1e-170, 1e-160, 1e-20, 1.0, 1e20, 1e150, 1e153, 1e300)

hostile_scalars = st.sampled_from(
    [None, "x", "1.0", b"1", [], [1.0], {}, object(), True, False, math.nan, math.inf,
     -math.inf, -1, 0, -1.5, 1e308, 10**400, 1j, np.float64(np.nan), np.array([1.0, 2.0])]
)

hostile_dtypes = st.sampled_from(
    [np.float16, np.float32, np.float64, np.complex64, np.complex128, np.int8, np.int64,
     np.uint8, np.bool_, object, "U3"]
)


@st.composite
def hostile_arrays(draw, shape):
    """An array that is wrong in one way: non-finite, empty, mis-shaped, mis-typed or at an
    extreme scale (the last being *valid* input that must still be solved correctly)."""
    kind = draw(st.sampled_from(["nonfinite", "empty", "shape", "dtype", "scale", "list"]))
    base = np.linspace(0.5, 1.5, int(np.prod(shape))).reshape(shape)
    if kind == "nonfinite":
        bad = base.copy().reshape(-1)
        bad[draw(st.integers(0, bad.size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        return bad.reshape(shape)
    if kind == "empty":
        return np.zeros((0,) * max(len(shape), 1))
    if kind == "shape":
        return draw(st.sampled_from([base.reshape(-1)[:-1], np.zeros(tuple(s + 1 for s in shape)),
                                     np.zeros((*shape, 2)), np.float64(1.0)]))
    if kind == "dtype":
        dtype = draw(hostile_dtypes)
        if dtype == "U3":
            return np.full(shape, "abc")
        if dtype is object:
            return np.full(shape, None, dtype=object)
        return base.astype(dtype) * (1 + 1j if np.dtype(dtype).kind == "c" else 1)
    if kind == "list":
        return base.tolist()
    return base * draw(st.sampled_from(EXTREME_SCALES))


def hostile_callables(shape):
    """User functions that misbehave: None, a string, a wrong shape, NaN, a user error."""

    def returns(value):
        return lambda *args, **kwargs: value

    def raises(*args, **kwargs):
        raise UserError("the user's function failed")

    return st.sampled_from(
        [returns(None), returns("abc"), returns(np.zeros(tuple(s + 1 for s in shape))),
         returns(np.full(shape, np.nan)), returns(np.full(shape, np.inf)),
         returns(np.full(shape, 1 + 1j)), returns(np.zeros(shape, dtype=object)), raises]
    )
