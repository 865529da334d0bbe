"""Bradley–Terry data of itersolve.testing: the planted MLE against independent oracles.

The oracles read the raw rows (``winners``, ``losers``, ``tied``, ``home_players``), never
the generator's groups: the likelihood's gradient in exact rational arithmetic (every
sufficient statistic minus its expectation must be exactly 0), the same likelihood in
floating point minimised by ``scipy.optimize`` from zero, the peer ``choix`` (plain model)
and ``itersolve.bradley_terry`` for every tie model with and without home advantage.
"""

from __future__ import annotations

import doctest
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from itersolve import PairwiseData, bradley_terry
from itersolve.testing import _ranking, problems
from itersolve.testing.problems import minimum_games, pairwise_problem

MODES = list(itertools.product([None, "half", "davidson"], [False, True]))
ALL_VARIANTS = [("newman", "async"), ("newman", "sync"), ("zermelo", "async"), ("zermelo", "sync")]
CONVERGENT = [("newman", "async"), ("zermelo", "async"), ("zermelo", "sync")]


def rebuilt(case):
    return eval(repr(case), vars(problems))  # the recipe is the call that rebuilds the case


# --------------------------------------------------------------------------- oracles


def _exact_root(q: Fraction) -> Fraction:
    root = Fraction(math.isqrt(q.numerator), math.isqrt(q.denominator))
    assert root * root == q, f"{q} is not a rational square: sqrt(pi_i pi_j) must be rational"
    return root


def exact_gradient(case):
    """Observed minus expected scores (per player), ties and home scores, in rationals.

    Davidson: P(w) = lam_w / D, P(tie) = 2 nu sqrt(lam_w lam_l) / D, D = lam_w + lam_l +
    2 nu sqrt(lam_w lam_l), lam = theta pi at home; a tie scores 1/2 each (nu = 0 and
    ties as halves under ``ties="half"``).
    """
    mle = case.mle
    pi = mle.exact_strengths
    nu = mle.exact_tie_parameter or Fraction(0)
    theta = mle.exact_home_advantage or Fraction(1)
    scores = [Fraction(0)] * len(pi)
    ties = home = Fraction(0)
    rows = zip(case.winners.tolist(), case.losers.tolist(), case.tied.tolist(),
               case.home_players.tolist())  # fmt: skip
    for w, loser, tied, h in rows:
        lam_w = pi[w] * (theta if h == w else 1)
        lam_l = pi[loser] * (theta if h == loser else 1)
        r = _exact_root(lam_w * lam_l) if nu else Fraction(0)
        D = lam_w + lam_l + 2 * nu * r
        got_w, got_l = (Fraction(1, 2), Fraction(1, 2)) if tied else (Fraction(1), Fraction(0))
        gap_w, gap_l = got_w - (lam_w + nu * r) / D, got_l - (lam_l + nu * r) / D
        scores[w] += gap_w
        scores[loser] += gap_l
        ties += (int(tied) - 2 * nu * r / D) if nu else 0  # a statistic of Davidson's only
        home += gap_w if h == w else gap_l if h == loser else 0
    return scores, ties, home


def negative_log_likelihood(z, case):
    """``-log L(s, log nu, log theta) + (sum s)^2 / 2`` from the rows, and its gradient."""
    n = case.mle.scores.size
    w, loser, tied, h = case.winners, case.losers, case.tied, case.home_players
    davidson, fit_theta = case.options["ties"] == "davidson", case.options["home_advantage"]
    s = z[:n]
    log_nu = z[n] if davidson else -np.inf
    log_theta = z[-1] if fit_theta else 0.0
    a = s[w] + (h == w) * log_theta
    b = s[loser] + (h == loser) * log_theta
    top = np.maximum(a, b)
    ea, eb = np.exp(a - top), np.exp(b - top)
    et = 2 * np.exp(log_nu + (a + b) / 2 - top) if davidson else 0.0
    D = ea + eb + et
    pa, pb, pt = ea / D, eb / D, et / D
    got_a = np.where(tied, 0.5, 1.0)
    got_b = 1.0 - got_a
    log_p = np.where(tied, 0.5 * (a + b), a) - top - np.log(D)
    if davidson:
        log_p = log_p + tied * (math.log(2) + log_nu)
    gap_a, gap_b = got_a - pa - pt / 2, got_b - pb - pt / 2
    gradient = np.zeros_like(z)
    np.add.at(gradient, w, gap_a)
    np.add.at(gradient, loser, gap_b)
    if davidson:
        gradient[n] = np.sum(tied - pt)
    if fit_theta:
        gradient[-1] = np.sum((h == w) * gap_a + (h == loser) * gap_b)
    total = s.sum()
    gradient = -gradient
    gradient[:n] += total
    return -log_p.sum() + total**2 / 2, gradient


