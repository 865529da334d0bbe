"""Fuzz: singular_newton (LVZ and MMS), multiplicity_structure, alpha_test and certify.

Every example either raises itersolve's own ValueError/TypeError naming an argument, or
returns a result that is checked here, independently of the library's own quantities:

* systems are planted (itersolve.testing.problems.planted_root), f = (u_1^a_1, ...,
  u_n^a_n) with u = Q(x - ξ) (Q orthogonal), so ξ is their only root and its multiplicity
  is Π a_i; the regular quadratic systems u_i + c_i u_i^2 have the 2^n known roots
  u_i ∈ {0, -1/c_i};
* a success of singular_newton is checked by evaluating the user's polynomials at the
  returned x in 50-digit arithmetic (sympy ``evalf``, not the solver's evaluation) and by
  the distance to ξ;
* a multiplicity structure returned at ξ must have μ = Π a_i; elsewhere the point must be
  a root to within ``tol`` by the same 50-digit evaluation;
* a certified α-test must have a true root within its radius 2β, and two points certified
  distinct must lie near two different true roots.

Hypothesis example counts (CI profile): singular_newton 100 (LVZ) and 40 (MMS, whose
structure computations are slower) plus 40 fixed hostile-system cases,
multiplicity_structure 100, alpha_test 100, certify 60.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from itersolve import (
    PolynomialSystem,
    alpha_test,
    certify,
    multiplicity_structure,
    singular_newton,
)
from itersolve._newton._alpha import AlphaCertificate, Certification
from itersolve.testing.problems import planted_root
from tests.fuzz_support import EXTREME_SCALES, hostile_arrays, hostile_scalars, outcome

SOLVER_NAMES = ("`system`", "`x0`", "`method`", "`rtol`", "`atol`", "`maxiter`",
                "`rank_tol`", "`max_stages`", "`rng`", "`callback`")  # fmt: skip
STRUCTURE_NAMES = ("`system`", "`root`", "`tol`", "`method`", "`max_order`")
ALPHA_NAMES = ("`system`", "`x`", "`exact`", "`roots")


class _NotPolynomial:
    """Has the attributes of a system, but an equation that is not a polynomial."""

    variables = (sp.Symbol("x0"),)
    exprs = (sp.sin(sp.Symbol("x0")),)


HOSTILE_SYSTEMS = [None, "x0**2", 3, _NotPolynomial()]


seeds = st.integers(0, 2**32 - 1)


@st.composite
def planted(draw, max_n=2, max_exponent=3):
    """``(system, ξ, μ)``: the planted singular root of (u_i^a_i) and its multiplicity
    (``planted_root``'s "powers" with linear regular equations, so ξ is the only root;
    exponents up to 3 factor μ uniquely, so the drawn exponents are the system's)."""
    n = draw(st.integers(1, max_n))
    exponents = draw(st.lists(st.integers(1, max_exponent), min_size=n, max_size=n))
    case = planted_root(n_vars=n, multiplicity=math.prod(exponents),
                        breadth=sum(a > 1 for a in exponents), structure="powers",
                        regular="linear", seed=draw(seeds))  # fmt: skip
    return case.system, case.root, case.multiplicity


def _values(system, x, digits=50):
    """|f_j(x)| and Σ_α |c_α| max(1, ||x||_∞)^|α| per equation, in ``digits``-digit
    arithmetic: the value and the size of the coefficients it is measured against."""
    point = {v: sp.Float(complex(c).real, 30) + sp.I * sp.Float(complex(c).imag, 30)
             for v, c in zip(system.variables, np.asarray(x))}  # fmt: skip
    radius = max(1.0, float(np.max(np.abs(np.asarray(x)))))
    out = []
    for e in system.exprs:
        poly = sp.Poly(e, *system.variables)
        size = sum(abs(complex(c)) * radius ** sum(a) for a, c in poly.terms())
        out.append((abs(complex(e.evalf(digits, subs=point))), size))
    return out


def _is_root(system, x, rel):
    """Every |f_j(x)| is at most ``rel`` times the size of its coefficients at x's scale."""
    return all(value <= rel * size for value, size in _values(system, x))


@st.composite
def starts(draw, n, xi):
    kind = draw(st.sampled_from(["near", "hostile", "scaled"]))
    if kind == "hostile":
        return draw(hostile_arrays((n,)))
    if kind == "scaled":
        return np.linspace(-1.0, 1.0, n) * draw(st.sampled_from(EXTREME_SCALES))
    offset = draw(st.floats(1e-4, 0.1)) * np.cos(np.arange(1, n + 1) * draw(st.floats(0, 6)))
    return xi + offset


scalars = hostile_scalars

OPTION_VALUES = {
    "method": st.sampled_from(["lvz", "mms", "LVZ", None, 3, ["lvz"]]),
    "rtol": scalars | st.sampled_from([1e-10, 0.0]),
    "atol": scalars | st.sampled_from([1e-12, 0.0]),
    "maxiter": scalars | st.sampled_from([50, None, 0]),
    "rank_tol": scalars | st.sampled_from([1e-6, 1e-3]),
    "max_stages": scalars | st.sampled_from([0, 2, 6]),
    "rng": scalars | st.sampled_from([0, None, np.random.default_rng(1)]),
}


@st.composite
def options(draw):
    """At most one option, often none, so that valid calls are common too."""
    chosen = draw(st.sampled_from([None, None] + sorted(OPTION_VALUES)))
    return {} if chosen is None else {chosen: draw(OPTION_VALUES[chosen])}


def _event(text):
    """Count an outcome for --hypothesis-show-statistics (also callable outside hypothesis)."""
    try:
        event(text)
    except InvalidArgument:  # a parametrized (non-hypothesis) test
        pass


def _check_solver(system, x0, xi, kwargs):
    def honest(res):
        assert res.status.name == "CONVERGED"
        x = np.asarray(res.x)
        # LVZ returns exact roots; MMS returns exact roots of a deformation of f within
        # rank_tol (its documented criterion), both against the terms' size.
        rel = 1e-9 if kwargs.get("method", "lvz") == "lvz" else 1e-4
        assert _is_root(system, x, rel), (x, _values(system, x))
        if xi is not None:  # the planted root is the only one
            assert np.linalg.norm(x - xi) <= 1e-4 * (1 + np.linalg.norm(xi))

    res = outcome(lambda: singular_newton(system, x0, **kwargs), names=SOLVER_NAMES,
                  honest=honest)  # fmt: skip
    _event(type(res).__name__ if isinstance(res, BaseException) else res.status.name)
    return res


@settings(max_examples=100, deadline=None)
@given(data=st.data(), case=planted(), kwargs=options())
def test_fuzz_singular_newton(data, case, kwargs):
    system, xi, _ = case
    kwargs = {k: v for k, v in kwargs.items() if k != "method"}
    x0 = data.draw(starts(len(xi), xi))
    _check_solver(system, x0, xi, kwargs)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), case=planted(max_exponent=2), kwargs=options())
