"""Convergence of fixed_point against the theorems in itersolve.theory.fixed_point.

Each property draws a random problem with known constants and asserts an inequality that
is a theorem (with slack only for floating-point rounding), or compares the observed rate
with the predicted one.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st
from itersolve.theory import fixed_point as theory

import itersolve
from itersolve import Status
from itersolve.testing import assert_at_most, assert_converges, strategies

EPS = np.finfo(np.float64).eps
seeds = st.integers(0, 2**32 - 1)


def _iterates(T, x0, **kwargs):
    """Run fixed_point and return (result, array of iterates x_0 .. x_nit)."""
    seen = []
    result = itersolve.fixed_point(T, x0, callback=lambda r: seen.append(np.array(r.x)), **kwargs)
    return result, np.array(seen)


@given(case=strategies.contractions(n=(1, 30), rate=(0.05, 0.95)))
def test_plain_iteration_error_obeys_the_contraction_bound(case):
    T, x_star, q = case
    n, c = x_star.size, case.offset
    result, xs = _iterates(T, np.zeros(n), method="iterate", rtol=1e-14, maxiter=1000)
    errors = np.linalg.norm(xs - x_star, axis=1)
    bound = theory.contraction_error_bound(np.arange(len(xs)), q, errors[0])
    rounding = 20 * EPS * n * (np.linalg.norm(x_star) + np.linalg.norm(c)) / (1 - q)
    assert_at_most(errors, bound, rtol=1e-12, atol=rounding)
    assert result.success


@given(case=strategies.contractions(n=(1, 30), rate=(0.05, 0.95)), lam=st.floats(0.05, 1.0))
def test_mann_error_obeys_the_averaged_contraction_bound(case, lam):
    T, x_star, q = case
    n, c = x_star.size, case.offset
    _, xs = _iterates(T, np.zeros(n), method="mann", relaxation=lam, rtol=1e-14, maxiter=1000)
    errors = np.linalg.norm(xs - x_star, axis=1)
    bound = theory.contraction_error_bound(
        np.arange(len(xs)), theory.averaged_lipschitz(q, lam), errors[0]
    )
    rounding = 20 * EPS * n * (np.linalg.norm(x_star) + np.linalg.norm(c)) / (lam * (1 - q))
    assert_at_most(errors, bound, rtol=1e-12, atol=rounding)


# Nonexpansive maps with a known common fixed point z: isometries about z and projections
# onto convex sets that contain z, and their compositions.


def _rotation(rng, z):
    Q, _ = np.linalg.qr(rng.standard_normal((z.size, z.size)))
    return lambda x: z + Q @ (x - z)


def _box(rng, z):
    low, high = z - rng.uniform(0, 1, z.size), z + rng.uniform(0, 1, z.size)
    return lambda x: np.clip(x, low, high)


def _ball(rng, z):
    centre = z + rng.standard_normal(z.size)
    radius = np.linalg.norm(z - centre) * rng.uniform(1.0, 1.5)

    def project(x):
        offset = x - centre
        distance = np.linalg.norm(offset)
        return x if distance <= radius else centre + offset * (radius / distance)

    return project


def _halfspace(rng, z):
    normal = rng.standard_normal(z.size)
    level = normal @ z + rng.uniform(0, 1)
    return lambda x: x - max(0.0, normal @ x - level) / (normal @ normal) * normal


PIECES = {"rotation": _rotation, "box": _box, "ball": _ball, "halfspace": _halfspace}
compositions = st.lists(st.sampled_from(sorted(PIECES)), min_size=1, max_size=3)


def _nonexpansive(seed, n, pieces):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n)
    maps = [PIECES[name](rng, z) for name in pieces]

    def T(x):
        for piece in maps:
            x = piece(x)
        return x

    x0 = z + 5 * rng.standard_normal(n)
    return T, x0, np.linalg.norm(x0 - z)


@given(seed=seeds, n=st.integers(2, 20), pieces=compositions)
def test_halpern_residual_obeys_lieders_bound_at_every_k(seed, n, pieces):
    T, x0, distance = _nonexpansive(seed, n, pieces)
    result = itersolve.fixed_point(T, x0, method="halpern", rtol=0.0, atol=1e-12, maxiter=400)
    k = np.arange(result.residuals.size)
    bound = theory.halpern_residual_bound(k, distance)
    assert_at_most(result.residuals, bound, rtol=1e-10, atol=1e-12)


@given(seed=seeds, n=st.integers(2, 20), pieces=compositions, lam=st.floats(0.05, 0.95))
def test_mann_residual_obeys_the_km_bound_at_every_k(seed, n, pieces, lam):
    T, x0, distance = _nonexpansive(seed, n, pieces)
    result = itersolve.fixed_point(
        T, x0, method="mann", relaxation=lam, rtol=0.0, atol=1e-12, maxiter=400
    )
    k = np.arange(result.residuals.size)
    bound = theory.km_residual_bound(k, lam, distance)
    assert_at_most(result.residuals, bound, rtol=1e-10, atol=1e-12)


@given(seed=seeds, n=st.integers(2, 20), pieces=compositions, m=st.integers(1, 10))
def test_safeguarded_anderson_never_increases_the_residual_of_a_nonexpansive_map(
    seed, n, pieces, m
):
    """An accepted Anderson point has residual <= the current one (zeta = 1); a rejected one
    is replaced by the plain step, whose residual ||Tx - T(Tx)|| <= ||x - Tx|| for
    nonexpansive T. So the whole history is non-increasing."""
    T, x0, _ = _nonexpansive(seed, n, pieces)
    result = itersolve.fixed_point(T, x0, method="anderson", m=m, rtol=0.0, atol=1e-12, maxiter=200)
    r = result.residuals
    assert_at_most(r[1:], r[:-1], rtol=1e-9, atol=1e-13)


def test_without_the_safeguard_anderson_residuals_can_grow():
    """The safeguard is not idle: plain type-II Anderson is not monotone on these maps."""
    grew = 0
    for seed in range(20):
        T, x0, _ = _nonexpansive(seed, 8, ["rotation", "box"])
        r = itersolve.fixed_point(T, x0, method="anderson", safeguard=None, maxiter=200).residuals
        grew += bool(np.any(r[1:] > r[:-1] * 1.01))
    assert grew > 0


def test_plain_iteration_fails_on_a_rotation_where_the_bounds_still_hold():
    """The bounds above are not vacuous: without averaging a rotation never converges."""
    T, x0, _ = _nonexpansive(3, 6, ["rotation"])
    plain = itersolve.fixed_point(T, x0, method="iterate", maxiter=400)
    assert plain.status == itersolve.Status.MAXITER
    assert np.allclose(plain.residuals, plain.residuals[0], rtol=1e-9)
    for method in ("mann", "halpern"):
        assert (
            itersolve.fixed_point(T, x0, method=method, maxiter=400).residuals[-1]
            < 0.1 * plain.residuals[-1]
        )


@given(
    seed=seeds,
    n=st.integers(4, 40),
    rho=st.floats(0.5, 0.95),
    sign=st.sampled_from([-1.0, 1.0]),
    lam=st.floats(0.3, 1.0),
)
def test_observed_rate_matches_the_linear_theory(seed, n, rho, sign, lam):
    """On ``x -> M x + c`` (M symmetric) KM's observed rate is the spectral radius theory gives."""
    rng = np.random.default_rng(seed)
    # Choose the iteration matrix's spectrum with one well-separated dominant mode (so
    # the tail shows it), then map it back to the eigenvalues of M.
    contraction = rng.uniform(-0.7 * rho, 0.7 * rho, n)
    contraction[0] = sign * rho
    eigenvalues = (contraction - 1 + lam) / lam
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    M = (Q * eigenvalues) @ Q.T
    c = rng.standard_normal(n)
    method = {"method": "iterate"} if lam == 1.0 else {"method": "mann", "relaxation": lam}
    result = itersolve.fixed_point(
        lambda x: M @ x + c, np.zeros(n), rtol=1e-13, maxiter=5000, **method
    )
    predicted = theory.linear_rate(eigenvalues, lam)
    assert result.success
    assert result.rate == pytest.approx(predicted, rel=0.02)


