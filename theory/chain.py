"""Error bounds of Picard and Jacobi sweeps over a sequential computation, derived with sympy.

Setting: a chain ``x_{t+1} = g_t(x_t)``, ``t = 0..T-1``, ``x_0`` given, solved by sweeps that
update every state at once from an initial guess ``X^0`` with ``X^0[0] = x_0`` (so the first
state is exact from the start). ``e_k(n) = ||X^k[n] - x_n||`` is the error of sweep ``k`` at
position ``n``, and ``Lip`` a Lipschitz constant in the same norm.

* **Picard** (ParaDiGMS): ``X^{k+1}[n] = x_0 + sum_{j<n} (g_j(X^k[j]) - X^k[j])``; for
  ``g_j = id + h phi_j`` this is the explicit left-endpoint sum ``x_0 + h sum_{j<n} phi_j``.
* **Jacobi** (Song et al.): ``X^{k+1}[n+1] = g_n(X^k[n])``.

Each result is derived or verified symbolically once (:func:`derivations`); the public functions
below evaluate them with NumPy (``sympy.lambdify`` where the result is a plain formula, NumPy
and ``scipy.special`` in log space or as products where the formula would overflow or lose
accuracy).

Derived here:

* **Picard error.** Subtracting the sequential sum from the Picard sum gives the recursion
  ``e_{k+1}(n) <= hL sum_{j=1}^{n-1} e_k(j)``, ``e_k(0) = 0``, ``e_0(n) <= E0`` for ``n >= 1``
  (``L`` the Lipschitz constant of ``phi``). Its solution ``E_k(n) = C(n-1, k) (hL)^k E0`` is
  verified twice: by ``sympy.summation`` of ``sum_{j=1}^{n-1} C(j-1, k)`` (the hockey-stick
  identity; sympy returns it up to a term ``k C(0, k)/(k+1)``, shown to vanish for ``k = 0``
  and for every integer ``k >= 1`` separately), and by induction — the recursion is equivalent
  to ``E_{k+1}(n+1) - E_{k+1}(n) = hL E_k(n)`` with ``E_{k+1}(1) = 0``, which is Pascal's rule
  (checked with ``combsimp``) together with ``C(0, k+1) = 0``. The bound vanishes for
  ``n <= k``: ``C(n-1, k) = 0`` for ``0 <= n-1 < k`` (finite termination).
* **Factorial form.** ``C(n-1, k) k! = prod_{i=1}^k (n - i)`` (``combsimp`` of the evaluated
  product); each factor ``(n - i)/n`` lies in ``[0, 1)`` for ``1 <= i <= n`` (sympy's
  assumption system decides both signs), so ``C(n-1, k)(hL)^k <= (L t_n)^k / k!``, ``t_n = nh``.
* **Increment Lipschitz constants.** For an explicit Runge–Kutta tableau ``(a, b)`` the stage
  ``k_i = f(y + h sum_j a_ij k_j)`` has ``Lip(k_i) <= L (1 + h sum_j |a_ij| Lip(k_j))`` and
  ``phi = sum_i b_i k_i`` has ``Lip(phi) <= sum_i |b_i| Lip(k_i)``; composed symbolically this
  gives Euler ``L``, Heun ``L (1 + hL/2)``, RK4 ``L (1 + hL/2 + (hL)^2/6 + (hL)^3/24)``. The
  step map ``g = id + h phi`` then has ``Lip(g) <= 1 + h Lip(phi)``, the Taylor polynomial of
  ``exp(hL)`` of the scheme's order. Replacing ``L`` by ``Lip(phi)`` makes the Picard bound
  apply to Heun and RK4 steps.
* **Jacobi.** ``e_{k+1}(n+1) <= Lip(g_n) e_k(n)`` and ``e_k(0) = 0`` unroll to
  ``e_k(n) <= (prod_{j=n-k}^{n-1} Lip(g_j)) e_0(n-k)`` for ``n > k`` and ``0`` for ``n <= k``
  (checked against the propagated recursion on a generic symbolic chain of length 6). For
  ``g = id + h f`` this is ``(1 + hL)^k max e_0``: no contraction, only finite termination.
* **Linear chain** ``x_{t+1} = A x_t + b_t``: the Jacobi error after ``k`` sweeps is exactly
  ``A^k e_0(n-k)`` (checked by running three symbolic sweeps on a generic 2x2 chain of length 4).
* **Worst case** ``g_t(x) = x + 1`` from ``X^0 = x_0``: ``X^k[n] = x_0 + min(n, k)`` (verified
  by induction on both cases ``n >= k`` and ``n < k``), so the error at position ``T`` is
  exactly ``T - k`` after ``k < T`` sweeps: Jacobi needs all ``T`` sweeps. The per-step bound
  with ``Lip = 1`` and ``e_0(n) = n`` is attained.
* **Newton (DEER)** ``X^{k+1}[t+1] = g_t(X^k[t]) + J_t (X^{k+1}[t] - X^k[t])`` with
  ``J_t = Dg_t(X^k[t])``: on a linear chain ``g_t(x) = A_t x + b_t`` one sweep gives the
  sequential trajectory from any guess (checked symbolically on a 2x2 chain of length 3);
  near the solution of a smooth chain the convergence is Newton's, quadratic.
* **Tolerance-accepted trajectories** (discrete Gronwall). A trajectory ``y`` with ``y_0 = x_0``
  and per-step defects ``d_j = ||y_{j+1} - g_j(y_j)||`` obeys
  ``e(j+1) <= d_j + Lip(g_j) e(j)`` (triangle inequality), whose solution
  ``e(n) <= sum_{j<n} (prod_{i=j+1}^{n-1} Lip(g_i)) d_j`` is checked on a generic symbolic chain
  of length 6; with constant ``Lip = q`` and ``d``, ``rsolve`` gives ``d (q^n - 1)/(q - 1)``.
* **Finite termination.** If ``X^k[t] = x_t`` for ``t <= k`` then
  ``X^{k+1}[k+1] = g_k(x_k) = x_{k+1}``: every method of the family is exact after ``T``
  sweeps, ``T + K`` with ``K`` predictor sweeps first; a sliding window that advances at least
  one step per sweep keeps the bound.

Quoted (not re-derived): the continuous analogue ``||y^k - y|| <= (LT)^k/k! ||y^0 - y||`` of
Picard iteration for ODEs (a classical result; our factorial form is its discrete version).

Examples
--------
>>> from itersolve.theory import chain
>>> float(chain.picard_error_bound(2, 5, 0.125, 1.0, 1.0))  # C(4, 2) / 8^2
0.09375
>>> float(chain.picard_error_bound(5, 5, 0.1, 1.0, 1.0))  # exact after k >= n sweeps
0.0
>>> float(chain.increment_lipschitz("heun", 0.1, 2.0))  # 2 (1 + 0.1)
2.2
>>> chain.jacobi_error_bound(2, [1, 2, 3, 4], 0.5, 1.0).tolist()
[0.0, 0.0, 0.25, 0.25]
>>> chain.perturbed_chain_error_bound([1.0, 1.0, 1.0], 2.0).tolist()
[0.0, 1.0, 3.0, 7.0]
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp
from scipy.special import factorial, gammaln, xlogy

__all__ = [
    "SCHEMES",
    "derivations",
    "increment_lipschitz",
    "jacobi_error_bound",
    "perturbed_chain_error_bound",
    "picard_error_bound",
    "sweeps_bound",
]

#: Explicit Runge–Kutta tableaux ``(a, b)`` whose increments :func:`increment_lipschitz` bounds.
SCHEMES = {
    "euler": ([[0]], [1]),
    "heun": ([[0, 0], [1, 0]], [sp.Rational(1, 2), sp.Rational(1, 2)]),
    "rk4": (
        [[0, 0, 0, 0], [sp.Rational(1, 2), 0, 0, 0], [0, sp.Rational(1, 2), 0, 0], [0, 0, 1, 0]],
        [sp.Rational(1, 6), sp.Rational(1, 3), sp.Rational(1, 3), sp.Rational(1, 6)],
    ),
}

_k = sp.Symbol("k", integer=True, nonnegative=True)
_n = sp.Symbol("n", integer=True, positive=True)
_T = sp.Symbol("T", integer=True, positive=True)
_K = sp.Symbol("K", integer=True, nonnegative=True)
_h, _L, _E0 = sp.symbols("h L E0", positive=True)
_q, _d = sp.symbols("q d", positive=True)


def _picard() -> dict[str, sp.Expr]:
    """The Picard bound ``C(n-1, k) (hL)^k E0``, its verification and its factorial form."""
    bound = sp.binomial(_n - 1, _k) * (_h * _L) ** _k * _E0
    # (i) The recursion's sum in closed form: sum_{j=1}^{n-1} C(j-1, k) = C(n-1, k+1).
    j = sp.Symbol("j", integer=True, positive=True)
    k_pos = sp.Symbol("k_pos", integer=True, positive=True)
    hockey = sp.summation(sp.binomial(j - 1, _k), (j, 1, _n - 1))
    residual = hockey - sp.binomial(_n - 1, _k + 1)
    # sympy leaves a term k C(0, k)/(k + 1): zero at k = 0 by the factor k, for k >= 1 by C(0, k).
    assert sp.simplify(residual.subs(_k, 0)) == 0
    assert sp.simplify(residual.subs(_k, k_pos)) == 0
    step = _h * _L * hockey * (_h * _L) ** _k * _E0
    assert sp.simplify((step - bound.subs(_k, _k + 1)).subs(_k, 0)) == 0
    assert sp.simplify((step - bound.subs(_k, _k + 1)).subs(_k, k_pos)) == 0
    # (ii) Induction: the recursion <=> E_{k+1}(n+1) - E_{k+1}(n) = hL E_k(n), E_{k+1}(1) = 0.
    difference = bound.subs(_k, _k + 1).subs(_n, _n + 1) - bound.subs(_k, _k + 1)
    assert sp.combsimp(difference - _h * _L * bound) == 0  # Pascal's rule
    assert bound.subs({_k: _k + 1, _n: 1}) == 0
    # (iii) The factorial form: C(n-1, k) k! = prod_{i=1}^k (n - i), each (n - i)/n in [0, 1).
    i = sp.Symbol("i", integer=True, positive=True)
    gap = sp.Symbol("gap", integer=True, nonnegative=True)  # n = i + gap >= i
    falling = sp.Product(_n - i, (i, 1, _k)).doit()
    assert sp.combsimp(falling / (sp.binomial(_n - 1, _k) * sp.factorial(_k))) == 1
    assert sp.simplify(1 - (_n - i) / _n).is_positive
    assert sp.simplify(((i + gap) - i) / (i + gap)).is_nonnegative
    factorial_bound = (_L * _n * _h) ** _k / sp.factorial(_k) * _E0
    ratio = sp.combsimp(bound / factorial_bound)
    return {
        "picard_bound": bound,
        "picard_recursion_sum": hockey,
        "picard_factorial_bound": factorial_bound,
        "picard_factorial_ratio": ratio,
        "continuous_picard_bound": (_L * _T) ** _k / sp.factorial(_k) * _E0,
    }


def _increment_lipschitz(a, b) -> sp.Expr:
    """Compose stage Lipschitz bounds of an explicit tableau: ``Lip(phi)`` in ``h`` and ``L``."""
    stages: list[sp.Expr] = []
    for row in a:
        stages.append(_L * (1 + _h * sum(abs(c) * s for c, s in zip(row, stages))))
    return sp.expand(sum(abs(w) * s for w, s in zip(b, stages)))


def _jacobi() -> dict[str, sp.Expr]:
    """Jacobi's per-step bound, the linear-chain identity and the translation worst case."""
    # (b) e_k(n) <= prod_{j=n-k}^{n-1} L_j e_0(n-k), checked on a generic chain of length 6.
    lip = sp.IndexedBase("Lip")
    e0 = sp.Function("e0")
    j = sp.Symbol("j", integer=True)
    closed = sp.Product(lip[j], (j, _n - _k, _n - 1)) * e0(_n - _k)
    length = 6
    propagated = {(0, m): (e0(m) if m else sp.Integer(0)) for m in range(length + 1)}
    for kk in range(length):
        propagated[kk + 1, 0] = sp.Integer(0)
        for m in range(length):
            propagated[kk + 1, m + 1] = lip[m] * propagated[kk, m]
    for (kk, m), value in propagated.items():
        expected = closed.subs({_k: kk, _n: m}).doit() if m > kk else 0
        assert sp.expand(value - expected) == 0
    # (c) Linear chain: Jacobi's error is exactly A^k e_0(n - k), 3 symbolic sweeps, 2x2, T = 4.
    A = sp.Matrix(2, 2, sp.symbols("a0:4"))
    b = [sp.Matrix(sp.symbols(f"b{t}_0:2")) for t in range(4)]
    guess = [sp.Matrix(sp.symbols(f"x{t}_0:2")) for t in range(5)]
    exact = [guess[0]]
    for t in range(4):
        exact.append(A * exact[t] + b[t])
    initial = [guess[t] - exact[t] for t in range(5)]
    iterate = guess
    for kk in range(1, 4):
        iterate = [guess[0]] + [A * iterate[t] + b[t] for t in range(4)]
        for m in range(5):
            expected = A**kk * initial[m - kk] if m > kk else sp.zeros(2, 1)
            assert (iterate[m] - exact[m] - expected).expand() == sp.zeros(2, 1)
    # (d) Translation g(x) = x + 1 from X^0 = x_0: X^k[n] = x_0 + min(n, k), by induction.
    x0 = sp.Symbol("x0", real=True)
    gap = sp.Symbol("gap", integer=True, nonnegative=True)
    m = sp.Symbol("m", integer=True, nonnegative=True)
    iterate_k = x0 + sp.Min(m, _k)
    assert iterate_k.subs(_k, 0) == x0  # the initial guess X^0 = x_0
    assert iterate_k.subs(m, 0) == x0  # X^k[0] = x_0
    for case in ({m: _k + gap}, {_k: m + gap + 1}):  # n >= k and n < k
        after = (iterate_k + 1).subs(case)  # g(X^k[m]), the new X^{k+1}[m+1]
        claim = iterate_k.subs({m: m + 1, _k: _k + 1}, simultaneous=True).subs(case)
        assert sp.simplify(after - claim) == 0
    # Sequential x_T = x_0 + T; with k < T write T = k + gap + 1.
    translation_error = (x0 + _T) - iterate_k.subs(m, _T)  # T - min(T, k)
    assert sp.simplify(translation_error.subs(_T, _k + gap + 1) - (gap + 1)) == 0  # T - k
    assert sp.simplify(translation_error.subs(_k, _T + gap)) == 0  # exact once k >= T
    return {
        "jacobi_bound": closed,
        "jacobi_ode_bound": (1 + _h * _L) ** _k * _E0,
        "jacobi_linear_error": sp.MatrixSymbol("A", 2, 2) ** _k
        * sp.MatrixSymbol("e0", 2, 1),  # shifted by k positions
        "jacobi_translation_iterate": iterate_k,
        "jacobi_translation_error": translation_error,
    }


