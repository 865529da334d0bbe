"""What the α-test measures at a point of a square polynomial system: ``β``, the Shub–Smale
bound of ``γ`` and ``α = βγ`` (see :mod:`._alpha` for the formulas and the rules), in
floating point or in exact Gaussian-rational arithmetic, from the system's data prepared
once per system."""

from __future__ import annotations

import itertools
import math
import weakref
from fractions import Fraction

import numpy as np

from ._multiplicity import check_system

__all__ = ["direct_gamma", "exact_squares", "float_squares", "prepare"]

DIRECT_GAMMA_MAX_ENTRIES = 20_000  # the largest derivative tensor the diagnostic forms
CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def bw_norm2(terms, degree, abs2):
    """Bombieri–Weyl ``||f||²`` from ``(monomial, coefficient)`` pairs."""
    return sum(
        abs2(c)
        * Fraction(
            math.prod(map(math.factorial, a)) * math.factorial(degree - sum(a)),
            math.factorial(degree),
        )
        for a, c in terms
    )


def abs2(z) -> Fraction:
    """``|z|²`` of a ``QQ_I`` element, exactly."""
    return (
        Fraction(int(z.x.numerator), int(z.x.denominator)) ** 2
        + Fraction(int(z.y.numerator), int(z.y.denominator)) ** 2
    )


class PreparedSystem:
    """Per-system data, computed once: BW norm, exact polynomials, derivative lambdas."""

    def __init__(self, variables, polys):
        self.variables, self.polys = variables, polys
        self.degrees = tuple(max(int(p.total_degree()), 0) if not p.is_zero else 0 for p in polys)
        self.n = len(variables)
        self._sparse = {}
        terms = [p.as_dict().items() for p in self.polys]
        self.bw2 = float(
            sum(bw_norm2(t, d, lambda c: abs(complex(c)) ** 2) for t, d in zip(terms, self.degrees))
        )
        self.real = all(c.is_real for t in terms for _, c in t)
        self._exact, self._lambdas = None, {}

    def exact(self):
        """Polynomials and Jacobian over ``QQ_I`` (Floats replaced by their exact binary value)."""
        if self._exact is None:
            import sympy as sp
            from sympy.polys.polyerrors import CoercionFailed

            polys = []
            for k, p in enumerate(self.polys):
                e = p.as_expr()
                e = e.xreplace({f: sp.Rational(f) for f in e.atoms(sp.Float)})
                try:
                    polys.append(sp.Poly(e, *self.variables, domain=sp.QQ_I))
                except CoercionFailed as exc:
                    raise ValueError(
                        f"exact=True needs rational (or Gaussian rational) "
                        f"coefficients; equation {k} is {e}"
                    ) from exc
            terms = [list(q.as_dict(native=True).items()) for q in polys]
            jacobian = [
                [list(q.diff(v).as_dict(native=True).items()) for v in self.variables]
                for q in polys
            ]
            bw2 = sum(bw_norm2(t, d, abs2) for t, d in zip(terms, self.degrees))
            self._exact = (terms, jacobian, bw2)
        return self._exact

    def evaluate(self, x):
        """``(F(x), DF(x))`` from the polynomials themselves (not the system's methods),
        in x's dtype (complex when a coefficient is); overflow gives Inf, no warning."""
        from ._sparse import SparsePolynomials

        dtype = np.dtype(complex if x.dtype.kind == "c" or not self.real else float)
        if dtype not in self._sparse:
            polys = [
                {a: dtype.type(complex(c) if dtype.kind == "c" else float(c)) for a, c in p.terms()}
                for p in self.polys
            ]
            self._sparse[dtype] = SparsePolynomials(polys, self.n, dtype)
        sparse, x = self._sparse[dtype], x.astype(dtype)
        return sparse(x), sparse.jacobian(x)

    def derivatives(self, k):
        """``(f, weights)``: ``f(x)`` is ``DᵏF(x)/k!`` at each sorted multi-index (rows)."""
        if k not in self._lambdas:
            import sympy as sp

            combos = list(itertools.combinations_with_replacement(self.variables, k))
            self._lambdas[k] = None
            if len(combos) * len(self.polys) <= DIRECT_GAMMA_MAX_ENTRIES:
                exprs = [
                    [p.diff(*c).as_expr() / math.factorial(k) for p in self.polys] for c in combos
                ]
                counts = [math.prod(math.factorial(c.count(v)) for v in set(c)) for c in combos]
                weights = math.factorial(k) / np.array(counts, dtype=float)
                self._lambdas[k] = (sp.lambdify([self.variables], exprs, "numpy"), weights)
        return self._lambdas[k]


