"""The rows :class:`~itersolve.gpu._newton.BatchedNewton` iterates on: ``F`` and its
Jacobian on a batch ``(B, n)``, counted and checked, the batched solve, and row norms.

Array-API code: CuPy enters only through the arrays. What the user's functions return is
checked on the host with the NumPy path's checks, so the errors read the same.
"""

from __future__ import annotations

import array_api_compat
import numpy as np

from itersolve._backend import to_host
from itersolve._newton import FD_STEPS, check_jacobian, check_values
from itersolve._validation import check_returned

__all__ = ["RowsProblem", "finite_rows", "row_norms"]


def row_norms(xp, V) -> np.ndarray:
    """``||v||_2`` of each row of ``V`` (the last axis) as host float64, computed on the
    entries divided by the row's largest magnitude, so it neither overflows nor
    underflows; NaN for a row holding NaN, Inf for one holding Inf."""
    magnitude = xp.abs(V)
    largest = xp.max(magnitude, axis=-1)
    usable = (largest > 0) & xp.isfinite(largest)
    divisor = xp.where(usable, largest, xp.ones_like(largest))
    scaled = xp.linalg.vector_norm(magnitude / divisor[..., None], axis=-1)
    return np.asarray(to_host(largest * scaled), dtype=np.float64)


def finite_rows(xp, V) -> np.ndarray:
    """Host bool per row: every entry of the row (all axes but the first) is finite."""
    return to_host(xp.all(xp.reshape(xp.isfinite(V), (V.shape[0], -1)), axis=1))


class RowsProblem:
    """``F`` and its Jacobian on a batch of rows ``(B, n)``, counted and checked.

    ``one_vector=True`` is the front ends' contract on one row: ``F(x) -> (n,)`` and
    ``jacobian(x) -> (n, n)`` for the row's vector ``x``. Otherwise ``F(X) -> (B, n)`` and
    ``jacobian(X) -> (B, n, n)`` take the whole batch. ``jacobian`` may be
    ``"2-point"``/``"3-point"`` (differences on the rows, the NumPy path's steps). The
    first output of each is checked in full on the host, with the NumPy path's checks and
    messages; a later output of the same type, shape and dtype passes in O(1).
    """

    def __init__(self, F, jacobian, X, *, one_vector: bool):
        self.F, self.jacobian_rule, self.one_vector = F, jacobian, one_vector
        self.xp = array_api_compat.array_namespace(X)
        self.device = array_api_compat.device(X)
        self.rows, self.n = X.shape
        self.dtype = X.dtype
        self.nfev = self.njev = self.nsolve = 0
        self._accepted: dict[str, tuple] = {}  # name -> (type, shape, dtype) passed in full

    def _checked(self, name: str, raw, shape: tuple):
        xp = self.xp
        seen = (type(raw), getattr(raw, "shape", None), getattr(raw, "dtype", None))
        if seen[2] is not None and self._accepted.get(name) == seen:
            return raw if raw.dtype == self.dtype else xp.astype(raw, self.dtype)
        if array_api_compat.is_array_api_obj(raw) and not isinstance(raw, np.generic):
            if array_api_compat.array_namespace(raw) is not xp:
                raise TypeError(
                    f"`{name}` returned a {type(raw).__module__}.{type(raw).__name__} for an "
                    "iterate of another array library; it must return arrays of x0's library"
                )
            if type(raw).__module__.startswith("cupyx"):
                raise TypeError(f"`{name}` returned a sparse matrix; off NumPy it must be dense")
            host = to_host(raw)
        else:
            if type(raw).__module__.startswith("scipy.sparse"):
                raise TypeError(f"`{name}` returned a sparse matrix; off NumPy it must be dense")
            host = raw
        # the checks' dtype on the host: they tell real from complex
        dtype = np.dtype(complex if xp.isdtype(self.dtype, "complex floating") else float)
        if not self.one_vector:
            checked = check_returned(name, host, shape=shape, complex_ok=True)
            if checked.dtype.kind == "c" and dtype.kind != "c":
                raise TypeError(f"`{name}` returned complex values for a real iterate")
        elif name == "F":
            checked = check_values(host, self.n, dtype)
        else:
            checked = check_jacobian(host, self.n, dtype)
        if array_api_compat.is_array_api_obj(raw) and tuple(raw.shape) == tuple(checked.shape):
            self._accepted[name] = seen
            value = raw
        else:  # a list, a scalar for n = 1: the checked host copy goes to the device
            value = xp.asarray(checked, device=self.device)
        value = value if value.dtype == self.dtype else xp.astype(value, self.dtype)
        return xp.reshape(value, shape)

    def __call__(self, X):
        values = self.F(X[0, ...]) if self.one_vector else self.F(X)
        self.nfev += 1
        shape = (self.n,) if self.one_vector else (self.rows, self.n)
        return self.xp.reshape(self._checked("F", values, shape), (self.rows, self.n))

    def jacobian(self, X, FX):
        """``DF`` at every row, ``(B, n, n)``."""
        self.njev += 1
        if not callable(self.jacobian_rule):
            return self._finite_difference(X, FX)
        J = self.jacobian_rule(X[0, ...]) if self.one_vector else self.jacobian_rule(X)
        shape = (self.n, self.n) if self.one_vector else (self.rows, self.n, self.n)
        return self.xp.reshape(self._checked("jacobian", J, shape), (-1, self.n, self.n))

    def _finite_difference(self, X, FX):
        # The NumPy path's differences, a column for all rows at once: a real step
        # h = c max(1, |x_j|), made exactly representable as (x + h) - x.
        xp = self.xp
        central = self.jacobian_rule == "3-point"
        magnitude = xp.abs(X)
        h = FD_STEPS[self.jacobian_rule] * xp.maximum(magnitude, xp.ones_like(magnitude))
        columns = []
        for j in range(self.n):
            e = (X[:, j] + h[:, j]) - X[:, j]
            e = xp.real(e) if xp.isdtype(e.dtype, "complex floating") else e
            unit = xp.astype(xp.arange(self.n, device=self.device) == j, e.dtype)
            E = e[:, None] * unit[None, :]
            if central:
                columns.append((self(X + E) - self(X - E)) / (2 * e[:, None]))
            else:
                columns.append((self(X + E) - FX) / e[:, None])
        return xp.stack(columns, axis=-1)

    def solve(self, J, rhs):
        """``(J^{-1} rhs, zero_pivot)``: the batched solve, and the host mask of rows whose
        factorisation met an exactly zero pivot (those rows come back as NaN)."""
        xp = self.xp
        self.nsolve += 1
        zero_pivot = np.zeros(J.shape[0], dtype=bool)
        try:
            return xp.linalg.solve(J, rhs[..., None])[..., 0], zero_pivot
        except Exception:  # one singular matrix fails the whole batch: solve row by row
            rows = []
            for b in range(J.shape[0]):
                try:
                    rows.append(xp.linalg.solve(J[b, ...], rhs[b, ...]))
                except Exception:
                    zero_pivot[b] = True
                    rows.append(xp.full(rhs.shape[1:], float("nan"), dtype=rhs.dtype))
            return xp.stack(rows), zero_pivot
