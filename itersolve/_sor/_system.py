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

from .._norms import scaled_norm
from .._validation import check_array, check_csr, check_indices


def check_structure(A, name: str) -> None:
    """Check the index arrays of a scipy sparse matrix before scipy or a kernel reads them.

    scipy trusts arrays assigned to ``indptr``/``indices``/``coords`` after construction,
    and its C++ conversions index with them unchecked.
    """
    fmt = A.format
    try:
        if fmt in ("csr", "csc", "bsr"):
            blocks = A.blocksize if fmt == "bsr" else (1, 1)
            rows, cols = A.shape[0] // blocks[0], A.shape[1] // blocks[1]
            shape = (cols, rows) if fmt == "csc" else (rows, cols)
            data = A.data if fmt != "bsr" else A.data.reshape(-1, blocks[0] * blocks[1])[:, 0]
            arrays = (A.indptr, A.indices)
            check_csr(name, A.indptr, A.indices, data, shape)
        elif fmt == "coo":
            arrays = A.coords
            for axis, coords in enumerate(A.coords):
                check_indices(name, coords, A.shape[axis])
            if np.asarray(A.data).size != np.asarray(A.coords[0]).size:
                raise ValueError(f"`{name}`: data and coordinates differ in length")
        else:
            return  # DIA, LIL, DOK: converted by Python code that checks its indices
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{exc} (in the {fmt.upper()} index arrays of `{name}`)") from None
    if any(np.asarray(a).dtype not in (np.int32, np.int64) for a in arrays):
        raise TypeError(f"`{name}`'s {fmt.upper()} index arrays must be int32 or int64")


def _is_canonical(matrix) -> bool:
    """Sorted column indices without duplicates in every row (computed, not scipy's cached
    flag, which an in-place edit of ``indices`` leaves stale)."""
    indices, indptr = matrix.indices, matrix.indptr
    if indices.size < 2:
        return True
    increasing = np.diff(indices) > 0
    boundaries = indptr[1:-1]
    boundaries = boundaries[(boundaries > 0) & (boundaries < indices.size)]
    increasing[boundaries - 1] = True  # the first entry of a row may be any column
    return bool(increasing.all())


def csr_sizes_fit(matrix) -> bool:
    """The O(1) checks of ``check_structure`` for a CSR matrix: index dtypes, ranks and
    sizes (what a kernel needs before it may read the arrays at all)."""
    indptr, indices = matrix.indptr, matrix.indices
    return (
        isinstance(indptr, np.ndarray)
        and isinstance(indices, np.ndarray)
        and isinstance(matrix.data, np.ndarray)
        and indptr.dtype in (np.int32, np.int64)
        and indices.dtype in (np.int32, np.int64)
        and indptr.ndim == indices.ndim == matrix.data.ndim == 1
        and indptr.size == matrix.shape[0] + 1
        and matrix.data.size == indices.size
        and indptr[0] == 0
        and indptr[-1] == indices.size
    )


def _is_clean_csr(A) -> bool:
    """A square, non-empty, float CSR matrix with valid, canonical index arrays and finite,
    non-zero entries: everything :func:`as_csr` would check or fix."""
    from ._kernels import csr_is_clean

    return (
        A.format == "csr"
        and A.shape[0] == A.shape[1] > 0
        and A.dtype in (np.float32, np.float64)
        and csr_sizes_fit(A)
        and bool(csr_is_clean(A.indptr, A.indices, A.data, A.shape[1]))
    )


def check_dtype(dtype, name: str) -> None:
    if dtype.kind == "c":
        raise TypeError(
            f"`{name}` is complex ({dtype}) but SOR works in real arithmetic; "
            "pass the real part explicitly if that is what you mean"
        )
    if dtype.kind not in "iuf":
        raise TypeError(f"`{name}` must hold real numbers, got dtype {dtype}")


def check_csr_as_given(matrix) -> None:
    """Check a CSR matrix that a kernel will use as it is (no copy, no canonicalisation: the
    kernels handle duplicates), as ``relax`` does on every call: the dtype, the O(1) sizes
    and, in one vectorised Numba pass, the O(nnz) index checks of :func:`check_structure`."""
    from ._kernels import csr_in_bounds

    check_dtype(matrix.dtype, "A")
    # csr_sizes_fit first: the Numba pass relies on the sizes it checks
    if not (
        csr_sizes_fit(matrix) and csr_in_bounds(matrix.indptr, matrix.indices, matrix.shape[1])
    ):
        check_structure(matrix, "A")  # raises, naming what is wrong
    if matrix.shape[0] == 0:
        raise ValueError("`A` is empty (shape (0, 0))")


