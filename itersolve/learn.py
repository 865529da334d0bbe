"""Learned solvers: parameters and starting points trained on what the solver costs.

Gradient-based meta-solving (Arisaka & Li, *Principled Acceleration of Iterative
Numerical Methods Using Machine Learning*, ICML 2023) with models linear in their weights,
on numpy, scipy and Numba alone:

- :class:`WarmStart` predicts a starting point ``x0`` from a task's features, trained on
  the distance to the solution (``"solution"``), on the residual the solver leaves after
  ``k`` steps (``"residual"``, exact in closed form for stationary iterations) or on the
  iteration count itself (``"iterations"``), beside the k-NN, previous-solution and mean
  baselines.
- :class:`ParameterModel` predicts SOR's ω from the features, regressed on each task's
  best ω (``"optimal"``) or trained on the iteration count with exact gradients from
  tangent SOR sweeps (``"iterations"``); :meth:`ParameterModel.as_tuner` lets it drive
  :func:`itersolve.tuning.solve_sequence` beside the online tuners.
- :func:`iteration_surrogate` is the differentiable (straight-through) iteration count.
- :func:`newton_sor` is the one-step SOR–Newton iteration of the paper's Robertson
  experiment.
- The problem families of the paper and of the tests: :func:`poisson_1d_tasks`,
  :func:`shifted_laplacian_tasks`, :func:`robertson_tasks` and
  :func:`deterioration_tasks` (where training on the solution is arbitrarily worse than
  training on the solver's cost).

See the docs page "Learned solvers".
"""

from . import _learn
from ._learn import (  # noqa: F401 - the family's published names are the public ones
    NotFittedError,
    ParameterModel,
    WarmStart,
    deterioration_tasks,
    iteration_surrogate,
    newton_sor,
    poisson_1d_tasks,
    robertson_tasks,
    shifted_laplacian_tasks,
)

__all__ = list(_learn.__all__)