def _newton() -> dict[str, sp.Expr]:
    """DEER on a linear chain: exact after one sweep from any guess (2x2, T = 3, symbolic)."""
    A = [sp.Matrix(2, 2, sp.symbols(f"a{t}_0:4")) for t in range(3)]
    b = [sp.Matrix(sp.symbols(f"b{t}_0:2")) for t in range(3)]
    guess = [sp.Matrix(sp.symbols(f"x{t}_0:2")) for t in range(4)]
    exact, swept = [guess[0]], [guess[0]]
    for t in range(3):
        exact.append(A[t] * exact[t] + b[t])
        # X^1[t+1] = g_t(X^0[t]) + J_t (X^1[t] - X^0[t]) with J_t = A_t
        swept.append(A[t] * guess[t] + b[t] + A[t] * (swept[t] - guess[t]))
    for t in range(4):
        assert (swept[t] - exact[t]).expand() == sp.zeros(2, 1)
    # quasi-Newton with an exact diagonal is Newton: J_t diagonal, same identity entrywise
    return {"newton_linear_sweeps": sp.Integer(1)}


def _perturbed() -> dict[str, sp.Expr]:
    """Discrete Gronwall for a trajectory with per-step defects ``d_j``."""
    lip, d = sp.IndexedBase("Lip"), sp.IndexedBase("d")
    i, j = sp.symbols("i j", integer=True)
    closed = sp.Sum(sp.Product(lip[i], (i, j + 1, _n - 1)) * d[j], (j, 0, _n - 1))
    running = sp.Integer(0)  # e(0) = 0, then e(m + 1) = Lip_m e(m) + d_m
    for m in range(7):
        assert sp.expand(closed.subs(_n, m).doit() - running) == 0
        running = lip[m] * running + d[m]
    E = sp.Function("E")
    constant = sp.rsolve(E(_n + 1) - _q * E(_n) - _d, E(_n), {E(0): 0})
    return {"perturbed_bound": closed, "perturbed_constant": sp.factor(constant)}


