"""The one place where itersolve configures Numba.

Kernels are decorated with :func:`njit_kernel` and compile on first call for the types
they meet: no signatures are given at import, so ``import itersolve`` stays fast and does
not import Numba at all (kernel modules are imported lazily).

Environment:

``ITERSOLVE_NUMBA_CACHE``
    ``1`` (default) caches compiled kernels on disk; ``0`` turns the cache off, as the
    test suite does. Numba keys the cache on the kernel's own source file, which is why
    a kernel and the jitted helpers it calls live in one module.
``ITERSOLVE_CACHE_DIR``
    Where the cache lives. By default it is the user's cache directory
    (``$XDG_CACHE_HOME/itersolve/numba``, ``~/.cache/itersolve/numba``, or the platform's
    equivalent), never the installed package, which is often read-only. Numba's own
    ``NUMBA_CACHE_DIR``, when set, takes precedence, as it does for every Numba user.
    Where no writable location exists the kernels still run: they compile in memory on
    every first call instead of failing.
``ITERSOLVE_FASTMATH``
    ``1`` enables the fastmath subset ``nsz, arcp, contract, afn, reassoc``. The flags
    ``nnan`` and ``ninf`` are never used: divergence checks rely on ``isnan``/``isinf``,
    which those flags allow the compiler to delete.
"""

from __future__ import annotations

import os
import sys

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


def cache_root() -> str:
    """The directory itersolve's compiled kernels are cached under (it may not exist)."""
    explicit = os.environ.get("ITERSOLVE_CACHE_DIR")
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~/AppData/Local")
    elif sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "itersolve", "numba")


def _enable_cache(dispatcher) -> bool:
    """Attach an on-disk cache to ``dispatcher``; return False (no cache) where none works.

    Numba's default locators write next to the source file (inside the installed package)
    and raise when nothing is writable; this one writes to :func:`cache_root` and a
    failure leaves the dispatcher compiling in memory, which is always correct.
    """
    from numba.core import caching, config

    if config.CACHE_DIR:  # the user's NUMBA_CACHE_DIR wins, as for any Numba code
        try:
            dispatcher.enable_caching()
        except Exception:  # unwritable: compile in memory instead of failing
            return False
        return True

    class UserCacheLocator(caching.UserProvidedCacheLocator):
        def __init__(self, py_func, py_file):
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            subpath = self.get_suitable_cache_subpath(py_file)
            self._cache_path = os.path.join(cache_root(), subpath)

        @classmethod
        def from_function(cls, py_func, py_file):
            # skip UserProvidedCacheLocator's check of NUMBA_CACHE_DIR, keep the mixin's
            # existence and writability checks
            return caching._SourceFileBackedLocatorMixin.from_function.__func__(
                cls, py_func, py_file
            )

    class Impl(caching.CompileResultCacheImpl):
        _locator_classes = [UserCacheLocator]

    class Cache(caching.FunctionCache):
        _impl_class = Impl

    try:
        dispatcher._cache = Cache(dispatcher.py_func)
    except Exception:  # no writable location (RuntimeError "no locator available")
        return False
    return True


def njit_kernel(function=None, **overrides):
    """Decorate a kernel with itersolve's Numba options; usable bare or with overrides.

    Nothing compiles here: the kernel compiles for the types it meets on its first call.
    """

    def decorate(func):
        import numba

        settings = options(**overrides)
        cache = settings.pop("cache")
        dispatcher = numba.njit(**settings)(func)
        if cache:
            _enable_cache(dispatcher)
        return dispatcher

    return decorate if function is None else decorate(function)
