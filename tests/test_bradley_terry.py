"""Properties of ``itersolve.bradley_terry`` against independent oracles (bradley_terry.md §9).

The oracles are computed here, independently of the fitter: maximum-likelihood estimates
by ``scipy.optimize.minimize`` (L-BFGS-B with analytic gradients) for plain Bradley–Terry,
Davidson ties and home advantage; ``choix.ilsr_pairwise``; the analytic Fisher information
(a weighted graph Laplacian); the linearised rates of ``itersolve.theory.bradley_terry``.
Random comparison graphs come from numpy ``default_rng`` seeds that hypothesis draws; most
samples carry a directed win cycle ``0 > 1 > ... > n-1 > 0`` so that the who-beat-whom
graph is strongly connected and the ML estimate exists (Ford 1957).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import scipy.optimize
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from itersolve.theory import bradley_terry as theory

import itersolve
from itersolve import PairwiseData, RankingResult, Status, bradley_terry
from itersolve.testing.problems import pairwise_problem

seeds = st.integers(0, 2**32 - 1)
CONVERGENT = [("newman", "async"), ("zermelo", "async"), ("zermelo", "sync")]
ALL_VARIANTS = [("newman", "async"), ("newman", "sync"), ("zermelo", "async"), ("zermelo", "sync")]


# --------------------------------------------------------------------------- random data


@dataclasses.dataclass
class Games:
    """One entry per comparison: ``winners[k]`` beat ``losers[k]`` with weight ``weights[k]``."""

    n: int
    winners: np.ndarray
    losers: np.ndarray
    weights: np.ndarray | None = None

    def data(self, **kw):
        return PairwiseData.from_pairs(
            self.winners, self.losers, weights=self.weights, n_items=self.n, **kw
        )

    def counts(self):
        w = np.zeros((self.n, self.n))
        np.add.at(w, (self.winners, self.losers), 1.0 if self.weights is None else self.weights)
        return w

    def with_game(self, winner, loser):
        weights = None if self.weights is None else np.append(self.weights, 1.0)
        return Games(
            self.n, np.append(self.winners, winner), np.append(self.losers, loser), weights
        )


def _sample(seed, n, per, spread, *, weighted=False, local=0, cycle=True):
    """``per * n`` games between uniformly random pairs (or, with ``local = k``, each player
    against the next ``k`` players, a long-diameter ladder), outcomes drawn from BT with
    N(0, spread^2) scores, plus a directed win cycle through all players."""
    rng = np.random.default_rng(seed)
    s = rng.normal(scale=spread, size=n)
    if local:
        i = np.repeat(np.arange(n), local * per)
        j = (i + np.tile(np.repeat(np.arange(1, local + 1), per), n)) % n
    else:
        i = rng.integers(0, n, per * n)
        j = (i + rng.integers(1, n, i.size)) % n
    won = rng.random(i.size) < 1 / (1 + np.exp(s[j] - s[i]))
    winners, losers = np.where(won, i, j), np.where(won, j, i)
    if cycle:
        ring = np.arange(n)
        winners, losers = np.concatenate([winners, ring]), np.concatenate([losers, (ring + 1) % n])
    weights = rng.uniform(0.1, 3.0, winners.size) if weighted else None
    return Games(n, winners.astype(np.int64), losers.astype(np.int64), weights)


@st.composite
def comparisons(draw, max_n=20, max_per=10, max_spread=1.5, weighted=None):
    weighted = draw(st.booleans()) if weighted is None else weighted
    return _sample(
        draw(seeds),
        draw(st.integers(2, max_n)),
        draw(st.integers(1, max_per)),
        draw(st.floats(0.0, max_spread)),
        weighted=weighted,
    )


# --------------------------------------------------------------------------- oracles


def _negative_log_likelihood(
    z, n, first, second, home, first_wins, second_wins, ties, fit_nu, fit_theta
):
    """``-l(s, log nu, log theta) + (sum s)^2 / 2`` and its gradient, per game group.

    Davidson (nu) and home advantage (theta on the home player's strength): with
    ``lam_f = theta^home pi_first``, ``lam_s = pi_second``, ``D = lam_f + lam_s + 2 nu
    sqrt(lam_f lam_s)``: P(first wins) = lam_f / D, P(tie) = 2 nu sqrt(lam_f lam_s) / D.
    Without ``fit_nu`` nu = 0 (plain Bradley–Terry); without ``fit_theta`` theta = 1.
    """
    s = z[:n]
    log_nu = z[n] if fit_nu else -np.inf
    log_theta = z[-1] if fit_theta else 0.0
    a = s[first] + home * log_theta
    b = s[second]
    top = np.maximum(a, b)
    ea, eb = np.exp(a - top), np.exp(b - top)
    r = np.exp(log_nu + (a + b) / 2 - top) if fit_nu else 0.0
    D = ea + eb + 2 * r
    games = first_wins + second_wins + ties
    ll = first_wins * a + second_wins * b - games * (np.log(D) + top)
    if fit_nu:
        ll = ll + ties * (log_nu + (a + b) / 2)
    da = first_wins + ties / 2 - games * (ea + r) / D
    db = second_wins + ties / 2 - games * (eb + r) / D
    gradient = np.zeros_like(z)
    np.add.at(gradient, first, da)
    np.add.at(gradient, second, db)
    if fit_nu:
        gradient[n] = np.sum(ties - games * 2 * r / D)
    if fit_theta:
        gradient[-1] = np.sum(home * da)
    total = s.sum()
    value = -ll.sum() + total**2 / 2
    gradient = -gradient
    gradient[:n] += total
    return value, gradient


def _groups(data: PairwiseData, *, ties="davidson", home=True):
    fw, sw, t = data.first_wins, data.second_wins, data.ties
    if ties == "half":
        fw, sw, t = fw + t / 2, sw + t / 2, np.zeros_like(t)
    h = data.home.astype(float) if home else np.zeros(data.n_groups)
    return data.first, data.second, h, fw, sw, t


def _mle(data: PairwiseData, *, ties=None, home_advantage=False):
    """Independent MLE: (centred scores, nu or None, theta or None, max |gradient|)."""
    n = data.n_items
    fit_nu, fit_theta = ties == "davidson", home_advantage
    args = (n, *_groups(data, ties=ties, home=home_advantage), fit_nu, fit_theta)
    result = scipy.optimize.minimize(
        _negative_log_likelihood,
        np.zeros(n + fit_nu + fit_theta),
        args=args,
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-11, "ftol": 1e-16, "maxiter": 20_000, "maxcor": 30},
    )
    z = result.x
    gradient = _negative_log_likelihood(z, *args)[1]
    return (
        z[:n] - z[:n].mean(),
        math.exp(z[n]) if fit_nu else None,
        math.exp(z[-1]) if fit_theta else None,
        float(np.max(np.abs(gradient))),
    )


def _gradient_at(data: PairwiseData, scores, *, nu=None, theta=None, ties=None):
    """The log-likelihood's gradient in the scores (and log nu, log theta) at a point."""
    fit_nu, fit_theta = nu is not None, theta is not None
    z = np.concatenate(
        [
            scores - scores.mean(),
            [math.log(nu)] if fit_nu else [],
            [math.log(theta)] if fit_theta else [],
        ]
    )
    args = (data.n_items, *_groups(data, ties=ties, home=fit_theta), fit_nu, fit_theta)
    return -_negative_log_likelihood(z, *args)[1]


def _games_per_player(data: PairwiseData):
    return float(np.max(data.games_per_player()))


def _laplacian(counts, scores):
    """``-Hessian`` of the log-likelihood in the scores: weights ``n_ij p_ij p_ji``."""
    pi = np.exp(scores)
    p = pi[:, None] / (pi[:, None] + pi[None, :])
    weights = (counts + counts.T) * p * p.T
    np.fill_diagonal(weights, 0.0)
    return np.diag(weights.sum(axis=1)) - weights


def _fit(data, *, method="newman", update="async", rtol=1e-11, maxiter=100_000, **kw):
    return bradley_terry(data, method=method, update=update, rtol=rtol, maxiter=maxiter, **kw)


# --------------------------------------------------------------------------- 1. fixed points


@settings(max_examples=40)
@given(games=comparisons())
def test_every_iteration_reaches_the_independent_mle(games):
    """Zermelo and Newman, sync and async, stop at the L-BFGS maximum of the likelihood.

    The gradient at itersolve's answer is recomputed here from the likelihood (observed
    minus expected wins), relative to the largest number of games of one player.
    """
    data = games.data()
    expected, _, _, lbfgs_gradient = _mle(data)
    scale = _games_per_player(data)
    assert lbfgs_gradient <= 1e-6 * scale
    for method, update in ALL_VARIANTS:
        result = _fit(data, method=method, update=update, maxiter=100_000)
        assert result.success, (method, update, result.message)
        assert isinstance(result, RankingResult)
        assert np.all(np.isfinite(result.scores)) and abs(result.scores.mean()) <= 1e-12
        np.testing.assert_allclose(result.scores, expected, rtol=0, atol=1e-6)
        gradient = _gradient_at(data, result.scores)
        assert np.max(np.abs(gradient)) <= 1e-8 * scale, (method, update)
        assert result.stats["gradient_norm"] == result.residuals[-1]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_choix_ilsr(seed):
    choix = pytest.importorskip("choix")
    games = _sample(seed, 12, 8, 1.0)
    pairs = list(zip(games.winners.tolist(), games.losers.tolist(), strict=True))
    theta = choix.ilsr_pairwise(games.n, pairs, tol=1e-12, max_iter=1000)
    for method, update in CONVERGENT:
        result = _fit(games.data(), method=method, update=update)
        np.testing.assert_allclose(result.scores, theta - theta.mean(), rtol=0, atol=1e-8)


@pytest.mark.parametrize("seed", range(4))
def test_a_known_closed_form(seed):
    """Planted data (``itersolve.testing``): integer counts proportional to the model's
    probabilities at rational strengths, reshuffled by win cycles, so the MLE is known
    exactly; given as ``PairwiseData`` and as a count matrix."""
    case = pairwise_problem(n_items=4 + seed, n_games=40 + 20 * seed, seed=seed)
    data, mle = case
    n = data.n_items
    counts = np.zeros((n, n))
    np.add.at(counts, (case.winners, case.losers), 1.0)
    for given_data in (data, counts):
        for method, update in CONVERGENT:
            result = _fit(given_data, method=method, update=update, rtol=1e-13)
            np.testing.assert_allclose(result.scores, mle.scores, rtol=0, atol=1e-11)
            np.testing.assert_allclose(result.strengths, mle.strengths, rtol=1e-11)
            assert sorted(result.ranking.tolist()) == list(range(n))
            assert np.all(np.diff(mle.scores[result.ranking]) <= 1e-12)  # best first
            assert result.labels is None


# --------------------------------------------------------------------------- 2-3. invariances


@settings(max_examples=30)
@given(games=comparisons(), seed=seeds, factor=st.floats(0.01, 100.0))
def test_relabelling_permutes_and_rescaling_counts_keeps_the_scores(games, seed, factor):
    perm = np.random.default_rng(seed).permutation(games.n)
    base = _fit(games.data(), rtol=1e-12)
    relabelled = Games(games.n, perm[games.winners], perm[games.losers], games.weights)
    moved = _fit(relabelled.data(), rtol=1e-12)
    np.testing.assert_allclose(moved.scores[perm], base.scores, rtol=0, atol=1e-8)
    weights = factor * (np.ones(games.winners.size) if games.weights is None else games.weights)
    scaled = _fit(Games(games.n, games.winners, games.losers, weights).data(), rtol=1e-12)
    np.testing.assert_allclose(scaled.scores, base.scores, rtol=0, atol=1e-8)


def test_labels_order_the_ranking_and_the_scores():
    winners = ["cat", "dog", "cat", "emu", "dog", "emu", "cat"]
    losers = ["dog", "emu", "emu", "cat", "cat", "dog", "dog"]
    sorted_fit = _fit(PairwiseData.from_pairs(winners, losers))
    assert sorted_fit.labels.tolist() == ["cat", "dog", "emu"]
    fixed = _fit(PairwiseData.from_pairs(winners, losers, labels=["emu", "dog", "cat"]))
    assert fixed.labels.tolist() == ["emu", "dog", "cat"]
    np.testing.assert_allclose(fixed.scores, sorted_fit.scores[::-1], atol=1e-9)
    assert fixed.ranking.tolist() == sorted_fit.ranking.tolist()
    assert fixed.ranking[0] == "cat"  # 3 wins, 2 losses; the others 2-3 and 2-2
    assert list(sorted_fit.ranking) == [
        sorted_fit.labels[i] for i in np.argsort(-sorted_fit.scores)
    ]


@settings(max_examples=40)
@given(games=comparisons(), seed=seeds, prior=st.sampled_from([None, 1.0]))
def test_adding_a_win_never_lowers_the_winners_centred_score(games, seed, prior):
    """Infinitesimally ds = H^+ (e_i - e_j) c, a potential with its maximum at i (a
    maximum principle on the weighted Laplacian H, grounded by the prior for MAP), so s_i
    never falls below the mean; integrating over the added weight proves the property."""
    rng = np.random.default_rng(seed)
    i = int(rng.integers(games.n))
    j = int((i + rng.integers(1, games.n)) % games.n)
    before = _fit(games.data(), prior=prior, rtol=1e-12)
    after = _fit(games.with_game(i, j).data(), prior=prior, rtol=1e-12)
    assert after.scores[i] >= before.scores[i] - 1e-9
    assert after.scores[i] - after.scores[j] >= before.scores[i] - before.scores[j] - 1e-9


# --------------------------------------------------------------------------- 4. MAP


def _augmented(games: Games, prior: float) -> Games:
    """Player ``n`` wins ``prior`` and loses ``prior`` games against every player."""
    n, players = games.n, np.arange(games.n)
    weights = np.ones(games.winners.size) if games.weights is None else games.weights
    return Games(
        n + 1,
        np.concatenate([games.winners, np.full(n, n), players]),
        np.concatenate([games.losers, players, np.full(n, n)]),
        np.concatenate([weights, np.full(2 * n, prior)]),
    )


@settings(max_examples=40)
@given(games=comparisons(), cycle=st.booleans(), prior=st.sampled_from([1.0, 0.5, 3.0]))
def test_map_is_ml_with_explicit_dummy_games(games, cycle, prior):
    """MAP (prior=A) = ML on the data plus a dummy player n of strength 1 with A wins and A
    losses against everyone: log-strengths t_i = s_i - s_n. MAP reports t centred; the
    uncentred iterate the callback sees is t itself (the exact scale correction)."""
    if not cycle:  # MAP exists for any data, strongly connected or not
        k = games.n
        weights = None if games.weights is None else games.weights[:-k]
        games = Games(games.n, games.winners[:-k], games.losers[:-k], weights)
    augmented = _fit(_augmented(games, prior).data(), rtol=1e-13)
    t = augmented.scores[:-1] - augmented.scores[-1]
    for method, update in ALL_VARIANTS:
        seen = []
        result = _fit(
            games.data(),
            prior=prior,
            method=method,
            update=update,
            rtol=1e-12,
            callback=lambda r, seen=seen: seen.append(np.array(r.x)),
            maxiter=100_000,
        )
        assert result.success, (method, update, result.message)
        np.testing.assert_allclose(result.scores, t - t.mean(), rtol=0, atol=1e-7)
        np.testing.assert_allclose(seen[-1], t, rtol=0, atol=1e-7)


def test_map_is_finite_where_ml_does_not_exist():
    chain = ([0, 1, 2, 3], [1, 2, 3, 4])  # 0 > 1 > 2 > 3 > 4, never the other way
    with pytest.raises(ValueError, match="prior="):
        bradley_terry(chain)
    for method, update in ALL_VARIANTS:
        result = bradley_terry(chain, prior=1.0, method=method, update=update)
        assert result.success and np.all(np.isfinite(result.scores))
        assert np.all(np.diff(result.scores) < 0)
        assert result.ranking.tolist() == [0, 1, 2, 3, 4]
    silent = bradley_terry(([0, 1], [1, 0]), n_items=3, prior=1.0)  # player 2 never played
    assert silent.success and np.all(np.isfinite(silent.scores))


def _map_gradient(counts, prior, s):
    """The gradient of the log-posterior in the scores, written in logs (no overflow):
    sum_j w_ij sigma(s_j - s_i) - w_ji sigma(s_i - s_j) + prior (sigma(-s_i) - sigma(s_i))."""
    from scipy.special import expit

    w = np.asarray(counts, dtype=float)
    flow = w * expit(s[None, :] - s[:, None])  # w_ij sigma(s_j - s_i)
    return flow.sum(axis=1) - flow.sum(axis=0) + prior * (expit(-s) - expit(s))


def _map_oracle(counts, prior):
    """The MAP scores by L-BFGS on the penalised log-likelihood written here:
    sum_ij w_ij log sigma(s_i - s_j) + prior sum_i (log sigma(s_i) + log sigma(-s_i))."""
    from scipy.special import log_expit

    w = np.asarray(counts, dtype=float)

    def negative(s):
        d = s[:, None] - s[None, :]
        value = np.sum(w * log_expit(d)) + prior * np.sum(log_expit(s) + log_expit(-s))
        return -value, -_map_gradient(w, prior, s)

    found = scipy.optimize.minimize(
        negative, np.zeros(len(w)), jac=True, method="L-BFGS-B",
        options={"gtol": 1e-13, "ftol": 1e-16, "maxiter": 10_000},
    )
    return found.x


def _map_fit(data, counts, prior, method, update, rtol):
    """Fit; for a success check the true criterion (the gradient written above, at the
    returned uncentred scores) and return those scores."""
    seen = []
    result = bradley_terry(
        data, prior=prior, method=method, update=update, rtol=rtol, maxiter=3_000,
        callback=lambda r: seen.append(np.array(r.x)),
    )
    if result.success:
        scale = counts.sum(axis=0).max() + counts.sum(axis=1).max() + 2 * prior
        assert np.max(np.abs(_map_gradient(counts, prior, seen[-1]))) <= rtol * scale * (1 + 1e-9)
        np.testing.assert_allclose(result.scores, seen[-1] - seen[-1].mean(), atol=1e-12)
    return result, seen[-1] if seen else None


@pytest.mark.parametrize("prior", [1e-6, 1e-3, 1.0, 30.0])
@pytest.mark.parametrize("method, update", ALL_VARIANTS)
def test_small_priors_give_the_map_estimate(prior, method, update):
    """Issue 12: prior=1e-6 raised OverflowError from math.exp on data where ML does not
    exist; the MAP estimate exists for any prior and matches an independent L-BFGS fit (to
    1e-4: the gradient tolerance over the posterior's curvature, >= ~prior, is 1e-6).
    Zermelo crawls towards a MAP this flat (a MAXITER status is honest there)."""
    counts = np.zeros((5, 5))
    counts[0, 1] = counts[1, 2] = counts[2, 3] = 2.0  # a chain: ML does not exist
    counts[3, 4] = counts[4, 3] = 1.0
    result, scores = _map_fit(counts, counts, prior, method, update, 1e-12)
    if method == "zermelo" and prior < 1 and not result.success:
        assert result.status == Status.MAXITER
        return
    assert result.success, result.message
    np.testing.assert_allclose(scores, _map_oracle(counts, prior), rtol=0, atol=1e-4)


@pytest.mark.parametrize("prior", [1e-12, 1e-100, 1e-300, 5e-324])
@pytest.mark.parametrize("method, update", ALL_VARIANTS)
def test_any_prior_works_even_where_strengths_overflow(prior, method, update):
    """A chain 0 > 1 > 2: by symmetry the MAP has s_1 = 0 and s_0 = -s_2 = x with
    sigma(-x) = prior tanh(x/2) (player 0's stationarity), solved here in logs by brentq.
    For prior 1e-300 x is about 691: e^x overflows when squared, so the fitter must work
    on the scores. Newman converges in a few sweeps; Zermelo crawls (a MAXITER status is
    honest). The posterior is flat to ~prior along s_0, so the gradient test pins the
    scores only loosely: a success must meet the gradient criterion and lie near x."""
    from scipy.special import log_expit

    def stationarity(x):
        return log_expit(-x) - math.log(prior) - math.log(math.tanh(x / 2))

    x = scipy.optimize.brentq(stationarity, 1e-3, 2000.0, xtol=1e-13, rtol=1e-15)
    counts = np.array([[0.0, 1, 0], [0, 0, 1], [0, 0, 0]])
    result, scores = _map_fit(([0, 1], [1, 2]), counts, prior, method, update, 1e-12)
    if method == "zermelo" and not result.success:
        assert result.status == Status.MAXITER
        return
    assert result.success, result.message
    np.testing.assert_allclose(scores, [x, 0.0, -x], rtol=0, atol=0.5)
    assert result.ranking.tolist() == [0, 1, 2]


def test_weights_spanning_600_orders_of_magnitude_are_fitted_on_the_scores():
    """A strongly connected cycle a > b (1e300), b > c (1), c > a (1e-300): the ML scores
    are 1381.6 and 690.8 apart (each pair's stationarity, written here)."""
    data = PairwiseData.from_pairs([0, 1, 2], [1, 2, 0], weights=[1e300, 1.0, 1e-300])
    result = bradley_terry(data, rtol=1e-12)
    assert result.success, result.message
    ab, bc = math.log(1e300) + math.log(1e300), math.log(1e300)
    expected = np.array([ab + bc, bc, 0.0])
    np.testing.assert_allclose(result.scores, expected - expected.mean(), rtol=1e-9)


@pytest.mark.parametrize("factor", [1e305, 1e-305])
@pytest.mark.parametrize(
    "kwargs", [{}, {"ties": "davidson", "home_advantage": True}, {"ties": "half", "prior": 1.0}]
)
def test_counts_at_extreme_scales_fit_like_counts_near_one(factor, kwargs):
    """The ML is unchanged when every count is multiplied by k (bradley_terry.md §9), and the
    MAP when the prior is multiplied too; before, counts near 1e305 (their total still
    finite) overflowed the kernels' sums (NONFINITE) and counts near 1e-305 went
    subnormal. Counts whose total overflows are refused up front."""
    data = _davidson_home_sample(4, 6, 30, nu=0.5, theta=1.5, venues=True)
    scaled = PairwiseData(
        data.first, data.second, data.home, data.first_wins * factor,
        data.second_wins * factor, data.ties * factor, n_items=data.n_items,
    )
    ties = kwargs.get("ties", "half")
    base = bradley_terry(data, rtol=1e-12, **{**kwargs, "ties": ties})
    prior = kwargs.get("prior")
    extreme = bradley_terry(
        scaled, rtol=1e-12,
        **{**kwargs, "ties": ties, **({"prior": prior * factor} if prior else {})},
    )
    assert base.success and extreme.success, extreme.message
    with pytest.raises(ValueError, match="overflows"):
        PairwiseData(data.first, data.second, data.home, np.full(data.n_groups, 1.7e308),
                     data.second_wins, data.ties, n_items=data.n_items)
    np.testing.assert_allclose(extreme.scores, base.scores, rtol=0, atol=1e-8)
    assert extreme.stats["gradient_norm"] <= 1e-12 * factor * 200  # reported in games
    if kwargs.get("home_advantage"):
        assert extreme.home_advantage == pytest.approx(base.home_advantage, rel=1e-8)
        assert extreme.tie_parameter == pytest.approx(base.tie_parameter, rel=1e-8)


@pytest.mark.parametrize("factor", [1e300, 1e-300])
def test_fisher_errors_scale_as_one_over_the_root_of_the_counts(factor):
    """The information is linear in the counts, so k times the counts divides the standard
    errors by sqrt(k); weights of 1e-300 made the information invert as singular."""
    data = _sample(3, 6, 40, 1.0).data()
    scaled = PairwiseData(
        data.first, data.second, data.home, data.first_wins * factor,
        data.second_wins * factor, data.ties * factor, n_items=data.n_items,
    )
    base = bradley_terry(data, uncertainty="fisher", rtol=1e-12)
    extreme = bradley_terry(scaled, uncertainty="fisher", rtol=1e-12)
    np.testing.assert_allclose(
        extreme.standard_errors * math.sqrt(factor), base.standard_errors, rtol=1e-5
    )


@pytest.mark.parametrize(
    "build",
    [
        lambda: bradley_terry((np.array([0, 1, 2]) + 0j, np.array([1, 2, 0]))),
        lambda: bradley_terry(np.array([[0, 1 + 1j], [1, 0]])),
        lambda: bradley_terry(__import__("scipy.sparse").sparse.csr_array(
            np.array([[0, 1 + 0j], [1, 0]]))),
        lambda: bradley_terry(([0, 1], [1, 0]), x0=np.zeros(2) + 0j),
        lambda: PairwiseData.from_pairs([0, 1], [1, 0], weights=np.ones(2, complex)),
        lambda: PairwiseData.from_pairs([0, 1], [1, 0], ties=np.zeros(2, complex)),
    ],
)
def test_complex_input_is_a_type_error_not_a_silent_cast(build):
    """Issue 12: complex data were cast to real (a ComplexWarning at best)."""
    with pytest.raises(TypeError, match="complex"):
        build()


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n_items": 3.0}, "n_items"),
        ({"n_items": "3"}, "n_items"),
        ({"n_items": True}, "n_items"),
        ({"rng": "x", "uncertainty": "bootstrap"}, "rng"),
        ({"rng": 1.5, "uncertainty": "bootstrap"}, "rng"),
        ({"home_advantage": "yes"}, "home_advantage"),
        ({"home_advantage": 1}, "home_advantage"),
        ({"ties": 1}, "ties"),
        ({"ties": ["half"]}, "ties"),
        ({"uncertainty": ["fisher"]}, "uncertainty"),
        ({"method": None}, "method"),
        ({"prior": "1"}, "prior"),
        ({"prior": 1j}, "prior"),
        ({"x0": ["a", "b", "c"]}, "x0"),
        ({"throw": "no"}, "throw"),
        ({"n_bootstrap": 2.0, "uncertainty": "bootstrap"}, "n_bootstrap"),
    ],
)
def test_wrong_argument_types_are_named_type_errors(kwargs, name):
    """Issue 12: n_items=3.0 surfaced a Numba TypingError, rng='x' numpy's SeedSequence."""
    calls = []
    with pytest.raises(TypeError, match=f"`{name}`"):
        bradley_terry(([0, 1, 2], [1, 2, 0]), callback=calls.append, **kwargs)
    assert calls == []


