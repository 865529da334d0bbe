"""The SOR family's run-time formula against the sympy derivation in itersolve.theory.sor.

``omega="auto"`` evaluates :func:`itersolve._sor._system.young_omega`, never the theory
module; this test ties the two together.
"""

from __future__ import annotations

import numpy as np
import pytest
from itersolve.theory import sor as theory

from itersolve._sor._system import young_omega
from itersolve.testing import rates


@pytest.mark.parametrize("beta", [0.0, 1e-12, 1e-8, 0.5, 0.999999])
def test_youngs_omega_is_cancellation_free(beta):
    import sympy

    closed = 2 / (1 + np.sqrt(1 - beta**2))  # from the paper; no cancellation here either
    assert 0 < young_omega(beta) < 2
    assert young_omega(beta) == pytest.approx(closed, rel=1e-14)
    # the theory module's expression, evaluated exactly (its float form cancels)
    symbol = sympy.Symbol("beta", positive=True)
    expr = theory.derivations()["optimal_omega"].subs(sympy.Symbol("beta", positive=True), symbol)
    exact = (
        sympy.limit(expr, symbol, 0)
        if beta == 0
        else expr.subs(symbol, sympy.Rational(repr(beta))).evalf(40)
    )
    assert young_omega(beta) == pytest.approx(float(exact), rel=1e-14)
    # and the plain-numpy formula users' suites import
    assert rates.young_omega(beta) == pytest.approx(float(exact), rel=1e-14)
