"""The driver's stop for ``maxiter=None``: stagnation ends a solve, slow convergence does not.

The oracle is the rule's statement, evaluated here on explicit histories: a history of
length k + 1 (k a power of two, k >= 1024) has stalled when the best residual over its
second half, divided by the best over its first half, is above 0.9.
"""

from __future__ import annotations

import numpy as np
import pytest

from itersolve import Status
from itersolve._driver import Solver, _History, run


def _history(values):
    history = _History(values[0])
    for value in values[1:]:
        history.append(value)
    return history


def _stalled_by_definition(values):
    k = len(values) - 1
    if k < 1024 or k & (k - 1):
        return False
    half = len(values) // 2
    return min(values[half:]) / min(values[:half]) > 0.9


@pytest.mark.parametrize(
    "name, values",
    [
        ("constant", np.full(1025, 2.0)),
        ("subnormal constant", np.full(1025, 1.5e-323)),
        ("O(1/sqrt k), KM's rate", 1 / np.sqrt(np.arange(1, 1026))),
        ("O(1/k), Halpern's rate", 1 / np.arange(1, 1026)),
        ("linear", 0.99 ** np.arange(1025)),
        ("oscillating at a floor", 1 + 0.5 * np.abs(np.sin(np.arange(1025)))),
        ("not a power of two", np.full(1100, 2.0)),
        ("too short", np.full(513, 2.0)),
    ],
)
def test_stall_rule_matches_its_statement(name, values):
    assert _history(list(values)).stalled() == _stalled_by_definition(list(values)), name


class _Counter:
    nfev = 0


class _Sublinear(Solver):
    """Residual 1/sqrt(k + 1) that reaches the tolerance only after ~10^4 iterations."""

    rtol, atol = 0.0, 0.01

    class State:
        def __init__(self, k):
            self.k, self.residual = k, 1 / np.sqrt(k + 1)

    def init(self, problem, x0):
        return self.State(0)

    def step(self, problem, x, state):
        return x, self.State(state.k + 1)

    def terminate(self, problem, x, state):
        done = state.residual <= self.atol
        return done, Status.CONVERGED if done else Status.IN_PROGRESS

    def postprocess(self, problem, x, state):
        return x, {}


def test_sublinear_convergence_is_not_cut_without_maxiter():
    result = run(_Sublinear(), _Counter(), 0.0, maxiter=None)
    assert result.success and result.nit == 9999


def test_a_stalled_solve_without_maxiter_stops_with_a_message():
    solver = _Sublinear()
    solver.step = lambda problem, x, state: (x, state)  # never moves
    result = run(solver, _Counter(), 0.0, maxiter=None)
    assert result.status == Status.STAGNATED and result.nit == 1024
    assert "maxiter=None" in result.message
