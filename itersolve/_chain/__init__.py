"""Sequential computations by parallel sweeps: Picard, Jacobi, Gauss–Seidel, hybrids, Newton.

A chain ``x_{t+1} = g_t(x_t)`` is the block lower-triangular system ``x_{t+1} - g_t(x_t) =
0``; every method here iterates on all its states at once and still returns the
sequential answer (see :func:`solve_chain`).
"""

from ._ode import SCHEMES, picard_ode
from ._predictors import TrajectoryModel
from ._solve import METHODS, sequential_chain, solve_chain
from ._start import forget as forget_previous

__all__ = [
    "METHODS",
    "SCHEMES",
    "TrajectoryModel",
    "forget_previous",
    "picard_ode",
    "sequential_chain",
    "solve_chain",
]