@pytest.mark.parametrize(
    "winners, losers, error, match",
    [
        (np.array(["a", 1], dtype=object), np.array([1, "a"], dtype=object), TypeError,
         "`winners` mixes labels"),
        (["a", 1, "b"], ["b", "a", "a"], TypeError, "`winners` mixes labels"),
        (["a", "b"], [1, 2], TypeError, "different types"),
        (np.array(["a", None], dtype=object), np.array(["b", "a"], dtype=object), ValueError,
         "`winners` has a missing label"),
        (np.array(["a", "b"], dtype=object), np.array([np.nan, "a"], dtype=object), ValueError,
         "`losers` has a missing label"),
        (np.array([1.0, np.nan]), np.array([2.0, 1.0]), ValueError, "missing label"),
        (np.array(["a", "b", ["c"]], dtype=object), np.array(["b", "a", "a"]), TypeError,
         "`winners` holds an unhashable label"),
        (np.array([True, False]), np.array([False, True]), TypeError, "booleans"),
        (np.array([2**63 + 5], dtype=np.uint64), np.array([0], dtype=np.uint64), ValueError,
         "out of range"),
    ],
)
def test_labels_that_cannot_be_ranked_are_named(winners, losers, error, match):
    """Issue 12: mixed-type or missing labels failed inside np.unique. Mixing kinds (str and
    numbers, say) is refused rather than given an arbitrary order."""
    with pytest.raises(error, match=match):
        bradley_terry((winners, losers))


