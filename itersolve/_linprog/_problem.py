"""scipy's ``linprog`` arguments, checked and turned into one two-sided standard form.

``min c'x  s.t.  l_c <= K x <= u_c,  lb <= x <= ub`` with ``K = [A_eq; A_ub]`` (equality
rows first, ``l_c = u_c = b_eq``; then the inequality rows, ``l_c = -inf``, ``u_c = b_ub``).
Everything is float64 on the host; ``K`` is CSR whether the input was dense or sparse.
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np
import scipy.sparse as sp

from .._validation import check_array

__all__ = ["LinearProgram", "parse"]


@dataclasses.dataclass(frozen=True)
class LinearProgram:
    """The LP ``min c'x, l_c <= Kx <= u_c, lb <= x <= ub`` (float64, ``K`` CSR, host)."""

    c: np.ndarray
    K: sp.csr_matrix
    l_c: np.ndarray
    u_c: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    m_eq: int
    m_ub: int

    @property
    def n(self) -> int:
        return self.c.size

    @property
    def m(self) -> int:
        return self.m_eq + self.m_ub


def _vector(name, value, length=None):
    if sp.issparse(value):
        raise TypeError(f"`{name}` must be a dense 1-D array, got a sparse {type(value).__name__}")
    array = np.asarray(check_array(name, _numeric(name, value), empty_ok=True), np.float64)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D, got shape {array.shape}")
    if length is not None and array.size != length:
        raise ValueError(f"`{name}` has shape {array.shape}, but the matrix has {length} rows")
    return array


def _numeric(name, value):
    """``value`` as a NumPy array, or a TypeError naming ``name`` (ragged lists, strings,
    integers beyond float64 and other objects NumPy cannot hold as numbers)."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"`{name}` must be a numeric array, got {type(value).__name__}")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError(f"`{name}` must be a numeric array, got {type(value).__name__}") from exc
    if array.dtype == object:
        raise TypeError(f"`{name}` must be a numeric array, got entries that are not numbers")
    return array


def _matrix(name, value, n):
    if sp.issparse(value):
        # any scipy format (COO, DIA, sparse arrays, ...); its stored values checked as data
        matrix = sp.csr_matrix(value)
        check_array(name, matrix.data, empty_ok=True)
        matrix = matrix.astype(np.float64)
    else:
        dense = np.asarray(check_array(name, _numeric(name, value), empty_ok=True), np.float64)
        if dense.ndim == 1 and dense.size == n:
            dense = dense.reshape(1, n)  # one constraint given as a flat row, as scipy allows
        if dense.ndim != 2:
            raise ValueError(f"`{name}` must be 2-D, got shape {dense.shape}")
        matrix = sp.csr_matrix(dense)
    if matrix.shape[1] != n:
        raise ValueError(
            f"`{name}` has shape {matrix.shape}, but `c` has shape ({n},): "
            f"`{name}` needs {n} columns"
        )
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    return matrix


def _bound(value, default):
    if value is None:
        return default
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`bounds` entries must be real numbers or None, got {value!r}")
    try:
        value = float(value)
    except OverflowError:  # an integer beyond float64
        raise ValueError("`bounds` has an integer beyond float64; use None for no bound") from None
    if np.isnan(value):
        raise ValueError("`bounds` contains NaN (use None or +/-inf for no bound)")
    return value


def _bounds(bounds, n):
    """scipy's forms: None, one ``(lb, ub)`` pair, ``n`` pairs, or an object with lb/ub."""
    if bounds is None:
        return np.zeros(n), np.full(n, np.inf)
    if hasattr(bounds, "lb") and hasattr(bounds, "ub"):  # scipy.optimize.Bounds
        pair = []
        for side, default in (("lb", -np.inf), ("ub", np.inf)):
            value = np.asarray(getattr(bounds, side), dtype=object)
            value = np.where(np.equal(value, None), default, value)
            value = check_array(f"bounds.{side}", _numeric(f"bounds.{side}", value.tolist()),
                                finite=False, empty_ok=True).astype(np.float64)
            if value.ndim == 0:
                value = np.full(n, float(value))
            if value.shape != (n,):
                raise ValueError(f"`bounds.{side}` has shape {value.shape}, expected ({n},)")
            if np.any(np.isnan(value)):
                raise ValueError(f"`bounds.{side}` contains NaN")
            pair.append(value)
        return pair[0], pair[1]
    if isinstance(bounds, (str, bytes)):
        raise TypeError(f"`bounds` must be a sequence of (min, max) pairs, got {bounds!r}")
    try:
        items = list(bounds)
    except TypeError as exc:
        raise TypeError(
            f"`bounds` must be a (min, max) pair or a sequence of them, got {type(bounds).__name__}"
        ) from exc
    if len(items) == 2 and all(item is None or np.ndim(item) == 0 for item in items):
        items = [tuple(items)] * n  # one pair for every variable
    if len(items) == 1 and n != 1:
        items = items * n
    if len(items) != n:
        raise ValueError(
            f"`bounds` must be one (min, max) pair or {n} of them (one per variable), "
            f"got {len(items)}"
        )
    lb, ub = np.empty(n), np.empty(n)
    for j, item in enumerate(items):
        try:
            low, high = item
        except (TypeError, ValueError) as exc:
            raise ValueError(f"`bounds[{j}]` must be a (min, max) pair, got {item!r}") from exc
        lb[j], ub[j] = _bound(low, -np.inf), _bound(high, np.inf)
    return lb, ub


def parse(c, A_ub, b_ub, A_eq, b_eq, bounds) -> LinearProgram:
    """Validate scipy-style ``linprog`` input and return the two-sided standard form."""
    c = _vector("c", c)
    n = c.size
    if n == 0:
        raise ValueError("the problem has no variables: `c` is empty")
    blocks, lower, upper = [], [], []
    counts = {}
    for kind, A, b in (("eq", A_eq, b_eq), ("ub", A_ub, b_ub)):
        if (A is None) != (b is None):
            given, missing = (f"A_{kind}", f"b_{kind}") if b is None else (f"b_{kind}", f"A_{kind}")
            raise ValueError(f"`{given}` is given but `{missing}` is not")
        if A is None:
            counts[kind] = 0
            continue
        matrix = _matrix(f"A_{kind}", A, n)
        vector = _vector(f"b_{kind}", b)
        if vector.size != matrix.shape[0]:
            raise ValueError(
                f"`b_{kind}` has shape {vector.shape}, but `A_{kind}` has shape {matrix.shape}: "
                f"they need the same number of rows"
            )
        blocks.append(matrix)
        lower.append(vector if kind == "eq" else np.full(vector.size, -np.inf))
        upper.append(vector)
        counts[kind] = vector.size
    K = sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, n))
    lb, ub = _bounds(bounds, n)
    if np.any(lb == np.inf) or np.any(ub == -np.inf):
        raise ValueError("`bounds` has a lower bound of +inf or an upper bound of -inf")
    empty = np.empty(0)
    return LinearProgram(
        c=c,
        K=K.astype(np.float64),
        l_c=np.concatenate(lower) if lower else empty,
        u_c=np.concatenate(upper) if upper else empty,
        lb=lb,
        ub=ub,
        m_eq=counts["eq"],
        m_ub=counts["ub"],
    )