@functools.cache
def derivations() -> dict[str, sp.Expr]:
    """The symbolic results; each is derived or verified here (see the module docstring)."""
    results = _picard()
    for name, (a, b) in SCHEMES.items():
        increment = _increment_lipschitz(a, b)
        results[f"increment_lipschitz_{name}"] = increment
        results[f"step_lipschitz_{name}"] = sp.expand(1 + _h * increment)
    results.update(_jacobi())
    results.update(_newton())
    results.update(_perturbed())
    results["sweeps"] = _T + _K
    return results


@functools.cache
def _numeric(name: str, *symbols):
    return sp.lambdify(symbols, derivations()[name], modules="numpy")


_EXACT_BINOMIALS = 128  # C(N, k) for N below this come from a table of exact integers


@functools.cache
def _binomial_table() -> np.ndarray:
    table = np.zeros((_EXACT_BINOMIALS, _EXACT_BINOMIALS))
    for row in range(_EXACT_BINOMIALS):
        table[row, : row + 1] = [float(math.comb(row, col)) for col in range(row + 1)]
    return table


def _stirling_remainder(x: np.ndarray) -> np.ndarray:
    """``log Γ(x + 1) - (x log x - x + log(2 π x) / 2)`` for ``x >= 1``, without cancellation."""
    small = x < 30  # exact difference: both terms are below ~75 here
    xs, xl = np.where(small, x, 1.0), np.where(small, 30.0, x)
    exact = gammaln(xs + 1) - (xs * np.log(xs) - xs + 0.5 * np.log(2 * np.pi * xs))
    inverse = 1 / xl  # Stirling series; the first omitted term is below 1/(1188 · 30^9)
    square = inverse * inverse
    series = inverse * (1 / 12 - square * (1 / 360 - square * (1 / 1260 - square / 1680)))
    return np.where(small, exact, series)