def test_unorderable_labels_can_be_ordered_by_the_caller():
    """Labels without an order (here plain objects) need ``labels=``; with it they work."""
    a, b = object(), object()

    def side(*items):
        array = np.empty(len(items), dtype=object)
        array[:] = items
        return array

    with pytest.raises(TypeError, match="cannot be sorted.*labels="):
        PairwiseData.from_pairs(side(a, b), side(b, a))
    data = PairwiseData.from_pairs(side(a, b), side(b, a), labels=side(b, a))
    assert data.labels.tolist() == [b, a]


# --------------------------------------------------------------------------- 5. sweeps


@settings(max_examples=50)
@given(games=comparisons(max_spread=2.0))
def test_async_newman_never_needs_more_sweeps_than_zermelo(games):
    data = games.data()
    newman = _fit(data, method="newman", update="async", rtol=1e-10)
    zermelo = _fit(data, method="zermelo", update="async", rtol=1e-10)
    assert newman.success and zermelo.success
    assert newman.nit <= zermelo.nit
    assert newman.stats["sweeps"] == newman.nit == newman.nfev


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n, m", [(20, 300), (100, 3000)])
def test_sync_newman_needs_fewer_sweeps_than_zermelo_on_dense_data(seed, n, m):
    """Sync Newman is damped where a Jacobi step could overshoot (on sparse data it would:
    tests/test_theory_bradley_terry.py); on dense data it keeps a large lead. On two players
    Zermelo's sync sweep is exact in one step, so the async property above is the universal
    one."""
    rng = np.random.default_rng(seed)
    skill = rng.standard_normal(n)
    i = rng.integers(0, n, m)
    j = (i + rng.integers(1, n, m)) % n
    won = rng.random(m) < 1 / (1 + np.exp(skill[j] - skill[i]))
    data = (np.where(won, i, j), np.where(won, j, i))
    newman = _fit(data, method="newman", update="sync", rtol=1e-10)
    zermelo = _fit(data, method="zermelo", update="sync", rtol=1e-10)
    assert newman.success and zermelo.success
    assert newman.nit <= zermelo.nit


