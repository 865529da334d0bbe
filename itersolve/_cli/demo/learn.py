"""Demo rows for the learn family: learned warm starts and a learned ω on held-out tasks.

The models are fitted once, on training tasks, when the rows are built; each row then
solves one held-out task with :func:`itersolve.sor`. The rate ``itersolve.theory.sor``
predicts does not depend on the start: a warm start saves iterations by starting closer
(the count falls with the log of the initial error), a learned ω by changing the rate.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from itersolve import sor
from itersolve.learn import ParameterModel, WarmStart, poisson_1d_tasks
from itersolve.theory import sor as theory
from itersolve.tuning.experiments import shifted_laplacian_sequence

from . import Case

POISSON_N = 128
OMEGA = 1.9
SIDE = 10  # the shifted Laplacians of the tuning experiments: n = 100


def cases():
    _, problems = poisson_1d_tasks(121, n=POISSON_N, rng=0)
    # the task's data is its feature, as the paper's meta-solver reads the source term;
    # the solution is linear in it, and a rank-16 model must choose what to predict
    features = np.array([b for _, b in problems])
    (A, b), held_out = problems[-1], features[-1:]
    beta = math.cos(math.pi / (POISSON_N + 1))  # Jacobi's radius for tridiag(-1, 2, -1)
    rate = f"{float(theory.sor_rate(OMEGA, beta)):.3f}"
    problem = f"1-D Poisson n={POISSON_N}, held-out task"
    options = {"solver_options": {"omega": OMEGA}, "rtol": 1e-8, "rank": 16}
    yield Case(
        f"sor omega={OMEGA}, cold start", problem, functools.partial(sor, A, b, omega=OMEGA), rate
    )
    for objective in ("solution", "residual"):
        model = WarmStart(objective=objective, **options).fit(features[:-1], problems[:-1])
        x0 = model.predict(held_out)[0]
        label = f"sor + WarmStart({objective!r})"
        yield Case(label, problem, functools.partial(sor, A, b, x0, omega=OMEGA), rate)

    shifts, systems = shifted_laplacian_sequence(41, rng=0, n_side=SIDE)
    model = ParameterModel(degree=4, rtol=1e-8, epochs=10).fit(shifts[:-1], systems[:-1])
    (A, b), shift = systems[-1], shifts[-1]
    beta = 4 * math.cos(math.pi / (SIDE + 1)) / (4 + shift)  # Jacobi's radius of A + cI
    problem = f"2-D Laplacian + {shift:.3f} I (n={SIDE * SIDE}), held-out"
    learned = float(model.predict(np.array([[shift]]))[0])
    for label, omega in (
        (f"sor, best constant omega={model.best_constant_:.3f}", model.best_constant_),
        (f"sor, ParameterModel omega={learned:.3f}", learned),
    ):
        predicted = f"{float(theory.sor_rate(omega, beta)):.3f}"
        yield Case(label, problem, functools.partial(sor, A, b, omega=omega, rtol=1e-8), predicted)
