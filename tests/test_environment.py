"""Class 6 of issue 12: the environment cannot break a solve.

Kernels compile on first use (never at import), the on-disk cache lives in the user's
cache directory (not inside the installed package), and where nothing is writable the
kernels compile in memory instead of failing. Each case runs in a fresh interpreter so
its environment variables reach Numba's configuration.
"""

from __future__ import annotations

import os
import pathlib

import pytest

from .fuzz_support import run_isolated

# one solve per kernel module that has a cache: SOR sweeps, Bradley–Terry, Aitken, chains
SOLVES = """
import numpy as np, itersolve
A = np.array([[4.0, -1.0], [-1.0, 4.0]]); b = np.array([1.0, 2.0])
assert itersolve.sor(A, b).success
assert itersolve.fixed_point(lambda x: 0.5 * x + 1, np.zeros(2), method="aitken").success
data = itersolve.PairwiseData.from_pairs([0, 1, 2, 0], [1, 2, 0, 2])
assert itersolve.bradley_terry(data).success
chain = itersolve.solve_chain(lambda t, x: 0.5 * x, np.ones(2), 8)
assert chain.success
print("ok")
"""


def _environment(**overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "ITERSOLVE_"))}
    env.update(overrides)
    return env


def _run(tmp_path, **overrides):
    process = run_isolated(SOLVES, env=_environment(**overrides), cwd=tmp_path)
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip() == "ok"
    assert process.stderr == "", process.stderr
    return process


def _cached_files(root: pathlib.Path):
    return sorted(p.name for p in root.rglob("*.nbi"))


def test_default_cache_lives_in_the_user_cache_directory(tmp_path):
    package = pathlib.Path(__file__).resolve().parents[1] / "itersolve"
    before = {p: p.stat().st_mtime_ns for p in package.rglob("*.nb[ic]")}
    _run(tmp_path, XDG_CACHE_HOME=str(tmp_path / "cache"))
    files = _cached_files(tmp_path / "cache" / "itersolve" / "numba")
    assert any(name.startswith("_aitken._del2_kernel") for name in files), files
    after = {p: p.stat().st_mtime_ns for p in package.rglob("*.nb[ic]")}
    assert after == before, "a kernel was cached inside the package"


def test_itersolve_cache_dir_overrides_the_default(tmp_path):
    _run(tmp_path, ITERSOLVE_CACHE_DIR=str(tmp_path / "mine"), XDG_CACHE_HOME=str(tmp_path / "x"))
    assert _cached_files(tmp_path / "mine")
    assert not (tmp_path / "x").exists()


def test_numba_cache_dir_takes_precedence(tmp_path):
    _run(tmp_path, NUMBA_CACHE_DIR=str(tmp_path / "numba"), XDG_CACHE_HOME=str(tmp_path / "x"))
    assert _cached_files(tmp_path / "numba")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("variable", ["ITERSOLVE_CACHE_DIR", "NUMBA_CACHE_DIR"])
def test_no_writable_cache_location_degrades_to_compiling_in_memory(tmp_path, variable):
    # a path below a regular file can never be created, whoever runs the test (root too)
    blocker = tmp_path / "file"
    blocker.write_text("")
    _run(tmp_path, **{variable: str(blocker / "cache")}, XDG_CACHE_HOME=str(blocker / "xdg"))


def test_cache_can_be_switched_off(tmp_path):
    _run(tmp_path, ITERSOLVE_NUMBA_CACHE="0", XDG_CACHE_HOME=str(tmp_path / "cache"))
    assert not (tmp_path / "cache").exists()


def test_no_kernel_compiles_at_import(tmp_path):
    code = """
    import importlib, sys
    import itersolve
    from numba.core.registry import CPUDispatcher
    for name in itersolve.__all__:
        getattr(itersolve, name)
    for module in set(itersolve._LAZY.values()):
        importlib.import_module(module)
    for name in [m for m in sys.modules if m.startswith("itersolve")]:
        for attribute, value in vars(sys.modules[name]).items():
            if isinstance(value, CPUDispatcher):
                assert not value.signatures, (name, attribute, value.signatures)
    print("ok")
    """
    process = run_isolated(code, env=_environment(ITERSOLVE_NUMBA_CACHE="0"), cwd=tmp_path)
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip() == "ok"
