"""The coloured SOR family on CuPy against the same objects on NumPy + scipy.sparse.

Same algorithm and ordering on both sides (conventions §9, layer 3); residual histories
agree iteration by iteration up to FMA and reduction-order rounding. Skipped cleanly
without a CUDA device (tests/conftest.py).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from itersolve.gpu._sor import ColoredSOR, ColoredSSORPCG, ColoredSystem

from itersolve._driver import run
from itersolve._sor._coloring import greedy_coloring, two_coloring
from itersolve.testing import problems

pytestmark = pytest.mark.gpu

TOLERANCES = {np.float64: 1e-10, np.float32: 1e-4}


def poisson2d(m):
    return problems.poisson_problem(shape=(m, m)).A


def random_spd(n, seed=3):
    rng = np.random.default_rng(seed)
    off = sp.random_array((n, n), density=8 / n, rng=rng, data_sampler=rng.standard_normal)
    off = sp.csr_array(off + off.T)
    off.setdiag(0)
    off.eliminate_zeros()
    diagonal = np.asarray(abs(off).sum(axis=1)).ravel() + rng.uniform(0.1, 1.0, n)
    return sp.csr_array(off + sp.diags_array(diagonal)), rng.standard_normal(n)


def systems(A, b, coloring, ordering, dtype):
    import cupy
    import cupyx.scipy.sparse

    A, b = A.astype(dtype), b.astype(dtype)
    host = ColoredSystem(A, b, xp=np, sparse=sp, coloring=coloring, ordering=ordering)
    device = ColoredSystem(
        A, b, xp=cupy, sparse=cupyx.scipy.sparse, coloring=coloring, ordering=ordering
    )
    return host, device


def compare(solver, host, device, dtype, maxiter):
    import cupy

    cpu = run(solver, host, host.start(), maxiter=maxiter)
    gpu = run(solver, device, device.start(), maxiter=maxiter)
    assert isinstance(gpu.x, cupy.ndarray) and gpu.x.dtype == dtype
    assert (
        gpu.status == cpu.status and gpu.nfev == cpu.nfev and gpu.stats.keys() == cpu.stats.keys()
    )
    tol = TOLERANCES[dtype]
    n = min(gpu.residuals.size, cpu.residuals.size)
    assert abs(gpu.nit - cpu.nit) <= (0 if dtype == np.float64 else 1)
    # Rounding differences in x (FMA, summation order) of a few ulps show in b - A x as
    # about eps ||A|| ||x||: near convergence that is all of a computed residual.
    eps = np.finfo(dtype).eps
    floor = (
        100
        * eps
        * (np.linalg.norm(host.b) + abs(host._host).sum(axis=1).max() * np.linalg.norm(cpu.x))
    )
    np.testing.assert_allclose(gpu.residuals[:n], cpu.residuals[:n], rtol=tol, atol=floor)
    np.testing.assert_allclose(cupy.asnumpy(gpu.x), cpu.x, rtol=tol, atol=tol * np.abs(cpu.x).max())
    return cpu, gpu


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sweep", ["forward", "backward", "symmetric"])
@pytest.mark.parametrize("ordering", ["red-black", "multicolor"])
def test_colored_sor_on_cupy_matches_numpy(dtype, sweep, ordering):
    A = poisson2d(24)
    b = np.random.default_rng(1).standard_normal(A.shape[0])
    coloring = two_coloring(A) if ordering == "red-black" else greedy_coloring(A)
    host, device = systems(A, b, coloring, ordering, dtype)
    rtol = 1e-8 if dtype == np.float64 else 1e-3
    cpu, gpu = compare(ColoredSOR(rtol, 0.0, 1.7, sweep), host, device, dtype, maxiter=400)
    assert gpu.stats == cpu.stats


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_colored_sor_multicolor_random_matrix_on_cupy(dtype):
    A, b = random_spd(500)
    host, device = systems(A, b, greedy_coloring(A), "multicolor", dtype)
    assert host.n_colors > 2
    compare(ColoredSOR(0.0, 0.0, 1.2, "symmetric"), host, device, dtype, maxiter=30)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("omega", [0.5, 1.0, 1.8])
@pytest.mark.parametrize("case", ["poisson", "random"])
def test_colored_ssor_pcg_on_cupy_matches_numpy(dtype, omega, case):
    if case == "poisson":
        A, b = poisson2d(24), np.ones(576)
    else:
        A, b = random_spd(500)
    host, device = systems(A, b, greedy_coloring(A), "multicolor", dtype)
    rtol = 1e-8 if dtype == np.float64 else 1e-3
    cpu, gpu = compare(ColoredSSORPCG(rtol, 0.0, omega), host, device, dtype, maxiter=300)
    assert gpu.success and cpu.success
    np.testing.assert_allclose(
        gpu.stats["true_residual"],
        cpu.stats["true_residual"],
        rtol=1e-2,
        atol=rtol * np.linalg.norm(b),
    )


def test_preconditioner_and_sweep_on_cupy_match_numpy():
    import cupy

    A, b = random_spd(300)
    host, device = systems(A, b, greedy_coloring(A), "multicolor", np.float64)
    r = np.random.default_rng(2).standard_normal(300)
    np.testing.assert_allclose(
        cupy.asnumpy(device.ssor_solve(cupy.asarray(r), 1.3)), host.ssor_solve(r, 1.3), rtol=1e-12
    )
    x_host, x_device = host.start(), device.start()
    for backward in (False, True, False):
        host.sweep(x_host, 1.4, backward)
        device.sweep(x_device, 1.4, backward)
    np.testing.assert_allclose(cupy.asnumpy(x_device), x_host, rtol=1e-12, atol=1e-14)


def test_start_moves_host_input_to_the_device_and_copies():
    import cupy

    A = poisson2d(4)
    _, device = systems(A, np.ones(16), two_coloring(A), "red-black", np.float64)
    x0 = np.arange(16.0)
    x = device.start(x0)
    assert isinstance(x, cupy.ndarray) and x.dtype == cupy.float64
    x += 1
    assert x0[0] == 0.0
    x0_device = cupy.arange(16.0)
    assert device.start(x0_device) is not x0_device
