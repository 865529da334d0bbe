"""PolynomialSystem.from_terms: the same system as the parsing constructor, without parsing.

The oracle is the constructor itself on the same polynomials written as strings (its
parser and ``sympy.lambdify`` are independent of the term evaluator), and exact sympy
evaluation for the values.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import itersolve
from itersolve import PolynomialSystem

exponents = st.tuples(st.integers(0, 3), st.integers(0, 3))
coefficients = st.one_of(
    st.integers(-5, 5),
    st.fractions(min_value=-3, max_value=3, max_denominator=8),
    st.complex_numbers(max_magnitude=3, allow_nan=False, allow_infinity=False).map(
        lambda z: complex(round(z.real, 3), round(z.imag, 3))
    ),
)
systems = st.lists(st.dictionaries(exponents, coefficients, max_size=5), min_size=1, max_size=3)


def as_string(poly: dict) -> str:
    def number(c):
        if isinstance(c, complex):
            return f"({c.real!r} + {c.imag!r}*I)"
        if isinstance(c, Fraction):
            return f"({c.numerator}/{c.denominator})"
        return f"({c})"

    return " + ".join(f"{number(c)}*x**{a}*y**{b}" for (a, b), c in poly.items()) or "0"


@settings(max_examples=60)
@given(terms=systems, point=st.tuples(st.floats(-2, 2), st.floats(-2, 2)))
def test_from_terms_is_the_parsed_system(terms, point):
    fast = PolynomialSystem.from_terms(terms, ["x", "y"])
    parsed = PolynomialSystem([as_string(p) for p in terms], ["x", "y"])
    x = np.array(point)
    assert fast.degrees == parsed.degrees and fast.is_complex == parsed.is_complex
    assert all(sp.expand(a - b) == 0 for a, b in zip(fast.exprs, parsed.exprs))
    scale = 1 + sum(abs(complex(c)) for p in terms for c in p.values()) * 16
    for order in (0, 1, 2):
        np.testing.assert_allclose(
            fast.derivatives(x, order), parsed.derivatives(x, order), atol=1e-13 * scale
        )
    np.testing.assert_allclose(fast.coefficient_norms(), parsed.coefficient_norms(), rtol=1e-12)


def test_exact_coefficients_stay_exact():
    third = sp.Rational(1, 3)
    F = PolynomialSystem.from_terms([{(2,): 1, (0,): -third * 3}], ["x"])
    assert F.exprs == (sp.Symbol("x") ** 2 - 1,)
    assert F(np.array([1.0])).tolist() == [0.0] and F(np.array([1j])).dtype == complex
    G = PolynomialSystem.from_terms([{(1,): 1, (0,): -(sp.Rational(1, 2) + sp.I / 4)}], ["z"])
    assert G.is_complex and G(np.array([0.5 + 0.25j]))[0] == 0


def test_the_solvers_take_it():
    # (x - 1/2)^2 and y + 1: a double root at (1/2, -1)
    F = PolynomialSystem.from_terms(
        [{(2, 0): 1, (1, 0): -1, (0, 0): Fraction(1, 4)}, {(0, 1): 1, (0, 0): 1}], ["x", "y"]
    )
    structure = itersolve.multiplicity_structure(F, np.array([0.5, -1.0]))
    assert (structure.multiplicity, structure.breadth) == (2, 1)
    result = itersolve.singular_newton(F, np.array([0.6, -0.9]))
    np.testing.assert_allclose(result.x, [0.5, -1.0], atol=1e-10)


@pytest.mark.parametrize(
    "terms, variables, error, match",
    [
        ({(1,): 1}, ["x"], TypeError, "sequence of dicts"),
        ([[(1,), 1]], ["x"], TypeError, r"terms\[0\]` must be a dict"),
        ([{(1, 0): 1}], ["x"], ValueError, "not a tuple of 1 non-negative integer"),
        ([{(-1,): 1}], ["x"], ValueError, "non-negative"),
        ([{(1.5,): 1}], ["x"], ValueError, "integer"),
        ([{(201,): 1}], ["x"], ValueError, "total degree at most 200"),
        ([{(1,): "2"}], ["x"], TypeError, "must be a number"),
        ([{(1,): sp.Symbol("a")}], ["x"], TypeError, "must be a number"),
        ([{(1,): float("nan")}], ["x"], ValueError, "not a finite double"),
        ([{(1,): 10**400}], ["x"], ValueError, "not a finite double"),
        ([], ["x"], ValueError, "empty"),
        ([{(1,): 1}], [], TypeError, "non-empty"),
        ([{(1,): 1}], ["x x"], ValueError, "not a valid variable name"),
        ([{(i, j): 1 for i in range(80) for j in range(80)}], ["x", "y"], ValueError, "limit"),
    ],
)
def test_bad_terms_are_named(terms, variables, error, match):
    with pytest.raises(error, match=match):
        PolynomialSystem.from_terms(terms, variables)
