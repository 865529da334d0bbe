"""Fuzz: ``itersolve.linprog`` under hostile data, formats, bounds, scales and options.

Every example either raises itersolve's own ValueError/TypeError naming an argument, or
returns a result whose status is checked here, independently of the library:

* a success against HiGHS (:func:`scipy.optimize.linprog`, ``method="highs"``) on the LP at
  scale 1, whose optimum and value the rescaling maps exactly (``x sb/sa``, ``fun sc sb/sa``),
  and the feasibility of the returned ``x`` computed by this file in the LP's own units;
* INFEASIBLE and UNBOUNDED only where HiGHS does not find an optimum, and never for an LP
  HiGHS solves.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds
from scipy.optimize import linprog as highs_linprog

import itersolve
from itersolve import Status
from tests.fuzz_support import hostile_arrays, hostile_callables, hostile_scalars, outcome

NAMES = (
    "`c`", "`A_ub`", "`b_ub`", "`A_eq`", "`b_eq`", "`bounds", "`x0`", "`method`", "`rtol`",
    "`atol`", "`maxiter`", "`callback`", "`restart`", "`accelerate`", "`eps_infeasible`",
    "`backend`", "the problem has no variables",
)
SCALES = (1e-170, 1e-20, 1.0, 1e20, 1e150)
SPARSE_FORMATS = (sp.csr_matrix, sp.csc_matrix, sp.coo_matrix, sp.lil_matrix, sp.dia_matrix,
                  sp.csr_array, sp.coo_array)
MAXITER = 5000  # tiny LPs converge in a few hundred iterations; the rest end MAXITER


def tiny_lp(seed, kind):
    """``(c, A_ub, b_ub, A_eq, b_eq, lb, ub)``: ``kind`` "feasible" (planted optimum),
    "infeasible" (two contradicting rows), "unbounded" (a free descent direction) or
    "random" (whatever the draw gives)."""
    rng = np.random.default_rng(seed)
    n, m_ub, m_eq = int(rng.integers(1, 4)), int(rng.integers(0, 4)), int(rng.integers(0, 3))
    A_ub, A_eq = rng.integers(-3, 4, (m_ub, n)).astype(float), rng.integers(-3, 4, (m_eq, n)) * 1.0
    lb = np.where(rng.random(n) < 0.7, rng.integers(-2, 1, n) * 1.0, -np.inf)
    ub = np.where(np.isfinite(lb) & (rng.random(n) < 0.5), lb + rng.integers(1, 4, n), np.inf)
    ub[~np.isfinite(lb) & (rng.random(n) < 0.5)] = 2.0
    x = np.clip(rng.standard_normal(n), lb, ub)
    b_ub, b_eq = A_ub @ x + rng.random(m_ub), A_eq @ x
    c = rng.integers(-3, 4, n).astype(float)
    if kind == "feasible":  # c = K'y + lambda with the signs that keep the LP bounded
        y_ub, y_eq = -rng.random(m_ub), rng.standard_normal(m_eq)
        lam = np.where(np.isfinite(lb), 1.0, 0.0) * rng.random(n)
        lam -= np.where(np.isfinite(ub) & ~np.isfinite(lb), 1.0, 0.0) * rng.random(n)
        boxed = np.isfinite(lb) & np.isfinite(ub)
        c = A_ub.T @ y_ub + A_eq.T @ y_eq + np.where(boxed, rng.standard_normal(n), lam)
    elif kind == "infeasible":  # a row and its negation with incompatible right-hand sides
        row = rng.integers(-3, 4, (1, n)).astype(float)
        row[0, 0] = 1.0
        A_ub, b_ub = np.vstack([A_ub, row, -row]), np.concatenate([b_ub, [-1.0, -1.0]])
    elif kind == "unbounded":  # one free variable that no constraint sees, with c_0 != 0
        lb[0], ub[0], c[0] = -np.inf, np.inf, 1.0
        A_ub[:, 0], A_eq[:, 0] = 0.0, 0.0
    return c, A_ub, b_ub, A_eq, b_eq, lb, ub


def rescale(lp, sc, sb, sa):
    c, A_ub, b_ub, A_eq, b_eq, lb, ub = lp
    s = sb / sa
    return c * sc, A_ub * sa, b_ub * sb, A_eq * sa, b_eq * sb, lb * s, ub * s


def highs(lp):
    c, A_ub, b_ub, A_eq, b_eq, lb, ub = lp
    return highs_linprog(
        c, A_ub=A_ub if A_ub.size else None, b_ub=b_ub if b_ub.size else None,
        A_eq=A_eq if A_eq.size else None, b_eq=b_eq if b_eq.size else None,
        bounds=list(zip(lb, ub)), method="highs",
    )


def _magnitude(v):
    v = np.abs(np.asarray(v, dtype=float))
    return float(v.max()) if v.size else 0.0


def make_honest(base, sc, sb, sa):
    """The independent checks of a result on ``rescale(base, sc, sb, sa)``."""
    reference = highs(base)
    scaled = rescale(base, sc, sb, sa)
    s = sb / sa

    def honest(result):
        assert reference.status == 0, f"itersolve succeeded where HiGHS says {reference.message}"
        c, A_ub, b_ub, A_eq, b_eq, lb, ub = scaled
        x = np.asarray(result.x, dtype=float)
        assert x.shape == c.shape and np.all(np.isfinite(x))
        # feasibility in the LP's own units: x / s solves the LP at scale 1
        xn = x / s
        base_c, base_A_ub, base_b_ub, base_A_eq, base_b_eq, base_lb, base_ub = base
        tol = 1e-6 * (1 + _magnitude(base_b_ub) + _magnitude(base_b_eq) + _magnitude(xn))
        # the bounds went through the rescaling, which may round them by an ulp
        slack = 1e-12 * (1 + np.abs(x))
        assert np.all(x >= lb - slack) and np.all(x <= ub + slack)
        assert np.all(base_A_ub @ xn <= base_b_ub + tol)
        assert np.all(np.abs(base_A_eq @ xn - base_b_eq) <= tol)
        expected = reference.fun * sc * s
        assert abs(result.fun - expected) <= 1e-6 * max(abs(expected), sc * s), (
            result.fun, expected
        )

    def status_check(result):
        if result.status == Status.INFEASIBLE:
            assert reference.status in (2, 4), f"INFEASIBLE but HiGHS: {reference.message}"
        if result.status == Status.UNBOUNDED:
            # UNBOUNDED certifies that the dual is infeasible; where the primal is too
            # (HiGHS: infeasible) that is still true, so the ray itself is checked here
            assert reference.status in (2, 3, 4), f"UNBOUNDED but HiGHS: {reference.message}"
            assert ray_is_valid(base, result.stats["certificate"])

    return honest, status_check, scaled


def ray_is_valid(base, d):
    """``d`` is a recession direction of the LP ``base`` along which ``c'x`` decreases
    (in ``base``'s units: a rescaling multiplies ``d`` and the products by constants)."""
    c, A_ub, b_ub, A_eq, b_eq, lb, ub = base
    d = np.asarray(d, dtype=float)
    d = d / np.max(np.abs(d))
    decrease = -(c @ d)
    tol = 1e-6 * (1 + _magnitude(A_ub) + _magnitude(A_eq))
    return bool(
        decrease > 1e-9 * (1 + _magnitude(c))
        and np.all(d[np.isfinite(lb)] >= 0)
        and np.all(d[np.isfinite(ub)] <= 0)
        and np.all(A_ub @ d <= tol)
        and np.all(np.abs(A_eq @ d) <= tol)
    )


def as_bounds(lb, ub, form):
    if form == "pairs":
        return [(None if not np.isfinite(lo) else lo, None if not np.isfinite(hi) else hi)
                for lo, hi in zip(lb, ub)]
    if form == "Bounds":
        return Bounds(lb, ub)
    return np.stack([lb, ub], axis=1)  # an (n, 2) array, as scipy allows


@st.composite
def valid_lps(draw):
    kind = draw(st.sampled_from(["feasible", "feasible", "infeasible", "unbounded", "random"]))
    base = tiny_lp(draw(st.integers(0, 2**32 - 1)), kind)
    sc, sb, sa = (draw(st.sampled_from(SCALES)) for _ in range(3))
    # x scales by sb / sa and the objective by sc sb / sa: both must stay representable
    assume(1e-200 <= sb / sa <= 1e200 and 1e-250 <= sc * sb / sa <= 1e250)
    return base, (sc, sb, sa)


def _matrix_form(data, A):
    form = data.draw(st.sampled_from(["dense", "list", "sparse"]))
    if form == "list":
        return A.tolist()
    if form == "sparse" and A.size:
        return data.draw(st.sampled_from(SPARSE_FORMATS))(A)
    return A


@settings(max_examples=100)
@given(lp=valid_lps(), data=st.data())
def test_fuzz_linprog_valid_lps_at_extreme_scales(lp, data):
    """Valid LPs of every kind, at scales 1e-170..1e150 of c, b and A, in every matrix and
    bounds form: a success matches HiGHS, a certificate only where HiGHS finds no optimum."""
    base, (sc, sb, sa) = lp
    honest, status_check, scaled = make_honest(base, sc, sb, sa)
    c, A_ub, b_ub, A_eq, b_eq, lb, ub = scaled
    kwargs = dict(
        A_ub=_matrix_form(data, A_ub) if A_ub.size else None,
        b_ub=b_ub if b_ub.size else None,
        A_eq=_matrix_form(data, A_eq) if A_eq.size else None,
        b_eq=b_eq if b_eq.size else None,
        bounds=as_bounds(lb, ub, data.draw(st.sampled_from(["pairs", "Bounds", "array"]))),
        maxiter=MAXITER,
    )
    if data.draw(st.booleans()):
        kwargs["restart"] = data.draw(st.sampled_from([None, 16, "adaptive"]))
    if data.draw(st.booleans()):
        kwargs["backend"] = "array-api"
    result = outcome(lambda: itersolve.linprog(c, **kwargs), names=NAMES, honest=honest)
    assert isinstance(result, itersolve.LinprogResult), f"valid LP rejected: {result!r}"
    status_check(result)


def _hostile_matrix(data, shape):
    kind = data.draw(st.sampled_from(["array", "complex sparse", "nan sparse", "bool sparse",
                                 "wrong columns", "3-D", "string"]))
    if kind == "array":
        return data.draw(hostile_arrays(shape))
    if kind == "complex sparse":
        return sp.csr_matrix(np.ones(shape) * (1 + 1j))
    if kind == "nan sparse":
        A = np.ones(shape)
        A.flat[0] = np.nan
        return data.draw(st.sampled_from(SPARSE_FORMATS))(A)
    if kind == "bool sparse":
        return sp.csr_matrix(np.ones(shape, dtype=bool))
    if kind == "wrong columns":
        return np.ones((shape[0], shape[1] + 1))
    if kind == "3-D":
        return np.ones((1, *shape))
    return "A"


def _hostile_bounds(data, n):
    return data.draw(st.sampled_from([
        [(0, 1)] * (n + 1), [(0, 1, 2)] * n, [(1, 0)] * n, [(np.nan, 1)] * n, [("a", 1)] * n,
        [(1j, 2)] * n, [(0, 10**400)] * n, (np.inf, None), (None, -np.inf), 5, "bounds",
        {"lb": 0}, Bounds(np.zeros(n + 1), np.ones(n + 1)), Bounds(np.zeros(n) + 1j, np.ones(n)),
        Bounds(["x"] * n, np.ones(n)), np.zeros((n, 3)), [None] * (n + 2), [(True, 1)] * n,
    ]))


def _dense(value, *, matrix=False):
    array = (value.toarray() if sp.issparse(value) else np.asarray(value)).astype(float)
    if matrix:
        return array.reshape(1, -1) if array.ndim == 1 else array
    return array.reshape(-1)


def _as_given(c, kwargs, lb, ub):
    """The LP the arguments pose (they passed validation, so they convert), as
    ``(base, (sc, sb, 1))``: ``rescale(base, sc, sb, 1)`` has the same solutions and
    objective, and ``base`` is of moderate size, since HiGHS takes costs and bounds from
    1e20 on for infinite and drops coefficients below 1e-9. Each constraint row is divided
    by its largest entry, ``c`` by its own, and the variables by the largest bound."""
    c = _dense(c)
    sc = _magnitude(c) or 1.0
    parts = []
    for A, b in (("A_ub", "b_ub"), ("A_eq", "b_eq")):
        if kwargs.get(A) is None:
            parts += [np.zeros((0, c.size)), np.zeros(0)]
        else:
            parts += [_dense(kwargs[A], matrix=True), _dense(kwargs[b])]
    for i in (0, 2):  # each row with its bound divided by the row's largest entry
        rows = np.abs(parts[i]).max(axis=1, initial=0.0)
        rows[rows == 0] = 1.0
        parts[i], parts[i + 1] = parts[i] / rows[:, None], parts[i + 1] / rows
    A_ub, b_ub, A_eq, b_eq = parts
    finite = np.concatenate([lb[np.isfinite(lb)], ub[np.isfinite(ub)]])
    sb = max(_magnitude(b_ub), _magnitude(b_eq), _magnitude(finite)) or 1.0
    base = (c / sc, A_ub, b_ub / sb, A_eq, b_eq / sb, lb / sb, ub / sb)
    return base, (sc, sb, 1.0)


def _honest_as_given(c, kwargs, lb, ub):
    def honest(result):
        base, scales = _as_given(c, kwargs, lb, ub)
        make_honest(base, *scales)[0](result)

    return honest


def _status_as_given(c, kwargs, lb, ub, result):
    base, scales = _as_given(c, kwargs, lb, ub)
    make_honest(base, *scales)[1](result)


def _no_success(result):
    raise AssertionError(f"success with a hostile argument that should be rejected: {result}")


@settings(max_examples=150)
@given(data=st.data())
def test_fuzz_linprog_hostile_input(data):
    """One argument (or option) at a time is hostile: only a named rejection, or a status
    backed by the independent checks, may come out."""
    base = tiny_lp(data.draw(st.integers(0, 2**32 - 1)), "feasible")
    honest, status_check, _ = make_honest(base, 1.0, 1.0, 1.0)
    c, A_ub, b_ub, A_eq, b_eq, lb, ub = base
    n, m = c.size, max(A_ub.shape[0], 1)
    kwargs = dict(A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=as_bounds(lb, ub, "pairs"))
    for A, b in (("A_ub", "b_ub"), ("A_eq", "b_eq")):
        if kwargs[A].size == 0:
            del kwargs[A], kwargs[b]
    target = data.draw(st.sampled_from(
        ["c", "A_ub", "b_ub", "A_eq", "b_eq", "bounds", "x0", "option", "callback", "empty"]
    ))
    if target == "c":
        c = data.draw(st.one_of(hostile_arrays((n,)), hostile_scalars))
    elif target in ("A_ub", "A_eq"):
        kwargs[target] = _hostile_matrix(data, (m, n))
        kwargs["b" + target[1:]] = np.ones(m)
    elif target in ("b_ub", "b_eq"):
        kwargs[target] = data.draw(st.one_of(
            hostile_arrays((m,)), hostile_scalars, st.just(sp.csr_matrix([[1.0]]))
        ))
        kwargs.setdefault("A" + target[1:], np.ones((m, n)))
    elif target == "bounds":
        kwargs["bounds"] = _hostile_bounds(data, n)
        honest = _no_success
    elif target == "x0":
        kwargs["x0"] = data.draw(st.one_of(hostile_arrays((n,)), hostile_scalars))
    elif target == "callback":
        kwargs["callback"] = data.draw(st.one_of(hostile_callables((n,)), hostile_scalars))
    elif target == "empty":
        c, kwargs = data.draw(st.sampled_from([
            ([], {}), (np.zeros(0), {"A_ub": np.zeros((0, 0)), "b_ub": []}),
            ([1.0], {"A_ub": np.zeros((0, 2)), "b_ub": np.zeros(0)}),
        ]))
        honest = _no_success
    else:
        name = data.draw(st.sampled_from(
            ["rtol", "atol", "maxiter", "restart", "accelerate", "eps_infeasible", "method",
             "backend"]
        ))
        kwargs[name] = data.draw(hostile_scalars)
        if name in ("rtol", "atol"):
            honest = None  # a valid but loose tolerance (1e308) makes any point a success
    kwargs.setdefault("maxiter", MAXITER)  # a drawn maxiter (None, 10**400) stays
    changed = target in ("c", "A_ub", "A_eq", "b_ub", "b_eq")  # a valid draw poses a new LP
    if honest is None:  # a valid but loose tolerance (1e308) makes any point a success
        honest = _finite_success
    elif changed:
        honest = _honest_as_given(c, kwargs, lb, ub)
    result = outcome(lambda: itersolve.linprog(c, **kwargs), names=NAMES, honest=honest)
    if isinstance(result, itersolve.LinprogResult) and target != "bounds":
        if changed:
            _status_as_given(c, kwargs, lb, ub, result)
        else:
            status_check(result)


def _finite_success(result):
    assert math.isfinite(result.fun) and np.all(np.isfinite(result.x))


@settings(max_examples=20)
@given(seed=st.integers(0, 2**32 - 1), options=st.sampled_from([
    dict(rtol=1e-17), dict(eps_infeasible=1e-300), dict(accelerate=False, rtol=1e-15)
]))
def test_fuzz_linprog_maxiter_none_always_ends(seed, options):
    """``maxiter=None`` on LPs PDHG cannot finish (unreachable tolerance, uncertifiable
    infeasibility) ends with a status instead of running forever."""
    kind = "infeasible" if "eps_infeasible" in options else "feasible"
    c, A_ub, b_ub, A_eq, b_eq, lb, ub = tiny_lp(seed, kind)
    result = itersolve.linprog(
        c, A_ub=A_ub if A_ub.size else None, b_ub=b_ub if b_ub.size else None,
        A_eq=A_eq if A_eq.size else None, b_eq=b_eq if b_eq.size else None,
        bounds=list(zip(lb, ub)), maxiter=None, **options,
    )
    assert result.status != Status.IN_PROGRESS
    if result.success:
        make_honest(tiny_lp(seed, kind), 1.0, 1.0, 1.0)[0](result)
