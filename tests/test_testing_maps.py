"""itersolve.testing.problems.inconsistent_map: every certificate against an independent oracle.

* ``v`` of a translated rotation: a dense SVD projection of a residual onto
  ``null((I - L)^H)``, with ``L`` read off ``T`` column by column;
* ``v`` of a Douglas–Rachford map: weak duality with support functions written here from
  the sets' descriptions (and each projection by its variational inequality);
* both: the oracle inequality ``<x - T x, v> >= ||v||^2`` (theory.infeasibility) on many
  residuals, Halpern's and KM's bounds with the case's ``distance`` on a plain loop,
  ``itersolve.infimal_displacement`` and ``itersolve.feasibility``.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itersolve.theory import infeasibility as theory

import itersolve
from itersolve import Status
from itersolve.testing import _maps, problems
from itersolve.testing.problems import InconsistentCase, inconsistent_map

REAL = ("float32", "float64")
COMPLEX = ("complex64", "complex128")
SET_TYPES = ("box", "ball", "halfspace", "affine")


def _eps(dtype) -> float:
    return float(np.finfo(np.dtype(dtype)).eps)


def _real(z):
    """C^n as R^2n: a unitary map is orthogonal there and Re<a, b> is the dot product."""
    z = np.asarray(z)
    return np.concatenate([z.real, z.imag], axis=-1) if np.iscomplexobj(z) else z


def _points(rng, count, n, dtype, scale):
    points = scale * rng.standard_normal((count, n))
    if np.dtype(dtype).kind == "c":
        points = points + 1j * scale * rng.standard_normal((count, n))
    return points.astype(dtype)


def _rebuilt(case):
    """The case its repr describes: ``itersolve.testing.problems.<function>(...)``."""
    function = repr(case).partition("(")[0]
    return eval(repr(case), {function: getattr(problems, function)})


def _check_case(case: InconsistentCase, n, dtype, seed):
    """What every case promises, checked on the case alone (no generator internals)."""
    T, v = case
    precision = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
    assert len(case) == 2 and case[1] is v
    assert case.x0.dtype == dtype and case.x0.shape == (n,)
    assert v.dtype == precision and case.x_star.dtype == precision
    assert T(case.x0).dtype == dtype and T(case.x0).shape == (n,)
    assert np.linalg.norm(v) >= 0.5  # planted at least 0.5 away from 0
    eps = _eps(dtype)
    scale = 1 + np.linalg.norm(case.x_star) + np.linalg.norm(v)
    # x* attains v
    residual = case.x_star - T(case.x_star.astype(dtype)).astype(precision)
    assert np.linalg.norm(residual - v) <= 20 * eps * scale
    assert case.distance == pytest.approx(np.linalg.norm(case.x0 - case.x_star), rel=1e-12)
    # nonexpansive on random pairs, far and near, up to the output's rounding
    rng = np.random.default_rng(seed)
    X = _points(rng, 40, n, dtype, 3.0)
    Y = X + _points(rng, 40, n, dtype, 1.0) * np.geomspace(1e-3, 1, 40)[:, None]
    TX, TY = T(X).astype(precision), T(Y).astype(precision)
    moved = np.linalg.norm(TX - TY, axis=1)
    apart = np.linalg.norm(X.astype(precision) - Y, axis=1)
    sizes = [np.linalg.norm(Z.astype(precision), axis=1) for Z in (X, Y, TX, TY)]
    rounding = 8 * eps * (sum(sizes) + scale)  # T's intermediates are as large as these
    assert np.all(moved <= apart * (1 + 10 * eps) + rounding)
    # the oracle inequality <x - T x, v> >= ||v||^2 on many residuals (x*'s included)
    residuals = _real(np.concatenate([X.astype(precision) - TX, Y - TY, residual[None]]))
    slack = 20 * eps * scale * np.linalg.norm(v) * (1 + np.abs(residuals).max())
    assert theory.oracle_gap(residuals, _real(v)) >= -slack
    # the recipe rebuilds the same case
    again = _rebuilt(case)
    assert repr(again) == repr(case)
    for name in ("v", "x0", "x_star"):
        np.testing.assert_array_equal(getattr(again, name), getattr(case, name))
    np.testing.assert_array_equal(again.T(X), T(X))


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
    kind_and_dtype=st.one_of(
        st.tuples(st.just("rotation"), st.sampled_from(REAL + COMPLEX)),
        st.tuples(st.just("douglas_rachford"), st.sampled_from(REAL)),
    ),
    sets=st.one_of(
        st.none(), st.sampled_from(SET_TYPES), st.tuples(*[st.sampled_from(SET_TYPES)] * 2)
    ),
)
def test_drawn_cases_keep_their_promises(n, seed, kind_and_dtype, sets):
    kind, dtype = kind_and_dtype
    sets = sets if kind == "douglas_rachford" else None
    case = inconsistent_map(n=n, kind=kind, seed=seed, dtype=dtype, sets=sets)
    _check_case(case, n, dtype, seed)
    if kind == "douglas_rachford":
        a, b = case.nearest_points
        np.testing.assert_allclose(a - b, case.v, rtol=1e-14)
        # a pair of mutual projections is a nearest pair of two convex sets
        np.testing.assert_allclose(case.project_a(b), a, atol=1e-12)
        np.testing.assert_allclose(case.project_b(a), b, atol=1e-12)
        # why P_A P_B is no inconsistent map: a* is its fixed point
        np.testing.assert_allclose(case.project_a(case.project_b(a)), a, atol=1e-12)
        if sets is not None:
            expected = (sets, sets) if isinstance(sets, str) else sets
            assert tuple(s["type"] for s in case.sets) == expected


# ------------------------------------------------------------- rotation: dense oracle


def _range_projection(M, rhs):
    """``rhs`` projected onto ``ran M``, singular values below 1e-9 taken as 0 (those of
    ``I - L`` are 0 or at least ``2 sin(angle / 2) >= 1e-6``)."""
    U, s, _ = np.linalg.svd(M)
    basis = U[:, s > 1e-9]
    return basis @ (basis.conj().T @ rhs)


def _dense_displacement(T, n, precision):
    """``T x = L x + T(0)``: read ``L`` column by column; ``v`` is the residual ``-T(0)``
    minus its least-squares projection onto ``ran(I - L)``."""
    zero = np.zeros(n, dtype=precision)
    offset = T(zero).astype(precision)
    L = np.stack([T(e).astype(precision) - offset for e in np.eye(n, dtype=precision)], axis=1)
    I_minus_L = np.eye(n) - L
    r0 = -offset
    return r0 - _range_projection(I_minus_L, r0), I_minus_L


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 10, 31])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rotation_displacement_and_distance_against_a_dense_solve(n, seed, dtype):
    case = inconsistent_map(n=n, seed=seed, dtype=dtype)
    v, I_minus_L = _dense_displacement(case.T, n, case.v.dtype)
    np.testing.assert_allclose(case.v, v, atol=1e-9 * np.linalg.norm(v))
    # x* attains v (checked on T in _check_case), so the points attaining v are
    # x* + null(I - L); x* is the nearest to x0 iff x0 - x* is orthogonal to that null space
    # (read off an SVD: dividing by the small singular values would amplify rounding)
    _, singular, Vh = np.linalg.svd(I_minus_L)
    null = Vh[singular <= 1e-9]
    assert np.linalg.norm(null @ (case.x0 - case.x_star)) <= 1e-9
    assert case.distance == pytest.approx(np.linalg.norm(case.x0 - case.x_star), rel=1e-12)
    np.testing.assert_allclose(case.x_star - case.T(case.x_star), case.v, atol=1e-12)
    # the layout: (n - 1) // 2 rotations, their angles log-spaced up to pi
    assert case.angles.size == (n - 1) // 2
    if case.angles.size > 1:
        assert case.angles[-1] == pytest.approx(np.pi) and 1e-6 <= case.angles[0] <= 1e-4


# ------------------------------------- Douglas–Rachford: a duality certificate of the gap


def _contains(description, x, tol=1e-12) -> bool:
    """Membership, from the set's description alone."""
    kind = description["type"]
    if kind == "box":
        return bool(
            np.all(description["low"] - tol <= x) and np.all(x <= description["high"] + tol)
        )
    if kind == "ball":
        return bool(np.linalg.norm(x - description["centre"]) <= description["radius"] + tol)
    if kind == "halfspace":
        return bool(description["normal"] @ x <= description["offset"] + tol)
    point, basis = description["point"], description["basis"]
    offset = x - point
    return bool(np.linalg.norm(offset - basis @ (basis.T @ offset)) <= tol)


