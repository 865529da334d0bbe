"""Griffe extension used by the documentation build only.

Griffe reads itersolve statically, so two things the interpreter knows about are invisible
to it:

* ``itersolve.gpu`` and ``itersolve.theory`` live in the top-level folders ``gpu/`` and
  ``theory/`` and are mapped into the package by ``[tool.setuptools.package-dir]`` in
  ``pyproject.toml``; griffe only scans the ``itersolve/`` folder for submodules.
* The public names ``itersolve.fixed_point`` and ``itersolve.BackendUnavailableError``
  are provided lazily by the package's module ``__getattr__`` from the ``_MODULES`` table.

When griffe has loaded the ``itersolve`` package, this extension visits the mapped folders
as submodules and adds one alias per lazy name, both read from the project's own files,
so that ``::: itersolve.theory.fixed_point`` and ``::: itersolve.fixed_point`` resolve.

The docstrings also use Sphinx roles (``:class:`~itersolve.SolveResult```), which Markdown
would print literally; they are rendered as inline code (``~`` keeps the last name only).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import griffe

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "itersolve"
SPHINX_ROLE = re.compile(r":(?:class|func|meth|mod|attr|exc|data|obj):`(~?)([^`]+)`")


def _role_as_code(match: re.Match) -> str:
    shorten, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if shorten else target}`"


def _package_dirs() -> dict[str, str]:
    """setup.py's ``MAPPED``: the top-level folders that install as subpackages."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "MAPPED":
            return ast.literal_eval(node.value)
    return {}


def _visit(
    loader: griffe.GriffeLoader, name: str, path: Path, parent: griffe.Module
) -> griffe.Module:
    code = path.read_text(encoding="utf-8-sig")
    loader.lines_collection[path] = code.splitlines(keepends=False)
    return griffe.visit(
        name,
        filepath=path,
        code=code,
        extensions=loader.extensions,
        parent=parent,
        docstring_parser=loader.docstring_parser,
        docstring_options=loader.docstring_options,
        lines_collection=loader.lines_collection,
        modules_collection=loader.modules_collection,
    )


def _load_folder(
    loader: griffe.GriffeLoader, parent: griffe.Module, name: str, folder: Path
) -> None:
    """Visit ``folder`` as the subpackage ``parent.name``, with its modules and subpackages."""
    package = _visit(loader, name, folder / "__init__.py", parent)
    parent.set_member(name, package)
    for path in sorted(folder.iterdir()):
        if path.suffix == ".py" and path.stem != "__init__":
            package.set_member(path.stem, _visit(loader, path.stem, path, package))
        elif path.is_dir() and (path / "__init__.py").exists():
            _load_folder(loader, package, path.name, path)


class ItersolveLayout(griffe.Extension):
    """Add the ``package-dir`` subpackages and the lazy exports to ``itersolve``."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = SPHINX_ROLE.sub(_role_as_code, obj.docstring.value)

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs) -> None:
        if pkg.name != PACKAGE:
            return
        for dotted, folder in sorted(_package_dirs().items()):
            parent_path, _, name = dotted.rpartition(".")
            if parent_path == PACKAGE and name not in pkg.members:
                _load_folder(loader, pkg, name, ROOT / folder)

        modules = pkg.members.get("_MODULES")
        if modules is None or modules.value is None:
            return
        for module, names in ast.literal_eval(str(modules.value)).items():
            for name in names:
                if name in pkg.members or module == f"{PACKAGE}.{name}":
                    continue
                pkg.set_member(name, griffe.Alias(name, f"{module}.{name}", parent=pkg))
