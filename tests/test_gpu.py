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
