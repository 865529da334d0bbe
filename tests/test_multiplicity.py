"""Multiplicity structure by Dayton–Zeng Macaulay matrices: benchmarks and planted roots."""

from __future__ import annotations

import doctest
import math
import re

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from itersolve._newton import _multiplicity
from itersolve._newton._multiplicity import multiplicity_structure
from itersolve._newton._polynomial import PolynomialSystem
from itersolve.testing.problems import planted_root

S5, S7 = math.sqrt(5), math.sqrt(7)
OJIKA3 = ["x + y + z - 1", "2*x**3 + 5*y**2 - 10*z + 5*z**3 + 5", "2*x + 2*y + z**2 - 1"]
CAPRASSE = [
    "-x1**3*x3 + 4*x1*x2**2*x3 + 4*x1**2*x2*x4 + 2*x2**3*x4 + 4*x1**2 - 10*x2**2 + 4*x1*x3"
    " - 10*x2*x4 + 2",
    "-x1*x3**3 + 4*x2*x3**2*x4 + 4*x1*x3*x4**2 + 2*x2*x4**3 + 4*x1*x3 + 4*x3**2 - 10*x2*x4"
    " - 10*x4**2 + 2",
    "x2**2*x3 + 2*x1*x2*x4 - 2*x1 - x3",
    "x1*x4**2 + 2*x2*x3*x4 - x1 - 2*x3",
]
# DZ3 has irrational coefficients, which the string parser of PolynomialSystem does not
# take (it accepts no functions): the trusted literals below are parsed by sympy here.
DZ3 = [
    sp.parse_expr(e)
    for e in (
        "14*x1 + 33*x2 - 3*sqrt(5)*(x1**2 + 4*x1*x2 + 4*x2**2 + 2) + sqrt(7) + x1**3"
        " + 6*x1**2*x2 + 12*x1*x2**2 + 8*x2**3",
        "41*x1 - 18*x2 - sqrt(5) + 8*x1**3 - 12*x1**2*x2 + 6*x1*x2**2 - x2**3"
        " + 3*sqrt(7)*(4*x1*x2 - 4*x1**2 - x2**2 - 2)",
    )
]
KSS5 = [f"x{i}**2 - 2*x{i} + x1 + x2 + x3 + x4 + x5 - 4" for i in range(1, 6)]

# Spec §6: (name, polynomials, variables, root, μ, depth, nullities of S_1, S_2, ...).
BENCHMARKS = [
    ("cbms1", ["x**3 - y*z", "y**3 - x*z", "z**3 - x*y"], "x y z", [0, 0, 0], 11, 4,
     (4, 7, 10, 11, 11)),
    ("cbms2", ["x**3 - 3*x**2*y + 3*x*y**2 - y**3 - z**2",
               "z**3 - 3*z**2*x + 3*z*x**2 - x**3 - y**2",
               "y**3 - 3*y**2*z + 3*y*z**2 - z**3 - x**2"], "x y z", [0, 0, 0], 8, 3,
     (4, 7, 8, 8)),
    ("mth191", ["x**3 + y**2 + z**2 - 1", "x**2 + y**3 + z**2 - 1", "x**2 + y**2 + z**3 - 1"],
     "x y z", [0, 1, 0], 4, 2, (3, 4, 4)),
    ("decker2", ["x + y**3", "x**2*y - y**4"], "x y", [0, 0], 4, 3, (2, 3, 4, 4)),
    ("ojika2@001", ["x**2 + y + z - 1", "x + y**2 + z - 1", "x + y + z**2 - 1"], "x y z",
     [0, 0, 1], 2, 1, (2, 2)),
    ("ojika2@100", ["x**2 + y + z - 1", "x + y**2 + z - 1", "x + y + z**2 - 1"], "x y z",
     [1, 0, 0], 2, 1, (2, 2)),
    ("ojika3@001", OJIKA3, "x y z", [0, 0, 1], 4, 3, (2, 3, 4, 4)),
    ("ojika3@(-5/2,5/2,1)", OJIKA3, "x y z", [-2.5, 2.5, 1], 2, 1, (2, 2)),
    ("KSS5", KSS5, "x1 x2 x3 x4 x5", [1] * 5, 16, 4, (5, 11, 15, 16, 16)),
    ("caprasse", CAPRASSE, "x1 x2 x3 x4", [2, -1j * math.sqrt(3), 2, 1j * math.sqrt(3)], 4, 2,
     (3, 4, 4)),
    ("DZ2", ["x**4", "x**2*y + y**4", "z + z**2 - 7*x**3 - 8*x**2"], "x y z", [0, 0, -1], 16, 7,
     (3, 6, 9, 11, 13, 15, 16, 16)),
    ("DZ3", DZ3, "x1 x2", [2 / 5 * S7 + S5 / 5, -S7 / 5 + 2 / 5 * S5], 5, 4, (2, 3, 4, 5, 5)),
    ("griewank-osborne", ["29*x**3/16 - 2*x*y", "x**2 - y"], "x y", [0, 0], 3, 2, (2, 3, 3)),
    ("x2,y2", ["x**2", "y**2"], "x y", [0, 0], 4, 2, (3, 4, 4)),
    ("x2,x3", ["x**2", "x**3"], "x", [0], 2, 1, (2, 2)),
    ("x3", ["x**3"], "x", [0], 3, 2, (2, 3, 3)),
    ("DZ1", ["x**4 - y*z*w", "y**4 - x*z*w", "z**4 - x*y*w", "w**4 - x*y*z"], "x y z w",
     [0, 0, 0, 0], 131, 10, (5, 15, 31, 53, 78, 100, 116, 126, 130, 131, 131)),
]  # fmt: skip


