"""Packaging promises: a cheap import, the public names, the result type."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import itersolve
from itersolve import SolveResult, Status, observed_rate


def test_import_loads_neither_numba_nor_cupy():
    code = (
        "import sys, itersolve; "
        "heavy = [m for m in ('numba', 'cupy', 'scipy', 'sympy') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == ""


def test_public_names_resolve():
    for name in itersolve.__all__:
        assert getattr(itersolve, name) is not None
    with pytest.raises(AttributeError):
        itersolve.no_such_solver  # noqa: B018


def test_gpu_entry_points_have_the_cpu_signature():
    import inspect

    assert inspect.signature(itersolve.gpu.fixed_point) == inspect.signature(itersolve.fixed_point)


def test_every_status_has_advice():
    for status in Status:
        assert len(status.advice) > 20
    assert Status.MAXITER == -2 and Status.NONFINITE == -3 and Status.CALLBACK == -4


def test_observed_rate():
    assert observed_rate(0.8 ** np.arange(30)) == pytest.approx(0.8)
    assert math.isnan(observed_rate([1.0, 0.5]))
    # zeros and non-finite values are ignored, not fitted
    assert observed_rate(np.r_[0.5 ** np.arange(20), 0.0]) == pytest.approx(0.5)


def test_repr_is_one_line():
    result = SolveResult(
        x=1.0,
        success=True,
        status=Status.CONVERGED,
        message="",
        nit=3,
        nfev=4,
        residuals=np.array([1.0, 0.1, 0.01, 0.001]),
    )
    assert "nit=3" in repr(result) and "\n" not in repr(result)


def test_a_solve_can_be_driven_by_hand():
    from itersolve.solvers import Anderson, FixedPointProblem, run

    x0 = np.zeros(3)
    problem = FixedPointProblem(np.cos, x0)
    solver = Anderson(rtol=1e-10, atol=0.0, m=5)
    x, state = x0, solver.init(problem, x0)
    residuals = [state.residual]
    while not solver.terminate(problem, x, state)[0]:
        x, state = solver.step(problem, x, state)
        residuals.append(state.residual)
    by_loop = run(
        Anderson(rtol=1e-10, atol=0.0, m=5), FixedPointProblem(np.cos, x0), x0, maxiter=100
    )
    assert by_loop.residuals.tolist() == residuals
    assert by_loop.x.tolist() == x.tolist() and by_loop.nfev == problem.nfev
