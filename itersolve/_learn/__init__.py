"""The learn family: solver parameters and starting points trained with the solver in the loop.

Front ends :class:`WarmStart` (:mod:`._warm_start`) and :class:`ParameterModel`
(:mod:`._parameter`); the straight-through count in :mod:`._surrogate`; stationary linear
iterations over many tasks in :mod:`._linear`, the count objective in :mod:`._count` and
:mod:`._newton_count`; tangent (forward-mode) histories in :mod:`._tangents` and
:mod:`._nonlinear` (with the Newton–SOR solver); Numba kernels in :mod:`._kernels`; problem
families in :mod:`._experiments` and :mod:`._robertson`. There is no GPU mirror: training
runs on the CPU, and the predictions are plain arrays any solver takes, on any backend.
"""

from __future__ import annotations

from ._experiments import deterioration_tasks, poisson_1d_tasks, shifted_laplacian_tasks
from ._nonlinear import newton_sor
from ._parameter import ParameterModel
from ._robertson import robertson_tasks
from ._surrogate import iteration_surrogate
from ._tasks import NotFittedError
from ._warm_start import WarmStart

__all__ = [
    "NotFittedError",
    "ParameterModel",
    "WarmStart",
    "deterioration_tasks",
    "iteration_surrogate",
    "newton_sor",
    "poisson_1d_tasks",
    "robertson_tasks",
    "shifted_laplacian_tasks",
]
