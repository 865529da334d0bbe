"""Exact rational building blocks of the planted-root systems.

:func:`rational_rotation` gives an exactly orthogonal (unitary) matrix with rational
(Gaussian rational) entries; :func:`system_from_ring` turns sympy ring polynomials with
such coefficients into a :class:`~itersolve.PolynomialSystem` through its
``from_terms`` constructor, which skips the parsing and compilation that would cost tens of
milliseconds per case.
"""

from __future__ import annotations

import functools

import numpy as np

from .._newton import PolynomialSystem
from ._case import random_unitary

# The skew matrix S of the Cayley transform is K / 4 with integer |K_ij| <= 16: one small
# common denominator keeps the denominators of the coefficients small.
_CAYLEY_DENOMINATOR = 4
_CAYLEY_BOUND = 16


def rational_rotation(rng, n: int, complex_: bool, domain) -> list:
    """An exactly orthogonal (unitary) matrix of ``domain`` elements near a Haar-random one.

    ``Q = (I - S)(I + S)^{-1}`` is orthogonal (unitary) for every skew-symmetric
    (skew-Hermitian) ``S``: here ``S`` is that of a Haar draw, rounded to multiples of 1/4.
    """
    from sympy.polys.domains import QQ
    from sympy.polys.matrices import DomainMatrix

    haar = random_unitary(rng, n, complex_)
    if not complex_ and np.linalg.det(haar) < 0:
        haar[0] = -haar[0]  # the Cayley transform reaches rotations only
    identity = np.eye(n)
    with np.errstate(all="ignore"):  # I + Q singular has probability 0: clipped below
        skew = np.linalg.lstsq(identity + haar, identity - haar, rcond=None)[0]
    scaled = _CAYLEY_DENOMINATOR * np.nan_to_num(skew)
    re, im = (np.clip(np.round(part), -_CAYLEY_BOUND, _CAYLEY_BOUND).astype(int)
              for part in (scaled.real, scaled.imag))  # fmt: skip

    def entry(i, j):
        # from the upper triangle: S_ji = -conj(S_ij), and the diagonal is imaginary
        low, high = min(i, j), max(i, j)
        real = 0 if i == j else (re[low, high] if i < j else -re[low, high])
        value = QQ(int(real), _CAYLEY_DENOMINATOR)
        if not complex_:
            return value
        return domain(value, QQ(int(im[low, high]), _CAYLEY_DENOMINATOR))

    S = DomainMatrix([[entry(i, j) for j in range(n)] for i in range(n)], (n, n), domain)
    eye = DomainMatrix.eye(n, domain)
    return ((eye - S) * (eye + S).inv()).to_list()


def number(value, complex_: bool):
    """A rational or Gaussian rational, correctly rounded to float (or complex)."""
    re, im = (value.x, value.y) if hasattr(value, "y") else (value, 0)
    return complex(float(re), float(im)) if complex_ else float(re)


@functools.lru_cache(maxsize=64)
def polynomial_ring(n_vars: int, domain):
    """``(ring, generators)``: sympy's sparse polynomials in ``x0, ..., x{n_vars-1}``."""
    import sympy as sp
    from sympy.polys.rings import ring

    R, *X = ring(sp.symbols(f"x0:{n_vars}"), domain)
    return R, X


def system_from_ring(polys, ring) -> PolynomialSystem:
    """The system of ring polynomials ``polys``, coefficients exact (sympy numbers)."""
    to_sympy = ring.domain.to_sympy
    terms = [{alpha: to_sympy(c) for alpha, c in p.terms()} for p in polys]
    return PolynomialSystem.from_terms(terms, ring.symbols)
