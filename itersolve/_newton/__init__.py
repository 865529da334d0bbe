"""Newton's method: deflation for several roots, singular roots and their structure,
α-theory certificates, and polynomial systems.

Besides the public names, ``__all__`` publishes to the rest of the package what the
array-API mirror :mod:`itersolve.gpu._newton` runs the same iteration with: the stopping
rules' constants, the words of each stop, the checks of what ``F`` and its Jacobian return,
and the ``stats`` a Newton solve reports.
"""

from __future__ import annotations

from ._alpha import AlphaCertificate, Certification, alpha_test, certify
from ._deflation import ShiftedDeflation
from ._jacobian import FD_STEPS, SINGULAR_REASONS, check_jacobian, check_values
from ._multiplicity import MultiplicityStructure, multiplicity_structure
from ._newton import (
    ARMIJO_C,
    DIVERGENCE_GROWTH,
    DIVERGENCE_WINDOW,
    MIN_STEP,
    deflated_root_note,
    diverging_note,
    line_search_note,
    newton_stats,
    singular_note,
    stuck_note,
    tau_note,
)
from ._polynomial import PolynomialSystem
from ._roots import RootsResult, find_roots
from ._singular_solve import singular_newton
from ._solve import deflated_newton, newton

__all__ = [
    "ARMIJO_C",
    "DIVERGENCE_GROWTH",
    "DIVERGENCE_WINDOW",
    "FD_STEPS",
    "MIN_STEP",
    "SINGULAR_REASONS",
    "AlphaCertificate",
    "Certification",
    "MultiplicityStructure",
    "PolynomialSystem",
    "RootsResult",
    "ShiftedDeflation",
    "alpha_test",
    "certify",
    "check_jacobian",
    "check_values",
    "deflated_newton",
    "deflated_root_note",
    "diverging_note",
    "find_roots",
    "line_search_note",
    "multiplicity_structure",
    "newton",
    "newton_stats",
    "singular_newton",
    "singular_note",
    "stuck_note",
    "tau_note",
]
