"""What every generated problem shares: its recipe, its unpacking, and checked parameters.

A case is a frozen dataclass whose first fields are the tuple the docs promise (so
``T, x_star, lipschitz = case`` works) and whose ``repr`` is the call that rebuilds it.
Hypothesis prints drawn values with ``repr``, so a falsifying example reads as a line the
user can paste: ``contraction(n=2, rate=0.5, dtype='float64', seed=0)``.
"""

from __future__ import annotations

import dataclasses
import numbers
import operator

import numpy as np

#: the largest dimension of a dense generated matrix (n^2 doubles: 32 MB), and of a vector
DENSE_LIMIT = 2_000
VECTOR_LIMIT = 10**6

#: the dtypes a problem can be drawn in
DTYPES = ("float32", "float64", "complex64", "complex128")
REAL_DTYPES = ("float32", "float64")


@dataclasses.dataclass(frozen=True, repr=False, eq=False, kw_only=True)
class Case:
    """Base of the generated problems: unpacks as ``_unpack`` and prints as its recipe.

    Subclasses are frozen dataclasses (``kw_only``) that set ``_unpack``, the names of the
    fields a tuple unpacking yields, in order; ``recipe`` is the call that rebuilds the case.
    """

    _unpack = ()
    recipe: str

    def __iter__(self):
        return iter([getattr(self, name) for name in self._unpack])

    def __len__(self) -> int:
        return len(self._unpack)

    def __getitem__(self, index):
        return tuple(self)[index]

    def __repr__(self) -> str:
        return self.recipe

    def _repr_pretty_(self, printer, cycle) -> None:
        # hypothesis (and IPython) pretty-print dataclasses field by field; a case shows
        # the call that rebuilds it instead, and arrays never flood a falsifying example
        printer.text(self.recipe)


def recipe(function: str, **parameters) -> str:
    """``function(name=value, ...)``: the call that rebuilds a case (values by ``repr``)."""
    arguments = ", ".join(f"{name}={value!r}" for name, value in parameters.items())
    return f"{function}({arguments})"


def check_int(name: str, value, *, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]``, or a ValueError/TypeError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = operator.index(value)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def check_float(name: str, value, *, low: float, high: float, closed: str = "both") -> float:
    """``value`` as a finite float in ``[low, high]``, ends open as ``closed`` says.

    ``closed`` is "both", "left", "right" or "neither".
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    above = value >= low if closed in ("both", "left") else value > low
    below = value <= high if closed in ("both", "right") else value < high
    if not (np.isfinite(value) and above and below):
        left = "[" if closed in ("both", "left") else "("
        right = "]" if closed in ("both", "right") else ")"
        raise ValueError(f"{name} must lie in {left}{low}, {high}{right}, got {value}")
    return value


def check_dtype(dtype, allowed=DTYPES) -> np.dtype:
    """``dtype`` as a numpy dtype among ``allowed``, or a ValueError/TypeError naming it."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must name a numpy dtype, got {dtype!r}") from None
    if resolved.name not in allowed:
        raise ValueError(f"dtype must be one of {', '.join(allowed)}, got {resolved.name}")
    return resolved


def check_seed(seed) -> int:
    """A non-negative integer seed (cases are rebuilt from it, so no Generator objects)."""
    return check_int("seed", seed, low=0, high=2**63 - 1)


def random_unitary(rng: np.random.Generator, n: int, complex_: bool) -> np.ndarray:
    """A Haar-distributed orthogonal (or unitary) matrix: QR with the signs fixed."""
    Z = rng.standard_normal((n, n))
    if complex_:
        Z = Z + 1j * rng.standard_normal((n, n))
    Q, R = np.linalg.qr(Z)
    diagonal = np.diagonal(R)
    return Q * (diagonal / np.abs(diagonal))


def random_vector(rng: np.random.Generator, n: int, complex_: bool) -> np.ndarray:
    """A standard normal vector in float64 or complex128."""
    v = rng.standard_normal(n)
    return v + 1j * rng.standard_normal(n) if complex_ else v


def high_precision(dtype: np.dtype) -> np.dtype:
    """float64 or complex128: the precision certificates are computed in."""
    return np.dtype(np.complex128 if dtype.kind == "c" else np.float64)
