"""The tuner protocol, the default ω grid, and the checks every tuner shares."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .._validation import check_real

__all__ = ["DEFAULT_ARMS", "Tuner"]

#: The reference code's ω grid, ``linspace(1, 1.95, 20)``, for SOR and SSOR-PCG alike.
DEFAULT_ARMS = np.linspace(1.0, 1.95, 20)
DEFAULT_ARMS.flags.writeable = False  # a shared default must not be edited in place


@runtime_checkable
class Tuner(Protocol):
    """What :func:`~itersolve.tuning.solve_sequence` needs from a tuner.

    Each round is ``value = tuner.suggest(context)`` followed by exactly one
    ``tuner.observe(cost)``. ``context`` is ``None`` for tuners that ignore it; ``cost``
    is a real number ``>= 1`` (an iteration or evaluation count).
    """

    def suggest(self, context: Any = None) -> Any:
        """Return the value (an arm) to use for the next instance."""

    def observe(self, cost: float) -> None:
        """Report the cost incurred by the value returned by the last ``suggest``."""


def check_arms(arms) -> tuple:
    """Return ``arms`` as a non-empty tuple (NumPy scalars become Python scalars)."""
    if isinstance(arms, (str, bytes)) or not isinstance(arms, (Sequence, np.ndarray)):
        raise TypeError(f"`arms` must be a sequence of values, got {type(arms).__name__}")
    if isinstance(arms, np.ndarray):
        if arms.ndim != 1:
            raise ValueError(f"`arms` must be one-dimensional, got shape {arms.shape}")
        arms = arms.tolist()
    arms = tuple(a.item() if isinstance(a, np.generic) else a for a in arms)
    if not arms:
        raise ValueError("`arms` must hold at least one value")
    return arms


def check_context_range(context_range) -> tuple[float, float]:
    """Return ``(a, b)`` as floats with ``a < b``, both finite."""
    if context_range is None:
        raise TypeError("`context_range` is required: give the interval (a, b) of the contexts")
    if isinstance(context_range, (str, bytes)) or not isinstance(
        context_range, (Sequence, np.ndarray)
    ):
        raise TypeError(
            f"`context_range` must be a pair (a, b), got {type(context_range).__name__}"
        )
    if isinstance(context_range, np.ndarray) and context_range.ndim != 1:
        raise TypeError(
            f"`context_range` must be a pair (a, b), got an array of shape {context_range.shape}"
        )
    if len(context_range) != 2:
        raise ValueError(f"`context_range` must be a pair (a, b), got {len(context_range)} values")
    low = check_real("context_range[0]", context_range[0])
    high = check_real("context_range[1]", context_range[1])
    if not low < high:
        raise ValueError(f"`context_range` must satisfy a < b, got ({low!r}, {high!r})")
    return low, high


def sample(rng: np.random.Generator, weights: np.ndarray) -> int:
    """Draw an index with probability proportional to ``weights`` (finite, >= 0, sum > 0).

    Inverse-CDF sampling from one uniform draw: an index whose weight is 0 is never drawn.
    """
    cumulative = np.cumsum(weights)
    index = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    if index >= weights.size:  # u * total rounded up to total: take the last possible index
        index = int(np.flatnonzero(weights)[-1])
    return index


def check_context(context) -> float:
    """A scalar context as a finite float (ValueError for None: contextual tuners need one)."""
    if context is None:
        raise ValueError("this tuner needs a context: call suggest(context) with a real number")
    if isinstance(context, bool) or not isinstance(context, (numbers.Real, np.ndarray)):
        raise TypeError(f"`context` must be a real number, got {type(context).__name__}")
    if isinstance(context, np.ndarray):
        if context.size != 1 or not np.isrealobj(context):
            raise TypeError(
                f"`context` must be a real scalar, got an array of shape {context.shape}"
            )
        context = context.item()
    context = _as_float(context)
    if not math.isfinite(context):
        raise ValueError(f"`context` must be finite, got {context!r}")
    return context


def check_cost(cost) -> float:
    """A cost as a float; costs below 1 break the tuners' normalisation (minimum cost 1)."""
    if isinstance(cost, bool) or not isinstance(cost, (numbers.Real, np.ndarray)):
        raise TypeError(f"`cost` must be a real number, got {type(cost).__name__}")
    if isinstance(cost, np.ndarray):
        if cost.size != 1 or not np.isrealobj(cost):
            raise TypeError(f"`cost` must be a real scalar, got an array of shape {cost.shape}")
        cost = cost.item()
    cost = _as_float(cost)
    if not math.isfinite(cost) or not 1 <= cost <= MAX_COST:
        raise ValueError(
            f"`cost` must be a number in [1, 2**53] (the tuners take 1 as the least possible "
            f"cost, as for an iteration count; scale other costs), got {cost!r}"
        )
    return cost


# Costs are iteration counts and the like: beyond 2**53 they are no longer exact integers,
# and the importance-weighted estimates (cost - 1) / p could overflow.
MAX_COST = 2.0**53


def _as_float(value) -> float:
    """``float(value)``; an int beyond the float range becomes an infinity (rejected later)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


class RoundKeeper:
    """Enforces the protocol's order: one ``observe`` after each ``suggest``.

    A tuner checks before it does any work, and flips ``pending`` once the step is done.
    """

    def __init__(self):
        self.pending = False

    def check_suggest(self) -> None:
        if self.pending:
            raise RuntimeError(
                "suggest() called twice without observe(): report the cost of the previous "
                "suggestion with observe(cost) first"
            )

    def check_observe(self) -> None:
        if not self.pending:
            raise RuntimeError("observe() called without a pending suggest()")