def _log_binomial(N: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``log C(N, k)`` for integers ``0 <= k <= N``, accurate to a few ulps of the result.

    With ``r = min(k, N - k)``, ``M = N - r`` and Stirling's formula for ``N``, ``M`` and ``r``
    the large terms cancel analytically:
    ``log C = -(M + 1/2) log1p(-r/N) + r log(N/r) - log(2 π r)/2 + δ(N) - δ(M) - δ(r)``, where
    ``gammaln(N + 1) - gammaln(k + 1) - gammaln(N - k + 1)`` would lose ``eps · N log N``.
    """
    r = np.minimum(k, N - k)
    live = r > 0
    N, M, r = (np.where(live, v, w) for v, w in ((N, 2.0), (N - r, 1.0), (r, 1.0)))
    value = (
        -(M + 0.5) * np.log1p(-r / N)
        + r * np.log(N / r)
        - 0.5 * np.log(2 * np.pi * r)
        + _stirling_remainder(N)
        - _stirling_remainder(M)
        - _stirling_remainder(r)
    )
    return np.where(live, value, 0.0)


def _nonnegative(name: str, value, *, integer: bool = False) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if np.any(~np.isfinite(array)) or np.any(array < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    if integer and np.any(array != np.floor(array)):
        raise ValueError(f"{name} must be integer-valued")
    return array


def picard_error_bound(k, n, h, lipschitz, initial_error, *, form="binomial"):
    """Error bound of Picard sweep ``k`` at position ``n`` of an explicit one-step scheme.

    For ``g_j = id + h phi_j`` with ``phi_j`` ``L``-Lipschitz and ``X^0[0] = x_0``,
    ``||X^k[n] - x_n|| <= C(n-1, k) (hL)^k max_j ||X^0[j] - x_j||``, which is 0 for
    ``n <= k`` and at most ``(L t_n)^k / k! max_j e_0(j)`` with ``t_n = n h``.

    Parameters
    ----------
    k : int or array_like
        Number of sweeps (``>= 0``).
    n : int or array_like
        Position in the chain, ``0..T`` (``X[0] = x_0``).
    h : float or array_like
        Step size.
    lipschitz : float or array_like
        Lipschitz constant of the increment ``phi`` (of ``f`` for Euler; use
        :func:`increment_lipschitz` for Heun and RK4).
    initial_error : float or array_like
        ``max_j ||X^0[j] - x_j||``, the initial guess's largest error.
    form : {"binomial", "factorial"}
        ``"binomial"``: the sharp ``C(n-1, k) (hL)^k``; ``"factorial"``: the continuous-looking
        ``(L t_n)^k / k!``. Both are 0 for ``n <= k`` (finite termination).

    Returns
    -------
    numpy.ndarray or numpy.float64
        The bound, broadcast over the inputs. It is evaluated directly where the binomial (or
        ``k!``) and the power are normal floats, and in log space elsewhere (a cancellation-free
        Stirling form of ``log C(n-1, k)``, ``gammaln`` for ``k!``), so large ``n`` and ``k``
        neither overflow nor lose the result: it is ``inf`` or ``0`` only where the bound itself
        leaves the float range, and accurate to a few ulps of ``log C(n-1, k)``.

    Examples
    --------
    >>> float(picard_error_bound(3, 64, 1 / 64, 2.0, 1.0, form="factorial"))  # 2^3/3!
    1.3333333333333333
    >>> f"{float(picard_error_bound(500, 10**6, 1e-4, 1.0, 1.0)):.4e}"  # C(n-1, k) overflows
    '7.2308e-135'
    """
    if form not in ("binomial", "factorial"):
        raise ValueError(f"form must be 'binomial' or 'factorial', not {form!r}")
    k = _nonnegative("k", k, integer=True)
    n = _nonnegative("n", n, integer=True)
    h = _nonnegative("h", h)
    lipschitz = _nonnegative("lipschitz", lipschitz)
    initial_error = _nonnegative("initial_error", initial_error)
    k, n, h, lipschitz, initial_error = np.broadcast_arrays(k, n, h, lipschitz, initial_error)
    live = n > k  # n <= k: exact (finite termination), including n = 0
    n_live = np.where(live, n, k + 1)  # a valid binomial C(k, k) where masked
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        if form == "binomial":
            base = h * lipschitz
            log_coefficient = _log_binomial(n_live - 1, k)
            exact = n_live - 1 < _EXACT_BINOMIALS  # correctly rounded, from integers
            rows, cols = (np.where(exact, v, 0).astype(int) for v in (n_live - 1, k))
            coefficient = np.where(exact, _binomial_table()[rows, cols], np.exp(log_coefficient))
        else:
            base, coefficient = lipschitz * n_live * h, 1 / factorial(k)
            log_coefficient = -gammaln(k + 1)
        power = np.power(base, k)
        direct = coefficient * power
        tiny = np.finfo(float).tiny  # below it (or above the float range) use log space
        normal = (power >= tiny) & (direct >= tiny) & np.isfinite(direct)
        in_range = (coefficient < np.inf) & (normal | (base == 0))
        factor = np.where(in_range, direct, np.exp(log_coefficient + xlogy(k, base)))
        bound = np.where(live & (initial_error > 0), factor * initial_error, 0.0)
    return bound[()]


def increment_lipschitz(scheme, h, lipschitz):
    """Lipschitz constant of an explicit scheme's increment ``phi`` (``g = id + h phi``).

    Composed from the stages' bounds (see :func:`derivations`): Euler ``L``, Heun (explicit
    trapezoid) ``L (1 + hL/2)``, classical RK4 ``L (1 + hL/2 + (hL)^2/6 + (hL)^3/24)``.

    Parameters
    ----------
    scheme : {"euler", "heun", "rk4"}
        The explicit Runge–Kutta scheme.
    h : float or array_like
        Step size.
    lipschitz : float or array_like
        Lipschitz constant ``L`` of ``f(t, y)`` in ``y``, uniform in ``t``.

    Returns
    -------
    numpy.ndarray or numpy.float64
        ``Lip(phi)``; the step map has ``Lip(g) <= 1 + h Lip(phi)``, and
        :func:`picard_error_bound` with ``lipschitz=Lip(phi)`` bounds Picard on the scheme.

    Examples
    --------
    >>> round(float(increment_lipschitz("rk4", 1.0, 1.0)), 12)  # 1 + 1/2 + 1/6 + 1/24
    1.708333333333
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {sorted(SCHEMES)}, not {scheme!r}")
    h = _nonnegative("h", h)
    lipschitz = _nonnegative("lipschitz", lipschitz)
    h, lipschitz = np.broadcast_arrays(h, lipschitz)
    value = _numeric(f"increment_lipschitz_{scheme}", _h, _L)(h, lipschitz)
    return np.asarray(value, dtype=float)[()]


