"""solve_chain, sequential_chain, picard_ode: exactness, counts, warm starts, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import itersolve
from itersolve import Status, TrajectoryModel, picard_ode, sequential_chain, solve_chain
from itersolve._chain import forget_previous
from itersolve.testing import assert_converges, strategies
from itersolve.testing.problems import chain

from .chain_problems import lorenz, matvec, tanh_ode

EXACT = ["jacobi", "hybrid", "gauss-seidel"]
CHAIN_KINDS = ["contractive", "expansive", "linear", "ode"]


def _window_or_block(method, size):
    return {"window": size} if method in ("picard", "jacobi") else {"block": size}


# -- exactness and finite termination ------------------------------------------------------


@given(
    n_steps=st.integers(0, 48),
    d=st.integers(1, 4),
    seed=st.integers(0, 2**16),
    kind=st.sampled_from(CHAIN_KINDS),
    dtype=st.sampled_from(["float64", "float64", "float32", "complex128"]),
    size=st.one_of(st.none(), st.integers(1, 50)),
    method=st.sampled_from(EXACT),
)
def test_exact_methods_reproduce_the_sequential_loop_bitwise(
    n_steps, d, seed, kind, dtype, size, method
):
    step, x0, trajectory = chain(n_steps=n_steps, kind=kind, dim=d, seed=seed, dtype=dtype)
    options = {} if method == "gauss-seidel" else _window_or_block(method, size)
    result = solve_chain(step, x0, n_steps, method=method, **options)
    assert result.status == Status.CONVERGED
    assert np.array_equal(result.x, sequential_chain(step, x0, n_steps))
    assert np.array_equal(result.x, trajectory)  # the generator's own loop
    assert result.nit <= n_steps
    assert result.stats["converged_steps"] == n_steps


@given(
    n_steps=st.integers(1, 48),
    seed=st.integers(0, 2**16),
    kind=st.sampled_from(CHAIN_KINDS),
    window=st.one_of(st.none(), st.integers(1, 50)),
)
def test_picard_finishes_within_n_steps_sweeps_whatever_the_map(n_steps, seed, kind, window):
    case = chain(n_steps=n_steps, kind=kind, dim=3, seed=seed)
    step, x0 = case.step, case.x0
    result = solve_chain(step, x0, n_steps, window=window, rtol=1e-13)
    assert result.status == Status.CONVERGED and result.nit <= n_steps
    reference = sequential_chain(step, x0, n_steps)
    # each accepted state has a defect of order rtol; an expansive chain amplifies it by
    # at most the product of the steps' Lipschitz constants
    growth = np.prod(np.maximum(1.0, case.lipschitz))
    assert np.max(np.abs(result.x - reference)) <= 1e-11 * growth


def test_jacobi_needs_all_n_steps_sweeps_on_a_translation():
    # x_{t+1} = x_t + 1 from x_t = 0 everywhere: the last state is n - k after k sweeps
    n = 12
    step = lambda t, X: X + 1.0  # noqa: E731
    for k in range(n):
        partial = solve_chain(step, np.zeros(1), n, method="jacobi", maxiter=k)
        assert partial.status == Status.MAXITER
        assert partial.x[-1, 0] == k
        assert np.array_equal(partial.x[: k + 1, 0], np.arange(k + 1.0))
    result = solve_chain(step, np.zeros(1), n, method="jacobi")
    assert result.nit == n and np.array_equal(result.x[:, 0], np.arange(n + 1.0))


def test_jacobi_error_on_a_linear_chain_is_the_shifted_power():
    rng = np.random.default_rng(3)
    A = 0.5 * rng.standard_normal((3, 3))
    b = rng.standard_normal(3)
    step = lambda t, X: matvec(A, X) + b  # noqa: E731
    n, x0 = 10, rng.standard_normal(3)
    exact = sequential_chain(step, x0, n)
    snapshots = []
    solve_chain(step, x0, n, method="jacobi", callback=lambda r: snapshots.append(r.x))
    e0 = snapshots[0] - exact  # starting trajectory: x0 everywhere
    for k, X in enumerate(snapshots[: n + 1]):
        for j in range(n + 1):
            expected = np.zeros(3) if j <= k else np.linalg.matrix_power(A, k) @ e0[j - k]
            np.testing.assert_allclose(X[j] - exact[j], expected, atol=1e-12)


def test_hybrid_sweeps_are_bounded_by_the_number_of_blocks():
    step = chain(n_steps=100, kind="expansive", dim=2, seed=5).step
    for block in (1, 7, 10, 33, 100, 250):
        result = solve_chain(step, np.ones(2), 100, method="hybrid", block=block)
        assert result.nit <= math.ceil(100 / block)
        assert result.stats["calls"] <= result.nit * block
    assert solve_chain(step, np.ones(2), 100, method="gauss-seidel").nit == 1


def test_default_hybrid_block_is_the_square_root_of_the_horizon():
    step = chain(n_steps=100, kind="expansive", dim=2, seed=5).step
    result = solve_chain(step, np.ones(2), 100, method="hybrid")
    assert result.stats["calls"] <= 10 * result.nit and result.nit <= 10


def test_zero_steps_return_the_start():
    result = solve_chain(lambda t, X: X, np.arange(3.0), 0)
    assert result.success and result.nit == 0 and result.nfev == 0
    assert result.x.shape == (1, 3) and np.array_equal(result.x[0], np.arange(3.0))


def test_states_of_any_shape_and_dtype():
    step = lambda t, X: 0.5 * X + 1  # noqa: E731
    for dtype in (np.float32, np.float64, np.complex128):
        x0 = np.ones((2, 3), dtype)
        result = solve_chain(step, x0, 20)
        assert result.success and result.x.dtype == dtype and result.x.shape == (21, 2, 3)
        reference = sequential_chain(step, x0, 20)
        rtol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(result.x, reference, rtol=rtol)
    integer = solve_chain(step, np.ones(2, dtype=np.int64), 5, method="jacobi")
    assert integer.x.dtype == np.float64


# -- Picard: windows, tolerances, work and latency ----------------------------------------


def test_picard_window_trace_and_counts():
    n = 256
    step, x0, trajectory = chain(n_steps=n, kind="ode", dim=8, h=1 / 64)
    result = solve_chain(step, x0, n, window=32, rtol=1e-10)
    trace = result.stats["window_trace"]
    assert trace.shape == (result.nit, 3)
    begin, end, advanced = trace.T
    assert np.all(advanced >= 1) and np.all(end - begin <= 32)
    assert np.array_equal(begin[1:], begin[:-1] + advanced[:-1])
    assert begin[-1] + advanced[-1] == n
    assert result.nfev == int(np.sum(end - begin)) and result.stats["calls"] == result.nit
    final = result.stats["final_sweep"]
    assert final[0] == 0 and np.all(np.diff(final) >= 0) and final[-1] == result.nit
    assert result.stats["max_update"].shape == (result.nit,)
    np.testing.assert_allclose(result.x, trajectory, atol=1e-8)


def test_larger_windows_take_fewer_sweeps_and_more_work():
    step = chain(n_steps=256, kind="ode", dim=8, lipschitz=2.0, h=1 / 64).step
    runs = [solve_chain(step, np.ones(8), 256, window=w, rtol=1e-8) for w in (8, 32, 256)]
    assert [r.nit for r in runs] == sorted((r.nit for r in runs), reverse=True)
    assert runs[0].nfev < runs[-1].nfev
    assert all(r.success for r in runs)


def test_picard_is_far_faster_than_jacobi_on_an_ode():
    step = chain(n_steps=64, kind="ode", dim=8, h=1 / 64).step
    picard = solve_chain(step, np.ones(8), 64, rtol=1e-12)
    jacobi = solve_chain(step, np.ones(8), 64, method="jacobi")
    assert picard.nit <= 20 and jacobi.nit >= 60


def test_atol_with_tol_scale_is_paradigms_noise_ratio():
    step = chain(n_steps=128, kind="ode", dim=8, h=1 / 64).step
    loose = solve_chain(step, np.ones(8), 128, rtol=0.0, atol=1e-3)
    scaled = solve_chain(step, np.ones(8), 128, rtol=0.0, atol=1e-3, tol_scale=np.full(129, 1e-6))
    assert loose.nit < scaled.nit
    assert loose.success and scaled.success


# -- the ODE front-end ---------------------------------------------------------------------


def _rk_loop(f, y0, t, scheme):
    Y = [np.asarray(y0, float)]
    for n in range(len(t) - 1):
        h, y, tn = t[n + 1] - t[n], Y[-1][None], t[n : n + 1]
        k1 = f(tn, y)
        if scheme == "euler":
            y = y + h * k1
        elif scheme == "heun":
            y = y + h / 2 * (k1 + f(tn + h, y + h * k1))
        else:
            k2 = f(tn + h / 2, y + h / 2 * k1)
            k3 = f(tn + h / 2, y + h / 2 * k2)
            k4 = f(tn + h, y + h * k3)
            y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        Y.append(y[0])
    return np.stack(Y)


@pytest.mark.parametrize("scheme", ["euler", "heun", "rk4"])
def test_picard_ode_equals_the_scheme_run_sequentially(scheme):
    f, _ = tanh_ode()
    t = np.sort(np.random.default_rng(1).uniform(0, 2, 60))  # a non-uniform grid
    y0 = np.linspace(-1, 1, 8)
    sequential = picard_ode(f, y0, t, scheme=scheme, method="gauss-seidel")
    assert sequential.nit == 1 and sequential.nfev == 59
    assert sequential.stats["f_evals"] == 59 * {"euler": 1, "heun": 2, "rk4": 4}[scheme]
    np.testing.assert_allclose(sequential.x, _rk_loop(f, y0, t, scheme), rtol=1e-13, atol=1e-14)
    jacobi = picard_ode(f, y0, t, scheme=scheme, method="jacobi")
    assert np.array_equal(jacobi.x, sequential.x)
    picard = picard_ode(f, y0, t, scheme=scheme, rtol=1e-12)
    assert picard.success and picard.nit < 20
    np.testing.assert_allclose(picard.x, sequential.x, atol=1e-10)


def test_picard_ode_backwards_in_time_and_against_the_exact_solution():
    t = np.linspace(1.0, 0.0, 201)
    result = picard_ode(lambda t, y: -y, np.ones(1), t, scheme="rk4")
    assert result.success
    np.testing.assert_allclose(result.x[:, 0], np.exp(1.0 - t), rtol=1e-9)


def test_lorenz_with_a_window_matches_the_sequential_loop():
    t = np.arange(1025) * 1e-3
    f = lorenz()
    result = picard_ode(f, np.ones(3), t, window=128, rtol=1e-10)
    reference = picard_ode(f, np.ones(3), t, method="gauss-seidel")
    assert result.success and result.nit < 1024 / 4
    np.testing.assert_allclose(result.x, reference.x, atol=1e-7)


def test_states_ahead_that_overflow_are_restarted_not_fatal():
    # Picard over the whole Lorenz horizon extrapolates far states into overflow
    t = np.arange(2049) * 1e-3
    f = lorenz()
    with np.errstate(all="ignore"):
        result = picard_ode(f, np.ones(3), t, rtol=1e-10)
    assert result.success and result.stats["reset_states"] > 0
    assert np.all(np.isfinite(result.x))
    reference = picard_ode(f, np.ones(3), t, method="gauss-seidel")
    np.testing.assert_allclose(result.x, reference.x, atol=1e-7)


# -- statuses ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["picard", "jacobi", "hybrid", "gauss-seidel"])
def test_a_chain_that_blows_up_ends_with_nonfinite(method):
    step = lambda t, X: X * X + 1.0  # noqa: E731  overflows after ~10 steps
    with np.errstate(all="ignore"):
        result = solve_chain(step, np.ones(1), 30, method=method)
    assert result.status == Status.NONFINITE and not result.success
    assert "NaN or Inf" in result.message and math.isnan(result.residuals[-1])
    # 1, 2, 5, 26, ..., 1.4e181, inf: state 11 overflows; every state before it is right
    assert "state 11 is NaN or Inf" in result.message
    with np.errstate(all="ignore"):
        reference = sequential_chain(step, np.ones(1), 30)
    assert result.stats["converged_steps"] <= 11
    np.testing.assert_allclose(result.x[:11], reference[:11], rtol=1e-12)


def test_maxiter_callback_and_throw():
    step = chain(n_steps=40, kind="linear", dim=2, seed=1).step
    seen = []
    result = solve_chain(step, np.ones(2), 40, method="jacobi", callback=seen.append)
    assert [r.nit for r in seen] == list(range(result.nit + 1))
    assert seen[-1].status == Status.CONVERGED
    assert np.array_equal(seen[-1].x, result.x) and seen[0].x is not seen[1].x
    assert np.all(seen[0].x == 1.0)  # the snapshot kept the starting trajectory
    stopped = solve_chain(step, np.ones(2), 40, method="jacobi", callback=_stop_at(2))
    assert stopped.status == Status.CALLBACK and stopped.nit == 2
    with pytest.raises(itersolve.ConvergenceError) as info:
        solve_chain(step, np.ones(2), 40, method="jacobi", maxiter=3, throw=True)
    assert info.value.result.status == Status.MAXITER and info.value.result.nit == 3


def _stop_at(k):
    def callback(intermediate):
        if intermediate.nit == k:
            raise StopIteration

    return callback


# -- warm starts and predictors -------------------------------------------------------------


def _drifting_family(p):
    """Euler steps of y' = tanh(A y) + forcing + (p - 1) sin t: p drifts between solves."""
    f = chain(n_steps=256, kind="ode", dim=8, lipschitz=1.5, h=1 / 64).rhs
    return lambda t, X: X + (1 / 64) * (f(t / 64, X) + (p - 1) * np.sin(t / 64)[:, None])


