"""Numba kernels for Bradley–Terry over the per-player CSR of distinct games.

Each player's entries ``k`` in ``indptr[i]:indptr[i+1]`` name an opponent and the counts of
that game group from the player's side: ``wins``, ``losses``, ``ties``, and whether the
player (``self_home``) or the opponent (``opp_home``) had home advantage.

With ``lam = c pi`` (``c = theta`` at home, else 1), ``r = sqrt(lam_i lam_j)`` and
``D = lam_i + lam_j + 2 nu r`` (Davidson's tie model; ``nu = 0`` is plain Bradley–Terry),
the stationarity condition of the log-likelihood in ``log pi_i`` splits as

    sum_k (wins + ties/2) (lam_j + nu r) / D
        = pi_i sum_k (losses + ties/2) c_i (1 + nu r / lam_i) / D

and Newman's iteration sets ``pi_i`` to the ratio of the two sums; Zermelo's (Hunter's MM)
sets ``pi_i <- sum(wins + ties/2) / sum(n c_i (1 + nu r / lam_i) / D)``. The prior adds
``prior`` won and ``prior`` lost games against a dummy player of strength 1.

``update="async"`` passes the same array as ``source`` and ``target`` (Gauss–Seidel, players
in index order, sequential by nature); ``"sync"`` passes two (Jacobi).

For both iterations ``numerator - pi_i * denominator`` is exactly the gradient component
``d log L / d s_i`` at the values the sweep reads, so every sweep returns the largest of
them for free: the exact gradient at the old iterate for a Jacobi sweep, at the mixed
in-sweep points for Gauss–Seidel. The solver uses it to skip evaluating the gradient
again until it is near the tolerance.
"""

from __future__ import annotations

import math

from .._jit import njit_kernel


@njit_kernel
def _larger(largest, gradient):
    """``max(largest, |gradient|)`` that keeps a NaN once it has met one."""
    magnitude = abs(gradient)
    return (
        magnitude
        if (magnitude > largest or magnitude != magnitude) and largest == largest
        else largest
    )


# Damped Jacobi: the step of player i is scaled so that M_i >= (1 + MARGIN) H_ii. Any
# MARGIN >= 0 makes the sweep locally convergent; 0.25 keeps a two-player (bipartite) mode
# from crawling at rate 1 - 2 MARGIN, at about 30 % more sweeps on dense random data.
MARGIN = 0.25


@njit_kernel
def plain_sweep(indptr, opponents, wins, losses, source, target, newman, prior):
    """One sweep without ties or home advantage (the fast path).

    Synchronous Newman is damped per player. Near the fixed point a Jacobi sweep's
    Jacobian is ``I - M^{-1} H`` (``H`` the negative Hessian of the log-posterior,
    ``M = diag(N_i)`` for Newman), stable iff ``2M - H`` is positive definite, which fails
    on sparse data (``itersolve.theory.bradley_terry``). Scaling player i's log-step by
    ``beta_i = min(1, N_i / ((1 + MARGIN) H_ii))`` makes ``M_i >= H_ii``, hence ``2M - H``
    diagonally dominant: locally convergent, still never slower than Zermelo (whose
    ``M_i = W_i >= H_ii``), and undamped wherever Newman's own step is safe.
    """
    damp = newman and source is not target
    largest = 0.0
    for i in range(indptr.size - 1):
        pi_i = source[i]
        numerator = 0.0
        denominator = 0.0
        curvature = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            pi_j = source[opponents[k]]
            inverse = 1.0 / (pi_i + pi_j)
            if newman:
                lost = pi_j * inverse  # P(i loses to j): products of probabilities, not of
                numerator += wins[k] * lost  # strengths, so that nothing overflows
                denominator += losses[k] * inverse
                if damp:
                    curvature += (wins[k] + losses[k]) * lost * (pi_i * inverse)
            else:
                numerator += wins[k]
                denominator += (wins[k] + losses[k]) * inverse
        if prior > 0.0:
            dummy = prior / (pi_i + 1.0)
            if newman:
                numerator += dummy
                denominator += dummy
                curvature += 2.0 * pi_i * dummy / (pi_i + 1.0)
            else:
                numerator += prior
                denominator += 2.0 * dummy
        largest = _larger(largest, numerator - pi_i * denominator)
        value = numerator / denominator
        if damp and numerator < (1.0 + MARGIN) * curvature:
            beta = numerator / ((1.0 + MARGIN) * curvature)
            value = pi_i * (value / pi_i) ** beta
        target[i] = value
    return largest


