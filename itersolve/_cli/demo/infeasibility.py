"""Demo problems for infeasibility detection: an inconsistent map and disjoint sets.

The predicted column quotes the squared-error rates of the displacement estimators
(``itersolve.theory.infeasibility``); the observed rate of these sublinear iterations is
close to 1 by nature.
"""

from __future__ import annotations

import functools

import numpy as np

from itersolve import feasibility, fixed_point, infimal_displacement
from itersolve.theory import infeasibility as theory

from . import Case


def _ball(centre, radius):
    def project(x):
        offset = x - centre
        size = np.linalg.norm(offset)
        return x if size <= radius else centre + radius * offset / size

    return project


def _box_and_subspace(n=60, rows=20, seed=20261125):
    """The box [-1, 1]^n and an affine subspace through 3·1 that misses it."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((rows, n))
    c = M @ (3 * np.ones(n))
    pinv = np.linalg.pinv(M)
    return (lambda x: x - pinv @ (M @ x - c)), (lambda x: np.clip(x, -1.0, 1.0)), n


def cases():
    instance = theory.rotation_translation_instance(400)
    problem = "rotations (400 angles in [1e-5, pi]) + translation"
    for method, predicted in (("halpern", "O(log k/k^2)"), ("mann", "O(1/k^2)")):
        solve = functools.partial(
            infimal_displacement, instance.T, instance.x0, method=method, rtol=1e-3
        )
        yield Case(f"infimal_displacement {method}", problem, solve, predicted)
    solve = functools.partial(
        fixed_point,
        instance.T,
        instance.x0,
        method="halpern",
        restart="adaptive",
        detect_infeasibility=True,
        maxiter=100_000,
    )
    yield Case("fixed_point halpern detect_infeasibility", problem, solve, "-")

    project_a, project_b, n = _box_and_subspace()
    problem = f"box [-1,1]^{n} vs affine subspace (disjoint)"
    for accelerate in (True, False):
        solve = functools.partial(
            feasibility, project_a, project_b, np.zeros(n), accelerate=accelerate
        )
        label = "halpern+restarts" if accelerate else "plain"
        yield Case(f"feasibility douglas-rachford {label}", problem, solve, "-")

    box = lambda x: np.clip(x, 0.0, 1.0)  # noqa: E731
    problem = "unit box vs ball of radius 1 at (1.2, 1.2) (intersecting)"
    for method in ("douglas-rachford", "alternating"):
        solve = functools.partial(feasibility, box, _ball(1.2, 1.0), np.zeros(2), method=method)
        yield Case(f"feasibility {method}", problem, solve, "-")
    yield from linprog_cases()


def _transport(sources=20, sinks=30, seed=20261125, shortage=0.0):
    """A transportation LP: ship supplies to demands at least cost; infeasible when the
    demand exceeds the supply (``shortage > 0``)."""
    rng = np.random.default_rng(seed)
    supply = rng.uniform(5, 10, sources)
    demand = rng.uniform(1, 5, sinks)
    demand *= (1 + shortage) * supply.sum() / demand.sum() * 0.9
    cost = rng.uniform(1, 10, sources * sinks)
    ships_from = np.kron(np.eye(sources), np.ones(sinks))  # row i: what source i ships
    arrives_at = np.kron(np.ones(sources), np.eye(sinks))  # row j: what sink j receives
    return cost, ships_from, supply, -arrives_at, -demand


def linprog_cases():
    from itersolve import linprog

    for shortage, label in ((0.0, "feasible"), (0.5, "demand > supply: infeasible")):
        c, A1, b1, A2, b2 = _transport(shortage=shortage)
        A_ub, b_ub = np.vstack([A1, A2]), np.concatenate([b1, b2])
        for accelerate in (True, False):
            name = "restarted Halpern" if accelerate else "plain"
            solve = functools.partial(
                linprog, c, A_ub=A_ub, b_ub=b_ub, accelerate=accelerate, maxiter=50_000
            )
            yield Case(f"linprog pdhg {name}", f"transport 20x30, {label}", solve, "-")
    # min -x0 - x1 with x0 - x1 <= 1 and x >= 0: the ray (1, 1) decreases the cost forever
    solve = functools.partial(linprog, [-1.0, -1.0], A_ub=[[1.0, -1.0]], b_ub=[1.0])
    yield Case("linprog pdhg restarted Halpern", "2 variables, unbounded", solve, "-")