FOUR_PLAYERS = [[0, 3, 0, 0], [0, 0, 1, 0], [2, 4, 0, 7], [8, 3, 0, 0]]


@pytest.mark.parametrize(
    "counts, prior",
    [
        ([[0, 2], [1, 0]], None),  # undamped: a period-2 oscillation (rate exactly 1)
        (FOUR_PLAYERS, None),  # undamped: NONFINITE at sweep 1555 (linear rate 1.78)
        (FOUR_PLAYERS, 1.0),  # undamped MAP: ends at maxiter (linear rate 1.14)
    ],
    ids=["two-players", "four-players", "four-players-map"],
)
def test_sync_newman_converges(counts, prior):
    data = PairwiseData.from_counts(np.array(counts, dtype=float))
    zermelo = _fit(data, method="zermelo", update="sync", prior=prior)
    assert zermelo.success
    result = _fit(data, method="newman", update="sync", prior=prior, maxiter=10_000)
    assert result.success, result.message
    np.testing.assert_allclose(result.scores, zermelo.scores, atol=1e-8)


# --------------------------------------------------------------------------- 6. rates


@pytest.mark.parametrize("method, update", ALL_VARIANTS)
@settings(max_examples=15)
@given(
    seed=seeds,
    n=st.integers(6, 20),
    local=st.integers(1, 3),
    per=st.integers(1, 4),
    spread=st.floats(0.0, 1.5),
)
def test_observed_rate_matches_the_linearised_theory(method, update, seed, n, local, per, spread):
    """``result.rate`` (the tail log-slope of the gradient norms) is the spectral radius of
    the sweep's linearisation at the fixed point, within 10 %. Ladders (each player against
    the next ``local``) keep the rate away from 0 so the tail is long; a random start
    excites every mode."""
    games = _sample(seed, n, per, spread, local=local)
    data = games.data()
    reference = _fit(data, method="zermelo", update="async", rtol=1e-12)
    predicted = theory.linear_rate(games.counts(), reference.scores, method=method, update=update)
    x0 = np.random.default_rng(seed).normal(size=n)
    if predicted > 1.001:  # locally unstable (sync Newman only): it cannot converge
        assert (method, update) == ("newman", "sync")
        assert not _fit(data, method=method, update=update, maxiter=1_000, x0=x0).success
        return
    result = _fit(data, method=method, update=update, rtol=1e-13, maxiter=20_000, x0=x0)
    assume(predicted < 0.99)
    assert result.success, result.message
    assume(result.nit >= 30)
    assert result.rate == pytest.approx(predicted, rel=0.10)