def _gmres_residuals(M, c, x0, iterations):
    """Residual vectors ``c - (I - M) x_k`` of exact (Arnoldi) GMRES on ``(I - M) x = c``."""
    A = np.eye(M.shape[0]) - M
    r0 = c - A @ x0
    basis = [r0 / np.linalg.norm(r0)]
    residuals = [r0]
    for _ in range(iterations):
        w = A @ basis[-1]
        for v in basis:  # modified Gram–Schmidt, twice for stability
            w = w - (v @ w) * v
        for v in basis:
            w = w - (v @ w) * v
        K = np.array(basis).T
        y, *_ = np.linalg.lstsq(A @ K, r0, rcond=None)
        residuals.append(r0 - A @ K @ y)
        if np.linalg.norm(w) < 1e-14 * np.linalg.norm(r0):
            break
        basis.append(w / np.linalg.norm(w))
    return residuals


@given(seed=seeds, n=st.integers(2, 12))
def test_untruncated_anderson_on_a_linear_map_is_gmres(seed, n):
    """Walker & Ni (2011), Thm 2.2: x_{k+1}^AA = T(x_k^GMRES), so f(x_{k+1}^AA) = M r_k^GMRES.

    Hence AA without truncation terminates within n + 1 iterations.
    """
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    M *= 0.9 / np.linalg.norm(M, 2)
    c = rng.standard_normal(n)
    x0 = np.zeros(n)
    result = itersolve.fixed_point(
        lambda x: M @ x + c,
        x0,
        method="anderson",
        safeguard=None,
        m=n + 1,
        rtol=0.0,
        atol=1e-10 * np.linalg.norm(c),
        maxiter=n + 1,
    )
    assert result.success, result.message
    gmres = _gmres_residuals(M, c, x0, n)
    for k, r in enumerate(gmres):
        if np.linalg.norm(r) < 1e-6 * np.linalg.norm(c) or k + 1 >= result.residuals.size:
            break
        assert result.residuals[k + 1] == pytest.approx(np.linalg.norm(M @ r), rel=1e-6, abs=1e-12)


