"""The chain sweeps on the array-API namespace (the GPU code path) against the Numba kernels.

CI has no GPU: the generic updates of ``itersolve.gpu._chain`` run here on NumPy
(``backend="array-api"``) and on array-api-strict, and must agree with the kernels.
The ``gpu``-marked tests run the same solves on CuPy where a device exists.
"""

from __future__ import annotations

import array_api_strict as strict
import numpy as np
import pytest

import itersolve
from itersolve import picard_ode, solve_chain

from .chain_problems import euler, lorenz, tanh_ode


@pytest.mark.parametrize("method", ["picard", "jacobi"])
@pytest.mark.parametrize("window", [None, 1, 7, 64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_generic_updates_match_the_numba_kernels(method, window, dtype):
    f, _ = tanh_ode(scale=1.5)
    step = euler(f, 1 / 64)

    def typed(t, X):
        return step(t, X).astype(dtype)

    x0 = np.ones(8, dtype)
    options = {"method": method, "window": window, "rtol": 1e-5 if dtype == np.float32 else 1e-10}
    kernel = solve_chain(typed, x0, 128, **options)
    generic = solve_chain(typed, x0, 128, backend="array-api", **options)
    assert kernel.stats["backend"] == "numpy" and generic.stats["backend"] == "array-api"
    assert kernel.nit == generic.nit and kernel.nfev == generic.nfev
    assert np.array_equal(kernel.stats["window_trace"], generic.stats["window_trace"])
    assert np.array_equal(kernel.x, generic.x)
    np.testing.assert_allclose(kernel.residuals, generic.residuals, rtol=1e-6, atol=1e-30)


def test_generic_reset_of_overflowing_states_matches_the_kernels():
    t = np.arange(1025) * 1e-3
    with np.errstate(all="ignore"):
        kernel = picard_ode(lorenz(), np.ones(3), t, rtol=1e-10)
        generic = picard_ode(lorenz(), np.ones(3), t, rtol=1e-10, backend="array-api")
    assert kernel.stats["reset_states"] == generic.stats["reset_states"] > 0
    assert kernel.nit == generic.nit and np.array_equal(kernel.x, generic.x)


def test_complex_states_take_the_generic_path():
    step = lambda t, X: 0.5j * X + 1  # noqa: E731
    result = solve_chain(step, np.ones(3, complex), 30)
    reference = itersolve.sequential_chain(step, np.ones(3, complex), 30)
    assert result.success and result.x.dtype == np.complex128
    np.testing.assert_allclose(result.x, reference, rtol=1e-12)


@pytest.mark.parametrize("method", ["picard", "jacobi", "hybrid", "gauss-seidel"])
def test_array_api_strict_states_flow_through_the_step(method):
    rng = np.random.default_rng(0)
    A_np = rng.standard_normal((4, 4)) / 4
    A = strict.asarray(A_np)

    def step(t, X):
        return strict.tanh(X @ A.T) + 0.1

    x0 = strict.ones(4, dtype=strict.float64)
    result = solve_chain(step, x0, 40, method=method)
    assert result.success and type(result.x) is type(x0)
    assert result.stats["backend"] == "array-api"
    reference = itersolve.sequential_chain(lambda t, X: np.tanh(X @ A_np.T) + 0.1, np.ones(4), 40)
    np.testing.assert_allclose(np.from_dlpack(result.x), reference, rtol=1e-12)


def test_array_api_strict_ode_and_predictor():
    def f(t, Y):
        return -Y + strict.reshape(strict.sin(t), (-1, 1))

    y0 = strict.ones(2, dtype=strict.float64)
    t = np.linspace(0.0, 1.0, 33)
    result = picard_ode(f, y0, t, scheme="rk4", rtol=1e-12)
    model = itersolve.TrajectoryModel.fit([0.0], [np.from_dlpack(result.x)], degree=0)
    warm = picard_ode(f, y0, t, scheme="rk4", rtol=1e-12, predictor=model.predictor(0.0))
    assert result.success and warm.success and warm.nit <= 2 < result.nit
    np.testing.assert_allclose(np.from_dlpack(warm.x), np.from_dlpack(result.x), rtol=1e-12)


def test_mixed_libraries_are_rejected():
    x0 = strict.ones(2, dtype=strict.float64)
    with pytest.raises(TypeError, match="library"):
        solve_chain(lambda t, X: np.ones((X.shape[0], 2)), x0, 3)
    with pytest.raises(TypeError, match="init"):
        solve_chain(lambda t, X: X, x0, 3, init=np.ones((4, 2)))


# -- on a real device ----------------------------------------------------------------------


@pytest.mark.gpu
@pytest.mark.parametrize("method", ["picard", "jacobi", "hybrid"])
def test_cupy_trajectories_match_the_cpu(method):
    import cupy

    rng = np.random.default_rng(3)
    W = cupy.asarray(rng.standard_normal((64, 4, 4)) / 2)
    b = cupy.asarray(rng.standard_normal((64, 4)))
    gain = cupy.asarray(rng.uniform(0.2, 1.0, 64))
    W_np, b_np, gain_np = (cupy.asnumpy(a) for a in (W, b, gain))

    def step_gpu(t, X):
        return gain[t][:, None] * cupy.tanh(cupy.einsum("bij,bj->bi", W[t], X)) + b[t]

    def step_np(t, X):
        return gain_np[t][:, None] * np.tanh(np.einsum("bij,bj->bi", W_np[t], X)) + b_np[t]

    gpu = solve_chain(step_gpu, cupy.ones(4), 64, method=method, rtol=1e-12)
    cpu = solve_chain(step_np, np.ones(4), 64, method=method, rtol=1e-12)
    assert isinstance(gpu.x, cupy.ndarray) and gpu.stats["backend"] == "cupy"
    assert gpu.success
    np.testing.assert_allclose(cupy.asnumpy(gpu.x), cpu.x, rtol=1e-10, atol=1e-12)


@pytest.mark.gpu
def test_gpu_picard_ode_entry_point():
    import cupy

    def f(t, Y):
        return -Y + cupy.sin(t)[:, None]

    t = np.linspace(0.0, 2.0, 257)
    result = itersolve.gpu.picard_ode(f, np.ones(3), t, scheme="rk4", window=64)
    assert isinstance(result.x, cupy.ndarray) and result.success
    cpu = picard_ode(lambda t, Y: -Y + np.sin(t)[:, None], np.ones(3), t, scheme="rk4", window=64)
    np.testing.assert_allclose(cupy.asnumpy(result.x), cpu.x, rtol=1e-9)


@pytest.mark.parametrize("method", ["newton", "quasi-newton"])
def test_array_api_strict_newton_scan(method):
    rng = np.random.default_rng(1)
    W_np = rng.standard_normal((4, 4)) / 2
    W = strict.asarray(W_np)

    def step(t, X):
        return strict.tanh(X @ W.T) + 0.1

    def jacobian(t, X):
        slope = 1 - strict.tanh(X @ W.T) ** 2
        if method == "quasi-newton":
            return slope * strict.asarray(np.diag(W_np))
        return slope[:, :, None] * W

    x0 = strict.ones(4, dtype=strict.float64)
    result = solve_chain(step, x0, 40, method=method, jacobian=jacobian, window=16)
    assert result.success and type(result.x) is type(x0)
    reference = itersolve.sequential_chain(lambda t, X: np.tanh(X @ W_np.T) + 0.1, np.ones(4), 40)
    np.testing.assert_allclose(np.from_dlpack(result.x), reference, rtol=1e-12)


@pytest.mark.gpu
def test_cupy_newton_matches_the_cpu():
    import cupy

    rng = np.random.default_rng(2)
    W_np = rng.standard_normal((8, 8)) * 0.4
    C_np = rng.standard_normal((128, 8))
    W, C = cupy.asarray(W_np), cupy.asarray(C_np)

    def step_gpu(t, X):
        return cupy.tanh(X @ W.T + C[t])

    def jacobian_gpu(t, X):
        return (1 - step_gpu(t, X) ** 2)[:, :, None] * W

    def step_np(t, X):
        return np.tanh(X @ W_np.T + C_np[t])

    def jacobian_np(t, X):
        return (1 - step_np(t, X) ** 2)[:, :, None] * W_np

    gpu = solve_chain(step_gpu, cupy.zeros(8), 128, method="newton", jacobian=jacobian_gpu)
    cpu = solve_chain(step_np, np.zeros(8), 128, method="newton", jacobian=jacobian_np)
    assert isinstance(gpu.x, cupy.ndarray) and gpu.success and gpu.nit == cpu.nit
    np.testing.assert_allclose(cupy.asnumpy(gpu.x), cpu.x, rtol=1e-10, atol=1e-12)
