"""The layout's invariants, read from the source: one template per family, imports one way.

* A module under ``itersolve/_X/`` (or a mirror ``gpu/_X.py``) imports from another family
  ``itersolve._Y`` only names that family publishes in its ``__all__`` — never a module
  inside it, never an underscore name. The core (the top-level ``itersolve/_*.py``) is
  open to all.
* No run-time module imports ``itersolve.theory``; only the demo, whose job is to print the
  theory's predictions beside the observed rates, reads it.
* One backend choice (``_backend.resolve``), one copy to the host (``_backend.to_host``).
* Results are built once: no code edits a result's ``stats`` after construction.
* The public names are registered once (``__all__`` is derived from the lazy table), and
  ``itersolve.gpu`` offers exactly the solvers that take a ``backend``.
"""

from __future__ import annotations

import ast
import inspect
import pathlib
import re

import pytest

import itersolve

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "itersolve"
CORE = {path.stem for path in PACKAGE.glob("_*.py")}
FAMILIES = {path.parent.name for path in PACKAGE.glob("_*/__init__.py")}
THEORY_READERS = ("itersolve/_cli/demo/",)  # prints theory's predictions beside observations


def _runtime_modules():
    """(path relative to the repository, dotted module name) of every run-time module."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield path, ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    for path in sorted((ROOT / "gpu").glob("*.py")):
        yield path, f"itersolve.gpu.{path.stem}".removesuffix(".__init__")


def _imports(path: pathlib.Path, module: str):
    """(absolute module, imported name or None, line) for each import in the file."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            for alias in node.names:
                yield source, alias.name, node.lineno


def _family_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) > 1 and parts[0] == "itersolve" and parts[1] in FAMILIES:
        return parts[1]
    return None


def _published(family: str) -> set[str]:
    tree = ast.parse((PACKAGE / family / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return set(ast.literal_eval(node.value))
    return set()


def test_families_import_only_what_other_families_publish():
    wrong = []
    for path, module in _runtime_modules():
        own = _family_of(module)
        for source, name, line in _imports(path, module):
            other = _family_of(source)
            if other is None or other == own:
                continue
            where = f"{path.relative_to(ROOT)}:{line}"
            if source != f"itersolve.{other}":
                wrong.append(f"{where} imports from {source}, inside family {other}")
            elif name is None or name.startswith("_") or name not in _published(other):
                wrong.append(f"{where} imports {name!r}, which {other}.__all__ does not publish")
    assert not wrong, "\n".join(wrong)


def test_no_runtime_module_imports_the_theory():
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {source}"
        for path, module in _runtime_modules()
        if not str(path.relative_to(ROOT)).startswith(THEORY_READERS)
        for source, _, line in _imports(path, module)
        if source == "itersolve.theory" or source.startswith(("itersolve.theory.", "theory"))
    ]
    assert not wrong, "\n".join(wrong)


def test_the_theory_imports_no_runtime_module():
    wrong = []
    for path in sorted((ROOT / "theory").glob("*.py")):
        for source, _, line in _imports(path, f"itersolve.theory.{path.stem}"):
            if source.startswith("itersolve") and not source.startswith("itersolve.theory"):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {source}")
    assert not wrong, "\n".join(wrong)


def _sources():
    for path, _ in _runtime_modules():
        yield path.relative_to(ROOT).as_posix(), path.read_text()


@pytest.mark.parametrize(
    "pattern, home, what",
    [
        (r"^def to_host\b", {"itersolve/_backend.py"}, "one copy to the host"),
        (r"\.get\(\)|asnumpy\(", {"itersolve/_backend.py"}, "device copies go through to_host"),
        (r"^def resolve\b", {"itersolve/_backend.py"}, "one backend choice"),
        (r"import cupyx\.scipy\.sparse", {"itersolve/_backend.py"}, "sparse module from resolve"),
    ],
)
def test_one_place_for_each_backend_concern(pattern, home, what):
    found = {path for path, text in _sources() if re.search(pattern, text, re.MULTILINE)}
    assert found == home, f"{what}: {pattern!r} found in {sorted(found)}"


def test_results_are_never_edited_after_construction():
    edit = re.compile(r"\b(result|base|res)\.stats(\[[^\]]+\]\s*([-+*/]?=)(?!=)|\.update\()")
    wrong = [
        f"{path}:{number}: {line.strip()}"
        for path, text in _sources()
        for number, line in enumerate(text.splitlines(), 1)
        if edit.search(line)
    ]
    assert not wrong, "\n".join(wrong)


def test_all_is_derived_from_the_lazy_table():
    eager = {"ConvergenceError", "SolveResult", "Status", "observed_rate"}
    assert sorted(itersolve.__all__) == sorted(eager | set(itersolve._LAZY))
    for name in itersolve.__all__:
        assert getattr(itersolve, name) is not None


def test_gpu_offers_exactly_the_solvers_that_take_a_backend():
    with_backend = {
        name
        for name in itersolve.__all__
        if inspect.isfunction(getattr(itersolve, name))
        and "backend" in inspect.signature(getattr(itersolve, name)).parameters
    }
    offered = set(itersolve.gpu.__all__) - {"cupy_available", "require_cupy"}
    assert offered == with_backend


def test_every_public_function_is_fully_annotated():
    wrong = []
    for name in itersolve.__all__:
        value = getattr(itersolve, name)
        if not inspect.isfunction(value):
            continue
        signature = inspect.signature(value)
        missing = [p for p, v in signature.parameters.items() if v.annotation is v.empty]
        if missing or signature.return_annotation is signature.empty:
            wrong.append(f"{name}: {missing or ''} {'' if missing else 'no return type'}")
    assert not wrong, "\n".join(wrong)
