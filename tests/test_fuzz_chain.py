"""Fuzz: ``solve_chain`` (every method), ``sequential_chain``, ``picard_ode`` and
``TrajectoryModel`` under hostile steps, starts, lengths, initial trajectories and options.

Every example either raises itersolve's own ValueError/TypeError naming an argument, or
returns a result whose success is checked here against the sequential trajectory this file
computes with a plain Python loop (``x[t+1] = step(t, x[t])``, one state at a time; for
``picard_ode`` the explicit scheme written out here): bit for bit for the exact methods
with their default tolerance, within the accepted tolerance for Picard and Newton.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import itersolve
from itersolve import Status, TrajectoryModel, picard_ode, sequential_chain, solve_chain
from itersolve._chain import forget_previous
from tests.fuzz_support import (
    EXTREME_SCALES,
    hostile_arrays,
    hostile_callables,
    hostile_scalars,
    outcome,
)

SHAPE = (2,)
METHODS = ("picard", "jacobi", "gauss-seidel", "hybrid", "newton", "quasi-newton")
EXACT = ("jacobi", "gauss-seidel", "hybrid")
NAMES = (
    "`step`", "`x0`", "`n_steps`", "`method`", "`window`", "`block`", "`rtol`", "`atol`",
    "`tol_scale`", "`init`", "`predictor`", "`predictor_sweeps`", "`jacobian`", "`maxiter`",
    "`callback`", "`backend`", "`f`", "`y0`", "`t`", "`scheme`", "init=", "step(...)",
    "predictor(...)", "jacobian(...)", "`parameters`", "`trajectories", "`parameter`",
    "`degree`", "`ridge`",
)

def _quiet(function):
    """The test's steps overflow quietly at extreme scales (the user's errstate is theirs)."""

    def wrapped(*args):
        with np.errstate(all="ignore"):
            return function(*args)

    return wrapped


def steps(scale):
    """``name -> (step, diagonal Jacobian)``: a contraction, a nonlinear map and growth.

    Every step computes each row on its own, so batching cannot change its rounding."""

    def affine(t, X):  # any state shape, so that a hostile x0 meets the library's checks
        return 0.5 * X + X.dtype.type(0.25 * scale)

    def cosine(t, X):
        return 0.3 * X + (0.6 * scale) * np.cos(X / scale)

    def growth(t, X):
        return 1.5 * X + t.reshape((-1,) + (1,) * (X.ndim - 1)).astype(X.dtype)

    return {
        "affine": (affine, lambda t, X: np.full_like(X, 0.5)),
        "cosine": (cosine, lambda t, X: 0.3 - 0.6 * np.sin(X / scale)),
        "growth": (growth, lambda t, X: np.full_like(X, 1.5)),
    }


def full(diagonal):
    """Full Jacobians ``(m, size, size)`` from diagonal ones."""

    def jacobian(t, X):
        D = diagonal(t, X).reshape(X.shape[0], -1)
        return np.einsum("ij,jk->ijk", D, np.eye(D.shape[1], dtype=D.dtype))

    return jacobian


def plain_loop(step, x0, n_steps):
    """The sequential trajectory, one state per call, written out here."""
    x0 = np.asarray(x0)
    X = np.empty((n_steps + 1, *x0.shape), dtype=x0.dtype)
    X[0] = x0
    with np.errstate(all="ignore"):
        for t in range(n_steps):
            X[t + 1] = step(np.array([t]), X[t : t + 1])[0]
    return X


def _close(X, reference, rtol):
    X, reference = np.asarray(X), np.asarray(reference)
    assert X.shape == reference.shape and np.all(np.isfinite(X)), (X.shape, reference.shape)
    # the oracle's own arithmetic in float64 (complex128 for complex states, whose
    # imaginary part a float cast would drop): rtol * size overflows in float16
    wide = np.complex128 if np.iscomplexobj(X) or np.iscomplexobj(reference) else np.float64
    X, reference = X.astype(wide), reference.astype(wide)
    size = np.max(np.abs(reference)) if reference.size else 0.0
    assert np.all(np.abs(X - reference) <= rtol * size), np.max(np.abs(X - reference)) / size


def honest_chain(step, x0, n_steps, method, rtol, atol):
    def honest(result):
        reference = plain_loop(step, np.asarray(x0, dtype=result.x.dtype), n_steps)
        assert np.all(np.isfinite(reference)), "success where the sequential chain overflows"
        if method in EXACT and not rtol and not atol:
            np.testing.assert_array_equal(result.x, reference)
        else:
            # each accepted state has a defect of ~rtol (or rounding, 100 eps for Picard)
            # relative to itself; the chains here grow no faster than their states, so
            # n_steps defects add up to at most ~n_steps of them, relative to the largest
            eps = float(np.finfo(result.x.dtype).eps)
            accepted = max(rtol or 1e-10, 100 * eps)
            _close(result.x, reference, 30 * accepted * (n_steps + 1))

    return honest


# ----------------------------------------------------------------------- strategies

tolerances = st.fixed_dictionaries(
    {},
    optional={
        "rtol": st.one_of(st.sampled_from([None, 0.0, 1e-12, 1e-10]), hostile_scalars),
        "atol": st.one_of(st.just(0.0), hostile_scalars),
        "maxiter": st.one_of(st.sampled_from([None, 0, 1, 3, 100]), hostile_scalars),
    },
)


@st.composite
def starts(draw):
    if draw(st.integers(0, 2)) == 0:
        return draw(hostile_arrays(SHAPE))
    dtype = draw(st.sampled_from([np.float64, np.float64, np.float32, np.float16]))
    scale = draw(st.sampled_from(EXTREME_SCALES))
    return (np.array([0.7, -1.3]) * scale).astype(dtype) if dtype == np.float64 else (
        np.array([0.7, -1.3], dtype=dtype)
    )


@st.composite
def chain_options(draw, method, n_steps):
    """Method options, each valid or hostile."""
    options = {}
    length = n_steps + 1 if isinstance(n_steps, int) and 0 <= n_steps < 100 else 3
    if draw(st.booleans()):
        options["window"] = draw(st.one_of(st.sampled_from([1, 2, 7, None]), hostile_scalars))
    if draw(st.booleans()):
        options["block"] = draw(st.one_of(st.sampled_from([1, 3, None]), hostile_scalars))
    if draw(st.integers(0, 3)) == 0:
        options["init"] = draw(st.one_of(
            st.sampled_from(["previous", None, "other"]),
            st.just(np.linspace(-1, 1, length * 2).reshape(length, 2)),
            hostile_arrays((length, 2)),
            hostile_scalars,
        ))
    if draw(st.integers(0, 3)) == 0:
        options["predictor"] = draw(st.one_of(
            st.just(lambda t, X: X + 0.25), hostile_callables((length, 2)), hostile_scalars
        ))
        if draw(st.booleans()):
            options["predictor_sweeps"] = draw(st.one_of(st.sampled_from([0, 2]), hostile_scalars))
    if draw(st.integers(0, 4)) == 0:
        options["tol_scale"] = draw(st.one_of(
            st.just(np.ones(length)), hostile_arrays((length,)), hostile_scalars
        ))
    if draw(st.integers(0, 4)) == 0:
        options["callback"] = draw(st.one_of(hostile_callables(SHAPE), hostile_scalars))
    if draw(st.integers(0, 5)) == 0:
        options["backend"] = draw(
            st.one_of(st.sampled_from(["array-api", "numpy"]), hostile_scalars)
        )
    return options


# ------------------------------------------------------------------------ solve_chain


@settings(max_examples=150)
@given(
    method=st.one_of(st.sampled_from(METHODS), st.sampled_from(["newton-raphson", None, 3])),
    kind=st.sampled_from(["affine", "cosine", "growth", "hostile"]),
    n_steps=st.one_of(st.integers(0, 40), hostile_scalars),
    data=st.data(),
)
def test_fuzz_solve_chain(method, kind, n_steps, data):
    x0 = data.draw(starts())
    scale = _scale_of(x0)
    if kind == "hostile":
        step = data.draw(hostile_callables(SHAPE))
        diagonal = data.draw(hostile_callables(SHAPE))
    else:
        step, diagonal = (_quiet(f) for f in steps(scale)[kind])
    options = data.draw(chain_options(method, n_steps))
    kwargs = {**data.draw(tolerances), **options}
    if method is not None:
        kwargs["method"] = method
    if method in ("newton", "quasi-newton") and data.draw(st.integers(0, 5)) > 0:
        kwargs["jacobian"] = diagonal if method == "quasi-newton" else full(diagonal)
    if isinstance(kwargs.get("init"), str) and data.draw(st.booleans()):
        forget_previous()  # init="previous" with nothing to recall
    rtol, atol = kwargs.get("rtol"), kwargs.get("atol", 0.0)
    honest = honest_chain(step, x0, n_steps, method or "picard", rtol, atol)
    if not _plain_tolerances(rtol, atol) or "tol_scale" in kwargs:
        honest = _finite  # a loose valid tolerance legitimately accepts a rough trajectory
    outcome(lambda: solve_chain(step, x0, n_steps, **kwargs), names=NAMES, honest=honest)


def _scale_of(x0) -> float:
    """The size of a drawn start (1 for one that is not a usable array)."""
    try:
        x = np.abs(np.asarray(x0, dtype=complex))
    except (TypeError, ValueError):
        return 1.0
    size = float(x.max()) if x.size else 1.0
    return size if math.isfinite(size) and size > 0 else 1.0


def _plain_tolerances(rtol, atol):
    """The tolerances the honest check knows how to bound (no loose valid one drawn)."""
    known = rtol is None or (type(rtol) is float and rtol in (0.0, 1e-12, 1e-10))
    return known and type(atol) is float and atol == 0.0


def _finite(result):
    assert np.all(np.isfinite(np.asarray(result.x)))


@settings(max_examples=80)
@given(
    method=st.sampled_from(METHODS),
    kind=st.sampled_from(["affine", "cosine", "growth"]),
    scale=st.sampled_from(EXTREME_SCALES),
    n_steps=st.integers(1, 40),
    window=st.sampled_from([None, 1, 5]),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_fuzz_solve_chain_valid_input_at_extreme_scales(
    method, kind, scale, n_steps, window, dtype
):
    """Valid chains at scales 1e-300..1e300 (states near 1e-170 were accepted before they
    were final): every method reaches the sequential trajectory or reports why not."""
    step, diagonal = (_quiet(f) for f in steps(scale)[kind])
    with np.errstate(over="ignore"):
        x0 = (np.array([0.7, -1.3]) * scale).astype(dtype)
    assume(np.all(np.isfinite(x0)) and np.all(x0 != 0))  # scales float32 can hold
    kwargs = {"method": method}
    if window is not None and method not in EXACT:
        kwargs["window"] = window
    if method in ("newton", "quasi-newton"):
        kwargs["jacobian"] = diagonal if method == "quasi-newton" else full(diagonal)
    result = outcome(
        lambda: solve_chain(step, x0, n_steps, **kwargs),
        names=NAMES,
        honest=honest_chain(step, x0, n_steps, method, None, 0.0),
    )
    assert isinstance(result, itersolve.SolveResult), result
    reference = plain_loop(step, x0, n_steps)
    if np.all(np.isfinite(reference)):
        assert result.success, result.message  # finite termination: n_steps sweeps suffice
    else:
        assert result.status == Status.NONFINITE


# ------------------------------------------------------------------- sequential_chain


@settings(max_examples=80)
@given(
    kind=st.sampled_from(["affine", "cosine", "hostile"]),
    n_steps=st.one_of(st.integers(0, 20), hostile_scalars),
    data=st.data(),
)
def test_fuzz_sequential_chain(kind, n_steps, data):
    x0 = data.draw(starts())
    step = (
        data.draw(hostile_callables(SHAPE)) if kind == "hostile" else _quiet(steps(1.0)[kind][0])
    )
    result = outcome(lambda: sequential_chain(step, x0, n_steps), names=NAMES)
    if isinstance(result, np.ndarray):
        np.testing.assert_array_equal(result, plain_loop(step, result[0], n_steps))


# ------------------------------------------------------------------------ picard_ode


def scheme_loop(f, y0, t, scheme):
    """The explicit scheme on the grid, one step at a time, written out here."""
    Y = np.empty((t.size, *y0.shape), dtype=y0.dtype)
    Y[0] = y0
    with np.errstate(all="ignore"):
        for i in range(t.size - 1):
            h, y, s = t[i + 1] - t[i], Y[i : i + 1], t[i : i + 1]
            k1 = f(s, y)
            if scheme == "euler":
                Y[i + 1] = (y + h * k1)[0]
            elif scheme == "heun":
                k2 = f(s + h, y + h * k1)
                Y[i + 1] = (y + h / 2 * (k1 + k2))[0]
            else:
                k2 = f(s + h / 2, y + h / 2 * k1)
                k3 = f(s + h / 2, y + h / 2 * k2)
                k4 = f(s + h, y + h * k3)
                Y[i + 1] = (y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4))[0]
    return Y


@settings(max_examples=80)
@given(
    scheme=st.one_of(st.sampled_from(["euler", "heun", "rk4"]), hostile_scalars),
    method=st.sampled_from(["picard", "gauss-seidel", "jacobi", "quasi-newton"]),
    hostile=st.sampled_from([None, "f", "y0", "t", "jacobian"]),
    scale=st.sampled_from(EXTREME_SCALES),
    data=st.data(),
)
def test_fuzz_picard_ode(scheme, method, hostile, scale, data):
    def f(t, Y):  # any state shape, so that a hostile y0 meets the library's checks
        with np.errstate(all="ignore"):  # overflows quietly in float32 at 1e150
            forcing = (scale * np.sin(t)).reshape((-1,) + (1,) * (Y.ndim - 1))
            return -Y + forcing.astype(Y.dtype)

    def jacobian(t, Y):
        return np.full_like(Y, -1.0)

    y0 = np.array([1.0, -2.0]) * scale
    t = np.linspace(0.0, 1.0, data.draw(st.integers(1, 30)))
    if hostile == "f":
        f = data.draw(hostile_callables(SHAPE))
    elif hostile == "y0":
        y0 = data.draw(hostile_arrays(SHAPE))
    elif hostile == "t":
        t = data.draw(st.one_of(hostile_arrays((5,)), hostile_scalars,
                                st.just(np.array([0.0, 1.0, 1.0])), st.just(np.array([0.0, 1j]))))
    elif hostile == "jacobian":
        jacobian = data.draw(hostile_callables(SHAPE))
    kwargs = {"scheme": scheme, "method": method}
    if method == "quasi-newton":
        kwargs["jacobian"] = jacobian

    def honest(result):
        # the scheme runs on the grid in the states' real precision, as documented
        grid = np.asarray(t, dtype=np.finfo(result.x.dtype).dtype)
        reference = scheme_loop(f, np.asarray(y0, dtype=result.x.dtype), grid, scheme)
        assert np.all(np.isfinite(reference))
        if method in ("gauss-seidel", "jacobi"):
            np.testing.assert_array_equal(result.x, reference)
        else:  # accepted updates of ~1e-10 (or 100 eps) per state, as in solve_chain
            accepted = max(1e-10, 100 * float(np.finfo(result.x.dtype).eps))
            _close(result.x, reference, 30 * accepted * grid.size)

    outcome(lambda: picard_ode(f, y0, t, **kwargs), names=NAMES, honest=honest)


# ------------------------------------------------------------------- TrajectoryModel


@settings(max_examples=60)
@given(
    target=st.sampled_from(["parameters", "trajectories", "degree", "ridge", "parameter", None]),
    data=st.data(),
)
def test_fuzz_trajectory_model(target, data):
    """A fitted model used as a predictor never changes the answer; hostile fitting data
    or parameters are named."""
    step = _quiet(steps(1.0)["affine"][0])
    runs = [sequential_chain(lambda t, X, a=a: 0.5 * X + a, np.zeros(2), 10) for a in (1.0, 2.0)]
    fit = {"parameters": [1.0, 2.0], "trajectories": runs, "degree": 1, "ridge": 0.0}
    parameter = 1.5
    if target == "trajectories":
        fit["trajectories"] = data.draw(st.one_of(
            st.lists(hostile_arrays((11, 2)), min_size=2, max_size=2), hostile_scalars
        ))
    elif target == "parameter":
        parameter = data.draw(st.one_of(hostile_arrays((1,)), hostile_scalars))
    elif target is not None:
        fit[target] = data.draw(st.one_of(hostile_arrays((2,)), hostile_scalars))
        if target == "ridge" and isinstance(fit["ridge"], int) and fit["ridge"] > 2**1023:
            fit["ridge"] = 0.0  # the shared check_real overflows on it (reported)

    def use():
        model = TrajectoryModel.fit(fit["parameters"], fit["trajectories"],
                                    degree=fit["degree"], ridge=fit["ridge"])
        return solve_chain(step, np.zeros(2), 10, predictor=model.predictor(parameter))

    outcome(use, names=NAMES, honest=honest_chain(step, np.zeros(2), 10, "picard", None, 0.0))