def planted_point(case):
    mle = case.mle
    extra = [math.log(v) for v in (mle.tie_parameter, mle.home_advantage) if v is not None]
    return np.concatenate([mle.scores, extra])


def lbfgs(case):
    """The likelihood's maximum by L-BFGS from zero: (scores, log nu/theta, max |gradient|)."""
    start = np.zeros_like(planted_point(case))
    result = scipy.optimize.minimize(
        negative_log_likelihood, start, args=(case,), jac=True, method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-16, "maxiter": 20_000, "maxcor": 30},
    )  # fmt: skip
    return result.x, float(np.max(np.abs(negative_log_likelihood(result.x, case)[1])))


def check_exact(case):
    scores, ties, home = exact_gradient(case)
    assert all(g == 0 for g in scores), (case, scores)
    assert ties == 0 and home == 0, (case, ties, home)


# --------------------------------------------------------------------------- certificates


@pytest.mark.parametrize("ties, home", MODES)
@pytest.mark.parametrize("n, extra", [(2, 0), (3, 1), (6, 7), (12, 150)])
def test_the_gradient_vanishes_exactly_at_the_planted_point(ties, home, n, extra):
    for seed in range(4):
        total = minimum_games(n, ties=ties, home=home) + extra
        check_exact(pairwise_problem(n_items=n, n_games=total, ties=ties, home=home, seed=seed))


@pytest.mark.parametrize("ties, home", MODES)
@pytest.mark.parametrize("seed", range(3))
def test_scipy_finds_the_planted_maximum(ties, home, seed):
    n = 3 + seed * 4
    total = minimum_games(n, ties=ties, home=home) + 40 * seed
    case = pairwise_problem(n_items=n, n_games=total, ties=ties, home=home, seed=seed)
    planted = planted_point(case)
    at_planted = negative_log_likelihood(planted, case)[1]
    assert np.max(np.abs(at_planted)) <= 1e-12 * total  # a rounding error, nothing more
    found, gradient = lbfgs(case)
    assert gradient <= 1e-7 * total
    found[:n] -= found[:n].mean()
    np.testing.assert_allclose(found, planted, rtol=0, atol=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_choix_finds_the_planted_scores(seed):
    choix = pytest.importorskip("choix")
    case = pairwise_problem(n_items=4 + 3 * seed, n_games=60 + 50 * seed, seed=seed)
    pairs = list(zip(case.winners.tolist(), case.losers.tolist(), strict=True))
    n = case.mle.scores.size
    for params in (
        choix.ilsr_pairwise(n, pairs, tol=1e-13, max_iter=10_000),
        choix.opt_pairwise(n, pairs, alpha=0.0, method="BFGS", tol=1e-12),
    ):
        np.testing.assert_allclose(params - params.mean(), case.mle.scores, rtol=0, atol=1e-6)


@pytest.mark.parametrize("ties, home", MODES)
@pytest.mark.parametrize("seed", range(3))
def test_bradley_terry_recovers_the_mle(ties, home, seed):
    n = 2 + 5 * seed
    total = minimum_games(n, ties=ties, home=home) + 30 * seed
    case = pairwise_problem(n_items=n, n_games=total, ties=ties, home=home, seed=seed)
    data, mle = case
    variants = ALL_VARIANTS if ties is None and not home else CONVERGENT
    for method, update in variants:
        result = bradley_terry(
            data, **case.options, method=method, update=update, rtol=1e-12, maxiter=100_000
        )
        assert result.success, (case, method, update, result.message)
        np.testing.assert_allclose(result.scores, mle.scores, rtol=0, atol=1e-8)
        for name in ("tie_parameter", "home_advantage"):
            got, expected = getattr(result, name), getattr(mle, name)
            assert (got is None) == (expected is None), name
            assert expected is None or got == pytest.approx(expected, rel=1e-8), name
    assert result.nit >= 1  # the scores are not all equal: the start (zeros) is not the MLE


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 9),
    extra=st.integers(0, 80),
    ties=st.sampled_from([None, False, True, "half", "davidson"]),
    home=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_drawn_case_is_exact_and_as_asked(n, extra, ties, home, seed):
    total = minimum_games(n, ties=ties, home=home) + extra
    case = pairwise_problem(n_items=n, n_games=total, ties=ties, home=home, seed=seed)
    check_exact(case)
    data, mle = case
    assert case.winners.size == total and data.n_comparisons == total
    assert data.has_ties == (ties not in (None, False))
    assert data.has_home == home
    assert len(set(mle.exact_strengths)) > 1 and np.ptp(mle.scores) > 1 / total
    graph = sp.coo_array((np.ones(data.n_groups), (data.first, data.second)), shape=(n, n))
    assert sp.csgraph.connected_components(graph, directed=False)[0] == 1
    assert rebuilt(case).winners.tolist() == case.winners.tolist()