def _support(description, d) -> float:
    """``sup_{y in C} <d, y>`` in closed form (inf where unbounded, to rounding)."""
    kind = description["type"]
    if kind == "box":
        return float(np.sum(np.maximum(d * description["low"], d * description["high"])))
    if kind == "ball":
        return float(d @ description["centre"] + description["radius"] * np.linalg.norm(d))
    size = np.linalg.norm(d)
    if kind == "halfspace":
        normal = description["normal"]  # bounded only along +normal
        along = d @ normal
        bounded = along >= 0 and np.linalg.norm(d - along * normal) <= 1e-12 * (1 + size)
        return along * description["offset"] if bounded else np.inf
    basis = description["basis"]  # bounded only orthogonally to the subspace
    bounded = np.linalg.norm(basis.T @ d) <= 1e-12 * (1 + size)
    return float(d @ description["point"]) if bounded else np.inf


@pytest.mark.parametrize("sets", [None, *SET_TYPES, ("box", "ball"), ("affine", "halfspace")])
@pytest.mark.parametrize("n", [1, 2, 5, 9])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_douglas_rachford_gap_and_projections_are_certified_by_duality(sets, n, seed):
    """``dist(A, B) >= inf_A <w, a> - sup_B <w, b>`` for every unit ``w`` (weak duality,
    support functions from the descriptions); with ``w = v / ||v||`` the bound is ``||v||``
    and the members ``a*``, ``b*`` at distance ``||v||`` close the gap: ``v`` is the least
    element of ``A - B``. A projection ``p = P(x)`` is certified by ``p in C`` and
    ``<x - p, p> >= sup_C <x - p, y>``."""
    case = inconsistent_map(n=n, kind="douglas_rachford", seed=seed, sets=sets)
    A, B = case.sets
    a_star, b_star = case.nearest_points
    v = case.v
    assert _contains(A, a_star) and _contains(B, b_star)
    w = v / np.linalg.norm(v)
    separation = -_support(A, -w) - _support(B, w)
    assert separation == pytest.approx(np.linalg.norm(v), rel=1e-12)
    np.testing.assert_allclose(a_star - b_star, v, rtol=1e-14)
    rng = np.random.default_rng(seed)
    for project, description in ((case.project_a, A), (case.project_b, B)):
        for x in 3 * rng.standard_normal((5, n)):
            p = project(x)
            assert _contains(description, p, tol=1e-10)
            d = x - p
            assert d @ p >= _support(description, d) - 1e-10 * (1 + np.abs(p).max())


