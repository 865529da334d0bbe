"""The contract every itersolve solver keeps (cases in solver_cases.py)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import itersolve
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


def _ends_by(case, nit):
    """Whether every solve of ``case.converging`` has ended by iteration ``nit``."""
    return case.last_iteration is not None and nit >= case.last_iteration


def test_residual_history_and_counts(case):
    result = case.converging(rtol=1e-10)
    assert result.residuals.dtype == np.float64 and result.residuals.ndim == 1
    measured = list(case.measured_at(result))
    assert result.residuals.size == len(measured)
    assert measured[0] == 0 and measured[-1] == result.nit
    if _ends_by(case, 1):  # one pass computes the answer: nothing is left to measure
        assert result.nit == case.last_iteration and result.nfev >= result.nit
        assert "Converged" in result.message
        return
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
    if _ends_by(case, maxiter):
        assert result.success and result.nit == case.last_iteration
        return
    assert result.nit == maxiter
    assert result.status == Status.MAXITER and not result.success
    assert "maxiter" in result.message
    measured = list(case.measured_at(result))
    assert result.residuals.size == len(measured) and measured[-1] == maxiter


def test_exact_start_returns_without_iterating(case):
    result = case.exact_start()
    assert result.nit == case.exact_start_nit and result.status == Status.CONVERGED
    assert result.residuals.tolist() == [0.0] * (case.exact_start_nit + 1)


def test_callback_sees_every_iteration(case):
    seen = []
    result = case.converging(rtol=1e-10, callback=seen.append)
    assert all(isinstance(r, SolveResult) for r in seen)
    assert [r.nit for r in seen] == list(range(result.nit + 1))
    assert all(r.status == Status.IN_PROGRESS for r in seen[:-1])
    assert seen[-1].status == Status.CONVERGED
    measured = case.measured_at(result)
    assert [seen[k].residuals[-1] for k in measured] == result.residuals.tolist()


def test_stop_iteration_ends_cleanly(case):
    stop_at = 0 if _ends_by(case, 2) else 2  # a stop after the last iteration changes nothing

    def stop(intermediate):
        if intermediate.nit == stop_at:
            raise StopIteration

    result = case.converging(rtol=1e-12, callback=stop)
    assert result.status == Status.CALLBACK and not result.success
    assert result.nit == stop_at
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
    maxiter = 0 if _ends_by(case, 1) else 1
    with pytest.raises(ConvergenceError) as info:
        case.converging(rtol=1e-12, maxiter=maxiter, throw=True)
    assert isinstance(info.value, RuntimeError)
    assert isinstance(info.value.result, SolveResult)
    assert info.value.result.status == Status.MAXITER
    assert info.value.result.nit == maxiter
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
        ({"throw": "yes"}, TypeError, "throw"),
        ({"throw": None}, TypeError, "throw"),
    ],
)
def test_bad_arguments_fail_before_any_work(case, kwargs, error, names):
    if names == "maxiter" and "rtol" in kwargs and not case.needs_maxiter_or_tolerance:
        assert case.converging(**kwargs).success  # zero tolerances are fine when it always ends
        return
    calls = []
    with pytest.raises(error, match=names) as info:
        case.converging(calls=calls, **kwargs)
    assert not calls, f"the user's function ran {len(calls)} times before the check"
    assert _raised_by_itersolve(info)


def _raised_by_itersolve(info) -> bool:
    """Whether itersolve raised the error (not Python on an unknown keyword, say)."""
    module = info.traceback[-1].frame.f_globals.get("__name__", "")
    return module == "itersolve" or module.startswith("itersolve.")


def test_calls_of_the_users_function_are_counted(case):
    """The counting that test_bad_arguments_fail_before_any_work relies on is wired in."""
    calls = []
    result = case.converging(calls=calls)
    assert len(calls) >= result.nit if case.user_function else not calls


def test_results_are_never_mutated(case):
    """Callback snapshots keep their values, and each solve returns its own stats."""
    kept = []

    def keep(intermediate):
        x, residuals = np.array(intermediate.x, copy=True), intermediate.residuals.copy()
        kept.append((intermediate, x, residuals, pickle.dumps(intermediate.stats)))

    first = case.converging(rtol=1e-10, callback=keep)
    for snapshot, x, residuals, stats in kept:
        assert np.array_equal(snapshot.x, x) and np.array_equal(snapshot.residuals, residuals)
        assert pickle.dumps(snapshot.stats) == stats and snapshot.stats is not first.stats
    before = pickle.dumps(first.stats)
    second = case.converging(rtol=1e-10, callback=keep)
    assert second.stats is not first.stats
    assert pickle.dumps(first.stats) == before


def test_result_is_frozen_and_converts_to_scipy(case):
    result = case.converging()
    with pytest.raises(AttributeError):
        result.nit = 0
    scipy_result = result.to_scipy()
    assert scipy_result.nit == result.nit and scipy_result.status == int(result.status)
    assert scipy_result.success == result.success
    assert np.array_equal(scipy_result.x, result.x)


# ---------------------------------------------------------------- find_roots
# find_roots runs one deflated Newton solve after another and returns a RootsResult, not
# a SolveResult, so the shared cases do not fit; its contract is checked here.


def _cubic(x):  # the planted roots 1, 2 and 3
    return (x - 1) * (x - 2) * (x - 3)


def _cubic_jacobian(x):
    return np.diag(3 * x**2 - 12 * x + 11)


def _stop_at(nit):
    def stop(intermediate):
        if intermediate.nit == nit:
            raise StopIteration

    return stop


def test_find_roots_finds_every_planted_root():
    found = itersolve.find_roots(_cubic, 0.0, jacobian=_cubic_jacobian)
    assert isinstance(found, itersolve.RootsResult)
    assert found.success and found.status == Status.CONVERGED
    expected = np.sort(np.roots([1.0, -6.0, 11.0, -6.0]).real)
    np.testing.assert_allclose(np.sort(found.roots.ravel()), expected, rtol=1e-10)
    assert all(isinstance(r, SolveResult) and r.success for r in found.results)
    # each attempt is a result of its own, built once
    assert len({id(attempt.stats) for attempt in found.attempts}) == len(found.attempts)
    with pytest.raises(AttributeError):
        found.nit = 0


def test_find_roots_callback_sees_every_iteration_of_every_solve():
    seen = []
    found = itersolve.find_roots(_cubic, 0.0, callback=seen.append)
    assert all(isinstance(r, SolveResult) for r in seen)
    assert any(r.status == Status.IN_PROGRESS for r in seen)
    assert len(seen) == sum(attempt.nit + 1 for attempt in found.attempts)
    assert [r.nit for r in seen].count(0) == len(found.attempts)


def test_find_roots_stop_iteration_ends_the_search():
    # two starting guesses: the stop must end the search, not only the current solve
    found = itersolve.find_roots(_cubic, [[0.0], [5.0]], callback=_stop_at(2))
    assert found.status == Status.CALLBACK and not found.success
    assert len(found.attempts) == 1 and found.attempts[0].nit == 2
    assert found.roots.shape == (0, 1)


def test_find_roots_throw_raises_with_the_result():
    with pytest.raises(ConvergenceError) as info:  # x^2 + 1 has no real root
        itersolve.find_roots(lambda x: x**2 + 1, 0.5, throw=True)
    assert isinstance(info.value.result, itersolve.RootsResult)
    assert not info.value.result.success and info.value.result.roots.shape == (0, 1)
    # throw=True changes nothing when a root is found, nor when the callback stops
    assert itersolve.find_roots(_cubic, 0.0, throw=True).success
    stopped = itersolve.find_roots(_cubic, 0.0, callback=_stop_at(0), throw=True)
    assert stopped.status == Status.CALLBACK


@pytest.mark.parametrize(
    "kwargs, error, names",
    [
        ({"rtol": -1.0}, ValueError, "rtol"),
        ({"atol": float("nan")}, ValueError, "atol"),
        ({"rtol": "tight"}, TypeError, "rtol"),
        ({"maxiter": 2.5}, TypeError, "maxiter"),
        ({"rtol": 0.0, "atol": 0.0, "maxiter": None}, ValueError, "maxiter"),
        ({"callback": 3}, TypeError, "callback"),
        ({"throw": "yes"}, TypeError, "throw"),
    ],
)
def test_find_roots_bad_arguments_fail_before_any_work(kwargs, error, names):
    calls = []

    def F(x):
        calls.append(None)
        return _cubic(x)

    with pytest.raises(error, match=names) as info:
        itersolve.find_roots(F, 0.0, **kwargs)
    assert not calls and _raised_by_itersolve(info)