# --------------------------------------------------------------------------- the case


@pytest.mark.parametrize("ties, home", MODES)
def test_the_rows_aggregate_to_the_data(ties, home):
    """``from_pairs`` on the raw columns groups them exactly as ``case.data``."""
    case = pairwise_problem(n_items=7, n_games=90, ties=ties, home=home, seed=11)
    home_column = [None if h < 0 else h for h in case.home_players.tolist()]
    again = PairwiseData.from_pairs(
        case.winners, case.losers, ties=case.tied, home=home_column, n_items=7
    )

    def groups(data):
        columns = (data.first, data.second, data.home, data.first_wins, data.second_wins,
                   data.ties)  # fmt: skip
        return sorted(zip(*(c.tolist() for c in columns), strict=True))

    assert groups(again) == groups(case.data)


def test_fields_dtypes_and_unpacking():
    case = pairwise_problem(n_items=5, n_games=40, ties="davidson", home=True, seed=2)
    data, mle = case
    assert len(case) == 2 and case[0] is data and case[1] is mle
    assert isinstance(data, PairwiseData) and data.n_items == 5
    for column, dtype in ((case.winners, np.int64), (case.losers, np.int64),
                          (case.tied, np.bool_), (case.home_players, np.int64)):  # fmt: skip
        assert column.dtype == dtype and column.shape == (40,)
    assert np.all(case.winners != case.losers)
    at_home = case.home_players >= 0
    assert np.all((case.home_players[at_home] == case.winners[at_home])
                  | (case.home_players[at_home] == case.losers[at_home]))  # fmt: skip
    assert mle.scores.dtype == np.float64 and mle.scores.shape == (5,)
    assert abs(mle.scores.mean()) < 1e-15
    np.testing.assert_allclose(np.log(mle.strengths), mle.scores)
    assert case.options == {"ties": "davidson", "home_advantage": True}
    assert mle.tie_parameter == float(mle.exact_tie_parameter) > 0
    assert mle.home_advantage == float(mle.exact_home_advantage) > 1
    logs = np.log([float(p) for p in mle.exact_strengths])
    np.testing.assert_allclose(mle.scores, logs - logs.mean(), atol=1e-14)
    plain = pairwise_problem(n_items=5, n_games=40, seed=2)
    assert plain.mle.tie_parameter is None and plain.mle.home_advantage is None
    assert not plain.tied.any() and np.all(plain.home_players == -1)
    assert plain.options == {"ties": None, "home_advantage": False}