@njit_kernel
def plain_gradient(indptr, opponents, wins, losses, pi, prior, out):
    """``d log-posterior / d s_i`` = observed minus expected wins (plus the prior's term).

    Each term is ``(wins pi_j - losses pi_i) / (pi_i + pi_j)`` (one division: the fastest
    form); only a row where a count times a strength overflowed (counts near 1e300) is
    summed again as counts times probabilities, which stay finite.
    """
    for i in range(indptr.size - 1):
        pi_i = pi[i]
        total = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            pi_j = pi[opponents[k]]
            total += (wins[k] * pi_j - losses[k] * pi_i) / (pi_i + pi_j)
        if not math.isfinite(total):
            total = 0.0
            for k in range(indptr[i], indptr[i + 1]):
                pi_j = pi[opponents[k]]
                inverse = 1.0 / (pi_i + pi_j)
                total += wins[k] * (pi_j * inverse) - losses[k] * (pi_i * inverse)
        if prior > 0.0:
            total += prior * (1.0 - pi_i) / (1.0 + pi_i)
        out[i] = total


@njit_kernel
def general_sweep(
    indptr,
    opponents,
    wins,
    losses,
    ties,
    self_home,
    opp_home,
    source,
    target,
    theta,
    nu,
    newman,
    prior,
):
    """One sweep with Davidson ties (``nu``) and home advantage (``theta``)."""
    largest = 0.0
    for i in range(indptr.size - 1):
        numerator = 0.0
        denominator = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            c_i = theta if self_home[k] else 1.0
            lam_i = c_i * source[i]
            lam_j = (theta if opp_home[k] else 1.0) * source[opponents[k]]
            r = math.sqrt(lam_i * lam_j) if nu > 0.0 else 0.0
            inverse = 1.0 / (lam_i + lam_j + 2.0 * nu * r)
            scored = wins[k] + 0.5 * ties[k]
            conceded = losses[k] + 0.5 * ties[k]
            weight = c_i * (1.0 + nu * r / lam_i) * inverse
            if newman:
                numerator += scored * (lam_j + nu * r) * inverse
                denominator += conceded * weight
            else:
                numerator += scored
                denominator += (wins[k] + losses[k] + ties[k]) * weight
        if prior > 0.0:
            dummy = prior / (source[i] + 1.0)
            if newman:
                numerator += dummy
                denominator += dummy
            else:
                numerator += prior
                denominator += 2.0 * dummy
        largest = _larger(largest, numerator - source[i] * denominator)
        target[i] = numerator / denominator
    return largest


@njit_kernel
def general_gradient(
    indptr, opponents, wins, losses, ties, self_home, opp_home, pi, theta, nu, prior, out
):
    for i in range(indptr.size - 1):
        total = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            lam_i = (theta if self_home[k] else 1.0) * pi[i]
            lam_j = (theta if opp_home[k] else 1.0) * pi[opponents[k]]
            r = math.sqrt(lam_i * lam_j) if nu > 0.0 else 0.0
            scored = wins[k] + 0.5 * ties[k]
            conceded = losses[k] + 0.5 * ties[k]
            total += (scored * (lam_j + nu * r) - conceded * (lam_i + nu * r)) / (
                lam_i + lam_j + 2.0 * nu * r
            )
        if prior > 0.0:
            total += prior * (1.0 - pi[i]) / (1.0 + pi[i])
        out[i] = total


