"""Newton's method (``method="newton"``) and the automatic choice (``method="auto"``).

Oracles: the exact planted MLE of ``itersolve.testing``'s ``pairwise_data`` (rational
counts whose likelihood gradient vanishes exactly at a planted point) and Newman's
iteration run to a tight tolerance. Both Newton and Newman stop on the same gradient test
``max |gradient| <= rtol * most games``; at ``rtol=1e-12`` two answers that pass it agree
to about ``1e-12 * most games / lambda_min`` in the scores. The planted cases are small
and well connected, so 1e-7 absolute (scores, log nu, log theta) is a safe documented
tolerance.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itersolve import PairwiseData, bradley_terry
from itersolve._ranking._fit import cpu_fit, solve
from itersolve.testing.strategies import pairwise_data

TOLERANCE = 1e-7


def _league(n, reach, extra, seed, spread=1.0):
    """A ring (``reach=1``) or ladder (``reach=2``) league: player i meets i+1..i+reach
    (mod n), one win each way plus ``extra`` games drawn from the model (so the
    who-beat-whom graph is strongly connected and ML exists)."""
    rng = np.random.default_rng(seed)
    s = rng.normal(0.0, spread, n)
    i = np.concatenate([np.arange(n)] * reach)
    j = np.concatenate([(np.arange(n) + d) % n for d in range(1, reach + 1)])
    wins = rng.binomial(extra, 1.0 / (1.0 + np.exp(s[j] - s[i]))) + 1.0
    return PairwiseData.from_pairs(
        np.r_[i, j], np.r_[j, i], weights=np.r_[wins, extra + 2.0 - wins], n_items=n
    )


def _fit_with(data, preconditioner, **options):
    """``method="newton"`` with a given Newton-system solver (an internal option)."""
    fit = cpu_fit(
        data,
        options.get("ties"),
        options.get("home_advantage", False),
        "newton",
        "async",
        options.get("prior", 0.0),
        options.get("rtol", 1e-10),
        0.0,
    )
    fit = fit._replace(solver=dataclasses.replace(fit.solver, preconditioner=preconditioner))
    return solve(fit, data, np.zeros(data.n_items), 200, None, False)


@settings(max_examples=40, deadline=None)
@given(case=pairwise_data(n_items=(2, 12), ties=(False, "half", "davidson"), home=st.booleans()))
def test_newton_finds_the_planted_mle(case):
    data, mle = case
    result = bradley_terry(data, **case.options, method="newton", rtol=1e-12)
    assert result.success, result.message
    np.testing.assert_allclose(result.scores, mle.scores, rtol=0, atol=TOLERANCE)
    if mle.tie_parameter is not None:
        assert math.log(result.tie_parameter) == pytest.approx(
            math.log(mle.tie_parameter), abs=TOLERANCE
        )
    if mle.home_advantage is not None:
        assert math.log(result.home_advantage) == pytest.approx(
            math.log(mle.home_advantage), abs=TOLERANCE
        )
    newman = bradley_terry(data, **case.options, method="newman", rtol=1e-12, maxiter=20_000)
    if newman.success:  # Newman may crawl on a planted sparse case; Newton's the oracle then
        np.testing.assert_allclose(result.scores, newman.scores, rtol=0, atol=TOLERANCE)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 30),
    per=st.integers(2, 6),
    prior=st.sampled_from([0.1, 1.0, 5.0]),
    ties=st.sampled_from([None, "half", "davidson"]),
    home=st.booleans(),
)
def test_newton_equals_newman_on_random_map_fits(seed, n, per, prior, ties, home):
    """MAP (any data has an estimate) with ties and venues drawn at random."""
    rng = np.random.default_rng(seed)
    m = per * n
    i = rng.integers(0, n, m)
    j = (i + rng.integers(1, n, m)) % n
    tied = rng.random(m) < 0.3 if ties else None
    if ties == "davidson" and not (np.any(tied) and not np.all(tied)):
        tied[:2] = [True, False]
    venue = np.where(rng.random(m) < 0.5, i, -1) if home else None
    if home:  # the home side must have won (or drawn) and lost (or drawn) at least once
        venue[:2] = [i[0], j[1]]
    data = PairwiseData.from_pairs(i, j, ties=tied, home=venue, n_items=n)
    options = {"ties": ties, "home_advantage": home, "prior": prior, "rtol": 1e-12}
    newton = bradley_terry(data, method="newton", **options)
    newman = bradley_terry(data, method="newman", maxiter=20_000, **options)
    assert newton.success, newton.message
    if not newman.success:  # Newman crawls on some tiny draws (a nuisance barely pinned)
        return
    np.testing.assert_allclose(newton.scores, newman.scores, rtol=0, atol=1e-6)
    for name in ("tie_parameter", "home_advantage"):
        a, b = getattr(newton, name), getattr(newman, name)
        assert (a is None) == (b is None)
        if a is not None:
            assert math.log(a) == pytest.approx(math.log(b), abs=1e-6)


@pytest.mark.parametrize("preconditioner", ["dense", "band", "tree", "jacobi"])
@pytest.mark.parametrize("reach", [1, 2])
def test_every_newton_system_solver_gives_the_same_answer(preconditioner, reach):
    data = _league(200, reach, 3, seed=reach)
    reference = bradley_terry(data, method="newton", rtol=1e-12)
    result = _fit_with(data, preconditioner, rtol=1e-12)
    assert result.success, result.message
    np.testing.assert_allclose(result.scores, reference.scores, rtol=0, atol=1e-8)
    assert result.stats["cg_iterations"] > 0 or preconditioner in ("dense", "band")


def test_the_tree_preconditioner_handles_disconnected_map_data():
    """Two separate leagues and a silent player: a spanning forest, each root solved."""
    a, b = _league(30, 1, 2, seed=3), _league(20, 2, 2, seed=4)
    data = PairwiseData.from_pairs(
        np.r_[a.first, b.first + 30, a.second, b.second + 30],
        np.r_[a.second, b.second + 30, a.first, b.first + 30],
        weights=np.r_[a.first_wins, b.first_wins, a.second_wins, b.second_wins],
        n_items=51,
    )
    reference = bradley_terry(data, prior=0.5, method="newman", rtol=1e-12, maxiter=100_000)
    for preconditioner in ("dense", "band", "tree", "jacobi"):
        result = _fit_with(data, preconditioner, prior=0.5, rtol=1e-12)
        assert result.success, (preconditioner, result.message)
        np.testing.assert_allclose(result.scores, reference.scores, rtol=0, atol=1e-8)


def test_quadratic_convergence_is_observed():
    """Near the estimate each gradient is at most a constant times the previous squared."""
    data = _league(300, 2, 4, seed=7)
    result = bradley_terry(data, method="newton", rtol=1e-14)
    assert result.success
    history = result.residuals / result.residuals[0]
    tail = [(a, b) for a, b in zip(history[:-1], history[1:], strict=True) if a < 1e-2]
    assert tail, history
    for before, after in tail:
        assert after <= max(10.0 * before**2, 1e-13), history


def test_newton_counts_steps_and_reports_cg_iterations():
    data = _league(1000, 1, 3, seed=5)  # beyond the dense size: band (a ring)
    result = bradley_terry(data, method="newton")
    assert result.success and result.nit == result.stats["newton_steps"] <= 20
    assert result.stats["cg_iterations"] == 0 and result.stats["sweeps"] == 0
    tree = _fit_with(data, "tree")
    assert tree.success and tree.stats["cg_iterations"] >= tree.nit


def test_success_is_the_gradient_test_at_the_returned_scores():
    data = _league(100, 2, 2, seed=11)
    result = bradley_terry(data, method="newton", rtol=1e-9)
    fit = cpu_fit(data, None, False, "newman", "async", 0.0, 1e-9, 0.0)
    gradient = fit.solver.gradient_vector(fit.layout, np.exp(result.scores), 1.0, 0.0)
    assert result.success
    assert np.max(np.abs(gradient)) <= 1e-9 * fit.solver.scale
    assert result.stats["gradient_norm"] == pytest.approx(np.max(np.abs(gradient)), rel=1e-6)
    assert not bradley_terry(data, method="newton", rtol=1e-9, maxiter=1).success


def test_auto_equals_newman_exactly_where_newman_is_fast():
    rng = np.random.default_rng(0)
    i = rng.integers(0, 40, 2000)
    j = (i + rng.integers(1, 40, 2000)) % 40
    data = PairwiseData.from_pairs(i, j, n_items=40)
    auto, newman = bradley_terry(data), bradley_terry(data, method="newman")
    assert auto.nit == newman.nit and np.array_equal(auto.scores, newman.scores)
    assert auto.stats["method_used"] == "newman"


def test_auto_switches_to_newton_on_a_crawling_league():
    data = _league(400, 2, 3, seed=2)
    auto = bradley_terry(data)
    newton = bradley_terry(data, method="newton", rtol=1e-12)
    assert auto.success and auto.stats["method_used"] == "newman+newton"
    assert auto.nit == auto.stats["sweeps"] + auto.stats["newton_steps"]
    assert auto.nit < 100
    np.testing.assert_allclose(auto.scores, newton.scores, rtol=0, atol=1e-5)


def test_auto_with_ties_and_home_advantage_matches_newton():
    from itersolve import load_football

    core = load_football("2010-01-01", strongly_connected=True)
    options = {"ties": "davidson", "home_advantage": True, "rtol": 1e-11}
    auto = bradley_terry(core, **options)
    newton = bradley_terry(core, method="newton", **options)
    assert auto.success and newton.success and auto.stats["method_used"] == "newman+newton"
    assert newton.nit <= 10
    np.testing.assert_allclose(auto.scores, newton.scores, rtol=0, atol=1e-7)
    assert auto.tie_parameter == pytest.approx(newton.tie_parameter, rel=1e-7)
    assert auto.home_advantage == pytest.approx(newton.home_advantage, rel=1e-7)


def test_bad_input_is_rejected():
    data = _league(10, 1, 2, seed=0)
    with pytest.raises(ValueError, match="method"):
        bradley_terry(data, method="newtons")
    with pytest.raises(ValueError, match="newton"):
        bradley_terry(data, method="newton", backend="array-api", update="sync")
    disconnected = PairwiseData.from_pairs([0, 1], [1, 2], n_items=3)
    with pytest.raises(ValueError, match="strongly connected"):
        bradley_terry(disconnected, method="newton")
    map_fit = bradley_terry(disconnected, method="newton", prior=1.0)
    assert map_fit.success


@pytest.mark.parametrize("preconditioner", ["dense", "band", "tree", "jacobi"])
@pytest.mark.parametrize("spread", [50.0, 300.0, 1e300])
def test_newton_from_a_start_where_the_curvature_vanishes(preconditioner, spread):
    # Scores 50 or more apart make every probability 0 or 1 to double precision: the
    # information matrix is zero and no Newton direction exists. Newton must ascend along
    # the gradient until the curvature returns, and end where Newman ends (the oracle);
    # starts beyond 300 from the mean are clipped to it, as for every method.
    data = _league(12, 2, 3, seed=4)
    start = np.linspace(-spread, spread, 12)
    reference = bradley_terry(data, method="newman", rtol=1e-12, maxiter=100_000)
    assert reference.success
    fit = cpu_fit(data, None, False, "newton", "async", 0.0, 1e-12, 0.0)
    fit = fit._replace(solver=dataclasses.replace(fit.solver, preconditioner=preconditioner))
    clipped = np.clip(start, -300.0, 300.0)
    result = solve(fit, data, clipped, 500, None, False)
    assert result.success, result.message
    np.testing.assert_allclose(result.scores, reference.scores, atol=TOLERANCE)
    # the public call clips the start itself
    far = bradley_terry(data, method="newton", x0=start, rtol=1e-12)
    assert far.success and np.allclose(far.scores, reference.scores, atol=TOLERANCE)
