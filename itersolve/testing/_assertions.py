"""Assertions about convergence whose failure messages show the history and the theory.

Each helper takes what a solver returned: an itersolve ``SolveResult`` (its ``residuals``,
``x``, ``success``), a scipy ``OptimizeResult`` (``x``, ``success``, and ``residuals`` if the
caller stored them), or a plain array (a residual history, or ``x`` when ``to`` is given).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .._norms import scaled_norm
from .._result import observed_rate as fitted_rate

#: residuals below ``FLOOR`` times the largest one are rounding noise, not convergence
FLOOR = 1e4 * np.finfo(np.float64).eps
_SHOWN = 6  # rows of the history shown at each end of a long table


def _history(observed, name: str = "observed") -> np.ndarray:
    """The residual history carried by ``observed``, as a 1-D float64 array."""
    residuals = getattr(observed, "residuals", None)
    if residuals is None and isinstance(observed, dict):
        residuals = observed.get("residuals")
    if residuals is None:
        if hasattr(observed, "x") or isinstance(observed, dict):
            raise TypeError(
                f"{name} is a {type(observed).__name__} without a residual history: pass the "
                "residuals themselves (for example collected by a callback), or a result "
                "with a `residuals` field"
            )
        residuals = observed
    if np.iscomplexobj(residuals):
        raise TypeError(f"{name} must be real residual norms, got complex values")
    try:
        history = np.asarray(residuals, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a result with residuals or a sequence of residual norms, "
            f"got {type(observed).__name__}"
        ) from None
    if history.ndim != 1 or history.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D history, got shape {history.shape}")
    if np.any(history < 0):
        raise ValueError(f"{name} holds negative values: residuals are norms")
    return history


def _format(value: float) -> str:
    return f"{value:.3e}" if math.isfinite(value) else str(value)


def _table(columns: dict[str, np.ndarray], rows, mark=None) -> str:
    """Rows of a history as a table; long histories keep both ends and the marked rows."""
    rows = list(rows)
    if len(rows) > 2 * _SHOWN + 1:
        keep = set(rows[:_SHOWN]) | set(rows[-_SHOWN:])
        if mark is not None:
            keep |= {r for r in rows if abs(r - mark) <= 2}
        rows = sorted(keep)
    lines = ["      k  " + "  ".join(f"{name:>11}" for name in columns)]
    previous = None
    for k in rows:
        if previous is not None and k != previous + 1:
            lines.append("    ...")
        cells = "  ".join(f"{_format(float(column[k])):>11}" for column in columns.values())
        lines.append(f"{'>' if k == mark else ' '}{k:6d}  {cells}")
        previous = k
    return "\n".join(lines)


def _window(history: np.ndarray, window: int | None, floor: float | None):
    """The fitted stretch ``[start, stop)``: the tail of the history above the floor."""
    finite = np.isfinite(history)
    if not finite.all():
        stop = int(np.argmin(finite))
        return None, f"the history turns non-finite at k = {stop}"
    level = FLOOR * history.max() if floor is None else floor
    above = np.nonzero(history > level)[0]
    if above.size == 0:
        return None, f"no residual lies above the floor {_format(level)}"
    stop = int(above[-1]) + 1  # the last residual above the floor ends the window
    length = window if window is not None else max(4, stop // 2)
    start = max(0, stop - length)
    if stop - start < 3:
        return None, (
            f"only {stop - start} residuals lie above the floor {_format(level)}; "
            "a rate needs at least 3"
        )
    return (start, stop), None


def observed_rate(residuals, *, window: int | None = None, floor: float | None = None) -> float:
    """The observed linear rate: ``exp`` of the least-squares slope of ``log r_k``.

    Fitted over the last ``window`` residuals (default: the later half) above ``floor``
    (default: ``1e4 eps`` times the largest residual), where rounding has not yet flattened
    the history. NaN when fewer than 3 residuals remain.
    """
    history = _history(residuals, "residuals")
    span, _ = _window(history, window, floor)
    if span is None:
        return math.nan
    return _fitted_rate(history, *span)


def _fitted_rate(history, start, stop) -> float:
    # the library's own estimator (a log-slope over the positive entries) on the window;
    # fewer than two positive residuals carry no slope
    rate = fitted_rate(history[start:stop], tail=1.0, min_points=2)
    return 0.0 if math.isnan(rate) else rate


def assert_rate(
    observed,
    predicted: float,
    *,
    rtol: float = 0.1,
    window: int | None = None,
    floor: float | None = None,
    at_most: bool = False,
) -> float:
    """Assert that a residual history converges linearly at the ``predicted`` rate.

    The rate is fitted as in :func:`observed_rate`, and compared on the scale of the
    *speed* ``-log(rate)`` (the digits gained per iteration): it passes when
    ``|log observed - log predicted| <= rtol |log predicted|``, or with ``at_most=True``
    when ``log observed <= (1 - rtol) log predicted`` (no slower than the theorem's bound,
    any amount faster).

    Parameters
    ----------
    observed : SolveResult, OptimizeResult with ``residuals``, or array_like
        The residual (or error) norms ``r_0, r_1, ...``.
    predicted : float
        The rate the theory predicts, in ``(0, 1)``.
    rtol : float
        Relative tolerance on the speed ``-log(rate)``, in ``[0, 1)``.
    window : int, optional
        Number of residuals in the fit (default: the later half of those above the floor).
    floor : float, optional
        Residuals at or below it are ignored (default: ``1e4 eps`` times the largest).
    at_most : bool
        One-sided: only a rate slower than ``predicted`` fails (for bounds such as a
        Lipschitz constant, which the spectral radius may beat).

    Returns
    -------
    float
        The observed rate.

    Raises
    ------
    AssertionError
        With the history, the fitted window and the predicted line.
    """
    history = _history(observed)
    predicted = _check_rate(predicted)
    if not 0 <= rtol < 1:
        raise ValueError(f"rtol must lie in [0, 1), got {rtol}")
    if window is not None and (isinstance(window, bool) or int(window) != window or window < 3):
        raise ValueError(f"window must be an integer of at least 3, got {window!r}")
    span, reason = _window(history, window, floor)
    if span is None:
        raise AssertionError(
            f"cannot measure a rate: {reason}.\n"
            + _table({"residual": history}, range(history.size))
        )
    start, stop = span
    rate = _fitted_rate(history, start, stop)
    log_observed, log_predicted = math.log(max(rate, 1e-300)), math.log(predicted)
    if at_most:
        passed = log_observed <= (1 - rtol) * log_predicted
    else:
        passed = abs(log_observed - log_predicted) <= rtol * abs(log_predicted)
    if passed:
        return rate
    line = history[start] * predicted ** (np.arange(history.size) - start)
    line[:start] = np.nan
    speed = log_observed / log_predicted if log_predicted else math.inf
    verdict = "slower" if rate > predicted else "faster"
    relation = "at most" if at_most else "equal to"
    raise AssertionError(
        f"observed rate {rate:.6g} per iteration, expected {relation} the predicted "
        f"{predicted:.6g} (rtol {rtol:g} on -log(rate)): convergence is {verdict} than the "
        f"theory says (speed {speed:.3g}x the predicted).\n"
        f"fitted on iterations {start}..{stop - 1} of {history.size - 1}, "
        f"r from {_format(history[start])} to {_format(history[stop - 1])}; "
        "'predicted' continues r at the predicted rate from the window's start.\n"
        + _table({"residual": history, "predicted": line}, range(history.size), mark=stop - 1)
    )


def _check_rate(predicted) -> float:
    try:
        predicted = float(predicted)
    except (TypeError, ValueError):
        raise TypeError(f"predicted must be a real number, got {predicted!r}") from None
    if not 0 < predicted < 1:
        raise ValueError(
            f"predicted must be a linear rate in (0, 1), got {predicted}; use assert_at_most "
            "for superlinear or sublinear bounds"
        )
    return predicted


def assert_converges(
    result, to=None, *, atol: float = 0.0, rtol: float = 1e-7, check_success: bool = True
) -> None:
    """Assert that a solve converged, and to the right point when ``to`` is given.

    * A result (``SolveResult``, ``OptimizeResult`` or anything with ``x``): its ``success``
      must be true (unless ``check_success=False``), and with ``to``,
      ``||x - to|| <= atol + rtol ||to||`` in the 2-norm.
    * A plain array with ``to``: the array is the solution ``x`` (as scipy's
      ``fixed_point`` returns it), compared as above.
    * A plain array without ``to``: a residual history, which must end finite at or below
      ``atol + rtol r_0``.

    Raises
    ------
    AssertionError
        Naming the status and message, the error or final residual against the tolerance,
        and the end of the residual history when there is one.
    """
    if atol < 0 or rtol < 0:
        raise ValueError(f"atol and rtol must be non-negative, got {atol}, {rtol}")
    has_x = hasattr(result, "x") or (isinstance(result, dict) and "x" in result)
    if not has_x and to is None:
        history = _history(result, "result")
        tolerance = atol + rtol * history[0]
        if np.isfinite(history[-1]) and history[-1] <= tolerance:
            return
        raise AssertionError(
            f"the residual history ends at {_format(history[-1])} after {history.size - 1} "
            f"iterations, above the tolerance {_format(tolerance)} = atol + rtol r_0.\n"
            + _table({"residual": history}, range(history.size), mark=history.size - 1)
        )
    x = result["x"] if isinstance(result, dict) else getattr(result, "x", result)
    problems = []
    if has_x and check_success and not bool(_field(result, "success", True)):
        status, message = _field(result, "status", "?"), _field(result, "message", "")
        status = getattr(status, "name", status)  # an itersolve Status by name, scipy's int as is
        problems.append(f"success is False (status {status}: {message})")
    if to is not None:
        x, target = np.asarray(x), np.asarray(to)
        if x.shape != target.shape:
            raise ValueError(f"x has shape {x.shape} but to has shape {target.shape}")
        problem = _distance_problem(x, target, atol, rtol)
        if problem:
            problems.append(problem)
    if not problems:
        return
    detail = ""
    residuals = _field(result, "residuals", None)
    if residuals is not None and np.size(residuals):
        history = np.asarray(residuals, dtype=np.float64)
        detail = "\n" + _table({"residual": history}, range(history.size), mark=history.size - 1)
    nit = _field(result, "nit", None)
    after = f" after {nit} iterations" if nit is not None else ""
    failed = problems[0].startswith("success is False")
    head = f"the solve did not converge{after}" if failed else f"x is not the expected point{after}"
    raise AssertionError(f"{head}: " + "; ".join(problems) + detail)


def _distance_problem(x, target, atol, rtol) -> str | None:
    """Why ``||x - to|| <= atol + rtol ||to||`` fails, or None; compared in units of the
    largest entry, so neither the difference nor the norms overflow or underflow."""
    x = x.astype(np.result_type(x, target, np.float64)).ravel()
    target = target.astype(x.dtype).ravel()
    if not np.all(np.isfinite(x)):
        bad = int(np.argmin(np.isfinite(x)))
        return f"x is not finite (index {bad}: {_scalar(x[bad])})"
    scale = float(max(np.max(np.abs(x), initial=0.0), np.max(np.abs(target), initial=0.0)))
    if scale == 0.0:
        return None
    difference = x / scale - target / scale
    error = scaled_norm(difference)
    tolerance = atol / scale + rtol * scaled_norm(target / scale)
    if error <= tolerance:
        return None
    worst = int(np.argmax(np.abs(difference)))
    return (
        f"||x - to|| = {_format(error * scale)} exceeds atol + rtol ||to|| = "
        f"{_format(tolerance * scale)} (largest difference at index {worst}: "
        f"{_scalar(x[worst])} against {_scalar(target[worst])})"
    )


def _scalar(value) -> str:
    value = complex(value) if np.iscomplexobj(value) else float(value)
    if isinstance(value, complex):
        return f"{value.real:.6g}{value.imag:+.6g}j"
    return f"{value:.6g}"


def _field(result, name, default):
    if isinstance(result, dict):
        return result.get(name, default)
    return getattr(result, name, default)


def assert_at_most(
    observed,
    bound: float | np.ndarray | Callable[[np.ndarray], np.ndarray],
    *,
    rtol: float = 0.0,
    atol: float = 0.0,
    name: str = "observed",
) -> None:
    """Assert ``observed <= bound (1 + rtol) + atol``, elementwise, with the first violation shown.

    Parameters
    ----------
    observed : float, array_like, or a result with ``residuals``
        A number (an iteration count, an error) or a history ``r_0, r_1, ...``.
    bound : float, array_like or callable
        The theorem's bound: a number, an array broadcast against ``observed``, or a
        function of the iteration index array ``k = 0, 1, ...`` (for example
        ``lambda k: rates.halpern(k, distance)``).
    rtol, atol : float
        Slack for rounding: relative to the bound, and absolute.
    name : str
        What ``observed`` is, for the message ("residual", "error", "nit").

    Raises
    ------
    AssertionError
        Naming the first index where the bound fails, with the history around it.
    """
    if rtol < 0 or atol < 0:
        raise ValueError(f"rtol and atol must be non-negative, got {rtol}, {atol}")
    if hasattr(observed, "residuals") or isinstance(observed, dict):
        values = _history(observed, name)
    elif np.iscomplexobj(observed):
        raise TypeError(f"{name} must be real numbers, got complex values")
    else:
        try:
            values = np.asarray(observed, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be numbers, got {type(observed).__name__}") from None
    k = np.arange(values.size).reshape(values.shape) if values.ndim else np.asarray(0)
    limit = bound(k) if callable(bound) else bound  # the user's exceptions propagate
    try:
        limit = np.asarray(limit, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"bound must give real numbers, got {type(limit).__name__}") from None
    try:
        values, limit = np.broadcast_arrays(values, limit)
    except ValueError:
        raise ValueError(
            f"bound of shape {limit.shape} does not broadcast against {name} of shape "
            f"{values.shape}"
        ) from None
    allowed = limit * (1 + rtol) + atol
    failing = ~(values <= allowed)  # NaN fails
    if not failing.any():
        return
    if values.ndim == 0:
        raise AssertionError(
            f"{name} = {float(values):.6g} exceeds the bound {float(limit):.6g}"
            + (
                f" (allowed {float(allowed):.6g} with rtol {rtol:g}, atol {atol:g})"
                if rtol or atol
                else ""
            )
        )
    flat_values, flat_limit = values.ravel(), limit.ravel()
    first = int(np.argmax(failing.ravel()))
    count = int(failing.sum())
    raise AssertionError(
        f"{name} exceeds the bound at {count} of {values.size} points, first at k = {first}: "
        f"{_format(flat_values[first])} > {_format(flat_limit[first])}"
        + (f" (rtol {rtol:g}, atol {atol:g})" if rtol or atol else "")
        + ".\n"
        + _table({name[:11]: flat_values, "bound": flat_limit}, range(flat_values.size), mark=first)
    )
