"""Constants and rates of Newton's method, deflation and Smale's α-theory, derived with sympy.

Each result is derived symbolically once (:func:`derivations`) and turned into a NumPy
function with ``sympy.lambdify``; the public functions below are what tests and
:func:`itersolve._newton._alpha.alpha_test` call.

Derived here:

* **Approximate zeros.** A quadratic contraction ``e_{k+1} <= C e_k^2`` with ``C e_0 <= 1/2``
  gives, through ``L_k = log2(e_k / e_0)`` and ``L_{k+1} <= 2 L_k - 1``, ``L_0 = 0`` (solved by
  ``rsolve``), Smale's bound ``e_k <= (1/2)^(2^k - 1) e_0``.
* **α₀.** The threshold ``(13 - 3 sqrt 17)/4`` is the root below ``3 - 2 sqrt 2`` of
  ``q(α) = 1/2``, i.e. of ``2 α² - 13 α + 2 = 0``, where ``q`` is quoted below; the exact
  rational test ``α² < α₀²`` (the form Macaulay2's NumericalCertification uses on α²) is
  derived from ``α₀²``'s expansion ``p - r sqrt 17``.
* **Multiplicity.** Newton on ``f = (x - ξ)^m g(x)`` with ``g(ξ) != 0`` has error ratio
  ``(N(x) - ξ)/(x - ξ) -> (m - 1)/m``.
* **Deflated step** (Sherman–Morrison). With ``G = η F``, ``G' = η J + F ∇ηᵀ`` and the
  undeflated step ``δ = -J⁻¹F``, the deflated step is ``-G'⁻¹G = τ δ`` with
  ``τ = 1 / (1 - ∇ηᵀδ / η)``; checked on a generic symbolic 2×2 system, and equal to defcon's
  ``1 + m E / (1 - m E)`` with ``m = 1/η``, ``E = ∇η·δ``.
* **γ-theorem radius** ``(3 - sqrt 7)/2``: the root of ``u / ψ(u) = 1/2`` with
  ``ψ(u) = 1 - 4u + 2u²`` (ψ quoted from memory of Blum–Cucker–Shub–Smale, Ch. 8).

Quoted (not re-derived; the proofs are in the cited books and papers):

* Wang Xinghua & Han Danfu (1990) / Blum, Cucker, Shub, Smale, *Complexity and Real
  Computation* (Springer 1998), Ch. 8: for ``α = β γ < 3 - 2 sqrt 2`` the Newton iterates obey
  ``||x_k - ζ|| <= q^(2^k - 1) · const`` with
  ``q(α) = (1 - α - sqrt Δ)/(1 - α + sqrt Δ)``, ``Δ = α² - 6α + 1``. (Recalled statement; the
  tests check it numerically on the scalar majorant ``h(t) = β - t + γ t²/(1 - γ t)``.)
* α-theorem consequences (Smale 1986; BCSS Ch. 8; Hauenstein & Sottile, *alphaCertified*,
  ACM TOMS 38(4), 2012, §1): if ``α < α₀`` then ``x`` is an approximate zero and its
  associated zero ``ζ`` satisfies ``||x - ζ|| <= 2 β``.
* Robust α-theorem (BCSS Ch. 8; Hauenstein–Sottile §1): if ``α(x) < 0.03`` and
  ``||x - y|| < 1/(20 γ(x))`` then ``x`` and ``y`` are approximate zeros with the same
  associated zero. The constants ``0.03`` and ``1/20`` are quoted, not derived.

Examples
--------
>>> from itersolve.theory import newton
>>> round(newton.alpha0(), 10)
0.1576707808
>>> float(newton.multiplicity_ratio(3))
0.6666666666666666
"""

from __future__ import annotations

import functools
from fractions import Fraction

import numpy as np
import sympy as sp

__all__ = [
    "SAME_ZERO_ALPHA",
    "SAME_ZERO_RADIUS_FACTOR",
    "alpha0",
    "alpha_squared_below_alpha0",
    "approximate_zero_bound",
    "deflation_tau",
    "derivations",
    "gamma_theorem_radius",
    "majorant_ratio",
    "multiplicity_ratio",
]

#: Robust α-theorem constants (quoted: BCSS Ch. 8; Hauenstein–Sottile 2012, §1).
SAME_ZERO_ALPHA = Fraction(3, 100)
SAME_ZERO_RADIUS_FACTOR = Fraction(1, 20)

_k = sp.Symbol("k", integer=True, nonnegative=True)
_m = sp.Symbol("m", positive=True)
_alpha = sp.Symbol("alpha", positive=True)
_e0 = sp.Symbol("e0", positive=True)
_eta, _edy = sp.symbols("eta Edy", real=True)


def _tau_from_sherman_morrison(n: int = 2) -> sp.Expr:
    """Solve ``G' s = -G`` on a generic symbolic system and read off ``τ`` with ``s = τ δ``."""
    J = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"J{i}{j}"))
    F = sp.Matrix(n, 1, lambda i, _: sp.Symbol(f"F{i}"))
    g = sp.Matrix(n, 1, lambda i, _: sp.Symbol(f"g{i}"))
    eta = sp.Symbol("eta", nonzero=True)
    delta = -J.LUsolve(F)
    deflated = -(eta * J + F * g.T).LUsolve(eta * F)
    ratios = [sp.cancel(deflated[i] / delta[i]) for i in range(n)]
    assert all(sp.cancel(r - ratios[0]) == 0 for r in ratios)  # the step is parallel to δ
    # 1/τ - 1 is a multiple c of ∇ηᵀδ / η; find c (it is -1) and write τ in η and E = ∇ηᵀδ.
    c = sp.cancel((1 / ratios[0] - 1) * eta / (g.T * delta)[0, 0])
    assert c.free_symbols == set()
    return 1 / (1 + c * _edy / _eta)


