"""The wheel holds the whole package: every subpackage (``gpu/`` and ``theory/`` mapped in as
``itersolve.gpu`` and ``itersolve.theory``) and the package data.

An editable install imports any subpackage from the source tree, so a subpackage missing
from the build would go unnoticed by every other test. Here the wheel is built, its file
list is compared with the source tree, and it is installed into a fresh virtual
environment (its dependencies taken from this environment's site-packages through a path
entry, so nothing is downloaded and this checkout's editable install is not seen) where
one call per family runs.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
MAPPED = {"gpu": "itersolve/gpu", "theory": "itersolve/theory"}

CALLS = r"""
import pathlib, sys
import numpy as np
import scipy.sparse as sp
import itersolve, itersolve.gpu, itersolve.theory, itersolve.tuning

where = pathlib.Path(itersolve.__file__).resolve()
assert str(where).startswith(sys.argv[1]), where  # the wheel's copy, not the checkout
n = 50
poisson = sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1], format="csr")
system = itersolve.PolynomialSystem(["x**2 - 2", "y**2 - 3"], ["x", "y"])
results = {
    "fixed_point": itersolve.fixed_point(np.cos, np.ones(3)),
    "sor": itersolve.sor(poisson, np.ones(n), omega="auto"),
    "bradley_terry": itersolve.bradley_terry(
        itersolve.load_football("2022-01-01", strongly_connected=True), ties="half"
    ),
    "infimal_displacement": itersolve.infimal_displacement(lambda x: 0.5 * x + 1, np.zeros(2)),
    "linprog": itersolve.linprog([-1.0, -1.0], [[1.0, 2.0], [3.0, 1.0]], [4.0, 6.0]),
    "newton": itersolve.newton(system, np.array([1.0, 1.0])),
    "singular_newton": itersolve.singular_newton(
        itersolve.PolynomialSystem(["x**2", "y - x**3"], ["x", "y"]), np.array([0.1, 0.1])
    ),
    "solve_chain": itersolve.solve_chain(lambda t, x: 0.5 * np.sin(x), np.ones(3), 16),
}
failed = [name for name, result in results.items() if not result.success]
assert not failed, failed
print("ok", len(results))
"""


def _expected_files() -> set[str]:
    """Every module and data file the wheel must carry, as paths inside the wheel."""
    files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "itersolve").rglob("*.py")}
    for folder, package in MAPPED.items():
        files |= {
            f"{package}/{p.relative_to(ROOT / folder).as_posix()}"
            for p in (ROOT / folder).rglob("*.py")
        }
    data = ROOT / "itersolve" / "data"
    files |= {p.relative_to(ROOT).as_posix() for p in data.iterdir() if p.is_file()}
    return files | {"itersolve/py.typed"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> pathlib.Path:
    # a copy of what the build reads, so the build's scratch folders stay out of the checkout
    source = tmp_path_factory.mktemp("source")
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("itersolve", "gpu", "theory"):
        shutil.copytree(ROOT / name, source / name, ignore=skip)
    for name in ("pyproject.toml", "setup.py", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=source,
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("itersolve-*.whl")
    return built


@pytest.mark.slow
def test_the_wheel_holds_every_subpackage_and_the_data(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = sorted(
        f for f in _expected_files() if f not in names and "__pycache__" not in f
    )
    assert not missing, missing
    assert not [n for n in names if n.startswith(("gpu/", "theory/", "tests/"))]


@pytest.mark.slow
def test_the_installed_wheel_runs_one_call_per_family(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    target = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    # a plain path entry: the .pth files in there (this checkout's editable finder) stay unread
    pathlib.Path(target, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    cache = tmp_path / "cache"
    env = {**os.environ, "ITERSOLVE_CACHE_DIR": str(cache), "NUMBA_CACHE_DIR": str(cache)}
    env.pop("PYTHONPATH", None)
    run = subprocess.run(
        [str(python), "-c", CALLS, str(venv.resolve())],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split() == ["ok", "8"]
