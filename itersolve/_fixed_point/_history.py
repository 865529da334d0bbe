"""Anderson's difference history with a thin QR factorisation kept up to date.

Refactoring the ``n x k`` matrix of residual differences from scratch at every step costs
``O(n k^2)`` in Householder QR, which dominated the step on cheap maps. Here appending a
column is two Gram–Schmidt passes (``O(n k)``, "twice is enough" for orthogonality), and
dropping the oldest column re-triangularises ``R[:, 1:]`` with a ``k x k`` QR and rotates
``Q`` by one matrix product. A full refactorisation remains the fallback whenever the
factor looks ill-conditioned, and runs every ``REFRESH`` updates to stop rounding drift.
"""

from __future__ import annotations

from .._norms import scaled_norm

REFRESH = 100


def adjoint(xp, A):
    """Conjugate transpose; for real ``A`` just the transpose (``conj`` would copy)."""
    return xp.conj(A).T if xp.isdtype(A.dtype, "complex floating") else A.T


class DifferenceHistory:
    """Columns ``dX``, ``dF`` (oldest first) and ``Q R = dF`` with orthonormal ``Q``."""

    def __init__(self, xp):
        self.xp = xp
        self.dX = self.dF = self.Q = self.R = None
        self.updates = 0

    def __len__(self) -> int:
        return 0 if self.dF is None else self.dF.shape[1]

    def append(self, dx, df) -> None:
        xp = self.xp
        self.updates += 1
        if not len(self):
            self.dX, self.dF = dx[:, None], df[:, None]
            self.refactor()
            return
        self.dX = xp.concat([self.dX, dx[:, None]], axis=1)
        self.dF = xp.concat([self.dF, df[:, None]], axis=1)
        if self.updates % REFRESH == 0:
            self.refactor()
            return
        QH = adjoint(xp, self.Q)
        r = QH @ df
        w = df - self.Q @ r
        correction = QH @ w
        w = w - self.Q @ correction
        rho = float(xp.linalg.vector_norm(w))
        if not rho > 0:  # the new difference is dependent (or NaN): let QR decide
            self.refactor()
            return
        k = r.shape[0]
        self.Q = xp.concat([self.Q, (w / rho)[:, None]], axis=1)
        last_row = xp.concat(
            [xp.zeros((1, k), dtype=self.R.dtype), xp.full((1, 1), rho, dtype=self.R.dtype)], axis=1
        )
        self.R = xp.concat(
            [xp.concat([self.R, (r + correction)[:, None]], axis=1), last_row], axis=0
        )

    def clear(self) -> None:
        """Forget every difference (the next step is the plain one)."""
        self.dX = self.dF = self.Q = self.R = None

    def drop_oldest(self) -> None:
        xp = self.xp
        self.dX, self.dF = self.dX[:, 1:], self.dF[:, 1:]
        if not len(self):
            self.dX = self.dF = self.Q = self.R = None
            return
        # R[:, 1:] is upper Hessenberg; its small QR restores the triangle.
        rotation, self.R = xp.linalg.qr(self.R[:, 1:])
        self.Q = self.Q @ rotation

    def refactor(self) -> None:
        self.Q, self.R = self.xp.linalg.qr(self.dF)

    def condition(self) -> float:
        """``max |R_ii| / min |R_ii|``: a cheap condition estimate of ``dF`` (inf if singular)."""
        diagonal = self.xp.abs(self.xp.linalg.diagonal(self.R))
        smallest = float(self.xp.min(diagonal))
        return float(self.xp.max(diagonal)) / smallest if smallest > 0 else float("inf")

    def least_squares(self, f, regularization: float):
        """``argmin ||f - dF gamma||^2 + regularization ||dF||_F^2 ||gamma||^2``.

        The regularised normal equations are solved with ``R`` divided by ``||R||_F``
        (``= ||dF||_F``): squaring differences of 1e-170 would underflow to a singular
        zero matrix, and squaring 1e+160 overflow. Dividing the equations by
        ``||dF||_F^2`` leaves ``gamma`` unchanged.
        """
        xp = self.xp
        rhs = adjoint(xp, self.Q) @ f
        if regularization > 0:
            size = scaled_norm(self.R)
            R = self.R / size
            RH = adjoint(xp, R)
            identity = xp.eye(R.shape[0], dtype=R.dtype)
            return xp.linalg.solve(RH @ R + regularization * identity, (RH @ rhs) / size)
        return xp.linalg.solve(self.R, rhs)
