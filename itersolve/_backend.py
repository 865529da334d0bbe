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
Every front end chooses with :func:`resolve` and copies results back with :func:`to_host`.
"""

from __future__ import annotations

import dataclasses
import functools
from types import ModuleType

import array_api_compat
import numpy as np

BACKENDS = ("numpy", "cupy", "array-api")


class BackendUnavailableError(ImportError):
    """The requested backend cannot run here (for example CuPy or a CUDA device is missing)."""


@dataclasses.dataclass(frozen=True)
class Backend:
    """Where a solve runs.

    Attributes
    ----------
    name : str
        ``"numpy"``, ``"cupy"`` or ``"array-api"``.
    xp : module
        The array-API namespace of the backend's arrays (array-api-compat's wrapper for
        NumPy and CuPy, a superset of both libraries' own namespaces), found on first use:
        the CPU paths that never need it do not pay for importing the wrapper.
    sparse : module or None
        Its sparse-matrix module: ``scipy.sparse`` on the host, ``cupyx.scipy.sparse`` on
        the device, None for a library that has none.
    """

    name: str
    sparse: ModuleType | None
    example: object = dataclasses.field(repr=False, compare=False)  # an array of its library

    @functools.cached_property
    def xp(self) -> ModuleType:
        return array_api_compat.array_namespace(self.example)

    def pick(self, *, numpy, generic):
        """Choose the implementation of one operation: the CPU kernel or the generic one.

        CuPy runs the generic array-API code unless :mod:`itersolve.gpu` provides a kernel.
        """
        return numpy if self.name == "numpy" else generic


def _on_device(value) -> bool:
    """A CuPy array or a cupyx.scipy.sparse matrix."""
    return array_api_compat.is_cupy_array(value) or type(value).__module__.startswith("cupyx.")


def _foreign(value) -> bool:
    """An array of another array-API library (not NumPy, not CuPy, not a scalar or a list)."""
    return (
        array_api_compat.is_array_api_obj(value)
        and not isinstance(value, (np.ndarray, np.generic))
        and not _on_device(value)
        and not type(value).__module__.startswith("scipy.")
    )


def resolve(backend: str | None, **arrays) -> Backend:
    """The backend a solve runs on, from ``backend`` and the input ``arrays`` (by name).

    With ``backend=None`` the inputs decide: any CuPy array (dense or sparse) selects
    ``"cupy"``, any array of another array-API library ``"array-api"``, anything else
    ``"numpy"``. Inputs that are None are ignored. A named backend must be able to run:
    ``"cupy"`` without a working device raises :class:`BackendUnavailableError`, and
    ``"numpy"`` with device arrays a TypeError naming the argument.
    """
    if backend is None and all(type(a) is np.ndarray or a is None for a in arrays.values()):
        return _on_host("numpy")  # the common case, answered first: every solve asks
    # `in` on an array would compare elementwise: only strings can name a backend
    if backend is not None and not (isinstance(backend, str) and backend in BACKENDS):
        raise ValueError(
            f"`backend` must be one of {', '.join(map(repr, BACKENDS))} or None; got {backend!r}"
        )
    given = {name: a for name, a in arrays.items() if a is not None}
    on_device = [name for name, a in given.items() if _on_device(a)]
    foreign = [name for name, a in given.items() if _foreign(a)]
    if backend is None:
        backend = "cupy" if on_device else "array-api" if foreign else "numpy"
    if backend == "cupy":
        from itersolve.gpu import require_cupy

        cupy = require_cupy()
        import cupyx.scipy.sparse as sparse

        return Backend("cupy", sparse, cupy.empty(0))
    if backend == "numpy" and (on_device or foreign):
        name = (on_device or foreign)[0]
        a = given[name]
        raise TypeError(
            f"backend='numpy' needs `{name}` as a NumPy array, got {type(a).__module__}."
            f"{type(a).__name__}; move it to the host first, or leave `backend` as None"
        )
    if foreign:
        return Backend("array-api", None, given[foreign[0]])
    return _on_host(backend)


@functools.cache
def _on_host(name: str) -> Backend:
    """The NumPy-and-SciPy backend under ``name`` ("numpy" or "array-api"), built once:
    most solves are small, and every one of them asks."""
    import scipy.sparse as sparse

    return Backend(name, sparse, np.empty(0))


def as_array(x, name: str):
    """Return ``x`` as an array of its own library; Python scalars and lists become NumPy."""
    if array_api_compat.is_array_api_obj(x) and not isinstance(x, np.generic):
        return x
    try:
        return np.asarray(x)
    except Exception as exc:  # ragged lists, objects numpy cannot hold
        raise TypeError(f"`{name}` must be array-like, got {type(x).__name__}") from exc


def to_host(a):
    """``a`` on the host: CuPy arrays and cupyx sparse matrices are copied over, arrays of
    other array-API libraries become NumPy arrays, and everything else (NumPy and SciPy
    data, lists, scalars, None) is returned as it is, for the caller's own checks."""
    if type(a) is np.ndarray:
        return a
    if _on_device(a):  # not hasattr(a, "get"): a dict has one too
        return a.get()
    if _foreign(a):
        return np.asarray(a)
    return a


def float_start(x0, backend: str | None, name: str = "x0"):
    """``(Backend, x)``: ``x0`` on its backend as a float copy (integers promoted to float64).

    ``x0`` must be a non-empty array of finite real or complex numbers: booleans, strings,
    objects, NaN and Inf are rejected before any evaluation of the user's function.
    """
    from ._validation import check_array

    if isinstance(x0, np.ndarray) or not array_api_compat.is_array_api_obj(x0):
        check_array(name, x0, complex_ok=True)  # the shared checks read NumPy dtypes
    x = as_array(x0, name)
    chosen = resolve(backend, **{name: x})
    xp = chosen.xp
    if chosen.name == "cupy":
        x = xp.asarray(x)
    if not xp.isdtype(x.dtype, "numeric") or xp.isdtype(x.dtype, "bool"):
        raise TypeError(f"`{name}` must hold numbers, got dtype {x.dtype}")
    if not x.size:
        raise ValueError(f"`{name}` is empty")
    if xp.isdtype(x.dtype, "integral"):
        x = xp.astype(x, xp.float64)
    if not bool(xp.all(xp.isfinite(x))):
        raise ValueError(f"`{name}` contains NaN or Inf")
    return chosen, xp.asarray(x, copy=True)
