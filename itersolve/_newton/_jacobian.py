"""The user's system ``F`` and its Jacobian, guarded and counted, and the Newton linear solve."""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
from scipy.linalg import lapack

from .._norms import scaled_norm
from .._validation import check_array, check_returned

FD_METHODS = ("2-point", "3-point")
# The difference step's factor c in h_j = c max(1, |x_j|): sqrt(eps) forward, eps^(1/3)
# central (the steps that balance truncation and rounding error).
FD_STEPS = {
    "2-point": math.sqrt(np.finfo(np.float64).eps),
    "3-point": float(np.finfo(np.float64).eps ** (1 / 3)),
}
# Why a Newton linear solve failed; the stop says "singular Jacobian at iteration k (why)".
SINGULAR_REASONS = {
    "nonfinite": "the Jacobian has NaN or Inf entries",
    "pivot": "the Jacobian has a zero pivot",
    "solution": "the linear solve returned NaN or Inf",
}


class SingularJacobianError(ArithmeticError):
    """The Newton linear system has no unique solution (an exactly zero pivot)."""


def start_vector(x0, name: str = "x0") -> np.ndarray:
    """``x0`` as a finite 1-D float64 or complex128 copy (a scalar becomes shape ``(1,)``).

    Booleans, strings and objects are a TypeError, NaN/Inf and empty input a ValueError,
    each naming ``name``.
    """
    x = np.array(check_array(name, x0, ndim=(0, 1), complex_ok=True), copy=True)
    x = x.reshape(-1)
    return x.astype(np.complex128 if x.dtype.kind == "c" else np.float64)


def check_values(raw, n: int, dtype) -> np.ndarray:
    """What ``F`` returned at an iterate of ``n`` entries of ``dtype``, checked in full (on the
    host) and cast to ``dtype``: a numeric vector of ``n`` entries (a scalar when ``n = 1``),
    complex only for a complex iterate."""
    y = check_returned("F", raw, complex_ok=True)
    if y.ndim == 0 and n == 1:
        y = y.reshape(1)
    if y.ndim != 1:
        raise ValueError(f"`F` must return a vector, got shape {y.shape}")
    if y.shape[0] != n:
        raise ValueError(
            f"`F` returned {y.shape[0]} equations for {n} unknowns; Newton's method "
            "needs a square system (as many equations as unknowns)"
        )
    if y.dtype.kind == "c" and dtype.kind != "c":
        raise TypeError(
            "`F` returned complex values for a real iterate; pass a complex `x0` to solve "
            "over the complex numbers"
        )
    return y.astype(dtype, copy=False)


def check_jacobian(raw, n: int, dtype):
    """What ``jacobian`` returned, checked in full and cast to ``dtype``: a dense ``(n, n)``
    numeric array (a scalar when ``n = 1``) or a scipy.sparse matrix (as CSC)."""
    J = raw
    if scipy.sparse.issparse(J):
        J = scipy.sparse.csc_array(J)
        if J.dtype.kind not in "iufc":
            raise TypeError(f"`jacobian` must return numbers, got a sparse matrix of {J.dtype}")
    else:
        J = check_returned("jacobian", J, complex_ok=True)
        if J.ndim == 0 and n == 1:
            J = J.reshape(1, 1)
    if J.shape != (n, n):
        raise ValueError(
            f"`jacobian` returned shape {tuple(J.shape)}; the Jacobian of a system with "
            f"{n} unknowns must have shape ({n}, {n})"
        )
    if J.dtype.kind == "c" and dtype.kind != "c":
        raise TypeError("`jacobian` returned complex values for a real iterate")
    return J.astype(dtype) if J.dtype != dtype else J


# Newton's norms decide convergence: scaled so they neither overflow nor underflow.
norm = scaled_norm

# LU factorisation and solve for the iterate's two dtypes, called directly: an exactly
# zero pivot is LAPACK's ``info > 0`` (scipy.linalg.lu_factor's warning, without the
# warning filters that catching it would need at every step).
_DENSE_LU = {
    np.dtype(np.float64): (lapack.dgetrf, lapack.dgetrs),
    np.dtype(np.complex128): (lapack.zgetrf, lapack.zgetrs),
}