def test_fuzz_singular_newton_mms(data, case, kwargs):
    system, xi, _ = case
    kwargs["method"] = "mms"
    x0 = data.draw(starts(len(xi), xi))
    _check_solver(system, x0, xi, kwargs)


def _inconsistent():
    return PolynomialSystem(["x0", "x0 - 1", "x0**2 + 1"], ["x0"])


def _griewank_osborne():
    return PolynomialSystem(["29*x0**3/16 - 2*x0*x1", "x0**2 - x1"], ["x0", "x1"])


SYSTEM_CASES = [(lambda s=s: s, [0.3]) for s in HOSTILE_SYSTEMS] + [
    (_inconsistent, [0.3]),
    (_inconsistent, [-2.0]),
    (_inconsistent, [0.02, 0.01]),
    (_griewank_osborne, [0.02, 0.01]),
    (_griewank_osborne, [1e-3, 1e-3]),
    (_griewank_osborne, [-0.05, 0.3]),
]


@pytest.mark.parametrize("maxiter", [100, None])
@pytest.mark.parametrize("method", ["lvz", "mms"])
@pytest.mark.parametrize(("make", "x0"), SYSTEM_CASES)
def test_fuzz_singular_newton_hostile_systems(make, x0, method, maxiter):
    """Objects that are not polynomial systems, an inconsistent system (its least-squares
    point is no root), and Griewank–Osborne (Newton is repelled from some starts): never
    an exception from sympy or numpy, never a false success, never a hang
    (maxiter=None). Every combination is run (a fixed list, not drawn)."""
    system = make()
    xi = np.zeros(2) if make is _griewank_osborne else None
    res = _check_solver(system, x0, xi, {"method": method, "maxiter": maxiter})
    if make is _inconsistent and not isinstance(res, BaseException):
        assert not res.success  # the inconsistent system has no root


STRUCTURE_OPTIONS = {
    "tol": scalars | st.sampled_from([1e-8, 1e-6, 1e-3]),
    "max_order": scalars | st.sampled_from([None, 1, 12, 10**30]),
    "method": st.sampled_from(["macaulay", "integration ", "bogus", None, 2, ["macaulay"]]),
}


