"""The one place where itersolve configures Numba.

Kernels are decorated with :func:`njit_kernel` and compile on first call for the types
they meet: no signatures are given at import, so ``import itersolve`` stays fast and does
not import Numba at all (kernel modules are imported lazily).

Environment:

``ITERSOLVE_NUMBA_CACHE``
    ``1`` (default) caches compiled kernels on disk; ``0`` turns the cache off, as the
    test suite does. Numba keys the cache on the kernel's own source file, which is why
    a kernel and the jitted helpers it calls live in one module.
``ITERSOLVE_FASTMATH``
    ``1`` enables the fastmath subset ``nsz, arcp, contract, afn, reassoc``. The flags
    ``nnan`` and ``ninf`` are never used: divergence checks rely on ``isnan``/``isinf``,
    which those flags allow the compiler to delete.
"""

from __future__ import annotations

import os

SAFE_FASTMATH = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() not in {"0", "false", "no", "off", ""}


def options(**overrides) -> dict:
    """The keyword arguments :func:`njit_kernel` passes to ``numba.njit``."""
    merged = {
        "cache": _flag("ITERSOLVE_NUMBA_CACHE", True),
        "fastmath": set(SAFE_FASTMATH) if _flag("ITERSOLVE_FASTMATH", False) else False,
        "nogil": True,
        "error_model": "numpy",
    }
    merged.update(overrides)
    fastmath = merged["fastmath"]
    if isinstance(fastmath, (set, frozenset)) and not fastmath <= SAFE_FASTMATH:
        raise ValueError(
            f"fastmath flags {sorted(fastmath - SAFE_FASTMATH)} would drop NaN/Inf checks"
        )
    if fastmath is True:
        merged["fastmath"] = set(SAFE_FASTMATH)
    return merged


def njit_kernel(function=None, **overrides):
    """Decorate a kernel with itersolve's Numba options; usable bare or with overrides."""

    def decorate(func):
        import numba

        return numba.njit(**options(**overrides))(func)

    return decorate if function is None else decorate(function)