@functools.cache
def derivations() -> dict[str, sp.Expr]:
    """The symbolic results; each is derived here, not typed in (see the module docstring)."""
    # Approximate zeros: L_{k+1} = 2 L_k - 1 with L_0 = 0, L = log2(e_k / e_0).
    L = sp.Function("L")
    log_ratio = sp.rsolve(L(_k + 1) - 2 * L(_k) + 1, L(_k), {L(0): 0})
    approximate_zero = _e0 * sp.Integer(2) ** log_ratio

    # α₀: the quoted majorant ratio q(α) equals 1/2.
    root_delta = sp.sqrt(_alpha**2 - 6 * _alpha + 1)
    q = (1 - _alpha - root_delta) / (1 - _alpha + root_delta)
    # 2(1 - α - √Δ) = 1 - α + √Δ  <=>  1 - α = 3√Δ; square it (1 - α > 0 on the range).
    _, quadratic = sp.Poly(9 * root_delta**2 - (1 - _alpha) ** 2, _alpha).primitive()
    candidates = [r for r in sp.solve(quadratic.as_expr(), _alpha) if r < 3 - 2 * sp.sqrt(2)]
    (alpha0,) = candidates
    assert sp.simplify(q.subs(_alpha, alpha0) - sp.Rational(1, 2)) == 0
    alpha0_squared = sp.expand(alpha0**2)

    # Multiplicity: Newton on (x - ξ)^m g(x), e = x - ξ, g expanded around ξ with g0 != 0.
    e = sp.Symbol("e", positive=True)
    g0, g1, g2 = sp.symbols("g0 g1 g2", positive=True)
    f = e**_m * (g0 + g1 * e + g2 * e**2)
    ratio = sp.simplify(1 - f / (e * sp.diff(f, e)))
    multiplicity = sp.simplify(sp.limit(ratio, e, 0))

    # γ-theorem radius: u / ψ(u) = 1/2, ψ(u) = 1 - 4u + 2u² (ψ quoted).
    u = sp.Symbol("u", positive=True)
    psi = 1 - 4 * u + 2 * u**2
    gamma_radius = min(sp.solve(sp.Eq(2 * u, psi), u), key=lambda r: float(r))

    return {
        "approximate_zero": approximate_zero,
        "majorant_ratio": q,
        "alpha0_polynomial": quadratic.as_expr(),
        "alpha0": alpha0,
        "alpha0_squared": alpha0_squared,
        "multiplicity_ratio": multiplicity,
        "deflation_tau": _tau_from_sherman_morrison(),
        "defcon_tau": 1 + (_edy / _eta) / (1 - _edy / _eta),
        "gamma_theorem_radius": gamma_radius,
    }


@functools.cache
def _numeric(name: str, *symbols):
    return sp.lambdify(symbols, derivations()[name], modules="numpy")


def alpha0() -> float:
    """``α₀ = (13 - 3 sqrt 17)/4 ≈ 0.15767``, Smale's approximate-zero threshold (a float)."""
    return float(derivations()["alpha0"])


def alpha_squared_below_alpha0(alpha_squared) -> bool:
    """Exact test ``α² < α₀²`` for a rational ``α²`` (int, Fraction or sympy Rational).

    With ``α₀² = p - r sqrt 17`` (``p, r > 0`` rational, from the derivation) the test is
    ``a < p`` and ``(p - a)² > 17 r²``: rational arithmetic only, so no rounding.
    """
    a = sp.Rational(alpha_squared)
    p, irrational = derivations()["alpha0_squared"].as_independent(sp.sqrt(17))
    r = -irrational / sp.sqrt(17)
    return bool(a < p and (p - a) ** 2 > 17 * r**2)


def approximate_zero_bound(k, initial_error):
    """``(1/2)^(2^k - 1) e_0``: the error bound of Newton iterate ``k`` from an approximate zero."""
    return _numeric("approximate_zero", _k, _e0)(np.asarray(k, dtype=float), initial_error)


def majorant_ratio(alpha):
    """Quoted ``q(α)`` of the Wang–Han majorant; ``q(α₀) = 1/2`` (needs ``α < 3 - 2 sqrt 2``)."""
    return _numeric("majorant_ratio", _alpha)(np.asarray(alpha, dtype=float))


def multiplicity_ratio(m):
    """``(m - 1)/m``: the limiting error ratio of plain Newton at a root of multiplicity ``m``."""
    return _numeric("multiplicity_ratio", _m)(np.asarray(m, dtype=float))


def deflation_tau(eta, grad_eta_dot_delta):
    """``τ = 1 / (1 - ∇η·δ / η)``: the deflated Newton step is ``τ δ`` with ``δ = -J⁻¹F``."""
    return _numeric("deflation_tau", _eta, _edy)(eta, grad_eta_dot_delta)


def gamma_theorem_radius() -> float:
    """``(3 - sqrt 7)/2 ≈ 0.177``: ``||x - ζ|| γ(ζ)`` below this makes ``x`` an approximate zero."""
    return float(derivations()["gamma_theorem_radius"])
