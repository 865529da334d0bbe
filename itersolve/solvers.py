"""The solver objects behind the front-ends, for driving an iteration by hand.

``itersolve.fixed_point(T, x0, method=...)`` builds one of these and passes it to
:func:`run`; the same pieces let a caller step an iteration itself, for example to watch
per-step residuals or to stop on a criterion of its own:

    import numpy as np
    from itersolve.solvers import Anderson, FixedPointProblem

    x = np.zeros(3)
    problem = FixedPointProblem(np.cos, x)  # counts and checks evaluations of T
    solver = Anderson(rtol=1e-10, atol=0.0, m=5)
    state = solver.init(problem, x)
    while not solver.terminate(problem, x, state)[0]:
        x, state = solver.step(problem, x, state)   # state.residual = ||x - T(x)||_2

:func:`run` is the loop every front-end uses: finiteness check, stopping test, callback,
``maxiter``, and the :class:`~itersolve.SolveResult`.
"""

from ._driver import Solver, run
from ._fixed_point import Aitken, Anderson, FixedPointProblem, FixedPointSolver, Halpern, Mann

__all__ = [
    "Aitken",
    "Anderson",
    "FixedPointProblem",
    "FixedPointSolver",
    "Halpern",
    "Mann",
    "Solver",
    "run",
]