@settings(max_examples=100, deadline=None)
@given(
    data=st.data(),
    case=planted(max_n=3),
    hostile=st.sampled_from([None, None, None, "tol", "max_order", "method", "system"]),
)
def test_fuzz_multiplicity_structure(data, case, hostile):
    """At most one hostile argument per example, so that valid calls are common too."""
    system, xi, mu = case
    kwargs = {}
    if hostile == "system":
        system = data.draw(st.sampled_from(HOSTILE_SYSTEMS))
    elif hostile is not None:
        kwargs[hostile] = data.draw(STRUCTURE_OPTIONS[hostile])
    at_root = data.draw(st.booleans())
    root = xi.copy() if at_root else data.draw(starts(len(xi), xi))
    res = outcome(lambda: multiplicity_structure(system, root, **kwargs), names=STRUCTURE_NAMES)
    event(type(res).__name__ if isinstance(res, BaseException) else "structure")
    if isinstance(res, BaseException):
        return
    assert sum(res.hilbert) == res.multiplicity == len(res.dual_basis) >= 1
    if at_root:
        assert res.multiplicity == mu
    else:  # accepted as a root: it must be one to within tol (relative to the terms)
        assert _is_root(system, root, 10 * float(kwargs.get("tol", 1e-8)))


@st.composite
def regular(draw):
    """``(system, roots)``: u_i + c_i u_i^2 with u = Q(x - ξ), and its 2^n roots."""
    case = planted_root(n_vars=draw(st.integers(1, 2)), multiplicity=1, breadth=0,
                        seed=draw(seeds))  # fmt: skip
    return case.system, case.roots


def _nearest(roots, x):
    d = np.linalg.norm(roots - np.asarray(x), axis=1)
    return int(np.argmin(d)), float(np.min(d))


def _check_certificate(cert, roots):
    assert isinstance(cert, AlphaCertificate)
    event("certified" if cert.certified else "not certified")
    if cert.certified:
        _, d = _nearest(roots, cert.x)
        assert d <= cert.radius * (1 + 1e-6) + 1e-12, (cert, d)


@st.composite
def points(draw, roots):
    n = roots.shape[1]
    kind = draw(st.sampled_from(["near", "near", "hostile", "scaled"]))
    if kind == "hostile":
        return draw(hostile_arrays((n,)))
    if kind == "scaled":
        return np.linspace(-1.0, 1.0, n) * draw(st.sampled_from(EXTREME_SCALES))
    root = roots[draw(st.integers(0, len(roots) - 1))]
    return root + draw(st.sampled_from([1e-12, 1e-6, 1e-3, 0.1, 1.0])) * np.ones(n)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), case=regular(), exact=st.sampled_from([False, False, True, "yes"]),
       hostile=st.sampled_from([False] * 5 + [True]))  # fmt: skip
def test_fuzz_alpha_test(data, case, exact, hostile):
    system, roots = case
    if hostile:
        system = data.draw(st.sampled_from(HOSTILE_SYSTEMS))
    x = data.draw(points(roots))
    res = outcome(lambda: alpha_test(system, x, exact=exact), names=ALPHA_NAMES)
    if isinstance(res, BaseException):
        event(type(res).__name__)
    else:
        _check_certificate(res, roots)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), case=regular(), exact=st.sampled_from([False, False, True, 1]),
       shape=st.sampled_from(["list", "array", "hostile"]))  # fmt: skip
def test_fuzz_certify(data, case, exact, shape):
    system, roots = case
    pts = data.draw(st.lists(points(roots), min_size=1, max_size=3))
    if shape == "array":
        try:
            pts = np.array(pts)
        except (ValueError, TypeError):
            pass
    elif shape == "hostile":
        pts = data.draw(st.sampled_from([None, "ab", {}, 3, [], np.zeros((2, 2, 2))]))
    res = outcome(lambda: certify(system, pts, exact=exact), names=ALPHA_NAMES)
    if isinstance(res, BaseException):
        event(type(res).__name__)
        return
    assert isinstance(res, Certification)
    for cert in res.certificates:
        _check_certificate(cert, roots)
    m = len(res.certificates)
    for i in range(m):
        for j in range(i + 1, m):
            if res.distinct[i, j]:  # two different true roots
                a, b = res.certificates[i].x, res.certificates[j].x
                assert _nearest(roots, a)[0] != _nearest(roots, b)[0]


@pytest.mark.parametrize("name", ["rtol", "atol", "rank_tol"])
def test_huge_int_tolerance_is_named(name):
    system = PolynomialSystem(["x0**2"], ["x0"])
    outcome(lambda: singular_newton(system, [0.1], **{name: 10**400}), names=SOLVER_NAMES)