def test_warm_start_from_the_previous_solve_saves_sweeps_not_accuracy():
    forget_previous()
    x0 = np.ones(8)
    with pytest.raises(ValueError, match="previous"):
        solve_chain(_drifting_family(1.0), x0, 256, init="previous")
    first = solve_chain(_drifting_family(1.0), x0, 256, rtol=1e-10)
    for p in (1.01, 1.02):
        step = _drifting_family(p)
        cold = solve_chain(step, x0, 256, rtol=1e-10)
        warm = solve_chain(step, x0, 256, rtol=1e-10, init="previous")
        reference = sequential_chain(step, x0, 256)
        assert warm.nit < cold.nit
        for result in (cold, warm):
            np.testing.assert_allclose(result.x, reference, atol=1e-9)
    from_result = solve_chain(_drifting_family(1.0), x0, 256, rtol=1e-10, init=first)
    assert from_result.nit <= 2
    with pytest.raises(ValueError, match="shape"):
        solve_chain(_drifting_family(1.0), x0, 100, init="previous")


def test_learned_trajectory_model_saves_sweeps_and_keeps_the_answer():
    x0 = np.ones(8)
    train = [0.8, 0.9, 1.1, 1.2]
    runs = [sequential_chain(_drifting_family(p), x0, 256) for p in train]
    model = TrajectoryModel.fit(train, runs, degree=2)
    step = _drifting_family(1.05)
    cold = solve_chain(step, x0, 256, rtol=1e-10)
    learned = solve_chain(step, x0, 256, rtol=1e-10, predictor=model.predictor(1.05))
    assert learned.stats["predictor_calls"] == 1
    # Picard still needs its few sweeps from a guess outside the tolerance, but the
    # states settle sooner: fewer sweeps, half the work
    assert learned.nit <= cold.nit - 3 and learned.nfev < 0.6 * cold.nfev
    np.testing.assert_allclose(learned.x, sequential_chain(step, x0, 256), atol=1e-9)