# --------------------------------------------------------------------------- 7. ties, home


def _davidson_home_sample(seed, n, per, *, nu, theta, venues, spread=1.0):
    """Davidson/home-advantage outcomes: per comparison (i, j) the home player is i, j or
    nobody; lam = theta pi at home; P(i) = lam_i/D, P(tie) = 2 nu sqrt(lam_i lam_j)/D."""
    rng = np.random.default_rng(seed)
    s = rng.normal(scale=spread, size=n)
    i = rng.integers(0, n, per * n)
    j = (i + rng.integers(1, n, i.size)) % n
    venue = rng.integers(0, 3, i.size) if venues else np.zeros(i.size, int)
    lam_i = np.exp(s[i]) * np.where(venue == 1, theta, 1.0)
    lam_j = np.exp(s[j]) * np.where(venue == 2, theta, 1.0)
    tie_mass = 2 * nu * np.sqrt(lam_i * lam_j)
    u = rng.random(i.size) * (lam_i + lam_j + tie_mass)
    i_wins, tie = u < lam_i, u >= lam_i + lam_j
    home = np.where(venue == 1, i, np.where(venue == 2, j, -1))
    # the win cycle, at neutral venues, keeps the graph strongly connected
    ring = np.arange(n)
    winners = np.concatenate([np.where(i_wins | tie, i, j), ring])
    losers = np.concatenate([np.where(i_wins | tie, j, i), (ring + 1) % n])
    return PairwiseData.from_pairs(
        winners,
        losers,
        ties=np.concatenate([tie, np.zeros(n, bool)]),
        home=np.concatenate([home, np.full(n, -1)]).tolist(),
        n_items=n,
    )


@pytest.mark.parametrize(
    "ties, home_advantage",
    [("davidson", False), (None, True), ("half", True), ("davidson", True)],
)
@settings(max_examples=15)
@given(
    seed=seeds,
    n=st.integers(2, 10),
    per=st.integers(15, 40),
    nu=st.floats(0.2, 1.5),
    theta=st.floats(0.5, 2.5),
    variant=st.sampled_from(CONVERGENT),
)
def test_ties_and_home_advantage_match_their_mle(
    ties, home_advantage, seed, n, per, nu, theta, variant
):
    data = _davidson_home_sample(
        seed,
        n,
        per,
        nu=nu if ties else 0.0,
        theta=theta if home_advantage else 1.0,
        venues=home_advantage,
    )
    if ties == "davidson":
        assume(data.has_ties)
    if home_advantage:
        home = data.home
        assume(np.any(home & (data.first_wins > 0)) and np.any(home & (data.second_wins > 0)))
    expected, nu_hat, theta_hat, gradient = _mle(data, ties=ties, home_advantage=home_advantage)
    assert gradient <= 1e-6 * _games_per_player(data)
    method, update = variant
    result = _fit(
        data, method=method, update=update, ties=ties, home_advantage=home_advantage, rtol=1e-12
    )
    assert result.success, result.message
    np.testing.assert_allclose(result.scores, expected, rtol=0, atol=1e-6)
    if ties == "davidson":
        assert result.tie_parameter == pytest.approx(nu_hat, rel=1e-6)
        assert result.stats["tie_parameter"] == result.tie_parameter
    else:
        assert result.tie_parameter is None
    if home_advantage:
        assert result.home_advantage == pytest.approx(theta_hat, rel=1e-6)
    else:
        assert result.home_advantage is None
    check = _gradient_at(
        data, result.scores, nu=result.tie_parameter, theta=result.home_advantage, ties=ties
    )
    assert np.max(np.abs(check)) <= 1e-8 * _games_per_player(data)


