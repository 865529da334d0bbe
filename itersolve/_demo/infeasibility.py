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
