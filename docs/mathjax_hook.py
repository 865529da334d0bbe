"""MkDocs hook (docs build only): put MathJax into the built site, so formulas render offline.

``pymdownx.arithmatex`` (generic mode) wraps ``$...$`` and ``$$...$$`` in
``<span class="arithmatex">\\(...\\)</span>``; MathJax typesets them in the browser. The site
loads MathJax from its own ``javascripts/mathjax/`` (see ``extra_javascript`` in mkdocs.yml)
rather than from a CDN, so the documentation works without a network and the build
downloads nothing.

MathJax 3 (Apache-2.0) comes from the ``docs`` extra, whose ``django-static-mathjax``
package ships the MathJax 3.2 distribution as plain files (it needs no Django), or from
``$MATHJAX_DIR``, e.g. ``node_modules/mathjax`` after ``npm install mathjax@3``. Only the
parts the pages use are copied: the TeX-to-CommonHTML bundle, the TeX extensions it
autoloads, its web fonts and the menu/accessibility components (about 2.5 MB).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from mkdocs.exceptions import PluginError

TARGET = "javascripts/mathjax"
PARTS = ("tex-chtml.js", "input/tex/extensions", "output/chtml/fonts/woff-v2", "ui", "a11y")


def _mathjax() -> Path:
    """The MathJax 3 distribution folder (the one that holds ``es5/``)."""
    candidates = []
    if os.environ.get("MATHJAX_DIR"):
        candidates.append(Path(os.environ["MATHJAX_DIR"]))
    spec = importlib.util.find_spec("mathjax")  # django-static-mathjax's package
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidates.append(Path(folder) / "static" / "mathjax")
    for candidate in candidates:
        if (candidate / "es5" / "tex-chtml.js").is_file():
            return candidate
    raise PluginError(
        "MathJax 3 not found: install the docs extra (pip install -e '.[docs]', which brings "
        "django-static-mathjax) or set MATHJAX_DIR to an npm install of mathjax@3"
    )


def on_post_build(config, **kwargs) -> None:
    source = _mathjax()
    target = Path(config["site_dir"]) / TARGET
    for part in PARTS:
        origin, destination = source / "es5" / part, target / part
        if origin.is_dir():
            shutil.copytree(origin, destination, dirs_exist_ok=True)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, destination)
    shutil.copy2(source / "LICENSE", target / "LICENSE")