@settings(max_examples=30)
@given(games=comparisons(weighted=False), seed=seeds)
def test_half_ties_are_half_a_win_each_way(games, seed):
    rng = np.random.default_rng(seed)
    tied = rng.random(games.winners.size) < 0.3
    with_ties = PairwiseData.from_pairs(games.winners, games.losers, ties=tied, n_items=games.n)
    halves = PairwiseData.from_pairs(
        np.concatenate([games.winners[~tied], games.winners[tied], games.losers[tied]]),
        np.concatenate([games.losers[~tied], games.losers[tied], games.winners[tied]]),
        weights=np.concatenate([np.ones((~tied).sum()), np.full(2 * tied.sum(), 0.5)]),
        n_items=games.n,
    )
    assume(np.any(tied))
    for method, update in CONVERGENT:
        half = _fit(with_ties, ties="half", method=method, update=update, rtol=1e-12)
        plain = _fit(halves, method=method, update=update, rtol=1e-12)
        np.testing.assert_allclose(half.scores, plain.scores, rtol=0, atol=1e-9)
        assert half.tie_parameter is None


def test_home_advantage_is_read_off_a_balanced_design():
    """Two equal teams, each at home 10 times, the home side winning 7 of 10: theta = 7/3."""
    winners = [0] * 7 + [1] * 3 + [1] * 7 + [0] * 3
    losers = [1] * 7 + [0] * 3 + [0] * 7 + [1] * 3
    home = [0] * 10 + [1] * 10
    result = bradley_terry(
        PairwiseData.from_pairs(winners, losers, home=home), home_advantage=True, rtol=1e-13
    )
    assert result.home_advantage == pytest.approx(7 / 3, rel=1e-10)
    np.testing.assert_allclose(result.scores, 0.0, atol=1e-12)


def test_davidson_is_read_off_a_symmetric_design():
    """Two equal players, 3 wins each way and 4 ties: P(tie) = nu/(1 + nu) = 4/10, nu = 2/3."""
    winners, losers = [0, 0, 0, 1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0, 1, 1, 1, 1]
    ties = [False] * 6 + [True] * 4
    result = bradley_terry(
        PairwiseData.from_pairs(winners, losers, ties=ties), ties="davidson", rtol=1e-13
    )
    assert result.tie_parameter == pytest.approx(2 / 3, rel=1e-10)
    np.testing.assert_allclose(result.scores, 0.0, atol=1e-12)


# --------------------------------------------------------------------------- 8-9. errors


def test_fords_condition_names_the_players_and_suggests_a_prior():
    # {ann, bob} beat each other and always beat {cy, dee}, who beat each other.
    winners = ["ann", "bob", "cy", "dee", "ann", "bob"]
    losers = ["bob", "ann", "dee", "cy", "cy", "dee"]
    with pytest.raises(ValueError, match="strongly connected") as info:
        bradley_terry(PairwiseData.from_pairs(winners, losers))
    message = str(info.value)
    assert "prior=" in message
    for name in ("'ann'", "'bob'", "'cy'", "'dee'"):
        assert name in message
    assert bradley_terry(PairwiseData.from_pairs(winners, losers), prior=1.0).success


def test_fords_condition_names_an_unbeaten_group():
    # 0 > 1 > 2 > 0 is a cycle; 3 beat 0 and never lost
    with pytest.raises(ValueError, match="prior=") as info:
        bradley_terry((np.array([0, 1, 2, 3]), np.array([1, 2, 0, 0])))
    assert "{3}" in str(info.value) and "{0, 1, 2}" in str(info.value)


def test_fords_condition_names_a_player_without_games():
    with pytest.raises(ValueError, match="prior=") as info:
        bradley_terry((np.array([0, 1]), np.array([1, 0])), n_items=3)  # player 2 never played
    assert "{2}" in str(info.value)


def _pair_data():
    return PairwiseData.from_pairs([0, 1, 2, 0], [1, 2, 0, 2])


@pytest.mark.parametrize(
    "build, error, match",
    [
        (lambda: PairwiseData.from_counts([[0, -1], [1, 0]]), ValueError, "non-negative"),
        (lambda: PairwiseData.from_counts([[0, np.nan], [1, 0]]), ValueError, "finite"),
        (lambda: PairwiseData.from_counts([[0, np.inf], [1, 0]]), ValueError, "finite"),
        (lambda: PairwiseData.from_counts([[1, 1], [1, 0]]), ValueError, "itself"),
        (lambda: PairwiseData.from_counts(np.zeros((3, 3))), ValueError, "empty"),
        (lambda: PairwiseData.from_counts([[0, 1]]), ValueError, "square"),
        (lambda: PairwiseData.from_pairs([0, 1], [1, 0], weights=[1, -1]), ValueError, "weights"),
        (
            lambda: PairwiseData.from_pairs([0, 1], [1, 0], weights=[1, np.nan]),
            ValueError,
            "weights",
        ),
        (lambda: PairwiseData.from_pairs([0, 1], [1, 0], weights=[0, 0]), ValueError, "empty"),
        (lambda: PairwiseData.from_pairs([0, 1], [1, 0], weights=[1]), ValueError, "weights"),
        (lambda: PairwiseData.from_pairs([0, 1], [0, 0]), ValueError, "itself"),
        (lambda: PairwiseData.from_pairs(["a"], ["a"]), ValueError, "'a'.*itself"),
        (lambda: PairwiseData.from_pairs([], []), ValueError, "empty"),
        (lambda: PairwiseData.from_pairs([0, 1], [1]), ValueError, "equal length"),
        (lambda: PairwiseData.from_pairs([0, -1], [1, 0]), ValueError, "non-negative"),
        (lambda: PairwiseData.from_pairs([0, 3], [1, 0], n_items=3), ValueError, "out of range"),
        (
            lambda: PairwiseData.from_pairs(["a", "c"], ["b", "a"], labels=["a", "b"]),
            ValueError,
            "unknown label 'c'",
        ),
        (
            lambda: PairwiseData.from_pairs(["a", "b"], ["b", "a"], labels=["a", "b", "a"]),
            ValueError,
            "duplicates",
        ),
        (
            lambda: PairwiseData.from_pairs(["a"], ["b"], home=["z"]),
            ValueError,
            "unknown label 'z'",
        ),
        (
            lambda: PairwiseData.from_pairs(["a", "b"], ["b", "c"], home=["c", None]),
            ValueError,
            "neither",
        ),
        (lambda: PairwiseData.from_pairs([0, 1], [1, 2], home=[2, -1]), ValueError, "neither"),
        (lambda: PairwiseData.from_pairs([0, 1], [1, 2], home=["x", -1]), ValueError, "home"),
        (lambda: PairwiseData.from_pairs([0, 1], [1, 0], ties=[1, 2]), ValueError, "ties"),
        (
            lambda: PairwiseData.from_pairs([0, 1], [1, 0], ties=["yes", "maybe"]),
            ValueError,
            "maybe",
        ),
        (lambda: PairwiseData.from_pairs([0, 1], [1, 0], ties=[True]), ValueError, "ties"),
    ],
)
def test_bad_data_is_rejected_naming_the_problem(build, error, match):
    with pytest.raises(error, match=match):
        build()