def as_csr(A, *, name: str = "A", warn: bool = False):
    """``A`` as a canonical CSR array (duplicates summed, explicit zeros dropped).

    Checked first: a sparse matrix's index arrays (before scipy converts it), a dense
    array's type and rank (complex, boolean and object data are a TypeError), a square,
    non-empty shape and finite entries. With ``warn=True`` a conversion from another format
    raises scipy's ``SparseEfficiencyWarning`` first, as pyamg does for its in-place kernels.
    """
    if isinstance(A, sp.sparray | sp.spmatrix):
        check_dtype(A.dtype, name)
        if _is_clean_csr(A):  # the common case, one Numba pass instead of a dozen
            return A if isinstance(A, sp.csr_array) else sp.csr_array(A)
        check_structure(A, name)
        if A.format != "csr" and warn:
            warnings.warn(
                f"`{name}` is in {A.format.upper()} format; converting to CSR for every call",
                sp.SparseEfficiencyWarning,
                stacklevel=3,
            )
        matrix = sp.csr_array(A)
    else:
        dense = np.asarray(check_array(name, A, ndim=2, finite=False, empty_ok=True))
        if dense.dtype == np.float16:  # scipy.sparse has no float16; SOR would use float32
            dense = dense.astype(np.float32)
        matrix = sp.csr_array(dense)
    if matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"`{name}` must be square, got shape {matrix.shape}")
    if matrix.shape[0] == 0:
        raise ValueError(f"`{name}` is empty (shape {matrix.shape})")
    check_dtype(matrix.dtype, name)
    if not np.all(np.isfinite(matrix.data)):
        raise ValueError(f"`{name}` contains NaN or Inf")
    if not _is_canonical(matrix) or np.any(matrix.data == 0):
        # explicit zeros (sp.kron leaves some) would count as graph edges when colouring;
        # a fresh matrix computes its format flags from the arrays
        matrix = sp.csr_array(
            (matrix.data.copy(), matrix.indices.copy(), matrix.indptr.copy()),
            shape=matrix.shape,
        )
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
    return matrix


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
        b = check_array("b", b, ndim=(1, 2))
        if b.ndim == 2 and b.shape[1] == 1:
            b = b[:, 0]
        if b.shape != (n,):
            raise ValueError(f"`b` must have shape ({n},) to match `A`, got {b.shape}")
        dtype = np.result_type(matrix.dtype, b.dtype, np.float32)
        if dtype not in (np.float32, np.float64):
            dtype = np.dtype(np.float64)
        self.matrix = matrix.astype(dtype, copy=False)
        self.indptr = self.matrix.indptr
        self.indices = self.matrix.indices
        self.data = self.matrix.data
        self.b = np.ascontiguousarray(b, dtype=dtype)
        self.n = n
        self.dtype = np.dtype(dtype)
        from . import _kernels  # here, not per call: small systems feel a per-call import

        self._kernels = _kernels
        # one Numba scan instead of scipy's diagonal() and two comparisons (a fixed cost of
        # every solve); any zero or negative entry goes to diagonal_checked, which names it
        self.diagonal = np.empty(n, dtype=dtype)
        positive = _kernels.csr_diagonal(self.indptr, self.indices, self.data, self.diagonal)
        if not positive:
            self.diagonal = diagonal_checked(self.matrix, positive=positive_diagonal)
        self.norm_b = scaled_norm(self.b)
        self.nfev = 0  # products with A: residual evaluations and CG's A p

    def start(self, x0) -> np.ndarray:
        """A fresh contiguous copy of the starting point (zeros when ``x0`` is None)."""
        if x0 is None:
            return np.zeros(self.n, dtype=self.dtype)
        x = check_array("x0", x0, ndim=(1, 2))
        if x.ndim == 2 and x.shape[1] == 1:
            x = x[:, 0]
        if x.shape != (self.n,):
            raise ValueError(f"`x0` must have shape ({self.n},) to match `A`, got {x.shape}")
        narrows = x.dtype.kind == "f" and x.dtype.itemsize > self.dtype.itemsize
        if narrows and x.size and np.abs(x).max() > np.finfo(self.dtype).max:
            raise ValueError(f"`x0` has entries beyond the range of {self.dtype.name}, A's dtype")
        return np.array(x, dtype=self.dtype, order="C")

    def residual_norm(self, x) -> float:
        """``||b - A x||_2``, accumulated in float64 and scaled (one product with ``A``)."""
        self.nfev += 1
        return float(self._kernels.residual_norm(self.indptr, self.indices, self.data, x, self.b))

    # the residual above is already the true one, in float64: no second check is needed
    true_residual_norm = residual_norm
    residual_is_true = True

    def matvec(self, v) -> np.ndarray:
        """``A v`` (counted in ``nfev``)."""
        out = np.empty_like(v)
        self._kernels.spmv(self.indptr, self.indices, self.data, v, out)
        self.nfev += 1
        return out

    def ssor_solve(self, r, omega: float) -> np.ndarray:
        """``M^{-1} r`` for the SSOR preconditioner in natural order."""
        z = np.empty_like(r)
        self._kernels.ssor_solve(self.indptr, self.indices, self.data, self.diagonal, r, z, omega)
        return z

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
    try:
        omega = float(omega)
    except OverflowError:  # an int beyond float range is simply outside (0, 2)
        omega = math.inf
    if not (0 < omega < 2) or math.isnan(omega):
        raise ValueError(f"`omega` must lie in (0, 2) (Kahan: SOR diverges outside), got {omega!r}")
    return omega


def young_omega(beta: float) -> float:
    """Young's optimal ``omega* = 2 / (1 + sqrt(1 - beta^2))`` for a Jacobi radius ``beta < 1``.

    The equivalent ``2 (1 - sqrt(1 - beta^2)) / beta^2`` cancels catastrophically: NaN at
    ``beta = 0`` and outside (0, 2) for ``beta <= 1e-8``. This form has no cancellation,
    and ``(1 - beta)(1 + beta)`` keeps ``1 - beta^2`` accurate as ``beta`` nears 1.
    """
    return 2.0 / (1.0 + math.sqrt((1.0 - beta) * (1.0 + beta)))
