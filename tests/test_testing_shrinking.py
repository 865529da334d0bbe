"""Drawn cases shrink to small failing examples, printed as the call that rebuilds them.

Each test plants a bug in a small solver, lets hypothesis search a strategy for a case that
exposes it, and checks the case hypothesis settles on is the smallest one that can: the
sizes, the dtype and the seed all shrink.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import HealthCheck, find, settings

import itersolve
from itersolve.testing import problems, strategies

SEARCH = settings(
    max_examples=300, database=None, deadline=None, suppress_health_check=list(HealthCheck)
)


def gauss_seidel_skipping_the_last_row(A, b, sweeps=200):
    A = sp.csr_array(A).toarray()
    x = np.zeros_like(b)
    for _ in range(sweeps):
        for i in range(len(b) - 1):  # the bug: range(len(b)) was meant
            x[i] = (b[i] - A[i] @ x + A[i, i] * x[i]) / A[i, i]
    return x


def misses(case, x, rtol=1e-6):
    return np.linalg.norm(x - case.x_star) > rtol * max(1.0, np.linalg.norm(case.x_star))


def test_a_linear_solver_bug_shrinks_to_one_unknown():
    found = find(
        strategies.diagonally_dominant(n=(1, 30), dtype=("float64", "complex128")),
        lambda case: misses(case, gauss_seidel_skipping_the_last_row(case.A, case.b)),
        settings=SEARCH,
    )
    # one unknown already exposes it (its only row is skipped); real, seed 0
    assert repr(found).startswith("diagonally_dominant_matrix(n=1, ")
    assert repr(found).endswith("dtype='float64', format='csr', seed=0)")


def test_a_fixed_point_bug_shrinks_to_the_smallest_nonsymmetric_map():
    def transposed_fixed_point(case):  # the bug: x @ M applies M^T
        x = np.zeros_like(case.x_star)
        for _ in range(2000):
            x = x @ case.matrix + case.offset
        return x

    found = find(
        strategies.contractions(n=(1, 10), kind=("affine",), dtype=("float64", "complex128")),
        lambda case: misses(case, transposed_fixed_point(case)),
        settings=SEARCH,
    )
    assert repr(found).startswith("contraction(n=2, rate=") and "dtype='float64', seed=0)" in repr(
        found
    )
    again = eval(repr(found), vars(problems))  # the printed recipe rebuilds the failing case
    assert misses(again, transposed_fixed_point(again))


def test_a_ranking_bug_shrinks_to_a_few_players():
    def fit_ignoring_ties(case):  # the bug: drops the tied games instead of modelling them
        keep = ~case.tied
        data = itersolve.PairwiseData.from_pairs(case.winners[keep], case.losers[keep])
        return itersolve.bradley_terry(data, n_items=case.data.n_items, rtol=1e-12).scores

    def wrong(case):
        try:
            scores = fit_ignoring_ties(case)
        except ValueError:  # without the ties, no maximum-likelihood estimate exists
            return True
        return not np.allclose(scores, case.mle.scores, atol=1e-6)

    found = find(
        strategies.pairwise_data(n_items=(2, 12), ties=[False, True]), wrong, settings=SEARCH
    )
    # two players cannot expose it (their MLE ratio is the ratio of wins, ties or not)
    assert found.data.n_items <= 4 and found.options == {
        "ties": "davidson",
        "home_advantage": False,
    }
    assert repr(found).endswith("ties=True, home=False, seed=0)")
    assert wrong(eval(repr(found), vars(problems)))


def test_a_chain_bug_shrinks_to_two_steps_of_one_state():
    def sequential_with_an_off_by_one(case):  # the bug: step t + 1 applied at position t
        step, x0, trajectory = case
        states = [x0]
        for t in range(len(trajectory) - 1):
            states.append(step(np.array([t + 1]), states[-1][None])[0])
        return np.array(states)

    def wrong(case):
        try:
            computed = sequential_with_an_off_by_one(case)
        except IndexError:  # step t + 1 past the last step
            return True
        return not np.allclose(computed, case.trajectory)

    found = find(strategies.chains(n_steps=(1, 40), dim=(1, 4)), wrong, settings=SEARCH)
    assert repr(found).startswith("chain(n_steps=1, kind='contractive', dim=1, seed=0")
