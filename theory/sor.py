"""Young's theory of SOR for consistently ordered matrices, derived with sympy.

For a consistently ordered ``A`` whose Jacobi matrix ``B_J = I - D^{-1} A`` has real
eigenvalues ``mu`` with ``beta = rho(B_J) < 1``, each ``mu`` and each eigenvalue ``lam`` of
the SOR iteration matrix are tied by Young's relation

    (lam + omega - 1)^2 = lam omega^2 mu^2.

Derived here from that relation:

* the two roots ``sqrt(lam) = (omega mu ± sqrt(omega^2 mu^2 - 4 (omega - 1))) / 2``;
* the optimum, where the discriminant at ``mu = beta`` vanishes:
  ``omega* = 2 / (1 + sqrt(1 - beta^2))`` (also ``1 + (beta / (1 + sqrt(1 - beta^2)))^2``,
  the reference code's form);
* ``rho(C_omega) = ((omega beta + sqrt(omega^2 beta^2 - 4 (omega - 1))) / 2)^2`` for
  ``0 < omega <= omega*`` and ``omega - 1`` beyond, where the roots are complex with
  modulus ``omega - 1``; ``rho(C_{omega*}) = omega* - 1`` and Gauss–Seidel's ``beta^2``;
* the 2-D Poisson values (5-point stencil, ``N`` interior points per side, ``h = 1/(N+1)``):
  ``beta = cos(pi h)``, ``omega* = 2 / (1 + sin(pi h))``,
  ``rho* = (1 - sin(pi h)) / (1 + sin(pi h))``.

The asymptotic iteration count to reduce the residual by ``eps`` is ``ln eps / ln rho``.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp

_lam, _omega, _mu, _beta, _h = sp.symbols("lam omega mu beta h", positive=True)


@functools.cache
def derivations() -> dict[str, sp.Expr]:
    """The symbolic results; each follows from Young's relation, none is typed in."""
    s = sp.Symbol("s", positive=True)  # s = sqrt(lam)
    relation = sp.Eq((s**2 + _omega - 1) ** 2, s**2 * _omega**2 * _mu**2)
    # (s^2 + w - 1)^2 = (s w mu)^2  <=>  s^2 + w - 1 = ± s w mu: two quadratics in s.
    roots = sp.solve(sp.Eq(s**2 + _omega - 1, s * _omega * _mu), s)
    larger = max(roots, key=lambda r: r.subs({_omega: 1.2, _mu: 0.9}))
    assert all(sp.simplify(relation.lhs.subs(s, r) - relation.rhs.subs(s, r)) == 0 for r in roots)
    discriminant = sp.discriminant(s**2 - _omega * _mu * s + _omega - 1, s)
    optimum = [
        w for w in sp.solve(discriminant.subs(_mu, _beta), _omega) if w.subs(_beta, 0.5) < 2
    ][0]
    optimum = sp.simplify(optimum)
    reference_form = 1 + (_beta / (1 + sp.sqrt(1 - _beta**2))) ** 2
    assert sp.simplify(optimum - reference_form) == 0
    left_branch = sp.expand(larger.subs(_mu, _beta) ** 2)
    at_optimum = sp.simplify(left_branch.subs(_omega, optimum))
    assert sp.simplify(at_optimum - (optimum - 1)) == 0
    poisson_beta = sp.cos(sp.pi * _h)
    poisson_optimum = sp.simplify(optimum.subs(_beta, poisson_beta))
    return {
        "relation": relation.lhs - relation.rhs,
        "optimal_omega": optimum,
        "rate_left": left_branch,  # 0 < omega <= omega*
        "rate_right": _omega - 1,  # omega* <= omega < 2
        "gauss_seidel": sp.simplify(left_branch.subs(_omega, 1)),
        "poisson_beta": poisson_beta,
        "poisson_optimal_omega": poisson_optimum,
        "poisson_optimal_rate": sp.simplify(poisson_optimum - 1),
    }


@functools.cache
def _numeric(name: str, *symbols):
    return sp.lambdify(symbols, derivations()[name], modules="numpy")


def optimal_omega(beta):
    """Young's ``omega* = 2 / (1 + sqrt(1 - beta^2))`` for a Jacobi spectral radius ``beta < 1``."""
    beta = np.asarray(beta, dtype=float)
    if np.any((beta < 0) | (beta >= 1)):
        raise ValueError("Young's optimum needs a Jacobi spectral radius 0 <= beta < 1")
    return _numeric("optimal_omega", _beta)(beta)


def sor_rate(omega, beta):
    """Young's spectral radius ``rho(C_omega)`` of SOR, on both branches."""
    omega, beta = np.broadcast_arrays(np.asarray(omega, float), np.asarray(beta, float))
    with np.errstate(invalid="ignore"):  # the square root is imaginary beyond omega*
        left = _numeric("rate_left", _omega, _beta)(omega, beta)
    return np.where(omega <= optimal_omega(beta), left, omega - 1)


def poisson_beta(n_side: int) -> float:
    """Jacobi spectral radius ``cos(pi h)`` of the 2-D 5-point Laplacian, ``h = 1/(n_side + 1)``."""
    return float(_numeric("poisson_beta", _h)(1.0 / (n_side + 1)))


def asymptotic_iterations(rate, eps=1e-8):
    """``ln eps / ln rate``: iterations to reduce the residual by ``eps`` at a linear rate."""
    return np.log(eps) / np.log(np.asarray(rate, dtype=float))
