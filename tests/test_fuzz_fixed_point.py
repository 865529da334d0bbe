"""Fuzz: fixed_point (every method), infimal_displacement and feasibility under hostile input.

Every example either raises itersolve's own ValueError/TypeError naming an argument, or
returns a result whose success is checked here, independently of the library: for
``fixed_point`` the residual ``||x - T(x)||`` at the returned point (computed by this file,
with its own overflow-safe norm); for ``infimal_displacement`` the returned estimate
against the known displacement vector; for ``feasibility`` the distances of the returned
point to the true sets, by this file's own exact projections.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import itersolve
from tests.fuzz_support import (
    EXTREME_SCALES,
    UserError,
    hostile_arrays,
    hostile_callables,
    hostile_scalars,
    outcome,
)

SHAPE = (3,)
METHODS = ("iterate", "mann", "halpern", "anderson", "aitken")
OPTION_NAMES = ("relaxation", "restart", "m", "regularization", "damping", "safeguard")
NAMES = ("`T`", "`x0`", "`method`", "`rtol`", "`atol`", "`maxiter`", "`callback`", "`backend`")
NAMES += tuple(f"`{name}`" for name in OPTION_NAMES) + ("T(...)",)
C = np.array([1.0, -2.0, 0.5])


def norm(v) -> float:
    """This file's 2-norm: rescaled by the largest entry, so it neither over- nor underflows."""
    v = np.abs(np.asarray(v, dtype=complex).reshape(-1))
    largest = float(np.max(v)) if v.size else 0.0
    if largest == 0.0 or not np.isfinite(largest):
        return largest
    return largest * float(np.sqrt(np.sum((v / largest) ** 2)))


def _quiet(f):
    """The test's maps overflow quietly at extreme scales (the user's errstate is theirs),
    and fail as the user's own error on an iterate they cannot take (a wrong shape)."""

    def wrapped(x):
        with np.errstate(all="ignore"):
            try:
                if np.shape(x) not in ((3,), (6,)):
                    raise ValueError(f"this map takes 3 or 6 entries, got shape {np.shape(x)}")
                return f(x)
            except (ValueError, TypeError, IndexError) as exc:
                raise UserError(str(exc)) from exc

    return wrapped


def _maps(scale):
    """Maps of the iterate's own dtype: with a fixed point, without one, and nonlinear."""
    rotation = np.array([[np.cos(0.3), -np.sin(0.3)], [np.sin(0.3), np.cos(0.3)]])

    def contraction(x):
        return 0.5 * x + (scale * C).astype(x.dtype)

    def no_fixed_point(x):  # a translation and a rotation: nonexpansive, v = (scale, 0, 0)
        y = x.copy()
        y[0] = x[0] - scale
        y[1:] = rotation @ x[1:]
        return y

    def cosine(x):
        return (scale * 0.9 * np.cos(x / scale)).astype(x.dtype)

    return {"contraction": contraction, "no fixed point": no_fixed_point, "cosine": cosine}


@st.composite
def starts(draw):
    if draw(st.booleans()):
        return draw(hostile_arrays(SHAPE))
    return np.linspace(-1.0, 2.0, 3) * draw(st.sampled_from(EXTREME_SCALES))


@st.composite
def maps(draw):
    if draw(st.integers(0, 3)) == 0:
        return draw(hostile_callables(SHAPE))
    scale = draw(st.sampled_from(EXTREME_SCALES))
    return _quiet(_maps(scale)[draw(st.sampled_from(["contraction", "no fixed point", "cosine"]))])


valid_options = {
    "relaxation": st.sampled_from([0.5, 0.9, 1.5]),
    "restart": st.sampled_from([None, 5, "adaptive"]),
    "m": st.sampled_from([1, 3, 10]),
    "regularization": st.sampled_from([0.0, 1e-8, 1e-2]),
    "damping": st.sampled_from([0.5, 1.0]),
    "safeguard": st.sampled_from([None, 1.0, 2.0]),
}
APPLIES = {
    "iterate": (),
    "mann": ("relaxation",),
    "halpern": ("restart",),
    "anderson": ("m", "regularization", "damping", "safeguard"),
    "aitken": (),
}


@st.composite
def options(draw, method):
    chosen = {}
    for name in draw(st.lists(st.sampled_from(OPTION_NAMES), max_size=3, unique=True)):
        hostile = draw(st.integers(0, 3)) == 0 or name not in APPLIES.get(method, ())
        chosen[name] = draw(hostile_scalars if hostile else valid_options[name])
    return chosen


tolerances = st.fixed_dictionaries(
    {},
    optional={
        "rtol": st.one_of(st.sampled_from([1e-12, 1e-8, 1e-4]), hostile_scalars),
        "atol": st.one_of(st.sampled_from([0.0, 1e-12, 1e-3]), hostile_scalars),
        "maxiter": st.one_of(st.sampled_from([0, 1, 50, 500, None]), hostile_scalars),
    },
)