# ------------------------------------------------------- the rates with the case's D


@pytest.mark.parametrize(
    "kind, n, dtype",
    [("rotation", 9, "float64"), ("rotation", 6, "complex128"), ("douglas_rachford", 5, "float64")],
)
@pytest.mark.parametrize("seed", range(4))
def test_halpern_and_km_obey_their_displacement_bounds(kind, n, dtype, seed):
    """A plain Halpern and KM loop (written here): Theorem 8 and the KM bounds hold at every
    step with ``D = case.distance``, so ``v``, ``x_star`` and ``distance`` fit together."""
    case = inconsistent_map(n=n, kind=kind, seed=seed, dtype=dtype)
    T, v, x0, lam = case.T, case.v, case.x0, 0.5
    x, h = x0.copy(), x0.copy()
    best_km = np.inf
    for k in range(400):
        tx, th = T(x), T(h)
        halpern = np.sum(np.abs(h - th - v) ** 2)
        assert halpern <= theory.halpern_displacement_bound(k, case.distance) * (1 + 1e-9) + 1e-13
        best_km = min(best_km, np.sum(np.abs(x - tx - v) ** 2))
        assert best_km <= theory.km_residual_min_bound(k, lam, case.distance) * (1 + 1e-9) + 1e-13
        if k:
            error = np.linalg.norm((x0 - x) / (lam * k) - v)
            assert error <= theory.km_normalised_bound(k, lam, case.distance) * (1 + 1e-9) + 1e-13
        x = (1 - lam) * x + lam * tx
        h = x0 / (k + 2) + (k + 1) / (k + 2) * th
    assert halpern <= 1e-3 * np.sum(np.abs(v) ** 2)  # and Halpern's residual approaches v


# ----------------------------------------------------------------- itersolve recovers v


