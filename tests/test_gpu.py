"""The CuPy backend on a real device (skipped cleanly without one)."""

from __future__ import annotations

import numpy as np
import pytest

import itersolve

pytestmark = pytest.mark.gpu

METHODS = ["iterate", "mann", "halpern", "anderson", "aitken"]


@pytest.mark.parametrize("method", METHODS)
def test_cupy_input_runs_on_the_device_and_matches_the_cpu(method):
    import cupy

    a = np.linspace(0.2, 0.8, 64)
    a_gpu = cupy.asarray(a)
    options = {"restart": "adaptive"} if method == "halpern" else {}
    gpu = itersolve.fixed_point(
        lambda x: a_gpu * cupy.cos(x) + 0.5, cupy.zeros(64), method=method, **options
    )
    cpu = itersolve.fixed_point(
        lambda x: a * np.cos(x) + 0.5, np.zeros(64), method=method, **options
    )
    assert isinstance(gpu.x, cupy.ndarray) and gpu.stats["backend"] == "cupy"
    assert gpu.success and gpu.nit == cpu.nit
    np.testing.assert_allclose(cupy.asnumpy(gpu.x), cpu.x, rtol=1e-12)
    np.testing.assert_allclose(gpu.residuals, cpu.residuals, rtol=1e-8, atol=1e-14)


def test_gpu_entry_point_moves_host_input_to_the_device():
    import cupy

    result = itersolve.gpu.fixed_point(lambda x: x / 2 + 1, np.zeros(8))
    assert isinstance(result.x, cupy.ndarray) and result.success


@pytest.mark.parametrize("solver", ["sor", "ssor_pcg"])
def test_linear_solvers_take_cupy_input_and_match_the_cpu_colour_order(solver):
    import cupy
    import cupyx.scipy.sparse
    import scipy.sparse as sp

    T = sp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(12, 12))
    A = sp.csr_array(sp.kron(sp.eye_array(12), T) + sp.kron(T, sp.eye_array(12)))
    b = np.random.default_rng(0).standard_normal(144)
    solve = getattr(itersolve, solver)
    cpu = solve(A, b, omega=1.3, ordering="red-black", backend="array-api")
    gpu = solve(cupyx.scipy.sparse.csr_matrix(A), cupy.asarray(b), omega=1.3, ordering="red-black")
    assert isinstance(gpu.x, cupy.ndarray) and gpu.stats["backend"] == "cupy"
    assert gpu.nit == cpu.nit and gpu.success
    np.testing.assert_allclose(gpu.residuals, cpu.residuals, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("method", ["newman", "zermelo"])
def test_bradley_terry_sync_sweep_on_the_device_matches_the_cpu(method):
    rng = np.random.default_rng(0)
    i = rng.integers(0, 50, 3000)
    j = (i + rng.integers(1, 50, 3000)) % 50
    cpu = itersolve.bradley_terry((i, j), method=method, update="sync", prior=1.0)
    gpu = itersolve.bradley_terry((i, j), method=method, update="sync", prior=1.0, backend="cupy")
    assert gpu.stats["sweeps"] == cpu.stats["sweeps"] and gpu.success
    np.testing.assert_allclose(gpu.scores, cpu.scores, atol=1e-10)