def jacobi_error_bound(k, n, lipschitz, initial_error):
    """Error bound of Jacobi sweep ``k`` at position ``n``: ``(prod Lip(g_j)) e_0(n - k)``.

    ``||X^k[n] - x_n|| <= (prod_{j=n-k}^{n-1} L_j) ||X^0[n-k] - x_{n-k}||`` for ``n > k`` and
    ``0`` for ``n <= k`` (Jacobi is exact, bitwise, on the first ``k + 1`` states). For
    ``g = id + h f`` pass ``L_j = 1 + hL`` (``1 + h Lip(phi)`` for other explicit schemes, see
    :func:`increment_lipschitz`); the bound then grows like ``(1 + hL)^k``.

    Parameters
    ----------
    k : int or array_like
        Number of sweeps (``>= 0``).
    n : int or array_like
        Position ``0..T``.
    lipschitz : float or array_like
        A scalar (the same constant for every step) or a length-``T`` array of per-step
        constants ``L_j = Lip(g_j)``, ``j = 0..T-1``.
    initial_error : float or array_like
        A scalar (``max_j e_0(j)``) or a length-``T + 1`` array ``e_0(0..T)`` of the initial
        guess's per-position errors (``e_0(0)`` is not used).

    Returns
    -------
    numpy.ndarray or numpy.float64
        The bound, broadcast over ``k`` and ``n``.

    Examples
    --------
    >>> jacobi_error_bound(1, [1, 2, 3], [0.5, 0.25, 2.0], [0.0, 1.0, 2.0, 4.0]).tolist()
    [0.0, 0.25, 4.0]
    """
    k = _nonnegative("k", k, integer=True).astype(np.int64)
    n = _nonnegative("n", n, integer=True).astype(np.int64)
    lipschitz = _nonnegative("lipschitz", lipschitz)
    initial_error = _nonnegative("initial_error", initial_error)
    if lipschitz.ndim > 1 or initial_error.ndim > 1:
        raise ValueError("lipschitz and initial_error must be scalars or 1-D arrays")
    k, n = np.broadcast_arrays(k, n)
    lengths = {a.size - offset for a, offset in ((lipschitz, 0), (initial_error, 1)) if a.ndim}
    if len(lengths) > 1:
        raise ValueError("initial_error must have one entry more than lipschitz (positions 0..T)")
    if lengths and np.any(n > lengths.pop()):
        raise ValueError("n exceeds the chain length T given by lipschitz or initial_error")
    live = n > k
    start = np.where(live, n - k, 0)  # first step index of the product (clipped where masked)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        if lipschitz.ndim == 0:
            factor = np.power(lipschitz, k.astype(float))
        else:
            # Left-to-right products over [start, n) via reduceat on interleaved (start, n);
            # reduceat returns the single element for an empty range, so k = 0 is set to 1.
            padded = np.append(lipschitz, 1.0)
            if k.size:
                pairs = np.stack([start.ravel(), np.where(live, n, 0).ravel()], axis=-1)
                factor = np.multiply.reduceat(padded, pairs.ravel())[::2].reshape(k.shape)
            else:
                factor = np.zeros(k.shape)
            factor = np.where(k == 0, 1.0, factor)
        error = initial_error if initial_error.ndim == 0 else initial_error[start]
        bound = np.where(live & (error > 0), factor * error, 0.0)  # inf * 0 is 0 here
    return bound[()]