@pytest.mark.parametrize(
    "kind, dtype",
    [("rotation", "float64"), ("rotation", "complex128"), ("douglas_rachford", "float64")],
)
@pytest.mark.parametrize("seed", range(3))
def test_infimal_displacement_recovers_v(kind, dtype, seed):
    case = inconsistent_map(n=8, kind=kind, seed=seed, dtype=dtype)
    result = itersolve.infimal_displacement(case.T, case.x0, maxiter=20_000)
    # the stop is an agreement of two estimators, not an error bound: on slow rotations
    # (angles down to 1e-6) it stops up to ~600 rtol away (rotation, n = 8, seed 3: 5.7e-4
    # after 27 iterations), and a ball against an affine subspace converges like 1/k
    assert np.linalg.norm(result.x - case.v) <= 1e-3 * np.linalg.norm(case.v)


@pytest.mark.parametrize("sets", [None, "box", "affine", ("ball", "halfspace")])
@pytest.mark.parametrize("seed", range(3))
def test_feasibility_certifies_the_gap(sets, seed):
    case = inconsistent_map(n=6, kind="douglas_rachford", seed=seed, sets=sets)
    result = itersolve.feasibility(case.project_a, case.project_b, case.x0)
    assert result.status == Status.INFEASIBLE, result.message
    np.testing.assert_allclose(result.stats["gap"], case.v, atol=1e-6)


def test_float32_maps_compute_in_double_and_return_float32():
    case = inconsistent_map(n=5, seed=4, dtype="float32")
    assert case.T(case.x0).dtype == np.float32
    assert case.T(case.x0.astype(np.float64)).dtype == np.float64  # numpy's promotion
    exact = inconsistent_map(n=5, seed=4, dtype="float64")
    np.testing.assert_array_equal(exact.v, case.v)
    np.testing.assert_allclose(case.T(case.x0), exact.T(case.x0), rtol=_eps("float32"))


# --------------------------------------------------------------- reproducibility, input


def test_same_arguments_same_case_other_seed_other_case():
    assert _maps.inconsistent_map_kinds() == ("rotation", "douglas_rachford")
    for kind in ("rotation", "douglas_rachford"):
        first, second = (
            inconsistent_map(n=4, kind=kind, seed=5),
            inconsistent_map(n=4, kind=kind, seed=5),
        )
        np.testing.assert_array_equal(first.v, second.v)
        np.testing.assert_array_equal(first.T(first.x0), second.T(second.x0))
        assert not np.array_equal(first.v, inconsistent_map(n=4, kind=kind, seed=6).v)
    # the drawn set types do not shift the other draws
    drawn = inconsistent_map(n=3, kind="douglas_rachford", seed=9)
    named = inconsistent_map(
        n=3, kind="douglas_rachford", seed=9, sets=tuple(s["type"] for s in drawn.sets)
    )
    np.testing.assert_array_equal(drawn.v, named.v)
    np.testing.assert_array_equal(drawn.x0, named.x0)


@pytest.mark.parametrize(
    "arguments, error, match",
    [
        ({"n": 0}, ValueError, "n must be between 1 and 1000000"),
        ({"n": 2.5}, TypeError, "n must be an integer"),
        ({"n": True}, TypeError, "n must be an integer"),
        ({"n": 3, "kind": "projections"}, ValueError, "kind must be one of"),
        ({"n": 3, "seed": -1}, ValueError, "seed"),
        ({"n": 3, "dtype": "int32"}, ValueError, "dtype must be one of"),
        ({"n": 3, "dtype": "float128"}, ValueError, "dtype must be one of"),
        ({"n": 3, "kind": "douglas_rachford", "dtype": "complex128"}, ValueError, "real dtype"),
        ({"n": 3, "sets": "box"}, ValueError, "sets applies to kind='douglas_rachford'"),
        ({"n": 3, "kind": "douglas_rachford", "sets": "cube"}, ValueError, "sets must be"),
        ({"n": 3, "kind": "douglas_rachford", "sets": ("box",)}, ValueError, "sets must be"),
    ],
)
def test_bad_arguments_are_named(arguments, error, match):
    with pytest.raises(error, match=match):
        inconsistent_map(**arguments)


def test_maps_name_a_wrong_input():
    for kind in ("rotation", "douglas_rachford"):
        case = inconsistent_map(n=3, kind=kind)
        with pytest.raises(ValueError, match="x must have a last axis of length 3"):
            case.T(np.zeros(4))
        with pytest.raises(TypeError, match="x must hold real numbers"):
            case.T(np.zeros(3, dtype=complex))
    with pytest.raises(ValueError, match="x must have"):
        inconsistent_map(n=3, kind="douglas_rachford").project_a(np.float64(1.0))


def test_docstring_examples_run():
    outcome = doctest.testmod(_maps)
    assert outcome.attempted > 0 and outcome.failed == 0
