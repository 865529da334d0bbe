"""Fuzz the SOR family (issue 12): hostile input gets itersolve's own named error or an
honest result.

Entry points: ``sor``, ``ssor_pcg``, ``relax``, ``jacobi_spectral_radius``, ``coloring``,
``solve_sequence`` and the tuners ``TsallisINF``, ``ChebCB``, ``BinnedTsallisINF``. Every
success is checked against ``numpy.linalg.solve``: the returned
``x`` meets the stopping criterion ``||b - A x|| <= max(rtol ||b||, atol)`` (computed
here, in float64 and scaled), and lies within the condition-number bound of the dense
solution. Hostile index arrays (colourings, hand-built CSR) run in a subprocess, so a
segmentation fault fails the test instead of killing the run.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import itersolve
from itersolve.tuning import BinnedTsallisINF, ChebCB, TsallisINF, solve_sequence
from tests.fuzz_support import (
    EXTREME_SCALES,
    hostile_arrays,
    hostile_scalars,
    outcome,
    run_isolated,
)

N = 6
MATRIX_NAMES = ("`A`", "`b`", "`x0`")
OPTION_NAMES = ("`omega`", "`sweep`", "`ordering`", "`rtol`", "`atol`", "`maxiter`", "`rng`")
OPTION_NAMES += ("`backend`", "`callback`", "`throw`")




def _spd(n=N, seed=0):
    """A symmetric, diagonally dominant (so SPD) matrix with a few couplings."""
    rng = np.random.default_rng(seed)
    off = np.triu(rng.uniform(-1, 1, (n, n)) * (rng.random((n, n)) < 0.5), 1)
    off = off + off.T
    return off + np.diag(np.abs(off).sum(axis=1) + rng.uniform(0.5, 2.0, n))


def _noncanonical(dense):
    """CSR with every stored entry split in two halves, rows stored in reverse order."""
    rows, cols = np.nonzero(dense)
    values = dense[rows, cols]
    order = np.lexsort((-cols, rows))  # unsorted (descending) columns within a row
    rows, cols, values = rows[order], cols[order], values[order]
    rows, cols = np.repeat(rows, 2), np.repeat(cols, 2)
    values = np.repeat(values / 2, 2)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=dense.shape[0]))])
    return sp.csr_array((values, cols, indptr), shape=dense.shape)


VALID_KINDS = ["dense", "csr", "csc", "coo", "lil", "list", "noncanonical", "scale", "float32",
               "int"]
HOSTILE_KINDS = ["complex", "nonsquare", "zero-diagonal", "empty", "bool", "hostile"]


@st.composite
def matrices(draw, spd=True, hostile=None):
    """A system matrix: valid (any format, canonical or not, any scale, int or float32) or,
    with ``hostile`` (None: either), wrong in one way."""
    seed = draw(st.integers(0, 2**16))
    dense = _spd(seed=seed)
    if not spd and draw(st.booleans()):
        dense = dense + np.triu(np.random.default_rng(seed).uniform(-2, 2, (N, N)), 1)
    kinds = {None: VALID_KINDS + HOSTILE_KINDS, False: VALID_KINDS, True: HOSTILE_KINDS}
    kind = draw(st.sampled_from(kinds[hostile]))
    if kind == "dense":
        return dense
    if kind in ("csr", "csc", "coo", "lil"):
        return sp.csr_array(dense).asformat(kind)
    if kind == "list":
        return dense.tolist()
    if kind == "noncanonical":
        return _noncanonical(dense)
    if kind == "scale":
        return dense * draw(st.sampled_from(EXTREME_SCALES))
    if kind == "float32":
        return dense.astype(np.float32)
    if kind == "int":
        return np.rint(dense * 4).astype(np.int64)
    if kind == "complex":
        return sp.csr_array(dense * (1 + 1j))
    if kind == "nonsquare":
        return sp.csr_array(dense[:, :-1])
    if kind == "zero-diagonal":
        dense = dense.copy()
        dense[draw(st.integers(0, N - 1)), draw(st.integers(0, N - 1))] = 0.0
        np.fill_diagonal(dense, np.where(np.arange(N) == 0, 0.0, np.diag(dense)))
        return dense
    if kind == "empty":
        return np.zeros((0, 0))
    if kind == "bool":
        return dense > 0
    return draw(hostile_arrays((N, N)))


def _dense64(A):
    if sp.issparse(A):
        return A.toarray().astype(np.float64)  # toarray sums duplicates
    return np.asarray(A, dtype=np.float64)


def _norm(v):
    largest = float(np.max(np.abs(v))) if v.size else 0.0
    if largest == 0.0 or not math.isfinite(largest):
        return largest
    return largest * float(np.linalg.norm(v / largest))


def honest_solution(A, b, rtol, atol):
    """The independent check of a success: the criterion on ``x``, and the dense solution."""

    def check(result):
        dense = _dense64(A)
        rhs = np.asarray(b, dtype=np.float64).reshape(-1)
        # Work in units where A and b (or A x, if larger) are O(1): A = 2^ea Ã,
        # b = 2^eb b̃, x = 2^(eb-ea) x̃ (exact: powers of two), so nothing below overflows
        # or underflows.
        x = np.asarray(result.x, dtype=np.float64)
        ea = math.frexp(float(np.abs(dense).max()))[1]
        eb = math.frexp(float(np.abs(rhs).max()))[1]
        if np.any(x != 0):
            eb = max(eb, ea + math.frexp(float(np.abs(x).max()))[1])
        with np.errstate(over="ignore", under="ignore"):
            A1, b1 = np.ldexp(dense, -ea), np.ldexp(rhs, -eb)
            x1 = np.ldexp(x, ea - eb)
        try:
            atol1 = math.ldexp(atol, -eb)
        except OverflowError:
            atol1 = math.inf
        true = _norm(b1 - A1 @ x1)
        target = max(rtol * _norm(b1), atol1)
        # the solver's float64 residual and ours differ by rounding, eps ||A|| ||x||
        slack = 64 * float(np.finfo(np.float64).eps) * (_norm(b1) + _norm(A1) * _norm(x1))
        assert true <= target * (1 + 1e-9) + slack, (true, target, result.message)
        # forward error bound: ||x - x*|| / ||x*|| <= cond(A) ||b - A x|| / ||b||
        condition = float(np.linalg.cond(A1))
        if condition < 1e12 and _norm(b1) > 0:  # a singular A has no x* to compare with
            reference = np.linalg.solve(A1, b1)
            bound = condition * ((true + slack) / _norm(b1))
            error = _norm(x1 - reference) / max(_norm(reference), 1e-300)
            assert error <= 1.01 * bound + 1e-12, (error, bound)

    return check


def _good_vector(draw):
    vector = np.random.default_rng(draw(st.integers(0, 99))).uniform(-1, 1, N)
    return vector * draw(st.sampled_from(EXTREME_SCALES))


# One argument at a time is hostile (a quarter of the examples have none), so every
# check is reached and valid inputs at extreme scales are solved often enough to test
# the honesty of each success.
HOSTILE_ARGUMENTS = ["none"] * 4 + ["A", "b", "x0", "omega", "rtol", "atol", "maxiter",
                                    "ordering", "sweep"]


@st.composite
def linear_cases(draw, spd):
    bad = draw(st.sampled_from(HOSTILE_ARGUMENTS))

    def pick(name, valid, hostile=hostile_scalars):
        return draw(hostile if bad == name else valid)

    A = draw(matrices(spd=spd, hostile=bad == "A"))
    b = draw(hostile_arrays((N,))) if bad == "b" else _good_vector(draw)
    x0 = pick("x0", st.one_of(st.none(), st.builds(lambda: None)), hostile_arrays((N,)))
    if x0 is None and bad != "x0" and draw(st.booleans()):
        x0 = _good_vector(draw)
    options = {
        "omega": pick("omega", st.one_of(st.floats(0.05, 1.95), st.just("auto")),
                      st.one_of(st.sampled_from([0.0, 2.0, -1.0, 2.5]), hostile_scalars)),
        "rtol": pick("rtol", st.sampled_from([1e-8, 1e-6, 1e-12, 1e-14, 0.0])),
        "atol": pick("atol", st.sampled_from([0.0, 1e-300, 1e-10, 1e-3])),
        "maxiter": pick("maxiter", st.sampled_from([1, 50, 500, None]), hostile_scalars),
        "ordering": pick("ordering", st.sampled_from([None, "natural", "red-black", "multicolor"]),
                         hostile_scalars),
        "sweep": pick("sweep", st.sampled_from(["forward", "backward", "symmetric"]),
                      st.one_of(st.just("x"), hostile_scalars)),
    }
    return A, b, x0, options


def checked(call, *, names, honest=None):
    """``outcome`` plus a hypothesis event, so the statistics show what the examples hit."""
    result = outcome(call, names=names, honest=honest)
    if isinstance(result, BaseException):
        event(f"rejected: {type(result).__name__}")
    elif hasattr(result, "status"):
        event("success (checked)" if result.success else f"status {result.status.name}")
    elif hasattr(result, "success"):
        event(f"success={result.success} (each success checked)")
    else:
        event("returned")
    return result


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(case=linear_cases(spd=False))
def test_fuzz_sor(case):
    A, b, x0, options = case
    checked(
        lambda: itersolve.sor(A, b, x0, rng=0, **options),
        names=MATRIX_NAMES + OPTION_NAMES,
        honest=honest_solution(A, b, options["rtol"], options["atol"]),
    )


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(case=linear_cases(spd=True))
def test_fuzz_ssor_pcg(case):
    A, b, x0, options = case
    options.pop("sweep")
    if isinstance(options["omega"], str) and options["omega"] == "auto":
        options["omega"] = 1.0
    checked(
        lambda: itersolve.ssor_pcg(A, b, x0, **options),
        names=MATRIX_NAMES + OPTION_NAMES,
        honest=honest_solution(A, b, options["rtol"], options["atol"]),
    )


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    A=matrices(spd=False),
    rng=st.one_of(st.integers(0, 5), st.integers(0, 5), hostile_scalars),
    tol=st.one_of(st.sampled_from([0.0, 1e-10, 1e-3]), hostile_scalars),
)
def test_fuzz_jacobi_spectral_radius(A, rng, tol):
    def honest(beta):
        dense = _dense64(A)
        jacobi = np.eye(dense.shape[0]) - dense / np.diag(dense)[:, None]
        # ARPACK's tol is the relative accuracy asked for
        rel = max(1e-6, 10 * float(tol))
        assert beta == pytest.approx(np.abs(np.linalg.eigvals(jacobi)).max(), rel=rel, abs=1e-9)

    result = checked(
        lambda: itersolve.jacobi_spectral_radius(A, rng=rng, tol=tol),
        names=("`A`", "`rng`", "`tol`"),
    )
    if isinstance(result, float):
        honest(result)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    A=matrices(spd=False),
    ordering=st.one_of(st.sampled_from(["red-black", "multicolor"]), hostile_scalars),
)
def test_fuzz_coloring(A, ordering):
    result = checked(lambda: itersolve.coloring(A, ordering), names=("`A`", "`ordering`"))
    if isinstance(result, tuple):
        order, color_ptr = result
        dense = _dense64(A)
        n = dense.shape[0]
        assert np.array_equal(np.sort(order), np.arange(n))  # a partition of the rows
        color = np.empty(n, int)
        color[order] = np.repeat(np.arange(color_ptr.size - 1), np.diff(color_ptr))
        coupled = (dense != 0) | (dense.T != 0)
        np.fill_diagonal(coupled, False)
        assert not np.any(coupled & (color[:, None] == color[None, :]))


# -- relax: everything it indexes with, in a subprocess ----------------------------------

_RELAX_FUZZ = """
import numpy as np, scipy.sparse as sp
from hypothesis import given, settings, HealthCheck, strategies as st
import itersolve
from tests.fuzz_support import outcome, hostile_scalars

