"""assert_rate, assert_converges, assert_at_most: what passes, what fails, what the message shows.

Oracles: geometric histories ``C q^k`` whose rate is ``q`` by construction, scipy's and
itersolve's results as a user gets them, and bounds that hold or fail at a known index.
"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
import scipy.optimize
from hypothesis import given
from hypothesis import strategies as st

import itersolve
from itersolve.testing import assert_at_most, assert_converges, assert_rate, observed_rate


def geometric(q, n=60, start=1.0, floor=0.0):
    return np.maximum(start * q ** np.arange(n), floor)


@given(q=st.floats(0.01, 0.995), start=st.floats(1e-100, 1e100), n=st.integers(6, 400))
def test_a_geometric_history_has_its_rate(q, start, n):
    history = geometric(q, n, start)
    assert observed_rate(history) == pytest.approx(q, rel=1e-6)
    assert assert_rate(history, q, rtol=1e-6) == pytest.approx(q, rel=1e-6)


def test_rounding_floor_is_not_mistaken_for_stagnation():
    history = geometric(0.5, 120, floor=1e-17)  # flattens at the floor after ~56 steps
    assert observed_rate(history) == pytest.approx(0.5, rel=1e-9)
    assert_rate(history, 0.5, rtol=1e-6)
    assert_rate(np.append(geometric(0.5, 30), np.zeros(5)), 0.5, rtol=1e-9)  # exact zeros


def test_a_wrong_rate_fails_with_the_history_and_the_prediction():
    history = geometric(0.9, 80)
    with pytest.raises(AssertionError) as info:
        assert_rate(history, 0.5, rtol=0.1)
    message = str(info.value)
    assert message.startswith(
        "observed rate 0.9 per iteration, expected equal to the predicted 0.5"
    )
    assert "slower than the theory says" in message
    assert re.search(r"speed 0\.152x", message)  # log 0.9 / log 0.5
    assert "fitted on iterations 40..79 of 79" in message
    assert "residual" in message and "predicted" in message and "..." in message
    assert re.search(r">\s+79\s+2\.\d+e-04", message)  # the window's last row is marked


def test_two_sided_and_one_sided():
    history = geometric(0.3, 40)
    with pytest.raises(AssertionError, match="faster than the theory says"):
        assert_rate(history, 0.6, rtol=0.2)
    assert_rate(history, 0.6, rtol=0.2, at_most=True)  # a bound: faster is fine
    with pytest.raises(AssertionError, match="expected at most"):
        assert_rate(geometric(0.8, 40), 0.6, rtol=0.2, at_most=True)


def test_window_and_floor():
    # a fast start then the asymptotic rate: the default window (later half) sees the tail
    history = np.concatenate([geometric(0.1, 10), geometric(0.7, 60, start=1e-9)[1:]])
    assert observed_rate(history) == pytest.approx(0.7, rel=1e-9)
    assert observed_rate(history, window=5) == pytest.approx(0.7, rel=1e-9)
    assert observed_rate(history[:12], window=None) < 0.7  # too early: the fast phase
    assert observed_rate(history, floor=1e-8) == pytest.approx(0.1, rel=1e-6)


@pytest.mark.parametrize(
    "history, reason",
    [
        ([1.0, 0.5, np.nan, 0.1], "the history turns non-finite at k = 2"),
        ([1.0, 0.5], "only 2 residuals"),
        ([0.0, 0.0, 0.0], "no residual lies above the floor"),
    ],
)
def test_an_unmeasurable_history_says_why(history, reason):
    with pytest.raises(AssertionError, match=f"cannot measure a rate: {reason}"):
        assert_rate(history, 0.5)
    assert np.isnan(observed_rate(history))


def test_solver_results_are_accepted():
    result = itersolve.fixed_point(
        lambda x: 0.5 * x + 1.0, np.zeros(3), method="iterate", rtol=1e-12
    )
    assert_rate(result, 0.5, rtol=1e-6)
    assert_converges(result, to=np.full(3, 2.0), rtol=1e-10)
    optimize = scipy.optimize.OptimizeResult(x=result.x, success=True, residuals=result.residuals)
    assert_rate(optimize, 0.5, rtol=1e-6)
    with pytest.raises(TypeError, match="without a residual history"):
        assert_rate(scipy.optimize.OptimizeResult(x=result.x, success=True), 0.5)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: assert_rate([1.0, 0.5, 0.25], 1.0), ValueError, "predicted must be a linear rate"),
        (lambda: assert_rate([1.0, 0.5, 0.25], "fast"), TypeError, "predicted"),
        (lambda: assert_rate([1.0, 0.5, 0.25], 0.5, rtol=1.5), ValueError, "rtol"),
        (lambda: assert_rate([1.0, 0.5, 0.25], 0.5, window=2), ValueError, "window"),
        (lambda: assert_rate([[1.0, 0.5]], 0.5), ValueError, "1-D"),
        (lambda: assert_rate([1.0, -0.5, 0.2], 0.5), ValueError, "negative"),
        (lambda: assert_rate(object(), 0.5), TypeError, "sequence of residual norms"),
        (lambda: assert_converges([1.0, 0.1], atol=-1), ValueError, "non-negative"),
        (lambda: assert_converges(np.zeros(2), to=np.zeros(3)), ValueError, "shape"),
        (lambda: assert_at_most([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError, "broadcast"),
        (lambda: assert_at_most("many", 3), TypeError, "observed"),
    ],
)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_converges_reports_status_message_and_history():
    result = itersolve.fixed_point(
        lambda x: 0.99 * x + 1.0, np.zeros(2), method="iterate", maxiter=5
    )
    with pytest.raises(AssertionError) as info:
        assert_converges(result, to=np.full(2, 100.0))
    message = str(info.value)
    assert message.startswith("the solve did not converge after 5 iterations: success is False")
    assert f"status MAXITER: {result.message}" in message
    assert "||x - to||" in message and "largest difference at index" in message
    assert re.search(r">\s+5\s", message)


def test_converges_on_scipy_results_and_bare_arrays():
    x = scipy.optimize.fixed_point(np.cos, 1.0)  # scipy returns the bare array
    assert_converges(x, to=0.7390851332151607, rtol=1e-8)
    root = scipy.optimize.root(lambda v: v**2 - 2.0, [1.0])
    assert_converges(root, to=np.array([np.sqrt(2.0)]), rtol=1e-9)
    failed = scipy.optimize.OptimizeResult(x=np.ones(1), success=False, status=2, message="boom")
    with pytest.raises(AssertionError, match="status 2: boom"):
        assert_converges(failed)
    assert_converges(failed, check_success=False)
    with pytest.raises(AssertionError, match="exceeds atol"):
        assert_converges(np.array([0.74]), to=np.array([0.7390851332151607]), rtol=1e-6)


def test_converges_on_a_residual_history():
    assert_converges(geometric(0.5, 40), rtol=1e-10)
    with pytest.raises(AssertionError, match="above the tolerance 1.000e-10"):
        assert_converges(geometric(0.9, 40), rtol=1e-10)
    with pytest.raises(AssertionError, match="ends at nan"):
        assert_converges([1.0, np.nan], atol=1.0)


def test_at_most_scalars_arrays_and_callables():
    assert_at_most(12, 12)
    with pytest.raises(AssertionError, match=r"nit = 13 exceeds the bound 12"):
        assert_at_most(13, 12, name="nit")
    k = np.arange(30)
    history = 2.0 / (k + 1)
    assert_at_most(history, lambda k: 2.0 / (k + 1), rtol=1e-15)
    broken = history.copy()
    broken[17] *= 1.01
    with pytest.raises(AssertionError) as info:
        assert_at_most(broken, lambda k: 2.0 / (k + 1), name="residual")
    message = str(info.value)
    assert message.startswith("residual exceeds the bound at 1 of 30 points, first at k = 17")
    assert re.search(r">\s+17\s+1\.122e-01\s+1\.111e-01", message)
    with pytest.raises(AssertionError, match="first at k = 1"):
        assert_at_most([0.5, np.nan], 1.0)  # NaN is a failure, not a pass


def test_at_most_takes_a_result():
    result = itersolve.fixed_point(lambda x: 0.5 * x + 1.0, np.zeros(3), method="iterate")
    assert_at_most(result, lambda k: result.residuals[0] * 0.5**k, rtol=1e-12, name="residual")


def test_the_package_imports_without_hypothesis_and_says_how_to_get_it():
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import itersolve.testing as t\n"
        "t.assert_rate([1, 0.5, 0.25, 0.125], 0.5)\n"
        "t.problems.contraction(n=2, rate=0.5)\n"
        "try:\n"
        "    t.strategies\n"
        "except ImportError as e:\n"
        "    print('ImportError:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "ImportError: itersolve.testing.strategies needs hypothesis" in out.stdout
    assert "pip install hypothesis" in out.stdout


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_extreme_scales_neither_overflow_nor_underflow(scale):
    history = scale * 0.5 ** np.arange(40)  # reaches subnormal numbers at 1e-300
    assert observed_rate(history) == pytest.approx(0.5, rel=1e-9)
    x = np.array([1.0, 2.0]) * scale
    assert_converges(x, to=x * (1 + 1e-9), rtol=1e-8)  # x - to and ||to||^2 are out of range
    with pytest.raises(AssertionError, match="exceeds atol"):
        assert_converges(x, to=-x, rtol=1e-8)


def test_a_far_point_at_the_top_of_the_range_is_not_mistaken_for_close():
    # ||x - to|| and ||to|| both overflow in plain arithmetic: inf <= inf would pass
    with pytest.raises(AssertionError, match=r"\|\|x - to\|\| = inf exceeds"):
        assert_converges(np.array([1e308, 1e308]), to=np.array([-1e308, 1e308]))
    with pytest.raises(AssertionError, match="x is not finite"):
        assert_converges(np.array([np.nan, 1.0]), to=np.ones(2))


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: assert_rate(np.array([1, 0.5, 0.25]) + 0j, 0.5), TypeError, "complex"),
        (lambda: assert_at_most(np.ones(2) + 0j, 2.0), TypeError, "complex"),
        (lambda: assert_at_most([1.0, 2.0], lambda k: "x"), TypeError, "bound must give real"),
    ],
)
def test_complex_or_non_numeric_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_a_bound_that_raises_propagates_unchanged():
    def bound(k):
        raise ZeroDivisionError("the user's own")

    with pytest.raises(ZeroDivisionError, match="the user's own"):
        assert_at_most([1.0], bound)
