"""Newton's method, shifted deflation for several roots, and polynomial systems."""

from __future__ import annotations

from ._alpha import AlphaCertificate, Certification, alpha_test, certify
from ._deflation import ShiftedDeflation
from ._polynomial import PolynomialSystem
from ._roots import RootsResult, find_roots
from ._solve import deflated_newton, newton

__all__ = [
    "AlphaCertificate",
    "Certification",
    "PolynomialSystem",
    "RootsResult",
    "ShiftedDeflation",
    "alpha_test",
    "certify",
    "deflated_newton",
    "find_roots",
    "newton",
]
