"""Guarded CuPy and CUDA detection (CuPy can import yet fail at the first kernel compile)."""

from __future__ import annotations

import functools


@functools.cache
def _probe() -> tuple[object, str]:
    """Return ``(cupy, "")`` when a working device is present, else ``(None, reason)``."""
    try:
        import cupy
    except Exception as exc:  # ImportError, or a broken CUDA installation
        return None, f"CuPy cannot be imported ({exc}); pip install 'itersolve[gpu]' brings it"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None, "CuPy found no CUDA device"
        # Compile and run a tiny kernel: CuPy imports fine on machines where NVRTC is broken.
        square = cupy.ElementwiseKernel("float64 x", "float64 y", "y = x * x", "itersolve_probe")
        if float(square(cupy.arange(3, dtype=cupy.float64)).sum()) != 5.0:
            return None, "a CuPy test kernel returned a wrong value"
    except Exception as exc:  # CUDARuntimeError, NVRTC or driver errors
        return None, f"CuPy cannot run on this machine ({type(exc).__name__}: {exc})"
    return cupy, ""


def cupy_available() -> bool:
    """Whether CuPy imports and can run a kernel on a CUDA device."""
    return _probe()[0] is not None


def require_cupy():
    """Return ``cupy``, or raise :class:`itersolve.BackendUnavailableError` saying why not."""
    from itersolve._backend import BackendUnavailableError

    cupy, reason = _probe()
    if cupy is None:
        raise BackendUnavailableError(f"backend 'cupy' is unavailable: {reason}")
    return cupy
