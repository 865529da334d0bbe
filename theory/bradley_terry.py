"""Linearised convergence rates of the Bradley–Terry iterations, derived with sympy.

Zermelo's (Hunter's MM) and Newman's iterations (bradley_terry.md §3–4) are fixed-point maps
``s -> F(s)`` on the scores ``s = ln pi``. Near the fixed point ``s*`` the error obeys
``e_{k+1} ~ M e_k``; the asymptotic rate per sweep is the spectral radius of ``M``. This
module derives the entries of the Jacobian of each sync map with sympy (:func:`derivations`),
lambdifies them, and assembles ``M`` from the data.

Notation: ``w[i, j]`` wins of ``i`` over ``j``, ``n_ij = w_ij + w_ji``, ``W_i = sum_j w_ij``,
prior strength ``A`` (``A = 0`` for ML; ``A = 1`` is Newman's one won and one lost game
against a dummy player of strength 1), ``p_ij = pi_i / (pi_i + pi_j)``.

* Zermelo: ``F_i = ln(W_i + A) - ln D_i``, ``D_i = sum_j n_ij/(pi_i+pi_j) + 2A/(pi_i+1)``.
* Newman: ``F_i = ln N_i - ln M_i``, ``N_i = sum_j w_ij pi_j/(pi_i+pi_j) + A/(pi_i+1)``,
  ``M_i = sum_j w_ji/(pi_i+pi_j) + A/(pi_i+1)``.

Derived and asserted here:

* **Same fixed points.** Term by term, ``(W_i + A) - pi_i D_i = N_i - pi_i M_i =
  d(log posterior)/ds_i``: both maps are stationary exactly where the gradient vanishes,
  i.e. where ``sum_j w_ij pi_j/(pi_i+pi_j) = pi_i sum_j w_ji/(pi_i+pi_j)`` (ML).
* **Jacobian entries** (``i != j``, anywhere):
  Zermelo ``n_ij pi_j / ((pi_i+pi_j)^2 D_i)``;
  Newman ``w_ij pi_i pi_j / ((pi_i+pi_j)^2 N_i) + w_ji pi_j / ((pi_i+pi_j)^2 M_i)``,
  and the diagonal as a sum of pair and prior terms (``_diag_pair``, ``_diag_prior``).
  An explicit three-player system checks that this assembly is the exact derivative.
* **Newman's diagonal at a fixed point** (``N_i = pi_i M_i``):
  ``dF_i/ds_i = [sum_j (w_ji pi_i - w_ij pi_j)/(pi_i+pi_j)^2 + A (pi_i-1)/(pi_i+1)^2] / M_i``;
  off the diagonal ``n_ij pi_j / ((pi_i+pi_j)^2 M_i)``. It is not zero in general.
* **Scale mode.** Each pair term of ``N`` is invariant under ``s -> s + c``, each of ``M`` and
  ``D`` scales by ``e^{-c}``, so with ``A = 0`` every row of ``J`` sums to 1: ``J 1 = 1``
  (``F(s + c 1) = F(s) + c 1``). The same holds for the Gauss–Seidel sweep. Hence in the basis
  ``(1, centred vectors)`` ``J`` is block triangular, ``spec(J) = {1} ∪ spec(P J P)`` with
  ``P = I - 1 1^T / n``, and since ``J 1 = 1``, ``P J P = P J``: centring after each sweep
  removes exactly the eigenvalue 1 of the scale mode.
* **Preconditioned-gradient form.** With ``H = -∇²(log posterior)`` in ``s`` (a weighted
  Laplacian with edge weights ``n_ij p_ij p_ji``, plus ``2A q_i (1 - q_i)``,
  ``q_i = pi_i/(1 + pi_i)``, on the diagonal for MAP), at a fixed point

      J = I - G^{-1} H,   G_Zermelo = diag(W_i + A),   G_Newman = diag(N_i) = diag(pi_i M_i).

  For Zermelo this holds everywhere with ``G = diag(pi_i D_i)``, and ``G - H`` is a sum of
  rank-one blocks ``n_ij/(pi_i+pi_j)^2 [pi_i, pi_j]^T [pi_i, pi_j]``, so ``0 ⪯ H ⪯ G`` and
  the sync Zermelo spectrum lies in ``[0, 1]`` (asserted). ``G_Newman <= G_Zermelo``
  elementwise (``M_i <= D_i``), so by Courant–Fischer every eigenvalue of ``G^{-1} H`` is at
  least as large for Newman: Newman's slowest mode ``1 - lambda_2`` is never slower than
  Zermelo's. But the sync sweep converges locally iff ``2G - H ≻ 0`` (eigenvalues of
  ``G^{-1} H`` below 2), and Newman's ``G`` can be smaller than ``diag(H)``: its sync
  spectrum can reach ``-1`` or beyond. For two players it is exactly ``{1, -1}`` and ML sync
  Newman never converges (period 2; :func:`derivations`' ``two_player_*`` entries); on
  sparse or very heterogeneous data ML sync Newman can be locally unstable (rate > 1).
* **Gauss–Seidel sweep** (players in index order, newest values): player ``i`` uses new
  ``s_j`` for ``j < i`` and old ``s_j`` for ``j >= i``, so at the fixed point
  ``e_new = J_L e_new + (J_D + J_U) e_old``, i.e. ``M = (I - J_L)^{-1} (J_D + J_U)``.
  With ``J = I - G^{-1} H`` this is ``I - (G + H_L)^{-1} H``: Gauss–Seidel on ``H`` with
  the diagonal replaced by ``G``. By Ostrowski–Reich (for semidefinite ``H``, Keller's
  semiconvergence version) it converges when ``2G - diag(H) ≻ 0``,
  which holds for both methods: Zermelo since ``G ⪰ H``; Newman since, writing one ``G_i``
  as ``N_i`` and the other as ``pi_i M_i``, ``2 G_i - H_ii = sum_j (w_ij pi_j^2 +
  w_ji pi_i^2)/(pi_i+pi_j)^2 + A (1 + pi_i^2)/(1 + pi_i)^2 > 0`` (asserted). So async
  sweeps of either method always converge locally (on the centred subspace for ML).
* **MAP scale correction.** After each MAP sweep the project adds ``u(s) 1``, with ``u``
  solving ``sum_i sigma(s_i + u) = n/2`` (bradley_terry.md §4). At a MAP fixed point
  ``u = 0`` and, by implicit differentiation, ``du/ds_j = -q_j(1-q_j) / sum_k q_k(1-q_k)``
  with ``q = sigma(s)``: the correction linearises to the oblique projection
  ``P_w = I - 1 w^T``, ``w_j ∝ q_j (1 - q_j)``, and the rate is ``rho(P_w M)``.

The rate is for the iteration in exact arithmetic near ``s*``; the data enter only through
``w`` and ``s*``. Dense linear algebra: fine for ``n`` up to a few thousand.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph
import sympy as sp

_pi, _pj = sp.symbols("pi_i pi_j", positive=True)  # pi = e^s; d/ds = pi d/dpi
_wij, _wji, _A = sp.symbols("w_ij w_ji A", nonnegative=True)
_D, _N, _M = sp.symbols("D N M", positive=True)  # the row totals D_i, N_i, M_i
_a, _b = sp.symbols("a b", positive=True)  # two-player win counts

_METHODS = ("zermelo", "newman")

# The damping margin ``m`` of sync Newman (the fitter scales player i's log-step by
# ``beta_i = min(1, N_i / ((1 + m) H_ii))``). Not from Newman's paper, which does not damp:
# it is the project's design value, stated here on its own so that a change in the
# kernel's constant shows up as a disagreement with this theory instead of moving it.
# Why 1/4: on the two-player (bipartite) mode, where undamped sync Newman has eigenvalue
# -1 and never converges, the damped sweep contracts by (m - 1)/(m + 1) (derived in
# :func:`derivations`, ``two_player_eigenvalue_newman_sync_damped``), i.e. -3/5 per sweep
# at m = 1/4; a larger m slows every damped player's step by 1/(1 + m).
SYNC_NEWMAN_DAMPING_MARGIN = 0.25
_m = sp.symbols("m", positive=True)
_UPDATES = ("sync", "async")


def _ds(expr, p):
    """``d expr / ds`` for ``s = ln p``."""
    return p * sp.diff(expr, p)


def _pair_terms(pi, pj, wij, wji, A):
    """The pair and prior terms of both maps and of the log posterior."""
    return {
        "log_likelihood_pair": wij * (sp.log(pi) - sp.log(pi + pj))
        + wji * (sp.log(pj) - sp.log(pi + pj)),
        "log_prior": A * (sp.log(pi) - 2 * sp.log(1 + pi)),
        "zermelo_pair": (wij + wji) / (pi + pj),
        "zermelo_prior": 2 * A / (pi + 1),
        "newman_num_pair": wij * pj / (pi + pj),
        "newman_den_pair": wji / (pi + pj),
        "newman_prior": A / (pi + 1),
    }


def _zero(expr) -> bool:
    """Exact test for rational functions (everything here is one, in pi)."""
    return sp.cancel(sp.together(sp.expand_log(expr, force=True))) == 0


def _check_three_players(entries):
    """The pair/prior assembly of ``J`` is the exact derivative of the full three-player maps."""
    p = sp.symbols("p0:3", positive=True)
    w = {(i, j): sp.Symbol(f"w{i}{j}", nonnegative=True) for i in range(3) for j in range(3)}
    i, others = 0, (1, 2)
    terms = {j: _pair_terms(p[i], p[j], w[i, j], w[j, i], _A) for j in others}
    prior = _pair_terms(p[i], p[1], 0, 0, _A)
    wins = sum(w[i, j] for j in others)
    D = sum(terms[j]["zermelo_pair"] for j in others) + prior["zermelo_prior"]
    N = sum(terms[j]["newman_num_pair"] for j in others) + prior["newman_prior"]
    M = sum(terms[j]["newman_den_pair"] for j in others) + prior["newman_prior"]
    maps = {
        "zermelo": (sp.log(wins + _A) - sp.log(D), {_D: D}),
        "newman": (sp.log(N) - sp.log(M), {_N: N, _M: M}),
    }
    for method, (F, totals) in maps.items():

        def at(name, j, totals=totals):
            pair = {_pi: p[i], _pj: p[j], _wij: w[i, j], _wji: w[j, i]}
            return entries[name].subs(pair).subs(totals)

        for j in others:
            assert _zero(_ds(F, p[j]) - at(f"{method}_offdiag", j))
        diagonal = sum(at(f"{method}_diag_pair", j) for j in others)
        diagonal += entries[f"{method}_diag_prior"].subs(_pi, p[i]).subs(totals)
        assert _zero(_ds(F, p[i]) - diagonal)


def _two_player_rates(entries):
    """Non-scale eigenvalue of the ML maps for two players with ``a`` and ``b`` wins.

    The fixed point is ``pi ∝ (a, b)``; with one eigenvalue 1 (the scale mode) the other
    is ``trace - 1``.
    """
    pair0 = {_pi: _a, _pj: _b, _wij: _a, _wji: _b, _A: 0}
    pair1 = {_pi: _b, _pj: _a, _wij: _b, _wji: _a, _A: 0}
    terms = _pair_terms(_pi, _pj, _wij, _wji, _A)
    terms0 = {k: v.subs(pair0) for k, v in terms.items()}
    terms1 = {k: v.subs(pair1) for k, v in terms.items()}
    assert _zero(_ds(terms["log_likelihood_pair"], _pi).subs(pair0))  # a stationary point
    out = {}
    for method in _METHODS:
        if method == "zermelo":
            tot0, tot1 = {_D: terms0["zermelo_pair"]}, {_D: terms1["zermelo_pair"]}
        else:
            tot0 = {_N: terms0["newman_num_pair"], _M: terms0["newman_den_pair"]}
            tot1 = {_N: terms1["newman_num_pair"], _M: terms1["newman_den_pair"]}

        def entry(name, sub, tot, method=method):
            return sp.cancel(entries[f"{method}_{name}"].subs(sub).subs(tot))

        J = sp.Matrix(
            [
                [entry("diag_pair", pair0, tot0), entry("offdiag", pair0, tot0)],
                [entry("offdiag", pair1, tot1), entry("diag_pair", pair1, tot1)],
            ]
        )
        assert all(_zero(sum(J.row(r)) - 1) for r in range(2))  # J 1 = 1
        lower = sp.Matrix([[0, 0], [J[1, 0], 0]])
        gauss_seidel = (sp.eye(2) - lower).inv() * (J - lower)
        out[f"two_player_eigenvalue_{method}_sync"] = sp.factor(sp.cancel(J.trace() - 1))
        out[f"two_player_eigenvalue_{method}_async"] = sp.factor(
            sp.cancel(gauss_seidel.trace() - 1)
        )
    return out


def _two_player_damped_rate(out):
    """The damped sync Newman eigenvalue for two players with ``a`` and ``b`` wins.

    At the fixed point ``pi ∝ (a, b)`` each player's Newman numerator ``N_i`` equals the
    Hessian diagonal ``H_ii = (a + b) p q``: the damping is active with ``beta = 1/(1+m)``,
    and ``I - beta (I - J)`` maps the eigenvalue ``lambda`` to ``1 - beta (1 - lambda)``.
    """
    numerator = (_wij * _pj / (_pi + _pj)).subs({_wij: _a, _pi: _a, _pj: _b})
    curvature = ((_a + _b) * _pi * _pj / (_pi + _pj) ** 2).subs({_pi: _a, _pj: _b})
    assert _zero(numerator - curvature)
    beta = numerator / ((1 + _m) * curvature)
    undamped = out["two_player_eigenvalue_newman_sync"]
    return sp.factor(sp.cancel(1 - beta * (1 - undamped)))


def _two_player_map_rates(entries):
    """MAP rates for two players with ``a`` wins each way: the MAP point is ``pi = 1``."""
    out = {}
    pair = {_pi: 1, _pj: 1, _wij: _a, _wji: _a}
    terms = {k: v.subs(pair) for k, v in _pair_terms(_pi, _pj, _wij, _wji, _A).items()}
    scale_fix = sp.eye(2) - sp.Matrix(2, 2, [sp.Rational(1, 2)] * 4)  # equal weights at pi = 1
    for method in _METHODS:
        if method == "zermelo":
            totals = {_D: terms["zermelo_pair"] + terms["zermelo_prior"]}
        else:
            totals = {
                _N: terms["newman_num_pair"] + terms["newman_prior"],
                _M: terms["newman_den_pair"] + terms["newman_prior"],
            }

        def entry(name, method=method, totals=totals):
            return entries[f"{method}_{name}"].subs(pair).subs(totals)

        diagonal = sp.cancel(entry("diag_pair") + entry("diag_prior"))
        off = sp.cancel(entry("offdiag"))
        J = sp.Matrix([[diagonal, off], [off, diagonal]])
        lower = sp.Matrix([[0, 0], [off, 0]])
        gauss_seidel = (sp.eye(2) - lower).inv() * (J - lower)
        for name, matrix in (
            ("sync", J),
            ("sync_scale_fix", scale_fix * J),
            ("async", gauss_seidel),
            ("async_scale_fix", scale_fix * gauss_seidel),
        ):
            values = [sp.factor(sp.cancel(v)) for v in matrix.eigenvals()]
            # Each eigenvalue is real with a fixed sign for a, A > 0; take the largest modulus.
            assert all(v.subs({_a: 3, _A: 1}).is_real for v in values)
            rate = max((sp.Abs(v) for v in values), key=lambda m: m.subs({_a: 3, _A: 1}))
            out[f"two_player_map_rate_{method}_{name}"] = sp.factor(sp.simplify(rate))
    return out


@functools.cache
def derivations() -> dict[str, sp.Expr]:
    """The symbolic results; each is derived and checked here, not typed in.

    Everything is a rational function of ``pi_i = e^{s_i}`` and ``pi_j``; derivatives in
    ``s`` are taken as ``pi d/dpi``.

    Returns
    -------
    dict
        Pair/prior terms of both maps; the Jacobian entries in ``s`` (``*_offdiag`` for
        ``dF_i/ds_j``, ``*_diag_pair`` summed over ``j`` plus ``*_diag_prior`` for
        ``dF_i/ds_i``) in the symbols ``pi_i, pi_j, w_ij, w_ji, A`` and the row totals
        ``D, N, M``; the gradient and Hessian pair terms in ``s``; Newman's entries at a
        fixed point (``newman_*_fixed``); the scale-correction weight ``q (1 - q)``;
        closed-form two-player rates (``two_player_*``, ML with ``a`` and ``b`` wins;
        ``two_player_map_*``, MAP with ``a`` wins each way).
    """
    pi, pj = _pi, _pj
    t = _pair_terms(pi, pj, _wij, _wji, _A)

    gradient_pair = sp.cancel(_ds(t["log_likelihood_pair"], pi))
    gradient_prior = sp.cancel(_ds(t["log_prior"], pi))
    hessian_offdiag = sp.cancel(-_ds(_ds(t["log_likelihood_pair"], pi), pj))  # of -∇² (< 0)
    hessian_diag_pair = sp.cancel(-_ds(_ds(t["log_likelihood_pair"], pi), pi))
    hessian_prior = sp.cancel(-_ds(_ds(t["log_prior"], pi), pi))
    assert _zero(hessian_diag_pair + hessian_offdiag)  # -∇²ℓ is a Laplacian
    assert _zero(hessian_diag_pair - (_wij + _wji) * pi * pj / (pi + pj) ** 2)

    # Same fixed points: (W_i + A) - pi_i D_i = N_i - pi_i M_i = d(log posterior)/ds_i.
    assert _zero(_wij - pi * t["zermelo_pair"] - gradient_pair)
    assert _zero(t["newman_num_pair"] - pi * t["newman_den_pair"] - gradient_pair)
    assert _zero(_A - pi * t["zermelo_prior"] - gradient_prior)
    assert _zero(t["newman_prior"] - pi * t["newman_prior"] - gradient_prior)

    # Jacobian entries of F_Z = ln(W + A) - ln D and F_N = ln N - ln M.
    entries = {
        "zermelo_offdiag": -_ds(t["zermelo_pair"], pj) / _D,
        "zermelo_diag_pair": -_ds(t["zermelo_pair"], pi) / _D,
        "zermelo_diag_prior": -_ds(t["zermelo_prior"], pi) / _D,
        "newman_offdiag": _ds(t["newman_num_pair"], pj) / _N - _ds(t["newman_den_pair"], pj) / _M,
        "newman_diag_pair": _ds(t["newman_num_pair"], pi) / _N - _ds(t["newman_den_pair"], pi) / _M,
        "newman_diag_prior": _ds(t["newman_prior"], pi) * (1 / _N - 1 / _M),
    }
    entries = {k: sp.factor(sp.cancel(v)) for k, v in entries.items()}
    _check_three_players(entries)

    # Scale mode: pair terms of N are shift invariant, those of M and D scale by e^{-c};
    # so (offdiag + diag_pair) of a pair is den_pair / M (resp. zermelo_pair / D), and the
    # rows of J sum to sum_j den_pair / M = 1 when A = 0.
    def shift(e):
        return _ds(e, pi) + _ds(e, pj)

    assert _zero(shift(t["newman_num_pair"]))
    assert _zero(shift(t["newman_den_pair"]) + t["newman_den_pair"])
    assert _zero(shift(t["zermelo_pair"]) + t["zermelo_pair"])
    assert _zero(
        entries["newman_offdiag"] + entries["newman_diag_pair"] - t["newman_den_pair"] / _M
    )
    assert _zero(entries["zermelo_offdiag"] + entries["zermelo_diag_pair"] - t["zermelo_pair"] / _D)

    # Newman at a fixed point (N_i = pi_i M_i).
    at_fixed = {_N: pi * _M}
    newman_offdiag_fixed = (_wij + _wji) * pj / ((pi + pj) ** 2 * _M)
    newman_diag_pair_fixed = (_wji * pi - _wij * pj) / ((pi + pj) ** 2 * _M)
    newman_diag_prior_fixed = _A * (pi - 1) / ((pi + 1) ** 2 * _M)
    assert _zero(entries["newman_offdiag"].subs(at_fixed) - newman_offdiag_fixed)
    assert _zero(entries["newman_diag_pair"].subs(at_fixed) - newman_diag_pair_fixed)
    assert _zero(entries["newman_diag_prior"].subs(at_fixed) - newman_diag_prior_fixed)

    # J = I - G^{-1} H: Zermelo everywhere with G_i = pi_i D_i (= W_i + A at a fixed point),
    # Newman at a fixed point with G_i = pi_i M_i. The "I" is sum_j pi_i (pair) / G_i.
    for method, den_pair, den_prior, G, sub in (
        ("zermelo", t["zermelo_pair"], t["zermelo_prior"], pi * _D, {}),
        ("newman", t["newman_den_pair"], t["newman_prior"], pi * _M, at_fixed),
    ):
        assert _zero(entries[f"{method}_offdiag"].subs(sub) + hessian_offdiag / G)
        assert _zero(
            entries[f"{method}_diag_pair"].subs(sub) - (pi * den_pair - hessian_diag_pair) / G
        )
        assert _zero(
            entries[f"{method}_diag_prior"].subs(sub) - (pi * den_prior - hessian_prior) / G
        )
    # Zermelo: G - H is a sum of PSD rank-one pair blocks (plus a positive prior diagonal),
    # so 0 <= H <= G and the sync spectrum lies in [0, 1].
    v = sp.Matrix([pi, pj])
    hessian_diag_j = hessian_diag_pair.subs({pi: pj, pj: pi}, simultaneous=True)
    block = sp.Matrix(
        [
            [pi * t["zermelo_pair"] - hessian_diag_pair, -hessian_offdiag],
            [-hessian_offdiag, pj * t["zermelo_pair"] - hessian_diag_j],
        ]
    )
    assert all(_zero(e) for e in block - (_wij + _wji) / (pi + pj) ** 2 * v * v.T)
    assert _zero(pi * t["zermelo_prior"] - hessian_prior - 2 * _A * pi**2 / (pi + 1) ** 2)
    # Newman at a fixed point: 2 G_i - H_ii with G_i = N_i = pi_i M_i, term by term positive
    # (Ostrowski–Reich for the async sweep).
    newman_2g_minus_h_pair = (_wij * pj**2 + _wji * pi**2) / (pi + pj) ** 2
    newman_2g_minus_h_prior = _A * (1 + pi**2) / (1 + pi) ** 2
    pair_sum = t["newman_num_pair"] + pi * t["newman_den_pair"] - hessian_diag_pair
    assert _zero(pair_sum - newman_2g_minus_h_pair)
    prior_sum = t["newman_prior"] + pi * t["newman_prior"] - hessian_prior
    assert _zero(prior_sum - newman_2g_minus_h_prior)

    # MAP scale correction: pi -> c pi with c = e^u solving phi'(u) = sum_k (1 - 2 q_k) = 0,
    # q_k = c pi_k / (1 + c pi_k). At c = 1, du/ds_j = -q_j (1 - q_j) / sum_k q_k (1 - q_k),
    # by implicit differentiation (checked on three players).
    p3, c = sp.symbols("p0:3", positive=True), sp.Symbol("c", positive=True)
    phi_prime = sum(1 - 2 * c * pk / (1 + c * pk) for pk in p3)
    du_ds0 = (-_ds(phi_prime, p3[0]) / _ds(phi_prime, c)).subs(c, 1)
    q = pi / (1 + pi)
    weight = sp.cancel(_ds(q, pi))
    assert _zero(weight - q * (1 - q))
    assert _zero(du_ds0 + weight.subs(pi, p3[0]) / sum(weight.subs(pi, pk) for pk in p3))

    return {
        **t,
        "gradient_pair": gradient_pair,
        "gradient_prior": gradient_prior,
        "hessian_offdiag": hessian_offdiag,
        "hessian_diag_pair": hessian_diag_pair,
        "hessian_prior": hessian_prior,
        **entries,
        "newman_offdiag_fixed": newman_offdiag_fixed,
        "newman_diag_pair_fixed": newman_diag_pair_fixed,
        "newman_diag_prior_fixed": newman_diag_prior_fixed,
        "newman_2g_minus_h_pair": newman_2g_minus_h_pair,
        "newman_2g_minus_h_prior": newman_2g_minus_h_prior,
        "scale_fix_weight": weight,
        **(two_player := _two_player_rates(entries)),
        "two_player_eigenvalue_newman_sync_damped": _two_player_damped_rate(two_player),
        **_two_player_map_rates(entries),
    }


@functools.cache
def _numeric(name: str, *symbols):
    return sp.lambdify(symbols, derivations()[name], modules="numpy")


# ---------------------------------------------------------------------------------------------
# Input handling


def _prior_strength(prior) -> float:
    """``None`` -> 0 (ML), ``"logistic"`` -> 1 (Newman's dummy player), or a positive float."""
    if prior is None:
        return 0.0
    if isinstance(prior, str):
        if prior == "logistic":
            return 1.0
        raise ValueError(f"prior must be None, 'logistic' or a positive number; got {prior!r}")
    strength = float(prior)
    if not np.isfinite(strength) or strength <= 0:
        raise ValueError(f"prior strength must be positive and finite; got {prior!r}")
    return strength


def _counts(counts) -> np.ndarray:
    w = counts.toarray() if scipy.sparse.issparse(counts) else np.asarray(counts)
    w = np.asarray(w, dtype=float)
    if w.ndim != 2 or w.shape[0] != w.shape[1] or w.shape[0] < 2:
        raise ValueError(f"counts must be a square n x n array with n >= 2; got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("counts must be finite and non-negative")
    if np.any(np.diag(w) != 0):
        raise ValueError("counts must have a zero diagonal (no player plays itself)")
    return w


def _check_ml_exists(w: np.ndarray) -> None:
    n_comp, labels = scipy.sparse.csgraph.connected_components(
        scipy.sparse.csr_array(w.T > 0), directed=True, connection="strong"
    )
    if n_comp != 1:
        sizes = np.bincount(labels)
        raise ValueError(
            f"the ML estimate does not exist: the comparison graph has {n_comp} strongly "
            f"connected components (sizes {sizes.tolist()}); pass prior= for a MAP estimate"
        )


def _scores(scores, n: int) -> np.ndarray:
    s = np.asarray(scores, dtype=float)
    if s.shape != (n,) or not np.all(np.isfinite(s)):
        raise ValueError(f"scores must be a finite vector of shape ({n},); got shape {s.shape}")
    return s


def _check_options(method, update):
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}; got {method!r}")
    if update not in _UPDATES:
        raise ValueError(f"update must be one of {_UPDATES}; got {update!r}")


# ---------------------------------------------------------------------------------------------
# Public API


def jacobian(
    counts, scores, *, method="newman", update="sync", prior=None, damped=True
) -> np.ndarray:
    """Jacobian of one sweep of Zermelo's or Newman's iteration, in ``s = ln pi``.

    Parameters
    ----------
    counts : (n, n) array_like or scipy.sparse array
        ``counts[i, j]`` = wins of ``i`` over ``j`` (may be fractional); zero diagonal.
    scores : (n,) array_like
        The point ``s``. For ML any additive constant (the maps commute with shifts); for
        MAP the actual scores.
    method : {"newman", "zermelo"}
    update : {"sync", "async"}
        ``"sync"``: ``dF/ds`` of the Jacobi map, exact at any ``s``. ``"async"``: the
        Gauss–Seidel sweep in index order, ``(I - J_L)^{-1} (J_D + J_U)``; this is the
        sweep's derivative at a fixed point (elsewhere intermediate states differ from ``s``).
    prior : None, "logistic" or float
        ``None`` for ML; a strength ``A > 0`` for the dummy-player prior (``"logistic"``:
        ``A = 1``).
    damped : bool
        Sync Newman only: the fitter damps player i's log-step by
        ``beta_i = min(1, N_i / ((1 + m) H_ii))`` (``H`` the negative Hessian,
        ``m`` = :data:`SYNC_NEWMAN_DAMPING_MARGIN`), which
        at a fixed point turns ``J`` into ``I - B (I - J)``; False gives the plain Jacobi
        sweep, which can be unstable.

    Returns
    -------
    ndarray, shape (n, n)
        ``J`` before any normalisation or scale correction.

    Raises
    ------
    ValueError
        For a bad ``method``, ``update``, ``prior``, shapes or counts.
    """
    _check_options(method, update)
    A = _prior_strength(prior)
    w = _counts(counts)
    s = _scores(scores, w.shape[0])
    if A == 0:
        s = s - s.mean()  # J is shift invariant; centring keeps exp(s) in range
    J = _sync_jacobian(w, s, method, A)
    if update == "sync" and method == "newman" and damped:
        J = _damped(J, w, s, A)
    if update == "async":
        lower = np.tril(J, -1)
        J = np.linalg.solve(np.eye(len(s)) - lower, J - lower)
    return J


def _damped(J, w, s, A):
    """``I - B (I - J)``: the fitter's per-player damping of sync Newman, at a fixed point."""
    p = np.exp(s)
    games = w + w.T
    pair = p[:, None] * p[None, :] / (p[:, None] + p[None, :]) ** 2
    curvature = (games * pair).sum(axis=1) + 2 * A * p / (1 + p) ** 2
    numerator = (w * p[None, :] / (p[:, None] + p[None, :])).sum(axis=1) + A / (p + 1)
    beta = np.minimum(1.0, numerator / ((1 + SYNC_NEWMAN_DAMPING_MARGIN) * curvature))
    return np.eye(len(s)) - beta[:, None] * (np.eye(len(s)) - J)


def _sync_jacobian(w, s, method, A):
    p = np.exp(s)
    pi, pj = p[:, None], p[None, :]
    wij, wji = w, w.T
    sym = (_pi, _pj, _wij, _wji)
    if method == "zermelo":
        D = _numeric("zermelo_pair", *sym, _A)(pi, pj, wij, wji, A).sum(axis=1)
        D = D + _numeric("zermelo_prior", _pi, _A)(p, A)
        J = _numeric("zermelo_offdiag", *sym, _D)(pi, pj, wij, wji, D[:, None])
        diag = _numeric("zermelo_diag_pair", *sym, _D)(pi, pj, wij, wji, D[:, None]).sum(axis=1)
        diag = diag + _numeric("zermelo_diag_prior", _pi, _A, _D)(p, A, D)
    else:
        prior = _numeric("newman_prior", _pi, _A)(p, A)
        N = _numeric("newman_num_pair", *sym)(pi, pj, wij, wji).sum(axis=1) + prior
        M = _numeric("newman_den_pair", *sym)(pi, pj, wij, wji).sum(axis=1) + prior
        tot = (N[:, None], M[:, None])
        J = _numeric("newman_offdiag", *sym, _N, _M)(pi, pj, wij, wji, *tot)
        diag = _numeric("newman_diag_pair", *sym, _N, _M)(pi, pj, wij, wji, *tot).sum(axis=1)
        diag = diag + _numeric("newman_diag_prior", _pi, _A, _N, _M)(p, A, N, M)
    J = np.array(np.broadcast_to(J, w.shape), dtype=float)
    np.fill_diagonal(J, diag)  # the j = i pair terms vanish (zero diagonal counts)
    return J


def iteration_matrix(
    counts, scores, *, method="newman", update="sync", prior=None, scale_fix=True, damped=True
) -> np.ndarray:
    """The linearised error map of one full sweep, normalisation included.

    ML: ``P J`` with ``P = I - 1 1^T / n`` (the sweep is followed by centring; ``J 1 = 1``
    so ``P J = P J P``). MAP with ``scale_fix=True``: ``P_w J`` with ``P_w = I - 1 w^T``,
    ``w ∝ q (1 - q)``, ``q = sigma(s)``, the linearisation of the exact 1-D scale correction
    at a MAP point; ``scale_fix=False``: ``J`` (the plain MAP iteration). For ML,
    ``scale_fix`` has no effect. Parameters as in :func:`jacobian`.
    """
    J = jacobian(counts, scores, method=method, update=update, prior=prior, damped=damped)
    n = J.shape[0]
    if prior is None:
        return J - J.mean(axis=0, keepdims=True)
    if not scale_fix:
        return J
    weight = _numeric("scale_fix_weight", _pi)(np.exp(_scores(scores, n)))
    weight = weight / weight.sum()
    return J - np.outer(np.ones(n), weight @ J)


def linear_rate(
    counts, scores, *, method="newman", update="sync", prior=None, scale_fix=True, damped=True
) -> float:
    """Predicted asymptotic convergence rate per sweep at the fixed point ``scores``.

    The spectral radius of :func:`iteration_matrix`: for ML the largest ``|eigenvalue|`` of
    the sweep's Jacobian once the eigenvalue 1 of the scale mode is removed; for MAP that of
    the plain sweep (``scale_fix=False``) or of the sweep followed by the exact scale
    correction (``scale_fix=True``, the fitter's default).

    Returns
    -------
    float
        ``rho``: errors shrink like ``rho^k``; ``rho >= 1`` means no local convergence (for
        two players ML sync Newman gives exactly 1, a period-2 oscillation).

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([[0.0, 3.0], [1.0, 0.0]])
    >>> s = np.log([3.0, 1.0])
    >>> round(linear_rate(w, s, method="zermelo", update="async"), 6)  # ab/(a+b)^2
    0.1875
    """
    matrix = iteration_matrix(
        counts,
        scores,
        method=method,
        update=update,
        prior=prior,
        scale_fix=scale_fix,
        damped=damped,
    )
    return float(np.max(np.abs(np.linalg.eigvals(matrix))))


def fixed_point_scores(counts, prior=None, tol=1e-13, maxiter=200) -> np.ndarray:
    """The exact ML (centred) or MAP scores, by damped Newton on the log posterior.

    Both iterations share these fixed points (see :func:`derivations`).

    Parameters
    ----------
    counts : (n, n) array_like or scipy.sparse array
        Wins ``counts[i, j]`` of ``i`` over ``j``.
    prior : None, "logistic" or float
        As in :func:`jacobian`.
    tol : float
        Stop once a full Newton step has ``max |ds| <= tol * max(1, max |s|)``, or when
        steps below ``1e-9`` stop shrinking (round-off floor).
    maxiter : int
        Newton steps at most.

    Returns
    -------
    ndarray, shape (n,)

    Raises
    ------
    ValueError
        ML on a comparison graph that is not strongly connected (no ML estimate, Ford 1957).
    RuntimeError
        Newton did not converge within ``maxiter`` steps.
    """
    A = _prior_strength(prior)
    w = _counts(counts)
    n = w.shape[0]
    if A == 0:
        _check_ml_exists(w)
    games, wins = w + w.T, w.sum(axis=1)

    def objective(s):
        d = np.logaddexp(s[:, None], s[None, :])
        return float(np.sum(w * (s[:, None] - d)) + A * np.sum(s - 2 * np.logaddexp(0, s)))

    def gradient_hessian(s):
        p = 1 / (1 + np.exp(s[None, :] - s[:, None]))  # p[i, j] = sigma(s_i - s_j)
        q = 1 / (1 + np.exp(-s))
        g = wins + A - (games * p).sum(axis=1) - 2 * A * q
        H = -games * p * p.T
        np.fill_diagonal(H, 0)
        H[np.diag_indices(n)] = -H.sum(axis=1) + 2 * A * q * (1 - q)
        return g, H

    s = np.zeros(n)
    previous = np.inf
    for _ in range(maxiter):
        g, H = gradient_hessian(s)
        step = np.linalg.solve(H + (1.0 / n if A == 0 else 0.0), g)  # ML: + 1 1^T / n
        f0, slope, t = objective(s), float(g @ step), 1.0
        while t > 1e-10 and objective(s + t * step) < f0 + 1e-4 * t * slope - 1e-12 * abs(f0):
            t /= 2
        s = s + t * step
        if A == 0:
            s = s - s.mean()
        size = float(np.max(np.abs(t * step)))
        if t == 1.0 and (
            size <= tol * max(1.0, float(np.max(np.abs(s))))
            or (size < 1e-9 and size >= previous / 2)
        ):
            return s
        previous = size if t == 1.0 else np.inf
    raise RuntimeError(f"Newton did not converge in {maxiter} steps (last step {size:.3g})")
