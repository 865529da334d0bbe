"""Bad input to fixed_point fails early with an error that names the argument."""

from __future__ import annotations

import numpy as np
import pytest

import itersolve
from itersolve import BackendUnavailableError


def contraction(x):
    return x / 2 + 1


@pytest.mark.parametrize(
    "T, x0, kwargs, error, match",
    [
        (None, 1.0, {}, TypeError, "`T` must be callable"),
        ("cos", 1.0, {}, TypeError, "`T` must be callable"),
        (contraction, 1.0, {"method": "newton"}, ValueError, "`method` must be one of"),
        (contraction, 1.0, {"method": "anderson", "m": 0}, ValueError, "`m` must be at least 1"),
        (contraction, 1.0, {"method": "anderson", "m": 2.0}, TypeError, "`m` must be an integer"),
        (contraction, 1.0, {"method": "anderson", "damping": 1.5}, ValueError, "`damping`"),
        (contraction, 1.0, {"method": "anderson", "safeguard": 0.5}, ValueError, "`safeguard`"),
        (
            contraction,
            1.0,
            {"method": "anderson", "regularization": -1.0},
            ValueError,
            "`regularization`",
        ),
        (contraction, 1.0, {"method": "mann", "relaxation": 0.0}, ValueError, "`relaxation`"),
        (contraction, 1.0, {"method": "mann", "relaxation": 2.0}, ValueError, "`relaxation`"),
        (contraction, 1.0, {"method": "halpern", "restart": 0}, ValueError, "`restart`"),
        (contraction, 1.0, {"method": "halpern", "restart": "sometimes"}, ValueError, "`restart`"),
        (
            contraction,
            1.0,
            {"method": "iterate", "m": 3},
            ValueError,
            "`m` does not apply to method='iterate'",
        ),
        (
            contraction,
            1.0,
            {"method": "anderson", "relaxation": 0.5},
            ValueError,
            "`relaxation` does not apply",
        ),
        (
            contraction,
            1.0,
            {"method": "halpern", "damping": 0.5},
            ValueError,
            "`damping` does not apply",
        ),
        (contraction, "one", {}, TypeError, "`x0` must hold numbers"),
        (contraction, [[1.0], [1.0, 2.0]], {}, TypeError, "`x0` must be array-like"),
        (contraction, 1.0, {"backend": "torch"}, ValueError, "`backend` must be one of"),
    ],
)
def test_bad_arguments_are_named(T, x0, kwargs, error, match):
    with pytest.raises(error, match=match):
        itersolve.fixed_point(T, x0, **kwargs)


def test_nothing_is_evaluated_before_validation():
    calls = []
    with pytest.raises(ValueError, match="rtol"):
        itersolve.fixed_point(lambda x: calls.append(x) or x, 1.0, rtol=-1.0)
    assert calls == []


@pytest.mark.parametrize("method", ["iterate", "anderson", "aitken"])
def test_shape_change_is_a_value_error(method):
    with pytest.raises(
        ValueError, match=r"`T` returned an array of shape \(2,\); expected \(3,\)"
    ):
        itersolve.fixed_point(lambda x: x[:2], np.ones(3), method=method)


def test_dtype_change_is_a_type_error():
    M = np.eye(3) / 2  # float64 matrix turns a float32 iterate into float64
    with pytest.raises(
        TypeError, match="`T` returned dtype float64 for an iterate of dtype float32"
    ):
        itersolve.fixed_point(lambda x: M @ x, np.ones(3, np.float32))


def test_non_array_return_is_a_type_error():
    with pytest.raises(TypeError, match="`T` must return an array"):
        itersolve.fixed_point(lambda x: "x", np.ones(3))


def test_exceptions_from_T_propagate_unchanged():
    class Boom(Exception):
        pass

    def T(x):
        raise Boom("from inside T")

    for method in ("iterate", "anderson", "aitken"):
        with pytest.raises(Boom, match="from inside T"):
            itersolve.fixed_point(T, np.ones(2), method=method)


def test_scalars_in_scalars_out():
    result = itersolve.fixed_point(lambda x: 0.5 * x + 1, 0.0, method="iterate")
    assert isinstance(result.x, np.float64) and result.x == pytest.approx(2.0)
    # a map of Python floats works on the 0-d arrays it receives
    import math

    result = itersolve.fixed_point(lambda x: math.cos(x), 1.0)
    assert result.success and result.x == pytest.approx(0.7390851332151607)


def test_integer_start_is_promoted_to_float():
    result = itersolve.fixed_point(lambda x: x / 2 + 1, np.array([0, 0]))
    assert result.x.dtype == np.float64 and np.allclose(result.x, 2.0)


def test_arrays_of_any_shape():
    x0 = np.zeros((2, 3, 4))
    result = itersolve.fixed_point(lambda x: np.cos(x) / 2, x0)
    assert result.x.shape == (2, 3, 4) and result.success