def test_a_useless_predictor_cannot_change_the_answer():
    step, x0, trajectory = chain(n_steps=30, kind="contractive", dim=3, seed=2)
    noise = np.random.default_rng(0)
    predictor = lambda t, X: X + noise.standard_normal(X.shape)  # noqa: E731
    for method in ("jacobi", "hybrid"):
        result = solve_chain(step, x0, 30, method=method, predictor=predictor, predictor_sweeps=3)
        assert result.success and result.nit <= 30 + 3
        assert np.array_equal(result.x, sequential_chain(step, x0, 30))
        assert np.array_equal(result.x, trajectory)
        assert result.stats["predictor_calls"] == 3


# -- bad input -------------------------------------------------------------------------------


def _good(**overrides):
    arguments = {"step": lambda t, X: X, "x0": np.ones(2), "n_steps": 4, **overrides}
    return solve_chain(
        arguments.pop("step"), arguments.pop("x0"), arguments.pop("n_steps"), **arguments
    )


@pytest.mark.parametrize(
    "overrides, error, match",
    [
        ({"step": 3}, TypeError, "step"),
        ({"n_steps": -1}, ValueError, "n_steps"),
        ({"n_steps": 2.5}, TypeError, "n_steps"),
        ({"x0": np.array([1.0, np.nan])}, ValueError, "x0"),
        ({"x0": np.array(["a"])}, TypeError, "x0"),
        ({"method": "newton"}, ValueError, "method"),
        ({"window": 0}, ValueError, "window"),
        ({"window": 2, "method": "hybrid"}, ValueError, "window"),
        ({"block": 0, "method": "hybrid"}, ValueError, "block"),
        ({"block": 2}, ValueError, "block"),
        ({"rtol": -1.0}, ValueError, "rtol"),
        ({"atol": float("inf")}, ValueError, "atol"),
        ({"maxiter": -1}, ValueError, "maxiter"),
        ({"tol_scale": np.ones(3)}, ValueError, "tol_scale"),
        ({"tol_scale": -np.ones(5)}, ValueError, "tol_scale"),
        ({"init": np.ones((4, 2))}, ValueError, "init"),
        ({"init": np.full((5, 2), np.inf)}, ValueError, "init"),
        ({"init": "last"}, ValueError, "init"),
        ({"init": np.ones((5, 2), complex)}, TypeError, "init"),
        ({"predictor": 1}, TypeError, "predictor"),
        ({"predictor_sweeps": 2}, ValueError, "predictor"),
        ({"callback": 1}, TypeError, "callback"),
    ],
)
def test_bad_arguments_fail_before_any_work(overrides, error, match):
    calls = []
    overrides.setdefault("step", lambda t, X: calls.append(t) or X)
    with pytest.raises(error, match=match):
        _good(**overrides)
    assert not calls