def _shifted(system, root):
    dtype = np.dtype(complex if np.iscomplexobj(root) else float)
    return [
        _multiplicity._shifted_coefficients(e, system.variables, list(root), dtype)
        for e in system.exprs
    ]


def _apply(element, g, beta=None):
    """Λ((x - ξ)^β g) for Λ = Σ c_α d^α and g given by its Taylor coefficients at ξ."""
    beta = beta or (0,) * len(next(iter(element)))
    total = 0
    for alpha, c in element.items():
        gamma = tuple(a - b for a, b in zip(alpha, beta))
        if min(gamma) >= 0:
            total += c * g.get(gamma, 0)
    return total


@pytest.mark.parametrize("case", BENCHMARKS, ids=[c[0] for c in BENCHMARKS])
def test_published_multiplicities(case):
    _, exprs, names, root, mu, depth, nullities = case
    system = PolynomialSystem(exprs, sp.symbols(names))
    s = multiplicity_structure(system, np.array(root))
    assert s.multiplicity == mu
    assert s.depth == depth
    assert s.nullities[1:] == nullities
    assert s.breadth == nullities[0] - 1 == s.hilbert[1]
    assert sum(s.hilbert) == mu and len(s.dual_basis) == mu
    # Every rank decision had a clean gap (a dropped value tiny next to the kept ones).
    assert max(d["gap"] for d in s.rank_decisions) < 1e-6
    assert len(s.primal_basis) == mu and s.primal_closed


@pytest.mark.parametrize("case", BENCHMARKS[:14], ids=[c[0] for c in BENCHMARKS[:14]])
def test_dual_basis_is_the_inverse_system(case):
    _, exprs, names, root, *_ = case
    system = PolynomialSystem(exprs, sp.symbols(names))
    root = np.array(root)
    s = multiplicity_structure(system, root)
    gs = _shifted(system, root)
    n = len(system.variables)
    betas = [(0,) * n] + [tuple(int(i == k) for i in range(n)) for k in range(n)]
    for element in s.dual_basis:
        scale = max(abs(v) for v in element.values())
        for g in gs:
            for beta in betas:
                assert abs(_apply(element, g, beta)) <= 1e-8 * scale * max(map(abs, g.values()))
    # Λ_i(b_j) on the primal basis is nonsingular: B is a basis of the local ring.
    M = np.array([[e.get(b, 0) for b in s.primal_basis] for e in s.dual_basis])
    assert np.linalg.cond(M) < 1e8


def _exponents(case):
    """The exponents a_i of the singular equations u_i^a_i of a "powers" case."""
    powers = [re.fullmatch(r"u\d+\*\*(\d+)", e) for e in case.equations]
    return sorted(int(match[1]) for match in powers if match)


