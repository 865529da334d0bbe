"""Planted roots of itersolve.testing: every certificate against an independent oracle.

The oracles use the returned system alone: sympy's Gröbner bases over the exact rational
coefficients (the dimension of C[x]/I, which counts every root with its multiplicity, and
the local Hilbert function at ξ from the dimensions of C[y]/(I + m^(k+1)) in y = x - ξ),
the residual in exact rational arithmetic, a dense SVD of the Jacobian, plain Newton's
observed error ratios, the public PolynomialSystem constructor, and the library's own
multiplicity_structure as a peer.
"""

from __future__ import annotations

import doctest
import itertools
import math
import re
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from itersolve import PolynomialSystem, multiplicity_structure, newton, singular_newton
from itersolve.testing import problems
from itersolve.testing._roots import MAX_TERMS, STRUCTURES

planted_root, feasible_multiplicities = problems.planted_root, problems.feasible_multiplicities
DTYPES = ("float32", "float64", "complex64", "complex128")
seeds = st.integers(0, 2**32 - 1)


@st.composite
def arguments(draw, max_vars=3, max_multiplicity=8, dtypes=DTYPES):
    """Keyword arguments of planted_root, drawn directly (every structure that reaches μ)."""
    n_vars = draw(st.integers(1, max_vars))
    breadth = draw(st.integers(0, n_vars))
    structure = draw(st.sampled_from((None,) + STRUCTURES))
    reachable = feasible_multiplicities(n_vars, breadth, max_multiplicity, structure=structure)
    if not reachable:
        structure = None
        reachable = feasible_multiplicities(n_vars, breadth, max_multiplicity)
    if not reachable:  # breadth too large for max_multiplicity
        breadth, reachable = 1, feasible_multiplicities(n_vars, 1, max_multiplicity)
    return dict(n_vars=n_vars, breadth=breadth, multiplicity=draw(st.sampled_from(reachable)),
                structure=structure, regular=draw(st.sampled_from(["quadratic", "linear"])),
                dtype=draw(st.sampled_from(dtypes)), seed=draw(seeds))  # fmt: skip


def exact_root(case):
    """ξ as sympy numbers: its entries are multiples of 1/8, so the floats are exact."""
    return [sp.Rational(Fraction(float(v.real))) + sp.I * sp.Rational(Fraction(float(v.imag)))
            for v in case.root.astype(np.complex128)]  # fmt: skip


def quotient_dimension(polys, variables):
    """dim C[x]/(polys) from a grevlex Gröbner basis: the standard monomials, counted in
    the box below the pure powers among the leading monomials (None if not finite)."""
    basis = sp.groebner(polys, *variables, order="grevlex")
    leads = [sp.Poly(g, *variables).monoms(order="grevlex")[0] for g in basis.exprs]
    n = len(variables)
    box = [min((lead[i] for lead in leads if sum(lead) == lead[i]), default=None)
           for i in range(n)]  # fmt: skip
    if None in box:
        return None, basis
    standard = [m for m in itertools.product(*map(range, box))
                if not any(all(a >= b for a, b in zip(m, lead)) for lead in leads)]  # fmt: skip
    return len(standard), basis


def local_hilbert(case):
    """h(0), h(1), ... of the local ring at ξ: dim C[y]/(I + m^(k+1)) = h(0) + ... + h(k),
    with y = x - ξ and m = (y), until it stops growing."""
    system = case.system
    ys = sp.symbols(f"y0:{system.n_variables}")
    shift = {x: y + r for x, y, r in zip(system.variables, ys, exact_root(case))}
    shifted = [sp.expand(e.xreplace(shift)) for e in system.exprs]
    sums = [0]
    for k in itertools.count():
        exponents = itertools.product(range(k + 2), repeat=len(ys))
        power = [sp.Mul(*[y**a for y, a in zip(ys, m)]) for m in exponents if sum(m) == k + 1]
        sums.append(quotient_dimension(shifted + power, ys)[0])
        if sums[-1] == sums[-2]:
            return tuple(b - a for a, b in zip(sums[:-2], sums[1:-1]))


def plain_newton_errors(system, x0, root, steps):
    x, errors = x0.astype(np.complex128 if np.iscomplexobj(root) else np.float64), []
    for _ in range(steps):
        errors.append(np.linalg.norm(x - root))
        x = x - np.linalg.solve(system.jacobian(x), system(x))
    return np.array(errors)