@pytest.mark.parametrize(
    "step, error, match",
    [
        (lambda t, X: X[:, :1], ValueError, "shape"),
        (lambda t, X: np.concatenate([X, X]), ValueError, "shape"),
        (lambda t, X: X.astype(np.float32), TypeError, "dtype"),
        (lambda t, X: X.tolist(), TypeError, "array"),
    ],
)
def test_a_step_that_breaks_its_contract_is_named(step, error, match):
    for method in ("picard", "jacobi", "hybrid"):
        with pytest.raises(error, match=match):
            solve_chain(step, np.ones(2), 4, method=method)
    with pytest.raises(error, match=match):
        sequential_chain(step, np.ones(2), 4)


def test_a_bad_predictor_is_named():
    with pytest.raises(ValueError, match="predictor"):
        solve_chain(lambda t, X: X, np.ones(2), 4, predictor=lambda t, X: X[1:])
    nan = solve_chain(lambda t, X: X, np.ones(2), 4, predictor=lambda t, X: X * np.nan)
    assert nan.status == Status.NONFINITE


@pytest.mark.parametrize(
    "t, error, match",
    [
        (np.array([0.0, 1.0, 1.0]), ValueError, "strictly"),
        (np.array([0.0, 2.0, 1.0]), ValueError, "strictly"),
        (np.array([0.0, np.nan]), ValueError, "NaN"),
        (np.zeros((2, 2)), ValueError, "1-D"),
        (np.array([]), ValueError, "1-D"),
        (np.array(["a", "b"]), TypeError, "real"),
    ],
)
def test_an_inconsistent_time_grid_is_rejected(t, error, match):
    with pytest.raises(error, match=match):
        picard_ode(lambda t, y: y, np.ones(1), t)


