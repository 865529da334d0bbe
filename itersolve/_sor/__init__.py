"""The SOR family: ``sor``, ``ssor_pcg``, the in-place ``relax``, ``coloring`` and
``jacobi_spectral_radius``.

Front ends in :mod:`._solve`, solver objects in :mod:`._solvers`, the checked system in
:mod:`._system`, colourings in :mod:`._coloring`, Numba kernels in :mod:`._kernels`. The
array-API mirror :mod:`itersolve.gpu._sor` builds its coloured solvers on the names below
that are not public functions.
"""

from __future__ import annotations

from ._solve import coloring, jacobi_spectral_radius, relax, sor, ssor_pcg
from ._solvers import SSORPCG, SWEEPS, LinearSolver, LinearState
from ._system import LinearSystem, check_omega, diagonal_checked

__all__ = [
    "SSORPCG",
    "SWEEPS",
    "LinearSolver",
    "LinearState",
    "LinearSystem",
    "check_omega",
    "coloring",
    "diagonal_checked",
    "jacobi_spectral_radius",
    "relax",
    "sor",
    "ssor_pcg",
]
