"""Up-front argument checks shared by every front-end: fail before any work is done."""

from __future__ import annotations

import math
import numbers


def check_tolerances(rtol, atol, maxiter) -> tuple[float, float, int | None]:
    """Validate the keyword-only tolerances every solver takes; return them normalised."""
    for name, value in (("rtol", rtol), ("atol", atol)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"`{name}` must be a real number, got {type(value).__name__}")
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"`{name}` must be finite and non-negative, got {value!r}")
    if maxiter is not None:
        if isinstance(maxiter, bool) or not isinstance(maxiter, numbers.Integral):
            raise TypeError(f"`maxiter` must be an integer or None, got {type(maxiter).__name__}")
        if maxiter < 0:
            raise ValueError(f"`maxiter` must be non-negative, got {maxiter}")
        maxiter = int(maxiter)
    elif rtol == 0 and atol == 0:
        raise ValueError(
            "`rtol` and `atol` are both 0 and `maxiter` is None: the solve could never stop"
        )
    return float(rtol), float(atol), maxiter


def check_callable(name: str, value, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not callable(value):
        raise TypeError(f"`{name}` must be callable, got {type(value).__name__}")


def check_real(name: str, value, *, low=None, high=None, low_open=False, high_open=False):
    """Check ``value`` is a real number inside the given interval; return it as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number, got {type(value).__name__}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value) or too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        interval = (
            f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
        )
        raise ValueError(f"`{name}` must lie in {interval}, got {value!r}")
    return value


def check_int(name: str, value, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"`{name}` must be at least {low}, got {value}")
    return int(value)


def check_choice(name: str, value, choices) -> str:
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {options}; got {value!r}")
    return value