def test_a_derivative_of_the_wrong_shape_names_f():
    with pytest.raises(ValueError, match="`f`"):
        picard_ode(lambda t, y: y[:, :1], np.ones(2), np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match="scheme"):
        picard_ode(lambda t, y: y, np.ones(2), np.linspace(0, 1, 5), scheme="rk45")


def test_single_time_point_is_a_chain_of_no_steps():
    result = picard_ode(lambda t, y: y, np.ones(2), [0.0])
    assert result.success and result.x.shape == (1, 2)


# ----- hardening (issue 12) ------------------------------------------------------------


@pytest.mark.parametrize("scale", [1e-300, 1e-170, 1e160, 1e300])
@pytest.mark.parametrize(
    ("method", "backend"),
    [
        ("picard", None),
        ("jacobi", None),
        ("hybrid", None),
        ("quasi-newton", None),
        ("picard", "array-api"),
        ("jacobi", "array-api"),
    ],
)
def test_states_at_extreme_scales_reach_the_sequential_trajectory(scale, method, backend):
    # The update norms underflowed at 1e-170 (every state "converged" after one sweep with
    # errors of 160 %) and Picard's rounding floor overflowed at 1e160 (1e-7 errors).
    def step(t, X):
        return 0.9 * X + 0.01 * scale * np.cos(X / scale)

    x0 = np.array([1.0, 2.0]) * scale
    reference = np.empty((31, 2))
    reference[0] = x0
    for t in range(30):  # the plain sequential loop, written out
        reference[t + 1] = step(np.array([t]), reference[t : t + 1])[0]
    extra = {"jacobian": lambda t, X: 0.9 - 0.01 * np.sin(X / scale)}
    result = solve_chain(
        step, x0, 30, method=method, backend=backend, **(extra if "newton" in method else {})
    )
    assert result.success, result.message
    tolerance = 0.0 if method in ("jacobi", "hybrid") else 1e-9
    np.testing.assert_allclose(result.x / scale, reference / scale, rtol=0, atol=tolerance)