@settings(max_examples=25, deadline=None)
@given(arguments(max_multiplicity=6))  # Gröbner bases of larger ones take seconds
def test_groebner_basis_certifies_the_root_and_its_local_ring(kwargs):
    case = planted_root(**kwargs)
    system, root, mu = case
    # the residual at ξ in exact arithmetic: the coefficients are rationals
    point = dict(zip(system.variables, exact_root(case)))
    assert all(sp.expand(e.xreplace(point)) == 0 for e in system.exprs)
    # dim C[x]/I counts every root with its multiplicity: the 2^(n - breadth) listed
    # roots (checked to be roots, and distinct, below) of μ each
    dimension, _ = quotient_dimension(list(system.exprs), system.variables)
    others = system.n_variables - case.breadth if kwargs["regular"] == "quadratic" else 0
    assert dimension == mu * len(case.roots) == mu * 2**others
    hilbert = local_hilbert(case)
    assert hilbert == case.hilbert and sum(hilbert) == mu
    assert (case.breadth, case.depth) == (hilbert[1] if mu > 1 else 0, len(hilbert) - 1)


@settings(max_examples=25, deadline=None)
@given(arguments(max_vars=4, max_multiplicity=12))
def test_multiplicity_structure_agrees(kwargs):
    case = planted_root(**kwargs)
    s = multiplicity_structure(case.system, case.root)
    assert (s.multiplicity, s.breadth, s.depth, s.hilbert) == (
        case.multiplicity, case.breadth, case.depth, case.hilbert)  # fmt: skip
    assert max(d["gap"] for d in s.rank_decisions) < 1e-6  # clean rank decisions


@given(arguments(max_vars=5, max_multiplicity=16))
def test_cheap_invariants_of_every_draw(kwargs):
    case = planted_root(**kwargs)
    system, root, mu = case
    n, dtype = kwargs["n_vars"], np.dtype(kwargs["dtype"])
    assert isinstance(system, PolynomialSystem) and system.n_equations == n == root.size
    assert root.dtype == dtype and mu == kwargs["multiplicity"] == sum(case.hilbert)
    assert np.all(np.abs(root.real) <= 1) and np.all(np.abs(root.imag) <= 1)
    assert np.all(root.real * 8 == np.round(root.real * 8))
    if dtype.kind == "f":
        assert not system.is_complex
    else:  # a non-real root, so complex coefficients
        assert np.all(root.imag != 0) and system.is_complex
    # the rounded coefficients leave a residual of rounding size only: each equation is
    # a power of a linear form in x whose coefficients sum to at most 1 + 2 sqrt(n) here
    rounding = 1e-14 * (1 + 2 * np.sqrt(n)) ** max(system.degrees)
    assert np.abs(system(root)).max() <= rounding
    # breadth = dim ker J(ξ), by a dense SVD; the kernel rows span it, orthonormally
    jacobian = system.jacobian(root)
    sigma = np.linalg.svd(jacobian, compute_uv=False)
    # J(ξ) = D Q with D = diag(1, ..., 1, 0, ..., 0): singular values exactly 1 and 0
    assert np.allclose(sigma, [1.0] * (n - case.breadth) + [0.0] * case.breadth, atol=rounding)
    assert case.kernel.shape == (case.breadth, n)
    assert np.abs(jacobian @ case.kernel.T).max(initial=0.0) <= rounding
    assert np.allclose(case.kernel.conj() @ case.kernel.T, np.eye(case.breadth), atol=1e-14)
    Q = case.rotation
    assert np.allclose(Q @ Q.conj().T, np.eye(n), atol=1e-14)
    # every root: ξ first, each a root to rounding, pairwise at least 1 apart
    roots = case.roots
    others = n - case.breadth if kwargs["regular"] == "quadratic" else 0
    assert roots.shape == (2**others, n) and np.array_equal(roots[0], root)
    residuals = [np.abs(system(r)).max() for r in roots]
    assert max(residuals) <= rounding * 4 ** max(system.degrees)
    gaps = np.linalg.norm(roots[:, None] - roots[None], axis=-1) + np.eye(len(roots))
    assert gaps.min() >= 1 - 1e-12
    assert len(case.equations) == n and (case.newton_rate is None) == (case.structure != "powers")


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 4), m=st.integers(2, 5), complex_=st.booleans(), seed=seeds)
def test_plain_newton_ratio_is_the_certified_rate_at_breadth_one(n, m, complex_, seed):
    case = planted_root(n_vars=n, multiplicity=m, breadth=1,
                        dtype="complex128" if complex_ else "float64", seed=seed)  # fmt: skip
    system, root, _ = case
    assert case.newton_rate == (m - 1) / m and case.structure == "powers"
    generic = np.cos(np.arange(1, n + 1) + seed % 7)
    x0 = root + 0.05 * case.kernel[0] + 0.02 * generic / np.linalg.norm(generic)
    errors = plain_newton_errors(system, x0, root, 12)
    # the regular directions vanish after one step; then e_{k+1} = (m - 1)/m e_k, until
    # F ~ e^m nears its rounding error (about step 12 for m = 5)
    assert np.allclose(errors[2:] / errors[1:-1], case.newton_rate, rtol=2e-3)


