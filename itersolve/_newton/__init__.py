"""Newton's method: deflation for several roots, singular roots and their structure,
α-theory certificates, and polynomial systems."""

from __future__ import annotations

from ._alpha import AlphaCertificate, Certification, alpha_test, certify
from ._deflation import ShiftedDeflation
from ._multiplicity import MultiplicityStructure, multiplicity_structure
from ._polynomial import PolynomialSystem
from ._roots import RootsResult, find_roots
from ._singular import singular_newton
from ._solve import deflated_newton, newton

__all__ = [
    "AlphaCertificate",
    "Certification",
    "MultiplicityStructure",
    "PolynomialSystem",
    "RootsResult",
    "ShiftedDeflation",
    "alpha_test",
    "certify",
    "deflated_newton",
    "find_roots",
    "multiplicity_structure",
    "newton",
    "singular_newton",
]