TIED = PairwiseData.from_pairs([0, 1, 0], [1, 0, 1], ties=[False, False, True])


@pytest.mark.parametrize(
    "data, kwargs, error, match",
    [
        (TIED, {}, ValueError, "ties='half'"),
        (_pair_data(), {"ties": "davidson"}, ValueError, "davidson"),
        (
            PairwiseData.from_pairs([0], [1], ties=[True]),
            {"ties": "davidson"},
            ValueError,
            "decided",
        ),
        (_pair_data(), {"x0": np.zeros(2)}, ValueError, "x0"),
        (_pair_data(), {"x0": np.zeros((3, 1))}, ValueError, "x0"),
        (_pair_data(), {"x0": [0.0, np.nan, 0.0]}, ValueError, "x0"),
        (_pair_data(), {"home_advantage": True}, ValueError, "home"),
        (_pair_data(), {"method": "gradient"}, ValueError, "method"),
        (_pair_data(), {"update": "parallel"}, ValueError, "update"),
        (_pair_data(), {"ties": "thirds"}, ValueError, "ties"),
        (_pair_data(), {"prior": -1.0}, ValueError, "prior"),
        (_pair_data(), {"prior": 0.0}, ValueError, "prior"),
        (_pair_data(), {"prior": math.nan}, ValueError, "prior"),
        (_pair_data(), {"prior": math.inf}, ValueError, "prior"),
        (_pair_data(), {"prior": "strong"}, TypeError, "prior"),
        (_pair_data(), {"uncertainty": "jackknife"}, ValueError, "uncertainty"),
        (_pair_data(), {"uncertainty": "bootstrap", "n_bootstrap": 0}, ValueError, "n_bootstrap"),
        (_pair_data(), {"n_items": 5}, ValueError, "n_items"),
        ([[0, 1], [1, 0]], {}, TypeError, "data"),
        ("games.csv", {}, TypeError, "data"),
    ],
)
def test_bad_arguments_are_rejected_before_any_sweep(data, kwargs, error, match):
    calls = []
    with pytest.raises(error, match=match):
        bradley_terry(data, callback=calls.append, **kwargs)
    assert calls == []


def test_home_team_always_winning_ends_with_a_status_not_silent_nans():
    """The home advantage MLE does not exist (theta -> infinity) although Ford's condition
    holds: the fit must fail loudly (an error up front, or a non-success status), never
    report NaN scores as a success."""
    data = PairwiseData.from_pairs([0, 1, 2], [1, 2, 0], home=[0, 1, 2])
    try:
        result = bradley_terry(data, home_advantage=True, maxiter=200)
    except ValueError as error:
        assert "home" in str(error)
        return
    assert not result.success
    assert result.status == Status.NONFINITE
    assert not np.isfinite(result.residuals[-1])
    assert "NaN or Inf" in result.message


def test_home_team_never_winning_is_not_a_success():
    data = PairwiseData.from_pairs([0, 1], [1, 0], home=[1, 0])  # the away side always won
    try:
        result = bradley_terry(data, home_advantage=True, maxiter=200)
    except ValueError as error:
        assert "home" in str(error)
        return
    assert not result.success
    assert result.home_advantage is None or result.home_advantage > 0


def test_a_huge_starting_point_gives_a_status_not_a_warning():
    result = bradley_terry(([0, 1], [1, 0]), x0=[1000.0, -1000.0])
    assert result.success or result.status == Status.NONFINITE


# --------------------------------------------------------------------------- 10. uncertainty


def _fisher_oracle(games, scores):
    return np.sqrt(np.diag(np.linalg.pinv(_laplacian(games.counts(), scores), hermitian=True)))


@settings(max_examples=25)
@given(games=comparisons(max_n=12))
def test_fisher_errors_are_the_laplacian_pseudo_inverse(games):
    result = _fit(games.data(), uncertainty="fisher", rtol=1e-12)
    expected = _fisher_oracle(games, result.scores)
    np.testing.assert_allclose(result.standard_errors, expected, rtol=1e-6)
    z = 1.959963984540054
    np.testing.assert_allclose(
        result.intervals,
        result.scores[:, None] + np.outer(result.standard_errors, [-z, z]),
        rtol=0,
        atol=1e-12,
    )


def test_fisher_errors_are_accurate():
    games = Games(4, np.array([2, 1, 1, 3, 0, 1, 2, 3]), np.array([0, 3, 2, 2, 1, 2, 3, 0]))
    result = _fit(games.data(), uncertainty="fisher", rtol=1e-12)
    np.testing.assert_allclose(
        result.standard_errors, _fisher_oracle(games, result.scores), rtol=1e-7
    )


def test_map_fisher_errors_use_the_map_point():
    counts = np.zeros((6, 6))
    counts[0, 1:] = 9.0  # one strong player, five equal weaker ones
    counts[1:, 0] = 1.0
    for i in range(1, 6):
        counts[i, 1 + i % 5] = counts[1 + i % 5, i] = 2.0
    seen = []
    result = _fit(
        counts,
        prior=1.0,
        uncertainty="fisher",
        rtol=1e-12,
        callback=lambda r: seen.append(np.array(r.x)),
    )
    s = seen[-1]  # the uncentred MAP scores
    q = 1 / (1 + np.exp(-s))
    information = _laplacian(counts, s) + np.diag(2 * q * (1 - q))
    centring = np.eye(6) - 1 / 6
    expected = np.sqrt(np.diag(centring @ np.linalg.inv(information) @ centring))
    np.testing.assert_allclose(result.standard_errors, expected, rtol=1e-5)


def test_bootstrap_is_reproducible_and_brackets_the_estimate():
    data = _sample(11, 8, 30, 1.0).data()
    a = bradley_terry(data, uncertainty="bootstrap", n_bootstrap=60, rng=5)
    b = bradley_terry(data, uncertainty="bootstrap", n_bootstrap=60, rng=np.random.default_rng(5))
    c = bradley_terry(data, uncertainty="bootstrap", n_bootstrap=60, rng=6)
    np.testing.assert_array_equal(a.intervals, b.intervals)
    np.testing.assert_array_equal(a.standard_errors, b.standard_errors)
    assert not np.array_equal(a.intervals, c.intervals)
    assert a.intervals.shape == (8, 2) and np.all(a.standard_errors > 0)
    assert np.all(a.intervals[:, 0] <= a.scores) and np.all(a.scores <= a.intervals[:, 1])
    assert a.stats["bootstrap_failures"] == 0
    fisher = bradley_terry(data, uncertainty="fisher")
    np.testing.assert_allclose(a.standard_errors, fisher.standard_errors, rtol=0.35)


def test_bootstrap_of_weights_that_round_to_no_comparison_is_refused():
    # 5e-300 comparisons redrawn as integer counts would be none: no silent zero intervals
    data = PairwiseData.from_pairs([0, 1, 2], [1, 2, 0], weights=[1e-300] * 3)
    with pytest.raises(ValueError, match="round to none"):
        bradley_terry(data, uncertainty="bootstrap", n_bootstrap=5, rng=0, prior=1.0)


