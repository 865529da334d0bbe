"""The array-API PDHG (``itersolve._linprog._pdhg``, the only one) on NumPy, and on CuPy."""

from __future__ import annotations

import numpy as np
import pytest

import itersolve
from itersolve import Status

from .test_linprog import farkas_holds, feasible_lp, infeasible_lp, unbounded_lp


@pytest.mark.parametrize("seed", range(3))
def test_array_api_backend_matches_the_default(seed):
    lp = feasible_lp(seed, 12, 7, 3)
    cpu = itersolve.linprog(*lp)
    generic = itersolve.linprog(*lp, backend="array-api")
    assert cpu.stats["backend"] == "numpy" and generic.stats["backend"] == "array-api"
    assert generic.success and generic.nit == cpu.nit
    np.testing.assert_allclose(generic.x, cpu.x, rtol=1e-10, atol=1e-10)
    assert abs(generic.fun - cpu.fun) <= 1e-10 * max(1, abs(cpu.fun))


def test_array_api_backend_detects_infeasibility_and_unboundedness():
    lp = infeasible_lp(2)
    result = itersolve.linprog(*lp, backend="array-api")
    assert result.status == Status.INFEASIBLE and farkas_holds(lp, result.stats["certificate"])
    assert itersolve.linprog(*unbounded_lp(1), backend="array-api").status == Status.UNBOUNDED


@pytest.mark.gpu
def test_cupy_backend_matches_the_default():
    import cupy

    lp = feasible_lp(0, 30, 12, 5)
    cpu = itersolve.linprog(*lp)
    gpu = itersolve.linprog(cupy.asarray(lp[0]), *lp[1:])
    assert gpu.stats["backend"] == "cupy" and gpu.success
    assert isinstance(gpu.x, np.ndarray)  # results come back to the host
    assert abs(gpu.fun - cpu.fun) <= 1e-7 * max(1, abs(cpu.fun))
    infeasible = infeasible_lp(0)
    result = itersolve.linprog(*infeasible, backend="cupy")
    assert result.status == Status.INFEASIBLE
    assert farkas_holds(infeasible, result.stats["certificate"])
