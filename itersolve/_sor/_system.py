"""A linear system checked and laid out once for the SOR kernels: CSR arrays, diagonal, ``||b||``.

Set up once, solve many: the diagonal, the colouring and the CSR views are computed per
matrix and kept here, never attached to the user's matrix.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import scipy.sparse as sp


def as_csr(A, *, name: str = "A", warn: bool = False):
    """``A`` as a canonical float CSR array (duplicates summed); other formats are converted.

    With ``warn=True`` a conversion raises scipy's ``SparseEfficiencyWarning`` first, as
    pyamg does for its in-place kernels.
    """
    if isinstance(A, sp.sparray | sp.spmatrix):
        if A.format != "csr" and warn:
            warnings.warn(
                f"`{name}` is in {A.format.upper()} format; converting to CSR for every call",
                sp.SparseEfficiencyWarning,
                stacklevel=3,
            )
        matrix = sp.csr_array(A)
    else:
        try:
            dense = np.asarray(A)
        except Exception as exc:
            raise TypeError(f"`{name}` must be a matrix (dense or scipy.sparse)") from exc
        if dense.ndim != 2:
            raise ValueError(f"`{name}` must be 2-D, got {dense.ndim} dimensions")
        matrix = sp.csr_array(dense)
    if matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"`{name}` must be square, got shape {matrix.shape}")
    if not (np.issubdtype(matrix.dtype, np.floating) or np.issubdtype(matrix.dtype, np.integer)):
        raise TypeError(f"`{name}` must hold real numbers, got dtype {matrix.dtype}")
    if not matrix.has_canonical_format or np.any(matrix.data == 0):
        # explicit zeros (sp.kron leaves some) would count as graph edges when colouring
        matrix = matrix.copy()
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
    return matrix


def safe_norm(v) -> float:
    """``||v||_2`` of a host vector, scaled so that huge finite entries cannot overflow it."""
    largest = float(np.max(np.abs(v))) if v.size else 0.0
    return largest * float(np.linalg.norm(v / largest)) if largest > 0 else 0.0


def diagonal_checked(matrix, *, positive: bool, name: str = "A") -> np.ndarray:
    """The diagonal; a zero (or, if ``positive``, negative) entry is a ValueError naming the row."""
    diagonal = matrix.diagonal()
    bad = diagonal <= 0 if positive else diagonal == 0
    if np.any(bad):
        row = int(np.argmax(bad))
        kind = "non-positive" if positive else "zero"
        raise ValueError(
            f"`{name}` has a {kind} diagonal entry in row {row} ({diagonal[row]!r}); "
            "SOR divides by the diagonal" + (" and SSOR needs it positive" if positive else "")
        )
    return diagonal


class LinearSystem:
    """``A x = b`` validated and laid out for the kernels (CSR arrays of one float dtype)."""

    def __init__(self, A, b, *, positive_diagonal: bool = True):
        matrix = as_csr(A)
        n = matrix.shape[0]
        b = np.asarray(b)
        if b.ndim == 2 and b.shape[1] == 1:
            b = b[:, 0]
        if b.shape != (n,):
            raise ValueError(f"`b` must have shape ({n},) to match `A`, got {b.shape}")
        if not (np.issubdtype(b.dtype, np.floating) or np.issubdtype(b.dtype, np.integer)):
            raise TypeError(f"`b` must hold real numbers, got dtype {b.dtype}")
        dtype = np.result_type(matrix.dtype, b.dtype, np.float32)
        if dtype not in (np.float32, np.float64):
            dtype = np.dtype(np.float64)
        if not np.all(np.isfinite(matrix.data)):
            raise ValueError("`A` contains NaN or Inf")
        if not np.all(np.isfinite(b)):
            raise ValueError("`b` contains NaN or Inf")
        self.matrix = matrix.astype(dtype, copy=False)
        self.indptr = self.matrix.indptr
        self.indices = self.matrix.indices
        self.data = self.matrix.data
        self.b = np.ascontiguousarray(b, dtype=dtype)
        self.n = n
        self.dtype = np.dtype(dtype)
        self.diagonal = diagonal_checked(self.matrix, positive=positive_diagonal)
        self.norm_b = safe_norm(self.b)
        self.nfev = 0  # products with A: residual evaluations and CG's A p

    def start(self, x0) -> np.ndarray:
        """A fresh contiguous copy of the starting point (zeros when ``x0`` is None)."""
        if x0 is None:
            return np.zeros(self.n, dtype=self.dtype)
        x = np.asarray(x0)
        if x.ndim == 2 and x.shape[1] == 1:
            x = x[:, 0]
        if x.shape != (self.n,):
            raise ValueError(f"`x0` must have shape ({self.n},) to match `A`, got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("`x0` contains NaN or Inf")
        return np.array(x, dtype=self.dtype, order="C")

    def residual_norm(self, x) -> float:
        from ._kernels import residual_norm

        self.nfev += 1
        return float(residual_norm(self.indptr, self.indices, self.data, x, self.b))

    def coloring(self, ordering: str):
        """``(order, color_ptr)`` for a coloured ordering, None for ``"natural"``."""
        if ordering == "natural":
            return None
        return self.red_black if ordering == "red-black" else self.colors

    @functools.cached_property
    def colors(self):
        """Greedy multicolouring (rows grouped by colour) of the matrix graph."""
        from ._coloring import greedy_coloring

        return greedy_coloring(self.matrix)

    @functools.cached_property
    def red_black(self):
        """Two-colouring, when the matrix graph is bipartite (else ValueError)."""
        from ._coloring import two_coloring

        return two_coloring(self.matrix)


def check_omega(omega) -> float:
    if isinstance(omega, bool) or not isinstance(omega, int | float | np.floating | np.integer):
        raise TypeError(f"`omega` must be a real number or 'auto', got {type(omega).__name__}")
    omega = float(omega)
    if not (0 < omega < 2) or math.isnan(omega):
        raise ValueError(f"`omega` must lie in (0, 2) (Kahan: SOR diverges outside), got {omega!r}")
    return omega