def test_float16_states_take_the_generic_path():
    # float16 used to reach the Numba kernels and fail inside them (NotImplementedError)
    x0 = np.array([1.0, -2.0], dtype=np.float16)
    result = solve_chain(lambda t, X: X * np.float16(0.5) + np.float16(1), x0, 6, method="jacobi")
    assert result.success and result.x.dtype == np.float16
    expected = [x0]
    for _ in range(6):
        expected.append(expected[-1] * np.float16(0.5) + np.float16(1))
    np.testing.assert_array_equal(result.x, np.array(expected))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"tol_scale": np.ones(6) * 1j}, TypeError, "`tol_scale` is complex"),
        ({"tol_scale": np.full(6, "a")}, TypeError, "`tol_scale`"),
        ({"n_steps": 10**400}, ValueError, "`n_steps`"),
    ],
)
def test_hostile_chain_options_are_named(kwargs, error, match):
    n_steps = kwargs.pop("n_steps", 5)
    with pytest.raises(error, match=match):
        solve_chain(lambda t, X: X, np.ones(2), n_steps, **kwargs)


@pytest.mark.parametrize(
    ("fit", "parameter", "match"),
    [
        ({"trajectories": ["ab", "cd"]}, 1.5, "`trajectories"),
        ({"parameters": [1.0]}, 1.5, "`parameters`"),
        ({"degree": 10**6}, 1.5, "`degree`"),
        ({"trajectories": [np.ones(3), np.ones(3)]}, 1.5, "`predictor`"),
        ({}, "a", "`parameter`"),
        ({}, 1e308, "`parameter`"),
    ],
)
def test_trajectory_model_names_bad_input(fit, parameter, match):
    runs = [np.outer(np.arange(6.0), [a, a]) for a in (1.0, 2.0)]
    arguments = {"parameters": [1.0, 2.0], "trajectories": runs, **fit}
    degree = arguments.pop("degree", 1)
    with pytest.raises((ValueError, TypeError), match=match):
        model = TrajectoryModel.fit(
            arguments["parameters"], arguments["trajectories"], degree=degree
        )
        solve_chain(lambda t, X: X + 1, np.zeros(2), 5, predictor=model.predictor(parameter))


@pytest.mark.parametrize("kind", ["contractive", "expansive", "linear", "ode"])
@pytest.mark.parametrize(
    "method, options",
    [("newton", {"window": 16}), ("newton", {}), ("quasi-newton", {}), ("picard", {"window": 8})],
)
@settings(max_examples=10)
@given(data=st.data())
def test_iterative_methods_reach_the_drawn_trajectory(method, options, kind, data):
    """Newton (DEER), quasi-Newton and windowed Picard against the certified trajectory."""
    case = data.draw(strategies.chains(n_steps=(1, 40), kind=kind, dim=(1, 4)))
    step, x0, trajectory = case
    if method == "newton":
        options = {**options, "jacobian": case.jacobian}
    elif method == "quasi-newton":
        options = {"jacobian": lambda t, X: np.diagonal(case.jacobian(t, X), axis1=1, axis2=2)}
    n_steps = len(trajectory) - 1
    result = solve_chain(
        step, x0, n_steps, method=method, rtol=1e-13, maxiter=4 * n_steps + 8, **options
    )
    assert result.status == Status.CONVERGED, result.message
    # accepted states carry defects of order rtol, amplified along the chain by at most
    # the product of the steps' Lipschitz constants
    growth = np.prod(np.maximum(1.0, case.lipschitz))
    scale = max(1.0, np.max(np.abs(trajectory)))
    assert_converges(result.x, to=trajectory, rtol=0, atol=1e-10 * growth * scale * trajectory.size)