def _honest_fixed_point(T, kwargs):
    def honest(result):  # only reached on success, so the tolerances were valid
        rtol = float(kwargs.get("rtol", 1e-8))
        atol = float(kwargs.get("atol", 0.0))
        x = np.asarray(result.x)
        Tx = np.asarray(T(x))
        residual = norm(x.astype(complex) - Tx.astype(complex))
        # the library's own test, re-evaluated here; 1e-9 covers the two norms' rounding
        assert residual <= max(rtol * norm(Tx), atol) * (1 + 1e-9), (residual, norm(Tx))
        assert np.all(np.isfinite(x))

    return honest


@settings(max_examples=100)
@given(
    method=st.one_of(st.sampled_from(METHODS), st.sampled_from(["newton", None, 3])),
    data=st.data(),
)
def test_fuzz_fixed_point(method, data):
    T = data.draw(maps())
    x0 = data.draw(starts())
    kwargs = {**data.draw(tolerances), **data.draw(options(method))}
    if method is not None:
        kwargs["method"] = method
    outcome(
        lambda: itersolve.fixed_point(T, x0, **kwargs),
        names=NAMES,
        honest=_honest_fixed_point(T, kwargs),
    )


@settings(max_examples=100)
@given(method=st.sampled_from(METHODS), scale=st.sampled_from(EXTREME_SCALES), data=st.data())
def test_fuzz_fixed_point_valid_input_at_extreme_scales(method, scale, data):
    """Valid problems at every scale: the contraction must be solved, whatever the scale."""
    kind = data.draw(st.sampled_from(["contraction", "cosine", "no fixed point"]))
    T = _quiet(_maps(scale)[kind])
    extra = data.draw(options(method)) if data.draw(st.booleans()) else {}
    extra = {k: v for k, v in extra.items() if k in APPLIES[method]}
    kwargs = {"method": method, "maxiter": 3000, **extra}
    result = outcome(
        lambda: itersolve.fixed_point(T, np.zeros(3), **kwargs),
        names=NAMES,
        honest=_honest_fixed_point(T, kwargs),
    )
    if kind == "no fixed point" and isinstance(result, itersolve.SolveResult):
        # x - T(x) has first entry `scale` at every finite x: it can never have converged
        assert not result.success or not np.isfinite(scale)


# ----------------------------------------------------------- infimal_displacement


def _displacement_maps(scale):
    angles = np.array([0.3, 1.0])
    cos, sin = np.cos(angles), np.sin(angles)
    v = scale * np.array([0.0, 0.0, 0.0, 0.0, 1.0, -0.5])

    def translated_rotation(x):
        y = np.empty_like(x)
        y[0:4:2] = cos * x[0:4:2] - sin * x[1:4:2]
        y[1:4:2] = sin * x[0:4:2] + cos * x[1:4:2]
        y[4:] = x[4:] - v[4:]
        return y

    return {
        "translation": (lambda x: x - v, v),
        "translated rotation": (translated_rotation, v),
        "rotation (v = 0)": (lambda x: np.concatenate([translated_rotation(x)[:4], x[4:]]), 0 * v),
    }