def prepare(system) -> PreparedSystem:
    """Validate ``system`` (a square polynomial system) and return its prepared data."""
    variables, polys = check_system(system)
    if len(polys) != len(variables):
        raise ValueError(
            f"`system` must be square for the α-test: it has "
            f"{len(polys)} equations in {len(variables)} variables"
        )
    try:
        return CACHE[system]
    except (KeyError, TypeError):
        prepared = PreparedSystem(variables, polys)
    try:
        CACHE[system] = prepared
    except TypeError:  # not weak-referenceable: prepare it each time
        pass
    return prepared


def float_squares(prep, x):
    """``(α², β², γ², DF⁻¹)`` in floating point; ``None`` when DF(x) is singular or a
    value overflows (no certificate either way)."""
    F, J = prep.evaluate(x)
    if not (np.all(np.isfinite(F)) and np.all(np.isfinite(J))):
        return None
    with np.errstate(all="ignore"):
        try:
            Jinv = np.linalg.inv(J)
            b2 = float(np.linalg.norm(np.linalg.solve(J, F)) ** 2)
        except np.linalg.LinAlgError:
            return None
        n1sq, d = 1.0 + float(np.sum(np.abs(x) ** 2)), np.array(prep.degrees, dtype=float)
        frob2 = float(np.sum(np.abs(Jinv) ** 2 * (d * n1sq ** (d - 1))))
        g2 = max(1.0, prep.bw2 * frob2) * max(prep.degrees) ** 3 / (4 * n1sq)
        out = (b2 * g2, b2, g2)
    if not all(map(math.isfinite, out)) or not np.all(np.isfinite(Jinv)):
        return None
    return (*out, Jinv)


def exact_squares(prep, x):
    """``(α², β², γ²)`` as Fractions, in Gaussian-rational arithmetic; ``None`` if DF singular."""
    from sympy import QQ, QQ_I
    from sympy.polys.matrices import DomainMatrix

    terms, jacobian, bw2 = prep.exact()
    xs = [
        QQ_I(QQ(*float(v.real).as_integer_ratio()), QQ(*float(v.imag).as_integer_ratio()))
        for v in np.asarray(x, dtype=complex)
    ]

    def value(t):
        return sum(
            (c * math.prod((xs[j] ** e for j, e in enumerate(a)), start=QQ_I.one) for a, c in t),
            QQ_I.zero,
        )

    n, d = len(xs), prep.degrees
    J = DomainMatrix([[value(t) for t in row] for row in jacobian], (n, n), QQ_I)
    if J.det() == QQ_I.zero:
        return None
    Jinv, F = J.inv().to_list(), [value(t) for t in terms]
    b2 = sum(abs2(sum((Jinv[i][j] * F[j] for j in range(n)), QQ_I.zero)) for i in range(n))
    n1sq = 1 + sum(abs2(v) for v in xs)
    frob2 = sum(abs2(Jinv[i][j]) * d[j] * n1sq ** (d[j] - 1) for i in range(n) for j in range(n))
    g2 = max(Fraction(1), bw2 * frob2) * max(d) ** 3 / (4 * n1sq)
    return b2 * g2, b2, g2


def direct_gamma(prep, x, Jinv):
    """Frobenius upper bound of ``sup_k ||DF⁻¹ DᵏF(x)/k!||^(1/(k-1))`` (floating point)."""
    gamma = 0.0
    for k in range(2, max(prep.degrees) + 1):
        if prep.derivatives(k) is None:
            return None
        f, weights = prep.derivatives(k)
        with np.errstate(all="ignore"):
            T = np.array(f(x.astype(Jinv.dtype)), dtype=Jinv.dtype).reshape(len(weights), -1)
            norm2 = float(weights @ np.sum(np.abs(T @ Jinv.T) ** 2, axis=1))
        if not math.isfinite(norm2):
            return None
        gamma = max(gamma, norm2 ** (1 / (2 * (k - 1))))
    return gamma
