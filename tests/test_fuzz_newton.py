"""Fuzz the Newton family: hostile arguments, callables and polynomial strings.

Contract (tests/fuzz_support.py): itersolve's own ValueError/TypeError naming the argument,
or a result whose success is checked here, independently: the residual of the user's own
``F`` at the returned point, computed in this file, meets ``max(atol, rtol ||F(x0)||)``.
Polynomial strings come from a grammar that mixes allowed and forbidden tokens; an accepted
string must equal sympy's own parse of it, and no string may touch the file system.
"""

from __future__ import annotations

import math
import os
import re
import tempfile

import numpy as np
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

from itersolve import PolynomialSystem, deflated_newton, find_roots, newton
from tests.fuzz_support import (
    UserError,
    check_rejection,
    hostile_arrays,
    hostile_callables,
    hostile_scalars,
    outcome,
)

RTOL, ATOL = 1e-10, 1e-12


def circle_hyperbola(x):
    if np.shape(x) != (2,):
        # what the user's own function does with an x0 of the wrong size (itersolve cannot
        # know the size a plain callable expects): its exception propagates
        raise UserError(f"expected 2 unknowns, got shape {np.shape(x)}")
    return np.array([x[0] ** 2 + x[1] ** 2 - 4, x[0] * x[1] - 1])


def circle_hyperbola_jac(x):
    if np.shape(x) != (2,):
        raise UserError(f"expected 2 unknowns, got shape {np.shape(x)}")
    return np.array([[2 * x[0], 2 * x[1]], [x[1], x[0]]])


def cliff(x):
    """No root (arctan > -pi/2 > -2), but a Jacobian ~1e20 at x = (1, 1) makes the Newton
    step round to 0 there: a false "converged" for a step-only test."""
    if np.shape(x) != (2,):
        raise UserError(f"expected 2 unknowns, got shape {np.shape(x)}")
    return np.arctan(1e20 * (x - 1)) + 2


def cliff_jac(x):
    return np.diag(1e20 / (1 + (1e20 * (x - 1)) ** 2))


def no_real_root(x):
    """x^2 + 1 = 0 and y = 0: no real root, Newton wanders (or diverges)."""
    if np.shape(x) != (2,):
        raise UserError(f"expected 2 unknowns, got shape {np.shape(x)}")
    return np.array([x[0] ** 2 + 1, x[1]])


def no_real_root_jac(x):
    return np.array([[2 * x[0], 0.0], [0.0, 1.0]])


EXACT = "the exact Jacobian of F"  # a marker the tests replace by F's own Jacobian
JACOBIANS = {
    "circle_hyperbola": circle_hyperbola_jac,
    "cliff": cliff_jac,
    "no_real_root": no_real_root_jac,
}


def exact(jac, F):
    return JACOBIANS.get(getattr(F, "__name__", ""), None) if jac is EXACT else jac


def sine(x):
    if np.shape(x) != (1,):
        raise UserError(f"expected 1 unknown, got shape {np.shape(x)}")
    return np.sin(x)


def residual(F, x) -> float:
    """||F(x)||_2 of the user's F, rescaled by hand so it neither overflows nor underflows."""
    with np.errstate(all="ignore"):
        values = np.abs(np.asarray(F(np.asarray(x)), dtype=complex)).reshape(-1)
    largest = float(np.max(values))
    if largest == 0 or not math.isfinite(largest):
        return largest
    return largest * float(np.sqrt(np.sum((values / largest) ** 2)))


def honest_root(F, x0, rtol=RTOL, atol=ATOL):
    """The success criterion, recomputed: ||F(x)|| <= max(atol, rtol ||F(x0)||)."""

    def check(result):  # called only on a success, so x0 was a valid vector
        start = np.asarray(x0, dtype=complex if np.iscomplexobj(x0) else float).reshape(-1)
        got = residual(F, result.x)
        assert got <= max(atol, rtol * residual(F, start)), (got, result.message)

    return check


# A valid F and x0 beside each hostile one: every draw makes exactly one argument bad.
good_x0 = st.sampled_from([[3.0, 0.5], [-1.0, 2.0], [0.1, 0.1], [1e-3, 7.0], [1.0, 1.0]])
# user functions whose successes the test can check (the last two have no root at all)
checkable = st.sampled_from([circle_hyperbola, cliff, no_real_root])
good_jac = st.sampled_from([None, "2-point", "3-point", EXACT, EXACT])
x0s = st.one_of(good_x0, hostile_arrays((2,)), hostile_scalars)
jacs = st.one_of(good_jac, hostile_callables((2, 2)), hostile_scalars)
Fs = st.one_of(checkable, hostile_callables((2,)), hostile_scalars)
scalars = hostile_scalars
tolerances = st.one_of(st.sampled_from([1e-10, 1e-6, 0.0, 1e-300]), scalars)
NAMES = (
    "`F",
    "`x0`",
    "`jac",
    "`rtol`",
    "`atol`",
    "`maxiter`",
    "`roots`",
    "`root`",
    "`power`",
    "`shift`",
    "`weight`",
    "`max_roots`",
    "`distinct_tol`",
    "`linesearch`",
    "`throw`",
)