@pytest.mark.parametrize("ties, home", MODES)
def test_same_arguments_same_case_and_the_recipe_rebuilds(ties, home):
    kwargs = dict(n_items=6, n_games=minimum_games(6, ties=ties, home=home) + 9, ties=ties)
    case = pairwise_problem(**kwargs, home=home, seed=5)
    assert repr(case) == (
        f"pairwise_problem(n_items=6, n_games={kwargs['n_games']}, ties={ties!r}, "
        f"home={home}, seed=5)"
    )
    for again in (pairwise_problem(**kwargs, home=home, seed=5), rebuilt(case)):
        for name in ("winners", "losers", "tied", "home_players"):
            assert np.array_equal(getattr(again, name), getattr(case, name)), name
        assert again.mle.exact_strengths == case.mle.exact_strengths
        assert np.array_equal(again.mle.scores, case.mle.scores)
    others = [pairwise_problem(**kwargs, home=home, seed=s).winners for s in range(6, 9)]
    assert any(not np.array_equal(o, case.winners) for o in others)


def test_recipe_of_a_numpy_bool_is_plain_python():
    case = pairwise_problem(n_items=3, n_games=30, ties=np.True_, home=np.False_, seed=1)
    assert repr(case) == "pairwise_problem(n_items=3, n_games=30, ties=True, home=False, seed=1)"


def test_minimum_games_is_the_least_accepted_and_every_larger_count_works():
    table = {
        (None, False): lambda n: 2 * n - 1,
        ("half", False): lambda n: 2 * n - 1,
        (None, True): lambda n: 2 * n + 1,
        ("half", True): lambda n: 2 * n + 1,
        ("davidson", False): lambda n: 6 if n == 2 else 3 * n + 13,
        ("davidson", True): lambda n: 3 * n + 16,
    }
    for (ties, home), least in table.items():
        for n in range(2, 7):
            assert minimum_games(n, ties=ties, home=home) == least(n)
            with pytest.raises(ValueError, match=f"n_games must be at least {least(n)}"):
                pairwise_problem(n_items=n, n_games=least(n) - 1, ties=ties, home=home)
            for total in range(least(n), least(n) + 25):
                case = pairwise_problem(n_items=n, n_games=total, ties=ties, home=home, seed=total)
                assert case.winners.size == total
    assert minimum_games(4, ties=True) == minimum_games(4, ties="davidson")
    assert minimum_games(4, ties=False) == minimum_games(4)


def test_many_players_and_games():
    case = pairwise_problem(n_items=300, n_games=20_000, ties="davidson", home=True, seed=4)
    gradient = negative_log_likelihood(planted_point(case), case)[1]
    assert np.max(np.abs(gradient)) <= 1e-11 * 20_000
    result = bradley_terry(case.data, **case.options, rtol=1e-11)
    assert result.success
    np.testing.assert_allclose(result.scores, case.mle.scores, atol=1e-7)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n_items=1, n_games=10), ValueError, "n_items"),
        (dict(n_items=2.0, n_games=10), TypeError, "n_items"),
        (dict(n_items=True, n_games=10), TypeError, "n_items"),
        (dict(n_items=3, n_games=4), ValueError, "n_games must be at least 5"),
        (dict(n_items=3, n_games=9.0), TypeError, "n_games"),
        (dict(n_items=3, n_games=10, ties="yes"), ValueError, "ties"),
        (dict(n_items=3, n_games=10, ties=1), TypeError, "ties"),
        (dict(n_items=3, n_games=10, home="no"), TypeError, "home"),
        (dict(n_items=3, n_games=10, home=None), TypeError, "home"),
        (dict(n_items=3, n_games=10, seed=-1), ValueError, "seed"),
        (dict(n_items=3, n_games=10, seed=np.random.default_rng()), TypeError, "seed"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        pairwise_problem(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n_items=1), ValueError, "n_items"),
        (dict(n_items="4"), TypeError, "n_items"),
        (dict(n_items=4, ties="draws"), ValueError, "ties"),
        (dict(n_items=4, home=1), TypeError, "home"),
    ],
)
def test_minimum_games_names_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        minimum_games(**kwargs)


def test_docstring_examples():
    assert doctest.testmod(_ranking).failed == 0