@njit_kernel
def nuisance_updates(
    first, second, home, first_wins, second_wins, ties, pi, theta, nu, fit_nu, fit_theta
):
    """Newman-type updates of the tie parameter ``nu`` and the home advantage ``theta``.

    Returns ``(nu, theta, gradient_nu, gradient_theta)``: the new values, and the
    log-likelihood's derivatives in ``log nu`` and ``log theta`` at the old ones.
    """
    nu_top = 0.0
    nu_bottom = 0.0
    theta_top = 0.0
    theta_bottom = 0.0
    gradient_nu = 0.0
    gradient_theta = 0.0
    for g in range(first.size):
        c = theta if home[g] else 1.0
        lam_f = c * pi[first[g]]
        lam_s = pi[second[g]]
        r = math.sqrt(lam_f * lam_s)
        inverse = 1.0 / (lam_f + lam_s + 2.0 * nu * r)
        decided = first_wins[g] + second_wins[g]
        if fit_nu:
            nu_top += ties[g] * (lam_f + lam_s) * inverse
            nu_bottom += 2.0 * decided * r * inverse
            gradient_nu += ties[g] - (decided + ties[g]) * 2.0 * nu * r * inverse
        if fit_theta and home[g]:
            scored = first_wins[g] + 0.5 * ties[g]
            conceded = second_wins[g] + 0.5 * ties[g]
            theta_top += scored * (lam_s + nu * r) * inverse
            theta_bottom += conceded * pi[first[g]] * (1.0 + nu * r / lam_f) * inverse
            gradient_theta += (scored * (lam_s + nu * r) - conceded * (lam_f + nu * r)) * inverse
    if fit_nu:
        nu = nu_top / nu_bottom
    if fit_theta:
        theta = theta_top / theta_bottom
    return nu, theta, gradient_nu, gradient_theta


# ----- the same sweep in the scores s = log pi, for strengths beyond floating-point range
#
# With scores further apart than about 700 (a tiny prior on sparse data, weights spanning
# many orders of magnitude) the strengths pi = e^s overflow. Dividing Newman's update by
# pi_i turns every term into a probability: with sigma(x) = 1 / (1 + e^-x),
#
#     N_i       = sum_k wins   sigma(s_j - s_i) + prior sigma(-s_i)
#     pi_i M_i  = sum_k losses sigma(s_i - s_j) + prior sigma(s_i)
#
# and s_i <- s_i + log N_i - log(pi_i M_i); Zermelo's has N_i = W_i + prior and
# pi_i D_i = sum_k (wins + losses) sigma(s_i - s_j) + 2 prior sigma(s_i). The sums are
# accumulated as log-sum-exp, so no term overflows or underflows to a zero that matters.
# Slower than the strength kernels (a log and an exp per term): used only out of range.


@njit_kernel
def _log_sigmoid(x):
    """``log sigma(x)`` without overflow."""
    if x >= 0.0:
        return -math.log1p(math.exp(-x))
    return x - math.log1p(math.exp(x))


@njit_kernel
def _log_add(a, b):
    """``log(e^a + e^b)``."""
    if a < b:
        a, b = b, a
    if b == -math.inf:
        return a
    return a + math.log1p(math.exp(b - a))