def test_unavailable_backend_is_an_error_not_a_fallback():
    from itersolve.gpu import cupy_available

    if cupy_available():
        pytest.skip("a GPU is present here")
    with pytest.raises(BackendUnavailableError, match="backend 'cupy' is unavailable"):
        itersolve.fixed_point(contraction, np.ones(3), backend="cupy")
    with pytest.raises(BackendUnavailableError):
        itersolve.gpu.fixed_point(contraction, np.ones(3))


def test_numpy_backend_refuses_foreign_arrays():
    xp = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match="backend='numpy' needs `x0` as a NumPy array"):
        itersolve.fixed_point(lambda x: x / 2 + 1, xp.ones(3), backend="numpy")


def test_map_returning_another_library_is_a_type_error():
    xp = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match="must return arrays of the iterate's library"):
        itersolve.fixed_point(lambda x: np.ones(3), xp.ones(3))


# ------------------------------------------------------------------ issue 12


@pytest.mark.parametrize(
    "x0, error, match",
    [
        (np.array([1.0, np.nan]), ValueError, "`x0` contains NaN or Inf"),
        (np.array([np.inf]), ValueError, "`x0` contains NaN or Inf"),
        (np.zeros(0), ValueError, "`x0` is empty"),
        (None, TypeError, "`x0` must hold numbers"),
        (np.array([True, False]), TypeError, "`x0` must hold numbers"),
        (np.array([None, 1.0], dtype=object), TypeError, "`x0` must hold numbers"),
        (["a", "b"], TypeError, "`x0` must hold numbers"),
    ],
)
@pytest.mark.parametrize("entry", ["fixed_point", "infimal_displacement"])
def test_bad_starts_are_rejected_before_any_evaluation(entry, x0, error, match):
    calls = []

    def T(x):
        calls.append(x)
        return x

    with pytest.raises(error, match=match):
        getattr(itersolve, entry)(T, x0)
    assert not calls


BAD_RETURNS = [
    (None, TypeError, "`T` returned None|`T` must return an array"),
    ("abc", TypeError, "`T` must return an array"),
    (np.zeros(4), ValueError, r"`T` returned an array of shape \(4,\); expected \(3,\)"),
    (np.ones(3) + 1j, TypeError, r"`T\(\.\.\.\)` is complex"),
    (np.zeros(3, dtype=object), TypeError, r"`T\(\.\.\.\)` must hold numbers"),
    (np.zeros(3, dtype=np.float32), TypeError, "`T` returned dtype float32"),
    (True, TypeError, "`T` must return an array"),
]


@pytest.mark.parametrize("returned, error, match", BAD_RETURNS)
@pytest.mark.parametrize("method", ["iterate", "mann", "halpern", "anderson", "aitken"])
def test_what_T_returns_is_checked_and_named(method, returned, error, match):
    with pytest.raises(error, match=match):
        itersolve.fixed_point(lambda x: returned, np.zeros(3), method=method)


@pytest.mark.parametrize("returned, error, match", BAD_RETURNS)
@pytest.mark.parametrize("method", ["iterate", "mann", "halpern", "anderson", "aitken"])
def test_a_bad_return_after_good_ones_is_checked_and_named(method, returned, error, match):
    """After the first output, later ones of the same type, shape and dtype pass an O(1)
    check; any other output must still get the full check and its named error."""
    calls = []

    def T(x):
        calls.append(x)
        return returned if len(calls) >= 3 else x * np.array([0.5, 0.6, 0.7]) + 1

    with pytest.raises(error, match=match):
        itersolve.fixed_point(T, np.zeros(3), method=method)
    assert len(calls) == 3


def test_complex_maps_of_complex_iterates_are_solved():
    """Complex iterates are supported (the fixed point of x/2 + (1 + 1j) is 2 + 2j)."""
    result = itersolve.fixed_point(lambda x: x / 2 + (1 + 1j), np.zeros(2, dtype=complex))
    assert result.success and result.x.dtype == np.complex128
    np.testing.assert_allclose(result.x, 2 + 2j, rtol=1e-7)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"method": "anderson", "m": "5"}, TypeError, "`m` must be an integer"),
        ({"method": "anderson", "m": None}, TypeError, "`m` must be an integer"),
        ({"method": "anderson", "m": True}, TypeError, "`m` must be an integer"),
        ({"method": "anderson", "damping": "1"}, TypeError, "`damping` must be a real number"),
        ({"method": "anderson", "damping": 1j}, TypeError, "`damping` must be a real number"),
        ({"method": "anderson", "damping": np.nan}, ValueError, "`damping`"),
        ({"method": "anderson", "regularization": None}, TypeError, "`regularization`"),
        ({"method": "anderson", "regularization": np.inf}, ValueError, "`regularization`"),
        ({"method": "anderson", "safeguard": "1"}, TypeError, "`safeguard`"),
        ({"method": "mann", "relaxation": "0.5"}, TypeError, "`relaxation`"),
        ({"method": "mann", "relaxation": np.array([0.5, 0.5])}, TypeError, "`relaxation`"),
        ({"method": "halpern", "restart": 2.5}, TypeError, "`restart`"),
        ({"method": "halpern", "restart": True}, TypeError, "`restart`"),
    ],
)
def test_wrong_option_types_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        itersolve.fixed_point(contraction, 1.0, **kwargs)
