"""``itersolve.gpu``: the CuPy backend.

Every solver has one implementation written against the array-API namespace; CuPy
inputs run it on the device, and CI runs the same code with NumPy through
``backend="array-api"``. GPU-specific kernels, where a solver needs one, live here and
are built on first use. Nothing here imports CuPy until the CuPy backend is requested.

The solver entry points have exactly the CPU signatures and run on ``backend="cupy"``.
"""

from __future__ import annotations

import importlib

from ._device import cupy_available, require_cupy

__all__ = [
    "cupy_available",
    "fixed_point",
    "picard_ode",
    "require_cupy",
    "solve_chain",
    "sor",
    "ssor_pcg",
]

_SOLVERS = {
    "fixed_point": "itersolve._fixed_point",
    "picard_ode": "itersolve._chain",
    "solve_chain": "itersolve._chain",
    "sor": "itersolve._sor",
    "ssor_pcg": "itersolve._sor",
}


def __getattr__(name: str):
    if name not in _SOLVERS:
        raise AttributeError(f"module 'itersolve.gpu' has no attribute {name!r}")
    from ._entry import on_gpu

    solver = on_gpu(getattr(importlib.import_module(_SOLVERS[name]), name))
    globals()[name] = solver
    return solver