@njit_kernel
def _log_totals(indptr, opponents, wins, losses, scores, i, newman, prior, damp):
    """``(log N_i, log pi_i M_i, log curvature_i)`` for player ``i`` at ``scores``."""
    s_i = scores[i]
    top = bottom = curvature = -math.inf
    for k in range(indptr[i], indptr[i + 1]):
        difference = s_i - scores[opponents[k]]
        log_win = _log_sigmoid(difference)  # log P(i beats j)
        log_loss = _log_sigmoid(-difference)
        games = wins[k] + losses[k]
        if newman:
            if wins[k] > 0.0:
                top = _log_add(top, math.log(wins[k]) + log_loss)
            if losses[k] > 0.0:
                bottom = _log_add(bottom, math.log(losses[k]) + log_win)
            if damp and games > 0.0:
                curvature = _log_add(curvature, math.log(games) + log_win + log_loss)
        else:
            if wins[k] > 0.0:
                top = _log_add(top, math.log(wins[k]))
            if games > 0.0:
                bottom = _log_add(bottom, math.log(games) + log_win)
    if prior > 0.0:
        log_prior = math.log(prior)
        log_q, log_not_q = _log_sigmoid(s_i), _log_sigmoid(-s_i)
        if newman:
            top = _log_add(top, log_prior + log_not_q)
            bottom = _log_add(bottom, log_prior + log_q)
            curvature = _log_add(curvature, math.log(2.0) + log_prior + log_q + log_not_q)
        else:
            top = _log_add(top, log_prior)
            bottom = _log_add(bottom, math.log(2.0) + log_prior + log_q)
    return top, bottom, curvature


@njit_kernel
def log_sweep(indptr, opponents, wins, losses, source, target, newman, prior):
    """:func:`plain_sweep` on the scores (``source``, ``target`` hold ``s = log pi``)."""
    damp = newman and source is not target
    log_margin = math.log1p(MARGIN)
    largest = 0.0
    for i in range(indptr.size - 1):
        top, bottom, curvature = _log_totals(
            indptr, opponents, wins, losses, source, i, newman, prior, damp
        )
        largest = _larger(largest, math.exp(top) - math.exp(bottom))
        step = top - bottom
        if damp and top < log_margin + curvature:
            step *= math.exp(top - log_margin - curvature)
        target[i] = source[i] + step
    return largest


@njit_kernel
def log_gradient(indptr, opponents, wins, losses, scores, prior, out):
    """:func:`plain_gradient` at the scores: ``N_i - pi_i M_i``, each from its logarithm."""
    for i in range(indptr.size - 1):
        top, bottom, _ = _log_totals(indptr, opponents, wins, losses, scores, i, True, prior, False)
        out[i] = math.exp(top) - math.exp(bottom)


# ----- the bookkeeping after a sweep, fused: one pass over the players instead of a dozen
# numpy calls (each costs about a microsecond of overhead, as much as the pass itself at a
# few hundred players, and with 8 sweeps that was a third of a small fit's time)


@njit_kernel
def log_of(pi, out):
    """``out = log pi``; returns ``sum(out)``, non-finite iff an entry is (the scores are
    at most a few thousand in size, so their sum cannot overflow)."""
    total = 0.0
    for i in range(pi.size):
        out[i] = math.log(pi[i]) if pi[i] > 0.0 else (-math.inf if pi[i] == 0.0 else math.nan)
        total += out[i]
    return total


@njit_kernel
def shift_exp(scores, shift, old, pi):
    """``scores += shift``, ``pi = exp(scores)``; returns ``(max |scores - old|, max
    |scores|)``, each NaN once a score is (the largest score decides whether the strength
    kernels may run: :data:`_solver.SAFE_LOG`)."""
    step = largest = 0.0
    for i in range(scores.size):
        s = scores[i] + shift
        scores[i] = s
        pi[i] = math.exp(s) if s < 709.78 else math.inf  # (OverflowError without JIT)
        step = _larger(step, s - old[i])
        largest = _larger(largest, s)
    return step, largest


@njit_kernel
def tanh_sums(scores, u):
    """``(sum t, sum (1 - t^2))`` with ``t = tanh((scores + u) / 2)``, for the MAP scale
    (``_solver.map_scale``)."""
    total = slope = 0.0
    for i in range(scores.size):
        t = math.tanh(0.5 * (scores[i] + u))
        total += t
        slope += 1.0 - t * t
    return total, slope
