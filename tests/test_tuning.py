"""The online tuners: protocol, reproducibility, bad input, and learning on synthetic problems.

The learning tests use synthetic costs (cheap); learning on real SOR solves is in
``test_solve_sequence.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import itersolve
from itersolve.tuning import DEFAULT_ARMS, BinnedTsallisINF, ChebCB, TsallisINF, Tuner
from itersolve.tuning.chebcb import _box_lstsq, _next_eta

RANGE = (-0.15, 0.65)


def make(kind, arms=DEFAULT_ARMS, rng=None, **options):
    if kind == "tsallis":
        return TsallisINF(arms, rng=rng, **options)
    if kind == "chebcb":
        return ChebCB(arms, RANGE, rng=rng, **options)
    return BinnedTsallisINF(arms, RANGE, rng=rng, **options)


KINDS = ["tsallis", "chebcb", "binned"]


def play(tuner, rounds, cost, contexts=None, seed=0):
    """Run ``rounds`` rounds with ``cost(arm, context, noise)``; return arms and costs."""
    noise = np.random.default_rng(seed)
    arms, costs = [], []
    for t in range(rounds):
        context = None if contexts is None else contexts[t]
        arm = tuner.suggest(context)
        value = cost(arm, context, noise)
        tuner.observe(value)
        arms.append(arm)
        costs.append(value)
    return np.array(arms), np.array(costs)


def sor_like(arm, context, noise):
    """A smooth cost in (ω, context) with a context-dependent best ω, plus noise."""
    c = 0.25 if context is None else context
    return 1 + 20 * (1 + 30 * (arm - 1.2 - c) ** 2) * noise.uniform(0.9, 1.1)


# ------------------------------------------------------------------ protocol and input


def test_default_arms():
    np.testing.assert_allclose(DEFAULT_ARMS, np.linspace(1, 1.95, 20))
    with pytest.raises(ValueError):
        DEFAULT_ARMS[0] = 0.5  # a shared default is read-only


@pytest.mark.parametrize("kind", KINDS)
def test_tuners_follow_the_protocol(kind):
    tuner = make(kind, [1.0, 1.5], rng=0)
    assert isinstance(tuner, Tuner)
    assert tuner.arms == (1.0, 1.5)
    assert all(type(arm) is float for arm in make(kind).arms)  # NumPy scalars unwrapped
    with pytest.raises(RuntimeError, match="without a pending suggest"):
        tuner.observe(3)
    arm = tuner.suggest(0.1)
    assert arm in tuner.arms
    with pytest.raises(RuntimeError, match="observe"):
        tuner.suggest(0.1)
    # a rejected cost leaves the round open
    with pytest.raises(ValueError, match="`cost`"):
        tuner.observe(0.5)
    with pytest.raises(ValueError, match="`cost`"):
        tuner.observe(float("nan"))
    with pytest.raises(TypeError, match="`cost`"):
        tuner.observe(True)
    with pytest.raises(TypeError, match="`cost`"):
        tuner.observe("3")
    tuner.observe(np.int64(3))
    with pytest.raises(RuntimeError):
        tuner.observe(3)
    tuner.suggest(np.float64(0.2))
    tuner.observe(np.array(4.0))


@pytest.mark.parametrize("kind", KINDS)
def test_any_values_can_be_arms(kind):
    arms = ["jacobi", "gauss-seidel", "sor"]
    tuner = make(kind, arms, rng=1)
    chosen, _ = play(tuner, 30, lambda arm, c, noise: 1 + len(arm), contexts=[0.0] * 30)
    assert set(chosen) <= set(arms)
    assert make(kind, np.array([1, 2, 5]), rng=0).arms == (1, 2, 5)


@pytest.mark.parametrize("kind", KINDS)
def test_reproducible_given_a_seed(kind):
    contexts = np.random.default_rng(5).uniform(*RANGE, size=150)

    def run(rng):
        return play(make(kind, rng=rng), 150, sor_like, contexts=contexts)[0]

    first = run(42)
    np.testing.assert_array_equal(first, run(42))
    np.testing.assert_array_equal(first, run(np.random.default_rng(42)))
    np.testing.assert_array_equal(first, run(np.random.SeedSequence(42)))
    assert not np.array_equal(first, run(43))
    assert len(run(None)) == 150  # rng=None draws fresh entropy


@pytest.mark.parametrize("kind", KINDS)
def test_global_numpy_random_state_is_untouched(kind):
    before = np.random.get_state()[1].copy()  # noqa: NPY002 - checking the legacy global state
    play(make(kind, rng=0), 20, sor_like, contexts=[0.1] * 20)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


@pytest.mark.parametrize(
    "build, error, match",
    [
        (lambda: TsallisINF("abc"), TypeError, "`arms`"),
        (lambda: TsallisINF(1.5), TypeError, "`arms`"),
        (lambda: TsallisINF([]), ValueError, "`arms`"),
        (lambda: TsallisINF(np.ones((2, 2))), ValueError, "`arms`"),
        (lambda: TsallisINF(probability="exact"), ValueError, "`probability`"),
        (lambda: TsallisINF(normalizer="bisection"), ValueError, "`normalizer`"),
        (lambda: TsallisINF(rng="seed"), TypeError, "`rng`"),
        (lambda: TsallisINF(rng=1.5), TypeError, "`rng`"),
        (lambda: TsallisINF(rng=-1), ValueError, "`rng`"),
        (lambda: ChebCB(context_range=RANGE, rng="x"), TypeError, "`rng`"),
        (lambda: BinnedTsallisINF(context_range=RANGE, rng=[object()]), TypeError, "`rng`"),
        (lambda: ChebCB(), TypeError, "`context_range` is required"),
        (lambda: ChebCB(context_range=(1.0, 1.0)), ValueError, "a < b"),
        (lambda: ChebCB(context_range=(0.0, np.inf)), ValueError, r"context_range\[1\]"),
        (lambda: ChebCB(context_range=(0.0, 1.0, 2.0)), ValueError, "pair"),
        (lambda: ChebCB(context_range=1.0), TypeError, "pair"),
        (lambda: ChebCB(context_range=("a", 1.0)), TypeError, r"context_range\[0\]"),
        (lambda: ChebCB(context_range=RANGE, degree=0), ValueError, "`degree`"),
        (lambda: ChebCB(context_range=RANGE, degree=2.5), TypeError, "`degree`"),
        (lambda: BinnedTsallisINF(context_range=RANGE, bins=0), ValueError, "`bins`"),
        (lambda: BinnedTsallisINF(), TypeError, "`context_range` is required"),
        (lambda: BinnedTsallisINF(context_range=RANGE, probability="x"), ValueError, "prob"),
    ],
)
def test_bad_constructor_input(build, error, match):
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize("kind", ["chebcb", "binned"])
def test_contextual_tuners_need_a_real_context(kind):
    tuner = make(kind, rng=0)
    with pytest.raises(ValueError, match="needs a context"):
        tuner.suggest()
    with pytest.raises(ValueError, match="finite"):
        tuner.suggest(float("nan"))
    with pytest.raises(TypeError, match="`context`"):
        tuner.suggest("0.1")
    with pytest.raises(TypeError, match="`context`"):
        tuner.suggest(np.array([0.1, 0.2]))
    tuner.suggest(0.1)  # the failed calls did not open a round
    tuner.observe(10)


# ------------------------------------------------------------------ Tsallis-INF


def reference_tsallis(costs, d, rounds, seed, probability):
    """learners/TsallisINF.m, line by line (20 Newton steps on the unshifted estimates).

    Sampling uses the same inverse-CDF draw as the package (one uniform per round), so the
    two follow the same path when the arithmetic is the same.
    """
    rng = np.random.default_rng(seed)
    k, scale, losses, arms = np.zeros(d), 1.0, [], []
    for t in range(1, rounds + 1):
        eta = 2.0 / np.sqrt(t)
        x = -1.0
        for _ in range(20):
            probs = 4 * (eta * (k / scale - x)) ** -2.0
            x = x - (np.sum(probs) - 1) / (eta * np.sum(probs**1.5))
        cumulative = np.cumsum(probs)
        index = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
        prob = probs[index] if probability == "reference" else probs[index] / probs.sum()
        loss = costs[t - 1][index]
        losses.append(loss)
        scale = np.mean(losses) - 1.0
        k[index] += (loss - 1.0) / prob
        arms.append(index)
    return arms, k


@pytest.mark.parametrize("probability", ["sampling", "reference"])
def test_tsallis_reference_normalizer_is_the_reference_code(probability):
    rounds, d = 300, 20
    costs = np.random.default_rng(7).integers(50, 400, size=(rounds, d)).astype(float)
    expected_arms, expected_k = reference_tsallis(costs, d, rounds, 3, probability)
    tuner = TsallisINF(np.arange(d), rng=3, probability=probability, normalizer="reference")
    arms = []
    for t in range(rounds):
        arms.append(tuner.suggest())
        tuner.observe(costs[t][arms[-1]])
    assert arms == expected_arms
    np.testing.assert_allclose(tuner.estimates, expected_k, rtol=1e-9)  # mean vs running sum


def test_tsallis_shifted_normalizer_solves_for_the_distribution():
    tuner = TsallisINF(rng=0)
    play(tuner, 400, sor_like)
    tuner.suggest()
    p = tuner.probabilities
    # the exact Tsallis-INF distribution: p_i = 4 / (eta (L_i - x))^2 for one x, sum 1
    eta = 2 / np.sqrt(401)
    scaled = tuner.estimates / tuner._scale
    x = scaled - 2 / (eta * np.sqrt(p))
    np.testing.assert_allclose(x, x[0], rtol=1e-9)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)


def test_tsallis_first_round_is_uniform():
    tuner = TsallisINF(rng=0)
    tuner.suggest()
    np.testing.assert_allclose(tuner.probabilities, np.full(20, 1 / 20))


def test_tsallis_unit_costs_do_not_divide_by_zero():
    # every cost 1 gives scale s = mean - 1 = 0 and estimates 0; warnings are errors here
    for probability in ("sampling", "reference"):
        tuner = TsallisINF(rng=0, probability=probability)
        play(tuner, 50, lambda arm, c, noise: 1)
        tuner.suggest()
        np.testing.assert_array_equal(tuner.estimates, 0.0)
        np.testing.assert_allclose(tuner.probabilities, 1 / 20)


def test_tsallis_reference_normalizer_fails_loudly_not_uniformly():
    # deterministic costs drive the reference iteration past its pole to p = 0: the
    # reference code would then sample uniformly; we raise
    tuner = TsallisINF([1.0, 1.5, 1.9], rng=0, normalizer="reference")
    cost = {1.0: 100, 1.5: 20, 1.9: 60}
    with pytest.raises(FloatingPointError, match="normaliser"):
        for _ in range(200):
            tuner.observe(cost[tuner.suggest()])
    shifted = TsallisINF([1.0, 1.5, 1.9], rng=0)
    for _ in range(200):
        shifted.observe(cost[shifted.suggest()])
    assert shifted.counts.argmax() == 1


MEANS = np.array([60, 50, 40, 30, 20, 10, 20, 30, 40, 50.0])


@pytest.mark.parametrize("probability", ["sampling", "reference"])
def test_tsallis_concentrates_on_the_best_arm(probability):
    tuner = TsallisINF(np.arange(10), rng=1, probability=probability)
    arms, costs = play(tuner, 2000, lambda arm, c, noise: 1 + noise.poisson(MEANS[arm] - 1))
    assert np.mean(arms[1000:] == 5) > 0.9
    assert tuner.counts.argmax() == 5
    assert costs.sum() < 0.5 * 2000 * MEANS.mean()  # uniform play costs mean(MEANS) a round


costs_strategy = st.lists(st.floats(1.0, 1e6), min_size=1, max_size=60)


@given(costs=costs_strategy, d=st.integers(1, 30))
def test_tsallis_probabilities_stay_a_distribution(costs, d):
    tuner = TsallisINF(range(d), rng=0)
    for cost in costs:
        tuner.suggest()
        p = tuner.probabilities
        assert np.all(np.isfinite(p)) and np.all(p >= 0)
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
        tuner.observe(cost)


# ------------------------------------------------------------------ ChebCB


@given(
    rounds=st.lists(st.tuples(st.floats(-5.0, 5.0), st.floats(1.0, 1e6)), min_size=1, max_size=40)
)
def test_chebcb_probabilities_stay_a_distribution(rounds):
    tuner = ChebCB([1.0, 1.3, 1.6, 1.9], context_range=(-1.0, 1.0), degree=4, rng=0)
    for context, cost in rounds:
        tuner.suggest(context)
        p = tuner.probabilities
        assert np.all(np.isfinite(p)) and np.all(p >= 0) and p.max() >= 1 / 4
        assert p.sum() == pytest.approx(1.0)
        tuner.observe(cost)
    assert np.all(np.isfinite(tuner.coef)) and np.isfinite(tuner.eta)


def test_chebcb_first_play_is_uniform_and_features_are_chebyshev():
    tuner = ChebCB(context_range=(0.0, 2.0), degree=4, rng=0)
    tuner.suggest(1.5)
    np.testing.assert_allclose(tuner.probabilities, np.full(20, 1 / 20))
    z = 0.5
    np.testing.assert_allclose(tuner.features(1.5), [1, z, 2 * z**2 - 1, 4 * z**3 - 3 * z])
    # contexts outside [a, b] are clipped (the series would blow up outside [-1, 1])
    np.testing.assert_allclose(tuner.features(7.0), tuner.features(2.0))
    np.testing.assert_allclose(tuner.features(-3.0), [1, -1, 1, -1])


def test_chebcb_keeps_its_coefficients_in_the_box():
    tuner = ChebCB(context_range=RANGE, rng=2)
    contexts = np.random.default_rng(3).uniform(*RANGE, size=300)
    _, costs = play(tuner, 300, sor_like, contexts=contexts)
    K, m = costs.max(), tuner.degree
    lipschitz = (costs.max() - costs.min()) / (RANGE[1] - RANGE[0])
    N = 2 + 4 * (RANGE[1] - RANGE[0]) * lipschitz / K * (1 + np.log(m))
    ub = np.r_[1 / N, 2 * (RANGE[1] - RANGE[0]) * lipschitz / (K * N * np.arange(1, m))]
    assert np.all(np.abs(tuner.coef) <= ub * (1 + 1e-9))
    assert tuner.eta > 0
    p = tuner.probabilities
    assert p.sum() == pytest.approx(1.0) and p.max() >= 1 / 20


def test_chebcb_equal_costs_fit_the_constant_term_only():
    # L = 0: the box of every non-constant coefficient is empty and held at 0
    tuner = ChebCB(context_range=RANGE, rng=0)
    play(tuner, 30, lambda arm, c, noise: 7, contexts=np.linspace(*RANGE, 30))
    played = tuner.counts > 0
    np.testing.assert_allclose(tuner.coef[played, 0], 6 / 14)  # (ℓ - 1)/(K N), N = 2
    np.testing.assert_array_equal(tuner.coef[:, 1:], 0.0)


def test_box_least_squares():
    rng = np.random.default_rng(0)
    Phi, y = rng.standard_normal((8, 3)), rng.standard_normal(8)
    theta = _box_lstsq(Phi, y, np.array([0.2, 0.0, 0.1]))
    assert theta[1] == 0.0 and abs(theta[0]) <= 0.2 and abs(theta[2]) <= 0.1
    from scipy.optimize import lsq_linear

    free = lsq_linear(Phi[:, [0, 2]], y, bounds=([-0.2, -0.1], [0.2, 0.1])).x
    np.testing.assert_allclose(theta[[0, 2]], free, atol=1e-8)


def test_eta_guard_keeps_the_previous_value():
    assert _next_eta(t=4, d=20, R=1.0, resnorm=0.5, alpha=0.0, previous=3.0) == pytest.approx(
        2 * 4 * np.sqrt(20 * 4 / 0.5)
    )
    assert _next_eta(t=4, d=20, R=0.5, resnorm=0.5, alpha=0.0, previous=3.0) == 3.0
    assert _next_eta(t=4, d=20, R=0.1, resnorm=0.5, alpha=0.0, previous=3.0) == 3.0
    assert _next_eta(t=4, d=20, R=5e-324, resnorm=0.0, alpha=0.0, previous=3.0) == 3.0


def best_arm_cost(context, arm):
    return 1 + 30 * (1 + 40 * (arm - (1.1 + 0.8 * context)) ** 2)


def test_chebcb_learns_the_context_dependent_best_arm():
    rounds, arms = 1000, np.asarray(DEFAULT_ARMS)
    contexts = np.random.default_rng(200).uniform(0.0, 1.0, size=rounds)
    tuner = ChebCB(context_range=(0.0, 1.0), rng=0)
    _, costs = play(
        tuner,
        rounds,
        lambda arm, c, noise: best_arm_cost(c, arm) * noise.uniform(0.9, 1.1),
        contexts=contexts,
        seed=300,
    )
    table = best_arm_cost(contexts[:, None], arms[None, :])  # expected cost, rounds x arms
    fixed_totals = table.sum(axis=0)
    optimum = table.min(axis=1)
    assert costs.sum() < 0.7 * fixed_totals.min()  # beats every fixed arm by far
    last = slice(3 * rounds // 4, None)
    assert costs[last].sum() < 1.25 * optimum[last].sum()  # near the per-context optimum
    first = slice(None, rounds // 4)
    assert costs[first].sum() / optimum[first].sum() > 2 * costs[last].sum() / optimum[last].sum()


# ------------------------------------------------------------------ binned


def test_binned_routes_to_the_nearest_centre():
    tuner = BinnedTsallisINF(context_range=RANGE, bins=5, rng=0)
    np.testing.assert_allclose(tuner.centres, [-0.07, 0.09, 0.25, 0.41, 0.57])
    contexts = (-1.0, -0.15, 0.0, 0.05, 0.17, 0.45, 0.5, 9.0)
    assert [tuner.bin_of(c) for c in contexts] == [0, 0, 0, 1, 1, 3, 4, 4]
    # the offsets of setup A (at most 0.45) never reach the top bin
    assert tuner.bin_of(0.45) == 3
    halves = BinnedTsallisINF([1.0], context_range=(0.0, 1.0), bins=2)
    assert halves.bin_of(0.5) == 0  # a tie goes to the lower bin


def test_binned_learners_are_independent():
    cost = {a: 1 + 100 * abs(a - 1.5) for a in DEFAULT_ARMS}

    def bin_one_arms(interleave):
        tuner = BinnedTsallisINF(context_range=RANGE, bins=5, rng=9)
        arms = []
        for _ in range(60):
            if interleave:
                tuner.observe(cost[tuner.suggest(-0.1)])  # bin 0
            arms.append(tuner.suggest(0.1))  # bin 1
            tuner.observe(cost[arms[-1]])
        return arms, tuner

    alone, tuner_alone = bin_one_arms(False)
    mixed, tuner_mixed = bin_one_arms(True)
    assert alone == mixed  # bin 0's plays do not touch bin 1's stream or state
    assert tuner_alone.learners[0].rounds == 0 and tuner_mixed.learners[0].rounds == 60
    assert tuner_mixed.learners[1].rounds == 60 and tuner_mixed.rounds == 120
    np.testing.assert_array_equal(tuner_mixed.counts, sum(t.counts for t in tuner_mixed.learners))


# ------------------------------------------------------------------ any parameter


def test_tsallis_tunes_anderson_memory():
    """The protocol is not about ω: choose Anderson's memory m by the evaluations it costs."""
    n = 40
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    spectrum = np.linspace(-0.9, 0.97, n)

    def problem(rng):  # related linear contractions: jittered spectrum, new offset
        M = (Q * (spectrum * rng.uniform(0.97, 1.0))) @ Q.T
        c = rng.standard_normal(n)
        return (lambda x: M @ x + c), np.zeros(n)

    memories = [1, 2, 5, 10]
    tuner = TsallisINF(memories, rng=0)
    problems = np.random.default_rng(50)
    chosen, costs = [], []
    for _ in range(100):
        m = tuner.suggest()
        result = itersolve.fixed_point(*problem(problems), method="anderson", m=m)
        assert result.success
        tuner.observe(result.nfev)
        chosen.append(m)
        costs.append(result.nfev)
    # on these maps m = 10 needs ~60 evaluations, m = 5 ~100, m = 2 ~160, m = 1 ~330
    assert tuner.arms[tuner.counts.argmax()] == 10
    assert np.mean(np.array(chosen[50:]) == 10) > 0.6
    assert tuner.probabilities[memories.index(10)] > 0.5
    assert np.mean(costs[50:]) < 100