@settings(max_examples=300)
@given(
    F=Fs,
    x0=x0s,
    jac=jacs,
    rtol=tolerances,
    atol=tolerances,
    maxiter=st.one_of(st.sampled_from([None, 0, 1, 50]), scalars),
    linesearch=st.sampled_from([None, "armijo", "wolfe", 1]),
)
def test_fuzz_newton(F, x0, jac, rtol, atol, maxiter, linesearch):
    def call():
        jacobian = exact(jac, F)
        return newton(F, x0, jacobian=jacobian, rtol=rtol, atol=atol, maxiter=maxiter,
                      linesearch=linesearch)

    checked = any(F is f for f in (circle_hyperbola, cliff, no_real_root))
    outcome(call, names=NAMES, honest=honest_root(F, x0, rtol, atol) if checked else None)


# Valid calls near each checkable function's hard spot (a root, the cliff at (1, 1), the
# fold at x = 0): where a loose stopping test would claim success on a wrong point.
HARD_SPOTS = {"circle_hyperbola": [1.9, 0.5], "cliff": [1.0, 1.0], "no_real_root": [0.0, 0.0]}


@settings(max_examples=150)
@given(
    F=checkable,
    offset=st.lists(st.sampled_from([0.0, 1e-20, -1e-12, 1e-6, 0.3, -2.0]), min_size=2, max_size=2),
    jac=st.sampled_from([EXACT, None, "3-point"]),
    rtol=st.sampled_from([1e-10, 1e-6, 0.0]),
    atol=st.sampled_from([1e-12, 1e-8, 0.0]),
    linesearch=st.sampled_from([None, "armijo"]),
    maxiter=st.sampled_from([None, 60]),
)
def test_fuzz_newton_successes_are_roots(F, offset, jac, rtol, atol, linesearch, maxiter):
    x0 = np.array(HARD_SPOTS[F.__name__]) + np.array(offset)
    if rtol == atol == 0 and maxiter is None:
        maxiter = 60  # the one forbidden combination (no way to stop), rejected elsewhere

    def call():
        jacobian = exact(jac, F)
        return newton(F, x0, jacobian=jacobian, rtol=rtol, atol=atol, linesearch=linesearch,
                      maxiter=maxiter)

    outcome(call, names=NAMES, honest=honest_root(F, x0, rtol, atol))


@settings(max_examples=200)
@given(
    F=st.one_of(checkable, hostile_callables((2,))),
    jac=st.sampled_from([None, "3-point", EXACT]),
    x0=x0s,
    roots=st.one_of(
        st.sampled_from([(), [[1.9318516525781366, 0.5176380902050415]], [[1.0, 1.0], [2.0, 0.0]]]),
        hostile_arrays((1, 2)),
        hostile_scalars,
    ),
    power=st.one_of(st.sampled_from([1.0, 2.0, 3.5]), scalars),
    shift=st.one_of(st.sampled_from([0.0, 1.0, 1e-2]), scalars),
    weight=st.one_of(st.sampled_from([1.0, [1.0, 2.0]]), hostile_arrays((2,)), scalars),
)
def test_fuzz_deflated_newton(F, jac, x0, roots, power, shift, weight):
    def call():
        return deflated_newton(
            F, x0, jacobian=exact(jac, F), roots=roots, power=power, shift=shift, weight=weight
        )

    def honest(result):
        honest_root(F, x0)(result)
        # a new root: not one of the deflated ones
        for r in np.asarray(roots, dtype=complex).reshape(-1, 2):
            assert np.linalg.norm(result.x - r) > 1e-6

    checked = any(F is f for f in (circle_hyperbola, cliff, no_real_root))
    outcome(call, names=NAMES, honest=honest if checked else None)


@settings(max_examples=60)  # each example runs up to five deflated solves
@given(
    F=st.one_of(checkable, st.just(sine), hostile_callables((2,))),
    x0=st.one_of(good_x0, hostile_arrays((2,)), hostile_arrays((2, 2)), hostile_scalars),
    jac=st.sampled_from([None, EXACT]),
    max_roots=st.one_of(st.sampled_from([None, 1, 3]), scalars),
    distinct_tol=st.one_of(st.just(1e-6), scalars),
    maxiter=st.sampled_from([None, 30]),
)
def test_fuzz_find_roots(F, x0, jac, max_roots, distinct_tol, maxiter):
    def call():
        return find_roots(
            F,
            x0,
            jacobian=exact(jac, F),
            max_roots=max_roots,
            distinct_tol=distinct_tol,
            maxiter=maxiter,
        )

    def honest(found):
        assert len(found.roots) <= (max_roots or 100)
        starts = np.atleast_2d(np.asarray(x0, dtype=complex if np.iscomplexobj(x0) else float))
        for root in found.roots:
            # a root from one of the starts: the tolerance of the start it came from
            floors = [max(ATOL, RTOL * residual(F, s)) for s in starts]
            assert residual(F, root) <= max(floors)
        if F is circle_hyperbola:
            assert len(found.roots) <= 4  # Bezout: 2 * 2 roots at most

    checked = any(F is f for f in (circle_hyperbola, cliff, no_real_root, sine))
    outcome(call, names=NAMES, honest=honest if checked else None)


