"""The sympy derivations behind itersolve.theory.fixed_point."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from itersolve.theory import fixed_point as theory


def test_derived_expressions_are_the_textbook_ones():
    d = theory.derivations()
    k, q, lam, D, E0, a, b = (
        sp.Symbol(name, **kw)
        for name, kw in [
            ("k", {"real": True}),
            ("q", {"real": True}),
            ("lam", {"positive": True}),
            ("D", {"positive": True}),
            ("E0", {"positive": True}),
            ("a", {"real": True}),
            ("b", {"real": True}),
        ]
    )
    assert sp.simplify(d["contraction"] - E0 * q**k) == 0
    assert sp.simplify(d["km_residual"] ** 2 - D**2 / (lam * (1 - lam) * (k + 1))) == 0
    assert sp.simplify(d["optimal_relaxation"] - 2 / (2 - a - b)) == 0
    assert sp.simplify(d["optimal_rate"] - (b - a) / (2 - a - b)) == 0


def test_numeric_functions():
    assert theory.contraction_error_bound(3, 0.5, 8.0) == pytest.approx(1.0)
    np.testing.assert_allclose(
        theory.km_residual_bound(np.arange(3), 0.5, 1.0), 2 / np.sqrt([1, 2, 3])
    )
    np.testing.assert_allclose(theory.halpern_residual_bound(np.arange(3), 3.0), [6.0, 3.0, 2.0])
    assert theory.averaged_lipschitz(0.9, 0.5) == pytest.approx(0.95)
    assert theory.linear_rate([0.5, -0.9]) == pytest.approx(0.9)
    assert theory.linear_rate(np.exp(1j * np.array([0.3, 1.0])), 0.5) == pytest.approx(np.cos(0.15))


def test_optimal_relaxation_minimises_the_linear_rate():
    lowest, highest = -0.3, 0.95
    best, rate = theory.optimal_relaxation(lowest, highest)
    spectrum = np.linspace(lowest, highest, 101)
    assert theory.linear_rate(spectrum, best) == pytest.approx(rate)
    for other in np.linspace(0.1, 1.9, 37):
        assert theory.linear_rate(spectrum, other) >= rate - 1e-12
    with pytest.raises(ValueError):
        theory.optimal_relaxation(0.5, 1.2)
