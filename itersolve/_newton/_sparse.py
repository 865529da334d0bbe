"""Polynomials as {exponent: coefficient} dicts, evaluated with NumPy.

The singular solvers (LVZ and MMS) and the α-test evaluate the user's system from its
coefficients, not through its methods; LVZ also builds its deflation stages here, by dict
arithmetic on these polynomials.
"""

from __future__ import annotations

import numpy as np

from ._multiplicity import check_system


def _derivative(poly: dict, j: int) -> dict:
    """∂poly/∂z_j for a polynomial stored as {exponent tuple: coefficient}."""
    out = {}
    for e, c in poly.items():
        if e[j]:
            out[e[:j] + (e[j] - 1,) + e[j + 1 :]] = c * e[j]
    return out


class SparsePolynomials:
    """Polynomials as {exponent: coefficient} dicts, evaluated with NumPy.

    The LVZ equations are linear combinations of derivatives times a new multiplier, which
    dict arithmetic builds exactly and fast; sympy expressions of the same systems grow
    and compile slowly from the third stage on.
    """

    def __init__(self, polys, n_vars: int, dtype: np.dtype):
        self.polys, self.n_vars, self.dtype = list(polys), n_vars, dtype
        self.derivatives = [[_derivative(p, j) for j in range(n_vars)] for p in self.polys]
        self._f = self._compile(self.polys)
        self._jac = self._compile([d for row in self.derivatives for d in row])

    @classmethod
    def from_system(cls, system, dtype: np.dtype) -> SparsePolynomials:
        variables, polys = check_system(system)
        polys = [
            {a: dtype.type(complex(c) if dtype.kind == "c" else float(c)) for a, c in p.terms()}
            for p in polys
        ]
        return cls(polys, len(variables), dtype)

    def _compile(self, polys):
        rows = [i for i, p in enumerate(polys) for _ in p]
        E = [e for p in polys for e in p] or [(0,) * self.n_vars]  # noqa: N806
        c = [v for p in polys for v in p.values()] or [0]
        return (
            np.array(E, dtype=np.int64).reshape(-1, self.n_vars),
            np.array(c, dtype=self.dtype),
            np.array(rows or [0]),
            len(polys),
        )

    def _evaluate(self, compiled, z):
        E, c, rows, size = compiled  # noqa: N806
        # Overflow far from the root gives Inf, which the driver reports as NONFINITE.
        with np.errstate(all="ignore"):
            terms = c * np.prod(z[None, :] ** E, axis=1)
            # complex z with real coefficients gives complex values (PolynomialSystem's
            # from_terms evaluates any x); z of the coefficients' dtype keeps it
            out = np.zeros(size, dtype=terms.dtype)
            np.add.at(out, rows, terms)
        return out

    def __call__(self, z):
        return self._evaluate(self._f, z)

    def jacobian(self, z):
        return self._evaluate(self._jac, z).reshape(len(self.polys), self.n_vars)