@given(seed=seeds, n=st.integers(2, 30), m=st.integers(1, 8), q=st.floats(0.5, 0.99))
def test_anderson_matches_scipy_anderson_iterate_by_iterate(seed, n, m, q):
    """scipy.optimize.anderson with alpha=1, w0=0, line_search=None is plain type-II AA."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n, n))
    W *= q / np.linalg.norm(W, 2)
    c = rng.standard_normal(n)

    def T(x):
        return np.tanh(W @ x) + c

    m = min(m, n - 1)  # scipy keeps m > n linearly dependent differences; we cap at n
    steps = 15
    result, ours = _iterates(
        T, np.zeros(n), method="anderson", m=m, safeguard=None, rtol=0.0, atol=1e-9, maxiter=steps
    )
    theirs = []
    # Near convergence scipy's Gram matrix turns singular; we compare only before that.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        try:
            scipy.optimize.anderson(
                lambda x: T(x) - x,
                np.zeros(n),
                alpha=1.0,
                w0=0.0,
                M=m,
                line_search=None,
                maxiter=steps,
                f_tol=1e-300,
                callback=lambda x, f: theirs.append(x.copy()),
            )
        except scipy.optimize.NoConvergence:
            pass
    # scipy resets its history on a singular least-squares system where we drop columns,
    # so compare while the iteration is well away from convergence.
    for k, (x_ours, x_theirs) in enumerate(zip(ours[1:], theirs), start=1):
        if result.residuals[k - 1] < 1e-6 * result.residuals[0]:
            break
        assert np.allclose(x_ours, x_theirs, rtol=1e-8, atol=1e-10 * np.linalg.norm(c))


# ------------------------------------------------- damped, regularised Anderson (issue 12)


def _reference_anderson(T, x0, *, m, beta, regularization, steps):
    """Damped, regularised type-II Anderson written from the formula (Walker & Ni 2011;
    SCS's Tikhonov term relative to ||dF||_F^2), dense and with no safeguard:

        f_k = T(x_k) - x_k,   dX, dF = the last min(m, k) differences of x and f,
        gamma = argmin ||f_k - dF gamma||^2 + regularization ||dF||_F^2 ||gamma||^2
              = (dF^T dF + regularization ||dF||_F^2 I)^{-1} dF^T f_k,
        x_{k+1} = x_k + beta f_k - (dX + beta dF) gamma.
    """
    xs, fs = [np.array(x0, dtype=float)], [T(x0) - x0]
    for k in range(steps):
        x, f = xs[-1], fs[-1]
        depth = min(m, k)
        step = beta * f
        if depth:
            dX = np.column_stack([xs[i + 1] - xs[i] for i in range(k - depth, k)])
            dF = np.column_stack([fs[i + 1] - fs[i] for i in range(k - depth, k)])
            shift = regularization * np.sum(dF**2)
            gamma = np.linalg.solve(dF.T @ dF + shift * np.eye(depth), dF.T @ f)
            step = step - (dX + beta * dF) @ gamma
        xs.append(x + step)
        fs.append(T(xs[-1]) - xs[-1])
    return np.array(xs)


@pytest.mark.parametrize("scale", [1.0, 1e3])
@pytest.mark.parametrize("beta, regularization", [(0.5, 1e-2), (0.7, 0.0), (1.0, 1e-1)])
def test_damped_regularised_anderson_matches_a_dense_reference(scale, beta, regularization):
    """Iterate by iterate, to rounding, for beta != 1 and a regularisation that changes the
    steps, on a map scaled by 1e3 (where a regularisation taken as absolute instead of
    relative to ||dF||^2 would be a million times too weak)."""
    rng = np.random.default_rng(11)
    n, m, steps = 12, 4, 12
    W = rng.standard_normal((n, n))
    W *= 0.9 / np.linalg.norm(W, 2)
    c = rng.standard_normal(n)

    def T(x):
        return scale * (np.tanh(W @ (x / scale)) + c)

    x0 = np.zeros(n)
    reference = _reference_anderson(
        T, x0, m=m, beta=beta, regularization=regularization, steps=steps
    )
    result, ours = _iterates(
        T,
        x0,
        method="anderson",
        m=m,
        damping=beta,
        regularization=regularization,
        safeguard=None,
        rtol=0.0,
        atol=0.0,
        maxiter=steps,
    )
    assert result.nit == steps and result.stats["dropped_differences"] == 0
    np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-12 * scale)
    # The settings are not idle: without damping or without regularisation the reference
    # takes other steps, by far more than the rounding allowed above.
    undamped = _reference_anderson(T, x0, m=m, beta=1.0, regularization=regularization, steps=steps)
    unregularised = _reference_anderson(T, x0, m=m, beta=beta, regularization=0.0, steps=steps)
    if beta != 1.0:
        assert np.max(np.abs(undamped - reference)) > 1e-4 * scale
    if regularization:
        assert np.max(np.abs(unregularised - reference)) > 1e-4 * scale


# --------------------------------------------- extreme scales, half precision, hangs


def _scaled_norm(v):
    """2-norm without over- or underflow (the test's own, rescaling by the largest entry)."""
    v = np.asarray(v, dtype=float).reshape(-1)
    largest = np.max(np.abs(v)) if v.size else 0.0
    return 0.0 if largest == 0 else largest * np.sqrt(np.sum((v / largest) ** 2))


METHOD_OPTIONS = [
    ("iterate", {}),
    ("mann", {}),
    ("halpern", {"restart": "adaptive"}),
    ("anderson", {}),
    ("anderson", {"damping": 0.5, "regularization": 1e-6}),
    ("anderson", {"safeguard": None}),
    ("aitken", {}),
]


@pytest.mark.parametrize("scale", [1e-300, 1e-170, 1e-160, 1.0, 1e153, 1e300])
@pytest.mark.parametrize("method, options", METHOD_OPTIONS)
def test_residual_norms_neither_underflow_nor_overflow(method, options, scale):
    """T(x) = x/2 + s c has x* = 2 s c at every scale s: a residual of 1e-170 is not 0 (it
    used to give success at x = 0) and one of 1e+153 is not Inf."""
    c = np.array([1.0, -2.0, 0.5])

    def T(x):
        return 0.5 * x + scale * c

    result = itersolve.fixed_point(T, np.zeros(3), method=method, maxiter=5000, **options)
    assert result.success, result.message
    x = result.x
    assert _scaled_norm(x - T(x)) <= 1e-8 * _scaled_norm(T(x))
    np.testing.assert_allclose(x / scale, 2 * c, rtol=1e-7)


@pytest.mark.parametrize("method, options", METHOD_OPTIONS)
def test_half_precision_runs_in_every_method(method, options):
    def T(x):
        return (np.float16(0.5) * x + np.float16(1.0)).astype(np.float16)

    result = itersolve.fixed_point(
        T, np.zeros(4, dtype=np.float16), method=method, rtol=1e-2, maxiter=2000, **options
    )
    assert result.success, result.message
    assert result.x.dtype == np.float16
    # the criterion, checked in double precision with the exact map (slack: float16's
    # rounding of T(x)), and the error bound of a 1/2-contraction, ||x - x*|| <= 2 ||x - Tx||
    x = result.x.astype(np.float64)
    Tx = 0.5 * x + 1.0
    residual = np.linalg.norm(x - Tx)
    assert residual <= 1e-2 * np.linalg.norm(Tx) + 4 * np.finfo(np.float16).eps * np.linalg.norm(x)
    assert np.linalg.norm(x - 2.0) <= 2 * residual * (1 + 1e-12)


def _rotation_plus_translation(x):
    """Nonexpansive without fixed point: a translation by 1 and a planar rotation."""
    c, s = np.cos(0.3), np.sin(0.3)
    return np.array([x[0] - 1.0, c * x[1] - s * x[2], s * x[1] + c * x[2]])


@pytest.mark.parametrize(
    "method, options",
    METHOD_OPTIONS
    + [
        ("anderson", {"safeguard": None, "damping": 0.5, "regularization": 1e-6}),
        ("halpern", {}),
        ("halpern", {"restart": 10}),
        ("mann", {"relaxation": 0.9}),
    ],
)
def test_a_map_without_fixed_point_stops_with_maxiter_none(method, options):
    """It used to run forever (and Anderson to 'converge' at x ~ 1e17, where x - 1 rounds to
    x, and damped, regularised Anderson at x ~ 1e8 where 1 <= 1e-8 ||T x||). Every method
    ends, unsuccessfully, with STAGNATED or NONFINITE."""
    result = itersolve.fixed_point(
        _rotation_plus_translation, np.ones(3), method=method, maxiter=None, **options
    )
    assert not result.success
    assert result.status in (itersolve.Status.STAGNATED, itersolve.Status.NONFINITE)
    assert 1024 <= result.nit <= 4096 or result.status == itersolve.Status.NONFINITE
    x = np.asarray(result.x)
    # the displacement of the translation is 1, whatever the iterate
    assert abs((x - _rotation_plus_translation(x))[0] - 1.0) < 1e-6 or not np.all(np.isfinite(x))


def test_slow_km_convergence_is_not_cut_by_the_stall_stop():
    """KM on 200 planar rotations with angles from 1e-4 to pi: nonexpansive, fixed point 0,
    a residual that falls only like k^(-1/2). With maxiter=None it must still converge."""
    pairs = 200
    angles = np.geomspace(1e-4, np.pi, pairs)
    cos, sin = np.cos(angles), np.sin(angles)

    def T(z):
        x, y = z[:pairs], z[pairs:]
        return np.concatenate([cos * x - sin * y, sin * x + cos * y])

    x0 = np.random.default_rng(0).standard_normal(2 * pairs) / np.sqrt(2 * pairs)
    result = itersolve.fixed_point(T, x0, method="mann", rtol=0.0, atol=4e-3, maxiter=None)
    assert result.success, result.message
    assert result.nit > 4096  # it went through several of the stall checks
    assert np.linalg.norm(result.x - T(result.x)) <= 4e-3
    # the residual of KM at 1/2 decays like k^(-1/2) or slower here: sublinear, not stalled
    residuals = result.residuals
    assert residuals[1024] > 0.1 * residuals[64] ** 1 * (64 / 1024) ** 0.5


def test_anderson_on_a_map_without_fixed_point_does_not_jump_to_a_false_fixed_point():
    for options in ({}, {"safeguard": None}):
        result = itersolve.fixed_point(
            _rotation_plus_translation, np.ones(3), method="anderson", maxiter=500, **options
        )
        assert not result.success
        x = result.x
        assert np.linalg.norm(x - _rotation_plus_translation(x)) >= 1.0 - 1e-9
        assert result.stats["memory_resets"] > 0


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
@pytest.mark.parametrize("method, options", METHOD_OPTIONS)
@settings(max_examples=15)
@given(data=st.data())
def test_every_method_reaches_the_fixed_point_of_every_drawn_contraction(
    method, options, dtype, data
):
    """The certificate x* of a drawn contraction, reached by every method in every dtype.

    fixed_point stops on the step ``||x_{k+1} - x_k|| <= rtol ||x_{k+1}||``, which for an
    L-contraction leaves an error of at most ``L / (1 - L)`` times that step; the iterate
    itself carries the dtype's rounding amplified by ``1 / (1 - L)``.
    """
    kinds = ("affine",) if dtype.startswith("complex") else ("affine", "nonlinear")
    case = data.draw(strategies.contractions(n=(1, 10), rate=(0.1, 0.9), kind=kinds, dtype=dtype))
    T, x_star, L = case
    rtol = 1e-5 if dtype == "float32" else 1e-10
    result = itersolve.fixed_point(
        T, np.zeros(x_star.size, dtype), method=method, rtol=rtol, maxiter=5000, **options
    )
    assert result.x.dtype == np.dtype(dtype)
    if method == "aitken" and not result.success:
        # componentwise Aitken, like scipy's del2, need not converge on a non-diagonal map
        # (both stall on contraction(n=3, rate=0.5, seed=0)): it must then say so
        assert result.status in (Status.MAXITER, Status.STAGNATED), result.message
        return
    rounding = 100 * np.finfo(dtype).eps * x_star.size
    assert_converges(result, to=x_star, rtol=(10 * rtol + rounding) / (1 - L), atol=rounding)