class NewtonProblem:
    """``F`` and its Jacobian for a square system, with every call counted and checked.

    ``jacobian`` is a callable (dense array or scipy.sparse matrix), ``"2-point"`` (forward
    differences) or ``"3-point"`` (central differences). ``F`` runs inside
    :func:`~itersolve._driver.run`'s ``np.errstate(all="ignore")``: NumPy's floating-point
    warnings are silenced, and an overflowing iterate is reported as ``Status.NONFINITE``
    by the solve, not as a warning or an exception.

    The first output of ``F`` (and of a dense ``jacobian``) is checked in full; a later
    output of the same type, shape and dtype as an accepted one differs from it only in its
    values, which need no check here (NaN/Inf make the residual, and so the solve,
    non-finite), so it passes with that O(1) comparison.
    """

    def __init__(self, F, jacobian, x0):
        self.F = F
        self.jacobian_rule = jacobian  # a callable or one of FD_METHODS
        self.n = x0.shape[0]
        self.dtype = x0.dtype
        self.nfev = 0
        self.njev = 0
        self.nsolve = 0
        self._F_dtype = None  # dtype of an accepted ndarray of shape (n,) returned by F
        self._jacobian_dtype = None  # dtype of an accepted ndarray of shape (n, n)

    def __call__(self, x) -> np.ndarray:
        y = self.F(x)
        self.nfev += 1
        if type(y) is np.ndarray and y.dtype == self._F_dtype and y.shape == (self.n,):
            return y.astype(self.dtype, copy=False)
        checked = check_values(y, self.n, self.dtype)
        if type(y) is np.ndarray and y.shape == (self.n,):
            self._F_dtype = y.dtype
        return checked

    def nonfinite(self) -> np.ndarray:
        """``F``'s stand-in at an iterate that overflowed (``F`` is not called there)."""
        return np.full(self.n, np.nan, dtype=self.dtype)

    def jacobian(self, x, Fx):
        """``DF(x)``: dense ndarray or scipy.sparse CSC, shape ``(n, n)``."""
        self.njev += 1
        if not callable(self.jacobian_rule):
            return self._finite_difference(x, Fx)
        J = self.jacobian_rule(x)
        shape = (self.n, self.n)
        if type(J) is np.ndarray and J.dtype == self._jacobian_dtype and J.shape == shape:
            return J if J.dtype == self.dtype else J.astype(self.dtype)
        checked = check_jacobian(J, self.n, self.dtype)
        if type(J) is np.ndarray and J.shape == shape:
            self._jacobian_dtype = J.dtype
        return checked

    def _finite_difference(self, x, Fx):
        # Perturbations are real even for complex x: for a holomorphic F the derivative is
        # the same along every direction of the complex plane, so a real step is exact to
        # O(h) (O(h^2) central) and never leaves the domain F was written for.
        central = self.jacobian_rule == "3-point"
        h = FD_STEPS[self.jacobian_rule] * np.maximum(np.abs(x), 1.0)
        J = np.empty((self.n, self.n), dtype=self.dtype)
        for j in range(self.n):
            e = np.zeros(self.n)
            # Exactly representable step: (x + h) - x is what the difference divides by.
            e[j] = ((x[j] + h[j]) - x[j]).real
            if central:
                J[:, j] = (self(x + e) - self(x - e)) / (2 * e[j])
            else:
                J[:, j] = (self(x + e) - Fx) / e[j]
        return J

    def solve(self, J, rhs) -> np.ndarray:
        """``J^{-1} rhs``; raises :class:`SingularJacobianError` for a zero pivot."""
        self.nsolve += 1
        if scipy.sparse.issparse(J):
            # spsolve warns (MatrixRankWarning) on singular input; the NaN it leaves is
            # reported as SingularJacobianError instead.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", scipy.sparse.linalg.MatrixRankWarning)
                z = scipy.sparse.linalg.spsolve(J, rhs)
        else:
            if not np.isfinite(J).all():
                raise SingularJacobianError(SINGULAR_REASONS["nonfinite"])
            getrf, getrs = _DENSE_LU[J.dtype]
            lu, piv, info = getrf(J)
            if info > 0:
                raise SingularJacobianError(SINGULAR_REASONS["pivot"])
            if info < 0:  # pragma: no cover - an argument LAPACK rejects
                raise SingularJacobianError(f"LAPACK getrf failed (info = {info})")
            z, info = getrs(lu, piv, rhs)
            if info < 0:  # pragma: no cover
                raise SingularJacobianError(f"LAPACK getrs failed (info = {info})")
        if not np.isfinite(z).all():
            raise SingularJacobianError(SINGULAR_REASONS["solution"])
        return z
