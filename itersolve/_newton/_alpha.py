"""Smale's α-test for square polynomial systems: approximate, distinct and real zeros.

``β = ||DF(x)⁻¹F(x)||``; ``γ`` is bounded by Shub–Smale's polynomial bound (Hauenstein & Sottile,
*alphaCertified*, ACM TOMS 38(4), 2012, §1; Blum–Cucker–Shub–Smale, *Complexity and Real
Computation*, 1998, Ch. 8 and 14; Macaulay2 NumericalCertification ``computeConstants``)::

    γ <= μ D^{3/2} / (2 ||x||₁),   ||x||₁ = sqrt(1 + Σ|x_i|²),   D = max degree,
    μ = max(1, ||F||_BW ||DF(x)⁻¹ Δ||),   Δ = diag(sqrt(d_i) ||x||₁^{d_i - 1}),

with ``||f_i||²_BW = Σ_a |c_a|² a! (d_i - |a|)! / d_i!`` (Bombieri–Weyl) and the matrix norm
bounded by the Frobenius norm, an upper bound of the operator norm. ``α = β γ``.

Rules (the constants are quoted; :mod:`itersolve.theory.newton` derives α₀):

* **approximate zero**: ``α < α₀ = (13 - 3 sqrt 17)/4``; the associated zero ζ then lies within
  ``radius = 2β`` of ``x`` and Newton from ``x`` converges to it with
  ``||N^k(x) - ζ|| <= (1/2)^(2^k - 1) ||x - ζ||`` (α-theorem).
* **same zero**: ``α(x) < 0.03`` and ``||x - y|| < 1/(20 γ(x))`` (robust α-theorem). Any zero in
  that ball is an approximate zero of itself, so ζ is the only zero within
  ``unique_radius = 1/(20γ)``.
* **distinct**: both certified and ``||x - y|| > 2(β(x) + β(y))`` (the balls are disjoint).
* **real** (real ``F``): ``α < 0.03`` and ``||Im x|| < 1/(20γ)``: ``Re x`` is then an approximate
  zero with the same ζ, and Newton from the real point ``Re x`` stays real, so ζ is real.
  **Not real**: certified and ``||Im x|| > 2β``: ``x̄`` is an approximate zero of ζ̄ with the
  same β and ``||x - x̄|| = 2||Im x|| > 2(β + β)``, so ζ ≠ ζ̄.

**Floating point is a numerical certificate, not a proof** (``rigorous=False``). With
``exact=True`` the squares α², β², γ² are computed in exact Gaussian-rational arithmetic (sympy's
``QQ_I``) from the exact binary values of ``x`` and of the coefficients, and every comparison is
rational (``rigorous=True``): a proof for the rounded point and the rationalised system.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike

from .._norms import scaled_norm
from ._alpha_bounds import direct_gamma, exact_squares, float_squares, prepare
from ._polynomial import PolynomialSystem

__all__ = ["ALPHA0", "AlphaCertificate", "Certification", "alpha_test", "certify"]

_SAME = Fraction(3, 100)  # robust α-theorem constants (quoted)

# Smale's approximate-zero threshold α₀ = (13 - 3√17)/4, the root below 3 - 2√2 of
# 2α² - 13α + 2 = 0, where the α-theorem's majorant ratio reaches 1/2 (Blum–Cucker–Shub–
# Smale, Ch. 8). Written as 4/(13 + 3√17): 13 - 3√17 cancels to 7 ulps of error in floating
# point, this form rounds correctly (tests/test_theory_newton.py checks it against the
# theory's derivation).
ALPHA0 = 4 / (13 + 3 * math.sqrt(17))
# α₀² = (161 - 39√17)/8 = P - R√17 with rational P, R > 0, for the exact test below.
_ALPHA0_SQUARED_P, _ALPHA0_SQUARED_R = Fraction(161, 8), Fraction(39, 8)


def alpha_squared_below_alpha0(alpha_squared: Fraction) -> bool:
    """``α² < α₀²`` for a rational ``α²``, exactly: ``α² < P - R√17`` holds if and only if
    ``P - α² > 0`` and ``(P - α²)² > 17 R²`` (both sides positive), rational arithmetic only."""
    gap = _ALPHA0_SQUARED_P - Fraction(alpha_squared)
    return gap > 0 and gap**2 > 17 * _ALPHA0_SQUARED_R**2


@dataclass(frozen=True, eq=False)
class AlphaCertificate:
    """The α-test at one point (see the module docstring for the rules).

    Attributes
    ----------
    x : ndarray
        The point tested.
    alpha, beta, gamma : float
        ``α = β γ``; ``gamma`` is the Shub–Smale upper bound, the one ``alpha`` uses.
    certified : bool
        ``α < α₀``: ``x`` is an approximate zero.
    radius : float
        ``2β``: the associated zero lies within it (``inf`` when not certified).
    unique_radius : float
        ``1/(20γ)`` when ``α < 0.03``: no other zero within it (else ``0``).
    exact, rigorous : bool
        Exact rational arithmetic was used; only then is the certificate a proof.
    gamma_direct : float or None
        Diagnostic: Frobenius bound of ``sup_k ||DF⁻¹ DᵏF/k!||^(1/(k-1))`` in floating point
        (``None`` when too large to form).
    squares : tuple of Fraction or None
        Exact ``(α², β², γ²)`` when ``exact``.
    """

    x: np.ndarray
    alpha: float
    beta: float
    gamma: float
    certified: bool
    radius: float
    unique_radius: float
    exact: bool
    rigorous: bool
    gamma_direct: float | None = None
    squares: tuple | None = None

    def __repr__(self) -> str:
        kind = "rigorous" if self.rigorous else "numerical, not a proof"
        return (
            f"AlphaCertificate(certified={self.certified}, alpha={self.alpha:.3g}, "
            f"beta={self.beta:.3g}, gamma={self.gamma:.3g}, {kind})"
        )


@dataclass(frozen=True, eq=False)
class Certification:
    """Per-root certificates and pairwise verdicts of :func:`certify`.

    ``distinct[i, j]``, ``same[i, j]`` (``m × m``), ``real[i]`` / ``not_real[i]`` are *certified*
    verdicts (``False`` means "not certified", not the opposite). ``n_distinct`` is a certified
    lower bound on the number of distinct zeros (a greedy pairwise-distinct subset of the
    certified roots); ``duplicates`` lists pairs ``(i, j)``, ``i < j``, certified the same zero.
    """

    certificates: tuple
    certified: np.ndarray
    distinct: np.ndarray
    same: np.ndarray
    real: np.ndarray
    not_real: np.ndarray
    real_system: bool
    n_distinct: int
    duplicates: tuple
    exact: bool
    rigorous: bool


def _check_exact(exact) -> bool:
    if not isinstance(exact, (bool, np.bool_)):
        raise TypeError(f"`exact` must be True or False, got {type(exact).__name__}")
    return bool(exact)


def _point(name, x, n) -> np.ndarray:
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError):  # ragged nesting numpy cannot hold
        raise TypeError(f"`{name}` must be a numeric vector, got {type(x).__name__}") from None
    if arr.dtype.kind not in "iufc":
        raise TypeError(f"`{name}` must be numeric, got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(
            f"`{name}` must have length {n} (one entry per variable), got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` contains NaN or infinite entries: {arr}")
    return arr.astype(complex if arr.dtype.kind == "c" else float)


def alpha_test(system: PolynomialSystem, x: ArrayLike, *, exact: bool = False) -> AlphaCertificate:
    """Smale's α-test at ``x`` for a square :class:`PolynomialSystem` (see the module docstring).

    Parameters
    ----------
    system : PolynomialSystem
        Square (``N = n``); coefficients may be complex (a real x is then evaluated in
        complex arithmetic). Evaluated from its coefficients, not through its methods.
    x : array_like, shape (n,)
        The point, real or complex, finite. Where a value overflows, or DF(x) is
        singular, the result is not certified (α = β = γ = inf).
    exact : bool
        Compute α², β², γ² in exact rational arithmetic (a proof for the rounded point);
        otherwise floating point (a numerical certificate, not a proof).

    Returns
    -------
    AlphaCertificate

    Examples
    --------
    >>> from itersolve._newton._polynomial import PolynomialSystem
    >>> F = PolynomialSystem(["x**2 + y**2 - 4", "x*y - 1"], ["x", "y"])
    >>> a = (2 + 3 ** 0.5) ** 0.5
    >>> alpha_test(F, [a, 1 / a], exact=True).certified
    True
    >>> alpha_test(F, [a + 0.5, 1 / a], exact=True).certified
    False
    """
    exact = _check_exact(exact)
    prep = prepare(system)
    x = _point("x", x, prep.n)
    floats = float_squares(prep, x)
    gamma_direct = None if floats is None else direct_gamma(prep, x, floats[3])
    squares = exact_squares(prep, x) if exact else floats and floats[:3]
    if squares is None:  # singular Jacobian (or overflow in floating point): no certificate
        inf = math.inf
        return AlphaCertificate(x, inf, inf, inf, False, inf, 0.0, exact, exact)
    a2, b2, g2 = squares
    ok = alpha_squared_below_alpha0(a2) if exact else bool(a2 < ALPHA0**2)
    beta, gamma = _sqrt(b2), _sqrt(g2)
    return AlphaCertificate(
        x, _sqrt(a2), beta, gamma, ok, 2 * beta if ok else math.inf,
        1 / (20 * gamma) if a2 < _SAME**2 else 0.0, bool(exact), bool(exact), gamma_direct,
        tuple(squares) if exact else None,
    )  # fmt: skip


def certify(
    system: PolynomialSystem,
    roots: ArrayLike | Sequence[ArrayLike],
    *,
    exact: bool = False,
) -> Certification:
    """α-certify several points and decide which are distinct, the same, real or not real.

    Parameters
    ----------
    system : PolynomialSystem
        Square polynomial system.
    roots : array_like, shape (m, n)
        Approximate roots, one per row.
    exact : bool
        As in :func:`alpha_test`; all pairwise comparisons are then rational too.

    Returns
    -------
    Certification

    Examples
    --------
    >>> import numpy as np
    >>> from itersolve._newton._polynomial import PolynomialSystem
    >>> F = PolynomialSystem(["x**2 + y**2 - 4", "x*y - 1"], ["x", "y"])
    >>> a, b = np.sqrt(2 + np.sqrt(3)), np.sqrt(2 - np.sqrt(3))
    >>> result = certify(F, [[a, 1 / a], [-a, -1 / a], [b, 1 / b], [-b, -1 / b]])
    >>> result.n_distinct, bool(result.real.all())
    (4, True)
    """
    exact = _check_exact(exact)
    prep = prepare(system)
    n = prep.n
    if isinstance(roots, (list, tuple)):
        rows = list(roots)
    elif isinstance(roots, np.ndarray) or np.isscalar(roots) and not isinstance(roots, str):
        rows = list(np.atleast_2d(roots))
    else:
        raise TypeError(
            f"`roots` must be a sequence of points or an array of shape (m, {n}), "
            f"got {type(roots).__name__}"
        )
    if not rows:
        raise ValueError(f"`roots` must be a non-empty sequence of vectors of length {n}")
    points = [_point(f"roots[{i}]", r, n) for i, r in enumerate(rows)]
    certs = tuple(alpha_test(system, p, exact=exact) for p in points)
    # Squares (α², β², γ²): exact Fractions, or float64 where overflow gives Inf quietly
    # (Python floats would raise OverflowError past 1e154).
    with np.errstate(all="ignore"):
        floats = [tuple(np.float64(v) ** 2 for v in (c.alpha, c.beta, c.gamma)) for c in certs]
        sq = [tuple(map(Fraction, c.squares)) if exact and c.squares else f
              for c, f in zip(certs, floats)]  # fmt: skip
        m, cut = len(certs), _SAME**2
        certified = np.array([c.certified for c in certs])
        distinct, same = np.zeros((m, m), bool), np.diag(certified)
        for i, j in itertools.combinations(range(m), 2):
            (ai, bi, gi), (aj, bj, gj), d2 = sq[i], sq[j], _norm2(points[i], points[j], exact)
            if certified[i] and certified[j]:  # then sq holds Fractions when exact
                gap = d2 - 4 * bi - 4 * bj  # ||xi - xj|| > 2(βi + βj) <=> gap > 0, gap² > 64βi²βj²
                distinct[i, j] = distinct[j, i] = bool(gap > 0 and gap**2 > 64 * bi * bj)
            same[i, j] = same[j, i] = bool(
                (ai < cut and d2 * 400 * gi < 1) or (aj < cut and d2 * 400 * gj < 1)
            )
        im2 = [_norm2(1j * p.imag, 0 * p, exact) for p in points]
        not_real = np.array(
            [bool(prep.real and c and y > 4 * s[1]) for c, y, s in zip(certified, im2, sq)]
        )
        real = np.array(
            [bool(prep.real and s[0] < cut and y * 400 * s[2] < 1) for y, s in zip(im2, sq)]
        )
    reps = []
    for i in np.flatnonzero(certified):
        reps += [int(i)] if all(distinct[i, j] for j in reps) else []
    duplicates = tuple((i, j) for i, j in itertools.combinations(range(m), 2) if same[i, j])
    return Certification(
        certs, certified, distinct, same, real, not_real, prep.real, len(reps), duplicates,
        bool(exact), bool(exact),
    )  # fmt: skip


def _sqrt(value) -> float:
    """``sqrt`` of a float or Fraction as a float; ``inf`` past the float range."""
    try:
        return math.sqrt(value)
    except OverflowError:  # a Fraction beyond the largest float
        return math.inf


def _norm2(p, q, exact):
    """``||p - q||²``: exact (Fractions of the binary values) or in floating point."""
    if not exact:
        with np.errstate(all="ignore"):
            return np.float64(scaled_norm(p - q)) ** 2
    parts = zip(np.r_[p.real, np.imag(p)], np.r_[q.real, np.imag(q)])
    return sum((Fraction(float(u)) - Fraction(float(v))) ** 2 for u, v in parts)