def test_bootstrap_with_ties_home_and_a_prior():
    data = _davidson_home_sample(3, 6, 20, nu=0.5, theta=1.5, venues=True)
    for kwargs in ({"ties": "davidson", "home_advantage": True}, {"ties": "half", "prior": 1.0}):
        result = bradley_terry(data, uncertainty="bootstrap", n_bootstrap=30, rng=1, **kwargs)
        assert result.success and result.standard_errors.shape == (6,)
        assert np.all(result.intervals[:, 0] <= result.scores + 1e-12)
        assert np.all(result.scores <= result.intervals[:, 1] + 1e-12)


@pytest.mark.parametrize("uncertainty, replicates", [("fisher", 400), ("bootstrap", 40)])
def test_intervals_cover_the_true_scores(uncertainty, replicates):
    """95 % intervals cover the true centred scores 95 % of the time, within a binomial band.

    With ``N`` intervals at nominal coverage 0.95 the count inside has standard deviation
    ``sqrt(N 0.95 0.05)``; the band is 4 of them each way (a correct method fails with
    probability ~1e-4 under independence; the seed is fixed, so the test is deterministic).
    Fisher: N = 2400, band 0.95 +/- 0.018; bootstrap (200 refits each): N = 240, band
    0.95 +/- 0.056. Standard errors 35 % too small give about 0.80 and fail both.
    """
    rng = np.random.default_rng(2024)
    inside = total = 0
    for _ in range(replicates):
        n = 6
        s = rng.normal(size=n)
        s -= s.mean()
        i = rng.integers(0, n, 300)
        j = (i + rng.integers(1, n, i.size)) % n
        won = rng.random(i.size) < 1 / (1 + np.exp(s[j] - s[i]))
        data = PairwiseData.from_pairs(np.where(won, i, j), np.where(won, j, i), n_items=n)
        result = bradley_terry(data, uncertainty=uncertainty, n_bootstrap=200, rng=rng)
        inside += int(np.sum((result.intervals[:, 0] <= s) & (s <= result.intervals[:, 1])))
        total += n
    band = 4 * math.sqrt(total * 0.95 * 0.05)
    assert abs(inside - 0.95 * total) <= band, f"coverage {inside / total:.3f} of {total}"


# --------------------------------------------------------------------------- 11. warm starts


@settings(max_examples=30)
@given(games=comparisons(), shift=st.floats(-5, 5), variant=st.sampled_from(CONVERGENT))
def test_a_refit_from_the_previous_scores_needs_at_most_one_sweep(games, shift, variant):
    method, update = variant
    first = _fit(games.data(), method=method, update=update, rtol=1e-10)
    again = _fit(games.data(), method=method, update=update, rtol=1e-10, x0=first.scores + shift)
    assert again.success and again.nit <= 1
    np.testing.assert_allclose(again.scores, first.scores, atol=1e-9)


@pytest.mark.parametrize("method, update", CONVERGENT)
def test_warm_start_after_new_games_and_a_new_player(method, update):
    """Old scores with the new player at 0: the same answer in fewer sweeps overall (not
    always per data set: the gradient test can take a sweep or two more)."""
    warm_sweeps = cold_sweeps = 0
    for seed in range(30):
        rng = np.random.default_rng(seed)
        games = _sample(
            seed, int(rng.integers(5, 21)), int(rng.integers(5, 11)), rng.uniform(0, 1.5)
        )
        first = _fit(games.data(), method=method, update=update, rtol=1e-10)
        new, i = games.n, int(rng.integers(games.n))
        j = int((i + rng.integers(1, games.n)) % games.n)
        more = Games(
            games.n + 1, np.append(games.winners, [new, 0, i]), np.append(games.losers, [0, new, j])
        )
        cold = _fit(more.data(), method=method, update=update, rtol=1e-10)
        warm = _fit(
            more.data(), method=method, update=update, rtol=1e-10, x0=np.append(first.scores, 0.0)
        )
        assert warm.success and cold.success
        np.testing.assert_allclose(warm.scores, cold.scores, atol=1e-7)
        warm_sweeps += warm.nit
        cold_sweeps += cold.nit
    assert warm_sweeps < 0.95 * cold_sweeps


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"method": "zermelo", "update": "sync"},
        {"prior": 1.0},
        {"ties": "davidson", "home_advantage": True},
    ],
)
def test_callback_sees_every_sweep(kwargs):
    data = _davidson_home_sample(7, 6, 20, nu=0.5, theta=1.5, venues=True)
    if "ties" not in kwargs:
        data = PairwiseData(
            data.first,
            data.second,
            data.home,
            data.first_wins + data.ties / 2,
            data.second_wins + data.ties / 2,
            np.zeros_like(data.ties),
            n_items=data.n_items,
        )
    seen = []
    result = bradley_terry(data, rtol=1e-10, callback=seen.append, **kwargs)
    assert [r.nit for r in seen] == list(range(result.nit + 1))
    assert result.nit >= 2
    assert [r.residuals[-1] for r in seen] == result.residuals.tolist()
    assert all(r.status == Status.IN_PROGRESS for r in seen[:-1])
    assert seen[-1].status == Status.CONVERGED
    assert result.residuals.size == result.nit + 1 == result.nfev + 1


def test_result_fields_and_scipy_conversion():
    result = bradley_terry(_pair_data())
    assert isinstance(result, itersolve.SolveResult)
    assert result.x is result.scores or np.array_equal(result.x, result.scores)
    assert result.x.dtype == np.float64
    np.testing.assert_allclose(result.strengths, np.exp(result.scores))
    np.testing.assert_allclose(np.prod(result.strengths), 1.0)
    assert {"gradient_norm", "step_norm", "sweeps"} <= set(result.stats)
    assert result.standard_errors is None and result.intervals is None
    assert result.to_scipy().status == 0
    with pytest.raises(AttributeError):
        result.scores = None


def test_gradient_kernel_survives_a_count_times_a_strength_overflowing():
    """``plain_gradient`` sums ``(wins pi_j - losses pi_i) / (pi_i + pi_j)`` (its fast form);
    with counts near 1e300 (left unscaled when they span 1e-300..1e300) and strengths near
    e^150 the products overflow, and the row must be summed again in probabilities.
    Oracle: observed minus expected wins, written with the logistic function."""
    from scipy.special import expit

    from itersolve._ranking._kernels import plain_gradient

    # W[i, j]: games i won against j; player 0 (strength e^150) lost 1e300 times to 1
    beat = np.array([[0.0, 3e-300, 2.0], [1e300, 0.0, 1e300], [5.0, 4e299, 0.0]])
    scores = np.array([150.0, -150.0, 10.0])
    indptr = np.array([0, 2, 4, 6])
    opponents = np.array([j for i in range(3) for j in range(3) if j != i], dtype=np.int32)
    rows = np.repeat(np.arange(3), 2)
    wins, losses = beat[rows, opponents], beat[opponents, rows]
    with np.errstate(over="ignore"):  # the fast form's products overflow
        assert not np.all(np.isfinite(losses * np.exp(scores[rows])))
    out = np.empty(3)
    plain_gradient(indptr, opponents, wins, losses, np.exp(scores), 0.0, out)
    expected = [
        sum(
            beat[i, j] * expit(scores[j] - scores[i]) - beat[j, i] * expit(scores[i] - scores[j])
            for j in range(3)
            if j != i
        )
        for i in range(3)
    ]
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, expected, rtol=1e-12)
