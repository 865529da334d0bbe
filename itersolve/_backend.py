"""Backend dispatch: the input arrays choose where a solve runs.

Three backends exist:

``"numpy"``
    NumPy inputs on the CPU, with Numba kernels where a solver has them.
``"cupy"``
    CuPy inputs on a CUDA device, through :mod:`itersolve.gpu`.
``"array-api"``
    The generic code written once against the array-API namespace. CuPy runs it, and
    so can NumPy or any other compliant library: this is how CI exercises the GPU code
    path without a GPU.

``backend=None`` follows the inputs. Naming a backend forces it; a backend that cannot
run raises :class:`BackendUnavailableError` and is never silently replaced by another.
"""

from __future__ import annotations

import dataclasses
from types import ModuleType

import array_api_compat
import numpy as np

BACKENDS = ("numpy", "cupy", "array-api")


class BackendUnavailableError(ImportError):
    """The requested backend cannot run here (for example CuPy or a CUDA device is missing)."""


@dataclasses.dataclass(frozen=True)
class Backend:
    """Where a solve runs: the backend's name and the array namespace of its arrays."""

    name: str
    xp: ModuleType

    def pick(self, *, numpy, generic):
        """Choose the implementation of one operation: the CPU kernel or the generic one.

        CuPy runs the generic array-API code unless :mod:`itersolve.gpu` provides a kernel.
        """
        return numpy if self.name == "numpy" else generic


def as_array(x, name: str):
    """Return ``x`` as an array of its own library; Python scalars and lists become NumPy."""
    if array_api_compat.is_array_api_obj(x) and not isinstance(x, np.generic):
        return x
    try:
        return np.asarray(x)
    except Exception as exc:  # ragged lists, objects numpy cannot hold
        raise TypeError(f"`{name}` must be array-like, got {type(x).__name__}") from exc


def to_host(a) -> np.ndarray:
    """``a`` as a NumPy array on the host (a copy for device arrays, a view otherwise)."""
    if array_api_compat.is_cupy_array(a):  # not hasattr(a, "get"): a dict has one too
        return a.get()
    return np.asarray(a)


def resolve(x, *, backend: str | None, name: str = "x0"):
    """Choose the backend for the array ``x`` and return ``(Backend, x)`` moved onto it."""
    # `in` on an array would compare elementwise: only strings can name a backend
    if backend is not None and not (isinstance(backend, str) and backend in BACKENDS):
        raise ValueError(
            f"`backend` must be one of {', '.join(map(repr, BACKENDS))} or None; got {backend!r}"
        )
    on_cupy = array_api_compat.is_cupy_array(x)
    if backend == "cupy" or (backend is None and on_cupy):
        from itersolve.gpu import require_cupy

        cupy = require_cupy()
        return Backend("cupy", array_api_compat.array_namespace(cupy.empty(0))), cupy.asarray(x)
    if backend == "numpy" and not array_api_compat.is_numpy_array(x):
        raise TypeError(
            f"backend='numpy' needs `{name}` as a NumPy array, got {type(x).__module__}."
            f"{type(x).__name__}; move it to the host first, or leave `backend` as None"
        )
    xp = array_api_compat.array_namespace(x)
    if backend == "array-api" or not array_api_compat.is_numpy_array(x):
        return Backend("array-api", xp), x
    return Backend("numpy", xp), x