N = 6
count = 0
ints = st.integers(-10, 20)

@st.composite
def colourings(draw):
    size = draw(st.integers(0, N + 2))
    order = np.array(draw(st.lists(ints, min_size=size, max_size=size)), dtype=np.int64)
    if draw(st.booleans()):
        order = np.random.default_rng(draw(st.integers(0, 9))).permutation(N)
    ptr = sorted(draw(st.lists(st.integers(0, N), min_size=0, max_size=4)))
    ptr = np.array(draw(st.sampled_from([[0, *ptr, N], ptr, [0, N + 5], [N, 0]])), np.int64)
    return draw(st.sampled_from([(order, ptr), [order, ptr], (order,), (order, ptr, ptr),
                                 (order.astype(float), ptr)]))

@st.composite
def matrices(draw):
    T = sp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(N, N)).tocsr()
    indptr, indices, data = T.indptr.copy(), T.indices.copy(), T.data.copy()
    kind = draw(st.sampled_from(["ok", "indices", "indptr", "indptr-end", "dtype", "coo", "csc"]))
    if kind == "indices":
        indices[draw(st.integers(0, indices.size - 1))] = draw(ints) * 1000
    elif kind == "indptr":
        indptr[draw(st.integers(1, N - 1))] = draw(st.integers(-5, 40))
    elif kind == "indptr-end":
        indptr[-1] = draw(st.integers(0, 10**6))
    A = sp.csr_array((data, indices, T.indptr.copy()), shape=(N, N))
    A.indptr, A.indices = indptr, indices  # assigned after construction: scipy trusts them
    if kind == "dtype":
        A.indices = indices.astype(np.uint16)
    if kind == "coo":
        B = T.tocoo()
        B.coords = (B.coords[0] + draw(st.sampled_from([0, 7, -9])), B.coords[1])
        return B
    if kind == "csc":
        B = T.tocsc()
        B.indices = B.indices.copy()
        B.indices[0] = draw(ints) * 100
        return B
    return A