@settings(max_examples=60)
@given(data=st.data())
def test_fuzz_infimal_displacement(data):
    scale = data.draw(st.sampled_from(EXTREME_SCALES))
    kinds = ["translation", "translated rotation", "rotation (v = 0)", "hostile"]
    kind = data.draw(st.sampled_from(kinds))
    if kind == "hostile":
        T, v = data.draw(hostile_callables((6,))), None
    else:
        T, v = _displacement_maps(scale)[kind]
        T = _quiet(T)
    x0 = (
        data.draw(hostile_arrays((6,)))
        if data.draw(st.booleans())
        else np.linspace(-1.0, 1.0, 6) * scale
    )
    kwargs = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "method": st.sampled_from(["halpern", "mann", "anderson"]),
                "restart": st.sampled_from([None, 20, "adaptive", 0, "never", 2.5]),
                "relaxation": st.one_of(st.sampled_from([0.5, 0.9]), hostile_scalars),
                "rtol": st.sampled_from([1e-4, 1e-6, -1.0]),
                "atol": st.sampled_from([0.0, 1e-3 * scale]),
                "maxiter": st.sampled_from([0, 100, 3000, None, -5, 1.5]),
            },
        )
    )
    if kwargs.get("maxiter", 1) is None:  # keep examples short: rotations decay slowly
        kwargs["atol"] = max(kwargs.get("atol", 0.0), 1e-3 * scale)

    def honest(result):
        assert v is not None  # a hostile map never gives success
        v_hat = np.asarray(result.x)
        rtol, atol = float(kwargs.get("rtol", 1e-6)), float(kwargs.get("atol", 0.0))
        dtype = np.asarray(x0).dtype
        eps = float(np.finfo(dtype).eps) if dtype.kind in "fc" else 2.0**-52
        if norm(v) <= eps * norm(x0):
            # the map as evaluated is x -> x near x0 (x - v rounds to x): it has fixed
            # points in floating point, and v_hat must be zero up to that rounding
            # (as below, within 100 times the tolerance: the stop is an agreement test)
            assert norm(v_hat) <= 100 * max(rtol * norm(v_hat), atol) + 10 * eps * norm(x0)
            return
        # every residual x - T x satisfies <x - T x, v> >= ||v||^2 (v is the projection of
        # 0 onto the closure of ran(I - T)); both estimators are averages of residuals
        # (up to the rounding of the iterate's dtype: 1e-9 is below float32's eps)
        if norm(v) > 0:
            assert np.vdot(v_hat / norm(v), v / norm(v)).real >= 1 - max(1e-9, 10 * eps)
        # the estimate is close to the true v (loosely: the stopping test is an agreement
        # of two estimators, not a bound on the error; see the docstring)
        assert norm(v_hat - v) <= 100 * max(rtol * norm(v), atol) + 1e-12 * norm(v), (
            norm(v_hat - v),
            norm(v),
        )

    outcome(
        lambda: itersolve.infimal_displacement(T, x0, **kwargs),
        names=NAMES + ("`restart`", "`relaxation`"),
        honest=honest,
    )


# ------------------------------------------------------------------- feasibility


def _sets(scale):
    """Exact projections (this file's own): a box, a ball and a half-space, scaled."""

    def box(x):
        return np.clip(x, 0.0, scale)

    def ball(x):  # centre (s, s, s), radius s
        d = x - scale
        size = norm(d)
        return x if size <= scale else scale + d * (scale / size)

    def halfspace(x):  # {x : x_0 + x_1 + x_2 >= 4 s}
        ones = np.ones_like(x)
        excess = 4 * scale - np.sum(x)
        return x if excess <= 0 else x + excess * ones / 3

    def far_box(x):  # disjoint from the box
        return np.clip(x, 3 * scale, 4 * scale)

    return {"box": box, "ball": ball, "halfspace": halfspace, "far box": far_box}


NOT_PROJECTIONS = {
    "shift": lambda x: x + 7.0,
    "double": lambda x: 2.0 * x,
    "negate": lambda x: -x,
}


@settings(max_examples=60)
@given(data=st.data())
def test_fuzz_feasibility(data):
    scale = data.draw(st.sampled_from(EXTREME_SCALES))
    sets = _sets(scale)
    sides = []
    for _ in range(2):
        kind = data.draw(st.sampled_from(["set", "set", "not a projection", "hostile"]))
        if kind == "set":
            name = data.draw(st.sampled_from(sorted(sets)))
            sides.append((_quiet(sets[name]), sets[name]))
        elif kind == "not a projection":
            name = data.draw(st.sampled_from(sorted(NOT_PROJECTIONS)))
            sides.append((_quiet(NOT_PROJECTIONS[name]), None))
        else:
            sides.append((data.draw(hostile_callables(SHAPE)), None))
    x0 = (
        data.draw(hostile_arrays(SHAPE))
        if data.draw(st.booleans())
        else np.array([2.0, -1.0, 0.5]) * scale
    )
    kwargs = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "method": st.sampled_from(["douglas-rachford", "alternating", "dykstra"]),
                "accelerate": st.sampled_from([True, False, "yes", 1]),
                "rtol": st.sampled_from([1e-10, 1e-6, np.nan]),
                "atol": st.sampled_from([0.0, 1e-12, 1e-3 * scale]),
                "maxiter": st.sampled_from([10, 2000, None, -1]),
            },
        )
    )
    (project_a, exact_a), (project_b, exact_b) = sides

    def honest(result):
        x = np.asarray(result.x)
        rtol, atol = float(kwargs.get("rtol", 1e-10)), float(kwargs.get("atol", 1e-12))
        tolerance = 10 * max(rtol * norm(x), atol) * (1 + 1e-9)
        for user, exact in ((project_a, exact_a), (project_b, exact_b)):
            # distance to the true set where it is known; otherwise x must at least be a
            # fixed point of the user's map (the only "set" such a map defines)
            reference = exact if exact is not None else user
            assert norm(x - reference(x)) <= tolerance, (norm(x - reference(x)), tolerance)

    outcome(
        lambda: itersolve.feasibility(project_a, project_b, x0, **kwargs),
        names=NAMES
        + ("`project_a`", "`project_b`", "`accelerate`", "project_a(...)", "project_b(...)"),
        honest=honest,
    )
