"""Rates and bounds of fixed-point iterations, derived with sympy.

Each bound is derived symbolically once (:func:`derivations`) and turned into a NumPy
function with ``sympy.lambdify``; the public functions below are what tests and the demo
call. Notation: ``T`` is the map, ``x*`` a fixed point, ``D = ||x_0 - x*||``, ``lam`` the
Krasnosel'skii–Mann relaxation, ``q`` a Lipschitz constant.

Derived here:

* Contraction: ``e_{k+1} <= q e_k`` solves to ``e_k <= q^k e_0``.
* Krasnosel'skii–Mann on nonexpansive ``T``: the identity
  ``||(1-lam) a + lam b||^2 = (1-lam)||a||^2 + lam||b||^2 - lam(1-lam)||a-b||^2`` with
  ``a = x - x*``, ``b = T x - x*`` and ``||b|| <= ||a||`` gives the Fejér inequality
  ``||x_{j+1} - x*||^2 <= ||x_j - x*||^2 - lam(1-lam) r_j^2``; summed over ``j <= k`` with
  the residual ``r_j = ||x_j - T x_j||`` non-increasing, it bounds
  ``r_k <= D / sqrt(lam (1-lam) (k+1))``.
* Averaged contraction: ``(1-lam) x + lam T x`` is Lipschitz with ``1 - lam + lam q``.
* Linear maps ``T x = M x + c``: KM's iteration matrix has eigenvalues ``1 - lam + lam mu``
  for the eigenvalues ``mu`` of ``M``; for a real spectrum in ``[a, b]`` with ``b < 1`` the
  relaxation minimising the spectral radius equalises both ends:
  ``lam* = 2 / (2 - a - b)``, radius ``(b - a) / (2 - a - b)``.

Quoted (tight, proved by performance estimation; not re-derived here):

* Halpern with ``lam_k = 1/(k+2)``: ``||x_k - T x_k|| <= 2 D / (k + 1)`` (Lieder, Optim.
  Lett. 15:405–418, 2021); it is attained, so no method of this form does better.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp

_k, _q, _mu, _a, _b = sp.symbols("k q mu a b", real=True)
_lam, _D, _E0 = sp.symbols("lam D E0", positive=True)


@functools.cache
def derivations() -> dict[str, sp.Expr]:
    """The symbolic results; each is derived here, not typed in."""
    e = sp.Function("e")
    contraction = sp.rsolve(e(_k + 1) - _q * e(_k), e(_k), {e(0): _E0})

    # Fejér identity for a KM step, checked with the inner products <a,a>, <b,b>, <a,b>
    # as symbols.
    aa, bb, ab = sp.symbols("aa bb ab", real=True)
    step_squared = (1 - _lam) ** 2 * aa + 2 * _lam * (1 - _lam) * ab + _lam**2 * bb
    identity = (1 - _lam) * aa + _lam * bb - _lam * (1 - _lam) * (aa - 2 * ab + bb)
    assert sp.simplify(step_squared - identity) == 0
    # With ||b|| <= ||a|| each step lowers ||x - x*||^2 by at least lam (1-lam) r^2; k+1
    # non-increasing residuals spend at most the budget D^2, which bounds the last one.
    r_squared = sp.Symbol("r_squared", positive=True)
    km_bound = sp.sqrt(
        sp.solve(sp.Eq((_k + 1) * _lam * (1 - _lam) * r_squared, _D**2), r_squared)[0]
    )

    averaged_lipschitz = sp.expand((1 - _lam) + _lam * _q)
    km_eigenvalue = 1 - _lam + _lam * _mu
    # Equalise the moduli at both ends of a real spectrum [a, b].
    lam_opt = sp.solve(sp.Eq(km_eigenvalue.subs(_mu, _b), -km_eigenvalue.subs(_mu, _a)), _lam)[0]
    rate_opt = sp.simplify(km_eigenvalue.subs({_mu: _b, _lam: lam_opt}))
    return {
        "contraction": contraction,
        "km_residual": km_bound,
        "averaged_lipschitz": averaged_lipschitz,
        "km_eigenvalue": km_eigenvalue,
        "optimal_relaxation": lam_opt,
        "optimal_rate": rate_opt,
        "halpern_residual": 2 * _D / (_k + 1),
    }


@functools.cache
def _numeric(name: str, *symbols):
    return sp.lambdify(symbols, derivations()[name], modules="numpy")


def contraction_error_bound(k, lipschitz, initial_error):
    """``q^k e_0``: the error bound of plain iteration on a ``q``-contraction."""
    return _numeric("contraction", _k, _q, _E0)(np.asarray(k), lipschitz, initial_error)


def km_residual_bound(k, relaxation, distance):
    """``D / sqrt(lam (1-lam) (k+1))``: KM's residual bound for nonexpansive maps (a norm)."""
    return _numeric("km_residual", _k, _lam, _D)(np.asarray(k), relaxation, distance)


def halpern_residual_bound(k, distance):
    """``2 D / (k + 1)``: Halpern's tight residual bound for nonexpansive maps (a norm)."""
    return _numeric("halpern_residual", _k, _D)(np.asarray(k), distance)


def averaged_lipschitz(lipschitz, relaxation) -> float:
    """``1 - lam + lam q``: the Lipschitz constant of ``(1 - lam) I + lam T``."""
    return float(_numeric("averaged_lipschitz", _q, _lam)(lipschitz, relaxation))


def linear_rate(eigenvalues, relaxation=1.0) -> float:
    """Asymptotic rate of KM (plain iteration for ``relaxation=1``) on ``x -> M x + c``.

    ``eigenvalues`` are those of ``M`` (real or complex); the rate is the spectral radius
    ``max |1 - lam + lam mu|`` of the iteration matrix.
    """
    values = _numeric("km_eigenvalue", _lam, _mu)(relaxation, np.asarray(eigenvalues))
    return float(np.max(np.abs(values)))


def optimal_relaxation(lowest, highest) -> tuple[float, float]:
    """Best KM relaxation and its rate for a real spectrum in ``[lowest, highest]``."""
    if not lowest <= highest < 1:
        raise ValueError("need lowest <= highest < 1: a real spectrum of a convergent linear map")
    relaxation = float(_numeric("optimal_relaxation", _a, _b)(lowest, highest))
    rate = float(_numeric("optimal_rate", _a, _b)(lowest, highest))
    return relaxation, rate