# --- polynomial strings: a grammar of allowed and forbidden tokens --------------------------

ATOMS = ["x", "y", "2", "0.5", "3e-2", "1E2", "I", "2j", ".25", "sqrt(5)"]
FORBIDDEN = [
    "__import__('os').system('touch pwned')",
    "__import__('pathlib').Path('pwned').touch()",
    ".__class__",
    ".real",
    "'",
    "[0]",
    "lambda: ",
    "exp(x)",
    "sin",
    "z",
    "open",
    ",",
    "==",
    ";",
    "**-1",
    "**0.5",
    "**10**10",
    "**x",
    "**500",
    "@",
    "%",
    "!",
    "{",
]

allowed = st.recursive(
    st.sampled_from(ATOMS),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", " * ", "/ 4 *"]), inner).map("".join),
        inner.map(lambda a: f"({a})"),
        inner.map(lambda a: f"-{a}"),
        st.tuples(inner, st.sampled_from(["**", "^", " ** "]), st.integers(0, 4)).map(
            lambda t: f"({t[0]}){t[1]}{t[2]}"
        ),
    ),
    max_leaves=8,
)


# Tokens that make a string invalid in some places only ("/x**0" is "/1", "/0.5" fine).
DEPENDS = ["/x", "/0", "/(x - x)", "**1**"]


@st.composite
def polynomial_strings(draw):
    """``(text, hostile)``: an allowed expression, maybe with a token spliced in; ``hostile``
    when that token is forbidden wherever it stands."""
    text = draw(allowed)
    kind = draw(st.sampled_from(["allowed", "forbidden", "depends"]))
    if kind == "allowed":
        return text, False
    token = draw(st.sampled_from(FORBIDDEN if kind == "forbidden" else DEPENDS))
    at = draw(st.integers(0, len(text)))
    return text[:at] + token + text[at:], kind == "forbidden"


def sympy_oracle(text):
    """sympy's own parser (eval-based: used here only on strings of allowed tokens).

    Python's grammar has no leading zeros ("05"); ours reads them as decimals, so they are
    dropped for the oracle.
    """
    text = re.sub(r"(?<![\d.])0+(?=\d)", "", text)
    return parse_expr(
        text,
        transformations=standard_transformations + (convert_xor,),
        local_dict={"x": sympy.Symbol("x"), "y": sympy.Symbol("y")},
    )


@settings(max_examples=300)
@given(case=polynomial_strings())
def test_fuzz_polynomial_strings(case):
    text, hostile = case
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        try:
            try:
                system = PolynomialSystem([text], ["x", "y"])
            except (ValueError, TypeError) as exc:
                check_rejection(exc, names=("equation 0",))
                system = None
            assert os.listdir(scratch) == [], "a polynomial string touched the file system"
        finally:
            os.chdir(here)
    if hostile:
        # A splice of a forbidden token can only be accepted if it stays a polynomial in
        # the grammar, which none of them do.
        assert system is None, f"accepted a forbidden string {text!r}"
        return
    if system is None:
        return  # stricter than sympy (x**2**3, 1/x, ...) or not valid at all ("(x/0")
    x, y = sympy.symbols("x y")
    got = sympy.Poly(system.exprs[0], x, y)
    want = sympy.Poly(sympy.expand(sympy_oracle(text)), x, y)
    assert got.monoms() == want.monoms(), (text, got, want)
    np.testing.assert_allclose(
        [complex(c) for c in got.coeffs()], [complex(c) for c in want.coeffs()], rtol=1e-12
    )


@settings(max_examples=100)
@given(
    x0=st.one_of(st.just([1.5, 0.5]), hostile_arrays((2,)), hostile_scalars),
    exprs=st.sampled_from(
        [
            ["x**2 + y**2 - 4", "x*y - 1"],
            ["x^2 - 2", "y - x"],
            ["I*x - 1", "y"],
            ["x + y", "x - y", "x*y"],
        ]
    ),
)
def test_fuzz_newton_on_polynomial_systems(x0, exprs):
    system = PolynomialSystem(exprs, ["x", "y"])
    x, y = sympy.symbols("x y")
    # the oracle F: the hand-typed strings through sympy's parser, not through the system
    oracle = sympy.lambdify([(x, y)], [sympy_oracle(e) for e in exprs], "numpy")

    def F(v):
        return np.array(oracle(v), dtype=complex)

    outcome(lambda: newton(system, x0), names=NAMES, honest=honest_root(F, x0))
