"""GPU entry points: the CPU functions with their signatures, forced onto CuPy."""

from __future__ import annotations

import functools


def on_gpu(solver):
    """Wrap a CPU front-end so it runs on ``backend="cupy"`` (inputs are moved to the device)."""

    @functools.wraps(solver)
    def run_on_gpu(*args, **kwargs):
        if kwargs.setdefault("backend", "cupy") != "cupy":
            raise ValueError(f"itersolve.gpu.{solver.__name__} runs on backend='cupy' only")
        return solver(*args, **kwargs)

    return run_on_gpu