@pytest.mark.parametrize("multiplicity", [6, 8, 9, 10])
@pytest.mark.parametrize("seed", [0, 1])
def test_plain_newton_ratio_of_decoupled_powers_is_the_slowest(multiplicity, seed):
    """(u^a, v^b): each coordinate contracts by its own (e - 1)/e; the error ratio tends
    to the largest, from a start with a component in every singular direction."""
    case = planted_root(n_vars=3, multiplicity=multiplicity, breadth=2, structure="powers",
                        seed=seed)  # fmt: skip
    powers = [re.fullmatch(r"u\d+\*\*(\d+)", e) for e in case.equations]
    exponents = sorted(int(match[1]) for match in powers if match)
    assert math.prod(exponents) == multiplicity
    assert case.newton_rate == (exponents[-1] - 1) / exponents[-1]
    x0 = case.root + 0.05 * case.kernel.sum(axis=0) + 0.01 * case.rotation[-1]
    errors = plain_newton_errors(case.system, x0, case.root, 14)
    # (2, 3) needs 9 steps for the faster coordinate to fade below 1e-3 of the error,
    # and (2, 5) nears the rounding floor of F ~ e^5 from step 14
    assert np.allclose(errors[10:] / errors[9:-1], case.newton_rate, rtol=5e-3)


def test_other_structures_have_no_rate_but_known_depth():
    for structure, mu, breadth in [("crossing", 7, 2), ("chain", 10, 3)]:
        case = planted_root(n_vars=3, multiplicity=mu, breadth=breadth, structure=structure)
        assert case.structure == structure and case.newton_rate is None
        assert case.depth == len(case.hilbert) - 1 and case.hilbert[1] == breadth


