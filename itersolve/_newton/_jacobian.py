"""The user's system ``F`` and its Jacobian, guarded and counted, and the Newton linear solve."""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg

from .._norms import scaled_norm
from .._validation import check_array, check_returned

FD_METHODS = ("2-point", "3-point")


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


# Newton's norms decide convergence: scaled so they neither overflow nor underflow.
norm = scaled_norm


class NewtonProblem:
    """``F`` and its Jacobian for a square system, with every call counted and checked.

    ``jac`` is a callable (dense array or scipy.sparse matrix), ``"2-point"`` (forward
    differences) or ``"3-point"`` (central differences). ``F`` runs with NumPy's
    floating-point warnings silenced: an overflowing iterate is reported as
    ``Status.NONFINITE`` by the solve, not as a warning or an exception.
    """

    def __init__(self, F, jac, x0):
        self.F = F
        self.jac = jac
        self.n = x0.shape[0]
        self.dtype = x0.dtype
        self.nfev = 0
        self.njev = 0
        self.nsolve = 0

    def __call__(self, x) -> np.ndarray:
        with np.errstate(all="ignore"):
            y = self.F(x)
        self.nfev += 1
        y = check_returned("F", y, complex_ok=True)
        if y.ndim == 0 and self.n == 1:
            y = y.reshape(1)
        if y.ndim != 1:
            raise ValueError(f"`F` must return a vector, got shape {y.shape}")
        if y.shape[0] != self.n:
            raise ValueError(
                f"`F` returned {y.shape[0]} equations for {self.n} unknowns; Newton's method "
                "needs a square system (as many equations as unknowns)"
            )
        if y.dtype.kind == "c" and self.dtype.kind != "c":
            raise TypeError(
                "`F` returned complex values for a real iterate; pass a complex `x0` to solve "
                "over the complex numbers"
            )
        return y.astype(self.dtype, copy=False)

    def jacobian(self, x, Fx):
        """``DF(x)``: dense ndarray or scipy.sparse CSR/CSC, shape ``(n, n)``."""
        self.njev += 1
        if not callable(self.jac):
            return self._finite_difference(x, Fx)
        with np.errstate(all="ignore"):
            J = self.jac(x)
        if scipy.sparse.issparse(J):
            J = scipy.sparse.csc_array(J)
            if J.dtype.kind not in "iufc":
                raise TypeError(f"`jac` must return numbers, got a sparse matrix of {J.dtype}")
        else:
            J = check_returned("jac", J, complex_ok=True)
            if J.ndim == 0 and self.n == 1:
                J = J.reshape(1, 1)
        if J.shape != (self.n, self.n):
            raise ValueError(
                f"`jac` returned shape {tuple(J.shape)}; the Jacobian of a system with "
                f"{self.n} unknowns must have shape ({self.n}, {self.n})"
            )
        if J.dtype.kind == "c" and self.dtype.kind != "c":
            raise TypeError("`jac` returned complex values for a real iterate")
        return J.astype(self.dtype) if J.dtype != self.dtype else J

    def _finite_difference(self, x, Fx):
        # Perturbations are real even for complex x: for a holomorphic F the derivative is
        # the same along every direction of the complex plane, so a real step is exact to
        # O(h) (O(h^2) central) and never leaves the domain F was written for.
        central = self.jac == "3-point"
        eps = np.finfo(np.float64).eps
        scale = np.maximum(np.abs(x), 1.0)
        h = (eps ** (1 / 3) if central else math.sqrt(eps)) * scale
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
        # spsolve (MatrixRankWarning) and lu_factor (LinAlgWarning) warn on singular input;
        # the zero pivot or the NaN it leaves is reported as SingularJacobianError instead.
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.sparse.linalg.MatrixRankWarning)
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
            if scipy.sparse.issparse(J):
                z = scipy.sparse.linalg.spsolve(J, rhs)
            else:
                if not np.all(np.isfinite(J)):
                    raise SingularJacobianError("the Jacobian has NaN or Inf entries")
                try:
                    lu, piv = scipy.linalg.lu_factor(J, check_finite=False)
                except (np.linalg.LinAlgError, ValueError) as exc:  # pragma: no cover
                    raise SingularJacobianError(str(exc)) from exc
                if np.any(np.diag(lu) == 0):
                    raise SingularJacobianError("the Jacobian has a zero pivot")
                z = scipy.linalg.lu_solve((lu, piv), rhs, check_finite=False)
        if not np.all(np.isfinite(z)):
            raise SingularJacobianError("the linear solve returned NaN or Inf")
        return z