def perturbed_chain_error_bound(defects, lipschitz):
    """Distance of a tolerance-accepted trajectory from the sequential one (discrete Gronwall).

    If ``y_0 = x_0`` and ``d_j = ||y_{j+1} - g_j(y_j)||``, then
    ``||y_n - x_n|| <= sum_{j<n} (prod_{i=j+1}^{n-1} Lip(g_i)) d_j``, evaluated by the
    recursion ``e(0) = 0``, ``e(j+1) = Lip(g_j) e(j) + d_j``.

    Parameters
    ----------
    defects : array_like, shape (..., T)
        Per-step defects ``d_j >= 0``; leading axes are independent chains.
    lipschitz : float or array_like
        ``Lip(g_j)``, broadcastable to ``defects`` (a scalar, or per step along the last axis).

    Returns
    -------
    numpy.ndarray, shape (..., T + 1)
        The bound at every position ``n = 0..T``; ``e(0) = 0``.

    Examples
    --------
    >>> perturbed_chain_error_bound([[1.0, 1.0, 1.0]], [0.5, 0.5, 0.5]).tolist()
    [[0.0, 1.0, 1.5, 1.75]]
    """
    defects = _nonnegative("defects", defects)
    if defects.ndim == 0:
        raise ValueError("defects must have a step axis (shape (..., T))")
    lipschitz = np.broadcast_to(_nonnegative("lipschitz", lipschitz), defects.shape)
    bound = np.zeros(defects.shape[:-1] + (defects.shape[-1] + 1,))
    with np.errstate(over="ignore", invalid="ignore"):
        for j in range(defects.shape[-1]):
            carried = np.where(lipschitz[..., j] > 0, lipschitz[..., j] * bound[..., j], 0.0)
            bound[..., j + 1] = carried + defects[..., j]
    return bound


def sweeps_bound(n_steps, predictor_sweeps=0):
    """``T + K``: the most sweeps any method of the family needs to be exact.

    After ``k`` exact-map sweeps the first ``k + 1`` states are exact, so ``T`` sweeps finish a
    ``T``-step chain; ``K`` sweeps of a learned predictor come first and guarantee nothing. A
    ParaDiGMS window advances at least one step per sweep, so the bound holds with a window.

    Parameters
    ----------
    n_steps : int or array_like
        ``T``, the number of steps.
    predictor_sweeps : int or array_like
        ``K``, sweeps spent on a predictor before the exact map.

    Returns
    -------
    numpy.ndarray or numpy.int64
        ``T + K``.

    Examples
    --------
    >>> int(sweeps_bound(64, predictor_sweeps=3))
    67
    """
    n_steps = _nonnegative("n_steps", n_steps, integer=True)
    predictor_sweeps = _nonnegative("predictor_sweeps", predictor_sweeps, integer=True)
    return (n_steps + predictor_sweeps).astype(np.int64)[()]
