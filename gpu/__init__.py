"""``itersolve.gpu``: the CuPy backend.

Every solver has one implementation written against the array-API namespace; CuPy
inputs run it on the device, and CI runs the same code with NumPy through
``backend="array-api"``. GPU-specific kernels, where a solver needs one, live here and
are built on first use. Nothing here imports CuPy until the CuPy backend is requested.

The solver entry points have exactly the CPU signatures and run on ``backend="cupy"``.
"""

from __future__ import annotations

from ._device import cupy_available, require_cupy

# The public solvers that take `backend` (a test checks that this is every one of them).
_SOLVERS = (
    "bradley_terry",
    "deflated_newton",
    "feasibility",
    "find_roots",
    "fixed_point",
    "infimal_displacement",
    "linprog",
    "newton",
    "picard_ode",
    "solve_chain",
    "sor",
    "ssor_pcg",
)

__all__ = ["cupy_available", "require_cupy", *_SOLVERS]


def __getattr__(name: str):
    if name not in _SOLVERS:
        raise AttributeError(f"module 'itersolve.gpu' has no attribute {name!r}")
    import itersolve

    from ._entry import on_gpu

    solver = on_gpu(getattr(itersolve, name))
    globals()[name] = solver
    return solver