@settings(max_examples=10)
@given(n=st.integers(1, 4), m=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_planted_breadth_one(n, m, seed):
    system, xi, _ = planted_root(n_vars=n, multiplicity=m, breadth=min(m - 1, 1), seed=seed)
    s = multiplicity_structure(system, xi)
    assert (s.multiplicity, s.depth) == (m, m - 1)
    assert s.breadth == (1 if m > 1 else 0)
    assert s.hilbert == (1,) * m


@settings(max_examples=10)
@given(a=st.integers(1, 4), b=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_planted_product(a, b, seed):
    """(u_1^a_1, u_2^a_2): μ = a_1 a_2, depth a_1 + a_2 - 2, breadth #{a_i > 1}. The seed
    may factor a b otherwise (12 = 2 * 6 = 3 * 4): the exponents are read off the case."""
    case = planted_root(n_vars=2, multiplicity=a * b, breadth=(a > 1) + (b > 1),
                        structure="powers", seed=seed)  # fmt: skip
    exponents = _exponents(case) + [1] * (2 - case.breadth)
    assert math.prod(exponents) == a * b
    s = multiplicity_structure(case.system, case.root)
    assert s.multiplicity == a * b
    assert s.depth == sum(exponents) - 2
    assert s.breadth == (a > 1) + (b > 1)


def test_regular_root_has_multiplicity_one():
    s = multiplicity_structure(PolynomialSystem(["x**2 + y**2 - 2", "x - y"], ["x", "y"]), [1, 1])
    assert (s.multiplicity, s.breadth, s.depth, s.hilbert) == (1, 0, 0, (1,))
    assert s.dual_basis == [{(0, 0): 1.0}] and s.primal_basis == ((0, 0),)


def test_not_a_root_is_rejected():
    system = PolynomialSystem(["x**2", "y**2"], ["x", "y"])
    with pytest.raises(ValueError, match="not a root"):
        multiplicity_structure(system, [1e-3, 0.0])


def test_positive_dimensional_root_is_rejected():
    system = PolynomialSystem(["x*y", "x**2*y"], ["x", "y"])  # the line x = 0 is a component
    with pytest.raises(ValueError, match="still growing"):
        multiplicity_structure(system, [0.0, 0.0], max_order=8)
    with pytest.raises(ValueError, match="isolated"):
        multiplicity_structure(system, [0.0, 0.0])


def test_argument_checks():
    system = PolynomialSystem(["x**2", "y**2"], ["x", "y"])
    with pytest.raises(ValueError, match="shape"):
        multiplicity_structure(system, [0.0])
    with pytest.raises(ValueError, match="finite"):
        multiplicity_structure(system, [np.nan, 0.0])
    with pytest.raises(ValueError, match="tol"):
        multiplicity_structure(system, [0.0, 0.0], tol=0)
    with pytest.raises(ValueError, match="method"):
        multiplicity_structure(system, [0.0, 0.0], method="bogus")
    with pytest.raises(NotImplementedError, match="integration"):
        multiplicity_structure(system, [0.0, 0.0], method="integration")


def test_docstring_examples():
    assert doctest.testmod(_multiplicity).failed == 0


class _DuckSystem:
    variables = (sp.Symbol("x"),)
    exprs = (sp.sin(sp.Symbol("x")),)


def test_hostile_arguments_are_named():
    """Issue 12: wrong types and values raise itersolve's own error naming the argument."""
    system = PolynomialSystem(["x**2", "y**2"], ["x", "y"])
    cases = [
        (dict(root=None), TypeError, "`root`"),
        (dict(root="ab"), TypeError, "`root`"),
        (dict(root=[False, False]), TypeError, "`root`"),
        (dict(root=[[0.0], [0.0, 1.0]]), TypeError, "`root`"),
        (dict(root=[1e200, 0.0]), ValueError, "`root` is too large"),
        (dict(root=[0.0, 0.0], tol="1e-8"), TypeError, "`tol`"),
        (dict(root=[0.0, 0.0], max_order=2.0), TypeError, "`max_order`"),
        (dict(root=[0.0, 0.0], max_order=0), ValueError, "`max_order`"),
        (dict(root=[0.0, 0.0], method=3), TypeError, "`method`"),
        (dict(root=[0.0, 0.0], method=np.array(["macaulay"])), TypeError, "`method`"),
    ]
    for kwargs, error, name in cases:
        with pytest.raises(error, match=name):
            multiplicity_structure(system, **kwargs)
    with pytest.raises(TypeError, match="`system`"):
        multiplicity_structure(None, [0.0])
    with pytest.raises(ValueError, match="`system`: equation 0 is not a polynomial"):
        multiplicity_structure(_DuckSystem(), [0.0])
    # A huge order bound is harmless: the dual space closes at order 3.
    assert multiplicity_structure(system, [0.0, 0.0], max_order=10**30).multiplicity == 4
