"""``itersolve.fixed_point``: x = T(x) by plain, averaged, anchored, Anderson or Aitken steps.

Besides the public ``fixed_point`` and ``METHODS``, ``__all__`` publishes to the rest of
the package the pieces other families and :mod:`itersolve.solvers` build on: the guarded
map, the solver objects, the method-default marker with the ``restart`` check, and
Halpern's adaptive restart rule (which the infimal-displacement estimator reuses).
"""

from ._aitken import Aitken
from ._anderson import Anderson
from ._halpern import Halpern, adaptive_restart_due
from ._mann import Mann
from ._map import FixedPointProblem, FixedPointSolver
from ._options import METHOD_DEFAULT, METHODS, check_restart
from ._solve import fixed_point

__all__ = [
    "METHODS",
    "METHOD_DEFAULT",
    "Aitken",
    "Anderson",
    "FixedPointProblem",
    "FixedPointSolver",
    "Halpern",
    "Mann",
    "adaptive_restart_due",
    "check_restart",
    "fixed_point",
]