def test_reproducible_and_the_recipe_rebuilds_the_case():
    kwargs = dict(n_vars=3, multiplicity=6, breadth=2, dtype="complex64", seed=11)
    a, b = planted_root(**kwargs), planted_root(**kwargs)
    rebuilt = eval(repr(a), {"planted_root": planted_root})
    for other in (b, rebuilt):
        assert other.system.exprs == a.system.exprs and other.equations == a.equations
        assert np.array_equal(other.root, a.root) and other.root.dtype == a.root.dtype
        assert np.array_equal(other.rotation, a.rotation) and other.hilbert == a.hilbert
    assert repr(a) == ("planted_root(n_vars=3, multiplicity=6, breadth=2, structure=None, "
                       "regular='quadratic', dtype='complex64', seed=11)")  # fmt: skip
    different = {planted_root(**{**kwargs, "seed": s}).system.exprs for s in range(5)}
    assert len(different) == 5


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_the_system_evaluates_as_the_public_constructor_would(dtype):
    """The case's system skips sympy's compilation; the constructor, given its exprs,
    must evaluate the same F, Jacobian and second derivatives."""
    case = planted_root(n_vars=3, multiplicity=8, breadth=2, dtype=dtype, seed=5)
    system = case.system
    public = PolynomialSystem(system.exprs, system.variables)
    assert (public.degrees, public.is_complex) == (system.degrees, system.is_complex)
    assert set(vars(public)) <= set(vars(system))
    rng = np.random.default_rng(0)
    for x in (rng.standard_normal(3), rng.standard_normal(3) + 1j * rng.standard_normal(3),
              np.array([1, -2, 0])):  # fmt: skip
        for order in (0, 1, 2):
            want, got = public.derivatives(x, order), system.derivatives(x, order)
            assert got.dtype == want.dtype and got.shape == want.shape
            assert np.allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
        assert np.allclose(system(x), public(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_solvers_reach_the_planted_root(dtype):
    regular = planted_root(n_vars=3, multiplicity=1, breadth=0, dtype=dtype, seed=2)
    system, root, _ = regular
    res = newton(system, root + 1e-2 * (1 + 1j if system.is_complex else 1))
    assert res.success and np.linalg.norm(res.x - root) <= 1e-13
    triple = planted_root(n_vars=2, multiplicity=3, breadth=1, dtype=dtype, seed=2)
    x0 = triple.root + 0.03 * triple.kernel[0]
    res = singular_newton(triple.system, x0, rng=0)
    assert res.success and np.linalg.norm(res.x - triple.root) <= 1e-10
    assert res.stats["multiplicity"] == 3


def test_regular_equations_quadratic_or_linear():
    quadratic = planted_root(n_vars=3, multiplicity=2, breadth=1, seed=9)
    linear = planted_root(n_vars=3, multiplicity=2, breadth=1, regular="linear", seed=9)
    assert np.array_equal(quadratic.rotation, linear.rotation)
    assert np.array_equal(quadratic.root, linear.root)
    assert (len(quadratic.roots), len(linear.roots)) == (4, 1)
    # breadth 0: u_i + c_i u_i^2 with |c_i| <= 1 gives |u'| <= 2 u^2 per Newton step
    # from |u| <= 1/4, so e_{k+1} <= 2 e_k^2; the linear system is solved in one step
    case = planted_root(n_vars=3, multiplicity=1, breadth=0, seed=9)
    assert case.newton_rate == 0.0
    errors = plain_newton_errors(case.system, case.root + 0.1, case.root, 5)
    assert errors[0] > 0.1 and errors[-1] < 1e-12
    assert all(b <= 2 * a * a + 1e-15 for a, b in zip(errors, errors[1:]))
    case = planted_root(n_vars=3, multiplicity=1, breadth=0, regular="linear", seed=9)
    errors = plain_newton_errors(case.system, case.root + 0.1, case.root, 2)
    assert errors[1] <= 1e-14


def test_docstring_examples():
    from itersolve.testing import _roots

    assert doctest.testmod(_roots).failed == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        (dict(n_vars=0), ValueError, "n_vars"),
        (dict(n_vars=2.0), TypeError, "n_vars"),
        (dict(n_vars=9), ValueError, "n_vars"),
        (dict(multiplicity=0), ValueError, "multiplicity"),
        (dict(multiplicity="4"), TypeError, "multiplicity"),
        (dict(multiplicity=65), ValueError, "multiplicity"),
        (dict(breadth=3), ValueError, "breadth"),
        (dict(breadth=-1), ValueError, "breadth"),
        (dict(breadth=True), TypeError, "breadth"),
        (dict(dtype="int32"), ValueError, "dtype"),
        (dict(dtype="bogus"), TypeError, "dtype"),
        (dict(seed=-1), ValueError, "seed"),
        (dict(seed=np.random.default_rng()), TypeError, "seed"),
        (dict(structure="cusp"), ValueError, "structure"),
        (dict(regular="cubic"), ValueError, "regular"),
        (dict(breadth=0), ValueError, "multiplicity must be 1"),
        (dict(multiplicity=3), ValueError, "multiplicity 3 is infeasible for breadth 2"),
        (dict(multiplicity=1, breadth=1), ValueError, "multiplicity 1 is infeasible"),
        (dict(multiplicity=5, structure="powers"), ValueError, "multiplicity 5 is not reached"),
        (dict(breadth=1, structure="crossing"), ValueError, "breadth 1 is too small"),
        (dict(structure="chain"), ValueError, "breadth 2 is too small"),
        (dict(n_vars=8, multiplicity=7, breadth=1), ValueError, "multiplicity 7 with n_vars=8"),
    ],
)
def test_bad_and_infeasible_arguments_are_named(kwargs, error, name):
    with pytest.raises(error, match=name):
        planted_root(**{**dict(n_vars=2, multiplicity=4, breadth=2), **kwargs})


def test_feasible_multiplicities_are_exactly_those_built():
    for n, breadth in [(1, 0), (1, 1), (2, 1), (2, 2), (3, 2), (3, 3)]:
        # a square system of breadth b has μ >= 2^b, and every such μ is reached
        want = [1] if breadth == 0 else list(range(2**breadth, 17))
        assert feasible_multiplicities(n, breadth, 16) == want
        products = {math.prod(f) for f in itertools.product(range(2, 17), repeat=breadth)}
        powers = [m for m in want if m in products or breadth == 0]
        assert feasible_multiplicities(n, breadth, 16, structure="powers") == powers
        for mu in range(1, 17):
            for structure in (None, "powers"):
                listed = mu in feasible_multiplicities(n, breadth, 16, structure=structure)
                kwargs = dict(n_vars=n, multiplicity=mu, breadth=breadth, structure=structure)
                if listed:
                    assert planted_root(**kwargs).multiplicity == mu
                else:
                    with pytest.raises(ValueError, match="multiplicity|breadth"):
                        planted_root(**kwargs)
    # the size budget: u^d dense in 8 variables has C(8 + d, d) terms
    budget = [d for d in range(2, 17) if math.comb(8 + d, d) + 7 * 9 <= MAX_TERMS]
    assert feasible_multiplicities(8, 1, 16) == budget
    with pytest.raises(ValueError, match="max_multiplicity"):
        feasible_multiplicities(2, 1, -1)