@settings(max_examples=MAX, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(A=matrices(), ordering=st.one_of(colourings(), st.sampled_from(["natural", "red-black"]),
       hostile_scalars), sweep=st.sampled_from(["forward", "symmetric"]),
       iterations=st.sampled_from([0, 1, 3, -1, 1.5]), omega=st.sampled_from([1.2, 0.0, "x"]))
def fuzz(A, ordering, sweep, iterations, omega):
    global count
    count += 1
    x, b = np.zeros(N), np.ones(N)
    outcome(lambda: itersolve.relax(A, x, b, omega=omega, sweep=sweep, iterations=iterations,
                                    ordering=ordering),
            names=("`A`", "`ordering`", "`omega`", "`iterations`", "`sweep`"))
    result = outcome(lambda: itersolve.sor(A, b, maxiter=20), names=("`A`",))

fuzz()
print("EXAMPLES", count)
"""


def test_fuzz_relax_and_hand_built_csr_in_a_subprocess():
    process = run_isolated(_RELAX_FUZZ.replace("MAX", "150"), timeout=300)
    assert process.returncode == 0, process.stdout + process.stderr
    assert "EXAMPLES 150" in process.stdout, process.stdout


# -- solve_sequence ----------------------------------------------------------------------


@st.composite
def sequence_cases(draw):
    bad = draw(st.sampled_from(["none"] * 3 + ["A", "b", "tuner", "contexts", "omega", "rng",
                                               "solver"]))
    tuner = draw(st.sampled_from([None, "tsallis-inf", "chebcb", "binned"]))
    case = {
        "systems": [(draw(matrices(spd=True, hostile=bad == "A")),
                     draw(hostile_arrays((N,))) if bad == "b" else _good_vector(draw))] * 3,
        "tuner": draw(hostile_scalars) if bad == "tuner" else tuner,
        "solver": draw(st.sampled_from(["gmres", 3]) if bad == "solver"
                       else st.sampled_from(["sor", "ssor_pcg"])),
    }
    if bad == "contexts":
        case["contexts"] = draw(st.one_of(
            st.sampled_from([["a", "b", "c"], [1j] * 3, [None] * 3, [0.5] * 3]), hostile_scalars))
    elif tuner in ("chebcb", "binned"):
        case["contexts"] = [0.1, 0.5, 0.9]
    if bad == "omega":
        case["omega"] = draw(hostile_scalars)
    elif tuner is None:
        case["omega"] = draw(st.floats(0.1, 1.9))
    if bad == "rng":
        case["rng"] = draw(hostile_scalars)
    elif tuner is not None:
        case["rng"] = draw(st.integers(0, 3))
    return case


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(case=sequence_cases())
def test_fuzz_solve_sequence(case):
    A, b = case["systems"][0]

    def honest(result):
        for item in result.results:
            if item.success:
                honest_solution(A, b, 1e-8, 0.0)(item)

    checked(
        lambda: solve_sequence(**case, maxiter=300, warm_start=False),
        names=("`A`", "`b`", "`x0`", "`tuner`", "`contexts`", "`omega`", "`rng`", "`solver`",
               "`context_range`"),
        honest=honest,
    )


# -- the tuners --------------------------------------------------------------------------


@st.composite
def tuner_cases(draw):
    bad = draw(st.sampled_from(["none"] * 3 + ["arms", "range", "size", "rng", "context",
                                               "cost"]))
    kind = draw(st.sampled_from([TsallisINF, ChebCB, BinnedTsallisINF]))
    arms = draw(hostile_scalars) if bad == "arms" else draw(
        st.sampled_from([[1.0, 1.5, 1.9], (1, 2, 5), np.linspace(1, 1.95, 20), ["a", None]]))
    kwargs = {"rng": draw(hostile_scalars) if bad == "rng" else draw(st.integers(0, 9))}
    if kind is not TsallisINF:
        kwargs["context_range"] = draw(hostile_scalars) if bad == "range" else (0.0, 1.0)
        size = draw(hostile_scalars) if bad == "size" else draw(st.integers(1, 8))
        kwargs["degree" if kind is ChebCB else "bins"] = size
    valid_context = st.floats(-2.0, 3.0) if kind is not TsallisINF else st.none()
    contexts = [draw(hostile_scalars if bad == "context" else valid_context) for _ in range(5)]
    costs = [draw(hostile_scalars if bad == "cost" else st.floats(1.0, 1e4)) for _ in range(5)]
    return kind, arms, kwargs, contexts, costs


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(case=tuner_cases())
def test_fuzz_tuners(case):
    kind, arms, kwargs, contexts, costs = case
    names = ("`arms`", "`context_range", "`degree`", "`bins`", "`rng`", "`context`", "`cost`",
             "context")

    def rounds():
        tuner = kind(arms, **kwargs)
        for context, cost in zip(contexts, costs, strict=True):
            value = tuner.suggest(context)
            assert any(value is arm or value == arm for arm in tuner.arms)
            tuner.observe(cost)
        assert tuner.rounds == len(costs) and int(np.sum(tuner.counts)) == len(costs)
        return tuner

    checked(rounds, names=names)
