"""The contract every itersolve solver keeps (cases in solver_cases.py)."""

from __future__ import annotations

import numpy as np
import pytest

from itersolve import ConvergenceError, SolveResult, Status

from .solver_cases import CASES


@pytest.fixture(params=CASES, ids=repr)
def case(request):
    return request.param


def _rtol(dtype):
    return 1e-5 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-10


def test_converges_to_the_solution_in_every_dtype(case):
    for dtype in case.dtypes:
        result = case.converging(dtype, rtol=_rtol(dtype))
        assert isinstance(result, SolveResult)
        assert result.status == Status.CONVERGED and result.success, (dtype, result.message)
        assert result.x.dtype == np.dtype(dtype)
        if case.solution is not None:
            expected = case.solution(dtype)
            scale = np.linalg.norm(expected)
            assert np.linalg.norm(result.x - expected) <= 100 * _rtol(dtype) * scale


def test_residual_history_and_counts(case):
    result = case.converging(rtol=1e-10)
    assert result.residuals.dtype == np.float64 and result.residuals.ndim == 1
    assert result.residuals.size == result.nit + 1
    assert result.nit >= 2
    assert result.nfev >= result.nit
    if case.initial_residual:
        assert result.residuals[0] > 0
        assert result.residuals[-1] <= 1e-10 * result.residuals[0] * 100
    else:  # nothing is measured before the first step; nothing is left moving at the end
        assert result.residuals[0] == 0 and result.residuals[1] > 0
        assert result.residuals[-1] <= 1e-10 * result.residuals.max() * 100
    assert "Converged" in result.message


@pytest.mark.parametrize("maxiter", [0, 1, 3])
def test_maxiter_is_respected(case, maxiter):
    result = case.converging(rtol=1e-12, maxiter=maxiter)
    assert result.nit == maxiter
    assert result.status == Status.MAXITER and not result.success
    assert "maxiter" in result.message
    assert result.residuals.size == maxiter + 1


def test_exact_start_returns_without_iterating(case):
    result = case.exact_start()
    assert result.nit == 0 and result.status == Status.CONVERGED
    assert result.residuals.tolist() == [0.0]


def test_callback_sees_every_iteration(case):
    seen = []
    result = case.converging(rtol=1e-10, callback=seen.append)
    assert [r.nit for r in seen] == list(range(result.nit + 1))
    assert all(r.status == Status.IN_PROGRESS for r in seen[:-1])
    assert seen[-1].status == Status.CONVERGED
    assert [r.residuals[-1] for r in seen] == result.residuals.tolist()


def test_stop_iteration_ends_cleanly(case):
    def stop_at_two(intermediate):
        if intermediate.nit == 2:
            raise StopIteration

    result = case.converging(rtol=1e-12, callback=stop_at_two)
    assert result.status == Status.CALLBACK and not result.success
    assert result.nit == 2
    assert "StopIteration" in result.message


def test_nonfinite_values_end_with_a_status(case):
    if case.nonfinite is None:
        result = case.far_start(maxiter=5000)  # Zermelo halves a dominant strength per sweep
        assert result.success and np.allclose(result.x, 0.0, atol=1e-6), result
        return
    result = case.nonfinite(maxiter=200)
    assert result.status == Status.NONFINITE and not result.success
    assert not np.isfinite(result.residuals[-1])
    assert "NaN or Inf" in result.message


def test_throw_raises_with_the_result(case):
    with pytest.raises(ConvergenceError) as info:
        case.converging(rtol=1e-12, maxiter=1, throw=True)
    assert isinstance(info.value, RuntimeError)
    assert info.value.result.status == Status.MAXITER
    assert info.value.result.nit == 1
    # throw=True changes nothing when the solve converges
    assert case.converging(rtol=1e-8, throw=True).success


def test_callback_stop_is_not_an_error_even_with_throw(case):
    def stop(intermediate):
        raise StopIteration

    result = case.converging(callback=stop, throw=True)
    assert result.status == Status.CALLBACK and result.nit == 0


@pytest.mark.parametrize(
    "kwargs, error, names",
    [
        ({"rtol": -1.0}, ValueError, "rtol"),
        ({"atol": -1e-3}, ValueError, "atol"),
        ({"rtol": float("nan")}, ValueError, "rtol"),
        ({"rtol": "tight"}, TypeError, "rtol"),
        ({"maxiter": -1}, ValueError, "maxiter"),
        ({"maxiter": 2.5}, TypeError, "maxiter"),
        ({"rtol": 0.0, "atol": 0.0, "maxiter": None}, ValueError, "maxiter"),
        ({"callback": 3}, TypeError, "callback"),
    ],
)
def test_bad_arguments_fail_before_any_work(case, kwargs, error, names):
    if names == "maxiter" and "rtol" in kwargs and not case.needs_maxiter_or_tolerance:
        assert case.converging(**kwargs).success  # zero tolerances are fine when it always ends
        return
    with pytest.raises(error, match=names):
        case.converging(**kwargs)


def test_result_is_frozen_and_converts_to_scipy(case):
    result = case.converging()
    with pytest.raises(AttributeError):
        result.nit = 0
    scipy_result = result.to_scipy()
    assert scipy_result.nit == result.nit and scipy_result.status == int(result.status)
    assert scipy_result.success == result.success
    assert np.array_equal(scipy_result.x, result.x)
